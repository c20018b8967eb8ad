//! The server's clock, estimated from the times it writes into its replies.
//!
//! Release instants ("号源 open at 08:30", "sale opens at 15:00") are instants on the
//! *server's* clock, and a user's machine can be seconds off it. Every reply we get
//! anyway carries the server's time — the HTTP `Date` header (1-second resolution) or a
//! millisecond timestamp in the body such as 114yygh's `fhTimestamp` — so the clock is
//! estimated for free, without a single extra request.
//!
//! A sample says: at some local instant between sending (`sent_ms`) and receiving
//! (`received_ms`), the server's clock read a time in `[t, t + resolution)`. So the
//! offset `server − local` lies in the interval
//! `[t − received_ms, t + resolution − 1 − sent_ms]` (whole milliseconds, inclusive),
//! whose half-width is half the round trip plus half the resolution. Samples are
//! combined by intersecting their intervals; because a sample can be wrong (a cached
//! reply with an old `Date`, a proxy's clock, a local clock step), the intersection is
//! taken over the largest set of samples that agree (Marzullo's algorithm), so outliers
//! drop out. Each sample is widened by a drift allowance as it ages and forgotten after
//! [`MAX_SAMPLE_AGE_MS`].
//!
//! Sans-IO: the caller passes every local time (`Date.now()` in the browser, the system
//! clock in the host); nothing here reads a clock.

use crate::date::Date;
use crate::http::HttpResponse;
use serde::{Deserialize, Serialize};

/// Resolution of the HTTP `Date` header (whole seconds).
pub const DATE_HEADER_RESOLUTION_MS: i64 = 1_000;
/// The most samples kept (the oldest go first).
pub const MAX_SAMPLES: usize = 64;
/// Samples older than this (by local time) are forgotten: two clocks drift apart.
pub const MAX_SAMPLE_AGE_MS: i64 = 2 * 3_600_000;
/// Drift allowance between the two clocks, in parts per million: each sample's
/// interval widens on each side by this many millionths of its age (180 ms an hour).
pub const DRIFT_PPM: i64 = 50;
/// A sample whose round trip exceeds this is too vague to be worth keeping.
pub const MAX_ROUND_TRIP_MS: i64 = 30_000;
/// When this many of the newest samples agree with each other but not with the
/// consensus of the older ones, the older ones are dropped: the local clock (or the
/// server's) was stepped, and the past no longer describes the present.
pub const REANCHOR_STREAK: usize = 3;

/// Why a sample was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Not an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    #[error("“{0}” is not an HTTP date of the form “Sun, 06 Nov 1994 08:49:37 GMT”")]
    BadDate(String),
    /// An RFC 850 or asctime date: obsolete forms, not used for clock estimation.
    #[error("“{0}” is an obsolete HTTP date form (RFC 850 or asctime); ignored")]
    ObsoleteDate(String),
    /// The reply has no `Date` header.
    #[error("the reply has no Date header")]
    NoDateHeader,
    /// `received_ms` is before `sent_ms`, or the round trip is too long to help.
    #[error("round trip from {sent_ms} to {received_ms} ms is unusable")]
    RoundTrip { sent_ms: i64, received_ms: i64 },
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an HTTP date in the preferred IMF-fixdate form (RFC 9110 §5.6.7),
/// `Sun, 06 Nov 1994 08:49:37 GMT`, into Unix milliseconds. The obsolete RFC 850
/// and asctime forms are recognised and refused with [`ClockError::ObsoleteDate`].
/// The day name must be a day name but is not checked against the date.
pub fn parse_http_date(s: &str) -> Result<i64, ClockError> {
    let t = s.trim();
    let bad = || ClockError::BadDate(t.to_string());
    let b = t.as_bytes();
    if b.len() != 29 || b[3] != b',' {
        let obsolete = LONG_DAY_NAMES
            .iter()
            .any(|d| t.starts_with(d) && t[d.len()..].starts_with(", "))
            || (b.len() >= 4 && b[3] == b' ' && DAY_NAMES.iter().any(|d| t.starts_with(d)));
        return Err(if obsolete {
            ClockError::ObsoleteDate(t.to_string())
        } else {
            bad()
        });
    }
    if !DAY_NAMES.contains(&&t[0..3])
        || &t[3..5] != ", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &t[25..] != " GMT"
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, ClockError> {
        let part = &t[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let day = num(5..7)?;
    let month = MONTH_NAMES
        .iter()
        .position(|m| *m == &t[8..11])
        .ok_or_else(bad)? as u32
        + 1;
    let year = num(12..16)?;
    let (hour, minute, second) = (num(17..19)?, num(20..22)?, num(23..25)?);
    // A leap second (60) is allowed by the grammar; it reads as the next minute's 00.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let date = Date::parse(&format!("{year:04}-{month:02}-{day:02}")).map_err(|_| bad())?;
    let secs = i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second);
    Ok(date.to_days() * 86_400_000 + secs * 1_000)
}

/// One observation: the offset `server − local` lies in `[lo, hi]` (ms, inclusive),
/// as of local time `at` (when the reply arrived).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Sample {
    lo: i64,
    hi: i64,
    at: i64,
}

