//! The `#[wasm_bindgen]` edge the extension imports (compiled only for wasm32).
//!
//! Every function is a one-line bridge to plain Rust in [`crate::form`] or
//! [`crate::protocol`], which is unit-tested natively. Structured values cross the edge
//! as JSON text (the JS side calls `JSON.parse` on the answer), which keeps the glue
//! small and needs no serde-wasm-bindgen. Nothing here panics on input from the page.

use crate::form;
use wasm_bindgen::prelude::*;

/// The protocol major this extension speaks (see `PROTOCOL.md`).
#[wasm_bindgen]
pub fn protocol_major() -> u32 {
    crate::protocol::PROTOCOL_MAJOR
}

/// The extension's version (shared with the host).
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Builds a request frame: `{"ok": true, "frame": "<json text>"}` or
/// `{"ok": false, "error": {"code", "message"}}` when the command is unknown or its
/// params do not fit — checked exactly as the host will check them.
#[wasm_bindgen]
pub fn encode_request(id: u32, cmd: &str, params_json: &str) -> String {
    form::encode_request_json(id, cmd, params_json).to_string()
}

/// Normalises a frame from the host (its JSON text): `{"kind": "reply", "id", "ok",
/// "data" | "error"}`, `{"kind": "event", "event", "data"}` or `{"kind": "invalid", "message"}`.
#[wasm_bindgen]
pub fn decode_host_message(text: &str) -> String {
    form::decode_host_message(text).to_string()
}

/// Reads a `hello` reply's data (JSON text): `{"status": "connected" | "version_mismatch",
/// "message", "version"?, "data_dir"?, "warning"?}`.
#[wasm_bindgen]
pub fn check_hello(data_json: &str) -> String {
    let data = crate::from_json_text(data_json).unwrap_or(serde_json::Value::Null);
    serde_json::to_string(&form::check_hello(&data)).unwrap_or_default()
}

/// Every platform with its display name, default base URL, poll floor, whether it can
/// be watched, and its target's form fields (JSON array).
#[wasm_bindgen]
pub fn platforms() -> String {
    serde_json::to_string(&form::platforms()).unwrap_or_else(|_| "[]".into())
}

/// The popup form (JSON) → `{"ok": true, "watch"}` or `{"ok": false, "fields": [{"field", "message"}]}`.
/// `today` is `YYYY-MM-DD`, from [`today_in_china`].
#[wasm_bindgen]
pub fn watch_from_form(form_json: &str, today: &str) -> String {
    form::watch_from_form_json(form_json, today).to_string()
}

/// Today's date in China (`YYYY-MM-DD`) for a Unix time in ms (`Date.now()`).
#[wasm_bindgen]
pub fn today_in_china(now_ms: f64) -> String {
    form::today_in_china(now_ms).to_string()
}

/// One line describing a watch (JSON) for lists.
#[wasm_bindgen]
pub fn watch_summary(watch_json: &str) -> String {
    form::watch_summary_json(watch_json)
}

/// The exact command that registers the host for `browser` (`chrome`, `chromium`,
/// `edge`, `brave`, `firefox`) and this extension.
#[wasm_bindgen]
pub fn install_command(browser: &str, extension_id: &str) -> String {
    form::install_command(browser, extension_id)
}

/// Checks a platform base URL: `{"ok": true, "url": "<normalised>"}` or `{"ok": false, "message"}`.
#[wasm_bindgen]
pub fn validate_base_url(s: &str) -> String {
    match form::validate_base_url(s) {
        Ok(url) => serde_json::json!({"ok": true, "url": url}),
        Err(message) => serde_json::json!({"ok": false, "message": message}),
    }
    .to_string()
}

/// Whether events of this history kind raise a desktop notification.
#[wasm_bindgen]
pub fn event_notifies(kind: &str) -> bool {
    form::event_notifies(kind)
}

/// The desktop notification for a `watch_event`'s data (JSON) and its watch (JSON, or
/// empty when unknown): `{"notify": false}` or `{"notify": true, "id", "title",
/// "message", "url"?, "watch_id", "seq", "kind", "live", "sticky"}`.
#[wasm_bindgen]
pub fn desktop_notice(entry_json: &str, watch_json: &str) -> String {
    form::desktop_notice_json(entry_json, watch_json).to_string()
}

