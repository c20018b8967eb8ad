//! One pati_service watch at run time, as a sans-IO machine the host's runner drives
//! (the runner sends requests with the account's `token` header, sleeps, records
//! intents and events, and signs in again when asked).
//!
//! - **When**: a [`Planner`] (the platform's floor + jitter, backoff on 403/429/5xx and
//!   code 500, stop after the window) on the server's clock ([`ServerClock`] from every
//!   reply's `Date`). No release bursts: a tenant opens a new day at a release time
//!   (`days_ahead` days before, at e.g. 08:00) that no patient endpoint tells, so the
//!   watch polls at its interval.
//! - **What**: one poll asks `schedule/info` (left counts per day, from tomorrow) and,
//!   for today when the window holds it and for up to [`MAX_DAYS_PER_POLL`] days in the
//!   window with something left (in turn when there are more), `schedule` for that
//!   day; sessions are filtered by period (AM → morning, PM → afternoon) and fee.
//! - **Found**: `slot_seen` (the kind that notifies) once per session each time it becomes bookable again.
//! - **Book**: `left_appo` → first serial → `presubmit` → [`Action::RecordIntent`] →
//!   `submit {scheduleId, serialNo, memberId}` → `book/{bookId}` → when `visiCharge`
//!   is 1, `pay/appo_order` for the cashier `url` (`pay_url` in the `booked` event;
//!   Haoyuan never pays). 3002/3003 → the intent fails and the watch polls again;
//!   3004/3010 (and other refusals that need the watch changed) → failed and stop.
//! - **Once**: a submit whose reply is lost (no reply, 5xx, unreadable) is never sent
//!   again: the watch reconciles with `books` (the member's booking of that department,
//!   doctor, time and serial) → `booked` or `outcome_unknown`. A watch that starts with
//!   a `submitted` intent does the same.
//! - **Sign-in**: code 401 at any step → [`Action::NeedLogin`]; after `resume(None)`
//!   the same step is sent again (a 401 to `submit` means nothing was submitted).

use super::site::{
    read_book, read_books, read_left_appo, read_pay_link, read_presubmit, read_schedule,
    read_schedule_info, read_submit, Booking, Half, Session, Site, SiteError,
};
use crate::clock::ServerClock;
use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::patient::mask_name;
use crate::platforms::{Action, Driver, Event, Journal};
use crate::protocol::{BookingIntent, BookingState};
use crate::schedule::{Outcome, Planner};
use crate::watch::{Mode, Period, Platform, Target, Watch};
use serde_json::{json, Value};
use std::collections::HashSet;

/// `schedule` requests one poll sends at most (besides `schedule/info` and today's).
pub const MAX_DAYS_PER_POLL: usize = 3;
/// Bookings read when reconciling (newest first; a fresh booking is on top).
const BOOKS_PAGE_SIZE: u32 = 50;
/// Wait before reconciling after a lost submit reply, and between tries.
const RECONCILE_WAIT_MS: i64 = 5_000;
/// `books` tries (no reply, busy) before the outcome is given as unknown.
const RECONCILE_TRIES: u32 = 6;

/// Why a watch cannot be run here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAWatch(pub String);

/// The request a step sends (rebuilt when it must be sent again after a sign-in).
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Info,
    Day(Date),
    LeftAppo,
    Presubmit,
    Submit,
    Detail(String),
    PayLink(Box<Booking>),
    Books,
}

#[derive(Debug)]
enum Phase {
    Idle,
    /// Waiting for the reply to this step.
    Sent(Step),
    /// [`Action::RecordIntent`] handed out.
    AwaitIntent,
    /// Between `books` tries.
    Reconcile,
    /// Signed out; this step goes again after [`Watcher::resume`].
    LoggedOut(Step),
    Stopped(String),
}

/// The session being booked.
#[derive(Clone, Debug, PartialEq)]
struct Pick {
    date: Date,
    half: Option<Half>,
    schedule_id: String,
    fee: Option<f64>,
    serial_no: Option<u32>,
    time: String,
    /// `yyyy-MM-dd HH:mm:ss` from `presubmit`.
    appo_time: String,
}

/// A bookable session seen in this poll.
#[derive(Clone, Debug)]
struct Found {
    date: Date,
    session: Session,
}

