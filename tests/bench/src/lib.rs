//! What the bench binaries share: a host process spoken to over raw frames (with a
//! watchdog so a hung host cannot hang a bench), reply checks and percentiles;
//! [`yygh114`], the driver of the 114yygh watcher against the sandbox that the `yygh114`
//! bench and `wasm-core/tests/watcher114.rs` both use; and [`rail12306`], the generated
//! 12306 query reply of the `rail12306` bench; [`sites`], what the 91160 and pati_service
//! benches (`sites`, `sites_run`) share; and the run-time helpers of the benches that
//! start `haoyuan-host` processes ([`host_binary`], [`Scratch`], [`proc_stat`], the
//! recording [`proxy`]).

pub mod fontsets;
pub mod proxy;
pub mod rail12306;
pub mod sites;
pub mod yygh114;

use haoyuan_core::protocol::{request_json, Request};
use serde_json::{json, Value};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A host that says nothing for this long is killed and the figure reported as failed.
pub const STALL: Duration = Duration::from_secs(10);
/// The largest reply the bench reads (the host never writes more than 1 MiB).
pub const MAX_REPLY: usize = 1024 * 1024;

/// A running host, spoken to over its stdin/stdout, with a watchdog that kills it if
/// it stalls (so that a hung host cannot hang the bench).
pub struct Host {
    child: Arc<Mutex<Child>>,
    pub pid: u32,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    progress: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
    next_id: u64,
}

impl Host {
    pub fn spawn(bin: &Path, home: &Path) -> Result<Host, String> {
        let mut child = Command::new(bin)
            .env("HAOYUAN_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the host's stdin/stdout were not captured".into());
        };
        let child = Arc::new(Mutex::new(child));
        let progress = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        {
            let (child, progress, done, stalled) = (
                child.clone(),
                progress.clone(),
                done.clone(),
                stalled.clone(),
            );
            thread::spawn(move || {
                let mut seen = u64::MAX;
                let mut since = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(100));
                    let now = progress.load(Ordering::Relaxed);
                    if now != seen {
                        seen = now;
                        since = Instant::now();
                    } else if since.elapsed() > STALL {
                        stalled.store(true, Ordering::Relaxed);
                        if let Ok(mut c) = child.lock() {
                            let _ = c.kill();
                        }
                        return;
                    }
                }
            });
        }
        Ok(Host {
            child,
            pid,
            stdin: Some(stdin),
            stdout,
            progress,
            done,
            stalled,
            next_id: 0,
        })
    }

    /// Writes one request frame.
    pub fn send(&mut self, request: &Request) -> Result<u64, String> {
        self.next_id += 1;
        let id = self.next_id;
        let text = request_json(&json!(id), request);
        let stdin = self.stdin.as_mut().ok_or("the host's stdin is closed")?;
        let len = u32::try_from(text.len()).map_err(|_| "request too large".to_string())?;
        let mut frame = Vec::with_capacity(4 + text.len());
        frame.extend_from_slice(&len.to_ne_bytes());
        frame.extend_from_slice(text.as_bytes());
        stdin
            .write_all(&frame)
            .and_then(|()| stdin.flush())
            .map_err(|e| self.io_error("writing to the host", e))?;
        Ok(id)
    }

    /// Reads frames until the reply to `id` (events the host pushes are skipped);
    /// returns its raw text, unparsed, so that timing covers only the exchange.
    pub fn reply_to(&mut self, id: u64) -> Result<Vec<u8>, String> {
        loop {
            let mut len = [0u8; 4];
            self.stdout
                .read_exact(&mut len)
                .map_err(|e| self.io_error("reading the reply length", e))?;
            let len = u32::from_ne_bytes(len) as usize;
            if len > MAX_REPLY {
                return Err(format!(
                    "the host announced a {len}-byte reply, over the 1 MiB limit"
                ));
            }
            let mut body = vec![0u8; len];
            self.stdout
                .read_exact(&mut body)
                .map_err(|e| self.io_error("reading the reply", e))?;
            self.progress.fetch_add(1, Ordering::Relaxed);
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("the host sent a frame that is not JSON: {e}"))?;
            if v.get("event").is_some() && v.get("id").is_none() {
                continue;
            }
            if v.get("id") != Some(&json!(id)) {
                return Err(format!(
                    "expected the reply to request {id}, got {}",
                    excerpt(&body)
                ));
            }
            return Ok(body);
        }
    }

    /// Sends `request` and waits for its reply.
    pub fn call(&mut self, request: &Request) -> Result<Vec<u8>, String> {
        let id = self.send(request)?;
        self.reply_to(id)
    }

    fn io_error(&self, what: &str, e: io::Error) -> String {
        if self.stalled.load(Ordering::Relaxed) {
            format!(
                "the host stopped answering for {} s and was killed",
                STALL.as_secs()
            )
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            format!("{what}: the host closed its output (did it exit?)")
        } else {
            format!("{what}: {e}")
        }
    }

    /// The host's resident memory in KiB (Linux: from /proc).
    pub fn rss_kib(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.pid);
        let status =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmRSS line in {path}"))
    }

    /// Closes stdin (EOF ends the host) and waits for it to exit.
    pub fn finish(mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let exited = match self.child.lock() {
                Ok(mut c) => !matches!(c.try_wait(), Ok(None)),
                Err(_) => true,
            };
            if exited {
                break;
            }
            if Instant::now() > deadline {
                if let Ok(mut c) = self.child.lock() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.done.store(true, Ordering::Relaxed);
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Ok(mut c) = self.child.lock() {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// The start of a reply, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(160).collect();
    if text.chars().count() > 160 {
        s.push('…');
    }
    s
}

/// Checks a reply is `ok: true` and returns its `data`.
pub fn ok_data(body: &[u8], what: &str) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("{what}: the reply is not JSON: {e}"))?;
    match v.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        _ => Err(format!("{what} failed: {}", excerpt(body))),
    }
}

/// Checks a `hello` reply carries this bench's protocol major.
/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    pct(sorted, p)
}

/// [`percentile`] of any sorted samples (the default value when there are none).
pub fn pct<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `machine: N cores, load average A B C`, the first line of every bench's report.
pub fn machine_line() -> String {
    format!(
        "machine: {} cores, load average {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    )
}

/// The wall clock in Unix ms.
pub fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `PASS` or `MISS`.
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// `$HAOYUAN_HOST_BIN`, else `haoyuan-host` in the folder of this executable.
pub fn host_binary() -> Result<PathBuf, String> {
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
    let host = exe
        .parent()
        .ok_or("this program's path has no folder")?
        .join(format!("haoyuan-host{}", std::env::consts::EXE_SUFFIX));
    if host.is_file() {
        Ok(host)
    } else {
        Err(format!(
            "no host at {}; build it with `cargo build --release -p haoyuan-host` or set HAOYUAN_HOST_BIN",
            host.display()
        ))
    }
}

/// A folder for one run's data (under the system's temporary folder), removed at the
/// end.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    /// `$TMP/PREFIX-PID-NANOS`.
    pub fn new(prefix: &str) -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Scratch {
            dir: std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id())),
        }
    }

    /// The sub-folder `name`, created.
    pub fn home(&self, name: &str) -> Result<PathBuf, String> {
        let d = self.dir.join(name);
        std::fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        Ok(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// From `/proc/PID/stat` (Linux): utime + stime (clock ticks), and the thread count.
pub fn proc_stat(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15, num_threads 20.
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((ticks, f.get(17)?.parse().ok()?))
}

/// A `kB` line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when it cannot be asked).
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}
