// site-watches.js — what a 91160 / pati watch's item in the popup's list adds: these
// watches run in the host, so their latest host event is the live line (popup.js shows
// it for every watch); once the host has booked (its newest `booked` event is not followed
// by `cancelled`, as the host itself decides what can be cancelled) the item offers
// "cancel booking", which asks for the reason and sends `booking_cancel`. The host's
// answer (or its refusal, in its words) is shown in the item.

import { h, hostRequest } from './ui.js';
import { hasSitePickers } from './site-pickers.js';

/** How many of a watch's newest events are searched for its booking. */
const HISTORY_LOOK = 50;

/** Whether `w` is a watch these actions are for. */
export function isSiteWatch(w) {
  return hasSitePickers(w?.target?.platform);
}

/** The cancel block of one watch item; `block.el` goes into the item. */
export function siteBookingBlock(watchId) {
  const b = { watchId, booked: false, seq: 0 };
  b.button = h('button', {
    type: 'button',
    class: 'small danger',
    'data-testid': 'booking-cancel',
    text: '取消预约 Cancel booking',
    onclick: () => openForm(b),
  });
  b.reason = h('input', {
    id: `cancel-reason-${watchId}`,
    'data-testid': 'booking-cancel-reason',
    maxlength: '200',
    autocomplete: 'off',
    placeholder: '例如 行程有变 e.g. plans changed',
  });
  b.submit = h('button', { type: 'submit', class: 'danger', 'data-testid': 'booking-cancel-submit', text: '确认取消 Cancel it' });
  b.back = h('button', { type: 'button', class: 'small', 'data-testid': 'booking-cancel-back', text: '不取消 Keep it', onclick: () => closeForm(b) });
  b.form = h(
    'form',
    { class: 'booking-cancel', 'data-testid': 'booking-cancel-form', novalidate: true, hidden: true, onsubmit: (e) => submit(e, b) },
    h('label', { for: b.reason.id, text: '取消原因（会告知医院） Why (the site is told)' }),
    h('div', { class: 'inline-row' }, b.reason, b.submit, b.back),
  );
  b.note = h('p', { class: 'booking-cancel-note', 'data-testid': 'booking-cancel-note', role: 'status' });
  b.el = h('div', { class: 'site-booking', 'data-testid': 'site-booking' }, b.button, b.form, b.note);
  render(b);
  return b;
}

function render(b) {
  b.button.hidden = !b.booked || !b.form.hidden;
  if (!b.booked) b.form.hidden = true;
}

function openForm(b) {
  b.form.hidden = false;
  b.note.textContent = '';
  b.note.classList.remove('error');
  b.reason.disabled = false;
  b.submit.disabled = false;
  render(b);
  b.reason.focus();
}

function closeForm(b) {
  b.form.hidden = true;
  render(b);
}

async function submit(event, b) {
  event.preventDefault();
  b.reason.disabled = true;
  b.submit.disabled = true;
  const reply = await hostRequest('booking_cancel', { watch_id: b.watchId, reason: b.reason.value });
  b.reason.disabled = false;
  b.submit.disabled = false;
  b.note.classList.toggle('error', !reply.ok);
  if (!reply.ok) {
    b.note.textContent = `未取消 Not cancelled: ${reply.error.message}`;
    return;
  }
  b.note.textContent = `已取消 Cancelled: ${reply.data.message ?? ''}`;
  b.reason.value = '';
  b.booked = false;
  render(b);
  refreshSiteBooking(b);
}

/**
 * Reads whether the watch has a booking to cancel (its newest `booked` event not followed
 * by `cancelled`) and shows or hides the action.
 */
export async function refreshSiteBooking(b) {
  const seq = ++b.seq;
  const reply = await hostRequest('history_list', { watch_id: b.watchId, limit: HISTORY_LOOK });
  if (seq !== b.seq || !reply.ok) return;
  const last = reply.data.events.find((e) => e.kind === 'booked' || e.kind === 'cancelled');
  b.booked = last?.kind === 'booked';
  b.el.dataset.booked = String(b.booked);
  render(b);
}
