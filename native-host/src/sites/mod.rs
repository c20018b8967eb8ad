//! 91160 and pati_service run by the host: stored accounts (91160 appTokens, pati phone +
//! password, as secrets), requests sent with the account's credentials and paced per
//! account, pati sign-in renewed on expiry, the pickers' lists (cached, with a refresh),
//! and cancelling a booked watch's order.
//!
//! Both platforms are token-based. A 91160 appToken is issued by the platform and can
//! only be replaced by the person (`account add 91160`); a rejected one stops the
//! account's watches with "token rejected" until it is. A pati token comes from signing
//! in with the stored phone and password; the host signs in again when it expires (one
//! sign-in per account at a time, shared by its watches), and stops trying after the
//! site refuses the password, so an account is never locked by retries.

mod browse;
mod cancel;

use crate::runner::{Backend, Built};
use crate::runtime::{Pacers, SharedStore};
use crate::store::SiteAccount;
use crate::{logging, webhook};
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::patient::mask_phone;
use haoyuan_core::platforms::{open91160, pati, Event as WatchEvent};
use haoyuan_core::protocol::{BookingIntent, ErrorBody, ErrorCode};
use haoyuan_core::watch::{Mode, Platform, Target, Watch};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a request to either platform may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The 91160 account name used when a watch names none.
pub const DEFAULT_91160_ACCOUNT: &str = "default";
/// After a sign-in that failed for another reason than the password (no reply, the
/// site busy), the next try waits this long (doubling up to [`LOGIN_RETRY_MAX_MS`]).
const LOGIN_RETRY_MS: i64 = 30_000;
const LOGIN_RETRY_MAX_MS: i64 = 10 * 60_000;

fn now_ms() -> i64 {
    crate::dispatch::now_ms()
}

/// The 91160 base URL when the account names none: `HAOYUAN_91160_BASE`, else the
/// real platform.
pub fn base_91160(account: &SiteAccount) -> String {
    if !account.base_url.trim().is_empty() {
        return account.base_url.trim().to_string();
    }
    std::env::var("HAOYUAN_91160_BASE")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            Platform::Open91160
                .default_base_url()
                .unwrap_or("https://openapi.91160.com")
                .to_string()
        })
}

/// The secret string `key` of a stored account (`app_token`, `password`).
fn secret_of(account: &SiteAccount, key: &str) -> String {
    account
        .secret
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// A pati token in memory and when it was obtained.
#[derive(Clone, Default)]
struct Token {
    token: String,
    at: i64,
}

/// The 91160 and pati part of one host process.
pub struct Service {
    data_dir: PathBuf,
    store: SharedStore,
    pacers: Pacers,
    /// pati tokens by phone (mirrors the store's `token` column).
    tokens: Mutex<HashMap<String, Token>>,
    /// One sign-in at a time per pati account.
    logins: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Print hints for the terminal (`haoyuan-host run`).
    pub terminal: bool,
}

fn site_failed(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::SiteFailed, message)
}

