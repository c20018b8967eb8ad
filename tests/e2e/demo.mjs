// tests/e2e/demo.mjs — the main-job demo driver (run by scripts/demo.sh after setup and
// build; builds nothing itself). Starts the sandbox (the five simulated platforms, world
// of tests/sandbox/scenarios/demo.yaml), registers haoyuan-host in a fresh Chromium
// profile, points the extension at the sandbox on its options page, picks a hospital and
// clinic from the sandbox's 114yygh, adds a watch on it through the popup, reopens the
// popup to show the watch came back from the host, and prints what happened and where
// the screenshot is.
//
// The host's data (SQLite database and log) is left in target/demo/home for a look.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  artifactDir,
  CHROME_EXTENSION_ID,
  CHROMIUM,
  chinaDate,
  distDir,
  hostBinary,
  registerHostForChromium,
  removeDir,
  repoRoot,
  requireBuilt,
  tempDir,
} from './lib/env.mjs';
import { extensionUrl, fillWatchForm, launchChromium, listedWatches, openPopup, popupStatus, waitForState } from './lib/chromium.mjs';
import { startSandbox } from './lib/sandbox.mjs';

const rel = (p) => path.relative(repoRoot, p) || '.';
const say = (msg) => console.log(`demo: ${msg}`);

async function main() {
  requireBuilt('chrome');
  const out = artifactDir('demo');
  const home = path.join(out, 'home');
  removeDir(home);
  fs.mkdirSync(home, { recursive: true });
  const profile = tempDir('demo-profile');
  let context;
  let sandbox;
  try {
    sandbox = await startSandbox({ scenario: 'demo.yaml' });
    say(`sandbox: ${Object.entries(sandbox.urls).map(([k, v]) => `${k} ${v}`).join(', ')}`);

    const manifest = registerHostForChromium(profile);
    say(`registered ${execFileSync(hostBinary(), ['--version']).toString().trim()} for a fresh Chromium profile (${manifest})`);

    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
    say(`started ${execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n')[0]} with ${rel(distDir('chrome'))} (extension ${CHROME_EXTENSION_ID})`);

    // Point every platform at the sandbox, as a user does on the options page.
    const options = await context.newPage();
    await options.goto(extensionUrl('options.html'));
    await options.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    for (const [id, url] of Object.entries(sandbox.urls)) {
      if (id !== 'admin') await options.fill(`[data-testid="base-url-${id}"]`, url);
    }
    await options.click('[data-testid="save-urls"]');
    await options.locator('#urls-message', { hasText: /Saved|已保存/ }).waitFor({ timeout: 10_000 });
    say(`options: base URLs point at the sandbox (${(await options.locator('#urls-message').innerText()).trim()})`);
    await options.close();

    // Pick the hospital and its first clinic from the sandbox's 114yygh, as the site lists them.
    const api = (p) => fetch(`${sandbox.urls['114yygh']}${p}`, { headers: { 'Request-Source': 'PC' } }).then((r) => r.json());
    const hospital = (await api('/web/hospital/detail?hosCode=1')).data;
    const dept = (await api('/web/department/hos/list?hosCode=1')).data.list[0];
    const clinic = dept.subList[0];
    say(`114yygh (sandbox): ${hospital.hosName ?? hospital.name ?? '北京协和医院'} releases at ${hospital.openTimeView}, ${hospital.bookingRange} days ahead; clinic ${dept.name} › ${clinic.name}`);

    let page = await openPopup(context);
    await waitForState(page, 'connected');
    say(`popup: ${(await popupStatus(page)).text}`);

    const watch = {
      platform: '114yygh',
      target: { hos_code: '1', first_dept_code: clinic.dept1Code, second_dept_code: clinic.code, hos_name: '北京协和医院', dept_name: clinic.name },
      label: `协和${clinic.name} · 一周内上午`,
      end: chinaDate(7),
      periods: ['morning'],
      mode: 'notify',
      interval: 60,
    };
    await fillWatchForm(page, watch);
    await page.click('#add-watch');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    say(`added a watch through the form: ${(await page.locator('#form-message').innerText()).trim()}`);
    await page.close();

    page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    const listed = await listedWatches(page);
    say(`reopened the popup: ${listed.length} watch(es) listed by the host`);
    for (const w of listed) say(`  • ${w.label} — ${w.summary} (id ${w.id})`);
    const shot = path.join(out, 'popup.png');
    await page.screenshot({ path: shot, fullPage: true });
    say(`host data (SQLite + log): ${rel(home)}`);
    say(`screenshot: ${rel(shot)}`);
  } finally {
    await context?.close();
    sandbox?.stop();
    removeDir(profile);
  }
}

main().catch((e) => {
  console.error(`demo: failed — ${e?.stack ?? e}`);
  process.exit(1);
});
