//! The 114yygh simulator (北京114预约挂号, web API as of 2022–23), following seed `000`
//! and the 114yygh section of `platforms.md` field by field.
//!
//! ## Endpoints (all under the platform's base URL)
//!
//! | route | login | what |
//! |---|---|---|
//! | `GET /web/hospital/list?keywords=&levelId=&areaId=&pageNo=&pageSize=` | no | `{count, list: [{code, name, levelText, openTimeText, picture, maintain}]}` |
//! | `GET /web/hospital/detail?hosCode=` | no | includes `openTimeView` (`HH:MM`) and `bookingRange` |
//! | `GET /web/department/hos/list?hosCode=` | no | `{list: [{code, name, subList: [{code, dept1Code, hotDept, name}]}]}` |
//! | `POST /web/product/list` | yes | calendar of one week: `AVAILABLE`/`SOLD_OUT`/`NO_INVENTORY`/`TOMORROW_OPEN`, `fhTimestamp`, `totalWeek` |
//! | `POST /web/product/detail` | yes | `MORNING`/`AFTERNOON` blocks; `fcode`/`ncode` PUA entities, `wnumber` odd iff bookable |
//! | `GET /web/img/getImgCode` | no | PNG with four digits (answer: admin `GET /captcha?platform=114yygh`, keyed by `imed_session`) |
//! | `GET /web/checkcode?code=` | no | `data: true/false` |
//! | `GET /web/common/verify-code/get?mobile=&smsKey=LOGIN&code=` | no | SMS to the phone inbox (`mobile` AES; `code` the picture's digits) |
//! | `GET /web/common/verify-code/get?mobile=&smsKey=ORDER_CODE&uniqProductKey=` | yes | SMS for `order/save` |
//! | `POST /web/login` `{mobile, code}` (both AES) | no | sets `cmi-user-ticket` |
//! | `GET /web/user/real-name/status` | yes | `{status, name, idTypeView, idNo, message}` |
//! | `GET /web/patient/list?showType=ORDER_CONFIRM` | yes | `{count, list}` of patients with `cardList` |
//! | `POST /web/product/confirm` | yes | the seed's shape plus `confirmToken` |
//! | `POST /web/order/save` | yes | `{orderNo, lineup}` |
//! | `GET /web/order/detail?hosCode=&orderNo=` | yes | the seed's shape |
//! | `GET`/`POST /web/order/cancel?orderNo=&hosCode=` | yes | the slot goes back on sale |
//! | `GET /web/font/{name}` | no | the TrueType font of a `dutyImgUrl` (no extension) |
//! | `GET /`, `/index.html`, `/html/{*rest}` | no | a minimal HTML page (`北京114预约挂号 · sandbox`), where a browser tab opens the site; no `Request-Source` needed, never rate limited |
//!
//! `dutyImgUrl` is protocol-relative like the real one (`//127.0.0.1:PORT/web/font/<md5>`)
//! and the font changes from reply to reply (round robin over the set), so clients must
//! handle several fonts. Every `/web` call may carry `_time=<ms>` (ignored); all but the
//! captcha image and the fonts need the header `Request-Source: PC` (else `resCode
//! 10000` 渠道非法). A request without `imed_session` gets one (`imed_session`,
//! `imed_session_tm`, `secure-key` cookies), the page included. Every cookie is
//! `Path=/; HttpOnly` with no `Secure` and no `SameSite` (browsers treat it as `Lax`).
//! The request log's `session` is the first 8 characters of the request's
//! `cmi-user-ticket` (absent before a login).
//!
//! ## Envelope and codes
//! New (default): `{"resCode": 0, "msg": null, "data": ...}`. With `legacy_envelope`:
//! `{"data": .., "hasError": bool, "code": 200 | err, "msg": "OK" | err}`.
//!
//! | new | legacy | when |
//! |---|---|---|
//! | 102 (data null) | 2009 | not logged in / session expired |
//! | 7001 | 7001 | SMS code wrong |
//! | 7002 | 7002 | image captcha wrong (`图形验证码输入错误`) |
//! | 7003 | 7003 | SMS asked again within `sms_interval_ms` |
//! | 8008 | 8008 | final for this order: already booked, sold out, outside the release window (legacy: 4023), cancelled |
//! | 8009 | 8009 | `confirmToken` missing/expired: confirm again |
//! | 6001 | 6001 | account not real-name verified |
//! | 10000 | 10000 | 渠道非法: no `Request-Source: PC` |
//! | 1001 / 1002 | same | bad parameter / no such hospital, clinic or order |
//!
//! `product/detail` of a date not open yet answers `data: []` (legacy: `4023`
//! 不在放号周期内). `dataItem` fields are 1 = shown, 2 = hidden, 4 = required;
//! `dataItem.smsCode` is 4 when the scenario sets `order_sms`, else 2. HTTP 403 (an HTML
//! page) when one session polls `product/list`/`product/detail` faster than `rate_limit`.
//!
//! ## Releases and competitors
//! Each hospital releases, every day at `openTimeView` Beijing time by the simulated
//! clock, the date `bookingRange` days ahead (`TOMORROW_OPEN` before, `AVAILABLE` after).
//! Explicit releases (scenario `releases`, admin `POST /release`) add slots to a clinic's
//! day and open that day from their time on:
//! `{"platform": "114yygh", "hos_code": "270", "dept": "<secondDeptCode, default: first clinic>",
//! "date": "YYYY-MM-DD" | days_from_today, "duty": "MORNING", "count": 1, "at_ms"?: ms,
//! "after_ms"?: ms, "doctor"?: name, "title"?, "fee"?}` (`at_ms` in the future schedules it).
//! Competitors take released slots `within_ms` after each release that matches them.
//!
//! ## Scenario section `114yygh` (every field optional)
//! ```yaml
//! 114yygh:
//!   legacy_envelope: false        # old {data, hasError, code, msg} envelope
//!   require_request_source: true  # 10000 without `Request-Source: PC`
//!   rate_limit: {window_ms: 10000, burst: 5}   # polls per session; burst 0 = off
//!   order_sms: false              # dataItem.smsCode 4: order/save needs an ORDER_CODE SMS
//!   confirm_token: true           # confirm issues confirmToken, order/save requires it
//!   hospital_count: 300           # generated hospitals
//!   fonts: {count: 3, typeface: dejavu-sans}  # obfuscation fonts (see fonts.rs)
//!   session_ttl_ms: 0             # idle expiry of a login (0: never; the fault still works)
//!   sms_interval_ms: 60000        # min time between two SMS of one mobile and kind
//!   sold_out_ratio: 0.5           # share of products already gone on dates open before first sight
//!   accounts:                     # unknown mobiles get a generated verified account
//!     - mobile: "17796761085"
//!       name: 黄贺                # optional (generated)
//!       id_no: "411423199001012113"
//!       real_name: true
//!       patients:                 # default: the holder, with a social-security and an ID card
//!         - {name: 黄贺, id_no: "...", phone: "...", cards: [{type: SOCIAL_SECURITY, no: "12980000600X", medicare: MEDICARE_CARD}]}
//!   hospitals:                    # override generated hospitals by code, or add new ones
//!     - {code: "270", open_time: "08:30", booking_range: 7, name: ..., level_id: 1, area_id: 3, maintain: false, periods: false, every_day: false}
//!   inventory:                    # a clinic-day's products are exactly the declared ones
//!     - {hos_code: "270", dept: "200052524", date: 7, duty: MORNING, doctor: 刘一涵, title: 副主任医师, fee: "100", count: 1, periods: false}
//!   releases:                     # as the release spec above
//!     - {hos_code: "270", date: 7, duty: AFTERNOON, count: 2, after_ms: 60000}
//!   competitors:                  # other buyers
//!     - {hos_code: "270", dept: ..., date: ..., duty: ..., within_ms: 200, take: 1}
//! ```
//!
//! ## Admin actions (`POST /platform/114yygh/{action}`)
//! `expire_sessions`; `hospital` `{hos_code}` → the hospital with its clinics;
//! `slots` `{hos_code, dept?, date}` → the real remaining counts; `taken_by_others`;
//! `accounts`; `fonts` → the font names.

