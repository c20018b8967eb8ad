//! Notifications through the durable outbox, end to end: the host binary records an
//! event, queues its message in the same transaction, and its sender delivers it to a
//! real SMTP server on 127.0.0.1 — through a server outage, a refused recipient, and
//! `kill -9` at random points while it drains.

use crate::host_protocol::{fit_window, watch, HostProc};
use crate::smtp_server::{SmtpOpts, SmtpServer};
use haoyuan_core::notify::{Channel, ChannelSettings, Notice, SmtpSecurity};
use haoyuan_host::store::Store;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = env!("CARGO_BIN_EXE_haoyuan-host");

fn email_settings(port: u16, to: &str) -> Value {
    json!({"language": "zh", "email": {
        "enabled": true, "host": "127.0.0.1", "port": port, "security": "none",
        "from": "号源 <haoyuan@example.com>", "to": [to], "timeout_secs": 5
    }})
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A host with email set up and one watch; returns (host, watch id).
fn host_with_email(home: &Path, port: u16, to: &str) -> (HostProc, String) {
    let mut h = HostProc::start(home, &[]);
    h.ok(
        1,
        "channels_put",
        json!({"settings": email_settings(port, to)}),
    );
    let id = h.ok(
        2,
        "watch_put",
        json!({"watch": fit_window(watch("协和眼科"))}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    (h, id)
}

fn slot_seen(h: &mut HostProc, n: u64, watch_id: &str) -> Value {
    h.ok(
        n,
        "event_record",
        json!({"watch_id": watch_id, "kind": "slot_seen", "message": "眼科 12-03 上午 有号 (余 2)",
               "data": {"date": "2026-12-03", "period": "morning", "doctor": "王伟", "patient_id_no": "11010519491231002X", "url": "https://www.114yygh.com/x"}}),
    )
}

fn status(h: &mut HostProc, n: u64) -> Value {
    h.ok(n, "outbox_status", json!({}))
}

fn email_status(s: &Value) -> Value {
    s["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "email")
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_slot_event_reaches_the_mailbox_with_its_id_and_without_raw_id_numbers() {
    let home = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(SmtpOpts::plain());
    let (mut h, wid) = host_with_email(home.path(), server.port(), "me@example.com");

    let (reply, events) = h.call(3, "event_record", json!({"watch_id": wid, "kind": "slot_seen", "message": "眼科 12-03 上午 有号",
        "data": {"date": "2026-12-03", "period": "morning", "patient_id_no": "11010519491231002X"}}));
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(events[0]["data"]["kind"], "slot_seen");
    let got = server.wait_received(1, Duration::from_secs(20));
    let m = &got[0];
    assert!(
        m.x_haoyuan_id
            .as_deref()
            .is_some_and(|id| id.starts_with("hy-")),
        "{m:?}"
    );
    assert_eq!(m.rcpt_tos, ["me@example.com"]);
    assert!(
        m.subject.contains("北京协和医院") && m.subject.contains("2026-12-03"),
        "{}",
        m.subject
    );
    let body = format!(
        "{}{}",
        m.text.clone().unwrap_or_default(),
        m.html.clone().unwrap_or_default()
    );
    assert!(
        !body.contains("11010519491231002X"),
        "an ID number must be masked: {body}"
    );

    // A kind that is not told queues nothing; the host's own kinds can't be forged.
    h.ok(
        4,
        "event_record",
        json!({"watch_id": wid, "kind": "poll_error", "message": "HTTP 502"}),
    );
    let (r, _) = h.call(
        5,
        "event_record",
        json!({"watch_id": wid, "kind": "deleted", "message": "x"}),
    );
    assert_eq!(r["error"]["code"], "bad_params");
    let (r, _) = h.call(
        6,
        "event_record",
        json!({"watch_id": "w-nope", "kind": "slot_seen", "message": "x"}),
    );
    assert_eq!(r["error"]["code"], "not_found");
    wait_until("the outbox to say sent", Duration::from_secs(10), || {
        email_status(&status(&mut h, 7))["sent"] == 1
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.received().len(), 1, "exactly one message");
    assert!(h.finish().success());
}

#[test]
fn a_message_queued_while_the_server_is_down_is_delivered_after_it_comes_back() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut h, wid) = host_with_email(home.path(), port, "me@example.com");
    slot_seen(&mut h, 3, &wid);
    wait_until("a failed attempt", Duration::from_secs(15), || {
        !email_status(&status(&mut h, 4))["last_error"].is_null()
    });
    let s = email_status(&status(&mut h, 5));
    assert_eq!(
        (s["pending"].clone(), s["sent"].clone()),
        (json!(1), json!(0)),
        "{s}"
    );

    let server = SmtpServer::start(SmtpOpts::plain().port(port));
    let got = server.wait_received(1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    wait_until("sent", Duration::from_secs(10), || {
        email_status(&status(&mut h, 6))["sent"] == 1
    });
    assert!(
        email_status(&status(&mut h, 7))["last_error"].is_null(),
        "a delivered channel shows no error"
    );
    assert!(h.finish().success());
}

#[test]
fn a_refused_recipient_is_a_final_failure_reported_per_channel() {
    let home = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(SmtpOpts::plain().reject_rcpt("nobody"));
    let (mut h, wid) = host_with_email(home.path(), server.port(), "nobody@example.com");
    slot_seen(&mut h, 3, &wid);
    wait_until("a final failure", Duration::from_secs(15), || {
        status(&mut h, 4)["failures"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    });
    let st = status(&mut h, 5);
    let f = &st["failures"][0];
    assert_eq!(f["channel"], "email");
    assert!(f["error"].as_str().unwrap().contains("550"), "{f}");
    assert!(
        f["subject"].as_str().unwrap().contains("北京协和医院"),
        "{f}"
    );
    let e = email_status(&st);
    assert_eq!(
        (e["failed"].clone(), e["sent"].clone(), e["pending"].clone()),
        (json!(1), json!(0), json!(0))
    );
    assert!(server.received().is_empty());
    assert!(h.finish().success());
}

#[test]
fn settings_keep_secrets_in_a_private_file_and_never_hand_them_back() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let mut s = email_settings(2525, "me@example.com");
    s["email"]["password"] = json!("hunter2-secret");
    s["email"]["username"] = json!("me");
    let view = h.ok(1, "channels_put", json!({"settings": s}));
    assert_eq!(view["settings"]["email"]["password"], "");
    assert_eq!(view["secrets_set"], json!(["email.password"]));
    // Saving what the page was shown keeps the password…
    let mut shown = view["settings"].clone();
    shown["email"]["port"] = json!(2526);
    let view = h.ok(2, "channels_put", json!({"settings": shown}));
    assert_eq!(view["secrets_set"], json!(["email.password"]));
    assert_eq!(
        h.ok(3, "channels_get", json!({}))["settings"]["email"]["port"],
        2526
    );
    let (bad, _) = h.call(
        4,
        "channels_put",
        json!({"settings": {"email": {"enabled": true}}}),
    );
    assert_eq!(bad["error"]["code"], "invalid_settings");
    assert!(bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["field"] == "email.host"));
    assert!(h.finish().success());

    let file = home.path().join("channels.json");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("hunter2-secret"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let log = std::fs::read_to_string(home.path().join("host.log")).unwrap();
    assert!(!log.contains("hunter2"), "secrets never reach the log");
}

#[test]
fn send_test_email_says_what_the_server_answered() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let (r, _) = h.call(1, "send_test_email", json!({}));
    assert_eq!(r["error"]["code"], "channel_not_configured");
    let server = SmtpServer::start(SmtpOpts::plain());
    h.ok(
        2,
        "channels_put",
        json!({"settings": email_settings(server.port(), "me@example.com")}),
    );
    let ok = h.ok(3, "send_test_email", json!({}));
    assert!(ok["detail"].as_str().unwrap().starts_with("250"), "{ok}");
    assert_eq!(server.wait_received(1, Duration::from_secs(10)).len(), 1);
    h.ok(
        4,
        "channels_put",
        json!({"settings": email_settings(free_port(), "me@example.com")}),
    );
    let (r, _) = h.call(5, "send_test", json!({"channel": "email"}));
    assert_eq!(r["error"]["code"], "channel_failed", "{r}");
    assert!(h.finish().success());
}

#[test]
fn pausing_a_watch_is_recorded() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let id = h.ok(1, "watch_put", json!({"watch": fit_window(watch("x"))}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (r, events) = h.call(2, "watch_pause", json!({"id": id, "paused": true}));
    assert_eq!(r["data"]["paused"], true);
    assert_eq!(events[0]["data"]["kind"], "paused");
    assert_eq!(h.ok(3, "watch_get", json!({"id": id}))["paused"], true);
    assert_eq!(
        h.ok(4, "watch_pause", json!({"id": id, "paused": false}))["paused"],
        false
    );
    let (r, _) = h.call(5, "watch_pause", json!({"id": "w-none", "paused": true}));
    assert_eq!(r["error"]["code"], "not_found");
    assert!(h.finish().success());
}

/// Queues `n` email messages straight into the store (no sender running).
fn enqueue(home: &Path, n: usize, ids: &mut HashSet<String>) {
    let mut store = Store::open(&haoyuan_host::paths::database_path(home)).unwrap();
    for _ in 0..n {
        let id = haoyuan_host::outbox::new_notice_id();
        ids.insert(id.clone());
        let mut render = |e: &haoyuan_core::protocol::HistoryEntry| {
            Some(Notice {
                id: id.clone(),
                kind: "slot_seen".into(),
                watch_id: "w".into(),
                subject: "有号了".into(),
                text: "t".into(),
                html: "<p>t</p>".into(),
                url: None,
                at: e.at,
            })
        };
        store
            .record_event_with_notice(
                "w",
                "slot_seen",
                "m",
                &Value::Null,
                1,
                &[Channel::Email],
                &mut render,
            )
            .unwrap();
    }
}

fn pending(home: &Path) -> u64 {
    Store::open(&haoyuan_host::paths::database_path(home))
        .unwrap()
        .outbox_counts()
        .unwrap()
        .0
}

#[test]
fn kill_9_at_random_points_while_draining_loses_nothing_and_ids_deduplicate() {
    let home = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(SmtpOpts::plain());
    let mut settings = ChannelSettings::default();
    settings.email.enabled = true;
    settings.email.host = "127.0.0.1".into();
    settings.email.port = server.port();
    settings.email.security = SmtpSecurity::None;
    settings.email.from = "haoyuan@example.com".into();
    settings.email.to = vec!["me@example.com".into()];
    haoyuan_host::settings::save(home.path(), &settings).unwrap();

    let mut ids = HashSet::new();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rand = |lo: u64, hi: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + seed % (hi - lo)
    };
    let (mut kills_mid_drain, mut kills) = (0, 0);
    while kills_mid_drain < 50 {
        assert!(
            kills < 300,
            "could not catch the sender mid-drain 50 times in {kills} kills"
        );
        if pending(home.path()) < 50 {
            enqueue(home.path(), 200, &mut ids);
        }
        let mut child = Command::new(HOST)
            .env("HAOYUAN_HOME", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rand(5, 120)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        if pending(home.path()) > 0 {
            kills_mid_drain += 1;
        }
    }
    // A last run drains what is left.
    let mut last = HostProc::start(home.path(), &[]);
    wait_until("the outbox to drain", Duration::from_secs(120), || {
        pending(home.path()) == 0
    });
    assert!(last_call_ok(&mut last));
    assert!(last.finish().success());

    let got = server.received();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &got {
        *seen
            .entry(m.x_haoyuan_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let missing: Vec<_> = ids.iter().filter(|id| !seen.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} messages lost, e.g. {:?}",
        missing.len(),
        ids.len(),
        missing.first()
    );
    assert!(
        seen.keys().all(|k| ids.contains(k)),
        "every message received carries a queued id"
    );
    let (_, sent, failed) = Store::open(&haoyuan_host::paths::database_path(home.path()))
        .unwrap()
        .outbox_counts()
        .unwrap();
    assert_eq!((sent as usize, failed), (ids.len(), 0));
    let repeats = got.len() - seen.len();
    eprintln!("{kills} kills ({kills_mid_drain} mid-drain), {} messages, {} deliveries, {repeats} repeats (same id)", ids.len(), got.len());
    // At least once, not "many times": a repeat needs a kill between 250 and the mark.
    assert!(repeats <= kills, "{repeats} repeats for {kills} kills");
}

fn last_call_ok(h: &mut HostProc) -> bool {
    h.ok(1, "hello", json!({}))["protocol"] == 1
}
