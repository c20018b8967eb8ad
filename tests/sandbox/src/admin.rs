//! The admin API (JSON, under the admin base URL) that tests and the demo use to script
//! the world: load a scenario, release inventory, move the clock, inject faults, and read
//! the phone inbox, captcha answers, the request log and the orders.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `{"ok": true}` |
//! | `GET /urls` | the base URLs |
//! | `POST /scenario` | body: a scenario (YAML or JSON); resets everything and loads it |
//! | `POST /release` | `{"platform": id, ...}`: release inventory now (platform-specific spec) |
//! | `GET /clock`, `POST /clock` | read; `{"advance_ms"?, "skew_ms"?}` |
//! | `GET /faults`, `POST /faults`, `DELETE /faults` | list, arm (`FaultSpec`), clear |
//! | `GET /inbox?phone=` | SMS messages |
//! | `GET /captcha?platform=` | captcha answers by key |
//! | `GET /requests?platform=&limit=` | the request log: [`crate::shared::LoggedRequest`] |
//! | `GET /orders?platform=` | orders of one platform, or all by platform |
//! | `POST /platform/{id}/{action}` | a platform-specific action |

use crate::faults::FaultSpec;
use crate::platforms::Platform;
use crate::shared::Shared;
use crate::web;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    pub shared: Arc<Shared>,
    pub platforms: Vec<Arc<dyn Platform>>,
    pub seed: u64,
}

impl AdminState {
    /// The platform with this id, or the 400 reply (boxed: a `Response` is large).
    fn platform(&self, id: &str) -> Result<&Arc<dyn Platform>, Box<Response>> {
        self.platforms
            .iter()
            .find(|p| p.id() == id)
            .ok_or_else(|| Box::new(bad(format!("no platform “{id}”"))))
    }

    fn tick(&self) {
        let now = self.shared.clock.now_ms();
        self.platforms.iter().for_each(|p| p.tick(now));
    }
}

fn bad(message: String) -> Response {
    web::json_status(
        StatusCode::BAD_REQUEST,
        &json!({"ok": false, "error": message}),
    )
}

type Q = Query<HashMap<String, String>>;

/// The admin router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/health", get(|| async { web::json(&json!({"ok": true})) }))
        .route("/scenario", post(load_scenario))
        .route("/release", post(release))
        .route("/clock", get(clock_get).post(clock_set))
        .route(
            "/faults",
            get(faults_list).post(faults_arm).delete(faults_clear),
        )
        .route("/inbox", get(inbox))
        .route("/captcha", get(captcha))
        .route("/requests", get(requests))
        .route("/orders", get(orders))
        .route("/platform/{id}/{action}", post(platform_action))
        .with_state(state)
}

async fn load_scenario(State(s): State<AdminState>, body: String) -> Response {
    let scenario = match crate::parse_scenario(&body) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    match crate::load_scenario(&s.shared, &s.platforms, s.seed, &scenario) {
        Ok(()) => web::json(&json!({"ok": true})),
        Err(e) => bad(e),
    }
}

async fn release(State(s): State<AdminState>, body: String) -> Response {
    let spec: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("the release spec is not JSON: {e}")),
    };
    let Some(id) = spec.get("platform").and_then(Value::as_str) else {
        return bad("the release spec needs \"platform\"".into());
    };
    s.tick();
    match s.platform(id) {
        Ok(p) => match p.release(&spec) {
            Ok(v) => web::json(&json!({"ok": true, "released": v})),
            Err(e) => bad(e),
        },
        Err(r) => *r,
    }
}

async fn clock_get(State(s): State<AdminState>) -> Response {
    web::json(&s.shared.clock.describe())
}

async fn clock_set(State(s): State<AdminState>, body: String) -> Response {
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if let Some(ms) = v.get("advance_ms").and_then(Value::as_i64) {
        s.shared.clock.advance(ms);
    }
    if let Some(ms) = v.get("skew_ms").and_then(Value::as_i64) {
        s.shared.clock.set_skew(ms);
    }
    s.tick();
    web::json(&s.shared.clock.describe())
}

async fn faults_list(State(s): State<AdminState>) -> Response {
    web::json(&json!(s.shared.faults.list()))
}

async fn faults_arm(State(s): State<AdminState>, body: String) -> Response {
    match serde_json::from_str::<FaultSpec>(&body) {
        Ok(spec) => {
            if s.platform(&spec.platform).is_err() {
                return bad(format!("no platform “{}”", spec.platform));
            }
            s.shared.faults.arm(spec);
            web::json(&json!({"ok": true}))
        }
        Err(e) => bad(format!("bad fault: {e}")),
    }
}

async fn faults_clear(State(s): State<AdminState>) -> Response {
    s.shared.faults.clear();
    web::json(&json!({"ok": true}))
}

async fn inbox(State(s): State<AdminState>, Query(q): Q) -> Response {
    web::json(&json!(s
        .shared
        .inbox
        .read(q.get("phone").map(String::as_str))))
}

async fn captcha(State(s): State<AdminState>, Query(q): Q) -> Response {
    let platform = q.get("platform").map(String::as_str).unwrap_or("");
    web::json(&Value::Object(s.shared.captchas.all(platform)))
}

async fn requests(State(s): State<AdminState>, Query(q): Q) -> Response {
    let limit = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    web::json(&json!(s
        .shared
        .log
        .read(q.get("platform").map(String::as_str), limit)))
}

async fn orders(State(s): State<AdminState>, Query(q): Q) -> Response {
    s.tick();
    match q.get("platform") {
        Some(id) => match s.platform(id) {
            Ok(p) => web::json(&p.orders()),
            Err(r) => *r,
        },
        None => web::json(&Value::Object(
            s.platforms
                .iter()
                .map(|p| (p.id().to_string(), p.orders()))
                .collect(),
        )),
    }
}

async fn platform_action(
    State(s): State<AdminState>,
    Path((id, action)): Path<(String, String)>,
    body: String,
) -> Response {
    let v: Value = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(Value::Null)
    };
    s.tick();
    match s.platform(&id) {
        Ok(p) => match p.admin(&action, &v) {
            Ok(v) => web::json(&v),
            Err(e) => bad(e),
        },
        Err(r) => *r,
    }
}
