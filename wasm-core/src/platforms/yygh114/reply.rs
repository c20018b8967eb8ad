//! Reading a 114yygh reply: HTTP status, the two envelopes, the site's error codes, and
//! a small field reader whose errors name the endpoint and the field in plain words.

use super::Endpoint;
use crate::http::{HttpResponse, RetryClass};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// An error code the site answered with, typed where a client must act on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// `102` (legacy `2009`): not logged in, or the session expired. Log in again.
    NotLoggedIn { code: i64, msg: String },
    /// `7001`: the SMS code is wrong.
    SmsWrong { msg: String },
    /// `7002`: the picture (captcha) code is wrong; a new picture is needed.
    CaptchaWrong { msg: String },
    /// `7003`: an SMS was asked for again too soon.
    SmsTooSoon { msg: String },
    /// `8008` (legacy `4023` too): final for this order — already booked, sold out,
    /// outside the release window, cancelled. Do not repeat the same request.
    Final { code: i64, msg: String },
    /// `8009`: the `confirmToken` is missing or expired; confirm again (no order was made).
    ConfirmExpired { msg: String },
    /// `6001`: the account has not passed real-name verification.
    NotRealName { msg: String },
    /// `10000` 渠道非法: the request lacked `Request-Source: PC`.
    IllegalChannel { msg: String },
    /// Any other code.
    Other { code: i64, msg: String },
}

impl ApiError {
    /// Types a non-success code of either envelope.
    pub fn from_code(code: i64, msg: Option<&str>) -> ApiError {
        let msg = msg.unwrap_or("").to_string();
        match code {
            102 | 2009 => ApiError::NotLoggedIn { code, msg },
            7001 => ApiError::SmsWrong { msg },
            7002 => ApiError::CaptchaWrong { msg },
            7003 => ApiError::SmsTooSoon { msg },
            8008 | 4023 => ApiError::Final { code, msg },
            8009 => ApiError::ConfirmExpired { msg },
            6001 => ApiError::NotRealName { msg },
            10000 => ApiError::IllegalChannel { msg },
            _ => ApiError::Other { code, msg },
        }
    }

    /// The site's numeric code.
    pub fn code(&self) -> i64 {
        match self {
            ApiError::NotLoggedIn { code, .. }
            | ApiError::Final { code, .. }
            | ApiError::Other { code, .. } => *code,
            ApiError::SmsWrong { .. } => 7001,
            ApiError::CaptchaWrong { .. } => 7002,
            ApiError::SmsTooSoon { .. } => 7003,
            ApiError::ConfirmExpired { .. } => 8009,
            ApiError::NotRealName { .. } => 6001,
            ApiError::IllegalChannel { .. } => 10000,
        }
    }

    /// The site's own message (Chinese, possibly empty).
    pub fn msg(&self) -> &str {
        match self {
            ApiError::NotLoggedIn { msg, .. }
            | ApiError::SmsWrong { msg }
            | ApiError::CaptchaWrong { msg }
            | ApiError::SmsTooSoon { msg }
            | ApiError::Final { msg, .. }
            | ApiError::ConfirmExpired { msg }
            | ApiError::NotRealName { msg }
            | ApiError::IllegalChannel { msg }
            | ApiError::Other { msg, .. } => msg,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            ApiError::NotLoggedIn { .. } => {
                "not logged in (or the session expired): log in to 114 again"
            }
            ApiError::SmsWrong { .. } => "the SMS code was not accepted",
            ApiError::CaptchaWrong { .. } => "the picture code was not accepted",
            ApiError::SmsTooSoon { .. } => "an SMS code was asked for too soon after the last one",
            ApiError::Final { .. } => "the site refused this for good",
            ApiError::ConfirmExpired { .. } => "the booking confirmation expired",
            ApiError::NotRealName { .. } => "the 114 account has not passed real-name verification",
            ApiError::IllegalChannel { .. } => {
                "the site rejected the request's channel (Request-Source header missing)"
            }
            ApiError::Other { .. } => "the site answered with an error",
        };
        let msg = self.msg();
        if msg.is_empty() {
            write!(f, "{what} (code {})", self.code())
        } else {
            write!(f, "{what} (code {}: {msg})", self.code())
        }
    }
}

