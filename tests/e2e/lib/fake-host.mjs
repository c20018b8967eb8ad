#!/usr/bin/env node
// tests/e2e/lib/fake-host.mjs — a stand-in native host for the one case the real host
// cannot play: a host from another protocol major. It answers `hello` with
// {"protocol": $FAKE_HOST_PROTOCOL, ...} and records every other command it receives
// (one JSON line each) in $FAKE_HOST_LOG, answering them with an error. Registered by
// writing its manifest directly (see registerFakeHost in env.mjs).

import fs from 'node:fs';

const protocol = Number(process.env.FAKE_HOST_PROTOCOL ?? '99');
const log = process.env.FAKE_HOST_LOG;
let buf = Buffer.alloc(0);

function send(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  process.stdout.write(Buffer.concat([len, body]));
}

process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 4) {
    const n = buf.readUInt32LE(0);
    if (buf.length < 4 + n) break;
    const msg = JSON.parse(buf.subarray(4, 4 + n).toString());
    buf = buf.subarray(4 + n);
    if (msg.cmd === 'hello') {
      send({ id: msg.id, ok: true, data: { protocol, version: `${protocol}.0.0`, data_dir: '/nonexistent' } });
    } else {
      if (log) fs.appendFileSync(log, JSON.stringify(msg) + '\n');
      send({ id: msg.id, ok: false, error: { code: 'unknown_command', message: 'fake host' } });
    }
  }
});
process.stdin.on('end', () => process.exit(0));
