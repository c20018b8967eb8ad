// http.js — the module face of http-exec.js (a classic script so that the 114 content
// script can load the same file): `execute(request)` sends a core-built HttpRequest
// with the browser's cookies and resolves to the HttpResponse JSON the core reads.

import './http-exec.js';

export const { execute, REQUEST_TIMEOUT_MS } = globalThis.HaoyuanHttp;
