// host-connection.js — the one native-messaging port to haoyuan-host, owned by the
// background script. Sends `hello` first, matches replies to requests by id (with
// timeouts), reconnects with exponential backoff, and keeps a status the pages show:
//   connecting | connected | not_installed | version_mismatch | disconnected
// Every frame is built and read by the wasm core (encode_request / decode_host_message /
// check_hello): this file never writes protocol JSON by hand.

import { browserApi, extensionId, installBrowser, isNotInstalled, portError } from './platform.js';

export const HOST_NAME = 'org.haoyuan.host';

const REQUEST_TIMEOUT_MS = 15_000;
/** Commands that wait on a remote server (SMTP, webhooks): longer than its own timeouts. */
// 浙里办: a sync pulls until nothing is new (each request may take up to 30 s); a test,
// an arrival or a release may wait for a round under way.
const SLOW_COMMAND_TIMEOUT_MS = {
  send_test: 60_000,
  send_test_email: 60_000,
  zlb_sync: 300_000,
  zlb_test: 120_000,
  zlb_arrive: 120_000,
  zlb_reject_release: 120_000,
};
const HELLO_TIMEOUT_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A connection that lived this long resets the backoff. */
const STABLE_AFTER_MS = 10_000;

export class HostConnection {
  /**
   * @param core the initialised wasm module (haoyuan_core.js exports)
   * @param onStatus called with a copy of the status whenever it changes
   * @param onEvent called with each event the host pushes ({event, data})
   */
  constructor(core, { onStatus = () => {}, onEvent = () => {} } = {}) {
    this.core = core;
    this.onStatus = onStatus;
    this.onEvent = onEvent;
    this.port = null;
    this.nextId = 1;
    this.pending = new Map();
    this.attempts = 0;
    this.connectedAt = 0;
    this.retryTimer = null;
    this.waiters = new Set();
    this.status = { state: 'connecting', message: 'connecting to haoyuan-host…' };
  }

  /** The exact command that registers the host for this browser and extension. */
  installCommand() {
    return this.core.install_command(installBrowser(), extensionId());
  }

  setStatus(status) {
    this.status = { ...status, extension_version: this.core.version(), protocol: this.core.protocol_major() };
    for (const w of [...this.waiters]) w();
    this.onStatus({ ...this.status });
  }

  /** Opens the port unless one is open or opening. */
  connect() {
    if (this.port) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus({ state: 'connecting', message: 'connecting to haoyuan-host…' });
    let port;
    try {
      port = browserApi.runtime.connectNative(HOST_NAME);
    } catch (e) {
      this.closed(null, String(e?.message ?? e));
      return;
    }
    this.port = port;
    port.onMessage.addListener((msg) => this.frame(port, msg));
    port.onDisconnect.addListener((p) => this.closed(port, portError(p)));
    this.send('hello', {}, { timeoutMs: HELLO_TIMEOUT_MS, beforeHello: true }).then((reply) => {
      if (this.port !== port) return;
      if (!reply.ok) {
        // A host that cannot answer hello is unusable: drop it and try again later.
        this.drop(port, `the host did not answer hello: ${reply.error.message}`);
        return;
      }
      const hello = JSON.parse(this.core.check_hello(JSON.stringify(reply.data)));
      this.connectedAt = Date.now();
      this.setStatus({
        state: hello.status, // "connected" or "version_mismatch"
        message: hello.message,
        host_version: hello.version ?? null,
        data_dir: hello.data_dir ?? null,
        warning: hello.warning ?? null,
      });
    });
  }

  /** Reconnects now (a page was opened) unless a connection is up or being made. */
  retryNow() {
    if (!this.port) {
      this.attempts = 0;
      this.connect();
    }
  }

  /** Resolves once the status is no longer "connecting" (or after `ms`). */
  settled(ms = 8_000) {
    if (this.status.state !== 'connecting') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (this.status.state === 'connecting') return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve();
      }, ms);
      this.waiters.add(done);
    });
  }

  /** Ends a port we gave up on, as if the host had closed it. */
  drop(port, reason) {
    try {
      port.disconnect();
    } catch {
      // already closed
    }
    this.closed(port, reason);
  }

  /** The port closed (or could not open): fail what is pending, classify, schedule a retry. */
  closed(port, reason) {
    if (port && this.port !== port) return;
    this.port = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, error: { code: 'disconnected', message: `the host went away: ${reason ?? 'no reason given'}` } });
      this.pending.delete(id);
    }
    if (this.connectedAt && Date.now() - this.connectedAt >= STABLE_AFTER_MS) this.attempts = 0;
    this.connectedAt = 0;
    const delay = Math.round(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempts) * (0.8 + 0.4 * Math.random()));
    this.attempts = Math.min(this.attempts + 1, 16);
    const retry_at = Date.now() + delay;
    if (isNotInstalled(reason)) {
      const command = this.installCommand();
      this.setStatus({
        state: 'not_installed',
        message: `haoyuan-host is not installed for this browser — run: ${command}`,
        install_command: command,
        reason,
        retry_at,
      });
    } else {
      this.setStatus({
        state: 'disconnected',
        message: `disconnected from haoyuan-host (${reason ?? 'it stopped'}) — reconnecting…`,
        reason: reason ?? null,
        retry_at,
      });
    }
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** A frame from the host. */
  frame(port, msg) {
    if (this.port !== port) return;
    const m = JSON.parse(this.core.decode_host_message(JSON.stringify(msg)));
    if (m.kind === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return; // a reply after its timeout
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m.ok ? { ok: true, data: m.data } : { ok: false, error: m.error });
    } else if (m.kind === 'event') {
      this.onEvent({ event: m.event, data: m.data });
    } else {
      console.warn('haoyuan: unreadable frame from the host:', m.message);
    }
  }

  /**
   * Sends one request; resolves (never rejects) with `{ok: true, data}` or
   * `{ok: false, error: {code, message, fields?}}`.
   */
  send(cmd, params, { timeoutMs = REQUEST_TIMEOUT_MS, beforeHello = false } = {}) {
    const state = this.status.state;
    if (!this.port || (!beforeHello && state !== 'connected')) {
      return Promise.resolve({ ok: false, error: { code: state, message: this.status.message } });
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_fff0 ? 1 : this.nextId + 1;
    const encoded = JSON.parse(this.core.encode_request(id, cmd, JSON.stringify(params ?? {})));
    if (!encoded.ok) return Promise.resolve({ ok: false, error: encoded.error });
    const port = this.port;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        resolve({ ok: false, error: { code: 'timeout', message: `the host did not answer ${cmd} within ${timeoutMs / 1000} s` } });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      try {
        port.postMessage(JSON.parse(encoded.frame));
      } catch (e) {
        this.pending.delete(id);
        clearTimeout(timer);
        resolve({ ok: false, error: { code: 'disconnected', message: String(e?.message ?? e) } });
      }
    });
  }

  /** Like `send`, but first waits (briefly) for a connection being made. */
  async request(cmd, params) {
    if (this.status.state === 'connecting') await this.settled();
    return this.send(cmd, params, { timeoutMs: SLOW_COMMAND_TIMEOUT_MS[cmd] ?? REQUEST_TIMEOUT_MS });
  }
}
