//! The host's one SQLite database: watches, their history of events, the outbox of
//! notifications, and booking intents (an order may exist for a watch: see
//! [`Store::booking_begin`]).
//!
//! The file lives in the data directory (see [`crate::paths`]). It runs in WAL mode with
//! `synchronous=FULL`; its schema is built by an ordered list of migrations, each in its
//! own transaction, with `PRAGMA user_version` holding how many have been applied. A
//! file made by a newer Haoyuan is refused without being touched.
//!
//! Every failure is returned as a [`StoreError`] already in the protocol's terms: a
//! locked, damaged, unwritable or full database is reported as such, naming the file and
//! saying what the person can do about it. Nothing here ever deletes or rewrites a file
//! it cannot read.

use crate::outbox::queue_notice;
use haoyuan_core::notify::render::beijing_time;
use haoyuan_core::notify::{Channel, Notice};
use haoyuan_core::patient::Patient;
use haoyuan_core::protocol::{
    BookingIntent, BookingResult, BookingState, ErrorBody, ErrorCode, HistoryEntry, HistoryPage,
    WatchPage, MAX_PAGE,
};
use haoyuan_core::watch::Watch;
use rusqlite::{
    params, Connection, ErrorCode as SqliteCode, OptionalExtension, TransactionBehavior,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a write waits for another program's lock before giving up with
/// `store_locked`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// The schema, one SQL batch per version: entry `i` takes the database from version `i`
/// to `i + 1`. **Append only**: never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    // Version 1: watches, their events, and the notification outbox.
    "CREATE TABLE watches (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT UNIQUE NOT NULL,
        platform   TEXT NOT NULL,
        json       TEXT NOT NULL,
        created_at INTEGER,
        updated_at INTEGER
    );
    CREATE TABLE events (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        watch_id TEXT NOT NULL,
        at       INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        message  TEXT NOT NULL,
        data     TEXT NOT NULL DEFAULT 'null'
    );
    CREATE INDEX events_by_watch ON events (watch_id, seq);
    CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,
        event_seq       INTEGER REFERENCES events(seq),
        channel         TEXT NOT NULL,
        payload         TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);",
    // Version 2: outbox leases (a sender claims a message; a crashed sender's claim is
    // taken over), when it was sent and what the server answered.
    "ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
    ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
    ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
    ALTER TABLE outbox ADD COLUMN detail TEXT;
    CREATE INDEX outbox_by_channel ON outbox (channel, state);",
    // Version 3: booking intents. A row is written before an order is sent to a site;
    // the partial unique index makes the database itself refuse a second intent that
    // may have made an order (every state but 'failed') for the same watch. No foreign
    // key: a deleted watch's intents stay, like its history.
    "CREATE TABLE booking_intents (
        id         TEXT PRIMARY KEY,
        watch_id   TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('submitted', 'booked', 'failed', 'unknown')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        data       TEXT NOT NULL DEFAULT 'null'
    );
    CREATE UNIQUE INDEX booking_intents_blocking ON booking_intents (watch_id)
        WHERE state IN ('submitted', 'booked', 'unknown');",
    // v4: 12306 sessions kept by the host (the cookie jar of each signed-in account,
    // so a restarted host goes on without a new login). The cookies are a secret: they
    // never leave this file (no command returns them, the log never shows them).
    "CREATE TABLE rail_sessions (
        account    TEXT PRIMARY KEY,
        holder     TEXT NOT NULL DEFAULT '',
        cookies    TEXT NOT NULL DEFAULT '{}',
        signed_in  INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
    );",
    // v5: the patient book (each patient's JSON, checked by `Patient::validate` before
    // it is written) and the 91160 / pati accounts. `secret` (91160 appToken, pati
    // password) and `token` (pati session) never leave this file: no command returns
    // them, the log never shows them.
    "CREATE TABLE patients (
        id         TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE site_accounts (
        platform   TEXT NOT NULL,
        account    TEXT NOT NULL,
        base_url   TEXT NOT NULL DEFAULT '',
        secret     TEXT NOT NULL DEFAULT '{}',
        token      TEXT NOT NULL DEFAULT '',
        token_at   INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (platform, account)
    );",
    // v6: 浙里办 health-check reservation sync (see `crate::zlb`). `zlb_config` is one
    // row: the platform's address, the apikey, secret and AES key it issued, and the
    // cached token — secrets that never leave this file. `zlb_reservations` holds each
    // reservation's latest version keyed by `serialNumber` (`record` is its JSON, also
    // what a repeat delivery is compared with); `zlb_history` every version and
    // arrival (`notified` = 0 until told through the outbox); `zlb_rejects` the
    // deliveries that failed the checks, once per distinct content (`released_at`: a
    // person had it acknowledged anyway).
    "CREATE TABLE zlb_config (
        id               INTEGER PRIMARY KEY CHECK (id = 1),
        base_url         TEXT NOT NULL,
        apikey           TEXT NOT NULL DEFAULT '',
        secret           TEXT NOT NULL DEFAULT '',
        aes_key          TEXT NOT NULL DEFAULT '',
        interval_s       INTEGER NOT NULL DEFAULT 300,
        notify           TEXT NOT NULL DEFAULT 'each',
        token            TEXT NOT NULL DEFAULT '',
        token_expires_at INTEGER NOT NULL DEFAULT 0,
        last_sync_at     INTEGER,
        last_error       TEXT,
        last_error_at    INTEGER,
        updated_at       INTEGER NOT NULL
    );
    CREATE TABLE zlb_reservations (
        serial        TEXT PRIMARY KEY,
        record        TEXT NOT NULL,
        status        INTEGER NOT NULL,
        check_date    TEXT NOT NULL,
        name          TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        arrived_at    TEXT,
        arrival_state TEXT CHECK (arrival_state IN ('pending', 'sent', 'refused')),
        arrival_error TEXT
    );
    CREATE INDEX zlb_reservations_by_date ON zlb_reservations (check_date, name);
    CREATE INDEX zlb_reservations_arrivals ON zlb_reservations (arrival_state)
        WHERE arrival_state = 'pending';
    CREATE TABLE zlb_history (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        serial     TEXT NOT NULL,
        at         INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        message    TEXT NOT NULL,
        request_id TEXT,
        record     TEXT,
        notified   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX zlb_history_by_serial ON zlb_history (serial, seq);
    CREATE INDEX zlb_history_unnotified ON zlb_history (seq) WHERE notified = 0;
    CREATE TABLE zlb_rejects (
        raw           TEXT PRIMARY KEY,
        serial        TEXT,
        request_id    TEXT,
        reason        TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        times         INTEGER NOT NULL DEFAULT 1,
        released_at   INTEGER
    );",
];

/// A 91160 / pati account as stored. Its `Debug` never shows the secret or token.
#[derive(Clone, PartialEq)]
pub struct SiteAccount {
    /// `91160` or `pati`.
    pub platform: String,
    pub account: String,
    /// The pati tenant's server; empty for 91160.
    pub base_url: String,
    /// 91160 `{"app_token": …}`, pati `{"password": …}`.
    pub secret: Value,
    /// The pati session token; empty when not signed in.
    pub token: String,
    /// Unix ms when `token` was set.
    pub token_at: i64,
    pub updated_at: i64,
}

impl SiteAccount {
    /// Whether a secret is stored (a non-blank string in `secret`).
    pub fn has_secret(&self) -> bool {
        self.secret.as_object().is_some_and(|o| {
            o.values()
                .any(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()))
        })
    }
}

impl std::fmt::Debug for SiteAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteAccount")
            .field("platform", &self.platform)
            .field("account", &self.account)
            .field("base_url", &self.base_url)
            .field("has_secret", &self.has_secret())
            .field("has_token", &!self.token.is_empty())
            .field("token_at", &self.token_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A 12306 account's session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailSession {
    pub account: String,
    pub holder: String,
    /// The cookie jar's JSON.
    pub cookies: String,
    pub signed_in: bool,
    pub updated_at: i64,
}

/// A store failure, already in the protocol's terms: a stable code and a sentence that
/// names the file and says what to do.
#[derive(Debug, Clone)]
pub struct StoreError {
    pub code: ErrorCode,
    pub message: String,
}

