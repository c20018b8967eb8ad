//! `cargo run --release -p haoyuan-bench --bin sandbox`: the sandbox's figures — start-up
//! time, and requests per second it sustains on this machine for its two hot endpoints,
//! 114yygh `product/detail` (logged in, as a watcher polls it) and 12306 `queryG` — against
//! the 5,000 req/s it needs so as never to be the bottleneck of other benchmarks.
//!
//! The load comes from plain keep-alive HTTP/1.1 connections on loopback, one thread
//! each, sharing the machine's cores with the sandbox (so the figure is a lower bound).
//! It prints; it never fails a build.

use haoyuan_core::crypto::yygh114_encrypt;
use haoyuan_core::date::Date;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TARGET_RPS: f64 = 5_000.0;
const CONNECTIONS: usize = 16;
const SECONDS: u64 = 3;

fn main() {
    println!(
        "haoyuan-sandbox figures (ratio = figure / target; client and server share the machine)"
    );
    println!("machine: {} cores, load average {}", cores(), loadavg());
    let bin = match sandbox_binary() {
        Ok(b) => b,
        Err(e) => return println!("skipped: {e}"),
    };
    match startup(&bin) {
        Ok((p50, max)) => println!("start-up to base URLs line    p50 {p50:.1} ms  max {max:.1} ms  (n=10, all five platforms + admin)"),
        Err(e) => println!("start-up: failed: {e}"),
    }
    let scenario = std::env::temp_dir().join(format!("haoyuan-bench-{}.json", std::process::id()));
    let scen = json!({
        "114yygh": {"rate_limit": {"window_ms": 1000, "burst": 0}},
        "12306": {"rate_limit": false, "stock": "plenty", "query_url": {"initial": "queryG"}}
    });
    if let Err(e) = std::fs::write(&scenario, scen.to_string()) {
        return println!("cannot write the scenario: {e}");
    }
    let sb = match Sandbox::start(&bin, Some(&scenario)) {
        Ok(s) => s,
        Err(e) => return println!("the sandbox did not start: {e}"),
    };
    report(
        "114yygh product/detail",
        yygh_detail(&sb).and_then(|(addr, req)| hammer(&addr, &req)),
    );
    report(
        "12306 queryG",
        rail_query(&sb).and_then(|(addr, req)| hammer(&addr, &req)),
    );
    let _ = std::fs::remove_file(&scenario);
}

fn report(name: &str, r: Result<(f64, u64), String>) {
    match r {
        Ok((rps, errors)) => {
            let ratio = rps / TARGET_RPS;
            let verdict = if ratio >= 1.0 { "PASS" } else { "MISS" };
            println!("{name:<30} {rps:>8.0} req/s  ({CONNECTIONS} connections, {SECONDS} s, {errors} errors)  target ≥ {TARGET_RPS:.0}  ratio {ratio:.2}  {verdict}");
        }
        Err(e) => println!("{name:<30} failed: {e}"),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// `$HAOYUAN_SANDBOX_BIN`, else `haoyuan-sandbox` beside this executable.
fn sandbox_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("HAOYUAN_SANDBOX_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let p = exe
        .parent()
        .map(|d| d.join("haoyuan-sandbox"))
        .ok_or("no folder")?;
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "no sandbox at {}; build it with `cargo build --release -p haoyuan-sandbox`",
            p.display()
        ))
    }
}

struct Sandbox {
    child: Child,
    urls: BTreeMap<String, String>,
}

impl Sandbox {
    fn start(bin: &PathBuf, scenario: Option<&PathBuf>) -> Result<Sandbox, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--seed", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(s) = scenario {
            cmd.arg("--scenario").arg(s);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let urls =
            serde_json::from_str(&line).map_err(|e| format!("bad start-up line {line:?}: {e}"))?;
        Ok(Sandbox { child, urls })
    }

    /// `host:port` of a platform.
    fn addr(&self, id: &str) -> Result<String, String> {
        self.urls
            .get(id)
            .map(|u| u.trim_start_matches("http://").to_string())
            .ok_or(format!("no url for {id}"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn startup(bin: &PathBuf) -> Result<(f64, f64), String> {
    let mut ms = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let sb = Sandbox::start(bin, None)?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(sb);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    Ok((ms[ms.len() / 2], ms[ms.len() - 1]))
}

/// A response, fully read.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "status {} and not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            )
        })
    }
}

