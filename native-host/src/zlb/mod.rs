//! 浙里办 health-check reservation sync, run by the host for a hospital's front desk.
//!
//! The core's [`Sync`] decides every step; this module does the I/O: HTTP with the
//! host's client, the store (one transaction per delivered batch, committed before
//! the core will acknowledge it), the token cache, the notifications (per change in
//! the batch's transaction, or a digest per round), and the loop that runs a round at
//! the core's [`Pace`] (interval ≥ 60 s with jitter, backoff after failures).
//!
//! One round at a time on a data directory: a round holds `zlb-round.lock` (an OS file
//! lock, so an on-demand `zlb sync` from a terminal waits for the browser host's round),
//! and only the process holding `zlb-loop.lock` runs the timed loop.

pub mod cli;
pub mod store;

use crate::runtime::EventSink;
use crate::store::{Store, StoreError};
use crate::{logging, settings, webhook};
use haoyuan_core::date::Date;
use haoyuan_core::notify::Channel;
use haoyuan_core::platforms::zheliban::site::{Credentials, Site};
use haoyuan_core::platforms::zheliban::watcher::{Arrival, Pace, Step, Summary, Sync, SyncError};
use haoyuan_core::platforms::zheliban::{self as zlb, ArrivalState, ZLB_WATCH_ID};
use haoyuan_core::protocol::{
    ErrorBody, ErrorCode, Event, HistoryEntry, Secret, ZlbArrived, ZlbConfigView, ZlbExport,
    ZlbNotify, ZlbRejects, ZlbReservations, ZlbSynced,
};
use haoyuan_core::watch::FieldError;
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use store::{Changes, ListFilter, Stored, ZlbConfig};

/// Default seconds between rounds.
pub const DEFAULT_INTERVAL_S: u32 = 300;
/// Each request's whole exchange is bounded by this.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default and largest list sizes.
pub const DEFAULT_LIST: u32 = 500;
pub const MAX_LIST: u32 = 5_000;

fn now_ms() -> i64 {
    crate::dispatch::now_ms()
}

/// Today in Beijing.
pub fn today() -> Date {
    Date::from_unix_ms(now_ms(), haoyuan_core::schedule::BEIJING_OFFSET_MIN)
}

/// The settings as given by a `zlb_config_put` (secrets blank: keep the stored ones).
#[derive(Clone, Debug, Default)]
pub struct ConfigInput {
    pub base_url: String,
    pub apikey: Secret,
    pub secret: Secret,
    pub aes_key: Secret,
    pub interval_s: Option<u32>,
    pub notify: Option<ZlbNotify>,
}

