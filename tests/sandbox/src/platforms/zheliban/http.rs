//! The four HTTP endpoints of seed 004, their encrypted bodies and their replies.
//!
//! Requests: `POST`, form data whose content is the AES ciphertext (see the module doc
//! of [`super`] for the accepted shapes); the token only in header `ACCESS-TOKEN`.
//! Replies: success is the envelope encrypted whole (plain text, standard base64);
//! failures are plain JSON, as the seed prints them.

use super::{Config, TokenCheck, Zheliban};
use crate::web;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use haoyuan_core::crypto::{self, Encoding};
use haoyuan_core::date::Date;
use serde_json::Value;
use std::sync::Arc;

type S = State<Arc<Zheliban>>;

/// `操作成功`
const OK_MESSAGE: &str = "操作成功";
/// The seed's "bad data" reply (undecryptable body, wrong credentials, missing fields).
const BAD_DATA: (i64, &str) = (50_002, "数据有误");
/// The seed's short `500` reply of the callback and arrival endpoints.
const CONTACT_PLATFORM: &str = "数据有误，请联系平台";

/// The platform's routes.
pub fn routes(p: Arc<Zheliban>) -> Router {
    Router::new()
        .route(
            "/reservation/sync/token",
            post(token).fallback(method_not_allowed),
        )
        .route(
            "/reservation/sync/order",
            post(order).fallback(method_not_allowed),
        )
        .route(
            "/reservation/sync/callback",
            post(callback).fallback(method_not_allowed),
        )
        .route(
            "/reservation/sync/arrival",
            post(arrival).fallback(method_not_allowed),
        )
        .fallback(not_found)
        .with_state(p)
}

impl Zheliban {
    fn now(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// A plain JSON envelope `{code, message, success, result, timestamp}` — or, with
    /// `encrypt_errors`, that envelope encrypted.
    fn fail(&self, cfg: &Config, status: StatusCode, code: i64, message: &str) -> Response {
        let body = format!(
            "{{\"code\":{code},\"message\":{},\"success\":false,\"result\":null,\"timestamp\":{}}}",
            json_str(message),
            self.now()
        );
        if cfg.encrypt_errors {
            let mut r = self.encrypted(cfg, &body);
            *r.status_mut() = status;
            return r;
        }
        (
            status,
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            body,
        )
            .into_response()
    }

    fn bad_data(&self, cfg: &Config) -> Response {
        self.fail(cfg, StatusCode::OK, BAD_DATA.0, BAD_DATA.1)
    }

    /// The seed's `{"code": 500, "message": "数据有误，请联系平台"}` (two fields only).
    fn contact_platform(&self, cfg: &Config) -> Response {
        let body = format!(
            "{{\"code\":500,\"message\":{}}}",
            json_str(CONTACT_PLATFORM)
        );
        if cfg.encrypt_errors {
            return self.encrypted(cfg, &body);
        }
        web::text("application/json;charset=UTF-8", body)
    }

    /// `text` encrypted with the platform key, as the reply body.
    fn encrypted(&self, cfg: &Config, text: &str) -> Response {
        match crypto::encrypt(&cfg.aes_key, text.as_bytes(), Encoding::Standard) {
            Ok(b64) => web::text("text/plain;charset=UTF-8", b64),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "").into_response(),
        }
    }

    /// The success envelope, in the key order of the sync/callback/arrival examples.
    fn ok(&self, cfg: &Config, result: &str) -> Response {
        let body = format!(
            "{{\"code\":200,\"message\":{},\"success\":true,\"result\":{result},\"timestamp\":{}}}",
            json_str(OK_MESSAGE),
            self.now()
        );
        self.encrypted(cfg, &body)
    }

