//! `haoyuan-bench`: measures Haoyuan's speed and size figures and prints each against
//! its target, one line per figure, as `figure / target` with PASS or MISS.
//!
//! Run `cargo build --release -p haoyuan-host` (and the extension build, for the size
//! figures), then `cargo run --release -p haoyuan-bench`. The host is found beside this
//! binary (`target/release/haoyuan-host`) or at `$HAOYUAN_HOST_BIN`. Nothing here fails
//! a build: a figure that cannot be measured is reported as skipped, with the reason,
//! and the program exits 0.
//!
//! Figures (targets from issue 2):
//! - host cold start to the `hello` reply, each run with a fresh `HAOYUAN_HOME`
//!   (p99 ≤ 20 ms), and for information the same with an existing data folder;
//! - small-message round trip over pipes on one host process, `hello` and `watch_get`
//!   (p99 ≤ 1 ms);
//! - host resident memory after `hello` and a second idle (≤ 10 MB);
//! - the optimised wasm and its JS glue in `dist/chrome/pkg/` (wasm ≤ 300 KB,
//!   wasm + glue gzipped ≤ 120 KB).
//!
//! Sizes use KB = 1,000 bytes and MB = 1,000,000 bytes (the stricter reading).

use haoyuan_bench::{excerpt, ok_data, percentile, Host};
use haoyuan_core::date::Date;
use haoyuan_core::protocol::{Request, PROTOCOL_MAJOR};
use haoyuan_core::watch::Watch;
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Cold starts measured (the issue asks for 30 or more; 100 so that p99 is not simply
/// the single slowest run).
const COLD_RUNS: usize = 100;
/// Round trips of each command on one process (the issue asks for 2,000 or more in all).
const ROUND_TRIPS_EACH: usize = 2_000;
/// Requests sent before measuring round trips (page cache, allocator, SQLite cache).
const WARM_UP: usize = 50;
const KB: f64 = 1_000.0;
const MB: f64 = 1_000_000.0;

fn main() {
    println!(
        "haoyuan-bench {} — figures against targets (ratio = figure / target)",
        haoyuan_core::VERSION
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        let cores = thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        println!(
            "machine: {cores} cores, load average {} (figures are noisier under load)",
            load.join(" ")
        );
    }
    let root = workspace_root();
    match host_binary() {
        Ok(host) => {
            println!("host binary: {}", host.display());
            let scratch = Scratch::new();
            // The figure of the issue: a first start, creating the database.
            report("cold start to hello", cold_start(&host, &scratch, false));
            // The usual case: the browser starts an installed host with its data there.
            report(
                "  (existing data folder)",
                cold_start(&host, &scratch, true),
            );
            for line in round_trips(&host, &scratch) {
                report(line.0, line.1);
            }
            report("host idle RSS after hello", idle_rss(&host, &scratch));
        }
        Err(why) => {
            for name in [
                "cold start to hello",
                "round trip",
                "host idle RSS after hello",
            ] {
                report(name, Err(why.clone()));
            }
        }
    }
    for (name, result) in sizes(&root) {
        report(name, result);
    }
}

/// One figure: the words before the target, the measured value and the target, both in
/// the unit named by `unit`.
struct Figure {
    detail: String,
    value: f64,
    target: f64,
    unit: &'static str,
}

fn report(name: &str, result: Result<Figure, String>) {
    match result {
        Ok(f) => {
            let ratio = f.value / f.target;
            let verdict = if f.value <= f.target { "PASS" } else { "MISS" };
            println!(
                "{name:<28} {}  target ≤ {} {}  ratio {ratio:.2}  {verdict}",
                f.detail,
                trim_num(f.target),
                f.unit
            );
        }
        Err(why) => println!("{name:<28} skipped: {why}"),
    }
}

fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The workspace root, fixed at compile time from this crate's manifest folder.
fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    root.canonicalize().unwrap_or(root)
}

/// `$HAOYUAN_HOST_BIN`, else `haoyuan-host` in the folder of this executable.
fn host_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("HAOYUAN_HOST_BIN") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "HAOYUAN_HOST_BIN is {}, which is not a file",
                p.display()
            ))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot tell where this program is: {e}"))?;
    let dir = exe.parent().ok_or("this program's path has no folder")?;
    let host = dir.join(format!("haoyuan-host{}", std::env::consts::EXE_SUFFIX));
    if host.is_file() {
        Ok(host)
    } else {
        Err(format!(
            "no host at {}; build it with `cargo build --release -p haoyuan-host` or set HAOYUAN_HOST_BIN",
            host.display()
        ))
    }
}

/// A temporary folder for the hosts' data, removed when the bench ends.
struct Scratch {
    dir: PathBuf,
    next: AtomicU64,
}

