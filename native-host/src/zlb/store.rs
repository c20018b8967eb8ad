//! The 浙里办 tables of the host's database (migration v6): the settings with their
//! secrets, the reservations, their history, the rejects — and the one transaction
//! that stores a delivered batch with its notifications, which must commit before the
//! batch is acknowledged.

use crate::outbox::{new_notice_id, queue_notice};
use crate::store::{insert_event, sql, Store, StoreError};
use haoyuan_core::date::Date;
use haoyuan_core::notify::{Channel, Notice};
use haoyuan_core::platforms::zheliban::site::Token;
use haoyuan_core::platforms::zheliban::watcher::Delivery;
use haoyuan_core::platforms::zheliban::{
    self as zlb, ArrivalState, Change, Reservation, ReservationView, ZLB_WATCH_ID,
};
use haoyuan_core::protocol::{ErrorCode, HistoryEntry, ZlbNotify, ZlbRejectView};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

/// The stored settings. `Debug` never shows the secrets.
#[derive(Clone, PartialEq)]
pub struct ZlbConfig {
    pub base_url: String,
    pub apikey: String,
    pub secret: String,
    pub aes_key: String,
    pub interval_s: u32,
    pub notify: ZlbNotify,
    pub token: Option<Token>,
    pub last_sync_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

impl std::fmt::Debug for ZlbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZlbConfig")
            .field("base_url", &self.base_url)
            .field("interval_s", &self.interval_s)
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

/// What deliveries changed: reservations new, rescheduled, cancelled, otherwise
/// updated, and repeats (identical to what was stored).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub new: u32,
    pub rescheduled: u32,
    pub cancelled: u32,
    pub updated: u32,
    pub repeats: u32,
}

impl Changes {
    /// Counts one delivery: its change, or a repeat.
    fn count(&mut self, change: Option<Change>) {
        *match change {
            Some(Change::New) => &mut self.new,
            Some(Change::Rescheduled) => &mut self.rescheduled,
            Some(Change::Cancelled) => &mut self.cancelled,
            Some(Change::Updated) => &mut self.updated,
            None => &mut self.repeats,
        } += 1;
    }

    /// Adds another tally.
    pub fn add(&mut self, o: &Changes) {
        self.new += o.new;
        self.rescheduled += o.rescheduled;
        self.cancelled += o.cancelled;
        self.updated += o.updated;
        self.repeats += o.repeats;
    }

    /// Changes, repeats not counted.
    pub fn total(&self) -> u32 {
        self.new + self.rescheduled + self.cancelled + self.updated
    }
}

/// What storing one delivery did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// Serial numbers now durably stored (changed or repeated): the ones to ack.
    pub serials: Vec<String>,
    pub changes: Changes,
    /// Events recorded (and queued for the channels) in the same transaction.
    pub events: Vec<HistoryEntry>,
}

/// The filters of the front desk's list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub query: String,
    pub include_cancelled: bool,
}

impl ListFilter {
    pub fn new(
        from: Option<Date>,
        to: Option<Date>,
        query: String,
        include_cancelled: bool,
    ) -> ListFilter {
        ListFilter {
            from,
            to,
            query,
            include_cancelled,
        }
    }
}

/// The columns a front-desk row is read from.
const ROW_COLUMNS: &str =
    "record, arrived_at, arrival_state, arrival_error, first_seen_at, updated_at";

/// One stored reservation row.
struct Row {
    record: String,
    arrived_at: Option<String>,
    state: Option<String>,
    error: Option<String>,
    first: i64,
    updated: i64,
}

impl Row {
    fn read(r: &rusqlite::Row) -> rusqlite::Result<Row> {
        Ok(Row {
            record: r.get(0)?,
            arrived_at: r.get(1)?,
            state: r.get(2)?,
            error: r.get(3)?,
            first: r.get(4)?,
            updated: r.get(5)?,
        })
    }

    /// The reservation and its view; `None` for a record this version cannot read.
    fn view(self) -> Option<(Reservation, ReservationView)> {
        let r: Reservation = serde_json::from_str(&self.record).ok()?;
        let v = ReservationView::of(
            &r,
            self.arrived_at,
            self.state.as_deref().and_then(ArrivalState::parse),
            self.error,
            self.first,
            self.updated,
        );
        Some((r, v))
    }
}

