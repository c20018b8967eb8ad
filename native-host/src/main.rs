//! `haoyuan-host`: started by the browser it serves native messaging on stdio; started
//! by a person it installs or removes the browser registrations, manages the watches and
//! shows their history, signs a 12306 account in or runs the 12306 watches without a
//! browser. The work is in the library; this file only picks the mode.

use haoyuan_host::{cli, dispatch::Host, install, logging, paths, rail, serve, VERSION};
use std::process::ExitCode;

const ABOUT: &str = "\
haoyuan-host — the native part of the Haoyuan browser extension

  haoyuan-host                       serve the browser (native messaging on stdio)
  haoyuan-host run                   run the 12306, 91160 and pati watches and the 浙里办 sync without a browser
  haoyuan-host login 12306 ACCOUNT   sign a 12306 account in from this terminal
  haoyuan-host watch add|list|pause|resume|rm ...   add and manage watches (below)
  haoyuan-host history [ID] ...      what happened to the watches, newest first (below)
  haoyuan-host patient|account|cancel|browse ...  the patient book, 91160/pati accounts and lists (below)
  haoyuan-host zlb config|show|test|sync|list|arrive|rejects|export ...  浙里办 reservation sync (below)
  haoyuan-host install|uninstall|print-manifest ...  register with browsers (below)
  haoyuan-host --version

Data lives in $HAOYUAN_HOME, or the system's data folder when it is not set.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        _ if serve::launched_by_browser(&args) => run_server(),
        None | Some("serve") => run_server(),
        Some("install" | "uninstall" | "print-manifest") => exit(install::cli(&args)),
        Some("watch" | "history" | "patient" | "account" | "cancel" | "browse") => {
            exit(cli::main(&args))
        }
        Some("zlb") => exit(haoyuan_host::zlb::cli::main(&args[1..])),
        Some("run") => exit(rail::cli::cli_run(&args[1..])),
        Some("login") => exit(rail::cli::cli_login(&args[1..])),
        Some("--version" | "-V" | "version") => {
            println!("haoyuan-host {VERSION}");
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!(
                "{ABOUT}\n\n{}\n\n{}\n\n{}",
                cli::USAGE,
                haoyuan_host::zlb::cli::USAGE,
                install::USAGE
            );
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!(
                "haoyuan-host: unknown command “{other}”\n\n{ABOUT}\n\n{}\n\n{}",
                cli::USAGE,
                install::USAGE
            );
            ExitCode::from(2)
        }
    }
}

/// A command's exit status as the process's.
fn exit(status: i32) -> ExitCode {
    ExitCode::from(status.clamp(0, 255) as u8)
}

fn run_server() -> ExitCode {
    let dir = match paths::data_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("haoyuan-host: {e}");
            return ExitCode::from(1);
        }
    };
    logging::init(&dir);
    std::panic::set_hook(Box::new(|info| {
        let msg = format!("panic: {info}");
        logging::error(&msg);
        eprintln!("haoyuan-host: {msg}");
    }));
    logging::info(&format!(
        "host {VERSION} serving (pid {})",
        std::process::id()
    ));
    // The outbox sender runs beside the stdio loop for as long as the browser keeps
    // the host; anything it has not sent stays queued for the next run.
    let (wake_tx, wake_rx) = std::sync::mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut deliverer = haoyuan_host::channels::Deliverer::default();
            haoyuan_host::outbox::run_sender(dir, stop, wake_rx, &mut deliverer)
        });
    }
    // Frames to the browser come from the serve loop and from the watch runner.
    let out = serve::FrameOut::new(Box::new(std::io::stdout()));
    let rail = std::sync::Arc::new(rail::Service::new(dir.clone()));
    {
        let out = out.clone();
        rail.set_sink(Box::new(move |e| out.push(e)));
    }
    let sites = std::sync::Arc::new(haoyuan_host::sites::Service::new(dir.clone()));
    haoyuan_host::runner::start(
        haoyuan_host::runner::Services {
            rail: rail.clone(),
            sites: sites.clone(),
        },
        Some(wake_tx.clone()),
        stop.clone(),
    );
    // 浙里办 sync: its timed loop runs here too (one process per data directory).
    let zlb = std::sync::Arc::new(haoyuan_host::zlb::Service::new(dir.clone()));
    {
        let out = out.clone();
        zlb.set_sink(Box::new(move |e| out.push(e)));
    }
    zlb.set_wake(wake_tx.clone());
    haoyuan_host::zlb::start(zlb.clone(), stop.clone());
    let mut host = Host::open(&dir)
        .with_channels(Box::<haoyuan_host::channels::Deliverer>::default(), wake_tx)
        .with_rail(rail)
        .with_sites(sites)
        .with_zlb(zlb);
    let stdin = std::io::stdin().lock();
    match serve::serve(stdin, out, &mut |req| host.handle(req)) {
        Ok(end) => {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            logging::info(&format!("host stopped: {end:?}"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            logging::error(&format!("reading from the browser failed: {e}"));
            ExitCode::from(1)
        }
    }
}
