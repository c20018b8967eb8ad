//! 91160 through the host binary, against the 91160 simulator (in this process, on
//! 127.0.0.1): the appToken stored as a secret, the pickers, a watch that books for a
//! patient from the patient book, cancel, a competitor between schedule and order, a
//! rejected token, over-appointed schedules, broken replies and a killed host.

use crate::rail12306::{run_until_booked, tomorrow, Host, Sandbox};
use haoyuan_sandbox::faults::FaultKind;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const TOKEN: &str = "75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL";

/// The day after tomorrow in Beijing.
fn day_after_tomorrow() -> String {
    let now = haoyuan_host::dispatch::now_ms();
    haoyuan_core::date::Date::from_days(
        haoyuan_core::date::Date::from_unix_ms(now, 480).to_days() + 2,
    )
    .to_string()
}

/// A scenario whose first doctor has `free` numbers tomorrow morning (of 4), and an
/// over-appointed afternoon the day after.
fn scenario(free: u32) -> String {
    format!(
        "
91160:
  units: 30
  tokens: [\"{TOKEN}\"]
  schedules:
    - {{day_offset: 1, time_type: am, resources: 4, resource_max: 4, appointed_num: {}}}
    - {{day_offset: 2, time_type: pm, resources: 2, resource_max: 2, appointed_num: 5}}
",
        4 - free
    )
}

/// A valid adult patient (resident ID with its check digit).
fn patient() -> Value {
    let id = haoyuan_core::idcard::complete("11010519800101123").unwrap();
    json!({"name": "张三丰", "id_type": "resident_id", "id_number": id,
           "birthday": "1980-01-01", "sex": "male", "phone": "13812345678",
           "address": "北京市东城区某街1号"})
}

pub struct Setup {
    pub sb: Sandbox,
    pub host: Host,
    pub target: Value,
}

/// A host with the token and a patient stored, and the target picked with the pickers
/// (first hospital → first department → first doctor: the scenario's pinned doctor).
pub fn setup(home: &Path, free: u32) -> Setup {
    let sb = Sandbox::start(&scenario(free));
    let base = sb.sb.url("91160");
    let mut host = Host::start(home, &sb.base());
    host.ok(
        "site_account_put",
        json!({"platform": "91160", "account": "default", "base_url": base,
               "secret": {"app_token": TOKEN}}),
    );
    let p = host.ok("patient_put", json!({"patient": patient()}));
    let patient_id = p["patient"]["id"].as_str().unwrap().to_string();
    let units = host.ok(
        "site_browse",
        json!({"platform": "91160", "account": "default", "what": "units"}),
    );
    assert_eq!(units["items"].as_array().unwrap().len(), 30, "{units}");
    let unit = units["items"][0].clone();
    let deps = host.ok(
        "site_browse",
        json!({"platform": "91160", "account": "default", "what": "deps",
               "parent": {"unit_id": unit["id"]}}),
    );
    let dep = deps["items"][0].clone();
    let doctors = host.ok(
        "site_browse",
        json!({"platform": "91160", "account": "default", "what": "doctors",
               "parent": {"unit_id": unit["id"], "dep_id": dep["id"]}}),
    );
    let doctor = doctors["items"][0].clone();
    let target = json!({"platform": "91160", "unit_id": unit["id"], "dep_id": dep["id"],
        "doctor_id": doctor["id"], "unit_name": unit["name"], "dep_name": dep["name"],
        "doctor_name": doctor["name"], "open_time": unit["open_time"],
        "cycle_days": unit["cycle_days"], "patient_id": patient_id});
    Setup { sb, host, target }
}

pub fn watch(target: &Value, day: &str, mode: &str) -> Value {
    json!({"watch": {"label": "91160 test", "target": target,
        "window": {"start": day, "end": day}, "mode": mode,
        "interval": {"seconds": 15, "jitter_pct": 10}}})
}

/// The patients' orders (not the simulated competitors').
fn orders(sb: &Sandbox) -> Vec<Value> {
    sb.sb
        .platform("91160")
        .unwrap()
        .orders()
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["competitor"] == false)
        .cloned()
        .collect()
}

