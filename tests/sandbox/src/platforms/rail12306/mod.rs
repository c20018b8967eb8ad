//! The 12306 simulator: the 18 steps of seed 003 with their cookies and tokens, the
//! station table, the drifting query endpoint with its `|`-rows, the order chain and its
//! scripted queue, inventory per train/date/seat with scheduled releases and competing
//! buyers, and a per-session query rate limit.
//!
//! Modules: [`stations`] (station table, `station_name.js`), [`trains`] (trains, seats,
//! rows, secretStr/leftTicketStr), [`captcha`] (8-tile picture captcha), [`auth`]
//! (steps 1–7, checkUser, conf), [`query`] (leftTicket/init, the query endpoint and its
//! drift), [`order`] (steps 10–18).
//!
//! # Cookies and tokens
//! `otn/login/init` (and `leftTicket/init`) set `JSESSIONID`, `BIGipServerotn`, `route`;
//! `captcha-image` sets `_passport_session` (the captcha belongs to it), `_passport_ct`,
//! `BIGipServerpassport`; `passport/web/login` needs a passed captcha in that session and
//! sets `uamtk`; `auth/uamtk` needs `uamtk` (cookie or form) and answers a one-time
//! `newapptk`; `uamauthclient` takes it as `tk` and logs the `JSESSIONID` session in (sets
//! `tk`). Every order step needs that login; from `initDc` on, `REPEAT_SUBMIT_TOKEN` must be
//! the session's `globalRepeatSubmitToken`, and the steps must come in order
//! (submitOrderRequest → initDc → checkOrderInfo → getQueueCount → confirmSingleForQueue →
//! queryOrderWaitTime → resultOrderForDcQueue). Sessions idle longer than
//! `session_idle_ms` (simulated clock) are logged out; `expire_sessions()` drops them all.
//!
//! # Scenario section (`12306:`), every field optional
//! ```yaml
//! 12306:
//!   stations: 3000            # size of the station table (real + generated)
//!   local_lines: 150          # generated K/T lines through generated stations (×2 directions)
//!   accounts:                 # default: one account traveller / traveller123
//!     - username: traveller
//!       password: traveller123
//!       name: 张三              # account holder (first passenger); generated when absent
//!       id_no: "110101199001011234"   # generated (valid checksum) when absent
//!       mobile: "13800138000"
//!       email: zhangsan@qq.com
//!       passengers: [{name: 李四, id_no: "...", mobile: "...", type: "1"}]  # extra; 1 generated when absent
//!   generated_accounts: 0     # adds user1/pass1 … userN/passN
//!   presale_days: 15          # dates today … today+14 (Beijing) can be queried
//!   sale_time: "15:00"        # sale time of every train (default: per train, 08:00–17:00)
//!   trains: [{code: G1, sale_time: "10:00"}]   # per-train sale time
//!   stock: random             # random | plenty | sold_out | <number of every seat kind>
//!   inventory:                # set seats left: date is YYYY-MM-DD, yyyyMMdd or an offset in days
//!     - {train: G1, date: 1, seat: O, count: 1}   # seat: 9 P M O 6 4 F 3 2 1, W = 无座
//!   releases:                 # seats coming back at a time (at_ms | in_ms | at: "YYYY-MM-DD HH:MM" Beijing)
//!     - {train: G1, date: 1, seat: O, count: 5, in_ms: 60000}
//!   competitors:              # other buyers: after a matching release, take `take` (default: all
//!                             # released) within `within_ms`; on_sale: also when the date opens
//!     - {train: G1, seat: O, date: 1, take: 3, within_ms: 500, on_sale: false}
//!   query_url:
//!     initial: queryZ         # the CLeftTicketUrl name at start
//!     sequence: [queryZ, queryA, queryO, queryG, query]   # order of drift (default: these)
//!     change_every: 0         # move to the next name after N answered queries (0: never)
//!     changes: [{in_ms: 60000, to: queryA}]               # at a time (at_ms | in_ms | at)
//!   rate_limit: {window_ms: 1000, burst: 30, reply: "403"}   # per JSESSIONID (or "anonymous");
//!                             # reply "json": a "too frequent" JSON instead of HTTP 403; false: off
//!   submit_data: "N"          # data of a successful submitOrderRequest ("N" old, "0" newer)
//!   pass_code: false          # checkOrderInfo answers ifShowPassCode "Y" (confirm needs randCode)
//!   queue:
//!     wait_times: [5, 3, -1]  # queryOrderWaitTime waitTime per poll; the last repeats forever
//!                             # (-1 done with orderId, -2/-3 failed, -100 retry, [-100]: never)
//!     fail_msg: 没有足够的票!
//!   block_unfinished: true    # an unpaid or queued order blocks a new submitOrderRequest
//!   session_idle_ms: 1800000
//!   captcha_ttl_ms: 300000
//! ```
//!
//! # Release spec (`POST /release`)
//! `{"platform":"12306","train":"G1","date":"2026-12-01"|"20261201"|1,"seat":"O","count":N,
//! "at_ms"?|"in_ms"?}`: adds seats to a train's start date now, or schedules it. Matching
//! competitors then take theirs.
//!
//! # Admin actions (`POST /platform/12306/{action}`)
//! `drift` `{"to"?: "queryA"}` (next in sequence when absent) · `query_url` · `stock`
//! `{"train","date"}` · `set_stock` `{"train","date","seat","count"}` · `pay_order` /
//! `cancel_order` `{"orderId"}` · `state`.

pub mod auth;
pub mod captcha;
pub mod order;
pub mod query;
pub mod stations;
pub mod trains;

use crate::clock::beijing;
use crate::gen::{self, Rng};
use crate::platforms::Platform;
use crate::shared::{RateLimit, Shared};
use crate::web;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use axum::Router;
use captcha::Captcha;
use serde_json::{json, Value};
use stations::Stations;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use trains::{Seat, Secret, Stock, StockMode, Trains};

