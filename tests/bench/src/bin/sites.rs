//! `cargo run --release -p haoyuan-bench --bin sites`: issue 7's latency figure for the
//! 91160 and pati_service watches — **schedule reply → order sent**, target p99 ≤ 50 ms
//! — measured three ways for each platform. It prints; it asserts no timing and never
//! fails a build.
//!
//! 1. **Client only**, from recorded replies (`wasm-core/tests/fixtures/{open91160,pati}/`,
//!    compiled in): a fresh core `Watcher` in book mode per sample (built outside the
//!    timing) is ticked to its first poll; timed from handing it the poll reply that
//!    shows a free number (91160 `scheduleList`; pati `schedule/info`) until it returns
//!    the `Action::Send` of the order (91160 `appointment/order`; pati `book/submit`).
//!    In between, the steps are fed their fixtures at once (91160 `resourceList`; pati
//!    `schedule` → `left_appo` → `presubmit`), `RecordIntent` is answered at once, and
//!    the events are taken after each step as the runner does. No I/O, no store.
//! 2. **Against the simulator** (`haoyuan_sandbox` in this process, on 127.0.0.1): a
//!    fresh watch per booking, driven the way `native-host/src/runner.rs` drives it,
//!    with real HTTP round trips (`haoyuan_host::webhook::execute`, the host's own
//!    sender; pati requests carry the `token` header of an account signed in with the
//!    core's `login`). Timed from the moment the poll reply's body was in (`execute`
//!    returned) to the moment the order request is handed to `execute`; the round trips
//!    of the steps in between are counted, and shown apart (the client's own share is
//!    the total minus them). Each booking is cancelled at the site afterwards (91160
//!    `appointment/cancel`, pati `book/cancel`), which puts the number back on sale, so
//!    every round books the same session again. Two variants: **core + HTTP** (as the
//!    12306 bench's main figure) and **as the runner** — the watch stored with
//!    `watch_put`, and every event (`event_record`) and the intent (`booking_begin`)
//!    recorded through the host's own handlers (`haoyuan_host::dispatch::Host`, SQLite
//!    in a scratch folder) before the next step, exactly where the runner records them;
//!    the time spent recording is shown apart. Pacing is not in the chain (only a poll's
//!    first request is paced).
//! 3. **Through `haoyuan-host run`** (for information; part of figure 2's run): the same
//!    book watches stored one at a time in a host process's data folder while it runs;
//!    each booking's time is the simulator's log stamp of the order minus that of the
//!    poll reply before it (both stamped when the simulator made its reply, in whole
//!    ms, so the order's own handling is in it), then the booking is cancelled. Rounds
//!    over the target print the simulator's log between the two (which step waited).
//!
//! The host binary (figure 3) is `$HAOYUAN_HOST_BIN` or `haoyuan-host` beside this
//! program. Options: `--only 1,2`, `--samples N` (figure 1, default 5000), `--rounds N`
//! (figure 2, per platform and variant, default 200), `--host-rounds N` (figure 3, per
//! platform, default 30; 0 skips it).

use haoyuan_bench::sites::{
    admin, execute, host_call, ms, pati_accounts, pati_sign_in, patient_json, scenario, sim_today,
    start_sim, tokens_91160,
};
use haoyuan_bench::{machine_line, pct, real_ms, verdict, Scratch};
use haoyuan_core::date::Date;
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::patient::Patient;
use haoyuan_core::platforms::open91160::site::{
    cancel_request, normalize_open_time, parse_cycle_days, read_cancel as read_cancel_91160,
};
use haoyuan_core::platforms::{open91160, pati, Action, Driver};
use haoyuan_core::protocol::{BookingResult, Request};
use haoyuan_core::watch::Watch;
use haoyuan_host::dispatch::Host;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const TARGET_MS: f64 = 50.0;
const WARM_UP: usize = 200;
const DAY_MS: i64 = 86_400_000;

macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../wasm-core/tests/fixtures/",
            $path
        ))
    };
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: usize| {
        opt(name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
            .max(1)
    };
    let only: Vec<u8> = opt("--only")
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2]);
    let samples = num("--samples", 5_000);
    let rounds = num("--rounds", 200);
    let host_rounds = opt("--host-rounds")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30);

    println!("haoyuan 91160 / pati_service order-chain figures (ratio = figure / target)");
    println!("{}", machine_line());
    if only.contains(&1) {
        println!("\n-- 1. schedule reply → order sent, client only (recorded replies, no I/O; {samples} samples after {WARM_UP} warm-up) --");
        client_only_section(samples);
    }
    if only.contains(&2) {
        println!("\n-- 2. schedule reply received → order request sent, against the simulator in process ({rounds} bookings per line, each cancelled after) --");
        if let Err(e) = simulator_section(rounds, host_rounds) {
            println!("failed: {e}");
        }
    }
}

// ---- shared ------------------------------------------------------------------------------

fn label_line(label: &str, sorted: &[Duration], n_note: &str) -> String {
    let p99 = ms(pct(sorted, 99.0));
    let ratio = p99 / TARGET_MS;
    format!(
        "{label:<52} p50 {:8.3} ms  p99 {:8.3} ms  max {:8.3} ms  ({n_note})  target p99 ≤ {TARGET_MS:.0} ms  ratio {ratio:.3}  {}",
        ms(pct(sorted, 50.0)),
        p99,
        ms(sorted.last().copied().unwrap_or_default()),
        verdict(ratio <= 1.0 && !sorted.is_empty())
    )
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort_unstable();
    v
}

fn watch_from(v: Value) -> Result<Watch, String> {
    serde_json::from_value(v).map_err(|e| format!("bad watch: {e}"))
}

fn patient() -> Result<Patient, String> {
    serde_json::from_value(patient_json()).map_err(|e| format!("bad patient: {e}"))
}

// ---- 1. client only ------------------------------------------------------------------

const BASE_91160: &str = "https://openapi.91160.test";
const BASE_PATI: &str = "https://pati.example-hospital.cn";

/// Unix ms of a Beijing wall-clock time.
fn beijing(date: &str, h: i64, m: i64) -> i64 {
    Date::parse(date).map_or(0, |d| d.to_days()) * DAY_MS + (h * 60 + m) * 60_000 - 8 * 3_600_000
}

fn json_reply(body: &[u8], at_ms: i64) -> HttpResponse {
    HttpResponse::new(200, body.to_vec())
        .with_header("Content-Type", "application/json;charset=UTF-8")
        .with_header("Date", haoyuan_sandbox::clock::http_date(at_ms))
}

/// A fresh watcher from a seed.
type MakeWatcher = Box<dyn Fn(u64) -> Result<Box<dyn Driver>, String>>;
/// The watcher of a (stored) watch, from a seed.
type MakeFor<'a> = Box<dyn Fn(&Watch, u64) -> Result<Box<dyn Driver>, String> + 'a>;
/// Cancels the booking of a `booked` event's data.
type Cancel<'a> = Box<dyn Fn(&Value) -> Result<(), String> + 'a>;

