//! Plain HTTP values: the sans-IO seam every platform adapter uses.
//!
//! An adapter builds an [`HttpRequest`] and is later fed the matching [`HttpResponse`];
//! whoever holds the network (`fetch` in the extension, a native client in the host)
//! sends one and produces the other. Nothing here does I/O.
//!
//! # JSON shape (what the wasm edge hands to JS and back)
//!
//! ```json
//! {"method": "POST", "url": "https://…/x?a=1",
//!  "headers": [["Content-Type", "application/json;charset=UTF-8"]],
//!  "body": {"text": "{\"k\":1}"}}
//! {"status": 200, "headers": [["content-type", "application/json"]],
//!  "body": {"base64": "eyJrIjoxfQ=="}}
//! ```
//!
//! - `method` is the upper-case method name, ready for `fetch`.
//! - `headers` are `[name, value]` pairs in order (what `Array.from(response.headers)`
//!   gives in JS); names keep the case they were given and are compared
//!   case-insensitively.
//! - a request `body` is absent/`null`, `{"text": "…"}` (UTF-8 text, pass to `fetch`
//!   as is) or `{"base64": "…"}` (raw bytes, standard base64 with padding).
//! - a response `body` is written as `{"base64": "…"}`; when reading one, `{"text": "…"}`
//!   is accepted too, so JS may hand over `await response.text()` when it knows the body
//!   is text. An absent `body` is empty.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Head,
    Patch,
    Options,
}

impl Method {
    /// The upper-case name, e.g. `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request body: UTF-8 text (JSON, a form) or raw bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// Text, sent as its UTF-8 bytes.
    Text(String),
    /// Raw bytes; standard base64 in JSON.
    #[serde(rename = "base64", with = "b64")]
    Bytes(Vec<u8>),
}

impl Body {
    /// The bytes that go on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(t) => t.as_bytes(),
            Body::Bytes(b) => b,
        }
    }
}

/// The `Content-Type` that [`HttpRequest::post_json`] sets.
pub const CONTENT_TYPE_JSON: &str = "application/json;charset=UTF-8";
/// The `Content-Type` that [`HttpRequest::post_form`] sets (what browsers send for a form).
pub const CONTENT_TYPE_FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// A request an adapter wants sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: Method,
    /// The full URL, query included.
    pub url: String,
    /// `(name, value)` pairs, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<Body>,
}

impl HttpRequest {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest::new(Method::Get, url)
    }

    /// A `POST` of `value` as JSON, with `Content-Type: application/json;charset=UTF-8`.
    /// Fails only if `value` cannot be JSON (a map with non-string keys).
    pub fn post_json<T: Serialize + ?Sized>(
        url: impl Into<String>,
        value: &T,
    ) -> Result<HttpRequest, HttpError> {
        let text = serde_json::to_string(value).map_err(|e| HttpError::Encode(e.to_string()))?;
        Ok(HttpRequest {
            method: Method::Post,
            url: url.into(),
            headers: vec![("Content-Type".into(), CONTENT_TYPE_JSON.into())],
            body: Some(Body::Text(text)),
        })
    }

    /// A `POST` of `fields` as an `application/x-www-form-urlencoded` body (UTF-8,
    /// percent-encoded as browsers do; see [`form_urlencode`]).
    pub fn post_form<K: AsRef<str>, V: AsRef<str>>(
        url: impl Into<String>,
        fields: &[(K, V)],
    ) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            url: url.into(),
            headers: vec![("Content-Type".into(), CONTENT_TYPE_FORM.into())],
            body: Some(Body::Text(form_urlencode(fields))),
        }
    }

    /// Sets header `name` to `value`, replacing any header of that name (compared
    /// case-insensitively).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// Adds `pairs` to the URL's query, form-encoded, after any query it already has
    /// and before any `#fragment`.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> HttpRequest {
        self.url = append_query(&self.url, pairs);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> HttpRequest {
        self.body = Some(body);
        self
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// How a caller should treat a response's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryClass {
    /// 2xx or 3xx: the HTTP exchange worked; the adapter reads the body (which may
    /// still say "too frequent" or "log in again").
    Ok,
    /// 429, 403 or 5xx: the site is refusing or struggling; wait longer (exponential
    /// backoff) before asking again.
    Backoff,
    /// Any other status (other 4xx, or nothing HTTP knows): retrying the same request
    /// will not help.
    Fatal,
}

