// tests/e2e/rail12306.test.mjs — 12306 in the popup, in Debian Chromium, against the
// sandbox (tests/sandbox/scenarios/12306-demo.yaml: account traveller / traveller123,
// holder 张三) with the real haoyuan-host registered in a fresh profile; the host the
// browser starts reads the sandbox's 12306 address from HAOYUAN_12306_BASE.
//   - signing in: account and password go to the host (`rail_login`), which fetches
//     12306's picture captcha; the popup shows it at its natural size; the person clicks
//     the right tiles with the mouse (which ones: the sandbox's admin API, as a person
//     sees them) — a tile clicked twice is unselected — and the panel says signed in as
//     the holder; the password field is empty;
//   - the watch form for 12306: station autocomplete from the host's station list
//     (北京 → 北京南 VNP, shhq → 上海虹桥 AOH), more station pairs, two travel dates, a
//     train and one to avoid, a departure window, seats in order, the account, passengers,
//     the two yes/no choices; no date is said next to the dates; the core builds the whole
//     watch from the form and the host stores it with the telecodes, names, dates and the
//     rest; a booking watch without an account, or a station pair that is not one, is
//     refused by the core next to the account and the pairs;
//   - wrong tiles: the host answers `again` and the popup shows the new picture, with
//     nothing selected; the right tiles of that one sign in;
//   - an account 12306 does not know: after the right tiles, the site's refusal is said
//     in plain words and the form is offered again.
// In Firefox ESR (geckodriver, dist/firefox as a temporary add-on, the host registered
// for Firefox under a temporary HOME): the same sign-in with WebDriver pointer clicks on
// the tiles, and a watch from the form with a station picked from the autocomplete.
// And in a world of its own: a book-mode watch for G1 tomorrow; seats are released; 12306
// asks for the passenger captcha before the order (pass_code: true), the host asks the
// popup, whose watch item says so (and a sticky desktop notification, cleared once it is
// answered); the right tiles clicked there let the order go on, and
// the watch's latest event in the list turns to booked as the host records it.
//
// Needs `scripts/build.sh` first. Run: node --test tests/e2e/rail12306.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOST_NAME, artifactDir, chinaDate, distDir, hostBinary, removeDir, requireBuilt, tempDir, waitFor } from './lib/env.mjs';
import { Session, findGeckodriver, firefoxPrefs, startGeckodriver } from './lib/webdriver.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { extensionWorker, listedWatches, notificationIds } from './lib/chromium.mjs';
import {
  TRAVELLER,
  addRailWatch,
  captchaSnapshot,
  clickTiles,
  extensionRequest,
  newCaptcha,
  openPopup,
  pickStation,
  pictureShown,
  selectedTiles,
  signInRail,
  startRailWorld,
  stopRailWorld,
  storedWatch,
  tileCentre,
  PICTURE,
  waitForState,
} from './lib/rail.mjs';

const TIMEOUT = 180_000;

