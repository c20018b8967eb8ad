//! Services every platform simulator uses: the clock, armed faults, the phone inbox
//! (SMS codes a person would read on their phone), captcha answers (what a person would
//! see in the image), the request log, and per-key rate limits.

use crate::clock::Clock;
use crate::faults::Faults;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Everything shared by the platforms and the admin API.
#[derive(Debug, Default)]
pub struct Shared {
    pub clock: Clock,
    pub faults: Faults,
    pub inbox: Inbox,
    pub captchas: Captchas,
    pub log: RequestLog,
}

/// One SMS sent to a phone.
#[derive(Clone, Debug, Serialize)]
pub struct Sms {
    pub phone: String,
    pub platform: String,
    pub code: String,
    pub text: String,
    pub at: i64,
}

/// The phones' inbox.
#[derive(Debug, Default)]
pub struct Inbox {
    messages: Mutex<Vec<Sms>>,
}

impl Inbox {
    /// Delivers a code to a phone.
    pub fn send(&self, platform: &str, phone: &str, code: &str, text: &str, at: i64) {
        if let Ok(mut m) = self.messages.lock() {
            m.push(Sms {
                phone: phone.into(),
                platform: platform.into(),
                code: code.into(),
                text: text.into(),
                at,
            });
        }
    }

    /// Messages for a phone (all phones when `None`), newest last.
    pub fn read(&self, phone: Option<&str>) -> Vec<Sms> {
        self.messages
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|s| phone.is_none_or(|p| s.phone == p))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The newest code sent to a phone.
    pub fn latest_code(&self, phone: &str) -> Option<String> {
        self.read(Some(phone)).last().map(|s| s.code.clone())
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.messages.lock() {
            m.clear();
        }
    }
}

/// Captcha answers by platform and captcha key, readable through the admin API the way
/// a person reads the picture.
#[derive(Debug, Default)]
pub struct Captchas {
    answers: Mutex<HashMap<(String, String), Value>>,
}

impl Captchas {
    pub fn put(&self, platform: &str, key: &str, answer: Value) {
        if let Ok(mut a) = self.answers.lock() {
            a.insert((platform.into(), key.into()), answer);
        }
    }

    pub fn get(&self, platform: &str, key: &str) -> Option<Value> {
        self.answers
            .lock()
            .ok()?
            .get(&(platform.to_string(), key.to_string()))
            .cloned()
    }

    /// Every answer of a platform, keyed by captcha key.
    pub fn all(&self, platform: &str) -> serde_json::Map<String, Value> {
        self.answers
            .lock()
            .map(|a| {
                a.iter()
                    .filter(|((p, _), _)| p == platform)
                    .map(|((_, k), v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut a) = self.answers.lock() {
            a.clear();
        }
    }
}

/// One request as the sandbox saw it.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedRequest {
    pub at: i64,
    pub platform: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// The fault injected, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The request's `Origin` header, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The request's `Referer` header, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referer: Option<String>,
    /// The request's `Sec-Fetch-Site` header, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sec_fetch_site: Option<String>,
    /// The login the request carried, shortened by [`short_session`] (see
    /// [`crate::platforms::Platform::log_session`]); absent when it carried none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// How the log shows a login credential: its first 8 characters (enough to tell two
/// logins apart, too little to reuse), `None` for an empty one.
pub fn short_session(credential: &str) -> Option<String> {
    let c = credential.trim();
    (!c.is_empty()).then(|| c.chars().take(8).collect())
}

/// The last requests (a bounded ring).
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

const LOG_CAPACITY: usize = 20_000;

impl RequestLog {
    pub fn push(&self, r: LoggedRequest) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() == LOG_CAPACITY {
                e.pop_front();
            }
            e.push_back(r);
        }
    }

    /// Requests of a platform (all when `None`), oldest first, at most `limit` newest.
    pub fn read(&self, platform: Option<&str>, limit: usize) -> Vec<LoggedRequest> {
        let Ok(e) = self.entries.lock() else {
            return Vec::new();
        };
        let v: Vec<_> = e
            .iter()
            .filter(|r| platform.is_none_or(|p| r.platform == p))
            .cloned()
            .collect();
        v[v.len().saturating_sub(limit)..].to_vec()
    }

    pub fn clear(&self) {
        if let Ok(mut e) = self.entries.lock() {
            e.clear();
        }
    }
}

/// "Too frequent" detection: at most `burst` requests per key within any `window_ms`.
#[derive(Debug)]
pub struct RateLimit {
    pub window_ms: i64,
    pub burst: usize,
    seen: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl RateLimit {
    pub fn new(window_ms: i64, burst: usize) -> RateLimit {
        RateLimit {
            window_ms,
            burst,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records a request for `key` at `now`; false when it is over the limit.
    pub fn allow(&self, key: &str, now: i64) -> bool {
        if self.burst == 0 {
            return true;
        }
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        let q = seen.entry(key.to_string()).or_default();
        while q.front().is_some_and(|&t| now - t >= self.window_ms) {
            q.pop_front();
        }
        if q.len() >= self.burst {
            return false;
        }
        q.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_shortened_to_8_characters() {
        assert_eq!(short_session("AbCdEfGh1234..").as_deref(), Some("AbCdEfGh"));
        assert_eq!(short_session("abc").as_deref(), Some("abc"));
        assert_eq!(
            short_session("号源号源号源号源号源").as_deref(),
            Some("号源号源号源号源")
        );
        assert_eq!(short_session(" "), None);
    }

    #[test]
    fn rate_limit_allows_a_burst_per_window() {
        let r = RateLimit::new(1000, 2);
        assert!(r.allow("s", 0));
        assert!(r.allow("s", 100));
        assert!(!r.allow("s", 200));
        assert!(r.allow("other", 200));
        assert!(r.allow("s", 1000));
    }
}
