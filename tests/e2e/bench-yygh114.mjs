// tests/e2e/bench-yygh114.mjs — the 114yygh figure measured in the real browser:
// "product/detail reply received → order/save handed to fetch" (target p99 ≤ 150 ms).
//
// Run after scripts/build.sh:  node tests/e2e/bench-yygh114.mjs   (BENCH_N=40 by default;
// the harness starts target/debug/haoyuan-host unless HAOYUAN_HOST_BIN names another,
// e.g. HAOYUAN_HOST_BIN=$PWD/target/release/haoyuan-host after
// `cargo build --release -p haoyuan-host`). About 3.5 min; samples and the sandbox's
// request log are written to target/bench/yygh114-browser.json.
//
// Method. One world (tests/e2e/lib/yygh.mjs): the built sandbox with the scenario
// tests/bench/yygh114-browser.yaml, Debian Chromium with dist/chrome and the real host.
// Signed in once through the popup. Then, every BENCH_SPACING_MS (4 s), one book-mode
// watch is added (`watch_put` through the extension's own host connection, as the popup
// does after checking its form) on a clinic of hospital 1 and a day beyond the daily
// booking range — each watch a different (clinic, day), at the platform's floor interval
// (15 s ±20 %). As soon as the worker's runner for it has finished its first poll (an
// empty day: nothing released yet) the bench releases one morning slot for that clinic
// and day through the sandbox admin (`POST /release`); the watch sees it at its next
// poll (15–18 s later, at its normal pace: the release is not at the hospital's 08:30
// openTime, and the sandbox clock is 25 min before it, so no burst and no slow pace),
// and books it. The worker's runtime measures each booking itself
// (`globalThis.haoyuan.yygh.timings()`: performance.now() from the product/detail reply
// to order/save handed to fetch, which includes the font fetch and decode, the host
// round trips for the slot_seen event and the booking intent, and the booking's own
// requests to the sandbox before order/save). The bench reads those numbers and prints
// p50/p99/max against the 150 ms target (each watch's first entry is its sample).
//
// Honest limits: ~5 watches of one account run at once (one every 4 s, so that their
// polls fit the runtime's per-account spacing of 1 s; the scenario turns the sandbox's
// per-session rate limit off, which the real site would not), so
// some bookings overlap with other watches' polls or bookings in the same worker and
// host — this makes the figure a little pessimistic, not optimistic. The sandbox is on
// loopback: real network latency to 114yygh.com is not in the figure, and the booking
// makes two sequential requests before order/save (the font when not cached yet, and
// product/confirm; the account's real-name status and patients are read when the watch
// starts), so on the real site each costs a round trip.
// The machine is shared with other jobs: the tail moves a lot from run to run. The
// "where the time goes" line splits the time from the sandbox's request log.

import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { artifactDir, waitFor } from './lib/env.mjs';
import { extensionRequest } from './lib/chromium.mjs';
import { HOSPITAL, beijingDate, runtimeState, serverNow, signIn, siteOrders, startWorld, stopWorld } from './lib/yygh.mjs';

const N = Number(process.env.BENCH_N ?? 40);
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 4000);
const TARGET_MS = 150;
const INTERVAL_S = 15;
const DAY_MS = 86_400_000;
/** Scenario path, relative to tests/sandbox/scenarios/ (as startSandbox takes it). */
const SCENARIO = '../../bench/yygh114-browser.yaml';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function addDays(date, n) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Nearest-rank percentile of sorted numbers. */
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

/**
 * The steps of each booking as the sandbox logged them: for every order/save, the
 * nearest earlier product/confirm, font and product/detail (in that order, walking
 * back; the account — real-name status and patients — was read when the watch started). Other watches' polls can interleave, so
 * this is a guide to where the time goes, not the figure itself.
 */
function gaps(log) {
  const steps = [
    ['detail', (p) => p === '/web/product/detail'],
    ['font', (p) => p.startsWith('/web/font/')],
    ['confirm', (p) => p === '/web/product/confirm'],
    ['order/save', (p) => p === '/web/order/save'],
  ];
  const rows = [];
  log.forEach((r, i) => {
    if (r.path !== '/web/order/save') return;
    const at = [r.at];
    let j = i;
    for (let s = steps.length - 2; s >= 0; s--) {
      do j--; while (j >= 0 && !steps[s][1](log[j].path));
      if (j < 0) return;
      at.unshift(log[j].at);
    }
    if (at.at(-1) - at[0] < 5_000) rows.push(at);
  });
  if (!rows.length) return null;
  const label = [
    'detail→font fetch',
    'font→confirm (decode)',
    'confirm→order/save (booking_begin to the host)',
  ];
  const parts = label.map((name, k) => {
    const d = rows.map((a) => a[k + 1] - a[k]).sort((x, y) => x - y);
    return `${name} ${pct(d, 50)} / ${d.at(-1)} ms`;
  });
  const total = rows.map((a) => a.at(-1) - a[0]).sort((x, y) => x - y);
  return { n: rows.length, text: `${parts.join('; ')}; detail→order/save ${pct(total, 50)} / ${total.at(-1)} ms` };
}

const timings = (w) => w.worker.evaluate(() => globalThis.haoyuan.yygh.timings());

