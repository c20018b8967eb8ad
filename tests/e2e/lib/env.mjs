// tests/e2e/lib/env.mjs — shared by the browser tests and the demo: where things are
// (repo root, built host, dist/), temporary data homes and profiles, registering the
// native host for a browser profile, and finding the host processes a browser started.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The fixed dev extension id (from the manifest `key`). */
export const CHROME_EXTENSION_ID = fs.readFileSync(path.join(repoRoot, 'extension/dev-extension-id.txt'), 'utf8').trim();
/** The Firefox add-on id. */
export const FIREFOX_ADDON_ID = 'haoyuan@haoyuan.org';
/** The native messaging host name. */
export const HOST_NAME = 'org.haoyuan.host';
/** Debian's Chromium. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The built host binary (debug unless HAOYUAN_HOST_BIN says otherwise). */
export function hostBinary() {
  return process.env.HAOYUAN_HOST_BIN ?? path.join(repoRoot, 'target/debug/haoyuan-host');
}

/** An unpacked extension build, `chrome` or `firefox`. */
export function distDir(browser) {
  return path.join(repoRoot, 'dist', browser);
}

/** Throws a clear message when the build outputs a test needs are missing. */
export function requireBuilt(browser) {
  const missing = [hostBinary(), path.join(distDir(browser), 'manifest.json')].filter((p) => !fs.existsSync(p));
  if (missing.length) {
    throw new Error(`not built: ${missing.join(', ')} — run scripts/build.sh first`);
  }
}

/** A fresh temporary directory whose name starts with `prefix`. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `haoyuan-${prefix}-`));
}

/** A fresh HAOYUAN_HOME (the host's data directory) for one test. */
export function tempHome() {
  return tempDir('home');
}

/** Removes a temporary directory, ignoring what is already gone. */
export function removeDir(dir) {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** A directory under target/ for screenshots and other artifacts. */
export function artifactDir(name) {
  const dir = path.join(repoRoot, 'target', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Registers the host for `browser` by running the real installer:
 * `haoyuan-host install --browser B --dir DIR [--extension-id ID]`. Returns the
 * manifest's path. The installer's own output is passed through on failure.
 */
export function registerHost({ browser, dir, extensionId, env = {} }) {
  const args = ['install', '--browser', browser, '--dir', dir];
  if (extensionId) args.push('--extension-id', extensionId);
  try {
    execFileSync(hostBinary(), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`haoyuan-host ${args.join(' ')} failed: ${e.stderr?.toString() || e.message}`);
  }
  const manifest = path.join(dir, `${HOST_NAME}.json`);
  if (!fs.existsSync(manifest)) throw new Error(`the installer did not write ${manifest}`);
  return manifest;
}

/** Registers the host for a Chromium profile (its `NativeMessagingHosts` folder). */
export function registerHostForChromium(profileDir) {
  return registerHost({
    browser: 'chromium',
    dir: path.join(profileDir, 'NativeMessagingHosts'),
    extensionId: CHROME_EXTENSION_ID,
  });
}

/**
 * Registers tests/e2e/lib/fake-host.mjs (a host answering hello with another protocol
 * major) for a Chromium profile, writing the manifest directly.
 */
export function registerFakeHostForChromium(profileDir) {
  const dir = path.join(profileDir, 'NativeMessagingHosts');
  fs.mkdirSync(dir, { recursive: true });
  const manifest = path.join(dir, `${HOST_NAME}.json`);
  const manifestJson = {
    name: HOST_NAME,
    description: 'Haoyuan test stand-in',
    path: path.join(repoRoot, 'tests/e2e/lib/fake-host.mjs'),
    type: 'stdio',
    allowed_origins: [`chrome-extension://${CHROME_EXTENSION_ID}/`],
  };
  fs.writeFileSync(manifest, JSON.stringify(manifestJson, null, 2));
  return manifest;
}

function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`);
  } catch {
    return null; // gone, or not ours to read
  }
}

/**
 * Pids of running haoyuan-host processes whose environment has HAOYUAN_HOME=home —
 * i.e. the hosts a browser started for one test (the browser passes its environment on).
 */
export function findHostPids(home) {
  const want = `HAOYUAN_HOME=${home}`;
  const exe = path.basename(hostBinary());
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = readProc(entry, 'cmdline');
    if (!cmdline) continue;
    const argv0 = cmdline.toString().split('\0')[0];
    if (path.basename(argv0) !== exe) continue;
    const stat = readProc(entry, 'stat')?.toString() ?? '';
    if (/^\d+ \(.*\) Z /.test(stat)) continue; // a zombie is not running
    const environ = readProc(entry, 'environ');
    if (environ && environ.toString().split('\0').includes(want)) pids.push(Number(entry));
  }
  return pids;
}

/** Waits (polling) until `fn()` returns a truthy value, or throws after `timeoutMs`. */
export async function waitFor(fn, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Today's date in China (UTC+8), `YYYY-MM-DD`, shifted by `days`. */
export function chinaDate(days = 0) {
  const d = new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}
