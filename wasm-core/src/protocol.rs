//! The extension⇄host protocol (see `PROTOCOL.md`): one envelope, typed requests,
//! replies and events, and the stable error codes.
//!
//! Both sides use these types — the host as an rlib, the extension through the wasm
//! edge — so they cannot disagree about a message's shape. A frame on the wire is
//! `{"id": ..., "cmd": "...", "params": {...}}`; a reply is
//! `{"id": ..., "ok": true, "data": ...}` or `{"id": ..., "ok": false, "error": {...}}`;
//! an event the host sends unasked is `{"event": "...", "data": ...}`.

use crate::notify::{Channel, ChannelSettings};
use crate::patient::{Patient, PatientView};
use crate::watch::{FieldError, Watch};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol's major version. Bumped only for changes an older peer would
/// misunderstand; both sides refuse to work with a different major.
pub const PROTOCOL_MAJOR: u32 = 1;

/// The largest reply the host writes (Chrome drops the connection past 1 MiB).
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The largest message the host accepts from the browser (Chrome's own limit).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Default and largest page sizes of the paged list commands.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// A request from the extension (or any client) to the host, tagged by `cmd`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "cmd",
    content = "params",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Request {
    /// Handshake: the host answers with [`Hello`]. Sent first on every connection.
    Hello {},
    /// Create a watch (empty `id`) or replace the one with that id. Answers the stored
    /// [`Watch`], with its id and timestamps set.
    WatchPut { watch: Watch },
    /// One watch by id. Answers [`Watch`] or `not_found`.
    WatchGet { id: String },
    /// Watches in creation order, paged. Answers [`WatchPage`].
    WatchList {
        /// The `next` of the previous page; absent for the first page.
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Delete a watch; its history stays. Answers [`Deleted`] or `not_found`.
    WatchDelete { id: String },
    /// Events recorded for a watch, newest first, paged. Answers [`HistoryPage`].
    HistoryList {
        watch_id: String,
        /// The `next` of the previous page: only events older than this one.
        #[serde(default)]
        before: Option<i64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Pause (stop polling, keep the watch) or resume it. Answers the stored [`Watch`];
    /// records `paused` / `resumed`.
    WatchPause { id: String, paused: bool },
    /// Record something that happened to a watch (the extension's in-browser runtime
    /// reports what it found). Kinds of `notify::NOTIFY_KINDS` are written to the outbox
    /// of every enabled channel in the same transaction. Answers the [`HistoryEntry`] and
    /// pushes it as a `watch_event`.
    EventRecord {
        watch_id: String,
        kind: String,
        message: String,
        #[serde(default)]
        data: Value,
    },
    /// The notification channels, secrets blanked. Answers [`ChannelsView`].
    ChannelsGet {},
    /// Replace the channel settings. A blank secret keeps the stored one unless its
    /// path is in `clear_secrets`. Answers [`ChannelsView`] or `invalid_settings`.
    ChannelsPut {
        settings: ChannelSettings,
        #[serde(default)]
        clear_secrets: Vec<String>,
    },
    /// Send a test message through one channel now (not through the outbox) and say
    /// what its server answered. Answers [`TestResult`] or `channel_failed`.
    SendTest { channel: Channel },
    /// `send_test` for email.
    SendTestEmail {},
    /// Per-channel delivery state and recent final failures. Answers [`OutboxStatus`].
    OutboxStatus {},
    /// Say that an order is about to be sent to the site for this watch (before the
    /// site's `order/save`). In one transaction the host records a `submitted`
    /// [`BookingIntent`] and a `booking_submitted` event (message: `data.message` when
    /// it is a non-blank string, else "order submitted"), queued for notification like
    /// `event_record`. Refused with `booking_exists` while the watch has a blocking
    /// intent (`submitted`, `booked` or `unknown`): one watch never sends a second
    /// order. Answers [`BookingBegun`] and pushes the event as a `watch_event`.
    BookingBegin {
        watch_id: String,
        #[serde(default)]
        data: Value,
    },
    /// Say how a booking begun with `booking_begin` ended: sets the intent's state and
    /// records a `booked` / `booking_failed` / `outcome_unknown` event in one
    /// transaction. `failed` means the site made no order: the watch may book again.
    /// Idempotent: repeating the same result records nothing (`entry` is null); a
    /// different result for an ended intent is `bad_params`. Answers [`BookingEnded`].
    BookingEnd {
        watch_id: String,
        intent_id: String,
        result: BookingResult,
        message: String,
        #[serde(default)]
        data: Value,
    },
    /// The watch's blocking intent, if any (also for a deleted watch): while there is
    /// one the watch must not book. Answers [`BookingFound`].
    BookingGet { watch_id: String },
    /// Sign a 12306 account in (steps 1–7 of seed 003). The host fetches the login page
    /// and the picture captcha and answers [`Prompted`] with the captcha to show; the
    /// person's clicks go to `prompt_answer`, which finishes the login. The password is
    /// held in memory for this login only, never stored or logged.
    RailLogin { account: String, password: String },
    /// The 12306 accounts the host has sessions for. Answers [`RailAccounts`].
    RailAccounts {},
    /// Stations whose name, pinyin, abbreviation, telecode or city matches `query`
    /// (from `station_name.js`, cached with its version). Answers [`RailStations`].
    RailStations {
        query: String,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// The questions the host is waiting on (captchas at login or before an order).
    /// Answers [`PromptList`].
    PromptList {},
    /// The person's answer to a prompt: the picture tiles they clicked. Answers
    /// [`PromptAnswered`] (a login goes on at once: `done`, or a new captcha when the
    /// site refused the clicks), or `prompt_gone` when it was answered, timed out or
    /// never existed.
    PromptAnswer { id: String, answer: CaptchaAnswer },
    /// Add a patient to the book (empty `id`) or replace the one with that id (keeping
    /// its `created_at`). Checked against today's date in China: `invalid_patient` with
    /// `fields` when it fails. Answers [`PatientSaved`] (masked).
    PatientPut { patient: Patient },
    /// The patient book, masked (never a full name, ID number or phone). Answers
    /// [`PatientBook`].
    PatientList {},
    /// Remove a patient from the book. Watches naming it stay (they fail to book until
    /// given another patient). Answers [`Deleted`] or `not_found`.
    PatientDelete { id: String },
    /// Store a 91160 or pati account (insert or replace). `secret`: 91160
    /// `{"app_token": "…"}`, pati `{"password": "…"}` (`account` is then the phone and
    /// `base_url` the hospital's server, required). A blank or absent secret keeps the
    /// stored one. The secret never leaves the host's database. Answers
    /// [`SiteAccountSaved`].
    SiteAccountPut {
        platform: String,
        account: String,
        #[serde(default)]
        base_url: String,
        #[serde(default)]
        secret: Secret,
    },
    /// The stored 91160 / pati accounts (all, or one platform's), without secrets.
    /// Answers [`SiteAccounts`].
    SiteAccounts {
        #[serde(default)]
        platform: Option<String>,
    },
    /// Forget a stored 91160 / pati account and its secret. Answers [`SiteAccountDeleted`]
    /// or `not_found`.
    SiteAccountDelete { platform: String, account: String },
    /// A picker's list from a site, through a stored account. `what`: 91160 `units` |
    /// `deps` | `doctors`; pati `depts` | `doctors` | `members`. `parent`: `{unit_id}`,
    /// `{unit_id, dep_id}`, `{dept_id}`. Cached; `refresh` asks the site again. Answers
    /// `{items: [{id, name, detail}], total, cached_at}`.
    SiteBrowse {
        platform: String,
        account: String,
        what: String,
        #[serde(default)]
        parent: Value,
        #[serde(default)]
        refresh: bool,
    },
    /// Cancel the order a 91160 / pati watch booked, giving `reason` to the site. Answers
    /// `{watch_id, cancelled: true, message}`.
    BookingCancel { watch_id: String, reason: String },
    /// Store the 浙里办 sync settings of the hospital: the platform's `base_url`, the
    /// `apikey`, `secret` and `aes_key` it issued (secrets: a blank or absent one keeps
    /// the stored one; none ever leaves the host's database), the sync `interval_s`
    /// (at least 60) and how changes are told (`notify`). Answers [`ZlbConfigView`];
    /// `invalid_settings` with `fields` when a value is wrong.
    ZlbConfigPut {
        base_url: String,
        #[serde(default)]
        apikey: Secret,
        #[serde(default)]
        secret: Secret,
        #[serde(default)]
        aes_key: Secret,
        #[serde(default)]
        interval_s: Option<u32>,
        #[serde(default)]
        notify: Option<ZlbNotify>,
    },
    /// The 浙里办 settings without secrets, and how the last sync went. Answers
    /// [`ZlbConfigView`], or `not_configured`.
    ZlbConfigGet {},
    /// "Test connection": asks 浙里办 for a new token with the stored settings (this
    /// proves the apikey, secret and AES key both ways). Answers `{ok: true, message}`,
    /// or `site_failed` saying what is wrong.
    ZlbTest {},
    /// Sync now: tell pending arrivals, pull, store, acknowledge, until nothing new.
    /// Answers [`ZlbSynced`]; `site_failed` (with what was stored before) when it
    /// stopped.
    ZlbSync {},
    /// The stored reservations for the front desk (ID numbers and phones masked),
    /// ordered by check date then name: check dates `from`..=`to` (either open),
    /// matching `query` (part of the name, the serial number or the masked ID's visible
    /// digits), cancelled ones only with `include_cancelled`. Answers
    /// [`ZlbReservations`].
    ZlbList {
        #[serde(default)]
        from: Option<crate::date::Date>,
        #[serde(default)]
        to: Option<crate::date::Date>,
        #[serde(default)]
        query: String,
        #[serde(default)]
        include_cancelled: bool,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Mark a person arrived (`at`: Beijing `yyyy-MM-dd HH:mm[:ss]` or `HH:mm[:ss]`
    /// today; absent is now) and tell 浙里办. Answers [`ZlbArrived`]; `not_found`, or
    /// `reservation_cancelled`.
    ZlbArrive {
        serial: String,
        #[serde(default)]
        at: Option<String>,
    },
    /// The records 浙里办 delivered that failed the checks, with the reasons, newest
    /// first. Answers [`ZlbRejects`].
    ZlbRejects {},
    /// A person looked at a reject and has 浙里办 mark it received anyway (acked by
    /// `serialNumber`; e.g. after entering it by hand), so it stops coming back — and
    /// stops holding up the platform's queue. Answers `{serial, message}`; `not_found`
    /// when no unreleased reject has that serial number.
    ZlbRejectRelease { serial: String },
    /// The front desk's list as CSV (the same filters as `zlb_list`, masked the same
    /// way). Answers [`ZlbExport`].
    ZlbExport {
        #[serde(default)]
        from: Option<crate::date::Date>,
        #[serde(default)]
        to: Option<crate::date::Date>,
        #[serde(default)]
        query: String,
        #[serde(default)]
        include_cancelled: bool,
    },
}

/// How 浙里办 changes (new, rescheduled, cancelled reservations) are told through the
/// notification channels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZlbNotify {
    /// One message per change.
    #[default]
    Each,
    /// One message per sync round listing every change.
    Digest,
    /// Not told (the front desk looks at the list).
    Off,
}

impl ZlbNotify {
    pub fn as_str(self) -> &'static str {
        match self {
            ZlbNotify::Each => "each",
            ZlbNotify::Digest => "digest",
            ZlbNotify::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<ZlbNotify> {
        match s {
            "each" => Some(ZlbNotify::Each),
            "digest" => Some(ZlbNotify::Digest),
            "off" => Some(ZlbNotify::Off),
            _ => None,
        }
    }
}

/// The 浙里办 settings as shown: never the secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbConfigView {
    pub base_url: String,
    /// The apikey's first 4 characters and stars.
    pub apikey_masked: String,
    pub has_secret: bool,
    pub has_aes_key: bool,
    pub interval_s: u32,
    pub notify: ZlbNotify,
    /// A token is cached and not expired.
    pub has_token: bool,
    /// Unix ms of the last sync round that finished, and of the last failed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<i64>,
    /// Reservations stored, arrivals not yet told, rejects kept.
    pub reservations: u64,
    pub pending_arrivals: u64,
    pub rejects: u64,
}

/// Data of a `zlb_sync` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbSynced {
    pub summary: crate::platforms::zheliban::watcher::Summary,
    /// What changed: new, rescheduled, cancelled, updated reservations; repeats
    /// (deliveries identical to what was stored, after a crash before the ack).
    pub new: u32,
    pub rescheduled: u32,
    pub cancelled: u32,
    pub updated: u32,
    pub repeats: u32,
    /// One sentence for the front desk.
    pub message: String,
}

/// Data of a `zlb_list` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbReservations {
    pub reservations: Vec<crate::platforms::zheliban::ReservationView>,
    /// How many matched (the list stops at `limit`).
    pub total: u64,
    /// Today in Beijing, for the view's "today" and "upcoming".
    pub today: crate::date::Date,
}

/// Data of a `zlb_arrive` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbArrived {
    pub reservation: crate::platforms::zheliban::ReservationView,
    /// Told to 浙里办 now, or kept to tell on the next sync (with why).
    pub message: String,
}

/// A rejected delivery as shown (the ID number and phone in `raw` masked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbRejectView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    pub reason: String,
    pub raw: Value,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// How many times it was delivered.
    pub times: u32,
    /// When a person had it acknowledged anyway (`zlb_reject_release`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<i64>,
}

/// Data of a `zlb_rejects` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbRejects {
    pub rejects: Vec<ZlbRejectView>,
}

