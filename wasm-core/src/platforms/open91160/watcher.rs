//! One 91160 watch at run time, as a sans-IO machine the host's runner drives (it
//! sends the requests, sleeps, records intents and events; the appToken travels in the
//! requests themselves).
//!
//! - **When**: a [`Planner`] (the watch's interval with jitter above the 15 s floor,
//!   backoff on HTTP 429/403/5xx and code `10006`, stop after the window) on the
//!   server's clock ([`ServerClock`] from every reply's `Date`). The unit releases the
//!   day `today + appointmentCycleDays` at `appointmentOpenTime` (Beijing): while the
//!   window holds a day not open yet, the planner bursts (bounded) at that time daily
//!   ([`ReleaseRule::daily`]).
//! - **What**: `scheduleList` over the visible part of the window (today … today +
//!   cycle days, within the window). Without a doctor in the watch, the department's
//!   `doctorList` is read first (all pages, again every [`DOCTOR_REFRESH_MS`]) and then
//!   `scheduleList` per doctor, taking them in turn: one poll sends at most
//!   [`MAX_REQUESTS_PER_POLL`] requests.
//! - **Found**: a schedule of the window with free numbers (`resourceMax −
//!   appointedNum`, never below 0) in the watch's periods and under its fee: a
//!   `slot_seen` event once per appearance (it is told again after it was gone).
//! - **Book**: `resourceList` → the first slot with a free number → [`Action::RecordIntent`]
//!   → `appointment/order` only after [`Watcher::intent_recorded`] → `booked` and stop.
//!   `40001` (a competitor was faster) ends the intent `failed` and the watch polls on;
//!   `40002` (already booked) ends it `failed` and stops. A lost order reply, a 5xx or
//!   an unreadable one ends it `unknown` and is never re-sent; a restart with a
//!   `submitted` intent does not order again but ends it `unknown` — the open platform
//!   has no order list to reconcile against.
//! - **Token**: a rejected appToken (`20001`–`20003`) → `session_expired` and
//!   [`Action::NeedLogin`]; [`Watcher::resume`] with the renewed token goes on.

use super::site::{
    order_body, read_doctors, read_order, read_resources, read_schedules, Doctor, Resource,
    Schedule, Site, SiteError, DOCTOR_LIST, SCHEDULE_LIST,
};
use crate::clock::ServerClock;
use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::patient::{mask_id, mask_name, Patient};
use crate::platforms::{Action, Driver, Event, Journal};
use crate::protocol::{BookingIntent, BookingState, CaptchaAnswer};
use crate::schedule::{Outcome, Planner, ReleaseRule, BEIJING_OFFSET_MIN};
use crate::watch::{minutes_of_hhmm, Mode, Period, Platform, Target, Watch};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Requests one poll sends at most (doctor list pages and schedule lists together);
/// the rest are taken in turn by the following polls.
pub const MAX_REQUESTS_PER_POLL: usize = 4;
/// Doctors asked for per `doctorList` page.
pub const DOCTOR_PAGE_SIZE: u32 = 100;
/// The department's doctor list is read again after this long (local ms).
pub const DOCTOR_REFRESH_MS: i64 = 6 * 3_600_000;
/// Pages of one doctor list read at most.
const MAX_DOCTOR_PAGES: u32 = 20;

const DAY_MS: i64 = 86_400_000;

/// Why a watch cannot be run by this watcher.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAWatch(pub String);

/// A request of a poll.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Req {
    Doctors { page: u32 },
    Schedules,
}

/// The slot chosen for an order, and what is said about it.
#[derive(Clone, Debug)]
struct Pick {
    sched: Schedule,
    res: Resource,
    data: Value,
}

enum Phase {
    Idle,
    Polling(Req),
    Resources(Box<Schedule>),
    Intent(Box<Pick>),
    Ordering(Box<Pick>),
    /// Restarted with an open `submitted` intent (its data).
    Reconcile(Value),
    LoggedOut(String),
    Stopped(String),
}

