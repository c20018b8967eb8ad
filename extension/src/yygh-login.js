// yygh-login.js — the popup's 114 panel: shows whether the 114 session is alive and runs
// the SMS login. The core's YyghLogin step machine decides every step; this page only
// sends the requests it builds (execute: the browser's own cookies, so the session lands
// in the browser's cookie jar), shows the pictures and notes it asks about, and hands
// back what the person types. When a 114 watch is paused for a lost session, the panel
// says so (setNeedsLogin, driven by the popup's live state). Also exports `yyghCall`, one
// read-only 114 request (built and read by the core), shared with the pickers.

import { ask, core } from './ui.js';
import { execute } from './http.js';
import { baseUrlOf } from './base-urls.js';

/** The platform id of 114yygh. */
export const YYGH = '114yygh';

/** The 114 base URL: the options page's override, else the platform's default. */
export function yyghBaseUrl() {
  return baseUrlOf(core, YYGH);
}

/**
 * One 114 request `op` with `params`: the core builds it, the browser sends it, the core
 * reads the reply. Resolves to `{ok: true, data}` or `{ok: false, error: {kind, message}}`.
 */
export async function yyghCall(op, params = {}) {
  let base;
  let built;
  try {
    base = await yyghBaseUrl();
    built = JSON.parse(core.yygh_request(op, JSON.stringify(params), base, Date.now()));
  } catch (e) {
    return { ok: false, error: { kind: 'request', message: String(e?.message ?? e) } };
  }
  if (!built.ok) return { ok: false, error: { kind: 'request', message: built.message } };
  let response;
  try {
    response = await execute(built.request);
  } catch (e) {
    return { ok: false, error: { kind: 'network', message: `the 114 site did not answer (${e?.message ?? e})` } };
  }
  try {
    return JSON.parse(core.yygh_parse(op, JSON.stringify(response), base));
  } catch (e) {
    return { ok: false, error: { kind: 'parse', message: String(e?.message ?? e) } };
  }
}

/**
 * Sets up the panel inside `root` (popup.html's #yygh-section). `onSession(alive)` is
 * called whenever the session is known to be alive or gone.
 */
