//! The 114yygh run-time watcher driven natively against the in-process sandbox, as the
//! extension drives it, but on a virtual clock: every `wait` the watcher asks for is
//! skipped by moving the sandbox's simulated clock (and our own "local" clock) forward
//! by the same amount, so hours of watching take seconds and the sandbox's releases,
//! rate limits, `Date` headers and session expiry run on the same time line as the
//! watcher.
//!
//! One driver for two users: the `yygh114` bench (its figures) and
//! `wasm-core/tests/watcher114.rs` (its behaviour). Everything is real — HTTP (reqwest
//! with a cookie jar), fonts, the login machine, the sandbox's inventory and
//! competitors — except the host's booking intents, which are played by [`Intents`]
//! (the real host's are tested in `tests/it/booking.rs`).

use haoyuan_core::clock::Estimate;
use haoyuan_core::date::Date;
use haoyuan_core::http::{Body, HttpRequest, HttpResponse};
use haoyuan_core::platforms::yygh114::login::{Login, LoginOutcome};
use haoyuan_core::platforms::yygh114::watcher::{Action, Event, Watcher};
use haoyuan_core::platforms::yygh114::{Prompt, Site, Step};
use haoyuan_core::schedule::{Reason, BEIJING_OFFSET_MIN};
use haoyuan_core::watch::Watch;
/// The seeded generator of [`Units::Seeded`]: the sandbox's SplitMix64.
pub use haoyuan_sandbox::gen::Rng;
use haoyuan_sandbox::shared::LoggedRequest;
use haoyuan_sandbox::{Options, Running};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The account of [`scenario`]: the phone number the driver logs in with.
pub const MOBILE: &str = "17796761085";
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
const BEIJING_MS: i64 = BEIJING_OFFSET_MIN as i64 * 60_000;

fn real_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The start of the Beijing day holding server instant `ms`.
pub fn beijing_day_start(ms: i64) -> i64 {
    (ms + BEIJING_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_MS
}

/// A runtime to drive on (two worker threads: the sandbox serves on it as well).
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))
}

/// Where the random units the watcher is given (its jitter) come from.
pub enum Units {
    /// Always this one: the same plans on every run (the tests use 0.5).
    Constant(f64),
    /// A seeded stream (the sandbox's SplitMix64): jitter as in the field, yet
    /// repeatable (the bench).
    Seeded(Rng),
}

impl Units {
    /// The next unit, in `[0, 1)`.
    fn next(&mut self) -> f64 {
        match self {
            Units::Constant(u) => *u,
            Units::Seeded(rng) => (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64,
        }
    }
}

/// The host's side of booking intents: one blocking intent per watch, released when a
/// booking ends `failed`.
#[derive(Default)]
pub struct Intents {
    /// The open intent of each watch, by watch id.
    pub by_watch: HashMap<String, String>,
    /// How many intents were recorded in all (they are named `i1`, `i2`, …).
    pub begun: u32,
}

/// One request the watcher sent while [`Drive::run`] drove it.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The watcher's name for it (`product_list`, `product_detail`, `product_confirm`, …).
    pub purpose: String,
    /// Our local (virtual) clock when it left.
    pub at_ms: i64,
    /// The sandbox's clock when it left.
    pub server_ms: i64,
    /// The reason of the plan that led to it (the last `wait`'s; `Normal` before any).
    pub reason: Reason,
    /// The watcher's estimate of the server's clock when it left.
    pub estimate: Option<Estimate>,
}

/// A sandbox, a browser-like HTTP client logged in to it, a virtual clock, and what the
/// driven watchers did.
pub struct Drive {
    /// The sandbox (its clock's skew, log and admin URL are the caller's to use).
    pub sb: Running,
    http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    /// Virtual ms added to real time (also added to the sandbox clock).
    advanced: i64,
    units: Units,
    /// Extra (virtual) delay before a `product/confirm` leaves: a slow network.
    pub delay_before_confirm_ms: i64,
    /// The booking intents recorded (the host's side, played here).
    pub intents: Intents,
    /// The events the watchers recorded, oldest first (the caller may clear them).
    pub events: Vec<Event>,
    /// Every request sent by [`Drive::run`], oldest first (the caller may clear them).
    pub sent: Vec<Sent>,
}