/// One watch of platform pati.
pub struct Watcher {
    watch_id: String,
    mode: Mode,
    site: Site,
    planner: Planner,
    clock: ServerClock,
    window: (Date, Date),
    periods: Vec<Period>,
    doctors: Vec<String>,
    titles: Vec<String>,
    max_fee: Option<f64>,
    dept_id: String,
    doctor_id: String,
    dept_name: String,
    doctor_name: String,
    member_id: String,
    member_name: String,
    /// This poll's days left to ask, and those asked.
    queue: Vec<Date>,
    checked: Vec<Date>,
    found: Vec<Found>,
    /// Whether the doctor passes the name/title filters (from `schedule/info`).
    doctor_ok: bool,
    rotation: usize,
    poll_sent_ms: i64,
    poll_outcome: Outcome,
    sent_ms: i64,
    /// `date|scheduleId` of the sessions reported and still bookable.
    seen: HashSet<String>,
    pick: Option<Pick>,
    reconcile_tries: u32,
    phase: Phase,
    /// Events, once-only reports and the open intent.
    journal: Journal,
    rng: u64,
}

impl Watcher {
    /// A watcher for `watch` with the tenant's `site`; `intent` is the watch's blocking
    /// booking intent, if any (from the store), so that a restarted host never books
    /// twice.
    pub fn new(
        watch: &Watch,
        site: Site,
        intent: Option<&BookingIntent>,
        seed: u64,
    ) -> Result<Watcher, NotAWatch> {
        let Target::Pati {
            dept_id,
            doctor_id,
            dept_name,
            doctor_name,
            member_id,
            member_name,
            ..
        } = &watch.target
        else {
            return Err(NotAWatch("not a pati_service watch".into()));
        };
        if dept_id.trim().is_empty() {
            return Err(NotAWatch("the watch names no department (dept_id)".into()));
        }
        if watch.mode == Mode::Book && member_id.trim().is_empty() {
            return Err(NotAWatch(
                "to book, the watch needs the family member to book for (member_id)".into(),
            ));
        }
        let mut w = Watcher {
            watch_id: watch.id.clone(),
            mode: watch.mode,
            site,
            planner: Planner::new(Platform::Pati, watch.interval, None, watch.window.end),
            clock: ServerClock::new(),
            window: (watch.window.start, watch.window.end),
            periods: watch.filters.periods.clone(),
            doctors: watch.filters.doctors.clone(),
            titles: watch.filters.titles.clone(),
            max_fee: watch.filters.max_fee,
            dept_id: dept_id.trim().to_string(),
            doctor_id: doctor_id.trim().to_string(),
            dept_name: dept_name.clone(),
            doctor_name: doctor_name.clone(),
            member_id: member_id.trim().to_string(),
            member_name: member_name.clone(),
            queue: Vec::new(),
            checked: Vec::new(),
            found: Vec::new(),
            doctor_ok: true,
            rotation: 0,
            poll_sent_ms: 0,
            poll_outcome: Outcome::Ok,
            sent_ms: 0,
            seen: HashSet::new(),
            pick: None,
            reconcile_tries: 0,
            phase: Phase::Idle,
            journal: Journal::default(),
            rng: seed | 1,
        };
        if let Some(i) = intent {
            match i.state {
                BookingState::Booked => {
                    w.journal.intent_id = Some(i.id.clone());
                    w.phase = Phase::Stopped("this watch has booked its appointment".into());
                }
                BookingState::Unknown => {
                    w.journal.intent_id = Some(i.id.clone());
                    w.phase = Phase::Stopped(
                        "an earlier booking's outcome is unknown — check your bookings on the hospital's page; the watch will not book again".into(),
                    );
                }
                BookingState::Submitted => {
                    w.journal.intent_id = Some(i.id.clone());
                    w.pick = Some(pick_of_intent(&i.data));
                    w.phase = Phase::Reconcile;
                }
                BookingState::Failed => {}
            }
        }
        Ok(w)
    }

    /// The watch's id.
    pub fn watch_id(&self) -> &str {
        &self.watch_id
    }

    /// The estimate of the site's clock.
    pub fn clock(&self) -> &ServerClock {
        &self.clock
    }

    fn stop(&mut self, message: String) -> Action {
        self.planner.finish();
        self.phase = Phase::Stopped(message.clone());
        Action::Stopped { message }
    }

    fn who(&self) -> String {
        let dept = if self.dept_name.is_empty() {
            "the department".to_string()
        } else {
            self.dept_name.clone()
        };
        if self.doctor_id.is_empty() {
            format!("{dept} 普通门诊")
        } else if self.doctor_name.is_empty() {
            format!("{dept}, doctor {}", self.doctor_id)
        } else {
            format!("{dept} {}", self.doctor_name)
        }
    }

