//! Protocol requests → store operations → replies (and the events they cause).
//!
//! The host validates every watch itself, against today's date in China (the
//! platforms' calendar), whatever the extension checked before sending it. When the
//! database cannot be opened the host still answers `hello` (saying why) and every store
//! command with the same plain-words error; it tries the database again on each command,
//! so a lock released or a disk freed is picked up without a restart.

use crate::paths;
use crate::store::Store;
use haoyuan_core::date::Date;
use haoyuan_core::protocol::{
    Deleted, ErrorBody, ErrorCode, Event, Hello, Request, DEFAULT_PAGE, MAX_PAGE, PROTOCOL_MAJOR,
};
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
}

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
        };
        let _ = host.store();
        host
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
            // Issue 4 commands: wired in by the outbox work in progress.
            Request::WatchPause { .. }
            | Request::EventRecord { .. }
            | Request::ChannelsGet {}
            | Request::ChannelsPut { .. }
            | Request::SendTest { .. }
            | Request::SendTestEmail {}
            | Request::OutboxStatus {} => Handled::from::<()>(
                Err(ErrorBody::new(ErrorCode::Internal, "not wired yet")),
                Vec::new(),
            ),
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

fn page_size(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

fn not_found(id: &str) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotFound,
        format!("there is no watch “{id}” (it may have been deleted)"),
    )
}
