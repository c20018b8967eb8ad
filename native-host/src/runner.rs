//! Runs the 12306 watches: one thread per active watch, each driving a core
//! [`Watcher`] — sleeping, sending with the account's jar (paced per account),
//! recording intents and events through the same [`Host`] handlers the browser uses
//! (so notifications and the one-order rule are the same), relaying captchas.
//!
//! At most one process runs the watches: the runner holds `rail-runner.lock` in the
//! data directory (an OS file lock, released when the process dies). A browser-launched
//! host whose lock is held by `haoyuan-host run` leaves the watches to it and takes
//! over if it stops. The runner rereads the store every second: new, changed, paused
//! and deleted watches are picked up whichever process changed them.

use super::Service;
use crate::dispatch::{now_ms, Host};
use crate::logging;
use crate::store::Store;
use haoyuan_core::platforms::rail12306::watcher::{Action, Watcher};
use haoyuan_core::platforms::Event as WatchEvent;
use haoyuan_core::protocol::{BookingResult, ErrorCode, Request};
use haoyuan_core::watch::{Platform, Target, Watch};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the store is reread for changed watches.
const RESCAN: Duration = Duration::from_millis(1000);

struct Running {
    updated_at: i64,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Starts the runner thread; it waits for the lock, then runs watches until `stop`.
pub fn start(
    service: Arc<Service>,
    wake: Option<Sender<()>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || run(service, wake, stop))
}

fn take_lock(service: &Service) -> Option<File> {
    let path = service.data_dir().join("rail-runner.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .ok()?;
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(_) => None,
    }
}

/// The runner's loop (see the module doc).
pub fn run(service: Arc<Service>, wake: Option<Sender<()>>, stop: Arc<AtomicBool>) {
    let mut told = false;
    let _lock = loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Some(f) = take_lock(&service) {
            break f;
        }
        if !told {
            told = true;
            logging::info("12306 watches are run by another haoyuan-host process; waiting");
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    logging::info("12306 runner started");
    let mut running: HashMap<String, Running> = HashMap::new();
    let db = crate::paths::database_path(service.data_dir());
    let mut store: Option<Store> = None;
    while !stop.load(Ordering::Relaxed) {
        if store.is_none() {
            store = Store::open(&db).ok();
        }
        let watches = match store.as_ref().map(active_watches) {
            Some(Ok(w)) => Some(w),
            Some(Err(_)) => {
                store = None; // reopened next time (a damaged or locked file is retried)
                None
            }
            None => None,
        };
        if let Some(watches) = watches {
            let wanted: HashMap<&str, &Watch> =
                watches.iter().map(|w| (w.id.as_str(), w)).collect();
            running.retain(|id, r| {
                let keep = wanted
                    .get(id.as_str())
                    .is_some_and(|w| w.updated_at == r.updated_at)
                    && !r.handle.is_finished();
                if !keep {
                    r.stop.store(true, Ordering::Relaxed);
                }
                keep
            });
            for w in &watches {
                if running.contains_key(&w.id) {
                    continue;
                }
                let flag = Arc::new(AtomicBool::new(false));
                let (svc, wk, f, watch) = (service.clone(), wake.clone(), flag.clone(), w.clone());
                let handle = std::thread::spawn(move || run_watch(&svc, wk, &watch, &f));
                running.insert(
                    w.id.clone(),
                    Running {
                        updated_at: w.updated_at,
                        stop: flag,
                        handle,
                    },
                );
            }
        }
        std::thread::sleep(RESCAN);
    }
    for r in running.values() {
        r.stop.store(true, Ordering::Relaxed);
    }
    for (_, r) in running {
        let _ = r.handle.join();
    }
}

fn active_watches(store: &Store) -> Result<Vec<Watch>, crate::store::StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_watches(after.as_deref(), 200)?;
        out.extend(
            page.watches
                .into_iter()
                .filter(|w| w.platform() == Platform::Rail12306 && !w.paused),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Records what a watcher has to say, through the browser's own handlers.
fn record(service: &Service, host: &mut Host, watch_id: &str, events: Vec<WatchEvent>) {
    for e in events {
        let req = match (&e.booking_result, &e.intent_id) {
            (Some(result), Some(intent_id)) => Request::BookingEnd {
                watch_id: watch_id.to_string(),
                intent_id: intent_id.clone(),
                result: match result.as_str() {
                    "booked" => BookingResult::Booked,
                    "failed" => BookingResult::Failed,
                    _ => BookingResult::Unknown,
                },
                message: e.message.clone(),
                data: e.data.clone(),
            },
            _ => Request::EventRecord {
                watch_id: watch_id.to_string(),
                kind: e.kind.clone(),
                message: e.message.clone(),
                data: e.data.clone(),
            },
        };
        let handled = host.handle(req);
        if let Err(err) = &handled.result {
            logging::error(&format!(
                "12306 watch event not recorded: {}",
                err.code.as_str()
            ));
        }
        for ev in &handled.events {
            service.push(ev);
        }
    }
}

/// Sleeps until local `at_ms` or until `stop`.
fn sleep_until(at_ms: i64, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = at_ms - now_ms();
        if left <= 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(left.min(100) as u64));
    }
}