pub mod auth;
pub mod booking;
pub mod captcha;
pub mod catalog;
pub mod config;
pub mod data;
pub mod fonts;
pub mod inventory;

use crate::gen::Rng;
use crate::platforms::Platform;
use crate::shared::{RateLimit, Shared};
use crate::web;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use config::{duty_index, DateRef, ReleaseCfg, Section};
use data::World;
use fonts::{FontSet, ObfuscatedFont};
use inventory::{beijing_day, Competitor, Env, Inventory, Release};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Resolved scenario settings.
#[derive(Clone, Debug)]
pub(crate) struct Cfg {
    pub legacy: bool,
    pub require_source: bool,
    pub order_sms: bool,
    pub confirm_token: bool,
    pub session_ttl_ms: i64,
    pub sms_interval_ms: i64,
    pub sold_out_ratio: f64,
}

/// Mutable state, behind one lock.
pub(crate) struct State {
    pub inv: Inventory,
    pub auth: auth::Auth,
    pub orders: Vec<booking::Order>,
    pub rng: Rng,
}

/// One loaded world (replaced as a whole by `load`).
pub(crate) struct Loaded {
    pub seed: u64,
    pub cfg: Cfg,
    pub world: World,
    pub fonts: Arc<FontSet>,
    font_rr: AtomicUsize,
    rate: RateLimit,
    loaded_at: i64,
    competitors: Vec<Competitor>,
    next_due: AtomicI64,
    state: Mutex<State>,
}