    fn member_masked(&self) -> String {
        if self.member_name.is_empty() {
            "the family member".into()
        } else {
            mask_name(&self.member_name)
        }
    }

    fn request(&self, step: &Step, now_ms: i64) -> (HttpRequest, &'static str, bool) {
        let pick = self.pick.clone().unwrap_or_else(|| Pick {
            date: self.window.0,
            half: None,
            schedule_id: String::new(),
            fee: None,
            serial_no: None,
            time: String::new(),
            appo_time: String::new(),
        });
        let serial = pick.serial_no.unwrap_or(0);
        match step {
            Step::Info => {
                let today = self.clock.beijing_today(now_ms);
                let days = today.days_until(self.window.1).clamp(1, 60) as u32;
                (
                    self.site
                        .schedule_info(&self.dept_id, &self.doctor_id, days),
                    "schedule_info",
                    true,
                )
            }
            Step::Day(d) => (
                self.site.schedule(&self.dept_id, &self.doctor_id, *d),
                "schedule",
                false,
            ),
            Step::LeftAppo => (self.site.left_appo(&pick.schedule_id), "left_appo", false),
            Step::Presubmit => (
                self.site.presubmit(&pick.schedule_id, serial),
                "presubmit",
                false,
            ),
            Step::Submit => (
                self.site.submit(&pick.schedule_id, serial, &self.member_id),
                "submit",
                false,
            ),
            Step::Detail(id) => (self.site.book(id), "book_detail", false),
            Step::PayLink(b) => (self.site.pay_link(&b.book_id), "pay_link", false),
            Step::Books => (self.site.books(1, BOOKS_PAGE_SIZE), "books", false),
        }
    }

    fn send(&mut self, step: Step, now_ms: i64) -> Action {
        let (request, purpose, paced) = self.request(&step, now_ms);
        self.sent_ms = now_ms;
        self.phase = Phase::Sent(step);
        Action::Send {
            request,
            purpose,
            paced,
        }
    }

    fn start_poll(&mut self, now_ms: i64) -> Action {
        self.queue.clear();
        self.checked.clear();
        self.found.clear();
        self.poll_outcome = Outcome::Ok;
        self.poll_sent_ms = now_ms;
        self.send(Step::Info, now_ms)
    }

    fn next_day(&mut self, now_ms: i64) -> Action {
        match self.queue.pop() {
            Some(d) => {
                self.checked.push(d);
                self.send(Step::Day(d), now_ms)
            }
            None => self.end_poll(now_ms),
        }
    }

    fn in_window(&self, d: Date) -> bool {
        d >= self.window.0 && d <= self.window.1
    }

    fn session_wanted(&self, s: &Session) -> bool {
        if !s.bookable() || !self.doctor_ok {
            return false;
        }
        if !self.periods.is_empty() && !self.periods.contains(&s.half.period()) {
            return false;
        }
        !matches!((self.max_fee, s.fee), (Some(max), Some(fee)) if fee > max + 1e-9)
    }

    fn feed_info(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        let info = match read_schedule_info(resp) {
            Ok(i) => i,
            Err(e) => return self.poll_error(Step::Info, e, resp, now_ms),
        };
        if self.doctor_name.is_empty() {
            if let Some(n) = &info.doctor_name {
                self.doctor_name = n.clone();
            }
        }
        if self.dept_name.is_empty() {
            if let Some(n) = &info.dept_name {
                self.dept_name = n.clone();
            }
        }
        self.doctor_ok = (self.doctors.is_empty()
            || info
                .doctor_name
                .as_ref()
                .is_some_and(|n| self.doctors.iter().any(|d| d.trim() == n)))
            && (self.titles.is_empty()
                || info
                    .doctor_title
                    .as_ref()
                    .is_some_and(|t| self.titles.iter().any(|x| x.trim() == t)));
        if !self.periods.is_empty()
            && !self
                .periods
                .iter()
                .any(|p| matches!(p, Period::Morning | Period::Afternoon))
        {
            self.journal.report_once(
                "no-period",
                "error",
                "pati_service hospitals have only morning (上午) and afternoon (下午) sessions; the watch's periods match none of them — change the watch".into(),
            );
        }
        let today = self.clock.beijing_today(now_ms);
        let mut days: Vec<Date> = info
            .days
            .iter()
            .filter(|d| d.left > 0 && d.date > today && self.in_window(d.date))
            .map(|d| d.date)
            .collect();
        days.sort();
        days.dedup();
        if days.len() > MAX_DAYS_PER_POLL {
            let start = self.rotation % days.len();
            self.rotation = self.rotation.wrapping_add(MAX_DAYS_PER_POLL);
            days = (0..MAX_DAYS_PER_POLL)
                .map(|i| days[(start + i) % days.len()])
                .collect();
            days.sort();
        }
        // `schedule/info` starts tomorrow: today is asked on its own.
        if self.in_window(today) {
            days.insert(0, today);
        }
        if !self.doctor_ok {
            days.clear();
        }
        days.reverse(); // popped from the end: earliest first
        self.queue = days;
        self.next_day(now_ms)
    }

