//! Booking intents through the built `haoyuan-host`, over raw frames: one watch never
//! gets a second order — not after a retried request, not after `kill -9` of the host —
//! unless the site said no order was made; and every step is recorded and told.

use crate::host_protocol::{fit_window, watch, HostProc};
use crate::smtp_server::{SmtpOpts, SmtpServer};
use haoyuan_core::notify::render::beijing_time;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Stores a 114yygh watch and returns its id.
fn new_watch(h: &mut HostProc, n: u64, label: &str) -> String {
    h.ok(n, "watch_put", json!({"watch": fit_window(watch(label))}))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The kinds of a watch's history, newest first.
fn kinds(h: &mut HostProc, n: u64, watch_id: &str) -> Vec<String> {
    h.ok(n, "history_list", json!({"watch_id": watch_id}))["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["ok"], false, "expected an error: {reply}");
    reply["error"]["code"].as_str().unwrap()
}

fn message(reply: &Value) -> &str {
    reply["error"]["message"].as_str().unwrap()
}

#[test]
fn a_second_begin_is_refused_until_the_site_says_it_made_no_order() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let wid = new_watch(&mut h, 1, "协和眼科");
    assert_eq!(
        h.ok(2, "booking_get", json!({"watch_id": wid})),
        json!({"intent": null})
    );

    // Begin: a submitted intent, a booking_submitted event, pushed.
    let (reply, events) = h.call(
        3,
        "booking_begin",
        json!({"watch_id": wid, "data": {"visit_time": "2026-12-03 08:30"}}),
    );
    assert_eq!(reply["ok"], true, "{reply}");
    let first = reply["data"]["intent"].clone();
    let id = first["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("b-"), "{first}");
    assert_eq!(first["watch_id"], wid.as_str());
    assert_eq!(first["state"], "submitted");
    assert_eq!(first["created_at"], first["updated_at"]);
    assert_eq!(first["data"], json!({"visit_time": "2026-12-03 08:30"}));
    let entry = &reply["data"]["entry"];
    assert_eq!(
        (entry["kind"].as_str(), entry["message"].as_str()),
        (Some("booking_submitted"), Some("order submitted"))
    );
    assert_eq!(entry["data"], first["data"]);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "watch_event");
    assert_eq!(events[0]["data"], *entry);
    assert_eq!(
        h.ok(4, "booking_get", json!({"watch_id": wid}))["intent"],
        first
    );

    // Begin again: refused, saying when the earlier order went out; nothing recorded.
    let (reply, events) = h.call(5, "booking_begin", json!({"watch_id": wid}));
    assert_eq!(error_code(&reply), "booking_exists");
    let when = beijing_time(first["created_at"].as_i64().unwrap());
    assert!(
        message(&reply).contains(&when)
            && message(&reply).contains("Haoyuan will not send another order"),
        "{reply}"
    );
    assert!(events.is_empty());
    assert_eq!(kinds(&mut h, 6, &wid), ["booking_submitted", "created"]);

    // Failed: the site made no order, so the watch may book again.
    let (reply, events) = h.call(
        7,
        "booking_end",
        json!({"watch_id": wid, "intent_id": id, "result": "failed", "message": "号已约满",
               "data": {"reason": "no slots left"}}),
    );
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["data"]["intent"]["state"], "failed");
    assert_eq!(reply["data"]["entry"]["kind"], "booking_failed");
    assert_eq!(reply["data"]["entry"]["message"], "号已约满");
    assert_eq!(events[0]["data"]["kind"], "booking_failed");
    assert_eq!(
        h.ok(8, "booking_get", json!({"watch_id": wid}))["intent"],
        json!(null)
    );
    let second = h.ok(
        9,
        "booking_begin",
        json!({"watch_id": wid, "data": {"message": "提交订单：12-03 上午 王伟"}}),
    );
    let id2 = second["intent"]["id"].as_str().unwrap().to_string();
    assert_ne!(id2, id);
    assert_eq!(second["entry"]["message"], "提交订单：12-03 上午 王伟");

    // Booked: never again.
    let booked = h.ok(
        10,
        "booking_end",
        json!({"watch_id": wid, "intent_id": id2, "result": "booked", "message": "预约成功",
               "data": {"order_no": "YY20261203001"}}),
    );
    assert_eq!(booked["intent"]["state"], "booked");
    assert_eq!(booked["entry"]["kind"], "booked");
    let (reply, _) = h.call(11, "booking_begin", json!({"watch_id": wid}));
    assert_eq!(error_code(&reply), "booking_exists");
    assert!(message(&reply).contains("already booked"), "{reply}");
    assert_eq!(
        h.ok(12, "booking_get", json!({"watch_id": wid}))["intent"],
        booked["intent"]
    );
    assert_eq!(
        kinds(&mut h, 13, &wid),
        [
            "booked",
            "booking_submitted",
            "booking_failed",
            "booking_submitted",
            "created"
        ]
    );
    assert!(h.finish().success());
}