impl Sample {
    /// The interval widened for drift since the sample was taken.
    fn widened(&self, now: i64) -> (i64, i64) {
        let w = (now - self.at).abs() * DRIFT_PPM / 1_000_000;
        (self.lo - w, self.hi + w)
    }
}

/// The current estimate of `server − local`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Best estimate of `server − local`, in ms (the middle of the consistent interval).
    pub offset_ms: i64,
    /// The true offset is within `offset_ms ± bound_ms`, if the samples that agree
    /// were honest.
    pub bound_ms: u64,
    /// How many samples agree on it.
    pub agreeing: usize,
    /// How many usable samples there were.
    pub usable: usize,
}

/// An estimate of the server's clock, fed with the times in its replies. Serialisable,
/// so the extension's service worker can keep it across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerClock {
    samples: Vec<Sample>,
}

impl ServerClock {
    /// A clock with no samples: [`ServerClock::server_now`] answers the local time
    /// with no bound.
    pub fn new() -> ServerClock {
        ServerClock::default()
    }

    /// Feeds a `Date` header value of a reply to a request sent at local `sent_ms`
    /// and received at local `received_ms`.
    pub fn observe_date_header(
        &mut self,
        sent_ms: i64,
        received_ms: i64,
        date: &str,
    ) -> Result<(), ClockError> {
        let server = parse_http_date(date)?;
        self.observe(sent_ms, received_ms, server, DATE_HEADER_RESOLUTION_MS)
    }

    /// Feeds a millisecond server timestamp from a reply body (114yygh `fhTimestamp`).
    pub fn observe_timestamp(
        &mut self,
        sent_ms: i64,
        received_ms: i64,
        server_ms: i64,
    ) -> Result<(), ClockError> {
        self.observe(sent_ms, received_ms, server_ms, 1)
    }

    /// Feeds the `Date` header of `response`, if it has one.
    pub fn observe_response(
        &mut self,
        sent_ms: i64,
        received_ms: i64,
        response: &HttpResponse,
    ) -> Result<(), ClockError> {
        let date = response.header("Date").ok_or(ClockError::NoDateHeader)?;
        self.observe_date_header(sent_ms, received_ms, date)
    }

    /// Feeds a server reading `server_ms` with resolution `resolution_ms` (the true
    /// server time was in `[server_ms, server_ms + resolution_ms)`).
    pub fn observe(
        &mut self,
        sent_ms: i64,
        received_ms: i64,
        server_ms: i64,
        resolution_ms: i64,
    ) -> Result<(), ClockError> {
        if received_ms < sent_ms || received_ms - sent_ms > MAX_ROUND_TRIP_MS {
            return Err(ClockError::RoundTrip {
                sent_ms,
                received_ms,
            });
        }
        let sample = Sample {
            lo: server_ms - received_ms,
            hi: server_ms + resolution_ms.max(1) - 1 - sent_ms,
            at: received_ms,
        };
        self.samples
            .retain(|s| (received_ms - s.at).abs() <= MAX_SAMPLE_AGE_MS);
        self.samples.push(sample);
        if self.samples.len() > MAX_SAMPLES {
            // Keep the newest.
            self.samples.sort_by_key(|s| s.at);
            let extra = self.samples.len() - MAX_SAMPLES;
            self.samples.drain(..extra);
        }
        self.reanchor(received_ms);
        Ok(())
    }

    /// Forgets every sample (e.g. when the site's base URL changed).
    pub fn reset(&mut self) {
        self.samples.clear();
    }