    fn feed_day(&mut self, date: Date, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_schedule(resp) {
            Ok(day) => {
                for s in [day.am, day.pm].into_iter().flatten() {
                    if self.session_wanted(&s) {
                        self.found.push(Found { date, session: s });
                    }
                }
                self.next_day(now_ms)
            }
            Err(e) => self.poll_error(Step::Day(date), e, resp, now_ms),
        }
    }

    /// A poll request failed: sign in, slow down, or say the site changed.
    fn poll_error(&mut self, step: Step, e: SiteError, resp: &HttpResponse, now_ms: i64) -> Action {
        match e {
            SiteError::TokenRejected(msg) => self.logged_out(step, &msg),
            SiteError::Throttled => {
                self.poll_outcome = Outcome::Throttled;
                self.journal.report_once(
                    &format!("throttled-{}", self.planner.attempt()),
                    "throttled",
                    format!(
                        "the hospital's server is busy or turned the request away (HTTP {}); the watch slows down",
                        resp.status
                    ),
                );
                self.queue.clear();
                self.end_poll(now_ms)
            }
            SiteError::Unreadable(what) => {
                // The server answered (HTTP 200): a changed or garbled reply is no reason
                // to slow down (conduct asks that of 429/403/5xx), and a slot may be
                // seconds away. The watch keeps its interval, as on 91160.
                self.journal.report_once(
                    &format!("unreadable-{what}"),
                    "site_changed",
                    format!("{what}; the watch keeps trying"),
                );
                self.queue.clear();
                self.end_poll(now_ms)
            }
            other => {
                // 1003/1004 (department or doctor gone) and the like: say it, go on.
                self.journal.report_once(
                    &format!("refused-{other}"),
                    "error",
                    format!(
                        "{other}; the watch keeps trying — check the watch's department and doctor"
                    ),
                );
                self.queue.clear();
                self.end_poll(now_ms)
            }
        }
    }

    fn end_poll(&mut self, now_ms: i64) -> Action {
        self.planner
            .on_response(self.poll_sent_ms, self.poll_outcome);
        self.phase = Phase::Idle;
        let found = std::mem::take(&mut self.found);
        // A session reported earlier and now gone (on a day asked) is reported again
        // when it comes back.
        let keys: HashSet<String> = found
            .iter()
            .map(|f| format!("{}|{}", f.date, f.session.schedule_id))
            .collect();
        let checked: HashSet<String> = self.checked.iter().map(|d| d.to_string()).collect();
        let poll_ok = self.poll_outcome == Outcome::Ok;
        self.seen.retain(|k| {
            let day = k.split('|').next().unwrap_or("");
            keys.contains(k) || !poll_ok || !checked.contains(day)
        });
        for f in &found {
            let key = format!("{}|{}", f.date, f.session.schedule_id);
            if self.seen.insert(key) {
                let fee = f
                    .session
                    .fee
                    .map_or(String::new(), |x| format!(", fee ¥{x:.2}"));
                let message = format!(
                    "{} {} {}: {} left{fee}",
                    f.date,
                    f.session.half.words(),
                    self.who(),
                    f.session.left_count
                );
                let data = json!({
                    "date": f.date.to_string(),
                    "period": f.session.half.name(),
                    "schedule_id": f.session.schedule_id,
                    "left": f.session.left_count,
                    "fee": f.session.fee,
                    "dept": self.dept_name,
                    "doctor": self.doctor_name,
                    "address": f.session.address,
                });
                self.journal.event("slot_seen", message, data);
            }
        }
        if self.mode != Mode::Book || found.is_empty() {
            return self.tick(now_ms);
        }
        let f = &found[0];
        self.pick = Some(Pick {
            date: f.date,
            half: Some(f.session.half),
            schedule_id: f.session.schedule_id.clone(),
            fee: f.session.fee,
            serial_no: None,
            time: String::new(),
            appo_time: String::new(),
        });
        self.send(Step::LeftAppo, now_ms)
    }

