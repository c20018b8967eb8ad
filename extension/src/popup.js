// popup.js — the toolbar popup. Shows the host status, lists the host's watches (with
// pause/resume and delete), shows how the notification channels are doing (the host's
// outbox_status, read by the core's outbox_view), and adds a watch from a form rendered
// from the core's platform descriptions. The core turns the form into a validated watch
// (watch_from_form); field errors from it and from the host's `invalid_watch` reply are
// shown next to their inputs. Opening the popup clears the badge of live findings.
//
// 114yygh: the sign-in panel (yygh-login.js) shows whether the 114 session is alive and
// runs the SMS login in this page; for a 114 watch, the form's hospital / clinic /
// patient choosers (yygh-pickers.js) fill the target inputs. The 114 watches run in the
// browser (yygh-runtime.js): each one's list item says what it is doing now (the worker's
// `yygh.state`, read every 2 s and on host events) and its latest history event; when
// its booking needs the SMS code the item asks for it (`yygh.answer`), and when its
// session is gone the sign-in panel says so.
//
// 12306 runs in the host: the 12306 panel (rail-popup.js) signs accounts in with the
// picture captcha and shows the captchas the host waits on (a watch's item says when it
// waits on one); for a 12306 watch the form's 12306 fields (rail-form.js) take the
// place of the target inputs and of the date window (the travel dates make it). They
// fill `data-target-field` inputs like the others, so the core builds and checks the
// 12306 watch from the form as it does every platform's.
//
// 91160 and pati_service run in the host too: for their watches the form's choosers
// (site-pickers.js: stored account, hospital → department → doctor, patient or family
// member, from site_accounts / site_browse / patient_list) fill the target inputs, which
// fold away under "fill in by hand"; a watch's item shows the host's latest event, and
// once booked offers to cancel the booking with a reason (site-watches.js).

import { ask, clearFieldErrors, core, coreReady, h, hostRequest, hostStatus, onBackgroundMessage, renderStatus, showFieldErrors } from './ui.js';
import { setupYyghLogin, YYGH } from './yygh-login.js';
import { setupYyghPickers } from './yygh-pickers.js';
import { RAIL, setupRailPanel } from './rail-popup.js';
import { setupRailForm } from './rail-form.js';
import { hasSitePickers, setupSitePickers } from './site-pickers.js';
import { isSiteWatch, refreshSiteBooking, siteBookingBlock } from './site-watches.js';

const $ = (sel) => document.querySelector(sel);

/** How often the open popup re-reads the notification channels' status. */
const OUTBOX_REFRESH_MS = 10_000;

let platformList = [];
let connected = false;
/** The 114 choosers and sign-in panel (set up in main). */
let pickers = null;
let yyghLogin = null;
/** The 12306 panel and form fields (set up in main). */
let rail = null;
let railForm = null;
/** The 91160 / pati choosers (set up in main). */
let sitePickers = null;

function today() {
  return core.today_in_china(Date.now());
}

// ---- status -------------------------------------------------------------------------

function showStatus(status) {
  renderStatus($('#host-status'), status);
  const wasConnected = connected;
  connected = status?.state === 'connected';
  $('#add-watch').disabled = !connected;
  if (connected && !wasConnected) {
    loadWatches();
    loadOutbox();
    refreshLive();
    rail?.start();
    sitePickers?.connected();
  }
  if (!connected && wasConnected) rail?.stop();
  if (!connected) {
    $('#list-message').textContent = '连接本机程序后显示监控。Watches appear once the host is connected.';
    $('#watch-list').replaceChildren();
    items.clear();
    $('#notify-section').hidden = true;
  }
}

// ---- watch list ---------------------------------------------------------------------

