//! 12306 through the host binary, against the 12306 simulator (in this process, on
//! 127.0.0.1): sign-in with the tile captcha relayed as prompts, watches run by the
//! browser-launched host (frames) and by `haoyuan-host run` (command line), the order
//! chain with its captcha, queue, session loss and a killed host.

use haoyuan_sandbox::faults::{FaultKind, FaultSpec};
use haoyuan_sandbox::{Options, Running};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const HOST: &str = env!("CARGO_BIN_EXE_haoyuan-host");

/// The simulator, running on its own tokio runtime.
pub struct Sandbox {
    pub sb: Running,
    _rt: tokio::runtime::Runtime,
}

impl Sandbox {
    pub fn start(scenario: &str) -> Sandbox {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let scenario = haoyuan_sandbox::parse_scenario(scenario).unwrap();
        let sb = rt
            .block_on(haoyuan_sandbox::start(Options {
                port: 0,
                seed: 7,
                scenario: Some(scenario),
            }))
            .unwrap();
        Sandbox { sb, _rt: rt }
    }

    pub fn base(&self) -> String {
        self.sb.url("12306")
    }

    /// The tiles of the newest captcha of `module` (`login` or `passenger`).
    pub fn tiles(&self, module: &str) -> Vec<u8> {
        let all = self.sb.shared.captchas.all("12306");
        let newest = all
            .values()
            .filter(|v| v["module"] == module)
            .max_by_key(|v| v["created_ms"].as_i64().unwrap_or(0))
            .unwrap_or_else(|| panic!("no {module} captcha in {all:?}"));
        newest["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_u64().unwrap() as u8)
            .collect()
    }

    /// The travellers' orders (not the simulated competitors').
    pub fn orders(&self) -> Vec<Value> {
        let v = self.sb.platform("12306").unwrap().orders();
        v.as_array()
            .unwrap()
            .iter()
            .filter(|o| o["buyer"] == "user")
            .cloned()
            .collect()
    }

    pub fn admin(&self, action: &str, body: Value) -> Value {
        self.admin_on("12306", action, body)
    }

    /// An admin action of `platform`.
    pub fn admin_on(&self, platform: &str, action: &str, body: Value) -> Value {
        self.sb
            .platform(platform)
            .unwrap()
            .admin(action, &body)
            .unwrap()
    }

    pub fn fault(&self, route: &str, kind: FaultKind, count: u32) {
        self.fault_on("12306", route, kind, count);
    }

    /// Arms a fault of `platform`.
    pub fn fault_on(&self, platform: &str, route: &str, kind: FaultKind, count: u32) {
        self.sb.shared.faults.arm(FaultSpec {
            platform: platform.into(),
            route: route.into(),
            kind,
            count,
        });
    }

    /// Paths the host asked, oldest first.
    pub fn paths(&self) -> Vec<String> {
        self.paths_on("12306")
    }

    /// Paths asked of `platform`, oldest first.
    pub fn paths_on(&self, platform: &str) -> Vec<String> {
        let mut v: Vec<_> = self
            .sb
            .shared
            .log
            .read(Some(platform), 10_000)
            .into_iter()
            .map(|r| (r.at, r.path))
            .collect();
        v.sort_by_key(|(at, _)| *at);
        v.into_iter().map(|(_, p)| p).collect()
    }

    pub fn count(&self, path_part: &str) -> usize {
        self.paths()
            .iter()
            .filter(|p| p.contains(path_part))
            .count()
    }
}

/// A browser-launched host (frames on stdio) pointed at the simulator.
pub struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Value>,
    pub events: Vec<Value>,
    next_id: u64,
}

pub fn env_for(cmd: &mut Command, home: &Path, base: &str) {
    cmd.env("HAOYUAN_HOME", home)
        .env("HAOYUAN_12306_BASE", base)
        .env("HAOYUAN_12306_QUEUE_POLL_MS", "200")
        .env("HAOYUAN_12306_QUEUE_MAX_POLLS", "8");
}

impl Host {
    pub fn start(home: &Path, base: &str) -> Host {
        Host::start_with(home, base, &[])
    }

