// tests/e2e/chromium.test.mjs — the real-browser test in Debian Chromium: dist/chrome
// loaded in a fresh profile with haoyuan-host registered in it (by the real installer)
// and HAOYUAN_HOME pointing at a temporary folder. Drives the popup and options pages:
// connect, add a watch, list it after reopening the popup and after the host process is
// killed and restarted by the extension, refuse a bad form, delete; and, with no host
// registered, show "not installed" with the exact install command — which then works.
//
// Needs `scripts/build.sh` first. Run: node --test tests/e2e/chromium.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  artifactDir,
  CHROME_EXTENSION_ID,
  chinaDate,
  findHostPids,
  hostBinary,
  registerHost,
  registerFakeHostForChromium,
  registerHostForChromium,
  removeDir,
  requireBuilt,
  tempDir,
  tempHome,
  waitFor,
} from './lib/env.mjs';
import {
  extensionUrl,
  fieldError,
  fillWatchForm,
  launchChromium,
  listedWatches,
  openPopup,
  popupStatus,
  waitForState,
} from './lib/chromium.mjs';

const TIMEOUT = 180_000;

function hostVersion() {
  const out = execFileSync(hostBinary(), ['--version']).toString().trim();
  const m = out.match(/(\d+\.\d+\.\d+\S*)/);
  assert.ok(m, `haoyuan-host --version printed ${out}`);
  return m[1];
}

const WATCH = {
  platform: '114yygh',
  target: { hos_code: '1', first_dept_code: '200039542', second_dept_code: '200039602', hos_name: '北京协和医院', dept_name: '眼科' },
  label: 'E2E 协和眼科',
  end: chinaDate(7),
  periods: ['morning'],
  mode: 'notify',
  interval: 30,
};

