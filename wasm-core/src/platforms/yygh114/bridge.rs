//! The JSON face of the 114yygh adapter for the extension (`wasm.rs` only moves these
//! strings across the edge; everything here is tested natively).
//!
//! - [`request_json`] / [`parse_json`]: the list endpoints the popup's pickers and
//!   login status use (`hospital_list`, `hospital_detail`, `department_list`,
//!   `patient_list`, `real_name_status`), each read by the adapter's own parser; an
//!   error comes back as `{kind, message}` in plain words.
//! - [`step_json`]: a login/booking step as the pages read it.
//! - [`watcher_from_json`] / [`action_json`]: the run-time watcher of one watch.

use super::login::LoginOutcome;
use super::model::{
    parse_department_list, parse_hospital_detail, parse_hospital_list, parse_patient_list,
    parse_real_name_status,
};
use super::watcher::{Action, Watcher};
use super::{Error, HospitalQuery, Site, Step};
use crate::http::HttpResponse;
use crate::watch::Watch;
use serde_json::{json, Value};

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Reads a typed value from JSON text through [`Value`], like every decode in `form`:
/// one deserializer per type keeps the wasm small.
fn read<T: serde::de::DeserializeOwned>(json: &str) -> serde_json::Result<T> {
    crate::from_json_text::<Value>(json).and_then(serde_json::from_value)
}

fn number(v: &Value, key: &str, default: u32) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default)
}

/// Builds the request of `op` with `params` (JSON text): `{"ok": true, "request"}` or
/// `{"ok": false, "message"}`.
pub fn request_json(op: &str, params_json: &str, base_url: &str, now_ms: i64) -> Value {
    let params: Value = crate::from_json_text(params_json).unwrap_or(Value::Null);
    let site = Site::new(base_url);
    let need = |key: &str| {
        let v = text(&params, key);
        if v.is_empty() {
            Err(json!({"ok": false, "message": format!("{op} needs {key}")}))
        } else {
            Ok(v)
        }
    };
    let req = match op {
        "hospital_list" => {
            let mut q = HospitalQuery::search(text(&params, "keywords"));
            q.page_no = number(&params, "page_no", 1).max(1);
            q.page_size = number(&params, "page_size", 20).clamp(1, 50);
            site.hospital_list(now_ms, &q)
        }
        "hospital_detail" => match need("hos_code") {
            Ok(c) => site.hospital_detail(now_ms, &c),
            Err(e) => return e,
        },
        "department_list" => match need("hos_code") {
            Ok(c) => site.department_list(now_ms, &c),
            Err(e) => return e,
        },
        "patient_list" => site.patient_list(now_ms),
        "real_name_status" => site.real_name_status(now_ms),
        _ => return json!({"ok": false, "message": format!("unknown 114 request {op:?}")}),
    };
    json!({"ok": true, "request": req})
}

/// An adapter error as the pages show it.
pub fn error_json(e: &Error) -> Value {
    let kind = match e {
        _ if e.is_not_logged_in() => "session_expired",
        Error::Api { .. } => "api",
        Error::Http { .. } => "http",
        Error::Parse(_) => "parse",
    };
    let message = if e.is_not_logged_in() {
        "not signed in to 114 (or the session expired): sign in first".to_string()
    } else {
        e.to_string()
    };
    json!({"kind": kind, "message": message})
}

fn reply<T: serde::Serialize>(r: Result<T, Error>) -> Value {
    match r {
        Ok(data) => json!({"ok": true, "data": data}),
        Err(e) => json!({"ok": false, "error": error_json(&e)}),
    }
}

/// Reads the reply of `op` (`response_json`: the HttpResponse JSON).
pub fn parse_json(op: &str, response_json: &str) -> Value {
    let resp: HttpResponse = match read(response_json) {
        Ok(r) => r,
        Err(e) => {
            return json!({"ok": false, "error": {"kind": "parse", "message": format!("the reply could not be handed over: {e}")}})
        }
    };
    match op {
        "hospital_list" => reply(parse_hospital_list(&resp)),
        "hospital_detail" => reply(parse_hospital_detail(&resp)),
        "department_list" => reply(parse_department_list(&resp)),
        "patient_list" => reply(parse_patient_list(&resp)),
        "real_name_status" => reply(parse_real_name_status(&resp)),
        _ => {
            json!({"ok": false, "error": {"kind": "parse", "message": format!("unknown 114 reply {op:?}")}})
        }
    }
}

/// A login step (or a caller error) as JSON.
pub fn step_json<E: std::fmt::Display>(r: Result<Step<LoginOutcome>, E>) -> Value {
    match r {
        Ok(step) => serde_json::to_value(step)
            .unwrap_or_else(|e| json!({"step": "error", "message": e.to_string()})),
        Err(e) => json!({"step": "error", "message": e.to_string()}),
    }
}

/// A watcher for a watch (JSON) against `base_url`; `intent_json` is the host's
/// `booking_get` intent (JSON, or empty/`null` when none): with one, the watcher never
/// books and stops at once.
pub fn watcher_from_json(
    watch_json: &str,
    base_url: &str,
    intent_json: &str,
) -> Result<Watcher, String> {
    let watch: Watch = read(watch_json).map_err(|e| format!("the watch could not be read: {e}"))?;
    let w = Watcher::new(Site::new(base_url), &watch).map_err(|e| e.to_string())?;
    let intent: Value = crate::from_json_text(intent_json).unwrap_or(Value::Null);
    if intent.is_object() {
        let state = text(&intent, "state");
        return Ok(w.finished(&format!(
            "this watch already {} an order (state {state}); Haoyuan will not order again",
            if state == "booked" {
                "booked"
            } else {
                "submitted"
            }
        )));
    }
    Ok(w)
}

/// An action with the events recorded so far: `{"action": …, "events": [...]}`.
pub fn action_json(w: &mut Watcher, action: Action) -> String {
    let mut v = serde_json::to_value(action)
        .unwrap_or_else(|e| json!({"action": "stopped", "message": e.to_string()}));
    if let Value::Object(m) = &mut v {
        m.insert(
            "events".into(),
            serde_json::to_value(w.take_events()).unwrap_or(Value::Null),
        );
    }
    v.to_string()
}

/// Reads the HttpResponse JSON a driver hands in.
pub fn response(response_json: &str) -> Result<HttpResponse, String> {
    read(response_json).map_err(|e| format!("the reply could not be handed over: {e}"))
}
