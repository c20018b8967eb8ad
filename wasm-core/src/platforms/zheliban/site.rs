//! The four endpoints of seed 004: requests and the readers of their replies.
//!
//! **Wire format.** Every request body is the compact JSON of its parameters,
//! AES-128-ECB/PKCS5 encrypted under the platform-issued key and written in standard
//! base64 — the body *is* that ciphertext, as in the seed's example request, sent as
//! form data (`application/x-www-form-urlencoded`). The token travels only in header
//! `ACCESS-TOKEN`. A successful reply is the envelope `{code, message, success, result,
//! timestamp}` encrypted the same way; failures may come as plain JSON (the seed prints
//! `{"code": 50002, "message": "数据有误", …}` and `{"code": 500, "message": …}`).
//! GET requests (none of the four is one) would carry the ciphertext as query `data`.
//!
//! Every reader returns a [`ZlbError`] in plain words: an auth error (the token is
//! missing, invalid or expired: renew it and repeat the step), a reply that cannot be
//! decrypted (wrong AES key, or a damaged body), the platform's refusal with its code
//! and message, an HTTP status to back off on, or a reply whose shape changed.

use crate::crypto::{self, Encoding};
use crate::http::{form_urlencode, Body, HttpRequest, HttpResponse, Method, RetryClass};
use serde_json::{json, Map, Value};

/// The header the token travels in.
pub const TOKEN_HEADER: &str = "ACCESS-TOKEN";
/// The `Content-Type` of every request (the seed: "POST 为 form data").
pub const CONTENT_TYPE_FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// The platform's paths.
pub const PATH_TOKEN: &str = "/reservation/sync/token";
pub const PATH_ORDER: &str = "/reservation/sync/order";
pub const PATH_CALLBACK: &str = "/reservation/sync/callback";
pub const PATH_ARRIVAL: &str = "/reservation/sync/arrival";

/// Why a 浙里办 exchange failed, in words for the front desk.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZlbError {
    /// The token was refused (missing, invalid or expired): get a new one and repeat.
    #[error("浙里办 refused the access token ({message})")]
    Auth { message: String },
    /// The reply could not be decrypted or is not the envelope.
    #[error(
        "浙里办's reply could not be decrypted ({detail}); check the AES key the platform issued"
    )]
    Undecryptable { detail: String },
    /// The platform answered with an error code (`50002` 数据有误, `500` …).
    #[error("浙里办 refused the request: {message} (code {code})")]
    Refused { code: i64, message: String },
    /// An HTTP status that is not an answer (429, 403, 5xx → back off; others → fatal).
    #[error("浙里办 answered HTTP {status}")]
    Http { status: u16, class: RetryClass },
    /// The envelope decrypted but its `result` is not what the seed describes.
    #[error("浙里办's reply has an unexpected shape: {detail}")]
    Changed { detail: String },
    /// The key in the settings is unusable (not 16 bytes).
    #[error("the AES key must be exactly 16 characters (AES-128); it is {found}")]
    BadKey { found: usize },
}

impl ZlbError {
    /// Whether renewing the token and repeating the step may help.
    pub fn is_auth(&self) -> bool {
        matches!(self, ZlbError::Auth { .. })
    }
}

/// A token and when it expires (local Unix ms).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub token: String,
    pub expires_at_ms: i64,
}

/// The credentials the platform issued to the hospital.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub apikey: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// One batch of `sync/order`.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The batch's `requestId` (the same in every record), when it has one.
    pub request_id: Option<String>,
    /// The records as delivered, in order.
    pub records: Vec<Value>,
}

/// The platform at a base URL, with its AES key. `Debug` never shows the key.
#[derive(Clone)]
pub struct Site {
    base: String,
    key: [u8; 16],
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Site({}, key <redacted>)", self.base)
    }
}

