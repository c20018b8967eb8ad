// tests/e2e/firefox-frontdesk.test.mjs — the 浙里办 front desk (frontdesk.html) in Firefox
// ESR: the core of frontdesk.test.mjs (Chromium) in Debian's firefox-esr, driven headless
// through geckodriver (lib/webdriver.mjs), with dist/firefox as a temporary add-on and the
// real haoyuan-host registered for Firefox under a temporary HOME, against the sandbox's
// 浙里办 (tests/sandbox/scenarios/zheliban-defaults.yaml: 12 new reservations, none today).
//
// One case, typed as a person would (WebDriver key input):
//   - settings: a wrong AES key on "Test connection" is refused; once the host's own first
//     round (which starts as soon as there are settings) has failed with it and backed off,
//     the right key is saved ("Save", apikey and secret left blank so kept) and "Test
//     connection" succeeds;
//   - "Sync now" brings the 12 (12 new); the sandbox adds one for today (Beijing); "Sync
//     now" brings it (1 new); "Today" plus a search by the name shows that one row, its ID
//     masked, no full ID number anywhere in the page;
//   - "Arrived" shows the arrival time in the row (told to 浙里办 at once) and the sandbox's
//     order listing has `arrived: true` for that serial, and for no other.
// Screenshot: target/e2e/frontdesk-firefox.png.
//
// Needs: scripts/setup.sh (geckodriver, firefox-esr) and scripts/build.sh.
// Run: node --test --test-concurrency=1 tests/e2e/firefox-frontdesk.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { FIREFOX_ADDON_ID, HOST_NAME, artifactDir, chinaDate, distDir, hostBinary, removeDir, requireBuilt, tempDir, waitFor } from './lib/env.mjs';
import { Session, findGeckodriver, firefoxPrefs, startGeckodriver } from './lib/webdriver.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { ZLB, addZlbReservations, sessionDeskRows, waitForDeskSerials, zlbOrder, zlbOrders, zlbTokenRequests } from './lib/zlb.mjs';

const EXTENSION_DIR = distDir('firefox');
const HOST_BIN = hostBinary();
const FIREFOX_BIN = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';
/** Longer than the test: no round of the host's own comes between the test's syncs. */
const INTERVAL_S = 3600;
const ARRIVING = '钱到检';

const testid = (id) => `[data-testid="${id}"]`;

