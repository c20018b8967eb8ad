//! 91160 and pati_service run by the host: stored accounts (91160 appTokens, pati phone +
//! password, as secrets), requests sent with the account's credentials and paced per
//! account, pati sign-in renewed on expiry, the pickers' lists (cached, with a refresh),
//! and cancelling a booked watch's order.

use haoyuan_core::protocol::ErrorBody;
use haoyuan_core::watch::Platform;
use serde_json::Value;
use std::path::PathBuf;

/// Shared by the command loop and the watch runner.
pub struct Service {
    data_dir: PathBuf,
}

impl Service {
    pub fn new(data_dir: PathBuf) -> Service {
        Service { data_dir }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// `site_browse`: a picker's list. `what`: 91160 `units` | `deps` | `doctors`; pati
    /// `depts` | `doctors` | `members`. `parent`: `{unit_id}`, `{unit_id, dep_id}`,
    /// `{dept_id}`. Answers `{items: [{id, name, detail}], total, cached_at}`.
    pub fn browse(
        &self,
        platform: Platform,
        account: &str,
        what: &str,
        parent: &Value,
        refresh: bool,
    ) -> Result<Value, ErrorBody> {
        let _ = (platform, account, what, parent, refresh);
        Err(ErrorBody::new(
            haoyuan_core::protocol::ErrorCode::Internal,
            "not built yet",
        ))
    }

    /// `booking_cancel`: cancels the order a watch booked, with `reason`. Answers
    /// `{watch_id, cancelled: true, message}`.
    pub fn cancel(&self, watch_id: &str, reason: &str) -> Result<Value, ErrorBody> {
        let _ = (watch_id, reason);
        Err(ErrorBody::new(
            haoyuan_core::protocol::ErrorCode::Internal,
            "not built yet",
        ))
    }
}