async function main() {
  const started = Date.now();
  console.log(`haoyuan 114yygh in Chromium: product/detail reply → order/save handed to fetch (target p99 ≤ ${TARGET_MS} ms)`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const w = await startWorld({ secondsToRelease: 25 * 60, scenario: SCENARIO, email: false });
  const samples = [];
  try {
    const page = await signIn(w);
    const { clinics } = await w.sandbox.admin('/platform/114yygh/hospital', { hos_code: HOSPITAL.code });
    if (!clinics?.length) throw new Error('hospital 1 has no clinics');
    const today = beijingDate(await serverNow(w));
    console.log(`world ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ${clinics.length} clinics; adding ${N} watches, one every ${SPACING_MS} ms`);

    const releasers = [];
    for (let k = 0; k < N; k++) {
      const clinic = clinics[k % clinics.length];
      // Beyond the 7-day booking range: closed until the bench releases it.
      const date = addDays(today, 9 + Math.floor(k / clinics.length));
      const watch = {
        id: '',
        label: `bench ${k}`,
        target: {
          platform: '114yygh',
          hos_code: HOSPITAL.code,
          first_dept_code: clinic.firstDeptCode,
          second_dept_code: clinic.secondDeptCode,
          hos_name: HOSPITAL.name,
          dept_name: clinic.name,
        },
        window: { start: date, end: date },
        filters: {},
        mode: 'book',
        interval: { seconds: INTERVAL_S, jitter_pct: 20 },
      };
      const put = await extensionRequest(page, 'watch_put', { watch });
      if (!put.ok) throw new Error(`watch_put: ${JSON.stringify(put.error)}`);
      const sample = { k, id: put.data.id, clinic: clinic.secondDeptCode, date, addedAt: Date.now() };
      samples.push(sample);
      releasers.push(
        (async () => {
          // The runner has done its first poll (empty day) when it first waits.
          await waitFor(async () => (await runtimeState(w)).find((s) => s.watch_id === sample.id && s.state === 'waiting'), {
            timeoutMs: 60_000,
            intervalMs: 250, // light: every look runs in the worker the figure is measured in
            what: `watch ${k}'s first poll`,
          });
          sample.release = await w.sandbox.admin('/release', {
            platform: '114yygh',
            hos_code: HOSPITAL.code,
            dept: clinic.secondDeptCode,
            date,
            duty: 'MORNING',
            count: 1,
          });
          sample.releasedAt = Date.now();
        })().catch((e) => {
          sample.error = String(e?.message ?? e);
        }),
      );
      await sleep(SPACING_MS);
    }
    await Promise.all(releasers);
    const ids = new Set(samples.filter((s) => !s.error).map((s) => s.id));
    const measured = async () => new Set((await timings(w)).map((t) => t.watch_id).filter((id) => ids.has(id))).size;
    await waitFor(async () => (await measured()) >= ids.size, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${ids.size} bookings`,
    }).catch((e) => console.log(`warning: ${e.message}`));
    const all = await timings(w);
    for (const s of samples) {
      // One order/save per watch normally; a later one follows a booking that failed
      // after order/save (the watch goes on): every one is a sample of the figure.
      s.all_ms = all.filter((t) => t.watch_id === s.id).map((t) => t.detail_to_order_ms);
      s.ms = s.all_ms[0];
    }
    const orders = await siteOrders(w);
    const siteLog = await w.sandbox.admin('/requests?platform=114yygh&limit=20000');
    const states = await runtimeState(w);

    const got = samples.filter((s) => typeof s.ms === 'number');
    const ms = got.map((s) => s.ms).sort((a, b) => a - b);
    const p50 = pct(ms, 50);
    const p99 = pct(ms, 99);
    const max = ms.at(-1);
    const ratio = p99 / TARGET_MS;
    console.log(
      `detail reply → order/save, in Chromium  p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms  max ${max.toFixed(1)} ms  (n=${ms.length})  target ≤ ${TARGET_MS} ms  ratio ${ratio.toFixed(2)}  ${ratio <= 1 ? 'PASS' : 'MISS'}`,
    );
    const over = ms.filter((x) => x > TARGET_MS).length;
    console.log(`    p90 ${pct(ms, 90).toFixed(1)} ms  p95 ${pct(ms, 95).toFixed(1)} ms; over ${TARGET_MS} ms: ${over}/${ms.length} (with n=${ms.length}, p99 is the maximum)`);
    const first = got.slice().sort((a, b) => a.k - b.k)[0];
    console.log(`    first booking of this worker: ${first ? first.ms.toFixed(1) : '–'} ms; mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1)} ms; orders at the sandbox: ${orders.length}; watches measured ${got.length}/${N}`);
    const missing = samples.filter((s) => typeof s.ms !== 'number');
    for (const s of missing) {
      const st = states.find((x) => x.watch_id === s.id);
      console.log(`    no timing for watch ${s.k} (${s.clinic} ${s.date}): ${s.error ?? `${st?.state ?? 'no runner'} ${st?.message ?? ''}`}`);
    }
    const breakdown = gaps(siteLog);
    if (breakdown) console.log(`    where the time goes (sandbox log, server side, p50 / max over ${breakdown.n} bookings): ${breakdown.text}`);
    const out = path.join(artifactDir('bench'), 'yygh114-browser.json');
    fs.writeFileSync(out, JSON.stringify({ target_ms: TARGET_MS, p50, p99, max, samples, timings: all, orders, site_log: siteLog }, null, 2));
    console.log(`    samples: ${out}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await stopWorld(w);
  }
}

main().catch((e) => {
  console.error(`bench-yygh114 failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
});
