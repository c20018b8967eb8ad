// popup.js — the toolbar popup. Shows the host status, lists the host's watches (with
// pause/resume and delete), shows how the notification channels are doing (the host's
// outbox_status, read by the core's outbox_view), and adds a watch from a form rendered
// from the core's platform descriptions. The core turns the form into a validated watch
// (watch_from_form); field errors from it and from the host's `invalid_watch` reply are
// shown next to their inputs. Opening the popup clears the badge of live findings.
//
// 114yygh: the sign-in panel (yygh-login.js) shows whether the 114 session is alive and
// runs the SMS login in this page; for a 114 watch, the form's hospital / clinic /
// patient choosers (yygh-pickers.js) fill the target inputs.

import { ask, clearFieldErrors, core, coreReady, h, hostRequest, hostStatus, onBackgroundMessage, renderStatus, showFieldErrors } from './ui.js';
import { setupYyghLogin, YYGH } from './yygh-login.js';
import { setupYyghPickers } from './yygh-pickers.js';

const $ = (sel) => document.querySelector(sel);

/** How often the open popup re-reads the notification channels' status. */
const OUTBOX_REFRESH_MS = 10_000;

let platformList = [];
let connected = false;
/** The 114 choosers (set up in main). */
let pickers = null;

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
  }
  if (!connected) {
    $('#list-message').textContent = '连接本机程序后显示监控。Watches appear once the host is connected.';
    $('#watch-list').replaceChildren();
    $('#notify-section').hidden = true;
  }
}

// ---- watch list ---------------------------------------------------------------------

async function loadWatches() {
  const watches = [];
  let after;
  for (let page = 0; page < 20; page++) {
    const reply = await hostRequest('watch_list', after ? { after } : {});
    if (!reply.ok) {
      $('#list-message').textContent = `无法读取监控 Could not load watches: ${reply.error.message}`;
      return;
    }
    watches.push(...reply.data.watches);
    if (!reply.data.next) break;
    after = reply.data.next;
  }
  renderWatches(watches);
}

function renderWatches(watches) {
  const list = $('#watch-list');
  $('#list-message').textContent = watches.length ? '' : '还没有监控。No watches yet.';
  list.replaceChildren(
    ...watches.map((w) => {
      const pause = h('button', {
        type: 'button',
        class: 'small',
        'data-testid': 'watch-pause',
        text: w.paused ? '恢复 Resume' : '暂停 Pause',
        title: w.paused ? '继续监控 Start watching again' : '停止监控，保留设置 Stop watching, keep the watch',
        onclick: () => pauseWatch(w, !w.paused, pause),
      });
      const del = h('button', {
        type: 'button',
        class: 'small danger',
        'data-testid': 'watch-delete',
        text: '删除 Delete',
        onclick: () => deleteWatch(w, del),
      });
      return h(
        'li',
        { class: w.paused ? 'watch paused' : 'watch', 'data-testid': 'watch-item', 'data-watch-id': w.id, 'data-paused': String(Boolean(w.paused)) },
        h(
          'div',
          { class: 'watch-text' },
          h('div', { class: 'watch-label', 'data-testid': 'watch-label', text: w.label || '(未命名 unnamed)' }),
          h('div', { class: 'watch-summary', 'data-testid': 'watch-summary', text: core.watch_summary(JSON.stringify(w)) }),
        ),
        pause,
        del,
      );
    }),
  );
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
  $('#target-fields').replaceChildren(
    ...p.fields.map((f) => {
      const name = `target.${f.name}`;
      const id = `target-${f.name}`;
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
  for (const input of document.querySelectorAll('[data-target-field]')) target[input.dataset.targetField] = input.value;
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
  showFieldErrors(document, $('#form-error'), fields)?.focus();
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  $('#form-message').textContent = '';
  const result = JSON.parse(core.watch_from_form(JSON.stringify(readForm()), today()));
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
  for (const input of document.querySelectorAll('[data-target-field], #label')) input.value = '';
  pickers?.reset();
  await loadWatches();
}

// ---- start ----------------------------------------------------------------------------

async function main() {
  // The person is looking now: the findings counted on the badge are seen.
  ask({ type: 'badge.clear' });
  await coreReady;
  pickers = setupYyghPickers($('#target-pickers'), $('#watch-form'));
  const yyghLogin = setupYyghLogin($('#yygh-section'), { onSession: (alive) => pickers.setSignedIn(alive) });
  yyghLogin.check();
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
      if (e.event === 'watch_event' && connected) {
        loadWatches();
        loadOutbox();
      }
    },
  });
  showStatus(await hostStatus(true));
  // The outbox drains (and retries) on its own: keep its status current while the popup is open.
  setInterval(() => {
    if (connected) loadOutbox();
  }, OUTBOX_REFRESH_MS);
}

main().catch((e) => {
  $('#form-error').textContent = `Haoyuan could not start: ${e?.message ?? e}`;
});
