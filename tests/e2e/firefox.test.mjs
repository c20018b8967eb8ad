// tests/e2e/firefox.test.mjs — the real-browser smoke test in Firefox ESR.
//
// Debian's firefox-esr, driven headless through geckodriver (WebDriver over plain fetch,
// lib/webdriver.mjs), loads dist/firefox as a temporary add-on. The native host is
// registered for Firefox with `haoyuan-host install --browser firefox` under a temporary
// HOME, and keeps its store in a temporary HAOYUAN_HOME (Firefox, and so the host it
// launches, inherits both). A watch is seeded by speaking raw frames to the host; the
// popup must then show "connected" with the host's version and list that watch. A second
// watch is then added through the popup's form, and must reach the host's store.
// Screenshot: target/e2e/popup-firefox.png.
//
// Needs: scripts/setup.sh (geckodriver, firefox-esr) and scripts/build.sh (dist/firefox,
// target/debug/haoyuan-host).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

import {
  FIREFOX_ADDON_ID as ADDON_ID,
  HOST_NAME,
  artifactDir,
  chinaDate,
  distDir,
  hostBinary,
  removeDir,
  requireBuilt,
  tempDir,
  waitFor,
} from './lib/env.mjs';
import { Session, findGeckodriver, firefoxPrefs, startGeckodriver } from './lib/webdriver.mjs';
import { startHost } from './lib/host-frames.mjs';

const EXTENSION_DIR = distDir('firefox');
const HOST_BIN = hostBinary();
const FIREFOX_BIN = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';

/** The version `haoyuan-host --version` prints ("haoyuan-host 0.1.0" → "0.1.0"). */
function hostVersion() {
  const out = execFileSync(HOST_BIN, ['--version'], { encoding: 'utf8' }).trim();
  const version = out.split(/\s+/).pop();
  assert.match(version, /^\d+\.\d+\.\d+/, `unexpected --version output: ${out}`);
  return version;
}

