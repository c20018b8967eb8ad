// options.js — the settings page: host status and data directory (from the host's
// hello), and each platform's base URL. Overrides are validated by the core and kept
// in storage.local under `baseUrls` ({platform id: url}); an empty field means the
// platform's default (the real site). Tests and the demo point these at the sandbox.
//
// Notifications: the alert sound (on/off, storage.local `notifySound`: browser-local,
// no secret) and the channels, which the host keeps: read with channels_get, saved with
// channels_put, tried with send_test / send_test_email. The form is rendered from the
// core's channel_forms; the core turns it into settings (channels_from_form) and back
// (channels_to_form). Secrets come back blank with `secrets_set`: a set one shows
// "已设置 set", a blank one keeps the stored value, "clear" removes it. Secrets are never
// written to chrome.storage nor logged.
//
// 91160 / pati accounts and the patient book: options-sites.js.

import { ask, browserApi, clearFieldErrors, core, coreReady, h, hostRequest, hostStatus, onBackgroundMessage, renderStatus, showFieldErrors } from './ui.js';
import { SOUND_KEY } from './notifier.js';
import { BASE_URLS_KEY } from './base-urls.js';
import { loadSiteSections, setupSiteSections } from './options-sites.js';

const $ = (sel) => document.querySelector(sel);

function showStatus(status) {
  renderStatus($('#host-status'), status);
  if (status?.data_dir) $('#data-dir').textContent = status.data_dir;
  if (status?.state === 'connected' && !channelsLoaded) loadChannels();
  if (status?.state === 'connected') loadSiteSections();
}

async function loadUrls(platforms) {
  const stored = (await browserApi.storage.local.get(BASE_URLS_KEY))[BASE_URLS_KEY] ?? {};
  $('#url-fields').replaceChildren(
    ...platforms.map((p) => {
      const id = `url-${p.id}`;
      return h(
        'div',
        { class: 'field', 'data-field': `base_url.${p.id}` },
        h('label', { for: id, text: p.name }),
        h('input', {
          id,
          name: p.id,
          type: 'url',
          'data-testid': `base-url-${p.id}`,
          value: stored[p.id] ?? '',
          placeholder: p.default_base_url ?? '医院的服务器地址 the hospital’s server (required to use it)',
          spellcheck: 'false',
          autocomplete: 'off',
        }),
        h('p', { class: 'field-error', 'data-error-for': `base_url.${p.id}` }),
      );
    }),
  );
}

async function saveUrls(event, platforms) {
  event.preventDefault();
  $('#urls-message').textContent = '';
  const next = {};
  let bad = false;
  for (const p of platforms) {
    const input = $(`#url-${p.id}`);
    const slot = document.querySelector(`[data-error-for="base_url.${p.id}"]`);
    slot.textContent = '';
    input.closest('.field').classList.remove('invalid');
    if (!input.value.trim()) continue;
    const checked = JSON.parse(core.validate_base_url(input.value));
    if (checked.ok) {
      next[p.id] = checked.url;
      input.value = checked.url;
    } else {
      slot.textContent = checked.message;
      input.closest('.field').classList.add('invalid');
      bad = true;
    }
  }
  if (bad) {
    $('#urls-message').textContent = '未保存 Not saved — fix the marked addresses.';
    return;
  }
  await browserApi.storage.local.set({ [BASE_URLS_KEY]: next });
  $('#urls-message').textContent = '已保存 Saved.';
}

// ---- notifications: sound ----------------------------------------------------------------

async function setupSound() {
  const box = $('#sound-on');
  box.checked = (await browserApi.storage.local.get(SOUND_KEY))[SOUND_KEY] !== false;
  box.addEventListener('change', async () => {
    await browserApi.storage.local.set({ [SOUND_KEY]: box.checked });
    $('#sound-message').textContent = box.checked ? '已开启 On.' : '已关闭 Off.';
  });
  $('#sound-try').addEventListener('click', async () => {
    const reply = await ask({ type: 'sound.play' });
    $('#sound-message').textContent = !reply.ok
      ? `无法播放 Could not play: ${reply.error.message}`
      : reply.data?.played
        ? '已播放 Played.'
        : `浏览器未播放 The browser did not play it (${reply.data?.state ?? 'unknown'}).`;
  });
}