/** watch id → its list item's parts, kept across re-renders (a code being typed survives). */
const items = new Map();
/** watch id → the 114 runtime's state of it ({state, message, prompt}), from `yygh.state`. */
let liveStates = new Map();
/** watch id → its latest history entry. */
const lastEvents = new Map();
/** Numbers the watch loads and state reads so that a late answer cannot undo a newer one. */
let loadSeq = 0;
let liveSeq = 0;
/** `liveSeq` when the last booking SMS code was handed over: older state reads are stale. */
let answeredAtSeq = 0;

async function loadWatches() {
  const seq = ++loadSeq;
  const watches = [];
  let after;
  for (let page = 0; page < 20; page++) {
    const reply = await hostRequest('watch_list', after ? { after } : {});
    if (seq !== loadSeq) return;
    if (!reply.ok) {
      $('#list-message').textContent = `无法读取监控 Could not load watches: ${reply.error.message}`;
      return;
    }
    watches.push(...reply.data.watches);
    if (!reply.data.next) break;
    after = reply.data.next;
  }
  renderWatches(watches);
  loadLastEvents(watches.map((w) => w.id));
}

function renderWatches(watches) {
  const list = $('#watch-list');
  $('#list-message').textContent = watches.length ? '' : '还没有监控。No watches yet.';
  const ids = new Set(watches.map((w) => w.id));
  for (const id of [...items.keys()]) if (!ids.has(id)) items.delete(id);
  const lis = watches.map((w) => {
    let item = items.get(w.id);
    if (!item) {
      item = createItem(w);
      items.set(w.id, item);
    }
    updateItem(item, w);
    return item.li;
  });
  // Only re-order when needed: moving an element takes the focus from an input in it.
  const current = [...list.children];
  if (current.length !== lis.length || current.some((el, i) => el !== lis[i])) list.replaceChildren(...lis);
}

/** A watch's list item: label, summary, pause/delete, and the live lines below. */
function createItem(w) {
  const item = { watch: w };
  item.label = h('div', { class: 'watch-label', 'data-testid': 'watch-label' });
  item.summary = h('div', { class: 'watch-summary', 'data-testid': 'watch-summary' });
  item.pause = h('button', {
    type: 'button',
    class: 'small',
    'data-testid': 'watch-pause',
    onclick: () => pauseWatch(item.watch, !item.watch.paused, item.pause),
  });
  item.del = h('button', {
    type: 'button',
    class: 'small danger',
    'data-testid': 'watch-delete',
    text: '删除 Delete',
    onclick: () => deleteWatch(item.watch, item.del),
  });
  item.live = h('div', { class: 'watch-live', 'data-testid': 'watch-live', role: 'status', hidden: true });
  item.lastEvent = h('div', { class: 'watch-last-event', 'data-testid': 'watch-last-event', hidden: true });
  item.smsLabel = h('label', { for: `order-sms-${w.id}`, class: 'order-sms-label', 'data-testid': 'order-sms-label' });
  item.smsNote = h('p', { class: 'order-sms-note', 'data-testid': 'order-sms-note', role: 'alert' });
  item.smsInput = h('input', {
    id: `order-sms-${w.id}`,
    'data-testid': 'order-sms-input',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    spellcheck: 'false',
    placeholder: '短信中的数字 the code in the SMS',
  });
  item.smsSubmit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'order-sms-submit', text: '提交 Send' });
  item.sms = h(
    'form',
    { class: 'order-sms', 'data-testid': 'order-sms-form', novalidate: true, hidden: true, onsubmit: (e) => submitOrderSms(e, item) },
    item.smsLabel,
    h('div', { class: 'inline-row' }, item.smsInput, item.smsSubmit),
    item.smsNote,
  );
  item.li = h(
    'li',
    { class: 'watch', 'data-testid': 'watch-item', 'data-watch-id': w.id },
    h('div', { class: 'watch-text' }, item.label, item.summary),
    item.pause,
    item.del,
    h('div', { class: 'watch-live-block' }, item.live, item.lastEvent, item.sms),
  );
  if (isSiteWatch(w)) {
    item.site = siteBookingBlock(w.id);
    item.li.querySelector('.watch-live-block').append(item.site.el);
    refreshSiteBooking(item.site);
  }
  return item;
}

