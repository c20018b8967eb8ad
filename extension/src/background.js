// background.js — Haoyuan's background: a module service worker in Chrome, a module
// event page in Firefox. It statically imports the wasm core, starts one `ready`
// promise, and registers every listener synchronously at top level (each awaits
// `ready`), as MV3 requires for listeners to wake the worker.
//
// It owns the one connection to haoyuan-host (host-connection.js) and serves the popup
// and options pages through runtime messages:
//   {type: "status", wait?: true}         → the host status (see host-connection.js)
//   {type: "host.request", cmd, params}    → {ok: true, data} | {ok: false, error}
//   {type: "badge.clear"}                  → {ok: true} (the popup was opened)
//   {type: "sound.play"}                   → {ok: true, data: {played, state}}
// and tells open pages about changes with {type: "status_changed", status} and
// {type: "host_event", event, data}.
//
// A `watch_event` of a kind the core says is told raises a desktop notification
// (notifier.js), with the alert sound and the badge count of live findings. A 12306
// order captcha the host waits on (`prompt` event) raises a sticky notification that
// opens the popup, where it is answered; it goes when the host says `prompt_closed`. The
// notification listeners are registered here, at top level, so that a click wakes the
// worker; tests reach the same handlers through `globalThis.haoyuan`.

import init, * as core from './pkg/haoyuan_core.js';
import { browserApi, notificationOptions } from './platform.js';
import { HostConnection } from './host-connection.js';
import { Notifier } from './notifier.js';
import { YyghRuntime } from './yygh-runtime.js';
import { BASE_URLS_KEY } from './base-urls.js';

/** Tells open extension pages something; nobody listening is fine. */
function broadcast(message) {
  try {
    browserApi.runtime.sendMessage(message).catch(() => {});
  } catch {
    // no receiver
  }
}

/** History kinds after which the set of running 114 watches may have changed. */
const WATCH_SET_KINDS = new Set(['created', 'updated', 'deleted', 'paused', 'resumed']);

/** Notification ids of the captchas the host waits on: this prefix + the prompt id. */
const PROMPT_NOTICE = 'haoyuan-prompt-';

/** An order captcha waits on the person: say so until it is answered or gone. */
function promptNotice(event) {
  const id = event.data?.id;
  if (typeof id !== 'string' || !id) return;
  if (event.event === 'prompt' && event.data.kind === 'order_captcha') {
    const notice = {
      title: '12306 下单需要验证码 12306 asks for a captcha before the order',
      message: `${event.data.account ?? ''}: ${event.data.message ?? ''} — 请在号源弹窗中作答 answer it in the Haoyuan popup`,
      sticky: true,
    };
    Promise.resolve(browserApi.notifications.create(PROMPT_NOTICE + id, notificationOptions(notice, []))).catch(() => {});
  } else if (event.event === 'prompt_closed') {
    Promise.resolve(browserApi.notifications.clear(PROMPT_NOTICE + id)).catch(() => {});
  }
}

const host = new HostConnection(core, {
  onStatus: (status) => {
    broadcast({ type: 'status_changed', status });
    if (status.state === 'connected') yygh.sync();
  },
  onEvent: (event) => {
    if (event.event === 'watch_event') {
      notifier.onWatchEvent(event.data);
      if (WATCH_SET_KINDS.has(event.data?.kind)) yygh.sync();
    }
    if (event.event === 'prompt' || event.event === 'prompt_closed') promptNotice(event);
    broadcast({ type: 'host_event', ...event });
  },
});

const notifier = new Notifier(core, host);
const yygh = new YyghRuntime(core, host);

const ready = init({ module_or_path: new URL('./pkg/haoyuan_core_bg.wasm', import.meta.url) }).then(() => {
  // Connecting at start also keeps the worker alive while the port is open.
  host.connect();
  notifier.restoreBadge().catch(() => {});
  yygh.registerContentScript();
});

/** The notification handlers, as the listeners below run them (also used by the tests). */
async function handleNotificationButton(notificationId, buttonIndex) {
  await ready;
  return notifier.handleButton(notificationId, buttonIndex);
}

async function handleNotificationClick(notificationId) {
  await ready;
  if (String(notificationId).startsWith(PROMPT_NOTICE)) {
    // A captcha to answer: the popup shows it (here in a tab).
    await browserApi.tabs.create({ url: browserApi.runtime.getURL('popup.html') });
    await browserApi.notifications.clear(notificationId);
    return { ok: true, data: { opened: 'popup.html' } };
  }
  return notifier.handleClick(notificationId);
}

globalThis.haoyuan = {
  handleNotificationButton,
  handleNotificationClick,
  notices: () => notifier.notices(),
  yygh: {
    state: () => yygh.state(),
    timings: () => yygh.timings,
    requestCounts: () => ({ ...yygh.requestCounts, pages: yygh.pages.length }),
    sync: () => yygh.sync(),
    restart: () => yygh.restartAll(),
  },
};

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
    case 'badge.clear':
      await notifier.clearBadge();
      return { ok: true, data: null };
    case 'sound.play':
      return { ok: true, data: await notifier.playSound() };
    case 'yygh.session':
      // The popup logged in to 114: watches paused for their session resume.
      yygh.sessionBack();
      return { ok: true, data: null };
    case 'yygh.answer':
      return { ok: true, data: { delivered: yygh.answer(String(message.watch_id ?? ''), String(message.text ?? '')) } };
    case 'yygh.state':
      return { ok: true, data: yygh.state() };
    default:
      return { ok: false, error: { code: 'bad_request', message: `unknown message type ${JSON.stringify(message?.type)}` } };
  }
}

browserApi.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only our own pages talk to the background (no externally_connectable; the 114
  // content script talks over its own port, see onConnect below).
  if (sender?.id !== browserApi.runtime.id) return false;
  if (!String(sender?.url ?? '').startsWith(browserApi.runtime.getURL(''))) return false;
  if (message?.type === 'status_changed' || message?.type === 'host_event') return false;
  handle(message).then(sendResponse, (e) =>
    sendResponse({ ok: false, error: { code: 'extension_error', message: String(e?.message ?? e) } }),
  );
  return true; // the answer comes asynchronously
});

// Chrome: the buttons of a notification. Firefox has none (the event exists but never fires).
browserApi.notifications.onButtonClicked?.addListener((notificationId, buttonIndex) => {
  handleNotificationButton(notificationId, buttonIndex).catch((e) => console.warn('haoyuan: notification action failed:', String(e?.message ?? e)));
});

browserApi.notifications.onClicked.addListener((notificationId) => {
  handleNotificationClick(notificationId).catch((e) => console.warn('haoyuan: notification click failed:', String(e?.message ?? e)));
});

// 114 pages (content-114.js) offer themselves to send the polls from the site's own page.
browserApi.runtime.onConnect.addListener((port) => {
  if (port.name !== 'yygh-page' || port.sender?.id !== browserApi.runtime.id) return;
  ready.then(() => yygh.addPage(port));
});

browserApi.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes[BASE_URLS_KEY]) ready.then(() => yygh.restartAll());
});

browserApi.runtime.onStartup.addListener(() => {
  ready.then(() => host.retryNow());
});

browserApi.runtime.onInstalled.addListener(() => {
  ready.then(() => host.retryNow());
});
