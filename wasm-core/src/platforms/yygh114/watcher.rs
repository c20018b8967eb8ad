//! One 114yygh watch at run time, as a sans-IO machine the browser drives.
//!
//! The extension's worker (or, while a 114 tab is open, that tab's content script)
//! only moves bytes: it asks the watcher for an [`Action`], performs it (sleep, `fetch`
//! with the user's own cookies, fetch a font, ask the host to record a booking intent,
//! ask the person) and feeds the result back. Everything else is here:
//!
//! - **When**: a [`Planner`] (floor + jitter, slow far from release, a bounded burst
//!   around the hospital's `openTimeView` on the *server's* clock, exponential backoff
//!   after 403/429/5xx or unreadable replies, stop after the window's last day), fed by a
//!   [`ServerClock`] that reads every reply's `Date` header.
//! - **What**: one poll is `product/list` (the calendar; skipped when the window is one
//!   day) then `product/detail` of the open days in the window, in date order (at most
//!   [`MAX_DAYS_PER_POLL`]); obfuscated counts and fees are decoded with the fonts the
//!   replies name ([`DecoderCache`]), falling back to the `wnumber` parity rule — and
//!   saying so — when a glyph cannot be classified.
//! - **Found**: a `slot_seen` event for slots not reported before; in `book` mode the
//!   [`Booking`] machine starts from the detail already in hand.
//! - **At most one order**: before `order/save` the watcher hands out
//!   [`Action::RecordIntent`] and sends the order only after
//!   [`Watcher::intent_recorded`]; the booking's end is reported against that intent.
//! - **Session loss** (`102`/`2009`): a `session_expired` event and [`Action::Paused`]
//!   until [`Watcher::resume`] (the person logged in again).
//!
//! Events for the host's history come out of [`Watcher::take_events`].

use super::booking::{
    choose, decode_items, pick_patient, Booked, Booking, BookingOutcome, DecodeItem, Decoded,
    FailReason, PatientChoice, Plan, Stage,
};
use super::model::{
    parse_hospital_detail, parse_patient_list, parse_product_detail, parse_product_list,
    parse_real_name_status, Card, DayDetail, Patient,
};
use super::{ApiError, ClinicRef, Error, Prompt, Site, Step};
use crate::clock::ServerClock;
use crate::date::Date;
use crate::fontdecode::DecoderCache;
use crate::http::{HttpRequest, HttpResponse};
use crate::schedule::{Outcome, Planner, Reason, ReleaseRule, StopReason};
use crate::watch::{DateWindow, Filters, Mode, Platform, Target, Watch};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Open days whose `product/detail` one poll reads at most.
pub const MAX_DAYS_PER_POLL: usize = 3;
/// Calendar weeks one poll reads at most.
pub const MAX_WEEKS: u32 = 4;

/// What the driver should do next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Sleep until local time `at_ms`, then call [`Watcher::tick`].
    Wait { at_ms: i64, reason: Reason },
    /// Send this with the user's cookies; then [`Watcher::feed`] or
    /// [`Watcher::no_response`]. `purpose` names the step (for logs and timings).
    /// `paced`: the request starts something new (a poll, a read of the account) and
    /// waits its turn behind the account's other watches (an `AccountPacer`); the rest
    /// of a poll and a booking under way go at once.
    Send {
        request: HttpRequest,
        purpose: String,
        #[serde(default)]
        paced: bool,
    },
    /// Fetch this font (a plain GET) and give it to [`Watcher::font`].
    FetchFont { url: String },
    /// Ask the host to record "an order may exist for this watch" (`booking_begin`
    /// with `data`); then [`Watcher::intent_recorded`] or [`Watcher::intent_refused`].
    RecordIntent { data: Value },
    /// Show the person this and give [`Watcher::answer`] their answer.
    AskUser { prompt: Prompt },
    /// Stopped until [`Watcher::resume`]; `message` says why, in plain words.
    Paused { message: String },
    /// Finished for good.
    Stopped { message: String },
}

pub use crate::platforms::Event;

/// Why a watch cannot be run by this watcher.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAWatch(pub String);