fn count(sb: &Sandbox, part: &str) -> usize {
    sb.paths_on("91160")
        .iter()
        .filter(|p| p.contains(part))
        .count()
}

/// An order made straight at the simulator for someone else (a competitor).
fn order_as_someone_else(sb: &Sandbox, unit_id: &Value, detl_id: &str) -> Value {
    let id = haoyuan_core::idcard::complete("44030419900202002").unwrap();
    let body = json!({"appToken": TOKEN, "unitId": unit_id, "detlId": detl_id,
        "mobile": "13900000000", "trueName": "李四", "sex": 1, "birthday": "1990-02-02",
        "cardType": 1, "cardNo": id, "clinicNo": "", "address": "深圳"});
    let req = haoyuan_core::http::HttpRequest::post_json(
        format!("{}/appointment/order", sb.sb.url("91160")),
        &body,
    )
    .unwrap();
    let resp = haoyuan_host::webhook::execute(&req, Duration::from_secs(10)).unwrap();
    serde_json::from_slice(&resp.body).unwrap()
}

#[test]
fn a_watch_books_for_a_stored_patient_and_the_booking_is_cancelled() {
    let home = tempfile::tempdir().unwrap();
    let Setup {
        sb,
        mut host,
        target,
        ..
    } = setup(home.path(), 2);
    // The secret is in no reply.
    let accounts = host.ok("site_accounts", json!({}));
    assert!(!accounts.to_string().contains(TOKEN), "{accounts}");
    assert_eq!(accounts["accounts"][0]["has_secret"], true, "{accounts}");

    let day = tomorrow();
    let w = host.ok("watch_put", watch(&target, &day, "book"));
    let watch_id = w["id"].as_str().unwrap().to_string();
    let booked = host.wait_kind("booked", 60);
    let list = orders(&sb);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["trueName"], "张三丰");
    assert_eq!(list[0]["scheduleDate"], day.as_str());
    assert_eq!(list[0]["timeType"], "am");
    let order_id = list[0]["orderId"].to_string();
    assert!(
        booked.to_string().contains(&order_id),
        "the booked event names order {order_id}: {booked}"
    );
    // Neither the ID number nor the phone in full in what the browser is told.
    let told = serde_json::to_string(&host.events).unwrap();
    assert!(!told.contains("13812345678"), "{told}");
    assert!(
        !told.contains(patient()["id_number"].as_str().unwrap()),
        "{told}"
    );
    // The watch has booked: it orders nothing more.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count(&sb, "/appointment/order"), 1);

    // Cancel needs a reason, then cancels at the site and says so in the history.
    let r = host.call(
        "booking_cancel",
        json!({"watch_id": watch_id, "reason": " "}),
    );
    assert_eq!(r["ok"], false, "{r}");
    let c = host.ok(
        "booking_cancel",
        json!({"watch_id": watch_id, "reason": "行程有变"}),
    );
    assert_eq!(c["cancelled"], true, "{c}");
    assert_eq!(orders(&sb)[0]["status"], "cancelled");
    let hist = host.ok("history_list", json!({"watch_id": watch_id}));
    assert_eq!(hist["events"][0]["kind"], "cancelled", "{hist}");
    let again = host.call(
        "booking_cancel",
        json!({"watch_id": watch_id, "reason": "again"}),
    );
    assert_eq!(again["ok"], false, "{again}");
    assert_eq!(count(&sb, "/appointment/cancel"), 1);
}