    /// A booking step before the intent did not work out: say it, poll again.
    fn missed(&mut self, message: String, now_ms: i64) -> Action {
        let data = self.pick_data();
        self.journal.event("order_missed", message, data);
        self.pick = None;
        self.phase = Phase::Idle;
        self.tick(now_ms)
    }

    fn pick_data(&self) -> Value {
        match &self.pick {
            None => Value::Null,
            Some(p) => json!({
                "date": p.date.to_string(),
                "period": p.half.map(Half::name),
                "schedule_id": p.schedule_id,
                "serial_no": p.serial_no,
                "time": p.time,
                "appo_time": p.appo_time,
                "fee": p.fee,
                "dept": self.dept_name,
                "doctor": self.doctor_name,
                "member": self.member_masked(),
            }),
        }
    }

    fn intent_data(&self) -> Value {
        let mut d = self.pick_data();
        if d.is_object() {
            d["platform"] = json!("pati");
            d["dept_id"] = json!(self.dept_id);
            d["doctor_id"] = json!(self.doctor_id);
            d["member_id"] = json!(self.member_id);
        }
        d
    }

    fn feed_left_appo(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_left_appo(resp) {
            Ok(serials) => {
                let Some(first) = serials.into_iter().next() else {
                    return self.missed(
                        "the session filled up before a number could be chosen; the watch goes on"
                            .into(),
                        now_ms,
                    );
                };
                if let Some(p) = self.pick.as_mut() {
                    p.serial_no = Some(first.serial_no);
                    p.time = first.time;
                }
                self.send(Step::Presubmit, now_ms)
            }
            Err(e) => self.pre_intent_error(Step::LeftAppo, e, now_ms),
        }
    }

    fn feed_presubmit(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_presubmit(resp) {
            Ok(p) => {
                if let Some(pick) = self.pick.as_mut() {
                    pick.appo_time = p.appo_time;
                    if p.fee.is_some() {
                        pick.fee = p.fee;
                    }
                }
                if let (Some(max), Some(fee)) =
                    (self.max_fee, self.pick.as_ref().and_then(|p| p.fee))
                {
                    if fee > max + 1e-9 {
                        return self.missed(
                            format!("the fee would be ¥{fee:.2}, above the watch's ¥{max:.2}; not booked"),
                            now_ms,
                        );
                    }
                }
                self.phase = Phase::AwaitIntent;
                Action::RecordIntent {
                    data: self.intent_data(),
                }
            }
            Err(e) => self.pre_intent_error(Step::Presubmit, e, now_ms),
        }
    }

    /// `left_appo` / `presubmit` failed: nothing was booked.
    fn pre_intent_error(&mut self, step: Step, e: SiteError, now_ms: i64) -> Action {
        match e {
            SiteError::TokenRejected(msg) => self.logged_out(step, &msg),
            SiteError::Throttled => {
                self.planner.on_response(now_ms, Outcome::Throttled);
                self.missed(
                    "the hospital's server was busy while choosing a number; the watch slows down and goes on".into(),
                    now_ms,
                )
            }
            SiteError::SoldOut(msg) => self.missed(
                format!("someone else took the number first ({msg}); the watch goes on"),
                now_ms,
            ),
            other => self.missed(format!("{other}; the watch goes on"), now_ms),
        }
    }

    fn feed_submit(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_submit(resp) {
            Ok(book_id) => self.send(Step::Detail(book_id), now_ms),
            Err(SiteError::TokenRejected(msg)) => self.logged_out(Step::Submit, &msg),
            Err(SiteError::SoldOut(msg)) => {
                let data = self.pick_data();
                self.journal.end_intent(
                    "booking_failed",
                    "failed",
                    format!("someone else booked the number first ({msg}); nothing was booked — the watch goes on"),
                    data,
                );
                self.pick = None;
                self.phase = Phase::Idle;
                self.tick(now_ms)
            }
            Err(SiteError::Refused { code, msg }) => {
                let words = SiteError::Refused {
                    code,
                    msg: msg.clone(),
                }
                .to_string();
                let data = self.pick_data();
                // Refusals a later poll cannot fix stop the watch.
                let fatal = matches!(code, 3004 | 3005 | 3010 | 1001 | 1002 | 1003 | 1004);
                if fatal {
                    self.journal.end_intent(
                        "booking_failed",
                        "failed",
                        format!("not booked: {words}"),
                        data,
                    );
                    self.stop(format!(
                        "not booked: {words}; the watch stopped — change it and it starts again"
                    ))
                } else {
                    self.journal.end_intent(
                        "booking_failed",
                        "failed",
                        format!("not booked: {words}; the watch goes on"),
                        data,
                    );
                    self.pick = None;
                    self.phase = Phase::Idle;
                    self.tick(now_ms)
                }
            }
            // Busy or unreadable: the booking may have been made. Never submit again.
            Err(e) => {
                self.journal.event(
                    "booking_check",
                    format!("the booking reply was lost ({e}); checking the account's bookings"),
                    self.pick_data(),
                );
                self.reconcile_tries = 0;
                self.phase = Phase::Reconcile;
                Action::Wait {
                    at_ms: now_ms + RECONCILE_WAIT_MS,
                }
            }
        }
    }

