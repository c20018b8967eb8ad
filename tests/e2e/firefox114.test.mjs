// tests/e2e/firefox114.test.mjs — the 114yygh story in Firefox ESR: the same runtime that
// yygh114.test.mjs drives in Chromium (yygh-runtime.js in the background, the popup's
// sign-in, the 114 page helper registered with scripting.registerContentScripts), here
// in Debian's firefox-esr through geckodriver (lib/webdriver.mjs), with dist/firefox as a
// temporary add-on and the real haoyuan-host registered for Firefox under a temporary HOME.
//
// The sandbox's clock is set before the demo hospital's 08:30 release; the options page
// points 114 at the sandbox; the person signs in to 114 in the popup (the picture code
// is read from the sandbox admin API by the page's `imed_session` cookie, which WebDriver
// reads while a tab is on the sandbox origin; the SMS code from the sandbox inbox); a
// book-mode watch on the release day is added through the popup's form; the test then
// waits for `booked` in the host's history and finds exactly one order in the sandbox.
//
// Needs: scripts/setup.sh (geckodriver, firefox-esr) and scripts/build.sh.
// Run: node --test --test-concurrency=1 tests/e2e/firefox114.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import { HOST_NAME, artifactDir, distDir, hostBinary, removeDir, requireBuilt, tempDir, waitFor } from './lib/env.mjs';
import { Session, findGeckodriver, firefoxPrefs, startGeckodriver } from './lib/webdriver.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { HOSPITAL, MOBILE, firstClinic, setClockBeforeRelease } from './lib/yygh.mjs';

const EXTENSION_DIR = distDir('firefox');
const HOST_BIN = hostBinary();
const FIREFOX_BIN = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';

/** Sets a form field's value as typing would (input + change events). */
const SET_FIELDS = `
  const set = (el, v) => {
    if (el.type === 'radio' || el.type === 'checkbox') el.checked = v;
    else el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  };`;