impl Service {
    pub fn new(data_dir: PathBuf) -> Service {
        Service {
            store: SharedStore::new(&data_dir),
            data_dir,
            pacers: Pacers::default(),
            tokens: Mutex::new(HashMap::new()),
            logins: Mutex::new(HashMap::new()),
            terminal: false,
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The stored account, or a `not_found` error naming what to do.
    /// A pati account may be named by its masked phone (`138****5678`, as lists show
    /// it) when that stands for exactly one stored account: the browser never needs the
    /// whole number.
    pub fn account(&self, platform: Platform, name: &str) -> Result<SiteAccount, ErrorBody> {
        let name = account_name(platform, name);
        let mut found = self
            .store
            .with(|s| s.site_account_get(platform.id(), &name))?;
        if found.is_none() && platform == Platform::Pati && name.contains('*') {
            let all = self
                .store
                .with(|s| s.site_account_list(Some(platform.id())))?;
            let mut like = all.into_iter().filter(|a| mask_phone(&a.account) == name);
            found = match (like.next(), like.next()) {
                (Some(a), None) => Some(a),
                (Some(_), Some(_)) => {
                    return Err(ErrorBody::new(
                        ErrorCode::BadParams,
                        format!("more than one pati account looks like “{name}”: give the whole phone number"),
                    ))
                }
                _ => None,
            };
        }
        found.ok_or_else(|| {
                ErrorBody::new(
                    ErrorCode::NotFound,
                    match platform {
                        Platform::Open91160 => format!(
                            "no 91160 appToken named “{name}” is stored (add it: haoyuan-host account add 91160 {name})"
                        ),
                        _ => format!(
                            "the pati account {} is not stored (add it with its hospital's address and password)",
                            mask_phone(&name)
                        ),
                    },
                )
            })
    }

    /// Sends `req` as is.
    fn execute(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        webhook::execute(req, REQUEST_TIMEOUT)
    }

    // ---- pati tokens -----------------------------------------------------------

    /// The pati account's current token (memory, else the store), if any.
    fn pati_token(&self, phone: &str) -> Option<Token> {
        if let Some(t) = self.tokens.lock().ok().and_then(|m| m.get(phone).cloned()) {
            if !t.token.is_empty() {
                return Some(t);
            }
        }
        let acc = self.account(Platform::Pati, phone).ok()?;
        if acc.token.is_empty() {
            return None;
        }
        let t = Token {
            token: acc.token,
            at: acc.token_at,
        };
        if let Ok(mut m) = self.tokens.lock() {
            m.insert(phone.to_string(), t.clone());
        }
        Some(t)
    }

    /// Sends a pati request with the account's `token` header (signing in first when
    /// there is no token yet). Returns the reply and when its token was obtained.
    pub fn pati_send(&self, phone: &str, req: HttpRequest) -> Result<(HttpResponse, i64), String> {
        let t = match self.pati_token(phone) {
            Some(t) => t,
            None => self.pati_login(phone, 0).map_err(|e| e.message)?,
        };
        let resp = self.execute(&req.header("token", t.token))?;
        Ok((resp, t.at))
    }

    /// Signs the pati account in with its stored password, unless another watch did so
    /// after `stale_at` (then its token is used). Returns the token.
    fn pati_login(&self, phone: &str, stale_at: i64) -> Result<Token, ErrorBody> {
        let lock = {
            let mut m = self
                .logins
                .lock()
                .map_err(|_| ErrorBody::new(ErrorCode::Internal, "lock poisoned"))?;
            m.entry(phone.to_string()).or_default().clone()
        };
        let _one = lock
            .lock()
            .map_err(|_| ErrorBody::new(ErrorCode::Internal, "lock poisoned"))?;
        if let Some(t) = self.pati_token(phone) {
            if t.at > stale_at {
                return Ok(t);
            }
        }
        let acc = self.account(Platform::Pati, phone)?;
        let password = secret_of(&acc, "password");
        if password.is_empty() {
            return Err(ErrorBody::new(
                ErrorCode::LoginFailed,
                format!(
                    "no password is stored for the pati account {}",
                    mask_phone(phone)
                ),
            ));
        }
        let site = pati::site::Site::new(&acc.base_url);
        let resp = self.execute(&site.login(phone, &password)).map_err(|e| {
            site_failed(format!(
                "the hospital's server did not answer the sign-in: {e}"
            ))
        })?;
        match pati::site::read_login(&resp) {
            Ok(login) => {
                let t = Token {
                    token: login.token,
                    at: now_ms(),
                };
                let _ = self
                    .store
                    .with(|s| s.site_token_set("pati", phone, &t.token, t.at));
                if let Ok(mut m) = self.tokens.lock() {
                    m.insert(phone.to_string(), t.clone());
                }
                logging::info("pati sign-in renewed");
                Ok(t)
            }
            Err(e) => Err(ErrorBody::new(
                if matches!(
                    e,
                    pati::site::SiteError::Refused {
                        code: 2001..=2003,
                        ..
                    }
                ) {
                    ErrorCode::LoginFailed
                } else {
                    ErrorCode::SiteFailed
                },
                format!("pati sign-in for {} failed: {e}", mask_phone(phone)),
            )),
        }
    }

    /// Forgets the pati account's token (the site refused it).
    fn pati_token_refused(&self, phone: &str, token_at: i64) {
        if let Ok(mut m) = self.tokens.lock() {
            if m.get(phone).is_some_and(|t| t.at <= token_at) {
                m.remove(phone);
            }
        }
    }

    // ---- watches ------------------------------------------------------------------

    /// The driver and backend of a 91160 or pati watch.
    pub fn build(
        self: &Arc<Self>,
        watch: &Watch,
        intent: Option<&BookingIntent>,
        seed: u64,
    ) -> Built {
        match &watch.target {
            Target::Open91160 {
                account,
                patient_id,
                ..
            } => {
                let acc = self
                    .account(Platform::Open91160, account)
                    .map_err(|e| e.message)?;
                let token = secret_of(&acc, "app_token");
                let patient = if patient_id.trim().is_empty() {
                    None
                } else {
                    match self.store.with(|s| s.patient_get(patient_id.trim())) {
                        Ok(Some(p)) => Some(p),
                        Ok(None) => {
                            return Err(format!(
                                "the patient “{patient_id}” is no longer in the patient book; choose another"
                            ))
                        }
                        Err(e) => return Err(e.message),
                    }
                };
                if watch.mode == Mode::Book && patient.is_none() {
                    return Err("a watch that books needs a patient from the patient book".into());
                }
                let site = open91160::site::Site::new(&base_91160(&acc));
                let w = open91160::watcher::Watcher::new(watch, site, token, patient, intent, seed)
                    .map_err(|e| e.to_string())?;
                Ok((
                    Box::new(w),
                    Box::new(Backend91160 {
                        svc: self.clone(),
                        account: acc.account,
                    }),
                ))
            }
            Target::Pati { account, .. } => {
                let acc = self
                    .account(Platform::Pati, account)
                    .map_err(|e| e.message)?;
                let site = pati::site::Site::new(&acc.base_url);
                let w = pati::watcher::Watcher::new(watch, site, intent, seed)
                    .map_err(|e| e.to_string())?;
                Ok((
                    Box::new(w),
                    Box::new(BackendPati {
                        svc: self.clone(),
                        phone: acc.account,
                        sent_with: Mutex::new(0),
                    }),
                ))
            }
            _ => Err("not a 91160 or pati watch".into()),
        }
    }
}

/// The stored name of an account: 91160's default name when empty, else trimmed.
pub fn account_name(platform: Platform, name: &str) -> String {
    let name = name.trim();
    if name.is_empty() && platform == Platform::Open91160 {
        DEFAULT_91160_ACCOUNT.to_string()
    } else {
        name.to_string()
    }
}

/// Sleeps up to `ms`, in steps, unless `stop`. False when stopped.
fn nap(ms: i64, stop: &dyn Fn() -> bool) -> bool {
    let until = now_ms() + ms;
    while now_ms() < until {
        if stop() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !stop()
}

/// A 91160 watch's requests (the appToken is in them already).
struct Backend91160 {
    svc: Arc<Service>,
    account: String,
}

impl Backend for Backend91160 {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        self.svc.pacers.departed(&format!("91160:{}", self.account));
        self.svc.execute(&req)
    }
    fn pace(&self, stop: &dyn Fn() -> bool) {
        self.svc
            .pacers
            .pace(&format!("91160:{}", self.account), stop);
    }
    fn renew(
        &self,
        _message: &str,
        _tell: &mut dyn FnMut(WatchEvent),
        stop: &dyn Fn() -> bool,
    ) -> Option<Option<String>> {
        // Only the person can replace a 91160 appToken: wait for a newer one.
        if self.svc.terminal {
            eprintln!(
                "91160 ({}): the appToken was rejected — store a new one with `haoyuan-host account add 91160 {}`",
                self.account, self.account
            );
        }
        let since = now_ms();
        loop {
            if !nap(1_000, stop) {
                return None;
            }
            if let Ok(acc) = self.svc.account(Platform::Open91160, &self.account) {
                if acc.updated_at >= since {
                    return Some(Some(secret_of(&acc, "app_token")));
                }
            }
        }
    }
}

/// A pati watch's requests, with the account's token header.
struct BackendPati {
    svc: Arc<Service>,
    phone: String,
    /// When the token of the last request was obtained.
    sent_with: Mutex<i64>,
}

impl Backend for BackendPati {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        self.svc.pacers.departed(&format!("pati:{}", self.phone));
        let (resp, token_at) = self.svc.pati_send(&self.phone, req)?;
        if let Ok(mut s) = self.sent_with.lock() {
            *s = token_at;
        }
        Ok(resp)
    }
    fn pace(&self, stop: &dyn Fn() -> bool) {
        self.svc.pacers.pace(&format!("pati:{}", self.phone), stop);
    }
    fn refused(&self) {
        let at = self.sent_with.lock().map(|s| *s).unwrap_or(0);
        self.svc.pati_token_refused(&self.phone, at);
    }
    fn renew(
        &self,
        _message: &str,
        tell: &mut dyn FnMut(WatchEvent),
        stop: &dyn Fn() -> bool,
    ) -> Option<Option<String>> {
        let mut retry = LOGIN_RETRY_MS;
        loop {
            let stale = self.sent_with.lock().map(|s| *s).unwrap_or(0);
            match self.svc.pati_login(&self.phone, stale) {
                Ok(_) => {
                    tell(WatchEvent::new(
                        "signed_in",
                        "the pati sign-in had expired; signed in again with the stored password",
                        json!({}),
                    ));
                    return Some(None);
                }
                Err(e) if e.code == ErrorCode::LoginFailed => {
                    // The password is refused: never retry it (the site locks accounts).
                    tell(WatchEvent::new(
                        "session_expired",
                        format!(
                            "{} — the watch waits until the account's password is updated",
                            e.message
                        ),
                        json!({}),
                    ));
                    if self.svc.terminal {
                        eprintln!("{}", e.message);
                    }
                    let since = now_ms();
                    loop {
                        if !nap(1_000, stop) {
                            return None;
                        }
                        if self
                            .svc
                            .account(Platform::Pati, &self.phone)
                            .is_ok_and(|a| a.updated_at >= since)
                        {
                            break;
                        }
                    }
                }
                Err(e) => {
                    tell(WatchEvent::new(
                        "error",
                        format!("{}; trying again in {} s", e.message, retry / 1000),
                        json!({}),
                    ));
                    if !nap(retry, stop) {
                        return None;
                    }
                    retry = (retry * 2).min(LOGIN_RETRY_MAX_MS);
                }
            }
        }
    }
}
