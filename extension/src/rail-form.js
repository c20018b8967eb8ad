// rail-form.js — the add-watch form's 12306 fields: departure and arrival stations with
// autocomplete from the host's station list (`rail_stations`: Chinese name, pinyin,
// abbreviation or telecode; choosing one fills the telecode and the name), travel dates
// (one or several), trains to take or never take, a departure window, seat kinds in
// order of preference, passengers, the account (from `rail_accounts`), "fewer
// passengers" and the sale-time burst.
//
// The core turns the form into a watch (watch_from_form) from the inputs carrying
// `data-target-field` — the names the core's platform description lists for 12306 —
// and checks window, mode and interval (`forCore`: the window of a 12306 watch is its
// travel dates' first and last day). The fields the core's form does not list yet are
// added to the watch's target by `completeWatch` (typed: lists, booleans), and the host
// validates the whole watch (its `invalid_watch` fields land next to these inputs). As
// long as the core's form does not read the account, the mode goes to it as notify (its
// check that a booking watch has an account would not see the account chosen here) and
// is set on the watch afterwards; the host makes that check on the complete watch.

import { h, hostRequest } from './ui.js';
import { errorWords } from './rail-popup.js';

/** The 12306 seat codes, in the order the form lists them. */
export const SEAT_KINDS = [
  ['9', '商务座 business'],
  ['M', '一等座 first class'],
  ['O', '二等座 second class'],
  ['P', '特等座 premium'],
  ['4', '软卧 soft sleeper'],
  ['3', '硬卧 hard sleeper'],
  ['2', '软座 soft seat'],
  ['1', '硬座/无座 hard seat / standing'],
];

/** How each 12306 field's text becomes a target value when the core does not read it. */
const KIND = {
  from_station: 'code',
  to_station: 'code',
  from_name: 'text',
  to_name: 'text',
  dates: 'list',
  trains: 'codes',
  exclude_trains: 'codes',
  seat_types: 'codes',
  depart_after: 'text',
  depart_before: 'text',
  passengers: 'list',
  account: 'text',
  allow_fewer: 'bool',
  sale_burst: 'bool',
};

const STATION_LIMIT = 8;
const SEARCH_DELAY_MS = 150;
const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

