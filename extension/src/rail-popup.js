// rail-popup.js — the popup's 12306 panel. 12306 runs in the native host (sessions,
// captchas, watches), so this page only relays: `rail_login` (account and password) →
// the host fetches 12306's picture captcha and answers it as a prompt → the person
// clicks its tiles here → `prompt_answer` → signed in (`rail_accounts` says as whom), or
// a new picture (`again`), or why not. Questions the host asks on its own (an order
// captcha before a booking, a login needed again) come from `prompt_list` when the
// popup opens and from the host's `prompt` / `prompt_closed` events while it is open;
// each is shown with the same tile clicker.
//
// The password is read from its field, which is cleared at once, and kept in this
// page's memory only while its login's picture is on screen (a new picture is
// `rail_login` again); it is never stored or logged here.
//
// The picture (293 × 190): a 30-pixel prompt strip, then 4 × 2 tiles of 67 × 67 with
// 5-pixel gaps; tile i spans x ∈ [5 + 72·(i mod 4), +67), y ∈ [35 + 72·(i div 4), +67).
// Each tile is a toggle button over the picture; the answer gives the points clicked
// (one per selected tile) in the grid's coordinates (the picture's minus the strip), as
// 12306 takes them.

import { h, hostRequest } from './ui.js';

/** The platform id of 12306. */
export const RAIL = '12306';

/** The captcha picture's geometry, in picture pixels. */
const PICTURE = { width: 293, height: 190, strip: 30, margin: 5, tile: 67, step: 72, cols: 4, tiles: 8 };

/** Picture-pixel box of tile `i`: {x, y, w, h}. */
function tileBox(i) {
  return {
    x: PICTURE.margin + PICTURE.step * (i % PICTURE.cols),
    y: PICTURE.strip + PICTURE.margin + PICTURE.step * Math.floor(i / PICTURE.cols),
    w: PICTURE.tile,
    h: PICTURE.tile,
  };
}

const pct = (v, of) => `${((v / of) * 100).toFixed(4)}%`;

/** "19:35:02" of a Unix ms (empty when not a time). */
function clockText(ms) {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toLocaleTimeString('zh-CN', { hour12: false }) : '';
}

/** A reply's error in plain words (a code the page does not know shows the host's message). */
export function errorWords(error) {
  const message = error?.message || error?.code || 'unknown error';
  switch (error?.code) {
    case 'prompt_gone':
      return `这张图片已失效 This picture is no longer taken (${message})`;
    case 'login_failed':
      return `登录失败 Sign-in failed: ${message}`;
    case 'site_failed':
      return `12306 不可用 12306 did not work: ${message}`;
    case 'timeout':
    case 'disconnected':
    case 'not_installed':
    case 'connecting':
    case 'version_mismatch':
      return `本机程序未回应 The host did not answer: ${message}`;
    default:
      return message;
  }
}

/**
 * A tile clicker for one prompt. `onSubmit(answer, prompt)` gets {points}; `onNew()`
 * (optional) asks for another picture. Returns {el, setPrompt, setBusy, say}.
 */