/// The channel settings form, per channel (JSON array of `{channel, name, test_cmd,
/// fields: [{path, label, kind, placeholder, options?}]}`).
#[wasm_bindgen]
pub fn channel_forms() -> String {
    serde_json::to_string(&form::channel_forms()).unwrap_or_else(|_| "[]".into())
}

/// `channels_get` data (JSON) → `{"values": {path: value}, "secrets_set": [...]}`.
#[wasm_bindgen]
pub fn channels_to_form(view_json: &str) -> String {
    let view = crate::from_json_text(view_json).unwrap_or(serde_json::Value::Null);
    form::channels_to_form(&view).to_string()
}

/// `{"values": {path: value}, "clear": [path]}` → `{"ok": true, "params"}` (the
/// `channels_put` params) or `{"ok": false, "fields"}`.
#[wasm_bindgen]
pub fn channels_from_form(form_json: &str) -> String {
    form::channels_from_form_json(form_json).to_string()
}

/// `outbox_status` data (JSON) → `{"channels": [{channel, state, text}], "failures": [{channel, id, text}]}`.
#[wasm_bindgen]
pub fn outbox_view(status_json: &str) -> String {
    let status = crate::from_json_text(status_json).unwrap_or(serde_json::Value::Null);
    form::outbox_view(&status).to_string()
}

// ---- 114yygh -----------------------------------------------------------------------

use crate::platforms::yygh114::{bridge, login::Login, watcher::Watcher, Site};

/// Builds a 114 request for the pages (`hospital_list`, `hospital_detail`,
/// `department_list`, `patient_list`, `real_name_status`): `{"ok", "request" | "message"}`.
#[wasm_bindgen]
pub fn yygh_request(op: &str, params_json: &str, base_url: &str, now_ms: f64) -> String {
    bridge::request_json(op, params_json, base_url, now_ms as i64).to_string()
}

/// Reads the reply (HttpResponse JSON) of a [`yygh_request`]: `{"ok", "data" | "error": {kind, message}}`.
#[wasm_bindgen]
pub fn yygh_parse(op: &str, response_json: &str, _base_url: &str) -> String {
    bridge::parse_json(op, response_json).to_string()
}

/// The SMS login of one mobile number; every method answers a step (JSON).
#[wasm_bindgen]
pub struct YyghLogin(Login);

#[wasm_bindgen]
impl YyghLogin {
    #[wasm_bindgen(constructor)]
    pub fn new(base_url: &str, mobile: &str) -> YyghLogin {
        YyghLogin(Login::new(Site::new(base_url), mobile))
    }

    pub fn start(&mut self, now_ms: f64) -> String {
        bridge::step_json(self.0.start(now_ms as i64)).to_string()
    }

    pub fn feed(&mut self, now_ms: f64, response_json: &str) -> String {
        match bridge::response(response_json) {
            Ok(r) => bridge::step_json(self.0.feed(now_ms as i64, &r)).to_string(),
            Err(e) => bridge::step_json(self.0.no_response(now_ms as i64, &e)).to_string(),
        }
    }

    pub fn answer(&mut self, now_ms: f64, text: &str) -> String {
        bridge::step_json(self.0.answer(now_ms as i64, text)).to_string()
    }

    pub fn no_response(&mut self, now_ms: f64, detail: &str) -> String {
        bridge::step_json(self.0.no_response(now_ms as i64, detail)).to_string()
    }
}

/// The run-time watcher of one 114 watch; every method answers
/// `{"action": …, "events": [...]}` (see `platforms::yygh114::watcher::Action`).
#[wasm_bindgen]
pub struct YyghWatcher(Watcher);

#[wasm_bindgen]
impl YyghWatcher {
    /// `intent_json`: the host's `booking_get` intent, or `null`.
    #[wasm_bindgen(constructor)]
    pub fn new(watch_json: &str, base_url: &str, intent_json: &str) -> Result<YyghWatcher, String> {
        bridge::watcher_from_json(watch_json, base_url, intent_json).map(YyghWatcher)
    }

    pub fn tick(&mut self, now_ms: f64, unit: f64) -> String {
        let a = self.0.tick(now_ms as i64, unit);
        bridge::action_json(&mut self.0, a)
    }

    pub fn feed(&mut self, now_ms: f64, response_json: &str, unit: f64) -> String {
        let a = match bridge::response(response_json) {
            Ok(r) => self.0.feed(now_ms as i64, &r, unit),
            Err(e) => self.0.no_response(now_ms as i64, &e, unit),
        };
        bridge::action_json(&mut self.0, a)
    }

