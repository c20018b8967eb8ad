//! The notification outbox: every message that must reach the person is written in the
//! same transaction as the event that caused it, then a sender drains it.
//!
//! Delivery is at least once: a message is marked sent only after its server accepted it,
//! and each carries a stable id (email `Message-ID`, a field of every webhook body) so a
//! repeat after a crash can be recognised. A sender *claims* a message with a lease naming
//! its process; the claim of a process that died (e.g. `kill -9` mid-send) is taken over
//! at once by the next sender, and any claim expires after [`LEASE_MS`]. Transient failures
//! are retried with exponential backoff and jitter; permanent ones (recipient refused,
//! wrong password, bad token) and messages that ran out of attempts are marked `failed`
//! with the reason, which the popup shows.

use crate::store::{insert_event, sql, Store, StoreError};
use crate::{logging, settings};
use haoyuan_core::notify::{Channel, ChannelSettings, DeliveryError, Notice};
use haoyuan_core::protocol::{ChannelStatus, FailedNotice, HistoryEntry, OutboxStatus};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How long a claim holds before another sender may take the message over.
pub const LEASE_MS: i64 = 15_000;
/// Attempts before a message is given up on.
pub const MAX_ATTEMPTS: i64 = 12;
/// First retry delay; doubles per attempt up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: i64 = 1_000;
pub const MAX_BACKOFF_MS: i64 = 300_000;
/// How many messages a sender claims at once.
const BATCH: u32 = 64;

/// A claimed message.
#[derive(Clone, Debug)]
pub struct Queued {
    /// The outbox row id (`<notice id>:<channel>`).
    pub id: String,
    pub channel: Channel,
    pub notice: Notice,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// Random 16 hex digits for message ids.
pub fn new_notice_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Still unique enough within one process: time and a counter.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let t =
            crate::dispatch::now_ms() as u64 ^ N.fetch_add(1, Ordering::Relaxed).rotate_left(40);
        b = t.to_le_bytes();
    }
    format!(
        "hy-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// The delay before retry number `attempts` (1-based), with ±20 % jitter from `unit` in [0, 1).
pub fn backoff_ms(attempts: i64, unit: f64) -> i64 {
    let base = FIRST_BACKOFF_MS
        .saturating_mul(1i64 << attempts.clamp(1, 20).saturating_sub(1))
        .min(MAX_BACKOFF_MS);
    let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    (base as f64 * factor) as i64
}

fn pid_alive(owner: &str) -> bool {
    if owner == std::process::id().to_string() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(owner).exists()
    } else {
        true // elsewhere, wait for the lease to expire
    }
}

/// Renders the message of a just-inserted event and queues it for each of `channels`,
/// inside the caller's transaction (`conn`), so that the event and its messages commit
/// or vanish together. Nothing is rendered when `channels` is empty. Returns the message.
pub(crate) fn queue_notice(
    conn: &Connection,
    path: &Path,
    entry: &HistoryEntry,
    channels: &[Channel],
    notice: &mut dyn FnMut(&HistoryEntry) -> Option<Notice>,
) -> Result<Option<Notice>, StoreError> {
    if channels.is_empty() {
        return Ok(None);
    }
    let Some(n) = notice(entry) else {
        return Ok(None);
    };
    let payload = serde_json::to_string(&n).map_err(|e| {
        StoreError::new(
            haoyuan_core::protocol::ErrorCode::StoreFailed,
            format!("the message could not be encoded: {e}"),
        )
    })?;
    for c in channels {
        conn.execute(
            "INSERT INTO outbox (id, event_seq, channel, payload, state, attempts, next_attempt_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5)",
            params![format!("{}:{}", n.id, c.id()), entry.seq, c.id(), payload, entry.at],
        )
        .map_err(sql(path))?;
    }
    Ok(Some(n))
}