impl Drive {
    /// Starts a sandbox (seed 7) loaded with `scenario` (YAML, see [`scenario`]); the
    /// watcher is given random units from `units`.
    pub async fn start(scenario: &str, units: Units) -> Result<Drive, String> {
        let scenario = haoyuan_sandbox::parse_scenario(scenario)?;
        let sb = haoyuan_sandbox::start(Options {
            port: 0,
            seed: 7,
            scenario: Some(scenario),
        })
        .await?;
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .map_err(|e| e.to_string())?;
        let base = sb.url("114yygh");
        Ok(Drive {
            sb,
            http,
            jar,
            base,
            advanced: 0,
            units,
            delay_before_confirm_ms: 0,
            intents: Intents::default(),
            events: Vec::new(),
            sent: Vec::new(),
        })
    }

    /// The 114yygh site of the sandbox.
    pub fn site(&self) -> Site {
        Site::new(&self.base)
    }

    // ---- the virtual clock ----------------------------------------------------------

    /// Our (the browser's) local clock: real time plus what was skipped.
    pub fn now(&self) -> i64 {
        real_ms() + self.advanced
    }

    /// The sandbox's clock (local + skew).
    pub fn server_now(&self) -> i64 {
        self.sb.shared.clock.now_ms()
    }

    /// The server's Beijing date.
    pub fn server_today(&self) -> Date {
        Date::from_unix_ms(self.server_now(), BEIJING_OFFSET_MIN)
    }

    /// Moves both clocks forward by `ms` (nothing if `ms` ≤ 0).
    pub fn advance(&mut self, ms: i64) {
        if ms > 0 {
            self.shift(ms);
        }
    }

    /// Moves both clocks forward so that the server reads `server_ms` (never backward:
    /// the sandbox's inventory follows its clock).
    pub fn set_server_time(&mut self, server_ms: i64) -> Result<(), String> {
        let delta = server_ms - self.server_now();
        if delta < 0 {
            return Err(format!("cannot move the clock back by {} ms", -delta));
        }
        self.shift(delta);
        Ok(())
    }

    /// Moves both clocks so that the server reads `secs_of_day` seconds into its Beijing
    /// today — backward too, so only before anything was watched.
    pub fn set_server_time_of_day(&mut self, secs_of_day: i64) {
        let server = self.server_now();
        self.shift(beijing_day_start(server) + secs_of_day * 1000 - server);
    }

    fn shift(&mut self, ms: i64) {
        self.sb.shared.clock.advance(ms);
        self.advanced += ms;
    }

    // ---- HTTP ------------------------------------------------------------------------

    /// Sends `req` as the browser would (with the cookie jar).
    pub async fn exec(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut b = self.http.request(method, &req.url);
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        if let Some(body) = &req.body {
            b = b.body(match body {
                Body::Text(t) => t.clone().into_bytes(),
                Body::Bytes(x) => x.clone(),
            });
        }
        let r = b.send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = r.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// GET `path` (e.g. `/orders?platform=114yygh`) from the sandbox's admin API.
    pub async fn admin(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.sb.url("admin"));
        let r = self.http.get(url).send().await;
        admin_json(path, r).await
    }