export function createClicker({ testid = 'rail-captcha', onSubmit, onNew = null }) {
  /** tile → the point clicked in it, in grid coordinates. */
  const selected = new Map();
  let prompt = null;
  let busy = false;

  const message = h('p', { class: 'rail-captcha-message', 'data-testid': 'rail-captcha-message' });
  const img = h('img', {
    class: 'rail-captcha-img',
    'data-testid': 'rail-captcha-img',
    width: PICTURE.width,
    height: PICTURE.height,
    alt: '验证码图片 the captcha picture',
    draggable: 'false',
  });
  const tiles = Array.from({ length: PICTURE.tiles }, (_, i) => {
    const b = tileBox(i);
    const button = h('button', {
      type: 'button',
      class: 'rail-tile',
      'data-testid': 'rail-captcha-tile',
      'data-tile': i,
      'aria-pressed': 'false',
      'aria-label': `第 ${i + 1} 张图 picture ${i + 1}`,
      style: `left:${pct(b.x, PICTURE.width)};top:${pct(b.y, PICTURE.height)};width:${pct(b.w, PICTURE.width)};height:${pct(b.h, PICTURE.height)}`,
    });
    button.addEventListener('click', (e) => toggle(i, e));
    return button;
  });
  const picture = h('div', { class: 'rail-captcha-picture', 'data-testid': 'rail-captcha-picture', 'data-selected': '' }, img, ...tiles);
  picture.addEventListener('click', (e) => {
    // A click between the tiles or on the prompt strip selects nothing.
    if (e.target === img || e.target === picture) say('请点击图中的小图 Click on the pictures themselves.', 'warn');
  });
  const expiry = h('p', { class: 'hint', 'data-testid': 'rail-captcha-expiry' });
  const submit = h('button', { type: 'button', class: 'primary', 'data-testid': 'rail-captcha-submit', text: '提交 Submit' });
  const renew = h('button', { type: 'button', class: 'small', 'data-testid': 'rail-captcha-new', text: '换一张 New picture', hidden: !onNew });
  const note = h('p', { class: 'rail-note', 'data-testid': 'rail-captcha-note', role: 'alert' });
  const el = h('div', { class: 'rail-captcha', 'data-testid': testid }, message, picture, expiry, h('div', { class: 'inline-row' }, submit, renew), note);

  /** The click's point in picture pixels: from the mouse, or the tile's centre from the keyboard. */
  function pointOf(i, event) {
    const b = tileBox(i);
    const r = img.getBoundingClientRect();
    if (event?.detail > 0 && r.width > 0 && r.height > 0) {
      const x = Math.round(((event.clientX - r.left) * (img.naturalWidth || PICTURE.width)) / r.width);
      const y = Math.round(((event.clientY - r.top) * (img.naturalHeight || PICTURE.height)) / r.height);
      if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) return [x, y];
    }
    return [b.x + Math.floor(b.w / 2), b.y + Math.floor(b.h / 2)];
  }

  function toggle(i, event) {
    if (busy || !prompt) return;
    if (selected.has(i)) selected.delete(i);
    else {
      const [x, y] = pointOf(i, event);
      selected.set(i, [x, y - PICTURE.strip]);
    }
    show();
    say('');
  }

  function show() {
    for (const [i, b] of tiles.entries()) {
      b.classList.toggle('selected', selected.has(i));
      b.setAttribute('aria-pressed', String(selected.has(i)));
    }
    picture.dataset.selected = [...selected.keys()].sort((a, b) => a - b).join(',');
  }

  function say(text, kind = 'info') {
    note.textContent = text;
    note.dataset.kind = kind;
  }

  function setPrompt(p) {
    prompt = p;
    selected.clear();
    show();
    el.dataset.promptId = p?.id ?? '';
    el.dataset.kind = p?.kind ?? '';
    message.textContent = p?.message || '请点击图中所有符合提示的图片 Click every picture that matches the prompt.';
    img.src = typeof p?.image === 'string' ? p.image : '';
    const until = clockText(Number(p?.expires_at));
    expiry.textContent = until ? `请在 ${until} 前回答 Answer before ${until}` : '';
  }

  function setBusy(value) {
    busy = value;
    submit.disabled = value;
    renew.disabled = value;
    for (const b of tiles) b.disabled = value;
  }

  submit.addEventListener('click', () => {
    if (busy || !prompt) return;
    if (!selected.size) {
      say('请先点击符合提示的图片 Click the matching pictures first.', 'warn');
      return;
    }
    // The points clicked, as 12306 takes them (the host would turn tiles into their centres).
    const order = [...selected.keys()].sort((a, b) => a - b);
    onSubmit({ points: order.map((i) => selected.get(i)) }, prompt);
  });
  renew.addEventListener('click', () => {
    if (!busy && onNew) onNew(prompt);
  });

  return { el, setPrompt, setBusy, say, prompt: () => prompt };
}

/**
 * Sets up the 12306 panel inside `root` (popup.html's #rail-section).
 * `onAccounts(accounts)`: the host's 12306 accounts, whenever read.
 * `onPrompts()`: the pending prompts changed (the watch list marks the watches waiting).
 * `watchLabel(id)`: a watch's name for an order captcha's heading.
 */
