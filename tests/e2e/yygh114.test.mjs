// tests/e2e/yygh114.test.mjs — 114yygh end to end in Debian Chromium: the extension's
// worker (or a 114 tab) polls the sandbox with the browser's own cookies, decodes the
// obfuscated counts, books through the host's booking intent, and the email arrives at a
// real SMTP server. Each test has its own sandbox (its clock set ~30 s before the demo
// hospital's 08:30 release), browser profile, host data dir and SMTP server.
//
//   1. the story: sign in through the popup, add a book-mode watch, the release, the
//      order, the email — exactly one order;
//   2. a competing buyer takes every slot at the release: no order, the watch goes on;
//   3. a 403 from the site: the next poll waits at least a minute (sandbox request log);
//   4. the session expires: the watch pauses and says "log in", the popup signs in again,
//      polling resumes;
//   5. malformed and renamed-field replies: plain-words errors, the watch goes on;
//   6. the host is SIGKILLed mid-watch and after the booking: one order, one intent;
//   7. two 114 tabs open: the polls leave from one tab, one poller.
//
// Needs `scripts/build.sh` first. Run: node --test --test-concurrency=1 tests/e2e/yygh114.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { artifactDir, waitFor } from './lib/env.mjs';
import { extensionRequest } from './lib/chromium.mjs';
import {
  addWatch,
  history,
  killHost,
  runtimeState,
  signIn,
  siteOrders,
  siteRequests,
  waitForEvent,
  withWorld,
} from './lib/yygh.mjs';

const TIMEOUT = 240_000;