const DAY_MS: i64 = 86_400_000;
const BJ_OFFSET_MS: i64 = 8 * 3_600_000;

/// Default query names, in drift order.
pub const QUERY_NAMES: [&str; 5] = ["queryZ", "queryA", "queryO", "queryG", "query"];

/// Unix ms of Beijing midnight starting `day` (days since the epoch).
pub fn day_start_ms(day: i64) -> i64 {
    day * DAY_MS - BJ_OFFSET_MS
}

/// Today in Beijing (days since the epoch).
pub fn today(now_ms: i64) -> i64 {
    beijing(now_ms).0.to_days()
}

// ---------------------------------------------------------------------------------------
// Scenario.

/// A date in a spec: absolute, or days from today.
#[derive(Clone, Copy, Debug)]
pub enum DateSpec {
    Day(i64),
    Offset(i64),
}

impl DateSpec {
    fn parse(v: &Value) -> Result<DateSpec, String> {
        if let Some(n) = v.as_i64() {
            return Ok(DateSpec::Offset(n));
        }
        let s = v.as_str().ok_or_else(|| format!("bad date {v}"))?;
        parse_day(s)
            .map(DateSpec::Day)
            .ok_or_else(|| format!("bad date “{s}” (YYYY-MM-DD, yyyyMMdd or days from today)"))
    }

    /// Days since the epoch.
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            DateSpec::Day(d) => d,
            DateSpec::Offset(n) => today(now_ms) + n,
        }
    }
}

/// `YYYY-MM-DD` or `yyyyMMdd` → days since the epoch.
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let iso = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])
    } else {
        s.to_string()
    };
    haoyuan_core::date::Date::parse(&iso)
        .ok()
        .map(|d| d.to_days())
}

/// `HH:MM` → minutes after midnight.
fn parse_hhmm(s: &str) -> Option<i32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// A time in a spec: `at_ms`, `in_ms` (from now) or `at` (`YYYY-MM-DD HH:MM[:SS]` Beijing).
fn parse_time(v: &Value, now_ms: i64) -> Result<Option<i64>, String> {
    if let Some(ms) = v.get("at_ms").and_then(Value::as_i64) {
        return Ok(Some(ms));
    }
    if let Some(ms) = v.get("in_ms").and_then(Value::as_i64) {
        return Ok(Some(now_ms + ms));
    }
    if let Some(s) = v.get("at").and_then(Value::as_str) {
        let (d, t) = s
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("bad time “{s}”"))?;
        let day = parse_day(d).ok_or_else(|| format!("bad time “{s}”"))?;
        let mut parts = t.split(':');
        let h: i64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(-1);
        let m: i64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(-1);
        let sec: i64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return Err(format!("bad time “{s}”"));
        }
        return Ok(Some(day_start_ms(day) + (h * 3600 + m * 60 + sec) * 1000));
    }
    Ok(None)
}

/// A passenger of an account.
#[derive(Clone, Debug)]
pub struct Passenger {
    pub name: String,
    pub id_no: String,
    pub mobile: String,
    pub email: String,
    /// `1` adult, `2` child, `3` student, `4` disabled soldier.
    pub kind: String,
}

/// A 12306 account.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub password: String,
    /// Holder first.
    pub passengers: Vec<Passenger>,
}

impl Account {
    /// The holder's name.
    pub fn name(&self) -> &str {
        self.passengers
            .first()
            .map(|p| p.name.as_str())
            .unwrap_or("")
    }
}

/// One competitor rule.
#[derive(Clone, Debug)]
pub struct Competitor {
    pub train: Option<u32>,
    pub seat: Option<Seat>,
    pub date: Option<DateSpec>,
    /// Seats to take (None: everything released / everything on sale).
    pub take: Option<i32>,
    pub within_ms: i64,
    pub on_sale: bool,
}

/// The parsed scenario section.
#[derive(Clone, Debug)]
pub struct Config {
    pub stations: usize,
    pub local_lines: usize,
    pub presale_days: i64,
    pub stock: StockMode,
    pub query_names: Vec<String>,
    pub query_initial: usize,
    pub change_every: u64,
    pub rate: Option<(i64, usize)>,
    pub rate_json: bool,
    pub submit_data: String,
    pub pass_code: bool,
    pub wait_times: Vec<i64>,
    pub fail_msg: String,
    pub block_unfinished: bool,
    pub session_idle_ms: i64,
    pub captcha_ttl_ms: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            stations: 3000,
            local_lines: 150,
            presale_days: 15,
            stock: StockMode::Random,
            query_names: QUERY_NAMES.iter().map(|s| s.to_string()).collect(),
            query_initial: 0,
            change_every: 0,
            rate: Some((1000, 30)),
            rate_json: false,
            submit_data: "N".into(),
            pass_code: false,
            wait_times: vec![4, 2, -1],
            fail_msg: "没有足够的票!".into(),
            block_unfinished: true,
            session_idle_ms: 30 * 60_000,
            captcha_ttl_ms: 5 * 60_000,
        }
    }
}

fn get_i64(v: &Value, k: &str) -> Result<Option<i64>, String> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("“{k}” must be an integer, not {x}")),
    }
}

fn get_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn get_bool(v: &Value, k: &str) -> Result<Option<bool>, String> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_bool()
            .map(Some)
            .ok_or_else(|| format!("“{k}” must be true or false, not {x}")),
    }
}

fn seat_of(v: &Value) -> Result<Seat, String> {
    let s = match v.get("seat") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("a seat is needed (9 P M O 6 4 F 3 2 1, W = 无座)".into()),
    };
    Seat::from_code(&s).ok_or_else(|| format!("unknown seat “{s}” (9 P M O 6 4 F 3 2 1, W = 无座)"))
}

// ---------------------------------------------------------------------------------------
// World and state.