/// One watch of platform 91160.
pub struct Watcher {
    watch_id: String,
    mode: Mode,
    site: Site,
    token: String,
    patient: Option<Patient>,
    unit_id: String,
    dep_id: String,
    doctor_id: String,
    unit_name: String,
    dep_name: String,
    doctor_name: String,
    open_time: Option<String>,
    cycle_days: u32,
    window: (Date, Date),
    periods: Vec<Period>,
    doctor_names: Vec<String>,
    titles: Vec<String>,
    max_fee: Option<f64>,
    planner: Planner,
    clock: ServerClock,
    /// The department's doctors (after the watch's name/title filters), when read.
    doctors: Vec<Doctor>,
    doctors_at: Option<i64>,
    doctor_partial: Vec<Doctor>,
    doctor_page: u32,
    /// The doctor whose schedules are being asked for.
    current_doctor: String,
    rotation: usize,
    poll_sent: usize,
    poll_sched: usize,
    poll_sent_ms: i64,
    poll_outcome: Outcome,
    sent_ms: i64,
    /// Schedules with free numbers as last seen, per doctor (told once per appearance).
    seen: HashMap<String, HashSet<String>>,
    phase: Phase,
    /// Events, once-only reports and the open intent.
    journal: Journal,
    rng: u64,
}

impl Watcher {
    /// A watcher for `watch` (a 91160 target) on `site`, sending `app_token`; booking
    /// (mode `book`) needs `patient`. `intent` is the watch's open booking intent from
    /// the store, if any, so that a restart never orders twice.
    pub fn new(
        watch: &Watch,
        site: Site,
        app_token: String,
        patient: Option<Patient>,
        intent: Option<&BookingIntent>,
        seed: u64,
    ) -> Result<Watcher, NotAWatch> {
        let Target::Open91160 {
            unit_id,
            dep_id,
            doctor_id,
            unit_name,
            dep_name,
            doctor_name,
            open_time,
            cycle_days,
            ..
        } = &watch.target
        else {
            return Err(NotAWatch("not a 91160 watch".into()));
        };
        if unit_id.trim().is_empty() || dep_id.trim().is_empty() {
            return Err(NotAWatch(
                "a 91160 watch needs a hospital (unitId) and a department (depId)".into(),
            ));
        }
        if watch.mode == Mode::Book && patient.is_none() {
            return Err(NotAWatch(
                "booking on 91160 needs a patient from the patient book; choose one or switch the watch to notify".into(),
            ));
        }
        let mut w = Watcher {
            watch_id: watch.id.clone(),
            mode: watch.mode,
            site,
            token: app_token,
            patient,
            unit_id: unit_id.trim().to_string(),
            dep_id: dep_id.trim().to_string(),
            doctor_id: doctor_id.trim().to_string(),
            unit_name: unit_name.clone(),
            dep_name: dep_name.clone(),
            doctor_name: doctor_name.clone(),
            open_time: super::site::normalize_open_time(open_time),
            cycle_days: *cycle_days,
            window: (watch.window.start, watch.window.end),
            periods: watch.filters.periods.clone(),
            doctor_names: clean(&watch.filters.doctors),
            titles: clean(&watch.filters.titles),
            max_fee: watch.filters.max_fee,
            planner: Planner::new(Platform::Open91160, watch.interval, None, watch.window.end),
            clock: ServerClock::new(),
            doctors: Vec::new(),
            doctors_at: None,
            doctor_partial: Vec::new(),
            doctor_page: 1,
            current_doctor: String::new(),
            rotation: 0,
            poll_sent: 0,
            poll_sched: 0,
            poll_sent_ms: 0,
            poll_outcome: Outcome::Ok,
            sent_ms: 0,
            seen: HashMap::new(),
            phase: Phase::Idle,
            journal: Journal::default(),
            rng: seed | 1,
        };
        if let Some(i) = intent {
            w.journal.intent_id = Some(i.id.clone());
            match i.state {
                BookingState::Booked => {
                    w.planner.finish();
                    w.phase = Phase::Stopped("this watch has booked its number".into());
                }
                BookingState::Unknown => {
                    w.planner.finish();
                    w.phase = Phase::Stopped(
                        "an earlier order's outcome is unknown — check your 91160 orders; the watch will not order again".into(),
                    );
                }
                BookingState::Submitted => w.phase = Phase::Reconcile(i.data.clone()),
                BookingState::Failed => w.journal.intent_id = None,
            }
        }
        Ok(w)
    }

    /// The watch's id.
    pub fn watch_id(&self) -> &str {
        &self.watch_id
    }

    /// The estimate of the platform's clock.
    pub fn clock(&self) -> &ServerClock {
        &self.clock
    }