impl StoreError {
    /// A store error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> StoreError {
        StoreError {
            code,
            message: message.into(),
        }
    }

    /// Translates a SQLite failure on the database at `path` into the protocol's terms.
    fn from_sqlite(path: &Path, err: rusqlite::Error) -> StoreError {
        let p = path.display();
        match err.sqlite_error_code() {
            Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => StoreError::new(
                ErrorCode::StoreLocked,
                format!(
                    "The Haoyuan database {p} is locked by another program. \
                     Close other Haoyuan windows or `haoyuan-host` processes and try again."
                ),
            ),
            Some(SqliteCode::DatabaseCorrupt | SqliteCode::NotADatabase) => StoreError::new(
                ErrorCode::StoreCorrupt,
                format!(
                    "{p} is damaged or is not a Haoyuan database. Move it aside (for example \
                     rename it to .broken) and restart; Haoyuan will create a new one."
                ),
            ),
            Some(
                SqliteCode::CannotOpen
                | SqliteCode::ReadOnly
                | SqliteCode::PermissionDenied
                | SqliteCode::AuthorizationForStatementDenied,
            ) => StoreError::unwritable(path, &err.to_string()),
            Some(SqliteCode::DiskFull) => StoreError::new(
                ErrorCode::DiskFull,
                format!("The disk holding {p} is full; free some space. Nothing was saved of this change."),
            ),
            Some(SqliteCode::SystemIoFailure) => StoreError::new(
                ErrorCode::StoreFailed,
                format!(
                    "The disk holding the Haoyuan database {p} reported an error ({err}). \
                     Check the disk, then try again."
                ),
            ),
            _ => StoreError::new(
                ErrorCode::StoreFailed,
                format!("The Haoyuan database {p} failed ({err}). Try again; if it keeps failing, report it with the host log."),
            ),
        }
    }

    /// The database (or its folder) cannot be created or written.
    fn unwritable(path: &Path, detail: &str) -> StoreError {
        StoreError::new(
            ErrorCode::StoreUnwritable,
            format!(
                "Haoyuan cannot create or write its database {} ({detail}). Make sure its folder \
                 exists, is a folder you may write to and is not on a read-only disk, or set {} \
                 to a folder that is.",
                path.display(),
                crate::paths::HOME_ENV
            ),
        )
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for ErrorBody {
    fn from(e: StoreError) -> ErrorBody {
        ErrorBody::new(e.code, e.message)
    }
}

/// A function that maps SQLite failures on the database at `path`.
pub(crate) fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::from_sqlite(path, e)
}

/// The open database.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating it and its folder if needed) the database at `path`, switches it
    /// to WAL and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_timeout(path, BUSY_TIMEOUT)
    }

    /// [`Store::open`] with the time a statement waits for another program's lock.
    fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::unwritable(
                    path,
                    &format!("its folder {} cannot be created: {e}", parent.display()),
                )
            })?;
        }
        let map = sql(path);
        let mut conn = Connection::open(path).map_err(&map)?;
        conn.busy_timeout(busy_timeout).map_err(&map)?;
        // Read the version before changing anything, so that a newer Haoyuan's file
        // (or a file that is not a database at all) is left exactly as it was.
        let version = read_version(&conn).map_err(&map)?;
        check_not_newer(path, version, MIGRATIONS)?;
        // The journal mode answers with the mode in effect ("memory" for odd file
        // systems that cannot do WAL; the store still works there).
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(&map)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(&map)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(&map)?;
        migrate(&mut conn, path, MIGRATIONS)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Begins an `IMMEDIATE` transaction (the write lock taken at once, so a busy
    /// database fails here rather than halfway through).
    pub(crate) fn begin(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        let path = self.path.clone();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::from_sqlite(&path, e))
    }

    /// Every row of a query, each read by `f`.
    pub(crate) fn query_all<T, P: rusqlite::Params>(
        &self,
        query: &str,
        params: P,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let map = sql(&self.path);
        let mut st = self.conn.prepare(query).map_err(&map)?;
        let rows = st.query_map(params, f).map_err(&map)?;
        rows.collect::<Result<_, _>>().map_err(&map)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        read_version(&self.conn).map_err(sql(&self.path))
    }

    /// Inserts a watch (empty `id`: a new random id is assigned) or replaces the one with
    /// its id (keeping its `created_at`; an unknown id is inserted under that id). Sets
    /// `created_at`/`updated_at` and records a `created` or `updated` event in the same
    /// transaction. Returns the stored watch and the event.
    pub fn put_watch(
        &mut self,
        mut watch: Watch,
        now_ms: i64,
    ) -> Result<(Watch, HistoryEntry), StoreError> {
        let path = self.path.as_path();
        let map = sql(path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;

        let existing: Option<i64> = if watch.id.is_empty() {
            watch.id = new_watch_id(&tx, path)?;
            None
        } else {
            tx.query_row(
                "SELECT created_at FROM watches WHERE id = ?1",
                [&watch.id],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map_err(&map)?
            .map(|c| c.unwrap_or(now_ms))
        };
        watch.created_at = existing.unwrap_or(now_ms);
        watch.updated_at = now_ms;
        let json = serde_json::to_string(&watch).map_err(|e| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!("the watch could not be written as JSON: {e}"),
            )
        })?;
        let platform = watch.platform().id();
        let kind = if existing.is_some() {
            tx.execute(
                "UPDATE watches SET platform = ?2, json = ?3, updated_at = ?4 WHERE id = ?1",
                params![watch.id, platform, json, now_ms],
            )
            .map_err(&map)?;
            "updated"
        } else {
            tx.execute(
                "INSERT INTO watches (id, platform, json, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![watch.id, platform, json, now_ms],
            )
            .map_err(&map)?;
            "created"
        };
        let message = format!("Watch {kind}: {}", describe(&watch));
        let data = serde_json::json!({ "platform": platform, "label": watch.label });
        let event = insert_event(&tx, path, &watch.id, kind, &message, &data, now_ms)?;
        tx.commit().map_err(&map)?;
        Ok((watch, event))
    }

    /// The watch with this id, if there is one.
    pub fn get_watch(&self, id: &str) -> Result<Option<Watch>, StoreError> {
        let map = sql(&self.path);
        let row = self
            .conn
            .query_row(
                "SELECT id, json, created_at, updated_at FROM watches WHERE id = ?1",
                [id],
                WatchRow::read,
            )
            .optional()
            .map_err(&map)?;
        row.map(|r| r.into_watch(&self.path)).transpose()
    }

    /// Watches in creation order, at most `limit` (clamped to `1..=MAX_PAGE`) of them.
    /// `after` is the opaque `next` of the previous page (`None` for the first page).
    pub fn list_watches(&self, after: Option<&str>, limit: u32) -> Result<WatchPage, StoreError> {
        let map = sql(&self.path);
        let after_seq = match after {
            None => 0,
            Some(cursor) => cursor.parse::<i64>().map_err(|_| {
                StoreError::new(
                    ErrorCode::BadParams,
                    format!("\"after\" ({cursor:?}) is not a page cursor this host gave out; ask again without it to start from the first page"),
                )
            })?,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let mut stmt = self
            .conn
            .prepare("SELECT id, json, created_at, updated_at, seq FROM watches WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(&map)?;
        let rows = stmt
            .query_map(params![after_seq, i64::from(limit) + 1], |r| {
                Ok((WatchRow::read(r)?, r.get::<_, i64>(4)?))
            })
            .map_err(&map)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&map)?;
        let more = rows.len() > limit as usize;
        let mut watches = Vec::with_capacity(limit as usize);
        let mut last_seq = None;
        for (row, seq) in rows.into_iter().take(limit as usize) {
            watches.push(row.into_watch(&self.path)?);
            last_seq = Some(seq);
        }
        let next = if more {
            last_seq.map(|s| s.to_string())
        } else {
            None
        };
        Ok(WatchPage { watches, next })
    }

    /// Deletes the watch and records a `deleted` event in the same transaction; its
    /// history stays. `Ok(None)` when there was no such watch. A watch whose stored JSON
    /// no longer reads can still be deleted.
    pub fn delete_watch(
        &mut self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let path = self.path.as_path();
        let map = sql(path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let json: Option<String> = tx
            .query_row("SELECT json FROM watches WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(&map)?;
        let Some(json) = json else {
            return Ok(None);
        };
        tx.execute("DELETE FROM watches WHERE id = ?1", [id])
            .map_err(&map)?;
        let (what, data) = match serde_json::from_str::<Watch>(&json) {
            Ok(w) => (
                describe(&w),
                serde_json::json!({ "platform": w.platform().id(), "label": w.label }),
            ),
            Err(_) => (id.to_string(), Value::Null),
        };
        let event = insert_event(
            &tx,
            path,
            id,
            "deleted",
            &format!("Watch deleted: {what}"),
            &data,
            now_ms,
        )?;
        tx.commit().map_err(&map)?;
        Ok(Some(event))
    }

    /// Pauses or resumes a watch and records `paused` / `resumed` in the same
    /// transaction. `Ok(None)` when there is no such watch.
    pub fn set_paused(
        &mut self,
        id: &str,
        paused: bool,
        now_ms: i64,
    ) -> Result<Option<(Watch, HistoryEntry)>, StoreError> {
        let Some(mut watch) = self.get_watch(id)? else {
            return Ok(None);
        };
        watch.paused = paused;
        watch.updated_at = now_ms;
        let path = self.path.as_path();
        let map = sql(path);
        let json = serde_json::to_string(&watch).map_err(|e| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!("the watch could not be encoded: {e}"),
            )
        })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        tx.execute(
            "UPDATE watches SET json = ?1, updated_at = ?2 WHERE id = ?3",
            params![json, now_ms, id],
        )
        .map_err(&map)?;
        let (kind, verb) = if paused {
            ("paused", "paused")
        } else {
            ("resumed", "resumed")
        };
        let message = format!("Watch {verb}: {}", watch.target.summary());
        let event = insert_event(&tx, path, id, kind, &message, &Value::Null, now_ms)?;
        tx.commit().map_err(&map)?;
        Ok(Some((watch, event)))
    }

    /// Records something that happened to a watch.
    pub fn record_event(
        &mut self,
        watch_id: &str,
        kind: &str,
        message: &str,
        data: &Value,
        now_ms: i64,
    ) -> Result<HistoryEntry, StoreError> {
        let path = self.path.as_path();
        let map = sql(path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let event = insert_event(&tx, path, watch_id, kind, message, data, now_ms)?;
        tx.commit().map_err(&map)?;
        Ok(event)
    }

    /// A watch's events, newest first, at most `limit` (clamped to `1..=MAX_PAGE`).
    /// `before`: only events with `seq < before` (the `next` of the previous page).
    /// `next` is set when older events remain.
    pub fn history(
        &self,
        watch_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<HistoryPage, StoreError> {
        let map = sql(&self.path);
        let limit = limit.clamp(1, MAX_PAGE);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, watch_id, at, kind, message, data FROM events
                 WHERE watch_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
            )
            .map_err(&map)?;
        let rows = stmt
            .query_map(
                params![watch_id, before.unwrap_or(i64::MAX), i64::from(limit) + 1],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .map_err(&map)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&map)?;
        let more = rows.len() > limit as usize;
        let mut events = Vec::with_capacity(limit as usize);
        for (seq, watch_id, at, kind, message, data) in rows.into_iter().take(limit as usize) {
            let data = serde_json::from_str(&data).map_err(|e| {
                StoreError::new(
                    ErrorCode::StoreFailed,
                    format!(
                        "event {seq} of watch {watch_id} in {} can no longer be read ({e}); \
                         it may have been written by a newer Haoyuan — update the host",
                        self.path.display()
                    ),
                )
            })?;
            events.push(HistoryEntry {
                seq,
                watch_id,
                at,
                kind,
                message,
                data,
            });
        }
        let next = if more {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(HistoryPage { events, next })
    }

    /// Every watch's events merged (deleted watches' too), newest first, paged as
    /// [`Store::history`]: at most `limit` (clamped to `1..=MAX_PAGE`), only `seq < before`.
    pub fn history_all(&self, before: Option<i64>, limit: u32) -> Result<HistoryPage, StoreError> {
        let map = sql(&self.path);
        let limit = limit.clamp(1, MAX_PAGE);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, watch_id, at, kind, message, data FROM events
                 WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(&map)?;
        let rows = stmt
            .query_map(
                params![before.unwrap_or(i64::MAX), i64::from(limit) + 1],
                |r| {
                    Ok(HistoryEntry {
                        seq: r.get(0)?,
                        watch_id: r.get(1)?,
                        at: r.get(2)?,
                        kind: r.get(3)?,
                        message: r.get(4)?,
                        data: Value::String(r.get(5)?),
                    })
                },
            )
            .map_err(&map)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&map)?;
        let more = rows.len() > limit as usize;
        let mut events = Vec::with_capacity(limit as usize);
        for mut e in rows.into_iter().take(limit as usize) {
            let text = e.data.as_str().unwrap_or("null");
            e.data = serde_json::from_str(text).map_err(|err| {
                StoreError::new(
                    ErrorCode::StoreFailed,
                    format!(
                        "event {} of watch {} in {} can no longer be read ({err}); \
                         it may have been written by a newer Haoyuan — update the host",
                        e.seq,
                        e.watch_id,
                        self.path.display()
                    ),
                )
            })?;
            events.push(e);
        }
        let next = if more {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(HistoryPage { events, next })
    }

    /// Lowers the most pages the file may grow to, so that tests can fill the "disk".
    #[cfg(test)]
    fn limit_pages_to(&self, extra_pages: u32) -> rusqlite::Result<()> {
        let count: u32 = self
            .conn
            .pragma_query_value(None, "page_count", |r| r.get(0))?;
        self.conn
            .pragma_update(None, "max_page_count", count + extra_pages)
    }
}

/// How the event a booking command records is told to the person: the channels its
/// message is queued for (empty: none) and the renderer of that message, given the
/// event and its watch when the watch still exists and reads.
pub struct Telling<'a> {
    pub channels: &'a [Channel],
    pub render: &'a mut dyn FnMut(&HistoryEntry, Option<&Watch>) -> Option<Notice>,
}

/// How a booking ended, as `booking_end` says it.
#[derive(Clone, Copy, Debug)]
pub struct Outcome<'a> {
    pub result: BookingResult,
    /// The sentence of the recorded event.
    pub message: &'a str,
    /// The data of the recorded event.
    pub data: &'a Value,
}

