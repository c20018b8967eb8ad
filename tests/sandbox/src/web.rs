//! Small HTTP helpers shared by the platform simulators: cookies, JSON and text
//! replies, form/query parsing that never panics on bad input.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value (`Path=/`, `HttpOnly`).
///
/// Deliberately no `Secure` (the sandbox is plain http, where a browser would drop a
/// `Secure` cookie), no `Domain` (host-only: `127.0.0.1`) and no `SameSite`, which
/// Chromium treats as `Lax`: stored and sent back on `fetch(..., {credentials:
/// "include"})` from an extension with host permission for the sandbox, and on the
/// site's own pages.
pub fn set_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; HttpOnly")
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0")
}

/// A JSON reply with status 200.
pub fn json(v: &Value) -> Response {
    json_status(StatusCode::OK, v)
}

/// A JSON reply with a status.
pub fn json_status(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// A JSON reply that also sets cookies.
pub fn json_with_cookies(v: &Value, cookies: &[String]) -> Response {
    let mut r = json(v);
    for c in cookies {
        if let Ok(h) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    r
}

/// An HTML (or JS) text reply.
pub fn text(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Raw bytes with a content type.
pub fn bytes(content_type: &'static str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], Body::from(body)).into_response()
}

/// Parses `a=1&b=%E4%B8%AD` (query strings and form bodies); `+` is a space.
pub fn parse_urlencoded(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_suit_a_browser_on_plain_http() {
        for c in [set_cookie("cmi-user-ticket", "x"), clear_cookie("x")] {
            assert!(c.contains("; Path=/"), "{c}");
            let lower = c.to_ascii_lowercase();
            assert!(
                !lower.contains("secure;") && !lower.ends_with("secure"),
                "{c}"
            );
            assert!(!lower.contains("samesite=strict"), "{c}");
            assert!(!lower.contains("domain="), "{c}");
        }
        assert_eq!(set_cookie("a", "1"), "a=1; Path=/; HttpOnly");
    }

    #[test]
    fn parses_cookies_and_forms() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cmi-user-ticket=xyz; b=2"),
        );
        assert_eq!(cookie(&h, "cmi-user-ticket").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        let f = parse_urlencoded("name=%E5%8F%B7%E6%BA%90&x=a+b&bad=%zz&end=%4");
        assert_eq!(f["name"], "号源");
        assert_eq!(f["x"], "a b");
        assert_eq!(f["bad"], "%zz");
        assert_eq!(f["end"], "%4");
    }
}