    fn stop(&mut self, message: String) -> Action {
        self.planner.finish();
        self.phase = Phase::Stopped(message.clone());
        Action::Stopped { message }
    }

    fn send(
        &mut self,
        now_ms: i64,
        request: HttpRequest,
        purpose: &'static str,
        paced: bool,
    ) -> Action {
        self.sent_ms = now_ms;
        Action::Send {
            request,
            purpose,
            paced,
        }
    }

    fn server_now(&self, now_ms: i64) -> i64 {
        self.clock.server_now(now_ms).0
    }

    /// The part of the window the platform shows now: today … today + cycle days.
    fn visible_range(&self, now_ms: i64) -> Option<(Date, Date)> {
        let today = self.clock.beijing_today(now_ms);
        let start = self.window.0.max(today);
        let end = if self.cycle_days > 0 {
            self.window
                .1
                .min(today.add_days(i64::from(self.cycle_days)))
        } else {
            self.window.1
        };
        (start <= end).then_some((start, end))
    }

    /// Bursts at the daily open time while the window holds a day not open yet.
    fn update_release(&mut self, now_ms: i64) {
        let rule = match (&self.open_time, self.cycle_days) {
            (Some(hhmm), c) if c > 0 => {
                let server = self.server_now(now_ms);
                let today = Date::from_unix_ms(server, BEIJING_OFFSET_MIN);
                let minute =
                    (server + i64::from(BEIJING_OFFSET_MIN) * 60_000).rem_euclid(DAY_MS) / 60_000;
                let opened_today = minutes_of_hhmm(hhmm).is_some_and(|m| minute >= i64::from(m));
                let newest_open = today.add_days(i64::from(c) - if opened_today { 0 } else { 1 });
                if self.window.1 > newest_open {
                    ReleaseRule::daily(hhmm).ok()
                } else {
                    None
                }
            }
            _ => None,
        };
        self.planner.set_release(rule);
    }

    fn start_poll(&mut self, now_ms: i64) -> Action {
        self.poll_sent = 0;
        self.poll_sched = 0;
        self.poll_outcome = Outcome::Ok;
        self.poll_sent_ms = now_ms;
        if self.visible_range(now_ms).is_none() {
            // Nothing of the window is open yet: count it as a poll.
            self.planner.on_response(now_ms, Outcome::Ok);
            let msg = if self.cycle_days > 0 {
                format!(
                    "none of the watch's days can be booked yet (this hospital opens {} days ahead{}); the watch waits",
                    self.cycle_days,
                    self.open_time
                        .as_deref()
                        .map(|t| format!(", at {t} Beijing time"))
                        .unwrap_or_default()
                )
            } else {
                "none of the watch's days can be booked yet; the watch waits".to_string()
            };
            self.journal.report_once("not-open", "waiting", msg);
            return self.tick(now_ms + 1);
        }
        self.journal.reported.remove("not-open");
        self.next_request(now_ms)
    }

    fn needs_doctor_list(&self, now_ms: i64) -> bool {
        self.doctor_id.is_empty()
            && self
                .doctors_at
                .is_none_or(|at| now_ms - at >= DOCTOR_REFRESH_MS || now_ms < at)
    }

    /// The next request of the poll, or its end.
    fn next_request(&mut self, now_ms: i64) -> Action {
        if self.poll_sent >= MAX_REQUESTS_PER_POLL {
            return self.end_poll(now_ms);
        }
        let Some((begin, end)) = self.visible_range(now_ms) else {
            return self.end_poll(now_ms);
        };
        let paced = self.poll_sent == 0;
        let token = self.token.clone();
        let (req, doctor) = if !self.doctor_id.is_empty() {
            if self.poll_sched > 0 {
                return self.end_poll(now_ms);
            }
            (Req::Schedules, self.doctor_id.clone())
        } else if self.needs_doctor_list(now_ms) {
            let page = self.doctor_page.max(1);
            self.poll_sent += 1;
            self.phase = Phase::Polling(Req::Doctors { page });
            let request =
                self.site
                    .doctor_list(&token, &self.unit_id, &self.dep_id, page, DOCTOR_PAGE_SIZE);
            return self.send(now_ms, request, "doctor_list", paced);
        } else if self.doctors.is_empty() {
            self.journal.report_once(
                "no-doctors",
                "waiting",
                "91160 lists no doctors of this department that match the watch; the watch looks again later".into(),
            );
            return self.end_poll(now_ms);
        } else if self.poll_sched < self.doctors.len() {
            let i = (self.rotation + self.poll_sched) % self.doctors.len();
            (Req::Schedules, self.doctors[i].doctor_id.clone())
        } else {
            return self.end_poll(now_ms);
        };
        self.poll_sent += 1;
        self.poll_sched += 1;
        self.current_doctor = doctor.clone();
        self.phase = Phase::Polling(req);
        let request =
            self.site
                .schedule_list(&token, &self.unit_id, &self.dep_id, &doctor, begin, end);
        self.send(now_ms, request, "schedule_list", paced)
    }