describe('12306 in the popup: sign in by clicking the picture, add a watch from the form', () => {
  let w;

  before(async () => {
    w = await startRailWorld({ scenario: '12306-demo.yaml' });
  });

  after(async () => {
    if (w) await stopRailWorld(w);
  });

  test('signing in: the host’s picture is shown, the right tiles clicked with the mouse sign in as the holder', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(w.context);
    await waitForState(page, 'connected');
    const status = page.locator('[data-testid="rail-login-status"]');
    await page.locator('[data-testid="rail-login-status"][data-state="signed_out"]').waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /Not signed in to 12306/);

    const before = await captchaSnapshot(w);
    await page.fill('[data-testid="rail-account"]', TRAVELLER.account);
    await page.fill('[data-testid="rail-password"]', TRAVELLER.password);
    await page.click('[data-testid="rail-login-start"]');
    const clicker = page.locator('[data-testid="rail-login-clicker"]');
    const picture = await pictureShown(clicker);
    assert.match(picture.src, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual([picture.naturalWidth, picture.naturalHeight], [293, 190]);
    assert.equal(Math.round(picture.width), 293, 'the picture is shown at its natural size');
    assert.equal(await page.inputValue('[data-testid="rail-password"]'), '', 'the password field is cleared once sent');
    assert.match(await status.innerText(), /click the pictures to sign in traveller/);
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-captcha.png'), fullPage: true });

    // What the picture shows (the sandbox tells the tiles, as a person sees them).
    const captcha = await newCaptcha(w, before, { module: 'login' });
    assert.ok(Array.isArray(captcha.tiles) && captcha.tiles.length >= 1, JSON.stringify(captcha));
    const wrong = [0, 1, 2, 3, 4, 5, 6, 7].find((i) => !captcha.tiles.includes(i));

    // A tile clicked twice is unselected again.
    await clickTiles(page, clicker, [wrong]);
    assert.deepEqual(await selectedTiles(clicker), [wrong]);
    await clickTiles(page, clicker, [wrong]);
    assert.deepEqual(await selectedTiles(clicker), []);

    await clickTiles(page, clicker, captcha.tiles);
    assert.deepEqual(await selectedTiles(clicker), [...captcha.tiles].sort((a, b) => a - b));
    assert.equal(await clicker.locator('[data-testid="rail-captcha-tile"].selected').count(), captcha.tiles.length, 'the chosen tiles are marked');
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-captcha-clicked.png'), fullPage: true });
    await clicker.locator('[data-testid="rail-captcha-submit"]').click();

    await page.locator('[data-testid="rail-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /Signed in as 张三 \(traveller\)/);
    assert.equal(await page.locator('[data-testid="rail-login-captcha"]').isVisible(), false, 'the picture is gone');
    assert.equal(await page.locator('[data-testid="rail-login-form"]').isVisible(), false);

    const accounts = await extensionRequest(page, 'rail_accounts');
    assert.ok(accounts.ok, JSON.stringify(accounts.error));
    const me = accounts.data.accounts.find((a) => a.account === TRAVELLER.account);
    assert.ok(me?.signed_in, JSON.stringify(accounts.data));
    assert.equal(me.holder, TRAVELLER.holder);
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-signed-in.png'), fullPage: true });
    await page.close();

    // Reopened: the host still has the session.
    const again = await openPopup(w.context);
    await again.locator('[data-testid="rail-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    assert.match(await again.locator('[data-testid="rail-login-status"]').innerText(), /Signed in as 张三 \(traveller\)/);
    await again.close();
  });

  test('the 12306 watch form: stations from the autocomplete, dates, train, seats, account; the host keeps them', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(w.context);
    await waitForState(page, 'connected');
    await page.selectOption('#platform', '12306');
    await page.locator('[data-testid="rail-from-query"]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#window-row').isVisible(), false, 'the travel dates make the window');

    // From: 北京 lists Beijing's stations; 北京南 is chosen.
    const fromTexts = await pickStation(page, 'from', '北京', 'VNP');
    assert.ok(fromTexts.length >= 2, `several matches for 北京: ${fromTexts}`);
    assert.ok(fromTexts.every((t) => /北京|beijing|bj/i.test(t)), `only Beijing's stations: ${fromTexts}`);
    assert.equal(await page.inputValue('[data-testid="rail-from-code"]'), 'VNP');
    assert.equal(await page.inputValue('[data-testid="rail-from-query"]'), '北京南');
    assert.equal(await page.locator('[data-testid="rail-from-options"] [data-testid="rail-station-option"]').count(), 0, 'the list closes');

    // To: by abbreviation and by pinyin.
    const byAbbr = await pickStation(page, 'to', 'shhq', 'AOH');
    assert.ok(byAbbr.some((t) => t.includes('上海虹桥')), `${byAbbr}`);
    await pickStation(page, 'to', 'shanghaihongqiao', 'AOH');
    assert.equal(await page.inputValue('[data-testid="rail-to-code"]'), 'AOH');

    // The account the panel signed in is offered (and chosen, being the only one).
    await page.locator('[data-testid="rail-account-select"] option[value="traveller"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await page.inputValue('[data-testid="rail-account-select"]'), 'traveller');

    // No travel date yet: said next to the dates.
    await page.fill('#label', 'E2E 12306 G1');
    await page.click('#add-watch');
    const datesError = page.locator('[data-error-for="target.dates"]');
    await page.locator('[data-error-for="target.dates"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.notEqual((await datesError.innerText()).trim(), '');
    assert.equal(await page.locator('[data-testid="watch-item"]').count(), 0, 'nothing was saved');

    // Two days, a train, seats in order (二等座 before 一等座), a departure window, a passenger.
    const d1 = chinaDate(1);
    const d3 = chinaDate(3);
    for (const d of [d3, d1]) {
      await page.fill('[data-testid="rail-date-input"]', d);
      await page.click('[data-testid="rail-date-add"]');
    }
    assert.deepEqual(await page.locator('[data-testid="rail-date"]').evaluateAll((els) => els.map((e) => e.dataset.date)), [d1, d3]);
    await page.fill('[data-testid="rail-trains"]', 'g1');
    await page.check('[data-testid="rail-seat-O"]');
    await page.check('[data-testid="rail-seat-M"]');
    assert.deepEqual(await page.locator('[data-testid="rail-seat-order"] li').evaluateAll((els) => els.map((e) => e.dataset.code)), ['O', 'M']);
    await page.fill('[data-testid="rail-depart-after"]', '06:00');
    await page.fill('[data-testid="rail-depart-before"]', '23:00');
    await page.fill('[data-testid="rail-passengers"]', '张三');
    // More pairs (lower case and spaces are the core's to tidy), a train to avoid, the yes/no choices.
    await page.fill('[data-testid="rail-more-pairs"]', 'bjp:shh, SNH : aoh');
    await page.fill('[data-testid="rail-exclude-trains"]', 'k1234');
    assert.equal(await page.isChecked('[data-testid="rail-allow-fewer"]'), false, 'fewer passengers: off at first');
    assert.equal(await page.isChecked('[data-testid="rail-sale-burst"]'), true, 'the sale-time burst: on at first (the core’s default)');
    await page.check('[data-testid="rail-allow-fewer"]');
    await page.uncheck('[data-testid="rail-sale-burst"]');
    await page.check('input[name="mode"][value="notify"]');
    await page.fill('#interval', '30');
    await page.click('#add-watch');

    const item = page.locator('[data-testid="watch-item"]', { hasText: 'E2E 12306 G1' });
    await item.first().waitFor({ timeout: 30_000 });
    const listed = (await listedWatches(page)).find((x) => x.label === 'E2E 12306 G1');
    assert.match(listed.summary, /^12306 · 北京南 → 上海虹桥/);
    assert.equal(await page.inputValue('[data-testid="rail-from-code"]'), '', 'the form is cleared after saving');
    assert.equal(await page.locator('[data-testid="rail-date"]').count(), 0);
    assert.equal(await page.inputValue('[data-testid="rail-more-pairs"]'), '');
    assert.equal(await page.isChecked('[data-testid="rail-sale-burst"]'), true, 'the burst back to its default');
    assert.equal(await page.isChecked('[data-testid="rail-allow-fewer"]'), false);
    assert.equal(await page.inputValue('[data-testid="rail-account-select"]'), 'traveller', 'the account stays chosen');

    const saved = await storedWatch(page, listed.id);
    const t = saved.target;
    assert.deepEqual(
      {
        platform: t.platform,
        from_station: t.from_station,
        to_station: t.to_station,
        from_name: t.from_name,
        to_name: t.to_name,
        more_pairs: t.more_pairs,
        dates: t.dates,
        trains: t.trains,
        exclude_trains: t.exclude_trains,
        seat_types: t.seat_types,
        depart_after: t.depart_after,
        depart_before: t.depart_before,
        account: t.account,
        passengers: t.passengers,
        allow_fewer: t.allow_fewer ?? false,
        sale_burst: t.sale_burst ?? true,
      },
      {
        platform: '12306',
        from_station: 'VNP',
        to_station: 'AOH',
        from_name: '北京南',
        to_name: '上海虹桥',
        more_pairs: [
          { from: 'BJP', to: 'SHH' },
          { from: 'SNH', to: 'AOH' },
        ],
        dates: [d1, d3],
        trains: ['G1'],
        exclude_trains: ['K1234'],
        seat_types: ['O', 'M'],
        depart_after: '06:00',
        depart_before: '23:00',
        account: 'traveller',
        passengers: ['张三'],
        allow_fewer: true,
        sale_burst: false,
      },
    );
    assert.deepEqual(saved.window, { start: d1, end: d3 });
    assert.equal(saved.mode, 'notify');
    assert.equal(saved.interval.seconds, 30);

    // Its latest event is shown (created, or what the host's watch saw since).
    const last = item.first().locator('[data-testid="watch-last-event"]');
    await last.waitFor({ timeout: 30_000 });
    assert.notEqual((await last.innerText()).trim(), '');
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-watch.png'), fullPage: true });

    // A booking watch needs an account, and a station pair has two stations: the core
    // refuses the form (nothing goes to the host), each said next to its input.
    // (bj: every match says bj somewhere — abbreviation, telecode; then by telecode.)
    const fromOptions = page.locator('[data-testid="rail-from-options"] [data-testid="rail-station-option"]');
    await page.locator('[data-testid="rail-from-query"]').pressSequentially('bj', { delay: 30 });
    await fromOptions.first().waitFor({ timeout: 30_000 });
    const bj = await fromOptions.allInnerTexts();
    assert.ok(bj.every((t) => /bj/i.test(t)), `matches for bj: ${bj}`);
    await pickStation(page, 'from', 'BJP', 'BJP');
    await pickStation(page, 'to', 'AOH', 'AOH');
    await page.fill('[data-testid="rail-date-input"]', d1);
    await page.click('[data-testid="rail-date-add"]');
    await page.selectOption('[data-testid="rail-account-select"]', '');
    await page.fill('[data-testid="rail-more-pairs"]', 'BJP');
    await page.check('input[name="mode"][value="book"]');
    await page.fill('#label', 'E2E 12306 no account');
    const watchesBefore = (await extensionRequest(page, 'watch_list')).data.watches.length;
    await page.click('#add-watch');
    await page.locator('[data-error-for="target.account"]:not(:empty)').waitFor({ timeout: 10_000 });
    const accountField = page.locator('.field[data-field="target.account"]');
    assert.equal(
      await accountField.locator('[data-error-for="target.account"]').innerText(),
      'a watch that books needs the 12306 account to book with',
      'the core’s words, beside the account',
    );
    assert.match(await accountField.getAttribute('class'), /\binvalid\b/);
    assert.equal(await accountField.locator('[data-testid="rail-account-select"]').getAttribute('aria-invalid'), 'true');
    const pairsError = page.locator('.field[data-field="target.more_pairs"] [data-error-for="target.more_pairs"]');
    assert.match(await pairsError.innerText(), /“BJP” is not a station pair.*BJP:SHH/);
    assert.equal((await page.locator('#form-error').innerText()).trim(), '', 'every error has its place');
    assert.equal(await page.locator('[data-testid="watch-item"]', { hasText: 'E2E 12306 no account' }).count(), 0);
    assert.equal((await extensionRequest(page, 'watch_list')).data.watches.length, watchesBefore, 'nothing reached the host');
    await page.close();
  });

  test('wrong tiles: the host answers “again”, a new picture is shown, its right tiles sign in', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(w.context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="rail-login-status"]:not([data-state="checking"])').waitFor({ timeout: 30_000 });
    if (!(await page.locator('[data-testid="rail-login-form"]').isVisible())) await page.click('[data-testid="rail-login-again"]');

    let before = await captchaSnapshot(w);
    await page.fill('[data-testid="rail-account"]', TRAVELLER.account);
    await page.fill('[data-testid="rail-password"]', TRAVELLER.password);
    await page.click('[data-testid="rail-login-start"]');
    const clicker = page.locator('[data-testid="rail-login-clicker"]');
    const first = await pictureShown(clicker);
    const firstId = await clicker.getAttribute('data-prompt-id');
    const captcha = await newCaptcha(w, before, { module: 'login' });
    const wrong = [0, 1, 2, 3, 4, 5, 6, 7].find((i) => !captcha.tiles.includes(i));

    before = await captchaSnapshot(w);
    await clickTiles(page, clicker, [wrong]);
    await clicker.locator('[data-testid="rail-captcha-submit"]').click();

    // Again: a new prompt with a new picture, nothing selected, a note saying so.
    await waitFor(async () => {
      const id = await clicker.getAttribute('data-prompt-id');
      return id && id !== firstId;
    }, { what: 'a new prompt after the wrong tiles' });
    const second = await pictureShown(clicker);
    assert.notEqual(second.src, first.src, 'a new picture');
    assert.deepEqual(await selectedTiles(clicker), []);
    assert.match(await clicker.locator('[data-testid="rail-captcha-note"]').innerText(), /Try this one/);
    assert.equal(await page.locator('[data-testid="rail-login-status"]').getAttribute('data-state'), 'signing_in');
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-again.png'), fullPage: true });

    const next = await newCaptcha(w, before, { module: 'login' });
    await clickTiles(page, clicker, next.tiles);
    await clicker.locator('[data-testid="rail-captcha-submit"]').click();
    await page.locator('[data-testid="rail-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('[data-testid="rail-login-status"]').innerText(), /Signed in as 张三 \(traveller\)/);
    await page.close();
  });

  test('an account 12306 does not know: the right tiles, then the site’s refusal in plain words', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(w.context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="rail-login-status"]:not([data-state="checking"])').waitFor({ timeout: 30_000 });
    if (!(await page.locator('[data-testid="rail-login-form"]').isVisible())) await page.click('[data-testid="rail-login-again"]');
    const before = await captchaSnapshot(w);
    await page.fill('[data-testid="rail-account"]', 'nobody');
    await page.fill('[data-testid="rail-password"]', 'secret-nobody-knows');
    await page.click('[data-testid="rail-login-start"]');
    const clicker = page.locator('[data-testid="rail-login-clicker"]');
    await pictureShown(clicker);
    const captcha = await newCaptcha(w, before, { module: 'login' });
    await clickTiles(page, clicker, captcha.tiles);
    await clicker.locator('[data-testid="rail-captcha-submit"]').click();

    const status = page.locator('[data-testid="rail-login-status"]');
    await page.locator('[data-testid="rail-login-status"][data-state="failed"]').waitFor({ timeout: 30_000 });
    const text = await status.innerText();
    assert.match(text, /登录失败 Sign-in failed: \S/);
    assert.match(text, /登录名不存在/, 'the site’s words');
    assert.doesNotMatch(text, /undefined|\[object|secret-nobody-knows/);
    assert.equal(await page.locator('[data-testid="rail-login-form"]').isVisible(), true, 'the form is offered again');
    assert.equal(await page.locator('[data-testid="rail-login-captcha"]').isVisible(), false);
    assert.equal(await page.inputValue('[data-testid="rail-password"]'), '');
    // The account signed in before is still signed in.
    const accounts = await extensionRequest(page, 'rail_accounts');
    assert.ok(accounts.ok && accounts.data.accounts.find((a) => a.account === TRAVELLER.account)?.signed_in, JSON.stringify(accounts));
    await page.close();
  });
});

describe('12306 book mode: the order captcha is answered in the popup and the booking shows live', () => {
  let w;

  before(async () => {
    w = await startRailWorld({ scenario: '12306-demo.yaml' });
  });

  after(async () => {
    if (w) await stopRailWorld(w);
  });

  test('released seats: the host asks for the passenger captcha, the tiles clicked in the popup let it book once', { timeout: 300_000 }, async () => {
    const page = await openPopup(w.context);
    assert.match(await signInRail(w, page), /Signed in as 张三 \(traveller\)/);
    const date = chinaDate(1);
    const watch = await addRailWatch(page, { label: 'E2E 12306 book G1', dates: [date], trains: ['G1'], seats: ['O'], mode: 'book', interval: 10 });
    assert.equal(watch.mode, 'book');
    assert.equal(watch.target.account, TRAVELLER.account);
    const item = page.locator(`[data-testid="watch-item"][data-watch-id="${watch.id}"]`);

    // Two 二等座 on G1 tomorrow come back (the scenario's competitor takes one).
    const before = await captchaSnapshot(w);
    await w.sandbox.admin('/release', { platform: '12306', train: 'G1', date: 1, seat: 'O', count: 2 });

    // The order captcha: shown in the 12306 panel, the watch's item says it waits on it.
    const prompt = page.locator('[data-testid="rail-prompt"][data-kind="order_captcha"]');
    await prompt.waitFor({ state: 'visible', timeout: 120_000 });
    assert.match(await prompt.locator('[data-testid="rail-prompt-heading"]').innerText(), /Order captcha — traveller · E2E 12306 book G1/);
    await item.locator('[data-testid="watch-live"][data-state="needs_answer"]').waitFor({ timeout: 10_000 });
    // A sticky desktop notification says so too (for when the popup is closed).
    const promptId = await prompt.getAttribute('data-prompt-id');
    const worker = await extensionWorker(w.context);
    await waitFor(async () => (await notificationIds(worker)).includes(`haoyuan-prompt-${promptId}`), { what: 'the order captcha notification' });
    const clicker = prompt.locator('[data-testid="rail-prompt-clicker"]');
    await pictureShown(clicker);
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-order-captcha.png'), fullPage: true });
    const captcha = await newCaptcha(w, before, { module: 'passenger', what: 'the passenger captcha' });
    await clickTiles(page, clicker, captcha.tiles);
    await clicker.locator('[data-testid="rail-captcha-submit"]').click();
    await prompt.waitFor({ state: 'detached', timeout: 30_000 });
    await item.locator('[data-testid="watch-live"]').waitFor({ state: 'hidden', timeout: 10_000 });
    await waitFor(async () => !(await notificationIds(worker)).includes(`haoyuan-prompt-${promptId}`), { what: 'the notification cleared' });

    // The booking goes on in the host; its events reach the open popup as they happen.
    const last = item.locator('[data-testid="watch-last-event"]');
    await item.locator('[data-testid="watch-last-event"][data-kind="booked"]').waitFor({ timeout: 120_000 });
    assert.notEqual((await last.innerText()).trim(), '');
    const history = await extensionRequest(page, 'history_list', { watch_id: watch.id, limit: 200 });
    assert.ok(history.ok, JSON.stringify(history.error));
    const kinds = history.data.events.map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'booking_submitted').length, 1, kinds.join());
    assert.equal(kinds.filter((k) => k === 'booked').length, 1, kinds.join());
    // One order of ours at the site (the competitor's take is listed too, as its buyer).
    const orders = (await w.sandbox.admin('/orders?platform=12306')).filter((o) => o.buyer !== 'competitor');
    assert.equal(orders.length, 1, `one order at the site: ${JSON.stringify(orders)}`);
    assert.deepEqual([orders[0].username, orders[0].train, orders[0].date, orders[0].status], [TRAVELLER.account, 'G1', date, 'booked']);
    assert.deepEqual(orders[0].tickets.map((t) => t.seat_type), ['O']);
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-12306-booked.png'), fullPage: true });
    await page.close();
  });
});

