// tests/e2e/lib/rail.mjs — the 12306 world of the browser tests: the sandbox (a 12306
// scenario), Debian Chromium with the built extension and the real haoyuan-host
// registered in a fresh profile — the host, started by the browser, inherits
// HAOYUAN_12306_BASE pointing at the sandbox's 12306 — and the person's steps in the
// popup: sign in by clicking the picture's tiles (which tiles: the sandbox's admin API,
// as a person sees them in the picture), pick stations from the autocomplete.

import assert from 'node:assert/strict';
import { registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor } from './env.mjs';
import { extensionRequest, extensionUrl, launchChromium, openPopup, waitForState } from './chromium.mjs';
import { startSandbox } from './sandbox.mjs';

/** The account of scenarios/12306-demo.yaml. */
export const TRAVELLER = { account: 'traveller', password: 'traveller123', holder: '张三' };

/** The captcha picture's geometry (image pixels): 30-px strip, 4 × 2 tiles of 67 with 5-px gaps. */
export const PICTURE = { width: 293, height: 190, strip: 30 };

/** The centre of tile `i` in image pixels (the strip included). */
export function tileCentre(i) {
  return { x: 5 + 72 * (i % 4) + 33, y: PICTURE.strip + 5 + 72 * Math.floor(i / 4) + 33 };
}

/**
 * Starts the sandbox with `scenario`, Chromium with the extension and the real host
 * (HAOYUAN_HOME a fresh folder, HAOYUAN_12306_BASE the sandbox's 12306), and points the
 * options page's base URLs at the sandbox. Resolves to the world {sandbox, context, home, profile}.
 */
export async function startRailWorld({ scenario = '12306-demo.yaml' } = {}) {
  requireBuilt('chrome');
  const w = { sandbox: null, context: null, profile: tempDir('chromium-profile'), home: tempHome() };
  try {
    w.sandbox = await startSandbox({ scenario });
    w.base = w.sandbox.urls['12306'];
    registerHostForChromium(w.profile);
    w.context = await launchChromium({ profileDir: w.profile, env: { HAOYUAN_HOME: w.home, HAOYUAN_12306_BASE: w.base } });
    const options = await w.context.newPage();
    await options.goto(extensionUrl('options.html'));
    await options.locator('[data-testid="base-url-12306"]').waitFor({ timeout: 30_000 });
    for (const [id, url] of Object.entries(w.sandbox.urls)) {
      if (id !== 'admin') await options.fill(`[data-testid="base-url-${id}"]`, url);
    }
    await options.click('[data-testid="save-urls"]');
    await options.locator('#urls-message', { hasText: /Saved|已保存/ }).waitFor({ timeout: 10_000 });
    await options.close();
  } catch (e) {
    await stopRailWorld(w);
    throw e;
  }
  return w;
}

export async function stopRailWorld(w) {
  await w.context?.close().catch(() => {});
  w.sandbox?.stop();
  removeDir(w.profile);
  removeDir(w.home);
}

/** The sandbox's 12306 captchas of `module` (login / passenger …): [{key, tiles, created_ms, …}]. */
export async function railCaptchas(w, module = null) {
  const all = await w.sandbox.admin('/captcha?platform=12306');
  return Object.entries(all)
    .map(([key, c]) => ({ key, ...c }))
    .filter((c) => !module || c.module === module);
}

/** What the sandbox's captchas are now: key → created_ms (see newCaptcha). */
export async function captchaSnapshot(w) {
  return new Map((await railCaptchas(w)).map((c) => [c.key, c.created_ms]));
}

/**
 * The captcha issued since `before` (a captchaSnapshot): the newest one that is new or
 * was replaced — what the person now sees in the picture.
 */
export async function newCaptcha(w, before, { module = null, what = 'a new 12306 captcha' } = {}) {
  return waitFor(
    async () => {
      const fresh = (await railCaptchas(w, module)).filter((c) => before.get(c.key) !== c.created_ms);
      return fresh.sort((a, b) => b.created_ms - a.created_ms)[0];
    },
    { timeoutMs: 30_000, intervalMs: 200, what },
  );
}

/** Waits until the clicker's picture has loaded at its natural size (293 × 190). */
export async function pictureShown(clicker) {
  const img = clicker.locator('[data-testid="rail-captcha-img"]');
  await img.waitFor({ state: 'visible', timeout: 30_000 });
  await waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), { what: 'the captcha picture to load' });
  return img.evaluate((el) => ({ src: el.getAttribute('src'), naturalWidth: el.naturalWidth, naturalHeight: el.naturalHeight, width: el.getBoundingClientRect().width }));
}