    /// Accounts for the poll (pacing, rotation) without planning the next.
    fn close_poll(&mut self) {
        if !self.doctors.is_empty() {
            self.rotation = (self.rotation + self.poll_sched) % self.doctors.len();
        }
        self.poll_sched = 0;
        if self.poll_outcome == Outcome::Ok {
            self.journal.reported.remove("throttled");
            self.journal.reported.remove("unreachable");
        }
        self.planner
            .on_response(self.poll_sent_ms, self.poll_outcome);
    }

    fn end_poll(&mut self, now_ms: i64) -> Action {
        self.close_poll();
        self.phase = Phase::Idle;
        self.tick(now_ms)
    }

    fn feed_poll(&mut self, req: Req, resp: &HttpResponse, now_ms: i64) -> Action {
        match req {
            Req::Doctors { page } => match read_doctors(resp) {
                Ok(pg) => {
                    self.forget_reports(&format!("unreadable-{DOCTOR_LIST}"));
                    let more = pg.has_more(page, DOCTOR_PAGE_SIZE) && page < MAX_DOCTOR_PAGES;
                    self.doctor_partial.extend(pg.list);
                    if more {
                        self.doctor_page = page + 1;
                    } else {
                        let all = std::mem::take(&mut self.doctor_partial);
                        let mut ids = HashSet::new();
                        self.doctors = all
                            .into_iter()
                            .filter(|d| ids.insert(d.doctor_id.clone()))
                            .filter(|d| self.doctor_wanted(d))
                            .collect();
                        self.doctors_at = Some(now_ms);
                        self.doctor_page = 1;
                        self.rotation = 0;
                        if !self.doctors.is_empty() {
                            self.journal.reported.remove("no-doctors");
                        }
                    }
                    self.next_request(now_ms)
                }
                Err(e) => self.poll_error(e, DOCTOR_LIST, now_ms),
            },
            Req::Schedules => match read_schedules(resp) {
                Ok(list) => {
                    self.forget_reports(&format!("unreadable-{SCHEDULE_LIST}"));
                    let doctor = self.current_doctor.clone();
                    match self.found(&doctor, list) {
                        Some(sched) if self.mode == Mode::Book => {
                            self.close_poll();
                            self.phase = Phase::Resources(Box::new(sched.clone()));
                            let request = self.site.resource_list(
                                &self.token,
                                &self.unit_id,
                                &sched.schedule_id,
                            );
                            self.send(now_ms, request, "resource_list", false)
                        }
                        _ => self.next_request(now_ms),
                    }
                }
                Err(e) => self.poll_error(e, SCHEDULE_LIST, now_ms),
            },
        }
    }

    fn doctor_wanted(&self, d: &Doctor) -> bool {
        let name_ok = self.doctor_names.is_empty()
            || self
                .doctor_names
                .iter()
                .any(|n| d.name.contains(n.as_str()) || n.contains(d.name.as_str()));
        let title_ok = self.titles.is_empty()
            || self.titles.iter().any(|t| {
                d.title.contains(t.as_str())
                    || (!d.title.is_empty() && t.contains(d.title.as_str()))
            });
        name_ok && title_ok
    }

    /// Whether a schedule is one the watch wants now.
    fn wanted(&self, s: &Schedule) -> bool {
        s.date >= self.window.0
            && s.date <= self.window.1
            && s.free() > 0
            && (self.periods.is_empty() || s.period.is_some_and(|p| self.periods.contains(&p)))
            && match (self.max_fee, s.fee) {
                (Some(max), Some(fee)) => fee <= max + 1e-9,
                _ => true,
            }
    }

