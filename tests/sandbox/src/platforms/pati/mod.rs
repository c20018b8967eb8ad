//! The pati_service simulator (seed `002_*.txt`): a hospital SaaS tenant's patient
//! platform — phone + password login → `token`, departments, doctors' AM/PM sessions
//! with numbered serials, pre-submit → submit with a family member, bookings, cancel, and
//! a WeChat pay link for bookings charged online (the simulator never takes money).
//!
//! # Wire format
//!
//! Paths are the seed's, all under `/pati_service/...` on the platform's base URL.
//! GET parameters are query parameters; POST parameters are a JSON body (a form body or
//! query parameters are accepted too). Integers may be sent as numbers or numeric strings.
//!
//! The seed refers to a 《全局约定.md》 it does not include; where it is silent the
//! simulator uses these conventions (adapters should follow them):
//!
//! - **Envelope**, every reply with HTTP 200: `{"code": 0, "msg": "成功", "data": …}`;
//!   errors carry `"data": null` and a Chinese `msg`. Codes:
//!
//!   | code | msg (example) | when |
//!   |---|---|---|
//!   | 0 | 成功 | |
//!   | 401 | 请先登录 / 登录已过期，请重新登录 | no `token` header / unknown or expired token |
//!   | 500 | 系统繁忙，请稍后再试 | |
//!   | 1001 | 参数错误：deptId不能为空 | missing or malformed parameter, unreadable body |
//!   | 1002 | 租户不存在 | a `tenantId` header naming another tenant |
//!   | 1003 | 科室不存在 | |
//!   | 1004 | 医生不存在 | (or not in that department) |
//!   | 2001 | 手机号或密码错误 | |
//!   | 2002 | 该手机号尚未注册 | |
//!   | 2003 | 密码错误次数过多，账号已锁定，请30分钟后再试 | `lock_after` wrong passwords in a row |
//!   | 3001 | 排班不存在 | unknown or not yet released `scheduleId` |
//!   | 3002 | 该号源已被预约，请重新选择 | this serial is taken (or does not exist) |
//!   | 3003 | 该时段号源已约满，请选择其他时段 | the session has nothing left |
//!   | 3004 | 该就诊人已预约该排班，请勿重复预约 | same member, same session |
//!   | 3005 | 就诊人不存在 | memberId not of this account |
//!   | 3006 | 预约记录不存在 | |
//!   | 3007 | 该预约已取消，请勿重复操作 | |
//!   | 3008 | 该排班已停止预约 / 该号源已过预约时间 | the session or serial time has passed |
//!   | 3009 | 已过就诊时间，无法取消预约 | |
//!   | 3010 | 该就诊人在同一时间段已有预约 | `book/schedule` check |
//!
//! - **Auth**: login answers `data: {userId, token}`; every other endpoint (except
//!   `wechat/service_info`) needs the request header `token: <token>` ("请求header中会带
//!   token"). Tokens live `token_ttl_ms` on the simulated clock and die on
//!   `expire_sessions()` (the `session_expired` fault); the reply is then code 401 and a
//!   new login works. An optional `tenantId` header must name this tenant.
//! - **Dates**: `Date` is `yyyy-MM-dd`, `DateTime` is `yyyy-MM-dd HH:mm:ss`, Beijing time
//!   from the simulated clock. `gender` 1 男, 2 女 (`memberGender` is the text).
//! - **Page** replies: `{"pageNo", "pageSize", "total", "pages", "list": [...]}`.
//! - **Ids** are long numeric strings (the tenant's 17 digits, the rest 18).
//! - **普通门诊**: a department's sessions without a doctor. `schedule_by_doctor` and
//!   `schedule_by_date` list it as a row with the doctor fields `null`; `schedule` and
//!   `schedule/info` reach it by leaving `doctorId` empty.
//! - **Payment**: sessions of departments/doctors with `pay` are charged online. Their
//!   bookings carry `visiCharge` (1 未收费, 2 已收费) in `books` and `book/{bookId}`;
//!   bookings without it have no `visiCharge`. `POST book_service/pay/appo_order`
//!   `{appo_id: bookId, open_id?}` answers the seed's fields (`is_success`, `trade_type`
//!   JSAPI with `open_id` else MWEB, `prepay_id`, `out_trade_no`, `url` — a sandbox cashier
//!   page —, `error_code` SUCCESS/FAIL, `error_msg`, `nonce_str`, `sign_type`,
//!   `agency_id`, `timestamp`). Admin action `pay` marks a booking paid.
//! - Unknown paths and wrong methods get Spring Boot's 404 / 405 JSON body.
//!
//! # Endpoints
//!
//! `POST patient_service/login` {phone, password} · `POST patient_service/logout` ·
//! `GET patient_service/members` · `POST patient_service/member` {name, gender,
//! birthday, IDNo, phone} · `GET patient_service/myinfo` · `GET tenant_service/depts` ·
//! `GET tenant_service/schedule_by_date` {deptId, date, pageNo?, pageSize?} ·
//! `GET tenant_service/schedule_by_doctor` {deptId, pageNo?, pageSize?} ·
//! `GET tenant_service/schedule` {deptId, doctorId?, date?} ·
//! `GET tenant_service/schedule/left_appo` {scheduleId} ·
//! `GET tenant_service/schedule/info` {deptId, doctorId?, days?} ·
//! `POST book_service/book/presubmit` {scheduleId, serialNo} ·
//! `POST book_service/book/submit` {scheduleId, serialNo, memberId} ·
//! `GET book_service/books` {pageNo?, pageSize?} · `GET book_service/book/{bookId}` ·
//! `POST book_service/book/cancel` {bookId} · `POST book_service/book/schedule`
//! {scheduleId, memberId} · `POST book_service/pay/appo_order` {appo_id, open_id?} ·
//! `GET wechat/service_info`. Out of scope: registration and password reset (SMS),
//! WeChat configuration, manager_service.
//!
//! # Inventory
//!
//! A session has serials 1…N with times (`08:00`…, `13:30`…). Each serial is free,
//! held (not released yet), taken by another patient, or booked through the API.
//! `leftCount` counts free serials whose time has not passed; `left_appo` lists them;
//! `status` is 1 (可约) when anything is left, else 2 (约满). `book/presubmit` holds
//! nothing; `book/submit` checks and takes the serial under one write lock, so a serial
//! is sold once; the same member cannot book the same session twice; `book/cancel`
//! puts the serial back on sale. Bookings read `bookStatus` 0 已预约, 1 已取消, 3 已失约
//! (after the session ended).
//!
//! The booking window rolls: a day becomes visible (放号) `days_ahead` days before, at
//! `release_time` (Beijing), with every serial free; before that its sessions do not
//! exist for clients (`schedule` shows `null`, `scheduleId` answers 3001).
//!
//! # Scenario section (`pati:`), every field optional
//!
//! ```yaml
//! pati:
//!   tenant: {id: "49015907598734210", name: "杭州市第一人民医院", phone: "0571-87000000"}
//!   days_ahead: 7            # bookable window (days)
//!   release_time: "08:00"    # when the next day opens, Beijing
//!   department_count: 8      # generated departments (when `departments` is absent)
//!   doctors_per_dept: 4
//!   departments:             # or explicit ones
//!     - name: 心血管内科
//!       id: "..."            # optional
//!       pay: false           # bookings charged online
//!       general: true        # runs a 普通门诊
//!       doctor_count: 3      # or doctors:
//!       doctors:
//!         - {name: 张伟, title: 主任医师, id: "...", pay: true, bookfee: 60.0,
//!            weekdays: [1, 3], periods: [AM]}
//!   serials: [12, 24]        # serials per doctor session (min, max)
//!   taken_ratio: 0.5         # share of serials others hold in already-open sessions
//!   full_ratio: 0.2          # share of already-open sessions that are full
//!   token_ttl_ms: 7200000
//!   single_session: false    # a new login ends the account's older tokens
//!   lock_after: 5            # wrong passwords in a row before a lock (0: never)
//!   lock_ms: 1800000
//!   pay_timeout_ms: 0        # unpaid online-charged bookings are cancelled after (0: never)
//!   accounts:                # default: 13812345678 / pati123456 with 3 members
//!     - phone: "13900000001"
//!       password: "secret"
//!       member_count: 2      # or members: [{name, gender, birthday, IDNo, phone, default, id}]
//!   schedules:               # reshape (or add) sessions: `count` serials, the first
//!                            # `held` not released yet, the next `left` free, the rest taken
//!     - {dept: 心血管内科, doctor: 张伟, day: 1, period: AM, count: 20, left: 0, held: 5}
//!   releases:                # at_ms (absolute, simulated clock) or in_ms (after load)
//!     - {dept: 心血管内科, doctor: 张伟, day: 1, period: AM, count: 3, in_ms: 60000,
//!        competitors: {take: 1, within_ms: 100}}
//!   competitors:             # other buyers at every matching release (and auto-open)
//!     - {dept: 心血管内科, take: 2, within_ms: 300}
//! ```
//!
//! Targets (in `schedules`, `releases`, `competitors`, the release spec and admin
//! actions): `schedule_id`, `dept` or `dept_id` (name or id), `doctor` or `doctor_id`
//! (name or id), `general: true` (the 普通门诊 only), `date` (`YYYY-MM-DD`) or `day`
//! (days from today), `period` (`AM`/`PM`). Absent parts match anything; a
//! `schedules`/`releases` entry naming one missing session (department or doctor, day,
//! period; no doctor = 普通门诊) adds it.
//!
//! # Admin
//!
//! - Release spec (`POST /release`): `{"platform": "pati", <target>, "count"?: N,
//!   "at_ms"?: ms, "in_ms"?: ms, "competitors"?: {"take", "within_ms"}}` — frees `count`
//!   held serials (all held ones when absent), adding serials (加号) when there are not
//!   enough; makes the session visible; schedules the competitors.
//! - `POST /platform/pati/info`: tenant, departments with doctors, accounts (with
//!   passwords and member ids).
//! - `POST /platform/pati/sessions` `<target>`: matching sessions with counts.
//! - `POST /platform/pati/take` `<target> + count`: other buyers take serials now.
//! - `POST /platform/pati/pay` `{"bookId"}`: the person paid (visiCharge 2).
//! - `POST /platform/pati/expire_sessions`: every token dies.

