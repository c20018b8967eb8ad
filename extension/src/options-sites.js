// options-sites.js — the options page's 91160 / pati_service sections, all kept by the
// host: the stored site accounts (a 91160 appToken under a name, optionally for another
// server; a pati account: the hospital's server, the phone and its password), listed as
// the host shows them (site_accounts: never a secret, pati phones masked) and deleted with
// site_account_delete; and the patient book (patient_put / patient_list / patient_delete),
// listed as the host returns it (masked), with the host's checks (`invalid_patient`
// fields) shown beside the inputs. Tokens and passwords go to the host and are cleared
// from the page once sent; nothing of them is kept in the browser (a pati watch names its
// account by the masked phone, which the host resolves).

import { clearFieldErrors, h, hostRequest, showFieldErrors } from './ui.js';

const $ = (sel) => document.querySelector(sel);

let loaded = false;

// ---- site accounts ----------------------------------------------------------------------------

function accountItem(a) {
  const del = h('button', {
    type: 'button',
    class: 'small danger',
    'data-testid': 'site-account-delete',
    text: '删除 Delete',
    onclick: () => deleteAccount(a, del),
  });
  const facts = [
    a.platform === 'pati' ? a.base_url : a.base_url || '',
    a.has_secret ? (a.platform === '91160' ? '令牌已保存 token stored' : '密码已保存 password stored') : '未保存密钥 no secret',
    a.platform === 'pati' ? (a.signed_in ? '已登录 signed in' : '未登录 not signed in yet') : '',
  ].filter(Boolean);
  return h(
    'li',
    { class: 'site-account', 'data-testid': 'site-account', 'data-platform': a.platform, 'data-account': a.account },
    h('span', { class: 'site-account-name', text: `${a.platform === '91160' ? '91160' : 'pati'} · ${a.account}` }),
    h('span', { class: 'muted', text: ` ${facts.join(' · ')}` }),
    del,
  );
}

async function loadAccounts() {
  const reply = await hostRequest('site_accounts');
  if (!reply.ok) {
    $('#site-accounts-message').textContent = `无法读取账户 Could not load the accounts: ${reply.error.message}`;
    return;
  }
  const accounts = reply.data.accounts;
  $('#site-accounts-message').textContent = accounts.length ? '' : '还没有账户。No account stored yet.';
  $('#site-account-list').replaceChildren(...accounts.map(accountItem));
}

async function deleteAccount(a, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = '确认删除 Confirm';
    return;
  }
  button.disabled = true;
  const reply = await hostRequest('site_account_delete', { platform: a.platform, account: a.account });
  if (!reply.ok && reply.error.code !== 'not_found') {
    $('#site-accounts-message').textContent = `删除失败 Delete failed: ${reply.error.message}`;
    button.disabled = false;
    return;
  }
  await loadAccounts();
}

/** Saves one account form through site_account_put; the secret input is cleared once sent. */
async function saveAccount(event, { form, platform, account, base, secretInput, secretKey, message }) {
  event.preventDefault();
  const error = form.querySelector('.form-error');
  clearFieldErrors(form, error);
  message.textContent = '';
  const params = { platform, account: account.value.trim(), secret: { [secretKey]: secretInput.value } };
  if (base.value.trim()) params.base_url = base.value.trim();
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const reply = await hostRequest('site_account_put', params);
  button.disabled = false;
  if (!reply.ok) {
    if (reply.error.fields?.length) showFieldErrors(form, error, reply.error.fields);
    else error.textContent = `未保存 Not saved: ${reply.error.message}`;
    return;
  }
  secretInput.value = '';
  const view = reply.data.account;
  account.value = platform === '91160' ? account.value : '';
  message.textContent = `已保存 Saved: ${view.account}`;
  await loadAccounts();
}

// ---- patient book ------------------------------------------------------------------------------

const ID_TYPES = [
  ['resident_id', '居民身份证 Resident ID'],
  ['passport', '护照 Passport'],
  ['hk_macau_permit', '港澳通行证 HK/Macau permit'],
  ['taiwan_permit', '台胞证 Taiwan permit'],
  ['other', '其他 Other'],
];
const SEXES = [
  ['male', '男 male'],
  ['female', '女 female'],
];

/** One input of the patient form, with its error slot (`path` as the host names it). */
function patientField(path, label, { type = 'text', options = null, placeholder = '', inputmode } = {}) {
  const id = `patient-${path.replace('.', '-')}`;
  const attrs = { id, 'data-patient': path, 'data-testid': `patient-${path}` };
  const input = options
    ? h('select', attrs, ...options.map(([v, t]) => h('option', { value: v, text: t })))
    : h('input', { ...attrs, type, placeholder: placeholder || undefined, inputmode, autocomplete: 'off', spellcheck: 'false' });
  return h(
    'div',
    { class: 'field', 'data-field': path },
    h('label', { for: id, text: label }),
    input,
    h('p', { class: 'field-error', 'data-error-for': path }),
  );
}

