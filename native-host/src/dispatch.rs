//! Protocol requests → store operations → replies (and the events they cause).
//!
//! The host validates every watch itself, against today's date in China (the
//! platforms' calendar), whatever the extension checked before sending it. When the
//! database cannot be opened the host still answers `hello` (saying why) and every store
//! command with the same plain-words error; it tries the database again on each command,
//! so a lock released or a disk freed is picked up without a restart.

use crate::outbox::{new_notice_id, Deliver};
use crate::paths;
use crate::settings;
use crate::store::{Outcome, Store, Telling};
use haoyuan_core::date::Date;
use haoyuan_core::notify::{self, Channel, DeliveryError, Notice};
use haoyuan_core::patient::{self, IdType, Patient};
use haoyuan_core::protocol::{
    BookingBegun, BookingEnded, BookingFound, ChannelsView, Deleted, ErrorBody, ErrorCode, Event,
    Hello, HistoryEntry, PatientBook, PatientSaved, PromptList, Prompted, Request,
    SiteAccountDeleted, SiteAccountSaved, SiteAccountView, SiteAccounts, TestResult, DEFAULT_PAGE,
    MAX_PAGE, PROTOCOL_MAJOR,
};
use haoyuan_core::watch::{Platform, Watch};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// China Standard Time, minutes east of UTC: the calendar of every platform.
pub const CHINA_OFFSET_MINUTES: i32 = 480;

/// A handler's answer: the reply's result and any events to push after it.
#[derive(Debug)]
pub struct Handled {
    pub result: Result<Value, ErrorBody>,
    pub events: Vec<Event>,
}

impl Handled {
    /// A success with no events.
    pub fn ok(data: Value) -> Handled {
        Handled {
            result: Ok(data),
            events: Vec::new(),
        }
    }

    fn from<T: Serialize>(result: Result<T, ErrorBody>, events: Vec<Event>) -> Handled {
        let result = result.and_then(|data| {
            serde_json::to_value(data).map_err(|e| {
                ErrorBody::new(
                    ErrorCode::Internal,
                    format!("could not encode the reply: {e}"),
                )
            })
        });
        Handled { result, events }
    }
}

/// The host's state for one connection.
pub struct Host {
    data_dir: PathBuf,
    store: Option<Store>,
    store_error: Option<ErrorBody>,
    clock: Box<dyn Fn() -> i64>,
    /// Sends `send_test` messages (and is what the outbox sender uses).
    deliver: Box<dyn Deliver>,
    /// Tells this process's outbox sender that something was queued.
    wake: Option<std::sync::mpsc::Sender<()>>,
    /// 12306: logins, prompts, stations (shared with this process's watch runner).
    rail: std::sync::Arc<crate::rail::Service>,
    /// 91160 and pati: accounts, pickers, cancelling (shared with the watch runner).
    sites: std::sync::Arc<crate::sites::Service>,
    /// 浙里办 sync (shared with this process's sync loop).
    zlb: std::sync::Arc<crate::zlb::Service>,
}

/// A deliverer for hosts built without channels (tests of other parts).
struct NoChannels;

impl Deliver for NoChannels {
    fn deliver(
        &mut self,
        channel: Channel,
        _: &notify::ChannelSettings,
        _: &Notice,
    ) -> Result<String, DeliveryError> {
        Err(DeliveryError::permanent(format!(
            "{} cannot be used by this host",
            channel.id()
        )))
    }
}

/// History kinds the host itself records; `event_record` may not forge them.
const HOST_KINDS: [&str; 5] = ["created", "updated", "deleted", "paused", "resumed"];