/// The generated world (immutable until the next load).
pub struct World {
    pub seed: u64,
    /// Key of secretStr and leftTicketStr.
    pub key: u64,
    pub cfg: Config,
    pub stations: Stations,
    pub trains: Trains,
    pub accounts: Vec<Account>,
    pub by_username: HashMap<String, usize>,
    pub competitors: Vec<Competitor>,
    pub rate: Option<RateLimit>,
    pub loaded_ms: i64,
}

impl World {
    fn empty() -> World {
        World {
            seed: 0,
            key: 0,
            cfg: Config::default(),
            stations: Stations::default(),
            trains: Trains::default(),
            accounts: Vec::new(),
            by_username: HashMap::new(),
            competitors: Vec::new(),
            rate: None,
            loaded_ms: 0,
        }
    }

    /// When train `t`'s start date `day` opens for sale (server clock).
    pub fn sale_open_ms(&self, t: u32, day: i64) -> i64 {
        let sale_min = self
            .trains
            .list
            .get(t as usize)
            .map(|t| t.sale_min)
            .unwrap_or(480);
        day_start_ms(day - (self.cfg.presale_days - 1)) + i64::from(sale_min) * 60_000
    }

    /// Train by code, or an error in words.
    fn train(&self, v: &Value) -> Result<u32, String> {
        let code = get_str(v, "train").ok_or("a train code is needed (\"train\": \"G1\")")?;
        self.trains
            .get(code)
            .map(|(i, _)| i)
            .ok_or_else(|| format!("no train “{code}”"))
    }
}

/// Where a pending order is in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Submitted,
    Checked,
    Counted,
    Queued,
    Done,
}

/// One ticket asked for in passengerTicketStr.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketReq {
    pub seat: Seat,
    pub name: String,
    pub id_no: String,
    pub ticket_type: String,
}

/// The order being made in a session (submitOrderRequest … resultOrderForDcQueue).
#[derive(Clone, Debug)]
pub struct Pending {
    pub secret: Secret,
    /// Departure date from the from-station.
    pub travel_day: i64,
    pub token: String,
    pub key_check: String,
    pub left_ticket: String,
    pub stage: Stage,
    pub pass_code: bool,
    pub tickets: Vec<TicketReq>,
    pub order: Option<usize>,
}

/// A logged-in (or not) otn session, by `JSESSIONID`.
#[derive(Clone, Debug, Default)]
pub struct OtnSession {
    pub user: Option<usize>,
    pub last_ms: i64,
    pub pending: Option<Pending>,
    pub passenger_captcha: Option<Captcha>,
}

/// A passport session, by `_passport_session`.
#[derive(Clone, Debug, Default)]
pub struct PassportSession {
    pub captcha: Option<Captcha>,
    pub passed: bool,
}

/// Status of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Queued,
    Booked,
    Paid,
    Failed,
    Cancelled,
}

impl OrderStatus {
    fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Queued => "queued",
            OrderStatus::Booked => "booked",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Holds seats (and blocks a duplicate).
    pub fn holds(self) -> bool {
        matches!(
            self,
            OrderStatus::Queued | OrderStatus::Booked | OrderStatus::Paid
        )
    }
}

/// A ticket of an order.
#[derive(Clone, Debug)]
pub struct OrderTicket {
    pub name: String,
    pub id_no: String,
    pub seat: Seat,
    pub coach: u32,
    pub seat_no: String,
    pub price: f64,
}

/// An order made through confirmSingleForQueue.
#[derive(Clone, Debug)]
pub struct Order {
    pub id: Option<String>,
    pub request_id: u64,
    pub user: usize,
    pub train: u32,
    pub start_day: i64,
    pub travel_day: i64,
    pub from: usize,
    pub to: usize,
    pub tickets: Vec<OrderTicket>,
    pub status: OrderStatus,
    /// False when it lost the race for the last seats (the queue fails).
    pub got_seats: bool,
    pub polls: usize,
    pub created_ms: i64,
    pub msg: String,
}

/// Something due at a time.
#[derive(Clone, Debug)]
pub enum EventKind {
    Release {
        train: u32,
        day: i64,
        seat: Seat,
        count: i32,
    },
    Take {
        train: u32,
        day: i64,
        seat: Seat,
        count: Option<i32>,
    },
    Drift {
        to: String,
    },
}

/// A scheduled event.
#[derive(Clone, Debug)]
pub struct Event {
    pub at: i64,
    pub kind: EventKind,
}

/// Everything that changes.
pub struct State {
    pub rng: Rng,
    pub otn: HashMap<String, OtnSession>,
    pub passport: HashMap<String, PassportSession>,
    pub uamtk: HashMap<String, usize>,
    pub apptk: HashMap<String, usize>,
    pub stock: HashMap<(u32, i64), Stock>,
    pub orders: Vec<Order>,
    pub competitor_log: Vec<Value>,
    /// Sorted by time.
    pub events: Vec<Event>,
    pub on_sale_done: HashSet<(usize, u32, i64)>,
    pub query_idx: usize,
    pub query_count: u64,
}

impl State {
    fn new(seed: u64) -> State {
        State {
            rng: Rng::new(seed).fork("12306-runtime"),
            otn: HashMap::new(),
            passport: HashMap::new(),
            uamtk: HashMap::new(),
            apptk: HashMap::new(),
            stock: HashMap::new(),
            orders: Vec::new(),
            competitor_log: Vec::new(),
            events: Vec::new(),
            on_sale_done: HashSet::new(),
            query_idx: 0,
            query_count: 0,
        }
    }

    /// The stock of a train's start date, made on first use.
    pub fn stock_mut(&mut self, w: &World, train: u32, day: i64) -> &mut Stock {
        self.stock.entry((train, day)).or_insert_with(|| {
            trains::initial_stock(
                w.seed,
                train,
                &w.trains.list[train as usize],
                day,
                w.cfg.stock,
            )
        })
    }

