//! 浙里办 health-check reservation sync through the host binary, against the 浙里办
//! simulator (in this process, on 127.0.0.1): a full day at the front desk (sync,
//! reschedule, cancel, arrival, notifications by email and as a digest), `kill -9`
//! between storing and acknowledging at many points, a token that expires mid-batch,
//! a wrong AES key and undecryptable replies, and records that fail the checks.

use crate::host_protocol::HostProc;
use crate::rail12306::Sandbox;
use crate::smtp_server::{SmtpOpts, SmtpServer};
use haoyuan_core::notify::ChannelSettings;
use haoyuan_sandbox::faults::FaultKind;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = env!("CARGO_BIN_EXE_haoyuan-host");
const APIKEY: &str = "NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ";
const SECRET: &str = "eAT9HgCQy6l6GjKY26CT0giy65PtXg4W";
const KEY: &str = "ZLB-sandbox-key1";

fn zlb_cmd(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(HOST);
    c.arg("zlb")
        .args(args)
        .env("HAOYUAN_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs `haoyuan-host zlb ARGS` with `input` on stdin.
fn zlb(home: &Path, args: &[&str], input: &str) -> Output {
    let mut child = zlb_cmd(home, args).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(home: &Path, args: &[&str]) -> String {
    let o = zlb(home, args, "");
    assert!(o.status.success(), "zlb {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn configure(home: &Path, base: &str, key: &str, notify: &str) {
    let o = zlb(
        home,
        &[
            "config",
            "--base-url",
            base,
            "--interval",
            "60",
            "--notify",
            notify,
        ],
        &format!("{APIKEY}\n{SECRET}\n{key}\n"),
    );
    assert!(o.status.success(), "config: {}", text(&o));
    // The secrets are never printed.
    let t = text(&o);
    assert!(
        !t.contains(SECRET) && !t.contains(key) && !t.contains(APIKEY),
        "{t}"
    );
}

fn zlb_base(sb: &Sandbox) -> String {
    sb.sb.url("zheliban")
}

/// The simulator's records: serial → its listing.
fn platform(sb: &Sandbox) -> HashMap<String, Value> {
    sb.sb
        .platform("zheliban")
        .unwrap()
        .orders()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| {
            let s = o["record"]["serialNumber"]
                .as_str()
                .or(o["serialNumber"].as_str())?;
            Some((s.to_string(), o.clone()))
        })
        .collect()
}

fn acked(o: &Value) -> bool {
    o["ackedVersion"] == o["version"]
}

fn db(home: &Path) -> Connection {
    Connection::open(home.join("haoyuan.sqlite3")).unwrap()
}

fn db_path_exists(home: &Path) -> bool {
    home.join("haoyuan.sqlite3").exists()
}

fn count(home: &Path, sql: &str) -> i64 {
    db(home).query_row(sql, [], |r| r.get(0)).unwrap()
}

fn list_json(home: &Path, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["list", "--json"];
    a.extend_from_slice(args);
    let v: Value = serde_json::from_str(&ok(home, &a)).unwrap();
    v["reservations"].as_array().unwrap().clone()
}

/// Holds the sync loop's lock, as another host process running the loop would.
fn hold_loop(home: &Path) -> std::fs::File {
    let f = std::fs::File::create(home.join("zlb-loop.lock")).unwrap();
    f.try_lock().unwrap();
    f
}

/// Today in Beijing.
fn today() -> String {
    haoyuan_host::zlb::today().to_string()
}

#[test]
fn a_full_day_at_the_front_desk() {
    let sb = Sandbox::start("zheliban:\n  reservations: 12\n  batch_size: 5\n");
    let home = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(SmtpOpts::plain());
    let settings: ChannelSettings = serde_json::from_value(json!({"language": "zh", "email": {
        "enabled": true, "host": "127.0.0.1", "port": smtp.port(), "security": "none",
        "from": "号源 <haoyuan@example.com>", "to": ["desk@hospital.example"], "timeout_secs": 5
    }}))
    .unwrap();
    haoyuan_host::settings::save(home.path(), &settings).unwrap();

    // The browser's host: settings and sync through the protocol. Its timed loop is
    // held off (as when another host process runs it), so each round here is ours.
    let _loop = hold_loop(home.path());
    let mut h = HostProc::start(home.path(), &[]);
    let (reply, _) = h.call(1, "zlb_config_get", json!({}));
    assert_eq!(reply["error"]["code"], "not_configured", "{reply}");
    let (reply, _) = h.call(
        2,
        "zlb_config_put",
        json!({"base_url": zlb_base(&sb), "apikey": APIKEY, "secret": SECRET, "aes_key": "short", "interval_s": 10}),
    );
    let fields: Vec<&str> = reply["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["aes_key", "interval_s"], "{reply}");
    let view = h.ok(
        3,
        "zlb_config_put",
        json!({"base_url": zlb_base(&sb), "apikey": APIKEY, "secret": SECRET, "aes_key": KEY, "interval_s": 3600, "notify": "each"}),
    );
    assert_eq!(view["apikey_masked"], "NBsy****");
    assert!(!view.to_string().contains(SECRET) && !view.to_string().contains(KEY));
    let t = h.ok(4, "zlb_test", json!({}));
    assert!(t["message"].as_str().unwrap().contains("connected"), "{t}");

    // Morning: the backlog of 12 arrives in three batches, each stored then acked.
    let s = h.ok(5, "zlb_sync", json!({}));
    assert_eq!(s["new"], 12, "{s}");
    assert_eq!(s["summary"]["acked_batches"], 3, "{s}");
    let p = platform(&sb);
    assert_eq!(p.len(), 12);
    assert!(p.values().all(acked), "{p:?}");
    // A second sync finds nothing.
    let s = h.ok(6, "zlb_sync", json!({}));
    assert_eq!(
        (s["new"].as_u64(), s["repeats"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );

    // Someone books for today; someone reschedules; someone cancels.
    let added = sb.admin_on(
        "zheliban",
        "add_reservations",
        json!({"records": [{"checkDate": today(), "name": "王小明"}]}),
    );
    let today_serial = added["serialNumbers"][0].as_str().unwrap().to_string();
    let new_date = haoyuan_host::zlb::today().add_days(20).to_string();
    sb.admin_on(
        "zheliban",
        "reschedule",
        json!({"serialNumber": "ZJ109-3", "date": new_date}),
    );
    sb.admin_on("zheliban", "cancel", json!({"serialNumber": "ZJ109-5"}));
    let s = h.ok(7, "zlb_sync", json!({}));
    assert_eq!(
        (
            s["new"].as_u64(),
            s["rescheduled"].as_u64(),
            s["cancelled"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{s}"
    );
    assert!(platform(&sb).values().all(acked));

    // The front desk: today's list, search by name and by the masked ID's digits.
    let l = h.ok(
        8,
        "zlb_list",
        json!({"from": today(), "to": today(), "query": "王小"}),
    );
    let rows = l["reservations"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{l}");
    let id_masked = rows[0]["id_masked"].as_str().unwrap().to_string();
    assert!(id_masked.contains("***********"), "{id_masked}");
    let tail = &id_masked[id_masked.len() - 4..];
    let by_id = h.ok(9, "zlb_list", json!({"query": tail}));
    assert!(by_id["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["serial"] == today_serial.as_str()));
    let upcoming = h.ok(10, "zlb_list", json!({"from": today()}));
    assert_eq!(
        upcoming["total"], 12,
        "13 stored, one cancelled: {upcoming}"
    );
    let with_cancelled = h.ok(11, "zlb_list", json!({"include_cancelled": true}));
    assert_eq!(with_cancelled["total"], 13);
    let r3 = with_cancelled["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["serial"] == "ZJ109-3")
        .unwrap();
    assert_eq!(r3["check_date"], new_date.as_str());
    assert_eq!(r3["status"], 2);

    // Arrival: marked here, told to the platform.
    let a = h.ok(
        12,
        "zlb_arrive",
        json!({"serial": today_serial, "at": "09:05"}),
    );
    assert!(
        a["message"].as_str().unwrap().contains("浙里办 was told"),
        "{a}"
    );
    assert_eq!(a["reservation"]["arrival"], "sent");
    let p = platform(&sb);
    assert_eq!(p[&today_serial]["arrived"], true, "{:?}", p[&today_serial]);
    assert_eq!(
        p[&today_serial]["arriveDate"],
        format!("{} 09:05:00", today()).as_str()
    );
    // An arrival while the platform is down: kept, told on the next sync.
    let other = "ZJ109-7".to_string();
    sb.fault_on(
        "zheliban",
        "/reservation/sync/arrival",
        FaultKind::Status { status: 503 },
        1,
    );
    let a = h.ok(30, "zlb_arrive", json!({"serial": other}));
    assert!(a["message"].as_str().unwrap().contains("next sync"), "{a}");
    assert_eq!(a["reservation"]["arrival"], "pending");
    assert_eq!(platform(&sb)[&other]["arrived"], false);
    let s = h.ok(31, "zlb_sync", json!({}));
    assert_eq!(s["summary"]["arrivals_sent"][0], other.as_str(), "{s}");
    assert_eq!(platform(&sb)[&other]["arrived"], true);
    let (reply, _) = h.call(13, "zlb_arrive", json!({"serial": "ZJ109-5"}));
    assert_eq!(reply["error"]["code"], "reservation_cancelled", "{reply}");
    let (reply, _) = h.call(14, "zlb_arrive", json!({"serial": "ZJ999-1"}));
    assert_eq!(reply["error"]["code"], "not_found", "{reply}");

    // The CSV: masked, and the same rows as the list.
    let x = h.ok(
        15,
        "zlb_export",
        json!({"from": today(), "to": today(), "query": "王小"}),
    );
    let csv = x["csv"].as_str().unwrap();
    assert!(
        csv.contains(&today_serial) && csv.contains(&id_masked),
        "{csv}"
    );
    assert!(csv.contains(&format!("{} 09:05:00", today())));
    assert_eq!(csv.lines().count(), 2);

    // History: one line per version, none repeated; then the arrival.
    let kinds = |serial: &str| -> Vec<String> {
        ok(home.path(), &["history", serial])
            .lines()
            .map(|l| l.split("  ").nth(1).unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(kinds("ZJ109-3"), ["zlb_new", "zlb_rescheduled"]);
    assert_eq!(kinds("ZJ109-5"), ["zlb_new", "zlb_cancelled"]);
    assert_eq!(kinds(&today_serial), ["zlb_new", "zlb_arrived"]);
    let conn = db(home.path());

    // Notifications: one email per change (12 + 3), ID numbers never in them.
    let mails = smtp.wait_received(15, Duration::from_secs(30));
    assert_eq!(mails.len(), 15);
    assert!(mails.iter().any(|m| m.subject.contains("改约 ZJ109-3")));
    assert!(mails.iter().any(|m| m.subject.contains("取消预约 ZJ109-5")));
    let ids: Vec<String> = conn
        .prepare("SELECT json_extract(record, '$.idcard') FROM zlb_reservations")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for m in &mails {
        let body = format!("{}{:?}{:?}", m.subject, m.text, m.html);
        assert!(!ids.iter().any(|id| body.contains(id.as_str())), "{body}");
    }
    h.finish();

    // Digest instead: one message for a round's changes.
    let o = zlb(home.path(), &["config", "--notify", "digest"], "\n\n\n");
    assert!(o.status.success(), "{}", text(&o));
    sb.admin_on("zheliban", "add_reservations", json!({"count": 4}));
    let out = ok(home.path(), &["sync"]);
    assert!(out.contains("4 new"), "{out}");
    let digests = count(
        home.path(),
        "SELECT COUNT(*) FROM events WHERE watch_id = 'zlb' AND kind = 'zlb_digest'",
    );
    let queued = count(
        home.path(),
        "SELECT COUNT(*) FROM outbox WHERE payload LIKE '%4 新预约%'",
    );
    assert_eq!((digests, queued), (1, 1));
}

/// Serial → (status, check date).
type Rows = HashMap<String, (i64, String)>;
/// (serial, kind) → history lines.
type Lines = HashMap<(String, String), i64>;

/// The database's view of what is stored, and the history lines per serial and kind.
fn stored(home: &Path) -> (Rows, Lines) {
    let conn = db(home);
    let rows = conn
        .prepare("SELECT serial, status, check_date FROM zlb_reservations")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let hist = conn
        .prepare("SELECT serial, kind, COUNT(*) FROM zlb_history GROUP BY serial, kind")
        .unwrap()
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (rows, hist)
}

#[test]
fn kill_9_between_store_and_ack_loses_nothing_and_doubles_nothing() {
    let sb = Sandbox::start("zheliban:\n  reservations: 60\n  malformed: 2\n  batch_size: 4\n");
    let home = tempfile::tempdir().unwrap();
    configure(home.path(), &zlb_base(&sb), KEY, "each");
    let mut kills = 0;
    let mut reschedules: i64 = 0;
    let mut added: usize = 0;
    for i in 0..24u64 {
        // New reservations keep arriving, so every run has batches to store and ack.
        sb.admin_on("zheliban", "add_reservations", json!({"count": 6}));
        added += 6;
        // Every third run the ack is held at the platform's door: the batch is
        // stored, then the host dies before the ack is answered. The others die at a
        // moment that moves through the round (pull, store, ack, next pull).
        if i % 3 == 0 {
            sb.fault_on(
                "zheliban",
                "/reservation/sync/callback",
                FaultKind::Delay { ms: 3_000 },
                1,
            );
        }
        let stored_rows = |home: &Path| {
            if db_path_exists(home) {
                count(home, "SELECT COUNT(*) FROM zlb_reservations")
            } else {
                0
            }
        };
        let before = stored_rows(home.path());
        let mut child = zlb_cmd(home.path(), &["sync"]).spawn().unwrap();
        drop(child.stdin.take());
        if i % 3 == 0 {
            // Until a batch with new records is committed: its ack is then on its way
            // and held, so the kill falls between store and ack.
            let start = Instant::now();
            while stored_rows(home.path()) == before
                && start.elapsed() < Duration::from_secs(10)
                && child.try_wait().unwrap().is_none()
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(100));
        } else {
            std::thread::sleep(Duration::from_millis(4 + (i * 13) % 70));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
        // The platform changes stored records meanwhile.
        if i % 5 == 4 {
            let serial = format!("ZJ109-{}", 1 + i / 5);
            let date = haoyuan_host::zlb::today()
                .add_days(40 + i as i64)
                .to_string();
            sb.admin_on(
                "zheliban",
                "reschedule",
                json!({"serialNumber": serial, "date": date}),
            );
            reschedules += 1;
        }
    }
    assert!(kills >= 10, "only {kills} runs were killed");
    // Then a clean sync finishes the job.
    let out = ok(home.path(), &["sync"]);
    assert!(out.contains("synced"), "{out}");
    let p = platform(&sb);
    let good: HashMap<&String, &Value> = p
        .iter()
        .filter(|(_, o)| o["malformed"].is_null() || o["malformed"] == false)
        .collect();
    assert_eq!(good.len(), 60 + added);
    assert!(
        good.values().all(|o| acked(o)),
        "unacked: {:?}",
        good.values().filter(|o| !acked(o)).collect::<Vec<_>>()
    );
    // Re-deliveries happened (the kills hit between store and ack)…
    let redelivered = good
        .values()
        .filter(|o| o["deliveries"].as_u64().unwrap_or(0) > 1)
        .count();
    assert!(redelivered > 0, "no record was delivered twice");
    // …and every record is stored once, as the platform has it now.
    let (rows, hist) = stored(home.path());
    assert_eq!(rows.len(), 60 + added, "stored {} records", rows.len());
    for (serial, o) in &good {
        let rec = &o["record"];
        let (status, date) = &rows[*serial];
        assert_eq!(rec["checkDate"].as_str(), Some(date.as_str()), "{serial}");
        assert_eq!(
            rec["orderStatus"].to_string().trim_matches('"'),
            status.to_string(),
            "{serial}"
        );
        assert_eq!(
            hist.get(&((*serial).clone(), "zlb_new".into())),
            Some(&1),
            "{serial}: {hist:?}"
        );
    }
    let resched: i64 = hist
        .iter()
        .filter(|((_, k), _)| k == "zlb_rescheduled")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(resched, reschedules);
    let lines: i64 = hist.values().sum();
    let changes: Vec<_> = hist.iter().filter(|((_, k), _)| k != "zlb_new").collect();
    assert_eq!(
        lines,
        (60 + added) as i64 + reschedules,
        "a repeat was taken for a change: {changes:?}"
    );
    // One event and one queued message per change: none lost, none doubled.
    let events = count(
        home.path(),
        "SELECT COUNT(*) FROM events WHERE watch_id = 'zlb' AND kind LIKE 'zlb\\_%' ESCAPE '\\' AND kind != 'zlb_sync_failed'",
    );
    assert_eq!(events, (60 + added) as i64 + reschedules);
}

#[test]
fn a_token_that_expires_mid_batch_is_renewed_and_the_ack_repeated() {
    let sb = Sandbox::start("zheliban:\n  reservations: 6\n  batch_size: 3\n");
    let home = tempfile::tempdir().unwrap();
    configure(home.path(), &zlb_base(&sb), KEY, "off");
    ok(home.path(), &["test"]);
    let tokens = |sb: &Sandbox| {
        sb.paths_on("zheliban")
            .iter()
            .filter(|p| p.ends_with("/token"))
            .count()
    };
    assert_eq!(tokens(&sb), 1);
    // The token dies between the pull and the ack of the first batch.
    sb.fault_on(
        "zheliban",
        "/reservation/sync/callback",
        FaultKind::SessionExpired,
        1,
    );
    let out = ok(home.path(), &["sync"]);
    assert!(out.contains("6 new"), "{out}");
    assert_eq!(tokens(&sb), 2, "{:?}", sb.paths_on("zheliban"));
    assert!(platform(&sb).values().all(acked));
    let (rows, hist) = stored(home.path());
    assert_eq!(rows.len(), 6);
    assert!(hist.values().all(|n| *n == 1), "{hist:?}");
    // The renewed token is cached: the next round asks for none.
    ok(home.path(), &["sync"]);
    assert_eq!(tokens(&sb), 2);
}

#[test]
fn a_wrong_aes_key_or_an_undecryptable_reply_is_said_plainly_and_nothing_is_acked() {
    let sb = Sandbox::start("zheliban:\n  reservations: 5\n");
    let home = tempfile::tempdir().unwrap();
    configure(home.path(), &zlb_base(&sb), "wrong-key-123456", "off");
    for cmd in ["test", "sync"] {
        let o = zlb(home.path(), &[cmd], "");
        assert_eq!(o.status.code(), Some(1));
        let t = text(&o);
        assert!(t.contains("apikey, secret or AES key"), "{cmd}: {t}");
        assert!(!t.contains("wrong-key-123456"), "{t}");
    }
    let show = ok(home.path(), &["show"]);
    assert!(
        show.contains("last error") && show.contains("AES key"),
        "{show}"
    );
    assert!(!platform(&sb).values().any(|o| o["acked"] == true));

    // The right key, but the platform's reply is cut on the wire, or is not JSON inside.
    configure(home.path(), &zlb_base(&sb), KEY, "off");
    for (kind, says) in [
        (FaultKind::Truncated, "could not be decrypted"),
        (FaultKind::Malformed, "not JSON"),
    ] {
        sb.fault_on("zheliban", "/reservation/sync/order", kind, 1);
        let o = zlb(home.path(), &["sync"], "");
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(says), "{}", text(&o));
        assert!(
            text(&o).contains("Nothing that was not saved was acknowledged"),
            "{}",
            text(&o)
        );
        assert!(!platform(&sb).values().any(|o| o["acked"] == true));
        assert!(
            !db_path_exists(home.path())
                || count(home.path(), "SELECT COUNT(*) FROM zlb_reservations") == 0
        );
    }
    // The platform's reply with a renamed field: the records fail the checks, nothing
    // is acked, and the next sync (reply whole again) stores everything.
    sb.fault_on(
        "zheliban",
        "/reservation/sync/order",
        FaultKind::RenameField {
            from: "checkDate".into(),
            to: "check_date".into(),
        },
        1,
    );
    let _ = zlb(home.path(), &["sync"], "");
    let out = ok(home.path(), &["sync"]);
    assert!(out.contains("new"), "{out}");
    assert_eq!(
        count(home.path(), "SELECT COUNT(*) FROM zlb_reservations"),
        5
    );
    assert!(platform(&sb).values().all(acked));
}

#[test]
fn records_that_fail_the_checks_are_kept_and_the_rest_acked_by_serial_number() {
    let sb = Sandbox::start(
        "zheliban:\n  reservations: 8\n  malformed: 4\n  batch_size: 20\n  code_style: mixed\n",
    );
    let home = tempfile::tempdir().unwrap();
    configure(home.path(), &zlb_base(&sb), KEY, "off");
    let out = ok(home.path(), &["sync"]);
    assert!(
        out.contains("8 new") && out.contains("; 4 record(s) failed the checks"),
        "{out}"
    );
    let p = platform(&sb);
    let (bad, good): (Vec<&Value>, Vec<&Value>) = p
        .values()
        .partition(|o| !(o["malformed"].is_null() || o["malformed"] == false));
    assert_eq!((good.len(), bad.len()), (8, 4));
    assert!(good.iter().all(|o| acked(o)));
    assert!(bad.iter().all(|o| o["acked"] != true), "{bad:?}");
    // Acked one by one (the batch id would have acked the rejects too).
    let paths = sb.paths_on("zheliban");
    assert_eq!(paths.iter().filter(|p| p.contains("callback")).count(), 8);
    let rejects = ok(home.path(), &["rejects"]);
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    // A second sync: the rejects come back once more (counted), are not doubled,
    // nothing else moves.
    let times = count(home.path(), "SELECT SUM(times) FROM zlb_rejects");
    let out = ok(home.path(), &["sync"]);
    assert!(
        out.contains("0 new") && out.contains("acked 0 batch(es) + 0 record(s)"),
        "{out}"
    );
    assert_eq!(count(home.path(), "SELECT COUNT(*) FROM zlb_rejects"), 4);
    assert_eq!(
        count(home.path(), "SELECT SUM(times) FROM zlb_rejects"),
        times + 4
    );
    assert_eq!(
        count(home.path(), "SELECT COUNT(*) FROM zlb_reservations"),
        8
    );
    // The reasons are in words.
    let conn = db(home.path());
    let reasons: Vec<String> = conn
        .prepare("SELECT reason FROM zlb_rejects")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(reasons.iter().all(|r| r.len() > 10), "{reasons:?}");
    // A person releases one: it is acked by its serial number and stops coming back.
    let released = bad
        .iter()
        .find_map(|o| o["record"]["serialNumber"].as_str())
        .unwrap()
        .to_string();
    let out = ok(home.path(), &["rejects", "release", &released]);
    assert!(out.contains("acknowledged"), "{out}");
    assert!(acked(&platform(&sb)[&released]));
    let o = zlb(home.path(), &["rejects", "release", &released], "");
    assert_eq!(o.status.code(), Some(1), "released twice: {}", text(&o));
    let times = count(home.path(), "SELECT SUM(times) FROM zlb_rejects");
    ok(home.path(), &["sync"]);
    assert_eq!(
        count(home.path(), "SELECT SUM(times) FROM zlb_rejects"),
        times + 3
    );
    let l = list_json(home.path(), &[]);
    assert_eq!(l.len(), 8);
    let shown: HashSet<String> = l
        .iter()
        .map(|r| r["serial"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown.len(), 8);
}

#[test]
fn the_browser_host_syncs_by_itself_once_set_up_and_not_faster_than_the_floor() {
    let sb = Sandbox::start("zheliban:\n  reservations: 7\n  batch_size: 3\n");
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    h.ok(
        1,
        "zlb_config_put",
        json!({"base_url": zlb_base(&sb), "apikey": APIKEY, "secret": SECRET, "aes_key": KEY, "notify": "off"}),
    );
    // The loop notices the settings and runs a round, without being asked.
    let start = Instant::now();
    while !platform(&sb).values().all(acked) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the loop did not sync"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // (The round's last, empty pull follows the last ack.)
    std::thread::sleep(Duration::from_millis(1_000));
    let p = sb.paths_on("zheliban");
    let pulls = p.iter().filter(|x| x.ends_with("/order")).count();
    let tokens = p.iter().filter(|x| x.ends_with("/token")).count();
    // One round: three batches and the empty pull that ends it.
    assert_eq!((pulls, tokens), (4, 1));
    // New reservations wait for the next round (at least 60 s later).
    sb.admin_on("zheliban", "add_reservations", json!({"count": 2}));
    std::thread::sleep(Duration::from_secs(4));
    let pulls_now = sb
        .paths_on("zheliban")
        .iter()
        .filter(|x| x.ends_with("/order"))
        .count();
    assert_eq!(pulls_now, 4);
    let c = h.ok(2, "zlb_config_get", json!({}));
    assert_eq!(c["reservations"], 7, "{c}");
    assert!(c["last_sync_at"].as_i64().is_some(), "{c}");
    h.finish();
}