test('Firefox ESR: the popup connects to the native host, lists its watch and adds one', { timeout: 240_000 }, async () => {
  // Missing prerequisites are failures, not skips: the README's test command sets them up.
  requireBuilt('firefox');
  assert.ok(existsSync(FIREFOX_BIN), `${FIREFOX_BIN} is missing: run scripts/setup.sh`);
  assert.ok(findGeckodriver(), 'geckodriver is missing: run scripts/setup.sh');
  const manifest = JSON.parse(readFileSync(join(EXTENSION_DIR, 'manifest.json'), 'utf8'));
  assert.equal(manifest.browser_specific_settings?.gecko?.id, ADDON_ID, 'dist/firefox is not the Firefox build');

  const version = hostVersion();
  const tmp = tempDir('firefox');
  const home = join(tmp, 'home');
  const dataDir = join(tmp, 'data');
  mkdirSync(home);
  const env = { ...process.env, HOME: home, HAOYUAN_HOME: dataDir, MOZ_HEADLESS: '1' };
  delete env.XDG_CONFIG_HOME; // Firefox must look for the registration under our HOME
  delete env.XDG_DATA_HOME;
  const uuid = randomUUID();
  let gecko;
  let session;
  let seeder;

  try {
    // 1. Register the host for Firefox, as a user would, under the temporary HOME.
    execFileSync(HOST_BIN, ['install', '--browser', 'firefox'], { env, encoding: 'utf8', stdio: 'pipe' });
    const regPath = join(home, '.mozilla', 'native-messaging-hosts', `${HOST_NAME}.json`);
    assert.ok(existsSync(regPath), `install --browser firefox did not write ${regPath}`);
    const reg = JSON.parse(readFileSync(regPath, 'utf8'));
    assert.equal(reg.name, HOST_NAME);
    assert.deepEqual(reg.allowed_extensions, [ADDON_ID]);

    // 2. Seed a watch straight into the host's store, with raw frames.
    const label = `Firefox 冒烟 ${uuid.slice(0, 8)}`;
    seeder = startHost(HOST_BIN, { env });
    const hello = await seeder.request('hello');
    assert.equal(hello.ok, true, JSON.stringify(hello));
    const put = await seeder.request('watch_put', {
      watch: {
        label,
        target: { platform: '114yygh', hos_code: '1', first_dept_code: '200039524', second_dept_code: '200039608' },
        window: { start: chinaDate(0), end: chinaDate(6) },
        mode: 'notify',
        interval: { seconds: 60 },
      },
    });
    assert.equal(put.ok, true, `watch_put failed: ${JSON.stringify(put)}`);
    const seededId = put.data.id;
    assert.equal(await seeder.close(), 0, `the seeding host did not exit 0: ${seeder.stderr()}`);
    seeder = null;

    // 3. Firefox ESR, headless, fresh profile under our temp dir, the add-on installed temporarily.
    //    --allow-system-access: Firefox 153+ refuses WebDriver navigation to moz-extension:// without it.
    gecko = await startGeckodriver({ env, args: ['--allow-system-access', '--profile-root', tmp] });
    session = await Session.create(gecko.url, {
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: FIREFOX_BIN, args: ['-headless'], prefs: firefoxPrefs(uuid) },
    });
    const installedId = await session.installAddon(EXTENSION_DIR, { temporary: true });
    assert.equal(installedId, ADDON_ID);
    await session.cmd('POST', '/window/rect', { width: 480, height: 1400 }, 'set window rect');

    // 4. The popup: connected, with the host's version, listing the seeded watch.
    await session.navigate(`moz-extension://${uuid}/popup.html`);
    const statusEl = await session.find('[data-testid="host-status"]');
    const state = () => session.execute('return document.querySelector(\'[data-testid="host-status"]\').dataset.state');
    await waitFor(async () => (await state()) === 'connected', {
      timeoutMs: 30_000,
      what: 'the popup to report the host connected',
    }).catch(async (e) => {
      throw new Error(`${e.message}; status shows: ${await session.text(statusEl)} (state ${await state()})`);
    });
    const statusText = await session.text(statusEl);
    assert.match(statusText, /connected/i);
    assert.ok(statusText.includes(version), `status "${statusText}" does not show host version ${version}`);

    const labels = async () =>
      session.execute(
        'return [...document.querySelectorAll(\'[data-testid="watch-item"]\')].map((li) => [li.dataset.watchId, li.querySelector(\'[data-testid="watch-label"]\').textContent])',
      );
    const listed = await waitFor(async () => (await labels()).length > 0 && labels(), {
      what: 'the watch list to fill',
    });
    assert.deepEqual(listed, [[seededId, label]], 'the popup must list exactly the seeded watch');

    // 5. Add a second watch through the popup's form; it must appear in the list.
    const label2 = `Firefox 表单 ${uuid.slice(9, 13)}`;
    await session.execute(
      `const [label, end] = arguments;
       const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true })); };
       const platform = document.querySelector('#platform');
       set(platform, '114yygh');
       const values = { hos_code: '1', first_dept_code: '200039524', second_dept_code: '200039608', hos_name: '北京协和医院', dept_name: '眼科' };
       for (const input of document.querySelectorAll('[data-target-field]')) set(input, values[input.dataset.targetField] ?? '');
       set(document.querySelector('#label'), label);
       set(document.querySelector('#end'), end);`,
      [label2, chinaDate(5)],
    );
    await session.click(await session.find('[data-testid="add-watch"]'));
    const afterAdd = await waitFor(async () => (await labels()).length === 2 && labels(), {
      what: 'the added watch to be listed',
    }).catch(async (e) => {
      const formError = await session.execute('return document.querySelector(\'[data-testid="form-error"]\').textContent + " " + [...document.querySelectorAll(".field-error")].map((p) => p.textContent).join(" ")');
      throw new Error(`${e.message}; form says: ${formError}`);
    });
    assert.deepEqual(afterAdd.map(([, l]) => l).sort(), [label, label2].sort());

    await session.execute('window.scrollTo(0, 0)');
    const screenshot = join(artifactDir('e2e'), 'popup-firefox.png');
    writeFileSync(screenshot, await session.screenshot());
    console.log(`screenshot: ${screenshot}`);

    await session.delete();
    session = null;
    await gecko.stop();
    gecko = null;

    // 6. The watch added in Firefox is in the host's store (read by a new host process).
    seeder = startHost(HOST_BIN, { env });
    const list = await seeder.request('watch_list');
    assert.equal(list.ok, true, JSON.stringify(list));
    assert.deepEqual(list.data.watches.map((w) => w.label).sort(), [label, label2].sort());
    assert.equal(await seeder.close(), 0);
    seeder = null;
  } catch (e) {
    if (gecko) e.message += `\n--- geckodriver/firefox log (tail) ---\n${gecko.log().slice(-4000)}`;
    throw e;
  } finally {
    if (seeder) seeder.kill();
    if (session) await session.delete();
    if (gecko) await gecko.stop();
    removeDir(tmp);
  }
});
