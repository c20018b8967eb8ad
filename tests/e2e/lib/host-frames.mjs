// tests/e2e/lib/host-frames.mjs — speak native-messaging frames to a haoyuan-host
// process directly (u32 native-endian length + UTF-8 JSON, as a browser does), so an
// end-to-end test can seed or inspect the host's store without a browser.

import { spawn } from 'node:child_process';
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

/** Encodes one frame: native-endian u32 length, then the UTF-8 JSON text. */
export function encodeFrame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(4);
  if (LE) head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/**
 * Starts `binary` (no arguments: serve on stdio) with `env`, and returns a client whose
 * `request(cmd, params)` sends one request and resolves with the host's reply envelope.
 * `close()` ends stdin and resolves with the exit code (the host exits 0 on EOF).
 */
export function startHost(binary, { env = process.env, args = [] } = {}) {
  const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = Buffer.alloc(0);
  let stderr = '';
  let nextId = 1;
  const waiting = new Map();
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = LE ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      const msg = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
      buf = buf.subarray(4 + len);
      const w = waiting.get(msg.id);
      if (w) {
        waiting.delete(msg.id);
        w.resolve(msg);
      }
    }
  });
  exit.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`haoyuan-host exited (${code}) before replying: ${stderr}`));
    waiting.clear();
  });
  return {
    pid: child.pid,
    stderr: () => stderr,
    request(cmd, params = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.stdin.write(encodeFrame({ id, cmd, params }));
      });
    },
    async close() {
      child.stdin.end();
      return exit;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
