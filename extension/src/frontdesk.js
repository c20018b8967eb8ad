// frontdesk.js — the 浙里办 health-check front desk (frontdesk.html, its own tab; linked
// from the options page). Glue only: every value is read, checked, filtered and masked by
// the host (haoyuan-host), reached through the background script's one connection.
//
//   settings       zlb_config_get fills the form (never a secret: the apikey comes masked,
//                  the others as "set"); zlb_config_put saves it (a blank secret keeps the
//                  stored one; `invalid_settings` fields are shown beside their inputs);
//                  "Test connection" saves, then zlb_test. The status line is the config
//                  view's last sync, last error, pending arrivals and rejects.
//   reservations   zlb_list with the filter (today / upcoming from today / all / one date),
//                  the search text as typed (the host matches name, serial or the masked
//                  ID's visible digits) and "include cancelled"; "Sync now" is zlb_sync;
//                  "Arrived" is zlb_arrive, whose reply replaces the row; "Export CSV"
//                  downloads zlb_export's csv as its filename (Blob + <a download>).
//   rejects        zlb_rejects, when the list is opened; "Mark received" (confirmed by a
//                  second click) is zlb_reject_release: 浙里办 is told the record arrived,
//                  so it stops coming back (e.g. after the desk entered it by hand).
// A `watch_event` of watch "zlb" relayed by the background (the host syncs on its own too)
// refreshes what is shown. Secrets typed here go to the host and are cleared from the page
// once saved; nothing of them is written to the extension's storage.

import { browserApi, clearFieldErrors, core, coreReady, h, hostRequest, hostStatus, onBackgroundMessage, renderStatus, showFieldErrors } from './ui.js';
import { BASE_URLS_KEY } from './base-urls.js';

const $ = (sel) => document.querySelector(sel);

/** The watch id the host gives its 浙里办 sync events. */
const ZLB_WATCH_ID = 'zlb';
const SEARCH_DELAY_MS = 250;
const EVENT_REFRESH_DELAY_MS = 300;

const SECRET_INPUTS = [
  ['apikey', '#zlb-apikey'],
  ['secret', '#zlb-secret'],
  ['aes_key', '#zlb-aes-key'],
];

/** Buttons that need the host. */
const HOST_BUTTONS = ['#zlb-save', '#zlb-test', '#zlb-sync', '#zlb-export'];

let connected = false;
/** today | upcoming | all | date (the date picker's day). */
let range = 'today';
let listSeq = 0;
let searchTimer = null;
let refreshTimer = null;

function when(ms) {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) : '';
}

function note(el, text, kind = '') {
  el.className = `zlb-note${kind ? ` ${kind}` : ''}`;
  el.textContent = text;
}

// ---- settings ---------------------------------------------------------------------------

/** Shows the host's settings (a ZlbConfigView) in the form; secret inputs stay blank. */
function fillSettings(view) {
  $('#zlb-base-url').value = view.base_url ?? '';
  const set = { apikey: view.apikey_masked ? `已设置 set: ${view.apikey_masked}` : '', secret: view.has_secret ? '已设置 set' : '', aes_key: view.has_aes_key ? '已设置 set' : '' };
  for (const [key, sel] of SECRET_INPUTS) {
    const input = $(sel);
    input.value = '';
    input.placeholder = set[key];
    input.dataset.set = String(Boolean(set[key]));
  }
  $('#zlb-interval').value = view.interval_s ?? '';
  $('#zlb-notify').value = view.notify ?? 'each';
}

/** The status line from a ZlbConfigView (or the host's error). */
function showConfigStatus(view, error = null) {
  const el = $('#zlb-config-status');
  if (!view) {
    el.dataset.configured = 'false';
    note(el, error?.code === 'not_configured' ? `尚未设置 Not set up yet — ${error.message}` : `无法读取设置 Could not read the settings: ${error?.message ?? ''}`, error?.code === 'not_configured' ? '' : 'error');
    return;
  }
  const parts = [
    view.last_sync_at ? `上次同步 Last sync: ${when(view.last_sync_at)}` : '尚未同步 Not synced yet',
    `预约 Reservations: ${view.reservations}`,
    `待告知的到检 Arrivals not yet told: ${view.pending_arrivals}`,
    `未处理的拒收记录 Open rejected records: ${view.rejects}`,
  ];
  if (view.last_error) parts.push(`上次出错 Last error (${when(view.last_error_at)}): ${view.last_error}`);
  el.dataset.configured = 'true';
  el.dataset.synced = String(Boolean(view.last_sync_at));
  el.dataset.failing = String(Boolean(view.last_error));
  el.dataset.pendingArrivals = String(view.pending_arrivals);
  el.dataset.rejects = String(view.rejects);
  note(el, parts.join(' · '), view.last_error ? 'error' : '');
  $('#zlb-rejects-summary').textContent = `浙里办送来但未通过检查的记录 Records that failed the checks — 未处理 open: ${view.rejects}`;
}