describe('12306 in Firefox ESR: the same popup signs in by tiles and adds a watch', () => {
  const FIREFOX_BIN = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';

  test('Firefox ESR: tiles clicked with WebDriver’s pointer sign in; a station from the autocomplete; the host keeps the watch', { timeout: 240_000 }, async () => {
    requireBuilt('firefox');
    assert.ok(existsSync(FIREFOX_BIN), `${FIREFOX_BIN} is missing: run scripts/setup.sh`);
    assert.ok(findGeckodriver(), 'geckodriver is missing: run scripts/setup.sh');
    const tmp = tempDir('firefox12306');
    const home = path.join(tmp, 'home');
    mkdirSync(home);
    const uuid = randomUUID();
    const ext = (p) => `moz-extension://${uuid}/${p}`;
    let sandbox;
    let gecko;
    let session;
    try {
      sandbox = await startSandbox({ scenario: '12306-demo.yaml' });
      const world = { sandbox };
      // Firefox, and so the host it starts, inherits HOME, HAOYUAN_HOME and HAOYUAN_12306_BASE.
      const env = { ...process.env, HOME: home, HAOYUAN_HOME: path.join(tmp, 'data'), HAOYUAN_12306_BASE: sandbox.urls['12306'], MOZ_HEADLESS: '1' };
      delete env.XDG_CONFIG_HOME;
      delete env.XDG_DATA_HOME;
      execFileSync(hostBinary(), ['install', '--browser', 'firefox'], { env, encoding: 'utf8', stdio: 'pipe' });
      assert.ok(existsSync(path.join(home, '.mozilla', 'native-messaging-hosts', `${HOST_NAME}.json`)));
      gecko = await startGeckodriver({ env, args: ['--allow-system-access', '--profile-root', tmp] });
      session = await Session.create(gecko.url, {
        browserName: 'firefox',
        'moz:firefoxOptions': { binary: FIREFOX_BIN, args: ['-headless'], prefs: firefoxPrefs(uuid) },
      });
      await session.installAddon(distDir('firefox'), { temporary: true });
      await session.cmd('POST', '/window/rect', { width: 480, height: 1400 }, 'set window rect');
      await session.navigate(ext('popup.html'));
      const js = (body, args = []) => session.execute(body, args);
      const railState = () => js('return document.querySelector(\'[data-testid="rail-login-status"]\').dataset.state');
      await waitFor(async () => (await js('return document.querySelector("#host-status").dataset.state')) === 'connected', { what: 'the popup connected' });
      await waitFor(async () => (await railState()) === 'signed_out', { what: 'the 12306 panel: not signed in' }).catch(async (e) => {
        throw new Error(`${e.message}; it says: ${await js('return document.querySelector(\'[data-testid="rail-login-status"]\').textContent')}`);
      });

      // Sign in: account and password typed, the right tiles clicked with the pointer.
      const before = await captchaSnapshot(world);
      await session.type(await session.find('[data-testid="rail-account"]'), TRAVELLER.account);
      await session.type(await session.find('[data-testid="rail-password"]'), TRAVELLER.password);
      await session.click(await session.find('[data-testid="rail-login-start"]'));
      await waitFor(
        () => js('const img = document.querySelector(\'[data-testid="rail-login-clicker"] [data-testid="rail-captcha-img"]\'); return Boolean(img && img.offsetParent && img.complete && img.naturalWidth === 293);'),
        { what: 'the captcha picture shown' },
      );
      assert.equal(await js('return document.querySelector(\'[data-testid="rail-password"]\').value'), '');
      const captcha = await newCaptcha(world, before, { module: 'login' });
      const rect = await js(`const img = document.querySelector('[data-testid="rail-login-clicker"] [data-testid="rail-captcha-img"]');
        img.scrollIntoView({ block: 'center' });
        const r = img.getBoundingClientRect();
        return { left: r.left, top: r.top, width: r.width, height: r.height };`);
      const moves = captcha.tiles.flatMap((i) => {
        const c = tileCentre(i);
        return [
          { type: 'pointerMove', origin: 'viewport', x: Math.round(rect.left + (c.x * rect.width) / PICTURE.width), y: Math.round(rect.top + (c.y * rect.height) / PICTURE.height) },
          { type: 'pointerDown', button: 0 },
          { type: 'pointerUp', button: 0 },
        ];
      });
      await session.cmd('POST', '/actions', { actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions: moves }] }, 'click the tiles');
      await session.cmd('DELETE', '/actions', undefined, 'release actions');
      const selected = await js('return document.querySelector(\'[data-testid="rail-login-clicker"] [data-testid="rail-captcha-picture"]\').dataset.selected');
      assert.equal(selected, [...captcha.tiles].sort((a, b) => a - b).join(','));
      await session.click(await session.find('[data-testid="rail-login-clicker"] [data-testid="rail-captcha-submit"]'));
      await waitFor(async () => (await railState()) === 'signed_in', { what: 'signed in to 12306' }).catch(async (e) => {
        throw new Error(`${e.message}; it says: ${await js('return document.querySelector(\'[data-testid="rail-login-status"]\').textContent')}`);
      });
      assert.match(await js('return document.querySelector(\'[data-testid="rail-login-status"]\').textContent'), /Signed in as 张三 \(traveller\)/);

      // A watch: 北京南 typed and picked from the list, 上海虹桥 by telecode, tomorrow, 二等座.
      await js(`const p = document.querySelector('#platform'); p.value = '12306'; p.dispatchEvent(new Event('change', { bubbles: true }));`);
      const pick = async (which, query, code) => {
        await session.type(await session.find(`[data-testid="rail-${which}-query"]`), query);
        const option = `[data-testid="rail-${which}-options"] [data-testid="rail-station-option"][data-telecode="${code}"]`;
        await waitFor(() => js(`return Boolean(document.querySelector('${option}'))`), { what: `${code} offered for ${query}` });
        await session.click(await session.find(option));
      };
      await pick('from', '北京南', 'VNP');
      await pick('to', 'AOH', 'AOH');
      const date = chinaDate(1);
      await js(`const i = document.querySelector('[data-testid="rail-date-input"]'); i.value = arguments[0]; i.dispatchEvent(new Event('input', { bubbles: true }));`, [date]);
      await session.click(await session.find('[data-testid="rail-date-add"]'));
      await session.click(await session.find('[data-testid="rail-seat-O"]'));
      await waitFor(() => js('return document.querySelector(\'[data-testid="rail-account-select"]\').value === "traveller"'), { what: 'the account chosen' });
      await session.type(await session.find('#label'), 'Firefox 12306');
      await session.click(await session.find('[data-testid="add-watch"]'));
      const watchId = await waitFor(
        () => js('const li = [...document.querySelectorAll(\'[data-testid="watch-item"]\')].find((li) => li.textContent.includes("Firefox 12306")); return li ? li.dataset.watchId : null;'),
        { what: 'the watch listed' },
      ).catch(async (e) => {
        throw new Error(`${e.message}; the form says: ${await js('return [...document.querySelectorAll(".field-error, #form-error")].map((p) => p.textContent).join(" | ")')}`);
      });
      const got = await session.executeAsync(
        `const done = arguments[arguments.length - 1];
         browser.runtime.sendMessage({ type: 'host.request', cmd: 'watch_get', params: { id: arguments[0] } }).then(done, (e) => done({ ok: false, error: { message: String(e) } }));`,
        [watchId],
      );
      assert.ok(got.ok, JSON.stringify(got));
      const t = got.data.target;
      assert.deepEqual([t.from_station, t.to_station, t.from_name, t.to_name, t.dates, t.seat_types, t.account], ['VNP', 'AOH', '北京南', '上海虹桥', [date], ['O'], 'traveller']);
      writeFileSync(path.join(artifactDir('e2e'), 'popup-12306-firefox.png'), await session.screenshot());
    } catch (e) {
      if (gecko) e.message += `\n--- geckodriver/firefox log (tail) ---\n${gecko.log().slice(-3000)}`;
      throw e;
    } finally {
      if (session) await session.delete();
      if (gecko) await gecko.stop();
      sandbox?.stop();
      removeDir(tmp);
    }
  });
});
