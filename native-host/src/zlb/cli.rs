//! `haoyuan-host zlb …`: the 浙里办 sync from a terminal — settings (secrets read from
//! stdin, never the command line), test, sync now, the front desk's list, arrivals,
//! rejects and CSV export. The same [`Service`] calls as the protocol's `zlb_*`.
//!
//! Results go to stdout, problems to stderr. Exit status: 0 done, 1 failed, 2 wrong
//! usage or invalid settings.

use super::{ConfigInput, ListFilter, Service};
use crate::{logging, paths};
use haoyuan_core::date::Date;
use haoyuan_core::platforms::zheliban::ReservationView;
use haoyuan_core::protocol::{ErrorBody, ErrorCode, Secret, ZlbNotify};
use std::io::BufRead;

/// The usage of `zlb`.
pub const USAGE: &str = "\
Usage (浙里办 health-check reservation sync, for a hospital's front desk):
  haoyuan-host zlb config --base-url URL [--interval SECS] [--notify each|digest|off]
                                      reads 3 lines from stdin: apikey, secret, AES key
                                      (a blank line keeps the stored one)
  haoyuan-host zlb show               the settings (no secrets) and how the last sync went
  haoyuan-host zlb test               test the connection (asks for a new token)
  haoyuan-host zlb sync               sync now: arrivals, then pull/store/acknowledge
  haoyuan-host zlb list [--today | --upcoming | --date D | --from D --to D]
                        [--search TEXT] [--cancelled] [--json]
  haoyuan-host zlb arrive SERIAL [--at HH:MM | --at 'YYYY-MM-DD HH:MM']
  haoyuan-host zlb history SERIAL     each version delivered, and the arrival
  haoyuan-host zlb rejects            deliveries that failed the checks, with the reasons
  haoyuan-host zlb rejects release SERIAL   have 浙里办 mark one received anyway
  haoyuan-host zlb export [list filters] [-o FILE]   CSV (IDs and phones masked)";

fn fail(e: &ErrorBody) -> i32 {
    eprintln!("haoyuan-host zlb: {}", e.message);
    for f in &e.fields {
        eprintln!("  {}: {}", f.field, f.message);
    }
    match e.code {
        ErrorCode::InvalidSettings | ErrorCode::BadParams => 2,
        _ => 1,
    }
}

fn usage(msg: &str) -> i32 {
    eprintln!("haoyuan-host zlb: {msg}\n\n{USAGE}");
    2
}

/// `haoyuan-host zlb …`; `args` starts after `zlb`.
pub fn main(args: &[String]) -> i32 {
    let dir = match paths::data_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("haoyuan-host zlb: {e}");
            return 1;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("haoyuan-host zlb: cannot create {}: {e}", dir.display());
        return 1;
    }
    logging::init(&dir);
    let svc = Service::new(dir);
    let Some(sub) = args.first() else {
        return usage("which command?");
    };
    let rest = &args[1..];
    match sub.as_str() {
        "config" => config(&svc, rest),
        "show" => match svc.config_view() {
            Ok(v) => {
                println!("address    {}", v.base_url);
                println!("apikey     {}", v.apikey_masked);
                println!(
                    "secret     {}",
                    if v.has_secret { "stored" } else { "missing" }
                );
                println!(
                    "AES key    {}",
                    if v.has_aes_key { "stored" } else { "missing" }
                );
                println!("interval   {} s", v.interval_s);
                println!("notify     {}", v.notify.as_str());
                println!(
                    "last sync  {}",
                    v.last_sync_at
                        .map_or("never".into(), crate::cli::china_time)
                );
                if let Some(e) = &v.last_error {
                    println!("last error {e}");
                }
                println!(
                    "stored     {} reservations, {} arrivals to tell, {} rejects",
                    v.reservations, v.pending_arrivals, v.rejects
                );
                0
            }
            Err(e) => fail(&e),
        },
        "test" => match svc.test() {
            Ok(m) => {
                println!("{m}");
                0
            }
            Err(e) => fail(&e),
        },
        "sync" => match svc.sync_now() {
            Ok(s) => {
                println!(
                    "synced: {} (batches {}, delivered {}, stored {}, repeats {}, acked {} batch(es) + {} record(s))",
                    s.message,
                    s.summary.batches,
                    s.summary.delivered,
                    s.summary.stored,
                    s.repeats,
                    s.summary.acked_batches,
                    s.summary.acked_serials
                );
                0
            }
            Err(e) => fail(&e),
        },
        "list" | "export" => {
            let (f, json, out) = match filters(rest) {
                Ok(x) => x,
                Err(m) => return usage(&m),
            };
            if sub == "export" {
                return match svc.export(&f) {
                    Ok(x) => match out {
                        Some(path) => match std::fs::write(&path, x.csv) {
                            Ok(()) => {
                                eprintln!("{} rows written to {path}", x.rows);
                                0
                            }
                            Err(e) => {
                                eprintln!("haoyuan-host zlb: cannot write {path}: {e}");
                                1
                            }
                        },
                        None => {
                            print!("{}", x.csv);
                            0
                        }
                    },
                    Err(e) => fail(&e),
                };
            }
            match svc.list(&f, Some(super::MAX_LIST)) {
                Ok(l) if json => {
                    println!("{}", serde_json::to_string_pretty(&l).unwrap_or_default());
                    0
                }
                Ok(l) => {
                    for r in &l.reservations {
                        println!("{}", line(r));
                    }
                    eprintln!("{} reservation(s)", l.total);
                    0
                }
                Err(e) => fail(&e),
            }
        }
        "arrive" => {
            let Some(serial) = rest.first().filter(|s| !s.starts_with("--")) else {
                return usage("arrive needs a SERIAL");
            };
            let mut at = None;
            let mut it = rest[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--at" => match it.next() {
                        Some(t) => at = Some(t.clone()),
                        None => return usage("--at needs a time"),
                    },
                    other => return usage(&format!("unknown option {other}")),
                }
            }
            match svc.arrive(serial, at.as_deref()) {
                Ok(a) => {
                    println!("{}", a.message);
                    0
                }
                Err(e) => fail(&e),
            }
        }
        "history" => {
            let Some(serial) = rest.first() else {
                return usage("history needs a SERIAL");
            };
            match svc.history(serial) {
                Ok(lines) if lines.is_empty() => {
                    eprintln!("haoyuan-host zlb: no history for {serial}");
                    1
                }
                Ok(lines) => {
                    for (at, kind, line) in lines {
                        println!("{}  {kind}  {line}", crate::cli::china_time(at));
                    }
                    0
                }
                Err(e) => fail(&e),
            }
        }
        "rejects" if rest.first().map(String::as_str) == Some("release") => {
            let Some(serial) = rest.get(1) else {
                return usage("rejects release needs a SERIAL");
            };
            match svc.release_reject(serial) {
                Ok(v) => {
                    println!("{}", v["message"].as_str().unwrap_or_default());
                    0
                }
                Err(e) => fail(&e),
            }
        }
        "rejects" => match svc.rejects() {
            Ok(r) => {
                for j in &r.rejects {
                    println!(
                        "{}  ×{}  {}{}",
                        j.serial.as_deref().unwrap_or("(no serialNumber)"),
                        j.times,
                        j.reason,
                        if j.released_at.is_some() {
                            "  (released)"
                        } else {
                            ""
                        }
                    );
                }
                eprintln!("{} reject(s)", r.rejects.len());
                0
            }
            Err(e) => fail(&e),
        },
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            0
        }
        other => usage(&format!("unknown command “{other}”")),
    }
}

