//! The 91160 open platform simulator (seed `001_*.txt`, platforms.md "91160").
//!
//! Routes, at the real paths: `GET /basicInfo/unitList`, `GET /basicInfo/depList`,
//! `GET /basicInfo/doctorList` (paged, `data: {list, total}`), `GET
//! /appointment/scheduleList` and `GET /appointment/resourceList` (`data` an array),
//! `POST /appointment/order` and `POST /appointment/cancel` (JSON bodies). Every reply is
//! `{"data": …, "code": "0", "msg": "成功"}` with `code` a string; errors carry
//! `"data": null` and one of the codes below, always with HTTP 200.
//!
//! The seed lists no error codes, so these are ours (stable, documented here):
//!
//! | code | msg |
//! |---|---|
//! | `10001` | `缺少必要参数：{name}` |
//! | `10002` | `参数格式错误：{name}` (also a body that is not JSON) |
//! | `10006` | `请求过于频繁，请稍后再试` (only with `rate_limit`) |
//! | `20001` | `appToken不能为空` |
//! | `20002` | `appToken无效` |
//! | `20003` | `appToken已过期，请联系平台重新授权` (not renewable by the client) |
//! | `30001`…`30005` | `医院不存在`, `科室不存在`, `医生不存在`, `排班不存在`, `号源不存在` |
//! | `40001` | `该号源已约满，请选择其他号源` |
//! | `40002` | `该就诊人已预约过该排班，请勿重复预约` |
//! | `40004` | `该号源已过就诊时间` |
//! | `40005` | `就诊人信息有误：{why}` |
//! | `40006` | `未成年人预约须填写监护人信息` |
//! | `40007` | `订单不存在` |
//! | `40008` | `订单已取消，请勿重复操作` |
//! | `40009` | `已过就诊时间，无法取消` |
//!
//! Shapes clients must accept (all served): `code` always a string; `doctorList`'s
//! `depId` is a string while `scheduleList`'s is an int; `appointmentOpenTime` is
//! usually `"HH:mm"` (the seed's description) but a few units send `"HH:mm:ss"` or a
//! full `"yyyy-MM-dd HH:mm:ss"` (the seed's sample); `appointedNum` may exceed
//! `resourceMax` (free = max − appointed, clamped at 0); `scheduleList`'s top-level
//! `status` of the seed's table is absent, as in its sample. Requests may send numbers
//! as strings (`"unitId": "100"`, `"sex": "0"`), as a Jackson back end accepts.
//!
//! Order checks, in this order: token, JSON body, `unitId`/`detlId` present, patient
//! fields (`mobile`, `trueName`, `sex` 0/1, `birthday`, `cardType`, `cardNo`,
//! `address` required; `clinicNo` must be present, may be empty; `cardType` 1 = resident
//! ID: check digit, birthday and sex must agree; no birthday in the future; under
//! `guardian_under_age` a complete adult `guardian` block), the resource (visible,
//! matching `unitId`/`depId`/`doctorId`, not begun), then — under one lock — the same
//! card number on the same schedule (`40002`) and a free number (`40001`).
//!
//! Data: `units` hospitals generated from the seed (see [`world`]); each unit's
//! `appointmentOpenTime` and `appointmentCycleDays` decide, on the simulated Beijing
//! clock, which days are listed: today through today + cycle − 1, and today + cycle once
//! the day's open time has passed. A schedule's `resourceMax`/`appointedNum` are the sums
//! of its resources' (time slots'); some near days are over-appointed (加号), as in the
//! seed's sample. Ordering takes one number of a resource (`detlId` = `resourceId`) under
//! one lock; cancelling gives it back.
//!
//! # Scenario section (`91160:`), every field optional
//!
//! ```yaml
//! 91160:
//!   units: 468                # hospitals to generate
//!   tokens: ["75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL"]   # valid appTokens (default: the seed's)
//!   token_ttl_ms: 3600000     # tokens expire this long after load / renewal (default: never)
//!   rate_limit: {window_ms: 1000, burst: 5}   # per token; over it → code 10006 (default: off)
//!   guardian_under_age: 18    # patients younger than this need a guardian block
//!   schedules:                # pinned schedules (override what the generator says)
//!     - doctor_id: 10000      # default: first doctor of the first department of the first unit
//!       day_offset: 1         # days after the load day (Beijing); or `date: "YYYY-MM-DD"`
//!       time_type: am         # am | pm | em
//!       resources: 4          # time slots (1..=99)
//!       resource_max: 4       # numbers over all slots (default: one per slot)
//!       appointed_num: 3      # taken so far; more than resource_max makes it over-appointed
//!   releases:                 # numbers added to a schedule at a time
//!     - schedule: 0           # index into `schedules`, or `schedule_id: "…"`
//!       count: 2
//!       after_ms: 60000       # after load (or `at_ms`: absolute simulated ms; neither: at once)
//!       competitors: {take: 1, within_ms: 200}   # optional, this release only
//!   competitors:              # other buyers reacting to every matching release
//!     - schedule: 0           # or `schedule_id`; neither: every release
//!       take: 1               # numbers they take per release (default: all released)
//!       within_ms: 500        # each within this many ms of the release
//! ```
//!
//! # Admin
//!
//! Release spec (`POST /release`): `{"platform": "91160", "schedule_id": "…" | "schedule":
//! <pinned index>, "count": N, "at_ms"?: ms, "after_ms"?: ms, "competitors"?: {"take",
//! "within_ms"}}`. Actions (`POST /platform/91160/{action}`): `renew_token` (`{"token"?}`:
//! makes that token, or every known token, valid again — 91160 tokens are renewed by the
//! platform, never by the client), `revoke_token` (`{"token"}`), `summary` (counts, first
//! ids, today, tokens, pinned schedule ids), `schedule` (`{"schedule_id"}`: current slots,
//! visible or not).

