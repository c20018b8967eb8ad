// site-pickers.js — the add-watch form's choosers for 91160 and pati_service, whose
// watches run in the host. Everything comes from the host through the accounts stored in
// the options page: the account (site_accounts), then the hospital → department → doctor
// (site_browse units/deps/doctors for 91160, depts/doctors for pati; ↻ asks the site
// again with refresh:true), and who is booked for: a patient of the patient book
// (patient_list, masked) for 91160, a family member of the pati account (site_browse
// members, masked by the host) for pati. Each choice fills the core form's plain target
// inputs (unit_id, unit_name, open_time, cycle_days, dep_id, …, member_name), which stay
// editable under "fill in by hand"; the form reads only those and the core builds and
// checks the watch (watch_from_form). The choosers carry the error slots of the fields
// they fill, so the core's and the host's field errors appear beside them.
//
// pati phones: the host lists them masked (138****5678); a watch names its account that
// way and the host finds the stored account it stands for, so the whole number never has
// to be in the browser.

import { h, hostRequest } from './ui.js';

export const OPEN91160 = '91160';
export const PATI = 'pati';

/** Whether `platform` gets these choosers. */
export function hasSitePickers(platform) {
  return platform === OPEN91160 || platform === PATI;
}

/**
 * Sets up the choosers inside `root` (popup.html's #site-pickers). `form` is the
 * add-watch form whose `[data-target-field]` inputs they fill.
 */
