//! Helpers every sandbox test uses: start a sandbox, a cookie-keeping client, admin calls.

#![allow(dead_code)]

use haoyuan_sandbox::{Options, Running};
use serde_json::Value;

/// Starts a sandbox on free ports with `scenario` (Null: defaults) and seed 1.
pub async fn start(scenario: Value) -> Running {
    start_seeded(scenario, 1).await
}

pub async fn start_seeded(scenario: Value, seed: u64) -> Running {
    haoyuan_sandbox::start(Options {
        port: 0,
        seed,
        scenario: Some(scenario),
    })
    .await
    .expect("sandbox starts")
}

/// A client that keeps cookies, as a browser would.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// POSTs JSON to an admin route and returns the JSON reply (panics on non-2xx).
pub async fn admin_post(sb: &Running, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sb.url("admin")))
        .body(body.to_string())
        .send()
        .await
        .expect("admin");
    let status = r.status();
    let v: Value = r.json().await.expect("admin json");
    assert!(status.is_success(), "admin {path} → {status}: {v}");
    v
}

/// GETs an admin route.
pub async fn admin_get(sb: &Running, path_and_query: &str) -> Value {
    reqwest::get(format!("{}{path_and_query}", sb.url("admin")))
        .await
        .expect("admin")
        .json()
        .await
        .expect("admin json")
}

/// Arms a fault through the admin API.
pub async fn arm(sb: &Running, fault: Value) {
    admin_post(sb, "/faults", fault).await;
}
