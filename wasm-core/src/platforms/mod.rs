//! Platform adapters. Each is sans-IO: it builds [`crate::http::HttpRequest`]s, reads
//! [`crate::http::HttpResponse`]s, and drives multi-step flows as step machines whose
//! steps are "send this", "ask the person this" or "done".

pub mod open91160;
pub mod pati;
pub mod rail12306;
pub mod yygh114;
pub mod zheliban;

use crate::http::{HttpRequest, HttpResponse};
use crate::protocol::CaptchaAnswer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// A random unit in `[0, 1)` from a watcher's xorshift state (for the pace's jitter).
pub(crate) fn unit(rng: &mut u64) -> f64 {
    (rail12306::xorshift(rng) % 1_000_000) as f64 / 1e6
}

/// What the planner says a host-run watcher does when nothing else is under way.
pub(crate) enum NextPoll {
    /// Stop watching, for this reason (to record as the `stopped` event).
    Stop(&'static str),
    /// Sleep until this local time.
    Wait(i64),
    /// Poll now.
    Poll,
}

/// Asks `planner` for the next poll at local `now_ms`.
pub(crate) fn next_poll(
    planner: &mut crate::schedule::Planner,
    clock: &crate::clock::ServerClock,
    now_ms: i64,
    unit: f64,
) -> NextPoll {
    use crate::schedule::{Reason, StopReason};
    let plan = planner.next(now_ms, clock, unit);
    match plan.reason {
        Reason::Stop { why } => NextPoll::Stop(match why {
            StopReason::WindowEnded => "the watch's last day has passed; stopped watching",
            StopReason::Done => "this watch has finished",
        }),
        _ if plan.at_ms > now_ms => NextPoll::Wait(plan.at_ms),
        _ => NextPoll::Poll,
    }
}

/// What a host-run watcher wants done next (12306, 91160, pati). The host's runner is
/// the same loop for each: it sleeps, sends, records intents and events, and relays
/// questions; the watcher decides everything else.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Sleep until local `at_ms`, then [`Driver::tick`].
    Wait { at_ms: i64 },
    /// Send with the account's credentials (12306: its cookies; pati: its `token`
    /// header; 91160 carries its appToken in the request), then [`Driver::feed`] or
    /// [`Driver::no_response`]. `paced`: starts a poll; it waits its turn behind the
    /// account's other watches.
    Send {
        request: HttpRequest,
        purpose: &'static str,
        paced: bool,
    },
    /// Show the person this picture; [`Driver::answer`] or [`Driver::no_answer`].
    AskCaptcha { png: Vec<u8>, message: String },
    /// `booking_begin` with `data`; then [`Driver::intent_recorded`] or
    /// [`Driver::intent_refused`].
    RecordIntent { data: Value },
    /// The account's credentials were refused (12306: signed out; pati: token expired;
    /// 91160: appToken rejected). The host renews them if it can (pati signs in again
    /// with the stored password) or waits for the person to; then [`Driver::resume`].
    NeedLogin { message: String },
    /// Finished (booked, outcome unknown, window over, or the watch needs changing).
    Stopped { message: String },
}

/// A watcher the host's runner drives (see [`Action`]). Every method returns the next
/// action; `now_ms` is the local clock (Unix ms).
pub trait Driver: Send {
    /// The first action, and the one after each [`Action::Wait`].
    fn tick(&mut self, now_ms: i64) -> Action;
    /// The request of the last [`Action::Send`] leaves now (after the runner waited for
    /// the account's turn): the next poll is planned from this, not from when the request
    /// was handed out, so waiting in the account's queue never shortens an interval.
    fn departed(&mut self, paced: bool, now_ms: i64);
    /// The reply to the last [`Action::Send`].
    fn feed(&mut self, resp: &HttpResponse, now_ms: i64) -> Action;
    /// The last [`Action::Send`] got no reply (`error` in words).
    fn no_response(&mut self, error: &str, now_ms: i64) -> Action;
    /// The intent of the last [`Action::RecordIntent`] is stored under `intent_id`.
    fn intent_recorded(&mut self, intent_id: &str, now_ms: i64) -> Action;
    /// The intent was not stored (another booking of the watch, or a store error):
    /// nothing may be ordered.
    fn intent_refused(&mut self, message: &str, now_ms: i64) -> Action;
    /// The person's answer to the last [`Action::AskCaptcha`].
    fn answer(&mut self, answer: &CaptchaAnswer, now_ms: i64) -> Action {
        let _ = answer;
        self.no_answer(now_ms)
    }
    /// No answer came (timed out or dismissed).
    fn no_answer(&mut self, now_ms: i64) -> Action;
    /// New credentials after [`Action::NeedLogin`]: `credential` is the new secret the
    /// requests carry (91160's appToken), or `None` when the host attaches it (12306's
    /// cookies, pati's token header).
    fn resume(&mut self, credential: Option<&str>, now_ms: i64) -> Action;
    /// Events to record (found, booked, throttled, …), oldest first.
    fn take_events(&mut self) -> Vec<Event>;
}

/// Something to record in the host's history of the watch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub message: String,
    pub data: Value,
    /// Set on the event that ends a recorded booking intent: `booked`, `failed` or
    /// `unknown` (the driver sends it as `booking_end` with [`Event::intent_id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent_id: Option<String>,
}

impl Event {
    /// An event with no booking result.
    pub fn new(kind: &str, message: impl Into<String>, data: Value) -> Event {
        Event {
            kind: kind.into(),
            message: message.into(),
            data,
            booking_result: None,
            intent_id: None,
        }
    }
}

/// What a host-run watcher has to tell the host: its events (oldest first), which
/// once-only reports it has made, and the booking intent it has open (the event that
/// ends the intent carries its id).
#[derive(Debug, Default)]
pub struct Journal {
    events: Vec<Event>,
    /// Keys of reports made once (cleared by the watcher when the condition ends).
    pub reported: HashSet<String>,
    /// The open intent's id, taken by [`Journal::end_intent`].
    pub intent_id: Option<String>,
}

impl Journal {
    /// Records an event.
    pub fn event(&mut self, kind: &str, message: impl Into<String>, data: Value) {
        self.events.push(Event::new(kind, message, data));
    }

    /// Records `message` once per `key`, until the key is removed from `reported`.
    pub fn report_once(&mut self, key: &str, kind: &str, message: String) {
        if self.reported.insert(key.to_string()) {
            self.event(kind, message, Value::Null);
        }
    }

    /// Records the event that ends the open intent with `result`.
    pub fn end_intent(&mut self, kind: &str, result: &str, message: String, data: Value) {
        let mut e = Event::new(kind, message, data);
        e.booking_result = Some(result.into());
        e.intent_id = self.intent_id.take();
        self.events.push(e);
    }

    /// The events recorded since the last call.
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}