/** Clicks the centres of `tiles` on the clicker's picture with the mouse, as a person does. */
export async function clickTiles(page, clicker, tiles) {
  const box = await clicker.locator('[data-testid="rail-captcha-img"]').boundingBox();
  assert.ok(box && box.width > 0, 'the picture has a box on screen');
  const sx = box.width / PICTURE.width;
  const sy = box.height / PICTURE.height;
  for (const i of tiles) {
    const c = tileCentre(i);
    await page.mouse.click(box.x + c.x * sx, box.y + c.y * sy);
  }
}

/** The tiles the clicker shows selected. */
export async function selectedTiles(clicker) {
  const s = await clicker.locator('[data-testid="rail-captcha-picture"]').getAttribute('data-selected');
  return s ? s.split(',').map(Number) : [];
}

/**
 * Signs `account` in through the popup's 12306 panel (page: an open popup), clicking
 * the right tiles; resolves once the panel says signed in.
 */
export async function signInRail(w, page, { account = TRAVELLER.account, password = TRAVELLER.password } = {}) {
  await waitForState(page, 'connected');
  const status = page.locator('[data-testid="rail-login-status"]');
  await page.locator('[data-testid="rail-login-status"]:not([data-state="checking"])').waitFor({ timeout: 30_000 });
  if (!(await page.locator('[data-testid="rail-login-form"]').isVisible())) await page.click('[data-testid="rail-login-again"]');
  const before = await captchaSnapshot(w);
  await page.fill('[data-testid="rail-account"]', account);
  await page.fill('[data-testid="rail-password"]', password);
  await page.click('[data-testid="rail-login-start"]');
  const clicker = page.locator('[data-testid="rail-login-clicker"]');
  await pictureShown(clicker);
  const captcha = await newCaptcha(w, before, { module: 'login' });
  await clickTiles(page, clicker, captcha.tiles);
  await clicker.locator('[data-testid="rail-captcha-submit"]').click();
  await page.locator('[data-testid="rail-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
  return status.innerText();
}

/**
 * Types `query` into the `which` ("from" / "to") station field and picks the station
 * with `telecode` from the list the host offers; resolves to the options' texts.
 */
export async function pickStation(page, which, query, telecode) {
  const input = page.locator(`[data-testid="rail-${which}-query"]`);
  await input.fill('');
  await input.pressSequentially(query, { delay: 30 });
  const options = page.locator(`[data-testid="rail-${which}-options"] [data-testid="rail-station-option"]`);
  const option = page.locator(`[data-testid="rail-${which}-options"] [data-testid="rail-station-option"][data-telecode="${telecode}"]`);
  await option.waitFor({ timeout: 30_000 });
  const texts = await options.allInnerTexts();
  await option.click();
  return texts;
}

/**
 * Adds a 12306 watch through the popup form (page: an open popup, the account signed
 * in): stations by telecode from the autocomplete, `morePairs` (text such as "BJP:SHH"),
 * `dates`, `trains`, `seats` in order, `mode`; resolves to the stored watch.
 */
export async function addRailWatch(page, { label, from = 'VNP', to = 'AOH', morePairs = '', dates, trains = [], seats = [], mode = 'notify', interval = 10, account = TRAVELLER.account, passengers = [] }) {
  await waitForState(page, 'connected');
  await page.selectOption('#platform', '12306');
  await pickStation(page, 'from', from, from);
  await pickStation(page, 'to', to, to);
  await page.fill('[data-testid="rail-more-pairs"]', morePairs);
  for (const d of dates) {
    await page.fill('[data-testid="rail-date-input"]', d);
    await page.click('[data-testid="rail-date-add"]');
  }
  await page.fill('[data-testid="rail-trains"]', trains.join(', '));
  for (const s of seats) await page.check(`[data-testid="rail-seat-${s}"]`);
  await page.locator(`[data-testid="rail-account-select"] option[value="${account}"]`).waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('[data-testid="rail-account-select"]', account);
  await page.fill('[data-testid="rail-passengers"]', passengers.join(', '));
  await page.fill('#label', label);
  await page.check(`input[name="mode"][value="${mode}"]`);
  await page.fill('#interval', String(interval));
  await page.click('#add-watch');
  const item = page.locator('[data-testid="watch-item"]', { hasText: label });
  await item.first().waitFor({ timeout: 30_000 }).catch(async (e) => {
    // Say why: the form's errors, as the person sees them.
    const errors = await page.locator('.field-error:not(:empty), #form-error:not(:empty)').allInnerTexts();
    throw new Error(`the watch was not added (${errors.join(' | ') || e.message})`);
  });
  return storedWatch(page, await item.first().getAttribute('data-watch-id'));
}

/** The host's stored watch `id` (through the extension's own connection). */
export async function storedWatch(page, id) {
  const reply = await extensionRequest(page, 'watch_get', { id });
  assert.ok(reply.ok, JSON.stringify(reply.error));
  return reply.data;
}

export { openPopup, waitForState, extensionRequest };