// ---- notifications: channels -------------------------------------------------------------

let channelForms = [];
let channelsLoaded = false;

const SECURITY_LABEL = {
  starttls: 'STARTTLS（端口 port 587）',
  tls: 'TLS（端口 port 465）',
  none: '不加密 none — local relay only',
};

function settingInput(f) {
  const id = `set-${f.path.replace(/\./g, '-')}`;
  const attrs = { id, 'data-path': f.path, 'data-kind': f.kind, 'data-testid': `setting-${f.path}` };
  const error = h('p', { class: 'field-error', 'data-error-for': f.path });
  if (f.kind === 'checkbox') {
    const box = h('input', { ...attrs, type: 'checkbox' });
    // A channel that is off shows only this box: its other fields appear when it is switched on.
    box.addEventListener('change', () => showChannelOn(box));
    return h('div', { class: 'field', 'data-field': f.path }, h('label', { class: 'inline' }, box, ` ${f.label}`), error);
  }
  const input =
    f.kind === 'select'
      ? h('select', attrs, ...f.options.map((o) => h('option', { value: o, text: SECURITY_LABEL[o] ?? o })))
      : h('input', {
          ...attrs,
          type: f.kind === 'secret' ? 'password' : 'text',
          inputmode: f.kind === 'number' ? 'numeric' : undefined,
          placeholder: f.placeholder || undefined,
          'data-placeholder': f.placeholder,
          autocomplete: f.kind === 'secret' ? 'new-password' : 'off',
          spellcheck: 'false',
        });
  const parts = [h('label', { for: id, text: f.label }), input];
  if (f.kind === 'secret') {
    parts.push(
      h(
        'label',
        { class: 'inline secret-clear', 'data-clear-for': f.path, hidden: true },
        h('input', { type: 'checkbox', 'data-clear': f.path, 'data-testid': `clear-${f.path}` }),
        ' 清除已保存的 clear the saved one',
      ),
    );
  }
  parts.push(error);
  return h('div', { class: 'field', 'data-field': f.path }, ...parts);
}

function showChannelOn(box) {
  const fieldset = box.closest('fieldset.channel');
  if (fieldset && box.dataset.path.endsWith('.enabled')) fieldset.dataset.enabled = String(box.checked);
}

function renderChannelForms() {
  $('#channel-fields').replaceChildren(
    ...channelForms.map((form) => {
      const result = h('p', { class: 'test-result', 'data-testid': `test-result-${form.channel}`, role: 'status' });
      const button = h('button', {
        type: 'button',
        class: 'small',
        'data-testid': `send-test-${form.channel}`,
        text: '发送测试 Send test',
        disabled: true,
        onclick: () => sendTest(form, button, result),
      });
      return h(
        'fieldset',
        { class: 'channel', 'data-channel': form.channel, 'data-testid': `channel-${form.channel}`, 'data-enabled': 'false' },
        h('legend', { text: form.name }),
        ...form.fields.map(settingInput),
        h('div', { class: 'actions' }, button),
        result,
      );
    }),
  );
}

/** Shows the host's settings (channels_get / channels_put data) in the form. */
function fillChannels(view) {
  const { values, secrets_set: set } = JSON.parse(core.channels_to_form(JSON.stringify(view)));
  for (const el of document.querySelectorAll('#channels-form [data-path]')) {
    const path = el.dataset.path;
    if (el.type === 'checkbox') {
      el.checked = values[path] === true;
      showChannelOn(el);
    } else el.value = values[path] ?? '';
    if (el.dataset.kind === 'secret') {
      const isSet = set.includes(path);
      el.value = '';
      el.placeholder = isSet ? '已设置 set' : el.dataset.placeholder || '';
      el.dataset.set = String(isSet);
      const clear = document.querySelector(`[data-clear-for="${CSS.escape(path)}"]`);
      clear.hidden = !isSet;
      clear.querySelector('input').checked = false;
    }
  }
  channelsLoaded = true;
  $('#save-channels').disabled = false;
  for (const b of document.querySelectorAll('[data-testid^="send-test-"]')) b.disabled = false;
}