    /// POST `body` to `path` of the sandbox's admin API (e.g. `/faults` to arm a fault).
    pub async fn admin_post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.sb.url("admin"));
        let r = self.http.post(url).json(body).send().await;
        admin_json(path, r).await
    }

    /// The value of the 114yygh site's cookie `name` in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// Logs [`MOBILE`] in through the core's login machine, reading the picture's answer
    /// and the SMS code from the admin API as a person would read them.
    pub async fn login(&mut self) -> Result<(), String> {
        let mut login = Login::new(self.site(), MOBILE);
        let mut step = login.start(self.now()).map_err(|e| format!("{e:?}"))?;
        for _ in 0..20 {
            let answer = match step {
                Step::Send { request } => {
                    let resp = self.exec(&request).await?;
                    step = login
                        .feed(self.now(), &resp)
                        .map_err(|e| format!("{e:?}"))?;
                    continue;
                }
                Step::AskUser {
                    prompt: Prompt::Captcha { .. },
                } => {
                    let session = self.cookie("imed_session").ok_or("no imed_session")?;
                    let answers = self.admin("/captcha?platform=114yygh").await?;
                    match &answers[&session] {
                        Value::Null => return Err(format!("no captcha answer: {answers}")),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                }
                Step::AskUser {
                    prompt: Prompt::LoginSms { .. },
                } => {
                    let inbox = self.admin(&format!("/inbox?phone={MOBILE}")).await?;
                    inbox
                        .as_array()
                        .and_then(|a| a.last())
                        .and_then(|sms| sms["code"].as_str())
                        .ok_or_else(|| format!("no login SMS: {inbox}"))?
                        .to_string()
                }
                Step::Done { outcome } => {
                    return match outcome {
                        LoginOutcome::LoggedIn { .. } => Ok(()),
                        other => Err(format!("login ended {other:?}")),
                    };
                }
                other => return Err(format!("unexpected login step {other:?}")),
            };
            step = login
                .answer(self.now(), &answer)
                .map_err(|e| format!("{e:?}"))?;
        }
        Err("the login did not finish".into())
    }

    // ---- driving ---------------------------------------------------------------------

    /// Drives `w` until it stops, pauses or asks the user, or `budget` actions were
    /// performed; returns the last action. Waits are skipped by advancing the clocks;
    /// `RecordIntent` is answered from [`Drive::intents`].
    pub async fn run(&mut self, w: &mut Watcher, budget: usize) -> Action {
        self.run_until(w, budget, i64::MAX).await
    }

    /// [`Drive::run`] that also returns once the server's clock passed `until_server_ms`.
    pub async fn run_until(
        &mut self,
        w: &mut Watcher,
        budget: usize,
        until_server_ms: i64,
    ) -> Action {
        let u = self.units.next();
        let first = w.tick(self.now(), u);
        self.drive_from(w, first, budget, until_server_ms).await
    }

    /// [`Drive::run`] going on from `first`, an action the caller got from the watcher
    /// (e.g. the answer to [`Watcher::answer`]).
    pub async fn run_from(&mut self, w: &mut Watcher, first: Action, budget: usize) -> Action {
        self.drive_from(w, first, budget, i64::MAX).await
    }

    async fn drive_from(
        &mut self,
        w: &mut Watcher,
        first: Action,
        budget: usize,
        until_server_ms: i64,
    ) -> Action {
        let mut a = first;
        let mut reason = Reason::Normal;
        for _ in 0..budget {
            self.take(w);
            if self.server_now() > until_server_ms {
                return a;
            }
            let u = self.units.next();
            a = match a {
                Action::Wait { at_ms, reason: r } => {
                    reason = r;
                    self.advance(at_ms - self.now());
                    w.tick(self.now(), u)
                }
                Action::Send {
                    request, purpose, ..
                } => {
                    if request.url.contains("/web/product/confirm") {
                        self.advance(self.delay_before_confirm_ms);
                    }
                    let at_ms = self.now();
                    self.sent.push(Sent {
                        purpose,
                        at_ms,
                        server_ms: self.server_now(),
                        reason,
                        estimate: w.clock().estimate(at_ms),
                    });
                    match self.exec(&request).await {
                        Ok(r) => w.feed(self.now(), &r, u),
                        Err(e) => w.no_response(self.now(), &e, u),
                    }
                }
                Action::FetchFont { url } => {
                    let r = self.exec(&HttpRequest::get(&url)).await.ok();
                    w.font(self.now(), &url, r.as_ref(), u)
                }
                Action::RecordIntent { .. } => {
                    let id = w.watch_id().to_string();
                    if self.intents.by_watch.contains_key(&id) {
                        w.intent_refused(self.now(), "an order was already submitted", true, u)
                    } else {
                        self.intents.begun += 1;
                        let intent = format!("i{}", self.intents.begun);
                        self.intents.by_watch.insert(id, intent.clone());
                        w.intent_recorded(self.now(), &intent, u)
                    }
                }
                done
                @ (Action::Paused { .. } | Action::Stopped { .. } | Action::AskUser { .. }) => {
                    self.take(w);
                    return done;
                }
            };
        }
        self.take(w);
        a
    }

    /// Collects the watcher's events; a booking that ended `failed` releases its intent.
    fn take(&mut self, w: &mut Watcher) {
        for e in w.take_events() {
            if e.booking_result.as_deref() == Some("failed") {
                self.intents.by_watch.remove(w.watch_id());
            }
            self.events.push(e);
        }
    }

    // ---- what happened ---------------------------------------------------------------

    /// The kinds of [`Drive::events`], in order.
    pub fn kinds(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.kind.as_str()).collect()
    }

    /// The first event of `kind`.
    pub fn event(&self, kind: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.kind == kind)
    }

    /// The sandbox's 114yygh orders (admin `/orders`, which also lets its inventory
    /// catch up with its clock).
    ///
    /// # Panics
    /// If the in-process admin API does not answer with a list: the sandbox is broken,
    /// and "no orders" must not be read from that.
    pub async fn orders(&self) -> Vec<Value> {
        match self.admin("/orders?platform=114yygh").await {
            Ok(Value::Array(orders)) => orders,
            other => panic!("the sandbox's orders: {other:?}"),
        }
    }

    /// The sandbox's 114yygh request log, oldest first (`at` is server time).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.sb.shared.log.read(Some("114yygh"), usize::MAX)
    }

    /// Empties the sandbox's request log.
    pub fn clear_log(&self) {
        self.sb.shared.log.clear();
    }

    /// The first clinic of hospital `hos_code`: (firstDeptCode, secondDeptCode).
    pub async fn clinic_of(&self, hos_code: &str) -> Result<(String, String), String> {
        let v = self
            .admin_post("/platform/114yygh/hospital", &json!({"hos_code": hos_code}))
            .await?;
        v["clinics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let code = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                (code("firstDeptCode"), code("secondDeptCode"))
            })
            .find(|c| !c.1.is_empty())
            .ok_or_else(|| format!("hospital {hos_code} has no clinic: {v}"))
    }
}

