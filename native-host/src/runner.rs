//! Runs the watches the host runs itself — 12306, 91160 and pati_service: one thread
//! per active watch, each driving a core [`Driver`] — sleeping, sending through the
//! platform's [`Backend`] (an account's cookies or token, paced per account), recording
//! intents and events through the same [`Host`] handlers the browser uses (so
//! notifications and the one-order rule are the same), relaying captchas, and renewing
//! credentials when the site refuses them.
//!
//! At most one process runs the watches: the runner holds `rail-runner.lock` in the
//! data directory (an OS file lock, released when the process dies; the name is from
//! when only 12306 ran here). A browser-launched host whose lock is held by
//! `haoyuan-host run` leaves the watches to it and takes over if it stops. The runner
//! rereads the store every second: new, changed, paused and deleted watches are picked
//! up whichever process changed them.

use crate::dispatch::{now_ms, Host};
use crate::logging;
use crate::store::Store;
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::platforms::rail12306::watcher::Watcher as RailWatcher;
use haoyuan_core::platforms::{Action, Driver, Event as WatchEvent};
use haoyuan_core::protocol::{
    BookingIntent, BookingResult, CaptchaAnswer, ErrorCode, Event, Request,
};
use haoyuan_core::watch::{Platform, Target, Watch};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The platforms' services of one process.
#[derive(Clone)]
pub struct Services {
    pub rail: Arc<crate::rail::Service>,
    pub sites: Arc<crate::sites::Service>,
}

impl Services {
    pub fn data_dir(&self) -> &std::path::Path {
        self.rail.data_dir()
    }

    fn push(&self, e: &Event) {
        // Both services push to the same sink; the rail one is always set.
        self.rail.push(e);
    }
}

/// How a watch's requests reach its platform, with the account's credentials.
pub trait Backend: Send {
    /// Sends `req` with the account's credentials.
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String>;
    /// Waits for the account's turn to start a poll.
    fn pace(&self, stop: &dyn Fn() -> bool);
    /// Shows a captcha to the person and waits for the answer.
    fn ask_captcha(
        &self,
        watch_id: &str,
        png: &[u8],
        message: String,
        stop: &dyn Fn() -> bool,
    ) -> Option<CaptchaAnswer> {
        let _ = (watch_id, png, message, stop);
        None
    }
    /// The site refused the credentials (called before the watch's events are told).
    fn refused(&self) {}
    /// Blocks until the account has usable credentials again (signing in again when
    /// the host can): `Some(credential)` for [`Driver::resume`], `None` when stopped.
    /// `tell` records an event on the watch (e.g. a failed sign-in).
    fn renew(
        &self,
        message: &str,
        tell: &mut dyn FnMut(WatchEvent),
        stop: &dyn Fn() -> bool,
    ) -> Option<Option<String>>;
}

/// A watch's driver and backend, or why it cannot run.
pub type Built = Result<(Box<dyn Driver>, Box<dyn Backend>), String>;

/// How often a watch that cannot run yet (no account, no patient) tries again.
const BUILD_RETRY_MS: i64 = 5_000;

/// How often the store is reread for changed watches.
const RESCAN: Duration = Duration::from_millis(1000);

struct Running {
    updated_at: i64,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Starts the runner thread; it waits for the lock, then runs watches until `stop`.
pub fn start(service: Services, wake: Option<Sender<()>>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || run(service, wake, stop))
}

fn take_lock(service: &Services) -> Option<File> {
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
pub fn run(service: Services, wake: Option<Sender<()>>, stop: Arc<AtomicBool>) {
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
            logging::info("watches are run by another haoyuan-host process; waiting");
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    logging::info("watch runner started");
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

/// Whether the host (not the browser) runs this platform's watches.
pub fn host_run(p: Platform) -> bool {
    matches!(
        p,
        Platform::Rail12306 | Platform::Open91160 | Platform::Pati
    )
}

fn active_watches(store: &Store) -> Result<Vec<Watch>, crate::store::StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_watches(after.as_deref(), 200)?;
        out.extend(
            page.watches
                .into_iter()
                .filter(|w| host_run(w.platform()) && !w.paused),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Records what a watcher has to say, through the browser's own handlers.
fn record(service: &Services, host: &mut Host, watch_id: &str, events: Vec<WatchEvent>) {
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
            logging::error(&format!("watch event not recorded: {}", err.code.as_str()));
        }
        for ev in &handled.events {
            service.push(ev);
        }
    }
}

/// Sleeps until local `at_ms` or until `stop`.
fn sleep_until(at_ms: i64, stop: &dyn Fn() -> bool) -> bool {
    loop {
        if stop() {
            return false;
        }
        let left = at_ms - now_ms();
        if left <= 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(left.min(100) as u64));
    }
}

/// The 12306 side of a watch: its account's jar, pacing and captchas.
struct RailBackend {
    svc: Arc<crate::rail::Service>,
    account: String,
}

