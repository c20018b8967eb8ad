// tests/e2e/lib/chromium.mjs — launches Debian Chromium through Playwright
// (playwright-core, no downloaded browsers) with dist/chrome loaded in a fresh profile,
// and drives the extension's popup page. Used by chromium.test.mjs and demo.mjs.

import { chromium } from 'playwright-core';
import path from 'node:path';
import { CHROME_EXTENSION_ID, CHROMIUM, distDir, waitFor } from './env.mjs';

/** Flags for running Chromium as root in a container, headless, quiet on the network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Chromium on the profile `profileDir` with the extension loaded. `env` is added
 * to the browser's environment, which the native host inherits (e.g. HAOYUAN_HOME).
 */
export async function launchChromium({ profileDir, env = {}, extensionDir = distDir('chrome') }) {
  const ext = path.resolve(extensionDir);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: false, // --headless=new is in the flags; Playwright must not add its own
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [...CHROMIUM_FLAGS, `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
    env: { ...process.env, ...env },
    viewport: { width: 420, height: 900 },
    locale: 'zh-CN',
  });
  return context;
}

/** The extension's background service worker (waits for it to start). */
export async function extensionWorker(context) {
  const prefix = `chrome-extension://${CHROME_EXTENSION_ID}/`;
  const found = () => context.serviceWorkers().find((w) => w.url().startsWith(prefix));
  return found() ?? (await waitFor(async () => {
    await context.waitForEvent('serviceworker', { timeout: 1_000 }).catch(() => null);
    return found();
  }, { timeoutMs: 30_000, what: 'the extension service worker' }));
}

/** The URL of one of the extension's pages. */
export function extensionUrl(page) {
  return `chrome-extension://${CHROME_EXTENSION_ID}/${page}`;
}

/** Opens the popup page in a tab and waits for its status to leave "connecting". */
export async function openPopup(context) {
  const page = await context.newPage();
  await page.goto(extensionUrl('popup.html'));
  await page.locator('#host-status:not([data-state="connecting"])').waitFor({ timeout: 30_000 });
  return page;
}

/** The popup's host status: {state, text}. */
export async function popupStatus(page) {
  const el = page.locator('#host-status');
  return { state: await el.getAttribute('data-state'), text: (await el.innerText()).replace(/\s+/g, ' ').trim() };
}

/** Waits until the popup's status is `state` (generous timeout; the worker may be reconnecting). */
export async function waitForState(page, state, timeout = 30_000) {
  await page.locator(`#host-status[data-state="${state}"]`).waitFor({ timeout });
}

/** The watches listed in the popup: [{id, label, summary}]. */
export async function listedWatches(page) {
  return page.locator('[data-testid="watch-item"]').evaluateAll((items) =>
    items.map((li) => ({
      id: li.dataset.watchId,
      label: li.querySelector('[data-testid="watch-label"]').textContent,
      summary: li.querySelector('[data-testid="watch-summary"]').textContent,
    })),
  );
}

/**
 * Fills the add-watch form. `w`: {platform, target: {name: value}, label, start, end,
 * periods: [...], mode, interval}. Fields left out keep the form's defaults.
 */
export async function fillWatchForm(page, w) {
  if (w.platform) await page.selectOption('#platform', w.platform);
  for (const [name, value] of Object.entries(w.target ?? {})) {
    await page.fill(`[name="target.${name}"]`, value);
  }
  if (w.label !== undefined) await page.fill('#label', w.label);
  if (w.start !== undefined) await page.fill('#start', w.start);
  if (w.end !== undefined) await page.fill('#end', w.end);
  for (const p of w.periods ?? []) await page.check(`input[name="periods"][value="${p}"]`);
  if (w.mode) await page.check(`input[name="mode"][value="${w.mode}"]`);
  if (w.interval !== undefined) await page.fill('#interval', String(w.interval));
}

/** Text of the error shown next to `field` (e.g. "window.end"); empty when none. */
export async function fieldError(page, field) {
  return (await page.locator(`[data-error-for="${field}"]`).textContent()) ?? '';
}

// ---- helpers for the notification tests (notifications.test.mjs) --------------------

/**
 * Sends one protocol request to the host through the extension's own connection, from
 * an extension page (as the popup does): `{ok: true, data}` or `{ok: false, error}`.
 */
export async function extensionRequest(page, cmd, params = {}) {
  return page.evaluate(([c, p]) => chrome.runtime.sendMessage({ type: 'host.request', cmd: c, params: p }), [cmd, params]);
}

/** The toolbar badge text of the extension ('' when none). */
export async function badgeText(worker) {
  return worker.evaluate(() => chrome.action.getBadgeText({}));
}

/** The ids of the extension's notifications on screen (chrome.notifications.getAll). */
export async function notificationIds(worker) {
  return worker.evaluate(async () => Object.keys(await chrome.notifications.getAll()));
}

/** The notifications the background raised, as it keeps them: {id: {watch_id, url, actions, options}}. */
export async function raisedNotices(worker) {
  return worker.evaluate(() => globalThis.haoyuan.notices());
}