    fn schedule(&mut self, e: Event) {
        let i = self.events.partition_point(|x| x.at <= e.at);
        self.events.insert(i, e);
    }

    /// The current query name.
    pub fn query_name<'a>(&self, w: &'a World) -> &'a str {
        w.cfg
            .query_names
            .get(self.query_idx)
            .map(String::as_str)
            .unwrap_or("queryZ")
    }
}

/// The 12306 platform.
pub struct Rail12306 {
    shared: Arc<Shared>,
    world: RwLock<Arc<World>>,
    state: Mutex<State>,
    /// Earliest time `tick` has something to do.
    next_due: AtomicI64,
}

impl Rail12306 {
    /// A platform with an empty world (filled by `load`).
    pub fn new(shared: Arc<Shared>) -> Rail12306 {
        Rail12306 {
            shared,
            world: RwLock::new(Arc::new(World::empty())),
            state: Mutex::new(State::new(0)),
            next_due: AtomicI64::new(i64::MAX),
        }
    }

    /// The current world.
    pub fn world(&self) -> Arc<World> {
        self.world
            .read()
            .map(|w| w.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The mutable state (recovers from a poisoned lock).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server clock.
    pub fn now(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    fn recompute_due(&self, w: &World, s: &State, now: i64) {
        let mut due = s.events.first().map(|e| e.at).unwrap_or(i64::MAX);
        if w.competitors.iter().any(|c| c.on_sale) {
            due = due.min(now + 50);
        }
        self.next_due.store(due, Ordering::Relaxed);
    }

    /// Applies one event (state locked).
    fn apply(&self, w: &World, s: &mut State, e: Event) {
        match e.kind {
            EventKind::Release {
                train,
                day,
                seat,
                count,
            } => {
                let st = s.stock_mut(w, train, day);
                if st[seat.idx()] < 0 {
                    st[seat.idx()] = 0;
                }
                st[seat.idx()] += count;
                for c in &w.competitors {
                    if c.on_sale
                        || c.train.is_some_and(|t| t != train)
                        || c.seat.is_some_and(|x| x != seat)
                        || c.date.is_some_and(|d| d.resolve(e.at) != day)
                    {
                        continue;
                    }
                    let offset = s.rng.range(0, c.within_ms.max(0) as u64 + 1) as i64;
                    s.schedule(Event {
                        at: e.at + offset,
                        kind: EventKind::Take {
                            train,
                            day,
                            seat,
                            count: Some(c.take.unwrap_or(count)),
                        },
                    });
                }
            }
            EventKind::Take {
                train,
                day,
                seat,
                count,
            } => {
                let st = s.stock_mut(w, train, day);
                let have = st[seat.idx()].max(0);
                let n = count.unwrap_or(have).clamp(0, have);
                if n > 0 {
                    st[seat.idx()] -= n;
                    s.competitor_log.push(json!({
                        "buyer": "competitor",
                        "train": w.trains.list[train as usize].code,
                        "date": haoyuan_core::date::Date::from_days(day).to_string(),
                        "seat": seat.code().to_string(),
                        "seat_name": seat.name(),
                        "count": n,
                        "at_ms": e.at,
                    }));
                }
            }
            EventKind::Drift { to } => {
                if let Some(i) = w.cfg.query_names.iter().position(|n| *n == to) {
                    s.query_idx = i;
                    s.query_count = 0;
                }
            }
        }
    }

    /// Competitors that buy when a date opens for sale.
    fn on_sale_takes(&self, w: &World, s: &mut State, now: i64) {
        for (ri, c) in w.competitors.iter().enumerate() {
            let (true, Some(t)) = (c.on_sale, c.train) else {
                continue;
            };
            let sale_min = i64::from(w.trains.list[t as usize].sale_min);
            let latest = (now - sale_min * 60_000 + BJ_OFFSET_MS).div_euclid(DAY_MS)
                + w.cfg.presale_days
                - 1;
            for day in [latest - 1, latest] {
                if c.date.is_some_and(|d| d.resolve(now) != day) {
                    continue;
                }
                let open = w.sale_open_ms(t, day);
                if open < w.loaded_ms || s.on_sale_done.contains(&(ri, t, day)) {
                    continue;
                }
                let mut h = Rng::new(w.seed ^ (ri as u64) << 20 ^ day as u64);
                let offset = h.range(0, c.within_ms.max(0) as u64 + 1) as i64;
                if now < open + offset {
                    continue;
                }
                s.on_sale_done.insert((ri, t, day));
                let seats: Vec<Seat> = match c.seat {
                    Some(x) => vec![x],
                    None => w.trains.list[t as usize].seats.clone(),
                };
                for seat in seats {
                    self.apply(
                        w,
                        s,
                        Event {
                            at: open + offset,
                            kind: EventKind::Take {
                                train: t,
                                day,
                                seat,
                                count: c.take,
                            },
                        },
                    );
                }
            }
        }
    }

    /// Parses a release spec into an event (time None: now).
    fn release_event(&self, w: &World, spec: &Value, now: i64) -> Result<Event, String> {
        let train = w.train(spec)?;
        let day = DateSpec::parse(spec.get("date").unwrap_or(&Value::Null))?.resolve(now);
        let seat = seat_of(spec)?;
        let count = get_i64(spec, "count")?.unwrap_or(1);
        if count < 0 {
            return Err("count must not be negative".into());
        }
        if !w.trains.list[train as usize].has(seat) {
            return Err(format!(
                "{} has no {}",
                w.trains.list[train as usize].code,
                seat.name()
            ));
        }
        Ok(Event {
            at: parse_time(spec, now)?.unwrap_or(now),
            kind: EventKind::Release {
                train,
                day,
                seat,
                count: count as i32,
            },
        })
    }

    fn order_json(w: &World, o: &Order) -> Value {
        let t = &w.trains.list[o.train as usize];
        let name = |i: usize| w.stations.list[t.stops[i].station as usize].name.clone();
        json!({
            "buyer": "user",
            "orderId": o.id,
            "requestId": o.request_id,
            "username": w.accounts.get(o.user).map(|a| a.username.clone()),
            "train": t.code,
            "train_no": t.train_no,
            "date": haoyuan_core::date::Date::from_days(o.travel_day).to_string(),
            "start_train_date": trains::ymd_compact(o.start_day),
            "from": name(o.from),
            "to": name(o.to),
            "status": o.status.as_str(),
            "created_ms": o.created_ms,
            "message": o.msg,
            "tickets": o.tickets.iter().map(|k| json!({
                "passenger_name": k.name,
                "passenger_id_no": k.id_no,
                "seat_type": k.seat.code().to_string(),
                "seat_type_name": k.seat.name(),
                "coach_no": format!("{:02}", k.coach),
                "seat_no": k.seat_no,
                "price": k.price,
            })).collect::<Vec<_>>(),
        })
    }

    /// Gives an order's seats back.
    fn return_seats(w: &World, s: &mut State, oi: usize) {
        let o = s.orders[oi].clone();
        if !o.got_seats {
            return;
        }
        for k in &o.tickets {
            let st = s.stock_mut(w, o.train, o.start_day);
            if st[k.seat.idx()] >= 0 {
                st[k.seat.idx()] += 1;
            }
        }
        s.orders[oi].got_seats = false;
    }

    fn find_order(s: &State, spec: &Value) -> Result<usize, String> {
        let id = get_str(spec, "orderId").ok_or("\"orderId\" is needed")?;
        s.orders
            .iter()
            .position(|o| o.id.as_deref() == Some(id))
            .ok_or_else(|| format!("no order “{id}”"))
    }
}

fn load_config(section: &Value) -> Result<Config, String> {
    let mut c = Config::default();
    if section.is_null() {
        return Ok(c);
    }
    if !section.is_object() {
        return Err("the 12306 section must be a mapping".into());
    }
    let v = section;
    if let Some(n) = get_i64(v, "stations")? {
        c.stations = n.clamp(100, 20_000) as usize;
    }
    if let Some(n) = get_i64(v, "local_lines")? {
        c.local_lines = n.clamp(0, 2_000) as usize;
    }
    if let Some(n) = get_i64(v, "presale_days")? {
        c.presale_days = n.clamp(1, 60);
    }
    match v.get("stock") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => c.stock = StockMode::Fixed(n.as_i64().unwrap_or(0).max(0) as i32),
        Some(Value::String(s)) => {
            c.stock = match s.as_str() {
                "random" => StockMode::Random,
                "plenty" => StockMode::Plenty,
                "sold_out" | "none" => StockMode::SoldOut,
                other => {
                    return Err(format!(
                        "stock “{other}”: random, plenty, sold_out or a number"
                    ))
                }
            }
        }
        Some(x) => return Err(format!("bad stock {x}")),
    }
    if let Some(q) = v.get("query_url").filter(|q| !q.is_null()) {
        if let Some(seq) = q.get("sequence").and_then(Value::as_array) {
            let names: Vec<String> = seq
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            if names.is_empty() {
                return Err("query_url.sequence must list names".into());
            }
            c.query_names = names;
        }
        if let Some(init) = get_str(q, "initial") {
            match c.query_names.iter().position(|n| n == init) {
                Some(i) => c.query_initial = i,
                None => {
                    c.query_names.insert(0, init.to_string());
                    c.query_initial = 0;
                }
            }
        }
        if let Some(n) = get_i64(q, "change_every")? {
            c.change_every = n.max(0) as u64;
        }
        for n in &c.query_names {
            if !n.starts_with("query") || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(format!(
                    "“{n}” is not a query endpoint name (queryZ, queryA, …)"
                ));
            }
        }
    }
    match v.get("rate_limit") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(false)) => c.rate = None,
        Some(Value::Bool(true)) => {}
        Some(r) => {
            let window = get_i64(r, "window_ms")?.unwrap_or(1000).max(1);
            let burst = get_i64(r, "burst")?.unwrap_or(30).max(0) as usize;
            c.rate = if burst == 0 {
                None
            } else {
                Some((window, burst))
            };
            c.rate_json = get_str(r, "reply") == Some("json");
        }
    }
    if let Some(d) = v.get("submit_data") {
        c.submit_data = match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    if let Some(b) = get_bool(v, "pass_code")? {
        c.pass_code = b;
    }
    if let Some(q) = v.get("queue").filter(|q| !q.is_null()) {
        if let Some(w) = q.get("wait_times") {
            let list = w
                .as_array()
                .ok_or("queue.wait_times must be a list of integers")?;
            let times: Option<Vec<i64>> = list.iter().map(Value::as_i64).collect();
            let times = times.ok_or("queue.wait_times must be a list of integers")?;
            if times.is_empty() {
                return Err("queue.wait_times must not be empty".into());
            }
            c.wait_times = times;
        }
        if let Some(m) = get_str(q, "fail_msg") {
            c.fail_msg = m.to_string();
        }
    }
    if let Some(b) = get_bool(v, "block_unfinished")? {
        c.block_unfinished = b;
    }
    if let Some(n) = get_i64(v, "session_idle_ms")? {
        c.session_idle_ms = n.max(1);
    }
    if let Some(n) = get_i64(v, "captcha_ttl_ms")? {
        c.captcha_ttl_ms = n.max(1);
    }
    Ok(c)
}