impl Site {
    /// The platform at `base` (no trailing `/`) with the 16-byte key `key`.
    pub fn new(base: &str, key: &str) -> Result<Site, ZlbError> {
        let bytes = key.as_bytes();
        let key: [u8; 16] = bytes
            .try_into()
            .map_err(|_| ZlbError::BadKey { found: bytes.len() })?;
        Ok(Site {
            base: base.trim().trim_end_matches('/').to_string(),
            key,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `plain` encrypted under the key, in standard base64.
    pub fn encrypt(&self, plain: &str) -> String {
        // The key is 16 bytes by construction, the only way encryption can fail.
        crypto::encrypt(&self.key, plain.as_bytes(), Encoding::Standard).unwrap_or_default()
    }

    /// A POST whose body is `params` encrypted (none when `params` is `None`).
    fn post(&self, path: &str, params: Option<&Value>, token: Option<&str>) -> HttpRequest {
        let mut req = HttpRequest::new(Method::Post, format!("{}{path}", self.base))
            .header("Content-Type", CONTENT_TYPE_FORM);
        if let Some(p) = params {
            req = req.body(Body::Text(self.encrypt(&p.to_string())));
        }
        if let Some(t) = token {
            req = req.header(TOKEN_HEADER, t);
        }
        req
    }

    /// A GET with `params` encrypted as query `data` (the seed: "GET 请求的数据格式为
    /// query"); none of the four endpoints is a GET today.
    pub fn get(&self, path: &str, params: &Value, token: &str) -> HttpRequest {
        let q = form_urlencode(&[("data", self.encrypt(&params.to_string()))]);
        HttpRequest::get(format!("{}{path}?{q}", self.base)).header(TOKEN_HEADER, token)
    }

    /// `POST /reservation/sync/token` {apikey, secret}.
    pub fn token_request(&self, creds: &Credentials) -> HttpRequest {
        let p = json!({"apikey": creds.apikey, "secret": creds.secret});
        self.post(PATH_TOKEN, Some(&p), None)
    }

    /// `POST /reservation/sync/order`: the unsynced reservations.
    pub fn order_request(&self, token: &str) -> HttpRequest {
        self.post(PATH_ORDER, None, Some(token))
    }

    /// `POST /reservation/sync/callback` {requestId}: the whole batch is stored.
    pub fn ack_batch_request(&self, token: &str, request_id: &str) -> HttpRequest {
        self.post(
            PATH_CALLBACK,
            Some(&json!({ "requestId": request_id })),
            Some(token),
        )
    }

    /// `POST /reservation/sync/callback` {serialNumber}: this record is stored.
    pub fn ack_serial_request(&self, token: &str, serial: &str) -> HttpRequest {
        self.post(
            PATH_CALLBACK,
            Some(&json!({ "serialNumber": serial })),
            Some(token),
        )
    }

    /// `POST /reservation/sync/arrival` {serialNumber, arriveDate?} (`arrive_date`:
    /// Beijing `yyyy-MM-dd HH:mm:ss`; absent means now).
    pub fn arrival_request(
        &self,
        token: &str,
        serial: &str,
        arrive_date: Option<&str>,
    ) -> HttpRequest {
        let mut p = Map::new();
        p.insert("serialNumber".into(), json!(serial));
        if let Some(d) = arrive_date {
            p.insert("arriveDate".into(), json!(d));
        }
        self.post(PATH_ARRIVAL, Some(&Value::Object(p)), Some(token))
    }

    /// The envelope of a reply, decrypted when it is encrypted; `Ok(result)` when
    /// `code` is 200 and `success` is not false.
    pub fn read_envelope(&self, resp: &HttpResponse) -> Result<Value, ZlbError> {
        let lossy;
        let text = match std::str::from_utf8(&resp.body) {
            Ok(t) => t.trim(),
            Err(_) => {
                lossy = String::from_utf8_lossy(&resp.body);
                lossy.trim()
            }
        };
        let plain: Option<Value> = if text.starts_with('{') {
            serde_json::from_str(text).ok()
        } else {
            None
        };
        let envelope = match plain {
            Some(v) => v,
            None if text.is_empty() => {
                return Err(status_error(resp).unwrap_or(ZlbError::Undecryptable {
                    detail: "the reply is empty".into(),
                }))
            }
            None => {
                // Line breaks some servers put into long base64 are dropped.
                let cleaned: std::borrow::Cow<str> =
                    if text.bytes().any(|b| b.is_ascii_whitespace()) {
                        text.chars()
                            .filter(|c| !c.is_whitespace())
                            .collect::<String>()
                            .into()
                    } else {
                        text.into()
                    };
                match crypto::decrypt_str(&self.key, &cleaned, Encoding::Standard) {
                    Ok(p) => match serde_json::from_str::<Value>(&p) {
                        Ok(v) => v,
                        Err(e) => {
                            return Err(status_error(resp).unwrap_or(ZlbError::Changed {
                                detail: format!("the decrypted reply is not JSON ({e})"),
                            }))
                        }
                    },
                    Err(e) => {
                        return Err(status_error(resp).unwrap_or(ZlbError::Undecryptable {
                            detail: e.to_string(),
                        }))
                    }
                }
            }
        };
        let Value::Object(mut obj) = envelope else {
            return Err(ZlbError::Changed {
                detail: "the envelope is not an object".into(),
            });
        };
        let code = obj.get("code").and_then(|c| match c {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let message = obj
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let success = obj.get("success").and_then(Value::as_bool);
        match code {
            Some(200) if success != Some(false) => Ok(obj.remove("result").unwrap_or(Value::Null)),
            Some(401) => Err(ZlbError::Auth { message }),
            _ if resp.status == 401 || is_token_message(&message) => {
                Err(ZlbError::Auth { message })
            }
            Some(code) => {
                if let Some(e) = status_error(resp) {
                    if code >= 500 && code != 50_002 && code != 500 {
                        return Err(e);
                    }
                }
                Err(ZlbError::Refused { code, message })
            }
            None => Err(status_error(resp).unwrap_or(ZlbError::Changed {
                detail: "the envelope has no code".into(),
            })),
        }
    }

    /// The `token` reply: `{expire (ms from now), token}`.
    pub fn read_token(&self, resp: &HttpResponse, now_ms: i64) -> Result<Token, ZlbError> {
        let r = self.read_envelope(resp)?;
        let token = r
            .get("token")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ZlbError::Changed {
                detail: "the token reply has no token".into(),
            })?;
        let expire = r
            .get("expire")
            .and_then(|e| {
                e.as_i64()
                    .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
            })
            .filter(|e| *e > 0)
            .unwrap_or(24 * 3_600_000);
        Ok(Token {
            token: token.to_string(),
            expires_at_ms: now_ms.saturating_add(expire),
        })
    }

    /// The `order` reply: the batch (an empty list, or `null`, is an empty batch).
    pub fn read_batch(&self, resp: &HttpResponse) -> Result<Batch, ZlbError> {
        let records = match self.read_envelope(resp)? {
            Value::Null => Vec::new(),
            Value::Array(a) => a,
            other => {
                return Err(ZlbError::Changed {
                    detail: format!(
                        "the reservations are not a list but {}",
                        match other {
                            Value::Object(_) => "an object",
                            Value::String(_) => "a string",
                            _ => "a single value",
                        }
                    ),
                })
            }
        };
        let request_id = records
            .iter()
            .find_map(|r| r.get("requestId").and_then(Value::as_str))
            .map(str::to_string);
        Ok(Batch {
            request_id,
            records,
        })
    }

    /// The `callback` or `arrival` reply: `Ok` when accepted.
    pub fn read_ok(&self, resp: &HttpResponse) -> Result<(), ZlbError> {
        self.read_envelope(resp).map(drop)
    }
}

/// The error a non-2xx status means by itself, if any.
fn status_error(resp: &HttpResponse) -> Option<ZlbError> {
    match resp.retry_class() {
        RetryClass::Ok => None,
        _ if resp.status == 401 => Some(ZlbError::Auth {
            message: format!("HTTP {}", resp.status),
        }),
        class => Some(ZlbError::Http {
            status: resp.status,
            class,
        }),
    }
}

/// The gateway's token messages (`token不能为空!`, `token非法无效!`, `Token失效，请重新登录!`).
fn is_token_message(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("token")
        && (m.contains("失效") || m.contains("无效") || m.contains("为空") || m.contains("登录"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ZLB-sandbox-key1";

    fn site() -> Site {
        Site::new("http://127.0.0.1:9/", KEY).unwrap()
    }

    fn enc(v: &Value) -> HttpResponse {
        HttpResponse::new(200, site().encrypt(&v.to_string()))
    }

    #[test]
    fn requests_are_encrypted_bodies_with_the_token_header() {
        let s = site();
        let creds = Credentials {
            apikey: "NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ".into(),
            secret: "eAT9HgCQy6l6GjKY26CT0giy65PtXg4W".into(),
        };
        let r = s.token_request(&creds);
        assert_eq!(r.url, "http://127.0.0.1:9/reservation/sync/token");
        assert_eq!(r.header_value("Content-Type"), Some(CONTENT_TYPE_FORM));
        assert!(r.header_value(TOKEN_HEADER).is_none());
        let body = std::str::from_utf8(r.body.as_ref().unwrap().as_bytes()).unwrap();
        let plain = crypto::decrypt_str(KEY.as_bytes(), body, Encoding::Standard).unwrap();
        let v: Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(v["apikey"], "NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ");
        assert!(!format!("{creds:?}{s:?}").contains("eAT9") && !format!("{s:?}").contains(KEY));

        let a = s.ack_batch_request("tok", "abc");
        assert_eq!(a.header_value(TOKEN_HEADER), Some("tok"));
        let body = std::str::from_utf8(a.body.as_ref().unwrap().as_bytes()).unwrap();
        assert_eq!(
            crypto::decrypt_str(KEY.as_bytes(), body, Encoding::Standard).unwrap(),
            r#"{"requestId":"abc"}"#
        );
        let g = s.get("/x", &json!({"a": 1}), "tok");
        assert!(g.url.starts_with("http://127.0.0.1:9/x?data=") && g.body.is_none());
        assert!(s.order_request("tok").body.is_none());
        assert!(matches!(
            Site::new("x", "short"),
            Err(ZlbError::BadKey { found: 5 })
        ));
    }

    #[test]
    fn replies_encrypted_plain_or_broken() {
        let s = site();
        let ok = enc(
            &json!({"code":200,"message":"操作成功","result":{"expire":86400000,"token":"eyJ.x.y"},"success":true,"timestamp":1}),
        );
        let t = s.read_token(&ok, 1_000).unwrap();
        assert_eq!(t.token, "eyJ.x.y");
        assert_eq!(t.expires_at_ms, 86_401_000);

        let bad = HttpResponse::new(
            200,
            r#"{"code":50002,"message":"数据有误","success":false,"result":null,"timestamp":1}"#,
        );
        assert_eq!(
            s.read_token(&bad, 0).unwrap_err(),
            ZlbError::Refused {
                code: 50_002,
                message: "数据有误".into()
            }
        );
        let expired = HttpResponse::new(
            401,
            r#"{"code":401,"message":"Token失效，请重新登录!","success":false,"result":null,"timestamp":1}"#,
        );
        assert!(s.read_batch(&expired).unwrap_err().is_auth());

        // Another key's ciphertext, and a cut one.
        let other = Site::new("http://x", "another-key-1234").unwrap();
        let wrong = HttpResponse::new(200, other.encrypt(r#"{"code":200,"result":[]}"#));
        let e = s.read_batch(&wrong).unwrap_err();
        assert!(matches!(e, ZlbError::Undecryptable { .. }), "{e:?}");
        assert!(e.to_string().contains("AES key"), "{e}");
        let mut cut = enc(&json!({"code":200,"result":[]}));
        cut.body.truncate(10);
        assert!(matches!(
            s.read_batch(&cut).unwrap_err(),
            ZlbError::Undecryptable { .. }
        ));

        let busy = HttpResponse::new(503, "");
        assert_eq!(
            s.read_batch(&busy).unwrap_err(),
            ZlbError::Http {
                status: 503,
                class: RetryClass::Backoff
            }
        );

        let batch = s
            .read_batch(&enc(&json!({"code":200,"success":true,"result":[{"requestId":"r1","serialNumber":"A"}]})))
            .unwrap();
        assert_eq!(batch.request_id.as_deref(), Some("r1"));
        assert_eq!(batch.records.len(), 1);
        let empty = s
            .read_batch(&enc(&json!({"code":200,"success":true,"result":null})))
            .unwrap();
        assert!(empty.records.is_empty() && empty.request_id.is_none());
        let changed = s.read_batch(&enc(
            &json!({"code":200,"success":true,"result":{"list":[]}}),
        ));
        assert!(matches!(changed, Err(ZlbError::Changed { .. })));
        let contact = HttpResponse::new(200, r#"{"code":500,"message":"数据有误，请联系平台"}"#);
        assert!(matches!(
            s.read_ok(&contact),
            Err(ZlbError::Refused { code: 500, .. })
        ));
    }
}