/// Data of a `zlb_export` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZlbExport {
    /// `zlb-reservations-<from>-<to>.csv`.
    pub filename: String,
    pub csv: String,
    pub rows: u64,
}

/// A secret as given in a request (any JSON): shown by `Debug` only as whether it is
/// set, so a logged or printed request never carries it.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub Value);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_null() {
            f.write_str("Secret(null)")
        } else {
            f.write_str("Secret(<redacted>)")
        }
    }
}

/// Data of a `patient_put` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientSaved {
    pub patient: PatientView,
}

/// Data of a `patient_list` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientBook {
    pub patients: Vec<PatientView>,
}

/// A stored 91160 / pati account as shown: never its secret or token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteAccountView {
    /// `91160` or `pati`.
    pub platform: String,
    /// The 91160 account's name, or the pati phone masked (138****5678).
    pub account: String,
    /// The pati server; empty for 91160.
    pub base_url: String,
    /// A token (91160) or password (pati) is stored.
    pub has_secret: bool,
    /// A session token is held (pati: signed in and not found expired since).
    pub signed_in: bool,
    pub updated_at: i64,
}

/// Data of a `site_account_put` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteAccountSaved {
    pub account: SiteAccountView,
}

/// Data of a `site_accounts` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteAccounts {
    pub accounts: Vec<SiteAccountView>,
}