async fn admin_json(path: &str, r: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let r = r.map_err(|e| format!("admin {path}: {e}"))?;
    let status = r.status();
    let v: Value = r
        .json()
        .await
        .map_err(|e| format!("admin {path}: not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("admin {path}: {status} {v}"));
    }
    Ok(v)
}

/// A 114yygh watch `id` of hospital 1's `clinic` for the days `start..=end`, in `mode`
/// (`notify` or `book`), polling every `interval_s` seconds ± 20 %.
pub fn watch(
    id: &str,
    clinic: &(String, String),
    start: Date,
    end: Date,
    mode: &str,
    interval_s: u32,
) -> Result<Watch, String> {
    serde_json::from_value(json!({
        "id": id,
        "label": "协和 driven",
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": clinic.0,
                   "second_dept_code": clinic.1, "hos_name": "北京协和医院", "dept_name": "driven"},
        "window": {"start": start.to_string(), "end": end.to_string()},
        "filters": {},
        "mode": mode,
        "interval": {"seconds": interval_s, "jitter_pct": 20}
    }))
    .map_err(|e| format!("bad watch: {e}"))
}

/// A scenario with one account ([`MOBILE`]) and one hospital (code `1`) that releases
/// the day 7 ahead at 08:30, rate-limited to 8 polls per session per 10 s; `extra` is
/// appended under `114yygh:` (indented two spaces: `releases:`, `competitors:`, …).
pub fn scenario(extra: &str) -> String {
    format!(
        r#"
seed: 7
114yygh:
  rate_limit: {{window_ms: 10000, burst: 8}}
  accounts:
    - {{mobile: "{MOBILE}", real_name: true}}
  hospitals:
    - {{code: "1", name: 北京协和医院, open_time: "08:30", booking_range: 7}}
{extra}
"#
    )
}