    /// The hospital (account index) the request's `ACCESS-TOKEN` belongs to, or the reply.
    fn authorize(&self, cfg: &Config, headers: &HeaderMap) -> Result<usize, Box<Response>> {
        let token = headers
            .get("ACCESS-TOKEN")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("");
        let check = if token.is_empty() {
            TokenCheck::Missing
        } else {
            self.check_token(token, self.now())
        };
        let message = match check {
            TokenCheck::Valid(account) => return Ok(account),
            TokenCheck::Missing => "token不能为空!",
            TokenCheck::Invalid => "token非法无效!",
            TokenCheck::Expired => "Token失效，请重新登录!",
        };
        Err(Box::new(self.fail(
            cfg,
            StatusCode::UNAUTHORIZED,
            401,
            message,
        )))
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The ciphertext a request body carries: the body itself (the seed's example request
/// *is* the ciphertext), or the value of its form field (`content=`, `data=`, or the only
/// field). A `+` that a form decoder turned into a space is restored.
pub fn ciphertext(body: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?.trim();
    if s.is_empty() {
        return None;
    }
    let looks_like_form =
        s.contains('&') || s.contains('%') || s.trim_end_matches('=').contains('=');
    let text = if looks_like_form {
        let form = web::parse_urlencoded(s);
        let value = ["content", "data"]
            .iter()
            .find_map(|k| form.get(*k))
            .or_else(|| {
                if form.len() == 1 {
                    form.values().next()
                } else {
                    None
                }
            })?;
        value.replace(' ', "+")
    } else {
        s.to_string()
    };
    Some(text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect())
}

/// The decrypted JSON object a request carries; `None` for anything else.
fn payload(cfg: &Config, body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    let text = ciphertext(body)?;
    let plain = crypto::decrypt_str(&cfg.aes_key, &text, Encoding::Standard).ok()?;
    match serde_json::from_str::<Value>(&plain).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A non-empty string (or number) field; `null`, `""` and absence are `None`.
fn text_field(m: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `POST /reservation/sync/token` {apikey, secret} → {expire, token}.
async fn token(State(p): S, body: Bytes) -> Response {
    let cfg = p.config();
    let Some(m) = payload(&cfg, &body) else {
        return p.bad_data(&cfg);
    };
    let (Some(apikey), Some(secret)) = (text_field(&m, "apikey"), text_field(&m, "secret")) else {
        return p.bad_data(&cfg);
    };
    let Some(account) = cfg
        .accounts
        .iter()
        .position(|a| a.apikey == apikey && a.secret == secret)
    else {
        return p.bad_data(&cfg);
    };
    let now = p.now();
    let token = p.issue_token(&cfg, account, now);
    // The token example's key order: code, message, result, success, timestamp.
    let body = format!(
        "{{\"code\":200,\"message\":{},\"result\":{{\"expire\":{},\"token\":{}}},\"success\":true,\"timestamp\":{now}}}",
        json_str(OK_MESSAGE),
        cfg.token_ttl_ms,
        json_str(&token)
    );
    p.encrypted(&cfg, &body)
}

/// `POST /reservation/sync/order` → the unsynced reservations of the token's hospital.
/// The body (none is expected) is read all the same, as servers do: one left unread
/// on the socket makes the close a reset that can cut the reply short.
async fn order(State(p): S, headers: HeaderMap, _body: Bytes) -> Response {
    let cfg = p.config();
    let account = match p.authorize(&cfg, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let (request_id, frags) = {
        let Ok(mut store) = p.store.lock() else {
            return p.fail(&cfg, StatusCode::OK, 500, "操作失败");
        };
        let id = store.request_id();
        let frags = store.pull(account, cfg.batch_size, &id);
        (id, frags)
    };
    let mut result = String::with_capacity(frags.iter().map(|f| f.len() + 64).sum::<usize>() + 2);
    result.push('[');
    for (i, f) in frags.iter().enumerate() {
        if i > 0 {
            result.push(',');
        }
        result.push_str("{\"requestId\":\"");
        result.push_str(&request_id);
        result.push_str("\",");
        result.push_str(f);
        result.push('}');
    }
    result.push(']');
    p.ok(&cfg, &result)
}

/// `POST /reservation/sync/callback` {requestId | serialNumber}: the ack.
async fn callback(State(p): S, headers: HeaderMap, body: Bytes) -> Response {
    let cfg = p.config();
    let account = match p.authorize(&cfg, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(m) = payload(&cfg, &body) else {
        return p.bad_data(&cfg);
    };
    let request_id = text_field(&m, "requestId");
    let serial = text_field(&m, "serialNumber");
    let outcome = {
        let Ok(mut store) = p.store.lock() else {
            return p.fail(&cfg, StatusCode::OK, 500, "操作失败");
        };
        // Both given: the batch id wins.
        match (request_id, serial) {
            (Some(id), _) => store.ack_batch(account, &id).map(drop),
            (None, Some(s)) => store.ack_serial(account, &s).map(drop),
            (None, None) => return p.bad_data(&cfg),
        }
    };
    match outcome {
        Ok(()) => p.ok(&cfg, "null"),
        Err(_) => p.contact_platform(&cfg),
    }
}

/// `POST /reservation/sync/arrival` {serialNumber, arriveDate?}.
async fn arrival(State(p): S, headers: HeaderMap, body: Bytes) -> Response {
    let cfg = p.config();
    let account = match p.authorize(&cfg, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(m) = payload(&cfg, &body) else {
        return p.bad_data(&cfg);
    };
    let Some(serial) = text_field(&m, "serialNumber") else {
        return p.bad_data(&cfg);
    };
    let when = match m.get("arriveDate") {
        None | Some(Value::Null) => beijing_datetime(p.now()),
        Some(Value::String(s)) if s.trim().is_empty() => beijing_datetime(p.now()),
        Some(Value::String(s)) => match parse_datetime(s.trim()) {
            Some(t) => t,
            None => return p.bad_data(&cfg),
        },
        Some(Value::Number(n)) => match n.as_i64() {
            Some(ms) => beijing_datetime(ms),
            None => return p.bad_data(&cfg),
        },
        Some(_) => return p.bad_data(&cfg),
    };
    let outcome = match p.store.lock() {
        Ok(mut store) => store.arrive(account, &serial, when),
        Err(_) => return p.fail(&cfg, StatusCode::OK, 500, "操作失败"),
    };
    match outcome {
        Ok(()) => p.ok(&cfg, "null"),
        Err(_) => p.contact_platform(&cfg),
    }
}

async fn method_not_allowed(State(p): S, method: axum::http::Method) -> Response {
    let cfg = p.config();
    p.fail(
        &cfg,
        StatusCode::METHOD_NOT_ALLOWED,
        405,
        &format!("不支持'{method}'请求方法"),
    )
}

async fn not_found(State(p): S) -> Response {
    let cfg = p.config();
    p.fail(
        &cfg,
        StatusCode::NOT_FOUND,
        404,
        "路径不存在，请检查路径是否正确",
    )
}

/// Unix ms as Beijing `yyyy-MM-dd HH:mm:ss`.
pub fn beijing_datetime(ms: i64) -> String {
    let local = ms + 8 * 3_600_000;
    let d = Date::from_days(local.div_euclid(86_400_000));
    let secs = local.rem_euclid(86_400_000) / 1000;
    format!(
        "{d} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd HH:mm`, `yyyy-MM-ddTHH:mm:ss` or `yyyy-MM-dd`,
/// normalised to `yyyy-MM-dd HH:mm:ss`.
pub fn parse_datetime(s: &str) -> Option<String> {
    let date = Date::parse(s.get(..10)?).ok()?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(format!("{date} 00:00:00"));
    }
    let time = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T'))?;
    let parts: Vec<&str> = time.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (h, m, sec) = (n(0), n(1), n(2));
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(format!("{date} {h:02}:{m:02}:{sec:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_comes_raw_or_in_a_form_field() {
        assert_eq!(ciphertext(b"  ab+c/d==\n").as_deref(), Some("ab+c/d=="));
        assert_eq!(
            ciphertext(b"content=ab%2Bc%2Fd%3D%3D").as_deref(),
            Some("ab+c/d==")
        );
        // A form decoder reading an unescaped '+' as a space.
        assert_eq!(ciphertext(b"data=ab+c/d==").as_deref(), Some("ab+c/d=="));
        assert_eq!(ciphertext(b"whatever=abc").as_deref(), Some("abc"));
        assert_eq!(ciphertext(b"a=1&b=2"), None);
        assert_eq!(ciphertext(b""), None);
        assert_eq!(ciphertext(&[0xff, 0xfe]), None);
    }

    #[test]
    fn datetimes_are_read_and_normalised() {
        assert_eq!(
            parse_datetime("2021-04-06 08:30:00").as_deref(),
            Some("2021-04-06 08:30:00")
        );
        assert_eq!(
            parse_datetime("2021-04-06T08:30").as_deref(),
            Some("2021-04-06 08:30:00")
        );
        assert_eq!(
            parse_datetime("2021-04-06").as_deref(),
            Some("2021-04-06 00:00:00")
        );
        for bad in [
            "2021-04-06 25:00:00",
            "2021-02-30 08:00:00",
            "yesterday",
            "2021-04-06 8:3",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        // 2021-04-06T00:30:00Z is 08:30 in Beijing.
        let ms = Date::parse("2021-04-06").unwrap().to_days() * 86_400_000 + 30 * 60_000;
        assert_eq!(beijing_datetime(ms), "2021-04-06 08:30:00");
    }
}
