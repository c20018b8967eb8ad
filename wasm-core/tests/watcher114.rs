//! The 114yygh run-time watcher driven against the live sandbox, as the extension
//! drives it, but natively and on a virtual clock: every `wait` the watcher asks for is
//! skipped by moving the sandbox's simulated clock forward by the same amount, so hours
//! of watching take milliseconds and the sandbox's releases, rate limits and session
//! expiry all run on the same time line as the watcher.
//!
//! The host's booking intents are played by [`Intents`] (the real host's are tested in
//! `tests/it/booking.rs`); everything else is real: HTTP, cookies, fonts, the sandbox's
//! inventory and competitors.

use haoyuan_core::date::Date;
use haoyuan_core::http::{Body, HttpRequest, HttpResponse};
use haoyuan_core::platforms::yygh114::login::{Login, LoginOutcome};
use haoyuan_core::platforms::yygh114::watcher::{Action, Event, Watcher};
use haoyuan_core::platforms::yygh114::{Prompt, Site, Step};
use haoyuan_core::schedule::BEIJING_OFFSET_MIN;
use haoyuan_core::watch::Watch;
use haoyuan_sandbox::{Options, Running};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

const MOBILE: &str = "17796761085";

fn real_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The host's side of booking intents: one blocking intent per watch.
#[derive(Default)]
struct Intents {
    by_watch: HashMap<String, String>,
    begun: u32,
}

struct Drive {
    sb: Running,
    http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    /// Virtual ms added to real time (also added to the sandbox clock).
    advanced: i64,
    /// Every request sent: (purpose, local virtual ms).
    sent: Vec<(String, i64)>,
    events: Vec<Event>,
    intents: Intents,
    /// Extra (virtual) delay before a `product/confirm` leaves: a slow network.
    delay_before_confirm_ms: i64,
}

impl Drive {
    async fn start(scenario: &str) -> Drive {
        let scenario = haoyuan_sandbox::parse_scenario(scenario).expect("scenario");
        let sb = haoyuan_sandbox::start(Options {
            port: 0,
            seed: 7,
            scenario: Some(scenario),
        })
        .await
        .expect("sandbox");
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .expect("client");
        let base = sb.url("114yygh");
        Drive {
            sb,
            http,
            jar,
            base,
            advanced: 0,
            sent: Vec::new(),
            events: Vec::new(),
            intents: Intents::default(),
            delay_before_confirm_ms: 0,
        }
    }

    fn now(&self) -> i64 {
        real_ms() + self.advanced
    }

    fn site(&self) -> Site {
        Site::new(&self.base)
    }

    fn advance(&mut self, ms: i64) {
        if ms > 0 {
            self.sb.shared.clock.advance(ms);
            self.advanced += ms;
        }
    }

    /// Moves both clocks so that the server reads `hh:mm:ss` Beijing time today (its today).
    fn set_server_time_of_day(&mut self, secs_of_day: i64) {
        let server = self.sb.shared.clock.now_ms();
        let day_ms = 86_400_000;
        let local_day_start = (server + i64::from(BEIJING_OFFSET_MIN) * 60_000).div_euclid(day_ms)
            * day_ms
            - i64::from(BEIJING_OFFSET_MIN) * 60_000;
        let target = local_day_start + secs_of_day * 1000;
        let delta = target - server;
        self.sb.shared.clock.advance(delta);
        self.advanced += delta;
    }