/// Data of a `site_account_delete` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteAccountDeleted {
    pub platform: String,
    pub account: String,
}

/// Clicks on an 8-tile picture captcha: tile numbers (0–7, row by row) or points in
/// the picture's grid coordinates (what 12306 takes; the 30-pixel prompt strip above
/// the grid is not counted). At least one of the two.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptchaAnswer {
    #[serde(default)]
    pub tiles: Vec<u8>,
    #[serde(default)]
    pub points: Vec<[i32; 2]>,
}

/// A question for the person: a picture captcha to click.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `p-…`, for `prompt_answer`.
    pub id: String,
    /// `login_captcha` (signing in) or `order_captcha` (12306 asks before an order).
    pub kind: String,
    /// The 12306 account it is for.
    pub account: String,
    /// The watch waiting on it (order captchas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_id: Option<String>,
    /// What to do, in plain words (the site's instruction when it gave one).
    pub message: String,
    /// The picture: a `data:image/png;base64,…` URL.
    pub image: String,
    /// Unix ms after which the answer is no longer taken.
    pub expires_at: i64,
}

/// Data of a `rail_login` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prompted {
    pub prompt: Prompt,
}

/// Data of a `prompt_answer` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptAnswered {
    /// `done` (signed in, or the waiting order goes on), `again` (wrong clicks: answer
    /// `prompt`, a new captcha) or `failed` (the login cannot go on: `message` says why).
    pub state: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

/// Data of a `prompt_list` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptList {
    pub prompts: Vec<Prompt>,
}

/// One 12306 account the host knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RailAccount {
    pub account: String,
    /// The holder's name as 12306 gave it at login.
    pub holder: String,
    /// The last login succeeded and no request has found the session expired since.
    pub signed_in: bool,
    pub updated_at: i64,
}

/// Data of a `rail_accounts` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RailAccounts {
    pub accounts: Vec<RailAccount>,
}

/// One station of a `rail_stations` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RailStation {
    pub name: String,
    pub telecode: String,
    pub pinyin: String,
    pub abbr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// Data of a `rail_stations` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RailStations {
    /// `station_version` of the cached list.
    pub version: String,
    pub stations: Vec<RailStation>,
}

impl Request {
    /// Every `cmd` this protocol version knows, in the order of `PROTOCOL.md`.
    pub const COMMANDS: [&'static str; 38] = [
        "hello",
        "watch_put",
        "watch_get",
        "watch_list",
        "watch_delete",
        "history_list",
        "watch_pause",
        "event_record",
        "channels_get",
        "channels_put",
        "send_test",
        "send_test_email",
        "outbox_status",
        "booking_begin",
        "booking_end",
        "booking_get",
        "rail_login",
        "rail_accounts",
        "rail_stations",
        "prompt_list",
        "prompt_answer",
        "patient_put",
        "patient_list",
        "patient_delete",
        "site_account_put",
        "site_accounts",
        "site_account_delete",
        "site_browse",
        "booking_cancel",
        "zlb_config_put",
        "zlb_config_get",
        "zlb_test",
        "zlb_sync",
        "zlb_list",
        "zlb_arrive",
        "zlb_rejects",
        "zlb_reject_release",
        "zlb_export",
    ];

