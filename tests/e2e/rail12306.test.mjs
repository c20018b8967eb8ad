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
//     (北京 → 北京南 VNP, shhq → 上海虹桥 AOH), two travel dates, a train, seats in order,
//     the account; no date is said next to the dates; the host stores the watch with the
//     telecodes, names, dates and the rest;
//   - wrong tiles: the host answers `again` and the popup shows the new picture, with
//     nothing selected; the right tiles of that one sign in.
//
// Needs `scripts/build.sh` first. Run: node --test tests/e2e/rail12306.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { artifactDir, chinaDate, waitFor } from './lib/env.mjs';
import { listedWatches } from './lib/chromium.mjs';
import {
  TRAVELLER,
  captchaSnapshot,
  clickTiles,
  extensionRequest,
  newCaptcha,
  openPopup,
  pickStation,
  pictureShown,
  selectedTiles,
  startRailWorld,
  stopRailWorld,
  storedWatch,
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
    await page.check('input[name="mode"][value="notify"]');
    await page.fill('#interval', '30');
    await page.click('#add-watch');

    const item = page.locator('[data-testid="watch-item"]', { hasText: 'E2E 12306 G1' });
    await item.first().waitFor({ timeout: 30_000 });
    const listed = (await listedWatches(page)).find((x) => x.label === 'E2E 12306 G1');
    assert.match(listed.summary, /^12306 · 北京南 → 上海虹桥/);
    assert.equal(await page.inputValue('[data-testid="rail-from-code"]'), '', 'the form is cleared after saving');
    assert.equal(await page.locator('[data-testid="rail-date"]').count(), 0);

    const saved = await storedWatch(page, listed.id);
    const t = saved.target;
    assert.deepEqual(
      {
        platform: t.platform,
        from_station: t.from_station,
        to_station: t.to_station,
        from_name: t.from_name,
        to_name: t.to_name,
        dates: t.dates,
        trains: t.trains,
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
        dates: [d1, d3],
        trains: ['G1'],
        seat_types: ['O', 'M'],
        depart_after: '06:00',
        depart_before: '23:00',
        account: 'traveller',
        passengers: ['张三'],
        allow_fewer: false,
        sale_burst: true,
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

    // A booking watch needs an account: said next to the account.
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
    await page.check('input[name="mode"][value="book"]');
    await page.fill('#label', 'E2E 12306 no account');
    await page.click('#add-watch');
    await page.locator('[data-error-for="target.account"]:not(:empty)').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('[data-error-for="target.account"]').innerText(), /account/);
    assert.equal(await page.locator('[data-testid="watch-item"]', { hasText: 'E2E 12306 no account' }).count(), 0);
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
});