/** "a, b，c、d e" → ["a", "b", "c", "d", "e"]. */
function splitList(text) {
  return String(text ?? '')
    .split(/[,，、\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** "2026-12-01" → "2026-12-01 周二". */
function dateText(d) {
  const day = new Date(`${d}T00:00:00Z`).getUTCDay();
  return Number.isInteger(day) ? `${d} 周${WEEKDAYS[day]}` : d;
}

/** A field wrapper with its label and error slots (`target.<name>` for each of `errors`). */
function field(name, label, forId, body, { errors = [name], hint = '' } = {}) {
  return h(
    'div',
    { class: 'field', 'data-field': `target.${name}` },
    h('label', { for: forId, text: label }),
    body,
    hint ? h('p', { class: 'hint', text: hint }) : null,
    ...errors.map((n) => h('p', { class: 'field-error', 'data-error-for': `target.${n}` })),
  );
}

/** Sets up the 12306 part of the add-watch form. */
export function setupRailForm() {
  let root = null; // the container while 12306 is chosen
  let coreNames = new Set();
  let accounts = [];
  /** name → the input holding that target field's text. */
  let inputs = {};
  let dates = [];
  let seats = [];
  let stations = {};
  let today = '';
  /** The date input of the dates field, and the renderers of the dates and seats lists. */
  let dateInput = null;
  let renderDates = () => {};
  let renderSeats = () => {};

  // ---- stations ----------------------------------------------------------------------------

  /** One station chooser: `which` is "from" or "to". */
  function stationField(which, label) {
    const codeName = `${which}_station`;
    const nameName = `${which}_name`;
    const query = h('input', {
      id: `rail-${which}-query`,
      type: 'search',
      'data-testid': `rail-${which}-query`,
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': `rail-${which}-options`,
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: '北京 / beijing / bj',
    });
    const code = h('input', {
      id: `rail-${which}-code`,
      class: 'telecode',
      'data-testid': `rail-${which}-code`,
      'aria-label': `${label} 电报码 telecode`,
      title: '电报码 telecode',
      maxlength: '3',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: which === 'from' ? 'VNP' : 'AOH',
    });
    const name = h('input', { type: 'hidden', 'data-testid': `rail-${which}-name` });
    const options = h('ul', { id: `rail-${which}-options`, class: 'pick-results rail-options', role: 'listbox', 'data-testid': `rail-${which}-options` });
    const message = h('p', { class: 'picker-message', 'data-testid': `rail-${which}-message`, role: 'status' });
    const s = { which, query, code, name, options, message, seq: 0, timer: null, chosen: null, found: [] };
    stations[which] = s;
    inputs[codeName] = code;
    inputs[nameName] = name;

    query.addEventListener('input', () => {
      // Typing after a choice: the code no longer says what the text says.
      if (s.chosen && query.value.trim() !== s.chosen.name) {
        s.chosen = null;
        code.value = '';
        name.value = '';
      }
      clearTimeout(s.timer);
      s.timer = setTimeout(() => search(s), SEARCH_DELAY_MS);
    });
    query.addEventListener('keydown', (e) => {
      if (e.isComposing) return;
      if (e.key === 'Enter') {
        // Enter picks the first match instead of submitting the watch form.
        e.preventDefault();
        if (s.found.length) choose(s, s.found[0]);
        else search(s);
      } else if (e.key === 'ArrowDown' && s.found.length) {
        e.preventDefault();
        options.querySelector('button')?.focus();
      } else if (e.key === 'Escape') {
        closeOptions(s);
      }
    });
    code.addEventListener('input', () => {
      code.value = code.value.toUpperCase();
      if (s.chosen && code.value !== s.chosen.telecode) {
        s.chosen = null;
        name.value = '';
      }
    });
    options.addEventListener('keydown', (e) => {
      const list = [...options.querySelectorAll('button')];
      const i = list.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' && i >= 0) {
        e.preventDefault();
        list[Math.min(i + 1, list.length - 1)].focus();
      } else if (e.key === 'ArrowUp' && i >= 0) {
        e.preventDefault();
        (i === 0 ? query : list[i - 1]).focus();
      } else if (e.key === 'Escape') {
        closeOptions(s);
        query.focus();
      }
    });

    return field(
      codeName,
      label,
      query.id,
      [h('div', { class: 'inline-row' }, query, code), options, message, name],
      { errors: [codeName, nameName] },
    );
  }

  function closeOptions(s) {
    s.found = [];
    s.options.replaceChildren();
    s.query.setAttribute('aria-expanded', 'false');
  }

  function say(el, text, error = false) {
    el.textContent = text;
    el.classList.toggle('error', error);
  }

  async function search(s) {
    clearTimeout(s.timer);
    const q = s.query.value.trim();
    const n = ++s.seq;
    if (!q) {
      closeOptions(s);
      say(s.message, '');
      return;
    }
    say(s.message, '查找中 Searching…');
    const reply = await hostRequest('rail_stations', { query: q, limit: STATION_LIMIT });
    if (n !== s.seq) return;
    if (!reply.ok) {
      closeOptions(s);
      say(s.message, `无法查找车站 Could not search the stations: ${errorWords(reply.error)}`, true);
      return;
    }
    const found = Array.isArray(reply.data?.stations) ? reply.data.stations : [];
    s.found = found;
    say(s.message, found.length ? '' : `没有“${q}”这个车站 No station matches “${q}”.`);
    s.options.replaceChildren(
      ...found.map((st) =>
        h(
          'li',
          { role: 'presentation' },
          h(
            'button',
            {
              type: 'button',
              class: 'pick-option',
              role: 'option',
              'data-testid': 'rail-station-option',
              'data-telecode': st.telecode,
              'data-name': st.name,
              onclick: () => choose(s, st),
            },
            h('span', { class: 'pick-name', text: `${st.name} ${st.telecode}` }),
            h('span', { class: 'pick-detail', text: [st.pinyin, st.abbr, st.city && st.city !== st.name ? st.city : ''].filter(Boolean).join(' · ') }),
          ),
        ),
      ),
    );
    s.query.setAttribute('aria-expanded', String(found.length > 0));
  }

  function choose(s, st) {
    s.chosen = st;
    s.query.value = st.name;
    s.code.value = st.telecode;
    s.name.value = st.name;
    ++s.seq;
    clearTimeout(s.timer);
    closeOptions(s);
    say(s.message, '');
    clearError(`${s.which}_station`);
    clearError(`${s.which}_name`);
  }

  function clearError(name) {
    if (!root) return;
    const slot = root.querySelector(`[data-error-for="target.${name}"]`);
    if (!slot) return;
    slot.textContent = '';
    const wrapper = slot.closest('.field');
    if (wrapper && !wrapper.querySelector('.field-error:not(:empty)')) {
      wrapper.classList.remove('invalid');
      for (const el of wrapper.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    }
  }

  // ---- dates -------------------------------------------------------------------------------

  function datesField() {
    const input = h('input', { id: 'rail-date', type: 'date', 'data-testid': 'rail-date-input', min: today });
    const add = h('button', { type: 'button', class: 'small', 'data-testid': 'rail-date-add', text: '添加 Add' });
    const list = h('ul', { class: 'rail-chips', 'data-testid': 'rail-dates' });
    const text = h('input', { type: 'hidden', 'data-testid': 'rail-dates-value' });
    inputs.dates = text;

    function render() {
      dates.sort();
      text.value = dates.join(', ');
      list.replaceChildren(
        ...dates.map((d) =>
          h(
            'li',
            { class: 'rail-chip', 'data-testid': 'rail-date', 'data-date': d },
            h('span', { text: dateText(d) }),
            h('button', {
              type: 'button',
              class: 'chip-remove',
              'aria-label': `去掉 remove ${d}`,
              text: '×',
              onclick: () => {
                dates = dates.filter((x) => x !== d);
                render();
              },
            }),
          ),
        ),
      );
    }
    function addDate() {
      const d = input.value;
      if (!d) {
        input.focus();
        return;
      }
      if (!dates.includes(d)) dates.push(d);
      input.value = '';
      clearError('dates');
      render();
    }
    add.addEventListener('click', addDate);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        addDate();
      }
    });
    renderDates = render;
    dateInput = input;
    render();
    return field('dates', '乘车日期 Travel dates (one or several)', input.id, [h('div', { class: 'inline-row' }, input, add), list, text], {
      hint: '选择日期后按“添加” Choose a day and press Add; add more days to watch them all.',
    });
  }

  // ---- seats -------------------------------------------------------------------------------

  function seatsField() {
    const text = h('input', { type: 'hidden', 'data-testid': 'rail-seats-value' });
    inputs.seat_types = text;
    const order = h('ol', { class: 'rail-seat-order', 'data-testid': 'rail-seat-order' });
    const boxes = SEAT_KINDS.map(([code, label]) => {
      const box = h('input', { type: 'checkbox', value: code, 'data-testid': `rail-seat-${code}` });
      box.addEventListener('change', () => {
        seats = box.checked ? [...seats.filter((c) => c !== code), code] : seats.filter((c) => c !== code);
        render();
      });
      return h('label', { class: 'inline rail-seat' }, box, ` ${code} ${label}`);
    });
    function render() {
      text.value = seats.join(', ');
      for (const l of boxes) {
        const box = l.querySelector('input');
        box.checked = seats.includes(box.value);
      }
      order.replaceChildren(
        ...seats.map((code, i) =>
          h(
            'li',
            { 'data-code': code },
            `${SEAT_KINDS.find(([c]) => c === code)?.[1] ?? code} (${code})`,
            i > 0
              ? h('button', {
                  type: 'button',
                  class: 'small chip-remove',
                  'aria-label': `提前 prefer ${code} earlier`,
                  text: '↑',
                  onclick: () => {
                    seats.splice(i - 1, 2, seats[i], seats[i - 1]);
                    render();
                  },
                })
              : null,
          ),
        ),
      );
      order.hidden = seats.length === 0;
    }
    renderSeats = render;
    render();
    return h(
      'fieldset',
      { class: 'field', 'data-field': 'target.seat_types' },
      h('legend', {}, '席别 Seats ', h('span', { class: 'muted', text: '(按勾选顺序优先 first ticked first; none = any)' })),
      h('div', { class: 'rail-seats' }, ...boxes),
      order,
      text,
      h('p', { class: 'field-error', 'data-error-for': 'target.seat_types' }),
    );
  }

  // ---- account -----------------------------------------------------------------------------

  function accountField() {
    const select = h('select', { id: 'rail-account-select', 'data-testid': 'rail-account-select' });
    inputs.account = select;
    fillAccounts(select);
    return field('account', '12306 账户 Account (to look and to book with)', select.id, select);
  }

  function fillAccounts(select) {
    const keep = select.value;
    const options = accounts.map((a) =>
      h('option', { value: a.account, text: `${a.holder ? `${a.holder} (${a.account})` : a.account}${a.signed_in ? '' : ' — 需要登录 signed out'}` }),
    );
    select.replaceChildren(h('option', { value: '', text: accounts.length ? '— 选择账户 choose —' : '— 先在上方登录 sign in above first —' }), ...options);
    const signedIn = accounts.filter((a) => a.signed_in);
    if (keep && accounts.some((a) => a.account === keep)) select.value = keep;
    else if (signedIn.length === 1) select.value = signedIn[0].account;
  }

  // ---- the whole part ------------------------------------------------------------------------

  function textInput(name, id, attrs = {}) {
    const input = h('input', { id, 'data-testid': id, autocomplete: 'off', spellcheck: 'false', ...attrs });
    inputs[name] = input;
    return input;
  }

  function checkbox(name, id, label, checked) {
    const box = h('input', { type: 'checkbox', id, 'data-testid': id, checked });
    inputs[name] = box;
    return h(
      'div',
      { class: 'field', 'data-field': `target.${name}` },
      h('label', { class: 'inline', for: id }, box, ` ${label}`),
      h('p', { class: 'field-error', 'data-error-for': `target.${name}` }),
    );
  }

  /**
   * Renders the 12306 fields into `container` (the form's #target-fields) for the
   * core's platform description `platform`; `todayDate` is today in China.
   */
  function render(container, platform, todayDate) {
    root = container;
    today = todayDate;
    inputs = {};
    stations = {};
    dates = [];
    seats = [];
    coreNames = new Set((platform?.fields ?? []).map((f) => f.name));

    const upper = (input) => input.addEventListener('change', () => (input.value = input.value.toUpperCase()));
    const trains = textInput('trains', 'rail-trains', { placeholder: 'G1, G3' });
    const exclude = textInput('exclude_trains', 'rail-exclude-trains', { placeholder: 'K1234' });
    upper(trains);
    upper(exclude);
    const after = textInput('depart_after', 'rail-depart-after', { type: 'time' });
    const before = textInput('depart_before', 'rail-depart-before', { type: 'time' });
    const passengers = textInput('passengers', 'rail-passengers', { placeholder: '张三, 李四' });

    const parts = [
      stationField('from', '出发站 From'),
      stationField('to', '到达站 To'),
      datesField(),
      h(
        'div',
        { class: 'row' },
        field('trains', '车次 Only these trains', trains.id, trains, { hint: '空：所有车次 empty: any train' }),
        field('exclude_trains', '排除车次 Never these', exclude.id, exclude),
      ),
      h(
        'div',
        { class: 'row' },
        field('depart_after', '最早出发 Leaving after', after.id, after),
        field('depart_before', '最晚出发 Leaving before', before.id, before),
      ),
      seatsField(),
      accountField(),
      field('passengers', '乘车人 Passengers (names on the account)', passengers.id, passengers, { hint: '空：账户本人 empty: the account holder; at most 5' }),
      checkbox('allow_fewer', 'rail-allow-fewer', '票不够时为部分乘车人预订 Book for fewer passengers when not all fit', false),
      checkbox('sale_burst', 'rail-sale-burst', '开售时集中查询 Look in a short burst when sale opens', true),
    ];
    // A field the core lists that this form does not know yet: a plain input.
    for (const f of platform?.fields ?? []) {
      if (f.name in KIND) continue;
      const input = textInput(f.name, `target-${f.name}`, { placeholder: f.placeholder || undefined });
      parts.push(field(f.name, f.label, input.id, input));
    }
    // The inputs the core reads carry its attribute; the rest are added by completeTarget.
    for (const [name, input] of Object.entries(inputs)) {
      input.dataset.railField = name;
      if (coreNames.has(name) && input.type !== 'checkbox') input.dataset.targetField = name;
    }
    container.replaceChildren(...parts);
  }

  /** The window of the watch: its travel dates' first and last day ('' when none). */
  function windowOfDates() {
    const all = [...dates];
    const pendingDate = dateInput?.value;
    if (pendingDate && !all.includes(pendingDate)) all.push(pendingDate);
    all.sort();
    return { start: all[0] ?? '', end: all.at(-1) ?? '' };
  }

  /** A date chosen but not added counts: the person saw it in the field. */
  function takePendingDate() {
    const d = dateInput?.value;
    if (d && !dates.includes(d)) {
      dates.push(d);
      dateInput.value = '';
      renderDates();
    }
  }

  function valueOf(name, input) {
    if (input.type === 'checkbox') return input.checked;
    const text = input.value.trim();
    switch (KIND[name]) {
      case 'list':
        return splitList(text);
      case 'codes':
        return splitList(text).map((s) => s.toUpperCase());
      case 'code':
        return text.toUpperCase();
      default:
        return text;
    }
  }

  /** The popup's form values as the core's watch_from_form should read them. */
  function forCore(form) {
    const { start, end } = windowOfDates();
    return { ...form, start, end, mode: coreNames.has('account') ? form.mode : 'notify' };
  }

  /** The core's watch made from `forCore(form)`, completed with what the core does not read. */
  function completeWatch(watch, form) {
    const mode = form.mode === 'book' || form.mode === 'notify' ? form.mode : watch.mode;
    return { ...watch, mode, target: completeTarget(watch.target) };
  }

  /** The core's target with the 12306 fields the core does not read from the form. */
  function completeTarget(target) {
    const out = { ...target };
    for (const [name, input] of Object.entries(inputs)) {
      if (coreNames.has(name) && input.type !== 'checkbox') continue;
      const v = valueOf(name, input);
      // Empty lists and texts are the target's defaults: leave them out.
      if ((Array.isArray(v) && !v.length) || v === '') continue;
      out[name] = v;
    }
    return out;
  }

  /** The host's and core's field errors, with the window's moved to the dates. */
  function mapErrors(fields) {
    return fields.map((f) => (f.field === 'window.start' || f.field === 'window.end' ? { ...f, field: 'target.dates' } : f));
  }

  /** Clears every 12306 choice (after a watch was added). */
  function reset() {
    if (!root) return;
    for (const s of Object.values(stations)) {
      s.chosen = null;
      s.query.value = '';
      ++s.seq;
      closeOptions(s);
      say(s.message, '');
    }
    for (const [name, input] of Object.entries(inputs)) {
      if (input.type === 'checkbox') input.checked = name === 'sale_burst';
      else if (input.tagName !== 'SELECT') input.value = '';
    }
    dates = [];
    seats = [];
    renderDates();
    renderSeats();
  }

  return {
    render,
    /** The form shows 12306 no more. */
    hide() {
      root = null;
      inputs = {};
      stations = {};
      dateInput = null;
      renderDates = () => {};
      renderSeats = () => {};
    },
    active: () => root !== null,
    takePendingDate,
    forCore,
    completeWatch,
    mapErrors,
    reset,
    /** The host's 12306 accounts (from the panel). */
    setAccounts(list) {
      accounts = Array.isArray(list) ? list : [];
      if (inputs.account) fillAccounts(inputs.account);
    },
  };
}
