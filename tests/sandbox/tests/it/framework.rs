//! The shared machinery: start-up line, admin API, clock skew in `Date`, faults.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn serves_every_platform_and_the_admin_api_on_loopback() {
    let sb = start(json!(null)).await;
    let urls: serde_json::Value = serde_json::from_str(&sb.urls_json()).unwrap();
    for id in ["114yygh", "12306", "91160", "pati", "zheliban", "admin"] {
        let url = urls[id]
            .as_str()
            .unwrap_or_else(|| panic!("no url for {id}"));
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    }
    assert_eq!(admin_get(&sb, "/health").await["ok"], true);
}

#[tokio::test]
async fn the_date_header_follows_the_skewed_clock() {
    let sb = start(json!(null)).await;
    admin_post(&sb, "/clock", json!({"skew_ms": 86_400_000i64 * 400})).await;
    let r = reqwest::get(format!("{}/anything", sb.url("91160")))
        .await
        .unwrap();
    let date = r.headers()["date"].to_str().unwrap().to_string();
    let expected = haoyuan_sandbox::clock::http_date(sb.shared.clock.now_ms());
    // Same day, 400 days from now: the year or month differ from real time.
    assert_eq!(&date[..16], &expected[..16], "{date} vs {expected}");
    let real = haoyuan_sandbox::clock::http_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    assert_ne!(&date[5..16], &real[5..16]);
}

#[tokio::test]
async fn status_faults_hit_k_requests_then_stop_and_are_logged() {
    let sb = start(json!(null)).await;
    arm(
        &sb,
        json!({"platform": "pati", "route": "*", "kind": "status", "status": 429, "count": 2}),
    )
    .await;
    let c = client();
    let url = format!("{}/pati_service/anything", sb.url("pati"));
    assert_eq!(c.get(&url).send().await.unwrap().status(), 429);
    assert_eq!(c.get(&url).send().await.unwrap().status(), 429);
    assert_ne!(c.get(&url).send().await.unwrap().status(), 429);
    let log = admin_get(&sb, "/requests?platform=pati").await;
    let faults: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fault"].clone())
        .collect();
    assert_eq!(faults, [json!("status"), json!("status"), json!(null)]);
}

#[tokio::test]
async fn a_reset_fault_breaks_the_response() {
    let sb = start(json!(null)).await;
    arm(&sb, json!({"platform": "12306", "kind": "reset"})).await;
    let r = client()
        .get(format!("{}/otn/x", sb.url("12306")))
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "a reset must not look like a complete response");
}

#[tokio::test]
async fn bad_admin_input_is_refused_in_words() {
    let sb = start(json!(null)).await;
    let r = reqwest::Client::new()
        .post(format!("{}/faults", sb.url("admin")))
        .body(r#"{"platform": "nowhere", "kind": "reset"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("nowhere"));
    let r = reqwest::Client::new()
        .post(format!("{}/scenario", sb.url("admin")))
        .body("- just\n- a list")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn every_bundled_scenario_file_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let scenario = haoyuan_sandbox::parse_scenario(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let sb = start(scenario).await;
        assert!(
            sb.url("admin").starts_with("http://127.0.0.1:"),
            "{}",
            path.display()
        );
        loaded += 1;
    }
    assert!(
        loaded >= 10,
        "only {loaded} scenario files found in {}",
        dir.display()
    );
}

#[tokio::test]
async fn a_scenario_with_a_mistake_is_refused_with_the_platform_named() {
    let bad = haoyuan_sandbox::parse_scenario("114yygh:\n  hospitals: 5\n").unwrap();
    let err = haoyuan_sandbox::start(haoyuan_sandbox::Options {
        port: 0,
        seed: 1,
        scenario: Some(bad),
    })
    .await
    .err()
    .expect("refused");
    assert!(err.contains("114yygh"), "{err}");
}