describe('Chromium with haoyuan-host registered', () => {
  let profile;
  let home;
  let context;

  before(async () => {
    requireBuilt('chrome');
    profile = tempDir('chromium-profile');
    home = tempHome();
    registerHostForChromium(profile);
    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
  });

  after(async () => {
    await context?.close();
    removeDir(profile);
    removeDir(home);
  });

  test('the popup connects, adds a watch, and still lists it after reopening and after a host restart', { timeout: TIMEOUT }, async () => {
    let page = await openPopup(context);
    await waitForState(page, 'connected');
    const status = await popupStatus(page);
    assert.match(status.text, new RegExp(`connected · host ${hostVersion().replace(/\./g, '\\.')}`));
    assert.deepEqual(await listedWatches(page), [], 'a fresh HAOYUAN_HOME has no watches');

    await fillWatchForm(page, WATCH);
    await page.click('#add-watch');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    const added = await listedWatches(page);
    assert.equal(added.length, 1);
    assert.equal(added[0].label, WATCH.label);
    assert.match(added[0].summary, /^114 · 北京协和医院 · 眼科 · /);
    assert.match(added[0].summary, new RegExp(`→ ${WATCH.end}`));
    assert.match(added[0].summary, /上午 · every 30 s · notify/);
    assert.ok(added[0].id, 'the host assigned an id');
    assert.match(await page.locator('#form-message').innerText(), /Added/);
    assert.ok(fs.existsSync(path.join(home, 'haoyuan.sqlite3')), 'the host keeps its data in HAOYUAN_HOME');

    // Close and reopen the popup: the list comes back from the host.
    await page.close();
    page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(await listedWatches(page), added);
    await page.close();

    // Kill the host: the background script notices, reconnects (a new process), and the
    // watch is still there, read back from the database by the new process.
    const before = await waitFor(() => {
      const pids = findHostPids(home);
      return pids.length ? pids : null;
    }, { what: 'the running haoyuan-host' });
    assert.equal(before.length, 1, `one host per browser connection, found ${before}`);
    process.kill(before[0], 'SIGKILL');
    const restarted = await waitFor(() => {
      const pids = findHostPids(home).filter((p) => !before.includes(p));
      return pids.length ? pids : null;
    }, { timeoutMs: 60_000, what: 'the extension to start a new haoyuan-host' });
    assert.ok(!restarted.includes(before[0]));

    page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(await listedWatches(page), added);
    const shots = artifactDir('e2e');
    await page.screenshot({ path: path.join(shots, 'popup-chromium.png'), fullPage: true });
    await page.close();
  });

  test('a bad form shows the field errors and saves nothing', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    const listed = await listedWatches(page);

    // A target date in the past.
    await fillWatchForm(page, { ...WATCH, label: 'past', start: chinaDate(-10), end: chinaDate(-3) });
    await page.click('#add-watch');
    await page.locator('[data-error-for="window.end"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await fieldError(page, 'window.end'), /already passed/);
    assert.equal(await fieldError(page, 'interval.seconds'), '');
    assert.equal(await page.locator('#form-message').innerText(), '');

    // An interval below the platform's floor (114yygh: 15 s).
    await fillWatchForm(page, { start: chinaDate(0), end: chinaDate(5), interval: 5, label: 'too fast' });
    await page.click('#add-watch');
    await page.locator('[data-error-for="interval.seconds"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await fieldError(page, 'interval.seconds'), /at most every 15 seconds/);
    assert.equal(await fieldError(page, 'window.end'), '', 'the earlier error was cleared');
    assert.equal(await page.locator('[data-error-for="interval.seconds"]').evaluate((el) => el.closest('.field').classList.contains('invalid')), true);

    // A required target field left empty.
    await fillWatchForm(page, { interval: 30, target: { hos_code: '' } });
    await page.click('#add-watch');
    await page.locator('[data-error-for="target.hos_code"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await fieldError(page, 'target.hos_code'), /required/);
    await page.close();

    // Nothing reached the host.
    const again = await openPopup(context);
    await waitForState(again, 'connected');
    await again.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(await listedWatches(again), listed);
    await again.close();
  });

  test('the options page shows the data directory and keeps valid base URLs', { timeout: TIMEOUT }, async () => {
    const page = await context.newPage();
    await page.goto(extensionUrl('options.html'));
    await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.locator('#data-dir', { hasText: home }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#data-dir').innerText(), home);
    assert.equal(await page.locator('[data-testid="base-url-114yygh"]').getAttribute('placeholder'), 'https://www.114yygh.com');

    await page.fill('[data-testid="base-url-114yygh"]', 'ftp://127.0.0.1:1');
    await page.click('[data-testid="save-urls"]');
    await page.locator('[data-error-for="base_url.114yygh"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#urls-message').innerText(), /Not saved/);

    await page.fill('[data-testid="base-url-114yygh"]', 'http://127.0.0.1:8114/');
    await page.click('[data-testid="save-urls"]');
    await page.locator('#urls-message', { hasText: 'Saved' }).waitFor({ timeout: 10_000 });
    await page.reload();
    await page.locator('[data-testid="base-url-114yygh"]').waitFor();
    await waitFor(async () => (await page.inputValue('[data-testid="base-url-114yygh"]')) === 'http://127.0.0.1:8114', {
      what: 'the saved base URL after a reload',
    });
    await page.close();
  });

  test('a watch is deleted on the second click and stays deleted', { timeout: TIMEOUT }, async () => {
    let page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    const [first] = await listedWatches(page);
    const item = page.locator(`[data-watch-id="${first.id}"]`);
    await item.locator('[data-testid="watch-delete"]').click();
    assert.equal(await item.count(), 1, 'the first click only asks');
    await item.locator('[data-testid="watch-delete"]').click();
    await item.waitFor({ state: 'detached', timeout: 30_000 });
    await page.close();
    page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('#list-message', { hasText: 'No watches yet' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await listedWatches(page), []);
    await page.close();
  });
});

describe('Chromium without haoyuan-host registered', () => {
  let profile;
  let home;
  let context;

  before(async () => {
    requireBuilt('chrome');
    profile = tempDir('chromium-profile');
    home = tempHome();
    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
  });

  after(async () => {
    await context?.close();
    removeDir(profile);
    removeDir(home);
  });

  test('the popup says "not installed" with the exact install command, which then works', { timeout: TIMEOUT }, async () => {
    let page = await openPopup(context);
    await waitForState(page, 'not_installed');
    const expected = `haoyuan-host install --browser chromium --extension-id ${CHROME_EXTENSION_ID}`;
    assert.equal(await page.locator('[data-testid="install-command"]').innerText(), expected);
    assert.match((await popupStatus(page)).text, /not installed — run:/);
    assert.equal(await page.locator('#add-watch').isDisabled(), true, 'no adding without a host');
    await page.close();

    // Run the command shown (into this profile's folder, as a test cannot use ~/.config):
    // reopening the popup connects without restarting the browser.
    const [, ...args] = expected.split(' ');
    assert.equal(args[0], 'install');
    registerHost({
      browser: args[args.indexOf('--browser') + 1],
      extensionId: args[args.indexOf('--extension-id') + 1],
      dir: path.join(profile, 'NativeMessagingHosts'),
    });
    page = await openPopup(context);
    await waitForState(page, 'connected', 60_000);
    await page.close();
  });
});

describe('Chromium with a host of another protocol major', () => {
  let profile;
  let home;
  let context;
  let log;

  before(async () => {
    requireBuilt('chrome');
    profile = tempDir('chromium-profile');
    home = tempHome();
    log = path.join(home, 'fake-host.log');
    registerFakeHostForChromium(profile);
    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home, FAKE_HOST_PROTOCOL: '2', FAKE_HOST_LOG: log } });
  });

  after(async () => {
    await context?.close();
    removeDir(profile);
    removeDir(home);
  });

  test('the popup shows the version mismatch and sends nothing but hello', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(context);
    await waitForState(page, 'version_mismatch');
    const { text } = await popupStatus(page);
    assert.match(text, /version mismatch: host 2\.0\.0 speaks protocol 2, this extension \(\d+\.\d+\.\d+\) speaks protocol 1 — update the extension/);
    assert.equal(await page.locator('#add-watch').isDisabled(), true);
    assert.deepEqual(await listedWatches(page), []);
    // The popup asked for nothing the host could misread: only hello went out.
    assert.equal(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '', '');
    await page.close();
  });
});