describe('114yygh in the browser', () => {
  test('the story: signed in, watch added, slot released at open time, booked once, email received', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 25 }, async (w) => {
      const page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'book' });
      const booked = await waitForEvent(page, watch.id, 'booked', { timeoutMs: 90_000 });
      assert.match(booked.message, /order/);
      assert.ok(booked.data.order_no, JSON.stringify(booked.data));
      const kinds = (await history(page, watch.id)).map((e) => e.kind);
      for (const k of ['slot_seen', 'booking_submitted', 'booked']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
      const orders = await siteOrders(w);
      assert.equal(orders.length, 1, JSON.stringify(orders));
      assert.equal(orders[0].orderNo ?? orders[0].order_no, booked.data.order_no);
      const mail = await waitFor(() => w.smtp.received().find((m) => /预约成功|Booked/.test(m.subject ?? m.data ?? '')), { timeoutMs: 30_000, what: 'the booked email' });
      assert.ok(JSON.stringify(mail).includes(booked.data.order_no), 'the email names the order');
      // Polls waited for the release: none of the first product requests hammered the site.
      const got = await extensionRequest(page, 'booking_get', { watch_id: watch.id });
      assert.equal(got.data.intent.state, 'booked');
      await page.screenshot({ path: path.join(artifactDir('e2e'), 'yygh114-booked.png'), fullPage: true });
    }));

  test('a competing buyer takes every slot at the release: no order, the watch goes on', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 20, scenario: 'demo-competitor.yaml' }, async (w) => {
      const page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'book' });
      // Wait past the release and a couple of polls.
      await waitFor(async () => (await siteRequests(w)).filter((r) => r.at > w.releaseServerMs).length >= 2, { timeoutMs: 90_000, what: 'polls after the release' });
      assert.deepEqual(await siteOrders(w), [], 'no order');
      const kinds = (await history(page, watch.id)).map((e) => e.kind);
      assert.ok(!kinds.includes('booking_submitted') && !kinds.includes('booked'), kinds.join());
      const taken = await w.sandbox.admin('/platform/114yygh/taken_by_others', {});
      assert.ok(JSON.stringify(taken).includes(w.targetDate), `the competitor bought on ${w.targetDate}: ${JSON.stringify(taken).slice(0, 300)}`);
      const [state] = (await runtimeState(w)).filter((s) => s.watch_id === watch.id);
      assert.ok(['waiting', 'polling'].includes(state.state), JSON.stringify(state));
    }));

  test('a 403 from the site: the next poll waits at least a minute (sandbox request log)', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 900 }, async (w) => {
      const page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'notify', interval: 15 });
      // Two normal polls first: they come at the watch's pace (15 s floor, with jitter).
      const normal = await waitFor(async () => { const r = await siteRequests(w); return r.length >= 2 && r; }, { timeoutMs: 60_000, what: 'two polls' });
      assert.ok(normal[1].at - normal[0].at < 30_000, `normal pace: ${normal[1].at - normal[0].at} ms`);
      await w.sandbox.admin('/faults', { platform: '114yygh', route: '/web/product/*', kind: 'status', status: 403, count: 1 });
      const refused = await waitFor(async () => (await siteRequests(w)).find((r) => r.status === 403), { timeoutMs: 60_000, what: 'the 403' });
      const next = await waitFor(async () => (await siteRequests(w)).find((r) => r.at > refused.at), { timeoutMs: 120_000, intervalMs: 1_000, what: 'the next poll' });
      const gap = next.at - refused.at;
      assert.ok(gap >= 60_000, `backed off ${gap} ms after a 403 (at least 60 s)`);
      assert.equal(next.status, 200);
      const err = (await history(page, watch.id)).find((e) => e.kind === 'poll_error');
      assert.ok(err, 'the refusal is in the history');
      assert.match(err.message, /403/);
      assert.match(err.message, /slowing down|more slowly/);
      await waitForEvent(page, watch.id, 'poll_recovered', { timeoutMs: 10_000 });
    }));

  test('the session expires: the watch pauses and says so, signing in again in the popup resumes it', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 900 }, async (w) => {
      let page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'notify', interval: 15 });
      await waitFor(async () => (await siteRequests(w)).length >= 1, { timeoutMs: 60_000, what: 'a first poll' });
      await w.sandbox.admin('/platform/114yygh/expire_sessions', {});
      const expired = await waitForEvent(page, watch.id, 'session_expired', { timeoutMs: 60_000 });
      assert.match(expired.message, /Log in again/);
      await waitFor(async () => (await runtimeState(w)).find((s) => s.watch_id === watch.id && s.state === 'needs_login'), { what: 'the watch paused for its session' });
      // Paused: no polls while the session is gone.
      const before = (await siteRequests(w)).length;
      await new Promise((r) => setTimeout(r, 20_000));
      assert.equal((await siteRequests(w)).length, before, 'no polls while signed out');
      const notices = await w.worker.evaluate(() => globalThis.haoyuan.notices());
      assert.ok(JSON.stringify(notices).includes(watch.id), 'a desktop notification says to sign in again');
      await page.close();
      // The person signs in again in the popup; the watch resumes by itself.
      page = await signIn(w);
      await waitForEvent(page, watch.id, 'session_restored', { timeoutMs: 30_000 });
      const after = await waitFor(async () => { const r = await siteRequests(w); return r.length > before && r.at(-1); }, { timeoutMs: 60_000, what: 'a poll after the new sign-in' });
      assert.equal(after.status, 200);
      assert.ok(after.session, 'the poll carries the new login (the browser\'s cookie)');
    }));

  test('malformed and renamed-field replies: plain-words errors, the watch goes on', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 900 }, async (w) => {
      const page = await signIn(w);
      // A day already open (slots or not), so the replies have fields to rename.
      const open = new Date(Date.parse(w.targetDate) - 5 * 86_400_000).toISOString().slice(0, 10);
      const watch = await addWatch(w, page, { mode: 'notify', interval: 15, date: open, label: 'open day' });
      await waitFor(async () => (await siteRequests(w)).length >= 1, { timeoutMs: 60_000, what: 'a first poll' });
      await w.sandbox.admin('/faults', { platform: '114yygh', route: '/web/product/detail', kind: 'malformed', count: 1 });
      const bad = await waitFor(async () => (await history(page, watch.id)).find((e) => e.kind === 'poll_error'), { timeoutMs: 60_000, what: 'the malformed reply reported' });
      assert.match(bad.message, /could not be read/);
      assert.match(bad.message, /still watching/);
      await w.sandbox.admin('/faults', { platform: '114yygh', route: '/web/product/detail', kind: 'rename_field', from: 'doctorName', to: 'docName', count: 1 });
      const renamed = await waitFor(async () => (await history(page, watch.id)).filter((e) => e.kind === 'poll_error').find((e) => /doctorName/.test(e.message)), { timeoutMs: 60_000, what: 'the renamed field reported by name' });
      assert.match(renamed.message, /still watching/);
      assert.doesNotMatch(renamed.message, /undefined|\[object|panicked/);
      // The next poll is read again: the watch survived both.
      await waitForEvent(page, watch.id, 'poll_recovered', { timeoutMs: 60_000 });
      const [state] = (await runtimeState(w)).filter((s) => s.watch_id === watch.id);
      assert.ok(['waiting', 'polling'].includes(state.state), JSON.stringify(state));
    }));

  test('the host is killed mid-watch and after the booking: one order, and no second one after a restart', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 30 }, async (w) => {
      const page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'book' });
      await waitFor(async () => (await siteRequests(w)).length >= 1, { timeoutMs: 60_000, what: 'a first poll' });
      assert.ok(killHost(w).length >= 1, 'a host was running');
      // The extension restarts the host; the watch books at the release through the new one.
      const booked = await waitForEvent(page, watch.id, 'booked', { timeoutMs: 120_000 });
      assert.ok(booked.data.order_no);
      assert.ok(killHost(w).length >= 1, 'the restarted host was running');
      // Start the 114 runtime afresh (as a new worker would): it asks the restarted host
      // for the watch's booking intent and must not book again, even with new slots.
      await waitFor(async () => (await extensionRequest(page, 'hello')).ok, { what: 'the host back' });
      await w.worker.evaluate(() => globalThis.haoyuan.yygh.restart());
      const clinic = (await w.sandbox.admin('/orders?platform=114yygh'))[0];
      await w.sandbox.admin('/release', { platform: '114yygh', hos_code: '1', date: w.targetDate, duty: clinic?.dutyCode ?? 'MORNING', count: 3 });
      const p2 = page;
      const stopped = await waitFor(async () => (await history(p2, watch.id)).find((e) => e.kind === 'stopped' && /will not order again|already/.test(e.message)), { timeoutMs: 60_000, what: 'the reloaded runtime refusing to book again' });
      assert.ok(stopped);
      await new Promise((r) => setTimeout(r, 20_000));
      assert.equal((await siteOrders(w)).length, 1, 'exactly one order');
      const kinds = (await history(p2, watch.id)).map((e) => e.kind);
      assert.equal(kinds.filter((k) => k === 'booking_submitted').length, 1, kinds.join());
      assert.equal(kinds.filter((k) => k === 'booked').length, 1, kinds.join());
    }));

  test('three watches of one account: their requests never go out within a second of each other', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 900 }, async (w) => {
      const page = await signIn(w);
      const first = await addWatch(w, page, { mode: 'notify', interval: 15, label: 'pace 1' });
      const since = (await siteRequests(w, '/web/')).length;
      // Two more, stored at the same moment: without the account's pacer their first
      // requests would leave together.
      const more = await Promise.all(
        [2, 3].map((n) => {
          const { id, created_at, updated_at, ...rest } = first;
          return extensionRequest(page, 'watch_put', { watch: { ...rest, id: '', label: `pace ${n}` } });
        }),
      );
      for (const r of more) assert.ok(r.ok, JSON.stringify(r.error));
      await waitFor(async () => (await siteRequests(w, '/web/')).length >= since + 8, { timeoutMs: 60_000, what: 'the three watches at work' });
      const reqs = (await siteRequests(w, '/web/')).slice(since).filter((r) => !r.path.startsWith('/web/font/'));
      const gaps = reqs.slice(1).map((r, i) => r.at - reqs[i].at);
      assert.ok(Math.min(...gaps) >= 950, `gaps between the account's requests: ${gaps.join(', ')} ms`);
    }));

  test('two 114 tabs open: the polls leave from one tab, at one watch\'s pace', { timeout: TIMEOUT }, () =>
    withWorld({ secondsToRelease: 900 }, async (w) => {
      const page = await signIn(w);
      const tabs = [await w.context.newPage(), await w.context.newPage()];
      for (const t of tabs) await t.goto(`${w.base}/`);
      await waitFor(async () => (await w.worker.evaluate(() => globalThis.haoyuan.yygh.requestCounts())).pages === 2, { what: 'both tabs connected' });
      const since = Date.now() + (w.serverOffsetMs ?? 0);
      const watch = await addWatch(w, page, { mode: 'notify', interval: 15 });
      await new Promise((r) => setTimeout(r, 50_000));
      const polls = (await siteRequests(w)).filter((r) => r.at >= since);
      assert.ok(polls.length >= 2, `polled: ${polls.length}`);
      assert.ok(polls.length <= 5, `one poller at a 15 s floor: ${polls.length} polls in 50 s`);
      for (let i = 1; i < polls.length; i++) assert.ok(polls[i].at - polls[i - 1].at >= 14_000, `gap ${polls[i].at - polls[i - 1].at} ms`);
      for (const r of polls) {
        assert.ok(String(r.referer ?? '').startsWith(w.base), `sent from a 114 tab: ${JSON.stringify(r)}`);
        assert.ok(r.session, 'with the browser\'s login cookie');
      }
      const counts = await w.worker.evaluate(() => globalThis.haoyuan.yygh.requestCounts());
      assert.ok(counts.page >= polls.length, JSON.stringify(counts));
      // Closing the tabs hands the polling back to the worker.
      for (const t of tabs) await t.close();
      await waitFor(async () => (await w.worker.evaluate(() => globalThis.haoyuan.yygh.requestCounts())).pages === 0, { what: 'tabs gone' });
      const last = await waitFor(async () => (await siteRequests(w)).filter((r) => r.at > since).find((r) => !r.referer), { timeoutMs: 40_000, what: 'a poll from the worker' });
      assert.ok(last.origin?.startsWith('chrome-extension://'), JSON.stringify(last));
      assert.ok(watch.id);
    }));
});