    /// The wire name of this request's command.
    pub fn cmd(&self) -> &'static str {
        match self {
            Request::Hello {} => "hello",
            Request::WatchPut { .. } => "watch_put",
            Request::WatchGet { .. } => "watch_get",
            Request::WatchList { .. } => "watch_list",
            Request::WatchDelete { .. } => "watch_delete",
            Request::HistoryList { .. } => "history_list",
            Request::WatchPause { .. } => "watch_pause",
            Request::EventRecord { .. } => "event_record",
            Request::ChannelsGet {} => "channels_get",
            Request::ChannelsPut { .. } => "channels_put",
            Request::SendTest { .. } => "send_test",
            Request::SendTestEmail {} => "send_test_email",
            Request::OutboxStatus {} => "outbox_status",
            Request::BookingBegin { .. } => "booking_begin",
            Request::BookingEnd { .. } => "booking_end",
            Request::BookingGet { .. } => "booking_get",
            Request::RailLogin { .. } => "rail_login",
            Request::RailAccounts {} => "rail_accounts",
            Request::RailStations { .. } => "rail_stations",
            Request::PromptList {} => "prompt_list",
            Request::PromptAnswer { .. } => "prompt_answer",
            Request::PatientPut { .. } => "patient_put",
            Request::PatientList {} => "patient_list",
            Request::PatientDelete { .. } => "patient_delete",
            Request::SiteAccountPut { .. } => "site_account_put",
            Request::SiteAccounts { .. } => "site_accounts",
            Request::SiteAccountDelete { .. } => "site_account_delete",
            Request::SiteBrowse { .. } => "site_browse",
            Request::BookingCancel { .. } => "booking_cancel",
            Request::ZlbConfigPut { .. } => "zlb_config_put",
            Request::ZlbConfigGet {} => "zlb_config_get",
            Request::ZlbTest {} => "zlb_test",
            Request::ZlbSync {} => "zlb_sync",
            Request::ZlbList { .. } => "zlb_list",
            Request::ZlbArrive { .. } => "zlb_arrive",
            Request::ZlbRejects {} => "zlb_rejects",
            Request::ZlbRejectRelease { .. } => "zlb_reject_release",
            Request::ZlbExport { .. } => "zlb_export",
        }
    }
}

/// The request id: whatever the client sent (string or number), echoed back;
/// `null` when the frame was too broken to read it.
pub type RequestId = Value;

/// A request as read off the wire: its id (kept even when the rest is bad, so that
/// the error reply can name it) and the parsed request.
#[derive(Debug)]
pub struct Envelope {
    pub id: RequestId,
    pub request: Result<Request, ErrorBody>,
}

/// Parses one frame's text into an [`Envelope`]. Never fails: a frame that is not a
/// request becomes an error with the id it carried, or `null`.
pub fn parse_request(text: &str) -> Envelope {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Envelope {
                id: Value::Null,
                request: Err(ErrorBody::new(
                    ErrorCode::BadJson,
                    format!("the message is not valid JSON: {e}"),
                )),
            }
        }
    };
    let Value::Object(mut obj) = value else {
        return Envelope {
            id: Value::Null,
            request: Err(ErrorBody::new(
                ErrorCode::BadRequest,
                "the message must be a JSON object",
            )),
        };
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    if !(id.is_string() || id.is_number() || id.is_null()) {
        return Envelope {
            id: Value::Null,
            request: Err(ErrorBody::new(
                ErrorCode::BadRequest,
                "\"id\" must be a string or a number",
            )),
        };
    }
    let request = request_from_parts(
        obj.remove("cmd"),
        obj.remove("params"),
        obj.keys().next().cloned(),
    );
    Envelope { id, request }
}

fn request_from_parts(
    cmd: Option<Value>,
    params: Option<Value>,
    extra: Option<String>,
) -> Result<Request, ErrorBody> {
    if let Some(key) = extra {
        return Err(ErrorBody::new(
            ErrorCode::BadRequest,
            format!("unexpected field \"{key}\" in the envelope"),
        ));
    }
    let cmd = match cmd {
        Some(Value::String(c)) => c,
        Some(_) => {
            return Err(ErrorBody::new(
                ErrorCode::BadRequest,
                "\"cmd\" must be a string",
            ))
        }
        None => {
            return Err(ErrorBody::new(
                ErrorCode::BadRequest,
                "the message has no \"cmd\"",
            ))
        }
    };
    if !Request::COMMANDS.contains(&cmd.as_str()) {
        return Err(ErrorBody::new(
            ErrorCode::UnknownCommand,
            format!("unknown command \"{cmd}\""),
        ));
    }
    let params = match params {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            return Err(ErrorBody::new(
                ErrorCode::BadParams,
                format!("\"params\" of {cmd} must be an object"),
            ))
        }
    };
    let tagged = serde_json::json!({ "cmd": cmd, "params": params });
    serde_json::from_value(tagged)
        .map_err(|e| ErrorBody::new(ErrorCode::BadParams, format!("bad params for {cmd}: {e}")))
}

/// Builds the text of a request frame; the extension uses this (through the wasm edge)
/// so that JS never writes protocol JSON by hand.
pub fn request_json(id: &RequestId, request: &Request) -> String {
    let mut v = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(obj) = &mut v {
        obj.insert("id".into(), id.clone());
    }
    v.to_string()
}