/// What one platform's client-only chain needs.
struct Script {
    name: &'static str,
    make: MakeWatcher,
    now: i64,
    poll_purpose: &'static str,
    poll_reply: HttpResponse,
    /// The replies of the steps in between, by purpose.
    steps: Vec<(&'static str, HttpResponse)>,
    order_purpose: &'static str,
}

fn script_91160() -> Result<Script, String> {
    // As wasm-core/tests/open91160.rs: 深圳市人民医院, doctor 10000; the fixture's
    // schedule 10000202605022 (2 May, afternoon) has 3 free numbers.
    let watch = watch_from(json!({
        "id": "w-91160",
        "target": {"platform": "91160", "unit_id": "100", "dep_id": "2001",
                   "doctor_id": "10000", "unit_name": "深圳市人民医院", "dep_name": "心血管内科",
                   "doctor_name": "王元", "open_time": "08:30", "cycle_days": 7, "patient_id": "p-1"},
        "window": {"start": "2026-05-01", "end": "2026-05-20"},
        "mode": "book",
        "interval": {"seconds": 60, "jitter_pct": 10}
    }))?;
    let patient = patient()?;
    let now = beijing("2026-05-01", 9, 0);
    Ok(Script {
        name: "91160",
        make: Box::new(move |seed: u64| {
            open91160::watcher::Watcher::new(
                &watch,
                open91160::site::Site::new(BASE_91160),
                haoyuan_bench::sites::TOKEN_91160.into(),
                Some(patient.clone()),
                None,
                seed,
            )
            .map(|w| Box::new(w) as Box<dyn Driver>)
            .map_err(|e| e.to_string())
        }),
        now,
        poll_purpose: "schedule_list",
        poll_reply: json_reply(fixture!("open91160/schedule_list.json"), now),
        steps: vec![(
            "resource_list",
            json_reply(fixture!("open91160/resource_list.json"), now),
        )],
        order_purpose: "order",
    })
}

fn script_pati() -> Result<Script, String> {
    // As wasm-core/tests/pati.rs: 心血管内科's 李娜, whose 1 December morning has 3
    // serials left; the fixtures' server day is 28 November (Beijing).
    let watch = watch_from(json!({
        "id": "w-pati",
        "target": {"platform": "pati", "account": "13812345678",
                   "dept_id": "650303296691108321", "doctor_id": "618415238059933508",
                   "dept_name": "心血管内科", "member_id": "593614755501772268",
                   "member_name": "曹鹏"},
        "window": {"start": "2026-11-29", "end": "2026-12-05"},
        "mode": "book",
        "interval": {"seconds": 30}
    }))?;
    let now =
        Date::parse("2026-11-27").map_or(0, |d| d.to_days()) * DAY_MS + (21 * 60 + 55) * 60_000;
    let r = |b: &[u8]| json_reply(b, now);
    Ok(Script {
        name: "pati_service",
        make: Box::new(move |seed: u64| {
            pati::watcher::Watcher::new(&watch, pati::site::Site::new(BASE_PATI), None, seed)
                .map(|w| Box::new(w) as Box<dyn Driver>)
                .map_err(|e| e.to_string())
        }),
        now,
        poll_purpose: "schedule_info",
        poll_reply: r(fixture!("pati/schedule_info.json")),
        steps: vec![
            ("schedule", r(fixture!("pati/schedule.json"))),
            ("left_appo", r(fixture!("pati/left_appo.json"))),
            ("presubmit", r(fixture!("pati/presubmit.json"))),
        ],
        order_purpose: "submit",
    })
}

/// One client-only sample: the time from the poll reply to the order's `Send`, and the
/// purposes sent in between.
fn client_sample(s: &Script, seed: u64) -> Result<(Duration, Vec<&'static str>), String> {
    let mut w = (s.make)(seed)?;
    let mut now = s.now;
    let mut a = w.tick(now);
    for _ in 0..10 {
        match a {
            Action::Wait { at_ms } => {
                now = at_ms;
                a = w.tick(now);
            }
            _ => break,
        }
    }
    match &a {
        Action::Send { purpose, .. } if *purpose == s.poll_purpose => {}
        other => {
            return Err(format!(
                "the first request is not {}: {other:?}",
                s.poll_purpose
            ))
        }
    }
    let mut between = Vec::new();
    let t = Instant::now();
    let mut a = w.feed(black_box(&s.poll_reply), now);
    loop {
        black_box(w.take_events());
        a = match a {
            Action::Send { purpose, .. } if purpose == s.order_purpose => break,
            Action::Send { purpose, .. } => {
                let Some((_, reply)) = s.steps.iter().find(|(p, _)| *p == purpose) else {
                    return Err(format!("no fixture for a {purpose} request"));
                };
                between.push(purpose);
                w.feed(reply, now)
            }
            Action::RecordIntent { .. } => w.intent_recorded("b-0000000000000001", now),
            other => return Err(format!("unexpected {other:?}")),
        };
    }
    let took = t.elapsed();
    black_box(&a);
    drop(w);
    Ok((took, between))
}

fn client_only_section(samples: usize) {
    for script in [script_91160(), script_pati()] {
        let s = match script {
            Ok(s) => s,
            Err(e) => {
                println!("failed: {e}");
                continue;
            }
        };
        let mut times = Vec::with_capacity(samples);
        let mut path = Vec::new();
        let mut failed = None;
        for i in 0..WARM_UP + samples {
            match client_sample(&s, i as u64) {
                Ok((t, between)) => {
                    if i >= WARM_UP {
                        times.push(t);
                    }
                    path = between;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            println!("{}: failed: {e}", s.name);
            continue;
        }
        let t = sorted(times);
        println!(
            "{}",
            label_line(
                &format!("{} {} → {}", s.name, s.poll_purpose, s.order_purpose),
                &t,
                &format!("n={}", t.len())
            )
        );
        println!(
            "    in between: {} (fixtures), RecordIntent answered at once; mean {:.1} µs",
            path.join(" → "),
            t.iter().sum::<Duration>().as_secs_f64() * 1e6 / t.len().max(1) as f64
        );
    }
}

// ---- 2. against the simulator ----------------------------------------------------------

/// One timed booking.
struct Sample {
    total: Duration,
    /// Round trips of the requests between the poll reply and the order.
    between: Duration,
    /// Time in the host's handlers (events, intent) between them.
    recording: Duration,
}

/// How a round's requests are sent: as is (91160) or with a pati token header.
enum Sender {
    Plain,
    PatiToken(String),
}

impl Sender {
    fn send(&self, req: HttpRequest) -> Result<(HttpResponse, Duration, Instant), String> {
        let req = match self {
            Sender::Plain => req,
            Sender::PatiToken(t) => req.header("token", t.as_str()),
        };
        let t = Instant::now();
        let resp = execute(&req)?;
        let received = Instant::now();
        Ok((resp, received - t, received))
    }
}

/// The runner's recording: the host's handlers on a scratch store.
struct Recorder {
    host: Host,
    watch_id: String,
}

impl Recorder {
    /// As `runner::record`.
    fn record(&mut self, e: &haoyuan_core::platforms::Event) -> Result<(), String> {
        let req = match (&e.booking_result, &e.intent_id) {
            (Some(result), Some(intent_id)) => Request::BookingEnd {
                watch_id: self.watch_id.clone(),
                intent_id: intent_id.clone(),
                result: match result.as_str() {
                    "booked" => BookingResult::Booked,
                    "failed" => BookingResult::Failed,
                    _ => BookingResult::Unknown,
                },
                message: e.message.clone(),
                data: e.data.clone(),
            },
            _ => Request::EventRecord {
                watch_id: self.watch_id.clone(),
                kind: e.kind.clone(),
                message: e.message.clone(),
                data: e.data.clone(),
            },
        };
        self.host
            .handle(req)
            .result
            .map(|_| ())
            .map_err(|e| format!("event not recorded: {}", e.message))
    }

    /// As the runner's `booking_begin`: the intent's id.
    fn begin(&mut self, data: Value) -> Result<String, String> {
        let v = self
            .host
            .handle(Request::BookingBegin {
                watch_id: self.watch_id.clone(),
                data,
            })
            .result
            .map_err(|e| format!("intent not recorded: {}", e.message))?;
        Ok(v.pointer("/intent/id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }
}

/// Drives one booking to its `booked` event; returns the timed part and the event's
/// data.
fn chain_round(
    w: &mut dyn Driver,
    sender: &Sender,
    mut rec: Option<&mut Recorder>,
    poll_purpose: &str,
    order_purpose: &str,
) -> Result<(Sample, Value), String> {
    let mut action = w.tick(real_ms());
    let mut start: Option<Instant> = None;
    let mut between = Duration::ZERO;
    let mut recording = Duration::ZERO;
    let mut sample: Option<Sample> = None;
    for _ in 0..100 {
        let timing = start.is_some() && sample.is_none();
        for e in w.take_events() {
            if let Some(r) = rec.as_deref_mut() {
                let t = Instant::now();
                r.record(&e)?;
                if timing {
                    recording += t.elapsed();
                }
            }
            if e.kind == "booked" {
                return sample
                    .map(|s| (s, e.data.clone()))
                    .ok_or_else(|| "booked without a timed chain".to_string());
            }
            if matches!(
                e.kind.as_str(),
                "booking_failed" | "outcome_unknown" | "session_expired" | "error" | "site_changed"
            ) {
                return Err(format!("{}: {}", e.kind, e.message));
            }
        }
        action = match action {
            Action::Wait { at_ms } => {
                let left = at_ms - real_ms();
                if left > 0 {
                    std::thread::sleep(Duration::from_millis(left as u64));
                }
                w.tick(real_ms())
            }
            Action::Send {
                request, purpose, ..
            } => {
                if purpose == order_purpose {
                    if let (Some(t0), None) = (start, &sample) {
                        sample = Some(Sample {
                            total: t0.elapsed(),
                            between,
                            recording,
                        });
                    }
                }
                let (resp, rtt, received) = sender.send(request)?;
                if purpose == poll_purpose {
                    start = Some(received);
                    between = Duration::ZERO;
                    recording = Duration::ZERO;
                } else if start.is_some() && sample.is_none() {
                    between += rtt;
                }
                w.feed(&resp, real_ms())
            }
            Action::RecordIntent { data } => {
                let id = match rec.as_deref_mut() {
                    Some(r) => {
                        let t = Instant::now();
                        let id = r.begin(data)?;
                        if start.is_some() && sample.is_none() {
                            recording += t.elapsed();
                        }
                        id
                    }
                    None => "i-bench".to_string(),
                };
                w.intent_recorded(&id, real_ms())
            }
            Action::AskCaptcha { .. } => return Err("a captcha was asked".into()),
            Action::NeedLogin { message } => return Err(format!("sign-in needed: {message}")),
            Action::Stopped { message } => return Err(format!("stopped: {message}")),
        };
    }
    Err("the booking did not end in 100 steps".into())
}

/// One platform's rounds, in one variant.
struct Platform<'a> {
    /// The simulator's platform id.
    id: &'static str,
    /// The paths of the poll reply and of the order in the simulator's log.
    poll_path: &'static str,
    order_path: &'static str,
    name: &'static str,
    poll_purpose: &'static str,
    order_purpose: &'static str,
    between_names: &'static str,
    /// The watch JSON of round `i`.
    watch: Box<dyn Fn(usize) -> Value + 'a>,
    /// The watcher of a (stored) watch.
    make: MakeFor<'a>,
    sender: Sender,
    /// Cancels the booking of the `booked` event's data.
    cancel: Cancel<'a>,
}

fn run_rounds(p: &Platform<'_>, rounds: usize, recorder_home: Option<&std::path::Path>) {
    let variant = if recorder_home.is_some() {
        "as the runner (+ store)"
    } else {
        "core + HTTP"
    };
    let mut rec = recorder_home.map(|home| Recorder {
        host: Host::open(home),
        watch_id: String::new(),
    });
    let mut samples = Vec::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    const WARM: usize = 5;
    for round in 0..WARM + rounds {
        let result = (|| -> Result<Sample, String> {
            let mut wv = (p.watch)(round);
            if let Some(r) = rec.as_mut() {
                wv = host_call(&mut r.host, "watch_put", json!({ "watch": wv }))?;
                r.watch_id = wv["id"].as_str().unwrap_or("").to_string();
            }
            let watch = watch_from(wv)?;
            let mut w = (p.make)(&watch, 0x5eed ^ round as u64)?;
            let (s, data) = chain_round(
                w.as_mut(),
                &p.sender,
                rec.as_mut(),
                p.poll_purpose,
                p.order_purpose,
            )?;
            (p.cancel)(&data)?;
            Ok(s)
        })();
        match result {
            Ok(s) if round >= WARM => samples.push(s),
            Ok(_) => {}
            Err(e) => *failures.entry(e).or_default() += 1,
        }
    }
    let total = sorted(samples.iter().map(|s| s.total).collect());
    let between = sorted(samples.iter().map(|s| s.between).collect());
    let recording = sorted(samples.iter().map(|s| s.recording).collect());
    let client = sorted(
        samples
            .iter()
            .map(|s| s.total.saturating_sub(s.between))
            .collect(),
    );
    println!(
        "{}",
        label_line(
            &format!("{} {variant}", p.name),
            &total,
            &format!("n={}", total.len())
        )
    );
    println!(
        "    round trips in between ({}) p50 {:.2} ms p99 {:.2} ms; the client's own share (total − round trips) p50 {:.3} ms p99 {:.3} ms max {:.3} ms{}; {} rounds in {:.1} s",
        p.between_names,
        ms(pct(&between, 50.0)),
        ms(pct(&between, 99.0)),
        ms(pct(&client, 50.0)),
        ms(pct(&client, 99.0)),
        ms(client.last().copied().unwrap_or_default()),
        if recorder_home.is_some() {
            format!(
                ", of which recording (event_record, booking_begin) p50 {:.3} ms p99 {:.3} ms max {:.3} ms",
                ms(pct(&recording, 50.0)),
                ms(pct(&recording, 99.0)),
                ms(recording.last().copied().unwrap_or_default())
            )
        } else {
            String::new()
        },
        total.len(),
        started.elapsed().as_secs_f64()
    );
    for (f, n) in &failures {
        println!("    failed round ×{n}: {f}");
    }
}

fn simulator_section(rounds: usize, host_rounds: usize) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    let token = tokens_91160(1).remove(0);
    let accounts = pati_accounts(1);
    let (phone, password) = accounts[0].clone();
    // 91160: the first doctor's morning tomorrow, 4 numbers, none taken. pati: 张建国's
    // morning tomorrow, 10 serials, 5 left.
    let sb = start_sim(
        &rt,
        &scenario(
            std::slice::from_ref(&token),
            5,
            "    - {day_offset: 1, time_type: am, resources: 4, resource_max: 4, appointed_num: 0}\n",
            &accounts,
            "  days_ahead: 7
  departments:
    - name: 心血管内科
      doctors:
        - {name: 张建国, title: 主任医师}
        - {name: 刘芳, title: 副主任医师}
  schedules:
    - {dept: 心血管内科, doctor: 张建国, day: 1, period: AM, count: 10, left: 5}
",
        ),
    )?;
    let tomorrow = Date::from_days(sim_today(&sb).to_days() + 1).to_string();
    let scratch = Scratch::new("haoyuan-sites-bench");

    // 91160 ids from the simulator's summary (the pinned schedule is its first doctor's).
    let summary = admin(&sb, "91160", "summary", json!({}))?;
    let first = &summary["first"];
    let id = |k: &str| first[k].to_string().trim_matches('"').to_string();
    let open_time = normalize_open_time(first["appointmentOpenTime"].as_str().unwrap_or(""))
        .unwrap_or_default();
    let cycle_days = parse_cycle_days(&first["appointmentCycleDays"]);
    let (unit_id, dep_id, doctor_id) = (id("unitId"), id("depId"), id("doctorId"));
    let site91160 = open91160::site::Site::new(&sb.url("91160"));
    let patient = patient()?;

    // pati ids from the simulator's info; the token from the core's sign-in.
    let info = admin(&sb, "pati", "info", json!({}))?;
    let dept = info["departments"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["deptName"] == "心血管内科"))
        .ok_or("no 心血管内科 in the pati simulator")?
        .clone();
    let doctor = dept["doctors"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["doctorName"] == "张建国"))
        .ok_or("no 张建国 in the pati simulator")?
        .clone();
    let member = info["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["phone"] == phone.as_str()))
        .and_then(|a| a["members"].get(0))
        .ok_or("no member of the pati account")?
        .clone();
    let site_pati = pati::site::Site::new(&sb.url("pati"));
    let pati_token = pati_sign_in(&site_pati, &phone, &password)?;
    println!(
        "91160: unit {unit_id} (opens {open_time} for {cycle_days} days), dep {dep_id}, doctor {doctor_id}, morning of {tomorrow}; pati: {} 张建国, morning of {tomorrow}, member {}",
        dept["deptName"].as_str().unwrap_or(""),
        member["memberId"].as_str().unwrap_or("")
    );

    // The recording variant's store: the accounts and the patient, as the host has them.
    let home = scratch.home("store")?;
    let mut setup = Host::open(&home);
    host_call(
        &mut setup,
        "site_account_put",
        json!({"platform": "91160", "account": "default", "base_url": sb.url("91160"),
               "secret": {"app_token": token}}),
    )?;
    host_call(
        &mut setup,
        "site_account_put",
        json!({"platform": "pati", "account": phone, "base_url": sb.url("pati"),
               "secret": {"password": password}}),
    )?;
    let stored = host_call(
        &mut setup,
        "patient_put",
        json!({"patient": patient_json()}),
    )?;
    let patient_id = stored["patient"]["id"]
        .as_str()
        .unwrap_or("p-1")
        .to_string();

    let p91160 = Platform {
        id: "91160",
        poll_path: "/appointment/scheduleList",
        order_path: "/appointment/order",
        name: "91160 scheduleList → appointment/order,",
        poll_purpose: "schedule_list",
        order_purpose: "order",
        between_names: "resourceList",
        watch: Box::new(|i: usize| {
            json!({"label": format!("bench {i}"),
                "target": {"platform": "91160", "unit_id": unit_id, "dep_id": dep_id,
                    "doctor_id": doctor_id, "open_time": open_time, "cycle_days": cycle_days,
                    "account": "default", "patient_id": patient_id},
                "window": {"start": tomorrow, "end": tomorrow},
                "filters": {"periods": ["morning"]},
                "mode": "book", "interval": {"seconds": 15, "jitter_pct": 10}})
        }),
        make: Box::new(|w: &Watch, seed: u64| {
            open91160::watcher::Watcher::new(
                w,
                site91160.clone(),
                token.clone(),
                Some(patient.clone()),
                None,
                seed,
            )
            .map(|w| Box::new(w) as Box<dyn Driver>)
            .map_err(|e| e.to_string())
        }),
        sender: Sender::Plain,
        cancel: Box::new(|data: &Value| {
            let order_id = data["order_id"].as_str().unwrap_or("");
            let resp = execute(&cancel_request(&site91160, &token, order_id, "bench"))?;
            read_cancel_91160(&resp).map_err(|e| format!("cancel {order_id}: {e}"))
        }),
    };
    let ppati = Platform {
        id: "pati",
        poll_path: "/pati_service/tenant_service/schedule/info",
        order_path: "/pati_service/book_service/book/submit",
        name: "pati schedule/info → book/submit,",
        poll_purpose: "schedule_info",
        order_purpose: "submit",
        between_names: "schedule, left_appo, presubmit",
        watch: Box::new(|i: usize| {
            json!({"label": format!("bench {i}"),
                "target": {"platform": "pati", "account": phone, "dept_id": dept["deptId"],
                    "dept_name": dept["deptName"], "doctor_id": doctor["doctorId"],
                    "doctor_name": doctor["doctorName"], "member_id": member["memberId"],
                    "member_name": member["name"]},
                "window": {"start": tomorrow, "end": tomorrow},
                "filters": {"periods": ["morning"]},
                "mode": "book", "interval": {"seconds": 15, "jitter_pct": 10}})
        }),
        make: Box::new(|w: &Watch, seed: u64| {
            pati::watcher::Watcher::new(w, site_pati.clone(), None, seed)
                .map(|w| Box::new(w) as Box<dyn Driver>)
                .map_err(|e| e.to_string())
        }),
        sender: Sender::PatiToken(pati_token.clone()),
        cancel: Box::new(|data: &Value| {
            let book_id = data["book_id"].as_str().unwrap_or("");
            let resp = execute(
                &site_pati
                    .cancel(book_id)
                    .header("token", pati_token.as_str()),
            )?;
            pati::site::read_cancel(&resp).map_err(|e| format!("cancel {book_id}: {e}"))
        }),
    };
    for p in [&p91160, &ppati] {
        run_rounds(p, rounds, None);
        run_rounds(p, rounds, Some(&home));
    }
    if host_rounds > 0 {
        println!("\n-- 3. the same through `haoyuan-host run`, on the simulator's log stamps (for information; {host_rounds} bookings per platform) --");
        let setup = |h: &mut Host| -> Result<(), String> {
            host_call(
                h,
                "site_account_put",
                json!({"platform": "91160", "account": "default", "base_url": sb.url("91160"),
                       "secret": {"app_token": token}}),
            )?;
            host_call(
                h,
                "site_account_put",
                json!({"platform": "pati", "account": phone, "base_url": sb.url("pati"),
                       "secret": {"password": password}}),
            )?;
            let mut pj = patient_json();
            pj["id"] = json!(patient_id);
            host_call(h, "patient_put", json!({ "patient": pj }))?;
            Ok(())
        };
        if let Err(e) = host_run_rounds(&sb, &scratch, &[&p91160, &ppati], host_rounds, &setup) {
            println!("failed: {e}");
        }
    }
    let orders91160 = sb
        .platform("91160")
        .map(|p| p.orders())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let booked = orders91160
        .iter()
        .filter(|o| o["competitor"] == false && o["status"] == "booked")
        .count();
    let orders_pati = sb
        .platform("pati")
        .map(|p| p.orders())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let pati_open = orders_pati
        .iter()
        .filter(|o| o["phone"] == phone.as_str() && o["bookStatus"] == 0)
        .count();
    println!(
        "    (the simulators hold {} 91160 orders and {} pati bookings of ours; still booked: {booked} and {pati_open})",
        orders91160
            .iter()
            .filter(|o| o["competitor"] == false)
            .count(),
        orders_pati
            .iter()
            .filter(|o| o["phone"] == phone.as_str())
            .count()
    );
    Ok(())
}

/// Figure 3: book watches run by a `haoyuan-host run` process, one at a time; each
/// booking's time is the simulator's log stamp of the order minus that of the poll
/// reply before it (both stamped when the simulator made its reply, so the order's own
/// handling is in it), then the booking is cancelled at the site.
fn host_run_rounds(
    sb: &haoyuan_sandbox::Running,
    scratch: &Scratch,
    platforms: &[&Platform<'_>],
    rounds: usize,
    setup: &dyn Fn(&mut Host) -> Result<(), String>,
) -> Result<(), String> {
    let bin = haoyuan_bench::host_binary()?;
    let home = scratch.home("host-run")?;
    let mut h = Host::open(&home);
    setup(&mut h)?;
    let mut child = std::process::Command::new(&bin)
        .arg("run")
        .env("HAOYUAN_HOME", &home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let _stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(1_500));
    let result = (|| -> Result<(), String> {
        for p in platforms {
            let log = || sb.shared.log.read(Some(p.id), 20_000);
            let mut gaps = Vec::new();
            let mut failures: BTreeMap<String, usize> = BTreeMap::new();
            let mut slow: Vec<String> = Vec::new();
            const WARM: usize = 2;
            for round in 0..WARM + rounds {
                let before = log().iter().filter(|r| r.path == p.order_path).count();
                host_call(
                    &mut h,
                    "watch_put",
                    json!({ "watch": (p.watch)(10_000 + round) }),
                )?;
                let deadline = Instant::now() + Duration::from_secs(15);
                let entries = loop {
                    let l = log();
                    if l.iter().filter(|r| r.path == p.order_path).count() > before {
                        break Some(l);
                    }
                    if Instant::now() > deadline {
                        break None;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                };
                let Some(entries) = entries else {
                    *failures.entry("no order within 15 s".into()).or_default() += 1;
                    continue;
                };
                let order = entries
                    .iter()
                    .rposition(|r| r.path == p.order_path)
                    .unwrap_or(0);
                let poll = entries[..order]
                    .iter()
                    .rev()
                    .find(|r| r.path == p.poll_path);
                if let (Some(poll), true) = (poll, round >= WARM) {
                    let gap = (entries[order].at - poll.at).max(0);
                    gaps.push(Duration::from_millis(gap as u64));
                    if gap > TARGET_MS as i64 && slow.len() < 5 {
                        let steps: Vec<String> = entries
                            .iter()
                            .filter(|r| r.at >= poll.at && r.at <= entries[order].at)
                            .map(|r| {
                                format!(
                                    "{} +{} ms",
                                    r.path.rsplit('/').next().unwrap_or(""),
                                    r.at - poll.at
                                )
                            })
                            .collect();
                        slow.push(format!("round {round}: {}", steps.join(", ")));
                    }
                }
                // Let the watch finish (pati reads the booking), then cancel at the site.
                std::thread::sleep(Duration::from_millis(500));
                let orders = sb
                    .platform(p.id)
                    .map(|x| x.orders())
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default();
                let open = orders.iter().rev().find(|o| {
                    (o["competitor"] == false && o["status"] == "booked")
                        || (o.get("bookStatus") == Some(&json!(0)))
                });
                match open {
                    Some(o) => {
                        let data = json!({"order_id": o["orderId"].to_string().trim_matches('"'),
                                          "book_id": o["bookId"].as_str().unwrap_or("")});
                        if let Err(e) = (p.cancel)(&data) {
                            *failures.entry(e).or_default() += 1;
                        }
                    }
                    None => {
                        *failures
                            .entry("no open booking to cancel".into())
                            .or_default() += 1
                    }
                }
            }
            let g = sorted(gaps);
            println!(
                "{}",
                label_line(
                    &format!("{} through haoyuan-host run", p.name),
                    &g,
                    &format!("n={}, whole ms", g.len())
                )
            );
            for line in &slow {
                println!("    slow {line} (the simulator's log from the poll reply to the order)");
            }
            for (f, n) in &failures {
                println!("    failed round ×{n}: {f}");
            }
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