/// The current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Host {
    /// Opens the store in `data_dir`; a failure is kept and reported, not fatal.
    pub fn open(data_dir: &Path) -> Host {
        Host::with_clock(data_dir, Box::new(now_ms))
    }

    /// As [`Host::open`], with a clock (Unix ms) for tests.
    pub fn with_clock(data_dir: &Path, clock: Box<dyn Fn() -> i64>) -> Host {
        let mut host = Host {
            data_dir: data_dir.to_path_buf(),
            store: None,
            store_error: None,
            clock,
            deliver: Box::new(NoChannels),
            wake: None,
            rail: std::sync::Arc::new(crate::rail::Service::new(data_dir.to_path_buf())),
            sites: std::sync::Arc::new(crate::sites::Service::new(data_dir.to_path_buf())),
            zlb: std::sync::Arc::new(crate::zlb::Service::new(data_dir.to_path_buf())),
        };
        let _ = host.store();
        host
    }

    /// Sends through real channels and wakes this process's outbox sender.
    pub fn with_channels(
        mut self,
        deliver: Box<dyn Deliver>,
        wake: std::sync::mpsc::Sender<()>,
    ) -> Host {
        self.deliver = deliver;
        self.wake = Some(wake);
        self
    }

    /// Uses `rail` (shared with a watch runner) for the 12306 commands.
    pub fn with_rail(mut self, rail: std::sync::Arc<crate::rail::Service>) -> Host {
        self.rail = rail;
        self
    }

    fn rail(&self) -> &crate::rail::Service {
        &self.rail
    }

    /// Uses `sites` (shared with a watch runner) for the 91160 and pati commands.
    pub fn with_sites(mut self, sites: std::sync::Arc<crate::sites::Service>) -> Host {
        self.sites = sites;
        self
    }

    /// Uses `zlb` (shared with a sync loop) for the 浙里办 commands.
    pub fn with_zlb(mut self, zlb: std::sync::Arc<crate::zlb::Service>) -> Host {
        self.zlb = zlb;
        self
    }

    fn sites(&self) -> &crate::sites::Service {
        &self.sites
    }

    fn channel_settings(&self) -> Result<notify::ChannelSettings, ErrorBody> {
        settings::load(&self.data_dir).map_err(|e| ErrorBody::new(ErrorCode::StoreFailed, e))
    }

    fn channels_view(s: &notify::ChannelSettings) -> ChannelsView {
        let (settings, secrets_set) = s.redacted();
        ChannelsView {
            settings,
            secrets_set,
        }
    }

    fn record(
        &mut self,
        watch_id: String,
        kind: String,
        message: String,
        data: Value,
        now: i64,
    ) -> Handled {
        let valid_kind = !kind.is_empty()
            && kind.len() <= 32
            && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            && !HOST_KINDS.contains(&kind.as_str());
        if !valid_kind {
            return Handled::from::<()>(
                Err(ErrorBody::new(
                    ErrorCode::BadParams,
                    format!("“{kind}” is not a kind of event the extension may record"),
                )),
                Vec::new(),
            );
        }
        if let Err(e) = check_event_size(&message, &data) {
            return Handled::from::<()>(Err(e), Vec::new());
        }
        let settings = match self.channel_settings() {
            Ok(s) => s,
            Err(e) => return Handled::from::<()>(Err(e), Vec::new()),
        };
        let watch = match self
            .store()
            .and_then(|s| s.get_watch(&watch_id).map_err(ErrorBody::from))
        {
            Ok(Some(w)) => Some(w),
            Ok(None) if kind == "sync_result" => None,
            Ok(None) => return Handled::from::<()>(Err(not_found(&watch_id)), Vec::new()),
            Err(e) => return Handled::from::<()>(Err(e), Vec::new()),
        };
        let channels = if notify::notifies(&kind) {
            settings.enabled()
        } else {
            Vec::new()
        };
        let lang = settings.language;
        let mut render = |entry: &haoyuan_core::protocol::HistoryEntry| {
            Some(notify::render::render(
                &new_notice_id(),
                watch.as_ref(),
                entry,
                lang,
            ))
        };
        let recorded = self.store().and_then(|s| {
            s.record_event_with_notice(
                &watch_id,
                &kind,
                &message,
                &data,
                now,
                &channels,
                &mut render,
            )
            .map_err(ErrorBody::from)
        });
        match recorded {
            Ok((entry, queued)) => {
                if queued.is_some() {
                    if let Some(w) = &self.wake {
                        let _ = w.send(());
                    }
                }
                Handled::from(Ok(entry.clone()), vec![Event::WatchEvent(entry)])
            }
            Err(e) => Handled::from::<()>(Err(e), Vec::new()),
        }
    }

    /// The channels an event of `kind` is queued for, and the language of its message.
    fn telling_for(&self, kind: &str) -> Result<(Vec<Channel>, notify::Lang), ErrorBody> {
        let settings = self.channel_settings()?;
        let channels = if notify::notifies(kind) {
            settings.enabled()
        } else {
            Vec::new()
        };
        Ok((channels, settings.language))
    }

    /// Tells this process's outbox sender that a message was queued.
    fn wake_sender(&self) {
        if let Some(w) = &self.wake {
            let _ = w.send(());
        }
    }

    /// `booking_begin`: see [`Store::booking_begin`].
    fn booking_begin(&mut self, watch_id: String, data: Value, now: i64) -> Handled {
        let message = data
            .get("message")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or("order submitted")
            .to_string();
        if let Err(e) = check_event_size(&message, &data) {
            return Handled::from::<()>(Err(e), Vec::new());
        }
        let (channels, lang) = match self.telling_for("booking_submitted") {
            Ok(t) => t,
            Err(e) => return Handled::from::<()>(Err(e), Vec::new()),
        };
        let mut render = |entry: &HistoryEntry, watch: Option<&Watch>| {
            Some(notify::render::render(&new_notice_id(), watch, entry, lang))
        };
        let tell = Telling {
            channels: &channels,
            render: &mut render,
        };
        let begun = self.store().and_then(|s| {
            s.booking_begin(&watch_id, &message, &data, now, tell)
                .map_err(ErrorBody::from)
        });
        match begun {
            Ok((intent, entry, queued)) => {
                if queued.is_some() {
                    self.wake_sender();
                }
                Handled::from(
                    Ok(BookingBegun {
                        intent,
                        entry: entry.clone(),
                    }),
                    vec![Event::WatchEvent(entry)],
                )
            }
            Err(e) => Handled::from::<()>(Err(e), Vec::new()),
        }
    }

    /// `booking_end`: see [`Store::booking_end`].
    fn booking_end(
        &mut self,
        watch_id: String,
        intent_id: String,
        outcome: Outcome<'_>,
        now: i64,
    ) -> Handled {
        if let Err(e) = check_event_size(outcome.message, outcome.data) {
            return Handled::from::<()>(Err(e), Vec::new());
        }
        let (channels, lang) = match self.telling_for(outcome.result.event_kind()) {
            Ok(t) => t,
            Err(e) => return Handled::from::<()>(Err(e), Vec::new()),
        };
        let mut render = |entry: &HistoryEntry, watch: Option<&Watch>| {
            Some(notify::render::render(&new_notice_id(), watch, entry, lang))
        };
        let tell = Telling {
            channels: &channels,
            render: &mut render,
        };
        let ended = self.store().and_then(|s| {
            s.booking_end(&watch_id, &intent_id, outcome, now, tell)
                .map_err(ErrorBody::from)
        });
        match ended {
            Ok((intent, entry, queued)) => {
                if queued.is_some() {
                    self.wake_sender();
                }
                let events = entry.iter().cloned().map(Event::WatchEvent).collect();
                Handled::from(Ok(BookingEnded { intent, entry }), events)
            }
            Err(e) => Handled::from::<()>(Err(e), Vec::new()),
        }
    }

    /// `patient_put`: tidies the typed values, checks the patient against today in
    /// China and stores it; answers it masked.
    pub fn patient_put(&mut self, patient: Patient, now: i64) -> Result<PatientSaved, ErrorBody> {
        let patient = tidy_patient(patient);
        let today = Date::from_unix_ms(now, CHINA_OFFSET_MINUTES);
        let problems = patient.validate(today);
        if !problems.is_empty() {
            return Err(ErrorBody::invalid_patient(problems));
        }
        let stored = self
            .store()?
            .patient_put(&patient, now)
            .map_err(ErrorBody::from)?;
        Ok(PatientSaved {
            patient: stored.masked(),
        })
    }

    /// `patient_list`: the book, masked.
    pub fn patient_list(&mut self) -> Result<PatientBook, ErrorBody> {
        let patients = self.store()?.patient_list().map_err(ErrorBody::from)?;
        Ok(PatientBook {
            patients: patients.iter().map(Patient::masked).collect(),
        })
    }

    /// `patient_delete`: removes a patient (watches naming it are left as they are).
    pub fn patient_delete(&mut self, id: String) -> Result<Deleted, ErrorBody> {
        if self.store()?.patient_delete(&id).map_err(ErrorBody::from)? {
            Ok(Deleted { id })
        } else {
            Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("there is no patient “{id}” in the book (it may have been deleted)"),
            ))
        }
    }

    /// `site_account_put`: checks the account, base URL and secret and stores them.
    pub fn site_account_put(
        &mut self,
        platform: &str,
        account: &str,
        base_url: &str,
        secret: &Value,
        now: i64,
    ) -> Result<SiteAccountSaved, ErrorBody> {
        let platform = site_platform(platform)?;
        let account = account.trim();
        let bad = |m: String| ErrorBody::new(ErrorCode::BadParams, m);
        if account.is_empty() || account.chars().count() > 64 {
            return Err(bad(
                "the account name is required (at most 64 characters)".into()
            ));
        }
        if account.chars().any(|c| c.is_control() || c == '*') {
            return Err(bad(
                "the account name must not contain control characters or *".into(),
            ));
        }
        if platform == Platform::Pati && !patient::is_mobile(account) {
            return Err(bad(
                "a pati account is the phone number it signs in with (11 digits)".into(),
            ));
        }
        let base_url = if base_url.trim().is_empty() {
            if platform == Platform::Pati {
                return Err(bad(
                    "a pati account needs the hospital server's address (base_url)".into(),
                ));
            }
            String::new()
        } else {
            haoyuan_core::form::validate_base_url(base_url)
                .map_err(|e| bad(format!("base_url: {e}")))?
        };
        let secret = site_secret(platform, secret)?;
        let stored = self
            .store()?
            .site_account_put(platform.id(), account, &base_url, secret.as_ref(), now)
            .map_err(ErrorBody::from)?;
        Ok(SiteAccountSaved {
            account: site_account_view(&stored),
        })
    }

    /// `site_accounts`: the stored accounts without secrets.
    pub fn site_accounts(&mut self, platform: Option<&str>) -> Result<SiteAccounts, ErrorBody> {
        let platform = platform.map(site_platform).transpose()?;
        let accounts = self
            .store()?
            .site_account_list(platform.map(Platform::id))
            .map_err(ErrorBody::from)?;
        Ok(SiteAccounts {
            accounts: accounts.iter().map(site_account_view).collect(),
        })
    }

    /// The stored account `account` names: itself, or (as `site_accounts` shows pati
    /// phones masked) the one stored account of `platform` with that masked form.
    fn resolve_account(&mut self, platform: Platform, account: &str) -> Result<String, ErrorBody> {
        let account = account.trim();
        if !account.contains('*') {
            return Ok(account.to_string());
        }
        let all = self
            .store()?
            .site_account_list(Some(platform.id()))
            .map_err(ErrorBody::from)?;
        let mut matching = all
            .iter()
            .filter(|a| site_account_view(a).account == account);
        match (matching.next(), matching.next()) {
            (Some(a), None) => Ok(a.account.clone()),
            (Some(_), Some(_)) => Err(ErrorBody::new(
                ErrorCode::BadParams,
                format!(
                    "more than one {} account looks like “{account}”: give the whole phone number",
                    platform.id()
                ),
            )),
            (None, _) => Ok(account.to_string()),
        }
    }

    /// `site_account_delete`: forgets an account and its secret.
    pub fn site_account_delete(
        &mut self,
        platform: &str,
        account: &str,
    ) -> Result<SiteAccountDeleted, ErrorBody> {
        let platform = site_platform(platform)?;
        let account = self.resolve_account(platform, account)?;
        if self
            .store()?
            .site_account_delete(platform.id(), &account)
            .map_err(ErrorBody::from)?
        {
            Ok(SiteAccountDeleted {
                platform: platform.id().to_string(),
                account: display_account(platform.id(), &account),
            })
        } else {
            Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!(
                    "there is no stored {} account “{}”",
                    platform.id(),
                    display_account(platform.id(), &account)
                ),
            ))
        }
    }

    /// `booking_cancel` (also the command line's `cancel`).
    pub fn booking_cancel(&self, watch_id: &str, reason: &str) -> Result<Value, ErrorBody> {
        self.sites().cancel(watch_id, reason)
    }

    fn send_test(&mut self, channel: Channel, now: i64) -> Handled {
        let settings = match self.channel_settings() {
            Ok(s) => s,
            Err(e) => return Handled::from::<()>(Err(e), Vec::new()),
        };
        if let Err(why) = settings.configured(channel) {
            return Handled::from::<()>(
                Err(ErrorBody::new(ErrorCode::ChannelNotConfigured, why)),
                Vec::new(),
            );
        }
        let notice = notify::render::test_notice(&new_notice_id(), settings.language, now);
        match self.deliver.deliver(channel, &settings, &notice) {
            Ok(detail) => Handled::from(Ok(TestResult { channel, detail }), Vec::new()),
            Err(e) => Handled::from::<()>(
                Err(ErrorBody::new(
                    ErrorCode::ChannelFailed,
                    format!("{} test failed: {}", channel.id(), e.message),
                )),
                Vec::new(),
            ),
        }
    }

    /// The store, opening it if an earlier attempt failed.
    fn store(&mut self) -> Result<&mut Store, ErrorBody> {
        if self.store.is_none() {
            match Store::open(&paths::database_path(&self.data_dir)) {
                Ok(s) => {
                    self.store = Some(s);
                    self.store_error = None;
                }
                Err(e) => {
                    let body = ErrorBody::from(e);
                    crate::logging::error(&format!("store unavailable: {}", body.message));
                    self.store_error = Some(body.clone());
                    return Err(body);
                }
            }
        }
        self.store
            .as_mut()
            .ok_or_else(|| ErrorBody::new(ErrorCode::StoreFailed, "the database is not open"))
    }

    /// Answers one request.
    pub fn handle(&mut self, request: Request) -> Handled {
        let now = (self.clock)();
        match request {
            Request::Hello {} => {
                let store_error = self.store().err();
                Handled::from::<Hello>(
                    Ok(Hello {
                        protocol: PROTOCOL_MAJOR,
                        version: crate::VERSION.to_string(),
                        data_dir: self.data_dir.display().to_string(),
                        store_error,
                    }),
                    Vec::new(),
                )
            }
            Request::WatchPut { watch } => {
                let today = Date::from_unix_ms(now, CHINA_OFFSET_MINUTES);
                let problems = watch.validate(today);
                if !problems.is_empty() {
                    return Handled::from::<()>(
                        Err(ErrorBody::invalid_watch(problems)),
                        Vec::new(),
                    );
                }
                match self
                    .store()
                    .and_then(|s| s.put_watch(watch, now).map_err(ErrorBody::from))
                {
                    Ok((stored, entry)) => {
                        Handled::from(Ok(stored), vec![Event::WatchEvent(entry)])
                    }
                    Err(e) => Handled::from::<()>(Err(e), Vec::new()),
                }
            }
            Request::WatchGet { id } => {
                let found = self
                    .store()
                    .and_then(|s| s.get_watch(&id).map_err(ErrorBody::from));
                Handled::from(
                    found.and_then(|w| w.ok_or_else(|| not_found(&id))),
                    Vec::new(),
                )
            }
            Request::WatchList { after, limit } => {
                let limit = page_size(limit);
                let page = self.store().and_then(|s| {
                    s.list_watches(after.as_deref(), limit)
                        .map_err(ErrorBody::from)
                });
                Handled::from(page, Vec::new())
            }
            Request::WatchDelete { id } => {
                match self
                    .store()
                    .and_then(|s| s.delete_watch(&id, now).map_err(ErrorBody::from))
                {
                    Ok(Some(entry)) => {
                        Handled::from(Ok(Deleted { id }), vec![Event::WatchEvent(entry)])
                    }
                    Ok(None) => Handled::from::<()>(Err(not_found(&id)), Vec::new()),
                    Err(e) => Handled::from::<()>(Err(e), Vec::new()),
                }
            }
            Request::WatchPause { id, paused } => {
                match self
                    .store()
                    .and_then(|s| s.set_paused(&id, paused, now).map_err(ErrorBody::from))
                {
                    Ok(Some((watch, entry))) => {
                        Handled::from(Ok(watch), vec![Event::WatchEvent(entry)])
                    }
                    Ok(None) => Handled::from::<()>(Err(not_found(&id)), Vec::new()),
                    Err(e) => Handled::from::<()>(Err(e), Vec::new()),
                }
            }
            Request::EventRecord {
                watch_id,
                kind,
                message,
                data,
            } => self.record(watch_id, kind, message, data, now),
            Request::ChannelsGet {} => Handled::from(
                self.channel_settings().map(|s| Host::channels_view(&s)),
                Vec::new(),
            ),
            Request::ChannelsPut {
                settings: update,
                clear_secrets,
            } => {
                let merged = match self.channel_settings() {
                    Ok(current) => current.merged(update, &clear_secrets),
                    // A damaged file is replaced by what the person saves now.
                    Err(_) => notify::ChannelSettings::default().merged(update, &clear_secrets),
                };
                let problems = merged.validate();
                if !problems.is_empty() {
                    let message = problems
                        .iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    let mut body = ErrorBody::new(
                        ErrorCode::InvalidSettings,
                        format!("the settings were not saved — {message}"),
                    );
                    body.fields = problems;
                    return Handled::from::<()>(Err(body), Vec::new());
                }
                let saved = settings::save(&self.data_dir, &merged)
                    .map_err(|e| ErrorBody::new(ErrorCode::StoreUnwritable, e))
                    .map(|()| Host::channels_view(&merged));
                Handled::from(saved, Vec::new())
            }
            Request::SendTest { channel } => self.send_test(channel, now),
            Request::SendTestEmail {} => self.send_test(Channel::Email, now),
            Request::OutboxStatus {} => {
                let status = self.channel_settings().and_then(|cs| {
                    self.store()
                        .and_then(|s| s.outbox_status(&cs).map_err(ErrorBody::from))
                });
                Handled::from(status, Vec::new())
            }
            Request::BookingBegin { watch_id, data } => self.booking_begin(watch_id, data, now),
            Request::BookingEnd {
                watch_id,
                intent_id,
                result,
                message,
                data,
            } => self.booking_end(
                watch_id,
                intent_id,
                Outcome {
                    result,
                    message: &message,
                    data: &data,
                },
                now,
            ),
            Request::RailLogin { account, password } => Handled::from(
                self.rail()
                    .login_begin(&account, &password)
                    .map(|prompt| Prompted { prompt }),
                Vec::new(),
            ),
            Request::RailAccounts {} => Handled::from(self.rail().accounts(), Vec::new()),
            Request::RailStations { query, limit } => Handled::from(
                self.rail()
                    .stations(&query, limit.unwrap_or(20).clamp(1, 200) as usize),
                Vec::new(),
            ),
            Request::PromptList {} => Handled::from::<PromptList>(
                Ok(PromptList {
                    prompts: self.rail().prompts(),
                }),
                Vec::new(),
            ),
            Request::PromptAnswer { id, answer } => {
                Handled::from(self.rail().answer(&id, &answer), Vec::new())
            }
            Request::PatientPut { patient } => {
                Handled::from(self.patient_put(patient, now), Vec::new())
            }
            Request::PatientList {} => Handled::from(self.patient_list(), Vec::new()),
            Request::PatientDelete { id } => Handled::from(self.patient_delete(id), Vec::new()),
            Request::SiteAccountPut {
                platform,
                account,
                base_url,
                secret,
            } => Handled::from(
                self.site_account_put(&platform, &account, &base_url, &secret.0, now),
                Vec::new(),
            ),
            Request::SiteAccounts { platform } => {
                Handled::from(self.site_accounts(platform.as_deref()), Vec::new())
            }
            Request::SiteAccountDelete { platform, account } => {
                Handled::from(self.site_account_delete(&platform, &account), Vec::new())
            }
            Request::SiteBrowse {
                platform,
                account,
                what,
                parent,
                refresh,
            } => {
                let browsed = site_platform(&platform).and_then(|p| {
                    let account = self.resolve_account(p, &account)?;
                    self.sites().browse(p, &account, &what, &parent, refresh)
                });
                Handled::from(browsed, Vec::new())
            }
            Request::BookingCancel { watch_id, reason } => {
                match self.booking_cancel(&watch_id, &reason) {
                    // Cancelled at the site: the watch's history says so (and notifies).
                    Ok(v) => {
                        let message = v
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("booking cancelled")
                            .to_string();
                        let recorded =
                            self.record(watch_id, "cancelled".into(), message, v.clone(), now);
                        Handled {
                            result: recorded.result.map(|_| v),
                            events: recorded.events,
                        }
                    }
                    Err(e) => Handled::from::<()>(Err(e), Vec::new()),
                }
            }
            Request::ZlbConfigPut {
                base_url,
                apikey,
                secret,
                aes_key,
                interval_s,
                notify,
            } => {
                let input = crate::zlb::ConfigInput {
                    base_url,
                    apikey,
                    secret,
                    aes_key,
                    interval_s,
                    notify,
                };
                Handled::from(self.zlb.config_put(&input), Vec::new())
            }
            Request::ZlbConfigGet {} => Handled::from(self.zlb.config_view(), Vec::new()),
            Request::ZlbTest {} => Handled::from(
                self.zlb
                    .test()
                    .map(|message| serde_json::json!({"ok": true, "message": message})),
                Vec::new(),
            ),
            Request::ZlbSync {} => Handled::from(self.zlb.sync_now(), Vec::new()),
            Request::ZlbList {
                from,
                to,
                query,
                include_cancelled,
                limit,
            } => {
                let f = crate::zlb::ListFilter::new(from, to, query, include_cancelled);
                Handled::from(self.zlb.list(&f, limit), Vec::new())
            }
            Request::ZlbArrive { serial, at } => {
                Handled::from(self.zlb.arrive(&serial, at.as_deref()), Vec::new())
            }
            Request::ZlbRejects {} => Handled::from(self.zlb.rejects(), Vec::new()),
            Request::ZlbRejectRelease { serial } => {
                Handled::from(self.zlb.release_reject(&serial), Vec::new())
            }
            Request::ZlbExport {
                from,
                to,
                query,
                include_cancelled,
            } => Handled::from(
                self.zlb.export(&crate::zlb::ListFilter::new(
                    from,
                    to,
                    query,
                    include_cancelled,
                )),
                Vec::new(),
            ),
            Request::BookingGet { watch_id } => {
                let found = self
                    .store()
                    .and_then(|s| s.booking_get(&watch_id).map_err(ErrorBody::from))
                    .map(|intent| BookingFound { intent });
                Handled::from(found, Vec::new())
            }
            Request::HistoryList {
                watch_id,
                before,
                limit,
            } => {
                let limit = page_size(limit);
                let page = self
                    .store()
                    .and_then(|s| s.history(&watch_id, before, limit).map_err(ErrorBody::from));
                Handled::from(page, Vec::new())
            }
        }
    }
}

