// ui.js — shared by the popup and the options page: loads the wasm core, talks to the
// background script, and renders the host status line. Pages import `coreReady` before
// calling any core function.

import init, * as core from './pkg/haoyuan_core.js';
import { browserApi } from './platform.js';

export { core, browserApi };

export const coreReady = init({ module_or_path: new URL('./pkg/haoyuan_core_bg.wasm', import.meta.url) });

/** Asks the background script something; a missing answer becomes an error value. */
export async function ask(message) {
  try {
    const answer = await browserApi.runtime.sendMessage(message);
    return answer ?? { ok: false, error: { code: 'no_answer', message: 'the background script did not answer' } };
  } catch (e) {
    return { ok: false, error: { code: 'extension_error', message: String(e?.message ?? e) } };
  }
}

/** Sends a protocol request to the host through the background script. */
export function hostRequest(cmd, params = {}) {
  return ask({ type: 'host.request', cmd, params });
}

/** The current host status; `wait` waits for a connection attempt to settle. */
export function hostStatus(wait = true) {
  return ask({ type: 'status', wait });
}

/** Calls `fn(status)` on each status change and `onEvent(event)` on host events. */
export function onBackgroundMessage({ status: onStatus = () => {}, event: onEvent = () => {} }) {
  browserApi.runtime.onMessage.addListener((message) => {
    if (message?.type === 'status_changed') onStatus(message.status);
    if (message?.type === 'host_event') onEvent(message);
    return false;
  });
}

/** Creates an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const STATE_LABEL = {
  connecting: '连接中 connecting',
  connected: '已连接',
  not_installed: '未安装 not installed',
  version_mismatch: '版本不符',
  disconnected: '已断开',
};

/** Renders a status (from the background script) into `el` (data-state carries the state). */
export function renderStatus(el, status) {
  const state = status?.state ?? 'disconnected';
  el.dataset.state = state;
  el.replaceChildren();
  el.append(h('span', { class: 'dot', 'aria-hidden': 'true' }));
  const text = h('span', { class: 'status-text', 'data-testid': 'status-text' });
  el.append(text);
  switch (state) {
    case 'connected':
      text.textContent = `${status.message} ${STATE_LABEL.connected}`;
      if (status.warning) el.append(h('div', { class: 'status-warning', 'data-testid': 'status-warning', text: status.warning }));
      break;
    case 'not_installed': {
      text.textContent = 'not installed — run: 本机程序未安装，请运行：';
      const cmd = h('code', { 'data-testid': 'install-command', text: status.install_command ?? '' });
      const copy = h('button', {
        type: 'button',
        class: 'small',
        'data-testid': 'copy-install-command',
        text: '复制 Copy',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(status.install_command ?? '');
            copy.textContent = '已复制 Copied';
          } catch {
            copy.textContent = '请手动复制 Copy by hand';
          }
        },
      });
      el.append(h('div', { class: 'install' }, cmd, copy));
      break;
    }
    case 'version_mismatch':
      text.textContent = `${status.message} (${STATE_LABEL.version_mismatch})`;
      break;
    case 'disconnected':
      text.textContent = `${status.message} ${STATE_LABEL.disconnected}`;
      break;
    default:
      text.textContent = status?.message ?? STATE_LABEL.connecting;
  }
}

/** Clears the field errors inside `form` and its form-level error line `errorEl`. */
export function clearFieldErrors(form, errorEl) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  errorEl.textContent = '';
}

/**
 * Shows each {field, message} (from the core or the host) next to its input inside
 * `form`; fields without a slot go to `errorEl`. Returns the first invalid input.
 */
export function showFieldErrors(form, errorEl, fields) {
  const loose = [];
  for (const { field, message } of fields) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) {
      loose.push(`${field}: ${message}`);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    const wrapper = slot.closest('.field');
    wrapper?.classList.add('invalid');
    wrapper?.querySelector('input, select')?.setAttribute('aria-invalid', 'true');
  }
  if (loose.length) errorEl.textContent = loose.join(' · ');
  return form.querySelector('.field.invalid input, .field.invalid select');
}
