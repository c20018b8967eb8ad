// http-exec.js — sends an HttpRequest the Rust core built and hands back the
// HttpResponse the core reads. Shared by the worker, the pages and the 114 content
// script: the JS side only moves bytes; building requests and reading replies is the
// core's. A classic script (content scripts cannot be modules): it defines
// `globalThis.HaoyuanHttp`; modules import it through `http.js`.
//
// Request JSON (wasm-core http.rs): {method, url, headers: [[name, value]], body: null |
// {text} | {base64}}. Response JSON: {status, headers: [[name, value]], body: {base64}}.
// Cookies are the browser's own (`credentials: 'include'`): Haoyuan never copies them.
// A network failure or timeout is thrown as an Error whose message says so in words;
// callers pass it to the core's `no_response`.

/** Longest wait for one reply. */
const REQUEST_TIMEOUT_MS = 15_000;

function toBase64(bytes) {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

function fromBase64(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Sends `request` (object or JSON text); resolves to the response object. */
async function execute(request, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const req = typeof request === 'string' ? JSON.parse(request) : request;
  const headers = new Headers();
  for (const [name, value] of req.headers ?? []) headers.append(name, value);
  let body;
  if (req.body?.text !== undefined) body = req.body.text;
  else if (req.body?.base64 !== undefined) body = fromBase64(req.body.base64);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res;
  let bytes;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers,
      body,
      credentials: 'include',
      cache: 'no-store',
      redirect: 'follow',
      signal: controller.signal,
    });
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (controller.signal.aborted) throw new Error(`no reply within ${Math.round(timeoutMs / 1000)} s`);
    throw new Error(`the connection failed (${String(e?.message ?? e)})`);
  } finally {
    clearTimeout(timer);
  }
  const outHeaders = [];
  res.headers.forEach((value, name) => outHeaders.push([name, value]));
  return { status: res.status, headers: outHeaders, body: { base64: toBase64(bytes) } };
}

globalThis.HaoyuanHttp = { execute, REQUEST_TIMEOUT_MS };
