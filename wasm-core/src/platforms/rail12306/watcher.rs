//! One 12306 watch at run time, as a sans-IO machine the host's runner drives (the
//! runner sends requests with the account's cookie jar, sleeps, records intents and
//! events, relays captchas).
//!
//! - **When**: a [`Planner`] (floor + jitter, backoff on 403/429/5xx and "too
//!   frequent", stop after the window) on the server's clock ([`ServerClock`] from every
//!   reply's `Date`). When a matching train is not on sale yet its row says when
//!   (`12月01日08:00起售`); with `sale_burst` the planner bursts (bounded) at that instant.
//! - **What**: one poll queries the (date, station pair)s of the watch that lie in the
//!   pre-sale period — at most [`MAX_QUERIES_PER_POLL`], the rest in turn at the next
//!   polls — at the endpoint `leftTicket/init` names (`login/conf` as a
//!   fallback), following `c_url` moves. Rows are filtered by train, departure window
//!   and seat preference; passengers must all fit unless `allow_fewer`.
//! - **Found**: `slot_seen` once per (date, train, seat); in `book` mode the [`Order`]
//!   machine starts at once with the row in hand.
//! - **Once**: the order is sent only after [`Watcher::intent_recorded`]; a watch that
//!   starts with an unfinished intent reconciles with the account's unfinished orders
//!   instead of ordering ([`super::order::reconcile`]).
//! - **Session loss**: `session_expired` and [`Action::NeedLogin`] until
//!   [`Watcher::resume`].

use super::order::{reconcile, Order, OrderEnd, OrderPlan, OrderStep, Reconciled};
use super::query::{
    endpoint_from_init_page, parse_query_reply, QueryReply, Seat, SeatKind, TrainRow,
};
use super::site::{read_otn, Otn, Site};
use crate::clock::ServerClock;
use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::platforms::{Driver, Event, Journal};
use crate::protocol::{BookingIntent, BookingState, CaptchaAnswer};
use crate::schedule::{Outcome, Planner, ReleaseRule};
use crate::watch::{minutes_of_hhmm, Mode, Platform, Target, Watch};
use serde_json::{json, Value};
use std::collections::HashSet;

/// `c_url` moves followed in a row before the poll gives up.
const MAX_MOVES: u32 = 3;
/// Queries one poll sends at most (dates × station pairs beyond this are taken in turn
/// by the following polls), so a watch of many days never sends a flood.
pub const MAX_QUERIES_PER_POLL: usize = 4;

/// Knobs of the runner (defaults are the real site's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Days from today (Beijing) that can be queried.
    pub presale_days: u32,
    pub queue_poll_ms: u64,
    pub queue_max_polls: u32,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            presale_days: 15,
            queue_poll_ms: super::order::QUEUE_POLL_MS,
            queue_max_polls: super::order::QUEUE_MAX_POLLS,
        }
    }
}

pub use crate::platforms::Action;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Query {
    Init,
    Conf,
    Rows,
}

enum Phase {
    Idle,
    Polling(Query),
    Ordering(Box<Order>),
    Reconciling { train: String, date: String },
    LoggedOut,
    Stopped(String),
}

/// A bookable (date, train, seat).
#[derive(Clone, Debug)]
struct Candidate {
    date: Date,
    row: TrainRow,
    seat: &'static str,
    count: usize,
}

/// The order seat codes in the default preference, with the cell each reads.
const SEATS: [(&str, SeatKind); 8] = [
    ("O", SeatKind::Second),
    ("M", SeatKind::First),
    ("9", SeatKind::Business),
    ("P", SeatKind::Premium),
    ("3", SeatKind::HardSleeper),
    ("4", SeatKind::SoftSleeper),
    ("1", SeatKind::HardSeat),
    ("2", SeatKind::SoftSeat),
];