/// The columns of a booking intent, in the order [`read_intent`] reads them.
const INTENT_COLUMNS: &str = "id, watch_id, state, created_at, updated_at, data";

impl Store {
    /// Records that an order is about to be sent for `watch_id`, in one transaction: the
    /// watch must exist (`not_found`) and have no blocking intent (`booking_exists`,
    /// saying when the earlier order was submitted); then a `submitted` intent, its
    /// `booking_submitted` event with `message` and `data`, and that event's messages
    /// for `tell.channels` are written together. Returns the intent, the event and the
    /// queued message.
    pub fn booking_begin(
        &mut self,
        watch_id: &str,
        message: &str,
        data: &Value,
        now_ms: i64,
        tell: Telling<'_>,
    ) -> Result<(BookingIntent, HistoryEntry, Option<Notice>), StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let Some(row) = read_watch_row(&tx, &path, watch_id)? else {
            return Err(StoreError::new(
                ErrorCode::NotFound,
                format!("there is no watch “{watch_id}” (it may have been deleted)"),
            ));
        };
        if let Some(earlier) = blocking_intent(&tx, &path, watch_id)? {
            return Err(booking_exists(Some(&earlier)));
        }
        let intent = BookingIntent {
            id: new_intent_id(&tx, &path)?,
            watch_id: watch_id.to_string(),
            state: BookingState::Submitted,
            created_at: now_ms,
            updated_at: now_ms,
            data: data.clone(),
        };
        tx.execute(
            "INSERT INTO booking_intents (id, watch_id, state, created_at, updated_at, data)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![
                intent.id,
                intent.watch_id,
                intent.state.as_str(),
                now_ms,
                data.to_string()
            ],
        )
        .map_err(|e| match e.sqlite_error_code() {
            // The unique index: another intent got there first.
            Some(SqliteCode::ConstraintViolation) => booking_exists(None),
            _ => map(e),
        })?;
        let entry = insert_event(
            &tx,
            &path,
            watch_id,
            "booking_submitted",
            message,
            data,
            now_ms,
        )?;
        let watch = row.into_watch(&path).ok();
        let render = tell.render;
        let queued = queue_notice(&tx, &path, &entry, tell.channels, &mut |e| {
            render(e, watch.as_ref())
        })?;
        tx.commit().map_err(&map)?;
        Ok((intent, entry, queued))
    }

    /// Records how the booking `intent_id` of `watch_id` ended, in one transaction: the
    /// intent takes the result's state and a `booked` / `booking_failed` /
    /// `outcome_unknown` event is recorded with its messages. The watch itself need not
    /// exist any more. An intent already in that state is returned unchanged with no
    /// event (a repeated request); one already ended otherwise is `bad_params`; an
    /// unknown intent, or one of another watch, is `not_found`.
    pub fn booking_end(
        &mut self,
        watch_id: &str,
        intent_id: &str,
        outcome: Outcome<'_>,
        now_ms: i64,
        tell: Telling<'_>,
    ) -> Result<(BookingIntent, Option<HistoryEntry>, Option<Notice>), StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let found = tx
            .query_row(
                &format!(
                    "SELECT {INTENT_COLUMNS} FROM booking_intents WHERE id = ?1 AND watch_id = ?2"
                ),
                [intent_id, watch_id],
                IntentRow::read,
            )
            .optional()
            .map_err(&map)?;
        let Some(row) = found else {
            return Err(StoreError::new(
                ErrorCode::NotFound,
                format!(
                    "there is no booking “{intent_id}” of watch “{watch_id}” (it was never \
                     begun, or belongs to another watch)"
                ),
            ));
        };
        let mut intent = row.into_intent(&path)?;
        let target = outcome.result.state();
        if intent.state == target {
            return Ok((intent, None, None));
        }
        if intent.state != BookingState::Submitted {
            return Err(StoreError::new(
                ErrorCode::BadParams,
                format!(
                    "this booking was already recorded as {} at {} (Beijing time); it cannot \
                     be changed to {}",
                    intent.state.as_str(),
                    beijing_time(intent.updated_at),
                    outcome.result.as_str()
                ),
            ));
        }
        tx.execute(
            "UPDATE booking_intents SET state = ?2, updated_at = ?3 WHERE id = ?1",
            params![intent.id, target.as_str(), now_ms],
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(SqliteCode::ConstraintViolation) => booking_exists(None),
            _ => map(e),
        })?;
        intent.state = target;
        intent.updated_at = now_ms;
        let entry = insert_event(
            &tx,
            &path,
            watch_id,
            outcome.result.event_kind(),
            outcome.message,
            outcome.data,
            now_ms,
        )?;
        let watch = read_watch_row(&tx, &path, watch_id)?.and_then(|r| r.into_watch(&path).ok());
        let render = tell.render;
        let queued = queue_notice(&tx, &path, &entry, tell.channels, &mut |e| {
            render(e, watch.as_ref())
        })?;
        tx.commit().map_err(&map)?;
        Ok((intent, Some(entry), queued))
    }

    /// The blocking intent of `watch_id` (state `submitted`, `booked` or `unknown`), if
    /// any — also for a deleted watch.
    pub fn booking_get(&self, watch_id: &str) -> Result<Option<BookingIntent>, StoreError> {
        blocking_intent(&self.conn, &self.path, watch_id)
    }

    /// Writes a 12306 account's session (insert or replace).
    pub fn rail_session_put(&self, session: &RailSession) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO rail_sessions (account, holder, cookies, signed_in, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account) DO UPDATE SET holder = excluded.holder,
                   cookies = excluded.cookies, signed_in = excluded.signed_in,
                   updated_at = excluded.updated_at",
                rusqlite::params![
                    session.account,
                    session.holder,
                    session.cookies,
                    session.signed_in,
                    session.updated_at
                ],
            )
            .map(drop)
            .map_err(sql(&self.path))
    }

    /// Updates only the cookies of an account's session (after an ordinary request).
    pub fn rail_session_cookies(&self, account: &str, cookies: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE rail_sessions SET cookies = ?2 WHERE account = ?1",
                rusqlite::params![account, cookies],
            )
            .map(drop)
            .map_err(sql(&self.path))
    }

    /// Marks an account's session ended (the site said it is not logged in).
    pub fn rail_session_ended(&self, account: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE rail_sessions SET signed_in = 0, updated_at = ?2 WHERE account = ?1 AND signed_in = 1",
                rusqlite::params![account, now],
            )
            .map(drop)
            .map_err(sql(&self.path))
    }

    /// One account's session.
    pub fn rail_session(&self, account: &str) -> Result<Option<RailSession>, StoreError> {
        Ok(self
            .rail_sessions()?
            .into_iter()
            .find(|s| s.account == account))
    }

    /// Every stored 12306 session, by account.
    pub fn rail_sessions(&self) -> Result<Vec<RailSession>, StoreError> {
        let map = sql(&self.path);
        let mut st = self
            .conn
            .prepare("SELECT account, holder, cookies, signed_in, updated_at FROM rail_sessions ORDER BY account")
            .map_err(&map)?;
        let rows = st
            .query_map([], |r| {
                Ok(RailSession {
                    account: r.get(0)?,
                    holder: r.get(1)?,
                    cookies: r.get(2)?,
                    signed_in: r.get(3)?,
                    updated_at: r.get(4)?,
                })
            })
            .map_err(&map)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&map)
    }
}