/** Reads the settings; `fill` also puts them in the form (not while someone types). */
async function loadConfig({ fill = false } = {}) {
  const reply = await hostRequest('zlb_config_get');
  if (!reply.ok) {
    showConfigStatus(null, reply.error);
    if (fill && reply.error.code === 'not_configured' && !$('#zlb-base-url').value) {
      // The options page's address for the platform, if one was set there (no secret).
      const urls = (await browserApi.storage.local.get(BASE_URLS_KEY))[BASE_URLS_KEY] ?? {};
      if (urls.zheliban) $('#zlb-base-url').value = urls.zheliban;
    }
    return null;
  }
  if (fill) fillSettings(reply.data);
  showConfigStatus(reply.data);
  return reply.data;
}

/** Saves the form through zlb_config_put; true when the host kept it. */
async function saveSettings() {
  const form = $('#zlb-settings-form');
  const error = $('#zlb-settings-error');
  clearFieldErrors(form, error);
  $('#zlb-settings-message').textContent = '';
  const params = { base_url: $('#zlb-base-url').value, notify: $('#zlb-notify').value };
  for (const [key, sel] of SECRET_INPUTS) {
    if ($(sel).value !== '') params[key] = $(sel).value; // blank: the host keeps the stored one
  }
  // A number goes as one; anything else as typed, for the core / host to say what is wrong.
  const interval = $('#zlb-interval').value.trim();
  if (interval !== '') params.interval_s = /^\d+$/.test(interval) ? Number(interval) : interval;
  const button = $('#zlb-save');
  button.disabled = true;
  const reply = await hostRequest('zlb_config_put', params);
  button.disabled = !connected;
  if (!reply.ok) {
    const fields = reply.error.fields ?? [];
    if (fields.length) showFieldErrors(form, error, fields);
    else error.textContent = `未保存 Not saved: ${reply.error.message}`;
    $('#zlb-settings-message').textContent = fields.length ? '未保存 Not saved — fix the marked fields.' : '未保存 Not saved.';
    return false;
  }
  fillSettings(reply.data);
  showConfigStatus(reply.data);
  $('#zlb-settings-message').textContent = '已保存 Saved.';
  return true;
}

async function testConnection() {
  const result = $('#zlb-test-result');
  const button = $('#zlb-test');
  button.disabled = true;
  result.className = 'test-result';
  result.dataset.state = 'testing';
  result.textContent = '测试中 Testing…';
  try {
    if (!(await saveSettings())) {
      result.className = 'test-result error';
      result.dataset.state = 'error';
      result.textContent = '未测试：请先修正设置 Not tested: fix the settings first.';
      return;
    }
    const reply = await hostRequest('zlb_test');
    const ok = reply.ok && reply.data?.ok !== false;
    result.className = `test-result ${ok ? 'ok' : 'error'}`;
    result.dataset.state = ok ? 'ok' : 'error';
    result.textContent = ok
      ? `连接成功 OK — ${reply.data?.message ?? ''}`
      : `连接失败 Connection failed: ${reply.ok ? reply.data?.message ?? '' : reply.error.message}`;
    await loadConfig();
  } finally {
    button.disabled = !connected;
  }
}

// ---- reservations -------------------------------------------------------------------------

/** zlb_list / zlb_export params for the filter as shown. */
function listParams() {
  const params = { query: $('#zlb-query').value, include_cancelled: $('#zlb-include-cancelled').checked };
  if (range === 'today' || range === 'upcoming') {
    const today = core.today_in_china(Date.now());
    params.from = today;
    if (range === 'today') params.to = today;
  } else if (range === 'date') {
    params.from = $('#zlb-date').value;
    params.to = $('#zlb-date').value;
  }
  return params;
}

