// tests/e2e/popup114.test.mjs — the popup's 114yygh sign-in and choosers in Debian
// Chromium, against the sandbox (tests/sandbox/scenarios/demo.yaml: account 17796761085)
// with the real haoyuan-host registered in a fresh profile:
//   - the popup says "not signed in" (user/real-name/status answers session expired);
//   - signing in runs in the popup: the picture code is shown, a wrong answer brings a
//     note and a new picture, the right one (read from the sandbox's admin API, as a
//     person reads the picture, keyed by the browser's imed_session cookie) asks for
//     the SMS code (read from the sandbox's phone inbox), and the status says signed in;
//     reopening the popup still says so (the cookies are the browser's);
//   - the add-watch form's choosers: search 协和, choose 北京协和医院 (code 1), a clinic
//     and a patient's card; they fill the target inputs (card_no: the masked number's
//     last 4 characters); the watch is saved and the host has those codes and patient.
// And, each in its own world (tests/e2e/lib/yygh.mjs: sandbox clock just before the demo
// hospital's 08:30 release, real host, fresh profile):
//   - a booking that needs the SMS code (scenarios/demo-order-sms.yaml): the watch item
//     says what the watch is doing, asks for the code with the masked phone, the code
//     read from the phone's inbox is typed there, the watch books once, and the item says
//     finished with the order number as its latest event;
//   - the 114 session expires: the item says "sign in again", the sign-in panel says the
//     watching is paused; signing in again resumes the watch and the line goes.
//
// Needs `scripts/build.sh` first. Run: node --test --test-concurrency=1 tests/e2e/popup114.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { artifactDir, chinaDate, registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor } from './lib/env.mjs';
import { extensionRequest, extensionUrl, launchChromium, listedWatches, openPopup, waitForState } from './lib/chromium.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { addWatch, history, runtimeState, signIn, siteOrders, siteRequests, waitForEvent, withWorld } from './lib/yygh.mjs';

const TIMEOUT = 180_000;
const MOBILE = '17796761085';