const SITE_ACCOUNT_COLUMNS: &str =
    "platform, account, base_url, secret, token, token_at, updated_at";

/// The patient book and the 91160 / pati accounts.
impl Store {
    /// Inserts a patient (empty `id`: a new `p-…` id is assigned) or replaces the one
    /// with its id, keeping its `created_at` (an unknown id is inserted under that id).
    /// The caller validates first. Returns the stored patient.
    pub fn patient_put(&mut self, patient: &Patient, now: i64) -> Result<Patient, StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let mut stored = patient.clone();
        if stored.id.trim().is_empty() {
            stored.id = fresh_id(
                &tx,
                &path,
                "p",
                "patients",
                "the patient was not saved, try again",
            )?;
            stored.created_at = now;
        } else {
            let created: Option<i64> = tx
                .query_row(
                    "SELECT created_at FROM patients WHERE id = ?1",
                    [&stored.id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&map)?;
            stored.created_at = created.unwrap_or(now);
        }
        stored.updated_at = now;
        let data = serde_json::to_string(&stored).map_err(|e| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!("the patient could not be encoded: {e}"),
            )
        })?;
        tx.execute(
            "INSERT INTO patients (id, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data,
               updated_at = excluded.updated_at",
            params![stored.id, data, stored.created_at, stored.updated_at],
        )
        .map_err(&map)?;
        tx.commit().map_err(&map)?;
        Ok(stored)
    }

    /// One patient by id.
    pub fn patient_get(&self, id: &str) -> Result<Option<Patient>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT id, data FROM patients WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(sql(&self.path))?;
        row.map(|(id, data)| read_patient(&self.path, &id, &data))
            .transpose()
    }

    /// Every patient, oldest first.
    pub fn patient_list(&self) -> Result<Vec<Patient>, StoreError> {
        let map = sql(&self.path);
        let mut st = self
            .conn
            .prepare("SELECT id, data FROM patients ORDER BY created_at, id")
            .map_err(&map)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(&map)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&map)?;
        rows.iter()
            .map(|(id, data)| read_patient(&self.path, id, data))
            .collect()
    }

    /// Removes a patient; `false` when there was none. Watches naming it are left as
    /// they are (they cannot book until given another patient).
    pub fn patient_delete(&self, id: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM patients WHERE id = ?1", [id])
            .map(|n| n > 0)
            .map_err(sql(&self.path))
    }

    /// Stores an account (insert or replace). `secret: None` keeps the stored secret
    /// (a new account then gets `{}`). A changed secret or base URL drops the session
    /// token. Returns the stored account.
    pub fn site_account_put(
        &self,
        platform: &str,
        account: &str,
        base_url: &str,
        secret: Option<&Value>,
        now: i64,
    ) -> Result<SiteAccount, StoreError> {
        let map = sql(&self.path);
        let before = self.site_account_get(platform, account)?;
        let secret = match (secret, &before) {
            (Some(s), _) => s.clone(),
            (None, Some(b)) => b.secret.clone(),
            (None, None) => Value::Object(Default::default()),
        };
        let keep_token = before
            .as_ref()
            .is_some_and(|b| b.secret == secret && b.base_url == base_url);
        let (token, token_at) = match (&before, keep_token) {
            (Some(b), true) => (b.token.clone(), b.token_at),
            _ => (String::new(), 0),
        };
        self.conn
            .execute(
                "INSERT INTO site_accounts (platform, account, base_url, secret, token, token_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (platform, account) DO UPDATE SET base_url = excluded.base_url,
                   secret = excluded.secret, token = excluded.token,
                   token_at = excluded.token_at, updated_at = excluded.updated_at",
                params![
                    platform,
                    account,
                    base_url,
                    secret.to_string(),
                    token,
                    token_at,
                    now
                ],
            )
            .map_err(&map)?;
        Ok(SiteAccount {
            platform: platform.to_string(),
            account: account.to_string(),
            base_url: base_url.to_string(),
            secret,
            token,
            token_at,
            updated_at: now,
        })
    }

    /// One stored account.
    pub fn site_account_get(
        &self,
        platform: &str,
        account: &str,
    ) -> Result<Option<SiteAccount>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {SITE_ACCOUNT_COLUMNS} FROM site_accounts
                     WHERE platform = ?1 AND account = ?2"
                ),
                [platform, account],
                read_site_account,
            )
            .optional()
            .map_err(sql(&self.path))
    }

    /// The stored accounts (of one platform, or all), by platform and account.
    pub fn site_account_list(
        &self,
        platform: Option<&str>,
    ) -> Result<Vec<SiteAccount>, StoreError> {
        let map = sql(&self.path);
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {SITE_ACCOUNT_COLUMNS} FROM site_accounts
                 WHERE ?1 IS NULL OR platform = ?1 ORDER BY platform, account"
            ))
            .map_err(&map)?;
        let rows = st.query_map([platform], read_site_account).map_err(&map)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&map)
    }

    /// Forgets an account and its secret; `false` when there was none.
    pub fn site_account_delete(&self, platform: &str, account: &str) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "DELETE FROM site_accounts WHERE platform = ?1 AND account = ?2",
                [platform, account],
            )
            .map(|n| n > 0)
            .map_err(sql(&self.path))
    }

    /// Sets (or, with `""`, clears) an account's session token; `false` when there is
    /// no such account.
    pub fn site_token_set(
        &self,
        platform: &str,
        account: &str,
        token: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE site_accounts SET token = ?3, token_at = ?4
                 WHERE platform = ?1 AND account = ?2",
                params![platform, account, token, at],
            )
            .map(|n| n > 0)
            .map_err(sql(&self.path))
    }
}

