//! Pieces every host-run platform (12306, 91160, pati) shares with the watch runner:
//! where events go ([`EventSink`]), a store connection opened on first use and reopened
//! after a failure ([`SharedStore`]), and per-account pacing of poll starts
//! ([`Pacers`]).

use crate::store::{Store, StoreError};
use haoyuan_core::protocol::{ErrorBody, ErrorCode, Event};
use haoyuan_core::schedule::AccountPacer;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Least spacing of two poll starts of one account: the conduct's 1 s, plus 50 ms for
/// the work between the slot and the request leaving (jar, store), so the site never
/// sees two closer than 1 s.
pub const PACE_SPACING_MS: u64 = 1_050;

/// Where events of this process go (frames to the browser, lines on a terminal).
pub type Sink = Box<dyn Fn(&Event) + Send + Sync>;

/// This process's event sink (none until set: events are then only stored).
#[derive(Default)]
pub struct EventSink(Mutex<Option<Sink>>);

impl EventSink {
    /// Where events go from now on.
    pub fn set(&self, sink: Sink) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(sink);
        }
    }

    /// Pushes an event to the sink.
    pub fn push(&self, event: &Event) {
        if let Ok(s) = self.0.lock() {
            if let Some(f) = s.as_ref() {
                f(event);
            }
        }
    }
}

/// A connection to the store file of a data directory, opened on first use.
pub struct SharedStore {
    db: PathBuf,
    conn: Mutex<Option<Store>>,
}

impl SharedStore {
    pub fn new(data_dir: &std::path::Path) -> SharedStore {
        SharedStore {
            db: crate::paths::database_path(data_dir),
            conn: Mutex::new(None),
        }
    }

    /// Runs `f` on the connection (opened now if needed; dropped after an error, so a
    /// damaged or locked file is retried next time).
    pub fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T, StoreError>) -> Result<T, ErrorBody> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| ErrorBody::new(ErrorCode::Internal, "the store's lock was poisoned"))?;
        if guard.is_none() {
            *guard = Some(Store::open(&self.db).map_err(ErrorBody::from)?);
        }
        let result = match guard.as_ref() {
            Some(s) => f(s).map_err(ErrorBody::from),
            None => Err(ErrorBody::new(
                ErrorCode::StoreFailed,
                "the database is not open",
            )),
        };
        if result.is_err() {
            *guard = None;
        }
        result
    }
}

/// Poll-start slots per account key, handed out in the order they are asked for, and
/// when each account's last request actually left.
pub struct Pacers {
    spacing_ms: u64,
    map: Mutex<HashMap<String, AccountPacer>>,
    departed: Mutex<HashMap<String, i64>>,
}

impl Default for Pacers {
    fn default() -> Pacers {
        Pacers {
            spacing_ms: PACE_SPACING_MS,
            map: Mutex::new(HashMap::new()),
            departed: Mutex::new(HashMap::new()),
        }
    }
}

impl Pacers {
    /// Waits (sleeping) until `key` may start a poll: its starts stay `spacing_ms`
    /// apart across all its watches, first come first served. Returns early when `stop`.
    pub fn pace(&self, key: &str, stop: &dyn Fn() -> bool) {
        let at = {
            let Ok(mut map) = self.map.lock() else {
                return;
            };
            map.entry(key.to_string())
                .or_insert_with(|| AccountPacer::with_spacing(self.spacing_ms))
                .reserve(crate::dispatch::now_ms())
        };
        // The slot, and a full spacing after the account's last request actually left
        // (a request can leave late: a thread starting, a sign-in before it).
        let spacing = self.spacing_ms as i64;
        while !stop() {
            let last = self
                .departed
                .lock()
                .ok()
                .and_then(|m| m.get(key).copied())
                .unwrap_or(i64::MIN / 2);
            let left = at.max(last + spacing) - crate::dispatch::now_ms();
            if left <= 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(left.min(100) as u64));
        }
    }

    /// A request of `key` leaves now.
    pub fn departed(&self, key: &str) {
        if let Ok(mut m) = self.departed.lock() {
            m.insert(key.to_string(), crate::dispatch::now_ms());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::now_ms;

    #[test]
    fn a_poll_start_waits_a_full_spacing_after_the_accounts_last_request_left() {
        let p = Pacers::default();
        p.pace("a", &|| false);
        // The request leaves late (a thread starting, a sign-in first).
        std::thread::sleep(Duration::from_millis(300));
        p.departed("a");
        let left = now_ms();
        p.pace("a", &|| false);
        let gap = now_ms() - left;
        assert!(
            gap >= PACE_SPACING_MS as i64 - 5,
            "only {gap} ms after the last request left"
        );
        // Another account is not held back.
        let t = now_ms();
        p.pace("b", &|| false);
        assert!(now_ms() - t < 500);
    }
}
