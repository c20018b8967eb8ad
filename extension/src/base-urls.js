// base-urls.js — where each platform lives: the user's override from the options page
// (storage.local `baseUrls`, {platform id: url}) or the core's default. Shared by the
// background, the popup and the options page.

import { browserApi } from './platform.js';

/** The storage.local key holding the base-URL overrides. */
export const BASE_URLS_KEY = 'baseUrls';

/** The base URL of platform `id` (override, else the core's default, else ''). */
export async function baseUrlOf(core, id) {
  const stored = (await browserApi.storage.local.get(BASE_URLS_KEY))[BASE_URLS_KEY] ?? {};
  if (typeof stored[id] === 'string' && stored[id]) return stored[id];
  const p = JSON.parse(core.platforms()).find((x) => x.id === id);
  return p?.default_base_url ?? '';
}