    /// Tells the schedules newly free; returns the one to book (earliest first).
    fn found(&mut self, doctor: &str, list: Vec<Schedule>) -> Option<Schedule> {
        let mut hits: Vec<Schedule> = list.into_iter().filter(|s| self.wanted(s)).collect();
        hits.sort_by_key(|s| (s.date, period_rank(s.period)));
        let before = self.seen.remove(doctor).unwrap_or_default();
        let now: HashSet<String> = hits.iter().map(|s| s.schedule_id.clone()).collect();
        for s in &hits {
            if !before.contains(&s.schedule_id) {
                let (message, data) = self.describe(s);
                self.journal.event("slot_seen", message, data);
            }
        }
        self.seen.insert(doctor.to_string(), now);
        hits.into_iter().next()
    }

    /// Forgets the reports whose keys start with `prefix`, so they are told again.
    fn forget_reports(&mut self, prefix: &str) {
        self.journal.reported.retain(|k| !k.starts_with(prefix));
    }

    /// Forgets that a schedule was seen free, so that it is told again when it is.
    fn forget_seen(&mut self, schedule_id: &str) {
        for set in self.seen.values_mut() {
            set.remove(schedule_id);
        }
    }

    fn doctor_of(&self, id: &str) -> (String, String) {
        if let Some(d) = self.doctors.iter().find(|d| d.doctor_id == id) {
            return (d.name.clone(), d.title.clone());
        }
        if id == self.doctor_id && !self.doctor_name.is_empty() {
            return (self.doctor_name.clone(), String::new());
        }
        (format!("doctor {id}"), String::new())
    }

    /// A schedule in words and as event data.
    fn describe(&self, s: &Schedule) -> (String, Value) {
        let (doctor, title) = self.doctor_of(&s.doctor_id);
        let hospital = or_id(&self.unit_name, &self.unit_id, "hospital");
        let dept = or_id(&self.dep_name, &self.dep_id, "department");
        let fee = s
            .fee
            .map(fee_text)
            .map(|f| format!(", fee ¥{f}"))
            .unwrap_or_default();
        let message = format!(
            "{} {} {} ({} {}): {} free{}",
            s.date,
            period_words(s.period, &s.time_type),
            doctor,
            hospital,
            dept,
            s.free(),
            fee
        );
        let data = json!({
            "platform": "91160",
            "date": s.date.to_string(),
            "period": period_id(s.period, &s.time_type),
            "doctor": doctor,
            "title": if title.is_empty() { s.level_name.clone() } else { title },
            "hospital": hospital,
            "department": dept,
            "free": s.free(),
            "fee": s.fee,
            "schedule_id": s.schedule_id,
            "doctor_id": s.doctor_id,
        });
        (message, data)
    }

    /// A failed request of a poll.
    fn poll_error(&mut self, e: SiteError, endpoint: &str, now_ms: i64) -> Action {
        match e {
            SiteError::TokenRejected(msg) => {
                self.close_poll();
                self.logged_out(&msg)
            }
            SiteError::Throttled => {
                self.poll_outcome = Outcome::Throttled;
                self.journal.report_once(
                    "throttled",
                    "throttled",
                    "91160 turned the request away (too many requests, or the server is struggling); the watch slows down".into(),
                );
                self.end_poll(now_ms)
            }
            SiteError::Unreadable(ref what) => {
                // Once per kind of breakage (not per excerpt of a broken body).
                let kind = what.split("; it begins").next().unwrap_or(what);
                self.journal.report_once(
                    &format!("unreadable-{endpoint}: {kind}"),
                    "site_changed",
                    format!("{e}; the site may have changed — the watch keeps trying"),
                );
                self.next_request(now_ms)
            }
            SiteError::Refused { ref code, ref msg } => {
                let gone = match code.as_str() {
                    "30001" => Some("hospital"),
                    "30002" => Some("department"),
                    "30003" if !self.doctor_id.is_empty() => Some("doctor"),
                    _ => None,
                };
                if let Some(what) = gone {
                    let m = format!(
                        "91160 says the watch's {what} does not exist ({code}: {msg}); the watch stopped — change it and it starts again"
                    );
                    self.journal
                        .event("error", m.clone(), json!({"code": code}));
                    self.close_poll();
                    return self.stop(m);
                }
                if code == "30003" {
                    // A doctor of the list left the department: read the list again.
                    let gone = self.current_doctor.clone();
                    self.doctors.retain(|d| d.doctor_id != gone);
                    self.doctors_at = None;
                }
                self.journal.report_once(
                    &format!("refused-{code}"),
                    "site_refused",
                    format!("{e}; the watch keeps trying"),
                );
                self.next_request(now_ms)
            }
            SiteError::SoldOut(_) => self.next_request(now_ms),
        }
    }