/// Stable error codes. **Append only**: never renumber, rename or reuse one; a client
/// that meets a code it does not know shows the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A frame the host could not read: not UTF-8, or shorter than its length said.
    BadFrame,
    /// A frame longer than [`MAX_REQUEST_BYTES`]; it was skipped unread.
    FrameTooLarge,
    /// The frame is not JSON.
    BadJson,
    /// JSON, but not a request envelope (not an object, no `cmd`, bad `id`).
    BadRequest,
    /// A `cmd` this host does not know (an older host: see `hello`).
    UnknownCommand,
    /// The `params` do not fit the command.
    BadParams,
    /// A watch that fails validation; `fields` names each problem.
    InvalidWatch,
    /// No such watch.
    NotFound,
    /// The reply would exceed [`MAX_REPLY_BYTES`]; ask for a smaller page.
    ReplyTooLarge,
    /// Another program holds the database locked.
    StoreLocked,
    /// The database file is damaged or is not Haoyuan's.
    StoreCorrupt,
    /// The database or its folder cannot be written (permissions, read-only disk).
    StoreUnwritable,
    /// The disk holding the database is full.
    DiskFull,
    /// Any other database failure.
    StoreFailed,
    /// A bug in the host (a handler panicked); the host keeps serving.
    Internal,
    /// Channel settings that fail validation; `fields` names each problem.
    InvalidSettings,
    /// A channel's server refused or could not be reached (`send_test`).
    ChannelFailed,
    /// The channel is not set up (no server, key or recipient).
    ChannelNotConfigured,
    /// `booking_begin` for a watch that already has an order submitted, booked or of
    /// unknown outcome: Haoyuan will not send a second one.
    BookingExists,
    /// 12306 refused the login (wrong password, unknown account) or it could not finish.
    LoginFailed,
    /// The prompt was answered already, timed out, or never existed.
    PromptGone,
    /// The site could not be reached or answered with something unreadable.
    SiteFailed,
    /// A patient that fails validation (`patient_put`); `fields` names each problem.
    InvalidPatient,
    /// The feature is not set up yet (浙里办 sync without settings).
    NotConfigured,
    /// The reservation was cancelled: a person cannot arrive for it.
    ReservationCancelled,
}

impl ErrorCode {
    /// The wire name, e.g. `bad_json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::BadParams => "bad_params",
            ErrorCode::InvalidWatch => "invalid_watch",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ReplyTooLarge => "reply_too_large",
            ErrorCode::StoreLocked => "store_locked",
            ErrorCode::StoreCorrupt => "store_corrupt",
            ErrorCode::StoreUnwritable => "store_unwritable",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::StoreFailed => "store_failed",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidSettings => "invalid_settings",
            ErrorCode::ChannelFailed => "channel_failed",
            ErrorCode::ChannelNotConfigured => "channel_not_configured",
            ErrorCode::BookingExists => "booking_exists",
            ErrorCode::LoginFailed => "login_failed",
            ErrorCode::PromptGone => "prompt_gone",
            ErrorCode::SiteFailed => "site_failed",
            ErrorCode::InvalidPatient => "invalid_patient",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::ReservationCancelled => "reservation_cancelled",
        }
    }

    /// Every code, in the (append-only) order of the table in `PROTOCOL.md`.
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::BadFrame,
        ErrorCode::FrameTooLarge,
        ErrorCode::BadJson,
        ErrorCode::BadRequest,
        ErrorCode::UnknownCommand,
        ErrorCode::BadParams,
        ErrorCode::InvalidWatch,
        ErrorCode::NotFound,
        ErrorCode::ReplyTooLarge,
        ErrorCode::StoreLocked,
        ErrorCode::StoreCorrupt,
        ErrorCode::StoreUnwritable,
        ErrorCode::DiskFull,
        ErrorCode::StoreFailed,
        ErrorCode::Internal,
        ErrorCode::InvalidSettings,
        ErrorCode::ChannelFailed,
        ErrorCode::ChannelNotConfigured,
        ErrorCode::BookingExists,
        ErrorCode::LoginFailed,
        ErrorCode::PromptGone,
        ErrorCode::SiteFailed,
        ErrorCode::InvalidPatient,
        ErrorCode::NotConfigured,
        ErrorCode::ReservationCancelled,
    ];
}

/// The `error` of a failed reply: a stable code and a sentence for the person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Per-field problems, for `invalid_watch`, `invalid_settings` and `invalid_patient`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// An `invalid_patient` error listing every field problem.
    pub fn invalid_patient(fields: Vec<FieldError>) -> ErrorBody {
        ErrorBody::field_errors(ErrorCode::InvalidPatient, "patient", fields)
    }

    /// An `invalid_watch` error listing every field problem.
    pub fn invalid_watch(fields: Vec<FieldError>) -> ErrorBody {
        ErrorBody::field_errors(ErrorCode::InvalidWatch, "watch", fields)
    }

    /// `code` with every field problem, in one sentence saying the `what` was not saved.
    pub fn field_errors(code: ErrorCode, what: &str, fields: Vec<FieldError>) -> ErrorBody {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        ErrorBody {
            code,
            message: format!("the {what} was not saved — {message}"),
            fields,
        }
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

impl std::error::Error for ErrorBody {}

/// Data of a `hello` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_MAJOR`] of the host.
    pub protocol: u32,
    /// The host's semver.
    pub version: String,
    /// Where the host keeps its database and log.
    pub data_dir: String,
    /// Set when the database cannot be used; store commands then fail with this error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<ErrorBody>,
}

/// Data of a `watch_list` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchPage {
    pub watches: Vec<Watch>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Data of a `watch_delete` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: String,
}

/// One thing that happened to a watch, as recorded by the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Increasing with time; the paging cursor.
    pub seq: i64,
    pub watch_id: String,
    /// Unix ms.
    pub at: i64,
    /// `created`, `updated`, `deleted`, and later issues' kinds (`slot_seen`, `booked`, …).
    pub kind: String,
    /// A sentence for the person.
    pub message: String,
    #[serde(default)]
    pub data: Value,
}

/// Data of a `history_list` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub events: Vec<HistoryEntry>,
    /// Pass as `before` to get older events; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Data of `channels_get` / `channels_put`: the settings with secrets blanked, and
/// which secrets are set (by dotted path, e.g. `email.password`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub settings: ChannelSettings,
    pub secrets_set: Vec<String>,
}

/// Data of `send_test`: what the channel's server answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub channel: Channel,
    /// E.g. `250 2.0.0 OK` or `HTTP 200 {"errcode":0}`.
    pub detail: String,
}