describe('the popup signs in to 114 and fills a watch from the choosers', () => {
  let profile;
  let home;
  let context;
  let sandbox;
  let base;

  /** The browser's cookies for the sandbox's 114yygh, as a Cookie header and by name. */
  async function siteCookies() {
    const cookies = await context.cookies(base);
    return { header: cookies.map((c) => `${c.name}=${c.value}`).join('; '), byName: Object.fromEntries(cookies.map((c) => [c.name, c.value])) };
  }

  /** What the person reads in the picture now shown for the browser's session. */
  async function captchaAnswer() {
    const { byName } = await siteCookies();
    assert.ok(byName.imed_session, 'the picture request left the site’s imed_session cookie in the browser');
    const answers = await sandbox.admin('/captcha?platform=114yygh');
    assert.ok(answers[byName.imed_session], `a picture was issued for the browser's session (${Object.keys(answers).length} known)`);
    return String(answers[byName.imed_session]);
  }

  /** A GET of the sandbox's 114 API with the browser's cookies (to compare with what the popup shows). */
  async function siteGet(p) {
    const { header } = await siteCookies();
    const r = await fetch(`${base}${p}`, { headers: { 'Request-Source': 'PC', Cookie: header } });
    return (await r.json()).data;
  }

  before(async () => {
    requireBuilt('chrome');
    sandbox = await startSandbox({ scenario: 'demo.yaml' });
    base = sandbox.urls['114yygh'];
    profile = tempDir('chromium-profile');
    home = tempHome();
    registerHostForChromium(profile);
    context = await launchChromium({ profileDir: profile, env: { HAOYUAN_HOME: home } });
    // Point every platform at the sandbox, as a person does on the options page.
    const options = await context.newPage();
    await options.goto(extensionUrl('options.html'));
    await options.locator('[data-testid="base-url-114yygh"]').waitFor({ timeout: 30_000 });
    for (const [id, url] of Object.entries(sandbox.urls)) {
      if (id !== 'admin') await options.fill(`[data-testid="base-url-${id}"]`, url);
    }
    await options.click('[data-testid="save-urls"]');
    await options.locator('#urls-message', { hasText: /Saved|已保存/ }).waitFor({ timeout: 10_000 });
    await options.close();
  });

  after(async () => {
    await context?.close();
    sandbox?.stop();
    removeDir(profile);
    removeDir(home);
  });

  test('signing in through the popup: picture code (one wrong try), SMS code, signed in', { timeout: TIMEOUT }, async () => {
    let page = await openPopup(context);
    const status = page.locator('[data-testid="yygh-login-status"]');
    await page.locator('[data-testid="yygh-login-status"][data-state="signed_out"]').waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /Not signed in/);

    await page.fill('[data-testid="yygh-phone"]', MOBILE);
    await page.click('[data-testid="yygh-start"]');
    const img = page.locator('img[data-testid="yygh-captcha-img"]');
    await img.waitFor({ state: 'visible', timeout: 30_000 });
    const firstPicture = await img.getAttribute('src');
    assert.match(firstPicture, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the picture is shown');
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-114-captcha.png') });

    // A wrong answer: a note, and a new picture.
    const answer = await captchaAnswer();
    assert.match(answer, /^\d{4}$/);
    const wrong = String((Number(answer) + 1) % 10_000).padStart(4, '0');
    await page.fill('[data-testid="yygh-captcha-input"]', wrong);
    await page.click('[data-testid="yygh-captcha-submit"]');
    await page.locator('[data-testid="yygh-login-note"]', { hasText: /did not match the picture/ }).waitFor({ timeout: 30_000 });
    await waitFor(async () => (await img.getAttribute('src')) !== firstPicture && (await img.isVisible()), { what: 'a new picture' });

    // The right answer for the new picture: the SMS code is asked for.
    await page.fill('[data-testid="yygh-captcha-input"]', await captchaAnswer());
    await page.click('[data-testid="yygh-captcha-submit"]');
    await page.locator('[data-testid="yygh-sms-input"]').waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await status.innerText(), /177\*{4}1085/);
    const sms = await waitFor(async () => {
      const inbox = await sandbox.admin(`/inbox?phone=${MOBILE}`);
      return inbox.filter((m) => m.platform === '114yygh').at(-1);
    }, { what: 'the login SMS in the phone inbox' });
    await page.fill('[data-testid="yygh-sms-input"]', sms.code);
    await page.click('[data-testid="yygh-sms-submit"]');
    await page.locator('[data-testid="yygh-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /Signed in to 114/);
    assert.equal(await page.locator('[data-testid="yygh-sms-input"]').isVisible(), false);
    assert.ok((await siteCookies()).byName['cmi-user-ticket'], 'the site’s login cookie is in the browser');
    await page.close();

    // Reopened: the session is alive (the cookies are the browser's, not the popup's).
    page = await openPopup(context);
    await page.locator('[data-testid="yygh-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('[data-testid="yygh-login-status"]').innerText(), /Signed in to 114/);
    assert.equal(await page.locator('[data-testid="yygh-phone"]').isVisible(), false);
    await page.close();
  });

  test('the choosers fill the watch form: hospital, clinic, patient; the host keeps them', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(context);
    await waitForState(page, 'connected');
    await page.locator('[data-testid="yygh-login-status"][data-state="signed_in"]').waitFor({ timeout: 30_000 });
    await page.selectOption('#platform', '114yygh');
    await page.locator('[data-testid="target-pickers"]').waitFor({ state: 'visible' });

    // Hospital: search, choose.
    await page.fill('[data-testid="pick-hospital-query"]', '协和');
    await page.click('[data-testid="pick-hospital-search"]');
    const option = page.locator('[data-testid="pick-hospital-option"]', { hasText: '北京协和医院' });
    await option.first().waitFor({ timeout: 30_000 });
    const names = await page.locator('[data-testid="pick-hospital-option"] .pick-name').allInnerTexts();
    assert.ok(names.every((n) => n.includes('协和')), `only hospitals matching 协和: ${names}`);
    assert.equal(await option.first().getAttribute('data-code'), '1');
    await option.first().click();
    assert.equal(await page.inputValue('[name="target.hos_code"]'), '1');
    assert.equal(await page.inputValue('[name="target.hos_name"]'), '北京协和医院');

    // Clinic: the first clinic of the first department, as the site lists them.
    const dept = (await siteGet('/web/department/hos/list?hosCode=1')).list[0];
    const clinic = dept.subList[0];
    const select = page.locator('[data-testid="pick-department"]');
    await page.locator('[data-testid="pick-department"]:not([disabled]) optgroup').first().waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await select.locator('optgroup').first().getAttribute('label'), dept.name);
    await select.selectOption({ label: clinic.name });
    assert.equal(await page.inputValue('[name="target.first_dept_code"]'), clinic.dept1Code ?? dept.code);
    assert.equal(await page.inputValue('[name="target.second_dept_code"]'), clinic.code);
    assert.equal(await page.inputValue('[name="target.dept_name"]'), clinic.name);

    // Patient: the first patient's first card, as the site lists them (masked).
    const patients = (await siteGet('/web/patient/list?showType=ORDER_CONFIRM')).list;
    assert.ok(patients.length && patients[0].cardList.length, 'the sandbox account has a patient with a card');
    const [patient] = patients;
    const [card] = patient.cardList;
    const patientSelect = page.locator('[data-testid="pick-patient"]');
    await page.locator('[data-testid="pick-patient"]:not([disabled]) option[value="0"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.match(await patientSelect.locator('option[value="0"]').innerText(), new RegExp(`^${patient.patientName} · .*${card.cardNo.replace(/\*/g, '\\*')}$`));
    await patientSelect.selectOption('0');
    assert.equal(await page.inputValue('[name="target.patient_name"]'), patient.patientName);
    assert.equal(await page.inputValue('[name="target.card_type"]'), card.cardType);
    const tail = card.cardNo.slice(-4);
    assert.equal(await page.inputValue('[name="target.card_no"]'), tail);

    // Save: the host keeps the chosen codes and patient.
    await page.fill('#label', 'E2E 114 choosers');
    await page.fill('#end', chinaDate(7));
    await page.click('#add-watch');
    await page.locator('[data-testid="watch-item"]').first().waitFor({ timeout: 30_000 });
    const [listed] = await listedWatches(page);
    assert.equal(listed.label, 'E2E 114 choosers');
    assert.match(listed.summary, new RegExp(`^114 · 北京协和医院 · ${clinic.name}`));
    assert.equal(await page.inputValue('[name="target.hos_code"]'), '', 'the form is cleared after saving');
    assert.equal(await page.locator('[data-testid="pick-hospital-chosen"]').innerText(), '');

    const reply = await extensionRequest(page, 'watch_list');
    assert.ok(reply.ok, JSON.stringify(reply.error));
    const saved = reply.data.watches.find((w) => w.id === listed.id);
    assert.ok(saved, 'the host lists the watch');
    assert.deepEqual(
      {
        hos_code: saved.target.hos_code,
        first_dept_code: saved.target.first_dept_code,
        second_dept_code: saved.target.second_dept_code,
        hos_name: saved.target.hos_name,
        dept_name: saved.target.dept_name,
        patient_name: saved.target.patient_name,
        card_type: saved.target.card_type,
        card_no: saved.target.card_no,
      },
      {
        hos_code: '1',
        first_dept_code: clinic.dept1Code ?? dept.code,
        second_dept_code: clinic.code,
        hos_name: '北京协和医院',
        dept_name: clinic.name,
        patient_name: patient.patientName,
        card_type: card.cardType,
        card_no: tail,
      },
    );
    await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-114.png'), fullPage: true });
    await page.close();
  });

  test('a hospital search with no match, and a failing site, are said in plain words next to the chooser', { timeout: TIMEOUT }, async () => {
    const page = await openPopup(context);
    await page.selectOption('#platform', '114yygh');
    await page.fill('[data-testid="pick-hospital-query"]', '没有这家医院');
    await page.press('[data-testid="pick-hospital-query"]', 'Enter');
    await page.locator('[data-testid="pick-hospital-message"]', { hasText: /No hospital matches/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="pick-hospital-option"]').count(), 0);
    assert.equal(await page.locator('#form-error').innerText(), '', 'Enter searched; it did not submit the watch form');

    await sandbox.admin('/faults', { platform: '114yygh', route: '/web/hospital/list', kind: 'status', status: 502, count: 1 });
    await page.fill('[data-testid="pick-hospital-query"]', '协和');
    await page.click('[data-testid="pick-hospital-search"]');
    const msg = page.locator('[data-testid="pick-hospital-message"].error');
    await msg.waitFor({ timeout: 30_000 });
    assert.match(await msg.innerText(), /^搜索失败 Search failed: \S/);
    assert.doesNotMatch(await msg.innerText(), /undefined|\[object/);
    await page.close();
  });
});

describe('the popup shows what each 114 watch is doing and asks for the booking SMS code', () => {
  /** The watch's item in the popup. */
  const itemOf = (page, id) => page.locator(`[data-testid="watch-item"][data-watch-id="${id}"]`);

  test('a booking that needs the SMS code: the popup asks, the code typed there books once', { timeout: 240_000 }, () =>
    withWorld({ secondsToRelease: 25, scenario: 'demo-order-sms.yaml', email: false }, async (w) => {
      const page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'book' });
      const item = itemOf(page, watch.id);
      const live = item.locator('[data-testid="watch-live"]');
      const last = item.locator('[data-testid="watch-last-event"]');

      // Before the release: the item says the watch is waiting (or looking) and shows its latest event.
      await item.locator('[data-testid="watch-live"]:is([data-state="waiting"], [data-state="polling"])').waitFor({ timeout: 30_000 });
      assert.match(await live.innerText(), /^(等待 waiting for the next look|查询中 checking)$/);
      await last.waitFor({ timeout: 30_000 });
      assert.notEqual((await last.innerText()).trim(), '');
      assert.equal(await item.locator('[data-testid="order-sms-input"]').isVisible(), false, 'no code asked for yet');

      // The release: the booking asks for the SMS code in the watch's item.
      const input = item.locator('[data-testid="order-sms-input"]');
      await input.waitFor({ state: 'visible', timeout: 90_000 });
      assert.equal(await live.getAttribute('data-state'), 'needs_answer');
      assert.match(await live.innerText(), /需要短信验证码 needs the SMS code/);
      assert.match(await item.locator('[data-testid="order-sms-label"]').innerText(), /177\*{4}1085/);
      const [state] = (await runtimeState(w)).filter((s) => s.watch_id === watch.id);
      assert.equal(state.prompt?.kind, 'order_sms', JSON.stringify(state));
      assert.deepEqual(await siteOrders(w), [], 'no order before the code');
      await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-114-order-sms.png'), fullPage: true });

      // The person reads the booking SMS (not the login one) and types it in the popup.
      const sms = await waitFor(async () => (await w.sandbox.admin(`/inbox?phone=${MOBILE}`)).filter((m) => m.platform === '114yygh' && /挂号/.test(m.text)).at(-1), {
        what: 'the booking SMS in the phone inbox',
      });
      await input.fill(sms.code);
      await item.locator('[data-testid="order-sms-submit"]').click();
      await input.waitFor({ state: 'hidden', timeout: 10_000 });

      // Booked: once, and the item says finished with the order number.
      const booked = await waitForEvent(page, watch.id, 'booked', { timeoutMs: 60_000 });
      const orderNo = booked.data.order_no;
      assert.ok(orderNo, JSON.stringify(booked.data));
      await item.locator('[data-testid="watch-live"][data-state="stopped"]').waitFor({ timeout: 30_000 });
      assert.match(await live.innerText(), new RegExp(`^已结束 finished: booked: .*order ${orderNo}$`));
      await waitFor(async () => (await last.getAttribute('data-kind')) === 'booked', { what: 'the booked event as the latest' });
      assert.match(await last.innerText(), new RegExp(`booked: .*order ${orderNo}`));
      assert.equal(await input.isVisible(), false);
      const orders = await siteOrders(w);
      assert.equal(orders.length, 1, JSON.stringify(orders));
      assert.equal(orders[0].orderNo ?? orders[0].order_no, orderNo);
      const kinds = (await history(page, watch.id)).map((e) => e.kind);
      assert.equal(kinds.filter((k) => k === 'booking_submitted').length, 1, kinds.join());
      assert.equal(await page.locator('[data-testid="yygh-login-needed"]').isVisible(), false);
      await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-114-order-sms-booked.png'), fullPage: true });

      // Reopened: the state and the latest event are read again.
      const again = await openPopup(w.context);
      const item2 = itemOf(again, watch.id);
      await item2.locator('[data-testid="watch-live"][data-state="stopped"]').waitFor({ timeout: 30_000 });
      await item2.locator('[data-testid="watch-last-event"][data-kind="booked"]').waitFor({ timeout: 30_000 });
      assert.match(await item2.locator('[data-testid="watch-last-event"]').innerText(), new RegExp(`order ${orderNo}`));
      await again.close();
    }));

  test('the 114 session expires: the item and the sign-in panel say so; signing in again resumes the watch', { timeout: 240_000 }, () =>
    withWorld({ secondsToRelease: 900, email: false }, async (w) => {
      let page = await signIn(w);
      const watch = await addWatch(w, page, { mode: 'notify', interval: 15 });
      await waitFor(async () => (await siteRequests(w)).length >= 1, { timeoutMs: 60_000, what: 'a first poll' });
      const needed = page.locator('[data-testid="yygh-login-needed"]');
      assert.equal(await needed.isVisible(), false, 'nothing to say while the session is alive');

      await w.sandbox.admin('/platform/114yygh/expire_sessions', {});
      const live = itemOf(page, watch.id).locator('[data-testid="watch-live"]');
      await itemOf(page, watch.id).locator('[data-testid="watch-live"][data-state="needs_login"]').waitFor({ timeout: 60_000 });
      assert.match(await live.innerText(), /^需要登录 sign in to 114 again: \S/);
      await needed.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await needed.innerText(), /Watching paused: sign in to 114 again/);
      assert.ok(await page.locator('#yygh-section.needs-login').count(), 'the sign-in panel is marked');
      await waitFor(async () => (await last(page, watch.id)) === 'session_expired', { what: 'the session_expired event as the latest' });
      await page.screenshot({ path: path.join(artifactDir('e2e'), 'popup-114-needs-login.png'), fullPage: true });
      await page.close();

      // The login SMS may be asked again only a minute after the first: move the site's clock on.
      await w.sandbox.admin('/clock', { advance_ms: 61_000 });
      page = await signIn(w);
      await waitForEvent(page, watch.id, 'session_restored', { timeoutMs: 30_000 });
      await itemOf(page, watch.id).locator('[data-testid="watch-live"]:is([data-state="waiting"], [data-state="polling"])').waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="yygh-login-needed"]').waitFor({ state: 'hidden', timeout: 10_000 });
      assert.equal(await page.locator('#yygh-section.needs-login').count(), 0);
    }));

  /** The kind of the latest event the popup shows for a watch. */
  async function last(page, id) {
    return itemOf(page, id).locator('[data-testid="watch-last-event"]').getAttribute('data-kind');
  }
});
