//! `booking_cancel` / `haoyuan-host cancel`: cancels the order a 91160 or pati watch
//! booked (found from the watch's `booked` event), with the person's reason. The caller
//! records the `cancelled` event; nothing is cancelled twice.

use super::{base_91160, secret_of, site_failed, Service};
use haoyuan_core::platforms::{open91160, pati};
use haoyuan_core::protocol::{ErrorBody, ErrorCode, HistoryEntry};
use haoyuan_core::watch::{Platform, Target};
use serde_json::{json, Value};

/// How many of a watch's newest events are searched for its booking.
const HISTORY_DEPTH: usize = 2_000;

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

impl Service {
    /// The watch's newest `booked` event, unless a `cancelled` one came after it.
    fn booked_event(&self, watch_id: &str) -> Result<HistoryEntry, ErrorBody> {
        let mut before = None;
        let mut seen = 0;
        loop {
            let page = self.store.with(|s| s.history(watch_id, before, 200))?;
            for e in &page.events {
                match e.kind.as_str() {
                    "cancelled" => {
                        return Err(ErrorBody::new(
                            ErrorCode::BadParams,
                            "this watch's booking was already cancelled",
                        ))
                    }
                    "booked" => return Ok(e.clone()),
                    _ => {}
                }
            }
            seen += page.events.len();
            match page.next {
                Some(n) if seen < HISTORY_DEPTH => before = Some(n),
                _ => {
                    return Err(ErrorBody::new(
                        ErrorCode::NotFound,
                        "this watch has not booked anything to cancel",
                    ))
                }
            }
        }
    }

    /// See the module doc. Answers `{watch_id, cancelled, message, order_id | book_id}`.
    pub fn cancel(&self, watch_id: &str, reason: &str) -> Result<Value, ErrorBody> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(ErrorBody::new(
                ErrorCode::BadParams,
                "say in a few words why the booking is cancelled (at most 200 characters)",
            ));
        }
        let watch = self
            .store
            .with(|s| s.get_watch(watch_id))?
            .ok_or_else(|| ErrorBody::new(ErrorCode::NotFound, format!("no watch “{watch_id}”")))?;
        let booked = self.booked_event(watch_id)?;
        match &watch.target {
            Target::Open91160 { account, .. } => {
                let order_id = text(&booked.data, &["order_id", "orderId"]).ok_or_else(|| {
                    ErrorBody::new(
                        ErrorCode::NotFound,
                        "the booking's 91160 order number is not known",
                    )
                })?;
                let acc = self.account(Platform::Open91160, account)?;
                let site = open91160::site::Site::new(&base_91160(&acc));
                let req = site.cancel(&secret_of(&acc, "app_token"), &order_id, reason);
                let resp = self
                    .execute(&req)
                    .map_err(|e| site_failed(format!("91160 did not answer the cancel: {e}")))?;
                open91160::site::read_cancel(&resp).map_err(|e| match e {
                    open91160::site::SiteError::TokenRejected(_) => {
                        ErrorBody::new(ErrorCode::LoginFailed, e.to_string())
                    }
                    _ => site_failed(format!("91160 did not cancel order {order_id}: {e}")),
                })?;
                Ok(json!({
                    "watch_id": watch_id,
                    "cancelled": true,
                    "order_id": order_id,
                    "message": format!("91160 order {order_id} cancelled ({reason})"),
                }))
            }
            Target::Pati { account, .. } => {
                let book_id = text(&booked.data, &["book_id", "bookId"]).ok_or_else(|| {
                    ErrorBody::new(
                        ErrorCode::NotFound,
                        "the booking's pati number is not known",
                    )
                })?;
                let acc = self.account(Platform::Pati, account)?;
                let site = pati::site::Site::new(&acc.base_url);
                let resp = self.browse_send(Platform::Pati, &acc.account, site.cancel(&book_id))?;
                pati::site::read_cancel(&resp).map_err(|e| {
                    site_failed(format!(
                        "the hospital did not cancel booking {book_id}: {e}"
                    ))
                })?;
                Ok(json!({
                    "watch_id": watch_id,
                    "cancelled": true,
                    "book_id": book_id,
                    "message": format!("pati booking {book_id} cancelled ({reason})"),
                }))
            }
            _ => Err(ErrorBody::new(
                ErrorCode::BadParams,
                "only 91160 and pati bookings are cancelled by the host",
            )),
        }
    }
}