impl Store {
    /// The 浙里办 settings, when set.
    pub fn zlb_config(&self) -> Result<Option<ZlbConfig>, StoreError> {
        self.conn
            .query_row(
                "SELECT base_url, apikey, secret, aes_key, interval_s, notify, token, token_expires_at,
                        last_sync_at, last_error, last_error_at FROM zlb_config WHERE id = 1",
                [],
                |r| {
                    let token: String = r.get(6)?;
                    let exp: i64 = r.get(7)?;
                    Ok(ZlbConfig {
                        base_url: r.get(0)?,
                        apikey: r.get(1)?,
                        secret: r.get(2)?,
                        aes_key: r.get(3)?,
                        interval_s: r.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
                        notify: ZlbNotify::parse(&r.get::<_, String>(5)?).unwrap_or_default(),
                        token: (!token.is_empty()).then_some(Token {
                            token,
                            expires_at_ms: exp,
                        }),
                        last_sync_at: r.get(8)?,
                        last_error: r.get(9)?,
                        last_error_at: r.get(10)?,
                    })
                },
            )
            .optional()
            .map_err(sql(&self.path))
    }

    /// Writes the settings (the caller merged blank secrets with the stored ones). A
    /// change of address or credentials forgets the cached token.
    pub fn zlb_config_put(&self, c: &ZlbConfig, now: i64) -> Result<(), StoreError> {
        let old = self.zlb_config()?;
        let keep_token = old.as_ref().is_some_and(|o| {
            o.base_url == c.base_url
                && o.apikey == c.apikey
                && o.secret == c.secret
                && o.aes_key == c.aes_key
        });
        let token = if keep_token {
            old.and_then(|o| o.token)
        } else {
            None
        };
        self.conn
            .execute(
                "INSERT INTO zlb_config (id, base_url, apikey, secret, aes_key, interval_s, notify, token, token_expires_at, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET base_url = ?1, apikey = ?2, secret = ?3, aes_key = ?4,
                    interval_s = ?5, notify = ?6, token = ?7, token_expires_at = ?8, updated_at = ?9",
                params![
                    c.base_url,
                    c.apikey,
                    c.secret,
                    c.aes_key,
                    c.interval_s,
                    c.notify.as_str(),
                    token.as_ref().map_or("", |t| t.token.as_str()),
                    token.as_ref().map_or(0, |t| t.expires_at_ms),
                    now
                ],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Caches the token (or forgets it).
    pub fn zlb_token_put(&self, token: Option<&Token>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE zlb_config SET token = ?1, token_expires_at = ?2 WHERE id = 1",
                params![
                    token.map_or("", |t| t.token.as_str()),
                    token.map_or(0, |t| t.expires_at_ms)
                ],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Records how a round ended: `error` `None` for success.
    pub fn zlb_round_end(&self, now: i64, error: Option<&str>) -> Result<(), StoreError> {
        let r = match error {
            None => self.conn.execute(
                "UPDATE zlb_config SET last_sync_at = ?1, last_error = NULL, last_error_at = NULL WHERE id = 1",
                params![now],
            ),
            Some(e) => self.conn.execute(
                "UPDATE zlb_config SET last_error = ?2, last_error_at = ?1 WHERE id = 1",
                params![now, e],
            ),
        };
        r.map_err(sql(&self.path)).map(drop)
    }

    /// Counts: reservations, arrivals not yet told, rejects.
    pub fn zlb_counts(&self) -> Result<(u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM zlb_reservations),
                        (SELECT COUNT(*) FROM zlb_reservations WHERE arrival_state = 'pending'),
                        (SELECT COUNT(*) FROM zlb_rejects WHERE released_at IS NULL)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .map_err(sql(&self.path))
    }

    /// Stores a checked delivery in one transaction: each accepted record inserted or
    /// updated by serial number (a repeat changes nothing), its history, the rejects,
    /// and — with `notify` `each` — an event and its messages per change. Returns the
    /// serial numbers that are now stored, which the caller may acknowledge.
    pub fn zlb_store_delivery(
        &mut self,
        d: &Delivery,
        now: i64,
        notify: ZlbNotify,
        channels: &[Channel],
    ) -> Result<Stored, StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self.begin()?;
        let mut out = Stored::default();
        {
            let mut get = tx
                .prepare_cached("SELECT record FROM zlb_reservations WHERE serial = ?1")
                .map_err(&map)?;
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO zlb_reservations (serial, record, status, check_date, name, first_seen_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                     ON CONFLICT (serial) DO UPDATE SET record = ?2, status = ?3, check_date = ?4, name = ?5, updated_at = ?6",
                )
                .map_err(&map)?;
            let mut history = tx
                .prepare_cached(
                    "INSERT INTO zlb_history (serial, at, kind, message, request_id, record, notified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&map)?;
            let mut fixed = tx
                .prepare_cached("DELETE FROM zlb_rejects WHERE serial = ?1")
                .map_err(&map)?;
            for r in &d.accepted {
                let old_text: Option<String> = get
                    .query_row([&r.serial], |row| row.get(0))
                    .optional()
                    .map_err(&map)?;
                let old: Option<Reservation> = old_text
                    .as_deref()
                    .and_then(|t| serde_json::from_str(t).ok());
                let text = r.fingerprint();
                out.serials.push(r.serial.clone());
                let change = if old_text.as_deref() == Some(text.as_str()) {
                    None
                } else {
                    Change::between(old.as_ref(), r)
                };
                out.changes.count(change);
                let Some(change) = change else {
                    continue;
                };
                upsert
                    .execute(params![
                        r.serial,
                        text,
                        r.status,
                        r.check_date.to_string(),
                        r.name,
                        now
                    ])
                    .map_err(&map)?;
                let message = change.describe(old.as_ref(), r);
                let told = notify != ZlbNotify::Digest;
                history
                    .execute(params![
                        r.serial,
                        now,
                        change.kind(),
                        message,
                        d.request_id,
                        text,
                        told
                    ])
                    .map_err(&map)?;
                fixed.execute([&r.serial]).map_err(&map)?;
                if notify == ZlbNotify::Each {
                    let data =
                        json!({"serial": r.serial, "check_date": r.check_date, "status": r.status});
                    let entry = insert_event(
                        &tx,
                        &path,
                        ZLB_WATCH_ID,
                        change.kind(),
                        &message,
                        &data,
                        now,
                    )?;
                    let mut render = |e: &HistoryEntry| -> Option<Notice> {
                        Some(zlb::notice(
                            &new_notice_id(),
                            &e.kind,
                            &format!("浙里办 · {}", e.message),
                            std::slice::from_ref(&e.message),
                            e.at,
                        ))
                    };
                    queue_notice(&tx, &path, &entry, channels, &mut render)?;
                    out.events.push(entry);
                }
            }
            let mut reject = tx
                .prepare_cached(
                    "INSERT INTO zlb_rejects (raw, serial, request_id, reason, first_seen_at, last_seen_at, times)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)
                     ON CONFLICT (raw) DO UPDATE SET times = times + 1, last_seen_at = ?5, request_id = ?3",
                )
                .map_err(&map)?;
            for j in &d.rejects {
                reject
                    .execute(params![
                        j.raw.to_string(),
                        j.serial,
                        d.request_id,
                        j.reason,
                        now
                    ])
                    .map_err(&map)?;
            }
        }
        tx.commit().map_err(&map)?;
        Ok(out)
    }

    /// With `notify` `digest`: one event and message listing every change not yet told,
    /// marked told in the same transaction. Nothing when there is none.
    pub fn zlb_flush_digest(
        &mut self,
        now: i64,
        channels: &[Channel],
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self.begin()?;
        let rows: Vec<(i64, String, String)> = {
            let mut st = tx
                .prepare(
                    "SELECT seq, kind, message FROM zlb_history WHERE notified = 0 ORDER BY seq",
                )
                .map_err(&map)?;
            let it = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(&map)?;
            it.collect::<Result<_, _>>().map_err(&map)?
        };
        if rows.is_empty() {
            return Ok(None);
        }
        let count = |k: &str| rows.iter().filter(|(_, kind, _)| kind == k).count();
        let subject = format!(
            "浙里办 体检预约: {} 新预约, {} 改约, {} 取消{}",
            count("zlb_new"),
            count("zlb_rescheduled"),
            count("zlb_cancelled"),
            match count("zlb_updated") {
                0 => String::new(),
                n => format!(", {n} 更新"),
            }
        );
        let lines: Vec<String> = rows.iter().map(|(_, _, m)| m.clone()).collect();
        let last = rows.last().map_or(0, |r| r.0);
        let data = json!({"changes": rows.len(), "through_seq": last});
        let entry = insert_event(&tx, &path, ZLB_WATCH_ID, "zlb_digest", &subject, &data, now)?;
        let mut render = |e: &HistoryEntry| -> Option<Notice> {
            Some(zlb::notice(
                &new_notice_id(),
                &e.kind,
                &e.message,
                &lines,
                e.at,
            ))
        };
        queue_notice(&tx, &path, &entry, channels, &mut render)?;
        tx.execute(
            "UPDATE zlb_history SET notified = 1 WHERE notified = 0 AND seq <= ?1",
            [last],
        )
        .map_err(&map)?;
        tx.commit().map_err(&map)?;
        Ok(Some(entry))
    }

    /// One reservation as the front desk sees it.
    pub fn zlb_get(
        &self,
        serial: &str,
    ) -> Result<Option<(Reservation, ReservationView)>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM zlb_reservations WHERE serial = ?1"),
                [serial],
                Row::read,
            )
            .optional()
            .map_err(sql(&self.path))?;
        Ok(row.and_then(Row::view))
    }