#[test]
fn ending_twice_records_once_and_a_final_state_does_not_change() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let wid = new_watch(&mut h, 1, "a");
    let other = new_watch(&mut h, 2, "b");
    let id = h.ok(3, "booking_begin", json!({"watch_id": wid}))["intent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let end = |result: &str| {
        json!({"watch_id": wid, "intent_id": id, "result": result, "message": "预约成功",
               "data": {"order_no": "YY1"}})
    };

    let first = h.ok(4, "booking_end", end("booked"));
    assert_eq!(first["entry"]["kind"], "booked");
    // The extension retries after a crash: the same answer, nothing new recorded or pushed.
    let (reply, events) = h.call(5, "booking_end", end("booked"));
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["data"]["intent"], first["intent"]);
    assert_eq!(reply["data"]["entry"], json!(null));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        kinds(&mut h, 6, &wid),
        ["booked", "booking_submitted", "created"]
    );

    // Another final state: refused in plain words.
    for (n, result) in [(7, "unknown"), (8, "failed")] {
        let (reply, events) = h.call(n, "booking_end", end(result));
        assert_eq!(error_code(&reply), "bad_params");
        assert!(
            message(&reply).contains("already recorded as booked")
                && message(&reply).contains(result),
            "{reply}"
        );
        assert!(events.is_empty());
    }
    assert_eq!(
        h.ok(9, "booking_get", json!({"watch_id": wid}))["intent"]["state"],
        "booked"
    );

    // Not this watch's intent, no such intent, no such watch, no such result.
    let (reply, _) = h.call(
        10,
        "booking_end",
        json!({"watch_id": other, "intent_id": id, "result": "failed", "message": "m"}),
    );
    assert_eq!(error_code(&reply), "not_found");
    let (reply, _) = h.call(
        11,
        "booking_end",
        json!({"watch_id": wid, "intent_id": "b-0000000000000000", "result": "failed", "message": "m"}),
    );
    assert_eq!(error_code(&reply), "not_found");
    let (reply, _) = h.call(12, "booking_begin", json!({"watch_id": "w-nope"}));
    assert_eq!(error_code(&reply), "not_found");
    assert!(message(&reply).contains("w-nope"), "{reply}");
    let (reply, _) = h.call(13, "booking_end", end("maybe"));
    assert_eq!(error_code(&reply), "bad_params");
    let (reply, _) = h.call(14, "booking_get", json!({}));
    assert_eq!(error_code(&reply), "bad_params");
    // Nothing of the refused requests reached the history.
    assert_eq!(
        kinds(&mut h, 15, &wid),
        ["booked", "booking_submitted", "created"]
    );
    assert_eq!(kinds(&mut h, 16, &other), ["created"]);
    assert_eq!(
        h.ok(17, "history_list", json!({"watch_id": "w-nope"}))["events"],
        json!([])
    );
    assert!(h.finish().success());
}