/// A valid 18-digit ID number (GB 11643 checksum).
fn id_number(r: &mut Rng) -> String {
    const AREAS: [&str; 10] = [
        "110101", "110105", "310104", "440106", "420106", "330106", "320102", "510104", "610113",
        "500103",
    ];
    let year = r.range(1955, 2010);
    let month = r.range(1, 13);
    let day = r.range(1, 29);
    let body = format!(
        "{}{year:04}{month:02}{day:02}{:03}",
        r.pick(&AREAS),
        r.range(1, 1000)
    );
    haoyuan_core::idcard::complete(&body).unwrap_or(body)
}

fn mobile(r: &mut Rng) -> String {
    format!(
        "1{}{}",
        r.pick(&["38", "39", "58", "86", "37", "50", "88"]),
        r.digits(8)
    )
}

fn passenger_from(v: &Value, r: &mut Rng) -> Passenger {
    let name = get_str(v, "name")
        .map(String::from)
        .unwrap_or_else(|| gen::person_name(r));
    Passenger {
        id_no: get_str(v, "id_no")
            .map(String::from)
            .unwrap_or_else(|| id_number(r)),
        mobile: get_str(v, "mobile")
            .map(String::from)
            .unwrap_or_else(|| mobile(r)),
        email: get_str(v, "email").map(String::from).unwrap_or_default(),
        kind: match v.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "1".into(),
        },
        name,
    }
}