mod api;
pub mod config;
pub mod world;

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::http::HeaderMap;
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use world::{code, ApiErr, World};

/// A live login.
struct Session {
    account: usize,
    expires_at: i64,
}

/// The pati platform.
pub struct Pati {
    shared: Arc<Shared>,
    world: RwLock<World>,
    sessions: RwLock<HashMap<String, Session>>,
    /// When the world's next scripted event is due (checked without a lock on every
    /// request).
    next_due: AtomicI64,
}

impl Pati {
    /// An empty platform; `load` fills it.
    pub fn new(shared: Arc<Shared>) -> Pati {
        Pati {
            shared,
            world: RwLock::new(World::empty()),
            sessions: RwLock::new(HashMap::new()),
            next_due: AtomicI64::new(i64::MAX),
        }
    }

    fn now(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    fn read(&self) -> RwLockReadGuard<'_, World> {
        self.world.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` under the write lock and notes the next due event.
    fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.world.write().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut w);
        self.next_due.store(w.next_due(), Ordering::Release);
        r
    }

    fn login(&self, phone: &str, password: &str) -> Result<Value, ApiErr> {
        let valid = phone.len() == 11
            && phone.starts_with('1')
            && phone.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(ApiErr(code::BAD_PARAM, "手机号格式不正确".into()));
        }
        let now = self.now();
        let (account, user_id, token, single) = self.write(|w| {
            let Some(a) = w.account_by_phone(phone) else {
                return Err(ApiErr(code::NO_ACCOUNT, "该手机号尚未注册".into()));
            };
            let (lock_after, lock_ms) = (w.cfg.lock_after, w.cfg.lock_ms);
            let acc = &mut w.accounts[a];
            let locked = || {
                ApiErr(
                    code::LOCKED,
                    format!(
                        "密码错误次数过多，账号已锁定，请{}分钟后再试",
                        (lock_ms + 59_999) / 60_000
                    ),
                )
            };
            if acc.locked_until > now {
                return Err(locked());
            }
            if acc.password != password {
                acc.failures += 1;
                if lock_after > 0 && acc.failures >= lock_after {
                    acc.failures = 0;
                    acc.locked_until = now + lock_ms;
                    return Err(locked());
                }
                return Err(ApiErr(code::BAD_LOGIN, "手机号或密码错误".into()));
            }
            acc.failures = 0;
            let user_id = acc.user_id.clone();
            let token = w.token_hex();
            Ok((a, user_id, token, w.cfg.single_session))
        })?;
        let ttl = self.read().cfg.token_ttl_ms;
        let mut sessions = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        if single {
            sessions.retain(|_, s| s.account != account);
        }
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(
            token.clone(),
            Session {
                account,
                expires_at: now + ttl,
            },
        );
        Ok(json!({"userId": user_id, "token": token}))
    }

    fn logout(&self, headers: &HeaderMap) {
        if let Some(t) = headers.get("token").and_then(|v| v.to_str().ok()) {
            self.sessions
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(t.trim());
        }
    }

    /// The account of the request's `token` header.
    fn account_of(&self, headers: &HeaderMap, now: i64) -> Result<usize, ApiErr> {
        let Some(token) = headers
            .get("token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(ApiErr(code::NOT_LOGGED_IN, "请先登录".into()));
        };
        let expired = || ApiErr(code::NOT_LOGGED_IN, "登录已过期，请重新登录".into());
        let sessions = self.sessions.read().unwrap_or_else(|e| e.into_inner());
        match sessions.get(token) {
            Some(s) if s.expires_at > now => Ok(s.account),
            _ => Err(expired()),
        }
    }
}

impl Platform for Pati {
    fn id(&self) -> &'static str {
        "pati"
    }

    /// The `token` header.
    fn log_session(&self, headers: &HeaderMap) -> Option<String> {
        let token = headers.get("token")?.to_str().ok()?;
        crate::shared::short_session(token)
    }

    fn routes(self: Arc<Self>) -> Router {
        api::routes(self)
    }

    fn load(&self, seed: u64, section: &Value) -> Result<(), String> {
        let world = World::generate(seed, section, self.now())?;
        self.write(|w| *w = world);
        self.expire_sessions();
        Ok(())
    }

    fn tick(&self, now_ms: i64) {
        if now_ms >= self.next_due.load(Ordering::Acquire) {
            self.write(|w| w.run_due(now_ms));
        }
    }

    fn release(&self, spec: &Value) -> Result<Value, String> {
        let spec: config::Spec = serde_json::from_value(spec.clone())
            .map_err(|e| format!("bad pati release spec: {e}"))?;
        let now = self.now();
        self.write(|w| w.release(&spec, now))
    }

    fn orders(&self) -> Value {
        self.read().orders_json(self.now())
    }

    fn expire_sessions(&self) {
        self.sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn admin(&self, action: &str, body: &Value) -> Result<Value, String> {
        let now = self.now();
        let spec = || -> Result<config::Spec, String> {
            if body.is_null() {
                return Ok(config::Spec::default());
            }
            serde_json::from_value(body.clone()).map_err(|e| format!("bad target: {e}"))
        };
        match action {
            "info" => Ok(self.read().info_admin()),
            "sessions" => self.read().sessions_admin(&spec()?, now),
            "take" => {
                let spec = spec()?;
                self.write(|w| w.take_now(&spec, now))
            }
            "pay" => {
                let id = body
                    .get("bookId")
                    .and_then(Value::as_str)
                    .ok_or("pay needs {\"bookId\"}")?;
                self.write(|w| w.mark_paid(id))
            }
            "expire_sessions" => {
                self.expire_sessions();
                Ok(json!({"ok": true}))
            }
            _ => Err(format!(
                "pati has no admin action “{action}” (info, sessions, take, pay, expire_sessions)"
            )),
        }
    }
}
