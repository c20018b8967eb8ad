// tests/e2e/frontdesk.test.mjs — the 浙里办 front desk (frontdesk.html) in Debian Chromium
// with the built extension and the real haoyuan-host registered in a fresh profile, against
// the sandbox's 浙里办 (tests/sandbox/scenarios/zheliban-defaults.yaml: hospital 100637,
// 12 new reservations checking in 1–30 days from today).
//   - settings: opened from the options page's link; an interval under 60 s is refused
//     with the host's words beside the interval, nothing saved; a wrong AES key on "Test
//     connection" is refused in plain words naming the key (the host's own timed round,
//     which starts once there are settings, fails with it too and backs off for at least
//     the interval, so it cannot take the records of the test's syncs); the right one (the
//     other secrets left blank, so kept) connects; the secrets never show in the page nor
//     reach the extension's storage, and the host keeps the address, interval and notify
//     mode; after the first sync the status line shows it and no longer the key's error;
//   - reservations: "Sync now" brings the 12 (12 new); "Today" has none until the sandbox
//     adds one for today and a second sync brings it (1 new); "Today" plus a search by the
//     name shows that one row, its ID masked (no full ID number of any record anywhere in
//     the page); "Arrived" shows the arrival time in the row and 浙里办 (the sandbox)
//     records the arrival for that serial; the status line has no arrival left to tell;
//   - export: "Export CSV" downloads the filter's rows (today: that one; all: the 13) with
//     the masked IDs, never a full ID number or phone;
//   - live: a sync made elsewhere (another extension page) refreshes the open front desk
//     through the host's `watch_event`s; records 浙里办 sends that fail the checks are
//     listed under the rejects with their reasons, and one marked received anyway is
//     acknowledged to 浙里办 (the other stays unacknowledged);
//   - pending: while 浙里办's arrival endpoint fails (a 502), "Arrived" keeps the arrival
//     and the row says it will be told on the next sync; once 浙里办 is back, "Sync now"
//     tells it with the time the desk recorded.
//
// Needs `scripts/build.sh` first. Run: node --test tests/e2e/frontdesk.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { artifactDir, chinaDate, registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor } from './lib/env.mjs';
import { extensionRequest, extensionUrl, launchChromium } from './lib/chromium.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { ZLB, addZlbReservations, clickAndSettle, deskRows, waitForDeskSerials, zlbOrder, zlbOrders, zlbTokenRequests } from './lib/zlb.mjs';

const TIMEOUT = 180_000;
/** Longer than the test: no sync of the host's own comes between the ones the test makes. */
const INTERVAL_S = 3600;
const ARRIVING = '钱到检';

const shot = (page, name) => page.screenshot({ path: path.join(artifactDir('e2e'), name), fullPage: true });

/** Every full ID number and phone the sandbox holds (none may be shown or exported). */
async function fullNumbers(sandbox) {
  const orders = await zlbOrders(sandbox);
  const ids = orders.map((o) => o.record?.idcard).filter((v) => typeof v === 'string' && v.length >= 15);
  const phones = orders.map((o) => o.record?.mobile).filter((v) => typeof v === 'string' && v.length === 11);
  assert.equal(ids.length, orders.length, 'every sandbox record has its full ID number');
  return { ids, phones };
}

/** The cells of a CSV text (quotes and spaces around them dropped), as a set. */
function csvCells(csv) {
  return new Set(csv.split(/[,\r\n]+/).map((c) => c.trim().replace(/^"|"$/g, '').trim()).filter(Boolean));
}

function assertNoFullNumbers(text, { ids, phones }, where) {
  for (const id of ids) assert.ok(!text.includes(id), `${where} shows the full ID number ${id}`);
  for (const p of phones) assert.ok(!text.includes(p), `${where} shows the full phone ${p}`);
}

