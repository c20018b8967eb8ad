// tests/e2e/demo.mjs — the main-job demo driver (run by scripts/demo.sh after setup and
// build; builds nothing itself). The 114yygh story, headless, against the sandbox:
//
//   1. the sandbox (tests/sandbox/scenarios/demo.yaml) with its clock set 30 s before
//      北京协和医院's daily 08:30 release (server time), a real SMTP server on 127.0.0.1,
//      Debian Chromium with the extension and haoyuan-host registered in a fresh profile;
//   2. the options page points every platform at the sandbox and email at the SMTP server;
//   3. the popup signs in to 114 (the picture code and the SMS code are read from the
//      sandbox's admin API, as a person reads them) and adds a book-mode watch for the
//      release day;
//   4. the extension polls with the browser's cookies, bursts around the release on the
//      server's clock, decodes the obfuscated numbers, records its intent in the host,
//      orders, checks the order, and the host emails the result;
//   5. prints a timeline (release → detected → order submitted → order confirmed → email
//      received) and the screenshot paths.
//
// The host's data (SQLite database and log) is left in target/demo/home for a look.

import fs from 'node:fs';
import path from 'node:path';
import { artifactDir, removeDir, repoRoot, waitFor } from './lib/env.mjs';
import { openPopup } from './lib/chromium.mjs';
import { addWatch, history, signIn, siteOrders, siteRequests, startWorld, stopWorld, waitForEvent } from './lib/yygh.mjs';

const rel = (p) => path.relative(repoRoot, p) || '.';
const say = (msg) => console.log(`demo: ${msg}`);
const hms = (ms) => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 23);

async function main() {
  const out = artifactDir('demo');
  const home = path.join(out, 'home');
  removeDir(home);
  fs.mkdirSync(home, { recursive: true });
  const w = await startWorld({ secondsToRelease: 30, home });
  try {
    say(`sandbox: ${Object.entries(w.sandbox.urls).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    say(`sandbox clock: 北京协和医院 releases ${w.targetDate} at 08:30 Beijing time, 30 s from now (server clock)`);
    say(`SMTP server (aiosmtpd) on 127.0.0.1:${w.smtp.port}; options page: base URLs → sandbox, email → that server`);

    const page = await signIn(w);
    say(`popup: ${(await page.locator('[data-testid="yygh-login-status"]').innerText()).trim()} (picture + SMS codes read from the sandbox)`);
    const watch = await addWatch(w, page, { mode: 'book', label: `协和 · ${w.targetDate} 放号即约` });
    say(`watch added: ${watch.label} (mode book, id ${watch.id})`);
    const shots = [path.join(out, 'popup-before.png'), path.join(out, 'popup-booked.png')];
    await page.screenshot({ path: shots[0], fullPage: true });

    say('waiting for the release…');
    const booked = await waitForEvent(page, watch.id, 'booked', { timeoutMs: 120_000 });
    const mail = await waitFor(() => w.smtp.received().find((m) => JSON.stringify(m).includes(booked.data.order_no)), { timeoutMs: 30_000, what: 'the email' });

    const events = await history(page, watch.id);
    const at = (kind) => events.find((e) => e.kind === kind)?.at;
    const local = (serverMs) => serverMs - w.serverOffsetMs;
    const firstAfter = (await siteRequests(w)).find((r) => r.at >= w.releaseServerMs);
    const rows = [
      ['release (sandbox, 08:30 server time)', local(w.releaseServerMs)],
      ['first poll after the release', firstAfter && local(firstAfter.at)],
      ['slot detected (slot_seen)', at('slot_seen')],
      ['order submitted (intent recorded)', at('booking_submitted')],
      ['order confirmed (booked)', at('booked')],
      ['email received by the SMTP server', mail.received_at],
    ];
    console.log('\ntimeline (Beijing time, local clock; Δ from the release):');
    for (const [what, ms] of rows) {
      if (!ms) continue;
      console.log(`  ${hms(ms)}  +${String(ms - rows[0][1]).padStart(5)} ms  ${what}`);
    }
    console.log('');
    say(`host event: ${booked.message}`);
    say(`email: “${mail.subject ?? ''}” to ${(mail.rcpt_tos ?? mail.to ?? []).join?.(', ') ?? ''}`);
    say(`sandbox orders for 114yygh: ${(await siteOrders(w)).length}`);

    const p2 = await openPopup(w.context);
    await p2.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    await p2.screenshot({ path: shots[1], fullPage: true });
    say(`host data (SQLite + log): ${rel(home)}`);
    say(`screenshots: ${shots.map(rel).join(', ')}`);
  } finally {
    await stopWorld(w);
  }
}

main().catch((e) => {
  console.error(`demo: failed — ${e?.stack ?? e}`);
  process.exit(1);
});