function showRange(next) {
  range = next;
  for (const b of document.querySelectorAll('.zlb-filters [data-range]')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
  if (range !== 'date') $('#zlb-date').value = '';
  loadList();
}

const ARRIVAL_NOTE = {
  pending: '待告知：下次同步时告诉浙里办 pending: will be told on next sync',
  sent: '已告知浙里办 told to 浙里办',
  refused: '浙里办未接受 refused by 浙里办',
};

function arrivalCell(r) {
  const cell = h('td', { class: 'zlb-arrived', 'data-testid': 'zlb-arrived-at' });
  if (r.arrived_at) cell.append(h('span', { class: 'mono', 'data-testid': 'zlb-arrived-time', text: r.arrived_at }));
  if (r.arrival) {
    const extra = r.arrival_error ? `: ${r.arrival_error}` : '';
    cell.append(h('span', { class: 'zlb-arrival', 'data-arrival': r.arrival, 'data-testid': 'zlb-arrival', text: `${ARRIVAL_NOTE[r.arrival] ?? r.arrival}${extra}` }));
  }
  return cell;
}

/** One table row of a ReservationView. */
function reservationRow(r) {
  const actions = h('td', { class: 'zlb-actions' });
  if (r.status !== 5 && !r.arrived_at) {
    const button = h('button', { type: 'button', class: 'small primary', 'data-testid': 'zlb-arrive', text: '到检 Arrived' });
    button.addEventListener('click', () => arrive(r.serial, button));
    actions.append(button);
  }
  const tr = h(
    'tr',
    { 'data-testid': 'zlb-row', 'data-serial': r.serial, 'data-status': r.status, 'data-arrival': r.arrival ?? '' },
    h('td', { class: 'mono', 'data-testid': 'zlb-serial', text: r.serial }),
    h('td', { 'data-testid': 'zlb-name', text: r.name }),
    h('td', { class: 'mono', 'data-testid': 'zlb-id', title: r.card_type, text: r.id_masked }),
    h('td', { 'data-testid': 'zlb-sex', text: r.sex }),
    h('td', { class: 'mono', 'data-testid': 'zlb-check-date', text: r.check_date }),
    h('td', { 'data-testid': 'zlb-package' }, r.package, r.add_ons ? h('span', { class: 'zlb-arrival', text: `+ ${r.add_ons}` }) : null),
    h('td', { 'data-testid': 'zlb-status', text: r.status_name }),
    arrivalCell(r),
    actions,
  );
  return tr;
}

async function loadList() {
  if (!connected) return;
  const seq = ++listSeq;
  const reply = await hostRequest('zlb_list', listParams());
  if (seq !== listSeq) return; // a newer filter's answer is on its way
  const message = $('#zlb-list-message');
  if (!reply.ok) {
    message.dataset.kind = 'load';
    note(message, `无法读取预约 Could not load the reservations: ${reply.error.message}`, 'error');
    return;
  }
  if (message.dataset.kind === 'load') note(message, '');
  const { reservations, total, today } = reply.data;
  const rows = reservations.map(reservationRow);
  if (!rows.length) rows.push(h('tr', { class: 'zlb-empty' }, h('td', { colspan: 9, class: 'muted', text: '没有符合的预约 No reservation matches.' })));
  $('#zlb-rows').replaceChildren(...rows);
  const count = $('#zlb-count');
  count.dataset.shown = String(reservations.length);
  count.dataset.total = String(total);
  count.dataset.today = today;
  count.textContent =
    reservations.length < total
      ? `显示 ${reservations.length} / 共 ${total} 条 showing ${reservations.length} of ${total} — narrow the search · 今天 today ${today}`
      : `共 ${total} 条 ${total} reservation(s) · 今天 today ${today}`;
}

async function arrive(serial, button) {
  button.disabled = true;
  const message = $('#zlb-list-message');
  message.dataset.kind = 'arrive';
  const reply = await hostRequest('zlb_arrive', { serial });
  if (!reply.ok) {
    button.disabled = false;
    note(message, `${serial}: 未记录到检 Arrival not recorded — ${reply.error.message}`, 'error');
    return;
  }
  const view = reply.data.reservation;
  const row = [...document.querySelectorAll('#zlb-rows tr[data-serial]')].find((tr) => tr.dataset.serial === view.serial);
  row?.replaceWith(reservationRow(view));
  const kind = { sent: 'ok', pending: 'warn', refused: 'error' }[view.arrival] ?? '';
  note(message, `${view.name} — ${reply.data.message}`, kind);
  await loadConfig();
}

async function syncNow() {
  const button = $('#zlb-sync');
  const message = $('#zlb-sync-message');
  button.disabled = true;
  note(message, '同步中 Syncing…');
  message.dataset.state = 'syncing';
  for (const k of ['new', 'rescheduled', 'cancelled', 'updated', 'repeats', 'rejected']) delete message.dataset[k];
  try {
    const reply = await hostRequest('zlb_sync');
    if (reply.ok) {
      const d = reply.data;
      for (const k of ['new', 'rescheduled', 'cancelled', 'updated', 'repeats']) message.dataset[k] = String(d[k]);
      message.dataset.rejected = String(d.summary?.rejected ?? 0);
      message.dataset.state = 'ok';
      note(message, `同步完成 Synced — ${d.message}`, 'ok');
    } else {
      message.dataset.state = 'error';
      note(message, `同步失败 Sync failed: ${reply.error.message}`, 'error');
    }
    await Promise.all([loadList(), loadConfig(), $('#zlb-rejects').open ? loadRejects() : null]);
  } finally {
    button.disabled = !connected;
  }
}

async function exportCsv() {
  const button = $('#zlb-export');
  const message = $('#zlb-list-message');
  message.dataset.kind = 'export';
  button.disabled = true;
  try {
    const reply = await hostRequest('zlb_export', listParams());
    if (!reply.ok) {
      note(message, `未导出 Not exported: ${reply.error.message}`, 'error');
      return;
    }
    const { filename, csv, rows } = reply.data;
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    note(message, `已导出 Exported ${rows} 行 rows: ${filename}`, 'ok');
  } finally {
    button.disabled = !connected;
  }
}

// ---- rejects ------------------------------------------------------------------------------

async function loadRejects() {
  const message = $('#zlb-rejects-message');
  const reply = await hostRequest('zlb_rejects');
  if (!reply.ok) {
    note(message, `无法读取 Could not load them: ${reply.error.message}`, 'error');
    return;
  }
  const { rejects } = reply.data;
  if (message.dataset.kind !== 'release') note(message, rejects.length ? '' : '没有 None.');
  $('#zlb-reject-list').replaceChildren(...rejects.map(rejectItem));
}

function rejectItem(r) {
  let action = null;
  if (r.released_at) {
    action = h('span', { class: 'muted', 'data-testid': 'zlb-reject-released', text: `已标记收到 marked received ${when(r.released_at)}` });
  } else if (r.serial) {
    action = h('button', { type: 'button', class: 'small', 'data-testid': 'zlb-reject-release', text: '标记已收 Mark received' });
    action.addEventListener('click', () => releaseReject(r.serial, action));
  }
  return h(
    'li',
    { 'data-testid': 'zlb-reject', 'data-serial': r.serial ?? '', 'data-released': String(Boolean(r.released_at)) },
    h('span', { class: 'mono', text: r.serial ?? '（无流水号 no serial）' }),
    h('span', { class: 'zlb-reject-reason', text: r.reason }),
    h('span', { class: 'muted', text: `${r.times} 次 times · 最近 last seen ${when(r.last_seen_at)}` }),
    action,
    h('details', { class: 'zlb-raw' }, h('summary', { class: 'muted', text: '原始记录 as delivered (masked)' }), h('code', { text: JSON.stringify(r.raw) })),
  );
}

/** Has 浙里办 mark a reject received anyway (after a second click to confirm). */
async function releaseReject(serial, button) {
  if (button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = '确认：告诉浙里办已收到 Confirm: tell 浙里办 it was received';
    return;
  }
  button.disabled = true;
  const message = $('#zlb-rejects-message');
  message.dataset.kind = 'release';
  const reply = await hostRequest('zlb_reject_release', { serial });
  if (!reply.ok) {
    button.disabled = false;
    note(message, `${serial}: 未完成 Not done — ${reply.error.message}`, 'error');
    return;
  }
  note(message, reply.data.message, 'ok');
  await Promise.all([loadRejects(), loadConfig()]);
}

// ---- wiring -------------------------------------------------------------------------------

function refreshAll() {
  loadList();
  loadConfig();
  if ($('#zlb-rejects').open) loadRejects();
}

function showStatus(status) {
  renderStatus($('#host-status'), status);
  const now = status?.state === 'connected';
  for (const sel of HOST_BUTTONS) $(sel).disabled = !now;
  if (now && !connected) {
    connected = true;
    loadConfig({ fill: true });
    loadList();
    if ($('#zlb-rejects').open) loadRejects();
  }
  connected = now;
}

async function main() {
  await coreReady;
  $('#zlb-settings-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveSettings();
  });
  $('#zlb-test').addEventListener('click', testConnection);
  $('#zlb-sync').addEventListener('click', syncNow);
  $('#zlb-export').addEventListener('click', exportCsv);
  for (const b of document.querySelectorAll('.zlb-filters [data-range]')) b.addEventListener('click', () => showRange(b.dataset.range));
  $('#zlb-date').addEventListener('change', () => {
    if ($('#zlb-date').value) {
      range = 'date';
      for (const b of document.querySelectorAll('.zlb-filters [data-range]')) b.setAttribute('aria-pressed', 'false');
      loadList();
    } else showRange('today');
  });
  $('#zlb-query').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadList, SEARCH_DELAY_MS);
  });
  $('#zlb-include-cancelled').addEventListener('change', loadList);
  $('#zlb-rejects').addEventListener('toggle', () => {
    if ($('#zlb-rejects').open) loadRejects();
  });
  onBackgroundMessage({
    status: showStatus,
    event: (m) => {
      if (m.event !== 'watch_event' || m.data?.watch_id !== ZLB_WATCH_ID) return;
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refreshAll, EVENT_REFRESH_DELAY_MS);
    },
  });
  showStatus(await hostStatus(true));
}

main().catch((e) => {
  $('#zlb-settings-error').textContent = `Haoyuan could not start: ${e?.message ?? e}`;
});