/// A `site_accounts` row; a secret that is not JSON reads as `{}` (no secret).
fn read_site_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<SiteAccount> {
    let secret: String = r.get(3)?;
    Ok(SiteAccount {
        platform: r.get(0)?,
        account: r.get(1)?,
        base_url: r.get(2)?,
        secret: serde_json::from_str(&secret).unwrap_or_else(|_| Value::Object(Default::default())),
        token: r.get(4)?,
        token_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// A stored patient's JSON, or a plain-words error naming it.
fn read_patient(path: &Path, id: &str, data: &str) -> Result<Patient, StoreError> {
    serde_json::from_str(data).map_err(|e| {
        StoreError::new(
            ErrorCode::StoreFailed,
            format!(
                "patient {id} in {} can no longer be read ({e}); it may have been written \
                 by a newer Haoyuan — update the host",
                path.display()
            ),
        )
    })
}

/// A booking intent row as read, before its state and data are parsed.
struct IntentRow {
    id: String,
    watch_id: String,
    state: String,
    created_at: i64,
    updated_at: i64,
    data: String,
}

impl IntentRow {
    /// Reads the columns of [`INTENT_COLUMNS`].
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntentRow> {
        Ok(IntentRow {
            id: r.get(0)?,
            watch_id: r.get(1)?,
            state: r.get(2)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
            data: r.get(5)?,
        })
    }

    fn into_intent(self, path: &Path) -> Result<BookingIntent, StoreError> {
        let unreadable = |what: String| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!(
                    "booking {} of watch {} in {} can no longer be read ({what}); it may have \
                     been written by a newer Haoyuan — update the host",
                    self.id,
                    self.watch_id,
                    path.display()
                ),
            )
        };
        let state = BookingState::parse(&self.state)
            .ok_or_else(|| unreadable(format!("unknown state “{}”", self.state)))?;
        let data = serde_json::from_str(&self.data).map_err(|e| unreadable(e.to_string()))?;
        Ok(BookingIntent {
            id: self.id,
            watch_id: self.watch_id,
            state,
            created_at: self.created_at,
            updated_at: self.updated_at,
            data,
        })
    }
}

/// The blocking intent of a watch, if any (the unique index allows at most one).
fn blocking_intent(
    conn: &Connection,
    path: &Path,
    watch_id: &str,
) -> Result<Option<BookingIntent>, StoreError> {
    conn.query_row(
        &format!(
            "SELECT {INTENT_COLUMNS} FROM booking_intents
             WHERE watch_id = ?1 AND state IN ('submitted', 'booked', 'unknown')"
        ),
        [watch_id],
        IntentRow::read,
    )
    .optional()
    .map_err(sql(path))?
    .map(|r| r.into_intent(path))
    .transpose()
}

/// The `booking_exists` refusal, saying when the earlier order was submitted.
fn booking_exists(earlier: Option<&BookingIntent>) -> StoreError {
    let what = match earlier {
        Some(i) => {
            let when = format!("{} (Beijing time)", beijing_time(i.created_at));
            match i.state {
                BookingState::Booked => format!(
                    "This watch is already booked: its order was submitted at {when} and the \
                     site confirmed it"
                ),
                BookingState::Submitted => format!(
                    "An order for this watch was submitted at {when} and its result is not \
                     known yet"
                ),
                BookingState::Unknown | BookingState::Failed => format!(
                    "An order for this watch was submitted at {when} and its outcome is \
                     unknown — check your orders on the site"
                ),
            }
        }
        None => "An order for this watch was already submitted".to_string(),
    };
    StoreError::new(
        ErrorCode::BookingExists,
        format!("{what}. Haoyuan will not send another order for this watch."),
    )
}

/// The watch row of `id`, if there is one (its JSON not yet read).
fn read_watch_row(
    conn: &Connection,
    path: &Path,
    id: &str,
) -> Result<Option<WatchRow>, StoreError> {
    conn.query_row(
        "SELECT id, json, created_at, updated_at FROM watches WHERE id = ?1",
        [id],
        WatchRow::read,
    )
    .optional()
    .map_err(sql(path))
}

/// A fresh booking intent id, `b-` and 16 hex digits, not used by any stored intent.
fn new_intent_id(conn: &Connection, path: &Path) -> Result<String, StoreError> {
    fresh_id(
        conn,
        path,
        "b",
        "booking_intents",
        "nothing was recorded and no order may be sent, try again",
    )
}

/// A fresh id `<prefix>-` and 16 random hex digits not used in `table` (one of ours, a
/// constant); `then` says in words what happened when none could be drawn.
fn fresh_id(
    conn: &Connection,
    path: &Path,
    prefix: &str,
    table: &'static str,
    then: &str,
) -> Result<String, StoreError> {
    let exists = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)");
    for _ in 0..8 {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!("the system's random number source failed ({e}); {then}"),
            )
        })?;
        let id = format!(
            "{prefix}-{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let taken: bool = conn
            .query_row(&exists, [&id], |r| r.get(0))
            .map_err(sql(path))?;
        if !taken {
            return Ok(id);
        }
    }
    Err(StoreError::new(
        ErrorCode::StoreFailed,
        format!("no unused id could be drawn; {then}"),
    ))
}

/// A watch row as read, before its JSON is parsed.
struct WatchRow {
    id: String,
    json: String,
    created_at: Option<i64>,
    updated_at: Option<i64>,
}

impl WatchRow {
    /// Reads the first four columns: id, json, created_at, updated_at.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<WatchRow> {
        Ok(WatchRow {
            id: r.get(0)?,
            json: r.get(1)?,
            created_at: r.get(2)?,
            updated_at: r.get(3)?,
        })
    }

    /// The stored watch; the id and timestamps come from the columns.
    fn into_watch(self, path: &Path) -> Result<Watch, StoreError> {
        let mut w: Watch = serde_json::from_str(&self.json).map_err(|e| {
            StoreError::new(
                ErrorCode::StoreFailed,
                format!(
                    "The stored watch {} in {} can no longer be read ({e}). It may have been saved by a \
                     newer Haoyuan (update the host), or delete it and create it again.",
                    self.id,
                    path.display()
                ),
            )
        })?;
        w.id = self.id;
        w.created_at = self.created_at.unwrap_or(w.created_at);
        w.updated_at = self.updated_at.unwrap_or(w.updated_at);
        Ok(w)
    }
}

/// How a watch is named in event messages.
fn describe(w: &Watch) -> String {
    let summary = w.target.summary();
    if w.label.trim().is_empty() {
        summary
    } else {
        format!("{} ({summary})", w.label.trim())
    }
}

/// Inserts one event row and returns it.
pub(crate) fn insert_event(
    conn: &Connection,
    path: &Path,
    watch_id: &str,
    kind: &str,
    message: &str,
    data: &Value,
    now_ms: i64,
) -> Result<HistoryEntry, StoreError> {
    conn.execute(
        "INSERT INTO events (watch_id, at, kind, message, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![watch_id, now_ms, kind, message, data.to_string()],
    )
    .map_err(sql(path))?;
    Ok(HistoryEntry {
        seq: conn.last_insert_rowid(),
        watch_id: watch_id.to_string(),
        at: now_ms,
        kind: kind.to_string(),
        message: message.to_string(),
        data: data.clone(),
    })
}

/// A fresh watch id, `w-` and 16 hex digits, not used by any stored watch.
fn new_watch_id(conn: &Connection, path: &Path) -> Result<String, StoreError> {
    fresh_id(
        conn,
        path,
        "w",
        "watches",
        "the watch was not saved, try again",
    )
}

