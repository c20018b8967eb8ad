//! 12306 in the host: the platform runs outside the browser, so the host executes the
//! core's sans-IO flows (`haoyuan_core::platforms::rail12306`) with its native HTTP
//! client (no redirects followed, as the flows expect) and a cookie jar per account,
//! kept in the store so a restarted host goes on without a new login.
//!
//! - [`Service`]: what the browser (dispatch) and the command line ask of 12306: sign
//!   an account in with the captcha relayed as a [`Prompt`], answer prompts, list the
//!   accounts, search stations; and what the watch runner shares: jars, per-account
//!   pacing, order captchas.
//! - The watches themselves are run by [`crate::runner`] (with 91160 and pati).
//! - [`cli`]: `haoyuan-host run` and `haoyuan-host login 12306 ACCOUNT`.
//!
//! Configuration from the environment: `HAOYUAN_12306_BASE` (the site, default
//! `https://kyfw.12306.cn`), `HAOYUAN_12306_PRESALE_DAYS`, `HAOYUAN_12306_QUEUE_POLL_MS`,
//! `HAOYUAN_12306_QUEUE_MAX_POLLS` (see [`Tuning`]).

pub mod cli;

use crate::runtime::{EventSink, Pacers, SharedStore};
use crate::store::{RailSession, Store};
use crate::{logging, webhook};
use haoyuan_core::cookies::CookieJar;
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::platforms::rail12306::login::{Login, LoginStep};
use haoyuan_core::platforms::rail12306::site::{Site, DEFAULT_BASE};
use haoyuan_core::platforms::rail12306::stations::{parse_station_names, Stations};
use haoyuan_core::platforms::rail12306::watcher::Tuning;
use haoyuan_core::protocol::{
    CaptchaAnswer, ErrorBody, ErrorCode, Event, Prompt, PromptAnswered, PromptClosed, RailAccount,
    RailAccounts, RailStation, RailStations,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a request to 12306 may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
pub use crate::runtime::{Sink, PACE_SPACING_MS};
/// How long a captcha waits for the person.
pub const PROMPT_TTL_MS: i64 = 5 * 60_000;

/// The settings read from the environment.
pub fn site_from_env() -> Site {
    Site::new(
        &std::env::var("HAOYUAN_12306_BASE")
            .ok()
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_string()),
    )
}

/// [`Tuning`] with the environment's overrides.
pub fn tuning_from_env() -> Tuning {
    let mut t = Tuning::default();
    let num = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(v) = num("HAOYUAN_12306_PRESALE_DAYS") {
        t.presale_days = v.clamp(1, 60) as u32;
    }
    if let Some(v) = num("HAOYUAN_12306_QUEUE_POLL_MS") {
        t.queue_poll_ms = v.clamp(100, 60_000);
    }
    if let Some(v) = num("HAOYUAN_12306_QUEUE_MAX_POLLS") {
        t.queue_max_polls = v.clamp(1, 200) as u32;
    }
    t
}

fn now_ms() -> i64 {
    crate::dispatch::now_ms()
}

/// A prompt waiting on the person.
struct Pending {
    prompt: Prompt,
    /// A login under way (its machine and its fresh jar), or `None` for an order captcha.
    login: Option<(Login, CookieJar)>,
    answer: Option<CaptchaAnswer>,
}

/// A jar in memory and the store's `updated_at` it was loaded at.
struct Session {
    jar: CookieJar,
    loaded_at: i64,
    /// When the store was last asked for a newer session.
    checked_at: i64,
}

/// The 12306 part of one host process.
pub struct Service {
    data_dir: PathBuf,
    site: Site,
    tuning: Tuning,
    sessions: Mutex<HashMap<String, Session>>,
    pacers: Pacers,
    prompts: Mutex<Vec<Pending>>,
    answered: Condvar,
    sink: EventSink,
    store: SharedStore,
    stations: Mutex<Option<(String, Arc<Stations>)>>,
    /// Write order captchas to files and read answers from the terminal (`run`).
    pub terminal: bool,
}