/// A secret's text when one was given (a non-blank string).
fn given(s: &Secret) -> Option<String> {
    s.0.as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The reply to a sync: what the round did and changed, with a sentence for the desk.
fn synced(c: &Changes, summary: Summary) -> ZlbSynced {
    let mut message = format!(
        "{} new, {} rescheduled, {} cancelled",
        c.new, c.rescheduled, c.cancelled
    );
    if c.updated > 0 {
        message.push_str(&format!(", {} updated", c.updated));
    }
    if summary.rejected > 0 {
        message.push_str(&format!(
            "; {} record(s) failed the checks and were kept under rejects, not acknowledged: 浙里办 sends them again first until they are marked received",
            summary.rejected
        ));
    }
    if !summary.arrivals_sent.is_empty() {
        message.push_str(&format!(
            "; {} arrival(s) told",
            summary.arrivals_sent.len()
        ));
    }
    if !summary.arrivals_refused.is_empty() {
        message.push_str(&format!(
            "; {} arrival(s) refused by 浙里办",
            summary.arrivals_refused.len()
        ));
    }
    ZlbSynced {
        summary,
        new: c.new,
        rescheduled: c.rescheduled,
        cancelled: c.cancelled,
        updated: c.updated,
        repeats: c.repeats,
        message,
    }
}

/// What a round does besides its token: pull, tell arrivals, ack released rejects.
#[derive(Clone, Debug, Default)]
struct Round {
    pull: bool,
    arrivals: Vec<Arrival>,
    acks: Vec<String>,
    /// Ask for a new token ("test connection").
    fresh_token: bool,
    /// A round under way (here or in another process) is an error, not a wait.
    no_wait: bool,
}

/// The 浙里办 sync of one data directory.
pub struct Service {
    dir: PathBuf,
    sink: EventSink,
    wake: Mutex<Option<Sender<()>>>,
    round: Mutex<()>,
}

impl Service {
    pub fn new(dir: PathBuf) -> Service {
        Service {
            dir,
            sink: EventSink::default(),
            wake: Mutex::new(None),
            round: Mutex::new(()),
        }
    }

    /// Where events go (frames to the browser, lines on a terminal).
    pub fn set_sink(&self, sink: crate::runtime::Sink) {
        self.sink.set(sink);
    }

    /// Tells this process's outbox sender when a message is queued.
    pub fn set_wake(&self, wake: Sender<()>) {
        if let Ok(mut w) = self.wake.lock() {
            *w = Some(wake);
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    fn open(&self) -> Result<Store, ErrorBody> {
        Store::open(&crate::paths::database_path(&self.dir)).map_err(ErrorBody::from)
    }

    fn config(&self, store: &Store) -> Result<ZlbConfig, ErrorBody> {
        store.zlb_config()?.ok_or_else(|| {
            ErrorBody::new(
                ErrorCode::NotConfigured,
                "浙里办 sync is not set up: enter the platform's address, apikey, secret and AES key first",
            )
        })
    }

    fn view(&self, store: &Store, c: &ZlbConfig) -> Result<ZlbConfigView, ErrorBody> {
        let (reservations, pending_arrivals, rejects) = store.zlb_counts()?;
        let head: String = c.apikey.chars().take(4).collect();
        Ok(ZlbConfigView {
            base_url: c.base_url.clone(),
            apikey_masked: if c.apikey.is_empty() {
                String::new()
            } else {
                format!("{head}****")
            },
            has_secret: !c.secret.is_empty(),
            has_aes_key: !c.aes_key.is_empty(),
            interval_s: c.interval_s,
            notify: c.notify,
            has_token: c.token.as_ref().is_some_and(|t| t.expires_at_ms > now_ms()),
            last_sync_at: c.last_sync_at,
            last_error: c.last_error.clone(),
            last_error_at: c.last_error_at,
            reservations,
            pending_arrivals,
            rejects,
        })
    }

    /// `zlb_config_put`: checks and stores the settings.
    pub fn config_put(&self, input: &ConfigInput) -> Result<ZlbConfigView, ErrorBody> {
        let store = self.open()?;
        let old = store.zlb_config()?;
        let mut fields = Vec::new();
        let mut field = |f: &str, m: &str| {
            fields.push(FieldError {
                field: f.into(),
                message: m.into(),
            })
        };
        let base_url = match haoyuan_core::form::validate_base_url(&input.base_url) {
            Ok(u) => u,
            Err(e) => {
                field("base_url", &e);
                String::new()
            }
        };
        let pick = |given_value: Option<String>, stored: Option<&str>| {
            given_value.or_else(|| stored.filter(|s| !s.is_empty()).map(str::to_string))
        };
        let apikey = pick(
            given(&input.apikey),
            old.as_ref().map(|o| o.apikey.as_str()),
        );
        let secret = pick(
            given(&input.secret),
            old.as_ref().map(|o| o.secret.as_str()),
        );
        let aes_key = pick(
            given(&input.aes_key),
            old.as_ref().map(|o| o.aes_key.as_str()),
        );
        if apikey.is_none() {
            field("apikey", "the apikey 浙里办 issued is required");
        }
        if secret.is_none() {
            field("secret", "the secret 浙里办 issued is required");
        }
        match &aes_key {
            None => field("aes_key", "the AES key 浙里办 issued is required"),
            Some(k) if k.len() != 16 => field(
                "aes_key",
                &format!(
                    "the AES key must be exactly 16 characters (AES-128); this one is {}",
                    k.len()
                ),
            ),
            _ => {}
        }
        let interval_s = input
            .interval_s
            .or(old.as_ref().map(|o| o.interval_s))
            .unwrap_or(DEFAULT_INTERVAL_S);
        let floor = haoyuan_core::watch::Platform::Zheliban.poll_floor_secs();
        if interval_s < floor || interval_s > haoyuan_core::watch::MAX_INTERVAL_SECS {
            field(
                "interval_s",
                &format!("the interval must be between {floor} and 86400 seconds"),
            );
        }
        if !fields.is_empty() {
            return Err(ErrorBody::field_errors(
                ErrorCode::InvalidSettings,
                "浙里办 settings",
                fields,
            ));
        }
        let c = ZlbConfig {
            base_url,
            apikey: apikey.unwrap_or_default(),
            secret: secret.unwrap_or_default(),
            aes_key: aes_key.unwrap_or_default(),
            interval_s,
            notify: input
                .notify
                .or(old.as_ref().map(|o| o.notify))
                .unwrap_or_default(),
            token: None,
            last_sync_at: old.as_ref().and_then(|o| o.last_sync_at),
            last_error: None,
            last_error_at: None,
        };
        store.zlb_config_put(&c, now_ms())?;
        let saved = self.config(&store)?;
        self.view(&store, &saved)
    }

    /// `zlb_config_get`.
    pub fn config_view(&self) -> Result<ZlbConfigView, ErrorBody> {
        let store = self.open()?;
        let c = self.config(&store)?;
        self.view(&store, &c)
    }

    /// `zlb_test`: a fresh token with the stored settings.
    pub fn test(&self) -> Result<String, ErrorBody> {
        self.round(Round {
            fresh_token: true,
            ..Round::default()
        })?;
        Ok(
            "connected: 浙里办 issued a token, so the address, apikey, secret and AES key work"
                .into(),
        )
    }

    /// `zlb_sync`: one round now (pending arrivals, then pull until nothing new).
    pub fn sync_now(&self) -> Result<ZlbSynced, ErrorBody> {
        let store = self.open()?;
        let arrivals = pending_arrivals(&store)?;
        drop(store);
        let (summary, changes) = self.round(Round {
            pull: true,
            arrivals,
            ..Round::default()
        })?;
        Ok(synced(&changes, summary))
    }

    /// Runs one round with the stored settings; the round's failure as an error reply
    /// (what was stored before it stays stored).
    fn round(&self, r: Round) -> Result<(Summary, Changes), ErrorBody> {
        let Round {
            pull,
            arrivals,
            acks,
            fresh_token,
            no_wait,
        } = r;
        let wait = !no_wait;
        let busy = || ErrorBody::new(ErrorCode::SiteFailed, "a sync with 浙里办 is under way");
        let _in_process = if wait {
            self.round.lock().unwrap_or_else(|p| p.into_inner())
        } else {
            match self.round.try_lock() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Err(busy()),
            }
        };
        let Some(_file) = lock_file(&self.dir.join("zlb-round.lock"), wait) else {
            return Err(busy());
        };
        let mut store = self.open()?;
        let cfg = self.config(&store)?;
        let site = Site::new(&cfg.base_url, &cfg.aes_key)
            .map_err(|e| ErrorBody::new(ErrorCode::InvalidSettings, e.to_string()))?;
        let creds = Credentials {
            apikey: cfg.apikey.clone(),
            secret: cfg.secret.clone(),
        };
        let mut sync = Sync::new(site, creds, cfg.token.clone())
            .with_arrivals(arrivals)
            .with_acks(acks);
        if pull {
            sync = sync.pulling(haoyuan_core::platforms::zheliban::watcher::MAX_BATCHES_PER_ROUND);
        }
        if fresh_token {
            sync = sync.fresh_token();
        }
        let channels: Vec<Channel> = match cfg.notify {
            ZlbNotify::Off => Vec::new(),
            _ => settings::load(&self.dir)
                .map(|s| s.enabled())
                .unwrap_or_default(),
        };
        let mut counts = Changes::default();
        let mut queued = false;
        let mut step = sync.start(now_ms());
        let outcome = loop {
            step = match step {
                Step::Send(req) => match webhook::execute(&req, HTTP_TIMEOUT) {
                    Ok(resp) => sync.on_response(&resp, now_ms()),
                    Err(e) => sync.no_response(&e),
                },
                Step::Store(d) => {
                    match store.zlb_store_delivery(&d, now_ms(), cfg.notify, &channels) {
                        Ok(stored) => {
                            counts.add(&stored.changes);
                            queued |= !stored.events.is_empty() && !channels.is_empty();
                            for e in &stored.events {
                                self.sink.push(&Event::WatchEvent(e.clone()));
                            }
                            sync.stored(stored.serials, now_ms())
                        }
                        Err(e) => sync.store_failed(&e.message),
                    }
                }
                Step::Done(summary) => break Ok(summary),
                Step::Failed(f) => break Err(f),
            };
        };
        // The token is cached even when the round failed later.
        if sync.token() != cfg.token.as_ref() {
            logged(store.zlb_token_put(sync.token()), "caching the token");
        }
        let summary = match &outcome {
            Ok(s) => s.clone(),
            Err(f) => f.summary.clone(),
        };
        for serial in &summary.arrivals_sent {
            logged(
                store.zlb_arrival_result(serial, ArrivalState::Sent, None),
                "recording an arrival",
            );
        }
        for (serial, why) in &summary.arrivals_refused {
            logged(
                store.zlb_arrival_result(serial, ArrivalState::Refused, Some(why)),
                "recording an arrival",
            );
        }
        // Also what an earlier round stored and could not tell (killed before its
        // digest, or stored under digest and now under each).
        if cfg.notify != ZlbNotify::Off {
            if let Ok(Some(e)) = store.zlb_flush_digest(now_ms(), &channels) {
                queued |= !channels.is_empty();
                self.sink.push(&Event::WatchEvent(e));
            }
        }
        if queued {
            if let Ok(w) = self.wake.lock() {
                if let Some(w) = w.as_ref() {
                    let _ = w.send(());
                }
            }
        }
        match outcome {
            Ok(summary) => {
                if pull {
                    logged(store.zlb_round_end(now_ms(), None), "recording the sync");
                }
                if counts.total() > 0 || !summary.arrivals_sent.is_empty() {
                    let synced = synced(&counts, summary.clone());
                    self.sink.push(&Event::WatchEvent(HistoryEntry {
                        seq: 0,
                        watch_id: ZLB_WATCH_ID.into(),
                        at: now_ms(),
                        kind: "zlb_sync".into(),
                        message: synced.message,
                        data: Value::Null,
                    }));
                }
                Ok((summary, counts))
            }
            Err(f) => {
                let message = f.error.to_string();
                self.report_failure(&mut store, &cfg, &message);
                Err(error_body(&f.error, &counts, &f.summary, pull))
            }
        }
    }

    /// Records a failed round: the settings' `last_error`, and one history event when
    /// the error is new (not one per round while it lasts).
    fn report_failure(&self, store: &mut Store, cfg: &ZlbConfig, message: &str) {
        logging::info(&format!("浙里办 sync failed: {message}"));
        logged(
            store.zlb_round_end(now_ms(), Some(message)),
            "recording the sync",
        );
        if cfg.last_error.as_deref() != Some(message) {
            if let Ok(e) = store.record_event(
                ZLB_WATCH_ID,
                "zlb_sync_failed",
                message,
                &Value::Null,
                now_ms(),
            ) {
                self.sink.push(&Event::WatchEvent(e));
            }
        }
    }

    /// `zlb_list`.
    pub fn list(&self, f: &ListFilter, limit: Option<u32>) -> Result<ZlbReservations, ErrorBody> {
        let store = self.open()?;
        let (reservations, total) =
            store.zlb_list(f, limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST))?;
        Ok(ZlbReservations {
            reservations,
            total,
            today: today(),
        })
    }

    /// `zlb_export`: the list as CSV.
    pub fn export(&self, f: &ListFilter) -> Result<ZlbExport, ErrorBody> {
        let store = self.open()?;
        let (rows, total) = store.zlb_list(f, u32::MAX)?;
        let part = |d: Option<Date>, open: &str| d.map_or(open.to_string(), |d| d.to_string());
        Ok(ZlbExport {
            filename: format!(
                "zlb-reservations-{}-{}.csv",
                part(f.from, "start"),
                part(f.to, "end")
            ),
            csv: zlb::csv(&rows),
            rows: total,
        })
    }

    /// One reservation's history, oldest first: (Unix ms, kind, line) — each version
    /// delivered (new, rescheduled, cancelled, updated) and the arrival.
    pub fn history(&self, serial: &str) -> Result<Vec<(i64, String, String)>, ErrorBody> {
        Ok(self.open()?.zlb_history(serial.trim())?)
    }

    /// `zlb_rejects`.
    pub fn rejects(&self) -> Result<ZlbRejects, ErrorBody> {
        Ok(ZlbRejects {
            rejects: self.open()?.zlb_rejects()?,
        })
    }

    /// `zlb_reject_release`: a person has 浙里办 mark a reject received anyway.
    pub fn release_reject(&self, serial: &str) -> Result<Value, ErrorBody> {
        let serial = serial.trim();
        if !self.open()?.zlb_reject_open(serial)? {
            return Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("no reject with serial number {serial} is waiting"),
            ));
        }
        self.round(Round {
            acks: vec![serial.to_string()],
            ..Round::default()
        })?;
        self.open()?.zlb_reject_released(serial, now_ms())?;
        Ok(serde_json::json!({
            "serial": serial,
            "message": format!("{serial} was acknowledged to 浙里办 as received; it stays under rejects, marked released"),
        }))
    }

    /// `zlb_arrive`: records the arrival, then tells 浙里办 (kept to tell on the next
    /// round when it cannot be reached).
    pub fn arrive(&self, serial: &str, at: Option<&str>) -> Result<ZlbArrived, ErrorBody> {
        let serial = serial.trim();
        let mut store = self.open()?;
        let Some((r, view)) = store.zlb_get(serial)? else {
            return Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("no reservation {serial} is stored (sync first?)"),
            ));
        };
        if r.status == zlb::STATUS_CANCELLED {
            return Err(ErrorBody::new(
                ErrorCode::ReservationCancelled,
                format!(
                    "reservation {serial} ({}, {}) was cancelled; it cannot be marked arrived",
                    haoyuan_core::patient::mask_name(&r.name),
                    r.check_date
                ),
            ));
        }
        if view.arrival == Some(ArrivalState::Sent) {
            return Ok(ZlbArrived {
                message: format!(
                    "{serial} was already marked arrived at {}",
                    view.arrived_at.clone().unwrap_or_default()
                ),
                reservation: view,
            });
        }
        let when = match at {
            Some(t) if !t.trim().is_empty() => zlb::parse_arrival_time(t, today())
                .map_err(|e| ErrorBody::new(ErrorCode::BadParams, e))?,
            _ => crate::cli::china_time(now_ms()),
        };
        store.zlb_arrive(serial, &when, now_ms())?;
        drop(store);
        // Not behind a long sync: then it is told on the next round.
        let told = self.round(Round {
            arrivals: vec![Arrival {
                serial: serial.to_string(),
                at: when.clone(),
            }],
            no_wait: true,
            ..Round::default()
        });
        let store = self.open()?;
        let message = match &told {
            Ok((s, _)) if s.arrivals_sent.iter().any(|x| x == serial) => {
                format!("{serial} arrived at {when}; 浙里办 was told")
            }
            Ok((s, _)) => {
                let why = s
                    .arrivals_refused
                    .iter()
                    .find(|(x, _)| x == serial)
                    .map_or("no reason given".to_string(), |(_, w)| w.clone());
                format!("{serial} arrived at {when}, but 浙里办 refused it: {why}")
            }
            Err(e) => {
                logged(
                    store.zlb_arrival_result(serial, ArrivalState::Pending, Some(&e.message)),
                    "recording an arrival",
                );
                format!(
                    "{serial} arrived at {when} (saved); 浙里办 could not be told now ({}), it will be on the next sync",
                    e.message
                )
            }
        };
        let (_, view) = store.zlb_get(serial)?.ok_or_else(|| {
            ErrorBody::new(ErrorCode::NotFound, format!("no reservation {serial}"))
        })?;
        Ok(ZlbArrived {
            reservation: view,
            message,
        })
    }

    /// The timed loop: a round at the pace of the settings' interval (floor, jitter,
    /// backoff) until `stop`; waits while another process runs it or while there are
    /// no settings.
    pub fn run_loop(&self, stop: Arc<AtomicBool>) {
        let loop_lock = self.dir.join("zlb-loop.lock");
        let mut told = false;
        let _lock = loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if let Some(f) = lock_file(&loop_lock, false) {
                break f;
            }
            if !told {
                told = true;
                logging::info("浙里办 sync is run by another haoyuan-host process; waiting");
            }
            sleep_unless(&stop, Duration::from_secs(2));
        };
        let mut pace: Option<(u32, Pace)> = None;
        let mut next_at = 0i64;
        while !stop.load(Ordering::Relaxed) {
            let interval = self
                .open()
                .ok()
                .and_then(|s| s.zlb_config().ok().flatten())
                .map(|c| c.interval_s);
            let Some(interval) = interval else {
                pace = None;
                sleep_unless(&stop, Duration::from_secs(2));
                continue;
            };
            if pace.as_ref().map(|(i, _)| *i) != Some(interval) {
                let mut p = Pace::new(interval);
                next_at = p.next_at(now_ms(), unit_random());
                pace = Some((interval, p));
            }
            let now = now_ms();
            if now < next_at {
                sleep_unless(
                    &stop,
                    Duration::from_millis((next_at - now).min(1_000) as u64),
                );
                continue;
            }
            let started = now_ms();
            let ok = self.sync_now().is_ok();
            if let Some((_, p)) = pace.as_mut() {
                p.finished(started, ok);
                next_at = p.next_at(now_ms(), unit_random());
            }
        }
    }
}