/// A reply that is not what the adapter expects: malformed JSON, neither envelope, or a
/// missing, renamed or mistyped field. Names the endpoint and the field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    pub endpoint: Endpoint,
    /// A path into the reply, e.g. `data[0].detail[2].uniqProductKey`; empty for the
    /// reply as a whole.
    pub field: String,
    /// What is wrong, in plain words.
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(
                f,
                "the 114 {} reply could not be read: {}",
                self.endpoint.path(),
                self.problem
            )
        } else {
            write!(
                f,
                "the 114 {} reply could not be read: field “{}” {}",
                self.endpoint.path(),
                self.field,
                self.problem
            )
        }
    }
}

impl std::error::Error for ParseError {}

/// Anything that stops a reply from being used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// The HTTP status was not 2xx (403 when polled too fast, 5xx, a 404 page, …).
    Http {
        endpoint: Endpoint,
        status: u16,
        /// Whether to back off (403/429/5xx) or give up.
        retry: RetryClass,
        /// The start of the body.
        excerpt: String,
    },
    /// The site answered with an error code.
    Api { endpoint: Endpoint, error: ApiError },
    /// The reply could not be read.
    Parse(ParseError),
}

impl Error {
    /// The site's error, if that is what this is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// `true` when the session is gone (102/2009): pause and ask for a login.
    pub fn is_not_logged_in(&self) -> bool {
        matches!(self.api(), Some(ApiError::NotLoggedIn { .. }))
    }

    /// `true` for 403/429/5xx: wait longer before asking again.
    pub fn should_back_off(&self) -> bool {
        matches!(
            self,
            Error::Http {
                retry: RetryClass::Backoff,
                ..
            }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http {
                endpoint,
                status,
                retry,
                excerpt,
            } => {
                let why = match (status, retry) {
                    (403 | 429, _) => " (too many requests: slowing down)",
                    (_, RetryClass::Backoff) => " (the site is struggling: slowing down)",
                    _ => "",
                };
                write!(
                    f,
                    "the 114 {} request failed with HTTP {status}{why}; the reply begins: {excerpt:?}",
                    endpoint.path()
                )
            }
            Error::Api { endpoint, error } => {
                write!(f, "114 {}: {error}", endpoint.path())
            }
            Error::Parse(p) => p.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<ParseError> for Error {
    fn from(p: ParseError) -> Error {
        Error::Parse(p)
    }
}

/// Which envelope a reply came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeKind {
    /// `{resCode, msg, data}`.
    Current,
    /// `{data, hasError, code, msg}`.
    Legacy,
}

/// Checks the status, parses the JSON, unwraps either envelope; `Ok(data)` on success.
pub fn open(endpoint: Endpoint, resp: &HttpResponse) -> Result<(EnvelopeKind, Value), Error> {
    if !resp.is_success() {
        return Err(Error::Http {
            endpoint,
            status: resp.status,
            retry: resp.retry_class(),
            excerpt: resp.excerpt(),
        });
    }
    let v: Value = serde_json::from_slice(&resp.body).map_err(|e| ParseError {
        endpoint,
        field: String::new(),
        problem: format!(
            "it is not valid JSON ({e}); it begins: {:?}",
            resp.excerpt()
        ),
    })?;
    let Value::Object(mut obj) = v else {
        return Err(ParseError {
            endpoint,
            field: String::new(),
            problem: format!("it is not a JSON object; it begins: {:?}", resp.excerpt()),
        }
        .into());
    };
    let code_of = |obj: &Map<String, Value>, name: &str| -> Result<Option<i64>, ParseError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| ParseError {
                endpoint,
                field: name.into(),
                problem: format!("is not a whole number ({n})"),
            }),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ParseError {
                endpoint,
                field: name.into(),
                problem: format!("is not a number ({s:?})"),
            }),
            Some(other) => Err(ParseError {
                endpoint,
                field: name.into(),
                problem: format!("is {} where a number was expected", kind(other)),
            }),
        }
    };
    let msg = match obj.get("msg") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let data = obj.remove("data").unwrap_or(Value::Null);
    if obj.contains_key("resCode") {
        let code = code_of(&obj, "resCode")?.unwrap_or(0);
        if code == 0 {
            return Ok((EnvelopeKind::Current, data));
        }
        return Err(Error::Api {
            endpoint,
            error: ApiError::from_code(code, msg.as_deref()),
        });
    }
    if obj.contains_key("hasError") || obj.contains_key("code") {
        let has_error = match obj.get("hasError") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        };
        let code = code_of(&obj, "code")?;
        let ok = match (has_error, code) {
            (Some(h), _) => !h,
            (None, Some(c)) => c == 200 || c == 0,
            (None, None) => true,
        };
        if ok {
            return Ok((EnvelopeKind::Legacy, data));
        }
        return Err(Error::Api {
            endpoint,
            error: ApiError::from_code(code.unwrap_or(-1), msg.as_deref()),
        });
    }
    Err(ParseError {
        endpoint,
        field: String::new(),
        problem: format!(
            "it has neither “resCode” nor “hasError”/“code”, so it is in no envelope the site uses; it begins: {:?}",
            resp.excerpt()
        ),
    }
    .into())
}