    fn booked(
        &mut self,
        b: &Booking,
        pay_url: Option<String>,
        pay_error: Option<String>,
    ) -> Action {
        let mut data = self.pick_data();
        if !data.is_object() {
            data = json!({});
        }
        data["book_id"] = json!(b.book_id);
        if let Some(c) = &b.book_code {
            data["book_code"] = json!(c);
        }
        if let Some(t) = &b.trea_time {
            data["time"] = json!(t);
        }
        if let Some(n) = b.serial_no {
            data["serial_no"] = json!(n);
        }
        if let Some(f) = b.fee {
            data["fee"] = json!(f);
        }
        if let Some(a) = &b.area {
            data["area"] = json!(a);
        }
        let when = b
            .trea_time
            .clone()
            .or_else(|| self.pick.as_ref().map(|p| p.appo_time.clone()))
            .unwrap_or_default();
        let serial = b
            .serial_no
            .or_else(|| self.pick.as_ref().and_then(|p| p.serial_no))
            .map_or(String::new(), |n| format!(" (No. {n})"));
        let mut message = format!(
            "booked {} {when}{serial} for {}",
            self.who(),
            self.member_masked()
        );
        if b.needs_payment() {
            data["payment_needed"] = json!(true);
            match pay_url {
                Some(u) => {
                    data["pay_url"] = json!(u);
                    data["url"] = json!(u);
                    message.push_str(&format!(
                        " — the fee is charged online and must be paid on the hospital's page: {u} (Haoyuan does not pay)"
                    ));
                }
                None => message.push_str(&format!(
                    " — the fee is charged online and must be paid in the hospital's app or page (no pay link: {})",
                    pay_error.unwrap_or_else(|| "it could not be fetched".into())
                )),
            }
        }
        self.journal
            .end_intent("booked", "booked", message.clone(), data);
        self.stop(message)
    }

    /// The booking exists: show it (with a pay link when it must be paid).
    fn after_booking(&mut self, b: Booking, now_ms: i64) -> Action {
        if b.needs_payment() {
            self.send(Step::PayLink(Box::new(b)), now_ms)
        } else {
            self.booked(&b, None, None)
        }
    }

    fn feed_detail(&mut self, book_id: String, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_book(resp) {
            Ok(b) => self.after_booking(b, now_ms),
            Err(SiteError::TokenRejected(msg)) => self.logged_out(Step::Detail(book_id), &msg),
            // The submit answered a bookId: booked, whatever the detail says.
            Err(_) => {
                let b = self.bare_booking(book_id);
                self.booked(&b, None, None)
            }
        }
    }

    fn bare_booking(&self, book_id: String) -> Booking {
        Booking {
            book_id,
            status: 0,
            visi_charge: None,
            dept_id: Some(self.dept_id.clone()),
            dept_name: None,
            doctor_id: None,
            doctor_name: None,
            member_name: None,
            serial_no: self.pick.as_ref().and_then(|p| p.serial_no),
            trea_time: None,
            fee: None,
            book_code: None,
            area: None,
            schedule_id: None,
            member_id: None,
        }
    }

    fn feed_pay_link(&mut self, b: Booking, resp: &HttpResponse) -> Action {
        match read_pay_link(resp) {
            Ok(p) => self.booked(&b, p.url, p.error),
            Err(SiteError::TokenRejected(msg)) => self.logged_out(Step::PayLink(Box::new(b)), &msg),
            Err(e) => self.booked(&b, None, Some(e.to_string())),
        }
    }

