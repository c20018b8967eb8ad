// tests/e2e/lib/sandbox.mjs — starts the built haoyuan-sandbox (the simulated platforms)
// for the demo and browser tests, and talks to its admin API.

import path from 'node:path';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { repoRoot } from './env.mjs';

/** The sandbox binary scripts/build.sh builds. */
export function sandboxBinary() {
  const p = path.join(repoRoot, 'target/debug/haoyuan-sandbox');
  if (!fs.existsSync(p)) throw new Error(`no sandbox at ${p}: run scripts/build.sh first`);
  return p;
}

/**
 * Starts the sandbox with a scenario file (relative to tests/sandbox/scenarios/) and
 * resolves to {urls, admin(path, body?), stop()} once it has printed its base URLs.
 */
export async function startSandbox({ scenario, seed = 1 } = {}) {
  const args = ['--seed', String(seed)];
  if (scenario) args.push('--scenario', path.join(repoRoot, 'tests/sandbox/scenarios', scenario));
  const child = spawn(sandboxBinary(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`the sandbox exited (${code}) before printing its URLs`)));
  });
  const urls = JSON.parse(line);
  const admin = async (p, body) => {
    const r = await fetch(`${urls.admin}${p}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`sandbox admin ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return { urls, admin, stop: () => child.kill() };
}
