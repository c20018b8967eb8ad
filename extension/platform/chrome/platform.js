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