impl Loaded {
    fn empty() -> Loaded {
        Loaded {
            seed: 0,
            cfg: Cfg {
                legacy: false,
                require_source: true,
                order_sms: false,
                confirm_token: true,
                session_ttl_ms: 0,
                sms_interval_ms: 60_000,
                sold_out_ratio: 0.5,
            },
            world: World::default(),
            fonts: Arc::new(FontSet { fonts: Vec::new() }),
            font_rr: AtomicUsize::new(0),
            rate: RateLimit::new(10_000, 0),
            loaded_at: 0,
            competitors: Vec::new(),
            next_due: AtomicI64::new(i64::MAX),
            state: Mutex::new(State {
                inv: Inventory::default(),
                auth: auth::Auth::default(),
                orders: Vec::new(),
                rng: Rng::new(0),
            }),
        }
    }

    /// The state lock (a poisoned lock is still used: no handler leaves it half-done).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the inventory needs to know.
    pub fn env(&self) -> Env<'_> {
        Env {
            world: &self.world,
            seed: self.seed,
            sold_out_ratio: self.cfg.sold_out_ratio,
            competitors: &self.competitors,
            loaded_at: self.loaded_at,
        }
    }

    /// Records when the next scheduled event is due (read by `tick` without the lock).
    pub fn update_due(&self, st: &State) {
        self.next_due.store(st.inv.next_due(), Ordering::Relaxed);
    }

    /// Resolves a release spec against the world and today.
    fn resolve_release(&self, r: &ReleaseCfg, now: i64) -> Result<(Release, i64), String> {
        let (clinic, day) = self.resolve_place(&r.hos_code, r.dept.as_deref(), &r.date, now)?;
        let duty = duty_index(r.duty.as_deref())?;
        let at = match (r.at_ms, r.after_ms) {
            (Some(at), _) => at,
            (None, Some(after)) => now.saturating_add(after),
            (None, None) => now,
        };
        Ok((
            Release {
                clinic,
                day,
                duty,
                count: r.count,
                doctor: r.doctor.clone(),
                title: r.title.clone(),
                fee: r.fee.clone(),
            },
            at,
        ))
    }

    fn resolve_place(
        &self,
        hos_code: &str,
        dept: Option<&str>,
        date: &DateRef,
        now: i64,
    ) -> Result<(usize, i64), String> {
        let h = self
            .world
            .hospital(hos_code)
            .ok_or_else(|| format!("no hospital “{hos_code}”"))?;
        let clinic = match dept {
            Some(d) => *h
                .clinic_by_code
                .get(d)
                .ok_or_else(|| format!("hospital {hos_code} has no clinic “{d}”"))?,
            None => *h
                .depts
                .first()
                .and_then(|d| d.subs.first())
                .ok_or_else(|| format!("hospital {hos_code} has no clinic"))?,
        };
        Ok((clinic, resolve_date(date, now)?))
    }
}

fn resolve_date(d: &DateRef, now: i64) -> Result<i64, String> {
    match d {
        DateRef::Offset(n) if n.abs() <= 3660 => Ok(beijing_day(now) + n),
        DateRef::Offset(n) => Err(format!("{n} days from today is too far")),
        DateRef::Date(s) => haoyuan_core::date::Date::parse(s.trim())
            .map(|d| d.to_days())
            .map_err(|e| e.to_string()),
    }
}

/// Why a call failed, in the platform's own words.
#[derive(Clone, Debug)]
pub(crate) enum ApiError {
    /// 102 (legacy 2009), `data: null`.
    NotLoggedIn,
    /// 10000 渠道非法.
    Channel,
    /// Outside the release window: 8008 (legacy 4023).
    OutsideWindow,
    /// Any other code, the same in both envelopes.
    Code(i64, String),
}