fn load_accounts(section: &Value, rng: &Rng) -> Result<Vec<Account>, String> {
    let mut r = rng.fork("accounts");
    let mut out = Vec::new();
    let make = |spec: &Value, username: String, password: String, r: &mut Rng| {
        let mut passengers = vec![passenger_from(spec, r)];
        match spec.get("passengers").and_then(Value::as_array) {
            Some(list) => passengers.extend(list.iter().map(|p| passenger_from(p, r))),
            None => passengers.push(passenger_from(&Value::Null, r)),
        }
        Account {
            username,
            password,
            passengers,
        }
    };
    match section.get("accounts") {
        None | Some(Value::Null) => {
            out.push(make(
                &Value::Null,
                "traveller".into(),
                "traveller123".into(),
                &mut r,
            ));
        }
        Some(Value::Array(list)) => {
            for a in list {
                let u = get_str(a, "username").ok_or("every account needs a username")?;
                let p = get_str(a, "password").ok_or("every account needs a password")?;
                out.push(make(a, u.into(), p.into(), &mut r));
            }
        }
        Some(x) => return Err(format!("accounts must be a list, not {x}")),
    }
    for i in 1..=get_i64(section, "generated_accounts")?
        .unwrap_or(0)
        .clamp(0, 10_000)
    {
        out.push(make(
            &Value::Null,
            format!("user{i}"),
            format!("pass{i}"),
            &mut r,
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Requests and replies.

/// A request as handlers see it: query string and form body merged (the body wins).
pub struct Req {
    pub path: String,
    pub headers: HeaderMap,
    pub form: HashMap<String, String>,
}

impl Req {
    fn new(uri: &Uri, headers: HeaderMap, body: &[u8]) -> Req {
        let mut form = web::parse_urlencoded(uri.query().unwrap_or(""));
        if !body.is_empty() {
            let text = String::from_utf8_lossy(body);
            form.extend(web::parse_urlencoded(&text));
        }
        Req {
            path: uri.path().to_string(),
            headers,
            form,
        }
    }

    /// A form or query field ("" when absent).
    pub fn get(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
    }

    /// A cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        web::cookie(&self.headers, name).filter(|v| !v.is_empty())
    }
}

type Handler = fn(&Rail12306, &Req) -> Response;

fn route(app: &Arc<Rail12306>, f: Handler) -> MethodRouter {
    let app = app.clone();
    any(
        move |_m: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let app = app.clone();
            async move {
                let req = Req::new(&uri, headers, &body);
                f(&app, &req)
            }
        },
    )
}

/// The otn envelope with `status: true`.
pub fn otn_ok(data: Value) -> Response {
    web::json(&json!({
        "validateMessagesShowId": "_validatorMessage",
        "status": true,
        "httpstatus": 200,
        "data": data,
        "messages": [],
        "validateMessages": {},
    }))
}

/// The otn envelope with `status: false` and a message.
pub fn otn_fail(message: &str) -> Response {
    web::json(&json!({
        "validateMessagesShowId": "_validatorMessage",
        "status": false,
        "httpstatus": 200,
        "messages": [message],
        "validateMessages": {},
    }))
}

/// HTML with `text/html;charset=utf-8`.
pub fn html(body: String) -> Response {
    web::text("text/html;charset=utf-8", body)
}

/// A 302 to a path.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Adds `Set-Cookie` headers.
pub fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(h) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    r
}

fn error_page(_: &Rail12306, _: &Req) -> Response {
    html(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>错误页面</title></head>\
          <body><div class=\"error\">很抱歉！您访问的页面出错了，请稍后重试。</div></body></html>"
            .into(),
    )
}

fn not_found(_: &Rail12306, _: &Req) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>",
    )
        .into_response()
}

fn station_js(app: &Rail12306, _: &Req) -> Response {
    let w = app.world();
    (
        [(header::CONTENT_TYPE, "application/javascript;charset=UTF-8")],
        w.stations.js.clone(),
    )
        .into_response()
}

