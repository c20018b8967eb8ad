//! Calendar dates as the platforms write them (`YYYY-MM-DD`), without a clock.
//!
//! The core never reads the time itself: callers pass "today" in, which keeps
//! validation deterministic in tests and identical in the browser and the host.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A proleptic Gregorian calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{input}” is not a date of the form YYYY-MM-DD")]
pub struct DateError {
    pub input: String,
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`, rejecting impossible days such as `2026-02-30`.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let err = || DateError {
            input: s.to_string(),
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse::<u32>().map_err(|_| err())
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(err());
        }
        let (year, month) = (year as u16, month as u8);
        if day == 0 || day > u32::from(days_in_month(year, month)) {
            return Err(err());
        }
        Ok(Date {
            year,
            month,
            day: day as u8,
        })
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    /// The UTC calendar date of a Unix time in milliseconds shifted by `offset_minutes`
    /// (China Standard Time is +480).
    pub fn from_unix_ms(ms: i64, offset_minutes: i32) -> Date {
        let local = ms + i64::from(offset_minutes) * 60_000;
        Date::from_days(local.div_euclid(86_400_000))
    }

    /// The date `days` days later (earlier when negative).
    pub fn add_days(self, days: i64) -> Date {
        Date::from_days(self.to_days() + days)
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        other.to_days() - self.to_days()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = Date::parse("2026-12-03").unwrap();
        assert_eq!((d.year, d.month, d.day), (2026, 12, 3));
        assert_eq!(d.to_string(), "2026-12-03");
    }

    #[test]
    fn rejects_impossible_days_and_bad_shapes() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261201",
            "2026-12-3x",
            "",
            "２０２６-12-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Date::parse("2028-02-29").is_ok());
    }

    #[test]
    fn day_arithmetic_round_trips() {
        assert_eq!(Date::parse("1970-01-01").unwrap().to_days(), 0);
        assert_eq!(Date::parse("2000-03-01").unwrap().to_days(), 11_017);
        for n in [-1000_i64, 0, 59, 60, 11_016, 20_000, 40_000] {
            assert_eq!(Date::from_days(n).to_days(), n);
        }
        let a = Date::parse("2026-11-27").unwrap();
        assert_eq!(a.days_until(Date::parse("2027-01-01").unwrap()), 35);
    }

    #[test]
    fn beijing_midnight_is_the_next_day() {
        // 2026-11-27T16:30:00Z is 00:30 on the 28th in Beijing.
        let ms = Date::parse("2026-11-27").unwrap().to_days() * 86_400_000
            + 16 * 3_600_000
            + 30 * 60_000;
        assert_eq!(Date::from_unix_ms(ms, 0).to_string(), "2026-11-27");
        assert_eq!(Date::from_unix_ms(ms, 480).to_string(), "2026-11-28");
    }
}