/// Pending arrivals from the store, as the core's.
fn pending_arrivals(store: &Store) -> Result<Vec<Arrival>, StoreError> {
    Ok(store
        .zlb_pending_arrivals()?
        .into_iter()
        .map(|(serial, at)| Arrival { serial, at })
        .collect())
}

/// A failed round as an error reply: what stopped it, and what was stored before.
fn error_body(e: &SyncError, counts: &Changes, summary: &Summary, pull: bool) -> ErrorBody {
    let mut message = e.to_string();
    if pull && !matches!(e, SyncError::Store(_)) {
        message.push_str(
            ". Nothing that was not saved was acknowledged: 浙里办 keeps it for the next sync",
        );
    }
    if summary.stored > 0 {
        message.push_str(&format!(
            " ({} reservation(s) were stored before it stopped: {} new, {} rescheduled, {} cancelled)",
            summary.stored, counts.new, counts.rescheduled, counts.cancelled
        ));
    }
    let code = match e {
        SyncError::Store(_) => ErrorCode::StoreFailed,
        _ => ErrorCode::SiteFailed,
    };
    ErrorBody::new(code, message)
}

/// An OS lock on `path`: waiting for it (`wait`) or not.
fn lock_file(path: &Path, wait: bool) -> Option<File> {
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    let ok = if wait {
        f.lock().is_ok()
    } else {
        f.try_lock().is_ok()
    };
    ok.then_some(f)
}

/// Logs a bookkeeping write that failed (the round's outcome does not depend on it:
/// an arrival left pending is told again, a token not cached is asked for again).
fn logged(r: Result<(), StoreError>, what: &str) {
    if let Err(e) = r {
        logging::error(&format!("浙里办: {what} failed: {}", e.message));
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = std::time::Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let now = std::time::Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(200)));
    }
}

fn unit_random() -> f64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Starts the timed loop in a thread.
pub fn start(service: Arc<Service>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || service.run_loop(stop))
}