/// One row of `zlb list`.
fn line(r: &ReservationView) -> String {
    let arrived = match (&r.arrived_at, r.arrival) {
        (Some(t), Some(s)) => format!("  arrived {t} ({})", s.as_str()),
        _ => String::new(),
    };
    format!(
        "{}  {}  {}  {}  {}  {}  {}{arrived}",
        r.check_date, r.serial, r.name, r.id_masked, r.status_name, r.package, r.fee
    )
}

fn date(v: Option<&String>, flag: &str) -> Result<Date, String> {
    let v = v.ok_or(format!("{flag} needs a date"))?;
    Date::parse(v).map_err(|_| format!("{flag}: “{v}” is not a date (YYYY-MM-DD)"))
}

/// The list filters, `--json` and `-o FILE`.
fn filters(args: &[String]) -> Result<(ListFilter, bool, Option<String>), String> {
    let mut f = ListFilter::default();
    let mut json = false;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--today" => {
                f.from = Some(super::today());
                f.to = Some(super::today());
            }
            "--upcoming" => f.from = Some(super::today()),
            "--date" => {
                let d = date(it.next(), "--date")?;
                f.from = Some(d);
                f.to = Some(d);
            }
            "--from" => f.from = Some(date(it.next(), "--from")?),
            "--to" => f.to = Some(date(it.next(), "--to")?),
            "--all" => {}
            "--search" => f.query = it.next().cloned().ok_or("--search needs text")?,
            "--cancelled" => f.include_cancelled = true,
            "--json" => json = true,
            "-o" => out = Some(it.next().cloned().ok_or("-o needs a file")?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((f, json, out))
}

/// `zlb config`: flags, then apikey, secret and AES key from stdin.
fn config(svc: &Service, args: &[String]) -> i32 {
    let mut input = ConfigInput::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--base-url" | "--base" => match it.next() {
                Some(u) => input.base_url = u.clone(),
                None => return usage("--base-url needs a URL"),
            },
            "--interval" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => input.interval_s = Some(n),
                None => return usage("--interval needs a number of seconds"),
            },
            "--notify" => match it.next().and_then(|s| ZlbNotify::parse(s)) {
                Some(n) => input.notify = Some(n),
                None => return usage("--notify is each, digest or off"),
            },
            other => return usage(&format!("unknown option {other}")),
        }
    }
    if input.base_url.is_empty() {
        match svc.config_view() {
            Ok(v) => input.base_url = v.base_url,
            Err(_) => return usage("--base-url is required the first time"),
        }
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut next = || {
        let l = lines.next().and_then(Result::ok).unwrap_or_default();
        Secret(serde_json::Value::String(l.trim().to_string()))
    };
    input.apikey = next();
    input.secret = next();
    input.aes_key = next();
    match svc.config_put(&input) {
        Ok(v) => {
            println!(
                "saved: {} (apikey {}, interval {} s, notify {}); try `haoyuan-host zlb test`",
                v.base_url,
                v.apikey_masked,
                v.interval_s,
                v.notify.as_str()
            );
            0
        }
        Err(e) => fail(&e),
    }
}
