//! A cookie jar for one account on one site, for the host's native HTTP client (the
//! browser keeps its own cookies). Sans-IO: it reads `Set-Cookie` headers of an
//! [`HttpResponse`] and writes the `Cookie` header of an [`HttpRequest`].
//!
//! Deliberately small: one site per jar, so `Domain` is not matched and `Path` is not
//! honoured (12306 scopes its cookies to `/` or paths every step shares); `Max-Age=0`
//! or an `Expires` in the past deletes a cookie. Serialisable, so a signed-in session
//! survives a host restart (it is a secret: kept in the store, never logged).

use crate::clock::parse_http_date;
use crate::http::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Cookies by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieJar {
    cookies: BTreeMap<String, String>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// Takes in every `Set-Cookie` of `resp`, received at Unix ms `now_ms`.
    pub fn absorb(&mut self, resp: &HttpResponse, now_ms: i64) {
        for line in resp.headers_all("set-cookie") {
            self.set_cookie(line, now_ms);
        }
    }

    /// Applies one `Set-Cookie` header value.
    pub fn set_cookie(&mut self, line: &str, now_ms: i64) {
        let mut parts = line.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut expired = false;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "max-age" => expired |= v.trim().parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => expired |= parse_http_date(v.trim()).is_ok_and(|t| t <= now_ms),
                _ => {}
            }
        }
        if expired {
            self.cookies.remove(name);
        } else {
            self.cookies
                .insert(name.to_string(), value.trim().trim_matches('"').to_string());
        }
    }

    /// One cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Whether the jar holds nothing.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Forgets every cookie.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// The `Cookie` header value, or `None` when empty.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// `req` with this jar's `Cookie` header (replacing one it had).
    pub fn apply(&self, mut req: HttpRequest) -> HttpRequest {
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("cookie"));
        match self.header() {
            Some(h) => req.header("Cookie", h),
            None => req,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_replaces_and_deletes_cookies() {
        let mut jar = CookieJar::new();
        let resp = HttpResponse::new(200, "")
            .with_header("Set-Cookie", "JSESSIONID=abc; Path=/otn; HttpOnly")
            .with_header("Set-Cookie", "route=r1; Max-Age=3600")
            .with_header("Set-Cookie", "tk=\"t\"");
        jar.absorb(&resp, 0);
        assert_eq!(
            jar.header().as_deref(),
            Some("JSESSIONID=abc; route=r1; tk=t")
        );
        jar.set_cookie("route=; Max-Age=0", 0);
        jar.set_cookie("tk=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 1000);
        jar.set_cookie("JSESSIONID=def", 0);
        jar.set_cookie("garbage", 0);
        assert_eq!(jar.header().as_deref(), Some("JSESSIONID=def"));
        let req = jar.apply(HttpRequest::get("http://x/").header("cookie", "old=1"));
        assert_eq!(req.header_value("Cookie"), Some("JSESSIONID=def"));
        assert_eq!(req.headers.len(), 1);
        let back: CookieJar = serde_json::from_str(&serde_json::to_string(&jar).unwrap()).unwrap();
        assert_eq!(back, jar);
    }
}
