// tests/e2e/lib/webdriver.mjs — a tiny W3C WebDriver client over plain `fetch`, and a
// launcher for geckodriver, used by tests/e2e/firefox.test.mjs to drive Firefox ESR.
//
// Deliberately no selenium/webdriverio package: those may try to download drivers,
// and the handful of commands the smoke test needs fit here. geckodriver comes from
// `cargo install geckodriver` (scripts/setup.sh).

import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FIREFOX_ADDON_ID, waitFor } from './env.mjs';

export { waitFor };

/** The key under which WebDriver returns an element reference. */
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** An error answered by the WebDriver server (`error`, `message` as it said them). */
export class WebDriverError extends Error {
  constructor(command, status, value) {
    super(`${command}: ${value?.error ?? status}: ${value?.message ?? JSON.stringify(value)}`);
    this.name = 'WebDriverError';
    this.status = status;
    this.error = value?.error;
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Path of the geckodriver binary: $GECKODRIVER, PATH, or ~/.cargo/bin. Null when absent. */
export function findGeckodriver() {
  if (process.env.GECKODRIVER) return process.env.GECKODRIVER;
  try {
    return execFileSync('sh', ['-c', 'command -v geckodriver'], { encoding: 'utf8' }).trim() || null;
  } catch {
    const p = join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin', 'geckodriver');
    return existsSync(p) ? p : null;
  }
}

/**
 * Starts geckodriver on a free 127.0.0.1 port, in its own process group so that it,
 * the Firefox it launches and whatever Firefox launches (the native host) can all be
 * ended together by `stop()`. `env` is the environment of geckodriver, which Firefox
 * (and so the native host) inherits; `args` are extra geckodriver flags (e.g.
 * `--allow-system-access`, which Firefox 153+ needs before WebDriver may navigate to a
 * moz-extension:// page, and `--profile-root DIR`). Its output is kept in `log()`.
 */
export async function startGeckodriver({ binary = findGeckodriver(), env = process.env, args = [] } = {}) {
  if (!binary) throw new Error('geckodriver not found: run scripts/setup.sh (cargo install geckodriver)');
  const port = await freePort();
  const child = spawn(binary, ['--host', '127.0.0.1', '--port', String(port), ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM'); // the whole group: geckodriver, firefox, host
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5_000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`geckodriver exited (${JSON.stringify(exited)}): ${output}`);
        const r = await fetch(`${url}/status`);
        return r.ok && (await r.json()).value?.ready;
      },
      { timeoutMs: 30_000, what: 'geckodriver /status' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, pid: child.pid, stop, log: () => output };
}

/** Prefs for a quiet, deterministic test profile (`uuid`: the add-on's moz-extension:// host). */
export function firefoxPrefs(uuid) {
  return {
    // moz-extension://<uuid>/ is chosen by us, not at random at install time.
    'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_ADDON_ID]: uuid }),
    // No telemetry, no update checks, no background network chatter.
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'toolkit.telemetry.archive.enabled': false,
    'app.update.disabledForTesting': true,
    'app.update.auto': false,
    'extensions.update.enabled': false,
    'extensions.getAddons.cache.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'browser.safebrowsing.downloads.enabled': false,
    'browser.safebrowsing.blockedURIs.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'services.settings.server': 'http://127.0.0.1:9/v1',
    'messaging-system.rsexperimentloader.enabled': false,
    'browser.newtabpage.enabled': false,
    'browser.aboutwelcome.enabled': false,
  };
}

/** One WebDriver session. */
export class Session {
  constructor(base, id, capabilities) {
    this.base = base;
    this.id = id;
    this.capabilities = capabilities;
  }

  /** Opens a session on the server at `base` with `capabilities` (the alwaysMatch set). */
  static async create(base, capabilities) {
    const value = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }, 'new session');
    return new Session(base, value.sessionId, value.capabilities);
  }

  cmd(method, path, body, name = path) {
    return call(this.base, method, `/session/${this.id}${path}`, body, name);
  }

  navigate(url) {
    return this.cmd('POST', '/url', { url }, `navigate ${url}`);
  }

  currentUrl() {
    return this.cmd('GET', '/url', undefined, 'get current url');
  }

  /** The element matching a CSS selector; throws `no such element` if none. */
  async find(selector) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: selector }, `find ${selector}`);
    return v[ELEMENT_KEY];
  }

  /** Every element matching a CSS selector (possibly none). */
  async findAll(selector) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: selector }, `find all ${selector}`);
    return v.map((e) => e[ELEMENT_KEY]);
  }

  text(element) {
    return this.cmd('GET', `/element/${element}/text`, undefined, 'get element text');
  }

  click(element) {
    return this.cmd('POST', `/element/${element}/click`, {}, 'click');
  }

  /** Clears a form field and types `text` into it. */
  async type(element, text) {
    await this.cmd('POST', `/element/${element}/clear`, {}, 'clear');
    return this.cmd('POST', `/element/${element}/value`, { text }, 'send keys');
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page, returns its value. */
  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args }, 'execute script');
  }

  /** Like `execute`, for a body that ends by calling `arguments[arguments.length - 1](value)`. */
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args }, 'execute async script');
  }

  /** A PNG screenshot of the viewport, as a Buffer. */
  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot', undefined, 'screenshot'), 'base64');
  }

  /** geckodriver only: installs an add-on from an .xpi or an unpacked directory. Returns its id. */
  installAddon(path, { temporary = true } = {}) {
    return this.cmd('POST', '/moz/addon/install', { path, temporary }, `install add-on ${path}`);
  }

  /** geckodriver only: switch script execution between `content` and `chrome`. */
  setContext(context) {
    return this.cmd('POST', '/moz/context', { context }, `set context ${context}`);
  }

  /** Ends the session (closing the browser). Never throws. */
  async delete() {
    try {
      await this.cmd('DELETE', '', undefined, 'delete session');
    } catch {}
  }
}

async function call(base, method, path, body, name) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(name, res.status, { error: 'bad response', message: text.slice(0, 500) });
  }
  if (!res.ok || (json.value && json.value.error)) throw new WebDriverError(name, res.status, json.value);
  return json.value;
}