#[derive(Clone, Debug)]
enum Phase {
    /// Nothing under way; `tick` plans the next poll.
    Idle,
    /// Waiting for `hospital/detail` (the release time).
    Hospital,
    /// Waiting for `user/real-name/status` (read ahead in book mode).
    RealName,
    /// Waiting for `patient/list` (read ahead in book mode).
    Patients,
    /// Waiting for `product/list` of `week`; `open` holds the open days so far.
    Calendar {
        week: u32,
        open: Vec<Date>,
    },
    /// Waiting for `product/detail` of `date`; `rest` are the next open days.
    Detail {
        date: Date,
        rest: Vec<Date>,
    },
    /// Fetching fonts for a detail's numbers.
    Fonts {
        date: Date,
        rest: Vec<Date>,
        detail: DayDetail,
        items: Vec<DecodeItem>,
        /// Fonts asked for and not yet given.
        missing: Vec<String>,
        /// Fonts that failed to decode (their numbers fall back to parity).
        failed: Vec<String>,
    },
    /// The booking machine is under way.
    Booking,
    /// The booking's `order/save` is held until the host recorded the intent.
    Intent {
        request: HttpRequest,
    },
    /// The session is gone.
    SessionLost,
    Finished,
}

/// One 114yygh watch.
#[derive(Clone, Debug)]
pub struct Watcher {
    site: Site,
    watch_id: String,
    clinic: ClinicRef,
    window: DateWindow,
    filters: Filters,
    patient: PatientChoice,
    mode: Mode,
    planner: Planner,
    clock: ServerClock,
    fonts: DecoderCache,
    phase: Phase,
    events: Vec<Event>,
    booking: Option<Booking>,
    booking_date: Option<Date>,
    intent_id: Option<String>,
    /// Local time the current request was handed out.
    sent_ms: i64,
    /// Local time the current poll's first request was handed out.
    poll_sent_ms: i64,
    /// Slots already reported (`date/key`), so each is told once.
    seen: Vec<String>,
    /// The last poll failed (a `poll_error` was recorded); cleared by a good poll.
    failing: bool,
    /// The error last recorded in this run of failures (a different one is recorded too).
    last_error: Option<String>,
    /// Local time the detail that started the booking arrived.
    detail_at_ms: Option<i64>,
    /// Whether the hospital's release time was asked for.
    hospital_asked: bool,
    /// Book mode: whether the account was read ahead, and the patient and card found,
    /// so that a booking goes from `product/confirm` straight to `order/save`.
    account_asked: bool,
    account: Option<(Patient, Card)>,
}

impl Watcher {
    /// A watcher for a 114yygh `watch` against `site`.
    pub fn new(site: Site, watch: &Watch) -> Result<Watcher, NotAWatch> {
        let Target::Yygh114 {
            hos_code,
            first_dept_code,
            second_dept_code,
            patient_name,
            card_type,
            card_no,
            ..
        } = &watch.target
        else {
            return Err(NotAWatch(format!(
                "watch {} is for {}, not 114yygh",
                watch.id,
                watch.platform().display_name()
            )));
        };
        Ok(Watcher {
            site,
            watch_id: watch.id.clone(),
            clinic: ClinicRef::new(hos_code, first_dept_code, second_dept_code),
            window: watch.window,
            filters: watch.filters.clone(),
            patient: PatientChoice {
                name: patient_name.clone(),
                card_type: card_type.clone(),
                card_no: card_no.clone(),
            },
            mode: watch.mode,
            planner: Planner::new(Platform::Yygh114, watch.interval, None, watch.window.end),
            clock: ServerClock::new(),
            fonts: DecoderCache::default(),
            phase: Phase::Idle,
            events: Vec::new(),
            booking: None,
            booking_date: None,
            intent_id: None,
            sent_ms: 0,
            poll_sent_ms: 0,
            seen: Vec::new(),
            failing: false,
            last_error: None,
            detail_at_ms: None,
            hospital_asked: false,
            account_asked: false,
            account: None,
        })
    }

    /// A watcher whose booking already ended or may have (the host has a blocking
    /// intent): it never books; it stops at once.
    pub fn finished(mut self, message: &str) -> Watcher {
        self.planner.finish();
        self.phase = Phase::Finished;
        self.events
            .push(Event::new("stopped", message, Value::Null));
        self
    }

    /// The events recorded since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The server clock as estimated so far.
    pub fn clock(&self) -> &ServerClock {
        &self.clock
    }