    fn server_today(&self) -> Date {
        Date::from_unix_ms(self.sb.shared.clock.now_ms(), BEIJING_OFFSET_MIN)
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

    async fn admin(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.sb.url("admin"));
        self.http
            .get(url)
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("admin json")
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

    /// Logs in through the login machine, reading the picture and the SMS as a person would.
    async fn login(&mut self) {
        let mut login = Login::new(self.site(), MOBILE);
        let mut step = login.start(self.now()).expect("start");
        for _ in 0..20 {
            step = match step {
                Step::Send { request } => {
                    let resp = self.exec(&request).await.expect("login request");
                    login.feed(self.now(), &resp).expect("feed")
                }
                Step::AskUser {
                    prompt: Prompt::Captcha { .. },
                } => {
                    let session = self.cookie("imed_session").expect("imed_session");
                    let answers = self.admin("/captcha?platform=114yygh").await;
                    let a = answers[&session].as_str().expect("answer").to_string();
                    login.answer(self.now(), &a).expect("answer")
                }
                Step::AskUser {
                    prompt: Prompt::LoginSms { .. },
                } => {
                    let inbox = self.admin(&format!("/inbox?phone={MOBILE}")).await;
                    let code = inbox.as_array().and_then(|a| a.last()).expect("an SMS")["code"]
                        .as_str()
                        .expect("code")
                        .to_string();
                    login.answer(self.now(), &code).expect("answer")
                }
                Step::Done { outcome } => {
                    assert!(
                        matches!(outcome, LoginOutcome::LoggedIn { .. }),
                        "{outcome:?}"
                    );
                    return;
                }
                other => panic!("unexpected login step {other:?}"),
            };
        }
        panic!("the login did not finish");
    }

    /// Drives `w` until it stops, pauses, or `budget` actions were performed; returns
    /// the last action.
    async fn run(&mut self, w: &mut Watcher, budget: usize) -> Action {
        let mut a = w.tick(self.now(), 0.5);
        for _ in 0..budget {
            self.take(w);
            a = match a {
                Action::Wait { at_ms, .. } => {
                    let d = at_ms - self.now();
                    self.advance(d);
                    w.tick(self.now(), 0.5)
                }
                Action::Send { request, purpose } => {
                    if request.url.contains("/web/product/confirm") {
                        self.advance(self.delay_before_confirm_ms);
                    }
                    self.sent.push((purpose.clone(), self.now()));
                    match self.exec(&request).await {
                        Ok(r) => w.feed(self.now(), &r, 0.5),
                        Err(e) => w.no_response(self.now(), &e, 0.5),
                    }
                }
                Action::FetchFont { url } => {
                    let r = self.exec(&HttpRequest::get(&url)).await.ok();
                    w.font(self.now(), &url, r.as_ref(), 0.5)
                }
                Action::RecordIntent { .. } => {
                    let id = w.watch_id().to_string();
                    if self.intents.by_watch.contains_key(&id) {
                        w.intent_refused(self.now(), "an order was already submitted", true, 0.5)
                    } else {
                        self.intents.begun += 1;
                        let intent = format!("i{}", self.intents.begun);
                        self.intents.by_watch.insert(id, intent.clone());
                        w.intent_recorded(self.now(), &intent, 0.5)
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

    fn kinds(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.kind.as_str()).collect()
    }

    fn event(&self, kind: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.kind == kind)
    }

    async fn orders(&self) -> Vec<Value> {
        self.admin("/orders?platform=114yygh")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn requests(&self) -> Vec<Value> {
        self.admin("/requests?platform=114yygh&limit=20000")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn watch(date: Date, end: Date, mode: &str) -> Watch {
    serde_json::from_value(json!({
        "id": "w1",
        "label": "协和 test",
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "D1",
                   "second_dept_code": "C1", "hos_name": "北京协和医院", "dept_name": "test"},
        "window": {"start": date.to_string(), "end": end.to_string()},
        "filters": {},
        "mode": mode,
        "interval": {"seconds": 30, "jitter_pct": 20}
    }))
    .expect("watch")
}

/// A hospital that releases the day 7 ahead at 08:30, one clinic with declared slots.
fn scenario(extra: &str) -> String {
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

/// The clinic of hospital 1 the scenario's inventory names (first clinic of the world).
async fn clinic_of(d: &Drive) -> (String, String) {
    let url = format!("{}/platform/114yygh/hospital", d.sb.url("admin"));
    let v: Value = d
        .http
        .post(url)
        .json(&json!({"hos_code": "1"}))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    let c = &v["clinics"][0];
    let first = c["firstDeptCode"].as_str().unwrap_or_default().to_string();
    let second = c["secondDeptCode"].as_str().unwrap_or_default().to_string();
    assert!(!second.is_empty(), "hospital admin answer: {v}");
    (first, second)
}

fn aim(mut w: Watch, clinic: &(String, String)) -> Watch {
    if let haoyuan_core::watch::Target::Yygh114 {
        first_dept_code,
        second_dept_code,
        ..
    } = &mut w.target
    {
        first_dept_code.clone_from(&clinic.0);
        second_dept_code.clone_from(&clinic.1);
    }
    w
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn books_the_slot_released_at_open_time_once_with_a_skewed_server_clock() {
    rt().block_on(async {
        let mut d = Drive::start(&scenario("")).await;
        // The server's clock runs 5 s ahead of ours; its time is 08:00 (30 min to release).
        d.sb.shared.clock.set_skew(5_000);
        d.set_server_time_of_day(8 * 3600);
        d.login().await;
        let day = d.server_today().add_days(7);
        let clinic = clinic_of(&d).await;
        let mut w =
            Watcher::new(d.site(), &aim(watch(day, day, "book"), &clinic)).expect("watcher");
        let last = d.run(&mut w, 2_000).await;
        assert!(
            matches!(last, Action::Stopped { .. }),
            "{last:?}\n{:?}",
            d.kinds()
        );
        let booked = d
            .event("booked")
            .unwrap_or_else(|| panic!("no booked event: {:?}", d.events));
        assert_eq!(booked.booking_result.as_deref(), Some("booked"));
        assert_eq!(booked.intent_id.as_deref(), Some("i1"));
        assert!(
            booked.data["order_no"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{booked:?}"
        );
        assert!(d.event("slot_seen").is_some());
        assert_eq!(d.orders().await.len(), 1, "exactly one order");
        assert_eq!(d.intents.begun, 1);

        // The first detail request after 08:30 server time came soon after it.
        let server_release = {
            let reqs = d.requests().await;
            let detail_times: Vec<i64> = reqs
                .iter()
                .filter(|r| r["path"] == "/web/product/detail")
                .filter_map(|r| r["at"].as_i64())
                .collect();
            let release = {
                let at = d.sb.shared.clock.now_ms();
                let day_ms = 86_400_000;
                let off = i64::from(BEIJING_OFFSET_MIN) * 60_000;
                (at + off).div_euclid(day_ms) * day_ms - off + (8 * 3600 + 30 * 60) * 1000
            };
            let first_after = detail_times
                .iter()
                .copied()
                .filter(|t| *t >= release)
                .min()
                .expect("a poll after the release");
            (release, first_after)
        };
        let late = server_release.1 - server_release.0;
        assert!(
            (0..1_000).contains(&late),
            "first poll {late} ms after the release"
        );
        eprintln!("first poll after release: {late} ms late (server clock skewed by 5 s)");
    });
}

#[test]
fn a_competitor_taking_the_slot_first_means_no_order_and_the_watch_goes_on() {
    rt().block_on(async {
        // One slot released 10 min after start; a competing buyer takes it 20 s later.
        let extra = r#"
  releases:
    - {hos_code: "1", date: 3, duty: MORNING, count: 1, after_ms: 600000}
  competitors:
    - {hos_code: "1", date: 3, within_ms: 20000, take: 1}
"#;
        let mut d = Drive::start(&scenario(extra)).await;
        d.login().await;
        let day = d.server_today().add_days(3);
        let clinic = clinic_of(&d).await;
        // Our confirm is slow: it reaches the site after the competitor bought the slot.
        d.delay_before_confirm_ms = 25_000;
        let mut w =
            Watcher::new(d.site(), &aim(watch(day, day, "book"), &clinic)).expect("watcher");
        let last = d.run(&mut w, 200).await;
        assert!(
            !matches!(last, Action::Stopped { .. } | Action::Paused { .. }),
            "the watch goes on: {last:?}"
        );
        assert!(d.orders().await.is_empty(), "no order");
        assert!(d.event("slot_seen").is_some(), "{:?}", d.kinds());
        let failed = d.event("booking_failed").expect("a booking_failed event");
        assert!(
            failed.message.contains("still watching"),
            "{}",
            failed.message
        );
        assert!(
            failed.message.contains("placed no order"),
            "{}",
            failed.message
        );
        // The site refused the order (8008): the intent recorded before it is ended as
        // failed, which lets the watch book a later slot.
        assert_eq!(
            failed.booking_result.as_deref(),
            Some("failed"),
            "{failed:?}"
        );
        assert_eq!(failed.intent_id.as_deref(), Some("i1"));
        assert!(d.intents.by_watch.is_empty(), "the intent no longer blocks");
    });
}

#[test]
fn throttling_backs_off_session_loss_pauses_and_bad_replies_are_survived() {
    rt().block_on(async {
        let mut d = Drive::start(&scenario("")).await;
        d.login().await;
        let day = d.server_today().add_days(2);
        let end = d.server_today().add_days(4);
        let clinic = clinic_of(&d).await;
        let mut w = Watcher::new(d.site(), &aim(watch(day, end, "notify"), &clinic)).expect("watcher");
        // A few normal polls first: their spacing is the watch's pace here (slow: the
        // release is hours away).
        d.run(&mut w, 12).await;
        let first: Vec<i64> = d.sent.iter().filter(|(p, _)| p == "product_list").map(|(_, t)| *t).collect();
        let pace = first[1] - first[0];
        let (http, url) = (d.http.clone(), format!("{}/faults", d.sb.url("admin")));
        let arm = |f: Value| {
            let (http, url) = (http.clone(), url.clone());
            async move { http.post(url).json(&f).send().await.expect("fault") }
        };
        // Three 403s in a row: each poll waits longer than the one before.
        arm(json!({"platform": "114yygh", "route": "/web/product/list", "kind": "status", "status": 403, "count": 3})).await;
        let before = d.sent.len();
        d.run(&mut w, 8).await;
        let polls: Vec<i64> = d.sent[before..].iter().filter(|(p, _)| p == "product_list").map(|(_, t)| *t).collect();
        assert!(polls.len() >= 4, "{polls:?}");
        let gaps: Vec<i64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps[0] >= 60_000 && gaps[1] >= 2 * 60_000 - 1 && gaps[2] >= 4 * 60_000 - 1, "backoff gaps {gaps:?}");
        assert_eq!(d.kinds().iter().filter(|k| **k == "poll_error").count(), 1, "one error event per run of failures");
        assert!(d.kinds().contains(&"poll_recovered"));

        // A renamed field and a malformed body: a plain-words error, the watch goes on.
        arm(json!({"platform": "114yygh", "route": "/web/product/list", "kind": "rename_field", "from": "calendars", "to": "calendarList", "count": 1})).await;
        d.run(&mut w, 4).await;
        let e = d.events.iter().rev().find(|e| e.kind == "poll_error").expect("poll_error");
        assert!(e.message.contains("calendars") && e.message.contains("still watching"), "{}", e.message);
        arm(json!({"platform": "114yygh", "route": "/web/product/list", "kind": "malformed", "count": 1})).await;
        let before = d.sent.len();
        let last = d.run(&mut w, 6).await;
        assert!(matches!(last, Action::Wait { .. } | Action::Send { .. }), "{last:?}");
        // An unreadable reply is not a sign of polling too fast: the pace stays normal.
        let polls: Vec<i64> = d.sent[before..].iter().filter(|(p, _)| p == "product_list").map(|(_, t)| *t).collect();
        assert!(polls.len() >= 2 && (polls[1] - polls[0] - pace).abs() < 50, "the same pace ({pace} ms) after a malformed reply: {polls:?}");

        // Session expiry: paused with a plain message, then resumes after a new login.
        arm(json!({"platform": "114yygh", "route": "*", "kind": "session_expired", "count": 1})).await;
        let last = d.run(&mut w, 6).await;
        assert!(matches!(last, Action::Paused { .. }), "{last:?}");
        let e = d.event("session_expired").expect("session_expired");
        assert!(e.message.contains("Log in again"), "{}", e.message);
        d.login().await;
        let mut a = w.resume(d.now(), 0.5);
        d.events.extend(w.take_events());
        assert!(d.kinds().contains(&"session_restored"));
        assert!(matches!(a, Action::Send { .. } | Action::Wait { .. }), "{a:?}");
        a = d.run(&mut w, 6).await;
        assert!(!matches!(a, Action::Paused { .. } | Action::Stopped { .. }), "{a:?}");
    });
}

#[test]
fn counts_are_read_from_the_fonts_and_the_parity_rule_is_used_and_said_when_a_font_fails() {
    rt().block_on(async {
        let extra = r#"
  releases:
    - {hos_code: "1", date: 2, duty: MORNING, count: 2, doctor: 王五, fee: "60"}
"#;
        for font_fails in [false, true] {
            let mut d = Drive::start(&scenario(extra)).await;
            d.login().await;
            let day = d.server_today().add_days(2);
            let clinic = clinic_of(&d).await;
            if font_fails {
                let url = format!("{}/faults", d.sb.url("admin"));
                let f = json!({"platform": "114yygh", "route": "/web/font/*", "kind": "status", "status": 500, "count": 100});
                d.http.post(url).json(&f).send().await.expect("fault");
            }
            let mut wt = aim(watch(day, day, "notify"), &clinic);
            wt.filters = haoyuan_core::watch::Filters {
                doctors: vec!["王五".into()],
                ..Default::default()
            };
            let mut w = Watcher::new(d.site(), &wt).expect("watcher");
            d.run(&mut w, 12).await;
            let seen = d.event("slot_seen").unwrap_or_else(|| panic!("no slot_seen: {:?}", d.kinds()));
            assert_eq!(seen.data["doctor"], "王五", "{seen:?}");
            if font_fails {
                assert_eq!(seen.data["decoded_by"], "wnumber_parity", "{seen:?}");
                assert!(seen.message.contains("parity rule"), "{}", seen.message);
                assert!(seen.data["remaining"].is_null());
            } else {
                assert_eq!(seen.data["decoded_by"], "font", "{seen:?}");
                assert_eq!(seen.data["remaining"], 2, "the decoded count is the sandbox's: {seen:?}");
                assert_eq!(seen.data["fee"], 60.0, "{seen:?}");
                assert!(!seen.message.contains("parity"), "{}", seen.message);
            }
        }
    });
}