/// One channel's delivery state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStatus {
    pub channel: Channel,
    pub enabled: bool,
    /// Waiting or being retried.
    pub pending: u64,
    pub sent: u64,
    /// Given up on (the person was not told through this channel).
    pub failed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sent_at: Option<i64>,
    /// The last error of this channel, if its last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<i64>,
}

/// A message given up on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedNotice {
    pub id: String,
    pub channel: Channel,
    pub subject: String,
    pub error: String,
    pub at: i64,
}

/// Data of `outbox_status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxStatus {
    pub channels: Vec<ChannelStatus>,
    /// The most recent final failures, newest first.
    pub failures: Vec<FailedNotice>,
}

/// Where a booking intent stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// The order is being (or was) sent; the site's answer is not known yet.
    Submitted,
    /// The site confirmed the order.
    Booked,
    /// The site certainly made no order; the watch may book again.
    Failed,
    /// The order may or may not exist (e.g. the answer was lost); the person must check.
    Unknown,
}

impl BookingState {
    /// The wire name, e.g. `submitted`.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Submitted => "submitted",
            BookingState::Booked => "booked",
            BookingState::Failed => "failed",
            BookingState::Unknown => "unknown",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<BookingState> {
        match s {
            "submitted" => Some(BookingState::Submitted),
            "booked" => Some(BookingState::Booked),
            "failed" => Some(BookingState::Failed),
            "unknown" => Some(BookingState::Unknown),
            _ => None,
        }
    }

    /// Whether an intent in this state stops the watch from booking again (an order
    /// may exist): every state but `failed`.
    pub fn blocks(self) -> bool {
        self != BookingState::Failed
    }
}

/// How a booking ended, as `booking_end` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingResult {
    /// The site confirmed the order.
    Booked,
    /// The site certainly made no order.
    Failed,
    /// It cannot be told whether an order was made.
    Unknown,
}

impl BookingResult {
    /// The wire name, e.g. `booked`.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingResult::Booked => "booked",
            BookingResult::Failed => "failed",
            BookingResult::Unknown => "unknown",
        }
    }

    /// The state the intent takes.
    pub fn state(self) -> BookingState {
        match self {
            BookingResult::Booked => BookingState::Booked,
            BookingResult::Failed => BookingState::Failed,
            BookingResult::Unknown => BookingState::Unknown,
        }
    }

    /// The kind of the history event recorded for it.
    pub fn event_kind(self) -> &'static str {
        match self {
            BookingResult::Booked => "booked",
            BookingResult::Failed => "booking_failed",
            BookingResult::Unknown => "outcome_unknown",
        }
    }
}

/// The host's record that an order may exist for a watch, written before the order is
/// sent. While a watch has one that [`BookingState::blocks`], no second order is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingIntent {
    /// `b-` and 16 hex digits.
    pub id: String,
    pub watch_id: String,
    pub state: BookingState,
    /// Unix ms: when the order was about to be sent.
    pub created_at: i64,
    /// Unix ms of the last change of state.
    pub updated_at: i64,
    /// The `data` of `booking_begin`.
    #[serde(default)]
    pub data: Value,
}

/// Data of a `booking_begin` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingBegun {
    pub intent: BookingIntent,
    /// The `booking_submitted` event.
    pub entry: HistoryEntry,
}

/// Data of a `booking_end` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingEnded {
    pub intent: BookingIntent,
    /// The `booked` / `booking_failed` / `outcome_unknown` event; `null` when the intent
    /// already had this result (a repeated request), and nothing was recorded.
    pub entry: Option<HistoryEntry>,
}

/// Data of a `booking_get` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingFound {
    /// The watch's blocking intent, or `null`.
    pub intent: Option<BookingIntent>,
}

/// An event the host sends without being asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// Something was recorded in a watch's history (by this connection or another
    /// process sharing the store, such as the command line).
    WatchEvent(HistoryEntry),
    /// The host waits on the person: show this captcha (see `prompt_answer`).
    Prompt(Prompt),
    /// A prompt is no longer waiting (answered, timed out or dropped).
    PromptClosed(PromptClosed),
}

/// Data of a `prompt_closed` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptClosed {
    pub id: String,
}

/// A frame from the host, as the extension reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum HostMessage {
    /// The answer to the request with this id.
    Reply {
        id: RequestId,
        result: Result<Value, ErrorBody>,
    },
    /// An unasked event.
    Event(Event),
}

/// Builds the text of a success reply.
pub fn ok_reply(id: &RequestId, data: &impl Serialize) -> String {
    serde_json::json!({ "id": id, "ok": true, "data": data }).to_string()
}

/// Builds the text of an error reply.
pub fn error_reply(id: &RequestId, error: &ErrorBody) -> String {
    serde_json::json!({ "id": id, "ok": false, "error": error }).to_string()
}

/// Builds the text of an event frame.
pub fn event_json(event: &Event) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// The `event` tag of an [`Event`] frame.
#[derive(Deserialize)]
#[serde(variant_identifier, rename_all = "snake_case")]
enum EventTag {
    WatchEvent,
    Prompt,
    PromptClosed,
}

/// [`Event`] from an event frame's `event` and `data`, with the errors of its derived
/// `Deserialize` (but for a tag that is not a string: "expected variant identifier"
/// rather than "expected string or map"). By hand because that derive (adjacently
/// tagged) also compiles a reader of [`HistoryEntry`] for serde's buffered content,
/// about 16 KB of the wasm module with the one of [`Target`](crate::watch::Target).
fn event_of(tag: &Value, data: Option<&Value>) -> Result<Event, serde_json::Error> {
    match EventTag::deserialize(tag.clone())? {
        EventTag::WatchEvent => match data {
            Some(data) => serde_json::from_value(data.clone()).map(Event::WatchEvent),
            None => Err(serde::de::Error::missing_field("data")),
        },
        EventTag::Prompt => match data {
            Some(data) => serde_json::from_value(data.clone()).map(Event::Prompt),
            None => Err(serde::de::Error::missing_field("data")),
        },
        EventTag::PromptClosed => match data {
            Some(data) => serde_json::from_value(data.clone()).map(Event::PromptClosed),
            None => Err(serde::de::Error::missing_field("data")),
        },
    }
}