    pub fn no_response(&mut self, now_ms: f64, detail: &str, unit: f64) -> String {
        let a = self.0.no_response(now_ms as i64, detail, unit);
        bridge::action_json(&mut self.0, a)
    }

    /// The font of a `fetch_font` action (HttpResponse JSON; empty when it failed).
    pub fn font(&mut self, now_ms: f64, url: &str, response_json: &str, unit: f64) -> String {
        let resp = bridge::response(response_json).ok();
        let a = self.0.font(now_ms as i64, url, resp.as_ref(), unit);
        bridge::action_json(&mut self.0, a)
    }

    pub fn intent_recorded(&mut self, now_ms: f64, intent_id: &str, unit: f64) -> String {
        let a = self.0.intent_recorded(now_ms as i64, intent_id, unit);
        bridge::action_json(&mut self.0, a)
    }

    pub fn intent_refused(
        &mut self,
        now_ms: f64,
        message: &str,
        already_booked: bool,
        unit: f64,
    ) -> String {
        let a = self
            .0
            .intent_refused(now_ms as i64, message, already_booked, unit);
        bridge::action_json(&mut self.0, a)
    }

    pub fn answer(&mut self, now_ms: f64, text: &str, unit: f64) -> String {
        let a = self.0.answer(now_ms as i64, text, unit);
        bridge::action_json(&mut self.0, a)
    }

    /// Nobody typed the code asked for in time.
    pub fn no_answer(&mut self, now_ms: f64, unit: f64) -> String {
        let a = self.0.no_answer(now_ms as i64, unit);
        bridge::action_json(&mut self.0, a)
    }

    pub fn resume(&mut self, now_ms: f64, unit: f64) -> String {
        let a = self.0.resume(now_ms as i64, unit);
        bridge::action_json(&mut self.0, a)
    }

    /// The server clock's estimate now: `{"offset_ms", "bound_ms"}` or `null`.
    pub fn clock(&self, now_ms: f64) -> String {
        serde_json::to_string(&self.0.clock().estimate(now_ms as i64))
            .unwrap_or_else(|_| "null".into())
    }
}

/// Spaces the requests of one account across all its watches (see `schedule::AccountPacer`).
#[wasm_bindgen]
pub struct AccountPacer(crate::schedule::AccountPacer);

#[wasm_bindgen]
impl AccountPacer {
    #[wasm_bindgen(constructor)]
    pub fn new() -> AccountPacer {
        AccountPacer(crate::schedule::AccountPacer::new())
    }

    /// Reserves the earliest moment at or after `wanted_ms` (local Unix ms) a request of
    /// this account may go, and returns it.
    pub fn reserve(&mut self, wanted_ms: f64) -> f64 {
        self.0.reserve(wanted_ms as i64) as f64
    }
}

impl Default for AccountPacer {
    fn default() -> Self {
        AccountPacer::new()
    }
}

// ---- 12306 -------------------------------------------------------------------------

/// Reads a left-ticket query reply (its raw JSON body) and answers a small summary:
/// `{"kind": "trains", "rows": N, "bad_rows": M}`, `{"kind": "moved", "to":
/// "leftTicket/queryX"}`, `{"kind": "refused", "message"}` or `{"kind": "error",
/// "message"}` (see `platforms::rail12306::query::parse_query_reply`). For now it is what
/// `tests/e2e/bench-rail12306.mjs` measures (issue 6: ≤ 3 ms for 300 rows).
#[wasm_bindgen]
pub fn rail_parse_query(body: &[u8]) -> String {
    use crate::platforms::rail12306::query::{parse_query_reply, QueryReply};
    match parse_query_reply(body) {
        Ok(QueryReply::Trains { rows, bad_rows, .. }) => {
            serde_json::json!({"kind": "trains", "rows": rows.len(), "bad_rows": bad_rows.len()})
        }
        Ok(QueryReply::Moved { endpoint }) => serde_json::json!({"kind": "moved", "to": endpoint}),
        Ok(QueryReply::Refused { message }) => {
            serde_json::json!({"kind": "refused", "message": message})
        }
        Err(e) => serde_json::json!({"kind": "error", "message": e.to_string()}),
    }
    .to_string()
}
