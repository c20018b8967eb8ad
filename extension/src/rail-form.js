// rail-form.js — the add-watch form's 12306 fields: departure and arrival stations with
// autocomplete from the host's station list (`rail_stations`: Chinese name, pinyin,
// abbreviation or telecode; choosing one fills the telecode and the name), more station
// pairs (`BJP:SHH, SNH:AOH`), travel dates (one or several), trains to take or never
// take, a departure window, seat kinds in order of preference, passengers, the account
// (from `rail_accounts`), "fewer passengers" and the sale-time burst.
//
// These widgets only collect: each keeps its value in an input carrying
// `data-target-field` (the name the core's platform description gives the field: the
// chosen telecode and name, the dates and seats as comma-separated text in hidden inputs,
// the checkboxes as checked or not), which the popup reads like any platform's target
// inputs. The core's watch_from_form turns them into the watch's target — kinds, upper
// case, defaults — and checks all of it, the account a booking needs included; its and
// the host's field errors land next to these inputs. The one thing added here is the
// window (`forCore`): a 12306 watch's window is its travel dates' first and last day.

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

/** The 12306 target fields this form has its own widgets for. */
const OWN_FIELDS = new Set([
  'from_station',
  'to_station',
  'from_name',
  'to_name',
  'more_pairs',
  'dates',
  'trains',
  'exclude_trains',
  'seat_types',
  'depart_after',
  'depart_before',
  'passengers',
  'account',
  'allow_fewer',
  'sale_burst',
]);

const STATION_LIMIT = 8;
const SEARCH_DELAY_MS = 150;
const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

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
  /** The core's description of each 12306 target field, by name. */
  let specs = new Map();
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

  /** A yes/no field; it starts as the core says (`checked`), or `fallback` if it does not. */
  function checkbox(name, id, label, fallback = false) {
    const checked = specs.has(name) ? Boolean(specs.get(name).checked) : fallback;
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
    specs = new Map((platform?.fields ?? []).map((f) => [f.name, f]));

    const upper = (input) => input.addEventListener('change', () => (input.value = input.value.toUpperCase()));
    const trains = textInput('trains', 'rail-trains', { placeholder: 'G1, G3' });
    const exclude = textInput('exclude_trains', 'rail-exclude-trains', { placeholder: 'K1234' });
    upper(trains);
    upper(exclude);
    const after = textInput('depart_after', 'rail-depart-after', { type: 'time' });
    const before = textInput('depart_before', 'rail-depart-before', { type: 'time' });
    const passengers = textInput('passengers', 'rail-passengers', { placeholder: '张三, 李四' });
    const pairs = textInput('more_pairs', 'rail-more-pairs', { placeholder: 'BJP:SHH, SNH:AOH' });
    upper(pairs);

    const parts = [
      stationField('from', '出发站 From'),
      stationField('to', '到达站 To'),
      field('more_pairs', '其他站对 More station pairs, e.g. BJP:SHH', pairs.id, pairs, {
        hint: '可选：出发站电报码:到达站电报码，逗号分隔 optional: from:to telecodes, comma-separated (at most 4)',
      }),
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
    // A field the core lists that this form has no widget for: a checkbox or a plain input.
    for (const f of platform?.fields ?? []) {
      if (OWN_FIELDS.has(f.name)) continue;
      if (f.kind === 'bool') {
        parts.push(checkbox(f.name, `target-${f.name}`, f.label));
      } else {
        const input = textInput(f.name, `target-${f.name}`, { placeholder: f.placeholder || undefined });
        parts.push(field(f.name, f.label, input.id, input));
      }
    }
    // Every input holds one target field's value, which the popup reads for the core.
    for (const [name, input] of Object.entries(inputs)) input.dataset.targetField = name;
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

  /** The popup's form values with the window the travel dates make (the window row is hidden). */
  function forCore(form) {
    const { start, end } = windowOfDates();
    return { ...form, start, end };
  }

  /**
   * The host's and core's field errors as this form shows them: the window's next to the
   * dates, and the host's on one station pair (`target.more_pairs[1].to`) next to the pairs.
   */
  function mapErrors(fields) {
    return fields.map((f) => {
      if (f.field === 'window.start' || f.field === 'window.end') return { ...f, field: 'target.dates' };
      if (/^target\.more_pairs\[/.test(f.field)) return { ...f, field: 'target.more_pairs' };
      return f;
    });
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
    for (const input of Object.values(inputs)) {
      if (input.type === 'checkbox') input.checked = input.defaultChecked;
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
    mapErrors,
    reset,
    /** The host's 12306 accounts (from the panel). */
    setAccounts(list) {
      accounts = Array.isArray(list) ? list : [];
      if (inputs.account) fillAccounts(inputs.account);
    },
  };
}