    /// The watch id.
    pub fn watch_id(&self) -> &str {
        &self.watch_id
    }

    fn send(&mut self, now_ms: i64, request: HttpRequest, purpose: &str) -> Action {
        self.sent_ms = now_ms;
        Action::Send {
            request,
            purpose: purpose.into(),
            paced: false,
        }
    }

    /// [`Watcher::send`] of a request that starts something new (see [`Action::Send`]).
    fn send_paced(&mut self, now_ms: i64, request: HttpRequest, purpose: &str) -> Action {
        let mut a = self.send(now_ms, request, purpose);
        if let Action::Send { paced, .. } = &mut a {
            *paced = true;
        }
        a
    }

    /// The next thing to do at local time `now_ms` (`unit`: a random number in [0, 1)).
    pub fn tick(&mut self, now_ms: i64, unit: f64) -> Action {
        match &self.phase {
            Phase::Finished => {
                return Action::Stopped {
                    message: "this watch has finished".into(),
                }
            }
            Phase::SessionLost => return paused(),
            Phase::Idle => {}
            // Still waiting for something: nothing new to do.
            _ => {
                return Action::Wait {
                    at_ms: now_ms + 1_000,
                    reason: Reason::Normal,
                }
            }
        }
        if !self.hospital_asked {
            self.hospital_asked = true;
            self.phase = Phase::Hospital;
            let req = self.site.hospital_detail(now_ms, &self.clinic.hos_code);
            return self.send_paced(now_ms, req, "hospital_detail");
        }
        if self.mode == Mode::Book && !self.account_asked {
            // Read ahead, once per session: every request saved in the race counts.
            self.account_asked = true;
            self.phase = Phase::RealName;
            let req = self.site.real_name_status(now_ms);
            return self.send_paced(now_ms, req, "account");
        }
        let plan = self.planner.next(now_ms, &self.clock, unit);
        match plan.reason {
            Reason::Stop { why } => {
                self.phase = Phase::Finished;
                let message = match why {
                    StopReason::WindowEnded => "the watch's last day has passed; stopped watching",
                    StopReason::Done => "this watch has finished",
                };
                self.events
                    .push(Event::new("stopped", message, Value::Null));
                Action::Stopped {
                    message: message.into(),
                }
            }
            _ if plan.at_ms > now_ms => Action::Wait {
                at_ms: plan.at_ms,
                reason: plan.reason,
            },
            _ => self.begin_poll(now_ms),
        }
    }

    fn begin_poll(&mut self, now_ms: i64) -> Action {
        self.poll_sent_ms = now_ms;
        if self.window.start == self.window.end {
            let date = self.window.start;
            self.phase = Phase::Detail {
                date,
                rest: Vec::new(),
            };
            let req = self.site.product_detail(now_ms, &self.clinic, date);
            return self.send_paced(now_ms, req, "product_detail");
        }
        self.phase = Phase::Calendar {
            week: 1,
            open: Vec::new(),
        };
        let req = self.site.product_list(now_ms, &self.clinic, 1);
        self.send_paced(now_ms, req, "product_list")
    }

    /// The poll ended; back to waiting.
    fn end_poll(&mut self, now_ms: i64, outcome: Outcome, unit: f64) -> Action {
        self.planner.on_response(self.poll_sent_ms, outcome);
        self.end_poll_paced(now_ms, outcome == Outcome::Ok, unit)
    }

    /// Back to waiting; `good`: the poll was read (ends a run of failures).
    fn end_poll_paced(&mut self, now_ms: i64, good: bool, unit: f64) -> Action {
        if good && self.failing {
            self.failing = false;
            self.last_error = None;
            self.events.push(Event::new(
                "poll_recovered",
                "the 114 site answers normally again",
                Value::Null,
            ));
        }
        self.phase = Phase::Idle;
        self.tick(now_ms, unit)
    }

