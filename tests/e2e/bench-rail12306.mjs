// tests/e2e/bench-rail12306.mjs — the 12306 query-parse figure in wasm: a 300-row
// left-ticket query reply read by the core's `rail_parse_query` export (target from
// issue 6: ≤ 3 ms; natively ≤ 1 ms, see `cargo run --release -p haoyuan-bench --bin
// rail12306`). Not a test: it prints.
//
// Run:
//   cargo run --release -p haoyuan-bench --bin rail12306 -- --write-fixture target/bench/rail12306-query-300.json
//   node tests/e2e/bench-rail12306.mjs [--pkg DIR] [--reply FILE]
// --pkg (or HAOYUAN_WASM_PKG): the wasm-bindgen `--target web` package holding
// haoyuan_core.js and haoyuan_core_bg.wasm; default dist/chrome/pkg, where
// scripts/build.sh puts it (optimised with wasm-opt -Oz). --reply (or BENCH_REPLY): the
// reply body; default target/bench/rail12306-query-300.json. BENCH_N (2000) timed calls
// after BENCH_WARM_UP (200).
//
// Method. The module is loaded in Node exactly as the extension loads it (the glue's
// default export given the wasm bytes, as tests/e2e/wasm-edge.test.mjs does). Each sample
// is one `rail_parse_query(bytes)` call timed with performance.now(): copying the body
// into wasm memory, the JSON parse, every row and the station map, dropping them, and
// the small JSON summary back — what the extension pays per query reply (JSON.parse of
// the summary is left out). The reply is the deterministic one the Rust generator
// `haoyuan_bench::rail12306::query_reply(300)` writes (rows of 56, 50 and 37 fields).
// Node's V8 is the engine of Chromium; Firefox's may differ.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './lib/env.mjs';

const TARGET_MS = 3;
const ROWS = 300;
const N = Number(process.env.BENCH_N ?? 2000);
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 200);

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Nearest-rank percentile of sorted numbers. */
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

async function main() {
  const pkg = path.resolve(arg('--pkg') ?? process.env.HAOYUAN_WASM_PKG ?? path.join(repoRoot, 'dist', 'chrome', 'pkg'));
  const replyPath = path.resolve(arg('--reply') ?? process.env.BENCH_REPLY ?? path.join(repoRoot, 'target', 'bench', 'rail12306-query-300.json'));
  const glue = path.join(pkg, 'haoyuan_core.js');
  const wasmPath = path.join(pkg, 'haoyuan_core_bg.wasm');
  for (const [p, how] of [
    [glue, 'run scripts/build.sh, or pass --pkg DIR (a wasm-bindgen --target web output)'],
    [wasmPath, 'run scripts/build.sh, or pass --pkg DIR'],
    [replyPath, 'cargo run --release -p haoyuan-bench --bin rail12306 -- --write-fixture <FILE>, then pass --reply FILE'],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: ${how}`);
  }

  const core = await import(pathToFileURL(glue).href);
  const wasm = fs.readFileSync(wasmPath);
  await core.default({ module_or_path: wasm });
  if (typeof core.rail_parse_query !== 'function') throw new Error(`${glue} has no rail_parse_query export (an older build?)`);
  const body = new Uint8Array(fs.readFileSync(replyPath));

  console.log(`haoyuan 12306 query reply parse in wasm (Node ${process.version}, V8 ${process.versions.v8}) (ratio = figure / target)`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`module: ${wasmPath} (${wasm.length} bytes); reply: ${replyPath} (${body.length} bytes)`);

  const summary = JSON.parse(core.rail_parse_query(body));
  if (summary.kind !== 'trains' || summary.rows !== ROWS || summary.bad_rows !== 0) {
    throw new Error(`the reply does not read back as ${ROWS} trains: ${JSON.stringify(summary)}`);
  }

  let sink = 0;
  for (let i = 0; i < WARM_UP; i++) sink += core.rail_parse_query(body).length;
  const ms = new Array(N);
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const s = core.rail_parse_query(body);
    ms[i] = performance.now() - t;
    sink += s.length;
  }
  ms.sort((a, b) => a - b);
  const p50 = pct(ms, 50);
  const p99 = pct(ms, 99);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const ratio = p99 / TARGET_MS;
  console.log(
    `rail_parse_query, ${ROWS} rows  p50 ${p50.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms  mean ${mean.toFixed(3)} ms  min ${ms[0].toFixed(3)} ms  max ${ms.at(-1).toFixed(3)} ms  (n=${N}, after ${WARM_UP} warm-up)  target p99 ≤ ${TARGET_MS} ms  ratio ${ratio.toFixed(2)}  ${ratio <= 1 ? 'PASS' : 'MISS'}`,
  );
  console.log(`    summary ${JSON.stringify(summary)}; ${(body.length / (p50 / 1000) / 1e6).toFixed(0)} MB/s at p50 (checksum ${sink % 1000})`);
}

main().catch((e) => {
  console.error(`bench-rail12306 failed: ${e?.message ?? e}`);
  process.exitCode = 1;
});