function updateItem(item, w) {
  const changed = item.watch.updated_at !== w.updated_at || item.watch.paused !== w.paused;
  item.watch = w;
  item.li.className = w.paused ? 'watch paused' : 'watch';
  item.li.dataset.paused = String(Boolean(w.paused));
  item.label.textContent = w.label || '(未命名 unnamed)';
  item.summary.textContent = core.watch_summary(JSON.stringify(w));
  item.pause.textContent = w.paused ? '恢复 Resume' : '暂停 Pause';
  item.pause.title = w.paused ? '继续监控 Start watching again' : '停止监控，保留设置 Stop watching, keep the watch';
  if (changed) item.pause.disabled = false;
  renderLive(item);
  renderLastEvent(item);
}

// ---- live state (114 watches run in the browser) ---------------------------------------

/** How often the open popup re-reads the 114 watches' state. */
const LIVE_REFRESH_MS = 2_000;

/** The runtime's states, in words. */
const LIVE_WORDS = {
  starting: '启动中 starting',
  waiting: '等待 waiting for the next look',
  polling: '查询中 checking',
  booking: '预约中 booking',
  ordering: '下单中 placing the order',
  recording_intent: '预约中 booking (recording the order)',
  needs_answer: '需要回答 needs an answer',
  needs_login: '需要登录 sign in to 114 again',
  stopped: '已结束 finished',
};

function isYygh(w) {
  return w.target?.platform === YYGH;
}

/** Reads the 114 runtime's state of every watch and shows it. */
async function refreshLive() {
  if (!connected) return;
  const seq = ++liveSeq;
  const reply = await ask({ type: 'yygh.state' });
  if (seq !== liveSeq || seq <= answeredAtSeq || !reply.ok || !Array.isArray(reply.data)) return;
  liveStates = new Map(reply.data.map((s) => [s.watch_id, s]));
  for (const item of items.values()) renderLive(item);
  const lost = reply.data.find((s) => s.state === 'needs_login' && items.has(s.watch_id));
  yyghLogin?.setNeedsLogin(Boolean(lost), lost?.message ?? '');
}

function renderLive(item) {
  const w = item.watch;
  if (w.target?.platform === RAIL) {
    renderRailLive(item);
    return;
  }
  const s = liveStates.get(w.id);
  const sms = s?.state === 'needs_answer' && s.prompt?.kind === 'order_sms' ? s.prompt : null;
  if (!isYygh(w) || (w.paused && !s)) {
    item.live.hidden = true;
    delete item.live.dataset.state;
  } else {
    const state = s?.state ?? 'starting';
    let text = LIVE_WORDS[state] ?? state;
    if (sms) text = '需要短信验证码 needs the SMS code';
    if ((state === 'needs_login' || state === 'stopped') && s?.message) text += `: ${s.message}`;
    item.live.hidden = false;
    item.live.dataset.state = state;
    item.live.textContent = text;
  }
  showOrderSms(item, sms);
}

/** A 12306 watch runs in the host: its item says when it waits on a captcha (shown above). */
function renderRailLive(item) {
  const prompt = item.watch.paused ? null : rail?.promptFor(item.watch.id);
  item.li.classList.toggle('asking', Boolean(prompt));
  showOrderSms(item, null);
  if (!prompt) {
    item.live.hidden = true;
    delete item.live.dataset.state;
    return;
  }
  item.live.hidden = false;
  item.live.dataset.state = 'needs_answer';
  item.live.textContent = '需要点击验证码 needs the captcha answered (12306, above)';
}

function showOrderSms(item, prompt) {
  if (!prompt) {
    item.sms.hidden = true;
    item.li.classList.remove('asking');
    return;
  }
  if (item.sms.hidden) {
    item.smsInput.value = '';
    item.smsInput.disabled = false;
    item.smsSubmit.disabled = false;
  }
  item.sms.hidden = false;
  item.li.classList.add('asking');
  item.smsLabel.textContent = `预约短信验证码：已发送至 ${prompt.phone} — type the booking code from the SMS sent to ${prompt.phone}`;
  item.smsNote.textContent = prompt.note ?? '';
}