function renderPatientForm() {
  const person = (prefix) => [
    patientField(`${prefix}name`, '姓名 Name'),
    patientField(`${prefix}id_type`, '证件类型 Document', { options: ID_TYPES }),
    patientField(`${prefix}id_number`, '证件号码 Document number', { placeholder: '18 位身份证号 18-character ID' }),
    patientField(`${prefix}birthday`, '出生日期 Birthday', { type: 'date' }),
    patientField(`${prefix}sex`, '性别 Sex', { options: SEXES }),
    patientField(`${prefix}phone`, '手机号 Mobile', { type: 'tel', inputmode: 'numeric', placeholder: '11 位 11 digits' }),
  ];
  $('#patient-fields').replaceChildren(
    ...person(''),
    patientField('address', '地址 Address (optional)'),
    patientField('card_no', '就诊卡号 Card number (optional)'),
    patientField('clinic_no', '门诊号 Clinic number (optional)'),
    h(
      'div',
      { class: 'field', 'data-field': 'guardian' },
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'patient-has-guardian', 'data-testid': 'patient-has-guardian' }), ' 未成年人：填写监护人 A minor: add the guardian'),
      h('p', { class: 'field-error', 'data-error-for': 'guardian' }),
    ),
    h(
      'fieldset',
      { id: 'patient-guardian', class: 'guardian', 'data-testid': 'patient-guardian', hidden: true },
      h('legend', { text: '监护人 Guardian' }),
      ...person('guardian.'),
      patientField('guardian.relation', '关系 Relation', { placeholder: '父亲 / 母亲' }),
    ),
  );
  $('#patient-has-guardian').addEventListener('change', (e) => {
    $('#patient-guardian').hidden = !e.target.checked;
  });
}

/** The form as a Patient; blank optional texts are left out, the host checks the rest. */
function readPatient() {
  const value = (path) => $(`[data-patient="${path}"]`).value;
  const person = (prefix) => ({
    name: value(`${prefix}name`),
    id_type: value(`${prefix}id_type`),
    id_number: value(`${prefix}id_number`),
    birthday: value(`${prefix}birthday`),
    sex: value(`${prefix}sex`),
    phone: value(`${prefix}phone`),
  });
  const patient = person('');
  for (const k of ['address', 'card_no', 'clinic_no']) if (value(k).trim()) patient[k] = value(k);
  if ($('#patient-has-guardian').checked) patient.guardian = { ...person('guardian.'), relation: value('guardian.relation') };
  return patient;
}

async function savePatient(event) {
  event.preventDefault();
  const form = $('#patient-form');
  const error = $('#patient-error');
  clearFieldErrors(form, error);
  $('#patient-message').textContent = '';
  const button = $('#save-patient');
  button.disabled = true;
  const reply = await hostRequest('patient_put', { patient: readPatient() });
  button.disabled = false;
  if (!reply.ok) {
    if (reply.error.fields?.length) {
      showFieldErrors(form, error, reply.error.fields)?.focus();
      $('#patient-message').textContent = '未保存 Not saved — fix the marked fields.';
    } else error.textContent = `未保存 Not saved: ${reply.error.message}`;
    return;
  }
  form.reset();
  $('#patient-guardian').hidden = true;
  $('#patient-message').textContent = `已添加 Added: ${reply.data.patient.name}`;
  await loadPatients();
}

function patientItem(p) {
  const del = h('button', {
    type: 'button',
    class: 'small danger',
    'data-testid': 'patient-delete',
    text: '删除 Delete',
    onclick: () => deletePatient(p, del),
  });
  const facts = [p.id_number, p.birth_year, p.sex === 'male' ? '男' : p.sex === 'female' ? '女' : p.sex, p.phone, p.card_no, p.has_guardian ? `监护人 guardian ${p.guardian_name ?? ''}` : '']
    .filter((x) => x !== undefined && x !== null && x !== '')
    .join(' · ');
  return h(
    'li',
    { class: 'patient', 'data-testid': 'patient-item', 'data-patient-id': p.id },
    h('span', { class: 'patient-name', 'data-testid': 'patient-name', text: p.name }),
    h('span', { class: 'muted', 'data-testid': 'patient-facts', text: ` ${facts}` }),
    del,
  );
}

async function loadPatients() {
  const reply = await hostRequest('patient_list');
  if (!reply.ok) {
    $('#patients-message').textContent = `无法读取就诊人 Could not load the patient book: ${reply.error.message}`;
    return;
  }
  const list = reply.data.patients;
  $('#patients-message').textContent = list.length ? '' : '就诊人名册为空。The patient book is empty.';
  $('#patient-list').replaceChildren(...list.map(patientItem));
}

async function deletePatient(p, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = '确认删除 Confirm';
    return;
  }
  button.disabled = true;
  const reply = await hostRequest('patient_delete', { id: p.id });
  if (!reply.ok && reply.error.code !== 'not_found') {
    $('#patients-message').textContent = `删除失败 Delete failed: ${reply.error.message}`;
    button.disabled = false;
    return;
  }
  await loadPatients();
}

// ---- wiring --------------------------------------------------------------------------------------

/** Sets the sections up (once); `baseUrls` prefill the servers from the base-URL overrides. */
export function setupSiteSections({ baseUrls = {} } = {}) {
  renderPatientForm();
  if (baseUrls.pati) $('#pati-base').value = baseUrls.pati;
  $('#acct-91160-form').addEventListener('submit', (e) =>
    saveAccount(e, {
      form: $('#acct-91160-form'),
      platform: '91160',
      account: $('#acct-91160-name'),
      base: $('#acct-91160-base'),
      secretInput: $('#acct-91160-token'),
      secretKey: 'app_token',
      message: $('#acct-91160-message'),
    }),
  );
  $('#acct-pati-form').addEventListener('submit', (e) =>
    saveAccount(e, {
      form: $('#acct-pati-form'),
      platform: 'pati',
      account: $('#pati-phone'),
      base: $('#pati-base'),
      secretInput: $('#pati-password'),
      secretKey: 'password',
      message: $('#acct-pati-message'),
    }),
  );
  $('#patient-form').addEventListener('submit', savePatient);
}

/** The host is connected: read the lists (once per page). */
export function loadSiteSections() {
  if (loaded) return;
  loaded = true;
  loadAccounts();
  loadPatients();
}