/// A JSON type's name for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads fields of one JSON object, naming the endpoint and the path in its errors.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub ep: Endpoint,
    pub path: &'a str,
    pub map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    /// `value` as an object at `path`.
    pub fn of(ep: Endpoint, path: &'a str, value: &'a Value) -> Result<Obj<'a>, ParseError> {
        match value {
            Value::Object(map) => Ok(Obj { ep, path, map }),
            other => Err(ParseError {
                endpoint: ep,
                field: path.to_string(),
                problem: format!("is {} where an object was expected", kind(other)),
            }),
        }
    }

    pub fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    pub fn err(&self, name: &str, problem: impl Into<String>) -> ParseError {
        ParseError {
            endpoint: self.ep,
            field: self.field_path(name),
            problem: problem.into(),
        }
    }

    fn missing(&self, name: &str) -> ParseError {
        self.err(name, "is missing (the site may have renamed or dropped it)")
    }

    /// A present, non-null value.
    pub fn req(&self, name: &str) -> Result<&'a Value, ParseError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Err(self.missing(name)),
            Some(v) => Ok(v),
        }
    }

    /// Text; numbers are accepted and written as text (the site mixes both for codes).
    pub fn string(&self, name: &str) -> Result<String, ParseError> {
        match self.req(name)? {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(self.err(name, format!("is {} where text was expected", kind(other)))),
        }
    }

    /// Text, or `None` when absent or null.
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, ParseError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(name).map(Some),
        }
    }

    /// Text, or empty when absent or null.
    pub fn string_or_empty(&self, name: &str) -> Result<String, ParseError> {
        Ok(self.opt_string(name)?.unwrap_or_default())
    }

    /// A whole number; numeric text is accepted.
    pub fn int(&self, name: &str) -> Result<i64, ParseError> {
        match self.req(name)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| self.err(name, format!("is not a whole number ({n})"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.err(name, format!("is not a whole number ({s:?})"))),
            other => Err(self.err(
                name,
                format!("is {} where a number was expected", kind(other)),
            )),
        }
    }

    /// A whole number, or `None` when absent or null.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, ParseError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.int(name).map(Some),
        }
    }

    /// A boolean; absent or null gives `default`.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ParseError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) => Ok(n.as_i64().unwrap_or(0) != 0),
            Some(other) => Err(self.err(
                name,
                format!("is {} where true/false was expected", kind(other)),
            )),
        }
    }

    /// A list (required).
    pub fn list(&self, name: &str) -> Result<&'a Vec<Value>, ParseError> {
        match self.req(name)? {
            Value::Array(a) => Ok(a),
            other => Err(self.err(
                name,
                format!("is {} where a list was expected", kind(other)),
            )),
        }
    }

    /// A list, or empty when absent or null.
    pub fn list_or_empty(&self, name: &str) -> Result<&'a [Value], ParseError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(&[]),
            Some(_) => self.list(name).map(|v| v.as_slice()),
        }
    }
}

/// `data` as an object, or a parse error naming `data`.
pub(crate) fn data_obj(ep: Endpoint, data: &Value) -> Result<Obj<'_>, ParseError> {
    match data {
        Value::Null => Err(ParseError {
            endpoint: ep,
            field: "data".into(),
            problem: "is empty (null) although the site reported success".into(),
        }),
        v => Obj::of(ep, "data", v),
    }
}

/// The items of a list, each as an object, with `path[i]` paths.
pub(crate) fn each_obj<T>(
    ep: Endpoint,
    path: &str,
    items: &[Value],
    mut f: impl FnMut(Obj<'_>) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let p = format!("{path}[{i}]");
            f(Obj::of(ep, &p, v)?)
        })
        .collect()
}