export function setupYyghLogin(root, { onSession = () => {} } = {}) {
  const $ = (sel) => root.querySelector(sel);
  const status = $('[data-testid="yygh-login-status"]');
  const note = $('[data-testid="yygh-login-note"]');
  const forms = {
    phone: $('#yygh-phone-form'),
    captcha: $('#yygh-captcha-form'),
    sms: $('#yygh-sms-form'),
  };
  const again = $('[data-testid="yygh-login-again"]');
  const needed = $('[data-testid="yygh-login-needed"]');
  let login = null; // the running YyghLogin
  let alive = false;
  let needsLogin = false; // a watch is paused for a lost session (setNeedsLogin)
  let resumedUnasked = false; // setNeedsLogin resumed the watches once without a new login

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  /** Shows one of the login forms (or none) and focuses its input. */
  function showForm(which, { focus = true } = {}) {
    for (const [name, form] of Object.entries(forms)) form.hidden = name !== which;
    again.hidden = which !== null || !alive;
    const input = which && forms[which].querySelector('input');
    if (input && focus) input.focus();
  }

  function setBusy(busy) {
    for (const form of Object.values(forms)) {
      for (const el of form.querySelectorAll('input, button')) el.disabled = busy;
    }
  }

  function setAlive(value) {
    alive = value;
    onSession(value);
  }

  function finish() {
    login?.free();
    login = null;
    setBusy(false);
  }

  /** Runs the machine from `stepJson` until it needs the person or has finished. */
  async function run(stepJson) {
    let step = JSON.parse(stepJson);
    while (step.step === 'send') {
      let next;
      try {
        const response = await execute(step.request);
        next = login.feed(Date.now(), JSON.stringify(response));
      } catch (e) {
        next = login.no_response(Date.now(), String(e?.message ?? e));
      }
      step = JSON.parse(next);
    }
    setBusy(false);
    if (step.step === 'ask_user') {
      const p = step.prompt;
      note.textContent = p.note ?? '';
      if (p.kind === 'captcha') {
        $('[data-testid="yygh-captcha-img"]').src = `data:${p.content_type};base64,${p.image}`;
        $('[data-testid="yygh-captcha-input"]').value = '';
        setStatus('signing_in', '请输入图中的字符 Type the characters in the picture.');
        showForm('captcha');
      } else {
        $('[data-testid="yygh-sms-input"]').value = '';
        setStatus('signing_in', `验证码已发送至 ${p.phone} — type the code from the SMS sent to ${p.phone}.`);
        showForm('sms');
      }
      return;
    }
    if (step.step === 'done' && step.outcome.result === 'logged_in') {
      finish();
      note.textContent = '';
      setStatus('signed_in', '已登录 114 Signed in to 114.');
      setAlive(true);
      showForm(null);
      // The worker resumes watches paused for a lost session (an error answer is fine).
      // One still paused at the next look is checked again.
      needsLogin = false;
      ask({ type: 'yygh.session', alive: true });
      return;
    }
    finish();
    const message = step.step === 'done' ? step.outcome.message : step.step === 'error' ? step.message : `unexpected step “${step.step}”`;
    setStatus(alive ? 'signed_in' : 'failed', `登录失败 Sign-in failed: ${message}`);
    note.textContent = '';
    showForm('phone');
  }

  /** Feeds the machine one call's result (a step JSON text), catching what the core throws. */
  async function advance(call) {
    setBusy(true);
    try {
      await run(call());
    } catch (e) {
      finish();
      setStatus('failed', `登录失败 Sign-in failed: ${e?.message ?? e}`);
      showForm('phone');
    }
  }

  forms.phone.addEventListener('submit', async (event) => {
    event.preventDefault();
    const mobile = $('[data-testid="yygh-phone"]').value.trim();
    login?.free();
    note.textContent = '';
    setStatus('signing_in', '正在获取图片验证码 Loading the picture code…');
    const base = await yyghBaseUrl();
    await advance(() => {
      login = new core.YyghLogin(base, mobile);
      return login.start(Date.now());
    });
  });

  forms.captcha.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('[data-testid="yygh-captcha-input"]').value;
    note.textContent = '';
    if (login) advance(() => login.answer(Date.now(), text));
  });

  forms.sms.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('[data-testid="yygh-sms-input"]').value;
    note.textContent = '';
    if (login) advance(() => login.answer(Date.now(), text));
  });

  $('[data-testid="yygh-captcha-new"]').addEventListener('click', () => {
    // Another picture: start over with the same number.
    forms.phone.requestSubmit();
  });

  again.addEventListener('click', () => showForm('phone'));

  /** Asks the site whether the session is alive (user/real-name/status). */
  async function check() {
    setStatus('checking', '正在检查 114 登录状态 Checking the 114 session…');
    const reply = await yyghCall('real_name_status');
    if (login) return; // a login started meanwhile: it reports for itself
    if (reply.ok) {
      const r = reply.data;
      const who = r.name ? ` (${r.name})` : '';
      const verified = r.status === 'AUTH_PASS' ? '' : ` — 未实名认证 not real-name verified${r.message ? `: ${r.message}` : ''}`;
      setStatus('signed_in', `已登录 114 Signed in to 114${who}${verified}.`);
      setAlive(true);
      showForm(null, { focus: false });
    } else if (reply.error.kind === 'session_expired') {
      setStatus('signed_out', '未登录 114 Not signed in to 114.');
      setAlive(false);
      showForm('phone', { focus: false });
    } else {
      setStatus('unknown', `无法检查 114 登录状态 Could not check the 114 session: ${reply.error.message}`);
      setAlive(false);
      showForm('phone', { focus: false });
    }
  }

  /**
   * Whether a 114 watch is paused because its session is gone (`value`; `message`: the
   * watch's words). The panel says so and is marked. On the change to "needed", while the
   * panel still says signed in (from before), it checks the session again; when the site
   * says it is alive after all, the paused watches are told to go on (once per popup, so
   * that a watch the site keeps refusing cannot make this loop).
   */
  async function setNeedsLogin(value, message = '') {
    root.classList.toggle('needs-login', value);
    needed.hidden = !value;
    needed.title = message;
    if (!value || needsLogin) {
      needsLogin = value;
      return;
    }
    needsLogin = true;
    root.scrollIntoView?.({ block: 'nearest' });
    // A login running reports for itself; a panel not signed in already shows the form.
    if (login || !alive) return;
    await check();
    if (alive && needsLogin && !login && !resumedUnasked) {
      resumedUnasked = true;
      ask({ type: 'yygh.session', alive: true });
    }
  }

  return { check, isAlive: () => alive, setNeedsLogin };
}