    /// A poll failed with `e`: session loss pauses, anything else backs off (the watch
    /// goes on) and is recorded once per run of failures.
    fn poll_failed(&mut self, now_ms: i64, what: &str, e: &Error, unit: f64) -> Action {
        if e.is_not_logged_in() {
            return self.lose_session(what);
        }
        // 403/429/5xx back off; a reply that cannot be read (the site changed) is not a
        // sign of polling too fast, so the watch keeps its normal pace and says so once.
        let outcome = match e {
            _ if e.should_back_off() => Outcome::Throttled,
            Error::Parse(_) => Outcome::Ok,
            _ => Outcome::Failed,
        };
        let first_of_its_kind = self.last_error.as_deref() != Some(&e.to_string());
        if !self.failing || first_of_its_kind {
            self.failing = true;
            self.last_error = Some(e.to_string());
            let advice = match e {
                Error::Parse(_) => {
                    "the site's reply could not be read (it may have changed); still watching"
                }
                _ if e.should_back_off() => {
                    "the site is refusing or struggling; still watching, more slowly"
                }
                _ => "still watching, more slowly",
            };
            self.events.push(Event::new(
                "poll_error",
                format!("{what}: {e} — {advice}"),
                json!({"error": e.to_string()}),
            ));
        }
        self.planner.on_response(self.poll_sent_ms, outcome);
        self.end_poll_paced(now_ms, false, unit)
    }

    fn lose_session(&mut self, what: &str) -> Action {
        self.phase = Phase::SessionLost;
        self.events.push(Event::new(
            "session_expired",
            format!(
                "{what}: the 114 session has expired. Log in again in Haoyuan's popup \
                 (picture code + SMS); watching resumes by itself"
            ),
            Value::Null,
        ));
        paused()
    }

    /// The person logged in again: polling resumes at once.
    pub fn resume(&mut self, now_ms: i64, unit: f64) -> Action {
        if matches!(self.phase, Phase::SessionLost) {
            self.phase = Phase::Idle;
            self.failing = false;
            self.account_asked = false;
            self.account = None;
            self.events.push(Event::new(
                "session_restored",
                "logged in to 114 again; watching resumes",
                Value::Null,
            ));
        }
        self.tick(now_ms, unit)
    }

