//! `haoyuan-sandbox --port P --scenario FILE --seed S`: serves the five simulated
//! platforms and the admin API on 127.0.0.1 and prints their base URLs as one JSON line.

use std::process::ExitCode;

const USAGE: &str = "usage: haoyuan-sandbox [--port P] [--scenario FILE] [--seed S]
  --port P         admin API on P, platforms on P+1..P+5 (default 0: any free ports)
  --scenario FILE  a scenario (YAML or JSON) to load at start
  --seed S         seed of the generated world (default 1)";

fn parse_args(args: &[String]) -> Result<haoyuan_sandbox::Options, String> {
    let mut opts = haoyuan_sandbox::Options {
        seed: 1,
        ..Default::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--port" => {
                opts.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number".to_string())?
            }
            "--seed" => {
                opts.seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes a number".to_string())?
            }
            "--scenario" => {
                let path = value("--scenario")?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                opts.scenario = Some(
                    haoyuan_sandbox::parse_scenario(&text).map_err(|e| format!("{path}: {e}"))?,
                );
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument “{other}”")),
        }
    }
    Ok(opts)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("haoyuan-sandbox: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let running = match haoyuan_sandbox::start(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("haoyuan-sandbox: {e}");
            return ExitCode::from(1);
        }
    };
    println!("{}", running.urls_json());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