/// One keep-alive connection with a cookie jar.
struct Conn {
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    cookies: BTreeMap<String, String>,
}

impl Conn {
    fn open(host: &str) -> io::Result<Conn> {
        let s = TcpStream::connect(host)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            host: host.to_string(),
            reader: BufReader::new(s.try_clone()?),
            writer: s,
            cookies: BTreeMap::new(),
        })
    }

    fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<u8> {
        let mut r = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            r.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.cookies.is_empty() {
            let c: Vec<_> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            r.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        r.push_str("\r\n");
        let mut b = r.into_bytes();
        b.extend_from_slice(body);
        b
    }

    fn send(&mut self, raw: &[u8]) -> io::Result<Resp> {
        self.writer.write_all(raw)?;
        let resp = read_response(&mut self.reader)?;
        for (k, v) in &resp.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                if let Some((name, rest)) = v.split_once('=') {
                    let value = rest.split(';').next().unwrap_or("");
                    self.cookies
                        .insert(name.trim().to_string(), value.to_string());
                }
            }
        }
        Ok(resp)
    }

    fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Resp, String> {
        let raw = self.request_bytes(method, path, headers, body);
        self.send(&raw).map_err(|e| format!("{method} {path}: {e}"))
    }
}

fn read_response(r: &mut BufReader<TcpStream>) -> io::Result<Resp> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(bad("connection closed"));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("bad chunk"))?;
            let start = body.len();
            body.resize(start + n + 2, 0);
            r.read_exact(&mut body[start..])?;
            body.truncate(start + n);
            if n == 0 {
                break;
            }
        }
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn admin(sb: &Sandbox, path: &str) -> Result<Value, String> {
    Conn::open(&sb.addr("admin")?)
        .map_err(|e| e.to_string())?
        .call("GET", path, &[], b"")?
        .json()
}

