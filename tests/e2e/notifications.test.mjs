// tests/e2e/notifications.test.mjs — notifications in Debian Chromium, with dist/chrome
// loaded in a fresh profile and the real haoyuan-host registered in it (as in
// chromium.test.mjs):
//   - a slot event recorded by the host (event_record, sent through the extension's own
//     host connection) raises a desktop notification for its watch, with the core's
//     title and the two buttons; its "stop this watch" button (run through the same
//     handler the onButtonClicked listener calls) pauses the watch in the host; its
//     "open booking page" button opens the event's page; the badge counts the finding
//     until the popup is opened; the alert sound is played in an offscreen document;
//   - the options page saves email settings to the host (the password shows as set and
//     is never returned nor kept in the browser), shows field errors, and shows a failed
//     "send test" in plain words when no SMTP server listens;
//   - the popup shows a message the SMTP server refused ("邮件未送达: …") and per-watch
//     pause / resume.
// The SMTP server refusing recipients is a minimal one written here (a socket answering
// SMTP replies); the host's SMTP client itself is tested against a real server in
// tests/it. Needs `scripts/build.sh` first. Run: node --test tests/e2e/notifications.test.mjs

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chinaDate, registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor } from './lib/env.mjs';
import {
  badgeText,
  extensionRequest,
  extensionUrl,
  extensionWorker,
  fieldError,
  fillWatchForm,
  launchChromium,
  listedWatches,
  notificationIds,
  openPopup,
  raisedNotices,
  waitForState,
} from './lib/chromium.mjs';
import { startSmtpServer } from './lib/smtp.mjs';

const TIMEOUT = 180_000;
const SECRET = 'e2e-secret-password-7731';

const WATCH = {
  platform: '114yygh',
  target: { hos_code: '1', first_dept_code: '200039542', second_dept_code: '200039602', hos_name: '北京协和医院', dept_name: '眼科' },
  label: 'E2E 协和眼科',
  end: chinaDate(7),
  periods: ['morning'],
  mode: 'notify',
  interval: 30,
};

