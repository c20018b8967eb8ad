//! `cargo run --release -p haoyuan-bench --bin sites_run`: issue 7's run-time figure —
//! **100 watches across 91160 and pati_service on one `haoyuan-host run`** — against
//! the simulator started in this process (`haoyuan_sandbox`, on 127.0.0.1). It prints;
//! it asserts no timing and never fails a build.
//!
//! Set-up (before the host starts, through the host's own protocol handlers in this
//! process, on the host's data folder): 5 91160 appTokens (`site_account_put`, accounts
//! `t1`…`t5`, the simulator's `tokens:` list) and 5 pati accounts (phone + password, the
//! simulator's `accounts:` list); 50 91160 notify watches, each on its own doctor (taken
//! with the core's `unitList` / `depList` / `doctorList` requests, from hospitals whose
//! tomorrow is open, so that no watch bursts at an opening time), 10 per token; 50 pati
//! notify watches, each on its own doctor of a 13-department tenant, 10 per account;
//! every watch's window is tomorrow and the day after (91160: within the hospital's
//! open days), interval 15 s ± 20 % (the platforms' floor is 15 s, so the delays are
//! 15–18 s). Then `haoyuan-host run` (headless) runs them for 90 s.
//!
//! Reported: the host's CPU time (utime + stime from `/proc/PID/stat`) per minute and
//! as a share of one core, in the steady state (from 20 s on) and over the whole run;
//! its peak RSS (`VmHWM`, and the largest sampled `VmRSS`) and thread count; the
//! requests the host made, per platform and per watch per minute (with the gaps
//! between a watch's polls against the platforms' 15 s floor); and per account the
//! least gap between two poll starts, against the conduct's 1 s (the runner paces an
//! account's poll starts 1.05 s apart). A poll start is a 91160 `scheduleList` (each
//! watch names its doctor: one request a poll) and a pati `schedule/info` (its
//! `schedule` requests for single days follow unpaced); the account is the `appToken`
//! in the 91160 query, and for pati the `token` header (its first 8 characters). The
//! host reaches both platforms through recording pass-through proxies in this process
//! (`haoyuan_bench::proxy`, on a runtime of their own), whose stamps are the requests'
//! arrival (Unix ms, whole ms: 999 ms counts as 1 s); the same least gap on the
//! simulator's own log (stamped when each reply is made) is shown as a cross-check.
//!
//! The host binary is `$HAOYUAN_HOST_BIN` or `haoyuan-host` beside this program
//! (`cargo build --release -p haoyuan-host -p haoyuan-bench`). Options: `--watches N`
//! (per platform, default 50), `--accounts N` (per platform, default 5), `--seconds N`
//! (default 90), `--interval S` (default 15).

use haoyuan_bench::proxy::start_proxy;
use haoyuan_bench::sites::{
    admin, execute, host_call, pati_accounts, scenario, sim_today, start_sim, tokens_91160,
};
use haoyuan_bench::{
    clock_ticks, host_binary, machine_line, pct, proc_stat, proc_status_kib, real_ms, verdict,
    Scratch,
};
use haoyuan_core::date::Date;
use haoyuan_core::platforms::open91160::site::{read_deps, read_doctors, read_units, Site};
use haoyuan_core::schedule::ACCOUNT_MIN_SPACING_MS;
use haoyuan_core::watch::{Interval, Platform};
use haoyuan_host::dispatch::Host;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PACING_MS: i64 = ACCOUNT_MIN_SPACING_MS as i64;
const STEADY_FROM_MS: i64 = 20_000;
const SCHEDULE_LIST: &str = "/appointment/scheduleList";
const SCHEDULE_INFO: &str = "/pati_service/tenant_service/schedule/info";

/// One request of the host, as the recording proxy (or the simulator's log) saw it.
struct Req {
    platform: &'static str,
    /// Unix ms: arrival at the proxy (the simulator's log: when its reply was made).
    at: i64,
    path: String,
    query: String,
    /// pati: the first 8 characters of the `token` header.
    session: Option<String>,
    status: u16,
}