impl Platform for Rail12306 {
    fn id(&self) -> &'static str {
        "12306"
    }

    fn routes(self: Arc<Self>) -> Router {
        let a = &self;
        Router::new()
            .route("/otn/login/init", route(a, auth::login_init))
            .route("/otn/resources/login.html", route(a, auth::login_init))
            .route("/otn/login/conf", route(a, auth::conf))
            .route(
                "/passport/captcha/captcha-image",
                route(a, auth::captcha_image),
            )
            .route(
                "/passport/captcha/captcha-image64",
                route(a, auth::captcha_image64),
            )
            .route(
                "/passport/captcha/captcha-check",
                route(a, auth::captcha_check),
            )
            .route("/passport/web/login", route(a, auth::web_login))
            .route("/otn/login/userLogin", route(a, auth::user_login))
            .route("/otn/passport", route(a, auth::passport_page))
            .route("/otn/view/index.html", route(a, auth::index_page))
            .route("/passport/web/auth/uamtk", route(a, auth::uamtk))
            .route("/otn/uamauthclient", route(a, auth::uamauthclient))
            .route("/otn/login/checkUser", route(a, auth::check_user))
            .route("/otn/login/loginOut", route(a, auth::logout))
            .route(
                "/otn/resources/js/framework/station_name.js",
                route(a, station_js),
            )
            .route("/otn/leftTicket/init", route(a, query::init))
            .route(
                "/otn/leftTicket/submitOrderRequest",
                route(a, order::submit_order_request),
            )
            .route("/otn/leftTicket/{name}", route(a, query::query))
            .route("/otn/confirmPassenger/initDc", route(a, order::init_dc))
            .route(
                "/otn/confirmPassenger/getPassengerDTOs",
                route(a, order::passengers),
            )
            .route(
                "/otn/passcodeNew/getPassCodeNew",
                route(a, order::pass_code_image),
            )
            .route(
                "/otn/passcodeNew/checkRandCodeAnsyn",
                route(a, order::check_rand_code),
            )
            .route(
                "/otn/confirmPassenger/checkOrderInfo",
                route(a, order::check_order_info),
            )
            .route(
                "/otn/confirmPassenger/getQueueCount",
                route(a, order::queue_count),
            )
            .route(
                "/otn/confirmPassenger/confirmSingleForQueue",
                route(a, order::confirm),
            )
            .route(
                "/otn/confirmPassenger/queryOrderWaitTime",
                route(a, order::wait_time),
            )
            .route(
                "/otn/confirmPassenger/resultOrderForDcQueue",
                route(a, order::result_order),
            )
            .route(
                "/otn/queryOrder/queryMyOrderNoComplete",
                route(a, order::no_complete),
            )
            .route("/mormhweb/logFiles/error.html", route(a, error_page))
            .fallback_service(route(a, not_found))
    }

    fn load(&self, seed: u64, section: &Value) -> Result<(), String> {
        let now = self.now();
        let cfg = load_config(section)?;
        let rng = Rng::new(seed).fork("12306");
        let stations = Stations::generate(&rng, cfg.stations);
        let mut trains = Trains::generate(&stations, &rng, cfg.local_lines);
        // Sale times.
        if let Some(s) = get_str(section, "sale_time") {
            let m = parse_hhmm(s).ok_or_else(|| format!("bad sale_time “{s}” (HH:MM)"))?;
            trains.list.iter_mut().for_each(|t| t.sale_min = m);
        }
        if let Some(list) = section.get("trains").and_then(Value::as_array) {
            for t in list {
                let code = get_str(t, "code").ok_or("trains[]: “code” is needed")?;
                let i = trains
                    .get(code)
                    .map(|(i, _)| i)
                    .ok_or_else(|| format!("no train “{code}”"))?;
                if let Some(s) = get_str(t, "sale_time") {
                    trains.list[i as usize].sale_min =
                        parse_hhmm(s).ok_or_else(|| format!("bad sale_time “{s}” (HH:MM)"))?;
                }
            }
        }
        let accounts = load_accounts(section, &rng)?;
        let by_username = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.username.clone(), i))
            .collect();
        let mut world = World {
            seed,
            key: rng.fork("secret").next_u64(),
            rate: cfg.rate.map(|(w, b)| RateLimit::new(w, b)),
            cfg,
            stations,
            trains,
            accounts,
            by_username,
            competitors: Vec::new(),
            loaded_ms: now,
        };
        if let Some(list) = section.get("competitors").and_then(Value::as_array) {
            for c in list {
                let train = if c.get("train").is_some() {
                    Some(world.train(c)?)
                } else {
                    None
                };
                let on_sale = get_bool(c, "on_sale")?.unwrap_or(false);
                if on_sale && train.is_none() {
                    return Err("an on_sale competitor needs a train".into());
                }
                world.competitors.push(Competitor {
                    train,
                    seat: if c.get("seat").is_some() {
                        Some(seat_of(c)?)
                    } else {
                        None
                    },
                    date: c.get("date").map(DateSpec::parse).transpose()?,
                    take: get_i64(c, "take")?.map(|n| n.max(0) as i32),
                    within_ms: get_i64(c, "within_ms")?.unwrap_or(1000),
                    on_sale,
                });
            }
        }
        let mut state = State::new(seed);
        state.query_idx = world.cfg.query_initial;
        if let Some(list) = section.get("inventory").and_then(Value::as_array) {
            for spec in list {
                let train = world.train(spec)?;
                let day = DateSpec::parse(spec.get("date").unwrap_or(&Value::Null))?.resolve(now);
                let seat = seat_of(spec)?;
                let count = get_i64(spec, "count")?.unwrap_or(0).max(0) as i32;
                if !world.trains.list[train as usize].has(seat) {
                    return Err(format!(
                        "{} has no {}",
                        world.trains.list[train as usize].code,
                        seat.name()
                    ));
                }
                state.stock_mut(&world, train, day)[seat.idx()] = count;
            }
        }
        if let Some(list) = section.get("releases").and_then(Value::as_array) {
            for spec in list {
                let e = self.release_event(&world, spec, now)?;
                state.schedule(e);
            }
        }
        if let Some(list) = section
            .get("query_url")
            .and_then(|q| q.get("changes"))
            .and_then(Value::as_array)
        {
            for c in list {
                let to = get_str(c, "to").ok_or("query_url.changes[]: “to” is needed")?;
                if !world.cfg.query_names.iter().any(|n| n == to) {
                    world.cfg.query_names.push(to.to_string());
                }
                let at = parse_time(c, now)?
                    .ok_or("query_url.changes[]: at_ms, in_ms or at is needed")?;
                state.schedule(Event {
                    at,
                    kind: EventKind::Drift { to: to.to_string() },
                });
            }
        }
        let world = Arc::new(world);
        self.recompute_due(&world, &state, now);
        *self.world.write().unwrap_or_else(|e| e.into_inner()) = world;
        *self.state() = state;
        Ok(())
    }

    fn tick(&self, now_ms: i64) {
        if now_ms < self.next_due.load(Ordering::Relaxed) {
            return;
        }
        let w = self.world();
        let mut s = self.state();
        while s.events.first().is_some_and(|e| e.at <= now_ms) {
            let e = s.events.remove(0);
            self.apply(&w, &mut s, e);
        }
        self.on_sale_takes(&w, &mut s, now_ms);
        self.recompute_due(&w, &s, now_ms);
    }

    fn release(&self, spec: &Value) -> Result<Value, String> {
        let w = self.world();
        let now = self.now();
        let e = self.release_event(&w, spec, now)?;
        let EventKind::Release {
            train,
            day,
            seat,
            count,
        } = e.kind.clone()
        else {
            return Err("not a release".into());
        };
        let code = w.trains.list[train as usize].code.clone();
        let date = haoyuan_core::date::Date::from_days(day).to_string();
        let mut s = self.state();
        if e.at > now {
            let at = e.at;
            s.schedule(e);
            self.recompute_due(&w, &s, now);
            return Ok(
                json!({"train": code, "date": date, "seat": seat.code().to_string(), "count": count, "scheduled_at_ms": at}),
            );
        }
        self.apply(&w, &mut s, e);
        // Competitors with no delay buy at once; the rest when the clock gets there.
        while s.events.first().is_some_and(|e| e.at <= now) {
            let e = s.events.remove(0);
            self.apply(&w, &mut s, e);
        }
        self.recompute_due(&w, &s, now);
        let left = s.stock_mut(&w, train, day)[seat.idx()];
        Ok(
            json!({"train": code, "date": date, "seat": seat.code().to_string(), "count": count, "left": left}),
        )
    }

    fn orders(&self) -> Value {
        let w = self.world();
        let s = self.state();
        let mut v: Vec<Value> = s.orders.iter().map(|o| Self::order_json(&w, o)).collect();
        v.extend(s.competitor_log.iter().cloned());
        Value::Array(v)
    }

    fn expire_sessions(&self) {
        let mut s = self.state();
        s.otn.clear();
        s.passport.clear();
        s.uamtk.clear();
        s.apptk.clear();
    }

    fn admin(&self, action: &str, body: &Value) -> Result<Value, String> {
        let w = self.world();
        let now = self.now();
        let mut s = self.state();
        match action {
            "drift" => {
                let i = match get_str(body, "to") {
                    Some(to) => w
                        .cfg
                        .query_names
                        .iter()
                        .position(|n| n == to)
                        .ok_or_else(|| format!("“{to}” is not in the sequence {:?}", w.cfg.query_names))?,
                    None => (s.query_idx + 1) % w.cfg.query_names.len().max(1),
                };
                s.query_idx = i;
                s.query_count = 0;
                Ok(json!({"query_url": format!("leftTicket/{}", s.query_name(&w))}))
            }
            "query_url" => Ok(json!({"query_url": format!("leftTicket/{}", s.query_name(&w)), "queries": s.query_count})),
            "stock" => {
                let train = w.train(body)?;
                let day = DateSpec::parse(body.get("date").unwrap_or(&Value::Null))?.resolve(now);
                let st = *s.stock_mut(&w, train, day);
                let mut m = serde_json::Map::new();
                for seat in Seat::ALL {
                    if st[seat.idx()] >= 0 {
                        m.insert(seat.code().to_string(), json!(st[seat.idx()]));
                    }
                }
                Ok(json!({
                    "train": w.trains.list[train as usize].code,
                    "date": haoyuan_core::date::Date::from_days(day).to_string(),
                    "stock": m,
                    "sale_open_ms": w.sale_open_ms(train, day),
                }))
            }
            "set_stock" => {
                let train = w.train(body)?;
                let day = DateSpec::parse(body.get("date").unwrap_or(&Value::Null))?.resolve(now);
                let seat = seat_of(body)?;
                if !w.trains.list[train as usize].has(seat) {
                    return Err(format!("{} has no {}", w.trains.list[train as usize].code, seat.name()));
                }
                let count = get_i64(body, "count")?.unwrap_or(0).max(0) as i32;
                s.stock_mut(&w, train, day)[seat.idx()] = count;
                Ok(json!({"ok": true, "count": count}))
            }
            "pay_order" | "cancel_order" => {
                let oi = Self::find_order(&s, body)?;
                if action == "pay_order" {
                    if s.orders[oi].status != OrderStatus::Booked {
                        return Err(format!("the order is {}", s.orders[oi].status.as_str()));
                    }
                    s.orders[oi].status = OrderStatus::Paid;
                } else {
                    if !s.orders[oi].status.holds() {
                        return Err(format!("the order is {}", s.orders[oi].status.as_str()));
                    }
                    Self::return_seats(&w, &mut s, oi);
                    s.orders[oi].status = OrderStatus::Cancelled;
                }
                Ok(Self::order_json(&w, &s.orders[oi]))
            }
            "state" => Ok(json!({
                "query_url": format!("leftTicket/{}", s.query_name(&w)),
                "queries": s.query_count,
                "today": haoyuan_core::date::Date::from_days(today(now)).to_string(),
                "presale_days": w.cfg.presale_days,
                "stations": w.stations.list.len(),
                "trains": w.trains.list.len(),
                "station_version": w.stations.version,
                "logged_in": s.otn.values().filter(|o| o.user.is_some()).count(),
                "scheduled": s.events.len(),
                "accounts": w.accounts.iter().map(|a| json!({"username": a.username, "name": a.name()})).collect::<Vec<_>>(),
            })),
            other => Err(format!("12306 has no admin action “{other}” (drift, query_url, stock, set_stock, pay_order, cancel_order, state)")),
        }
    }
}
