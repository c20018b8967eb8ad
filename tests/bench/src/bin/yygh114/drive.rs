//! A native driver of the 114yygh run-time watcher against the in-process sandbox, on
//! a virtual clock: every `wait` the watcher asks for is skipped by moving the sandbox's
//! simulated clock (and our own "local" clock) forward by the same amount, so hours of
//! watching take seconds and the sandbox's releases, rate limits and `Date` headers run
//! on the same time line as the watcher.
//!
//! The minimal copy of the driver in `wasm-core/tests/watcher114.rs` (test files are
//! not importable): real HTTP (reqwest with a cookie jar), real fonts, the real login
//! machine; the host's booking intents are played by a map (one per watch). Random
//! units come from a seeded generator instead of the test's constant 0.5.

use haoyuan_core::clock::Estimate;
use haoyuan_core::date::Date;
use haoyuan_core::http::{Body, HttpRequest, HttpResponse};
use haoyuan_core::platforms::yygh114::login::{Login, LoginOutcome};
use haoyuan_core::platforms::yygh114::watcher::{Action, Watcher};
use haoyuan_core::platforms::yygh114::{Prompt, Site, Step};
use haoyuan_core::schedule::{Reason, BEIJING_OFFSET_MIN};
use haoyuan_core::watch::Watch;
use haoyuan_sandbox::shared::LoggedRequest;
use haoyuan_sandbox::{Options, Running};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub const MOBILE: &str = "17796761085";
pub const DAY_MS: i64 = 86_400_000;
const BEIJING_MS: i64 = BEIJING_OFFSET_MIN as i64 * 60_000;