/// A response fed back to an adapter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    /// `(name, value)` pairs, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body bytes; `{"base64": ...}` in JSON (`{"text": ...}` accepted on input).
    #[serde(default, with = "response_body")]
    pub body: Vec<u8>,
}

/// The most characters of a body quoted in an error message.
const EXCERPT_CHARS: usize = 120;

impl HttpResponse {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (builder style, for tests and recorded responses).
    pub fn with_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of the headers called `name` (case-insensitive), e.g. `Set-Cookie`.
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `true` for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether to read the body, back off, or give up; see [`RetryClass`].
    pub fn retry_class(&self) -> RetryClass {
        match self.status {
            200..=399 => RetryClass::Ok,
            403 | 429 | 500..=599 => RetryClass::Backoff,
            _ => RetryClass::Fatal,
        }
    }

    /// The body as text; an error (not a lossy conversion) when it is not UTF-8.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|e| HttpError::NotUtf8 {
            status: self.status,
            at: e.valid_up_to(),
        })
    }

    /// The body parsed as JSON into `T`. The error names the status and quotes the
    /// start of the body, so "the site sent its login page" is visible at a glance.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Json {
            status: self.status,
            detail: e.to_string(),
            excerpt: self.excerpt(),
        })
    }

    /// The first [`EXCERPT_CHARS`] characters of the body, whitespace runs collapsed,
    /// undecodable bytes shown as `�`, `…` when cut.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut out = String::new();
        let mut count = 0;
        let mut last_space = false;
        for c in text.trim().chars() {
            let c = if c.is_whitespace() { ' ' } else { c };
            if c == ' ' && last_space {
                continue;
            }
            last_space = c == ' ';
            if count == EXCERPT_CHARS {
                out.push('…');
                break;
            }
            out.push(c);
            count += 1;
        }
        out
    }
}

/// What went wrong building a request or reading a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// A value could not be written as JSON.
    #[error("the request body could not be written as JSON: {0}")]
    Encode(String),
    /// The body is not UTF-8 text.
    #[error("the reply (HTTP {status}) is not UTF-8 text (bad byte at offset {at})")]
    NotUtf8 {
        status: u16,
        /// Byte offset of the first invalid byte.
        at: usize,
    },
    /// The body is not the JSON expected.
    #[error(
        "the reply (HTTP {status}) is not the JSON expected ({detail}); it begins: {excerpt:?}"
    )]
    Json {
        status: u16,
        /// What the JSON parser objected to.
        detail: String,
        /// The start of the body (see [`HttpResponse::excerpt`]).
        excerpt: String,
    },
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Percent-encodes `s` as the `application/x-www-form-urlencoded` serializer of the
/// WHATWG URL standard does (what browsers send for forms and `URLSearchParams`):
/// UTF-8 bytes, `A-Z a-z 0-9 * - . _` kept, space as `+`, everything else `%XX`.
pub fn form_encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
    out
}

/// `k1=v1&k2=v2`, each name and value encoded with [`form_encode_component`].
pub fn form_urlencode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                form_encode_component(k.as_ref()),
                form_encode_component(v.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `url` with `pairs` added to its query (after any existing parameters, before any
/// `#fragment`). No pairs: `url` unchanged.
pub fn append_query<K: AsRef<str>, V: AsRef<str>>(url: &str, pairs: &[(K, V)]) -> String {
    if pairs.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{sep}{}{fragment}", form_urlencode(pairs))
}

/// Serde for `Vec<u8>` as a standard base64 string (`#[serde(with = "crate::http::b64")]`).
pub(crate) mod b64 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("not valid base64: {e}")))
    }
}