impl Backend for RailBackend {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        self.svc.send(&self.account, req)
    }
    fn pace(&self, stop: &dyn Fn() -> bool) {
        self.svc.pace(&self.account, stop);
    }
    fn ask_captcha(
        &self,
        watch_id: &str,
        png: &[u8],
        message: String,
        stop: &dyn Fn() -> bool,
    ) -> Option<CaptchaAnswer> {
        self.svc
            .ask_order_captcha(&self.account, watch_id, png, message, stop)
    }
    fn refused(&self) {
        // Before the event is told, so whoever reads it sees the account signed out.
        self.svc.session_ended(&self.account);
    }
    fn renew(
        &self,
        message: &str,
        _tell: &mut dyn FnMut(WatchEvent),
        stop: &dyn Fn() -> bool,
    ) -> Option<Option<String>> {
        let account = &self.account;
        if self.svc.terminal {
            eprintln!("12306 ({account}): {message} — run `haoyuan-host login 12306 {account}`");
        }
        // Wait for a newer signed-in session of the account.
        let since = now_ms();
        loop {
            if !sleep_until(now_ms() + 500, stop) {
                return None;
            }
            if self
                .svc
                .session(account)
                .is_some_and(|s| s.signed_in && s.updated_at >= since)
            {
                break;
            }
        }
        self.svc.reload_session(account);
        Some(None)
    }
}

fn build_rail(
    svc: &Arc<crate::rail::Service>,
    watch: &Watch,
    intent: Option<&BookingIntent>,
    seed: u64,
) -> Built {
    let account = match &watch.target {
        Target::Rail12306 { account, .. } => account.trim().to_string(),
        _ => String::new(),
    };
    let w = RailWatcher::new(watch, svc.site().clone(), svc.tuning(), intent, seed)
        .map_err(|e| e.to_string())?;
    Ok((
        Box::new(w),
        Box::new(RailBackend {
            svc: svc.clone(),
            account,
        }),
    ))
}

/// The watch's driver and backend for its platform.
fn build(service: &Services, watch: &Watch, intent: Option<&BookingIntent>, seed: u64) -> Built {
    match watch.platform() {
        Platform::Rail12306 => build_rail(&service.rail, watch, intent, seed),
        Platform::Open91160 | Platform::Pati => service.sites.build(watch, intent, seed),
        p => Err(format!(
            "{} watches are not run by the host",
            p.display_name()
        )),
    }
}

/// One watch's thread.
pub fn run_watch(service: &Services, wake: Option<Sender<()>>, watch: &Watch, stop: &AtomicBool) {
    let dir = service.data_dir().to_path_buf();
    let mut host = Host::open(&dir);
    if let Some(w) = wake {
        host = host.with_channels(Box::<crate::channels::Deliverer>::default(), w);
    }
    let platform = watch.platform().id();
    let intent = match Store::open(&crate::paths::database_path(&dir))
        .and_then(|s| s.booking_get(&watch.id))
    {
        Ok(i) => i,
        Err(e) => {
            logging::error(&format!(
                "{platform} watch not started: {}",
                e.code.as_str()
            ));
            return;
        }
    };
    let seed = now_ms() as u64
        ^ watch
            .id
            .bytes()
            .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let stopped = || stop.load(Ordering::Relaxed);
    // A watch that cannot run yet (its account or patient is missing) says so once and
    // tries again every few seconds: adding the account lets it start.
    let mut told = String::new();
    let (mut w, backend) = loop {
        match build(service, watch, intent.as_ref(), seed) {
            Ok(b) => break b,
            Err(e) => {
                if e != told {
                    logging::error(&format!("{platform} watch cannot run yet"));
                    record(
                        service,
                        &mut host,
                        &watch.id,
                        vec![WatchEvent::new(
                            "error",
                            format!("the watch cannot run: {e}"),
                            Value::Null,
                        )],
                    );
                    told = e;
                }
                if !sleep_until(now_ms() + BUILD_RETRY_MS, &stopped) {
                    return;
                }
            }
        }
    };
    let mut action = w.tick(now_ms());
    loop {
        if matches!(action, Action::NeedLogin { .. }) {
            backend.refused();
        }
        record(service, &mut host, &watch.id, w.take_events());
        if stopped() {
            return;
        }
        action = match action {
            Action::Wait { at_ms } => {
                if !sleep_until(at_ms, &stopped) {
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
                    backend.pace(&stopped);
                    if stopped() {
                        return;
                    }
                }
                w.departed(paced, now_ms());
                match backend.send(request) {
                    Ok(resp) => w.feed(&resp, now_ms()),
                    Err(e) => {
                        logging::info(&format!("{platform} {purpose}: no response"));
                        w.no_response(&e, now_ms())
                    }
                }
            }
            Action::AskCaptcha { png, message } => {
                match backend.ask_captcha(&watch.id, &png, message, &stopped) {
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
                        logging::error(&format!(
                            "{platform} intent not recorded: {}",
                            e.code.as_str()
                        ));
                        w.intent_refused(
                            &format!("the host could not record the order ({})", e.message),
                            now_ms(),
                        )
                    }
                }
            }
            Action::NeedLogin { message } => {
                record(service, &mut host, &watch.id, w.take_events());
                let mut told = Vec::new();
                let renewed = backend.renew(&message, &mut |e| told.push(e), &stopped);
                record(service, &mut host, &watch.id, told);
                match renewed {
                    Some(credential) => w.resume(credential.as_deref(), now_ms()),
                    None => return,
                }
            }
            Action::Stopped { message } => {
                logging::info(&format!("{platform} watch stopped"));
                let _ = message;
                while !stopped() {
                    std::thread::sleep(Duration::from_millis(200));
                }
                return;
            }
        };
    }
}
