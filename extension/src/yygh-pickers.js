// yygh-pickers.js — the add-watch form's choosers for 114yygh: search a hospital
// (hospital_list), choose a clinic of it (department_list, grouped by department) and a
// patient with a card (patient_list, when signed in). Each choice fills the plain target
// inputs the form is rendered with (hos_code, hos_name, first_dept_code,
// second_dept_code, dept_name, patient_name, card_type, card_no), which stay editable;
// the form reads only those. The core builds every request and reads every reply
// (yyghCall); errors are shown next to the chooser in its words.

import { h } from './ui.js';
import { yyghCall } from './yygh-login.js';

/** How many characters of the masked card number a watch keeps (the core's card_no). */
const CARD_TAIL = 4;

/**
 * Sets up the choosers inside `root` (popup.html's #target-pickers). `form` is the
 * add-watch form whose `[data-target-field]` inputs they fill.
 */
export function setupYyghPickers(root, form) {
  const $ = (sel) => root.querySelector(sel);
  const query = $('[data-testid="pick-hospital-query"]');
  const searchButton = $('[data-testid="pick-hospital-search"]');
  const results = $('[data-testid="pick-hospital-results"]');
  const hospitalMsg = $('[data-testid="pick-hospital-message"]');
  const chosen = $('[data-testid="pick-hospital-chosen"]');
  const deptSelect = $('[data-testid="pick-department"]');
  const deptMsg = $('[data-testid="pick-department-message"]');
  const patientSelect = $('[data-testid="pick-patient"]');
  const patientMsg = $('[data-testid="pick-patient-message"]');

  let shown = false;
  let signedIn = false;
  let patientsLoaded = false;
  // Each load carries a number; a reply to an older load is dropped.
  const seq = { hospital: 0, department: 0, patient: 0 };
  let departments = [];
  let patientChoices = [];

  /** Sets a target input (and clears its error), as if typed. */
  function fill(values) {
    for (const [name, value] of Object.entries(values)) {
      const input = form.querySelector(`[data-target-field="${name}"]`);
      if (!input) continue;
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      const slot = form.querySelector(`[data-error-for="target.${name}"]`);
      if (slot) slot.textContent = '';
      input.closest('.field')?.classList.remove('invalid');
      input.removeAttribute('aria-invalid');
    }
  }

  function say(el, text, error = false) {
    el.textContent = text;
    el.classList.toggle('error', error);
  }

  // ---- hospital -----------------------------------------------------------------------

  async function search() {
    const keywords = query.value.trim();
    if (!keywords) {
      say(hospitalMsg, '请输入医院名称 Type part of the hospital’s name.', true);
      return;
    }
    const n = ++seq.hospital;
    searchButton.disabled = true;
    say(hospitalMsg, '搜索中 Searching…');
    results.replaceChildren();
    const reply = await yyghCall('hospital_list', { keywords });
    if (n !== seq.hospital) return;
    searchButton.disabled = false;
    if (!reply.ok) {
      say(hospitalMsg, `搜索失败 Search failed: ${reply.error.message}`, true);
      return;
    }
    const hospitals = reply.data.list;
    if (!hospitals.length) {
      say(hospitalMsg, `没有找到“${keywords}” No hospital matches “${keywords}”.`);
      return;
    }
    say(hospitalMsg, hospitals.length < reply.data.count ? `显示 ${hospitals.length} / ${reply.data.count} — type more to narrow it down.` : '');
    results.replaceChildren(
      ...hospitals.map((hos) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'pick-option',
              'data-testid': 'pick-hospital-option',
              'data-code': hos.code,
              onclick: () => chooseHospital(hos),
            },
            h('span', { class: 'pick-name', text: hos.name }),
            h('span', {
              class: 'pick-detail',
              text: [hos.level_text, hos.open_time_text, hos.maintain ? '维护中 under maintenance' : ''].filter(Boolean).join(' · '),
            }),
          ),
        ),
      ),
    );
  }

  function chooseHospital(hos) {
    results.replaceChildren();
    say(hospitalMsg, '');
    chosen.textContent = `已选 Chosen: ${hos.name}`;
    chosen.dataset.code = hos.code;
    fill({ hos_code: hos.code, hos_name: hos.name, first_dept_code: '', second_dept_code: '', dept_name: '' });
    loadDepartments(hos.code);
  }

  // ---- department -----------------------------------------------------------------------

  function resetDepartments(placeholder) {
    departments = [];
    deptSelect.replaceChildren(h('option', { value: '', text: placeholder }));
    deptSelect.disabled = true;
  }

  async function loadDepartments(hosCode) {
    const n = ++seq.department;
    resetDepartments('加载中 Loading…');
    say(deptMsg, '');
    const reply = await yyghCall('department_list', { hos_code: hosCode });
    if (n !== seq.department) return;
    if (!reply.ok) {
      resetDepartments('— 无 none —');
      say(deptMsg, `无法读取科室 Could not load the departments: ${reply.error.message}`, true);
      return;
    }
    departments = reply.data;
    const groups = departments
      .map((d, i) =>
        d.clinics.length
          ? h('optgroup', { label: d.name }, ...d.clinics.map((c, j) => h('option', { value: `${i}.${j}`, text: c.name })))
          : null,
      )
      .filter(Boolean);
    deptSelect.replaceChildren(h('option', { value: '', text: '选择门诊 Choose a clinic' }), ...groups);
    deptSelect.disabled = groups.length === 0;
    if (!groups.length) say(deptMsg, '这家医院没有可预约的门诊 This hospital lists no clinics.');
  }

  function chooseDepartment() {
    if (!deptSelect.value) {
      fill({ first_dept_code: '', second_dept_code: '', dept_name: '' });
      return;
    }
    const [i, j] = deptSelect.value.split('.').map(Number);
    const clinic = departments[i].clinics[j];
    fill({ first_dept_code: clinic.dept1_code, second_dept_code: clinic.code, dept_name: clinic.name });
  }

  // ---- patient ----------------------------------------------------------------------------

  function resetPatients(placeholder, disabled = true) {
    patientChoices = [];
    patientSelect.replaceChildren(h('option', { value: '', text: placeholder }));
    patientSelect.disabled = disabled;
  }

  async function loadPatients() {
    if (!shown || !signedIn || patientsLoaded) return;
    patientsLoaded = true;
    const n = ++seq.patient;
    resetPatients('加载中 Loading…');
    say(patientMsg, '');
    const reply = await yyghCall('patient_list');
    if (n !== seq.patient) return;
    if (!reply.ok) {
      patientsLoaded = false;
      resetPatients('— 账户的第一位就诊人 the account’s first patient —');
      say(
        patientMsg,
        reply.error.kind === 'session_expired'
          ? '114 登录已失效，请重新登录 The 114 session has ended: sign in again above.'
          : `无法读取就诊人 Could not load the patients: ${reply.error.message}`,
        true,
      );
      return;
    }
    patientChoices = reply.data.flatMap((p) =>
      p.cards.length ? p.cards.map((card) => ({ patient: p, card })) : [{ patient: p, card: null }],
    );
    patientSelect.replaceChildren(
      h('option', { value: '', text: '— 账户的第一位就诊人 the account’s first patient —' }),
      ...patientChoices.map(({ patient, card }, i) =>
        h('option', {
          value: String(i),
          text: card ? `${patient.name} · ${card.card_type_view || card.card_type} ${card.card_no}` : patient.name,
        }),
      ),
    );
    patientSelect.disabled = false;
    if (!patientChoices.length) say(patientMsg, '账户中没有就诊人 The account has no patients: add one on the 114 site.');
  }

  function choosePatient() {
    const choice = patientChoices[Number(patientSelect.value)];
    if (!patientSelect.value || !choice) {
      fill({ patient_name: '', card_type: '', card_no: '' });
      return;
    }
    const { patient, card } = choice;
    fill({
      patient_name: patient.name,
      card_type: card?.card_type ?? '',
      card_no: card ? card.card_no.slice(-CARD_TAIL) : '',
    });
  }

  function showSignedOut() {
    patientsLoaded = false;
    ++seq.patient;
    resetPatients('— 登录后可选 sign in to choose —');
    say(patientMsg, '登录 114 后可选择就诊人 Sign in to 114 (above) to choose a patient.');
  }

  // ---- wiring -------------------------------------------------------------------------------

  searchButton.addEventListener('click', search);
  query.addEventListener('keydown', (e) => {
    // Enter searches here instead of submitting the watch form.
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      search();
    }
  });
  deptSelect.addEventListener('change', chooseDepartment);
  patientSelect.addEventListener('change', choosePatient);

  /** Clears every choice (the form's inputs were cleared or re-rendered). */
  function reset() {
    ++seq.hospital;
    ++seq.department;
    searchButton.disabled = false;
    results.replaceChildren();
    say(hospitalMsg, '');
    chosen.textContent = '';
    delete chosen.dataset.code;
    resetDepartments('先选择医院 Choose a hospital first');
    say(deptMsg, '');
    if (patientChoices.length) patientSelect.value = '';
  }

  reset();
  resetPatients('— 检查 114 登录中 checking the 114 session —');

  return {
    reset,
    /** Shows or hides the choosers (only 114yygh has them). */
    show(on) {
      shown = on;
      root.hidden = !on;
      if (on) loadPatients();
    },
    /** The 114 session is alive (or not): the patients can (or cannot) be read. */
    setSignedIn(alive) {
      signedIn = alive;
      if (!alive) showSignedOut();
      else {
        // (Re)read: a new sign-in may be another account.
        patientsLoaded = false;
        loadPatients();
      }
    },
  };
}
