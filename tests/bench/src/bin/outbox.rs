//! `cargo run --release -p haoyuan-bench --bin outbox`: the notification outbox's
//! figures against a real SMTP server (tests/smtp/smtpd.py, aiosmtpd) on 127.0.0.1 —
//! time from an event's commit to the server's `250` (target p99 ≤ 200 ms), outbox
//! throughput draining 10,000 queued messages (target ≥ 500 messages/s), and the host's
//! memory while it drains them. It prints; it never fails a build.

use haoyuan_bench::{ok_data, percentile, Host};
use haoyuan_core::notify::{Channel, ChannelSettings, Notice, SmtpSecurity};
use haoyuan_core::protocol::Request;
use haoyuan_host::store::Store;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn backlog() -> usize {
    std::env::var("OUTBOX_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}
const LATENCY_SAMPLES: usize = 200;

fn main() {
    println!("outbox figures (real SMTP server on loopback; ratio = figure / target)");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let host = match std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("haoyuan-host")))
    {
        Some(p) if p.is_file() => p,
        _ => {
            return println!(
                "skipped: build the host first (`cargo build --release -p haoyuan-host`)"
            )
        }
    };
    let tmp = std::env::temp_dir().join(format!("haoyuan-outbox-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&tmp);
    let out = tmp.join("received.jsonl");
    let mut smtpd = match Smtpd::start(&root, Some(&out)) {
        Ok(s) => s,
        Err(e) => return println!("skipped: {e} (run scripts/setup.sh for aiosmtpd)"),
    };
    match latency(&host, &tmp.join("latency"), smtpd.port, &out) {
        Ok((p50, p99)) => {
            let verdict = if p99 <= 200.0 { "PASS" } else { "MISS" };
            println!("event commit → SMTP 250      p50 {p50:.1} ms  p99 {p99:.1} ms  (n={LATENCY_SAMPLES})  target ≤ 200 ms (p99)  ratio {:.2}  {verdict}", p99 / 200.0);
        }
        Err(e) => println!("event commit → SMTP 250: failed: {e}"),
    }
    smtpd.stop();
    // The throughput run uses a server that accepts without parsing or logging, so the
    // figure is the outbox's, not the Python test server's.
    let mut smtpd = match Smtpd::start(&root, None) {
        Ok(s) => s,
        Err(e) => return println!("skipped: {e}"),
    };
    match throughput(&host, &tmp.join("drain"), smtpd.port) {
        Ok((rate, rss_kb)) => {
            let verdict = if rate >= 500.0 { "PASS" } else { "MISS" };
            println!("outbox throughput            {rate:.0} messages/s  ({} queued, one SMTP connection)  target ≥ 500/s  ratio {:.2}  {verdict}", backlog(), rate / 500.0);
            println!(
                "host memory while draining   max RSS {:.1} MB  ({} queued)",
                rss_kb as f64 / 1024.0,
                backlog()
            );
        }
        Err(e) => println!("outbox throughput: failed: {e}"),
    }
    smtpd.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

struct Smtpd {
    child: Child,
    port: u16,
}

impl Smtpd {
    /// Starts the server; `out`: where it logs each message (None: it only accepts them).
    fn start(root: &Path, out: Option<&Path>) -> Result<Smtpd, String> {
        let mut cmd = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
        cmd.arg(root.join("tests/smtp/smtpd.py"))
            .args(["--port", "0", "--mode", "plain"]);
        if let Some(out) = out {
            cmd.arg("--out").arg(out);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start smtpd.py: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let v: Value =
            serde_json::from_str(&line).map_err(|_| format!("smtpd.py said {line:?}"))?;
        let port = v["port"].as_u64().ok_or("no port")? as u16;
        Ok(Smtpd { child, port })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings(port: u16) -> ChannelSettings {
    let mut s = ChannelSettings::default();
    s.email.enabled = true;
    s.email.host = "127.0.0.1".into();
    s.email.port = port;
    s.email.security = SmtpSecurity::None;
    s.email.from = "haoyuan@example.com".into();
    s.email.to = vec!["me@example.com".into()];
    s
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Sends a request through the shared bench host and returns its reply's data.
fn call(h: &mut Host, request: Request, what: &str) -> Result<Value, String> {
    ok_data(&h.call(&request)?, what)
}

fn lines(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Records events one at a time through a serving host; each sample is the time from
/// the reply (the commit) to the server's log line written just before its 250.
fn latency(host: &Path, home: &Path, port: u16, out: &Path) -> Result<(f64, f64), String> {
    std::fs::create_dir_all(home).map_err(|e| e.to_string())?;
    haoyuan_host::settings::save(home, &settings(port))?;
    let mut h = Host::spawn(host, home)?;
    let today = haoyuan_core::date::Date::from_unix_ms(now_ms(), 480);
    let end = haoyuan_core::date::Date::from_days(today.to_days() + 7);
    let watch = serde_json::from_value(json!({
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "a", "second_dept_code": "b", "hos_name": "北京协和医院", "dept_name": "眼科"},
        "window": {"start": today.to_string(), "end": end.to_string()}, "interval": {"seconds": 60}}))
    .map_err(|e| e.to_string())?;
    let w = call(&mut h, Request::WatchPut { watch }, "watch_put")?;
    let wid = w["id"].as_str().ok_or("no id")?.to_string();
    let mut samples = Vec::new();
    for _ in 0..LATENCY_SAMPLES {
        let before = lines(out).len();
        let event = Request::EventRecord {
            watch_id: wid.clone(),
            kind: "slot_seen".into(),
            message: "有号".into(),
            data: json!({"date": end.to_string(), "period": "morning"}),
        };
        call(&mut h, event, "event_record")?;
        let committed = now_ms();
        let start = Instant::now();
        let got = loop {
            let l = lines(out);
            if l.len() > before {
                break l;
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err("a message did not arrive within 10 s".into());
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        let at = got[before]["received_at"]
            .as_i64()
            .ok_or("no received_at")?;
        samples.push(Duration::from_millis((at - committed).max(0) as u64));
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok((
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 99.0)),
    ))
}

/// Queues [`backlog()`] messages, then times one host draining them and samples its memory.
fn throughput(host: &Path, home: &Path, port: u16) -> Result<(f64, u64), String> {
    std::fs::create_dir_all(home).map_err(|e| e.to_string())?;
    haoyuan_host::settings::save(home, &settings(port))?;
    let db = haoyuan_host::paths::database_path(home);
    let mut store = Store::open(&db).map_err(|e| e.message)?;
    for i in 0..backlog() {
        let id = format!("hy-bench{i:08}");
        let mut render = |e: &haoyuan_core::protocol::HistoryEntry| {
            Some(Notice {
                id: id.clone(),
                kind: "slot_seen".into(),
                watch_id: "w".into(),
                subject: "114 · 北京协和医院 · 眼科 · 有号了".into(),
                text: "有号了".into(),
                html: "<p>有号了</p>".into(),
                url: None,
                at: e.at,
            })
        };
        store
            .record_event_with_notice(
                "w",
                "slot_seen",
                "有号",
                &Value::Null,
                now_ms(),
                &[Channel::Email],
                &mut render,
            )
            .map_err(|e| e.message)?;
    }
    let mut h = Host::spawn(host, home)?;
    let start = Instant::now();
    let mut max_rss = 0;
    loop {
        max_rss = max_rss.max(h.rss_kib().unwrap_or(0));
        // Talking to the host keeps the bench's watchdog from taking it for hung.
        call(&mut h, Request::Hello {}, "hello")?;
        let (pending, _, failed) = store.outbox_counts().map_err(|e| e.message)?;
        if failed > 0 {
            return Err(format!("{failed} messages failed"));
        }
        if pending == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(300) {
            return Err("not drained in 5 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((backlog() as f64 / start.elapsed().as_secs_f64(), max_rss))
}