    /// How many samples are kept.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// The estimate as of local time `now_ms`, or `None` with no usable sample.
    pub fn estimate(&self, now_ms: i64) -> Option<Estimate> {
        let usable: Vec<(i64, i64, i64)> = self
            .samples
            .iter()
            .filter(|s| (now_ms - s.at).abs() <= MAX_SAMPLE_AGE_MS)
            .map(|s| {
                let (lo, hi) = s.widened(now_ms);
                (lo, hi, s.at)
            })
            .collect();
        let (lo, hi, agreeing) = best_agreement(&usable)?;
        Some(Estimate {
            offset_ms: lo + (hi - lo) / 2,
            bound_ms: ((hi - lo + 1) / 2) as u64,
            agreeing,
            usable: usable.len(),
        })
    }

    /// The server's time at local `local_ms`: the estimate and its `±` bound in ms;
    /// `(local_ms, None)` when nothing is known about the server's clock.
    pub fn server_now(&self, local_ms: i64) -> (i64, Option<u64>) {
        match self.estimate(local_ms) {
            Some(e) => (local_ms + e.offset_ms, Some(e.bound_ms)),
            None => (local_ms, None),
        }
    }

    /// The date in Beijing on the server's clock at local `local_ms`.
    pub fn beijing_today(&self, local_ms: i64) -> crate::date::Date {
        crate::date::Date::from_unix_ms(
            self.server_now(local_ms).0,
            crate::schedule::BEIJING_OFFSET_MIN,
        )
    }

    /// The local time at which the server's clock will read `server_ms` (by the
    /// estimate as of the newest sample; the local time itself with no sample).
    pub fn local_for(&self, server_ms: i64) -> i64 {
        let newest = self.samples.iter().map(|s| s.at).max();
        match newest.and_then(|at| self.estimate(at)) {
            Some(e) => server_ms - e.offset_ms,
            None => server_ms,
        }
    }

    /// Drops the older samples when the newest [`REANCHOR_STREAK`] agree with each
    /// other and every one of them contradicts the older samples' consensus.
    fn reanchor(&mut self, now: i64) {
        let n = self.samples.len();
        if n <= REANCHOR_STREAK {
            return;
        }
        self.samples.sort_by_key(|s| s.at);
        let widen = |s: &Sample| {
            let (lo, hi) = s.widened(now);
            (lo, hi, s.at)
        };
        let old: Vec<_> = self.samples[..n - REANCHOR_STREAK]
            .iter()
            .map(widen)
            .collect();
        let new: Vec<_> = self.samples[n - REANCHOR_STREAK..]
            .iter()
            .map(widen)
            .collect();
        let (Some((olo, ohi, _)), Some((_, _, agree))) =
            (best_agreement(&old), best_agreement(&new))
        else {
            return;
        };
        let all_contradict = new.iter().all(|&(lo, hi, _)| hi < olo || lo > ohi);
        if agree == REANCHOR_STREAK && all_contradict {
            self.samples.drain(..n - REANCHOR_STREAK);
        }
    }
}

