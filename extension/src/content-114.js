// content-114.js — runs in 114yygh pages (registered by the background for the
// configured 114 base URL; http-exec.js is injected before it). While a 114 tab is
// open, the background's watchers send their polls through here, so they leave from the
// site's own page with its cookies, as the page's own auto-refresh would; the watch
// logic and its timing stay in the background, so two tabs never mean two pollers.
//
// Port messages: in {type: 'fetch', id, request} → out {type: 'fetched', id, response}
// or {type: 'fetched', id, error}.

(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  let port;
  try {
    port = api.runtime.connect({ name: 'yygh-page' });
  } catch {
    return; // the extension was reloaded: nothing to do in this page any more
  }
  port.onMessage.addListener(async (message) => {
    if (message?.type !== 'fetch') return;
    try {
      const response = await globalThis.HaoyuanHttp.execute(message.request);
      port.postMessage({ type: 'fetched', id: message.id, response });
    } catch (e) {
      port.postMessage({ type: 'fetched', id: message.id, error: String(e?.message ?? e) });
    }
  });
})();
