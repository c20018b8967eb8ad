// platform/firefox/platform.js — what differs in Firefox. scripts/build.sh copies this
// file to dist/firefox/platform.js; every other file imports `./platform.js` and never
// checks the browser itself.

import { beep } from './sound.js';

/** The WebExtension API object. */
export const browserApi = globalThis.browser;

/** Which build this is. */
export const browserName = 'firefox';

/** The `--browser` value of `haoyuan-host install`. */
export function installBrowser() {
  return 'firefox';
}

/** This add-on's id (browser_specific_settings.gecko.id). */
export function extensionId() {
  return browserApi.runtime.id;
}

/** Why a native port closed (Firefox sets `port.error`; null: no reason given). */
export function portError(port) {
  return port?.error?.message ?? null;
}

/** Whether a disconnect reason means the host is not registered for this add-on. */
export function isNotInstalled(reason) {
  return /no such native application|not allowed|not found/i.test(reason ?? '');
}

// ---- notifications and sound ---------------------------------------------------------

/**
 * Firefox notifications have no buttons (passing `buttons` throws), so a notification
 * offers no actions: clicking it opens the booking page, and "stop this watch" is in
 * the popup's watch list.
 */
export function notificationActions(_notice) {
  return [];
}

/** browser.notifications options: Firefox reads only type, title, message and iconUrl. */
export function notificationOptions(notice, _actions) {
  return {
    type: 'basic',
    iconUrl: browserApi.runtime.getURL('icon-128.png'),
    title: notice.title,
    message: notice.message,
  };
}

/** Plays the alert sound: Firefox's background is a page with audio of its own. */
export function playAlert() {
  return beep();
}
