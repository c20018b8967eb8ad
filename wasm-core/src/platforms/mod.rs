//! Platform adapters. Each is sans-IO: it builds [`crate::http::HttpRequest`]s, reads
//! [`crate::http::HttpResponse`]s, and drives multi-step flows as step machines whose
//! steps are "send this", "ask the person this" or "done".

pub mod rail12306;
pub mod yygh114;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Something to record in the host's history of the watch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub message: String,
    pub data: Value,
    /// Set on the event that ends a recorded booking intent: `booked`, `failed` or
    /// `unknown` (the driver sends it as `booking_end` with [`Event::intent_id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent_id: Option<String>,
}

impl Event {
    /// An event with no booking result.
    pub fn new(kind: &str, message: impl Into<String>, data: Value) -> Event {
        Event {
            kind: kind.into(),
            message: message.into(),
            data,
            booking_result: None,
            intent_id: None,
        }
    }
}