/// The value of a JSON field as a string (numbers too: the site's pages send both).
pub(crate) fn field(v: &Value, name: &str) -> Option<String> {
    match v.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One request being handled.
pub(crate) struct Req<'a> {
    pub l: &'a Loaded,
    pub shared: &'a Shared,
    pub headers: &'a HeaderMap,
    pub q: HashMap<String, String>,
    pub body: Bytes,
    pub now: i64,
    /// `imed_session` (created when the request had none).
    pub session: String,
    /// The logged-in mobile, when the request carries a valid ticket.
    pub mobile: Option<String>,
    /// Cookies to set on the reply.
    pub cookies: Vec<String>,
}

impl<'a> Req<'a> {
    /// The logged-in mobile, or 102.
    pub fn user(&self) -> Result<String, ApiError> {
        self.mobile.clone().ok_or(ApiError::NotLoggedIn)
    }

    /// The JSON body (an object).
    pub fn json(&self) -> Result<Value, ApiError> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(ApiError::Code(1001, "请求参数错误".into())),
        }
    }

    /// The font for this reply (round robin) and its protocol-relative URL.
    pub fn font(&self) -> (String, Option<&'a ObfuscatedFont>) {
        let fonts = &self.l.fonts.fonts;
        if fonts.is_empty() {
            return (String::new(), None);
        }
        let f = &fonts[self.l.font_rr.fetch_add(1, Ordering::Relaxed) % fonts.len()];
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .unwrap_or("");
        let url = if host.is_empty() {
            format!("/web/font/{}", f.name)
        } else {
            format!("//{host}/web/font/{}", f.name)
        };
        (url, Some(f))
    }
}

/// The endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ep {
    HospitalList,
    HospitalDetail,
    DepartmentList,
    ProductList,
    ProductDetail,
    ImgCode,
    CheckCode,
    VerifyCode,
    Login,
    RealName,
    PatientList,
    Confirm,
    OrderSave,
    OrderDetail,
    OrderCancel,
}

impl Ep {
    /// Endpoints polled by watchers: rate limited per session.
    fn polled(self) -> bool {
        matches!(self, Ep::ProductList | Ep::ProductDetail)
    }
}

/// Seed, count and typeface of a font set.
type FontKey = (u64, usize, String);

/// Declared products of one clinic and day, with their duty.
type Declared = ((usize, i64), Vec<(usize, inventory::Product)>);

/// The 114yygh platform.
pub struct Yygh114 {
    shared: Arc<Shared>,
    loaded: RwLock<Arc<Loaded>>,
    /// Fonts of the last load, reused when seed, count and typeface are the same.
    font_cache: Mutex<Option<(FontKey, Arc<FontSet>)>>,
}

impl Yygh114 {
    /// The simulator, with an empty world until [`Platform::load`] generates one.
    pub fn new(shared: Arc<Shared>) -> Yygh114 {
        Yygh114 {
            shared,
            loaded: RwLock::new(Arc::new(Loaded::empty())),
            font_cache: Mutex::new(None),
        }
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The font set for these parameters (generated once, then reused while a
    /// scenario asks for the same seed, count and typeface).
    fn fonts_for(&self, seed: u64, count: usize, typeface: &str) -> Result<Arc<FontSet>, String> {
        let key = (seed, count, typeface.to_string());
        let mut cache = self.font_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, f)) = cache.as_ref() {
            if *k == key {
                return Ok(f.clone());
            }
        }
        let f = Arc::new(FontSet::generate(seed, count, typeface)?);
        *cache = Some((key, f.clone()));
        Ok(f)
    }