async function submitOrderSms(event, item) {
  event.preventDefault();
  const text = item.smsInput.value.trim();
  if (!text) {
    item.smsNote.textContent = '请输入短信验证码 Type the code from the SMS.';
    item.smsInput.focus();
    return;
  }
  item.smsInput.disabled = true;
  item.smsSubmit.disabled = true;
  const reply = await ask({ type: 'yygh.answer', watch_id: item.watch.id, text });
  // State reads already on their way may still show the question: ignore them.
  answeredAtSeq = liveSeq;
  if (reply.ok && reply.data?.delivered) {
    item.sms.hidden = true;
    item.li.classList.remove('asking');
    item.live.dataset.state = 'ordering';
    item.live.textContent = '已提交验证码，预约中 Code sent, booking…';
  } else {
    item.smsInput.disabled = false;
    item.smsSubmit.disabled = false;
    item.smsNote.textContent = reply.ok
      ? '未送达：该监控已不在等待验证码 Not delivered: the watch is no longer waiting for a code.'
      : `未送达 Not delivered: ${reply.error.message}`;
  }
  refreshLive();
}

// ---- latest event -----------------------------------------------------------------------

async function loadLastEvents(ids) {
  await Promise.all(
    ids.map(async (id) => {
      const reply = await hostRequest('history_list', { watch_id: id, limit: 1 });
      const [entry] = reply.ok ? reply.data.events : [];
      if (entry) setLastEvent(entry);
    }),
  );
}

/** Keeps `entry` as its watch's latest event unless a newer one is known. */
function setLastEvent(entry) {
  if (!entry?.watch_id) return;
  const known = lastEvents.get(entry.watch_id);
  if (known && Number(known.seq) > Number(entry.seq)) return;
  lastEvents.set(entry.watch_id, entry);
  const item = items.get(entry.watch_id);
  if (item) renderLastEvent(item);
  // A booking made or cancelled: the item's cancel action follows.
  if (item?.site && (entry.kind === 'booked' || entry.kind === 'cancelled')) refreshSiteBooking(item.site);
}

function renderLastEvent(item) {
  const e = lastEvents.get(item.watch.id);
  if (!e) {
    item.lastEvent.hidden = true;
    return;
  }
  item.lastEvent.hidden = false;
  item.lastEvent.dataset.kind = e.kind;
  item.lastEvent.dataset.seq = String(e.seq);
  const when = Number.isFinite(e.at) ? new Date(e.at).toLocaleTimeString('zh-CN', { hour12: false, hour: '2-digit', minute: '2-digit' }) : '';
  item.lastEvent.textContent = `${when ? `${when} ` : ''}${e.message || e.kind}`;
  item.lastEvent.title = new Date(e.at).toLocaleString();
}

async function pauseWatch(w, paused, button) {
  button.disabled = true;
  const reply = await hostRequest('watch_pause', { id: w.id, paused });
  if (!reply.ok) {
    $('#list-message').textContent = `${paused ? '暂停' : '恢复'}失败 Could not ${paused ? 'pause' : 'resume'}: ${reply.error.message}`;
    button.disabled = false;
    return;
  }
  await loadWatches();
}

async function deleteWatch(w, button) {
  // Two clicks: the first asks, the second deletes (no modal dialogs in a popup).
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = '确认删除 Confirm';
    return;
  }
  button.disabled = true;
  const reply = await hostRequest('watch_delete', { id: w.id });
  if (!reply.ok && reply.error.code !== 'not_found') {
    $('#list-message').textContent = `删除失败 Delete failed: ${reply.error.message}`;
    button.disabled = false;
    return;
  }
  await loadWatches();
}

// ---- notifications --------------------------------------------------------------------