fn real_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// splitmix64: reproducible random units in [0, 1).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A whole number in `[0, n)`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The start of the Beijing day holding server instant `ms`.
pub fn beijing_day_start(ms: i64) -> i64 {
    (ms + BEIJING_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_MS
}

pub struct Drive {
    pub sb: Running,
    http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    /// Virtual ms added to real time (also added to the sandbox clock).
    advanced: i64,
    /// Intents recorded, by watch id (the host's side, played here).
    intents: HashMap<String, String>,
    intents_begun: u32,
    pub rng: Rng,
    /// Kinds of the events the watcher recorded (cleared by the caller).
    pub events: Vec<String>,
    /// Every poll request sent (`product/list` or `product/detail`): the reason of the
    /// plan that led to it (the last `wait`'s) and the server time it was sent at.
    pub polls: Vec<(Reason, i64)>,
    /// Each burst poll as it left: (server time, the watcher's clock estimate then, the
    /// true `server − local` then).
    pub burst_sends: Vec<(i64, Option<Estimate>, i64)>,
}

impl Drive {
    pub async fn start(scenario: &str, seed: u64) -> Result<Drive, String> {
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
            intents: HashMap::new(),
            intents_begun: 0,
            rng: Rng::new(seed),
            events: Vec::new(),
            polls: Vec::new(),
            burst_sends: Vec::new(),
        })
    }

    /// Our (the browser's) local clock: real time plus what was skipped.
    pub fn now(&self) -> i64 {
        real_ms() + self.advanced
    }

    /// The sandbox's clock (local + skew).
    pub fn server_now(&self) -> i64 {
        self.sb.shared.clock.now_ms()
    }

    pub fn site(&self) -> Site {
        Site::new(&self.base)
    }

    pub fn advance(&mut self, ms: i64) {
        if ms > 0 {
            self.sb.shared.clock.advance(ms);
            self.advanced += ms;
        }
    }

    /// Moves both clocks forward so that the server reads `server_ms` (never backward:
    /// the sandbox's inventory follows its clock).
    pub fn set_server_time(&mut self, server_ms: i64) -> Result<(), String> {
        let delta = server_ms - self.server_now();
        if delta < 0 {
            return Err(format!("cannot move the clock back by {} ms", -delta));
        }
        self.advance(delta);
        Ok(())
    }

    pub fn server_today(&self) -> Date {
        Date::from_unix_ms(self.server_now(), BEIJING_OFFSET_MIN)
    }

    async fn exec(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
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

    fn cookie(&self, name: &str) -> Option<String> {
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

    /// Logs in through the login machine, reading the picture and the SMS from the
    /// sandbox as a person would.
    pub async fn login(&mut self) -> Result<(), String> {
        let mut login = Login::new(self.site(), MOBILE);
        let mut step = login.start(self.now()).map_err(|e| format!("{e:?}"))?;
        for _ in 0..20 {
            step = match step {
                Step::Send { request } => {
                    let resp = self.exec(&request).await?;
                    login
                        .feed(self.now(), &resp)
                        .map_err(|e| format!("{e:?}"))?
                }
                Step::AskUser {
                    prompt: Prompt::Captcha { .. },
                } => {
                    let session = self.cookie("imed_session").ok_or("no imed_session")?;
                    let a = self
                        .sb
                        .shared
                        .captchas
                        .get("114yygh", &session)
                        .ok_or("no captcha answer")?;
                    let a = a
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| a.to_string());
                    login.answer(self.now(), &a).map_err(|e| format!("{e:?}"))?
                }
                Step::AskUser {
                    prompt: Prompt::LoginSms { .. },
                } => {
                    let code = self
                        .sb
                        .shared
                        .inbox
                        .latest_code(MOBILE)
                        .ok_or("no login SMS")?;
                    login
                        .answer(self.now(), &code)
                        .map_err(|e| format!("{e:?}"))?
                }
                Step::Done { outcome } => {
                    return match outcome {
                        LoginOutcome::LoggedIn { .. } => Ok(()),
                        other => Err(format!("login ended {other:?}")),
                    };
                }
                other => return Err(format!("unexpected login step {other:?}")),
            };
        }
        Err("the login did not finish".into())
    }

    /// Drives `w` until it stops or pauses, `budget` actions were performed, or the
    /// server clock passed `until_server_ms`; returns the last action.
    pub async fn run(&mut self, w: &mut Watcher, budget: usize, until_server_ms: i64) -> Action {
        let u = self.rng.unit();
        let mut a = w.tick(self.now(), u);
        let mut reason = Reason::Normal;
        for _ in 0..budget {
            self.take(w);
            if self.server_now() > until_server_ms {
                return a;
            }
            let u = self.rng.unit();
            a = match a {
                Action::Wait { at_ms, reason: r } => {
                    reason = r;
                    let d = at_ms - self.now();
                    self.advance(d);
                    w.tick(self.now(), u)
                }
                Action::Send { request, purpose } => {
                    if purpose == "product_list" || purpose == "product_detail" {
                        let (server, local) = (self.server_now(), self.now());
                        self.polls.push((reason, server));
                        if matches!(reason, Reason::Burst { .. }) {
                            let est = w.clock().estimate(local);
                            self.burst_sends.push((server, est, server - local));
                        }
                    }
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
                    if self.intents.contains_key(&id) {
                        w.intent_refused(self.now(), "an order was already submitted", true, u)
                    } else {
                        self.intents_begun += 1;
                        let intent = format!("i{}", self.intents_begun);
                        self.intents.insert(id, intent.clone());
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

    fn take(&mut self, w: &mut Watcher) {
        self.events
            .extend(w.take_events().into_iter().map(|e| e.kind));
    }

    /// The sandbox's 114yygh request log (oldest first).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.sb.shared.log.read(Some("114yygh"), usize::MAX)
    }

    pub fn clear_log(&self) {
        self.sb.shared.log.clear();
    }

    /// The clinics of hospital `hos_code`: (firstDeptCode, secondDeptCode).
    pub async fn clinics(&self, hos_code: &str) -> Result<Vec<(String, String)>, String> {
        let url = format!("{}/platform/114yygh/hospital", self.sb.url("admin"));
        let v: Value = self
            .http
            .post(url)
            .json(&json!({"hos_code": hos_code}))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let list: Vec<(String, String)> = v["clinics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["firstDeptCode"].as_str().unwrap_or_default().to_string(),
                    c["secondDeptCode"].as_str().unwrap_or_default().to_string(),
                )
            })
            .filter(|c| !c.1.is_empty())
            .collect();
        if list.is_empty() {
            return Err(format!("hospital {hos_code} has no clinics: {v}"));
        }
        Ok(list)
    }
}

/// A 114yygh watch of hospital 1's `clinic` for the days `start..=end`.
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
        "label": "协和 bench",
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": clinic.0,
                   "second_dept_code": clinic.1, "hos_name": "北京协和医院", "dept_name": "bench"},
        "window": {"start": start.to_string(), "end": end.to_string()},
        "filters": {},
        "mode": mode,
        "interval": {"seconds": interval_s, "jitter_pct": 20}
    }))
    .map_err(|e| format!("bad watch: {e}"))
}

/// A hospital that releases the day 7 ahead at 08:30 (as in `tests/watcher114.rs`,
/// including its rate limit: 8 polls per session per 10 s).
pub fn scenario() -> String {
    format!(
        r#"
seed: 7
114yygh:
  rate_limit: {{window_ms: 10000, burst: 8}}
  accounts:
    - {{mobile: "{MOBILE}", real_name: true}}
  hospitals:
    - {{code: "1", name: 北京协和医院, open_time: "08:30", booking_range: 7}}
"#
    )
}