/// The first 8 characters of a pati request's `token` header.
fn pati_session(h: &axum::http::HeaderMap) -> Option<String> {
    h.get("token")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.chars().take(8).collect::<String>())
        .filter(|t| !t.is_empty())
}

/// Poll starts by account (91160: the token's name; pati: the session), sorted, and
/// how many had no account.
fn poll_starts(
    log: &[Req],
    token_name: &HashMap<String, String>,
) -> (BTreeMap<String, Vec<i64>>, usize) {
    let mut starts: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut unattributed = 0;
    for r in log {
        let acc = if r.platform == "91160" && r.path == SCHEDULE_LIST {
            token_name.get(field(&r.query, "appToken")).cloned()
        } else if r.platform == "pati" && r.path == SCHEDULE_INFO {
            r.session.as_ref().map(|s| format!("pati session {s}"))
        } else {
            continue;
        };
        match acc {
            Some(a) => starts.entry(a).or_default().push(r.at),
            None => unattributed += 1,
        }
    }
    for ts in starts.values_mut() {
        ts.sort_unstable();
    }
    (starts, unattributed)
}

/// The least gap between two poll starts of one account (the first at or after
/// `from`), and how many gaps were under 999 ms.
fn least_gap(starts: &BTreeMap<String, Vec<i64>>, from: i64) -> (i64, usize) {
    starts
        .values()
        .flat_map(|ts| {
            ts.windows(2)
                .filter(|w| w[0] >= from)
                .map(|w| w[1] - w[0])
                .collect::<Vec<_>>()
        })
        .fold((i64::MAX, 0), |(m, c), g| {
            (m.min(g), c + usize::from(g < PACING_MS - 1))
        })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let watches = num("--watches", 50).max(1);
    let accounts = num("--accounts", 5).clamp(1, 15);
    let seconds = num("--seconds", 90).max(30) as i64;
    let interval = num("--interval", 15).max(15) as u32;
    println!("haoyuan 91160 + pati_service run-time figures (ratio = figure / target)");
    println!("{}", machine_line());
    println!(
        "\n-- {} watches on one `haoyuan-host run`: {watches} 91160 over {accounts} appTokens, {watches} pati over {accounts} accounts, notify, {interval} s ± 20 %, {seconds} s --",
        2 * watches
    );
    if let Err(e) = run(watches, accounts, seconds, interval) {
        println!("failed: {e}");
    }
    println!("\n{} (at the end)", machine_line());
}

/// A field of a query string.
fn field<'a>(query: &'a str, key: &str) -> &'a str {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v)
}

