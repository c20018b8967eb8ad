// yygh-runtime.js — runs the 114yygh watches in the browser. One core `YyghWatcher`
// per active 114 watch; this file only performs what the watcher asks (sleep, fetch with
// the user's own cookies, fetch a font, ask the host, ask the person) and reports its
// events to the host. When to poll, what to read, when to book and when to stop are
// the core's (wasm-core/src/platforms/yygh114/watcher.rs).
//
// Where requests leave from: while a 114 tab is open, its content script (content-114.js,
// connected on a port named `yygh-page`) sends the polls from the page; otherwise the
// worker sends them. Booking steps always leave from the worker so that closing a tab
// cannot cut an order in half. Either way there is one watcher per watch, so one poller.
//
// At most one order per watch: before `order/save` the watcher asks for `booking_begin`
// (the host records the intent durably, refusing a second one); the order is sent only
// once the host said yes. The end of a booking is reported with `booking_end`, retried
// until the host has it (a killed host is restarted by the connection's backoff).

import { execute } from './http.js';
import { browserApi } from './platform.js';
import { baseUrlOf } from './base-urls.js';

const PLATFORM = '114yygh';
/** How long an order waits for the host to come back before giving the slot up. */
const INTENT_WAIT_MS = 10_000;
/** How long a booking waits for the person to type the SMS code the site asked for. */
const ANSWER_WAIT_MS = 5 * 60_000;
/** How long an event is retried while the host is away before it is given up (with a warning in the worker console). */
const EVENT_RETRY_MS = 120_000;
/** Content-script id of the 114 page helper. */
const CONTENT_SCRIPT_ID = 'yygh-page';

/** Host reply codes that mean "not answered" (the request may or may not have been applied). */
const UNREACHABLE = ['disconnected', 'not_installed', 'timeout', 'connecting', 'version_mismatch'];

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export class YyghRuntime {
  constructor(core, host) {
    this.core = core;
    this.host = host;
    /** watch id → WatchRunner */
    this.runners = new Map();
    /** connected 114 pages (ports), oldest first */
    this.pages = [];
    this.nextFetchId = 1;
    this.pendingFetches = new Map();
    this.syncing = null;
    this.accountPacer = null;
    /** Measured in the browser: product/detail reply received → order/save handed to fetch. */
    this.timings = [];
    this.requestCounts = { page: 0, worker: 0 };
  }

  /**
   * The pacer of the one 114 account (the browser's login): its polls, across watches,
   * keep apart. Made on first use, once the wasm module is loaded.
   */
  get pacer() {
    this.accountPacer ??= new this.core.AccountPacer();
    return this.accountPacer;
  }

  // ---- the 114 tabs -------------------------------------------------------------------

  /** A content script connected (called from the top-level onConnect listener). */
  addPage(port) {
    this.pages.push(port);
    port.onMessage.addListener((m) => {
      const pending = m?.type === 'fetched' ? this.pendingFetches.get(m.id) : undefined;
      if (!pending || pending.port !== port) return;
      this.pendingFetches.delete(m.id);
      if (m.error !== undefined) pending.reject(new Error(m.error));
      else pending.resolve(m.response);
    });
    port.onDisconnect.addListener(() => {
      this.pages = this.pages.filter((p) => p !== port);
      for (const [id, pending] of this.pendingFetches) {
        if (pending.port === port) {
          this.pendingFetches.delete(id);
          pending.reject(new Error('the 114 tab was closed during the request'));
        }
      }
    });
  }

  /** Sends a request from the oldest open 114 tab, or from the worker when none is open. */
  fetchVia(request, purpose) {
    const page = purpose === 'booking' || purpose === 'order_save' ? undefined : this.pages[0];
    if (!page) {
      this.requestCounts.worker++;
      return execute(request);
    }
    this.requestCounts.page++;
    const id = this.nextFetchId++;
    return new Promise((resolve, reject) => {
      this.pendingFetches.set(id, { port: page, resolve, reject });
      try {
        page.postMessage({ type: 'fetch', id, request });
      } catch (e) {
        this.pendingFetches.delete(id);
        reject(new Error(`the 114 tab could not be reached (${String(e?.message ?? e)})`));
      }
    });
  }

  /** Registers the page helper for the configured 114 origin (idempotent). */
  async registerContentScript() {
    const scripting = browserApi.scripting;
    if (!scripting?.registerContentScripts) return;
    let origin;
    try {
      origin = new URL(await baseUrlOf(this.core, PLATFORM)).origin;
    } catch {
      return;
    }
    const script = {
      id: CONTENT_SCRIPT_ID,
      matches: [`${origin}/*`],
      js: ['http-exec.js', 'content-114.js'],
      runAt: 'document_idle',
    };
    try {
      const existing = await scripting.getRegisteredContentScripts({ ids: [CONTENT_SCRIPT_ID] });
      if (existing.length) await scripting.updateContentScripts([script]);
      else await scripting.registerContentScripts([script]);
    } catch (e) {
      console.warn('haoyuan: the 114 page helper could not be registered:', String(e?.message ?? e));
    }
  }

  // ---- watches --------------------------------------------------------------------------

  /** Starts runners for active 114 watches and stops the others. Serialised. */
  sync() {
    const run = async () => {
      if (this.host.status.state !== 'connected') return;
      const watches = [];
      let after;
      for (let page = 0; page < 50; page++) {
        const reply = await this.host.request('watch_list', after ? { after } : {});
        if (!reply.ok) return;
        watches.push(...reply.data.watches);
        if (!reply.data.next) break;
        after = reply.data.next;
      }
      const active = new Map(watches.filter((w) => w.target?.platform === PLATFORM && !w.paused).map((w) => [w.id, w]));
      for (const [id, runner] of this.runners) {
        const w = active.get(id);
        if (!w || w.updated_at !== runner.watch.updated_at) {
          runner.stop();
          this.runners.delete(id);
        }
      }
      const baseUrl = await baseUrlOf(this.core, PLATFORM);
      for (const [id, w] of active) {
        if (this.runners.has(id)) continue;
        const got = await this.host.request('booking_get', { watch_id: id });
        if (!got.ok) continue; // try again at the next sync
        const runner = new WatchRunner(this, w, baseUrl, got.data.intent ?? null);
        this.runners.set(id, runner);
        runner.run();
      }
    };
    this.syncing = (this.syncing ?? Promise.resolve()).then(run, run).catch((e) => {
      console.warn('haoyuan: 114 watches could not be synced:', String(e?.message ?? e));
    });
    return this.syncing;
  }

  /** The 114 base URL changed: every runner starts again against the new one. */
  async restartAll() {
    for (const r of this.runners.values()) r.stop();
    this.runners.clear();
    await this.registerContentScript();
    return this.sync();
  }

  /** The person logged in to 114 again: every watch paused for its session resumes. */
  sessionBack() {
    for (const r of this.runners.values()) r.resumeSession();
  }

  /** The person typed the booking SMS code for a watch. */
  answer(watchId, text) {
    const r = this.runners.get(watchId);
    if (!r?.answerWaiter) return false;
    r.answerWaiter(text);
    return true;
  }

  /** Each runner's state, for the popup and the tests. */
  state() {
    return [...this.runners.values()].map((r) => ({
      watch_id: r.watch.id,
      state: r.state,
      message: r.message,
      prompt: r.prompt,
      clock: r.clock(),
    }));
  }

  // ---- the host -------------------------------------------------------------------------

  /** Waits (until `untilMs` at most) for the host connection to be up. */
  async connected(untilMs) {
    for (let delay = 100; this.host.status.state !== 'connected' && Date.now() < untilMs; delay = Math.min(delay * 2, 2_000)) {
      this.host.retryNow?.();
      await sleep(Math.min(delay, untilMs - Date.now()));
    }
  }

  /**
   * A host request retried while the host is away, for up to `patienceMs` (only for
   * requests that are safe to repeat: `event_record` of a lost reply records twice at
   * worst, `booking_end` is idempotent).
   */
  async hostPatiently(cmd, params, patienceMs) {
    const until = Date.now() + patienceMs;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      const reply = await this.host.request(cmd, params);
      const unreachable = !reply.ok && UNREACHABLE.includes(reply.error?.code ?? '');
      if (!unreachable) return reply;
      if (Date.now() + delay > until) return reply;
      this.host.retryNow?.();
      await sleep(delay);
    }
  }
}