#[test]
fn a_host_killed_right_after_begin_still_refuses_a_second_order() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let wid = new_watch(&mut h, 1, "kill -9");
    h.send(json!({"id": 2, "cmd": "booking_begin", "params": {"watch_id": wid}}));
    let reply = h.recv();
    assert_eq!(reply["id"], 2);
    assert_eq!(reply["ok"], true, "{reply}");
    let intent = reply["data"]["intent"].clone();
    // Dropping a HostProc is `Child::kill`: SIGKILL, no chance to tidy up.
    drop(h);

    // The browser restarts and asks before booking again.
    let mut h = HostProc::start(home.path(), &[]);
    assert_eq!(
        h.ok(1, "booking_get", json!({"watch_id": wid}))["intent"],
        intent
    );
    let (reply, _) = h.call(2, "booking_begin", json!({"watch_id": wid}));
    assert_eq!(error_code(&reply), "booking_exists");
    assert!(
        message(&reply).contains("result is not known yet"),
        "{reply}"
    );

    // It cannot tell whether the site took the order: unknown still blocks, also after
    // the watch is deleted and made again under the same id.
    let ended = h.ok(
        3,
        "booking_end",
        json!({"watch_id": wid, "intent_id": intent["id"], "result": "unknown", "message": "no answer from the site"}),
    );
    assert_eq!(ended["entry"]["kind"], "outcome_unknown");
    let same = h.ok(4, "watch_get", json!({"id": wid}));
    h.ok(5, "watch_delete", json!({"id": wid}));
    assert_eq!(
        h.ok(6, "booking_get", json!({"watch_id": wid}))["intent"]["state"],
        "unknown"
    );
    h.ok(7, "watch_put", json!({"watch": same}));
    let (reply, _) = h.call(8, "booking_begin", json!({"watch_id": wid}));
    assert_eq!(error_code(&reply), "booking_exists");
    assert!(message(&reply).contains("check your orders"), "{reply}");
    assert!(h.finish().success());
}

fn outbox_kinds(home: &Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(home.join("haoyuan.sqlite3")).unwrap();
    let mut st = db
        .prepare(
            "SELECT e.kind, o.channel FROM outbox o JOIN events e ON e.seq = o.event_seq
             ORDER BY e.seq",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn submitting_and_booking_are_queued_in_the_outbox_and_mailed() {
    let home = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(SmtpOpts::plain());
    let mut h = HostProc::start(home.path(), &[]);
    h.ok(
        1,
        "channels_put",
        json!({"settings": {"language": "zh", "email": {
            "enabled": true, "host": "127.0.0.1", "port": server.port(), "security": "none",
            "from": "号源 <haoyuan@example.com>", "to": ["me@example.com"], "timeout_secs": 5}}}),
    );
    let wid = new_watch(&mut h, 2, "协和眼科");
    let begun = h.ok(
        3,
        "booking_begin",
        json!({"watch_id": wid, "data": {"visit_time": "2026-12-03 08:30-09:00", "doctor": "王伟"}}),
    );
    let id = begun["intent"]["id"].as_str().unwrap().to_string();
    h.ok(
        4,
        "booking_end",
        json!({"watch_id": wid, "intent_id": id, "result": "booked", "message": "预约成功，请按时就诊",
               "data": {"visit_time": "2026-12-03 08:30-09:00", "place": "门诊楼 2 层 眼科",
                        "order_no": "YY20261203001", "doctor": "王伟", "patient_name": "张小明",
                        "card_no": "6222021234567890"}}),
    );
    // A repeated end queues nothing more.
    h.ok(
        5,
        "booking_end",
        json!({"watch_id": wid, "intent_id": id, "result": "booked", "message": "again"}),
    );
    assert_eq!(
        outbox_kinds(home.path()),
        [
            ("booking_submitted".to_string(), "email".to_string()),
            ("booked".to_string(), "email".to_string())
        ]
    );

    let got = server.wait_received(2, Duration::from_secs(20));
    let submitted = got
        .iter()
        .find(|m| m.subject.contains("已提交预约"))
        .unwrap_or_else(|| panic!("no booking_submitted mail in {got:?}"));
    assert!(
        submitted.subject.contains("2026-12-03 08:30-09:00"),
        "{}",
        submitted.subject
    );
    let booked = got
        .iter()
        .find(|m| m.subject.contains("已预约成功"))
        .unwrap_or_else(|| panic!("no booked mail in {got:?}"));
    let text = booked.text.clone().unwrap_or_default();
    for line in [
        "就诊时间：2026-12-03 08:30-09:00",
        "地点：门诊楼 2 层 眼科",
        "订单号：YY20261203001",
        "医生：王伟",
        "就诊人：张*明",
        "卡号：****7890",
    ] {
        assert!(text.contains(line), "{line:?} missing from {text}");
    }
    let html = booked.html.clone().unwrap_or_default();
    for raw in ["张小明", "6222021234567890"] {
        assert!(
            !text.contains(raw) && !html.contains(raw),
            "{raw} must be masked"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.received().len(), 2, "exactly two messages");
    assert!(h.finish().success());
}