    fn api(&self, ep: Ep, headers: &HeaderMap, query: Option<String>, body: Bytes) -> Response {
        let l = self.loaded();
        let now = self.shared.clock.now_ms();
        let (session, cookies) = imed_session(&l, headers, now);
        let ticket = web::cookie(headers, "cmi-user-ticket").filter(|s| !s.is_empty());
        if ep.polled() {
            let key = ticket
                .clone()
                .or_else(|| web::cookie(headers, "imed_session"))
                .unwrap_or_else(|| "anonymous".into());
            if !l.rate.allow(&key, now) {
                return too_frequent();
            }
        }
        let legacy = l.cfg.legacy;
        if l.cfg.require_source
            && ep != Ep::ImgCode
            && !headers
                .get("request-source")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("PC"))
        {
            return with_cookies(envelope(legacy, Err(ApiError::Channel)), &cookies);
        }
        let mobile = ticket.and_then(|t| l.lock().auth.mobile_of(&t, now, l.cfg.session_ttl_ms));
        let mut r = Req {
            l: &l,
            shared: &self.shared,
            headers,
            q: web::parse_urlencoded(query.as_deref().unwrap_or("")),
            body,
            now,
            session,
            mobile,
            cookies,
        };
        let result = match ep {
            Ep::HospitalList => catalog::hospital_list(&mut r),
            Ep::HospitalDetail => catalog::hospital_detail(&mut r),
            Ep::DepartmentList => catalog::department_list(&mut r),
            Ep::ProductList => catalog::product_list(&mut r),
            Ep::ProductDetail => catalog::product_detail(&mut r),
            Ep::ImgCode => {
                let png = auth::get_img_code(&mut r);
                let mut resp =
                    ([(header::CONTENT_TYPE, "image/png")], Body::from(png)).into_response();
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                return with_cookies(resp, &r.cookies);
            }
            Ep::CheckCode => auth::checkcode(&mut r),
            Ep::VerifyCode => auth::verify_code_get(&mut r),
            Ep::Login => auth::login(&mut r),
            Ep::RealName => auth::real_name_status(&mut r),
            Ep::PatientList => auth::patient_list(&mut r),
            Ep::Confirm => booking::confirm(&mut r),
            Ep::OrderSave => booking::order_save(&mut r),
            Ep::OrderDetail => booking::order_detail(&mut r),
            Ep::OrderCancel => booking::order_cancel(&mut r),
        };
        with_cookies(envelope(legacy, result), &r.cookies)
    }

    /// `GET /`, `/index.html`, `/html/...`: a page to open the site in a browser tab
    /// (where an extension's content script runs). Not rate limited, no
    /// `Request-Source` needed; a client without `imed_session` gets one, as on `/web`.
    fn page(&self, headers: &HeaderMap) -> Response {
        let l = self.loaded();
        let (_, cookies) = imed_session(&l, headers, self.shared.clock.now_ms());
        let mut resp = web::text("text/html; charset=utf-8", PAGE.to_string());
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        with_cookies(resp, &cookies)
    }

    fn font_file(&self, name: &str) -> Response {
        let l = self.loaded();
        match l.fonts.font(name) {
            Some(f) => {
                let mut resp = web::bytes("application/octet-stream", f.ttf.clone());
                resp.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("max-age=2592000"),
                );
                resp
            }
            None => (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>404 Not Found</h1></body></html>",
            )
                .into_response(),
        }
    }

    fn admin_slots(&self, l: &Loaded, body: &Value) -> Result<Value, String> {
        let hos = field(body, "hos_code").ok_or("slots needs hos_code")?;
        let date: DateRef = serde_json::from_value(body.get("date").cloned().unwrap_or(json!(0)))
            .map_err(|e| format!("bad date: {e}"))?;
        let dept = field(body, "dept");
        let now = self.shared.clock.now_ms();
        let (ci, day) = l.resolve_place(&hos, dept.as_deref(), &date, now)?;
        let env = l.env();
        let mut st = l.lock();
        st.inv.ensure(&env, ci, day, now);
        l.update_due(&st);
        let Some(dd) = st.inv.get(ci, day) else {
            return Ok(Value::Null);
        };
        let duties: Vec<Value> = dd
            .duties
            .iter()
            .enumerate()
            .map(|(duty, ps)| {
                json!({
                    "dutyCode": inventory::DUTIES[duty],
                    "products": ps.iter().map(|p| json!({
                        "uniqProductKey": p.key,
                        "doctorName": p.doctor,
                        "doctorTitleName": p.title,
                        "fee": p.fee,
                        "remaining": p.remaining,
                        "total": p.total,
                        "periods": p.periods.iter().map(|x| json!({
                            "uniqProductKey": x.key, "dutyTime": x.duty_time,
                            "periodView": x.view, "remaining": x.remaining,
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let c = &l.world.clinics[ci];
        Ok(json!({
            "hosCode": hos,
            "firstDeptCode": c.dept1_code,
            "secondDeptCode": c.code,
            "date": inventory::date_string(day),
            "open": dd.is_open(now),
            "dailyOpenAt": dd.daily_open_at,
            "duties": duties,
        }))
    }
}

/// Wraps a handler result in the platform's envelope.
///
/// Written by hand so that the envelope's keys come in the site's order
/// (`resCode, msg, data`; legacy `data, hasError, code, msg`).
fn envelope(legacy: bool, r: Result<Value, ApiError>) -> Response {
    let (data, new, old, msg) = match r {
        Ok(data) => (data, 0, 200, None),
        Err(e) => {
            let (new, old, msg) = match e {
                ApiError::NotLoggedIn => (102, 2009, "用户未登录".to_string()),
                ApiError::Channel => (10000, 10000, "渠道非法".to_string()),
                ApiError::OutsideWindow => (8008, 4023, "不在放号周期内".to_string()),
                ApiError::Code(c, m) => (c, c, m),
            };
            (Value::Null, new, old, Some(msg))
        }
    };
    let data = serde_json::to_string(&data).unwrap_or_else(|_| "null".into());
    let body = if legacy {
        let msg = serde_json::to_string(msg.as_deref().unwrap_or("OK")).unwrap_or_default();
        format!(
            "{{\"data\":{data},\"hasError\":{},\"code\":{old},\"msg\":{msg}}}",
            new != 0
        )
    } else {
        let msg = match &msg {
            Some(m) => serde_json::to_string(m).unwrap_or_default(),
            None => "null".into(),
        };
        format!("{{\"resCode\":{new},\"msg\":{msg},\"data\":{data}}}")
    };
    (
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// The request's `imed_session`, or a new one with the cookies that set it
/// (`imed_session`, `imed_session_tm`, `secure-key`) when it has none.
fn imed_session(l: &Loaded, headers: &HeaderMap, now: i64) -> (String, Vec<String>) {
    if let Some(s) = web::cookie(headers, "imed_session").filter(|s| !s.is_empty()) {
        return (s, Vec::new());
    }
    let mut st = l.lock();
    let s = format!(
        "{}_{}",
        st.rng.string(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            32
        ),
        5_500_000 + st.rng.range(0, 99_999)
    );
    let key = format!(
        "{}-{}-{}-{}-{}",
        st.rng.hex(8),
        st.rng.hex(4),
        st.rng.hex(4),
        st.rng.hex(4),
        st.rng.hex(12)
    );
    let cookies = vec![
        web::set_cookie("imed_session", &s),
        web::set_cookie("imed_session_tm", &now.to_string()),
        web::set_cookie("secure-key", &key),
    ];
    (s, cookies)
}

/// The site's page (`GET /`): only there for a browser tab to be "on the site".
const PAGE: &str = "<!DOCTYPE html>
<html lang=\"zh-CN\">
<head>
<meta charset=\"utf-8\">
<title>北京114预约挂号 · sandbox</title>
</head>
<body>
<h1>北京114预约挂号 · sandbox</h1>
<p>This is the Haoyuan sandbox of 114yygh (北京114预约挂号), a simulator of the site on
127.0.0.1 for tests and the demo. Its web API is under <code>/web/…</code>.</p>
</body>
</html>
";

fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(h) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    resp
}

fn too_frequent() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p>访问过于频繁，请稍后再试。</p></body></html>",
    )
        .into_response()
}

macro_rules! api {
    ($ep:expr) => {
        |AxState(p): AxState<Arc<Yygh114>>,
         headers: HeaderMap,
         RawQuery(q): RawQuery,
         body: Bytes| async move { p.api($ep, &headers, q, body) }
    };
}

async fn page(AxState(p): AxState<Arc<Yygh114>>, headers: HeaderMap) -> Response {
    p.page(&headers)
}

impl Platform for Yygh114 {
    fn id(&self) -> &'static str {
        "114yygh"
    }

    fn routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/web/hospital/list", get(api!(Ep::HospitalList)))
            .route("/web/hospital/detail", get(api!(Ep::HospitalDetail)))
            .route("/web/department/hos/list", get(api!(Ep::DepartmentList)))
            .route("/web/product/list", post(api!(Ep::ProductList)))
            .route("/web/product/detail", post(api!(Ep::ProductDetail)))
            .route("/web/img/getImgCode", get(api!(Ep::ImgCode)))
            .route("/web/checkcode", get(api!(Ep::CheckCode)))
            .route("/web/common/verify-code/get", get(api!(Ep::VerifyCode)))
            .route("/web/login", post(api!(Ep::Login)))
            .route("/web/user/real-name/status", get(api!(Ep::RealName)))
            .route("/web/patient/list", get(api!(Ep::PatientList)))
            .route("/web/product/confirm", post(api!(Ep::Confirm)))
            .route("/web/order/save", post(api!(Ep::OrderSave)))
            .route("/web/order/detail", get(api!(Ep::OrderDetail)))
            .route(
                "/web/order/cancel",
                get(api!(Ep::OrderCancel)).post(api!(Ep::OrderCancel)),
            )
            .route(
                "/web/font/{name}",
                get(
                    |AxState(p): AxState<Arc<Yygh114>>, Path(name): Path<String>| async move {
                        p.font_file(&name)
                    },
                ),
            )
            .route("/", get(page))
            .route("/index.html", get(page))
            .route("/html/{*rest}", get(page))
            .with_state(self)
    }

    /// The `cmi-user-ticket` cookie (the login).
    fn log_session(&self, headers: &HeaderMap) -> Option<String> {
        crate::shared::short_session(&web::cookie(headers, "cmi-user-ticket")?)
    }

    fn load(&self, seed: u64, section: &Value) -> Result<(), String> {
        let s = Section::parse(section)?;
        let now = self.shared.clock.now_ms();
        let font_cfg = s.fonts.clone().unwrap_or_default();
        let typeface = font_cfg
            .typeface
            .clone()
            .unwrap_or_else(|| FontSet::default_typeface().to_string());
        let fonts = self.fonts_for(seed, font_cfg.count.unwrap_or(3), &typeface)?;
        let world = World::generate(seed, s.hospital_count.unwrap_or(300).max(1), &s.hospitals)?;
        let rate = match &s.rate_limit {
            Some(r) => RateLimit::new(r.window_ms.max(1), r.burst),
            None => RateLimit::new(10_000, 5),
        };
        let ratio = s.sold_out_ratio.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&ratio) {
            return Err("sold_out_ratio must be within 0..=1".into());
        }
        let mut l = Loaded {
            seed,
            cfg: Cfg {
                legacy: s.legacy_envelope,
                require_source: s.require_request_source.unwrap_or(true),
                order_sms: s.order_sms,
                confirm_token: s.confirm_token.unwrap_or(true),
                session_ttl_ms: s.session_ttl_ms.max(0),
                sms_interval_ms: s.sms_interval_ms.unwrap_or(60_000).max(0),
                sold_out_ratio: ratio,
            },
            world,
            fonts,
            font_rr: AtomicUsize::new(0),
            rate,
            loaded_at: now,
            competitors: Vec::new(),
            next_due: AtomicI64::new(i64::MAX),
            state: Mutex::new(State {
                inv: Inventory::default(),
                auth: auth::Auth::default(),
                orders: Vec::new(),
                rng: Rng::new(seed).fork("114yygh/runtime"),
            }),
        };
        // Competitors.
        let mut competitors = Vec::new();
        for c in &s.competitors {
            let hos = match &c.hos_code {
                Some(code) => Some(
                    *l.world
                        .by_code
                        .get(code)
                        .ok_or_else(|| format!("competitor: no hospital “{code}”"))?,
                ),
                None => None,
            };
            let clinic = match (&c.dept, hos) {
                (Some(d), Some(h)) => Some(
                    *l.world.hospitals[h]
                        .clinic_by_code
                        .get(d)
                        .ok_or_else(|| format!("competitor: no clinic “{d}”"))?,
                ),
                (Some(_), None) => return Err("competitor: `dept` needs `hos_code`".into()),
                _ => None,
            };
            competitors.push(Competitor {
                hos,
                clinic,
                day: c.date.as_ref().map(|d| resolve_date(d, now)).transpose()?,
                duty: c.duty.as_deref().map(|d| duty_index(Some(d))).transpose()?,
                within_ms: c.within_ms,
                take: c.take,
            });
        }
        l.competitors = competitors;
        {
            let mut guard = l.state.lock().unwrap_or_else(|e| e.into_inner());
            let st = &mut *guard;
            for a in &s.accounts {
                st.auth
                    .accounts
                    .insert(a.mobile.clone(), auth::Account::from_cfg(seed, a));
            }
            // Declared inventory, grouped by clinic and day.
            let mut declared: Vec<Declared> = Vec::new();
            for (i, d) in s.inventory.iter().enumerate() {
                let (ci, day) = l.resolve_place(&d.hos_code, d.dept.as_deref(), &d.date, now)?;
                let duty = duty_index(d.duty.as_deref())?;
                let c = &l.world.clinics[ci];
                let h = &l.world.hospitals[c.hos];
                let doc = c.doctors.first();
                let mut rng = Rng::new(seed).fork(&format!("114yygh/declared/{i}"));
                let p = inventory::make_product(
                    &mut rng,
                    duty,
                    d.doctor
                        .clone()
                        .or_else(|| doc.map(|x| x.name.clone()))
                        .unwrap_or_else(|| "医生".into()),
                    d.title
                        .clone()
                        .or_else(|| doc.map(|x| x.title.clone()))
                        .unwrap_or_else(|| "主治医师".into()),
                    d.skill
                        .clone()
                        .or_else(|| doc.map(|x| x.skill.clone()))
                        .unwrap_or_default(),
                    d.fee
                        .clone()
                        .or_else(|| doc.map(|x| x.fee.clone()))
                        .unwrap_or_else(|| "50".into()),
                    d.count,
                    d.count,
                    d.periods.unwrap_or(h.periods),
                );
                match declared.iter_mut().find(|(k, _)| *k == (ci, day)) {
                    Some((_, v)) => v.push((duty, p)),
                    None => declared.push(((ci, day), vec![(duty, p)])),
                }
            }
            let env = l.env();
            for ((ci, day), products) in declared {
                st.inv.declare(&env, ci, day, products, now);
            }
            for r in &s.releases {
                let (rel, at) = l.resolve_release(r, now)?;
                st.inv.release(&env, rel, at, now);
            }
            l.next_due.store(st.inv.next_due(), Ordering::Relaxed);
        }
        let l = Arc::new(l);
        match self.loaded.write() {
            Ok(mut g) => *g = l,
            Err(e) => *e.into_inner() = l,
        }
        Ok(())
    }

    fn tick(&self, now_ms: i64) {
        let l = self.loaded();
        if now_ms < l.next_due.load(Ordering::Relaxed) {
            return;
        }
        let env = l.env();
        let mut st = l.lock();
        st.inv.settle(&env, now_ms);
        l.update_due(&st);
    }

    fn release(&self, spec: &Value) -> Result<Value, String> {
        let r: ReleaseCfg = serde_json::from_value(spec.clone())
            .map_err(|e| format!("bad 114yygh release: {e}"))?;
        let l = self.loaded();
        let now = self.shared.clock.now_ms();
        let (rel, at) = l.resolve_release(&r, now)?;
        let env = l.env();
        let mut st = l.lock();
        let v = st.inv.release(&env, rel, at, now);
        l.update_due(&st);
        Ok(v)
    }

    fn orders(&self) -> Value {
        let l = self.loaded();
        let st = l.lock();
        booking::orders_json(&l, &st.orders)
    }

    fn expire_sessions(&self) {
        let l = self.loaded();
        l.lock().auth.expire_all();
    }

    fn admin(&self, action: &str, body: &Value) -> Result<Value, String> {
        let l = self.loaded();
        match action {
            "expire_sessions" => {
                self.expire_sessions();
                Ok(json!({"ok": true}))
            }
            "hospital" => {
                let code = field(body, "hos_code").ok_or("hospital needs hos_code")?;
                let h = l
                    .world
                    .hospital(&code)
                    .ok_or_else(|| format!("no hospital “{code}”"))?;
                Ok(json!({
                    "code": h.code,
                    "name": h.name,
                    "openTimeView": h.open_time_view(),
                    "bookingRange": h.booking_range,
                    "periods": h.periods,
                    "maintain": h.maintain,
                    "clinics": h.depts.iter().flat_map(|d| d.subs.iter().map(|&ci| {
                        let c = &l.world.clinics[ci];
                        json!({"firstDeptCode": c.dept1_code, "firstDeptName": c.dept1_name,
                               "secondDeptCode": c.code, "name": c.name})
                    })).collect::<Vec<_>>(),
                }))
            }
            "slots" => self.admin_slots(&l, body),
            "taken_by_others" => Ok(Value::Array(l.lock().inv.taken_by_others.clone())),
            "accounts" => {
                let st = l.lock();
                Ok(Value::Array(
                    st.auth
                        .accounts
                        .values()
                        .map(|a| {
                            json!({"mobile": a.mobile, "name": a.name, "realName": a.real_name,
                                   "patients": a.patients.iter().map(|p| p.name.clone()).collect::<Vec<_>>()})
                        })
                        .collect(),
                ))
            }
            "fonts" => Ok(json!(l
                .fonts
                .fonts
                .iter()
                .map(|f| json!({"name": f.name, "typeface": f.typeface(), "bytes": f.ttf.len()}))
                .collect::<Vec<_>>())),
            other => Err(format!("114yygh has no admin action “{other}”")),
        }
    }
}