/// Reads a frame sent by the host.
pub fn parse_host_message(text: &str) -> Result<HostMessage, String> {
    let v: Value =
        crate::from_json_text(text).map_err(|e| format!("the host sent invalid JSON: {e}"))?;
    if let Some(tag) = v.get("event") {
        return event_of(tag, v.get("data"))
            .map(HostMessage::Event)
            .map_err(|e| format!("the host sent an unknown event: {e}"));
    }
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    match v.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(HostMessage::Reply {
            id,
            result: Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        }),
        Some(false) => {
            let err = v.get("error").cloned().unwrap_or(Value::Null);
            let body = serde_json::from_value::<ErrorBody>(err.clone()).unwrap_or_else(|_| {
                // A code from a newer host: keep its message.
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("the host reported an error")
                    .to_string();
                ErrorBody::new(ErrorCode::Internal, message)
            });
            Ok(HostMessage::Reply {
                id,
                result: Err(body),
            })
        }
        None => Err("the host sent a frame that is neither a reply nor an event".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_command() {
        let e = parse_request(r#"{"id": 7, "cmd": "hello"}"#);
        assert_eq!(e.id, json!(7));
        assert_eq!(e.request.unwrap(), Request::Hello {});
        let e = parse_request(r#"{"id": "a", "cmd": "watch_list", "params": {"limit": 5}}"#);
        assert_eq!(
            e.request.unwrap(),
            Request::WatchList {
                after: None,
                limit: Some(5)
            }
        );
        let e = parse_request(
            r#"{"id": 1, "cmd": "history_list", "params": {"watch_id": "w", "before": 9}}"#,
        );
        assert_eq!(
            e.request.unwrap(),
            Request::HistoryList {
                watch_id: "w".into(),
                before: Some(9),
                limit: None
            }
        );
    }

    #[test]
    fn each_kind_of_bad_frame_gets_its_code_and_keeps_the_id() {
        let cases = [
            (
                r#"{"id": 1, "cmd": "hello""#,
                ErrorCode::BadJson,
                json!(null),
            ),
            (r#"[1, 2]"#, ErrorCode::BadRequest, json!(null)),
            (
                r#"{"id": {"x": 1}, "cmd": "hello"}"#,
                ErrorCode::BadRequest,
                json!(null),
            ),
            (r#"{"id": 3}"#, ErrorCode::BadRequest, json!(3)),
            (
                r#"{"id": 3, "cmd": "launch_rockets"}"#,
                ErrorCode::UnknownCommand,
                json!(3),
            ),
            (
                r#"{"id": "q", "cmd": "watch_get"}"#,
                ErrorCode::BadParams,
                json!("q"),
            ),
            (
                r#"{"id": "q", "cmd": "watch_get", "params": [1]}"#,
                ErrorCode::BadParams,
                json!("q"),
            ),
            (
                r#"{"id": "q", "cmd": "watch_get", "params": {"id": "x", "zzz": 1}}"#,
                ErrorCode::BadParams,
                json!("q"),
            ),
            (
                r#"{"id": "q", "cmd": "hello", "extra": 1}"#,
                ErrorCode::BadRequest,
                json!("q"),
            ),
        ];
        for (text, code, id) in cases {
            let e = parse_request(text);
            assert_eq!(e.id, id, "{text}");
            assert_eq!(e.request.unwrap_err().code, code, "{text}");
        }
    }

    #[test]
    fn commands_list_matches_the_enum() {
        for cmd in Request::COMMANDS {
            let params = match cmd {
                "watch_get" | "watch_delete" => json!({"id": "x"}),
                "history_list" => json!({"watch_id": "x"}),
                "watch_pause" => json!({"id": "x", "paused": true}),
                "event_record" => json!({"watch_id": "x", "kind": "slot_seen", "message": "m"}),
                "channels_put" => json!({"settings": {}}),
                "send_test" => json!({"channel": "email"}),
                "booking_begin" | "booking_get" => json!({"watch_id": "x"}),
                "rail_login" => json!({"account": "a", "password": "p"}),
                "rail_stations" => json!({"query": "bj"}),
                "prompt_answer" => json!({"id": "p-1", "answer": {"tiles": [1, 5]}}),
                "booking_end" => json!({"watch_id": "x", "intent_id": "b", "result": "failed",
                                        "message": "m", "data": {"reason": "r"}}),
                "patient_put" => {
                    json!({"patient": {"name": "张三", "id_number": "411423199001012113",
                    "birthday": "1990-01-01", "sex": "male", "phone": "13812345678"}})
                }
                "patient_delete" => json!({"id": "p-1"}),
                "site_account_put" => json!({"platform": "91160", "account": "a",
                                             "secret": {"app_token": "t"}}),
                "site_account_delete" => json!({"platform": "pati", "account": "a"}),
                "site_browse" => json!({"platform": "91160", "account": "a", "what": "units"}),
                "booking_cancel" => json!({"watch_id": "w", "reason": "r"}),
                "zlb_config_put" => json!({"base_url": "http://z", "apikey": "k"}),
                "zlb_arrive" | "zlb_reject_release" => json!({"serial": "ZJ109-1"}),
                "watch_put" => json!({"watch": {
                    "target": {"platform": "pati", "dept_id": "d"},
                    "window": {"start": "2026-11-27", "end": "2026-11-28"},
                    "interval": {"seconds": 60}}}),
                _ => json!({}),
            };
            let text = json!({"id": 1, "cmd": cmd, "params": params}).to_string();
            let req = parse_request(&text).request.unwrap();
            assert_eq!(req.cmd(), cmd);
            // request_json is the inverse of parse_request.
            let again = parse_request(&request_json(&json!(1), &req))
                .request
                .unwrap();
            assert_eq!(again, req);
        }
    }

    #[test]
    fn error_codes_are_stable() {
        // Append-only: this list may grow at the end, never change.
        let wire: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            wire,
            [
                "bad_frame",
                "frame_too_large",
                "bad_json",
                "bad_request",
                "unknown_command",
                "bad_params",
                "invalid_watch",
                "not_found",
                "reply_too_large",
                "store_locked",
                "store_corrupt",
                "store_unwritable",
                "disk_full",
                "store_failed",
                "internal",
                "invalid_settings",
                "channel_failed",
                "channel_not_configured",
                "booking_exists",
                "login_failed",
                "prompt_gone",
                "site_failed",
                "invalid_patient",
                "not_configured",
                "reservation_cancelled"
            ]
        );
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
        }
    }

    #[test]
    fn a_site_secret_is_kept_out_of_debug_output() {
        let e = parse_request(
            r#"{"id": 1, "cmd": "site_account_put", "params": {"platform": "91160", "account": "me", "secret": {"app_token": "s3cr3t"}}}"#,
        );
        let req = e.request.unwrap();
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("<redacted>"),
            "{shown}"
        );
        match &req {
            Request::SiteAccountPut { secret, .. } => {
                assert_eq!(secret.0, json!({"app_token": "s3cr3t"}))
            }
            other => panic!("{other:?}"),
        }
        let e = parse_request(
            r#"{"id": 1, "cmd": "site_account_put", "params": {"platform": "pati", "account": "a"}}"#,
        );
        assert!(format!("{:?}", e.request.unwrap()).contains("Secret(null)"));
    }

    #[test]
    fn booking_commands_and_shapes() {
        let e = parse_request(
            r#"{"id": 1, "cmd": "booking_end", "params": {"watch_id": "w", "intent_id": "b-1", "result": "booked", "message": "ok"}}"#,
        );
        assert_eq!(
            e.request.unwrap(),
            Request::BookingEnd {
                watch_id: "w".into(),
                intent_id: "b-1".into(),
                result: BookingResult::Booked,
                message: "ok".into(),
                data: Value::Null,
            }
        );
        for bad in [
            r#"{"id": 1, "cmd": "booking_end", "params": {"watch_id": "w", "intent_id": "b", "result": "submitted", "message": "m"}}"#,
            r#"{"id": 1, "cmd": "booking_end", "params": {"watch_id": "w", "intent_id": "b", "result": "booked"}}"#,
            r#"{"id": 1, "cmd": "booking_begin", "params": {}}"#,
            r#"{"id": 1, "cmd": "booking_get", "params": {"watch_id": "w", "x": 1}}"#,
        ] {
            assert_eq!(
                parse_request(bad).request.unwrap_err().code,
                ErrorCode::BadParams,
                "{bad}"
            );
        }
        let intent = BookingIntent {
            id: "b-1".into(),
            watch_id: "w".into(),
            state: BookingState::Unknown,
            created_at: 1,
            updated_at: 2,
            data: json!({"k": 1}),
        };
        assert_eq!(
            serde_json::to_value(&intent).unwrap(),
            json!({"id": "b-1", "watch_id": "w", "state": "unknown", "created_at": 1,
                   "updated_at": 2, "data": {"k": 1}})
        );
        let ended = BookingEnded {
            intent: intent.clone(),
            entry: None,
        };
        assert_eq!(serde_json::to_value(&ended).unwrap()["entry"], json!(null));
        assert_eq!(
            serde_json::to_value(BookingFound { intent: None }).unwrap(),
            json!({"intent": null})
        );
        for s in [
            BookingState::Submitted,
            BookingState::Booked,
            BookingState::Failed,
            BookingState::Unknown,
        ] {
            assert_eq!(BookingState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            assert_eq!(s.blocks(), s != BookingState::Failed);
        }
        for (r, kind) in [
            (BookingResult::Booked, "booked"),
            (BookingResult::Failed, "booking_failed"),
            (BookingResult::Unknown, "outcome_unknown"),
        ] {
            assert_eq!(r.event_kind(), kind);
            assert_eq!(r.state().as_str(), r.as_str());
            assert!(crate::notify::notifies(kind));
        }
        assert!(crate::notify::notifies("booking_submitted"));
    }

    #[test]
    fn host_messages_round_trip() {
        let r = ok_reply(&json!(4), &json!({"a": 1}));
        assert_eq!(
            parse_host_message(&r).unwrap(),
            HostMessage::Reply {
                id: json!(4),
                result: Ok(json!({"a": 1}))
            }
        );
        let err = ErrorBody::new(ErrorCode::NotFound, "no watch w");
        let r = error_reply(&json!("x"), &err);
        assert_eq!(
            parse_host_message(&r).unwrap(),
            HostMessage::Reply {
                id: json!("x"),
                result: Err(err)
            }
        );
        let newer = r#"{"id": 1, "ok": false, "error": {"code": "from_the_future", "message": "try later"}}"#;
        match parse_host_message(newer).unwrap() {
            HostMessage::Reply { result: Err(e), .. } => assert_eq!(e.message, "try later"),
            other => panic!("{other:?}"),
        }
        let ev = Event::WatchEvent(HistoryEntry {
            seq: 1,
            watch_id: "w".into(),
            at: 5,
            kind: "created".into(),
            message: "m".into(),
            data: json!(null),
        });
        assert_eq!(
            parse_host_message(&event_json(&ev)).unwrap(),
            HostMessage::Event(ev)
        );
        assert!(parse_host_message(r#"{"id": 1}"#).is_err());
        // The errors of `Event`'s derived `Deserialize`, which the host's frames are not read with.
        for frame in [
            r#"{"event": "watch_event", "data": {"seq": 1}}"#,
            r#"{"event": "watch_event"}"#,
            r#"{"event": "watch_evnt", "data": {}}"#,
        ] {
            let derived = serde_json::from_str::<Value>(frame)
                .and_then(serde_json::from_value::<Event>)
                .unwrap_err();
            assert_eq!(
                parse_host_message(frame).unwrap_err(),
                format!("the host sent an unknown event: {derived}")
            );
        }
    }
}
