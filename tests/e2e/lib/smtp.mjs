// tests/e2e/lib/smtp.mjs — starts the real SMTP test server (tests/smtp/smtpd.py, on
// aiosmtpd) for browser tests, and reads what it received.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { repoRoot } from './env.mjs';

/**
 * Starts smtpd.py on a free port. `rejectRcpt`: recipients containing it get 550.
 * Resolves to {port, received(), stop()}; received() lists the accepted messages.
 */
export async function startSmtpServer({ rejectRcpt } = {}) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'haoyuan-smtp-')), 'received.jsonl');
  const args = [path.join(repoRoot, 'tests/smtp/smtpd.py'), '--port', '0', '--mode', 'plain', '--out', out];
  if (rejectRcpt) args.push('--reject-rcpt', rejectRcpt);
  const child = spawn(process.env.PYTHON ?? 'python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`smtpd.py exited (${code}) before listening: run scripts/setup.sh for aiosmtpd`)));
  });
  const { port } = JSON.parse(line);
  const received = () =>
    fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const stop = () => {
    child.kill('SIGTERM');
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  };
  return { port, received, stop };
}