test('Firefox ESR: 浙里办 front desk — settings, sync, today’s one found by name with its ID masked, marked arrived and told to 浙里办', { timeout: 300_000 }, async () => {
  requireBuilt('firefox');
  assert.ok(existsSync(FIREFOX_BIN), `${FIREFOX_BIN} is missing: run scripts/setup.sh`);
  assert.ok(findGeckodriver(), 'geckodriver is missing: run scripts/setup.sh');

  const tmp = tempDir('firefox-frontdesk');
  const home = join(tmp, 'home');
  mkdirSync(home);
  const env = { ...process.env, HOME: home, HAOYUAN_HOME: join(tmp, 'data'), MOZ_HEADLESS: '1' };
  delete env.XDG_CONFIG_HOME; // Firefox must look for the registration under our HOME
  delete env.XDG_DATA_HOME;
  const uuid = randomUUID();
  const today = chinaDate(0);
  let sandbox;
  let gecko;
  let session;

  try {
    sandbox = await startSandbox({ scenario: 'zheliban-defaults.yaml' });
    assert.ok(sandbox.urls.zheliban, `the sandbox serves zheliban: ${JSON.stringify(sandbox.urls)}`);
    const generated = (await zlbOrders(sandbox)).map((o) => o.serialNumber);
    assert.equal(generated.length, 12);

    // Firefox with the add-on, the host registered for it under the temporary HOME.
    execFileSync(HOST_BIN, ['install', '--browser', 'firefox'], { env, encoding: 'utf8', stdio: 'pipe' });
    assert.ok(existsSync(join(home, '.mozilla', 'native-messaging-hosts', `${HOST_NAME}.json`)));
    gecko = await startGeckodriver({ env, args: ['--allow-system-access', '--profile-root', tmp] });
    session = await Session.create(gecko.url, {
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: FIREFOX_BIN, args: ['-headless'], prefs: firefoxPrefs(uuid) },
    });
    assert.equal(await session.installAddon(EXTENSION_DIR, { temporary: true }), FIREFOX_ADDON_ID);
    await session.cmd('POST', '/window/rect', { width: 1280, height: 1400 }, 'set window rect'); // the table's width

    const attr = (sel, name) => session.execute('const el = document.querySelector(arguments[0]); return el && el.getAttribute(arguments[1]);', [sel, name]);
    const text = (sel) => session.execute('const el = document.querySelector(arguments[0]); return el ? el.textContent.trim() : null;', [sel]);
    const click = async (sel) => session.click(await session.find(sel));
    const type = async (id, value) => session.type(await session.find(testid(id)), value);
    /** Clicks a button and waits for `result`'s data-state to leave `busy`: {state, text}. */
    const clickAndSettle = async (button, result, busy) => {
      await click(testid(button));
      const state = await waitFor(async () => {
        const s = await attr(testid(result), 'data-state');
        return s && s !== busy && s;
      }, { timeoutMs: 60_000, what: `${result} after ${button}` });
      return { state, text: await text(testid(result)) };
    };
    const rows = (s) => sessionDeskRows(s);

    // 1. The front desk, connected to the host, not set up yet.
    await session.navigate(`moz-extension://${uuid}/frontdesk.html`);
    await waitFor(async () => (await attr('#host-status', 'data-state')) === 'connected', { what: 'the front desk to report the host connected' })
      .catch(async (e) => assert.fail(`${e.message}; status shows: ${await text('#host-status')}`));
    await waitFor(async () => (await attr(testid('zlb-config-status'), 'data-configured')) === 'false', { what: 'the status line to say not set up' });
    assert.match(await text(testid('zlb-config-status')), /Not set up yet/);

    // 2. Settings: a wrong AES key is refused by "Test connection" (which saves first).
    await type('zlb-base-url', sandbox.urls.zheliban);
    await type('zlb-apikey', ZLB.apikey);
    await type('zlb-secret', ZLB.secret);
    await type('zlb-aes-key', 'ZLB-wrong-key-00');
    await type('zlb-interval', String(INTERVAL_S));
    const bad = await clickAndSettle('zlb-test', 'zlb-test-result', 'testing');
    assert.equal(bad.state, 'error', bad.text);
    assert.match(bad.text, /Connection failed/);
    // The host's timed round starts once there are settings: let it fail with the wrong key
    // (and back off for at least the interval) so that the 12 come with the test's sync.
    await waitFor(async () => (await zlbTokenRequests(sandbox)) >= 2, {
      timeoutMs: 20_000,
      what: 'the host’s own first sync round (a second token request, after the test’s)',
    });

    // The right key, by "Save" (apikey and secret blank: kept), then "Test connection".
    for (const id of ['zlb-apikey', 'zlb-secret', 'zlb-aes-key']) {
      assert.equal(await session.execute('return document.querySelector(arguments[0]).value', [testid(id)]), '', `${id} is cleared once saved`);
    }
    await type('zlb-aes-key', ZLB.aesKey);
    await click(testid('zlb-save'));
    await waitFor(async () => /Saved/.test(await text(testid('zlb-settings-message'))), { what: 'the settings saved' })
      .catch(async (e) => assert.fail(`${e.message}; the form says: ${await text(testid('zlb-settings-message'))} ${await text(testid('zlb-settings-error'))}`));
    const good = await clickAndSettle('zlb-test', 'zlb-test-result', 'testing');
    assert.equal(good.state, 'ok', good.text);
    assert.match(good.text, /^连接成功 OK — \S/);
    await waitFor(async () => (await attr(testid('zlb-config-status'), 'data-configured')) === 'true', { what: 'the status line to show the settings' });
    const html0 = await session.execute('return document.documentElement.outerHTML');
    for (const secret of [ZLB.apikey, ZLB.secret, ZLB.aesKey]) assert.ok(!html0.includes(secret), `the page does not show ${secret}`);

    // 3. "Sync now" brings the 12; "Today" has none of them.
    const first = await clickAndSettle('zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(first.state, 'ok', first.text);
    assert.equal(await attr(testid('zlb-sync-message'), 'data-new'), '12', first.text);
    await click(testid('zlb-filter-all'));
    await waitForDeskSerials(session, generated, 'all after the first sync', rows);
    await click(testid('zlb-filter-today'));
    await waitForDeskSerials(session, [], 'today before one is added', rows);
    assert.equal(await attr(testid('zlb-count'), 'data-today'), today, 'the host’s today is Beijing’s');

    // 4. 浙里办 gets one for today; the next sync brings it.
    const [serial] = await addZlbReservations(sandbox, [{ checkDate: today, name: ARRIVING, cardType: 1 }]);
    assert.ok(serial, 'the sandbox added the reservation');
    const fullId = (await zlbOrder(sandbox, serial)).record.idcard;
    assert.match(fullId, /^\d{17}[\dX]$/);
    const second = await clickAndSettle('zlb-sync', 'zlb-sync-message', 'syncing');
    assert.equal(second.state, 'ok', second.text);
    assert.equal(await attr(testid('zlb-sync-message'), 'data-new'), '1', second.text);

    // 5. Today + a search by the name: that one row, its ID masked.
    await click(testid('zlb-filter-today'));
    assert.equal(await attr(testid('zlb-filter-today'), 'aria-pressed'), 'true');
    await type('zlb-query', ARRIVING);
    let [row] = await waitForDeskSerials(session, [serial], 'today searched by name', rows);
    assert.equal(row.name, ARRIVING);
    assert.equal(row.check_date, today);
    assert.notEqual(row.id, fullId);
    assert.ok(row.id.includes('*') && row.id.startsWith(fullId.slice(0, 3)) && row.id.endsWith(fullId.slice(-4)), `masked: ${row.id}`);
    assert.ok(row.can_arrive && !row.arrived, 'not arrived yet, with its Arrived button');
    const fullIds = (await zlbOrders(sandbox)).map((o) => o.record?.idcard).filter(Boolean);
    const html = await session.execute('return document.documentElement.outerHTML');
    for (const id of fullIds) assert.ok(!html.includes(id), `the page shows the full ID number ${id}`);
    assert.doesNotMatch(html, /(?<![\dA-Za-z])\d{17}[\dX](?![\dA-Za-z])/, 'no 18-character ID number in the page');

    // 6. "Arrived": the time in the row, told to 浙里办 at once.
    await click(`${testid('zlb-row')}[data-serial="${serial}"] ${testid('zlb-arrive')}`);
    await waitFor(async () => (await rows(session))[0]?.arrived, { what: 'the arrival time in the row' })
      .catch(async (e) => assert.fail(`${e.message}; the desk says: ${await text(testid('zlb-list-message'))}`));
    [row] = await rows(session);
    assert.equal(row.serial, serial);
    assert.match(row.arrived, new RegExp(`^${today} \\d{2}:\\d{2}(:\\d{2})?$`), `the arrival time: ${row.arrived}`);
    assert.equal(row.arrival, 'sent', 'told to 浙里办 at once');
    assert.ok(!row.can_arrive, 'no second Arrived button');
    assert.match(await text(testid('zlb-list-message')), new RegExp(`^${ARRIVING} — \\S`), 'the host’s message is shown');
    const screenshot = join(artifactDir('e2e'), 'frontdesk-firefox.png');
    writeFileSync(screenshot, await session.screenshot());
    console.log(`screenshot: ${screenshot}`);

    // 浙里办 (the sandbox) recorded it for that serial, and only that one.
    const told = await waitFor(async () => {
      const o = await zlbOrder(sandbox, serial);
      return o.arrived === true && o;
    }, { timeoutMs: 10_000, what: `the sandbox to record the arrival of ${serial}` });
    assert.ok(String(told.arriveDate).startsWith(today), `arriveDate ${told.arriveDate}`);
    assert.equal(String(told.arriveDate).slice(0, 16), row.arrived.slice(0, 16), 'the platform has the time the desk shows');
    const others = (await zlbOrders(sandbox)).filter((o) => o.serialNumber !== serial && o.arrived);
    assert.deepEqual(others.map((o) => o.serialNumber), [], 'no other arrival was told');
  } catch (e) {
    if (gecko) e.message += `\n--- geckodriver/firefox log (tail) ---\n${gecko.log().slice(-4000)}`;
    throw e;
  } finally {
    if (session) await session.delete();
    if (gecko) await gecko.stop();
    sandbox?.stop();
    removeDir(tmp);
  }
});