    /// Whether `b` is the booking of the pick.
    fn is_ours(&self, b: &Booking, pick: &Pick) -> bool {
        if !b.active() {
            return false;
        }
        if let (Some(s), false) = (&b.schedule_id, pick.schedule_id.is_empty()) {
            if *s != pick.schedule_id {
                return false;
            }
        }
        if let Some(m) = &b.member_id {
            if *m != self.member_id {
                return false;
            }
        } else if !self.member_name.is_empty()
            && b.member_name.as_deref() != Some(self.member_name.trim())
        {
            return false;
        }
        if b.dept_id.as_deref().is_some_and(|d| d != self.dept_id) {
            return false;
        }
        let doctor = b.doctor_id.clone().unwrap_or_default();
        if doctor != self.doctor_id {
            return false;
        }
        match (b.serial_no, pick.serial_no) {
            (Some(a), Some(p)) if a != p => return false,
            (None, _) | (_, None) => return false,
            _ => {}
        }
        let time = b.trea_time.as_deref().unwrap_or("");
        if !pick.appo_time.is_empty() {
            time == pick.appo_time
        } else {
            time.starts_with(&pick.date.to_string())
        }
    }

    fn feed_books(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        let pick = self.pick.clone();
        match read_books(resp) {
            Ok(page) => {
                let ours = pick
                    .as_ref()
                    .and_then(|p| page.list.iter().find(|b| self.is_ours(b, p)).cloned());
                match ours {
                    Some(b) => self.after_booking(b, now_ms),
                    None => {
                        let message = format!(
                            "the booking's outcome is unknown: its reply was lost and the account's bookings do not show it — check your bookings on the hospital's page for {}; the watch will not book again",
                            self.member_masked()
                        );
                        let data = self.pick_data();
                        self.journal.end_intent(
                            "outcome_unknown",
                            "unknown",
                            message.clone(),
                            data,
                        );
                        self.stop(message)
                    }
                }
            }
            Err(SiteError::TokenRejected(msg)) => self.logged_out(Step::Books, &msg),
            Err(SiteError::Throttled) => self.retry_books(now_ms, "the hospital's server was busy"),
            Err(e) => {
                let message = format!(
                    "the booking's outcome is unknown: its reply was lost and the bookings list could not be read ({e}) — check your bookings on the hospital's page; the watch will not book again"
                );
                let data = self.pick_data();
                self.journal
                    .end_intent("outcome_unknown", "unknown", message.clone(), data);
                self.stop(message)
            }
        }
    }

    fn retry_books(&mut self, now_ms: i64, why: &str) -> Action {
        self.reconcile_tries += 1;
        if self.reconcile_tries >= RECONCILE_TRIES {
            let message = format!(
                "the booking's outcome is unknown: its reply was lost and the bookings list could not be fetched ({why}) — check your bookings on the hospital's page; the watch will not book again"
            );
            let data = self.pick_data();
            self.journal
                .end_intent("outcome_unknown", "unknown", message.clone(), data);
            return self.stop(message);
        }
        self.phase = Phase::Reconcile;
        Action::Wait {
            at_ms: now_ms + RECONCILE_WAIT_MS * i64::from(self.reconcile_tries),
        }
    }

    fn logged_out(&mut self, step: Step, msg: &str) -> Action {
        self.phase = Phase::LoggedOut(step);
        Action::NeedLogin {
            message: format!(
                "the hospital no longer accepts the account's sign-in ({msg}); sign in again and the watch goes on"
            ),
        }
    }
}

