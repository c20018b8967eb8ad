//! `haoyuan-host run` (every host-run watch — 12306, 91160, pati — without a browser, for
//! an always-on machine)
//! and `haoyuan-host login 12306 ACCOUNT` (a sign-in from the terminal: the captcha is
//! written to a PNG file, the tile numbers are read from standard input).

use super::Service;
use crate::runner;
use crate::{logging, paths};
use haoyuan_core::platforms::rail12306::captcha::tiles_from_text;
use haoyuan_core::protocol::Event;
use std::io::BufRead;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn service(args: &[String]) -> Result<Service, String> {
    let dir = paths::data_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    logging::init(&dir);
    let mut site = super::site_from_env();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--base" {
            match it.next() {
                Some(b) => site = haoyuan_core::platforms::rail12306::site::Site::new(b),
                None => return Err("--base needs a URL".into()),
            }
        }
    }
    Ok(Service::with_site(dir, site, super::tuning_from_env()))
}

fn line(stdin: &mut dyn BufRead) -> Option<String> {
    let mut s = String::new();
    match stdin.read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(s.trim_end_matches(['\r', '\n']).to_string()),
    }
}

/// A history event as a line on standard output.
fn print_event(e: &Event) {
    if let Event::WatchEvent(h) = e {
        println!(
            "{}  {}  {}  {}",
            crate::cli::china_time(h.at),
            h.watch_id,
            h.kind,
            h.message
        );
    }
}

/// `haoyuan-host run [--base URL]`: runs every 12306 watch until interrupted. Events
/// are printed a line each on standard output; order captchas are asked on the terminal.
pub fn cli_run(args: &[String]) -> i32 {
    let mut svc = match service(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("haoyuan-host run: {e}");
            return 1;
        }
    };
    svc.terminal = true;
    let svc = Arc::new(svc);
    svc.set_sink(Box::new(print_event));
    let dir = svc.data_dir().to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let (wake_tx, wake_rx) = std::sync::mpsc::channel();
    {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut d = crate::channels::Deliverer::default();
            crate::outbox::run_sender(dir, stop, wake_rx, &mut d)
        });
    }
    // Answers typed at the terminal go to the oldest waiting captcha.
    {
        let svc = svc.clone();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            while let Some(text) = line(&mut lock) {
                let Some(p) = svc.oldest_prompt() else {
                    eprintln!("no captcha is waiting");
                    continue;
                };
                match tiles_from_text(&text) {
                    Ok(a) => match svc.answer(&p.id, &a) {
                        Ok(r) => eprintln!("{}", r.message),
                        Err(e) => eprintln!("{}", e.message),
                    },
                    Err(e) => eprintln!("{e}; type the tile numbers again"),
                }
            }
        });
    }
    eprintln!(
        "haoyuan-host run: running the 12306 (at {}), 91160 and pati watches and the 浙里办 sync when set up (data in {}); Ctrl-C stops",
        svc.site().base(),
        dir.display()
    );
    // The 浙里办 sync loop (idle until its settings exist).
    let zlb = Arc::new(crate::zlb::Service::new(dir.clone()));
    zlb.set_sink(Box::new(print_event));
    zlb.set_wake(wake_tx.clone());
    crate::zlb::start(zlb, stop.clone());
    let mut sites = crate::sites::Service::new(dir.clone());
    sites.terminal = true;
    let sites = Arc::new(sites);
    runner::run(runner::Services { rail: svc, sites }, Some(wake_tx), stop);
    0
}

/// `haoyuan-host login 12306 ACCOUNT [--base URL]`: the password is read from
/// `HAOYUAN_12306_PASSWORD` or the first line of standard input; each captcha is
/// written to a file and its tile numbers read from the next line.
pub fn cli_login(args: &[String]) -> i32 {
    let (platform, account) = match args {
        [p, a, ..] => (p.as_str(), a.as_str()),
        _ => {
            eprintln!("usage: haoyuan-host login 12306 ACCOUNT [--base URL]");
            return 2;
        }
    };
    if platform != "12306" {
        eprintln!("haoyuan-host login: only 12306 signs in from the terminal (the others sign in in the browser)");
        return 2;
    }
    let svc = match service(&args[2..]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("haoyuan-host login: {e}");
            return 1;
        }
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let password = match std::env::var("HAOYUAN_12306_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        Some(p) => p,
        None => {
            eprintln!("password for {account}:");
            match line(&mut input) {
                Some(p) if !p.is_empty() => p,
                _ => {
                    eprintln!("haoyuan-host login: no password given");
                    return 2;
                }
            }
        }
    };
    let mut prompt = match svc.login_begin(account, &password) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("haoyuan-host login: {}", e.message);
            return 1;
        }
    };
    drop(password);
    loop {
        let file = svc.data_dir().join("captcha-login.png");
        let png = prompt
            .image
            .split_once(',')
            .and_then(|(_, b)| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            })
            .unwrap_or_default();
        if let Err(e) = std::fs::write(&file, png) {
            eprintln!("haoyuan-host login: cannot write {}: {e}", file.display());
            return 1;
        }
        eprintln!(
            "{}\n  the picture: {}\n  type the numbers of the matching tiles (1–8, top row 1–4, bottom row 5–8) and Enter:",
            prompt.message,
            file.display()
        );
        let Some(text) = line(&mut input) else {
            eprintln!("haoyuan-host login: no answer; not signed in");
            return 1;
        };
        let answer = match tiles_from_text(&text) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        match svc.answer(&prompt.id, &answer) {
            Ok(r) if r.state == "done" => {
                let _ = std::fs::remove_file(&file);
                println!("{}", r.message);
                return 0;
            }
            Ok(r) => match r.prompt {
                Some(p) => prompt = p,
                None => {
                    eprintln!("haoyuan-host login: {}", r.message);
                    return 1;
                }
            },
            Err(e) => {
                eprintln!("haoyuan-host login: {}", e.message);
                return 1;
            }
        }
    }
}