impl Scratch {
    fn new() -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("haoyuan-bench-{}-{nanos}", std::process::id()));
        Scratch {
            dir,
            next: AtomicU64::new(0),
        }
    }

    /// A new, empty data folder.
    fn fresh_home(&self) -> Result<PathBuf, String> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let home = self.dir.join(format!("home-{n}"));
        std::fs::create_dir_all(&home)
            .map_err(|e| format!("cannot create {}: {e}", home.display()))?;
        Ok(home)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn check_hello(body: &[u8]) -> Result<(), String> {
    let data = ok_data(body, "hello")?;
    match data.get("protocol").and_then(Value::as_u64) {
        Some(p) if p == u64::from(PROTOCOL_MAJOR) => Ok(()),
        _ => Err(format!(
            "hello answered with a different protocol: {}",
            excerpt(body)
        )),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 of `samples` (in ms) against a p99 target.
fn latency_figure(mut samples: Vec<Duration>, target_ms: f64, extra: &str) -> Figure {
    samples.sort();
    let p50 = ms(percentile(&samples, 50.0));
    let p99 = ms(percentile(&samples, 99.0));
    Figure {
        detail: format!(
            "p50 {} ms  p99 {} ms  (n={}{extra})",
            fmt_ms(p50),
            fmt_ms(p99),
            samples.len()
        ),
        value: p99,
        target: target_ms,
        unit: "ms (p99)",
    }
}

fn fmt_ms(x: f64) -> String {
    if x < 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.1}")
    }
}

/// Spawn → `hello` reply, each run with a new, empty data folder.
fn cold_start(bin: &Path, scratch: &Scratch, reuse_home: bool) -> Result<Figure, String> {
    let mut samples = Vec::with_capacity(COLD_RUNS);
    let shared = if reuse_home {
        Some(scratch.fresh_home()?)
    } else {
        None
    };
    // One start first, not counted: it pays for loading the binary from disk (which a
    // browser launching an installed host rarely does) and, when the data folder is
    // reused, creates the database the measured runs then open.
    for run in 0..=COLD_RUNS {
        let home = match &shared {
            Some(h) => h.clone(),
            None => scratch.fresh_home()?,
        };
        let start = Instant::now();
        let mut host = Host::spawn(bin, &home)?;
        let body = host.call(&Request::Hello {})?;
        if run > 0 {
            samples.push(start.elapsed());
        }
        check_hello(&body)?;
        host.finish();
    }
    let how = if reuse_home {
        ", same data folder"
    } else {
        ", fresh HAOYUAN_HOME each"
    };
    Ok(latency_figure(samples, 20.0, how))
}

/// A valid watch for the round-trip bench: a pati department, a window starting
/// tomorrow (UTC), polled every ten minutes.
fn sample_watch() -> Result<Watch, String> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let today = Date::from_unix_ms(now_ms, 0).to_days();
    let value = json!({
        "target": {"platform": "pati", "dept_id": "bench-dept"},
        "window": {"start": Date::from_days(today + 1), "end": Date::from_days(today + 3)},
        "interval": {"seconds": 600},
    });
    serde_json::from_value(value)
        .map_err(|e| format!("the sample watch does not fit the protocol: {e}"))
}

/// Round trips of `hello` and `watch_get` on one host process.
fn round_trips(bin: &Path, scratch: &Scratch) -> Vec<(&'static str, Result<Figure, String>)> {
    match round_trip_samples(bin, scratch) {
        Ok((hello, get)) => {
            let mut all = hello.clone();
            all.extend_from_slice(&get);
            vec![
                ("round trip hello", Ok(latency_figure(hello, 1.0, ""))),
                ("round trip watch_get", Ok(latency_figure(get, 1.0, ""))),
                ("round trip (both)", Ok(latency_figure(all, 1.0, ""))),
            ]
        }
        Err(why) => vec![("round trip", Err(why))],
    }
}

fn round_trip_samples(
    bin: &Path,
    scratch: &Scratch,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let home = scratch.fresh_home()?;
    let mut host = Host::spawn(bin, &home)?;
    check_hello(&host.call(&Request::Hello {})?)?;
    let put = host.call(&Request::WatchPut {
        watch: sample_watch()?,
    })?;
    let stored = ok_data(&put, "watch_put")?;
    let id = stored
        .get("id")
        .and_then(Value::as_str)
        .ok_or("watch_put answered without an id")?
        .to_string();
    let get = Request::WatchGet { id };
    let hello = Request::Hello {};
    for _ in 0..WARM_UP {
        host.call(&hello)?;
        host.call(&get)?;
    }
    let mut hello_samples = Vec::with_capacity(ROUND_TRIPS_EACH);
    let mut get_samples = Vec::with_capacity(ROUND_TRIPS_EACH);
    let (mut last_hello, mut last_get) = (Vec::new(), Vec::new());
    // Interleaved, so that both see the same conditions.
    for _ in 0..ROUND_TRIPS_EACH {
        let t = Instant::now();
        last_hello = host.call(&hello)?;
        hello_samples.push(t.elapsed());
        let t = Instant::now();
        last_get = host.call(&get)?;
        get_samples.push(t.elapsed());
    }
    // The replies were not parsed while timing; check that they were answers.
    check_hello(&last_hello)?;
    ok_data(&last_get, "watch_get")?;
    host.finish();
    Ok((hello_samples, get_samples))
}