/// Up to `n` 91160 (unit, dep, doctor, open_time, cycle_days) whose tomorrow is open,
/// each doctor once, read with the core's list requests.
fn doctors_91160(site: &Site, token: &str, n: usize) -> Result<Vec<Value>, String> {
    let units = read_units(&execute(&site.unit_list(token, 1, 100))?).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for u in units.list.iter().filter(|u| u.cycle_days >= 2) {
        let deps = read_deps(&execute(&site.dep_list(token, &u.unit_id, 1, 100))?)
            .map_err(|e| e.to_string())?;
        for d in deps.list.iter().take(3) {
            let docs = read_doctors(&execute(
                &site.doctor_list(token, &u.unit_id, &d.dep_id, 1, 100),
            )?)
            .map_err(|e| e.to_string())?;
            for doc in docs.list.iter().take(3) {
                out.push(json!({"unit_id": u.unit_id, "dep_id": d.dep_id,
                    "doctor_id": doc.doctor_id, "unit_name": u.name, "dep_name": d.name,
                    "doctor_name": doc.name, "open_time": u.open_time,
                    "cycle_days": u.cycle_days}));
                if out.len() == n {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

fn run(watches: usize, accounts: usize, seconds: i64, interval: u32) -> Result<(), String> {
    let bin = host_binary()?;
    println!("host binary: {}", bin.display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    let tokens = tokens_91160(accounts);
    let patis = pati_accounts(accounts);
    let sb = start_sim(
        &rt,
        &scenario(
            &tokens,
            60,
            "",
            &patis,
            "  days_ahead: 7\n  department_count: 13\n  doctors_per_dept: 4\n",
        ),
    )?;
    // The simulator knows the tokens and accounts.
    let summary = admin(&sb, "91160", "summary", json!({}))?;
    let known_tokens = summary["tokens"].as_array().map_or(0, Vec::len);
    let info = admin(&sb, "pati", "info", json!({}))?;
    let pati_info = info["accounts"].as_array().cloned().unwrap_or_default();
    if known_tokens != accounts || pati_info.len() != accounts {
        return Err(format!(
            "the simulator knows {known_tokens} 91160 tokens and {} pati accounts, not {accounts}",
            pati_info.len()
        ));
    }
    let today = sim_today(&sb);
    let tomorrow = Date::from_days(today.to_days() + 1);
    let scratch = Scratch::new("haoyuan-sites-run");
    let home = scratch.home("host")?;
    let mut host = Host::open(&home);

    // Accounts.
    // The host reaches both platforms through recording proxies (on a runtime of their
    // own, so that the simulator's work does not delay the arrival stamps).
    let prt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("no tokio runtime: {e}"))?;
    let (base91160, proxy91160) = prt.block_on(start_proxy(sb.url("91160"), |_| None))?;
    let (base_pati, proxy_pati) = prt.block_on(start_proxy(sb.url("pati"), pati_session))?;
    for (i, t) in tokens.iter().enumerate() {
        host_call(
            &mut host,
            "site_account_put",
            json!({"platform": "91160", "account": format!("t{}", i + 1),
                   "base_url": base91160, "secret": {"app_token": t}}),
        )?;
    }
    for (phone, password) in &patis {
        host_call(
            &mut host,
            "site_account_put",
            json!({"platform": "pati", "account": phone, "base_url": base_pati,
                   "secret": {"password": password}}),
        )?;
    }

    // 91160 watches: one doctor each, 10 per token.
    let site = Site::new(&base91160);
    let doctors = doctors_91160(&site, &tokens[0], watches)?;
    if doctors.len() < watches {
        return Err(format!(
            "only {} 91160 doctors with tomorrow open",
            doctors.len()
        ));
    }
    let iv = json!({"seconds": interval, "jitter_pct": 20});
    let mut watch_of_doctor: HashMap<String, usize> = HashMap::new();
    for (k, d) in doctors.iter().enumerate() {
        let cycle = d["cycle_days"].as_i64().unwrap_or(2);
        let end = Date::from_days((today.to_days() + cycle - 1).min(tomorrow.to_days() + 1));
        let mut target = d.clone();
        target["platform"] = json!("91160");
        target["account"] = json!(format!("t{}", k % accounts + 1));
        target["patient_id"] = json!("");
        host_call(
            &mut host,
            "watch_put",
            json!({"watch": {"label": format!("91160 {k}"), "target": target,
                "window": {"start": tomorrow.to_string(), "end": end.to_string()},
                "mode": "notify", "interval": iv}}),
        )?;
        watch_of_doctor.insert(d["doctor_id"].as_str().unwrap_or("").to_string(), k);
    }

    // pati watches: one doctor each, 10 per account.
    let pati_doctors: Vec<(Value, Value)> = info["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| {
            d["doctors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |doc| (d.clone(), doc))
        })
        .collect();
    if pati_doctors.len() < watches {
        return Err(format!("only {} pati doctors", pati_doctors.len()));
    }
    let mut pati_watch_of: HashMap<String, usize> = HashMap::new();
    for (k, (dept, doc)) in pati_doctors.iter().take(watches).enumerate() {
        let (phone, _) = &patis[k % accounts];
        let acc = pati_info
            .iter()
            .find(|a| a["phone"] == phone.as_str())
            .ok_or("a pati account is missing")?;
        let member = &acc["members"][0];
        host_call(
            &mut host,
            "watch_put",
            json!({"watch": {"label": format!("pati {k}"),
                "target": {"platform": "pati", "account": phone, "dept_id": dept["deptId"],
                    "dept_name": dept["deptName"], "doctor_id": doc["doctorId"],
                    "doctor_name": doc["doctorName"], "member_id": member["memberId"],
                    "member_name": member["name"]},
                "window": {"start": tomorrow.to_string(),
                           "end": Date::from_days(tomorrow.to_days() + 1).to_string()},
                "mode": "notify", "interval": iv}}),
        )?;
        pati_watch_of.insert(doc["doctorId"].as_str().unwrap_or("").to_string(), k);
    }
    drop(host);
    println!(
        "stored {accounts} 91160 appTokens and {accounts} pati accounts, {watches} + {watches} watches (host handlers in process); the simulator knows {known_tokens} tokens and {} accounts",
        pati_info.len()
    );

    // Run.
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    sb.shared.log.clear();
    for p in [&proxy91160, &proxy_pati] {
        if let Ok(mut h) = p.hits.lock() {
            h.clear();
        }
    }
    let t0 = real_ms();
    let mut child = Command::new(&bin)
        .arg("run")
        .env("HAOYUAN_HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let pid = child.id();
    let _stdin = child.stdin.take();
    let kinds = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    if let Some(out) = child.stdout.take() {
        let kinds = kinds.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                // `time  watch  kind  message`
                let kind = l.split("  ").nth(2).unwrap_or("?").to_string();
                if let Ok(mut m) = kinds.lock() {
                    *m.entry(kind).or_default() += 1;
                }
            }
        });
    }
    let tck = clock_ticks();
    let mut samples: Vec<(i64, u64, u64, u64)> = Vec::new(); // (ms, ticks, rss kB, threads)
    let mut hwm = 0;
    let end = t0 + seconds * 1000;
    while real_ms() < end {
        match (proc_stat(pid), proc_status_kib(pid, "VmRSS:")) {
            (Some((ticks, threads)), Some(rss)) => samples.push((real_ms(), ticks, rss, threads)),
            _ => break,
        }
        hwm = proc_status_kib(pid, "VmHWM:").unwrap_or(hwm);
        std::thread::sleep(Duration::from_millis(1000));
    }
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    if !alive {
        return Err("the host exited during the run".into());
    }
    let mut log: Vec<Req> = Vec::new();
    for (platform, p) in [("91160", &proxy91160), ("pati", &proxy_pati)] {
        for h in p.hits.lock().map(|h| h.clone()).unwrap_or_default() {
            log.push(Req {
                platform,
                at: h.at,
                path: h.path,
                query: h.query,
                session: h.session,
                status: h.status,
            });
        }
    }
    log.sort_by_key(|r| r.at);
    // The simulator's own log, for a cross-check of the pacing on its reply stamps.
    let sim_log: Vec<Req> = sb
        .shared
        .log
        .read(None, usize::MAX)
        .into_iter()
        .map(|r| Req {
            platform: if r.platform == "91160" {
                "91160"
            } else {
                "pati"
            },
            at: r.at,
            path: r.path,
            query: r.query,
            session: r.session,
            status: r.status,
        })
        .collect();
    println!(
        "load average before the run {}",
        load_before
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // CPU and memory.
    let steady_from = t0 + STEADY_FROM_MS;
    let cpu_per_min = |from: i64| -> Option<f64> {
        let a = samples.iter().find(|s| s.0 >= from)?;
        let b = samples.last()?;
        (b.0 > a.0).then(|| (b.1 - a.1) as f64 / tck as f64 / ((b.0 - a.0) as f64 / 60_000.0))
    };
    let steady_cpu = cpu_per_min(steady_from).unwrap_or(f64::NAN);
    let whole = samples
        .last()
        .map(|b| b.1 as f64 / tck as f64 / ((b.0 - t0) as f64 / 60_000.0))
        .unwrap_or(f64::NAN);
    println!(
        "{:<52} steady (20 s → {seconds} s) {steady_cpu:.2} s/min ({:.1} % of one core); whole run from exec {whole:.2} s/min ({:.1} %)",
        "host CPU time (utime+stime)",
        steady_cpu / 60.0 * 100.0,
        whole / 60.0 * 100.0,
    );
    println!(
        "{:<52} peak RSS (VmHWM) {:.1} MB, largest sampled VmRSS {:.1} MB, last {:.1} MB; threads up to {}",
        "host memory and threads",
        hwm as f64 / 1024.0,
        samples.iter().map(|s| s.2).max().unwrap_or(0) as f64 / 1024.0,
        samples.last().map_or(0.0, |s| s.2 as f64 / 1024.0),
        samples.iter().map(|s| s.3).max().unwrap_or(0),
    );

    // Requests.
    let steady_min = (end - steady_from) as f64 / 60_000.0;
    let in_steady = |r: &&Req| r.at >= steady_from && r.at < end;
    let mut by_path: BTreeMap<String, usize> = BTreeMap::new();
    for r in log.iter().filter(in_steady) {
        *by_path
            .entry(format!("{} {}", r.platform, r.path))
            .or_default() += 1;
    }
    let not_ok: Vec<String> = log
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| format!("{} {} {}", r.platform, r.path, r.status))
        .collect();
    println!(
        "requests the host made (steady, per minute): {}",
        by_path
            .iter()
            .map(|(p, n)| format!("{p} {:.1}", *n as f64 / steady_min))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Per watch: polls per minute (steady) and gaps between a watch's polls.
    let iv = Interval {
        seconds: interval,
        jitter_pct: 20,
    };
    let expect = |p: Platform| {
        let mean: f64 = (0..1000)
            .map(|i| iv.next_delay_ms(p, (i as f64 + 0.5) / 1000.0) as f64)
            .sum::<f64>()
            / 1000.0;
        60_000.0 / mean
    };
    let per_watch = |pf: &str, path: &str, key: &dyn Fn(&Req) -> Option<usize>| {
        let mut n = vec![0usize; watches];
        let mut last: Vec<Option<i64>> = vec![None; watches];
        let mut gaps = Vec::new();
        for r in log
            .iter()
            .filter(|r| r.platform == pf && r.path == path && r.at < end)
        {
            if let Some(k) = key(r) {
                if r.at >= steady_from {
                    n[k] += 1;
                    if let Some(l) = last[k] {
                        gaps.push(r.at - l);
                    }
                }
                last[k] = Some(r.at);
            }
        }
        let mut rate: Vec<f64> = n.iter().map(|&c| c as f64 / steady_min).collect();
        rate.sort_by(f64::total_cmp);
        gaps.sort_unstable();
        (rate, gaps, n.iter().filter(|&&c| c == 0).count())
    };
    let w91160 = |r: &Req| watch_of_doctor.get(field(&r.query, "doctorId")).copied();
    let wpati = |r: &Req| pati_watch_of.get(field(&r.query, "doctorId")).copied();
    for (pf, name, path, key, platform) in [
        (
            "91160",
            "91160 scheduleList",
            SCHEDULE_LIST,
            &w91160 as &dyn Fn(&Req) -> Option<usize>,
            Platform::Open91160,
        ),
        (
            "pati",
            "pati schedule/info",
            SCHEDULE_INFO,
            &wpati as &dyn Fn(&Req) -> Option<usize>,
            Platform::Pati,
        ),
    ] {
        let (rate, gaps, idle) = per_watch(pf, path, key);
        println!(
            "{:<52} polls per watch per minute (steady) mean {:.2} min {:.2} max {:.2} ({idle} watches not polled in the steady {:.0} s); the interval asks {:.2}/min; gap between a watch's polls p50 {:.1} s min {:.1} s max {:.1} s; under the {} s floor: {} of {}",
            name,
            rate.iter().sum::<f64>() / rate.len().max(1) as f64,
            rate.first().copied().unwrap_or(0.0),
            rate.last().copied().unwrap_or(0.0),
            steady_min * 60.0,
            expect(platform),
            pct(&gaps, 50.0) as f64 / 1000.0,
            gaps.first().copied().unwrap_or(0) as f64 / 1000.0,
            gaps.last().copied().unwrap_or(0) as f64 / 1000.0,
            platform.poll_floor_secs(),
            gaps.iter()
                .filter(|&&g| g < i64::from(platform.poll_floor_secs()) * 1000 - 1)
                .count(),
            gaps.len(),
        );
    }
    println!(
        "    replies other than HTTP 200: {}{}",
        not_ok.len(),
        if not_ok.is_empty() {
            String::new()
        } else {
            format!(" (first: {:?})", not_ok.iter().take(5).collect::<Vec<_>>())
        }
    );

    // Per account: poll starts.
    let token_name: HashMap<String, String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), format!("91160 t{}", i + 1)))
        .collect();
    let (starts, unattributed) = poll_starts(&log, &token_name);
    let (later_least, later_close) = least_gap(&starts, t0 + 5_000);
    // pati sign-ins (the login replies), +ms from the start.
    let sign_ins: Vec<i64> = log
        .iter()
        .filter(|r| r.platform == "pati" && r.path.ends_with("/patient_service/login"))
        .map(|r| r.at - t0)
        .collect();
    let mut least = i64::MAX;
    let mut close_total = 0;
    let mut accounts_seen = [0usize; 2];
    for (acc, ts) in starts {
        accounts_seen[usize::from(acc.starts_with("pati"))] += 1;
        let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let min = gaps.first().copied().unwrap_or(i64::MAX);
        least = least.min(min);
        let close = gaps.iter().filter(|&&g| g < PACING_MS - 1).count();
        close_total += close;
        let steady_n = ts.iter().filter(|&&t| t >= steady_from && t < end).count();
        println!(
            "  {acc:<20} {} poll starts ({:.1}/min steady), gap min {min} ms p1 {} ms p50 {} ms; under 999 ms: {close}; under 1050 ms: {}",
            ts.len(),
            steady_n as f64 / steady_min,
            pct(&gaps, 1.0),
            pct(&gaps, 50.0),
            gaps.iter().filter(|&&g| g < 1050).count(),
        );
        for w in ts
            .windows(2)
            .filter(|w| w[1] - w[0] < PACING_MS - 1)
            .take(3)
        {
            let nth = ts.iter().position(|&t| t == w[0]).unwrap_or(0) + 1;
            println!(
                "    {} ms apart: poll starts {nth} and {} of the account, at +{} ms and +{} ms (pati sign-ins at +{:?} ms)",
                w[1] - w[0],
                nth + 1,
                w[0] - t0,
                w[1] - t0,
                sign_ins
            );
        }
    }
    println!(
        "{:<52} {least} ms  target ≥ {PACING_MS} ms (± 1 ms)  ratio {:.3}  {}{}",
        "least gap between an account's poll starts (arrivals)",
        least as f64 / PACING_MS as f64,
        verdict(close_total == 0 && least != i64::MAX),
        if close_total > 0 {
            format!("  ({close_total} gaps under 999 ms)")
        } else {
            String::new()
        }
    );
    println!(
        "    after the first 5 s of the run: least gap {later_least} ms, {later_close} gaps under 999 ms"
    );
    let (sim_starts, _) = poll_starts(&sim_log, &token_name);
    let (sim_least, sim_close) = least_gap(&sim_starts, 0);
    println!(
        "    on the simulator's reply stamps instead: least gap {sim_least} ms, {sim_close} gaps under 999 ms ({} poll starts)",
        sim_starts.values().map(Vec::len).sum::<usize>()
    );
    println!(
        "    accounts seen polling: {} 91160 tokens, {} pati sessions (of {accounts} each); poll starts without an account: {unattributed}; pati sign-ins: {}",
        accounts_seen[0],
        accounts_seen[1],
        log.iter()
            .filter(|r| r.path.ends_with("/patient_service/login"))
            .count()
    );
    println!(
        "    host output lines by kind: {:?}",
        kinds.lock().map(|m| m.clone()).unwrap_or_default()
    );
    Ok(())
}