test('Firefox ESR: 114 signed in through the popup, a book-mode watch books once at the release', { timeout: 300_000 }, async () => {
  requireBuilt('firefox');
  assert.ok(existsSync(FIREFOX_BIN), `${FIREFOX_BIN} is missing: run scripts/setup.sh`);
  assert.ok(findGeckodriver(), 'geckodriver is missing: run scripts/setup.sh');

  const tmp = tempDir('firefox114');
  const home = join(tmp, 'home');
  mkdirSync(home);
  const env = { ...process.env, HOME: home, HAOYUAN_HOME: join(tmp, 'data'), MOZ_HEADLESS: '1' };
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_DATA_HOME;
  const uuid = randomUUID();
  const ext = (p) => `moz-extension://${uuid}/${p}`;
  let sandbox;
  let gecko;
  let session;

  try {
    // 1. The sandbox, its clock a while before the release (moved closer after sign-in).
    sandbox = await startSandbox({ scenario: 'demo.yaml' });
    const base = sandbox.urls['114yygh'];
    const { releaseServerMs, targetDate } = await setClockBeforeRelease(sandbox, { secondsToRelease: 600 });

    // 2. Firefox with the add-on, the host registered for it under the temporary HOME.
    execFileSync(HOST_BIN, ['install', '--browser', 'firefox'], { env, encoding: 'utf8', stdio: 'pipe' });
    assert.ok(existsSync(join(home, '.mozilla', 'native-messaging-hosts', `${HOST_NAME}.json`)));
    gecko = await startGeckodriver({ env, args: ['--allow-system-access', '--profile-root', tmp] });
    session = await Session.create(gecko.url, {
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: FIREFOX_BIN, args: ['-headless'], prefs: firefoxPrefs(uuid) },
    });
    await session.installAddon(EXTENSION_DIR, { temporary: true });
    await session.cmd('POST', '/window/rect', { width: 480, height: 1400 }, 'set window rect');

    // 3. Options page: the add-on may reach the sandbox (host permission), 114 → the sandbox.
    await session.navigate(ext('options.html'));
    const granted = await session.executeAsync(
      `const done = arguments[arguments.length - 1];
       browser.permissions.contains({ origins: ['http://127.0.0.1/*'] }).then(done, (e) => done('error: ' + e));`,
    );
    assert.equal(granted, true, 'the add-on holds its host permission for http://127.0.0.1/*');
    await waitFor(async () => (await session.execute('return document.querySelector("#host-status").dataset.state')) === 'connected', {
      what: 'the options page to report the host connected',
    });
    await session.execute(
      `${SET_FIELDS}
       set(document.querySelector('[data-testid="base-url-114yygh"]'), arguments[0]);
       document.querySelector('[data-testid="save-urls"]').click();`,
      [base],
    );
    await waitFor(async () => /Saved|已保存/.test(await session.execute('return document.querySelector("#urls-message").textContent')), {
      what: 'the base URLs saved',
    });

    // 4. The popup: sign in to 114 with the picture code and the SMS code.
    await session.navigate(ext('popup.html'));
    const loginState = () => session.execute('return document.querySelector(\'[data-testid="yygh-login-status"]\').dataset.state');
    await waitFor(async () => (await loginState()) !== 'checking', { what: 'the 114 session checked' });
    assert.equal(await loginState(), 'signed_out', 'a fresh profile is not signed in');
    const popupHandle = await session.cmd('GET', '/window', undefined, 'window handle');
    await session.execute(`${SET_FIELDS} set(document.querySelector('[data-testid="yygh-phone"]'), arguments[0]);`, [MOBILE]);
    await session.click(await session.find('[data-testid="yygh-start"]'));
    await waitFor(
      async () => session.execute('return !document.querySelector(\'[data-testid="yygh-captcha-form"]\').hidden && document.querySelector(\'[data-testid="yygh-captcha-img"]\').src.startsWith("data:")'),
      { what: 'the picture code shown' },
    ).catch(async (e) => {
      throw new Error(`${e.message}; the panel says: ${await session.execute('return document.querySelector(\'[data-testid="yygh-login-status"]\').textContent + " | " + document.querySelector(\'[data-testid="yygh-login-note"]\').textContent')}`);
    });
    // The browser's 114 session cookie, as WebDriver sees it on a page of the sandbox's origin.
    const { handle: siteHandle } = await session.cmd('POST', '/window/new', { type: 'tab' }, 'new tab');
    await session.cmd('POST', '/window', { handle: siteHandle }, 'switch to the 114 tab');
    await session.navigate(`${base}/`);
    const cookies = await session.cmd('GET', '/cookie', undefined, 'get cookies');
    const imed = cookies.find((c) => c.name === 'imed_session')?.value;
    assert.ok(imed, `the 114 session cookie is in the browser: ${JSON.stringify(cookies)}`);
    await session.cmd('DELETE', '/window', undefined, 'close the 114 tab');
    await session.cmd('POST', '/window', { handle: popupHandle }, 'back to the popup');
    const answers = await sandbox.admin('/captcha?platform=114yygh');
    assert.ok(answers[imed] !== undefined, `a picture code was issued to this session: ${JSON.stringify(answers)}`);
    await session.execute(`${SET_FIELDS} set(document.querySelector('[data-testid="yygh-captcha-input"]'), arguments[0]);`, [String(answers[imed])]);
    await session.click(await session.find('[data-testid="yygh-captcha-submit"]'));
    await waitFor(async () => session.execute('return !document.querySelector(\'[data-testid="yygh-sms-form"]\').hidden'), {
      what: 'the SMS code asked for',
    });
    const sms = await waitFor(async () => (await sandbox.admin(`/inbox?phone=${MOBILE}`)).filter((m) => m.platform === '114yygh').at(-1), {
      what: 'the login SMS',
    });
    await session.execute(`${SET_FIELDS} set(document.querySelector('[data-testid="yygh-sms-input"]'), arguments[0]);`, [sms.code]);
    await session.click(await session.find('[data-testid="yygh-sms-submit"]'));
    await waitFor(async () => (await loginState()) === 'signed_in', { what: 'signed in to 114' }).catch(async (e) => {
      throw new Error(`${e.message}; the panel says: ${await session.execute('return document.querySelector(\'[data-testid="yygh-login-status"]\').textContent')}`);
    });

    // The 114 page helper is registered for the sandbox's origin (scripting.registerContentScripts).
    const scripts = await waitFor(
      async () => {
        const got = await session.executeAsync(
          'const done = arguments[arguments.length - 1]; browser.scripting.getRegisteredContentScripts({ ids: ["yygh-page"] }).then(done, (e) => done(String(e)));',
        );
        return Array.isArray(got) && got[0]?.matches?.[0] === `${new URL(base).origin}/*` && got;
      },
      { what: 'the 114 page helper registered for the sandbox' },
    );
    assert.deepEqual(scripts[0].js, ['http-exec.js', 'content-114.js']);

    // 5. The release comes closer; a book-mode watch on the day it opens, through the form.
    const closer = releaseServerMs - 20_000 - (await sandbox.admin('/clock')).now_ms;
    if (closer > 0) await sandbox.admin('/clock', { advance_ms: closer, skew_ms: 0 });
    const clinic = await firstClinic({ base });
    const label = `Firefox 放号日 ${uuid.slice(0, 8)}`;
    await session.execute(
      `${SET_FIELDS}
       const [label, date, target] = arguments;
       set(document.querySelector('#platform'), '114yygh');
       for (const [name, value] of Object.entries(target)) set(document.querySelector('[name="target.' + name + '"]'), value);
       set(document.querySelector('#label'), label);
       set(document.querySelector('#start'), date);
       set(document.querySelector('#end'), date);
       set(document.querySelector('input[name="mode"][value="book"]'), true);
       set(document.querySelector('#interval'), '30');`,
      [label, targetDate, { hos_code: HOSPITAL.code, first_dept_code: clinic.first, second_dept_code: clinic.second, hos_name: HOSPITAL.name, dept_name: clinic.name }],
    );
    await session.click(await session.find('[data-testid="add-watch"]'));
    const watchId = await waitFor(
      async () => session.execute('const li = [...document.querySelectorAll(\'[data-testid="watch-item"]\')].find((li) => li.textContent.includes(arguments[0])); return li ? li.dataset.watchId : null;', [label]),
      { what: 'the watch listed' },
    );
    const hostRequest = (cmd, params) =>
      session.executeAsync(
        `const [cmd, params] = arguments; const done = arguments[arguments.length - 1];
         browser.runtime.sendMessage({ type: 'host.request', cmd, params }).then(done, (e) => done({ ok: false, error: { message: String(e) } }));`,
        [cmd, params],
      );
    const watch = await hostRequest('watch_get', { id: watchId });
    assert.ok(watch.ok, JSON.stringify(watch));
    assert.equal(watch.data.mode, 'book');
    assert.deepEqual([watch.data.window.start, watch.data.window.end], [targetDate, targetDate]);

    // 6. The release: the runtime in Firefox's background books, once.
    const history = async () => {
      const r = await hostRequest('history_list', { watch_id: watchId, limit: 200 });
      assert.ok(r.ok, JSON.stringify(r));
      return [...r.data.events].reverse();
    };
    const booked = await waitFor(async () => (await history()).find((e) => e.kind === 'booked'), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the booked event',
    }).catch(async (e) => {
      const kinds = (await history()).map((ev) => `${ev.kind}: ${ev.message}`).join('\n  ');
      const state = await session.executeAsync('const done = arguments[arguments.length - 1]; browser.runtime.sendMessage({ type: "yygh.state" }).then(done, (e) => done(String(e)));');
      throw new Error(`${e.message}; history:\n  ${kinds}\nruntime: ${JSON.stringify(state)}`);
    });
    assert.ok(booked.data.order_no, JSON.stringify(booked.data));
    const kinds = (await history()).map((e) => e.kind);
    for (const k of ['slot_seen', 'booking_submitted', 'booked']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    const orders = await sandbox.admin('/orders?platform=114yygh');
    assert.equal(orders.length, 1, JSON.stringify(orders));
    assert.equal(orders[0].orderNo ?? orders[0].order_no, booked.data.order_no);
    const intent = await hostRequest('booking_get', { watch_id: watchId });
    assert.equal(intent.data.intent.state, 'booked');
    // The polls were sent by the browser with its 114 session (the sandbox saw the cookie).
    const polls = (await sandbox.admin('/requests?platform=114yygh&limit=20000')).filter((r) => r.path.startsWith('/web/product/'));
    assert.ok(polls.length >= 1 && polls.every((r) => r.session), `polls with the session cookie: ${JSON.stringify(polls.slice(0, 3))}`);
    assert.ok(polls.some((r) => String(r.origin ?? '').startsWith('moz-extension://')), `polls from the add-on: ${JSON.stringify(polls.slice(0, 3))}`);

    writeFileSync(join(artifactDir('e2e'), 'yygh114-firefox-booked.png'), await session.screenshot());
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