    /// The front desk's list, by check date then name; `limit` rows and the total.
    pub fn zlb_list(
        &self,
        f: &ListFilter,
        limit: u32,
    ) -> Result<(Vec<ReservationView>, u64), StoreError> {
        let map = sql(&self.path);
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {ROW_COLUMNS} FROM zlb_reservations
                 WHERE check_date >= ?1 AND check_date <= ?2 AND (?3 OR status != 5)
                 ORDER BY check_date, name, serial"
            ))
            .map_err(&map)?;
        let from = f.from.map_or(String::new(), |d| d.to_string());
        let to = f.to.map_or("9999-99-99".to_string(), |d| d.to_string());
        let rows = st
            .query_map(params![from, to, f.include_cancelled], Row::read)
            .map_err(&map)?;
        let mut out = Vec::new();
        let mut total = 0u64;
        for row in rows {
            let Some((_, v)) = row.map_err(&map)?.view() else {
                continue;
            };
            if !v.matches(&f.query) {
                continue;
            }
            total += 1;
            if out.len() < limit as usize {
                out.push(v);
            }
        }
        Ok((out, total))
    }

    /// Marks a person arrived at `at` (Beijing `yyyy-MM-dd HH:mm:ss`), to be told to
    /// the platform (`pending`), with its history line, in one transaction.
    pub fn zlb_arrive(&mut self, serial: &str, at: &str, now: i64) -> Result<(), StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self.begin()?;
        let n = tx
            .execute(
                "UPDATE zlb_reservations SET arrived_at = ?2, arrival_state = 'pending', arrival_error = NULL
                 WHERE serial = ?1 AND status != 5",
                params![serial, at],
            )
            .map_err(&map)?;
        if n == 0 {
            return Err(StoreError::new(
                ErrorCode::NotFound,
                format!("no reservation {serial} that can be marked arrived"),
            ));
        }
        tx.execute(
            "INSERT INTO zlb_history (serial, at, kind, message, notified) VALUES (?1, ?2, 'zlb_arrived', ?3, 1)",
            params![serial, now, format!("到检 {serial} · {at}")],
        )
        .map_err(&map)?;
        tx.commit().map_err(&map)?;
        Ok(())
    }

    /// Arrivals recorded here and not yet accepted by the platform: (serial, at).
    pub fn zlb_pending_arrivals(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.query_all(
            "SELECT serial, arrived_at FROM zlb_reservations WHERE arrival_state = 'pending' ORDER BY arrived_at",
            [],
            |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())),
        )
    }

    /// How telling the platform of an arrival went: `Sent`, `Refused` (with why) or
    /// still `Pending` (with why it will be tried again).
    pub fn zlb_arrival_result(
        &self,
        serial: &str,
        state: ArrivalState,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE zlb_reservations SET arrival_state = ?2, arrival_error = ?3 WHERE serial = ?1 AND arrived_at IS NOT NULL",
                params![serial, state.as_str(), error],
            )
            .map_err(sql(&self.path))
            .map(drop)
    }

    /// The rejects, newest first; the ID number and phone in each masked.
    pub fn zlb_rejects(&self) -> Result<Vec<ZlbRejectView>, StoreError> {
        type RejectRow = (String, Option<String>, String, i64, i64, i64, Option<i64>);
        let rows: Vec<RejectRow> = self.query_all(
            "SELECT raw, serial, reason, first_seen_at, last_seen_at, times, released_at FROM zlb_rejects ORDER BY last_seen_at DESC, serial LIMIT 500",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )?;
        let mut out = Vec::new();
        for (raw, serial, reason, first, last, times, released_at) in rows {
            let mut raw: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            if let Some(o) = raw.as_object_mut() {
                for (k, mask) in [
                    (
                        "idcard",
                        haoyuan_core::patient::mask_id as fn(&str) -> String,
                    ),
                    ("mobile", haoyuan_core::patient::mask_phone),
                ] {
                    if let Some(Value::String(s)) = o.get(k) {
                        let m = mask(s);
                        o.insert(k.into(), Value::String(m));
                    }
                }
            }
            out.push(ZlbRejectView {
                serial,
                reason,
                raw,
                first_seen_at: first,
                last_seen_at: last,
                times: times.clamp(0, u32::MAX as i64) as u32,
                released_at,
            });
        }
        Ok(out)
    }

    /// Whether an unreleased reject has this serial number.
    pub fn zlb_reject_open(&self, serial: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM zlb_rejects WHERE serial = ?1 AND released_at IS NULL)",
                [serial],
                |r| r.get(0),
            )
            .map_err(sql(&self.path))
    }

    /// Marks the rejects with this serial number released (acknowledged at a person's
    /// word).
    pub fn zlb_reject_released(&self, serial: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE zlb_rejects SET released_at = ?2 WHERE serial = ?1 AND released_at IS NULL",
                params![serial, now],
            )
            .map_err(sql(&self.path))
            .map(drop)
    }

    /// The history of one reservation, oldest first: (at, kind, message).
    pub fn zlb_history(&self, serial: &str) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.query_all(
            "SELECT at, kind, message FROM zlb_history WHERE serial = ?1 ORDER BY seq",
            [serial],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }
}
