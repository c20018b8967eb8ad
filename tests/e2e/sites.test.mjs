// tests/e2e/sites.test.mjs — 91160 and pati_service in the extension's pages, in Debian
// Chromium with the built extension and the real haoyuan-host registered in a fresh
// profile, against the sandbox (tests/sandbox/scenarios/sites-e2e.yaml: 91160 and pati
// both have numbers tomorrow morning). The host runs these watches itself.
//   - options page: a 91160 appToken (name, token, the sandbox as its server) and a pati
//     account (the hospital's server, phone, password) are stored through the host and
//     listed without their secrets (the pati phone masked); a patient whose ID number has
//     a wrong check digit is refused with the host's words beside the ID field and not
//     added; the right one is added and listed masked;
//   - popup, 91160: before anything is chosen the core's error is beside the hospital
//     chooser; then account → hospital → department → doctor → patient with the choosers
//     (filled by site_browse and patient_list), book mode; the watch the host stores has
//     exactly the picked ids, names, release time, cycle and patient;
//   - popup, pati: account (masked as listed) → department 心血管内科 → doctor 张建国 →
//     the first family member, morning, book mode; the stored watch has them;
//   - both watches get `booked` shown live in the popup's list, and the sandbox has the
//     two bookings (the 91160 order for 张三丰, the pati booking for the picked member);
//   - the 91160 booking is cancelled from the popup: a blank reason is refused in the
//     host's words, a reason cancels it at the site and the item shows `cancelled`.
//
// Needs `scripts/build.sh` first. Run: node --test tests/e2e/sites.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { artifactDir, chinaDate, registerHostForChromium, removeDir, requireBuilt, tempDir, tempHome, waitFor } from './lib/env.mjs';
import { extensionRequest, extensionUrl, launchChromium, openPopup, waitForState } from './lib/chromium.mjs';
import { startSandbox } from './lib/sandbox.mjs';

const TIMEOUT = 240_000;
const TOKEN = '75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL';
const PATI = { phone: '13812345678', masked: '138****5678', password: 'pati123456' };

/** A resident ID from its first 17 characters, with the GB 11643 check digit. */
function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

const GOOD_ID = residentId('11010519800101123');
/** The same with another check digit. */
const BAD_ID = GOOD_ID.slice(0, 17) + (GOOD_ID[17] === '0' ? '1' : '0');

const shot = (page, name) => page.screenshot({ path: path.join(artifactDir('e2e'), name), fullPage: true });

/** The options' [data-id] and text of the chosen option of a chooser. */
async function chosen(page, testid) {
  return page.locator(`[data-testid="${testid}"]`).evaluate((s) => ({ id: s.selectedOptions[0]?.dataset.id ?? '', text: s.selectedOptions[0]?.textContent ?? '' }));
}

/** Waits until chooser `testid` is enabled with more than its blank option. */
async function choicesOf(page, testid) {
  const sel = page.locator(`[data-testid="${testid}"]`);
  await waitFor(async () => (await sel.isEnabled()) && (await sel.locator('option').count()) > 1, { timeoutMs: 30_000, what: `choices in ${testid}` });
  return sel.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, id: o.dataset.id ?? '', text: o.textContent })));
}

async function allWatches(page) {
  const r = await extensionRequest(page, 'watch_list', { limit: 200 });
  assert.ok(r.ok, JSON.stringify(r.error));
  return r.data.watches;
}

async function sandboxOrders(w, platform) {
  const o = await w.sandbox.admin(`/orders?platform=${platform}`);
  return Array.isArray(o) ? o : Object.values(o).flat();
}