/** Listens on 127.0.0.1, a free port; resolves with the port. */
function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** A web server standing in for the booking site: every path answers a small page. */
function bookingSite() {
  return http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>booking ${req.url}</title><p>booking page`);
  });
}

describe('Chromium notifications with haoyuan-host registered', () => {
  let profile;
  let home;
  let context;
  let worker;
  let site;
  let sitePort;
  let smtp;
  let smtpPort;
  let watchId;

  before(async () => {
    requireBuilt('chrome');
    site = bookingSite();
    sitePort = await listen(site);
    // The real test SMTP server (aiosmtpd), refusing every recipient of this test.
    smtp = await startSmtpServer({ rejectRcpt: '@' });
    smtpPort = smtp.port;
    profile = tempDir('chromium-profile');
    home = tempHome();
    registerHostForChromium(profile);
    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
    worker = await extensionWorker(context);
  });

  after(async () => {
    await context?.close();
    site?.close();
    smtp?.stop();
    removeDir(profile);
    removeDir(home);
  });

  test('a slot event raises a notification whose "stop this watch" button pauses the watch; the badge counts it until the popup opens', { timeout: TIMEOUT }, async () => {
    let page = await openPopup(context);
    await waitForState(page, 'connected');
    await fillWatchForm(page, WATCH);
    await page.click('#add-watch');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    [{ id: watchId }] = await listedWatches(page);
    assert.ok(watchId);
    assert.equal(await badgeText(worker), '', 'no finding yet');
    assert.deepEqual(await notificationIds(worker), []);

    // The host records a slot for the watch (as the in-browser runtime will report one).
    const url = `http://127.0.0.1:${sitePort}/hospital/1/200039602`;
    const recorded = await extensionRequest(page, 'event_record', {
      watch_id: watchId,
      kind: 'slot_seen',
      message: '有号：2 个号源',
      data: { date: WATCH.end, period: 'morning', url },
    });
    assert.equal(recorded.ok, true, JSON.stringify(recorded.error));
    const id = `haoyuan-${recorded.data.seq}`;

    await waitFor(async () => (await notificationIds(worker)).includes(id), { what: `notification ${id}` });
    const notice = (await raisedNotices(worker))[id];
    assert.equal(notice.watch_id, watchId);
    assert.equal(notice.options.title, '发现号源 Slot found · E2E 协和眼科');
    assert.equal(notice.options.message, `114 · 北京协和医院 · 眼科 · ${WATCH.end} 上午\n有号：2 个号源`);
    assert.deepEqual(
      notice.options.buttons.map((b) => b.title),
      ['打开预约页 Open booking page', '停止此监控 Stop this watch'],
    );
    assert.equal(notice.options.requireInteraction, true);
    assert.equal(notice.url, url);

    // One live finding on the badge; the alert sound went to the offscreen document.
    await waitFor(async () => (await badgeText(worker)) === '1', { what: 'badge "1"' });
    const offscreen = await waitFor(
      async () => {
        const docs = await worker.evaluate(() => chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] }));
        return docs.length ? docs : null;
      },
      { what: 'the offscreen document playing the alert' },
    );
    assert.equal(offscreen[0].documentUrl, extensionUrl('offscreen.html'));

    // "Stop this watch" (button 1), through the handler the onButtonClicked listener runs.
    const stopped = await worker.evaluate(([n, i]) => globalThis.haoyuan.handleNotificationButton(n, i), [id, 1]);
    assert.equal(stopped.ok, true, JSON.stringify(stopped.error));
    assert.equal(stopped.data.paused, true);
    await waitFor(async () => !(await notificationIds(worker)).includes(id), { what: 'the notification to go once acted on' });
    const stored = await extensionRequest(page, 'watch_get', { id: watchId });
    assert.equal(stored.data.paused, true, 'the host has the watch paused');
    await page.close();

    // Opening the popup clears the badge and shows the watch as paused.
    page = await openPopup(context);
    await waitForState(page, 'connected');
    await waitFor(async () => (await badgeText(worker)) === '', { what: 'the badge to clear when the popup opens' });
    const item = page.locator(`[data-watch-id="${watchId}"]`);
    await page.locator(`[data-watch-id="${watchId}"][data-paused="true"]`).waitFor({ timeout: 30_000 });
    assert.match(await item.locator('[data-testid="watch-summary"]').innerText(), /paused/);
    assert.equal(await item.locator('[data-testid="watch-pause"]').innerText(), '恢复 Resume');
    await page.close();
  });

  test('"open booking page" opens the event\'s page; the popup resumes and pauses a watch', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(context);
    await waitForState(page, 'connected');
    const url = `http://127.0.0.1:${sitePort}/book/second`;
    const recorded = await extensionRequest(page, 'event_record', {
      watch_id: watchId,
      kind: 'slot_seen',
      message: '有号',
      data: { date: WATCH.end, period: 'afternoon', url },
    });
    assert.equal(recorded.ok, true, JSON.stringify(recorded.error));
    const id = `haoyuan-${recorded.data.seq}`;
    await waitFor(async () => (await notificationIds(worker)).includes(id), { what: `notification ${id}` });
    assert.match((await raisedNotices(worker))[id].options.message, / 下午\n有号$/);
    await waitFor(async () => (await badgeText(worker)) === '1', { what: 'badge "1" for the new finding' });

    const opened = context.waitForEvent('page', { predicate: (p) => p.url() === url, timeout: 30_000 });
    const reply = await worker.evaluate(([n, i]) => globalThis.haoyuan.handleNotificationButton(n, i), [id, 0]);
    assert.equal(reply.ok, true, JSON.stringify(reply.error));
    const booking = await opened;
    await booking.waitForLoadState();
    assert.match(await booking.title(), /^booking \/book\/second$/);
    await booking.close();
    await waitFor(async () => !(await notificationIds(worker)).includes(id), { what: 'the notification to go once opened' });

    // Resume from the popup, then pause again.
    const item = page.locator(`[data-watch-id="${watchId}"]`);
    await page.locator(`[data-watch-id="${watchId}"][data-paused="true"]`).waitFor({ timeout: 30_000 });
    await item.locator('[data-testid="watch-pause"]').click();
    await page.locator(`[data-watch-id="${watchId}"][data-paused="false"]`).waitFor({ timeout: 30_000 });
    assert.equal((await extensionRequest(page, 'watch_get', { id: watchId })).data.paused, false);
    await page.locator(`[data-watch-id="${watchId}"] [data-testid="watch-pause"]`).click();
    await page.locator(`[data-watch-id="${watchId}"][data-paused="true"]`).waitFor({ timeout: 30_000 });
    assert.equal((await extensionRequest(page, 'watch_get', { id: watchId })).data.paused, true);
    await page.close();
  });

  test('the options page saves email settings in the host (the password shows as set, never comes back) and says why a test failed', { timeout: TIMEOUT }, async () => {
    const page = await context.newPage();
    await page.goto(extensionUrl('options.html'));
    await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="save-channels"]:not([disabled])').waitFor({ timeout: 30_000 });

    const fill = async (path, value) => page.fill(`[data-testid="setting-${path}"]`, value);
    await page.check('[data-testid="setting-email.enabled"]');
    await fill('email.host', '127.0.0.1');
    await fill('email.port', '1');
    await page.selectOption('[data-testid="setting-email.security"]', 'none');
    await fill('email.username', 'e2e');
    await fill('email.password', SECRET);
    await fill('email.from', 'Haoyuan <haoyuan@example.com>');
    await fill('email.to', 'someone@example.com, other@example.com');

    // A field the core cannot read, then one the host refuses: each next to its input.
    await fill('email.port', 'twenty-five');
    await page.click('[data-testid="save-channels"]');
    await page.locator('[data-error-for="email.port"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await fieldError(page, 'email.port'), /not a whole number/);
    await fill('email.port', '1');
    await fill('email.to', '');
    await page.click('[data-testid="save-channels"]');
    await page.locator('[data-error-for="email.to"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await fieldError(page, 'email.to'), /recipient/);
    assert.equal(await fieldError(page, 'email.port'), '', 'the earlier error was cleared');
    await fill('email.to', 'someone@example.com, other@example.com');

    await page.click('[data-testid="save-channels"]');
    await page.locator('#channels-message', { hasText: 'Saved' }).waitFor({ timeout: 10_000 });
    const password = page.locator('[data-testid="setting-email.password"]');
    assert.equal(await password.inputValue(), '', 'the password is not kept in the page');
    assert.equal(await password.getAttribute('placeholder'), '已设置 set');

    // What the host returns has no password; nothing in the browser's storage has it.
    const view = await extensionRequest(page, 'channels_get');
    assert.equal(view.ok, true, JSON.stringify(view.error));
    assert.equal(view.data.settings.email.password, '');
    assert.deepEqual(view.data.secrets_set, ['email.password']);
    assert.deepEqual(view.data.settings.email.to, ['someone@example.com', 'other@example.com']);
    assert.ok(!JSON.stringify(view).includes(SECRET));
    const stores = await worker.evaluate(async () => JSON.stringify([await chrome.storage.local.get(null), await chrome.storage.session.get(null)]));
    assert.ok(!stores.includes(SECRET), 'the password is in no chrome.storage area');

    // After a reload the form comes back from the host.
    await page.reload();
    await page.locator('[data-testid="save-channels"]:not([disabled])').waitFor({ timeout: 30_000 });
    assert.equal(await page.inputValue('[data-testid="setting-email.host"]'), '127.0.0.1');
    assert.equal(await page.inputValue('[data-testid="setting-email.to"]'), 'someone@example.com, other@example.com');
    assert.equal(await page.isChecked('[data-testid="setting-email.enabled"]'), true);
    assert.equal(await password.getAttribute('placeholder'), '已设置 set');

    // Nothing listens on port 1: the test says so in words, naming the server.
    await page.click('[data-testid="send-test-email"]');
    const result = page.locator('[data-testid="test-result-email"].error');
    await result.waitFor({ timeout: 60_000 });
    const text = await result.innerText();
    assert.match(text, /^(发送失败 Not delivered|未设置 Not set up|出错 Error): /);
    assert.match(text, /127\.0\.0\.1:1/);
    assert.doesNotMatch(text, /internal|undefined|\[object/i);

    // "clear" removes the stored password.
    await page.check('[data-testid="clear-email.password"]');
    await page.click('[data-testid="save-channels"]');
    await page.locator('#channels-message', { hasText: 'Saved' }).waitFor({ timeout: 10_000 });
    assert.notEqual(await password.getAttribute('placeholder'), '已设置 set');
    assert.deepEqual((await extensionRequest(page, 'channels_get')).data.secrets_set, []);

    // The sound setting is the browser's own.
    await page.uncheck('[data-testid="sound-on"]');
    await waitFor(async () => (await worker.evaluate(() => chrome.storage.local.get('notifySound'))).notifySound === false, {
      what: 'the sound setting in storage.local',
    });
    await page.check('[data-testid="sound-on"]');
    await waitFor(async () => (await worker.evaluate(() => chrome.storage.local.get('notifySound'))).notifySound === true, {
      what: 'the sound setting back on',
    });
    await page.close();
  });

  test('the popup shows a message the SMTP server refused, per channel', { timeout: TIMEOUT }, async () => {
    const options = await context.newPage();
    await options.goto(extensionUrl('options.html'));
    await options.locator('[data-testid="save-channels"]:not([disabled])').waitFor({ timeout: 30_000 });
    await options.fill('[data-testid="setting-email.port"]', String(smtpPort));
    await options.fill('[data-testid="setting-email.username"]', '');
    await options.click('[data-testid="save-channels"]');
    await options.locator('#channels-message', { hasText: 'Saved' }).waitFor({ timeout: 10_000 });

    // "Send test" reaches the server, which refuses the recipient: its answer is shown.
    await options.click('[data-testid="send-test-email"]');
    const result = options.locator('[data-testid="test-result-email"].error');
    await result.waitFor({ timeout: 60_000 });
    assert.match(await result.innerText(), /550/);
    await options.close();

    // A finding is told by email too; the server refuses it for good.
    const page = await openPopup(context);
    await waitForState(page, 'connected');
    const recorded = await extensionRequest(page, 'event_record', {
      watch_id: watchId,
      kind: 'slot_seen',
      message: '有号',
      data: { date: WATCH.end, period: 'morning' },
    });
    assert.equal(recorded.ok, true, JSON.stringify(recorded.error));

    // The popup says which message was not delivered and why (reopen until it is final).
    const failure = await waitFor(
      async () => {
        await page.reload();
        await waitForState(page, 'connected');
        const f = page.locator('[data-testid="notify-failure"][data-channel="email"]');
        await page.locator('[data-testid="notify-section"]:not([hidden])').waitFor({ timeout: 10_000 });
        return (await f.count()) ? f.first().innerText() : null;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'the popup to show the undelivered email' },
    );
    assert.match(failure, /^邮件未送达: .+ — .*550/);
    assert.match(failure, /北京协和医院/);
    const channel = page.locator('[data-testid="notify-channel"][data-channel="email"]');
    assert.equal(await channel.count(), 1, 'the enabled email channel is listed');
    assert.equal(smtp.received().length, 0, 'the server accepted nothing');
    await page.close();
  });
});
