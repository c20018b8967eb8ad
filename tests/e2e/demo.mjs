// tests/e2e/demo.mjs — the main-job demo driver (run by scripts/demo.sh after setup and
// build; builds nothing itself). Registers haoyuan-host in a fresh Chromium profile,
// opens the extension's popup, adds a watch through the form, reopens the popup to show
// the watch came back from the host, and prints what happened and where the screenshot is.
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
import { fillWatchForm, launchChromium, listedWatches, openPopup, popupStatus, waitForState } from './lib/chromium.mjs';

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
  try {
    const manifest = registerHostForChromium(profile);
    say(`registered ${execFileSync(hostBinary(), ['--version']).toString().trim()} for a fresh Chromium profile (${manifest})`);

    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
    say(`started ${execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n')[0]} with ${rel(distDir('chrome'))} (extension ${CHROME_EXTENSION_ID})`);

    let page = await openPopup(context);
    await waitForState(page, 'connected');
    say(`popup: ${(await popupStatus(page)).text}`);

    const watch = {
      platform: '114yygh',
      target: { hos_code: '1', first_dept_code: '200039542', second_dept_code: '200039602', hos_name: '北京协和医院', dept_name: '眼科门诊' },
      label: '协和眼科 · 一周内上午',
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
    removeDir(profile);
  }
}

main().catch((e) => {
  console.error(`demo: failed — ${e?.stack ?? e}`);
  process.exit(1);
});
