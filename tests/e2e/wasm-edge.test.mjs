// tests/e2e/wasm-edge.test.mjs — the built wasm edge (dist/chrome/pkg, after wasm-opt)
// loaded in Node exactly as the extension loads it (wasm-bindgen --target web): every
// exported function answers the JSON shapes the extension's JS relies on. The logic
// behind them is unit-tested in Rust (wasm-core/src/form.rs); this checks the edge and
// the optimised module. Needs `scripts/build.sh` first.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, test } from 'node:test';
import { CHROME_EXTENSION_ID, chinaDate, distDir, requireBuilt } from './lib/env.mjs';

let core;

before(async () => {
  requireBuilt('chrome');
  const pkg = path.join(distDir('chrome'), 'pkg');
  core = await import(pathToFileURL(path.join(pkg, 'haoyuan_core.js')).href);
  await core.default({ module_or_path: fs.readFileSync(path.join(pkg, 'haoyuan_core_bg.wasm')) });
});

test('version and protocol', () => {
  const cargo = fs.readFileSync(new URL('../../Cargo.toml', import.meta.url), 'utf8');
  assert.equal(core.version(), cargo.match(/\[workspace\.package\][^[]*?version = "([^"]+)"/)[1]);
  assert.equal(core.protocol_major(), 1);
});

test('requests are encoded and checked before sending', () => {
  const ok = JSON.parse(core.encode_request(7, 'watch_delete', JSON.stringify({ id: 'w1' })));
  assert.equal(ok.ok, true);
  assert.deepEqual(JSON.parse(ok.frame), { id: 7, cmd: 'watch_delete', params: { id: 'w1' } });
  const unknown = JSON.parse(core.encode_request(8, 'format_disk', '{}'));
  assert.deepEqual([unknown.ok, unknown.error.code], [false, 'unknown_command']);
  const bad = JSON.parse(core.encode_request(9, 'watch_get', '{"id": 5}'));
  assert.deepEqual([bad.ok, bad.error.code], [false, 'bad_params']);
});

test('host frames are normalised', () => {
  const reply = JSON.parse(core.decode_host_message('{"id": 3, "ok": false, "error": {"code": "not_found", "message": "no watch w"}}'));
  assert.deepEqual(reply, { kind: 'reply', id: 3, ok: false, error: { code: 'not_found', message: 'no watch w' } });
  assert.equal(JSON.parse(core.decode_host_message('{"nonsense": true}')).kind, 'invalid');
  assert.equal(JSON.parse(core.decode_host_message('not json')).kind, 'invalid');
});

test('hello: connected, or a version mismatch the user sees', () => {
  const ok = JSON.parse(core.check_hello(JSON.stringify({ protocol: 1, version: '0.1.0', data_dir: '/d' })));
  assert.deepEqual([ok.status, ok.message, ok.data_dir], ['connected', 'connected · host 0.1.0', '/d']);
  const newer = JSON.parse(core.check_hello(JSON.stringify({ protocol: 2, version: '2.0.0', data_dir: '/d' })));
  assert.equal(newer.status, 'version_mismatch');
  assert.match(newer.message, /protocol 2.*protocol 1/);
  assert.equal(JSON.parse(core.check_hello('garbage')).status, 'version_mismatch');
});

test('platforms carry the form fields the popup renders', () => {
  const list = JSON.parse(core.platforms());
  assert.deepEqual(list.map((p) => p.id), ['114yygh', '12306', '91160', 'pati', 'zheliban']);
  const rail = list.find((p) => p.id === '12306');
  assert.deepEqual(rail.fields.map((f) => f.name), [
    'from_station', 'from_name', 'to_station', 'to_name', 'more_pairs', 'dates', 'trains',
    'exclude_trains', 'depart_after', 'depart_before', 'seat_types', 'account', 'passengers',
    'allow_fewer', 'sale_burst',
  ]);
  assert.equal(rail.fields.find((f) => f.name === 'sale_burst').kind, 'bool');
  assert.equal(rail.fields.find((f) => f.name === 'more_pairs').kind, 'pairs');
  assert.equal(rail.poll_floor_secs, 10);
  assert.equal(list.find((p) => p.id === 'zheliban').watchable, false);
});

test('the form becomes a watch, or field errors', () => {
  const today = core.today_in_china(Date.now());
  assert.equal(today, chinaDate(0));
  const form = {
    platform: 'pati',
    label: 'x',
    target: { account: '13812345678', dept_id: '1001', doctor_id: '' },
    start: '',
    end: chinaDate(3),
    periods: ['afternoon'],
    mode: 'notify',
    interval_seconds: '20',
  };
  const ok = JSON.parse(core.watch_from_form(JSON.stringify(form), today));
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.watch.window, { start: today, end: chinaDate(3) });
  assert.match(core.watch_summary(JSON.stringify(ok.watch)), /^pati · 1001 · .* · 下午 · every 20 s · notify/);
  const bad = JSON.parse(core.watch_from_form(JSON.stringify({ ...form, end: chinaDate(-1), interval_seconds: '2' }), today));
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.fields.map((f) => f.field).sort(), ['interval.seconds', 'window.end', 'window.end']);
});

test('install command and base URLs', () => {
  assert.equal(
    core.install_command('chromium', CHROME_EXTENSION_ID),
    `haoyuan-host install --browser chromium --extension-id ${CHROME_EXTENSION_ID}`,
  );
  assert.equal(core.install_command('firefox', 'haoyuan@haoyuan.org'), 'haoyuan-host install --browser firefox');
  assert.deepEqual(JSON.parse(core.validate_base_url('http://127.0.0.1:8080/')), { ok: true, url: 'http://127.0.0.1:8080' });
  assert.equal(JSON.parse(core.validate_base_url('javascript:alert(1)')).ok, false);
});