    fn logged_out(&mut self, msg: &str) -> Action {
        let message = format!(
            "the 91160 appToken was rejected: {msg} — only the platform can renew it; update it in Haoyuan and the watch goes on"
        );
        self.journal
            .event("session_expired", message.clone(), Value::Null);
        self.phase = Phase::LoggedOut(message.clone());
        Action::NeedLogin { message }
    }

    fn back_to_polling(&mut self, now_ms: i64) -> Action {
        self.phase = Phase::Idle;
        self.tick(now_ms)
    }

    fn feed_resources(&mut self, sched: Schedule, resp: &HttpResponse, now_ms: i64) -> Action {
        match read_resources(resp) {
            Ok(list) => {
                let Some(res) = list.into_iter().find(|r| r.free() > 0) else {
                    let (what, _) = self.describe(&sched);
                    self.journal.event(
                        "slot_gone",
                        format!("the numbers were taken before one could be booked ({what}); still watching"),
                        json!({"schedule_id": sched.schedule_id, "date": sched.date.to_string()}),
                    );
                    // Told again when it comes back.
                    self.forget_seen(&sched.schedule_id);
                    return self.back_to_polling(now_ms);
                };
                let data = self.intent_data(&sched, &res);
                self.phase = Phase::Intent(Box::new(Pick {
                    sched,
                    res,
                    data: data.clone(),
                }));
                Action::RecordIntent { data }
            }
            Err(SiteError::TokenRejected(msg)) => self.logged_out(&msg),
            Err(SiteError::Throttled) => {
                self.planner.on_response(self.sent_ms, Outcome::Throttled);
                self.journal.report_once(
                    "throttled",
                    "throttled",
                    "91160 turned the request away (too many requests, or the server is struggling); the watch slows down".into(),
                );
                self.back_to_polling(now_ms)
            }
            Err(e @ SiteError::Unreadable(_)) => {
                self.journal.report_once(
                    "unreadable-resourceList",
                    "site_changed",
                    format!("{e}; the site may have changed — the watch keeps trying"),
                );
                self.back_to_polling(now_ms)
            }
            Err(e) => {
                self.journal.event(
                    "site_refused",
                    format!("{e}; the slot could not be read, still watching"),
                    Value::Null,
                );
                self.back_to_polling(now_ms)
            }
        }
    }

    fn intent_data(&self, s: &Schedule, r: &Resource) -> Value {
        let (_, mut d) = self.describe(s);
        d["resource_id"] = json!(r.resource_id);
        d["unit_id"] = json!(self.unit_id);
        d["dep_id"] = json!(self.dep_id);
        d["time"] = json!(r.time_range());
        if let Some(f) = r.fee.or(s.fee) {
            d["fee"] = json!(f);
        }
        if let Some(p) = &self.patient {
            d["patient"] = json!(mask_name(&p.name));
            d["patient_card"] = json!(mask_id(&p.id_number));
        }
        d
    }

    fn booked_data(&self, pick: &Pick, ok: &super::site::OrderOk) -> Value {
        let mut d = pick.data.clone();
        d["orderId"] = json!(ok.order_id);
        d["order_id"] = json!(ok.order_id);
        d["hisTakeNo"] = json!(ok.his_take_no);
        d
    }

    fn unknown(&mut self, pick: &Pick, why: &str) -> Action {
        let message = format!(
            "the order for {} {} was sent but {why}; it may or may not have been made. The 91160 open platform has no order list to check it against, so the watch will not order again — check your 91160 orders",
            pick.sched.date,
            period_words(pick.sched.period, &pick.sched.time_type)
        );
        self.journal.end_intent(
            "outcome_unknown",
            "unknown",
            message.clone(),
            pick.data.clone(),
        );
        self.stop(message)
    }

