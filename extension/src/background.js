// background.js — Haoyuan's background: a module service worker in Chrome, a module
// event page in Firefox. It statically imports the wasm core, starts one `ready`
// promise, and registers every listener synchronously at top level (each awaits
// `ready`), as MV3 requires for listeners to wake the worker.
//
// It owns the one connection to haoyuan-host (host-connection.js) and serves the popup
// and options pages through runtime messages:
//   {type: "status", wait?: true}         → the host status (see host-connection.js)
//   {type: "host.request", cmd, params}    → {ok: true, data} | {ok: false, error}
// and tells open pages about changes with {type: "status_changed", status} and
// {type: "host_event", event, data}.

import init, * as core from './pkg/haoyuan_core.js';
import { browserApi } from './platform.js';
import { HostConnection } from './host-connection.js';

/** Tells open extension pages something; nobody listening is fine. */
function broadcast(message) {
  try {
    browserApi.runtime.sendMessage(message).catch(() => {});
  } catch {
    // no receiver
  }
}

const host = new HostConnection(core, {
  onStatus: (status) => broadcast({ type: 'status_changed', status }),
  onEvent: (event) => broadcast({ type: 'host_event', ...event }),
});

const ready = init({ module_or_path: new URL('./pkg/haoyuan_core_bg.wasm', import.meta.url) }).then(() => {
  // Connecting at start also keeps the worker alive while the port is open.
  host.connect();
});

async function handle(message) {
  await ready;
  switch (message?.type) {
    case 'status':
      // A page opened: if the host is down, try again now instead of waiting out the backoff.
      if (host.status.state === 'not_installed' || host.status.state === 'disconnected') host.retryNow();
      if (message.wait) await host.settled();
      return { ...host.status };
    case 'host.request':
      if (typeof message.cmd !== 'string') {
        return { ok: false, error: { code: 'bad_request', message: 'host.request needs a cmd' } };
      }
      return host.request(message.cmd, message.params ?? {});
    default:
      return { ok: false, error: { code: 'bad_request', message: `unknown message type ${JSON.stringify(message?.type)}` } };
  }
}

browserApi.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only our own pages talk to the background (no externally_connectable, no content scripts yet).
  if (sender?.id !== browserApi.runtime.id) return false;
  if (message?.type === 'status_changed' || message?.type === 'host_event') return false;
  handle(message).then(sendResponse, (e) =>
    sendResponse({ ok: false, error: { code: 'extension_error', message: String(e?.message ?? e) } }),
  );
  return true; // the answer comes asynchronously
});

browserApi.runtime.onStartup.addListener(() => {
  ready.then(() => host.retryNow());
});

browserApi.runtime.onInstalled.addListener(() => {
  ready.then(() => host.retryNow());
});