export function setupSitePickers(root, form) {
  let platform = null;
  /** The choosers of the platform shown: key → {select, msg, items, gen}. */
  let p = {};

  function fill(values) {
    for (const [name, value] of Object.entries(values)) {
      const input = form.querySelector(`[data-target-field="${name}"]`);
      if (!input) continue;
      input.value = value === undefined || value === null ? '' : String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      for (const slot of form.querySelectorAll(`[data-error-for="target.${name}"]`)) {
        slot.textContent = '';
        slot.closest('.field')?.classList.remove('invalid');
      }
      input.removeAttribute('aria-invalid');
    }
  }

  function say(el, text, error = false) {
    el.textContent = text;
    el.classList.toggle('error', error);
  }

  /** One chooser: label, select (+ refresh), its message and the error slot of `errorFor`. */
  function chooser(key, label, errorFor, { refresh } = {}) {
    const id = `site-${key}`;
    const select = h('select', { id, 'data-testid': id, disabled: true });
    const msg = h('p', { class: 'picker-message', 'data-testid': `${id}-message`, role: 'status' });
    const c = { key, select, msg, items: [], gen: 0 };
    const row = [select];
    if (refresh) {
      c.refresh = h('button', {
        type: 'button',
        class: 'small',
        'data-testid': `${id}-refresh`,
        title: '重新从网站读取 Ask the site again',
        text: '↻',
        disabled: true,
        onclick: () => refresh(true),
      });
      row.push(c.refresh);
    }
    c.el = h(
      'div',
      { class: 'field', 'data-field': errorFor },
      h('label', { for: id, text: label }),
      h('div', { class: 'inline-row' }, ...row),
      msg,
      h('p', { class: 'field-error', 'data-error-for': errorFor }),
    );
    p[key] = c;
    return c;
  }

  function clear(c, text) {
    c.gen++;
    c.items = [];
    c.select.replaceChildren(h('option', { value: '', text }));
    c.select.disabled = true;
    if (c.refresh) c.refresh.disabled = true;
    say(c.msg, '');
  }

  /** Fills `c` with `items` ({id, name, detail}); the first option is `blank`. */
  function offer(c, items, blank) {
    c.items = items;
    c.select.replaceChildren(
      h('option', { value: '', text: blank }),
      ...items.map((it, i) => h('option', { value: String(i), 'data-id': String(it.id ?? ''), text: it.detail ? `${it.name} · ${it.detail}` : it.name })),
    );
    c.select.disabled = false;
    if (c.refresh) c.refresh.disabled = false;
  }

  function chosen(c) {
    return c.select.value === '' ? null : c.items[Number(c.select.value)] ?? null;
  }

  function account() {
    return chosen(p.account)?.account ?? '';
  }

  /** site_browse into `c`; the items, or null (message shown) when it failed or was superseded. */
  async function browse(c, what, parent, refresh, blank) {
    const gen = ++c.gen;
    c.select.disabled = true;
    if (c.refresh) c.refresh.disabled = true;
    say(c.msg, '加载中 Loading…');
    const params = { platform, account: account(), what };
    if (parent) params.parent = parent;
    if (refresh) params.refresh = true;
    const reply = await hostRequest('site_browse', params);
    if (gen !== c.gen) return null;
    if (!reply.ok) {
      c.select.replaceChildren(h('option', { value: '', text: '— 无 none —' }));
      if (c.refresh) c.refresh.disabled = false;
      say(c.msg, `无法读取 Could not load: ${reply.error.message}`, true);
      return null;
    }
    const items = reply.data.items ?? [];
    offer(c, items, blank);
    const at = reply.data.cached_at ? new Date(reply.data.cached_at).toLocaleString('zh-CN', { hour12: false }) : '';
    say(c.msg, items.length ? (at ? `${items.length} 项 items · 读取于 as of ${at}` : '') : '没有可选项 Nothing to choose from.');
    return items;
  }

  // ---- accounts --------------------------------------------------------------------------

  async function loadAccounts() {
    const c = p.account;
    const gen = ++c.gen;
    say(c.msg, '加载中 Loading…');
    const reply = await hostRequest('site_accounts', { platform });
    if (gen !== c.gen) return;
    if (!reply.ok) {
      say(c.msg, `无法读取账户 Could not load the accounts: ${reply.error.message}`, true);
      return;
    }
    const accounts = reply.data.accounts;
    c.items = accounts;
    c.select.replaceChildren(
      h('option', { value: '', text: accounts.length ? '选择账户 Choose an account' : '— 无 none —' }),
      ...accounts.map((a, i) =>
        h('option', { value: String(i), 'data-id': a.account, text: a.base_url && platform === PATI ? `${a.account} · ${a.base_url}` : a.account }),
      ),
    );
    c.select.disabled = accounts.length === 0;
    say(
      c.msg,
      accounts.length ? '' : '还没有保存账户：请在设置中添加 No account stored yet: add one in Settings.',
      !accounts.length,
    );
    // One account: it is the choice.
    if (accounts.length === 1) {
      c.select.value = '0';
      chooseAccount();
    }
  }

  function chooseAccount() {
    const a = chosen(p.account);
    if (platform === OPEN91160) {
      fill({ account: a?.account ?? '' });
      resetBelowAccount();
      if (a) loadTop(false);
      return;
    }
    fill({ account: a?.account ?? '' });
    resetBelowAccount();
    if (a) {
      loadTop(false);
      loadMembers(false);
    }
  }

  // ---- 91160 ------------------------------------------------------------------------------

  const EVERY_DOCTOR_91160 = '— 所有医生 every doctor —';

  function resetBelowAccount() {
    if (platform === OPEN91160) {
      clear(p.unit, '先选择账户 Choose an account first');
      clear(p.dep, '先选择医院 Choose a hospital first');
      clear(p.doctor, '先选择科室 Choose a department first');
      fill({ unit_id: '', unit_name: '', open_time: '', cycle_days: '', dep_id: '', dep_name: '', doctor_id: '', doctor_name: '' });
    } else {
      clear(p.dept, '先选择账户 Choose an account first');
      clear(p.doctor, '先选择科室 Choose a department first');
      clear(p.member, '先选择账户 Choose an account first');
      fill({ dept_id: '', dept_name: '', doctor_id: '', doctor_name: '', member_id: '', member_name: '' });
    }
  }

  /** The first list under the account: 91160 hospitals, pati departments. */
  function loadTop(refresh) {
    if (platform === OPEN91160) return browse(p.unit, 'units', null, refresh, '选择医院 Choose a hospital');
    return browse(p.dept, 'depts', null, refresh, '选择科室 Choose a department');
  }

  function chooseUnit() {
    const u = chosen(p.unit);
    fill({
      unit_id: u?.id ?? '',
      unit_name: u?.name ?? '',
      open_time: u?.open_time ?? '',
      cycle_days: u?.cycle_days ?? '',
      dep_id: '',
      dep_name: '',
      doctor_id: '',
      doctor_name: '',
    });
    clear(p.dep, u ? '加载中 Loading…' : '先选择医院 Choose a hospital first');
    clear(p.doctor, '先选择科室 Choose a department first');
    if (u) loadDeps(false);
  }

  function loadDeps(refresh) {
    const u = chosen(p.unit);
    if (!u) return null;
    return browse(p.dep, 'deps', { unit_id: u.id }, refresh, '选择科室 Choose a department');
  }

  function chooseDep() {
    const d = chosen(p.dep);
    fill({ dep_id: d?.id ?? '', dep_name: d?.name ?? '', doctor_id: '', doctor_name: '' });
    clear(p.doctor, d ? '加载中 Loading…' : '先选择科室 Choose a department first');
    if (d) loadDoctors91160(false);
  }

  function loadDoctors91160(refresh) {
    const u = chosen(p.unit);
    const d = chosen(p.dep);
    if (!u || !d) return null;
    return browse(p.doctor, 'doctors', { unit_id: u.id, dep_id: d.id }, refresh, EVERY_DOCTOR_91160);
  }

  async function loadPatients() {
    const c = p.patient;
    const gen = ++c.gen;
    say(c.msg, '加载中 Loading…');
    const reply = await hostRequest('patient_list');
    if (gen !== c.gen) return;
    if (!reply.ok) {
      say(c.msg, `无法读取就诊人 Could not load the patient book: ${reply.error.message}`, true);
      return;
    }
    // As the host shows them: masked.
    const items = reply.data.patients.map((pt) => ({ id: pt.id, name: pt.name, detail: [pt.id_number, pt.phone].filter(Boolean).join(' · ') }));
    offer(c, items, items.length ? '— 不预约时可不选 none (notify only) —' : '— 无 none —');
    say(c.msg, items.length ? '' : '就诊人名册为空：请在设置中添加 The patient book is empty: add a patient in Settings.', !items.length);
  }

  // ---- pati --------------------------------------------------------------------------------

  function chooseDept() {
    const d = chosen(p.dept);
    fill({ dept_id: d?.id ?? '', dept_name: d?.name ?? '', doctor_id: '', doctor_name: '' });
    clear(p.doctor, d ? '加载中 Loading…' : '先选择科室 Choose a department first');
    if (d) loadDoctorsPati(false);
  }

  function loadDoctorsPati(refresh) {
    const d = chosen(p.dept);
    if (!d) return null;
    return browse(p.doctor, 'doctors', { dept_id: d.id }, refresh, '— 普通门诊 the general clinic —');
  }

  function loadMembers(refresh) {
    return browse(p.member, 'members', null, refresh, '— 不预约时可不选 none (notify only) —');
  }

  function chooseDoctor() {
    const d = chosen(p.doctor);
    fill({ doctor_id: d?.id ?? '', doctor_name: d?.name ?? '' });
  }

  function chooseMember() {
    const m = chosen(p.member);
    fill({ member_id: m?.id ?? '', member_name: m?.name ?? '' });
  }

  // ---- building -----------------------------------------------------------------------------

  function build() {
    p = {};
    const parts = [];
    parts.push(chooser('account', platform === OPEN91160 ? 'appToken 账户 Stored 91160 token' : '账户 Stored pati account', 'target.account').el);
    if (platform === OPEN91160) {
      parts.push(chooser('unit', '医院 Hospital', 'target.unit_id', { refresh: loadTop }).el);
      parts.push(chooser('dep', '科室 Department', 'target.dep_id', { refresh: loadDeps }).el);
      parts.push(chooser('doctor', '医生 Doctor', 'target.doctor_id', { refresh: loadDoctors91160 }).el);
      parts.push(chooser('patient', '就诊人 Patient (from the patient book; needed to book)', 'target.patient_id', { refresh: loadPatients }).el);
      p.unit.select.addEventListener('change', chooseUnit);
      p.dep.select.addEventListener('change', chooseDep);
      p.patient.select.addEventListener('change', () => fill({ patient_id: chosen(p.patient)?.id ?? '' }));
    } else {
      parts.push(chooser('dept', '科室 Department', 'target.dept_id', { refresh: loadTop }).el);
      parts.push(chooser('doctor', '医生 Doctor', 'target.doctor_id', { refresh: loadDoctorsPati }).el);
      parts.push(chooser('member', '就诊人 Family member (needed to book)', 'target.member_id', { refresh: loadMembers }).el);
      p.dept.select.addEventListener('change', chooseDept);
      p.member.select.addEventListener('change', chooseMember);
    }
    p.doctor.select.addEventListener('change', chooseDoctor);
    p.account.select.addEventListener('change', chooseAccount);
    parts.push(h('p', { class: 'hint', text: '选择后自动填写下方各项。 The choices fill in the fields below.' }));
    root.replaceChildren(...parts);
    clear(p.account, '加载中 Loading…');
    resetBelowAccount();
    if (platform === OPEN91160) clear(p.patient, '加载中 Loading…');
  }

  /** (Re)reads the lists that do not depend on a choice. */
  function load() {
    if (!platform) return;
    loadAccounts();
    if (platform === OPEN91160) loadPatients();
  }

  return {
    /** Shows the choosers of `platformId` (91160 or pati), or hides them (any other). */
    show(platformId, connected) {
      const next = hasSitePickers(platformId) ? platformId : null;
      if (next === platform && next) return;
      platform = next;
      root.hidden = !platform;
      // The choosers carry error slots (target.account …): none may linger for another platform.
      if (!platform) {
        p = {};
        root.replaceChildren();
        return;
      }
      build();
      if (connected) load();
    },
    /** Clears the choices (after a watch was added) and reads the lists again. */
    reset() {
      if (!platform) return;
      build();
      load();
    },
    /** The host is connected: read the lists. */
    connected() {
      load();
    },
  };
}