function readChannels() {
  const values = {};
  for (const el of document.querySelectorAll('#channels-form [data-path]')) {
    values[el.dataset.path] = el.type === 'checkbox' ? el.checked : el.value;
  }
  const clear = [...document.querySelectorAll('#channels-form [data-clear]:checked')].map((c) => c.dataset.clear);
  return { values, clear };
}

function clearChannelErrors() {
  clearFieldErrors($('#channels-form'), $('#channels-error'));
}

function showChannelErrors(fields) {
  showFieldErrors($('#channels-form'), $('#channels-error'), fields);
}

async function loadChannels() {
  channelsLoaded = true; // one load at a time; reset on failure
  const reply = await hostRequest('channels_get');
  if (!reply.ok) {
    channelsLoaded = false;
    $('#channels-error').textContent = `无法读取通知设置 Could not read the notification settings: ${reply.error.message}`;
    return;
  }
  $('#channels-error').textContent = '';
  fillChannels(reply.data);
}

/** Saves the form through channels_put; true when the host kept it. */
async function saveChannels() {
  clearChannelErrors();
  $('#channels-message').textContent = '';
  const form = JSON.parse(core.channels_from_form(JSON.stringify(readChannels())));
  if (!form.ok) {
    showChannelErrors(form.fields);
    $('#channels-message').textContent = '未保存 Not saved — fix the marked fields.';
    return false;
  }
  const button = $('#save-channels');
  button.disabled = true;
  const reply = await hostRequest('channels_put', form.params);
  button.disabled = false;
  if (!reply.ok) {
    if (reply.error.fields?.length) showChannelErrors(reply.error.fields);
    else $('#channels-error').textContent = reply.error.message;
    $('#channels-message').textContent = reply.error.fields?.length ? '未保存 Not saved — fix the marked fields.' : '未保存 Not saved.';
    return false;
  }
  fillChannels(reply.data);
  $('#channels-message').textContent = '已保存 Saved.';
  return true;
}

const TEST_FAILURE = {
  channel_failed: '发送失败 Not delivered',
  channel_not_configured: '未设置 Not set up',
};

async function sendTest(form, button, result) {
  button.disabled = true;
  result.className = 'test-result';
  result.textContent = '发送中 Sending…';
  try {
    if (!(await saveChannels())) {
      result.className = 'test-result error';
      result.textContent = '未发送：请先修正设置 Not sent: fix the settings first.';
      return;
    }
    const reply = await hostRequest(form.test_cmd, form.test_cmd === 'send_test' ? { channel: form.channel } : {});
    if (reply.ok) {
      result.className = 'test-result ok';
      result.textContent = `已发送 Sent — ${reply.data?.detail ?? 'OK'}`;
    } else {
      result.className = 'test-result error';
      result.textContent = `${TEST_FAILURE[reply.error.code] ?? '出错 Error'}: ${reply.error.message}`;
    }
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await coreReady;
  $('#extension-version').textContent = `${core.version()} (protocol ${core.protocol_major()})`;
  const platforms = JSON.parse(core.platforms());
  await loadUrls(platforms);
  $('#urls-form').addEventListener('submit', (e) => saveUrls(e, platforms));
  await setupSound();
  setupSiteSections({ baseUrls: (await browserApi.storage.local.get(BASE_URLS_KEY))[BASE_URLS_KEY] ?? {} });
  channelForms = JSON.parse(core.channel_forms());
  renderChannelForms();
  $('#channels-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveChannels();
  });
  onBackgroundMessage({ status: showStatus });
  showStatus(await hostStatus(true));
}

main().catch((e) => {
  $('#urls-message').textContent = `Haoyuan could not start: ${e?.message ?? e}`;
});