async function loadOutbox() {
  const reply = await hostRequest('outbox_status');
  const section = $('#notify-section');
  if (!reply.ok) {
    section.hidden = false;
    $('#notify-message').textContent = `无法读取通知状态 Could not read the notification status: ${reply.error.message}`;
    $('#notify-channels').replaceChildren();
    $('#notify-failures').replaceChildren();
    return;
  }
  const view = JSON.parse(core.outbox_view(JSON.stringify(reply.data)));
  section.hidden = false;
  $('#notify-message').textContent = view.channels.length ? '' : '未启用通知渠道（在设置中添加）。No channel is on: add one in Settings.';
  $('#notify-channels').replaceChildren(
    ...view.channels.map((c) => h('li', { class: `notify-item ${c.state}`, 'data-testid': 'notify-channel', 'data-channel': c.channel, 'data-state': c.state, text: c.text })),
  );
  $('#notify-failures').replaceChildren(
    ...view.failures.map((f) => h('li', { class: 'notify-item error', 'data-testid': 'notify-failure', 'data-channel': f.channel, text: f.text })),
  );
}

// ---- form ---------------------------------------------------------------------------

function currentPlatform() {
  return platformList.find((p) => p.id === $('#platform').value);
}

function renderTargetFields() {
  const p = currentPlatform();
  if (!p) return;
  const isRail = p.id === RAIL;
  $('#window-row').hidden = isRail;
  if (isRail) {
    railForm.render($('#target-fields'), p, today());
  } else {
    railForm?.hide();
    $('#target-fields').replaceChildren(
      ...p.fields.map((f) => {
        const name = `target.${f.name}`;
        const id = `target-${f.name}`;
        // A yes/no (kind `bool`) is a checkbox; every other kind is typed as text.
        if (f.kind === 'bool') {
          return h(
            'div',
            { class: 'field', 'data-field': name },
            h('label', { class: 'inline', for: id }, h('input', { id, name, type: 'checkbox', 'data-target-field': f.name, checked: Boolean(f.checked) }), ` ${f.label}`),
            h('p', { class: 'field-error', 'data-error-for': name }),
          );
        }
        return h(
          'div',
          { class: 'field', 'data-field': name },
          h('label', { for: id, text: f.label }),
          h('input', {
            id,
            name,
            'data-target-field': f.name,
            placeholder: f.placeholder || undefined,
            required: f.required,
            autocomplete: 'off',
            spellcheck: 'false',
          }),
          h('p', { class: 'field-error', 'data-error-for': name }),
        );
      }),
    );
  }
  // 91160 / pati: the choosers fill the target inputs, which fold away (errors open them).
  if (hasSitePickers(p.id)) {
    const fields = $('#target-fields');
    fields.replaceChildren(
      h(
        'details',
        { class: 'by-hand', 'data-testid': 'target-by-hand' },
        h('summary', { text: '手动填写 Fill in by hand' }),
        ...fields.children,
      ),
    );
  }
  sitePickers?.show(p.id, connected);
  pickers?.reset();
  pickers?.show(p.id === YYGH);
  $('#periods-field').hidden = !p.periods;
  if (!p.periods) for (const c of document.querySelectorAll('input[name="periods"]')) c.checked = false;
  const interval = $('#interval');
  interval.min = String(p.poll_floor_secs);
  $('#interval-hint').textContent = `最短 at least ${p.poll_floor_secs} s`;
  clearErrors();
}

function readForm() {
  const target = {};
  for (const input of document.querySelectorAll('[data-target-field]')) {
    target[input.dataset.targetField] = input.type === 'checkbox' ? String(input.checked) : input.value;
  }
  return {
    platform: $('#platform').value,
    label: $('#label').value,
    target,
    start: $('#start').value,
    end: $('#end').value,
    periods: [...document.querySelectorAll('input[name="periods"]:checked')].map((c) => c.value),
    mode: document.querySelector('input[name="mode"]:checked')?.value ?? 'notify',
    interval_seconds: $('#interval').value,
  };
}