/// The pick recorded in an intent's data (a restart reconciles with it).
fn pick_of_intent(data: &Value) -> Pick {
    let s = |k: &str| {
        data.get(k)
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    Pick {
        date: Date::parse(&s("date")).unwrap_or(Date::from_days(0)),
        half: Half::parse(&s("period")),
        schedule_id: s("schedule_id"),
        fee: data.get("fee").and_then(Value::as_f64),
        serial_no: s("serial_no").parse().ok(),
        time: s("time"),
        appo_time: s("appo_time"),
    }
}

impl Driver for Watcher {
    fn departed(&mut self, paced: bool, now_ms: i64) {
        self.sent_ms = now_ms;
        if paced {
            self.poll_sent_ms = now_ms;
        }
    }

    /// Plans or starts the next step.
    fn tick(&mut self, now_ms: i64) -> Action {
        match &self.phase {
            Phase::Stopped(m) => return Action::Stopped { message: m.clone() },
            Phase::LoggedOut(_) => {
                return Action::NeedLogin {
                    message: "the hospital's sign-in has expired; sign in again".into(),
                }
            }
            Phase::Reconcile => return self.send(Step::Books, now_ms),
            Phase::Sent(step) if *step != Step::Info && !matches!(step, Step::Day(_)) => {
                // A booking step awaits its reply; asked again, send it again only if it
                // is safe (everything but the submit).
                let step = step.clone();
                if step == Step::Submit {
                    self.phase = Phase::Reconcile;
                    return Action::Wait {
                        at_ms: now_ms + RECONCILE_WAIT_MS,
                    };
                }
                return self.send(step, now_ms);
            }
            Phase::AwaitIntent => {
                // The intent was handed out and never answered: nothing was submitted.
                return Action::RecordIntent {
                    data: self.intent_data(),
                };
            }
            Phase::Sent(_) | Phase::Idle => {}
        }
        let unit = crate::platforms::unit(&mut self.rng);
        match crate::platforms::next_poll(&mut self.planner, &self.clock, now_ms, unit) {
            crate::platforms::NextPoll::Stop(m) => {
                self.journal.event("window_over", m, Value::Null);
                self.stop(m.into())
            }
            crate::platforms::NextPoll::Wait(at_ms) => {
                self.phase = Phase::Idle;
                Action::Wait { at_ms }
            }
            crate::platforms::NextPoll::Poll => self.start_poll(now_ms),
        }
    }

    /// A response to the request last handed out.
    fn feed(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        let _ = self.clock.observe_response(self.sent_ms, now_ms, resp);
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        let Phase::Sent(step) = phase else {
            self.phase = phase;
            return self.tick(now_ms);
        };
        match step {
            Step::Info => self.feed_info(resp, now_ms),
            Step::Day(d) => self.feed_day(d, resp, now_ms),
            Step::LeftAppo => self.feed_left_appo(resp, now_ms),
            Step::Presubmit => self.feed_presubmit(resp, now_ms),
            Step::Submit => self.feed_submit(resp, now_ms),
            Step::Detail(id) => self.feed_detail(id, resp, now_ms),
            Step::PayLink(b) => self.feed_pay_link(*b, resp),
            Step::Books => self.feed_books(resp, now_ms),
        }
    }

    /// No response to the request last handed out.
    fn no_response(&mut self, error: &str, now_ms: i64) -> Action {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        let Phase::Sent(step) = phase else {
            self.phase = phase;
            return self.tick(now_ms);
        };
        match step {
            Step::Info | Step::Day(_) => {
                self.poll_outcome = Outcome::Failed;
                self.journal.report_once(
                    "no-response",
                    "site_unreachable",
                    format!("the hospital's server could not be reached ({error}); the watch keeps trying"),
                );
                self.queue.clear();
                self.end_poll(now_ms)
            }
            Step::LeftAppo | Step::Presubmit => {
                self.planner.on_response(now_ms, Outcome::Failed);
                self.missed(
                    format!("the hospital's server did not answer while choosing a number ({error}); the watch goes on"),
                    now_ms,
                )
            }
            Step::Submit => {
                // The booking may exist: never submit again, look at the bookings.
                self.journal.event(
                    "booking_check",
                    format!("no reply to the booking ({error}); checking the account's bookings"),
                    self.pick_data(),
                );
                self.reconcile_tries = 0;
                self.phase = Phase::Reconcile;
                Action::Wait {
                    at_ms: now_ms + RECONCILE_WAIT_MS,
                }
            }
            Step::Detail(id) => {
                let b = self.bare_booking(id);
                self.booked(&b, None, None)
            }
            Step::PayLink(b) => self.booked(&b, None, Some(error.to_string())),
            Step::Books => self.retry_books(now_ms, error),
        }
    }

    /// The host recorded the intent: the submit goes.
    fn intent_recorded(&mut self, intent_id: &str, now_ms: i64) -> Action {
        if !matches!(self.phase, Phase::AwaitIntent) {
            return self.tick(now_ms);
        }
        self.journal.intent_id = Some(intent_id.to_string());
        self.send(Step::Submit, now_ms)
    }

    /// The host refused the intent: nothing may be booked.
    fn intent_refused(&mut self, message: &str, now_ms: i64) -> Action {
        if !matches!(self.phase, Phase::AwaitIntent) {
            return self.tick(now_ms);
        }
        self.pick = None;
        self.journal.event(
            "booking_failed",
            format!("the booking was not started: {message}"),
            Value::Null,
        );
        self.stop(format!(
            "this watch cannot book ({message}); it will not book again"
        ))
    }
    fn no_answer(&mut self, now_ms: i64) -> Action {
        Watcher::tick(self, now_ms)
    }

    /// The account signed in again (the host attaches the new token: `credential` is
    /// `None`): the step it was at goes again.
    fn resume(&mut self, _credential: Option<&str>, now_ms: i64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::LoggedOut(step) => self.send(step, now_ms),
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// Events to record, oldest first.
    fn take_events(&mut self) -> Vec<Event> {
        self.journal.take()
    }
}