mod api;
mod patient;
mod world;

use crate::gen::{self, Rng};
use crate::platforms::Platform;
use crate::shared::{RateLimit, Shared};
use axum::Router;
use haoyuan_core::date::Date;
use patient::Patient;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use world::{Res, SchedKey, World, MAX_RESOURCES, TIME_TYPES};

/// The appToken of the seed's examples, valid unless the scenario lists others.
pub const DEFAULT_TOKEN: &str = "75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL";

/// The 91160 platform.
pub struct Open91160 {
    shared: Arc<Shared>,
    state: RwLock<Arc<State>>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    units: Option<usize>,
    tokens: Option<Vec<String>>,
    token_ttl_ms: Option<i64>,
    rate_limit: Option<RateCfg>,
    guardian_under_age: Option<i64>,
    schedules: Vec<PinCfg>,
    releases: Vec<ReleaseCfg>,
    competitors: Vec<CompCfg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateCfg {
    window_ms: i64,
    burst: usize,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct PinCfg {
    doctor_id: Option<u32>,
    date: Option<String>,
    day_offset: Option<i64>,
    time_type: Option<String>,
    resources: Option<usize>,
    resource_max: Option<u32>,
    appointed_num: u32,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ReleaseCfg {
    schedule: Option<usize>,
    schedule_id: Option<Value>,
    count: Option<u32>,
    at_ms: Option<i64>,
    after_ms: Option<i64>,
    competitors: Option<InlineComp>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CompCfg {
    schedule: Option<usize>,
    schedule_id: Option<Value>,
    take: Option<u32>,
    within_ms: i64,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, deny_unknown_fields)]
struct InlineComp {
    take: Option<u32>,
    within_ms: i64,
}

/// Other buyers: take up to `take` numbers of each matching release within `within_ms`.
#[derive(Clone, Copy, Debug)]
struct Comp {
    key: Option<SchedKey>,
    take: Option<u32>,
    within_ms: i64,
}

#[derive(Debug)]
enum EventKind {
    Release {
        key: SchedKey,
        count: u32,
        comps: Vec<Comp>,
    },
    Take {
        key: SchedKey,
    },
}

#[derive(Debug)]
struct Event {
    at: i64,
    kind: EventKind,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    expires_at: Option<i64>,
    expired: bool,
}

/// One order, the client's or a competitor's.
#[derive(Debug, Clone)]
struct Order {
    order_id: i64,
    his_take_no: String,
    token: String,
    key: SchedKey,
    index: usize,
    patient: Option<Patient>,
    buyer_name: String,
    competitor: bool,
    cancelled: bool,
    created_at: i64,
    cancelled_at: Option<i64>,
    cancel_reason: Option<String>,
    fee: f64,
}

/// What changes: schedules touched so far (the rest are still as generated) and orders.
#[derive(Default)]
struct Inventory {
    scheds: HashMap<SchedKey, Vec<Res>>,
    orders: Vec<Order>,
    /// (card number, schedule) of every live client order.
    active: HashSet<(String, SchedKey)>,
}

const ORDER_ID_BASE: i64 = 31_000_001;

/// Everything one load produced.
struct State {
    world: World,
    guardian_under: i64,
    token_ttl: Option<i64>,
    comps: Vec<Comp>,
    pinned: Vec<SchedKey>,
    inv: Mutex<Inventory>,
    events: Mutex<Vec<Event>>,
    next_due: AtomicI64,
    tokens: RwLock<HashMap<String, Token>>,
    rate: Option<RateLimit>,
    rng: Mutex<Rng>,
}

/// Why a token is refused.
enum TokenError {
    Missing,
    Invalid,
    Expired,
    TooFast,
}

impl State {
    fn empty() -> State {
        State {
            world: World::empty(),
            guardian_under: 18,
            token_ttl: None,
            comps: Vec::new(),
            pinned: Vec::new(),
            inv: Mutex::new(Inventory::default()),
            events: Mutex::new(Vec::new()),
            next_due: AtomicI64::new(i64::MAX),
            tokens: RwLock::new(HashMap::new()),
            rate: None,
            rng: Mutex::new(Rng::new(0)),
        }
    }

    fn check_token(&self, token: Option<&str>, now: i64) -> Result<String, TokenError> {
        let t = token.map(str::trim).filter(|t| !t.is_empty());
        let t = t.ok_or(TokenError::Missing)?;
        let tok = self
            .tokens
            .read()
            .ok()
            .and_then(|m| m.get(t).copied())
            .ok_or(TokenError::Invalid)?;
        if tok.expired || tok.expires_at.is_some_and(|e| now >= e) {
            return Err(TokenError::Expired);
        }
        if let Some(r) = &self.rate {
            if !r.allow(t, now) {
                return Err(TokenError::TooFast);
            }
        }
        Ok(t.to_string())
    }

    /// Whether the schedule exists (pinned, touched, or by the doctor's weekly pattern).
    fn exists(&self, inv: &Inventory, key: &SchedKey) -> bool {
        inv.scheds.contains_key(key)
            || self
                .world
                .doctor(key.doctor)
                .is_some_and(|d| self.world.works(d, key.day, key.tt))
    }

    /// The schedule's time slots as they stand now.
    fn resources(&self, inv: &Inventory, key: &SchedKey) -> Option<Vec<Res>> {
        if let Some(r) = inv.scheds.get(key) {
            return Some(r.clone());
        }
        let d = self.world.doctor(key.doctor)?;
        self.world
            .works(d, key.day, key.tt)
            .then(|| self.world.generate_resources(d, *key))
    }

    /// The schedule's time slots, materialised for a change.
    fn resources_mut<'a>(
        &self,
        inv: &'a mut Inventory,
        key: &SchedKey,
    ) -> Option<&'a mut Vec<Res>> {
        if !inv.scheds.contains_key(key) {
            let r = self.resources(inv, key)?;
            inv.scheds.insert(*key, r);
        }
        inv.scheds.get_mut(key)
    }

    /// Adds `count` free numbers to a schedule; returns its (resourceMax, appointedNum).
    fn apply_release(&self, key: &SchedKey, count: u32) -> Result<(u32, u32), String> {
        let mut inv = self
            .inv
            .lock()
            .map_err(|_| "inventory poisoned".to_string())?;
        let res = self
            .resources_mut(&mut inv, key)
            .ok_or_else(|| format!("no schedule {}", key.id()))?;
        for _ in 0..count {
            let target = res
                .iter()
                .enumerate()
                .filter(|(_, r)| r.appointed <= r.max)
                .min_by_key(|(_, r)| r.max)
                .map(|(i, _)| i);
            match target {
                Some(i) => res[i].max += 1,
                None if res.len() < MAX_RESOURCES => res.push(Res {
                    max: 1,
                    appointed: 0,
                }),
                None => {
                    if let Some(r) = res.last_mut() {
                        r.max = r.appointed + 1;
                    }
                }
            }
        }
        Ok(sums(res))
    }

    /// A competitor takes one free number of the schedule, if any is left.
    fn apply_take(&self, key: &SchedKey, at: i64) {
        let name = self
            .rng
            .lock()
            .map(|mut r| gen::person_name(&mut r))
            .unwrap_or_default();
        let Ok(mut inv) = self.inv.lock() else {
            return;
        };
        let fee = self
            .world
            .doctor(key.doctor)
            .map(|d| self.world.fee(d))
            .unwrap_or(0.0);
        let Some(res) = self.resources_mut(&mut inv, key) else {
            return;
        };
        let Some(index) = res.iter().position(|r| r.free() > 0) else {
            return;
        };
        res[index].appointed += 1;
        let order_id = ORDER_ID_BASE + inv.orders.len() as i64;
        inv.orders.push(Order {
            order_id,
            his_take_no: String::new(),
            token: String::new(),
            key: *key,
            index,
            patient: None,
            buyer_name: name,
            competitor: true,
            cancelled: false,
            created_at: at,
            cancelled_at: None,
            cancel_reason: None,
            fee,
        });
    }

    /// The competitors' purchases following a release at `at`.
    fn takes_after(&self, at: i64, key: SchedKey, count: u32, inline: &[Comp]) -> Vec<Event> {
        let Ok(mut rng) = self.rng.lock() else {
            return Vec::new();
        };
        self.comps
            .iter()
            .chain(inline)
            .filter(|c| c.key.is_none_or(|k| k == key))
            .flat_map(|c| {
                let n = c.take.unwrap_or(count).min(count);
                let within = c.within_ms.max(0) as u64;
                (0..n)
                    .map(|_| Event {
                        at: at + rng.range(0, within + 1) as i64,
                        kind: EventKind::Take { key },
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Queues events, keeping `next_due` right.
    fn schedule(&self, new: Vec<Event>) {
        if new.is_empty() {
            return;
        }
        if let Ok(mut evs) = self.events.lock() {
            let first = new.iter().map(|e| e.at).min().unwrap_or(i64::MAX);
            evs.extend(new);
            self.next_due.fetch_min(first, Ordering::AcqRel);
        }
    }

    /// Applies every event due by `now`, in time order.
    fn run_due(&self, now: i64) {
        if now < self.next_due.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut evs) = self.events.lock() else {
            return;
        };
        loop {
            let due = evs
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at <= now)
                .min_by_key(|(_, e)| e.at)
                .map(|(i, _)| i);
            let Some(i) = due else {
                break;
            };
            let ev = evs.swap_remove(i);
            match ev.kind {
                EventKind::Release { key, count, comps } => {
                    if self.apply_release(&key, count).is_ok() {
                        let takes = self.takes_after(ev.at, key, count, &comps);
                        evs.extend(takes);
                    }
                }
                EventKind::Take { key } => self.apply_take(&key, ev.at),
            }
        }
        let next = evs.iter().map(|e| e.at).min().unwrap_or(i64::MAX);
        self.next_due.store(next, Ordering::Release);
    }
}

/// (resourceMax, appointedNum) of a schedule.
fn sums(res: &[Res]) -> (u32, u32) {
    res.iter()
        .fold((0, 0), |(m, a), r| (m + r.max, a + r.appointed))
}

fn time_type(s: &str) -> Option<u8> {
    TIME_TYPES.iter().position(|t| t.0 == s).map(|i| i as u8)
}

/// A schedule named by `schedule_id` (string or number) or `schedule` (pinned index).
fn resolve_key(
    pinned: &[SchedKey],
    index: Option<usize>,
    id: Option<&Value>,
) -> Result<Option<SchedKey>, String> {
    if let Some(i) = index {
        return pinned
            .get(i)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("no pinned schedule #{i}"));
    }
    match id {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            SchedKey::parse(&s)
                .map(Some)
                .ok_or_else(|| format!("“{s}” is not a 91160 scheduleId"))
        }
    }
}

impl Open91160 {
    /// A platform with an empty world until [`Platform::load`].
    pub fn new(shared: Arc<Shared>) -> Open91160 {
        Open91160 {
            shared,
            state: RwLock::new(Arc::new(State::empty())),
        }
    }

    fn state(&self) -> Arc<State> {
        self.state
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn build(&self, seed: u64, section: &Value) -> Result<State, String> {
        let cfg: Config = if section.is_null() {
            Config::default()
        } else {
            serde_json::from_value(section.clone())
                .map_err(|e| format!("bad 91160 section: {e}"))?
        };
        let now = self.shared.clock.now_ms();
        let n_units = cfg.units.unwrap_or(468);
        if n_units == 0 || n_units > 5000 {
            return Err("units must be 1..=5000".into());
        }
        let world = World::generate(seed, n_units, now);
        let mut inv = Inventory::default();
        let mut pinned = Vec::new();
        for (i, p) in cfg.schedules.iter().enumerate() {
            let doctor = match p.doctor_id {
                Some(id) => world
                    .doctor(id)
                    .ok_or_else(|| format!("schedules[{i}]: no doctor {id}"))?,
                None => world
                    .units
                    .first()
                    .and_then(|u| u.deps.first())
                    .and_then(|&d| world.deps[d].doctors.first())
                    .map(|&i| &world.doctors[i])
                    .ok_or_else(|| format!("schedules[{i}]: the world has no doctor"))?,
            };
            let day = match (&p.date, p.day_offset) {
                (Some(d), _) => Date::parse(d)
                    .map_err(|e| format!("schedules[{i}]: {e}"))?
                    .to_days(),
                (None, off) => world.load_day + off.unwrap_or(1),
            };
            let tt_name = p.time_type.as_deref().unwrap_or("am");
            let tt = time_type(tt_name).ok_or_else(|| {
                format!("schedules[{i}]: time_type “{tt_name}” is not am, pm or em")
            })?;
            let n = p.resources.unwrap_or(8);
            if !(1..=MAX_RESOURCES).contains(&n) {
                return Err(format!("schedules[{i}]: resources must be 1..=99"));
            }
            let max = p.resource_max.unwrap_or(n as u32);
            let mut res: Vec<Res> = (0..n)
                .map(|j| Res {
                    max: max / n as u32 + u32::from((j as u32) < max % n as u32),
                    appointed: 0,
                })
                .collect();
            let mut left = p.appointed_num;
            for r in res.iter_mut() {
                let take = left.min(r.max);
                r.appointed = take;
                left -= take;
            }
            if let Some(last) = res.last_mut() {
                last.appointed += left;
            }
            let key = SchedKey {
                doctor: doctor.id,
                day,
                tt,
            };
            inv.scheds.insert(key, res);
            pinned.push(key);
        }
        let resolve_comp = |c: &CompCfg| -> Result<Comp, String> {
            Ok(Comp {
                key: resolve_key(&pinned, c.schedule, c.schedule_id.as_ref())?,
                take: c.take,
                within_ms: c.within_ms,
            })
        };
        let comps = cfg
            .competitors
            .iter()
            .map(resolve_comp)
            .collect::<Result<Vec<_>, _>>()?;
        let mut events = Vec::new();
        for (i, r) in cfg.releases.iter().enumerate() {
            let key = resolve_key(&pinned, r.schedule, r.schedule_id.as_ref())
                .map_err(|e| format!("releases[{i}]: {e}"))?
                .ok_or_else(|| format!("releases[{i}]: needs schedule or schedule_id"))?;
            let exists = inv.scheds.contains_key(&key)
                || world
                    .doctor(key.doctor)
                    .is_some_and(|d| world.works(d, key.day, key.tt));
            if !exists {
                return Err(format!("releases[{i}]: no schedule {}", key.id()));
            }
            events.push(Event {
                at: r.at_ms.unwrap_or(now + r.after_ms.unwrap_or(0)),
                kind: EventKind::Release {
                    key,
                    count: r.count.unwrap_or(1),
                    comps: r
                        .competitors
                        .map(|c| Comp {
                            key: Some(key),
                            take: c.take,
                            within_ms: c.within_ms,
                        })
                        .into_iter()
                        .collect(),
                },
            });
        }
        let tokens = cfg
            .tokens
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_TOKEN.to_string()])
            .into_iter()
            .map(|t| {
                (
                    t,
                    Token {
                        expires_at: cfg.token_ttl_ms.map(|ttl| now + ttl),
                        expired: false,
                    },
                )
            })
            .collect();
        let next_due = events.iter().map(|e| e.at).min().unwrap_or(i64::MAX);
        Ok(State {
            guardian_under: cfg.guardian_under_age.unwrap_or(18),
            token_ttl: cfg.token_ttl_ms,
            comps,
            pinned,
            inv: Mutex::new(inv),
            events: Mutex::new(events),
            next_due: AtomicI64::new(next_due),
            tokens: RwLock::new(tokens),
            rate: cfg.rate_limit.map(|r| RateLimit::new(r.window_ms, r.burst)),
            rng: Mutex::new(Rng::new(seed).fork("91160.competitors")),
            world,
        })
    }

    fn summary(&self) -> Value {
        let st = self.state();
        let w = &st.world;
        let now = self.shared.clock.now_ms();
        let first = w.units.first().map(|u| {
            let dep = &w.deps[u.deps[0]];
            json!({"unitId": u.id, "depId": dep.id, "doctorId": w.doctors[dep.doctors[0]].id,
                   "appointmentOpenTime": u.open_time_text, "appointmentCycleDays": u.cycle_text})
        });
        let tokens: Vec<Value> = st
            .tokens
            .read()
            .map(|m| {
                m.iter()
                    .map(|(t, s)| {
                        json!({"token": t, "valid": !(s.expired || s.expires_at.is_some_and(|e| now >= e)), "expires_at": s.expires_at})
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "units": w.units.len(), "deps": w.deps.len(), "doctors": w.doctors.len(),
            "today": crate::clock::beijing(now).0.to_string(),
            "first": first, "tokens": tokens,
            "pinned": st.pinned.iter().map(|k| k.id()).collect::<Vec<_>>(),
        })
    }

    fn schedule_state(&self, body: &Value) -> Result<Value, String> {
        let st = self.state();
        let key = resolve_key(
            &st.pinned,
            body.get("schedule")
                .and_then(Value::as_u64)
                .map(|i| i as usize),
            body.get("schedule_id"),
        )?
        .ok_or("needs schedule_id or schedule")?;
        let now = self.shared.clock.now_ms();
        let inv = st.inv.lock().map_err(|_| "inventory poisoned")?;
        let res = st
            .resources(&inv, &key)
            .ok_or_else(|| format!("no schedule {}", key.id()))?;
        let visible = st.world.doctor(key.doctor).is_some_and(|d| {
            let (today, last) = st.world.window(&st.world.units[d.unit], now);
            (today..=last).contains(&key.day)
        });
        let (max, app) = sums(&res);
        Ok(json!({
            "scheduleId": key.id(), "visible": visible, "resourceMax": max, "appointedNum": app,
            "resources": res.iter().enumerate().map(|(i, r)| json!({"resourceId": key.resource_id(i), "resourceMax": r.max, "appointedNum": r.appointed})).collect::<Vec<_>>(),
        }))
    }
}

impl Platform for Open91160 {
    fn id(&self) -> &'static str {
        "91160"
    }

    fn routes(self: Arc<Self>) -> Router {
        api::router(self)
    }

    fn load(&self, seed: u64, section: &Value) -> Result<(), String> {
        let st = self.build(seed, section)?;
        match self.state.write() {
            Ok(mut s) => *s = Arc::new(st),
            Err(e) => *e.into_inner() = Arc::new(st),
        }
        Ok(())
    }

    fn tick(&self, now_ms: i64) {
        self.state().run_due(now_ms);
    }

    fn release(&self, spec: &Value) -> Result<Value, String> {
        let st = self.state();
        let key = resolve_key(
            &st.pinned,
            spec.get("schedule")
                .and_then(Value::as_u64)
                .map(|i| i as usize),
            spec.get("schedule_id"),
        )?
        .ok_or("a 91160 release needs schedule_id (or schedule: a pinned index)")?;
        let count = match spec.get("count") {
            None => 1,
            Some(c) => c
                .as_u64()
                .filter(|c| (1..=10_000).contains(c))
                .ok_or("count must be 1..=10000")? as u32,
        };
        let inline: Vec<Comp> = match spec.get("competitors") {
            None | Some(Value::Null) => Vec::new(),
            Some(c) => {
                let c: InlineComp = serde_json::from_value(c.clone())
                    .map_err(|e| format!("bad competitors: {e}"))?;
                vec![Comp {
                    key: Some(key),
                    take: c.take,
                    within_ms: c.within_ms,
                }]
            }
        };
        let now = self.shared.clock.now_ms();
        let at = match (
            spec.get("at_ms").and_then(Value::as_i64),
            spec.get("after_ms").and_then(Value::as_i64),
        ) {
            (Some(at), _) => at,
            (None, Some(after)) => now + after,
            (None, None) => now,
        };
        {
            let inv = st.inv.lock().map_err(|_| "inventory poisoned")?;
            if !st.exists(&inv, &key) {
                return Err(format!("no schedule {}", key.id()));
            }
        }
        if at > now {
            st.schedule(vec![Event {
                at,
                kind: EventKind::Release {
                    key,
                    count,
                    comps: inline,
                },
            }]);
            return Ok(
                json!({"schedule_id": key.id(), "count": count, "at_ms": at, "scheduled": true}),
            );
        }
        let (max, app) = st.apply_release(&key, count)?;
        st.schedule(st.takes_after(at, key, count, &inline));
        Ok(
            json!({"schedule_id": key.id(), "count": count, "at_ms": at, "resourceMax": max, "appointedNum": app}),
        )
    }

    fn orders(&self) -> Value {
        let st = self.state();
        let Ok(inv) = st.inv.lock() else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            inv.orders
                .iter()
                .map(|o| {
                    let doctor = st.world.doctor(o.key.doctor);
                    let (tt, _, start, _) = TIME_TYPES[usize::from(o.key.tt)];
                    let slot = doctor
                        .map(|d| st.world.units[d.unit].slot_minutes)
                        .unwrap_or(30);
                    let begin = start + o.index as i64 * slot;
                    json!({
                        "orderId": o.order_id,
                        "hisTakeNo": o.his_take_no,
                        "status": if o.cancelled { "cancelled" } else { "booked" },
                        "competitor": o.competitor,
                        "unitId": doctor.map(|d| st.world.units[d.unit].id),
                        "depId": doctor.map(|d| st.world.deps[d.dep].id),
                        "doctorId": o.key.doctor,
                        "scheduleId": o.key.id(),
                        "detlId": o.key.resource_id(o.index),
                        "scheduleDate": Date::from_days(o.key.day).to_string(),
                        "timeType": tt,
                        "beginTime": format!("{:02}:{:02}", begin / 60, begin % 60),
                        "resourceFee": o.fee,
                        "trueName": o.patient.as_ref().map(|p| p.true_name.clone()).unwrap_or_else(|| o.buyer_name.clone()),
                        "mobile": o.patient.as_ref().map(|p| p.mobile.clone()),
                        "sex": o.patient.as_ref().map(|p| p.sex),
                        "birthday": o.patient.as_ref().map(|p| p.birthday.clone()),
                        "cardType": o.patient.as_ref().map(|p| p.card_type),
                        "cardNo": o.patient.as_ref().map(|p| p.card_no.clone()),
                        "clinicNo": o.patient.as_ref().map(|p| p.clinic_no.clone()),
                        "address": o.patient.as_ref().map(|p| p.address.clone()),
                        "guardian": o.patient.as_ref().and_then(|p| p.guardian.clone()),
                        "appToken": if o.token.is_empty() { None } else { Some(o.token.clone()) },
                        "createdAt": o.created_at,
                        "cancelledAt": o.cancelled_at,
                        "cancelReason": o.cancel_reason,
                    })
                })
                .collect(),
        )
    }

    fn expire_sessions(&self) {
        let st = self.state();
        if let Ok(mut m) = st.tokens.write() {
            m.values_mut().for_each(|t| t.expired = true);
        };
    }

    fn admin(&self, action: &str, body: &Value) -> Result<Value, String> {
        match action {
            "renew_token" => {
                let st = self.state();
                let now = self.shared.clock.now_ms();
                let fresh = Token {
                    expires_at: st.token_ttl.map(|ttl| now + ttl),
                    expired: false,
                };
                let mut m = st.tokens.write().map_err(|_| "tokens poisoned")?;
                match body.get("token").and_then(Value::as_str) {
                    Some(t) if !t.trim().is_empty() => {
                        m.insert(t.trim().to_string(), fresh);
                    }
                    _ => m.values_mut().for_each(|t| *t = fresh),
                }
                let mut tokens: Vec<&String> = m.keys().collect();
                tokens.sort();
                Ok(json!({"ok": true, "tokens": tokens}))
            }
            "revoke_token" => {
                let st = self.state();
                let t = body
                    .get("token")
                    .and_then(Value::as_str)
                    .ok_or("revoke_token needs {\"token\"}")?;
                let removed = st
                    .tokens
                    .write()
                    .map_err(|_| "tokens poisoned")?
                    .remove(t)
                    .is_some();
                Ok(json!({"ok": true, "removed": removed}))
            }
            "summary" => Ok(self.summary()),
            "schedule" => self.schedule_state(body),
            other => Err(format!(
                "91160 has no admin action “{other}” (renew_token, revoke_token, summary, schedule)"
            )),
        }
    }
}
