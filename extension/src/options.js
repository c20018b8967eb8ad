// options.js — the settings page: host status and data directory (from the host's
// hello), and each platform's base URL. Overrides are validated by the core and kept
// in storage.local under `baseUrls` ({platform id: url}); an empty field means the
// platform's default (the real site). Tests and the demo point these at the sandbox.

import { browserApi, core, coreReady, h, hostStatus, onBackgroundMessage, renderStatus } from './ui.js';

const $ = (sel) => document.querySelector(sel);

/** The storage.local key holding the base-URL overrides. */
export const BASE_URLS_KEY = 'baseUrls';

function showStatus(status) {
  renderStatus($('#host-status'), status);
  if (status?.data_dir) $('#data-dir').textContent = status.data_dir;
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

async function main() {
  await coreReady;
  $('#extension-version').textContent = `${core.version()} (protocol ${core.protocol_major()})`;
  const platforms = JSON.parse(core.platforms());
  await loadUrls(platforms);
  $('#urls-form').addEventListener('submit', (e) => saveUrls(e, platforms));
  onBackgroundMessage({ status: showStatus });
  showStatus(await hostStatus(true));
}

main().catch((e) => {
  $('#urls-message').textContent = `Haoyuan could not start: ${e?.message ?? e}`;
});
