// notifier.js — desktop notifications, the alert sound and the toolbar badge, owned by
// the background script. The core decides which history kinds are told and what the
// notification says (desktop_notice); the platform shim decides how it looks (buttons
// in Chrome, none in Firefox) and how sound is played. What must outlive a service
// worker restart lives in storage.session (in memory, gone when the browser closes):
//   notices   {notification id: {watch_id, seq, kind, url, actions, options}}, the last
//             50, kept after a notification closes (a notification centre may still
//             offer it to be clicked) and dropped once acted on
//   badge     {count}: live findings (slot_seen) since the popup was last opened
//   toldSeqs  [seq]: history entries already told, so a repeat is not told twice
// The sound setting is browser-local and no secret: storage.local `notifySound`
// (default on). No secret ever passes through here.

import { browserApi, notificationActions, notificationOptions, playAlert } from './platform.js';

/** The storage.local key of the sound setting (true/false; absent = on). */
export const SOUND_KEY = 'notifySound';

const NOTICES_KEY = 'notices';
const BADGE_KEY = 'badge';
const TOLD_KEY = 'toldSeqs';
const KEEP_NOTICES = 50;
const KEEP_TOLD = 200;
const BADGE_COLOR = '#c53030';

/** storage.session, or an in-memory stand-in where a browser lacks it. */
const session =
  browserApi.storage.session ??
  (() => {
    const mem = {};
    return {
      get: async (key) => (key in mem ? { [key]: mem[key] } : {}),
      set: async (items) => void Object.assign(mem, items),
    };
  })();

async function load(key, fallback) {
  return (await session.get(key))[key] ?? fallback;
}

function save(key, value) {
  return session.set({ [key]: value });
}

function errorText(e) {
  return String(e?.message ?? e);
}

export class Notifier {
  /**
   * @param core the wasm core (after `ready`)
   * @param host the HostConnection (for watch_get and watch_pause)
   */
  constructor(core, host) {
    this.core = core;
    this.host = host;
    this.queue = Promise.resolve();
  }

  /** Runs `fn` after everything queued before it (session state is read-modify-write). */
  serial(fn) {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** A `watch_event` from the host: raises a notification when its kind is told. */
  onWatchEvent(entry) {
    if (!entry || !this.core.event_notifies(String(entry.kind ?? ''))) return Promise.resolve(null);
    return this.serial(() => this.tell(entry)).catch((e) => {
      console.warn('haoyuan: could not raise a notification:', errorText(e));
      return null;
    });
  }

  async tell(entry) {
    const told = await load(TOLD_KEY, []);
    if (told.includes(entry.seq)) return null;
    await save(TOLD_KEY, [...told, entry.seq].slice(-KEEP_TOLD));

    const watch = await this.host.request('watch_get', { id: entry.watch_id });
    const notice = JSON.parse(this.core.desktop_notice(JSON.stringify(entry), watch.ok ? JSON.stringify(watch.data) : ''));
    if (!notice.notify) return null;
    const actions = notificationActions(notice);
    const options = notificationOptions(notice, actions);

    const notices = await load(NOTICES_KEY, {});
    notices[notice.id] = { watch_id: notice.watch_id, seq: notice.seq, kind: notice.kind, url: notice.url ?? null, actions, options };
    const ids = Object.keys(notices);
    for (const old of ids.slice(0, Math.max(0, ids.length - KEEP_NOTICES))) delete notices[old];
    await save(NOTICES_KEY, notices);

    try {
      await browserApi.notifications.create(notice.id, options);
    } catch (e) {
      // Still count it and sound the alert: the person must hear of it somehow.
      console.warn('haoyuan: the browser refused the notification:', errorText(e));
    }
    if (notice.live) await this.setBadge((await load(BADGE_KEY, { count: 0 })).count + 1);
    if (await this.soundOn()) {
      playAlert().catch((e) => console.warn('haoyuan: could not play the alert:', errorText(e)));
    }
    return notice.id;
  }

  /** Whether the alert sound is on (the person can turn it off in the options page). */
  async soundOn() {
    return (await browserApi.storage.local.get(SOUND_KEY))[SOUND_KEY] !== false;
  }

  /** Plays the alert now (the options page's "try" button). */
  playSound() {
    return playAlert();
  }

  async setBadge(count) {
    await save(BADGE_KEY, { count });
    await browserApi.action.setBadgeBackgroundColor({ color: BADGE_COLOR });
    await browserApi.action.setBadgeText({ text: count > 0 ? String(count) : '' });
  }

  /** The popup was opened: the findings have been seen. */
  clearBadge() {
    return this.serial(() => this.setBadge(0));
  }

  /** After a worker restart: show the count kept in storage.session. */
  restoreBadge() {
    return this.serial(async () => this.setBadge((await load(BADGE_KEY, { count: 0 })).count));
  }

  /** The notifications raised and still known ({id: record}); for the tests and the popup. */
  notices() {
    return load(NOTICES_KEY, {});
  }

  async forget(id) {
    const notices = await load(NOTICES_KEY, {});
    if (!(id in notices)) return;
    delete notices[id];
    await save(NOTICES_KEY, notices);
  }

  /** notifications.onButtonClicked: runs the action behind the button. */
  handleButton(id, buttonIndex) {
    return this.serial(async () => {
      const record = (await load(NOTICES_KEY, {}))[id];
      const action = record?.actions?.[buttonIndex];
      if (!action) return { ok: false, error: { code: 'not_found', message: `no action ${buttonIndex} on notification ${id}` } };
      return this.act(id, record, action);
    });
  }

  /** notifications.onClicked: opens the booking page (or the watch list when there is none). */
  handleClick(id) {
    return this.serial(async () => {
      const record = (await load(NOTICES_KEY, {}))[id];
      if (!record) return { ok: false, error: { code: 'not_found', message: `notification ${id} is not Haoyuan's or has expired` } };
      return this.act(id, record, 'open');
    });
  }

  async act(id, record, action) {
    if (action === 'open') {
      const url = record.url ?? browserApi.runtime.getURL('popup.html');
      await browserApi.tabs.create({ url });
      await browserApi.notifications.clear(id);
      await this.forget(id);
      return { ok: true, data: { opened: url } };
    }
    if (action === 'stop') {
      const reply = await this.host.request('watch_pause', { id: record.watch_id, paused: true });
      if (reply.ok) {
        await browserApi.notifications.clear(id);
        await this.forget(id);
        return reply;
      }
      // Say so on the same notification (same id: it replaces the old one).
      await browserApi.notifications.create(id, {
        ...record.options,
        message: `未能停止此监控 Could not stop this watch: ${reply.error.message}`,
      });
      return reply;
    }
    return { ok: false, error: { code: 'bad_request', message: `unknown notification action ${action}` } };
  }
}