    /// No reply came to the last request (`detail` says why: a timeout, a reset).
    pub fn no_response(&mut self, now_ms: i64, detail: &str, unit: f64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Hospital | Phase::RealName | Phase::Patients => self.tick(now_ms, unit),
            Phase::Calendar { .. } | Phase::Detail { .. } => {
                if !self.failing {
                    self.failing = true;
                    self.events.push(Event::new(
                        "poll_error",
                        format!(
                            "the 114 site did not answer ({detail}); still watching, more slowly"
                        ),
                        Value::Null,
                    ));
                }
                self.end_poll(now_ms, Outcome::Failed, unit)
            }
            Phase::Booking => {
                self.phase = Phase::Booking;
                let step = match self.booking.as_mut().map(|b| b.no_response(now_ms, detail)) {
                    Some(Ok(step)) => step,
                    _ => return self.booking_lost(now_ms, unit),
                };
                self.drive(now_ms, step, unit)
            }
            other => {
                self.phase = other;
                self.tick(now_ms, unit)
            }
        }
    }

    /// The reply to the last [`Action::Send`].
    pub fn feed(&mut self, now_ms: i64, resp: &HttpResponse, unit: f64) -> Action {
        let _ = self.clock.observe_response(self.sent_ms, now_ms, resp);
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Hospital => {
                match parse_hospital_detail(resp) {
                    Ok(h) => {
                        self.planner.set_release(Some(ReleaseRule::DailyBeijing {
                            minute_of_day: h.open_time_minutes,
                        }));
                    }
                    Err(e) if e.is_not_logged_in() => return self.lose_session("hospital details"),
                    // Without the release time the watch still polls at its normal pace.
                    Err(_) => {}
                }
                self.tick(now_ms, unit)
            }
            // The account read ahead: only a passed account with the watch's patient is
            // kept; anything else is left to the booking, which asks again and says why.
            Phase::RealName => match parse_real_name_status(resp) {
                Ok(r) if r.passed() => {
                    self.phase = Phase::Patients;
                    let req = self.site.patient_list(now_ms);
                    self.send(now_ms, req, "account")
                }
                Err(e) if e.is_not_logged_in() => self.lose_session("the 114 account"),
                _ => self.tick(now_ms, unit),
            },
            Phase::Patients => {
                match parse_patient_list(resp) {
                    Ok(list) => self.account = pick_patient(&list, &self.patient).ok(),
                    Err(e) if e.is_not_logged_in() => return self.lose_session("the 114 account"),
                    Err(_) => {}
                }
                self.tick(now_ms, unit)
            }
            Phase::Calendar { week, mut open } => match parse_product_list(resp) {
                Ok(cal) => {
                    open.extend(
                        cal.days
                            .iter()
                            .filter(|d| d.date >= self.window.start && d.date <= self.window.end)
                            .filter(|d| d.status == super::model::Status::Available)
                            .map(|d| d.date),
                    );
                    let last = cal.days.iter().map(|d| d.date).max();
                    let more_weeks = cal.total_week.unwrap_or(1).min(MAX_WEEKS);
                    if last.is_some_and(|l| l < self.window.end) && week < more_weeks {
                        self.phase = Phase::Calendar {
                            week: week + 1,
                            open,
                        };
                        let req = self.site.product_list(now_ms, &self.clinic, week + 1);
                        return self.send(now_ms, req, "product_list");
                    }
                    open.sort();
                    open.dedup();
                    open.truncate(MAX_DAYS_PER_POLL);
                    self.next_day(now_ms, open, unit)
                }
                Err(e) => self.poll_failed(now_ms, "the 114 calendar", &e, unit),
            },
            Phase::Detail { date, rest } => match parse_product_detail(&self.site, resp) {
                Ok(detail) => {
                    self.detail_at_ms = Some(now_ms);
                    self.decode_detail(now_ms, date, rest, detail, unit)
                }
                // Not open (legacy 4023 and the like): nothing on that day.
                Err(Error::Api {
                    error: ApiError::Final { .. },
                    ..
                }) => self.next_day(now_ms, rest, unit),
                Err(e) => self.poll_failed(now_ms, &format!("the slots of {date}"), &e, unit),
            },
            Phase::Booking => {
                self.phase = Phase::Booking;
                let step = match self.booking.as_mut().map(|b| b.feed(now_ms, resp)) {
                    Some(Ok(step)) => step,
                    _ => return self.booking_lost(now_ms, unit),
                };
                self.drive(now_ms, step, unit)
            }
            other => {
                // A reply nobody waits for (a caller bug): ignore it.
                self.phase = other;
                self.tick(now_ms, unit)
            }
        }
    }

    fn next_day(&mut self, now_ms: i64, mut days: Vec<Date>, unit: f64) -> Action {
        if days.is_empty() {
            return self.end_poll(now_ms, Outcome::Ok, unit);
        }
        let date = days.remove(0);
        self.phase = Phase::Detail { date, rest: days };
        let req = self.site.product_detail(now_ms, &self.clinic, date);
        self.send(now_ms, req, "product_detail")
    }

    fn decode_detail(
        &mut self,
        now_ms: i64,
        date: Date,
        rest: Vec<Date>,
        detail: DayDetail,
        unit: f64,
    ) -> Action {
        let items = decode_items(&detail);
        let mut missing: Vec<String> = items
            .iter()
            .map(|i| i.font_url.clone())
            .filter(|u| !u.is_empty() && self.fonts.get(u).is_none())
            .collect();
        missing.sort();
        missing.dedup();
        self.phase = Phase::Fonts {
            date,
            rest,
            detail,
            items,
            missing,
            failed: Vec::new(),
        };
        self.after_fonts(now_ms, unit)
    }

    /// Asks for the next missing font, or goes on once all are in.
    fn after_fonts(&mut self, now_ms: i64, unit: f64) -> Action {
        if let Phase::Fonts { missing, .. } = &self.phase {
            if let Some(url) = missing.first() {
                return Action::FetchFont { url: url.clone() };
            }
        }
        let Phase::Fonts {
            date,
            rest,
            detail,
            items,
            failed,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            return self.tick(now_ms, unit);
        };
        let decoded: Vec<Decoded> = items.iter().map(|i| self.decode_item(i)).collect();
        let fallback = decoded
            .iter()
            .any(|d| d.remaining.is_none())
            .then(|| {
                if failed.is_empty() {
                    "some numbers could not be read from the site's font; their availability was judged by the wnumber parity rule".to_string()
                } else {
                    format!(
                        "the site's font could not be read ({} font(s)); availability was judged by the wnumber parity rule",
                        failed.len()
                    )
                }
            });
        self.found(now_ms, date, rest, detail, decoded, fallback, unit)
    }

    fn decode_item(&self, item: &DecodeItem) -> Decoded {
        let map = self.fonts.get(&item.font_url);
        let read = |points: &[char]| -> Option<String> {
            let m = map?;
            if points.is_empty() {
                return None;
            }
            points.iter().map(|c| m.symbol(*c)).collect()
        };
        Decoded {
            uniq_product_key: item.uniq_product_key.clone(),
            remaining: read(&item.ncode_points).and_then(|s| s.trim().parse().ok()),
            fee: read(&item.fcode_points).and_then(|s| s.trim().parse().ok()),
        }
    }

    /// The font asked for by [`Action::FetchFont`]: its response (or `None` when it
    /// could not be fetched).
    pub fn font(
        &mut self,
        now_ms: i64,
        url: &str,
        resp: Option<&HttpResponse>,
        unit: f64,
    ) -> Action {
        if let Phase::Fonts {
            missing, failed, ..
        } = &mut self.phase
        {
            missing.retain(|u| u != url);
            let ok = match resp {
                Some(r) if r.is_success() => self.fonts.decode(url, &r.body).is_ok(),
                _ => false,
            };
            if !ok {
                failed.push(url.to_string());
            }
        }
        self.after_fonts(now_ms, unit)
    }

    #[allow(clippy::too_many_arguments)]
    fn found(
        &mut self,
        now_ms: i64,
        date: Date,
        rest: Vec<Date>,
        detail: DayDetail,
        decoded: Vec<Decoded>,
        fallback: Option<String>,
        unit: f64,
    ) -> Action {
        let choices = choose(&detail, &self.filters, &decoded);
        if choices.is_empty() {
            return self.next_day(now_ms, rest, unit);
        }
        let new: Vec<_> = choices
            .iter()
            .filter(|c| {
                !self
                    .seen
                    .contains(&format!("{date}/{}", c.uniq_product_key))
            })
            .collect();
        if !new.is_empty() {
            let best = new[0];
            let remaining = decoded
                .iter()
                .find(|d| d.uniq_product_key == best.uniq_product_key)
                .and_then(|d| d.remaining);
            let count = match remaining {
                Some(n) => format!("{n} left"),
                None => "bookable".into(),
            };
            let fee = best.fee.map(|f| format!(" · ¥{f}")).unwrap_or_default();
            let mut message = format!(
                "{date} {} {} {}: {count}{fee}",
                period_name(&best.duty),
                best.doctor_name,
                best.doctor_title
            );
            if new.len() > 1 {
                message.push_str(&format!(" (+{} more)", new.len() - 1));
            }
            if let Some(f) = &fallback {
                message.push_str(&format!(" — {f}"));
            }
            self.events.push(Event::new(
                "slot_seen",
                message,
                json!({
                    "date": date.to_string(),
                    "doctor": best.doctor_name,
                    "title": best.doctor_title,
                    "period": best.duty.as_str(),
                    "remaining": remaining,
                    "fee": best.fee,
                    "decoded_by": if remaining.is_some() { "font" } else { "wnumber_parity" },
                    "slots": new.len(),
                    "url": self.site.base_url,
                }),
            ));
            for c in &choices {
                self.seen.push(format!("{date}/{}", c.uniq_product_key));
            }
        }
        if self.mode != Mode::Book {
            return self.next_day(now_ms, rest, unit);
        }
        let plan = Plan {
            clinic: self.clinic.clone(),
            date,
            filters: self.filters.clone(),
            patient: self.patient.clone(),
        };
        let mut booking = Booking::new(self.site.clone(), plan);
        if let Some((patient, card)) = self.account.clone() {
            booking = booking.with_account(patient, card);
        }
        let step = booking.start_with_detail(now_ms, detail, &decoded);
        self.booking = Some(booking);
        self.booking_date = Some(date);
        self.phase = Phase::Booking;
        match step {
            Ok(step) => self.drive(now_ms, step, unit),
            Err(_) => self.booking_lost(now_ms, unit),
        }
    }

    /// Turns a booking step into an action.
    fn drive(&mut self, now_ms: i64, step: Step<BookingOutcome>, unit: f64) -> Action {
        match step {
            Step::Send { request } => {
                let order_save = self
                    .booking
                    .as_ref()
                    .is_some_and(|b| b.stage() == Stage::OrderSave);
                if order_save && self.intent_id.is_none() {
                    let data = self.intent_data();
                    self.phase = Phase::Intent { request };
                    return Action::RecordIntent { data };
                }
                let purpose = if order_save { "order_save" } else { "booking" };
                self.send(now_ms, request, purpose)
            }
            Step::AskUser { prompt } => {
                self.events.push(Event::new(
                    "booking_sms",
                    "the booking needs the SMS code the site just sent: type it in Haoyuan's popup",
                    Value::Null,
                ));
                Action::AskUser { prompt }
            }
            Step::Decode { items } => {
                // The machine read a fresh detail itself: decode it with the cache.
                let decoded: Vec<Decoded> = items.iter().map(|i| self.decode_item(i)).collect();
                match self.booking.as_mut().map(|b| b.decoded(now_ms, &decoded)) {
                    Some(Ok(step)) => self.drive(now_ms, step, unit),
                    _ => self.booking_lost(now_ms, unit),
                }
            }
            Step::Done { outcome } => self.booking_done(now_ms, outcome, unit),
        }
    }

    fn intent_data(&self) -> Value {
        let choice = self.booking.as_ref().and_then(|b| b.choice());
        let date = self.booking_date.map(|d| d.to_string()).unwrap_or_default();
        let (doctor, period) = choice
            .map(|c| (c.doctor_name.clone(), period_name(&c.duty).to_string()))
            .unwrap_or_default();
        json!({
            "message": format!("submitting the order for {date} {period} {doctor}"),
            "date": date,
            "doctor": doctor,
            "period": period,
            "hos_code": self.clinic.hos_code,
        })
    }

    /// The host recorded the intent (`intent_id`): the held `order/save` goes out now.
    pub fn intent_recorded(&mut self, now_ms: i64, intent_id: &str, unit: f64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Booking) {
            Phase::Intent { request } => {
                self.intent_id = Some(intent_id.to_string());
                self.send(now_ms, request, "order_save")
            }
            other => {
                self.phase = other;
                self.tick(now_ms, unit)
            }
        }
    }

    /// The host refused the intent (this watch already has an order, or the host could
    /// not be reached): no order is sent. `already_booked`: the host said an order exists.
    pub fn intent_refused(
        &mut self,
        now_ms: i64,
        message: &str,
        already_booked: bool,
        unit: f64,
    ) -> Action {
        if !matches!(self.phase, Phase::Intent { .. }) {
            return self.tick(now_ms, unit);
        }
        self.booking = None;
        if already_booked {
            self.planner.finish();
            self.phase = Phase::Finished;
            self.events.push(Event::new(
                "stopped",
                format!("not ordering: {message}"),
                Value::Null,
            ));
            return Action::Stopped {
                message: message.into(),
            };
        }
        self.events.push(Event::new(
            "booking_failed",
            format!("the order was not sent because Haoyuan could not record it first ({message}); nothing was booked, still watching"),
            Value::Null,
        ));
        self.end_poll(now_ms, Outcome::Ok, unit)
    }

    /// The person's answer to [`Action::AskUser`] (the booking SMS code).
    pub fn answer(&mut self, now_ms: i64, text: &str, unit: f64) -> Action {
        if !matches!(self.phase, Phase::Booking) {
            return self.tick(now_ms, unit);
        }
        match self.booking.as_mut().map(|b| b.answer(now_ms, text)) {
            Some(Ok(step)) => self.drive(now_ms, step, unit),
            _ => self.booking_lost(now_ms, unit),
        }
    }

    /// Nobody answered [`Action::AskUser`] in time: the booking ends without an order
    /// (none was sent while waiting) and the watch goes on.
    pub fn no_answer(&mut self, now_ms: i64, unit: f64) -> Action {
        let waiting = matches!(self.phase, Phase::Booking)
            && self
                .booking
                .as_ref()
                .is_some_and(|b| b.stage() == Stage::SmsAnswer);
        if !waiting {
            return self.tick(now_ms, unit);
        }
        self.booking_done(
            now_ms,
            BookingOutcome::Failed {
                reason: FailReason::NoAnswer,
                message:
                    "the SMS code the site asked for was not typed in time (nothing was booked)"
                        .into(),
                error: None,
            },
            unit,
        )
    }

    /// A caller bug put the booking out of step: end it without an order (if none
    /// could have been sent) or as unknown.
    fn booking_lost(&mut self, now_ms: i64, unit: f64) -> Action {
        let outcome = if self.intent_id.is_some() {
            BookingOutcome::Unknown {
                order_no: None,
                message:
                    "the booking lost its place after the order was sent; check “我的订单” on 114"
                        .into(),
            }
        } else {
            BookingOutcome::Failed {
                reason: FailReason::Unreadable,
                message:
                    "the booking lost its place before any order was sent (nothing was booked)"
                        .into(),
                error: None,
            }
        };
        self.booking_done(now_ms, outcome, unit)
    }

    fn booking_done(&mut self, now_ms: i64, outcome: BookingOutcome, unit: f64) -> Action {
        self.booking = None;
        let intent = self.intent_id.take();
        let timing = self.detail_at_ms.map(|d| json!({"detail_received_ms": d}));
        match outcome {
            BookingOutcome::Booked(b) => {
                let message = booked_message(&b);
                self.push_end(
                    "booked",
                    message.clone(),
                    booked_data(&b, timing),
                    "booked",
                    intent,
                );
                self.planner.finish();
                self.phase = Phase::Finished;
                Action::Stopped { message }
            }
            BookingOutcome::Unknown { order_no, message } => {
                let text = format!("{message}. Haoyuan will not order again for this watch");
                self.push_end(
                    "outcome_unknown",
                    text.clone(),
                    json!({"order_no": order_no}),
                    "unknown",
                    intent,
                );
                self.planner.finish();
                self.phase = Phase::Finished;
                Action::Stopped { message: text }
            }
            BookingOutcome::Failed {
                reason, message, ..
            } => {
                let keep_watching = matches!(
                    reason,
                    FailReason::NoMatchingSlot
                        | FailReason::NoAnswer
                        | FailReason::SlotGone
                        | FailReason::FeeAboveLimit
                        | FailReason::SiteRefused
                        | FailReason::Unreadable
                        | FailReason::SessionExpired
                );
                let text = if keep_watching && reason != FailReason::SessionExpired {
                    format!("{message}; still watching")
                } else {
                    message
                };
                let data = json!({"reason": reason});
                match intent {
                    Some(id) => {
                        self.push_end("booking_failed", text.clone(), data, "failed", Some(id))
                    }
                    None => self
                        .events
                        .push(Event::new("booking_failed", text.clone(), data)),
                }
                if reason == FailReason::SessionExpired {
                    return self.lose_session("booking");
                }
                if keep_watching {
                    let outcome = if reason == FailReason::SiteRefused {
                        Outcome::Throttled
                    } else {
                        Outcome::Ok
                    };
                    return self.end_poll(now_ms, outcome, unit);
                }
                // The account needs the person (real-name, patient, SMS): stop.
                self.planner.finish();
                self.phase = Phase::Finished;
                Action::Stopped { message: text }
            }
        }
    }

    fn push_end(
        &mut self,
        kind: &str,
        message: String,
        data: Value,
        result: &str,
        intent: Option<String>,
    ) {
        let mut e = Event::new(kind, message, data);
        if intent.is_some() {
            e.booking_result = Some(result.into());
            e.intent_id = intent;
        }
        self.events.push(e);
    }
}

fn paused() -> Action {
    Action::Paused {
        message: "the 114 session has expired: log in again in Haoyuan's popup".into(),
    }
}

fn period_name(duty: &super::model::Duty) -> &'static str {
    match duty {
        super::model::Duty::Morning => "上午",
        super::model::Duty::Afternoon => "下午",
        super::model::Duty::Evening => "晚上",
        super::model::Duty::Unknown(_) => "",
    }
}

fn booked_message(b: &Booked) -> String {
    format!(
        "booked: {} · {} · {} {} · order {}",
        b.visit_time, b.place, b.doctor, b.doctor_title, b.order_no
    )
}

fn booked_data(b: &Booked, timing: Option<Value>) -> Value {
    json!({
        "order_no": b.order_no,
        "visit_time": b.visit_time,
        "place": b.place,
        "doctor": b.doctor,
        "doctor_title": b.doctor_title,
        "fee": b.fee,
        "patient_name": b.patient_name,
        "status": b.status_view,
        "timing": timing,
    })
}