/// `PRAGMA user_version`.
fn read_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Refuses a file whose schema is newer than the `migrations` this code knows.
fn check_not_newer(path: &Path, version: u32, migrations: &[&str]) -> Result<(), StoreError> {
    let known = migrations.len();
    if version as usize > known {
        return Err(StoreError::new(
            ErrorCode::StoreFailed,
            format!(
                "The Haoyuan database {} was made by a newer Haoyuan (schema version {version}; this host \
                 knows up to {known}). Update haoyuan-host; the file was left untouched.",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Applies the `migrations` the file lacks, each in its own transaction together with the
/// new `user_version`. Returns how many were applied. Safe against another process
/// migrating at the same time: the version is re-read under the write lock.
fn migrate(conn: &mut Connection, path: &Path, migrations: &[&str]) -> Result<u32, StoreError> {
    let map = sql(path);
    let mut applied = 0;
    loop {
        if read_version(conn).map_err(&map)? as usize >= migrations.len() {
            return Ok(applied);
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let version = read_version(&tx).map_err(&map)?;
        check_not_newer(path, version, migrations)?;
        let Some(batch) = migrations.get(version as usize) else {
            return Ok(applied);
        };
        tx.execute_batch(batch).map_err(&map)?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(&map)?;
        tx.commit().map_err(&map)?;
        applied += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHORT: Duration = Duration::from_millis(50);

    fn rail(label: &str) -> Watch {
        serde_json::from_value(json!({
            "label": label,
            "target": {"platform": "12306", "from_station": "VNP", "to_station": "AOH"},
            "window": {"start": "2026-11-27", "end": "2026-11-30"},
            "interval": {"seconds": 30}
        }))
        .unwrap()
    }

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open_with_timeout(&dir.path().join("data").join("haoyuan.sqlite3"), SHORT)
                .unwrap();
        (dir, store)
    }

    fn all_history(store: &Store, id: &str) -> Vec<HistoryEntry> {
        store.history(id, None, MAX_PAGE).unwrap().events
    }

    #[test]
    fn put_get_list_page_and_delete() {
        let (_dir, mut store) = temp_store();
        let mut ids = Vec::new();
        for i in 0..7 {
            let (w, ev) = store
                .put_watch(rail(&format!("trip {i}")), 1000 + i)
                .unwrap();
            assert!(w.id.starts_with("w-") && w.id.len() == 18, "{}", w.id);
            assert!(w.id[2..].bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!((w.created_at, w.updated_at), (1000 + i, 1000 + i));
            assert_eq!(ev.kind, "created");
            assert_eq!(ev.watch_id, w.id);
            assert!(
                ev.message.starts_with("Watch created: ") && ev.message.contains("VNP → AOH"),
                "{}",
                ev.message
            );
            ids.push(w.id);
        }
        assert_eq!(
            ids.iter().collect::<std::collections::HashSet<_>>().len(),
            7,
            "ids must be distinct"
        );

        let got = store.get_watch(&ids[2]).unwrap().unwrap();
        assert_eq!(got.label, "trip 2");
        assert_eq!(got.id, ids[2]);
        assert_eq!(got.created_at, 1002);
        assert!(store.get_watch("w-nope").unwrap().is_none());

        let mut sizes = Vec::new();
        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.list_watches(after.as_deref(), 3).unwrap();
            sizes.push(page.watches.len());
            listed.extend(page.watches.into_iter().map(|w| w.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
            assert!(sizes.len() < 10, "paging does not end");
        }
        assert_eq!(sizes, [3, 3, 1]);
        assert_eq!(listed, ids, "creation order");

        let ev = store.delete_watch(&ids[0], 5000).unwrap().unwrap();
        assert_eq!(ev.kind, "deleted");
        assert!(ev.message.contains("trip 0"), "{}", ev.message);
        assert!(store.get_watch(&ids[0]).unwrap().is_none());
        assert_eq!(store.list_watches(None, 50).unwrap().watches.len(), 6);
        let kinds: Vec<_> = all_history(&store, &ids[0])
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["deleted", "created"],
            "history is kept after delete"
        );
        assert!(store.delete_watch(&ids[0], 6000).unwrap().is_none());
        assert_eq!(
            all_history(&store, &ids[0]).len(),
            2,
            "a second delete records nothing"
        );
    }

    #[test]
    fn list_limits_are_clamped_and_bad_cursors_refused() {
        let (_dir, mut store) = temp_store();
        for i in 0..3 {
            store.put_watch(rail(&format!("t{i}")), i).unwrap();
        }
        let page = store.list_watches(None, 0).unwrap();
        assert_eq!(page.watches.len(), 1, "limit 0 is clamped to 1");
        assert!(page.next.is_some());
        assert_eq!(store.list_watches(None, u32::MAX).unwrap().watches.len(), 3);
        let err = store.list_watches(Some("garbage"), 3).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadParams);
    }

    #[test]
    fn put_with_an_existing_id_updates_and_keeps_created_at() {
        let (_dir, mut store) = temp_store();
        let (w, ev) = store.put_watch(rail("first"), 100).unwrap();
        assert_eq!(ev.kind, "created");
        let mut changed = rail("second");
        changed.id = w.id.clone();
        changed.created_at = 999_999; // a client's value is not trusted
        let (u, ev) = store.put_watch(changed, 200).unwrap();
        assert_eq!(ev.kind, "updated");
        assert!(ev.message.starts_with("Watch updated: "), "{}", ev.message);
        assert_eq!(u.id, w.id);
        assert_eq!((u.created_at, u.updated_at), (100, 200));
        let got = store.get_watch(&w.id).unwrap().unwrap();
        assert_eq!(got, u);
        assert_eq!(got.label, "second");
        assert_eq!(store.list_watches(None, 50).unwrap().watches.len(), 1);

        // An id the store does not know is inserted under that id.
        let mut named = rail("named");
        named.id = "my-trip".into();
        let (n, ev) = store.put_watch(named, 300).unwrap();
        assert_eq!(
            (n.id.as_str(), ev.kind.as_str(), n.created_at),
            ("my-trip", "created", 300)
        );
        let kinds: Vec<_> = all_history(&store, &w.id)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["updated", "created"]);
    }

    #[test]
    fn history_is_newest_first_and_pages_with_before() {
        let (_dir, mut store) = temp_store();
        let (w, _) = store.put_watch(rail("h"), 0).unwrap();
        store
            .record_event("other", "slot_seen", "not mine", &json!(null), 1)
            .unwrap();
        for i in 1..=5 {
            let ev = store
                .record_event(
                    &w.id,
                    "slot_seen",
                    &format!("seen {i}"),
                    &json!({"n": i}),
                    10 * i,
                )
                .unwrap();
            assert_eq!((ev.at, ev.data.clone()), (10 * i, json!({"n": i})));
        }
        let p1 = store.history(&w.id, None, 2).unwrap();
        assert_eq!(
            p1.events
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            ["seen 5", "seen 4"]
        );
        assert_eq!(p1.events[0].data, json!({"n": 5}));
        assert_eq!(p1.next, Some(p1.events[1].seq));
        let p2 = store.history(&w.id, p1.next, 2).unwrap();
        assert_eq!(
            p2.events
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            ["seen 3", "seen 2"]
        );
        let p3 = store.history(&w.id, p2.next, 2).unwrap();
        assert_eq!(
            p3.events
                .iter()
                .map(|e| e.kind.as_str())
                .collect::<Vec<_>>(),
            ["slot_seen", "created"]
        );
        assert_eq!(p3.next, None, "nothing older remains");
        assert!(p3.events.iter().all(|e| e.watch_id == w.id));
    }

    #[test]
    fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        let id = {
            let mut store = Store::open(&path).unwrap();
            store.put_watch(rail("kept"), 42).unwrap().0.id
        };
        let store = Store::open(&path).unwrap();
        assert_eq!(store.path(), path);
        let w = store.get_watch(&id).unwrap().unwrap();
        assert_eq!((w.label.as_str(), w.created_at), ("kept", 42));
        assert_eq!(all_history(&store, &id).len(), 1);
    }

    #[test]
    fn a_fresh_database_is_migrated_once_and_in_wal() {
        let (dir, mut store) = temp_store();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        let names: Vec<String> = store
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            names,
            [
                "booking_intents",
                "booking_intents_blocking",
                "events",
                "events_by_watch",
                "outbox",
                "outbox_by_channel",
                "outbox_due",
                "patients",
                "rail_sessions",
                "site_accounts",
                "watches",
                "zlb_config",
                "zlb_history",
                "zlb_history_by_serial",
                "zlb_history_unnotified",
                "zlb_rejects",
                "zlb_reservations",
                "zlb_reservations_arrivals",
                "zlb_reservations_by_date"
            ]
        );
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);

        store.put_watch(rail("x"), 1).unwrap();
        let path = store.path().to_path_buf();
        assert_eq!(
            migrate(&mut store.conn, &path, MIGRATIONS).unwrap(),
            0,
            "nothing to re-run"
        );
        drop(store);
        let reopened = Store::open_with_timeout(&path, SHORT).unwrap();
        assert_eq!(reopened.schema_version().unwrap(), MIGRATIONS.len() as u32);
        assert_eq!(reopened.list_watches(None, 10).unwrap().watches.len(), 1);
        drop(dir);
    }

    #[test]
    fn migrations_step_up_and_a_failing_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path, &MIGRATIONS[..1]).unwrap(), 1);
        let v2 = [MIGRATIONS[0], "CREATE TABLE extra (a INTEGER);"];
        assert_eq!(migrate(&mut conn, &path, &v2).unwrap(), 1);
        assert_eq!(read_version(&conn).unwrap(), 2);

        let broken = [
            MIGRATIONS[0],
            v2[1],
            "CREATE TABLE half (a); INSERT INTO missing VALUES (1);",
        ];
        let err = migrate(&mut conn, &path, &broken).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreFailed);
        assert_eq!(
            read_version(&conn).unwrap(),
            2,
            "the failed migration left the version alone"
        );
        let half: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'half'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(half, 0, "the failed migration was rolled back whole");
    }

    #[test]
    fn a_database_from_a_newer_haoyuan_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open_with_timeout(&path, SHORT).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreFailed);
        assert!(
            err.message.contains("newer") && err.message.contains("Update haoyuan-host"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains(&path.display().to_string()),
            "{}",
            err.message
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file is unchanged"
        );
        assert!(
            !dir.path().join("haoyuan.sqlite3-wal").exists(),
            "not switched to WAL"
        );
    }

    #[test]
    fn a_locked_database_is_reported_as_locked() {
        let (_dir, mut store) = temp_store();
        store.put_watch(rail("before"), 1).unwrap();
        let other = Connection::open(store.path()).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = store.put_watch(rail("blocked"), 2).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreLocked, "{}", err.message);
        assert!(
            err.message.contains("locked by another program"),
            "{}",
            err.message
        );
        assert!(err.message.contains(&store.path().display().to_string()));
        let err = store
            .record_event("w", "k", "m", &Value::Null, 3)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreLocked);
        other.execute_batch("ROLLBACK").unwrap();
        // Once the lock is gone the same write goes through.
        store.put_watch(rail("after"), 4).unwrap();
        assert_eq!(store.list_watches(None, 10).unwrap().watches.len(), 2);
    }

    #[test]
    fn garbage_at_the_path_is_reported_corrupt_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        let garbage: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &garbage).unwrap();
        let err = Store::open_with_timeout(&path, SHORT).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreCorrupt, "{}", err.message);
        assert!(
            err.message.contains("damaged") && err.message.contains(".broken"),
            "{}",
            err.message
        );
        assert!(err.message.contains(&path.display().to_string()));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the file is still there, unchanged"
        );
    }

    #[test]
    fn damaged_pages_are_reported_corrupt_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        let id = {
            let mut store = Store::open_with_timeout(&path, SHORT).unwrap();
            store.put_watch(rail("soon damaged"), 1).unwrap().0.id
        };
        // Closing the last connection folded the WAL into the file; smash every page
        // after the first (the header and the schema stay readable).
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 4096, "expected more than one page");
        for b in &mut bytes[4096..] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).unwrap();
        let err = match Store::open_with_timeout(&path, SHORT) {
            Err(e) => e,
            Ok(store) => store.get_watch(&id).unwrap_err(),
        };
        assert_eq!(err.code, ErrorCode::StoreCorrupt, "{}", err.message);
        assert!(path.exists());
    }

    #[test]
    fn an_unwritable_location_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open_with_timeout(&file.join("haoyuan.sqlite3"), SHORT).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreUnwritable, "{}", err.message);
        assert!(
            err.message.contains("not-a-folder") && err.message.contains("HAOYUAN_HOME"),
            "{}",
            err.message
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"x");

        // A folder where the file should be: SQLite cannot open it.
        let err = Store::open_with_timeout(dir.path(), SHORT).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreUnwritable, "{}", err.message);
    }

    #[test]
    fn a_full_disk_is_reported_and_earlier_data_stays() {
        let (_dir, mut store) = temp_store();
        let (first, _) = store.put_watch(rail("first"), 1).unwrap();
        store.limit_pages_to(3).unwrap();
        let big = "大".repeat(3000);
        let mut saved = 1;
        let err = loop {
            match store.put_watch(rail(&big), 2) {
                Ok(_) => saved += 1,
                Err(e) => break e,
            }
            assert!(saved < 200, "the page limit was never hit");
        };
        assert_eq!(err.code, ErrorCode::DiskFull, "{}", err.message);
        assert!(
            err.message.contains("full")
                && err.message.contains(&store.path().display().to_string())
        );
        let got = store.get_watch(&first.id).unwrap().unwrap();
        assert_eq!(got.label, "first");
        let listed = store.list_watches(None, MAX_PAGE).unwrap().watches;
        assert_eq!(listed.len(), saved, "the failed write saved nothing");
        let events: i64 = store
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(events, saved as i64, "no event without its watch");
    }

    #[test]
    fn a_watch_whose_json_broke_is_named_not_dropped() {
        let (_dir, mut store) = temp_store();
        store.put_watch(rail("fine"), 1).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO watches (id, platform, json, created_at, updated_at) VALUES ('w-broken', '12306', '{not json', 2, 2)",
                [],
            )
            .unwrap();
        let err = store.get_watch("w-broken").unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreFailed);
        assert!(err.message.contains("w-broken"), "{}", err.message);
        let err = store.list_watches(None, 10).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreFailed);
        assert!(err.message.contains("w-broken"), "{}", err.message);
        // The person can still get rid of it.
        let ev = store.delete_watch("w-broken", 3).unwrap().unwrap();
        assert_eq!(ev.kind, "deleted");
        assert_eq!(store.list_watches(None, 10).unwrap().watches.len(), 1);
    }

    fn no_telling() -> (
        Vec<Channel>,
        impl FnMut(&HistoryEntry, Option<&Watch>) -> Option<Notice>,
    ) {
        (
            Vec::new(),
            |_: &HistoryEntry, _: Option<&Watch>| -> Option<Notice> {
                panic!("nothing to render without channels")
            },
        )
    }

    fn begin(store: &mut Store, watch_id: &str, at: i64) -> Result<BookingIntent, StoreError> {
        let (channels, mut render) = no_telling();
        store
            .booking_begin(
                watch_id,
                "order submitted",
                &json!({"visit_time": "2026-12-03 08:30"}),
                at,
                Telling {
                    channels: &channels,
                    render: &mut render,
                },
            )
            .map(|(intent, _, _)| intent)
    }

    fn end(
        store: &mut Store,
        watch_id: &str,
        intent_id: &str,
        result: BookingResult,
        at: i64,
    ) -> Result<(BookingIntent, Option<HistoryEntry>), StoreError> {
        let (channels, mut render) = no_telling();
        store
            .booking_end(
                watch_id,
                intent_id,
                Outcome {
                    result,
                    message: "done",
                    data: &json!({"order_no": "YY1"}),
                },
                at,
                Telling {
                    channels: &channels,
                    render: &mut render,
                },
            )
            .map(|(intent, entry, _)| (intent, entry))
    }

    fn insert_intent(
        store: &Store,
        id: &str,
        watch_id: &str,
        state: &str,
    ) -> rusqlite::Result<usize> {
        store.conn.execute(
            "INSERT INTO booking_intents (id, watch_id, state, created_at, updated_at) VALUES (?1, ?2, ?3, 1, 1)",
            params![id, watch_id, state],
        )
    }

    #[test]
    fn the_database_refuses_a_second_blocking_intent_for_a_watch() {
        let (_dir, store) = temp_store();
        insert_intent(&store, "b-1", "w", "submitted").unwrap();
        for (id, state) in [("b-2", "submitted"), ("b-3", "booked"), ("b-4", "unknown")] {
            let err = insert_intent(&store, id, "w", state).unwrap_err();
            assert_eq!(
                err.sqlite_error_code(),
                Some(SqliteCode::ConstraintViolation),
                "{state}: {err}"
            );
        }
        // Failed intents do not block, any number of them; other watches are apart.
        insert_intent(&store, "b-5", "w", "failed").unwrap();
        insert_intent(&store, "b-6", "w", "failed").unwrap();
        insert_intent(&store, "b-7", "other", "booked").unwrap();
        // Nor may a state change make a second blocking one.
        let err = store
            .conn
            .execute(
                "UPDATE booking_intents SET state = 'unknown' WHERE id = 'b-5'",
                [],
            )
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(SqliteCode::ConstraintViolation)
        );
        // Once the first one failed, a new one may be written.
        store
            .conn
            .execute(
                "UPDATE booking_intents SET state = 'failed' WHERE id = 'b-1'",
                [],
            )
            .unwrap();
        insert_intent(&store, "b-8", "w", "booked").unwrap();
        // And no state outside the four.
        let err = insert_intent(&store, "b-9", "x", "maybe").unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(SqliteCode::ConstraintViolation)
        );
    }

    #[test]
    fn a_watch_books_once_unless_the_site_made_no_order() {
        let (_dir, mut store) = temp_store();
        let (w, _) = store.put_watch(rail("book"), 1).unwrap();
        assert!(store.booking_get(&w.id).unwrap().is_none());

        let err = begin(&mut store, "w-nope", 5).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(all_history(&store, "w-nope").is_empty());

        // 2026-11-27 09:15 Beijing time.
        let at = 1_795_742_100_000;
        let first = begin(&mut store, &w.id, at).unwrap();
        assert!(
            first.id.starts_with("b-") && first.id.len() == 18,
            "{}",
            first.id
        );
        assert_eq!(
            (first.state, first.created_at, first.updated_at),
            (BookingState::Submitted, at, at)
        );
        assert_eq!(first.data["visit_time"], "2026-12-03 08:30");
        assert_eq!(store.booking_get(&w.id).unwrap(), Some(first.clone()));
        let err = begin(&mut store, &w.id, at + 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::BookingExists);
        assert!(
            err.message.contains("2026-11-27 09:15")
                && err.message.contains("will not send another order"),
            "{}",
            err.message
        );

        // Failed: no order exists, the watch may book again.
        let (failed, entry) =
            end(&mut store, &w.id, &first.id, BookingResult::Failed, at + 2).unwrap();
        assert_eq!(
            (failed.state, failed.updated_at),
            (BookingState::Failed, at + 2)
        );
        assert_eq!(entry.unwrap().kind, "booking_failed");
        assert!(store.booking_get(&w.id).unwrap().is_none());
        let second = begin(&mut store, &w.id, at + 3).unwrap();
        assert_ne!(second.id, first.id);

        // Booked: never again; repeating the result records nothing; changing it is refused.
        let (booked, entry) =
            end(&mut store, &w.id, &second.id, BookingResult::Booked, at + 4).unwrap();
        assert_eq!(booked.state, BookingState::Booked);
        assert_eq!(entry.unwrap().data["order_no"], "YY1");
        let (again, entry) =
            end(&mut store, &w.id, &second.id, BookingResult::Booked, at + 9).unwrap();
        assert_eq!((again.clone(), entry), (booked.clone(), None));
        for other in [BookingResult::Failed, BookingResult::Unknown] {
            let err = end(&mut store, &w.id, &second.id, other, at + 9).unwrap_err();
            assert_eq!(err.code, ErrorCode::BadParams, "{other:?}");
            assert!(
                err.message.contains("already recorded as booked"),
                "{}",
                err.message
            );
        }
        // The old failed intent cannot be revived either.
        let err = end(&mut store, &w.id, &first.id, BookingResult::Booked, at + 9).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadParams);
        let err = begin(&mut store, &w.id, at + 10).unwrap_err();
        assert_eq!(err.code, ErrorCode::BookingExists);
        assert!(err.message.contains("already booked"), "{}", err.message);

        // Unknown intents and intents of another watch are not found.
        let err = end(&mut store, &w.id, "b-nope", BookingResult::Booked, 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        let err = end(&mut store, "w-other", &second.id, BookingResult::Booked, 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);

        let kinds: Vec<_> = all_history(&store, &w.id)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "booked",
                "booking_submitted",
                "booking_failed",
                "booking_submitted",
                "created"
            ]
        );

        // Deleting the watch keeps its intents: the same id recreated still may not book.
        store.delete_watch(&w.id, at + 20).unwrap().unwrap();
        assert_eq!(store.booking_get(&w.id).unwrap(), Some(booked));
        let mut again = rail("again");
        again.id = w.id.clone();
        store.put_watch(again, at + 21).unwrap();
        assert_eq!(
            begin(&mut store, &w.id, at + 22).unwrap_err().code,
            ErrorCode::BookingExists
        );
    }

    #[test]
    fn booking_events_and_their_messages_commit_with_the_intent() {
        let (_dir, mut store) = temp_store();
        let (w, _) = store.put_watch(rail("told"), 1).unwrap();
        let channels = [Channel::Email, Channel::Webhook];
        let mut seen_watch = Vec::new();
        let mut render = |e: &HistoryEntry, watch: Option<&Watch>| {
            seen_watch.push(watch.map(|w| w.label.clone()));
            Some(Notice {
                id: format!("hy-{}", e.seq),
                kind: e.kind.clone(),
                watch_id: e.watch_id.clone(),
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
                url: None,
                at: e.at,
            })
        };
        let (intent, entry, queued) = store
            .booking_begin(
                &w.id,
                "提交订单",
                &Value::Null,
                10,
                Telling {
                    channels: &channels,
                    render: &mut render,
                },
            )
            .unwrap();
        assert_eq!(entry.kind, "booking_submitted");
        assert_eq!(queued.unwrap().id, format!("hy-{}", entry.seq));
        assert_eq!(store.outbox_counts().unwrap(), (2, 0, 0));
        // Ended after the watch was deleted: still recorded and told, without the watch.
        store.delete_watch(&w.id, 11).unwrap();
        let (_, entry, queued) = store
            .booking_end(
                &w.id,
                &intent.id,
                Outcome {
                    result: BookingResult::Unknown,
                    message: "no answer",
                    data: &Value::Null,
                },
                12,
                Telling {
                    channels: &channels,
                    render: &mut render,
                },
            )
            .unwrap();
        assert_eq!(entry.unwrap().kind, "outcome_unknown");
        assert!(queued.is_some());
        assert_eq!(seen_watch, [Some("told".to_string()), None]);
        let kinds: Vec<String> = store
            .conn
            .prepare(
                "SELECT e.kind FROM outbox o JOIN events e ON e.seq = o.event_seq ORDER BY o.id",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds.len(), 4);
        assert_eq!(
            kinds.iter().filter(|k| *k == "booking_submitted").count(),
            2
        );
        assert_eq!(kinds.iter().filter(|k| *k == "outcome_unknown").count(), 2);

        // A failure inside the transaction leaves neither intent, event nor message.
        let (w2, _) = store.put_watch(rail("locked"), 20).unwrap();
        let other = Connection::open(store.path()).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = begin(&mut store, &w2.id, 21).unwrap_err();
        assert_eq!(err.code, ErrorCode::StoreLocked);
        other.execute_batch("ROLLBACK").unwrap();
        assert!(store.booking_get(&w2.id).unwrap().is_none());
        assert_eq!(all_history(&store, &w2.id).len(), 1);
        begin(&mut store, &w2.id, 22).unwrap();
    }

    #[test]
    fn a_version_2_database_gains_booking_intents_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            assert_eq!(migrate(&mut conn, &path, &MIGRATIONS[..2]).unwrap(), 2);
            conn.execute(
                "INSERT INTO events (watch_id, at, kind, message) VALUES ('w', 1, 'slot_seen', 'kept')",
                [],
            )
            .unwrap();
        }
        let store = Store::open_with_timeout(&path, SHORT).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        assert_eq!(all_history(&store, "w")[0].message, "kept");
        assert!(store.booking_get("w").unwrap().is_none());
        assert!(store.rail_sessions().unwrap().is_empty());
    }

    #[test]
    fn rail_sessions_are_kept_per_account_and_marked_ended() {
        let (_dir, store) = temp_store();
        let s = RailSession {
            account: "traveller".into(),
            holder: "张三".into(),
            cookies: r#"{"cookies":{"JSESSIONID":"a"}}"#.into(),
            signed_in: true,
            updated_at: 10,
        };
        store.rail_session_put(&s).unwrap();
        store
            .rail_session_put(&RailSession {
                account: "other".into(),
                ..s.clone()
            })
            .unwrap();
        store
            .rail_session_cookies("traveller", r#"{"cookies":{"JSESSIONID":"b"}}"#)
            .unwrap();
        store.rail_session_ended("traveller", 20).unwrap();
        let got = store.rail_session("traveller").unwrap().unwrap();
        assert_eq!(got.cookies, r#"{"cookies":{"JSESSIONID":"b"}}"#);
        assert!(!got.signed_in);
        assert_eq!(got.updated_at, 20);
        // Ending twice does not move the time; the other account is untouched.
        store.rail_session_ended("traveller", 30).unwrap();
        assert_eq!(
            store.rail_session("traveller").unwrap().unwrap().updated_at,
            20
        );
        assert!(store.rail_session("other").unwrap().unwrap().signed_in);
        assert_eq!(store.rail_sessions().unwrap().len(), 2);
        assert!(store.rail_session("nobody").unwrap().is_none());
    }

    #[test]
    fn store_errors_become_error_bodies() {
        let body: ErrorBody = StoreError::new(ErrorCode::DiskFull, "full").into();
        assert_eq!(body, ErrorBody::new(ErrorCode::DiskFull, "full"));
    }

    fn patient(name: &str) -> Patient {
        serde_json::from_value(json!({
            "name": name, "id_number": "411423199001012113", "birthday": "1990-01-01",
            "sex": "male", "phone": "13812345678"
        }))
        .unwrap()
    }

    #[test]
    fn patients_are_put_got_listed_and_deleted() {
        let (_dir, mut store) = temp_store();
        let a = store.patient_put(&patient("张三"), 10).unwrap();
        assert!(a.id.starts_with("p-") && a.id.len() == 18, "{}", a.id);
        assert_eq!((a.created_at, a.updated_at), (10, 10));
        let b = store.patient_put(&patient("李四"), 20).unwrap();
        let mut changed = a.clone();
        changed.phone = "13900000000".into();
        changed.created_at = 999;
        let again = store.patient_put(&changed, 30).unwrap();
        assert_eq!(
            (again.id.as_str(), again.created_at, again.updated_at),
            (a.id.as_str(), 10, 30)
        );
        assert_eq!(
            store.patient_get(&a.id).unwrap().unwrap().phone,
            "13900000000"
        );
        let names: Vec<String> = store
            .patient_list()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["张三", "李四"]);
        assert!(store.patient_delete(&b.id).unwrap());
        assert!(!store.patient_delete(&b.id).unwrap());
        assert!(store.patient_get(&b.id).unwrap().is_none());
        // An unknown id is inserted under that id.
        let mut named = patient("王五");
        named.id = "p-mine".into();
        assert_eq!(store.patient_put(&named, 40).unwrap().id, "p-mine");
        assert_eq!(store.patient_list().unwrap().len(), 2);
    }

    #[test]
    fn site_accounts_keep_secrets_and_tokens_in_the_file_only() {
        let (_dir, store) = temp_store();
        let secret = json!({"password": "hunter2"});
        let a = store
            .site_account_put("pati", "13812345678", "http://h", Some(&secret), 5)
            .unwrap();
        assert!(a.has_secret());
        let shown = format!("{a:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(store
            .site_token_set("pati", "13812345678", "tok-1", 6)
            .unwrap());
        assert!(!store.site_token_set("pati", "nobody", "t", 6).unwrap());
        let got = store
            .site_account_get("pati", "13812345678")
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.token.as_str(), got.token_at, got.secret.clone()),
            ("tok-1", 6, secret.clone())
        );
        assert!(!format!("{got:?}").contains("tok-1"));
        // No secret given: the stored one and the session stay.
        let kept = store
            .site_account_put("pati", "13812345678", "http://h", None, 7)
            .unwrap();
        assert_eq!(
            (kept.secret.clone(), kept.token.as_str()),
            (secret, "tok-1")
        );
        // A new password or server: the session is dropped.
        let new = json!({"password": "other"});
        let changed = store
            .site_account_put("pati", "13812345678", "http://h", Some(&new), 8)
            .unwrap();
        assert_eq!((changed.token.as_str(), changed.token_at), ("", 0));
        store
            .site_account_put("91160", "me", "", Some(&json!({"app_token": "t"})), 9)
            .unwrap();
        let fresh = store.site_account_put("91160", "you", "", None, 9).unwrap();
        assert!(!fresh.has_secret());
        let all: Vec<_> = store
            .site_account_list(None)
            .unwrap()
            .into_iter()
            .map(|a| format!("{}/{}", a.platform, a.account))
            .collect();
        assert_eq!(all, ["91160/me", "91160/you", "pati/13812345678"]);
        assert_eq!(store.site_account_list(Some("pati")).unwrap().len(), 1);
        assert!(store.site_account_delete("91160", "me").unwrap());
        assert!(!store.site_account_delete("91160", "me").unwrap());
        assert_eq!(store.site_account_list(Some("91160")).unwrap().len(), 1);
    }

    #[test]
    fn a_version_4_database_gains_the_patient_book_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haoyuan.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            assert_eq!(migrate(&mut conn, &path, &MIGRATIONS[..4]).unwrap(), 4);
            conn.execute(
                "INSERT INTO rail_sessions (account, updated_at) VALUES ('a', 1)",
                [],
            )
            .unwrap();
        }
        let mut store = Store::open_with_timeout(&path, SHORT).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        assert_eq!(store.rail_sessions().unwrap().len(), 1);
        assert!(store.patient_list().unwrap().is_empty());
        store.patient_put(&patient("张三"), 1).unwrap();
        assert!(store.site_account_list(None).unwrap().is_empty());
    }
}