function clearErrors() {
  clearFieldErrors(document, $('#form-error'));
}

function showErrors(fields) {
  const shown = railForm?.active() ? railForm.mapErrors(fields) : fields;
  const first = showFieldErrors(document, $('#form-error'), shown);
  // An error on a folded-away input: unfold it.
  for (const details of document.querySelectorAll('#target-fields details')) {
    if (details.querySelector('.field.invalid')) details.open = true;
  }
  first?.focus();
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  $('#form-message').textContent = '';
  railForm?.takePendingDate();
  const form = readForm();
  // 12306: the travel dates make the window (the window inputs are hidden).
  const values = railForm?.active() ? railForm.forCore(form) : form;
  const result = JSON.parse(core.watch_from_form(JSON.stringify(values), today()));
  if (!result.ok) {
    showErrors(result.fields);
    return;
  }
  const button = $('#add-watch');
  button.disabled = true;
  const reply = await hostRequest('watch_put', { watch: result.watch });
  button.disabled = !connected;
  if (!reply.ok) {
    if (reply.error.fields?.length) showErrors(reply.error.fields);
    else $('#form-error').textContent = `未保存 Not saved: ${reply.error.message}`;
    return;
  }
  $('#form-message').textContent = `已添加 Added: ${reply.data.label || core.watch_summary(JSON.stringify(reply.data))}`;
  for (const input of document.querySelectorAll('[data-target-field], #label')) {
    if (input.type === 'checkbox') input.checked = input.defaultChecked;
    else if (input.tagName !== 'SELECT') input.value = '';
  }
  pickers?.reset();
  railForm?.reset();
  sitePickers?.reset();
  await loadWatches();
}

// ---- start ----------------------------------------------------------------------------

async function main() {
  // The person is looking now: the findings counted on the badge are seen.
  ask({ type: 'badge.clear' });
  await coreReady;
  pickers = setupYyghPickers($('#target-pickers'), $('#watch-form'));
  yyghLogin = setupYyghLogin($('#yygh-section'), { onSession: (alive) => pickers.setSignedIn(alive) });
  yyghLogin.check();
  railForm = setupRailForm();
  sitePickers = setupSitePickers($('#site-pickers'), $('#watch-form'));
  rail = setupRailPanel($('#rail-section'), {
    onAccounts: (accounts) => railForm.setAccounts(accounts),
    onPrompts: () => {
      for (const item of items.values()) if (item.watch.target?.platform === RAIL) renderRailLive(item);
    },
    watchLabel: (id) => {
      const w = items.get(id)?.watch;
      return w ? w.label || core.watch_summary(JSON.stringify(w)) : '';
    },
  });
  platformList = JSON.parse(core.platforms()).filter((p) => p.watchable);
  $('#platform').replaceChildren(...platformList.map((p) => h('option', { value: p.id, text: p.name })));
  $('#platform').addEventListener('change', renderTargetFields);
  renderTargetFields();
  const t = today();
  $('#start').value = t;
  $('#start').min = t;
  $('#end').min = t;
  $('#watch-form').addEventListener('submit', submit);
  $('#add-watch').disabled = true;

  onBackgroundMessage({
    status: showStatus,
    event: (e) => {
      if (connected) rail.onEvent(e);
      if (e.event === 'watch_event' && connected) {
        setLastEvent(e.data);
        loadWatches();
        loadOutbox();
      }
      refreshLive();
    },
  });
  showStatus(await hostStatus(true));
  // The outbox drains (and retries) on its own: keep its status current while the popup is open.
  setInterval(() => {
    if (connected) loadOutbox();
  }, OUTBOX_REFRESH_MS);
  // The 114 watches run in the browser: show what each is doing now.
  setInterval(refreshLive, LIVE_REFRESH_MS);
}

main().catch((e) => {
  $('#form-error').textContent = `Haoyuan could not start: ${e?.message ?? e}`;
});