/** Drives one watch's core watcher. */
class WatchRunner {
  constructor(rt, watch, baseUrl, intent) {
    this.rt = rt;
    this.watch = watch;
    this.stopped = false;
    this.state = 'starting';
    this.message = '';
    this.prompt = null;
    this.wake = null;
    this.resumeWaiter = null;
    this.answerWaiter = null;
    this.lastDetailAt = 0;
    try {
      this.w = new rt.core.YyghWatcher(JSON.stringify(watch), baseUrl, JSON.stringify(intent));
    } catch (e) {
      this.w = null;
      this.state = 'stopped';
      this.message = String(e?.message ?? e);
    }
  }

  clock() {
    return this.w ? JSON.parse(this.w.clock(Date.now())) : null;
  }

  stop() {
    this.stopped = true;
    this.wake?.();
    this.resumeWaiter?.();
    this.answerWaiter?.('');
  }

  resumeSession() {
    this.resumeWaiter?.();
  }

  /** Sleeps until `atMs` or until stopped. */
  sleepUntil(atMs) {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, atMs - Date.now()));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  async run() {
    if (!this.w) return this.report([{ kind: 'poll_error', message: `the watch cannot run: ${this.message}`, data: null }]);
    const rnd = () => Math.random();
    let a = JSON.parse(this.w.tick(Date.now(), rnd()));
    while (!this.stopped) {
      this.report(a.events ?? []);
      if (this.stopped) break;
      let next;
      switch (a.action) {
        case 'wait':
          this.state = 'waiting';
          await this.sleepUntil(a.at_ms);
          next = this.w.tick(Date.now(), rnd());
          break;
        case 'send': {
          this.state = a.purpose === 'order_save' ? 'ordering' : a.purpose === 'booking' ? 'booking' : 'polling';
          if (a.purpose === 'order_save' && this.lastDetailAt) {
            this.rt.timings.push({ watch_id: this.watch.id, detail_to_order_ms: performance.now() - this.lastDetailAt });
          }
          if (a.paced) {
            // What starts a poll waits its turn behind the account's other watches (the
            // rest of a poll and a booking under way go at once: the core says which).
            const at = this.rt.pacer.reserve(Date.now());
            if (at > Date.now()) await this.sleepUntil(at);
            if (this.stopped) break;
          }
          try {
            const resp = await this.rt.fetchVia(a.request, a.purpose);
            if (a.purpose === 'product_detail') this.lastDetailAt = performance.now();
            next = this.w.feed(Date.now(), JSON.stringify(resp), rnd());
          } catch (e) {
            next = this.w.no_response(Date.now(), String(e?.message ?? e), rnd());
          }
          break;
        }
        case 'fetch_font': {
          let resp = '';
          try {
            resp = JSON.stringify(await this.rt.fetchVia({ method: 'GET', url: a.url, headers: [], body: null }, 'font'));
          } catch {
            // the watcher falls back to the parity rule and says so
          }
          next = this.w.font(Date.now(), a.url, resp, rnd());
          break;
        }
        case 'record_intent': {
          this.state = 'recording_intent';
          const reply = await this.recordIntent(a.data);
          if (reply.ok) {
            next = this.w.intent_recorded(Date.now(), reply.data.intent.id, rnd());
          } else {
            const exists = reply.error?.code === 'booking_exists';
            next = this.w.intent_refused(Date.now(), reply.error?.message ?? 'the host did not answer', exists, rnd());
          }
          break;
        }
        case 'ask_user': {
          this.state = 'needs_answer';
          this.prompt = a.prompt;
          const text = await new Promise((resolve) => {
            const timer = setTimeout(() => resolve(null), ANSWER_WAIT_MS);
            this.answerWaiter = (t) => {
              clearTimeout(timer);
              resolve(t);
            };
          });
          this.answerWaiter = null;
          this.prompt = null;
          if (this.stopped) break;
          next = text === null ? this.w.no_answer(Date.now(), rnd()) : this.w.answer(Date.now(), text, rnd());
          break;
        }
        case 'paused':
          this.state = 'needs_login';
          this.message = a.message;
          await new Promise((resolve) => (this.resumeWaiter = resolve));
          this.resumeWaiter = null;
          if (this.stopped) break;
          next = this.w.resume(Date.now(), rnd());
          break;
        case 'stopped':
        default:
          this.state = 'stopped';
          this.message = a.message ?? '';
          this.stopped = true;
          break;
      }
      if (next !== undefined) a = JSON.parse(next);
    }
    this.w.free();
    this.w = null;
  }

  /**
   * `booking_begin`, safe to repeat: the intent carries a one-off `attempt` token, so when
   * the reply is lost (the host died or timed out after committing), `booking_get` tells
   * whether the stored intent is this one (go on) or an earlier one (refused).
   */
  async recordIntent(data) {
    const attempt = crypto.randomUUID();
    const params = { watch_id: this.watch.id, data: { ...data, attempt } };
    const until = Date.now() + INTENT_WAIT_MS;
    for (;;) {
      await this.rt.connected(until);
      const reply = await this.rt.host.request('booking_begin', params);
      const code = reply.error?.code ?? '';
      if (reply.ok || !UNREACHABLE.includes(code)) return reply;
      // Perhaps stored, perhaps not: ask before trying again.
      await this.rt.connected(until);
      const got = await this.rt.host.request('booking_get', { watch_id: this.watch.id });
      const intent = got.ok ? got.data.intent : undefined;
      if (intent?.data?.attempt === attempt) return { ok: true, data: { intent } };
      if (intent) return { ok: false, error: { code: 'booking_exists', message: 'an earlier order of this watch is recorded in the host' } };
      if (Date.now() >= until) return reply;
    }
  }

  /**
   * Records the watcher's events in the host. Each is sent at once, in order (the host
   * serves one frame after another), and not waited for, so a booking goes on while the
   * host writes; a request the host did not answer is sent again once it is back.
   */
  report(events) {
    for (const ev of events) {
      if (ev.kind === 'session_expired' || ev.kind === 'poll_error') this.message = ev.message;
      const [cmd, params] = ev.booking_result
        ? ['booking_end', { watch_id: this.watch.id, intent_id: ev.intent_id, result: ev.booking_result, message: ev.message, data: ev.data ?? null }]
        : ['event_record', { watch_id: this.watch.id, kind: ev.kind, message: ev.message, data: ev.data ?? null }];
      this.rt.host
        .request(cmd, params)
        .then((reply) => (!reply.ok && UNREACHABLE.includes(reply.error?.code ?? '') ? this.rt.hostPatiently(cmd, params, EVENT_RETRY_MS) : reply))
        .then((reply) => {
          if (!reply.ok) console.warn(`haoyuan: ${cmd} for ${this.watch.id} failed:`, reply.error?.message);
        });
    }
  }
}
