// platform/firefox/platform.js — what differs in Firefox. scripts/build.sh copies this
// file to dist/firefox/platform.js; every other file imports `./platform.js` and never
// checks the browser itself.

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