/// Serde for a response body: written as `{"base64": ...}`, read from that, from
/// `{"text": ...}`, or from `null`.
mod response_body {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        // A borrowed form would avoid the copy, but bodies are small and this keeps one
        // definition of the wire shape.
        Body::Bytes(bytes.to_vec()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(match Option::<Body>::deserialize(d)? {
            None => Vec::new(),
            Some(Body::Text(t)) => t.into_bytes(),
            Some(Body::Bytes(b)) => b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_encoding_matches_browsers() {
        // Expected values are what `new URLSearchParams([[k, v]]).toString()` gives.
        assert_eq!(form_encode_component("a b"), "a+b");
        assert_eq!(form_encode_component("a&b=c"), "a%26b%3Dc");
        assert_eq!(form_encode_component("1+1"), "1%2B1");
        assert_eq!(form_encode_component("张三"), "%E5%BC%A0%E4%B8%89");
        assert_eq!(
            form_encode_component("*-._~!'()/?#%"),
            "*-._%7E%21%27%28%29%2F%3F%23%25"
        );
        assert_eq!(form_encode_component("AZaz09"), "AZaz09");
        assert_eq!(form_encode_component("a\nb"), "a%0Ab");
        assert_eq!(form_encode_component(""), "");
        assert_eq!(
            form_urlencode(&[("name", "张 三"), ("q", "x=1&y=2"), ("", "")]),
            "name=%E5%BC%A0+%E4%B8%89&q=x%3D1%26y%3D2&="
        );
    }

    #[test]
    fn post_form_sets_body_and_content_type() {
        let r = HttpRequest::post_form(
            "https://h/reservation/sync/token",
            &[("apikey", "k 1"), ("secret", "a+b/c=")],
        );
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.header_value("content-type"), Some(CONTENT_TYPE_FORM));
        assert_eq!(
            r.body,
            Some(Body::Text("apikey=k+1&secret=a%2Bb%2Fc%3D".into()))
        );
    }

    #[test]
    fn post_json_sets_body_and_content_type() {
        let r = HttpRequest::post_json("https://h/x", &json!({"name": "张三", "n": 1})).unwrap();
        assert_eq!(r.header_value("Content-Type"), Some(CONTENT_TYPE_JSON));
        let body = r.body.unwrap();
        let back: serde_json::Value = serde_json::from_slice(body.as_bytes()).unwrap();
        assert_eq!(back, json!({"name": "张三", "n": 1}));
        // A map with non-string keys cannot be JSON: a plain error, no panic.
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        assert!(matches!(
            HttpRequest::post_json("https://h/x", &bad),
            Err(HttpError::Encode(_))
        ));
    }

    #[test]
    fn query_is_appended_correctly() {
        let pairs = [("hosCode", "H1"), ("name", "a b&c=d+e")];
        let tail = "hosCode=H1&name=a+b%26c%3Dd%2Be";
        assert_eq!(
            HttpRequest::get("https://h/p").query(&pairs).url,
            format!("https://h/p?{tail}")
        );
        assert_eq!(
            HttpRequest::get("https://h/p?x=1").query(&pairs).url,
            format!("https://h/p?x=1&{tail}")
        );
        assert_eq!(
            HttpRequest::get("https://h/p?").query(&pairs).url,
            format!("https://h/p?{tail}")
        );
        assert_eq!(
            HttpRequest::get("https://h/p?x=1&").query(&pairs).url,
            format!("https://h/p?x=1&{tail}")
        );
        assert_eq!(
            HttpRequest::get("https://h/p#top").query(&pairs).url,
            format!("https://h/p?{tail}#top")
        );
        assert_eq!(
            HttpRequest::get("https://h/p?x=1#a?b").query(&pairs).url,
            format!("https://h/p?x=1&{tail}#a?b")
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            HttpRequest::get("https://h/p?x=1").query(&none).url,
            "https://h/p?x=1"
        );
        assert_eq!(
            HttpRequest::get("https://h/p")
                .query(&[("a", "1")])
                .query(&[("科室", "内科")])
                .url,
            "https://h/p?a=1&%E7%A7%91%E5%AE%A4=%E5%86%85%E7%A7%91"
        );
    }

    #[test]
    fn header_replaces_case_insensitively() {
        let r = HttpRequest::get("u")
            .header("Accept", "a")
            .header("X-One", "1")
            .header("accept", "b");
        assert_eq!(
            r.headers,
            vec![("X-One".into(), "1".into()), ("accept".into(), "b".into())]
        );
        assert_eq!(r.header_value("ACCEPT"), Some("b"));
        assert_eq!(r.header_value("missing"), None);
    }

    #[test]
    fn response_header_lookup_is_case_insensitive() {
        let r = HttpResponse::new(200, "x")
            .with_header("Content-Type", "application/json")
            .with_header("set-cookie", "a=1")
            .with_header("Set-Cookie", "b=2");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("CONTENT-TYPE"), Some("application/json"));
        assert_eq!(r.header("SET-COOKIE"), Some("a=1"));
        assert_eq!(
            r.headers_all("set-cookie").collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(r.header("content-length"), None);
    }

    #[test]
    fn text_refuses_invalid_utf8() {
        assert_eq!(HttpResponse::new(200, "张三").text().unwrap(), "张三");
        let e = HttpResponse::new(502, vec![b'o', b'k', 0xff])
            .text()
            .unwrap_err();
        assert_eq!(e, HttpError::NotUtf8 { status: 502, at: 2 });
        assert!(e.to_string().contains("HTTP 502"));
    }

    #[test]
    fn json_parses_and_its_error_names_status_and_quotes_the_body() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Envelope {
            code: i64,
        }
        assert_eq!(
            HttpResponse::new(200, r#"{"code": 200}"#)
                .json::<Envelope>()
                .unwrap(),
            Envelope { code: 200 }
        );

        let page = format!(
            "<!DOCTYPE html>\n<html>\n   <head><title>登录</title></head>{}</html>",
            "x".repeat(500)
        );
        let e = HttpResponse::new(302, page).json::<Envelope>().unwrap_err();
        let HttpError::Json {
            status, excerpt, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(*status, 302);
        assert!(
            excerpt.starts_with("<!DOCTYPE html> <html> <head><title>登录</title></head>xxx"),
            "{excerpt}"
        );
        assert!(excerpt.ends_with('…'));
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        let msg = e.to_string();
        assert!(
            msg.contains("HTTP 302") && msg.contains("<!DOCTYPE html>"),
            "{msg}"
        );
        assert!(msg.len() < 400, "the message stays short: {msg}");

        // Valid JSON of the wrong shape, short body: quoted whole, not cut.
        let e = HttpResponse::new(200, r#"{"code": "x"}"#)
            .json::<Envelope>()
            .unwrap_err();
        let HttpError::Json {
            excerpt, detail, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(excerpt, r#"{"code": "x"}"#);
        assert!(detail.contains("invalid type"), "{detail}");
    }

    #[test]
    fn retry_classes() {
        let class = |s| HttpResponse::new(s, "").retry_class();
        for s in [200, 201, 204, 301, 302, 304] {
            assert_eq!(class(s), RetryClass::Ok, "{s}");
        }
        for s in [403, 429, 500, 502, 503, 504, 599] {
            assert_eq!(class(s), RetryClass::Backoff, "{s}");
        }
        for s in [400, 401, 404, 405, 410, 422, 0, 100, 600] {
            assert_eq!(class(s), RetryClass::Fatal, "{s}");
        }
        assert!(HttpResponse::new(204, "").is_success());
        assert!(!HttpResponse::new(302, "").is_success());
        assert!(!HttpResponse::new(199, "").is_success());
        assert!(!HttpResponse::new(500, "").is_success());
    }

    #[test]
    fn requests_and_responses_have_the_documented_json_shape() {
        let r = HttpRequest::post_json("https://h/x?a=1", &json!({"k": 1}))
            .unwrap()
            .header("Request-Source", "PC");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"method": "POST", "url": "https://h/x?a=1",
                   "headers": [["Content-Type", CONTENT_TYPE_JSON], ["Request-Source", "PC"]],
                   "body": {"text": "{\"k\":1}"}})
        );
        assert_eq!(serde_json::from_value::<HttpRequest>(v).unwrap(), r);
        let g: HttpRequest = serde_json::from_value(json!({"method": "GET", "url": "u"})).unwrap();
        assert_eq!(g, HttpRequest::get("u"));
        let b = HttpRequest::new(Method::Put, "u").body(Body::Bytes(vec![0, 255]));
        assert_eq!(
            serde_json::to_value(&b).unwrap()["body"],
            json!({"base64": "AP8="})
        );
        assert_eq!(
            serde_json::from_value::<HttpRequest>(serde_json::to_value(&b).unwrap()).unwrap(),
            b
        );

        let resp = HttpResponse::new(200, vec![0u8, 1, 255])
            .with_header("content-type", "application/octet-stream");
        let v = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            v,
            json!({"status": 200, "headers": [["content-type", "application/octet-stream"]], "body": {"base64": "AAH/"}})
        );
        assert_eq!(serde_json::from_value::<HttpResponse>(v).unwrap(), resp);
        let from_text: HttpResponse =
            serde_json::from_value(json!({"status": 404, "headers": [], "body": {"text": "无"}}))
                .unwrap();
        assert_eq!(from_text.body, "无".as_bytes());
        let empty: HttpResponse = serde_json::from_value(json!({"status": 204})).unwrap();
        assert!(empty.body.is_empty() && empty.headers.is_empty());
        let null_body: HttpResponse =
            serde_json::from_value(json!({"status": 204, "body": null})).unwrap();
        assert!(null_body.body.is_empty());
        assert!(serde_json::from_value::<HttpResponse>(
            json!({"status": 200, "body": {"base64": "!!"}})
        )
        .is_err());
    }
}