fn gone(id: &str) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::PromptGone,
        format!(
            "the question “{id}” is no longer waiting (answered, timed out, or the host restarted)"
        ),
    )
}

fn data_url(png: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

impl Service {
    /// The service for the data in `data_dir`, with the site and tuning of the
    /// environment.
    pub fn new(data_dir: PathBuf) -> Service {
        Service::with_site(data_dir, site_from_env(), tuning_from_env())
    }

    /// As [`Service::new`] with a given site and tuning.
    pub fn with_site(data_dir: PathBuf, site: Site, tuning: Tuning) -> Service {
        Service {
            store: SharedStore::new(&data_dir),
            data_dir,
            site,
            tuning,
            sessions: Mutex::new(HashMap::new()),
            pacers: Pacers::default(),
            prompts: Mutex::new(Vec::new()),
            answered: Condvar::new(),
            sink: EventSink::default(),
            stations: Mutex::new(None),
            terminal: false,
        }
    }

    /// The site this service talks to.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The runner's knobs.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Where this process's events go from now on.
    pub fn set_sink(&self, sink: Sink) {
        self.sink.set(sink);
    }

    /// Pushes an event to this process's sink.
    pub fn push(&self, event: &Event) {
        self.sink.push(event);
    }

    /// Runs `f` on this service's own connection to the store.
    fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, ErrorBody> {
        self.store.with(f)
    }

    // ---- HTTP with an account's jar ---------------------------------------------

    /// Sends `req` with `account`'s cookies (an empty account: an anonymous jar kept in
    /// memory) and keeps what the site sets.
    pub fn send(&self, account: &str, req: HttpRequest) -> Result<HttpResponse, String> {
        let req = {
            let mut sessions = self
                .sessions
                .lock()
                .map_err(|_| "internal: lock poisoned")?;
            self.refresh_session(&mut sessions, account);
            let s = sessions.entry(account.to_string()).or_insert(Session {
                jar: CookieJar::new(),
                loaded_at: 0,
                checked_at: 0,
            });
            s.jar.apply(req)
        };
        self.pacers.departed(account);
        let resp = webhook::execute(&req, REQUEST_TIMEOUT)?;
        if resp.headers_all("set-cookie").next().is_some() {
            let mut sessions = self
                .sessions
                .lock()
                .map_err(|_| "internal: lock poisoned")?;
            if let Some(s) = sessions.get_mut(account) {
                let before = s.jar.clone();
                s.jar.absorb(&resp, now_ms());
                if s.jar != before && !account.is_empty() {
                    if let Ok(json) = serde_json::to_string(&s.jar) {
                        let _ = self.with_store(|st| st.rail_session_cookies(account, &json));
                    }
                }
            }
        }
        Ok(resp)
    }

    /// Reloads an account's jar when the store has a newer session (a login by another
    /// process or connection).
    fn refresh_session(&self, sessions: &mut HashMap<String, Session>, account: &str) {
        if account.is_empty() {
            return;
        }
        // At most every 2 s: a login elsewhere is rare, a request is not.
        let now = now_ms();
        if let Some(s) = sessions.get_mut(account) {
            if now - s.checked_at < 2_000 {
                return;
            }
            s.checked_at = now;
        }
        let Ok(Some(stored)) = self.with_store(|s| s.rail_session(account)) else {
            return;
        };
        let stale = sessions
            .get(account)
            .is_none_or(|s| s.loaded_at < stored.updated_at && stored.signed_in);
        if stale {
            let jar = serde_json::from_str(&stored.cookies).unwrap_or_default();
            sessions.insert(
                account.to_string(),
                Session {
                    jar,
                    loaded_at: stored.updated_at,
                    checked_at: now,
                },
            );
        }
    }

    /// The account's stored session, if any.
    pub fn session(&self, account: &str) -> Option<RailSession> {
        self.with_store(|s| s.rail_session(account)).ok().flatten()
    }

    /// Drops the account's jar from memory: the next request loads the stored session
    /// (after a login, possibly by another process).
    pub fn reload_session(&self, account: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(account);
        }
    }

    /// Marks the account's session ended.
    pub fn session_ended(&self, account: &str) {
        let _ = self.with_store(|s| s.rail_session_ended(account, now_ms()));
    }

    /// Waits (sleeping) until `account` may send a request that starts something new,
    /// keeping the account's poll starts ≥ 1 s apart across its watches, in the order
    /// they asked.
    pub fn pace(&self, account: &str, stop: &dyn Fn() -> bool) {
        self.pacers.pace(account, stop);
    }

    // ---- prompts -----------------------------------------------------------------

    fn open_prompt(
        &self,
        kind: &str,
        account: &str,
        watch_id: Option<&str>,
        png: &[u8],
        message: String,
        login: Option<(Login, CookieJar)>,
    ) -> Prompt {
        let prompt = Prompt {
            id: prompt_id(),
            kind: kind.into(),
            account: account.into(),
            watch_id: watch_id.map(str::to_string),
            message,
            image: data_url(png),
            expires_at: now_ms() + PROMPT_TTL_MS,
        };
        if let Ok(mut p) = self.prompts.lock() {
            p.retain(|x| x.prompt.expires_at > now_ms());
            p.push(Pending {
                prompt: prompt.clone(),
                login,
                answer: None,
            });
        }
        if self.terminal {
            let file = self.data_dir.join(format!("captcha-{}.png", prompt.id));
            match std::fs::write(&file, png) {
                Ok(()) => eprintln!(
                    "\n{} ({account}): {}\n  the picture: {}\n  type the numbers of the matching tiles (1–8, top row 1–4, bottom row 5–8) and Enter:",
                    prompt.id,
                    prompt.message,
                    file.display()
                ),
                Err(e) => eprintln!("could not write the captcha picture to {}: {e}", file.display()),
            }
        }
        self.push(&Event::Prompt(prompt.clone()));
        prompt
    }

    fn close_prompt(&self, id: &str) {
        if let Ok(mut p) = self.prompts.lock() {
            p.retain(|x| x.prompt.id != id);
        }
        let _ = std::fs::remove_file(self.data_dir.join(format!("captcha-{id}.png")));
        self.push(&Event::PromptClosed(PromptClosed { id: id.to_string() }));
    }

    /// Shows an order captcha and waits for the answer (or `None` after the time
    /// limit, or when `stop` says so).
    pub fn ask_order_captcha(
        &self,
        account: &str,
        watch_id: &str,
        png: &[u8],
        message: String,
        stop: &dyn Fn() -> bool,
    ) -> Option<CaptchaAnswer> {
        let prompt = self.open_prompt("order_captcha", account, Some(watch_id), png, message, None);
        let mut guard = self.prompts.lock().ok()?;
        loop {
            let pos = guard.iter().position(|x| x.prompt.id == prompt.id);
            match pos {
                Some(i) if guard[i].answer.is_some() => {
                    let a = guard.remove(i).answer;
                    drop(guard);
                    self.close_prompt(&prompt.id);
                    return a;
                }
                Some(_) if now_ms() < prompt.expires_at && !stop() => {}
                _ => {
                    drop(guard);
                    self.close_prompt(&prompt.id);
                    return None;
                }
            }
            guard = self
                .answered
                .wait_timeout(guard, Duration::from_millis(250))
                .ok()?
                .0;
        }
    }

    /// The prompts waiting on the person.
    pub fn prompts(&self) -> Vec<Prompt> {
        let now = now_ms();
        self.prompts
            .lock()
            .map(|p| {
                p.iter()
                    .filter(|x| x.prompt.expires_at > now)
                    .map(|x| x.prompt.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The oldest waiting order captcha (for answers typed at a terminal).
    pub fn oldest_prompt(&self) -> Option<Prompt> {
        self.prompts().into_iter().next()
    }

    // ---- login ------------------------------------------------------------------

    /// Starts signing `account` in; answers the captcha to show.
    pub fn login_begin(&self, account: &str, password: &str) -> Result<Prompt, ErrorBody> {
        let account = account.trim();
        if account.is_empty() || password.is_empty() {
            return Err(ErrorBody::new(
                ErrorCode::BadParams,
                "give the 12306 account and its password",
            ));
        }
        let seed = now_ms() as u64 ^ u64::from(std::process::id());
        let (login, step) = Login::start(self.site.clone(), account, password, seed);
        self.drive_login(login, CookieJar::new(), step)
            .and_then(|done| match done {
                LoginDone::Prompt(p) => Ok(p),
                LoginDone::Finished(holder) => Err(ErrorBody::new(
                    ErrorCode::Internal,
                    format!("12306 signed {holder} in without a captcha"),
                )),
            })
    }

    /// Runs a login until it needs the person or ends.
    fn drive_login(
        &self,
        mut login: Login,
        mut jar: CookieJar,
        mut step: LoginStep,
    ) -> Result<LoginDone, ErrorBody> {
        loop {
            step = match step {
                LoginStep::Send { request, purpose } => {
                    let resp =
                        webhook::execute(&jar.apply(request), REQUEST_TIMEOUT).map_err(|e| {
                            ErrorBody::new(
                                ErrorCode::SiteFailed,
                                format!(
                                    "12306 could not be reached during sign-in ({purpose}): {e}"
                                ),
                            )
                        })?;
                    jar.absorb(&resp, now_ms());
                    login.feed(&resp)
                }
                LoginStep::Captcha { png, message } => {
                    let account = login.account().to_string();
                    let p = self.open_prompt(
                        "login_captcha",
                        &account,
                        None,
                        &png,
                        message,
                        Some((login, jar)),
                    );
                    return Ok(LoginDone::Prompt(p));
                }
                LoginStep::Done { holder } => {
                    let account = login.account().to_string();
                    let cookies = serde_json::to_string(&jar).unwrap_or_else(|_| "{}".into());
                    let now = now_ms();
                    self.with_store(|s| {
                        s.rail_session_put(&RailSession {
                            account: account.clone(),
                            holder: holder.clone(),
                            cookies,
                            signed_in: true,
                            updated_at: now,
                        })
                    })?;
                    if let Ok(mut s) = self.sessions.lock() {
                        s.insert(
                            account.clone(),
                            Session {
                                jar,
                                loaded_at: now,
                                checked_at: now,
                            },
                        );
                    }
                    logging::info("12306 sign-in finished");
                    return Ok(LoginDone::Finished(holder));
                }
                LoginStep::Failed { message, .. } => {
                    return Err(ErrorBody::new(ErrorCode::LoginFailed, message));
                }
            };
        }
    }

    /// The person's answer to prompt `id`.
    pub fn answer(&self, id: &str, answer: &CaptchaAnswer) -> Result<PromptAnswered, ErrorBody> {
        let login = {
            let mut p = self.prompts.lock().map_err(|_| gone(id))?;
            let i = p
                .iter()
                .position(|x| x.prompt.id == id && x.prompt.expires_at > now_ms())
                .ok_or_else(|| gone(id))?;
            if p[i].login.is_none() {
                if p[i].answer.is_some() {
                    return Err(gone(id));
                }
                p[i].answer = Some(answer.clone());
                self.answered.notify_all();
                return Ok(PromptAnswered {
                    state: "done".into(),
                    message: "answer passed on to 12306; the order goes on".into(),
                    prompt: None,
                });
            }
            p.remove(i).login
        };
        self.close_prompt(id);
        let Some((mut login, jar)) = login else {
            return Err(gone(id));
        };
        let step = login.answer(answer);
        match self.drive_login(login, jar, step) {
            Ok(LoginDone::Finished(holder)) => Ok(PromptAnswered {
                state: "done".into(),
                message: format!("signed in to 12306 as {holder}"),
                prompt: None,
            }),
            Ok(LoginDone::Prompt(p)) => Ok(PromptAnswered {
                state: "again".into(),
                message: p.message.clone(),
                prompt: Some(p),
            }),
            Err(e) if e.code == ErrorCode::LoginFailed => Ok(PromptAnswered {
                state: "failed".into(),
                message: e.message,
                prompt: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// The accounts with a session.
    pub fn accounts(&self) -> Result<RailAccounts, ErrorBody> {
        let list = self.with_store(|s| s.rail_sessions())?;
        Ok(RailAccounts {
            accounts: list
                .into_iter()
                .map(|s| RailAccount {
                    account: s.account,
                    holder: s.holder,
                    signed_in: s.signed_in,
                    updated_at: s.updated_at,
                })
                .collect(),
        })
    }

    // ---- stations -----------------------------------------------------------------

    fn load_stations(&self) -> Result<(String, Arc<Stations>), ErrorBody> {
        if let Ok(g) = self.stations.lock() {
            if let Some(s) = g.as_ref() {
                return Ok(s.clone());
            }
        }
        let cache = self.data_dir.join("station_name.js");
        let version_file = self.data_dir.join("station_name.version");
        let fresh = std::fs::metadata(&cache)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < Duration::from_secs(7 * 86_400));
        let (text, version) = if fresh {
            (
                std::fs::read_to_string(&cache).unwrap_or_default(),
                std::fs::read_to_string(&version_file).unwrap_or_default(),
            )
        } else {
            let fetched = self.send("", self.site.station_names()).map_err(|e| {
                ErrorBody::new(
                    ErrorCode::SiteFailed,
                    format!("12306's station list could not be fetched: {e}"),
                )
            })?;
            if !fetched.is_success() {
                return Err(ErrorBody::new(
                    ErrorCode::SiteFailed,
                    format!(
                        "12306's station list could not be fetched (HTTP {})",
                        fetched.status
                    ),
                ));
            }
            let text = String::from_utf8_lossy(&fetched.body).into_owned();
            // The version the site announces (login/conf), kept beside the file.
            let version = self
                .send("", self.site.login_conf())
                .ok()
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
                .and_then(|v| {
                    v.pointer("/data/station_version")
                        .map(|x| x.to_string().trim_matches('"').to_string())
                })
                .unwrap_or_default();
            let _ = std::fs::write(&cache, &text);
            let _ = std::fs::write(&version_file, &version);
            (text, version)
        };
        let parsed = parse_station_names(&text).map_err(|e| {
            let _ = std::fs::remove_file(&cache);
            ErrorBody::new(
                ErrorCode::SiteFailed,
                format!("12306's station list is unreadable: {e}"),
            )
        })?;
        let entry = (version, Arc::new(parsed));
        if let Ok(mut g) = self.stations.lock() {
            *g = Some(entry.clone());
        }
        Ok(entry)
    }

    /// Stations matching `query`.
    pub fn stations(&self, query: &str, limit: usize) -> Result<RailStations, ErrorBody> {
        let (version, all) = self.load_stations()?;
        Ok(RailStations {
            version,
            stations: all
                .search(query, limit)
                .into_iter()
                .map(|s| RailStation {
                    name: s.name.clone(),
                    telecode: s.telecode.clone(),
                    pinyin: s.pinyin.clone(),
                    abbr: s.abbr.clone(),
                    city: s.city.clone(),
                })
                .collect(),
        })
    }
}

/// A fresh prompt id: `p-` and 16 random hex digits (prompts live in memory only).
fn prompt_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = (now_ms() as u64 ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes();
    }
    format!(
        "p-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Where a login got to.
enum LoginDone {
    Prompt(Prompt),
    Finished(String),
}