    fn feed_order(&mut self, pick: Pick, resp: &HttpResponse, now_ms: i64) -> Action {
        let result = read_order(resp);
        match result {
            Ok(ok) => {
                let (what, _) = self.describe(&pick.sched);
                let time = pick.res.time_range();
                let message = format!(
                    "booked on 91160: {what}{}; order {}{}",
                    if time.is_empty() {
                        String::new()
                    } else {
                        format!(", {time}")
                    },
                    ok.order_id,
                    if ok.his_take_no.is_empty() {
                        String::new()
                    } else {
                        format!(", take-number code {}", ok.his_take_no)
                    }
                );
                let data = self.booked_data(&pick, &ok);
                self.journal
                    .end_intent("booked", "booked", message.clone(), data);
                self.stop(message)
            }
            Err(SiteError::SoldOut(msg)) => {
                let message = format!(
                    "the number was taken by someone else first, it is no longer free (91160: {msg}); no order was made — still watching"
                );
                self.journal
                    .end_intent("booking_failed", "failed", message, pick.data.clone());
                self.forget_seen(&pick.sched.schedule_id);
                self.back_to_polling(now_ms)
            }
            Err(SiteError::TokenRejected(msg)) => {
                self.journal.end_intent(
                    "booking_failed",
                    "failed",
                    format!("the 91160 appToken was rejected before the order was taken ({msg}); no order was made"),
                    pick.data.clone(),
                );
                self.logged_out(&msg)
            }
            Err(SiteError::Throttled) if resp.status >= 500 => {
                self.unknown(&pick, &format!("91160 answered HTTP {}", resp.status))
            }
            Err(SiteError::Throttled) => {
                self.journal.end_intent(
                    "booking_failed",
                    "failed",
                    "91160 turned the order away (too many requests); no order was made — still watching, more slowly".into(),
                    pick.data.clone(),
                );
                self.planner.on_response(self.sent_ms, Outcome::Throttled);
                self.back_to_polling(now_ms)
            }
            Err(SiteError::Unreadable(w)) => {
                self.unknown(&pick, &format!("its reply could not be read ({w})"))
            }
            Err(SiteError::Refused { code, msg }) => {
                let again = matches!(code.as_str(), "40004" | "30004" | "30005");
                let message = match code.as_str() {
                    "40002" => format!(
                        "91160 says this patient already has a booking for this session ({code}: {msg}); no new order was made"
                    ),
                    _ => format!("91160 refused the order ({code}: {msg}); no order was made"),
                };
                if again {
                    self.journal.end_intent(
                        "booking_failed",
                        "failed",
                        format!("{message} — still watching"),
                        pick.data.clone(),
                    );
                    self.back_to_polling(now_ms)
                } else {
                    self.journal.end_intent(
                        "booking_failed",
                        "failed",
                        message.clone(),
                        pick.data.clone(),
                    );
                    self.stop(format!(
                        "{message}; the watch stopped — change it (or the patient) and it starts again"
                    ))
                }
            }
        }
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
            Phase::LoggedOut(m) => return Action::NeedLogin { message: m.clone() },
            Phase::Reconcile(data) => {
                let data = data.clone();
                let message = "an order was being sent when Haoyuan stopped, and its reply never came; it may or may not have been made. The 91160 open platform has no order list to check it against, so the watch will not order again — check your 91160 orders".to_string();
                self.journal
                    .end_intent("outcome_unknown", "unknown", message.clone(), data);
                return self.stop(message);
            }
            // Waiting for a reply or for the host: nothing new to do.
            Phase::Polling(_) | Phase::Resources(_) | Phase::Intent(_) | Phase::Ordering(_) => {
                return Action::Wait {
                    at_ms: now_ms + 1_000,
                }
            }
            Phase::Idle => {}
        }
        self.update_release(now_ms);
        let unit = crate::platforms::unit(&mut self.rng);
        match crate::platforms::next_poll(&mut self.planner, &self.clock, now_ms, unit) {
            crate::platforms::NextPoll::Stop(m) => {
                self.journal.event("stopped", m, Value::Null);
                self.stop(m.into())
            }
            crate::platforms::NextPoll::Wait(at_ms) => Action::Wait { at_ms },
            crate::platforms::NextPoll::Poll => self.start_poll(now_ms),
        }
    }

    /// A reply to the request last handed out.
    fn feed(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        let _ = self.clock.observe_response(self.sent_ms, now_ms, resp);
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Polling(req) => self.feed_poll(req, resp, now_ms),
            Phase::Resources(sched) => self.feed_resources(*sched, resp, now_ms),
            Phase::Ordering(pick) => self.feed_order(*pick, resp, now_ms),
            other => {
                // A reply nobody waits for: ignore it.
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// No reply to the request last handed out.
    fn no_response(&mut self, error: &str, now_ms: i64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Ordering(pick) => self.unknown(&pick, &format!("no reply came ({error})")),
            Phase::Polling(_) => {
                self.poll_outcome = Outcome::Failed;
                self.journal.report_once(
                    "unreachable",
                    "site_unreachable",
                    format!("91160 could not be reached ({error}); the watch keeps trying"),
                );
                self.end_poll(now_ms)
            }
            Phase::Resources(_) => {
                self.planner.on_response(self.sent_ms, Outcome::Failed);
                self.back_to_polling(now_ms)
            }
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// The host recorded the intent (`intent_id`): the order goes.
    fn intent_recorded(&mut self, intent_id: &str, now_ms: i64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Intent(pick) => {
                let Some(patient) = self.patient.as_ref() else {
                    return self.stop("no patient to book for".into());
                };
                self.journal.intent_id = Some(intent_id.to_string());
                let doctor = if pick.sched.doctor_id.is_empty() {
                    self.doctor_id.clone()
                } else {
                    pick.sched.doctor_id.clone()
                };
                let body = order_body(
                    &self.token,
                    &self.unit_id,
                    &self.dep_id,
                    &doctor,
                    &pick.res.resource_id,
                    patient,
                );
                let request = self.site.order(&body);
                self.phase = Phase::Ordering(pick);
                self.send(now_ms, request, "order", false)
            }
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// The host refused the intent: nothing is ordered.
    fn intent_refused(&mut self, message: &str, now_ms: i64) -> Action {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Intent(_) => {
                let m = format!(
                    "the booking could not be recorded ({message}), so nothing was ordered; the watch stopped"
                );
                self.journal.event("error", m.clone(), Value::Null);
                self.stop(m)
            }
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }
    fn answer(&mut self, _answer: &CaptchaAnswer, now_ms: i64) -> Action {
        Watcher::tick(self, now_ms)
    }
    fn no_answer(&mut self, now_ms: i64) -> Action {
        Watcher::tick(self, now_ms)
    }

    /// A new appToken (or `None`: try the same one again) after [`Action::NeedLogin`].
    fn resume(&mut self, credential: Option<&str>, now_ms: i64) -> Action {
        if let Some(t) = credential.map(str::trim).filter(|t| !t.is_empty()) {
            self.token = t.to_string();
        }
        if matches!(self.phase, Phase::LoggedOut(_)) {
            self.phase = Phase::Idle;
            self.journal.event(
                "session_restored",
                "the 91160 appToken is set again; watching resumes",
                Value::Null,
            );
            return self.start_poll(now_ms);
        }
        self.tick(now_ms)
    }

    /// Events to record, oldest first.
    fn take_events(&mut self) -> Vec<Event> {
        self.journal.take()
    }
}

fn clean(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn or_id(name: &str, id: &str, what: &str) -> String {
    if name.trim().is_empty() {
        format!("{what} {id}")
    } else {
        name.trim().to_string()
    }
}

fn period_rank(p: Option<Period>) -> u8 {
    match p {
        Some(Period::Morning) => 0,
        Some(Period::Afternoon) => 1,
        Some(Period::Evening) => 2,
        None => 3,
    }
}

fn period_id(p: Option<Period>, raw: &str) -> String {
    match p {
        Some(Period::Morning) => "morning".into(),
        Some(Period::Afternoon) => "afternoon".into(),
        Some(Period::Evening) => "evening".into(),
        None => raw.to_string(),
    }
}

fn period_words(p: Option<Period>, raw: &str) -> String {
    match p {
        Some(Period::Morning) => "上午 morning".into(),
        Some(Period::Afternoon) => "下午 afternoon".into(),
        Some(Period::Evening) => "晚上 evening".into(),
        None => raw.to_string(),
    }
}

fn fee_text(f: f64) -> String {
    if (f - f.round()).abs() < 1e-9 {
        format!("{f:.0}")
    } else {
        format!("{f:.2}")
    }
}