fn today(sb: &Sandbox) -> Result<Date, String> {
    let now = admin(sb, "/clock")?["now_ms"].as_i64().ok_or("no clock")?;
    Ok(Date::from_unix_ms(now, 480))
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

const PC: (&str, &str) = ("Request-Source", "PC");
const JSON: (&str, &str) = ("Content-Type", "application/json;charset=UTF-8");

/// Logs in on 114yygh the way a person does and finds a clinic-day with products;
/// returns the address and the raw `product/detail` request (with the login cookies).
fn yygh_detail(sb: &Sandbox) -> Result<(String, Vec<u8>), String> {
    let addr = sb.addr("114yygh")?;
    let mut c = Conn::open(&addr).map_err(|e| e.to_string())?;
    c.call("GET", "/web/img/getImgCode", &[], b"")?;
    let session = c
        .cookies
        .get("imed_session")
        .cloned()
        .ok_or("no imed_session cookie")?;
    let answer = admin(sb, "/captcha?platform=114yygh")?[&session]
        .as_str()
        .ok_or("no captcha answer")?
        .to_string();
    let mobile = "17796761085";
    let v = c
        .call(
            "GET",
            &format!(
                "/web/common/verify-code/get?mobile={}&smsKey=LOGIN&code={answer}",
                enc(&yygh114_encrypt(mobile))
            ),
            &[PC],
            b"",
        )?
        .json()?;
    if v["resCode"] != 0 {
        return Err(format!("SMS request refused: {v}"));
    }
    let inbox = admin(sb, &format!("/inbox?phone={mobile}"))?;
    let code = inbox
        .as_array()
        .and_then(|a| a.last())
        .and_then(|m| m["code"].as_str())
        .ok_or("no SMS")?
        .to_string();
    let body =
        json!({"mobile": yygh114_encrypt(mobile), "code": yygh114_encrypt(&code)}).to_string();
    let v = c
        .call("POST", "/web/login", &[PC, JSON], body.as_bytes())?
        .json()?;
    if v["resCode"] != 0 {
        return Err(format!("login refused: {v}"));
    }
    let hospitals = c
        .call("GET", "/web/hospital/list?pageNo=1&pageSize=20", &[PC], b"")?
        .json()?;
    for h in hospitals["data"]["list"]
        .as_array()
        .ok_or("no hospital list")?
    {
        let hos = h["code"].as_str().unwrap_or_default().to_string();
        let depts = c
            .call(
                "GET",
                &format!("/web/department/hos/list?hosCode={hos}"),
                &[PC],
                b"",
            )?
            .json()?;
        for d in depts["data"]["list"].as_array().into_iter().flatten() {
            for sub in d["subList"].as_array().into_iter().flatten() {
                let (first, second) = (
                    sub["dept1Code"].as_str().unwrap_or_default(),
                    sub["code"].as_str().unwrap_or_default(),
                );
                let q = json!({"firstDeptCode": first, "secondDeptCode": second, "hosCode": hos, "week": 1}).to_string();
                let cal = c
                    .call("POST", "/web/product/list", &[PC, JSON], q.as_bytes())?
                    .json()?;
                let day = cal["data"]["calendars"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["status"] == "AVAILABLE");
                if let Some(day) = day {
                    let target = day["dutyDate"].as_str().unwrap_or_default();
                    let q = json!({"firstDeptCode": first, "secondDeptCode": second, "hosCode": hos, "target": target}).to_string();
                    let req =
                        c.request_bytes("POST", "/web/product/detail", &[PC, JSON], q.as_bytes());
                    let first_reply = c.send(&req).map_err(|e| e.to_string())?.json()?;
                    if first_reply["resCode"] == 0
                        && first_reply["data"]
                            .as_array()
                            .is_some_and(|a| !a.is_empty())
                    {
                        return Ok((addr, req));
                    }
                }
            }
        }
    }
    Err("no clinic with products found in the first hospitals".into())
}

/// The raw `queryG` request for tomorrow between Beijing and Shanghai.
fn rail_query(sb: &Sandbox) -> Result<(String, Vec<u8>), String> {
    let addr = sb.addr("12306")?;
    let mut c = Conn::open(&addr).map_err(|e| e.to_string())?;
    let date = Date::from_days(today(sb)?.to_days() + 1);
    let path = format!("/otn/leftTicket/queryG?leftTicketDTO.train_date={date}&leftTicketDTO.from_station=BJP&leftTicketDTO.to_station=SHH&purpose_codes=ADULT");
    let req = c.request_bytes("GET", &path, &[], b"");
    let v = c.send(&req).map_err(|e| e.to_string())?.json()?;
    let rows = v["data"]["result"].as_array().map(Vec::len).unwrap_or(0);
    if rows == 0 {
        return Err(format!(
            "queryG returned no trains: {}",
            v.to_string().chars().take(200).collect::<String>()
        ));
    }
    Ok((addr, req))
}

/// Sends `req` over [`CONNECTIONS`] connections for [`SECONDS`]; returns (req/s, errors).
fn hammer(addr: &str, req: &[u8]) -> Result<(f64, u64), String> {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (ok, errors, stop, addr, req) = (
                ok.clone(),
                errors.clone(),
                stop.clone(),
                addr.to_string(),
                req.to_vec(),
            );
            std::thread::spawn(move || {
                let Ok(mut c) = Conn::open(&addr) else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                while !stop.load(Ordering::Relaxed) {
                    match c.send(&req) {
                        Ok(r) if r.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(SECONDS));
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        let _ = th.join();
    }
    let secs = t.elapsed().as_secs_f64();
    Ok((
        ok.load(Ordering::Relaxed) as f64 / secs,
        errors.load(Ordering::Relaxed),
    ))
}