#[test]
fn a_number_taken_between_schedule_and_order_is_not_booked_and_the_watch_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let Setup {
        sb,
        mut host,
        target,
        ..
    } = setup(home.path(), 1);
    // The host's order waits 2 s at the door; meanwhile someone else takes the number.
    sb.fault_on(
        "91160",
        "/appointment/order",
        FaultKind::Delay { ms: 2_000 },
        1,
    );
    let day = tomorrow();
    host.ok("watch_put", watch(&target, &day, "book"));
    host.wait_kind("booking_submitted", 60);
    std::thread::sleep(Duration::from_millis(400));
    let sched = sb.admin_on("91160", "summary", json!({}));
    let sid = sched["pinned"][0].as_str().unwrap_or_default().to_string();
    let slots = sb.admin_on("91160", "schedule", json!({"schedule_id": sid}));
    let detl = slots["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceMax"].as_i64() > r["appointedNum"].as_i64())
        .map(|r| r["resourceId"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no free slot left: {slots}"));
    let theirs = order_as_someone_else(&sb, &target["unit_id"], &detl);
    assert_eq!(theirs["code"], "0", "{theirs}");
    let failed = host.wait_kind("booking_failed", 30);
    let msg = failed["message"].as_str().unwrap();
    assert!(
        msg.contains("taken") && msg.contains("still watching"),
        "{msg}"
    );
    assert!(orders(&sb).iter().all(|o| o["trueName"] != "张三丰"));
    // The watch goes on polling (next poll after the interval).
    let before = count(&sb, "/appointment/scheduleList");
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&sb, "/appointment/scheduleList") == before {
        assert!(Instant::now() < deadline, "the watch stopped polling");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_rejected_token_is_said_plainly_and_a_new_token_resumes_the_watch() {
    let home = tempfile::tempdir().unwrap();
    let Setup {
        sb,
        mut host,
        target,
        ..
    } = setup(home.path(), 2);
    sb.admin_on("91160", "revoke_token", json!({"token": TOKEN}));
    let day = tomorrow();
    host.ok("watch_put", watch(&target, &day, "book"));
    let e = host.wait_kind("session_expired", 30);
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("appToken") && msg.contains("rejected"),
        "{msg}"
    );
    assert!(!msg.contains(TOKEN));
    assert!(orders(&sb).is_empty());
    // The platform renews it; the person stores it again: the watch goes on and books.
    sb.admin_on("91160", "renew_token", json!({"token": TOKEN}));
    host.ok(
        "site_account_put",
        json!({"platform": "91160", "account": "default", "base_url": sb.sb.url("91160"),
               "secret": {"app_token": TOKEN}}),
    );
    host.wait_kind("booked", 60);
    assert_eq!(orders(&sb).len(), 1);
}

#[test]
fn over_appointed_schedules_and_broken_replies_never_book_and_the_watch_survives() {
    let home = tempfile::tempdir().unwrap();
    let Setup {
        sb,
        mut host,
        target,
        ..
    } = setup(home.path(), 0);
    // Day after tomorrow: appointedNum 5 > resourceMax 2 — nothing free.
    sb.fault_on(
        "91160",
        "/appointment/scheduleList",
        FaultKind::Malformed,
        1,
    );
    let day = day_after_tomorrow();
    // Only that afternoon (the doctor's other sessions that day are generated freely).
    let mut w = watch(&target, &day, "book");
    w["watch"]["filters"] = json!({"periods": ["afternoon"]});
    host.ok("watch_put", w);
    let e = host.wait_kind("site_changed", 30);
    assert!(!e["message"].as_str().unwrap().is_empty());
    sb.fault_on(
        "91160",
        "/appointment/scheduleList",
        FaultKind::RenameField {
            from: "resourceMax".into(),
            to: "resource_max".into(),
        },
        1,
    );
    // The renamed field is told too (a new kind of breakage).
    let first = e["seq"].clone();
    let second = host.wait_event("a second site_changed", 60, |f| {
        f["event"] == "watch_event"
            && f["data"]["kind"] == "site_changed"
            && f["data"]["seq"] != first
    });
    assert!(
        second["data"]["message"]
            .as_str()
            .unwrap()
            .contains("resourceMax"),
        "{second}"
    );
    // And one more poll (backed off after each broken reply): a plain over-appointed
    // reply, nothing free.
    let deadline = Instant::now() + Duration::from_secs(100);
    while count(&sb, "/appointment/scheduleList") < 3 {
        assert!(
            Instant::now() < deadline,
            "the watch stopped: {:?}",
            host.kinds()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(500));
    host.ok("hello", json!({})); // takes in the events sent so far
    let kinds = host.kinds();
    assert!(!kinds.iter().any(|k| k == "slot_seen"), "{kinds:?}");
    assert_eq!(count(&sb, "/appointment/resourceList"), 0);
    assert!(orders(&sb).is_empty());
}

#[test]
fn a_host_killed_with_an_order_in_flight_never_orders_again_after_restart() {
    let home = tempfile::tempdir().unwrap();
    let Setup {
        sb,
        mut host,
        target,
        ..
    } = setup(home.path(), 2);
    sb.fault_on(
        "91160",
        "/appointment/order",
        FaultKind::Delay { ms: 1_500 },
        1,
    );
    let day = tomorrow();
    let w = host.ok("watch_put", watch(&target, &day, "book"));
    let watch_id = w["id"].as_str().unwrap().to_string();
    host.wait_kind("booking_submitted", 60);
    host.kill();
    // Whether the order landed is not known to the host (the simulator drops a request
    // whose client is gone): either way it must not order again.
    std::thread::sleep(Duration::from_millis(2_500));
    let sent_before = count(&sb, "/appointment/order");
    let mut host = Host::start(home.path(), &sb.base());
    let end = host.wait_kind("outcome_unknown", 30);
    assert!(end["message"].as_str().unwrap().contains("91160"), "{end}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count(&sb, "/appointment/order"),
        sent_before,
        "no order after the restart"
    );
    assert!(orders(&sb).len() <= 1);
    let b = host.ok("booking_get", json!({"watch_id": watch_id}));
    assert_eq!(b["intent"]["state"], "unknown", "{b}");
}

/// Runs the host's command line with `stdin`, in `home`.
fn cli(home: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut c = Command::new(env!("CARGO_BIN_EXE_haoyuan-host"));
    let mut child = c
        .env("HAOYUAN_HOME", home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn first_id(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("nothing listed: {text}"))
        .to_string()
}

#[test]
fn headless_token_patient_pickers_watch_run_and_cancel_from_the_command_line() {
    use std::process::Command;
    let sb = Sandbox::start(&scenario(2));
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let base = sb.sb.url("91160");
    // The token comes from stdin and is never printed back.
    let add = cli(
        h,
        &["account", "add", "91160", "default", "--base", &base],
        &format!("{TOKEN}\n"),
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert!(!String::from_utf8_lossy(&add.stdout).contains(TOKEN));
    let id = patient()["id_number"].as_str().unwrap().to_string();
    let p = cli(
        h,
        &[
            "patient",
            "add",
            "--name",
            "张三丰",
            "--id",
            &id,
            "--birthday",
            "1980-01-01",
            "--sex",
            "male",
            "--phone",
            "13812345678",
            "--address",
            "北京市东城区某街1号",
        ],
        "",
    );
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    let patient_id = first_id(&cli(h, &["patient", "list"], ""));
    let unit = first_id(&cli(h, &["browse", "91160", "default", "units"], ""));
    let dep = first_id(&cli(
        h,
        &["browse", "91160", "default", "deps", "--unit", &unit],
        "",
    ));
    let doctor = first_id(&cli(
        h,
        &[
            "browse", "91160", "default", "doctors", "--unit", &unit, "--dep", &dep,
        ],
        "",
    ));
    let day = tomorrow();
    let w = json!({"label": "cli", "target": {"platform": "91160", "unit_id": unit,
        "dep_id": dep, "doctor_id": doctor, "patient_id": patient_id},
        "window": {"start": day, "end": day}, "mode": "book",
        "interval": {"seconds": 15}});
    let added = cli(h, &["watch", "add", "--json", "-"], &w.to_string());
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let mut c = Command::new(env!("CARGO_BIN_EXE_haoyuan-host"));
    c.env("HAOYUAN_HOME", h);
    let booked = run_until_booked(c, 60);
    assert!(
        !booked.contains(&id) && !booked.contains("13812345678"),
        "{booked}"
    );
    assert_eq!(orders(&sb).len(), 1);
    let watch_id = booked.split_whitespace().nth(2).unwrap().to_string();
    let c = cli(h, &["cancel", &watch_id, "--reason", "不需要了"], "");
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(orders(&sb)[0]["status"], "cancelled");
    assert_eq!(orders(&sb)[0]["cancelReason"], "不需要了");
}
