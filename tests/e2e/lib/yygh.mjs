// tests/e2e/lib/yygh.mjs — the 114yygh world of the browser tests and the demo: the
// sandbox (its simulated clock set just before a hospital's daily release), a real SMTP
// server, Debian Chromium with the built extension and the real haoyuan-host registered,
// the options page pointing every platform at the sandbox and email at the SMTP server,
// and the person's steps done through the popup (sign in to 114 with the picture and
// SMS codes read from the sandbox, as a person reads them; add a watch).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor, findHostPids } from './env.mjs';
import { extensionRequest, extensionUrl, extensionWorker, launchChromium, openPopup, waitForState } from './chromium.mjs';
import { startSandbox } from './sandbox.mjs';
import { startSmtpServer } from './smtp.mjs';

export const MOBILE = '17796761085';
/** The demo hospital: releases the day 7 ahead every day at 08:30 (scenarios/demo.yaml). */
export const HOSPITAL = { code: '1', name: '北京协和医院', openTime: [8, 30], range: 7 };
const DAY_MS = 86_400_000;
const BEIJING_MS = 8 * 3_600_000;

/** `YYYY-MM-DD` of a Unix ms on the Beijing calendar. */
export function beijingDate(ms) {
  return new Date(ms + BEIJING_MS).toISOString().slice(0, 10);
}

/**
 * Starts everything. `secondsToRelease`: the sandbox clock is set so that the demo
 * hospital's next 08:30 release is this far away (server time); `skewMs` makes the
 * server's clock run that far from ours on top. `home`: the host's data dir (default a
 * fresh temp dir).
 */
export async function startWorld({ secondsToRelease = 30, skewMs = 0, scenario = 'demo.yaml', home, email = true } = {}) {
  requireBuilt('chrome');
  const w = { sandbox: null, smtp: null, context: null, profile: tempDir('chromium-profile'), home: home ?? tempHome(), ownHome: !home };
  try {
    w.sandbox = await startSandbox({ scenario });
    w.base = w.sandbox.urls['114yygh'];
    Object.assign(w, await setClockBeforeRelease(w.sandbox, { secondsToRelease, skewMs }));
    if (email) w.smtp = await startSmtpServer();

    registerHostForChromium(w.profile);
    w.context = await launchChromium({ profileDir: w.profile, env: { HAOYUAN_HOME: w.home } });
    w.worker = await extensionWorker(w.context);
    await configure(w);
  } catch (e) {
    await stopWorld(w);
    throw e;
  }
  return w;
}

/**
 * Sets the sandbox clock so that the demo hospital's next 08:30 release (Beijing) is
 * `secondsToRelease` ahead of server time (always forward: the sandbox's releases and
 * competitors follow its clock from the moment it was loaded); `skewMs` makes the
 * server's clock run that far from ours on top. Resolves to {releaseServerMs,
 * serverOffsetMs (server − local, now), targetDate (the day that release opens)}.
 */
export async function setClockBeforeRelease(sandbox, { secondsToRelease, skewMs = 0 }) {
  const now = Date.now();
  const clock = await sandbox.admin('/clock');
  const today0 = Math.floor((clock.now_ms + BEIJING_MS) / DAY_MS) * DAY_MS - BEIJING_MS;
  let releaseServerMs = today0 + (HOSPITAL.openTime[0] * 60 + HOSPITAL.openTime[1]) * 60_000;
  if (releaseServerMs - secondsToRelease * 1000 < clock.now_ms + 5_000) releaseServerMs += DAY_MS;
  const wantServerNow = releaseServerMs - secondsToRelease * 1000;
  await sandbox.admin('/clock', { advance_ms: wantServerNow - clock.now_ms - skewMs, skew_ms: skewMs });
  return {
    releaseServerMs,
    serverOffsetMs: wantServerNow - now,
    targetDate: beijingDate(releaseServerMs + HOSPITAL.range * DAY_MS),
  };
}

/** Options page: base URLs → sandbox; email → the local SMTP server. */
async function configure(w) {
  const page = await w.context.newPage();
  await page.goto(extensionUrl('options.html'));
  await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
  for (const [id, url] of Object.entries(w.sandbox.urls)) {
    if (id !== 'admin') await page.fill(`[data-testid="base-url-${id}"]`, url);
  }
  await page.click('[data-testid="save-urls"]');
  await page.locator('#urls-message', { hasText: /Saved|已保存/ }).waitFor({ timeout: 10_000 });
  if (w.smtp) {
    await page.locator('[data-testid="save-channels"]:not([disabled])').waitFor({ timeout: 30_000 });
    await page.check('[data-testid="setting-email.enabled"]');
    const fill = (p, v) => page.fill(`[data-testid="setting-${p}"]`, v);
    await fill('email.host', '127.0.0.1');
    await fill('email.port', String(w.smtp.port));
    await page.selectOption('[data-testid="setting-email.security"]', 'none');
    await fill('email.from', 'Haoyuan <haoyuan@example.com>');
    await fill('email.to', 'patient@example.com');
    await page.click('[data-testid="save-channels"]');
    await page.locator('#channels-message', { hasText: 'Saved' }).waitFor({ timeout: 10_000 });
  }
  await page.close();
}

