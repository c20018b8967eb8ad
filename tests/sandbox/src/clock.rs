//! The sandbox's simulated server clock: real time, plus whatever the admin API
//! advanced it by, plus a skew. Release times, token expiry and every timestamp a
//! platform reports (the HTTP `Date` header, `fhTimestamp`, `timestamp`) read this clock,
//! so clients can be tested on estimating the server's clock from what it says.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The simulated clock shared by every platform.
#[derive(Debug, Default)]
pub struct Clock {
    state: Mutex<Offsets>,
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
struct Offsets {
    advanced_ms: i64,
    skew_ms: i64,
}

fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Clock {
    fn offsets(&self) -> Offsets {
        self.state.lock().map(|s| *s).unwrap_or_default()
    }

    /// The server's "now" in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let o = self.offsets();
        real_ms() + o.advanced_ms + o.skew_ms
    }

    /// Moves simulated time forward (or back, with a negative value).
    pub fn advance(&self, ms: i64) {
        if let Ok(mut s) = self.state.lock() {
            s.advanced_ms += ms;
        }
    }

    /// Sets how far the server's clock is off real time.
    pub fn set_skew(&self, ms: i64) {
        if let Ok(mut s) = self.state.lock() {
            s.skew_ms = ms;
        }
    }

    /// Back to real time.
    pub fn reset(&self) {
        if let Ok(mut s) = self.state.lock() {
            *s = Offsets::default();
        }
    }

    /// The clock's state for the admin API.
    pub fn describe(&self) -> serde_json::Value {
        let o = self.offsets();
        serde_json::json!({"now_ms": self.now_ms(), "real_ms": real_ms(), "advanced_ms": o.advanced_ms, "skew_ms": o.skew_ms})
    }

    /// The server's now as an HTTP `Date` header value (IMF-fixdate).
    pub fn http_date(&self) -> String {
        http_date(self.now_ms())
    }
}

/// Formats Unix ms as an IMF-fixdate, e.g. `Fri, 27 Nov 2026 06:00:00 GMT`.
pub fn http_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let d = haoyuan_core::date::Date::from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        d.day,
        MONTHS[usize::from(d.month - 1)],
        d.year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Beijing calendar date and time of Unix ms: (`YYYY-MM-DD`, minutes since midnight).
pub fn beijing(ms: i64) -> (haoyuan_core::date::Date, i64) {
    let local = ms + 8 * 3_600_000;
    (
        haoyuan_core::date::Date::from_unix_ms(ms, 480),
        local.rem_euclid(86_400_000) / 60_000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_imf_fixdate() {
        // 2026-11-27T06:00:00Z is a Friday.
        let ms = haoyuan_core::date::Date::parse("2026-11-27")
            .unwrap()
            .to_days()
            * 86_400_000
            + 6 * 3_600_000;
        assert_eq!(http_date(ms), "Fri, 27 Nov 2026 06:00:00 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn advance_and_skew_shift_now() {
        let c = Clock::default();
        let before = c.now_ms();
        c.advance(3_600_000);
        c.set_skew(-1_000);
        let after = c.now_ms();
        assert!(after - before >= 3_599_000 && after - before < 3_700_000);
        c.reset();
        assert!(c.now_ms() - before < 100_000);
    }
}