describe('浙里办 front desk: settings, sync, today’s list, arrival told to the platform, CSV export', () => {
  const w = { profile: null, home: null, sandbox: null, context: null, page: null };
  const today = chinaDate(0);
  const known = {};

  before(async () => {
    requireBuilt('chrome');
    w.profile = tempDir('chromium-profile');
    w.home = tempHome();
    w.sandbox = await startSandbox({ scenario: 'zheliban-defaults.yaml' });
    assert.ok(w.sandbox.urls.zheliban, `the sandbox serves zheliban: ${JSON.stringify(w.sandbox.urls)}`);
    registerHostForChromium(w.profile);
    w.context = await launchChromium({ profileDir: w.profile, env: { HAOYUAN_HOME: w.home } });
  });

  after(async () => {
    await w.context?.close().catch(() => {});
    w.sandbox?.stop();
    removeDir(w.profile);
    removeDir(w.home);
  });

  test('settings: a wrong AES key is refused in plain words, the right one connects, no secret is shown or kept in the browser', { timeout: TIMEOUT }, async () => {
    // Opened from the options page's link.
    const options = await w.context.newPage();
    await options.goto(extensionUrl('options.html'));
    const [page] = await Promise.all([w.context.waitForEvent('page'), options.click('[data-testid="open-frontdesk"]')]);
    w.page = page;
    await page.setViewportSize({ width: 1200, height: 900 }); // the table's width
    await page.waitForLoadState();
    assert.equal(page.url(), extensionUrl('frontdesk.html'));
    await options.close();
    await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    const status = page.locator('[data-testid="zlb-config-status"]');
    await page.locator('[data-testid="zlb-config-status"][data-configured="false"]').waitFor({ timeout: 10_000 });
    assert.match(await status.textContent(), /Not set up yet/);

    // An interval under the floor: the host's words beside the interval, nothing saved.
    await page.fill('[data-testid="zlb-base-url"]', w.sandbox.urls.zheliban);
    await page.fill('[data-testid="zlb-apikey"]', ZLB.apikey);
    await page.fill('[data-testid="zlb-secret"]', ZLB.secret);
    await page.fill('[data-testid="zlb-aes-key"]', 'ZLB-wrong-key-00');
    await page.fill('[data-testid="zlb-interval"]', '30');
    await page.click('[data-testid="zlb-save"]');
    const intervalError = page.locator('#zlb-settings-form [data-error-for="interval_s"]');
    await waitFor(async () => (await intervalError.textContent()).trim(), { timeoutMs: 10_000, what: 'the interval error' });
    assert.match(await intervalError.textContent(), /60/);
    assert.equal(await page.getAttribute('#zlb-settings-form .field[data-field="interval_s"]', 'class'), 'field invalid');
    assert.equal(await page.textContent('#zlb-settings-form [data-error-for="base_url"]'), '', 'no error beside the address');
    assert.match(await page.textContent('[data-testid="zlb-settings-message"]'), /Not saved/);
    assert.equal((await extensionRequest(page, 'zlb_config_get')).error?.code, 'not_configured', 'nothing was saved');

    // Everything right but the AES key.
    await page.fill('[data-testid="zlb-interval"]', String(INTERVAL_S));
    await page.selectOption('[data-testid="zlb-notify"]', 'digest');
    const bad = await clickAndSettle(page, 'zlb-test', 'zlb-test-result', 'testing');
    assert.equal(bad.state, 'error', bad.text);
    assert.match(bad.text, /Connection failed/);
    assert.match(bad.text, /AES|apikey|secret/i, `the error names what to check: ${bad.text}`);
    assert.ok(!bad.text.includes('ZLB-wrong-key-00'), 'the error does not quote the key');
    await shot(page, 'frontdesk-wrong-key.png');
    // The host's timed sync starts its first round as soon as there are settings: let that
    // round (with the wrong key, so it fails and backs off for at least the interval) be
    // done before the right key is saved, so that the 12 come with the test's "Sync now".
    await waitFor(async () => (await zlbTokenRequests(w.sandbox)) >= 2, {
      timeoutMs: 20_000,
      what: 'the host’s own first sync round (a second token request, after the test’s)',
    });

    // The right key; apikey and secret left blank (kept as stored).
    for (const id of ['zlb-apikey', 'zlb-secret']) assert.equal(await page.inputValue(`[data-testid="${id}"]`), '', `${id} is cleared once saved`);
    await page.fill('[data-testid="zlb-aes-key"]', ZLB.aesKey);
    const good = await clickAndSettle(page, 'zlb-test', 'zlb-test-result', 'testing');
    assert.equal(good.state, 'ok', good.text);
    assert.match(good.text, /^连接成功 OK — \S/);
    await page.locator('[data-testid="zlb-config-status"][data-configured="true"]').waitFor({ timeout: 10_000 });

    // No secret in the page, in the inputs, in the extension's storage or in what the host shows.
    for (const id of ['zlb-apikey', 'zlb-secret', 'zlb-aes-key']) {
      assert.equal(await page.inputValue(`[data-testid="${id}"]`), '', `${id} is blank`);
      assert.equal(await page.getAttribute(`[data-testid="${id}"]`, 'data-set'), 'true', `${id} shows it is set`);
    }
    const html = await page.content();
    const stored = await page.evaluate(async () => JSON.stringify([await chrome.storage.local.get(null), await chrome.storage.session.get(null)]));
    const config = await extensionRequest(page, 'zlb_config_get');
    assert.ok(config.ok, JSON.stringify(config.error));
    for (const secret of [ZLB.apikey, ZLB.secret, ZLB.aesKey]) {
      assert.ok(!html.includes(secret), `the page does not show ${secret}`);
      assert.ok(!stored.includes(secret), `the extension's storage does not hold ${secret}`);
      assert.ok(!JSON.stringify(config.data).includes(secret), `zlb_config_get does not return ${secret}`);
    }
    assert.equal(config.data.base_url.replace(/\/+$/, ''), w.sandbox.urls.zheliban.replace(/\/+$/, ''));
    assert.equal(config.data.interval_s, INTERVAL_S);
    assert.equal(config.data.notify, 'digest');
    assert.ok(config.data.has_secret && config.data.has_aes_key, JSON.stringify(config.data));
    assert.equal(await page.inputValue('[data-testid="zlb-interval"]'), String(INTERVAL_S));
    assert.equal(await page.inputValue('[data-testid="zlb-notify"]'), 'digest');
  });

  test('reservations: sync, today’s one found by name with its ID masked, marked arrived and told to 浙里办', { timeout: TIMEOUT }, async () => {
    const page = w.page;
    assert.ok(page, 'the settings test opened the front desk');
    const generated = (await zlbOrders(w.sandbox)).map((o) => o.serialNumber);
    assert.equal(generated.length, 12);

    // The first sync brings the 12; none of them is for today.
    const first = await clickAndSettle(page, 'zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(first.state, 'ok', first.text);
    assert.equal(await page.getAttribute('[data-testid="zlb-sync-message"]', 'data-new'), '12', first.text);
    // The status line says when it synced, and the wrong key's error is gone.
    const status = page.locator('[data-testid="zlb-config-status"]');
    await waitFor(async () => (await status.getAttribute('data-synced')) === 'true', { timeoutMs: 10_000, what: 'the status line to show the sync' })
      .catch(async (e) => assert.fail(`${e.message}; it says: ${await status.textContent()}`));
    assert.equal(await status.getAttribute('data-failing'), 'false', await status.textContent());
    assert.match(await status.textContent(), /Last sync: \d/);
    assert.doesNotMatch(await status.textContent(), /Last error/);
    await page.click('[data-testid="zlb-filter-all"]');
    await waitForDeskSerials(page, generated, 'all after the first sync');
    await page.click('[data-testid="zlb-filter-today"]');
    await waitForDeskSerials(page, [], 'today before one is added');
    assert.equal(await page.getAttribute('[data-testid="zlb-count"]', 'data-today'), today, 'the host’s today is Beijing’s');

    // 浙里办 gets one for today; the next sync brings it.
    const [serial] = await addZlbReservations(w.sandbox, [{ checkDate: today, name: ARRIVING, cardType: 1 }]);
    assert.ok(serial, 'the sandbox added the reservation');
    known.serial = serial;
    const fullId = (await zlbOrder(w.sandbox, serial)).record.idcard;
    assert.match(fullId, /^\d{17}[\dX]$/);
    const second = await clickAndSettle(page, 'zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(second.state, 'ok', second.text);
    assert.equal(await page.getAttribute('[data-testid="zlb-sync-message"]', 'data-new'), '1', second.text);
    await waitForDeskSerials(page, [serial], 'today after the second sync');
    await page.click('[data-testid="zlb-filter-upcoming"]');
    await waitForDeskSerials(page, [...generated, serial], 'upcoming');

    // Today + a search by the name: that one row, the ID masked.
    await page.click('[data-testid="zlb-filter-today"]');
    await page.fill('[data-testid="zlb-query"]', ARRIVING);
    let [row] = await waitForDeskSerials(page, [serial], 'today searched by name');
    assert.equal(row.name, ARRIVING);
    assert.equal(row.check_date, today);
    assert.notEqual(row.id, fullId);
    assert.ok(row.id.includes('*') && row.id.startsWith(fullId.slice(0, 3)) && row.id.endsWith(fullId.slice(-4)), `masked: ${row.id}`);
    assert.equal(row.id.replace(/\*/g, '').length, 7, `only 7 characters of the ID are visible: ${row.id}`);
    assert.ok(row.can_arrive && !row.arrived, 'not arrived yet, with its Arrived button');
    // A name nobody has: nothing.
    await page.fill('[data-testid="zlb-query"]', '没有这个人');
    await waitForDeskSerials(page, [], 'a search that matches nobody');
    // The serial, under All, finds it too.
    await page.click('[data-testid="zlb-filter-all"]');
    await page.fill('[data-testid="zlb-query"]', serial);
    await waitForDeskSerials(page, [serial], 'all searched by serial');
    await page.click('[data-testid="zlb-filter-today"]');
    await page.fill('[data-testid="zlb-query"]', ARRIVING);
    await waitForDeskSerials(page, [serial], 'today searched by name again');

    const numbers = await fullNumbers(w.sandbox);
    assertNoFullNumbers(await page.content(), numbers, 'the front desk');

    // Arrived.
    await page.click(`[data-testid="zlb-row"][data-serial="${serial}"] [data-testid="zlb-arrive"]`);
    const arrivedTime = page.locator(`[data-testid="zlb-row"][data-serial="${serial}"] [data-testid="zlb-arrived-time"]`);
    await arrivedTime.waitFor({ timeout: 30_000 });
    [row] = await deskRows(page);
    assert.equal(row.serial, serial);
    assert.match(row.arrived, new RegExp(`^${today} \\d{2}:\\d{2}(:\\d{2})?$`), `the arrival time: ${row.arrived}`);
    assert.equal(row.arrival, 'sent', 'told to 浙里办 at once');
    assert.ok(!row.can_arrive, 'no second Arrived button');
    const said = page.locator('[data-testid="zlb-list-message"]');
    assert.match(await said.textContent(), new RegExp(`^${ARRIVING} — \\S`), 'the host’s message is shown');
    assert.match(await said.getAttribute('class'), /\bok\b/);
    await shot(page, 'frontdesk-arrived.png');

    // 浙里办 (the sandbox) recorded it for that serial, and only that one.
    const told = await waitFor(async () => {
      const o = await zlbOrder(w.sandbox, serial);
      return o.arrived ? o : null;
    }, { timeoutMs: 10_000, what: `the sandbox to record the arrival of ${serial}` });
    assert.ok(String(told.arriveDate).startsWith(today), `arriveDate ${told.arriveDate}`);
    assert.equal(told.arriveDate.slice(0, 16), row.arrived.slice(0, 16), 'the platform has the time the desk shows');
    const others = (await zlbOrders(w.sandbox)).filter((o) => o.serialNumber !== serial && o.arrived);
    assert.deepEqual(others.map((o) => o.serialNumber), [], 'no other arrival was told');
    await page.locator('[data-testid="zlb-config-status"][data-pending-arrivals="0"]').waitFor({ timeout: 10_000 });

    // The page is read again from the host: the arrival is stored there.
    await page.reload();
    await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.fill('[data-testid="zlb-query"]', ARRIVING);
    [row] = await waitForDeskSerials(page, [serial], 'today after a reload');
    assert.equal(row.arrival, 'sent');
    assert.match(row.arrived, new RegExp(`^${today} `));
    assertNoFullNumbers(await page.content(), numbers, 'the front desk after a reload');
  });

  test('export: the filter’s rows as CSV with masked IDs, never a full ID number or phone', { timeout: TIMEOUT }, async () => {
    const page = w.page;
    const serial = known.serial;
    assert.ok(serial, 'the reservations test added one for today');
    const numbers = await fullNumbers(w.sandbox);
    const all = (await zlbOrders(w.sandbox)).map((o) => o.serialNumber);

    const download = async () => {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('[data-testid="zlb-export"]')]);
      const file = await dl.path();
      return { name: dl.suggestedFilename(), csv: fs.readFileSync(file, 'utf8') };
    };

    // Today, searched by the name: that one row.
    await page.click('[data-testid="zlb-filter-today"]');
    await page.fill('[data-testid="zlb-query"]', ARRIVING);
    const [row] = await waitForDeskSerials(page, [serial], 'today before the export');
    const one = await download();
    assert.match(one.name, /\.csv$/);
    const oneCells = csvCells(one.csv);
    assert.ok(oneCells.has(serial), `the CSV has the serial: ${one.csv}`);
    assert.ok(oneCells.has(row.id), `the CSV has the masked ID ${row.id}: ${one.csv}`);
    assert.ok(oneCells.has(ARRIVING), one.csv);
    for (const other of all.filter((s) => s !== serial)) assert.ok(!oneCells.has(other), `today's CSV leaves out ${other}: ${one.csv}`);
    assertNoFullNumbers(one.csv, numbers, 'the CSV of today');
    const exported = await extensionRequest(page, 'zlb_export', { from: today, to: today, query: ARRIVING, include_cancelled: false });
    assert.ok(exported.ok, JSON.stringify(exported.error));
    assert.equal(one.name, exported.data.filename, 'downloaded under the host’s file name');
    assert.equal(one.csv, exported.data.csv, 'the download is the host’s CSV as it is');
    assert.match(await page.locator('[data-testid="zlb-list-message"]').textContent(), new RegExp(`Exported ${exported.data.rows} `));

    // All, no search: the 13.
    await page.fill('[data-testid="zlb-query"]', '');
    await page.click('[data-testid="zlb-filter-all"]');
    const rows = await waitForDeskSerials(page, all, 'all before the export');
    const every = await download();
    const cells = csvCells(every.csv);
    for (const r of rows) {
      assert.ok(cells.has(r.serial), `the CSV has ${r.serial}`);
      assert.ok(cells.has(r.id), `the CSV has the masked ID ${r.id}`);
    }
    assertNoFullNumbers(every.csv, numbers, 'the CSV of all');
  });

  test('live: a sync made elsewhere refreshes the open front desk; records failing the checks are listed as rejects, one marked received', { timeout: TIMEOUT }, async () => {
    const page = w.page;
    await page.fill('[data-testid="zlb-query"]', '');
    await page.click('[data-testid="zlb-filter-today"]');
    await waitForDeskSerials(page, [known.serial], 'today before the live sync');

    // 浙里办 gets another one for today and two broken records; another extension page syncs.
    const [late] = await addZlbReservations(w.sandbox, [{ checkDate: today, name: '孙晚到', cardType: 1 }]);
    await w.sandbox.admin('/platform/zheliban/malformed', { count: 2, kinds: ['bad_idcard', 'no_check_date'] });
    const other = await w.context.newPage();
    await other.goto(extensionUrl('options.html'));
    await other.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    const synced = await extensionRequest(other, 'zlb_sync');
    assert.ok(synced.ok, JSON.stringify(synced.error));
    assert.equal(synced.data.new, 1, JSON.stringify(synced.data));
    // Rejected records are not acknowledged, so each pull of the round delivers them again.
    assert.ok(synced.data.summary.rejected >= 2, JSON.stringify(synced.data));
    await other.close();

    // The front desk was not touched: the host's events refresh it.
    await waitForDeskSerials(page, [known.serial, late], 'today after a sync made elsewhere');
    await page.locator('[data-testid="zlb-config-status"][data-rejects="2"]').waitFor({ timeout: 10_000 });

    // The rejects, with their reasons.
    await page.click('[data-testid="zlb-rejects-summary"]');
    const items = page.locator('[data-testid="zlb-reject"]');
    await waitFor(async () => (await items.count()) === 2, { timeoutMs: 10_000, what: 'two rejects listed' });
    const reasons = await items.locator('.zlb-reject-reason').allTextContents();
    assert.equal(reasons.filter((r) => r.trim()).length, 2, `each reject says why: ${JSON.stringify(reasons)}`);
    assert.notEqual(reasons[0], reasons[1], 'a wrong ID number and a missing check date are told apart');
    for (const t of await items.allTextContents()) assert.match(t, /\d+ 次 times/, t);
    assertNoFullNumbers(await page.content(), await fullNumbers(w.sandbox), 'the front desk with its rejects');

    // The desk has 浙里办 mark the wrong-ID one received anyway (a second click confirms).
    const broken = (await zlbOrders(w.sandbox)).filter((o) => o.malformed);
    assert.deepEqual(broken.map((o) => o.malformed).sort(), ['bad_idcard', 'no_check_date']);
    const wrongId = broken.find((o) => o.malformed === 'bad_idcard').serialNumber;
    const otherOne = broken.find((o) => o.malformed === 'no_check_date').serialNumber;
    assert.equal((await zlbOrder(w.sandbox, wrongId)).acked, false, 'a reject is not acknowledged');
    const item = page.locator(`[data-testid="zlb-reject"][data-serial="${wrongId}"]`);
    await item.locator('[data-testid="zlb-reject-release"]').click();
    assert.equal((await zlbOrder(w.sandbox, wrongId)).acked, false, 'the first click only asks to confirm');
    await item.locator('[data-testid="zlb-reject-release"]').click();
    await page.locator(`[data-testid="zlb-reject"][data-serial="${wrongId}"][data-released="true"]`).waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('[data-testid="zlb-rejects-message"]').textContent()).trim(), 'the host’s message is shown');
    await waitFor(async () => (await zlbOrder(w.sandbox, wrongId)).acked, { timeoutMs: 10_000, what: `浙里办 to have ${wrongId} acknowledged` });
    assert.equal((await zlbOrder(w.sandbox, otherOne)).acked, false, 'the other reject is left as it is');
    assert.equal(await page.locator(`[data-testid="zlb-reject"][data-serial="${otherOne}"] [data-testid="zlb-reject-release"]`).count(), 1);
    await page.locator('[data-testid="zlb-config-status"][data-rejects="1"]').waitFor({ timeout: 10_000 });
    await shot(page, 'frontdesk-rejects.png');
  });
  test('pending: an arrival 浙里办 cannot take now is kept, shown as pending, and told on the next sync', { timeout: TIMEOUT }, async () => {
    const page = w.page;
    const name = '李待告';
    const [serial] = await addZlbReservations(w.sandbox, [{ checkDate: today, name, cardType: 1 }]);
    const synced = await clickAndSettle(page, 'zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(synced.state, 'ok', synced.text);
    assert.equal(await page.getAttribute('[data-testid="zlb-sync-message"]', 'data-new'), '1', synced.text);
    await page.click('[data-testid="zlb-filter-today"]');
    await page.fill('[data-testid="zlb-query"]', name);
    await waitForDeskSerials(page, [serial], 'today searched for the one to be kept pending');

    // 浙里办's arrival endpoint fails (a gateway error) while the desk marks the arrival.
    const faults = `${w.sandbox.urls.admin}/faults`;
    const armed = await fetch(faults, { method: 'POST', body: JSON.stringify({ platform: 'zheliban', route: '/reservation/sync/arrival', kind: 'status', status: 502, count: 20 }) });
    assert.ok(armed.ok, `arming the fault: ${armed.status} ${await armed.text()}`);
    await page.click(`[data-testid="zlb-row"][data-serial="${serial}"] [data-testid="zlb-arrive"]`);
    const row = page.locator(`[data-testid="zlb-row"][data-serial="${serial}"]`);
    await page.locator(`[data-testid="zlb-row"][data-serial="${serial}"][data-arrival="pending"]`).waitFor({ timeout: 60_000 });
    const [pending] = await deskRows(page);
    assert.match(pending.arrived, new RegExp(`^${today} \\d{2}:\\d{2}`), 'the arrival time is shown');
    assert.ok(!pending.can_arrive, 'no second Arrived button');
    assert.match(await row.locator('[data-testid="zlb-arrival"]').textContent(), /pending: will be told on next sync/);
    assert.equal((await zlbOrder(w.sandbox, serial)).arrived, false, '浙里办 has not got it');
    await page.locator('[data-testid="zlb-config-status"][data-pending-arrivals="1"]').waitFor({ timeout: 10_000 });
    await shot(page, 'frontdesk-pending.png');

    // 浙里办 is back: the next sync tells it, at the time the desk recorded.
    const cleared = await fetch(faults, { method: 'DELETE' });
    assert.ok(cleared.ok, `clearing the faults: ${cleared.status}`);
    const again = await clickAndSettle(page, 'zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(again.state, 'ok', again.text);
    await page.locator(`[data-testid="zlb-row"][data-serial="${serial}"][data-arrival="sent"]`).waitFor({ timeout: 10_000 });
    const told = await zlbOrder(w.sandbox, serial);
    assert.ok(told.arrived, JSON.stringify(told));
    assert.equal(String(told.arriveDate).slice(0, 16), pending.arrived.slice(0, 16), 'told with the time the desk recorded, not the sync’s');
    await page.locator('[data-testid="zlb-config-status"][data-pending-arrivals="0"]').waitFor({ timeout: 10_000 });
  });
});