/// Refuses an event too large to keep: a sentence over 2000 characters or data over
/// 16 KiB of JSON.
fn check_event_size(message: &str, data: &Value) -> Result<(), ErrorBody> {
    if message.chars().count() > 2000 || data.to_string().len() > 16 * 1024 {
        return Err(ErrorBody::new(
            ErrorCode::BadParams,
            "the event is too large",
        ));
    }
    Ok(())
}

/// The platform of a `site_*` command: `91160` or `pati`, else `bad_params`.
fn site_platform(id: &str) -> Result<Platform, ErrorBody> {
    match Platform::from_id(id.trim()) {
        Some(p @ (Platform::Open91160 | Platform::Pati)) => Ok(p),
        _ => Err(ErrorBody::new(
            ErrorCode::BadParams,
            format!("“{id}” is not a site with stored accounts (91160 or pati)"),
        )),
    }
}

/// The secret of a `site_account_put`: `None` (keep the stored one) when blank, else
/// 91160 `{"app_token"}` / pati `{"password"}` and nothing more. Errors never quote it.
fn site_secret(platform: Platform, secret: &Value) -> Result<Option<Value>, ErrorBody> {
    let key = match platform {
        Platform::Pati => "password",
        _ => "app_token",
    };
    let shape = || {
        ErrorBody::new(
            ErrorCode::BadParams,
            format!(
                "the secret of a {} account is {{\"{key}\": \"…\"}}",
                platform.id()
            ),
        )
    };
    let obj = match secret {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(shape()),
    };
    if obj.keys().any(|k| k != key) {
        return Err(shape());
    }
    let value = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(shape()),
    };
    // A token is trimmed; a password is kept exactly as typed.
    let value = if platform == Platform::Pati {
        value.clone()
    } else {
        value.trim().to_string()
    };
    if value.trim().is_empty() {
        return Ok(None);
    }
    if value.chars().count() > 512 || value.chars().any(char::is_control) {
        return Err(ErrorBody::new(
            ErrorCode::BadParams,
            format!("the {key} is too long or contains control characters"),
        ));
    }
    Ok(Some(serde_json::json!({ key: value })))
}