/// VmRSS of a host that answered `hello` and then sat idle for a second.
fn idle_rss(bin: &Path, scratch: &Scratch) -> Result<Figure, String> {
    if !cfg!(target_os = "linux") {
        return Err("resident memory is read from /proc, which only Linux has".into());
    }
    let home = scratch.fresh_home()?;
    let mut host = Host::spawn(bin, &home)?;
    check_hello(&host.call(&Request::Hello {})?)?;
    thread::sleep(Duration::from_secs(1));
    let kb = host.rss_kib()? as f64;
    host.finish();
    // /proc reports kibibytes.
    let bytes = kb * 1024.0;
    Ok(Figure {
        detail: format!("{:.2} MB ({kb:.0} KiB)", bytes / MB),
        value: bytes / MB,
        target: 10.0,
        unit: "MB",
    })
}

/// Raw and gzipped sizes of the files in `dist/chrome/pkg/` ending in `ext`.
fn files_with(dir: &Path, ext: &str) -> Result<Vec<(PathBuf, u64, u64)>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(ext) || !path.is_file() {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let gz = gzip_len(&bytes).map_err(|e| format!("cannot gzip {}: {e}", path.display()))?;
        out.push((path, bytes.len() as u64, gz));
    }
    out.sort();
    Ok(out)
}

fn gzip_len(bytes: &[u8]) -> io::Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

fn size_detail(files: &[(PathBuf, u64, u64)]) -> String {
    files
        .iter()
        .map(|(p, raw, gz)| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!(
                "{name} {:.1} KB (gzip {:.1} KB)",
                *raw as f64 / KB,
                *gz as f64 / KB
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sizes(root: &Path) -> Vec<(&'static str, Result<Figure, String>)> {
    let pkg = root.join("dist").join("chrome").join("pkg");
    if !pkg.is_dir() {
        let why = format!(
            "{} is not built (run the extension build first)",
            pkg.display()
        );
        return vec![
            ("wasm size", Err(why.clone())),
            ("wasm + glue gzipped", Err(why)),
        ];
    }
    let (wasm, js) = match (files_with(&pkg, "wasm"), files_with(&pkg, "js")) {
        (Ok(w), Ok(j)) => (w, j),
        (Err(e), _) | (_, Err(e)) => {
            return vec![
                ("wasm size", Err(e.clone())),
                ("wasm + glue gzipped", Err(e)),
            ]
        }
    };
    if wasm.is_empty() {
        let why = format!("no .wasm in {}", pkg.display());
        return vec![
            ("wasm size", Err(why.clone())),
            ("wasm + glue gzipped", Err(why)),
        ];
    }
    let wasm_raw: u64 = wasm.iter().map(|f| f.1).sum();
    let gz_all: u64 = wasm.iter().chain(js.iter()).map(|f| f.2).sum();
    let js_raw: u64 = js.iter().map(|f| f.1).sum();
    vec![
        (
            "wasm size",
            Ok(Figure {
                detail: format!("{:.1} KB  ({})", wasm_raw as f64 / KB, size_detail(&wasm)),
                value: wasm_raw as f64 / KB,
                target: 300.0,
                unit: "KB",
            }),
        ),
        (
            "wasm + glue gzipped",
            Ok(Figure {
                detail: format!(
                    "{:.1} KB  (glue raw {:.1} KB: {})",
                    gz_all as f64 / KB,
                    js_raw as f64 / KB,
                    if js.is_empty() {
                        "no .js found".to_string()
                    } else {
                        size_detail(&js)
                    }
                ),
                value: gz_all as f64 / KB,
                target: 120.0,
                unit: "KB",
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&samples[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn sizes_sum_wasm_and_gzip_wasm_plus_glue() {
        let root = std::env::temp_dir().join(format!("haoyuan-bench-test-{}", std::process::id()));
        let pkg = root.join("dist/chrome/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        assert!(
            sizes(&root).iter().all(|(_, r)| r.is_err()),
            "no wasm yet: skipped"
        );
        std::fs::write(pkg.join("core_bg.wasm"), vec![7u8; 2_000]).unwrap();
        std::fs::write(pkg.join("core.js"), "export default 1;\n".repeat(50)).unwrap();
        std::fs::write(pkg.join("core.d.ts"), "ignored").unwrap();
        let figures = sizes(&root);
        let wasm = figures[0].1.as_ref().unwrap();
        assert_eq!(wasm.value, 2.0);
        let gz = figures[1].1.as_ref().unwrap();
        let expected = gzip_len(&[7u8; 2_000]).unwrap()
            + gzip_len("export default 1;\n".repeat(50).as_bytes()).unwrap();
        assert_eq!(gz.value, expected as f64 / KB);
        assert!(gz.value < 1.0, "repetitive input compresses: {}", gz.value);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