export function setupRailPanel(root, { onAccounts = () => {}, onPrompts = () => {}, watchLabel = () => '' } = {}) {
  const $ = (sel) => root.querySelector(sel);
  const status = $('[data-testid="rail-login-status"]');
  const form = $('#rail-login-form');
  const accountInput = $('[data-testid="rail-account"]');
  const passwordInput = $('[data-testid="rail-password"]');
  const startButton = $('[data-testid="rail-login-start"]');
  const loginBox = $('[data-testid="rail-login-captcha"]');
  const note = $('[data-testid="rail-login-note"]');
  const again = $('[data-testid="rail-login-again"]');
  const promptList = $('[data-testid="rail-prompts"]');

  let accounts = [];
  /** The login running in this panel: {account, password, promptId, answering} (null: none). */
  let login = null;
  /** The person asked for the form while an account is signed in ("sign in another account"). */
  let formAsked = false;
  /** Pending prompts not of this panel's login: id → {prompt, clicker, li}. */
  const pending = new Map();
  let accountsSeq = 0;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function say(text, kind = 'error') {
    note.textContent = text;
    note.dataset.kind = kind;
  }

  function holderText(a) {
    return a.holder ? `${a.holder} (${a.account})` : a.account;
  }

  /** Shows the accounts as the status line; the form shows when none is signed in. */
  function showAccounts() {
    if (login) return; // the running login reports for itself
    const on = accounts.filter((a) => a.signed_in);
    const off = accounts.filter((a) => !a.signed_in);
    const parts = [];
    if (on.length) parts.push(`已登录 12306 Signed in as ${on.map(holderText).join(', ')}`);
    if (off.length) parts.push(`需要重新登录 Sign in again: ${off.map(holderText).join(', ')}`);
    setStatus(on.length ? 'signed_in' : 'signed_out', parts.length ? `${parts.join('. ')}.` : '未登录 12306 Not signed in to 12306.');
    showForm(!on.length || formAsked, { focus: false });
    if (off.length && !on.length && !accountInput.value) accountInput.value = off[0].account;
  }

  function showForm(on, { focus = true } = {}) {
    form.hidden = !on;
    again.hidden = on || Boolean(login);
    if (on && focus) (accountInput.value ? passwordInput : accountInput).focus();
  }

  /** Reads the host's 12306 accounts (also after a login and a session_expired event). */
  async function loadAccounts() {
    const n = ++accountsSeq;
    const reply = await hostRequest('rail_accounts');
    if (n !== accountsSeq) return null;
    if (!reply.ok) {
      accounts = [];
      onAccounts(accounts);
      if (!login) {
        setStatus(reply.error?.code === 'site_failed' ? 'unavailable' : 'unknown', `无法读取 12306 账户 Could not read the 12306 accounts: ${errorWords(reply.error)}`);
        showForm(true, { focus: false });
      }
      return null;
    }
    accounts = Array.isArray(reply.data?.accounts) ? reply.data.accounts : [];
    onAccounts(accounts);
    showAccounts();
    return accounts;
  }

  // ---- the login in this panel ------------------------------------------------------------

  const loginClicker = createClicker({
    testid: 'rail-login-clicker',
    onSubmit: (answer, prompt) => answerLogin(answer, prompt),
    onNew: () => fetchPicture(),
  });
  loginBox.replaceChildren(loginClicker.el);

  function endLogin() {
    login = null; // the password goes with it
    loginBox.hidden = true;
    loginClicker.setPrompt(null);
    loginClicker.setBusy(false);
    startButton.disabled = false;
  }

  function showLoginPrompt(prompt) {
    login.promptId = prompt.id;
    dropPending(prompt.id); // the same prompt may have come as an event first
    loginClicker.setPrompt(prompt);
    loginClicker.setBusy(false);
    loginBox.hidden = false;
    setStatus('signing_in', `请点击图片登录 ${login.account} — click the pictures to sign in ${login.account}.`);
  }

  /** `rail_login` with the login's account and password: a (new) picture. */
  async function fetchPicture() {
    if (!login) return;
    const current = login;
    loginClicker.setBusy(true);
    loginClicker.say('');
    say('');
    setStatus('signing_in', '正在获取验证码 Loading the picture…');
    const reply = await hostRequest('rail_login', { account: current.account, password: current.password });
    if (login !== current) return;
    if (reply.ok && reply.data?.prompt) {
      showLoginPrompt(reply.data.prompt);
      return;
    }
    const words = reply.ok ? '本机程序没有给出验证码 The host sent no picture.' : errorWords(reply.error);
    endLogin();
    setStatus('failed', `登录失败 Sign-in failed: ${words}`);
    showForm(true);
  }

  async function answerLogin(answer, prompt) {
    if (!login || !prompt) return;
    const current = login;
    loginClicker.setBusy(true);
    loginClicker.say('正在验证 Checking…', 'info');
    current.answering = true;
    const reply = await hostRequest('prompt_answer', { id: prompt.id, answer });
    current.answering = false;
    if (login !== current) return;
    if (!reply.ok) {
      if (reply.error?.code === 'prompt_gone') {
        // The picture timed out or was answered elsewhere: offer a new one.
        loginClicker.setBusy(false);
        loginClicker.say(`${errorWords(reply.error)} — 请换一张 get a new picture.`, 'error');
        return;
      }
      const words = errorWords(reply.error);
      endLogin();
      setStatus('failed', reply.error?.code === 'login_failed' ? words : `登录失败 Sign-in failed: ${words}`);
      showForm(true);
      return;
    }
    const d = reply.data ?? {};
    if (d.state === 'again' && d.prompt) {
      showLoginPrompt(d.prompt);
      loginClicker.say(`${d.message || '点击的图片不对 The pictures clicked were not the right ones.'} 请再试一次 Try this one.`, 'warn');
      return;
    }
    if (d.state === 'done') {
      const account = current.account;
      endLogin();
      formAsked = false;
      say('');
      const list = await loadAccounts();
      const me = list?.find((a) => a.account === account);
      if (me) setStatus('signed_in', `已登录 12306 Signed in as ${holderText(me)}${othersText(account)}.`);
      else setStatus('signed_in', `已登录 12306 Signed in as ${account}${d.message ? ` — ${d.message}` : ''}.`);
      showForm(false);
      return;
    }
    // failed (or a state this page does not know): the message says why.
    endLogin();
    setStatus('failed', `登录失败 Sign-in failed: ${d.message || `the host answered “${d.state}”`}`);
    showForm(true);
  }

  /** ", also 李四 (b)" for the other signed-in accounts. */
  function othersText(account) {
    const others = accounts.filter((a) => a.signed_in && a.account !== account);
    return others.length ? `; 另有 also ${others.map(holderText).join(', ')}` : '';
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const account = accountInput.value.trim();
    const password = passwordInput.value;
    passwordInput.value = ''; // never left in the page
    if (!account) {
      say('请输入 12306 用户名 Type the 12306 user name (or email, or phone).');
      accountInput.focus();
      return;
    }
    if (!password) {
      say('请输入密码 Type the password.');
      passwordInput.focus();
      return;
    }
    say('');
    startButton.disabled = true;
    login = { account, password, promptId: null, answering: false };
    fetchPicture();
  });

  again.addEventListener('click', () => {
    formAsked = true;
    accountInput.value = '';
    showForm(true);
  });

  // ---- prompts the host asks on its own ------------------------------------------------------

  function dropPending(id) {
    const p = pending.get(id);
    if (!p) return;
    p.li.remove();
    pending.delete(id);
    onPrompts();
  }

  function headingOf(prompt) {
    if (prompt.kind === 'order_captcha') {
      const label = prompt.watch_id ? watchLabel(prompt.watch_id) : '';
      return `下单验证码 Order captcha — ${prompt.account}${label ? ` · ${label}` : ''}`;
    }
    if (prompt.kind === 'login_captcha') return `登录验证码 Sign-in captcha — ${prompt.account}`;
    return `验证码 Captcha — ${prompt.account}`;
  }

  /** Shows (or refreshes) a prompt the host is waiting on. */
  function addPending(prompt) {
    if (!prompt?.id || typeof prompt.image !== 'string') return;
    if (login && (login.promptId === prompt.id || (!login.promptId && prompt.kind === 'login_captcha' && prompt.account === login.account))) return;
    let p = pending.get(prompt.id);
    if (!p) {
      const heading = h('p', { class: 'rail-prompt-heading', 'data-testid': 'rail-prompt-heading' });
      const clicker = createClicker({ testid: 'rail-prompt-clicker', onSubmit: (answer, pr) => answerPending(pr, answer) });
      const li = h('li', { class: 'rail-prompt', 'data-testid': 'rail-prompt', 'data-prompt-id': prompt.id, 'data-kind': prompt.kind }, heading, clicker.el);
      p = { prompt, clicker, heading, li };
      pending.set(prompt.id, p);
      promptList.append(li);
      li.scrollIntoView?.({ block: 'nearest' });
    }
    p.prompt = prompt;
    p.heading.textContent = headingOf(prompt);
    p.clicker.setPrompt(prompt);
    onPrompts();
  }

  async function answerPending(prompt, answer) {
    const p = pending.get(prompt.id);
    if (!p) return;
    p.clicker.setBusy(true);
    p.clicker.say('正在提交 Sending…', 'info');
    const reply = await hostRequest('prompt_answer', { id: prompt.id, answer });
    if (pending.get(prompt.id) !== p) return; // closed meanwhile
    if (!reply.ok) {
      p.clicker.setBusy(false);
      p.clicker.say(errorWords(reply.error), 'error');
      if (reply.error?.code === 'prompt_gone') {
        p.clicker.setBusy(true);
        setTimeout(() => dropPending(prompt.id), 4_000);
      }
      return;
    }
    const d = reply.data ?? {};
    if (d.state === 'again' && d.prompt) {
      // A new picture takes the old one's place.
      pending.delete(prompt.id);
      pending.set(d.prompt.id, p);
      p.li.dataset.promptId = d.prompt.id;
      p.prompt = d.prompt;
      p.heading.textContent = headingOf(d.prompt);
      p.clicker.setPrompt(d.prompt);
      p.clicker.setBusy(false);
      p.clicker.say(`${d.message || '点击的图片不对 Not the right pictures.'} 请再试一次 Try this one.`, 'warn');
      onPrompts();
      return;
    }
    if (d.state === 'done') {
      dropPending(prompt.id);
      if (prompt.kind === 'login_captcha') loadAccounts();
      return;
    }
    p.clicker.setBusy(true);
    p.clicker.say(`未成功 Did not go through: ${d.message || d.state}`, 'error');
    setTimeout(() => dropPending(prompt.id), 8_000);
  }

  /** Reads the prompts waiting now (at popup open and after a reconnect). */
  async function loadPrompts() {
    const reply = await hostRequest('prompt_list');
    if (!reply.ok || !Array.isArray(reply.data?.prompts)) return;
    const ids = new Set(reply.data.prompts.map((p) => p.id));
    for (const id of [...pending.keys()]) if (!ids.has(id)) dropPending(id);
    for (const p of reply.data.prompts) addPending(p);
  }

  /** A host event (from the background's broadcast). */
  function onEvent(e) {
    if (e.event === 'prompt') addPending(e.data);
    else if (e.event === 'prompt_closed') {
      const id = e.data?.id;
      if (login?.promptId && id === login.promptId && !login.answering) {
        loginClicker.say('这张图片已失效 This picture is no longer taken — 请换一张 get a new picture.', 'warn');
      }
      dropPending(id);
    } else if (e.event === 'watch_event' && (e.data?.kind === 'session_expired' || e.data?.kind === 'session_restored')) {
      loadAccounts();
    }
  }

  /** The host is connected: read the accounts and the waiting prompts. */
  function start() {
    loadAccounts();
    loadPrompts();
  }

  /** The host went away: nothing it asked can be answered now. */
  function stop() {
    for (const id of [...pending.keys()]) dropPending(id);
    if (login) {
      endLogin();
      showForm(true, { focus: false });
    }
    setStatus('checking', '等待本机程序 Waiting for the host…');
  }

  /** The prompt a watch is waiting on, if any. */
  function promptFor(watchId) {
    for (const { prompt } of pending.values()) if (prompt.watch_id === watchId) return prompt;
    return null;
  }

  return { start, stop, onEvent, promptFor, loadAccounts, accounts: () => accounts };
}