fn account_of(watch: &Watch) -> String {
    match &watch.target {
        Target::Rail12306 { account, .. } => account.trim().to_string(),
        _ => String::new(),
    }
}

/// One watch's thread.
pub fn run_watch(service: &Service, wake: Option<Sender<()>>, watch: &Watch, stop: &AtomicBool) {
    let dir = service.data_dir().to_path_buf();
    let mut host = Host::open(&dir);
    if let Some(w) = wake {
        host = host.with_channels(Box::<crate::channels::Deliverer>::default(), w);
    }
    let intent = match Store::open(&crate::paths::database_path(&dir))
        .and_then(|s| s.booking_get(&watch.id))
    {
        Ok(i) => i,
        Err(e) => {
            logging::error(&format!("12306 watch not started: {}", e.code.as_str()));
            return;
        }
    };
    let account = account_of(watch);
    let seed = now_ms() as u64
        ^ watch
            .id
            .bytes()
            .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let mut w = match Watcher::new(
        watch,
        service.site().clone(),
        service.tuning(),
        intent.as_ref(),
        seed,
    ) {
        Ok(w) => w,
        Err(e) => {
            logging::error(&format!("12306 watch not started: {e}"));
            return;
        }
    };
    let stopped = || stop.load(Ordering::Relaxed);
    let mut action = w.tick(now_ms());
    loop {
        if matches!(action, Action::NeedLogin { .. }) {
            // Before the event is told, so whoever reads it sees the account signed out.
            service.session_ended(&account);
        }
        record(service, &mut host, &watch.id, w.take_events());
        if stopped() {
            return;
        }
        action = match action {
            Action::Wait { at_ms } => {
                if !sleep_until(at_ms, stop) {
                    return;
                }
                w.tick(now_ms())
            }
            Action::Send {
                request,
                purpose,
                paced,
            } => {
                if paced {
                    service.pace(&account, &stopped);
                    if stopped() {
                        return;
                    }
                }
                match service.send(&account, request) {
                    Ok(resp) => w.feed(&resp, now_ms()),
                    Err(e) => {
                        logging::info(&format!("12306 {purpose}: no response"));
                        w.no_response(&e, now_ms())
                    }
                }
            }
            Action::AskCaptcha { png, message } => {
                match service.ask_order_captcha(&account, &watch.id, &png, message, &stopped) {
                    Some(a) => w.answer(&a, now_ms()),
                    None if stopped() => return,
                    None => w.no_answer(now_ms()),
                }
            }
            Action::RecordIntent { data } => {
                let handled = host.handle(Request::BookingBegin {
                    watch_id: watch.id.clone(),
                    data,
                });
                for ev in &handled.events {
                    service.push(ev);
                }
                match handled.result {
                    Ok(v) => {
                        let id = v
                            .pointer("/intent/id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        w.intent_recorded(&id, now_ms())
                    }
                    Err(e) if e.code == ErrorCode::BookingExists => {
                        w.intent_refused(&e.message, now_ms())
                    }
                    Err(e) => {
                        // Nothing recorded: no order may be sent. Try again shortly.
                        logging::error(&format!("12306 intent not recorded: {}", e.code.as_str()));
                        w.intent_refused(
                            &format!("the host could not record the order ({})", e.message),
                            now_ms(),
                        )
                    }
                }
            }
            Action::NeedLogin { message } => {
                if service.terminal {
                    eprintln!(
                        "12306 ({account}): {message} — run `haoyuan-host login 12306 {account}`"
                    );
                }
                record(service, &mut host, &watch.id, w.take_events());
                // Wait for a newer signed-in session of the account.
                let since = now_ms();
                loop {
                    if !sleep_until(now_ms() + 500, stop) {
                        return;
                    }
                    if service
                        .session(&account)
                        .is_some_and(|s| s.signed_in && s.updated_at >= since)
                    {
                        break;
                    }
                }
                service.reload_session(&account);
                w.resume(now_ms())
            }
            Action::Stopped { message } => {
                logging::info("12306 watch stopped");
                let _ = message;
                while !stopped() {
                    std::thread::sleep(Duration::from_millis(200));
                }
                return;
            }
        };
    }
}
