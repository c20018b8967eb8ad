//! `cargo run --release -p haoyuan-bench --bin rail12306`: the 12306 parsers' figures.
//!
//! 1. **Query reply parse** (target from issue 6: ≤ 1 ms native, ≤ 3 ms in wasm for a
//!    300-row reply): `haoyuan_core::platforms::rail12306::query::parse_query_reply` on the
//!    generated 300-row reply of `haoyuan_bench::rail12306::query_reply` (rows of 56, 50
//!    and 37 fields; 166 KB), each parse timed on its own (the JSON, every row, the
//!    station map, and dropping the result), after a warm-up. The p99 is held against the
//!    target. For information: the share of the plain JSON parse (`serde_json::Value`).
//! 2. **station_name.js** (no target): parsing the sandbox's generated file of 3000
//!    stations (as `wasm-core/tests/rail12306.rs` gets it), and searches in it (a city
//!    name, an abbreviation, a pinyin prefix, a telecode, a station's full name, a miss).
//!
//! `--write-fixture PATH` writes the 300-row reply to PATH (for
//! `tests/e2e/bench-rail12306.mjs`, the same figure in wasm) and exits.
//!
//! It prints; it never fails a build.

use haoyuan_bench::percentile as pct;
use haoyuan_bench::rail12306::query_reply;
use haoyuan_core::platforms::rail12306::query::{parse_query_reply, QueryReply};
use haoyuan_core::platforms::rail12306::stations::parse_station_names;
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROWS: usize = 300;
const WARM_UP: usize = 200;
const ITERATIONS: usize = 2_000;
const TARGET_MS: f64 = 1.0;
const STATIONS: usize = 3_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, path] if flag == "--write-fixture" => {
            let body = query_reply(ROWS);
            match std::fs::write(path, &body) {
                Ok(()) => println!(
                    "wrote the {ROWS}-row query reply ({} bytes) to {path}",
                    body.len()
                ),
                Err(e) => {
                    eprintln!("cannot write {path}: {e}");
                    std::process::exit(1);
                }
            }
            return;
        }
        _ => {
            eprintln!("usage: rail12306 [--write-fixture PATH]");
            std::process::exit(2);
        }
    }
    println!("haoyuan 12306 parser figures (ratio = figure / target)");
    println!("{}", haoyuan_bench::machine_line());
    println!("\n-- left-ticket query reply, {ROWS} rows (native) --");
    query_section();
    println!("\n-- station_name.js, {STATIONS} stations (native) --");
    stations_section();
}

fn query_section() {
    let body = query_reply(ROWS);
    match parse_query_reply(&body) {
        Ok(QueryReply::Trains { rows, bad_rows, .. }) if rows.len() == ROWS => {
            println!(
                "reply: {} bytes, {} rows read, {} bad rows",
                body.len(),
                rows.len(),
                bad_rows.len()
            );
        }
        other => {
            println!("the generated reply does not read back as {ROWS} trains: {other:?}");
            return;
        }
    }
    let once = || {
        let t = Instant::now();
        let r = parse_query_reply(black_box(&body));
        black_box(&r);
        drop(r);
        t.elapsed()
    };
    for _ in 0..WARM_UP {
        once();
    }
    let mut samples: Vec<Duration> = (0..ITERATIONS).map(|_| once()).collect();
    samples.sort();
    let (p50, p99) = (pct(&samples, 50.0), pct(&samples, 99.0));
    let ratio = ms_f(p99) / TARGET_MS;
    println!(
        "parse_query_reply  p50 {}  p99 {}  mean {}  min {}  max {}  (n={ITERATIONS}, after {WARM_UP} warm-up)  target p99 ≤ {TARGET_MS:.0} ms  ratio {ratio:.2}  {}",
        ms(p50),
        ms(p99),
        ms(mean(&samples)),
        ms(samples[0]),
        ms(samples.last().copied().unwrap_or_default()),
        verdict(ratio <= 1.0)
    );

    let mut json: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let t = Instant::now();
            let v = serde_json::from_slice::<serde_json::Value>(black_box(&body));
            black_box(&v);
            drop(v);
            t.elapsed()
        })
        .collect();
    json.sort();
    println!(
        "    of which the plain JSON parse (serde_json::Value): p50 {} ({:.0} % of the parse); {:.0} MB/s overall",
        ms(pct(&json, 50.0)),
        100.0 * ms_f(pct(&json, 50.0)) / ms_f(p50),
        body.len() as f64 / p50.as_secs_f64() / 1e6
    );
}

fn stations_section() {
    let rng = haoyuan_sandbox::gen::Rng::new(11);
    let generated =
        haoyuan_sandbox::platforms::rail12306::stations::Stations::generate(&rng, STATIONS);
    let Ok(js) = std::str::from_utf8(&generated.js) else {
        return println!("the sandbox's station_name.js is not UTF-8");
    };
    let st = match parse_station_names(js) {
        Ok(st) => st,
        Err(e) => return println!("the sandbox's station_name.js does not parse: {e}"),
    };
    println!(
        "file: {} bytes, {} stations read, {} skipped",
        js.len(),
        st.stations.len(),
        st.skipped
    );
    let rounds = 300;
    for _ in 0..20 {
        black_box(parse_station_names(black_box(js)).ok());
    }
    let mut parse: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let r = parse_station_names(black_box(js));
            black_box(&r);
            drop(r);
            t.elapsed()
        })
        .collect();
    parse.sort();
    println!(
        "parse_station_names  p50 {}  p99 {}  mean {}  (n={rounds})  no target",
        ms(pct(&parse, 50.0)),
        ms(pct(&parse, 99.0)),
        ms(mean(&parse))
    );

    let middle = &st.stations[st.stations.len() / 2];
    let queries: [(&str, String); 6] = [
        ("city name", "北京".to_string()),
        ("abbreviation", "bj".to_string()),
        ("pinyin prefix", "shanghai".to_string()),
        ("telecode", "VNP".to_string()),
        ("a station's name", middle.name.clone()),
        ("no match", "zzzzq".to_string()),
    ];
    let rounds = 2_000;
    let mut all = Vec::new();
    let mut parts = Vec::new();
    for (what, q) in &queries {
        let mut hits = 0;
        let mut times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                let found = st.search(black_box(q), 10);
                hits = found.len();
                black_box(&found);
                t.elapsed()
            })
            .collect();
        times.sort();
        parts.push(format!(
            "{what} {q:?} {} ({hits} hits)",
            us(pct(&times, 50.0))
        ));
        all.extend(times);
    }
    all.sort();
    println!(
        "search (limit 10)  p50 {}  p99 {}  over {} searches of {} queries  no target",
        us(pct(&all, 50.0)),
        us(pct(&all, 99.0)),
        all.len(),
        queries.len()
    );
    println!("    p50 per query: {}", parts.join("; "));
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / samples.len() as u32
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", ms_f(d))
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