/// Marzullo's algorithm on inclusive intervals `(lo, hi, at)`: the intersection of
/// the largest set of intervals with a common point, as `(lo, hi, set size)`. Ties go
/// to the set holding the newest sample, then to the narrowest intersection.
fn best_agreement(intervals: &[(i64, i64, i64)]) -> Option<(i64, i64, usize)> {
    let mut best: Option<(usize, i64, i64, i64)> = None; // (count, newest, lo, hi)
    for &(point, _, _) in intervals {
        let members = intervals
            .iter()
            .filter(|&&(lo, hi, _)| lo <= point && point <= hi);
        let (mut lo, mut hi, mut count, mut newest) = (i64::MIN, i64::MAX, 0, i64::MIN);
        for &(l, h, at) in members {
            lo = lo.max(l);
            hi = hi.min(h);
            count += 1;
            newest = newest.max(at);
        }
        let better = match best {
            None => true,
            Some((c, n, blo, bhi)) => (count, newest, -(hi - lo)) > (c, n, -(bhi - blo)),
        };
        if better {
            best = Some((count, newest, lo, hi));
        }
    }
    best.map(|(count, _, lo, hi)| (lo, hi, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of units in [0, 1).
    struct Units(u64);
    impl Units {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Formats Unix ms as an IMF-fixdate (truncating to the second), as a server does.
    fn http_date(ms: i64) -> String {
        let days = ms.div_euclid(86_400_000);
        let secs = ms.rem_euclid(86_400_000) / 1_000;
        let d = Date::from_days(days);
        let weekday = DAY_NAMES[(days + 3).rem_euclid(7) as usize]; // 1970-01-01 was a Thursday
        format!(
            "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            d.day,
            MONTH_NAMES[usize::from(d.month) - 1],
            d.year,
            secs / 3_600,
            secs / 60 % 60,
            secs % 60
        )
    }

    const NOV27_0600Z: i64 = 1_795_759_200_000; // 2026-11-27T06:00:00Z

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            parse_http_date("Fri, 27 Nov 2026 06:00:00 GMT"),
            Ok(NOV27_0600Z)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Ok(784_111_777_000)
        );
        assert_eq!(
            http_date(NOV27_0600Z + 999),
            "Fri, 27 Nov 2026 06:00:00 GMT"
        );
        for ms in [0_i64, 951_782_400_000, NOV27_0600Z, 4_102_444_799_000] {
            assert_eq!(parse_http_date(&http_date(ms)), Ok(ms), "{}", http_date(ms));
        }
    }

    #[test]
    fn refuses_obsolete_and_bad_dates() {
        for obsolete in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert!(
                matches!(parse_http_date(obsolete), Err(ClockError::ObsoleteDate(_))),
                "{obsolete}"
            );
        }
        for bad in [
            "",
            "Fri, 27 Nov 2026 06:00:00 UTC",
            "Fri, 27 Nov 2026 06:00:00 +0800",
            "Fri, 31 Nov 2026 06:00:00 GMT",
            "Fri, 27 Xyz 2026 06:00:00 GMT",
            "Fri, 27 Nov 2026 24:00:00 GMT",
            "Fri, 27 Nov 2026 06:0a:00 GMT",
            "Fri, 27 Nov 2026 06:00:00 GMT!",
            "Frx, 27 Nov 2026 06:00:00 GMT",
            "1795759200000",
        ] {
            assert!(
                matches!(parse_http_date(bad), Err(ClockError::BadDate(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn one_sample_bounds_by_half_the_round_trip_plus_the_resolution() {
        let mut c = ServerClock::new();
        assert_eq!(c.server_now(5), (5, None));
        // Sent at 0, received at 200; the server said 06:00:00 (so 06:00:00.000–.999).
        c.observe_date_header(0, 200, "Fri, 27 Nov 2026 06:00:00 GMT")
            .unwrap();
        let e = c.estimate(200).unwrap();
        // offset ∈ [T − 200, T + 999]: midpoint T + 399, half-width 600.
        assert_eq!(e.offset_ms, NOV27_0600Z + 399);
        assert_eq!(e.bound_ms, 600);
        let (now, bound) = c.server_now(200);
        assert_eq!((now, bound), (NOV27_0600Z + 599, Some(600)));
        assert_eq!(c.local_for(NOV27_0600Z + 599), 200);
        // A millisecond timestamp bounds by half the round trip.
        let mut c = ServerClock::new();
        c.observe_timestamp(1_000, 1_040, 50_020).unwrap();
        assert_eq!(c.estimate(1_040).unwrap().bound_ms, 20);
        assert_eq!(c.estimate(1_040).unwrap().offset_ms, 49_000);
    }

    #[test]
    fn unusable_round_trips_are_refused() {
        let mut c = ServerClock::new();
        assert!(matches!(
            c.observe_timestamp(100, 50, 0),
            Err(ClockError::RoundTrip { .. })
        ));
        assert!(c.observe_timestamp(0, MAX_ROUND_TRIP_MS + 1, 0).is_err());
        assert!(matches!(
            c.observe_response(0, 10, &HttpResponse::new(200, "")),
            Err(ClockError::NoDateHeader)
        ));
        let r = HttpResponse::new(200, "").with_header("date", "Fri, 27 Nov 2026 06:00:00 GMT");
        c.observe_response(0, 10, &r).unwrap();
        assert_eq!(c.sample_count(), 1);
    }

    /// Simulates polling a server whose clock is `offset` ahead of ours, with round
    /// trips of 40–120 ms, and feeds its `Date` headers.
    fn feed_dates(c: &mut ServerClock, u: &mut Units, offset: i64, start: i64, n: usize) -> i64 {
        let mut t = start;
        for _ in 0..n {
            t += 15_000 + (u.next() * 7_000.0) as i64; // jittered polls, random sub-second phase
            let rtt = 40 + (u.next() * 80.0) as i64;
            let at_server = t + (u.next() * rtt as f64) as i64 + offset;
            c.observe_date_header(t, t + rtt, &http_date(at_server))
                .unwrap();
            t += rtt;
        }
        t
    }

    #[test]
    fn date_headers_converge_with_several_samples() {
        let offset = 5_321; // the server is 5.321 s ahead
        let mut u = Units(0x9e37_79b9_7f4a_7c15);
        let mut c = ServerClock::new();
        let t = feed_dates(&mut c, &mut u, offset, NOV27_0600Z, 1);
        let first = c.estimate(t).unwrap();
        assert!(first.bound_ms >= 500, "{first:?}");
        assert!((first.offset_ms - offset).unsigned_abs() <= first.bound_ms);
        let t = feed_dates(&mut c, &mut u, offset, t, 15);
        let e = c.estimate(t).unwrap();
        assert_eq!(e.agreeing, 16);
        assert!(e.bound_ms <= 120, "{e:?}");
        assert!(
            (e.offset_ms - offset).unsigned_abs() <= e.bound_ms,
            "{e:?} vs {offset}"
        );
        let (now, bound) = c.server_now(t);
        assert!((now - (t + offset)).unsigned_abs() <= bound.unwrap());
    }

    #[test]
    fn outliers_are_outvoted_and_old_samples_forgotten() {
        let offset = -2_500;
        let mut u = Units(7);
        let mut c = ServerClock::new();
        let t = feed_dates(&mut c, &mut u, offset, NOV27_0600Z, 6);
        // A cached reply carrying a Date a minute old.
        c.observe_date_header(t, t + 50, &http_date(t + offset - 60_000))
            .unwrap();
        let t = feed_dates(&mut c, &mut u, offset, t + 50, 2);
        let e = c.estimate(t).unwrap();
        assert_eq!((e.agreeing, e.usable), (8, 9));
        assert!((e.offset_ms - offset).unsigned_abs() <= e.bound_ms, "{e:?}");
        // Three hours later nothing is usable any more.
        assert_eq!(c.estimate(t + 3 * 3_600_000), None);
        assert_eq!(c.server_now(t + 3 * 3_600_000).1, None);
        // And a new sample evicts the stale ones.
        c.observe_timestamp(t + 3 * 3_600_000, t + 3 * 3_600_000 + 30, 0)
            .unwrap();
        assert_eq!(c.sample_count(), 1);
    }

    #[test]
    fn aging_widens_the_bound() {
        let mut c = ServerClock::new();
        c.observe_timestamp(0, 40, 1_000_020).unwrap();
        let fresh = c.estimate(40).unwrap().bound_ms;
        let hour = c.estimate(40 + 3_600_000).unwrap().bound_ms;
        assert_eq!(hour - fresh, 180); // 50 ppm of an hour
    }

    #[test]
    fn a_stepped_local_clock_is_followed_after_a_streak() {
        let mut u = Units(42);
        let mut c = ServerClock::new();
        let t = feed_dates(&mut c, &mut u, 1_000, NOV27_0600Z, 8);
        // The local clock is stepped 30 s forward: the offset is now 1 000 − 30 000.
        let t = feed_dates(&mut c, &mut u, -29_000, t + 30_000, 2);
        let e = c.estimate(t).unwrap();
        assert!(
            (e.offset_ms - 1_000).unsigned_abs() <= e.bound_ms,
            "still old: {e:?}"
        );
        let t = feed_dates(&mut c, &mut u, -29_000, t, 1);
        assert_eq!(c.sample_count(), REANCHOR_STREAK);
        let e = c.estimate(t).unwrap();
        assert!((e.offset_ms + 29_000).unsigned_abs() <= e.bound_ms, "{e:?}");
    }

    #[test]
    fn the_clock_survives_a_json_round_trip() {
        let mut c = ServerClock::new();
        c.observe_timestamp(0, 40, 1_000_020).unwrap();
        let v = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ServerClock>(&v).unwrap(), c);
    }
}