/// An account as lists show it: a pati phone masked.
fn display_account(platform: &str, account: &str) -> String {
    if platform == Platform::Pati.id() {
        patient::mask_phone(account)
    } else {
        account.to_string()
    }
}

/// A stored account without its secret or token.
pub fn site_account_view(a: &crate::store::SiteAccount) -> SiteAccountView {
    SiteAccountView {
        platform: a.platform.clone(),
        account: display_account(&a.platform, &a.account),
        base_url: a.base_url.clone(),
        has_secret: a.has_secret(),
        signed_in: !a.token.is_empty(),
        updated_at: a.updated_at,
    }
}

/// A patient with surrounding spaces removed from what is typed, and a 身份证's `x`
/// upper-cased.
pub(crate) fn tidy_patient(mut p: Patient) -> Patient {
    fn tidy(s: &mut String) {
        let t = s.trim();
        if t.len() != s.len() {
            *s = t.to_string();
        }
    }
    for s in [
        &mut p.id,
        &mut p.name,
        &mut p.id_number,
        &mut p.phone,
        &mut p.address,
        &mut p.card_no,
        &mut p.clinic_no,
    ] {
        tidy(s);
    }
    if p.id_type == IdType::ResidentId {
        p.id_number = p.id_number.to_ascii_uppercase();
    }
    if let Some(g) = &mut p.guardian {
        for s in [&mut g.name, &mut g.id_number, &mut g.phone, &mut g.relation] {
            tidy(s);
        }
        if g.id_type == IdType::ResidentId {
            g.id_number = g.id_number.to_ascii_uppercase();
        }
    }
    p
}

fn page_size(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

fn not_found(id: &str) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotFound,
        format!("there is no watch “{id}” (it may have been deleted)"),
    )
}