    pub fn start_with(home: &Path, base: &str, env: &[(&str, &str)]) -> Host {
        let mut cmd = Command::new(HOST);
        env_for(&mut cmd, home, base);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut h = [0u8; 4];
            if stdout.read_exact(&mut h).is_err() {
                return;
            }
            let mut body = vec![0u8; u32::from_ne_bytes(h) as usize];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            let v: Value = serde_json::from_slice(&body).expect("only JSON frames on stdout");
            if tx.send(v).is_err() {
                return;
            }
        });
        let mut host = Host {
            child,
            stdin,
            frames,
            events: Vec::new(),
            next_id: 1,
        };
        host.ok("hello", json!({}));
        host
    }

    /// A command's reply (`ok` and `data`/`error`); events met on the way are kept.
    pub fn call(&mut self, cmd: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({"id": id, "cmd": cmd, "params": params}).to_string();
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(&(text.len() as u32).to_ne_bytes()).unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let f = self
                .frames
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no reply to {cmd}"));
            if f.get("event").is_some() {
                self.events.push(f);
            } else {
                assert_eq!(f["id"], id);
                return f;
            }
        }
    }

    pub fn ok(&mut self, cmd: &str, params: Value) -> Value {
        let r = self.call(cmd, params);
        assert_eq!(r["ok"], true, "{cmd}: {r}");
        r["data"].clone()
    }

    /// Waits for an event matching `pred` (kept events first).
    pub fn wait_event(&mut self, what: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(e) = self.events.iter().find(|e| pred(e)) {
            return e.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.frames.recv_timeout(left) {
                Ok(f) => {
                    self.events.push(f.clone());
                    if pred(&f) {
                        return f;
                    }
                }
                Err(_) => panic!(
                    "no {what} within {secs} s; events: {}",
                    serde_json::to_string_pretty(&self.events).unwrap()
                ),
            }
        }
    }

    /// Waits for a history entry of `kind`.
    pub fn wait_kind(&mut self, kind: &str, secs: u64) -> Value {
        self.wait_event(kind, secs, |e| {
            e["event"] == "watch_event" && e["data"]["kind"] == kind
        })["data"]
            .clone()
    }

    pub fn kinds(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "watch_event")
            .map(|e| e["data"]["kind"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Signs `traveller` in by answering the login captcha with the right tiles.
    pub fn sign_in(&mut self, sb: &Sandbox) {
        let p = self.ok(
            "rail_login",
            json!({"account": "traveller", "password": "traveller123"}),
        );
        assert_eq!(p["prompt"]["kind"], "login_captcha");
        assert!(p["prompt"]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"));
        let r = self.ok(
            "prompt_answer",
            json!({"id": p["prompt"]["id"], "answer": {"tiles": sb.tiles("login")}}),
        );
        assert_eq!(r["state"], "done", "{r}");
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` as `haoyuan-host run` until it prints a `booked` line (within `secs`),
/// then stops it. Returns that line.
pub fn run_until_booked(mut cmd: Command, secs: u64) -> String {
    use std::io::BufRead;
    let mut run = cmd
        .arg("run")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(run.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut booked = String::new();
    while booked.is_empty() {
        assert!(Instant::now() < deadline, "run did not book");
        let mut l = String::new();
        if out.read_line(&mut l).unwrap() == 0 {
            panic!("run ended");
        }
        if l.contains("  booked  ") {
            booked = l;
        }
    }
    let _ = run.kill();
    let _ = run.wait();
    booked
}

/// Tomorrow in Beijing.
pub fn tomorrow() -> String {
    let now = haoyuan_host::dispatch::now_ms();
    haoyuan_core::date::Date::from_days(
        haoyuan_core::date::Date::from_unix_ms(now, 480).to_days() + 1,
    )
    .to_string()
}

pub fn book_watch(extra: Value) -> Value {
    let day = tomorrow();
    let mut target = json!({"platform": "12306", "from_station": "VNP", "to_station": "AOH",
        "from_name": "北京南", "to_name": "上海虹桥", "trains": ["G1"], "seat_types": ["O"],
        "dates": [day], "account": "traveller"});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            target[k] = v;
        }
    }
    json!({"watch": {"label": "G1", "target": target,
        "window": {"start": day, "end": day}, "mode": "book",
        "interval": {"seconds": 10, "jitter_pct": 10}}})
}

const BASE_SCENARIO: &str = "
12306:
  accounts:
    - {username: traveller, password: traveller123, name: 张三, passengers: [{name: 李四}]}
  inventory:
    - {train: G1, date: 1, seat: O, count: 5}
  rate_limit: false
";

fn scenario(extra: &str) -> String {
    format!("{BASE_SCENARIO}{extra}")
}

#[test]
fn a_full_booking_with_the_login_and_order_captchas() {
    let sb = Sandbox::start(&scenario(
        "  pass_code: true\n  queue: {wait_times: [2, -1]}\n",
    ));
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    // A wrong answer brings a new picture, not a failure.
    let p = host.ok(
        "rail_login",
        json!({"account": "traveller", "password": "traveller123"}),
    );
    let right = sb.tiles("login");
    let wrong: Vec<u8> = (0..8).filter(|t| !right.contains(t)).take(1).collect();
    let r = host.ok(
        "prompt_answer",
        json!({"id": p["prompt"]["id"], "answer": {"tiles": wrong}}),
    );
    assert_eq!(r["state"], "again", "{r}");
    let r = host.ok(
        "prompt_answer",
        json!({"id": r["prompt"]["id"], "answer": {"tiles": sb.tiles("login")}}),
    );
    assert_eq!(r["state"], "done", "{r}");
    let accounts = host.ok("rail_accounts", json!({}));
    assert_eq!(accounts["accounts"][0]["holder"], "张三");
    assert_eq!(accounts["accounts"][0]["signed_in"], true);
    // The answered prompt is gone.
    let again = host.call(
        "prompt_answer",
        json!({"id": p["prompt"]["id"], "answer": {"tiles": [0]}}),
    );
    assert_eq!(again["error"]["code"], "prompt_gone");

    let smtp = crate::smtp_server::SmtpServer::start(crate::smtp_server::SmtpOpts::plain());
    host.ok(
        "channels_put",
        json!({"settings": {"language": "zh", "email": {
            "enabled": true, "host": "127.0.0.1", "port": smtp.port(), "security": "none",
            "from": "号源 <haoyuan@example.com>", "to": ["me@example.com"], "timeout_secs": 5}}}),
    );
    let w = host.ok("watch_put", book_watch(json!({})));
    let prompt = host.wait_event("order captcha", 30, |e| {
        e["event"] == "prompt" && e["data"]["kind"] == "order_captcha"
    });
    assert_eq!(prompt["data"]["kind"], "order_captcha");
    assert_eq!(prompt["data"]["watch_id"], w["id"]);
    assert_eq!(
        host.ok("prompt_list", json!({}))["prompts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        sb.orders().is_empty(),
        "no order before the captcha is answered"
    );
    let r = host.ok(
        "prompt_answer",
        json!({"id": prompt["data"]["id"], "answer": {"tiles": sb.tiles("passenger")}}),
    );
    assert_eq!(r["state"], "done");
    let booked = host.wait_kind("booked", 30);
    let msg = booked["message"].as_str().unwrap();
    assert!(
        msg.contains("G1") && msg.contains("pay on 12306 within 30 minutes"),
        "{msg}"
    );
    assert!(msg.contains("Beijing time"), "the deadline is said: {msg}");
    let orders = sb.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["status"], "booked");
    // The mail says it is booked, the order number and until when to pay.
    let got = smtp.wait_received(3, Duration::from_secs(30));
    let mail = got
        .iter()
        .find(|m| m.subject.contains("已预约成功"))
        .unwrap_or_else(|| panic!("no booked mail in {got:?}"));
    let text = mail.text.clone().unwrap_or_default();
    assert!(
        text.contains(orders[0]["orderId"].as_str().unwrap()),
        "{text}"
    );
    assert!(
        text.contains("支付期限") && text.contains("北京时间"),
        "{text}"
    );
    assert!(!text.contains("110101"), "no ID number in the mail: {text}");
    assert_eq!(orders[0]["tickets"][0]["passenger_name"], "张三");
    assert_eq!(orders[0]["tickets"][0]["seat_type"], "O");
    let kinds = host.kinds();
    let at = |k: &str| {
        kinds
            .iter()
            .position(|x| x == k)
            .unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
    };
    assert!(at("slot_seen") < at("booking_submitted") && at("booking_submitted") < at("booked"));
    // The chain went in the seed's order.
    let paths = sb.paths();
    let order = [
        "/otn/login/checkUser",
        "/otn/leftTicket/submitOrderRequest",
        "/otn/confirmPassenger/initDc",
        "/otn/confirmPassenger/getPassengerDTOs",
        "/otn/confirmPassenger/checkOrderInfo",
        "/otn/passcodeNew/getPassCodeNew",
        "/otn/passcodeNew/checkRandCodeAnsyn",
        "/otn/confirmPassenger/getQueueCount",
        "/otn/confirmPassenger/confirmSingleForQueue",
        "/otn/confirmPassenger/queryOrderWaitTime",
        "/otn/confirmPassenger/resultOrderForDcQueue",
    ];
    let mut last = 0;
    for step in order {
        let i = paths[last..]
            .iter()
            .position(|p| p == step)
            .unwrap_or_else(|| panic!("{step} missing after {last}: {paths:?}"))
            + last;
        last = i;
    }
}

fn count_kind(host: &Host, kind: &str) -> usize {
    host.kinds().iter().filter(|k| *k == kind).count()
}

#[test]
fn a_queue_that_never_resolves_is_outcome_unknown_with_exactly_one_order() {
    let sb = Sandbox::start(&scenario("  queue: {wait_times: [-100]}\n"));
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    host.sign_in(&sb);
    host.ok("watch_put", book_watch(json!({})));
    let unknown = host.wait_kind("outcome_unknown", 40);
    let msg = unknown["message"].as_str().unwrap();
    assert!(
        msg.contains("outcome unknown") && msg.contains("check your unpaid orders"),
        "{msg}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(count_kind(&host, "booked"), 0, "never called a success");
    assert_eq!(count_kind(&host, "booking_submitted"), 1);
    assert_eq!(sb.count("confirmSingleForQueue"), 1, "never re-submitted");
    assert_eq!(sb.orders().len(), 1);
}

#[test]
fn a_session_that_ends_mid_order_asks_for_a_sign_in_and_then_books() {
    let sb = Sandbox::start(&scenario(
        "  pass_code: true\n  queue: {wait_times: [-1]}\n",
    ));
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    host.sign_in(&sb);
    host.ok("watch_put", book_watch(json!({})));
    let prompt = host.wait_event("order captcha", 30, |e| {
        e["event"] == "prompt" && e["data"]["kind"] == "order_captcha"
    });
    // The session ends while the person looks at the captcha.
    sb.sb.platform("12306").unwrap().expire_sessions();
    host.ok(
        "prompt_answer",
        json!({"id": prompt["data"]["id"], "answer": {"tiles": sb.tiles("passenger")}}),
    );
    let expired = host.wait_kind("session_expired", 30);
    assert!(expired["message"]
        .as_str()
        .unwrap()
        .contains("sign in again"));
    let acc = host.ok("rail_accounts", json!({}));
    assert_eq!(acc["accounts"][0]["signed_in"], false, "{acc}");
    assert!(sb.orders().is_empty());
    // Signing in again resumes the watch, which orders (captcha again) and books.
    host.sign_in(&sb);
    let pid = prompt["data"]["id"].clone();
    let second = host.wait_event("second order captcha", 40, |e| {
        e["event"] == "prompt" && e["data"]["kind"] == "order_captcha" && e["data"]["id"] != pid
    });
    host.ok(
        "prompt_answer",
        json!({"id": second["data"]["id"], "answer": {"tiles": sb.tiles("passenger")}}),
    );
    host.wait_kind("booked", 30);
    assert_eq!(sb.orders().len(), 1);
}

#[test]
fn a_host_killed_in_the_queue_never_orders_again_after_restart() {
    let sb = Sandbox::start(&scenario("  queue: {wait_times: [-100]}\n"));
    let home = tempfile::tempdir().unwrap();
    let slow = [("HAOYUAN_12306_QUEUE_MAX_POLLS", "200")];
    let mut host = Host::start_with(home.path(), &sb.base(), &slow);
    host.sign_in(&sb);
    let w = host.ok("watch_put", book_watch(json!({})));
    host.wait_kind("booking_submitted", 30);
    std::thread::sleep(Duration::from_millis(500));
    host.kill(); // SIGKILL
    assert_eq!(sb.orders().len(), 1);
    let mut again = Host::start_with(home.path(), &sb.base(), &slow);
    let end = again.wait_kind("outcome_unknown", 30);
    assert!(
        end["message"]
            .as_str()
            .unwrap()
            .contains("check your unpaid orders"),
        "{end}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        sb.count("confirmSingleForQueue"),
        1,
        "no second order after the restart"
    );
    assert_eq!(sb.count("submitOrderRequest"), 1);
    assert_eq!(sb.orders().len(), 1);
    let intent = again.ok("booking_get", json!({"watch_id": w["id"]}));
    assert_eq!(intent["intent"]["state"], "unknown");
}

#[test]
fn the_query_follows_a_moving_endpoint_and_survives_a_malformed_reply() {
    // The endpoint moves after every answered query; the first query reply is broken.
    let sb = Sandbox::start(&scenario(
        "  query_url: {initial: queryZ, change_every: 1}\n",
    ));
    sb.fault("/otn/leftTicket/queryZ", FaultKind::Malformed, 1);
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    let day = tomorrow();
    let mut w = book_watch(
        json!({"more_pairs": [{"from": "BJP", "to": "SHH"}, {"from": "VNP", "to": "AOH"}], "account": ""}),
    );
    w["watch"]["mode"] = json!("notify");
    w["watch"]["target"]["dates"] = json!([day]);
    host.ok("watch_put", w);
    let changed = host.wait_kind("site_changed", 30);
    assert!(
        changed["message"].as_str().unwrap().contains("not JSON"),
        "{changed}"
    );
    let moved = host.wait_kind("query_moved", 30);
    assert!(
        moved["message"]
            .as_str()
            .unwrap()
            .contains("leftTicket/query"),
        "{moved}"
    );
    let seen = host.wait_kind("slot_seen", 30);
    assert!(seen["message"].as_str().unwrap().contains("G1"), "{seen}");
    assert!(sb.orders().is_empty(), "a notify watch never orders");
}

#[test]
fn tickets_sold_out_between_query_and_order_make_no_order_and_the_watch_goes_on() {
    let sb = Sandbox::start(&scenario(""));
    sb.fault("/otn/login/checkUser", FaultKind::Delay { ms: 1500 }, 1);
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    host.sign_in(&sb);
    host.ok("watch_put", book_watch(json!({})));
    host.wait_kind("slot_seen", 30);
    // Gone while the order starts (checkUser is slow).
    sb.admin(
        "set_stock",
        json!({"train": "G1", "date": 1, "seat": "O", "count": 0}),
    );
    let missed = host.wait_event("a missed order", 30, |e| {
        e["event"] == "watch_event"
            && (e["data"]["kind"] == "order_missed" || e["data"]["kind"] == "booking_failed")
    });
    assert!(
        missed["data"]["message"]
            .as_str()
            .unwrap()
            .contains("no order"),
        "{missed}"
    );
    assert!(sb.orders().is_empty());
    assert_eq!(count_kind(&host, "booked"), 0);
    // The watch survives: it polls again.
    let queries = sb.count("/otn/leftTicket/query");
    let deadline = Instant::now() + Duration::from_secs(25);
    while sb.count("/otn/leftTicket/query") == queries {
        assert!(
            Instant::now() < deadline,
            "the watch stopped after the missed order"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn headless_login_watch_and_run_from_the_command_line() {
    use std::io::BufRead;
    let sb = Sandbox::start(&scenario("  queue: {wait_times: [-1]}\n"));
    let home = tempfile::tempdir().unwrap();
    let base = sb.base();
    // login: the password, then the tiles of the picture it wrote.
    let mut cmd = Command::new(HOST);
    env_for(&mut cmd, home.path(), &base);
    let mut login = cmd
        .args(["login", "12306", "traveller"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = login.stdin.take().unwrap();
    writeln!(stdin, "traveller123").unwrap();
    let mut err = std::io::BufReader::new(login.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("the picture:") {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "login ended early");
    }
    let png = line
        .trim()
        .trim_start_matches("the picture:")
        .trim()
        .to_string();
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let tiles: Vec<String> = sb
        .tiles("login")
        .iter()
        .map(|t| (t + 1).to_string())
        .collect();
    writeln!(stdin, "{}", tiles.join(" ")).unwrap();
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed in to 12306 as 张三"));

    let cli = |args: &[&str]| {
        let mut c = Command::new(HOST);
        env_for(&mut c, home.path(), &base);
        c.args(args).output().unwrap()
    };
    let day = tomorrow();
    let add = cli(&[
        "watch",
        "add",
        "--from",
        "VNP",
        "--to",
        "AOH",
        "--end",
        &day,
        "--dates",
        &day,
        "--trains",
        "G1",
        "--seats",
        "O",
        "--account",
        "traveller",
        "--mode",
        "book",
        "--interval",
        "10",
    ]);
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let mut c = Command::new(HOST);
    env_for(&mut c, home.path(), &base);
    let booked = run_until_booked(c, 40);
    assert!(booked.contains("pay on 12306"), "{booked}");
    assert_eq!(sb.orders().len(), 1);
    let hist = cli(&["history"]);
    let text = String::from_utf8_lossy(&hist.stdout);
    assert!(
        text.contains("booked") && text.contains("booking_submitted"),
        "{text}"
    );
}

#[test]
fn stations_are_searched_from_one_cached_copy_of_the_list() {
    let sb = Sandbox::start(&scenario(""));
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    let found = host.ok("rail_stations", json!({"query": "beijingnan", "limit": 5}));
    assert_eq!(found["stations"][0]["telecode"], "VNP", "{found}");
    assert_eq!(found["stations"][0]["name"], "北京南");
    assert!(
        !found["version"].as_str().unwrap().is_empty(),
        "the list's version is kept: {found}"
    );
    let bj = host.ok("rail_stations", json!({"query": "北京"}));
    assert!(bj["stations"].as_array().unwrap().len() >= 3, "{bj}");
    let abbr = host.ok("rail_stations", json!({"query": "shhq"}));
    assert_eq!(abbr["stations"][0]["telecode"], "AOH");
    drop(host);
    // A new host process reads the cached file: the list was fetched once.
    let mut again = Host::start(home.path(), &sb.base());
    again.ok("rail_stations", json!({"query": "gz"}));
    assert_eq!(sb.count("station_name.js"), 1);
}

#[test]
fn a_403_slows_the_watch_down_instead_of_retrying() {
    let sb = Sandbox::start(&scenario(""));
    sb.fault("/otn/leftTicket/*", FaultKind::Status { status: 403 }, 1);
    let home = tempfile::tempdir().unwrap();
    let mut host = Host::start(home.path(), &sb.base());
    let mut w = book_watch(json!({"account": ""}));
    w["watch"]["mode"] = json!("notify");
    host.ok("watch_put", w);
    let t = host.wait_kind("throttled", 30);
    assert!(t["message"].as_str().unwrap().contains("403"), "{t}");
    let after = sb.count("/otn/leftTicket/");
    // The watch's interval is 10 s; backing off, it stays away much longer.
    std::thread::sleep(Duration::from_secs(14));
    assert_eq!(
        sb.count("/otn/leftTicket/"),
        after,
        "asked again within the backoff: {:?}",
        sb.paths()
    );
    assert!(count_kind(&host, "slot_seen") == 0);
}
