//! The 114yygh run-time watcher driven against the live sandbox, as the extension
//! drives it, but natively and on a virtual clock: every `wait` the watcher asks for is
//! skipped by moving the sandbox's simulated clock forward by the same amount, so hours
//! of watching take milliseconds and the sandbox's releases, rate limits and session
//! expiry all run on the same time line as the watcher.
//!
//! The driver is `haoyuan_bench::yygh114` (shared with the `yygh114` bench). The host's
//! booking intents are played by its `Intents` (the real host's are tested in
//! `tests/it/booking.rs`); everything else is real: HTTP, cookies, fonts, the sandbox's
//! inventory and competitors.

use haoyuan_bench::yygh114::{beijing_day_start, runtime, scenario, watch, Drive, Units};
use haoyuan_core::platforms::yygh114::watcher::{Action, Watcher};
use serde_json::json;

/// A sandbox loaded with `scenario`, driven with the constant random unit 0.5.
async fn drive(scenario: &str) -> Drive {
    Drive::start(scenario, Units::Constant(0.5))
        .await
        .expect("sandbox")
}

#[test]
fn books_the_slot_released_at_open_time_once_with_a_skewed_server_clock() {
    runtime().expect("runtime").block_on(async {
        let mut d = drive(&scenario("")).await;
        // The server's clock runs 5 s ahead of ours; its time is 08:00 (30 min to release).
        d.sb.shared.clock.set_skew(5_000);
        d.set_server_time_of_day(8 * 3600);
        d.login().await.expect("login");
        let day = d.server_today().add_days(7);
        let clinic = d.clinic_of("1").await.expect("clinic");
        let wt = watch("w1", &clinic, day, day, "book", 30).expect("watch");
        let mut w = Watcher::new(d.site(), &wt).expect("watcher");
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
        // The account was read ahead: from the detail that found the slot, only
        // product/confirm stands between it and the order.
        let purposes: Vec<&str> = d.sent.iter().map(|s| s.purpose.as_str()).collect();
        let detail = purposes
            .iter()
            .rposition(|p| *p == "product_detail")
            .expect("a detail");
        assert_eq!(
            &purposes[detail + 1..],
            ["booking", "order_save", "booking"],
            "{purposes:?}"
        );
        assert_eq!(
            purposes.iter().filter(|p| **p == "account").count(),
            2,
            "{purposes:?}"
        );

        // The first detail request after 08:30 server time came soon after it.
        let server_release = {
            let reqs = d.requests();
            let detail_times: Vec<i64> = reqs
                .iter()
                .filter(|r| r.path == "/web/product/detail")
                .map(|r| r.at)
                .collect();
            let release = beijing_day_start(d.server_now()) + (8 * 3600 + 30 * 60) * 1000;
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
    runtime().expect("runtime").block_on(async {
        // One slot released 10 min after start; a competing buyer takes it 20 s later.
        let extra = r#"
  releases:
    - {hos_code: "1", date: 3, duty: MORNING, count: 1, after_ms: 600000}
  competitors:
    - {hos_code: "1", date: 3, within_ms: 20000, take: 1}
"#;
        let mut d = drive(&scenario(extra)).await;
        d.login().await.expect("login");
        let day = d.server_today().add_days(3);
        let clinic = d.clinic_of("1").await.expect("clinic");
        // Our confirm is slow: it reaches the site after the competitor bought the slot.
        d.delay_before_confirm_ms = 25_000;
        let wt = watch("w1", &clinic, day, day, "book", 30).expect("watch");
        let mut w = Watcher::new(d.site(), &wt).expect("watcher");
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
    runtime().expect("runtime").block_on(async {
        let mut d = drive(&scenario("")).await;
        // 13:00 on the server: the 08:30 release is hours away whenever the test runs (at
        // 07:43 the pace changed during the test, as the release came near).
        d.set_server_time_of_day(13 * 3600);
        d.login().await.expect("login");
        let day = d.server_today().add_days(2);
        let end = d.server_today().add_days(4);
        let clinic = d.clinic_of("1").await.expect("clinic");
        let wt = watch("w1", &clinic, day, end, "notify", 30).expect("watch");
        let mut w = Watcher::new(d.site(), &wt).expect("watcher");
        // A few normal polls first: their spacing is the watch's pace here (slow: the
        // release is hours away).
        d.run(&mut w, 12).await;
        let first: Vec<i64> = d.sent.iter().filter(|s| s.purpose == "product_list").map(|s| s.at_ms).collect();
        let pace = first[1] - first[0];
        // Three 403s in a row: each poll waits longer than the one before.
        d.admin_post("/faults", &json!({"platform": "114yygh", "route": "/web/product/list", "kind": "status", "status": 403, "count": 3})).await.expect("fault");
        let before = d.sent.len();
        d.run(&mut w, 8).await;
        let polls: Vec<i64> = d.sent[before..].iter().filter(|s| s.purpose == "product_list").map(|s| s.at_ms).collect();
        assert!(polls.len() >= 4, "{polls:?}");
        let gaps: Vec<i64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps[0] >= 60_000 && gaps[1] >= 2 * 60_000 - 1 && gaps[2] >= 4 * 60_000 - 1, "backoff gaps {gaps:?}");
        assert_eq!(d.kinds().iter().filter(|k| **k == "poll_error").count(), 1, "one error event per run of failures");
        assert!(d.kinds().contains(&"poll_recovered"));

        // A renamed field and a malformed body: a plain-words error, the watch goes on.
        d.admin_post("/faults", &json!({"platform": "114yygh", "route": "/web/product/list", "kind": "rename_field", "from": "calendars", "to": "calendarList", "count": 1})).await.expect("fault");
        d.run(&mut w, 4).await;
        let e = d.events.iter().rev().find(|e| e.kind == "poll_error").expect("poll_error");
        assert!(e.message.contains("calendars") && e.message.contains("still watching"), "{}", e.message);
        d.admin_post("/faults", &json!({"platform": "114yygh", "route": "/web/product/list", "kind": "malformed", "count": 1})).await.expect("fault");
        let before = d.sent.len();
        let last = d.run(&mut w, 6).await;
        assert!(matches!(last, Action::Wait { .. } | Action::Send { .. }), "{last:?}");
        // An unreadable reply is not a sign of polling too fast: the pace stays normal.
        let polls: Vec<i64> = d.sent[before..].iter().filter(|s| s.purpose == "product_list").map(|s| s.at_ms).collect();
        assert!(polls.len() >= 2 && (polls[1] - polls[0] - pace).abs() < 50, "the same pace ({pace} ms) after a malformed reply: {polls:?}");

        // Session expiry: paused with a plain message, then resumes after a new login.
        d.admin_post("/faults", &json!({"platform": "114yygh", "route": "*", "kind": "session_expired", "count": 1})).await.expect("fault");
        let last = d.run(&mut w, 6).await;
        assert!(matches!(last, Action::Paused { .. }), "{last:?}");
        let e = d.event("session_expired").expect("session_expired");
        assert!(e.message.contains("Log in again"), "{}", e.message);
        d.login().await.expect("login");
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
    runtime().expect("runtime").block_on(async {
        let extra = r#"
  releases:
    - {hos_code: "1", date: 2, duty: MORNING, count: 2, doctor: 王五, fee: "60"}
"#;
        for font_fails in [false, true] {
            let mut d = drive(&scenario(extra)).await;
            d.login().await.expect("login");
            let day = d.server_today().add_days(2);
            let clinic = d.clinic_of("1").await.expect("clinic");
            if font_fails {
                let f = json!({"platform": "114yygh", "route": "/web/font/*", "kind": "status", "status": 500, "count": 100});
                d.admin_post("/faults", &f).await.expect("fault");
            }
            let mut wt = watch("w1", &clinic, day, day, "notify", 30).expect("watch");
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

#[test]
fn a_booking_that_needs_the_sms_code_waits_for_the_person_and_gives_up_without_an_order() {
    runtime().expect("runtime").block_on(async {
        let extra = r#"
  order_sms: true
  releases:
    - {hos_code: "1", date: 2, duty: MORNING, count: 1}
"#;
        let mut d = drive(&scenario(extra)).await;
        d.login().await.expect("login");
        let day = d.server_today().add_days(2);
        let clinic = d.clinic_of("1").await.expect("clinic");
        let wt = watch("w1", &clinic, day, day, "book", 30).expect("watch");
        let mut w = Watcher::new(d.site(), &wt).expect("watcher");
        // The site asks for an SMS code: the watcher asks the person, nothing is ordered.
        let asked = d.run(&mut w, 40).await;
        assert!(matches!(&asked, Action::AskUser { .. }), "{asked:?}");
        assert!(d.kinds().contains(&"booking_sms"), "{:?}", d.kinds());
        assert_eq!(d.intents.begun, 0);
        // Nobody answers in time: no order, the watch goes on.
        let a = w.no_answer(d.now(), 0.5);
        d.events.extend(w.take_events());
        assert!(
            matches!(a, Action::Wait { .. } | Action::Send { .. }),
            "{a:?}"
        );
        let failed = d.event("booking_failed").expect("booking_failed");
        assert_eq!(failed.data["reason"], "no_answer", "{failed:?}");
        assert!(
            failed.message.contains("nothing was booked")
                && failed.message.contains("still watching"),
            "{}",
            failed.message
        );
        assert!(d.orders().await.is_empty());
        // At the next look the slot is still there: asked again, and this time answered.
        let asked = d.run(&mut w, 40).await;
        assert!(matches!(&asked, Action::AskUser { .. }), "{asked:?}");
        let inbox = d
            .admin(&format!("/inbox?phone={}", haoyuan_bench::yygh114::MOBILE))
            .await
            .expect("inbox");
        let code = inbox
            .as_array()
            .and_then(|a| a.last())
            .and_then(|m| m["code"].as_str())
            .expect("an SMS")
            .to_string();
        let a = w.answer(d.now(), &code, 0.5);
        d.events.extend(w.take_events());
        assert!(
            matches!(a, Action::RecordIntent { .. }),
            "the order waits for the intent: {a:?}"
        );
        let intent = w.intent_recorded(d.now(), "i1", 0.5);
        assert!(
            matches!(&intent, Action::Send { purpose, .. } if purpose == "order_save"),
            "{intent:?}"
        );
        let last = d.run_from(&mut w, intent, 20).await;
        assert!(matches!(last, Action::Stopped { .. }), "{last:?}");
        assert!(d.event("booked").is_some(), "{:?}", d.kinds());
        assert_eq!(d.orders().await.len(), 1);
    });
}