describe('91160 and pati_service: accounts and patients in the options, watches from the popup’s choosers', () => {
  const w = { profile: null, home: null, sandbox: null, context: null };
  const picked = {};

  before(async () => {
    requireBuilt('chrome');
    w.profile = tempDir('chromium-profile');
    w.home = tempHome();
    w.sandbox = await startSandbox({ scenario: 'sites-e2e.yaml' });
    registerHostForChromium(w.profile);
    w.context = await launchChromium({ profileDir: w.profile, env: { HAOYUAN_HOME: w.home } });
  });

  after(async () => {
    await w.context?.close().catch(() => {});
    w.sandbox?.stop();
    removeDir(w.profile);
    removeDir(w.home);
  });

  test('options: a 91160 token and a pati account stored without showing their secrets; a patient checked by the host', { timeout: TIMEOUT }, async () => {
    const page = await w.context.newPage();
    await page.goto(extensionUrl('options.html'));
    await page.locator('#host-status[data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="site-accounts-message"]', { hasText: /No account stored yet/ }).waitFor({ timeout: 10_000 });

    // 91160: the default name, the token, the sandbox as the server.
    assert.equal(await page.inputValue('[data-testid="acct-91160-name"]'), 'default');
    await page.fill('[data-testid="acct-91160-token"]', TOKEN);
    await page.fill('[data-testid="acct-91160-base"]', w.sandbox.urls['91160']);
    await page.click('[data-testid="acct-91160-save"]');
    await page.locator('[data-testid="site-account"][data-platform="91160"][data-account="default"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.inputValue('[data-testid="acct-91160-token"]'), '', 'the token field is cleared once sent');
    assert.match(await page.locator('[data-testid="site-account"][data-platform="91160"]').innerText(), /token stored/);

    // pati: the hospital's server, phone and password.
    await page.fill('[data-testid="pati-base"]', w.sandbox.urls.pati);
    await page.fill('[data-testid="pati-phone"]', PATI.phone);
    await page.fill('[data-testid="pati-password"]', PATI.password);
    await page.click('[data-testid="acct-pati-save"]');
    const patiItem = page.locator(`[data-testid="site-account"][data-platform="pati"][data-account="${PATI.masked}"]`);
    await patiItem.waitFor({ timeout: 10_000 });
    assert.match(await patiItem.innerText(), /password stored/);
    assert.equal(await page.inputValue('[data-testid="pati-password"]'), '');
    const html = await page.content();
    for (const secret of [TOKEN, PATI.password, PATI.phone]) assert.ok(!html.includes(secret), `the page does not show ${secret}`);
    const accounts = await extensionRequest(page, 'site_accounts');
    assert.deepEqual(accounts.data.accounts.map((a) => [a.platform, a.account, a.has_secret]).sort(), [['91160', 'default', true], ['pati', PATI.masked, true]]);

    // A patient whose ID's check digit is wrong: the host's words beside the ID field.
    const fillPatient = async (id) => {
      await page.fill('[data-testid="patient-name"]', '张三丰');
      await page.selectOption('[data-testid="patient-id_type"]', 'resident_id');
      await page.fill('[data-testid="patient-id_number"]', id);
      await page.fill('[data-testid="patient-birthday"]', '1980-01-01');
      await page.selectOption('[data-testid="patient-sex"]', 'male');
      await page.fill('[data-testid="patient-phone"]', '13912345678');
      await page.fill('[data-testid="patient-address"]', '北京市东城区某街1号');
      await page.fill('[data-testid="patient-card_no"]', '00123456');
    };
    await fillPatient(BAD_ID);
    await page.click('[data-testid="save-patient"]');
    const idError = page.locator('#patient-form [data-error-for="id_number"]');
    await waitFor(async () => (await idError.textContent()).trim(), { timeoutMs: 10_000, what: 'the ID number error' });
    assert.match(await idError.textContent(), /does not match the others/);
    assert.equal(await page.locator('#patient-form .field[data-field="id_number"]').getAttribute('class'), 'field invalid');
    assert.equal(await page.locator('#patient-form [data-error-for="name"]').textContent(), '', 'no error beside the name');
    await shot(page, 'options-sites-patient-error.png');
    assert.equal((await extensionRequest(page, 'patient_list')).data.patients.length, 0, 'the refused patient is not stored');
    assert.equal(await page.locator('[data-testid="patient-item"]').count(), 0);

    // The right number: added, listed as the host shows it (masked).
    await page.fill('[data-testid="patient-id_number"]', GOOD_ID);
    await page.click('[data-testid="save-patient"]');
    const item = page.locator('[data-testid="patient-item"]');
    await item.waitFor({ timeout: 10_000 });
    assert.equal(await idError.textContent(), '', 'the error is gone');
    assert.equal(await item.locator('[data-testid="patient-name"]').textContent(), '张*丰');
    const facts = await item.locator('[data-testid="patient-facts"]').textContent();
    assert.ok(facts.includes('*') && !facts.includes(GOOD_ID) && !facts.includes('13912345678'), facts);
    assert.ok(facts.includes(GOOD_ID.slice(0, 3)) && facts.includes('1980'), facts);
    const patients = (await extensionRequest(page, 'patient_list')).data.patients;
    assert.equal(patients.length, 1);
    picked.patientId = patients[0].id;
    await shot(page, 'options-sites.png');
    await page.close();
  });

  test('popup: a 91160 watch and a pati watch from the choosers, as the host stores them', { timeout: TIMEOUT }, async () => {
    assert.ok(picked.patientId, 'the options test added the patient');
    const page = await openPopup(w.context);
    picked.page = page;
    await waitForState(page, 'connected');
    const tomorrow = chinaDate(1);

    // ---- 91160 ----
    await page.selectOption('#platform', '91160');
    await page.locator('#site-pickers').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#target-fields details').getAttribute('open'), null, 'the id inputs are folded away');
    // The only account is chosen and the hospitals come from the host.
    const units = await choicesOf(page, 'site-unit');
    assert.equal(units.length, 31, 'a blank and the 30 hospitals');
    assert.equal((await chosen(page, 'site-account')).id, 'default');
    // Nothing chosen yet: the core's error is beside the hospital chooser.
    await page.fill('#end', tomorrow);
    await page.click('[data-testid="add-watch"]');
    const unitError = page.locator('#site-pickers [data-error-for="target.unit_id"]');
    await waitFor(async () => (await unitError.textContent()).trim(), { timeoutMs: 5_000, what: 'the hospital error' });
    assert.equal(await page.locator('#site-pickers .field[data-field="target.unit_id"]').getAttribute('class'), 'field invalid');
    assert.equal((await allWatches(page)).length, 0, 'nothing stored');

    await page.selectOption('[data-testid="site-unit"]', units[1].value);
    assert.equal(await unitError.textContent(), '', 'choosing clears the error');
    const deps = await choicesOf(page, 'site-dep');
    await page.selectOption('[data-testid="site-dep"]', deps[1].value);
    const doctors = await choicesOf(page, 'site-doctor');
    await page.selectOption('[data-testid="site-doctor"]', doctors[1].value);
    const patientChoices = await choicesOf(page, 'site-patient');
    assert.equal(patientChoices.length, 2);
    assert.ok(patientChoices[1].text.startsWith('张*丰') && !patientChoices[1].text.includes(GOOD_ID), patientChoices[1].text);
    await page.selectOption('[data-testid="site-patient"]', patientChoices[1].value);
    // A refresh asks the site again (the host's cache is bypassed) and keeps the list.
    const doctorLists = async () => (await w.sandbox.admin('/requests?platform=91160&limit=10000')).filter((r) => r.path.includes('doctorList')).length;
    const listedBefore = await doctorLists();
    assert.ok(listedBefore >= 1, 'the doctors were read from the site');
    await page.selectOption('[data-testid="site-doctor"]', '');
    await page.click('[data-testid="site-doctor-refresh"]');
    await waitFor(async () => (await doctorLists()) > listedBefore, { timeoutMs: 10_000, what: 'a doctorList request for the refresh' });
    assert.deepEqual(await choicesOf(page, 'site-doctor'), doctors);
    await page.selectOption('[data-testid="site-doctor"]', doctors[1].value);

    const unitsRaw = (await extensionRequest(page, 'site_browse', { platform: '91160', account: 'default', what: 'units' })).data.items;
    const unit = unitsRaw.find((u) => String(u.id) === units[1].id);
    assert.ok(unit, 'the chosen hospital is one the host lists');
    picked.r91160 = {
      unit_id: units[1].id,
      unit_name: unit.name,
      dep_id: deps[1].id,
      dep_name: deps[1].text.split(' · ')[0],
      doctor_id: doctors[1].id,
      doctor_name: doctors[1].text.split(' · ')[0],
      open_time: String(unit.open_time ?? ''),
      cycle_days: Number(unit.cycle_days ?? 0),
    };
    // The hospital's release time and cycle come with it (they go into the target).
    assert.match(picked.r91160.open_time, /\d{1,2}:\d{2}/, JSON.stringify(unit));
    assert.ok(picked.r91160.cycle_days > 0, JSON.stringify(unit));
    assert.equal(await page.inputValue('[data-target-field="open_time"]'), picked.r91160.open_time);
    await page.fill('#label', '91160 e2e');
    await page.fill('#start', tomorrow);
    await page.fill('#end', tomorrow);
    await page.check('input[name="mode"][value="book"]');
    await page.fill('#interval', '15');
    await shot(page, 'popup-91160-pickers.png');
    await page.click('[data-testid="add-watch"]');
    await page.locator('[data-testid="form-message"]', { hasText: /Added/ }).waitFor({ timeout: 10_000 });

    let stored = (await allWatches(page)).find((x) => x.label === '91160 e2e');
    assert.ok(stored, 'the host stored the 91160 watch');
    const t = stored.target;
    assert.equal(t.platform, '91160');
    for (const k of ['unit_id', 'dep_id', 'doctor_id']) assert.equal(String(t[k]), picked.r91160[k], k);
    for (const k of ['unit_name', 'dep_name', 'doctor_name']) assert.equal(t[k], picked.r91160[k], k);
    assert.ok(picked.r91160.unit_name && picked.r91160.dep_name && picked.r91160.doctor_name, JSON.stringify(picked.r91160));
    assert.equal(t.open_time, picked.r91160.open_time);
    assert.equal(t.cycle_days, picked.r91160.cycle_days);
    assert.equal(t.patient_id, picked.patientId);
    assert.equal(t.account, 'default');
    assert.equal(stored.mode, 'book');
    assert.deepEqual([stored.window.start, stored.window.end], [tomorrow, tomorrow]);
    picked.w91160 = stored.id;

    // ---- pati ----
    await page.selectOption('#platform', 'pati');
    const depts = await choicesOf(page, 'site-dept');
    assert.equal((await chosen(page, 'site-account')).id, PATI.masked);
    assert.equal(await page.inputValue('[data-target-field="account"]'), PATI.masked, 'the watch names the account as listed; the host resolves it');
    const cardio = depts.find((d) => d.text.startsWith('心血管内科'));
    assert.ok(cardio, JSON.stringify(depts));
    await page.selectOption('[data-testid="site-dept"]', cardio.value);
    const patiDoctors = await choicesOf(page, 'site-doctor');
    const zhang = patiDoctors.find((d) => d.text.startsWith('张建国'));
    assert.ok(zhang, JSON.stringify(patiDoctors));
    await page.selectOption('[data-testid="site-doctor"]', zhang.value);
    const members = await choicesOf(page, 'site-member');
    assert.equal(members.length, 3, 'a blank and the two family members');
    assert.ok(members[1].text.includes('*'), `members are masked: ${members[1].text}`);
    await page.selectOption('[data-testid="site-member"]', members[1].value);
    picked.pati = {
      dept_id: cardio.id,
      dept_name: '心血管内科',
      doctor_id: zhang.id,
      doctor_name: '张建国',
      member_id: members[1].id,
      member_name: members[1].text.split(' · ')[0],
    };
    await page.fill('#label', 'pati e2e');
    await page.fill('#start', tomorrow);
    await page.fill('#end', tomorrow);
    await page.check('input[name="periods"][value="morning"]');
    await page.check('input[name="mode"][value="book"]');
    await page.fill('#interval', '15');
    await shot(page, 'popup-pati-pickers.png');
    await page.click('[data-testid="add-watch"]');
    await page.locator('[data-testid="form-message"]', { hasText: /Added: pati e2e/ }).waitFor({ timeout: 10_000 });

    stored = (await allWatches(page)).find((x) => x.label === 'pati e2e');
    assert.ok(stored, 'the host stored the pati watch');
    assert.equal(stored.target.platform, 'pati');
    assert.equal(stored.target.account, PATI.masked);
    for (const [k, v] of Object.entries(picked.pati)) assert.equal(String(stored.target[k]), v, k);
    assert.ok(picked.pati.dept_id && picked.pati.doctor_id && picked.pati.member_id, JSON.stringify(picked.pati));
    assert.deepEqual(stored.filters.periods, ['morning']);
    assert.equal(stored.mode, 'book');
    picked.wPati = stored.id;
  });

  test('popup: both watches are booked by the host and shown live; the 91160 booking is cancelled with a reason', { timeout: TIMEOUT }, async () => {
    const page = picked.page;
    assert.ok(page && picked.w91160 && picked.wPati, 'the watches were added');
    const item = (id) => page.locator(`[data-testid="watch-item"][data-watch-id="${id}"]`);
    for (const id of [picked.w91160, picked.wPati]) {
      // The live line turns to the host's booked event, without reopening the popup.
      await item(id).locator('[data-testid="watch-last-event"][data-kind="booked"]').waitFor({ timeout: 120_000 });
      await item(id).locator('[data-testid="booking-cancel"]').waitFor({ state: 'visible', timeout: 10_000 });
    }
    await shot(page, 'popup-sites-booked.png');

    const orders = (await sandboxOrders(w, '91160')).filter((o) => o.competitor !== true);
    assert.equal(orders.length, 1, JSON.stringify(orders));
    assert.equal(orders[0].trueName, '张三丰');
    assert.equal(orders[0].scheduleDate, chinaDate(1));
    const books = (await sandboxOrders(w, 'pati')).filter((o) => o.phone === PATI.phone);
    assert.equal(books.length, 1, JSON.stringify(books));
    assert.equal(String(books[0].memberId), picked.pati.member_id);
    assert.equal(books[0].doctorName, '张建国');

    // Cancel the 91160 booking: a blank reason is refused by the host, in its words.
    const it91160 = item(picked.w91160);
    await it91160.locator('[data-testid="booking-cancel"]').click();
    await it91160.locator('[data-testid="booking-cancel-submit"]').click();
    const note = it91160.locator('[data-testid="booking-cancel-note"]');
    await note.filter({ hasText: /Not cancelled/ }).waitFor({ timeout: 10_000 });
    assert.match(await note.textContent(), /reason|why/i);
    assert.notEqual((await sandboxOrders(w, '91160')).find((o) => o.orderId === orders[0].orderId)?.status, 'cancelled');

    await it91160.locator('[data-testid="booking-cancel-reason"]').fill('行程有变');
    await it91160.locator('[data-testid="booking-cancel-submit"]').click();
    await note.filter({ hasText: /已取消 Cancelled/ }).waitFor({ timeout: 30_000 });
    await it91160.locator('[data-testid="watch-last-event"][data-kind="cancelled"]').waitFor({ timeout: 30_000 });
    await it91160.locator('[data-testid="booking-cancel"]').waitFor({ state: 'hidden', timeout: 10_000 });
    const after = (await sandboxOrders(w, '91160')).find((o) => String(o.orderId) === String(orders[0].orderId));
    assert.equal(after?.status, 'cancelled', JSON.stringify(after));
    // The pati booking is untouched and can still be cancelled.
    assert.ok(await item(picked.wPati).locator('[data-testid="booking-cancel"]').isVisible());
    assert.notEqual((await sandboxOrders(w, 'pati')).find((o) => o.phone === PATI.phone)?.status, 'cancelled');
    await shot(page, 'popup-sites-cancelled.png');
  });
});