/// One watch of platform 12306.
pub struct Watcher {
    watch_id: String,
    mode: Mode,
    site: Site,
    tuning: Tuning,
    planner: Planner,
    clock: ServerClock,
    endpoint: Option<String>,
    moves: u32,
    window: (Date, Date),
    dates: Vec<Date>,
    pairs: Vec<(String, String)>,
    names: Vec<(String, String)>,
    trains: Vec<String>,
    exclude: Vec<String>,
    after: Option<u32>,
    before: Option<u32>,
    seats: Vec<&'static str>,
    passengers: Vec<String>,
    allow_fewer: bool,
    sale_burst: bool,
    /// This poll's queries left, and the current one.
    queue: Vec<(Date, String, String)>,
    current: Option<(Date, String, String)>,
    poll_sent_ms: i64,
    poll_outcome: Outcome,
    /// Where the next poll starts in the list of queries when it is longer than
    /// [`MAX_QUERIES_PER_POLL`].
    rotation: usize,
    sent_ms: i64,
    found: Vec<Candidate>,
    seen: HashSet<String>,
    phase: Phase,
    /// Events, once-only reports and the open intent.
    journal: Journal,
    rng: u64,
}

/// Why a watch cannot be run here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAWatch(pub String);

impl Watcher {
    /// A watcher for `watch`; `intent` is the watch's blocking booking intent, if any
    /// (from the store), so that a restarted host never orders twice.
    pub fn new(
        watch: &Watch,
        site: Site,
        tuning: Tuning,
        intent: Option<&BookingIntent>,
        seed: u64,
    ) -> Result<Watcher, NotAWatch> {
        let Target::Rail12306 {
            from_station,
            to_station,
            trains,
            seat_types,
            from_name,
            to_name,
            more_pairs,
            dates,
            exclude_trains,
            depart_after,
            depart_before,
            passengers,
            allow_fewer,
            sale_burst,
            ..
        } = &watch.target
        else {
            return Err(NotAWatch("not a 12306 watch".into()));
        };
        let mut pairs = vec![(from_station.clone(), to_station.clone())];
        pairs.extend(more_pairs.iter().map(|p| (p.from.clone(), p.to.clone())));
        let mut names = Vec::new();
        if !from_name.is_empty() {
            names.push((from_station.clone(), from_name.clone()));
        }
        if !to_name.is_empty() {
            names.push((to_station.clone(), to_name.clone()));
        }
        let seats = if seat_types.is_empty() {
            SEATS.iter().map(|(c, _)| *c).collect()
        } else {
            seat_types
                .iter()
                .filter_map(|s| SEATS.iter().find(|(c, _)| c == s).map(|(c, _)| *c))
                .collect()
        };
        let mut w = Watcher {
            watch_id: watch.id.clone(),
            mode: watch.mode,
            site,
            tuning,
            planner: Planner::new(Platform::Rail12306, watch.interval, None, watch.window.end),
            clock: ServerClock::new(),
            endpoint: None,
            moves: 0,
            window: (watch.window.start, watch.window.end),
            dates: dates.iter().filter_map(|d| Date::parse(d).ok()).collect(),
            pairs,
            names,
            trains: trains.iter().map(|t| t.trim().to_uppercase()).collect(),
            exclude: exclude_trains
                .iter()
                .map(|t| t.trim().to_uppercase())
                .collect(),
            after: minutes_of_hhmm(depart_after),
            before: minutes_of_hhmm(depart_before),
            seats,
            passengers: passengers.clone(),
            allow_fewer: *allow_fewer,
            sale_burst: *sale_burst,
            queue: Vec::new(),
            current: None,
            poll_sent_ms: 0,
            poll_outcome: Outcome::Ok,
            rotation: 0,
            sent_ms: 0,
            found: Vec::new(),
            seen: HashSet::new(),
            phase: Phase::Idle,
            journal: Journal::default(),
            rng: seed | 1,
        };
        if let Some(i) = intent {
            w.journal.intent_id = Some(i.id.clone());
            match i.state {
                BookingState::Booked => {
                    w.phase = Phase::Stopped("this watch has booked its ticket".into())
                }
                BookingState::Unknown => {
                    w.phase = Phase::Stopped(
                        "an earlier order's outcome is unknown — check your unpaid orders on 12306; the watch will not order again".into(),
                    )
                }
                BookingState::Submitted => {
                    let s = |k: &str| i.data.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    w.phase = Phase::Reconciling {
                        train: s("train"),
                        date: s("date"),
                    };
                }
                BookingState::Failed => w.journal.intent_id = None,
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

    /// The (date, from, to) queries of one poll.
    fn queries(&self, now_ms: i64) -> Vec<(Date, String, String)> {
        let today = self.clock.beijing_today(now_ms);
        let last = Date::from_days(today.to_days() + i64::from(self.tuning.presale_days) - 1);
        let dates: Vec<Date> = if self.dates.is_empty() {
            let (a, b) = self.window;
            (a.to_days().max(today.to_days())..=b.to_days().min(last.to_days()))
                .map(Date::from_days)
                .collect()
        } else {
            self.dates
                .iter()
                .copied()
                .filter(|d| *d >= today && *d <= last)
                .collect()
        };
        let mut all = Vec::new();
        for d in dates {
            for (f, t) in &self.pairs {
                all.push((d, f.clone(), t.clone()));
            }
        }
        let mut q: Vec<_> = if all.len() > MAX_QUERIES_PER_POLL {
            let start = self.rotation % all.len();
            (0..MAX_QUERIES_PER_POLL)
                .map(|i| all[(start + i) % all.len()].clone())
                .collect()
        } else {
            all
        };
        q.reverse(); // popped from the end: earliest first
        q
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

    fn start_poll(&mut self, now_ms: i64) -> Action {
        self.queue = self.queries(now_ms);
        self.rotation = self.rotation.wrapping_add(MAX_QUERIES_PER_POLL);
        self.found.clear();
        self.poll_outcome = Outcome::Ok;
        self.poll_sent_ms = now_ms;
        if self.queue.is_empty() {
            // Nothing to ask yet (dates beyond the pre-sale period): count it as a poll.
            self.planner.on_response(now_ms, Outcome::Ok);
            self.journal.report_once(
                "nothing-in-presale",
                "waiting",
                format!(
                    "none of the watch's dates can be booked yet (12306 sells {} days ahead); the watch waits",
                    self.tuning.presale_days
                ),
            );
            return self.tick(now_ms + 1);
        }
        if self.endpoint.is_none() {
            self.phase = Phase::Polling(Query::Init);
            let req = self.site.left_ticket_init();
            return self.send(now_ms, req, "left_ticket_init", true);
        }
        self.next_query(now_ms, true)
    }

    fn next_query(&mut self, now_ms: i64, paced: bool) -> Action {
        let Some(q) = self.queue.pop() else {
            return self.end_poll(now_ms);
        };
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| "leftTicket/query".into());
        let req = self.site.query(&endpoint, q.0, &q.1, &q.2);
        self.current = Some(q);
        self.phase = Phase::Polling(Query::Rows);
        self.send(now_ms, req, "query", paced)
    }

    fn end_poll(&mut self, now_ms: i64) -> Action {
        self.planner
            .on_response(self.poll_sent_ms, self.poll_outcome);
        self.phase = Phase::Idle;
        let found = std::mem::take(&mut self.found);
        if found.is_empty() {
            return self.tick(now_ms);
        }
        for c in &found {
            let key = format!("{}|{}|{}", c.date, c.row.train_code, c.seat);
            if self.seen.insert(key) {
                let (from, to) = (self.name_of(&c.row.from), self.name_of(&c.row.to));
                self.journal.event(
                    "slot_seen",
                    format!(
                        "{} {} {}→{} {}–{}: {} available ({})",
                        c.date,
                        c.row.train_code,
                        from,
                        to,
                        c.row.depart,
                        c.row.arrive,
                        seat_name(c.seat),
                        match c.row.seat(seat_kind(c.seat)) {
                            Seat::Count(n) => format!("{n} left"),
                            _ => "有".into(),
                        }
                    ),
                    json!({"date": c.date.to_string(), "train": c.row.train_code, "seat": c.seat,
                           "from": c.row.from, "to": c.row.to, "depart": c.row.depart}),
                );
            }
        }
        if self.mode != Mode::Book {
            return self.tick(now_ms);
        }
        let c = found[0].clone();
        let plan = OrderPlan {
            date: c.date,
            today: self.clock.beijing_today(now_ms),
            from_name: self.name_of(&c.row.from),
            to_name: self.name_of(&c.row.to),
            row: c.row,
            seat: c.seat.to_string(),
            passengers: self.passengers.clone(),
            count: c.count,
            queue_poll_ms: self.tuning.queue_poll_ms,
            queue_max_polls: self.tuning.queue_max_polls,
        };
        let seed = self.rng;
        let (order, step) = Order::start(self.site.clone(), plan, seed);
        self.phase = Phase::Ordering(Box::new(order));
        self.order_step(now_ms, step)
    }

    fn name_of(&self, telecode: &str) -> String {
        self.names
            .iter()
            .find(|(c, _)| c == telecode)
            .map_or_else(|| telecode.to_string(), |(_, n)| n.clone())
    }

    /// Rows of one reply that the watch wants, best first.
    fn matches(&self, date: Date, rows: &[TrainRow]) -> (Vec<Candidate>, Option<i64>) {
        let want = self.passengers.len().max(1);
        let mut out = Vec::new();
        let mut sale: Option<i64> = None;
        for row in rows {
            let code = row.train_code.to_uppercase();
            if !self.trains.is_empty() && !self.trains.contains(&code) {
                continue;
            }
            if self.exclude.contains(&code) {
                continue;
            }
            let dep = minutes_of_hhmm(&row.depart);
            if let (Some(a), Some(d)) = (self.after, dep) {
                if d < a {
                    continue;
                }
            }
            if let (Some(b), Some(d)) = (self.before, dep) {
                if d > b {
                    continue;
                }
            }
            if !row.on_sale() {
                if let Some(t) = sale_time(&row.button_text, date) {
                    sale = Some(sale.map_or(t, |s: i64| s.min(t)));
                }
                continue;
            }
            for &seat in &self.seats {
                let cell = row.seat(seat_kind(seat));
                let n = match cell {
                    Seat::Count(n) => *n as usize,
                    Seat::Plenty => usize::MAX,
                    _ => 0,
                };
                if n >= want || (self.allow_fewer && n > 0) {
                    out.push(Candidate {
                        date,
                        row: row.clone(),
                        seat,
                        count: n.min(want),
                    });
                    break;
                }
            }
        }
        // Seat preference first, then the site's order (departure time).
        out.sort_by_key(|c| self.seats.iter().position(|s| *s == c.seat));
        (out, sale)
    }

    fn logged_out(&mut self, during_order: bool) -> Action {
        let message = if during_order {
            "the 12306 session ended before the order was taken; no order was made — sign in again and the watch goes on"
        } else {
            "the 12306 session has ended; sign in again and the watch goes on"
        };
        self.journal.event("session_expired", message, Value::Null);
        if !matches!(self.phase, Phase::Reconciling { .. }) {
            self.phase = Phase::LoggedOut;
        }
        Action::NeedLogin {
            message: message.into(),
        }
    }

    fn feed_poll(&mut self, q: Query, resp: &HttpResponse, now_ms: i64) -> Action {
        if resp.status == 403
            || resp.status == 429
            || resp.status >= 500
            || String::from_utf8_lossy(&resp.body).contains("过于频繁")
        {
            self.poll_outcome = Outcome::Throttled;
            self.journal.report_once(
                &format!("throttled-{}", self.planner.attempt()),
                "throttled",
                format!(
                    "12306 turned the query away (HTTP {}); the watch slows down",
                    resp.status
                ),
            );
            self.queue.clear();
            return self.end_poll(now_ms);
        }
        match q {
            Query::Init => {
                let html = String::from_utf8_lossy(&resp.body);
                match endpoint_from_init_page(&html) {
                    Some(e) => {
                        self.endpoint = Some(e);
                        self.next_query(now_ms, false)
                    }
                    None => {
                        self.phase = Phase::Polling(Query::Conf);
                        let req = self.site.login_conf();
                        self.send(now_ms, req, "login_conf", false)
                    }
                }
            }
            Query::Conf => {
                let endpoint = match read_otn(resp) {
                    Otn::Ok(d) => d
                        .get("queryUrl")
                        .and_then(Value::as_str)
                        .filter(|u| u.starts_with("leftTicket/"))
                        .map(str::to_string),
                    _ => None,
                };
                match endpoint {
                    Some(e) => {
                        self.endpoint = Some(e);
                        self.next_query(now_ms, false)
                    }
                    None => {
                        self.poll_outcome = Outcome::Failed;
                        self.journal.report_once(
                            "no-endpoint",
                            "site_changed",
                            "12306's query page names no query endpoint (CLeftTicketUrl / queryUrl); the site changed — the watch keeps trying".into(),
                        );
                        self.queue.clear();
                        self.end_poll(now_ms)
                    }
                }
            }
            Query::Rows => {
                let Some(current) = self.current.clone() else {
                    return self.end_poll(now_ms);
                };
                match parse_query_reply(&resp.body) {
                    Ok(QueryReply::Moved { endpoint }) => {
                        self.moves += 1;
                        let from = self.endpoint.replace(endpoint.clone()).unwrap_or_default();
                        self.journal.event(
                            "query_moved",
                            format!("12306 moved its query from {from} to {endpoint}; following"),
                            json!({"from": from, "to": endpoint}),
                        );
                        if self.moves > MAX_MOVES {
                            self.moves = 0;
                            self.endpoint = None;
                            self.poll_outcome = Outcome::Failed;
                            self.queue.clear();
                            return self.end_poll(now_ms);
                        }
                        self.queue.push(current);
                        self.next_query(now_ms, false)
                    }
                    Ok(QueryReply::Refused { message }) => {
                        self.moves = 0;
                        self.journal.report_once(
                            &format!("refused-{message}"),
                            "site_refused",
                            format!("12306 refused the query: {message}"),
                        );
                        self.next_query(now_ms, false)
                    }
                    Ok(QueryReply::Trains {
                        rows,
                        names,
                        bad_rows,
                    }) => {
                        self.moves = 0;
                        for (code, name) in names {
                            if !self.names.iter().any(|(c, _)| *c == code) {
                                self.names.push((code, name));
                            }
                        }
                        if let Some(first) = bad_rows.first() {
                            self.journal.report_once(
                                "bad-rows",
                                "site_changed",
                                format!("{} of 12306's rows could not be read and were skipped: {first}", bad_rows.len()),
                            );
                        }
                        let (found, sale) = self.matches(current.0, &rows);
                        if let Some(t) = sale {
                            let (server, _) = self.clock.server_now(now_ms);
                            if self.sale_burst && t > server {
                                self.planner
                                    .set_release(Some(ReleaseRule::At { server_ms: t }));
                            }
                        }
                        self.found.extend(found);
                        self.next_query(now_ms, false)
                    }
                    Err(e) => {
                        self.moves = 0;
                        self.journal.report_once(
                            "unreadable",
                            "site_changed",
                            format!("{e}; the watch keeps trying"),
                        );
                        self.next_query(now_ms, false)
                    }
                }
            }
        }
    }

    fn with_order(&mut self, now_ms: i64, f: impl FnOnce(&mut Order) -> OrderStep) -> Action {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        match phase {
            Phase::Ordering(mut order) => {
                let step = f(&mut order);
                self.phase = Phase::Ordering(order);
                self.order_step(now_ms, step)
            }
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    fn order_step(&mut self, now_ms: i64, step: OrderStep) -> Action {
        match step {
            OrderStep::Send { request, purpose } => self.send(now_ms, request, purpose, false),
            OrderStep::Wait { ms } => Action::Wait {
                at_ms: now_ms + ms as i64,
            },
            OrderStep::Captcha { png, message } => Action::AskCaptcha { png, message },
            OrderStep::RecordIntent { data } => Action::RecordIntent { data },
            OrderStep::Done(end) => {
                let plan = match std::mem::replace(&mut self.phase, Phase::Idle) {
                    Phase::Ordering(o) => Some(o.plan().clone()),
                    _ => None,
                };
                let data = plan.as_ref().map_or(Value::Null, |p| {
                    json!({"date": p.date.to_string(), "train": p.row.train_code, "seat": p.seat})
                });
                match end {
                    OrderEnd::Booked {
                        order_id,
                        message,
                        pay_by_ms,
                    } => {
                        let mut d = data;
                        d["order_id"] = json!(order_id);
                        add_deadline(&mut d, pay_by_ms);
                        self.journal
                            .end_intent("booked", "booked", message.clone(), d);
                        self.stop(message)
                    }
                    OrderEnd::Unknown { message } => {
                        self.journal.end_intent(
                            "outcome_unknown",
                            "unknown",
                            message.clone(),
                            data,
                        );
                        self.stop(message)
                    }
                    OrderEnd::NotMade {
                        message,
                        retry,
                        intent,
                    } => {
                        if intent {
                            self.journal.end_intent(
                                "booking_failed",
                                "failed",
                                message.clone(),
                                data,
                            );
                        } else if retry {
                            self.journal.event("order_missed", message.clone(), data);
                        } else {
                            self.journal.event("booking_failed", message.clone(), data);
                        }
                        if retry {
                            self.tick(now_ms)
                        } else {
                            self.stop(format!(
                                "{message}; the watch stopped — change it and it starts again"
                            ))
                        }
                    }
                    OrderEnd::SessionExpired { intent } => {
                        if intent {
                            self.journal.end_intent(
                                "booking_failed",
                                "failed",
                                "the 12306 session ended before the order was taken; no order was made".into(),
                                data,
                            );
                        }
                        self.logged_out(true)
                    }
                    OrderEnd::Blocked { message } => self.stop(format!(
                        "this watch already has an order ({message}); it will not order again"
                    )),
                }
            }
        }
    }
}

/// The payment deadline in a `booked` event's data: `pay_by_ms` for programs and
/// `pay_deadline` (Beijing time) for the notification's "pay by" line.
fn add_deadline(data: &mut Value, pay_by_ms: i64) {
    if pay_by_ms > 0 {
        data["pay_by_ms"] = json!(pay_by_ms);
        data["pay_deadline"] = json!(format!(
            "{} (北京时间 Beijing time) — 在 12306 支付 / pay on 12306",
            crate::notify::render::beijing_time(pay_by_ms)
        ));
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
            Phase::Stopped(m) => {
                return Action::Stopped { message: m.clone() };
            }
            Phase::LoggedOut => {
                return Action::NeedLogin {
                    message: "the 12306 session has ended; sign in again".into(),
                }
            }
            Phase::Reconciling { .. } => {
                let req = self.site.no_complete();
                return self.send(now_ms, req, "query_my_order_no_complete", true);
            }
            Phase::Ordering(_) => return self.with_order(now_ms, |o| o.tick(now_ms)),
            Phase::Polling(_) | Phase::Idle => {}
        }
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

    /// A response to the request last handed out; `sent_ms`/`now_ms` local times.
    fn feed(&mut self, resp: &HttpResponse, now_ms: i64) -> Action {
        let _ = self.clock.observe_response(self.sent_ms, now_ms, resp);
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        match phase {
            Phase::Polling(q) => self.feed_poll(q, resp, now_ms),
            Phase::Ordering(mut order) => {
                let (server, _) = self.clock.server_now(now_ms);
                let step = order.feed(resp, server);
                self.phase = Phase::Ordering(order);
                self.order_step(now_ms, step)
            }
            Phase::Reconciling { train, date } => match reconcile(resp, &train, &date) {
                Reconciled::Booked {
                    order_id,
                    message,
                    pay_by_ms,
                } => {
                    let mut d = json!({"order_id": order_id, "train": train, "date": date});
                    add_deadline(&mut d, pay_by_ms);
                    self.journal
                        .end_intent("booked", "booked", message.clone(), d);
                    self.stop(message)
                }
                Reconciled::Unknown { message } => {
                    self.journal.end_intent(
                        "outcome_unknown",
                        "unknown",
                        message.clone(),
                        json!({"train": train, "date": date}),
                    );
                    self.stop(message)
                }
                Reconciled::NotLoggedIn => {
                    self.phase = Phase::Reconciling { train, date };
                    self.logged_out(false)
                }
            },
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// No response to the request last handed out.
    fn no_response(&mut self, error: &str, now_ms: i64) -> Action {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        match phase {
            Phase::Ordering(mut order) => {
                let step = order.no_response(error);
                self.phase = Phase::Ordering(order);
                self.order_step(now_ms, step)
            }
            Phase::Reconciling { train, date } => {
                self.phase = Phase::Reconciling { train, date };
                Action::Wait {
                    at_ms: now_ms + 10_000,
                }
            }
            Phase::Polling(_) => {
                self.poll_outcome = Outcome::Failed;
                self.journal.report_once(
                    "no-response",
                    "site_unreachable",
                    format!("12306 could not be reached ({error}); the watch keeps trying"),
                );
                self.queue.clear();
                self.end_poll(now_ms)
            }
            other => {
                self.phase = other;
                self.tick(now_ms)
            }
        }
    }

    /// The host recorded the intent (`intent_id`): the order goes.
    fn intent_recorded(&mut self, intent_id: &str, now_ms: i64) -> Action {
        self.journal.intent_id = Some(intent_id.to_string());
        self.with_order(now_ms, |o| o.intent_recorded())
    }

    /// The host refused the intent.
    fn intent_refused(&mut self, message: &str, now_ms: i64) -> Action {
        self.with_order(now_ms, |o| o.intent_refused(message))
    }

    /// The person's clicks on the order captcha.
    fn answer(&mut self, answer: &CaptchaAnswer, now_ms: i64) -> Action {
        self.with_order(now_ms, |o| o.answer(answer))
    }

    /// Nobody answered the order captcha in time.
    fn no_answer(&mut self, now_ms: i64) -> Action {
        self.with_order(now_ms, |o| o.no_answer())
    }

    /// The account signed in again.
    fn resume(&mut self, _credential: Option<&str>, now_ms: i64) -> Action {
        if matches!(self.phase, Phase::LoggedOut) {
            self.phase = Phase::Idle;
            self.planner.on_response(self.poll_sent_ms, Outcome::Ok);
            return self.start_poll(now_ms);
        }
        self.tick(now_ms)
    }

    /// Events to record, oldest first.
    fn take_events(&mut self) -> Vec<Event> {
        self.journal.take()
    }
}

/// The Beijing sale instant (Unix ms) of a row's `12月01日08:00起售`, in the year of
/// `date` (or the one before, for a December sale of a January train).
pub fn sale_time(button: &str, date: Date) -> Option<i64> {
    let t = button.trim().strip_suffix("起售")?;
    let (md, hm) = t.split_once('日')?;
    let (m, d) = md.split_once('月')?;
    let (m, d): (u8, u8) = (m.trim().parse().ok()?, d.trim().parse().ok()?);
    let minutes = i64::from(minutes_of_hhmm(hm)?);
    let year = if m > date.month {
        date.year - 1
    } else {
        date.year
    };
    let day = Date::parse(&format!("{year:04}-{m:02}-{d:02}")).ok()?;
    Some(
        day.to_days() * 86_400_000 + minutes * 60_000
            - i64::from(crate::schedule::BEIJING_OFFSET_MIN) * 60_000,
    )
}

fn seat_kind(code: &str) -> SeatKind {
    SEATS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(SeatKind::Second, |(_, k)| *k)
}

/// A seat code's name.
pub fn seat_name(code: &str) -> &'static str {
    match code {
        "9" => "商务座",
        "M" => "一等座",
        "O" => "二等座",
        "P" => "特等座",
        "4" => "软卧",
        "3" => "硬卧",
        "2" => "软座",
        "1" => "硬座",
        _ => "座位",
    }
}