export async function stopWorld(w) {
  await w.context?.close().catch(() => {});
  w.sandbox?.stop();
  w.smtp?.stop();
  removeDir(w.profile);
  if (w.ownHome) removeDir(w.home);
}

/** Runs `fn(world)` in a fresh world (see startWorld) and stops it afterwards. */
export async function withWorld(opts, fn) {
  const w = await startWorld(opts);
  try {
    await fn(w);
  } finally {
    await stopWorld(w);
  }
}

/** The sandbox's current server time. */
export async function serverNow(w) {
  return (await w.sandbox.admin('/clock')).now_ms;
}

/** Signs in to 114 through the popup, reading the picture and the SMS as a person would. */
export async function signIn(w) {
  const page = await openPopup(w.context);
  await page.locator('[data-testid="yygh-login-status"]:not([data-state="checking"])').waitFor({ timeout: 30_000 });
  if ((await page.locator('[data-testid="yygh-login-status"]').getAttribute('data-state')) === 'signed_in') return page;
  await page.fill('[data-testid="yygh-phone"]', MOBILE);
  await page.click('[data-testid="yygh-start"]');
  await page.locator('img[data-testid="yygh-captcha-img"]').waitFor({ state: 'visible', timeout: 30_000 });
  const cookies = Object.fromEntries((await w.context.cookies(w.base)).map((c) => [c.name, c.value]));
  const answers = await w.sandbox.admin('/captcha?platform=114yygh');
  await page.fill('[data-testid="yygh-captcha-input"]', String(answers[cookies.imed_session]));
  await page.click('[data-testid="yygh-captcha-submit"]');
  await page.locator('[data-testid="yygh-sms-input"]').waitFor({ state: 'visible', timeout: 30_000 });
  const sms = await waitFor(async () => (await w.sandbox.admin(`/inbox?phone=${MOBILE}`)).filter((m) => m.platform === '114yygh').at(-1), { what: 'the login SMS' });
  await page.fill('[data-testid="yygh-sms-input"]', sms.code);
  await page.click('[data-testid="yygh-sms-submit"]');
  await page.locator('[data-testid="yygh-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
  return page;
}

/** The first clinic of the demo hospital, as the site lists it. */
export async function firstClinic(w) {
  const r = await fetch(`${w.base}/web/department/hos/list?hosCode=${HOSPITAL.code}`, { headers: { 'Request-Source': 'PC' } });
  const dept = (await r.json()).data.list[0];
  return { first: dept.subList[0].dept1Code ?? dept.code, second: dept.subList[0].code, name: dept.subList[0].name };
}

/**
 * Adds a 114 watch through the popup form (`page`: an open popup) on the target day;
 * resolves to the stored watch.
 */
export async function addWatch(w, page, { mode = 'book', label = '协和 · 放号日', interval = 30, date = w.targetDate } = {}) {
  await waitForState(page, 'connected');
  const clinic = await firstClinic(w);
  await page.selectOption('#platform', '114yygh');
  const target = { hos_code: HOSPITAL.code, first_dept_code: clinic.first, second_dept_code: clinic.second, hos_name: HOSPITAL.name, dept_name: clinic.name };
  for (const [name, value] of Object.entries(target)) await page.fill(`[name="target.${name}"]`, value);
  await page.fill('#label', label);
  await page.fill('#start', date);
  await page.fill('#end', date);
  await page.check(`input[name="mode"][value="${mode}"]`);
  await page.fill('#interval', String(interval));
  await page.click('#add-watch');
  const item = page.locator('[data-testid="watch-item"]', { hasText: label });
  await item.first().waitFor({ timeout: 30_000 });
  const id = await item.first().getAttribute('data-watch-id');
  const got = await extensionRequest(page, 'watch_get', { id });
  assert.ok(got.ok, JSON.stringify(got.error));
  return got.data;
}

/** The watch's history, oldest first. */
export async function history(page, watchId) {
  const r = await extensionRequest(page, 'history_list', { watch_id: watchId, limit: 200 });
  assert.ok(r.ok, JSON.stringify(r.error));
  return [...r.data.events].reverse();
}

/** Waits until the watch's history has an event of `kind`; resolves to it. */
export async function waitForEvent(page, watchId, kind, { timeoutMs = 60_000 } = {}) {
  return waitFor(async () => (await history(page, watchId)).find((e) => e.kind === kind), { timeoutMs, intervalMs: 250, what: `a ${kind} event` });
}

/** The sandbox's 114 request log (optionally only paths starting with `prefix`). */
export async function siteRequests(w, prefix = '/web/product/') {
  const log = await w.sandbox.admin('/requests?platform=114yygh&limit=20000');
  return log.filter((r) => r.path.startsWith(prefix));
}

/** The sandbox's 114 orders. */
export async function siteOrders(w) {
  return w.sandbox.admin('/orders?platform=114yygh');
}

/** SIGKILLs the host the browser started for this world; resolves to the pids killed. */
export function killHost(w) {
  const pids = findHostPids(w.home);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids;
}

/** The 114 runtime's state in the worker: [{watch_id, state, message, prompt, clock}]. */
export function runtimeState(w) {
  return w.worker.evaluate(() => globalThis.haoyuan.yygh.state());
}

/** Writes a text file in the artifacts folder. */
export function writeArtifact(dir, name, text) {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}