impl Store {
    /// Records an event and, when `notice` is given, queues it for each of `channels` —
    /// all in one transaction, so an event is never told twice nor lost.
    #[allow(clippy::too_many_arguments)]
    pub fn record_event_with_notice(
        &mut self,
        watch_id: &str,
        kind: &str,
        message: &str,
        data: &Value,
        now_ms: i64,
        channels: &[Channel],
        notice: &mut dyn FnMut(&HistoryEntry) -> Option<Notice>,
    ) -> Result<(HistoryEntry, Option<Notice>), StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let entry = insert_event(&tx, &path, watch_id, kind, message, data, now_ms)?;
        let rendered = queue_notice(&tx, &path, &entry, channels, notice)?;
        tx.commit().map_err(&map)?;
        Ok((entry, rendered))
    }

    /// Makes the claims of senders that are no longer running claimable again.
    pub fn release_dead_claims(&mut self) -> Result<usize, StoreError> {
        let map = sql(&self.path);
        let owners: Vec<String> = {
            let mut st = self
                .conn
                .prepare("SELECT DISTINCT lease_owner FROM outbox WHERE state = 'sending' AND lease_owner IS NOT NULL")
                .map_err(&map)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(&map)?;
            rows.collect::<Result<_, _>>().map_err(&map)?
        };
        let mut n = 0;
        for owner in owners.iter().filter(|o| !pid_alive(o)) {
            n += self
                .conn
                .execute("UPDATE outbox SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'sending' AND lease_owner = ?1", [owner])
                .map_err(&map)?;
        }
        Ok(n)
    }

    /// Claims up to `limit` messages that are due (oldest first) for this process.
    pub fn claim_due(&mut self, now_ms: i64, limit: u32) -> Result<Vec<Queued>, StoreError> {
        let path = self.path.clone();
        let map = sql(&path);
        let owner = std::process::id().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&map)?;
        let rows: Vec<(String, String, String, i64)> = {
            let mut st = tx
                .prepare(
                    "UPDATE outbox SET state = 'sending', lease_until = ?1, lease_owner = ?2, updated_at = ?3
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE (state = 'pending' AND next_attempt_at <= ?3)
                                     OR (state = 'sending' AND lease_until < ?3)
                                  ORDER BY created_at, id LIMIT ?4)
                     RETURNING id, channel, payload, attempts",
                )
                .map_err(&map)?;
            let it = st
                .query_map(params![now_ms + LEASE_MS, owner, now_ms, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(&map)?;
            it.collect::<Result<_, _>>().map_err(&map)?
        };
        tx.commit().map_err(&map)?;
        let mut out = Vec::new();
        for (id, channel, payload, attempts) in rows {
            let parsed =
                Channel::from_id(&channel).zip(serde_json::from_str::<Notice>(&payload).ok());
            match parsed {
                Some((channel, notice)) => out.push(Queued {
                    id,
                    channel,
                    notice,
                    attempts,
                }),
                None => self.mark_failed(
                    &id,
                    now_ms,
                    "the queued message is damaged and cannot be sent",
                )?,
            }
        }
        out.sort_by(|a, b| a.notice.at.cmp(&b.notice.at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The server accepted the message.
    pub fn mark_sent(&mut self, id: &str, now_ms: i64, detail: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, detail = ?3, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, now_ms, detail],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// A transient failure: try again at `next_at`.
    pub fn mark_retry(
        &mut self,
        id: &str,
        now_ms: i64,
        next_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, now_ms, next_at, error],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Given up on: the person was not told through this channel.
    pub fn mark_failed(&mut self, id: &str, now_ms: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, now_ms, error],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Counts by state (`pending` includes messages being sent).
    pub fn outbox_counts(&self) -> Result<(u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(state IN ('pending', 'sending')), 0), COALESCE(SUM(state = 'sent'), 0), COALESCE(SUM(state = 'failed'), 0) FROM outbox",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)),
            )
            .map_err(sql(&self.path))
    }

    /// Per-channel delivery state and the most recent final failures.
    pub fn outbox_status(&self, settings: &ChannelSettings) -> Result<OutboxStatus, StoreError> {
        let map = sql(&self.path);
        let enabled = settings.enabled();
        let mut channels = Vec::new();
        for c in Channel::ALL {
            let (pending, sent, failed, last_sent_at): (i64, i64, i64, Option<i64>) = self
                .conn
                .query_row(
                    "SELECT COALESCE(SUM(state IN ('pending', 'sending')), 0), COALESCE(SUM(state = 'sent'), 0),
                            COALESCE(SUM(state = 'failed'), 0), MAX(sent_at) FROM outbox WHERE channel = ?1",
                    [c.id()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(&map)?;
            // The channel's latest attempt: its error when it failed.
            let last: Option<(Option<String>, i64, String)> = self
                .conn
                .query_row(
                    "SELECT last_error, updated_at, state FROM outbox WHERE channel = ?1 AND attempts > 0 ORDER BY updated_at DESC LIMIT 1",
                    [c.id()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(&map)?;
            let (last_error, last_error_at) = match last {
                Some((Some(e), at, state)) if state != "sent" => (Some(e), Some(at)),
                _ => (None, None),
            };
            if !enabled.contains(&c) && pending + sent + failed == 0 {
                continue;
            }
            channels.push(ChannelStatus {
                channel: c,
                enabled: enabled.contains(&c),
                pending: pending as u64,
                sent: sent as u64,
                failed: failed as u64,
                last_sent_at,
                last_error,
                last_error_at,
            });
        }
        let mut st = self
            .conn
            .prepare("SELECT id, channel, payload, COALESCE(last_error, ''), updated_at FROM outbox WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 20")
            .map_err(&map)?;
        let failures = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(&map)?
            .filter_map(Result::ok)
            .filter_map(|(id, ch, payload, error, at)| {
                let channel = Channel::from_id(&ch)?;
                let subject = serde_json::from_str::<Notice>(&payload)
                    .map(|n| n.subject)
                    .unwrap_or_default();
                Some(FailedNotice {
                    id,
                    channel,
                    subject,
                    error,
                    at,
                })
            })
            .collect();
        Ok(OutboxStatus { channels, failures })
    }
}

/// What sends one message through one channel (the host's is
/// `channels::Deliverer`; tests pass their own).
pub trait Deliver {
    fn deliver(
        &mut self,
        channel: Channel,
        settings: &ChannelSettings,
        notice: &Notice,
    ) -> Result<String, DeliveryError>;
}

fn unit_random() -> f64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Claims and sends due messages once; returns how many were claimed.
pub fn drain_once(
    store: &mut Store,
    data_dir: &Path,
    sender: &mut dyn Deliver,
) -> Result<usize, StoreError> {
    let now = crate::dispatch::now_ms();
    let batch = store.claim_due(now, BATCH)?;
    if batch.is_empty() {
        return Ok(0);
    }
    let settings = settings::load(data_dir);
    for item in &batch {
        let result = match &settings {
            Ok(s) if !s.enabled().contains(&item.channel) => {
                Err(DeliveryError::permanent(format!(
                    "{} was switched off before the message was sent",
                    item.channel.id()
                )))
            }
            Ok(s) => s
                .configured(item.channel)
                .map_err(DeliveryError::permanent)
                .and_then(|()| sender.deliver(item.channel, s, &item.notice)),
            Err(e) => Err(DeliveryError::transient(e.clone())),
        };
        let now = crate::dispatch::now_ms();
        match result {
            Ok(detail) => store.mark_sent(&item.id, now, &detail)?,
            Err(e) if e.permanent || item.attempts + 1 >= MAX_ATTEMPTS => {
                let why = if e.permanent {
                    e.message
                } else {
                    format!(
                        "gave up after {} attempts: {}",
                        item.attempts + 1,
                        e.message
                    )
                };
                logging::error(&format!(
                    "outbox {} via {}: failed: {why}",
                    item.id,
                    item.channel.id()
                ));
                store.mark_failed(&item.id, now, &why)?;
            }
            Err(e) => {
                let next = now + backoff_ms(item.attempts + 1, unit_random());
                logging::info(&format!(
                    "outbox {} via {}: will retry: {}",
                    item.id,
                    item.channel.id(),
                    e.message
                ));
                store.mark_retry(&item.id, now, next, &e.message)?;
            }
        }
    }
    Ok(batch.len())
}

/// The sender loop of a host process: drains the outbox until `stop` is set, waking
/// when `wake` says something was queued and at least every half second otherwise.
pub fn run_sender(
    data_dir: PathBuf,
    stop: Arc<AtomicBool>,
    wake: Receiver<()>,
    sender: &mut dyn Deliver,
) {
    let db = crate::paths::database_path(&data_dir);
    let mut store = None;
    while !stop.load(Ordering::Relaxed) {
        if store.is_none() {
            match Store::open(&db) {
                Ok(mut s) => {
                    // Per connection: 'sent' marks need not wait for the disk (a mark lost
                    // to a power cut means one repeat, which ids let receivers drop).
                    let _ = s.conn.pragma_update(None, "synchronous", "NORMAL");
                    if let Err(e) = s.release_dead_claims() {
                        logging::error(&format!("outbox: {}", e.message));
                    }
                    store = Some(s);
                }
                Err(e) => logging::error(&format!("outbox: database unavailable: {}", e.message)),
            }
        }
        let claimed = match store.as_mut() {
            Some(s) => match drain_once(s, &data_dir, sender) {
                Ok(n) => n,
                Err(e) => {
                    logging::error(&format!("outbox: {}", e.message));
                    store = None;
                    0
                }
            },
            None => 0,
        };
        if claimed == 0 {
            match wake.recv_timeout(Duration::from_millis(500)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(500))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        assert_eq!(backoff_ms(1, 0.5), 1_000);
        assert_eq!(backoff_ms(2, 0.5), 2_000);
        assert_eq!(backoff_ms(4, 0.5), 8_000);
        assert_eq!(backoff_ms(30, 0.5), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(3, 0.0), 3_200);
        assert_eq!(backoff_ms(3, 1.0), 4_800);
    }

    fn notice(id: &str, at: i64) -> Notice {
        Notice {
            id: id.into(),
            kind: "slot_seen".into(),
            watch_id: "w".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            url: None,
            at,
        }
    }

    #[test]
    fn event_and_messages_commit_together_and_claims_are_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let mut a = Store::open(&db).unwrap();
        let (entry, n) = a
            .record_event_with_notice(
                "w",
                "slot_seen",
                "m",
                &Value::Null,
                10,
                &[Channel::Email, Channel::Webhook],
                &mut |e| Some(notice("hy-1", e.at)),
            )
            .unwrap();
        assert_eq!(entry.kind, "slot_seen");
        assert_eq!(n.unwrap().id, "hy-1");
        assert_eq!(a.outbox_counts().unwrap(), (2, 0, 0));

        // No channels: the event alone, nothing queued.
        a.record_event_with_notice("w", "slot_seen", "m", &Value::Null, 11, &[], &mut |_| {
            panic!("not rendered")
        })
        .unwrap();
        assert_eq!(a.outbox_counts().unwrap(), (2, 0, 0));

        let claimed = a.claim_due(20, 10).unwrap();
        assert_eq!(
            claimed.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            ["hy-1:email", "hy-1:webhook"]
        );
        // A second sender gets nothing while the lease holds…
        let mut b = Store::open(&db).unwrap();
        assert!(b.claim_due(20 + LEASE_MS - 1, 10).unwrap().is_empty());
        // …and takes over after it expires.
        assert_eq!(b.claim_due(20 + LEASE_MS + 1, 10).unwrap().len(), 2);

        b.mark_sent("hy-1:email", 30, "250 OK").unwrap();
        b.mark_retry("hy-1:webhook", 30, 5_000_000, "HTTP 502")
            .unwrap();
        assert_eq!(b.outbox_counts().unwrap(), (1, 1, 0));
        assert!(
            b.claim_due(4_999_999, 10).unwrap().is_empty(),
            "not due before its retry time"
        );
        assert_eq!(b.claim_due(5_000_000, 10).unwrap()[0].attempts, 1);
        b.mark_failed("hy-1:webhook", 40, "HTTP 404").unwrap();
        let mut s = ChannelSettings::default();
        s.email.enabled = true;
        let st = b.outbox_status(&s).unwrap();
        assert_eq!(st.failures.len(), 1);
        assert_eq!(st.failures[0].error, "HTTP 404");
        let email = st
            .channels
            .iter()
            .find(|c| c.channel == Channel::Email)
            .unwrap();
        assert_eq!(
            (email.sent, email.pending, email.last_error.clone()),
            (1, 0, None)
        );
        let hook = st
            .channels
            .iter()
            .find(|c| c.channel == Channel::Webhook)
            .unwrap();
        assert_eq!(
            (hook.failed, hook.enabled, hook.last_error.as_deref()),
            (1, false, Some("HTTP 404"))
        );
    }

    #[test]
    fn a_dead_senders_claims_are_released_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("db")).unwrap();
        s.record_event_with_notice(
            "w",
            "booked",
            "m",
            &Value::Null,
            10,
            &[Channel::Email],
            &mut |e| Some(notice("hy-2", e.at)),
        )
        .unwrap();
        s.claim_due(20, 10).unwrap();
        // Pretend a process that no longer exists holds it.
        s.conn
            .execute("UPDATE outbox SET lease_owner = '999999999'", [])
            .unwrap();
        assert!(s.claim_due(21, 10).unwrap().is_empty());
        assert_eq!(s.release_dead_claims().unwrap(), 1);
        assert_eq!(s.claim_due(22, 10).unwrap().len(), 1);
    }
}
