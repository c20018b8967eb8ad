// platform/chrome/platform.js — what differs in Chromium-family browsers (Chrome,
// Chromium, Edge, Brave). scripts/build.sh copies this file to dist/chrome/platform.js;
// every other file imports `./platform.js` and never checks the browser itself.

/** The WebExtension API object (promise-returning in MV3). */
export const browserApi = globalThis.chrome;

/** Which build this is. */
export const browserName = 'chrome';

/** The `--browser` value of `haoyuan-host install` for the browser we run in. */
export function installBrowser() {
  const brands = (globalThis.navigator?.userAgentData?.brands ?? []).map((b) => b.brand);
  if (brands.includes('Google Chrome')) return 'chrome';
  if (brands.includes('Microsoft Edge')) return 'edge';
  if (brands.includes('Brave')) return 'brave';
  if (brands.includes('Chromium')) return 'chromium';
  return 'chrome';
}

/** This extension's id (fixed by the manifest `key` in dev builds). */
export function extensionId() {
  return browserApi.runtime.id;
}

/** Why a native port closed, read inside its onDisconnect listener (null: no reason given). */
export function portError(_port) {
  return browserApi.runtime.lastError?.message ?? null;
}

/** Whether a disconnect reason means the host is not registered for this extension. */
export function isNotInstalled(reason) {
  return /not found|forbidden/i.test(reason ?? '');
}

// ---- notifications and sound ---------------------------------------------------------

/** The labels of the actions a notification can offer, by action id. */
const ACTION_TITLE = {
  open: '打开预约页 Open booking page',
  stop: '停止此监控 Stop this watch',
};

/**
 * The actions offered as buttons on a notification (Chrome shows up to two):
 * "open booking page" when the event carries one, and "stop this watch". The index
 * of an action here is the `buttonIndex` of notifications.onButtonClicked.
 */
export function notificationActions(notice) {
  return notice.url ? ['open', 'stop'] : ['stop'];
}

/** chrome.notifications options for a notice (from the core's desktop_notice). */
export function notificationOptions(notice, actions) {
  return {
    type: 'basic',
    iconUrl: browserApi.runtime.getURL('icon-128.png'),
    title: notice.title,
    message: notice.message,
    priority: 2,
    requireInteraction: Boolean(notice.sticky),
    buttons: actions.map((a) => ({ title: ACTION_TITLE[a] })),
  };
}

const OFFSCREEN_PAGE = 'offscreen.html';
let creatingOffscreen = null;

/** Opens the offscreen document that plays sound, unless it is open (one per extension). */
async function ensureOffscreen() {
  const url = browserApi.runtime.getURL(OFFSCREEN_PAGE);
  const open = await browserApi.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
  if (open.length) return;
  creatingOffscreen ??= browserApi.offscreen
    .createDocument({
      url: OFFSCREEN_PAGE,
      reasons: ['AUDIO_PLAYBACK'],
      justification: 'Play a short alert when a watched appointment or ticket is found.',
    })
    .finally(() => {
      creatingOffscreen = null;
    });
  await creatingOffscreen;
}

/**
 * Plays the alert sound. A service worker has no audio, so Chrome plays it in an
 * offscreen document (which Chrome closes after 30 s of silence). Resolves with
 * `{played, state}` (see sound.js).
 */
export async function playAlert() {
  await ensureOffscreen();
  const answer = await browserApi.runtime.sendMessage({ type: 'offscreen.beep' });
  return answer ?? { played: false, state: 'no_answer' };
}
