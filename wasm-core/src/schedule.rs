//! When to poll next: one [`Planner`] per watch, one [`AccountPacer`] per account.
//!
//! This is where the conduct rule of the design ("every poll interval has a floor and
//! random jitter; 429/403/5xx and 'too frequent' answers back off exponentially; a
//! burst near a known release time is short and bounded") is enforced. The numbers:
//!
//! - **Normal pace**: [`Interval::next_delay_ms`] — the watch's interval ± its jitter,
//!   never below [`Platform::poll_floor_secs`], measured from the previous request.
//! - **Far from a release** (more than [`FAR_FROM_RELEASE_MS`] = 30 min before the next
//!   known release on the server's clock): the normal delay × [`FAR_SLOWDOWN`] (4),
//!   at most [`FAR_MAX_DELAY_MS`] (10 min) unless the watch's own interval is longer,
//!   and never sleeping past the 30-minute mark.
//! - **Burst around a release** at server instant `R`, with the clock's error bound `b`
//!   (capped at [`BURST_MAX_BOUND_MS`]): two polls before (`R − 2 s − b`, then half-way)
//!   — for 12306, whose clock is only the 1-second `Date` header, polls on whole
//!   seconds of the server's clock from about `R − 6 s − b` instead, each halving `b`,
//!   until `b` is small (see [`BURST_SYNC_ENOUGH_MS`]) — then one sent at `R + b + 20 ms` (so it is sent after `R` whatever the true offset within
//!   the bound, and reaches the server one network hop later), then polls every 1–1.5 s; at most [`BURST_MAX_POLLS`] (8) polls, none
//!   later than [`BURST_TAIL_MS`] (8 s) after the aimed one, never closer together than
//!   [`BURST_MIN_SPACING_MS`] (1 s). So a burst is ≤ 8 requests within ≤ 15 s + 2b
//!   (≤ 32 s), once per release. Any refusal during a burst ends it.
//! - **Backoff** after a 403/429/5xx, a "too frequent" body, a network failure or any
//!   other failed request: `max(60 s, interval)` × 1, 2, 4, … plus up to 25 % jitter,
//!   never more than [`BACKOFF_MAX_MS`] (30 min); one success resets it. No burst
//!   happens while backing off.
//! - **Stop** once the watch's last date has passed on the Beijing calendar of the
//!   server's clock, or once the watch is done.
//! - **Per account**: an [`AccountPacer`] keeps every request of one account (all its
//!   watches) at least [`ACCOUNT_MIN_SPACING_MS`] apart.
//!
//! Sans-IO: the caller passes local times and random units in `[0, 1)`, feeds the
//! server clock with every reply, and sleeps until `Plan::at_ms` itself.

use crate::clock::ServerClock;
use crate::date::Date;
use crate::http::RetryClass;
use crate::watch::{Interval, Platform};
use serde::{Deserialize, Serialize};

/// China Standard Time, in minutes east of UTC (no daylight saving).
pub const BEIJING_OFFSET_MIN: i32 = 480;

/// Farther than this before the next release (server clock), the pace slows.
pub const FAR_FROM_RELEASE_MS: i64 = 30 * 60_000;
/// How much slower the pace is far from a release.
pub const FAR_SLOWDOWN: u64 = 4;
/// The slow pace's longest delay (a longer interval of the watch's own is kept).
pub const FAR_MAX_DELAY_MS: u64 = 10 * 60_000;

/// The first burst poll is this long before the release, plus the clock's bound.
pub const BURST_LEAD_MS: i64 = 2_000;
/// The aimed poll is this long after the release plus the clock's bound.
pub const BURST_AIM_AFTER_MS: i64 = 20;
/// Polls within a burst are never closer together than this.
pub const BURST_MIN_SPACING_MS: i64 = 1_000;
/// Random extra spacing of the polls after the aimed one (0 to this).
pub const BURST_SPACING_JITTER_MS: f64 = 500.0;
/// The most polls of one burst.
pub const BURST_MAX_POLLS: u32 = 8;
/// No burst poll later than this after the aimed poll.
pub const BURST_TAIL_MS: i64 = 8_000;
/// The clock's error bound taken into account at most (a worse clock still bursts,
/// but no longer); a clock with no estimate at all counts as this.
pub const BURST_MAX_BOUND_MS: i64 = 10_000;

/// The first backoff delay, unless the watch's interval is longer.
pub const BACKOFF_BASE_MS: u64 = 60_000;
/// Random extra backoff, as a fraction of the nominal delay.
pub const BACKOFF_JITTER: f64 = 0.25;
/// No backoff delay is longer than this (jitter included).
pub const BACKOFF_MAX_MS: u64 = 30 * 60_000;

/// Default least spacing of two requests of the same account, across its watches.
pub const ACCOUNT_MIN_SPACING_MS: u64 = 1_000;

/// Why a release rule was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a time of day of the form HH:MM")]
pub struct ReleaseRuleError(pub String);

/// When new slots or tickets are released, on the server's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseRule {
    /// Every day at this Beijing time, in minutes after midnight (114yygh
    /// `openTimeView`, a 12306 station's daily sale time).
    DailyBeijing { minute_of_day: u16 },
    /// Once, at this server instant (Unix ms).
    At { server_ms: i64 },
}

impl ReleaseRule {
    /// A daily release at `"HH:MM"` (or `"H:MM"`) Beijing time, as 114yygh's
    /// `openTimeView` says it.
    pub fn daily(hh_mm: &str) -> Result<ReleaseRule, ReleaseRuleError> {
        let t = hh_mm.trim();
        let bad = || ReleaseRuleError(hh_mm.to_string());
        let (h, m) = t.split_once(':').ok_or_else(bad)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(ReleaseRule::DailyBeijing {
            minute_of_day: h * 60 + m,
        })
    }

    /// The releases around server time `server_ms`, earliest first.
    fn candidates(self, server_ms: i64) -> Vec<i64> {
        match self {
            ReleaseRule::At { server_ms } => vec![server_ms],
            ReleaseRule::DailyBeijing { minute_of_day } => {
                let today = Date::from_unix_ms(server_ms, BEIJING_OFFSET_MIN).to_days();
                (today - 1..=today + 1)
                    .map(|d| {
                        d * 86_400_000 + i64::from(minute_of_day) * 60_000
                            - i64::from(BEIJING_OFFSET_MIN) * 60_000
                    })
                    .collect()
            }
        }
    }
}

/// Why the watch stops polling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The watch's last date has passed (Beijing calendar, server clock).
    WindowEnded,
    /// The watch found or booked what it was for, or was told to stop.
    Done,
}

/// Why the next poll is when it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The watch's interval with jitter, at or above the platform's floor.
    Normal,
    /// Slower: the next release is far away.
    SlowFar,
    /// Part of the bounded burst around the release at `release_server_ms`.
    Burst { release_server_ms: i64 },
    /// Backing off after `attempt` refusals or failures in a row.
    Backoff { attempt: u32 },
    /// Do not poll again.
    Stop { why: StopReason },
}

/// The next poll: at local time `at_ms` (Unix ms), for `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub at_ms: i64,
    pub reason: Reason,
}

/// How a poll went, as far as pacing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The site answered normally (whatever the answer said about slots).
    Ok,
    /// 403/429/5xx, or a body saying "too frequent" (操作频繁 and the like).
    Throttled,
    /// No answer (network error, timeout) or an answer retrying cannot fix; backed off
    /// the same way — the caller decides whether to give up.
    Failed,
}

impl From<RetryClass> for Outcome {
    fn from(c: RetryClass) -> Outcome {
        match c {
            RetryClass::Ok => Outcome::Ok,
            RetryClass::Backoff => Outcome::Throttled,
            RetryClass::Fatal => Outcome::Failed,
        }
    }
}

impl Outcome {
    /// The outcome of an HTTP exchange whose body the adapter read; `too_frequent`
    /// when it says the user polls too often even with a 200.
    pub fn of(class: RetryClass, too_frequent: bool) -> Outcome {
        match (Outcome::from(class), too_frequent) {
            (Outcome::Ok, true) => Outcome::Throttled,
            (o, _) => o,
        }
    }
}

/// The poll planner of one watch. Serialisable, so it survives a service-worker
/// restart in `chrome.storage.session` or the host's store.
///
/// Use: `let p = planner.next(now, &clock, unit)`; sleep until `p.at_ms`; send the
/// request (through the account's [`AccountPacer`]); feed the reply's time to the
/// clock; `planner.on_response(sent_ms, outcome)`; repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Planner {
    platform: Platform,
    interval: Interval,
    release: Option<ReleaseRule>,
    window_end: Date,
    /// Refusals or failures in a row.
    attempt: u32,
    /// Local time the last request was sent.
    last_sent_ms: Option<i64>,
    /// The release whose burst is under way, and its polls so far.
    burst_release: Option<i64>,
    burst_polls: u32,
    /// The latest release whose burst is over.
    burst_done: Option<i64>,
    /// The reason of the last plan handed out, until its response arrives.
    pending: Option<Reason>,
    /// The last plan handed out, kept until its poll's response (or a new release
    /// rule): asking again when it is due gives the same plan, instead of planning
    /// afresh a millisecond after its instant (which would skip a burst poll) or with a
    /// new jitter draw (which would stretch every interval).
    #[serde(default)]
    held: Option<Plan>,
    done: bool,
}

impl Planner {
    /// A planner for a watch on `platform` polled every `interval`, whose slots are
    /// released by `release` (if known), looking at dates up to `window_end`.
    pub fn new(
        platform: Platform,
        interval: Interval,
        release: Option<ReleaseRule>,
        window_end: Date,
    ) -> Planner {
        Planner {
            platform,
            interval,
            release,
            window_end,
            attempt: 0,
            last_sent_ms: None,
            burst_release: None,
            burst_polls: 0,
            burst_done: None,
            pending: None,
            held: None,
            done: false,
        }
    }

    /// Sets (or forgets) the release rule, e.g. once the hospital's `openTimeView` is known.
    pub fn set_release(&mut self, release: Option<ReleaseRule>) {
        if self.release != release {
            self.held = None;
        }
        self.release = release;
    }

    /// Marks the watch done: every later plan is `Stop`.
    pub fn finish(&mut self) {
        self.done = true;
        self.held = None;
    }

    /// Refusals or failures in a row so far.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Records a request sent at local `sent_ms` and how it went.
    pub fn on_response(&mut self, sent_ms: i64, outcome: Outcome) {
        self.held = None;
        self.last_sent_ms = Some(self.last_sent_ms.map_or(sent_ms, |l| l.max(sent_ms)));
        let burst = match self.pending.take() {
            Some(Reason::Burst { release_server_ms }) => Some(release_server_ms),
            _ => None,
        };
        if let Some(r) = burst {
            if self.burst_release != Some(r) {
                self.burst_release = Some(r);
                self.burst_polls = 0;
            }
            self.burst_polls += 1;
            if self.burst_polls >= BURST_MAX_POLLS {
                self.end_burst(r);
            }
        }
        match outcome {
            Outcome::Ok => self.attempt = 0,
            Outcome::Throttled | Outcome::Failed => {
                self.attempt = self.attempt.saturating_add(1).min(64);
                if let Some(r) = burst.or(self.burst_release) {
                    self.end_burst(r);
                }
            }
        }
    }

    fn end_burst(&mut self, release: i64) {
        self.burst_done = Some(self.burst_done.map_or(release, |d| d.max(release)));
        self.burst_release = None;
        self.burst_polls = 0;
    }

    /// The backoff delay for `attempt` (≥ 1) refusals in a row and a random `unit`.
    pub fn backoff_delay_ms(&self, attempt: u32, unit: f64) -> u64 {
        let base = BACKOFF_BASE_MS.max(u64::from(self.interval.seconds) * 1_000);
        let ceiling = (BACKOFF_MAX_MS as f64 / (1.0 + BACKOFF_JITTER)) as u64;
        let doublings = attempt.saturating_sub(1).min(20);
        let nominal = base.saturating_mul(1 << doublings).min(ceiling);
        let jitter = 1.0 + BACKOFF_JITTER * unit_or_half(unit);
        ((nominal as f64 * jitter).round() as u64).min(BACKOFF_MAX_MS)
    }

    /// The next poll as of local time `now_ms`, with the server clock's estimate and
    /// a random `unit` in `[0, 1)`.
    pub fn next(&mut self, now_ms: i64, clock: &ServerClock, unit: f64) -> Plan {
        if let Some(held) = self.held {
            if !self.done && !self.window_ended(now_ms, clock) {
                return held;
            }
            self.held = None;
        }
        let plan = self.plan(now_ms, clock, unit);
        self.pending = Some(plan.reason);
        if !matches!(plan.reason, Reason::Stop { .. }) {
            self.held = Some(plan);
        }
        plan
    }

    fn plan(&mut self, now: i64, clock: &ServerClock, unit: f64) -> Plan {
        let stop = |why| Plan {
            at_ms: now,
            reason: Reason::Stop { why },
        };
        if self.done {
            return stop(StopReason::Done);
        }
        if self.window_ended(now, clock) {
            return stop(StopReason::WindowEnded);
        }
        let est = clock.estimate(now);
        let offset = est.map_or(0, |e| e.offset_ms);
        let server_now = now + offset;
        let after = |ms: i64| self.last_sent_ms.map_or(now, |l| (l + ms).max(now));

        let normal_delay = self.interval.next_delay_ms(self.platform, unit);
        if self.attempt > 0 {
            // Never sooner than the slow pace the watch keeps far from a release anyway.
            let mut at = after(self.backoff_delay_ms(self.attempt, unit) as i64);
            if let Some(release) = self.next_release(server_now, BURST_MAX_BOUND_MS) {
                let near = release - FAR_FROM_RELEASE_MS;
                if server_now < near {
                    at = at.max(after(self.slow_delay_ms(normal_delay) as i64).min(near - offset));
                }
            }
            return Plan {
                at_ms: at,
                reason: Reason::Backoff {
                    attempt: self.attempt,
                },
            };
        }

        let normal_at = after(normal_delay as i64);
        let bound = est.map_or(BURST_MAX_BOUND_MS, |e| {
            (e.bound_ms as i64).min(BURST_MAX_BOUND_MS)
        });
        let Some(release) = self.next_release(server_now, bound) else {
            return Plan {
                at_ms: normal_at,
                reason: Reason::Normal,
            };
        };
        let burst = BurstShape::new(release, bound, self.sync_polls(bound));
        let to_local = |server: i64| server - offset;

        if normal_at + offset >= burst.start - BURST_MIN_SPACING_MS {
            if let Some(at_server) = self.burst_poll(&burst, server_now, offset, unit) {
                return Plan {
                    at_ms: to_local(at_server),
                    reason: Reason::Burst {
                        release_server_ms: release,
                    },
                };
            }
            // The burst is spent (or was missed): back to the normal pace.
            self.end_burst(release);
            return self.plan(now, clock, unit);
        }

        let near = release - FAR_FROM_RELEASE_MS;
        if server_now < near {
            let slow = self.slow_delay_ms(normal_delay);
            let at = after(slow as i64).min(to_local(near)).max(normal_at);
            return Plan {
                at_ms: at,
                reason: Reason::SlowFar,
            };
        }
        Plan {
            at_ms: normal_at,
            reason: Reason::Normal,
        }
    }

    /// Whether a burst with the clock's bound `bound` first polls on whole seconds to
    /// shrink it: 12306, whose only clock is the 1-second `Date` header (114yygh's
    /// replies carry milliseconds, and it allows fewer requests).
    fn sync_polls(&self, bound: i64) -> bool {
        self.platform == Platform::Rail12306 && bound > BURST_SYNC_ENOUGH_MS
    }

    /// Whether the window has surely ended: the earliest the server's clock can read
    /// is past the last day.
    fn window_ended(&self, now: i64, clock: &ServerClock) -> bool {
        let est = clock.estimate(now);
        let sure = now + est.map_or(0, |e| e.offset_ms) - est.map_or(0, |e| e.bound_ms as i64);
        Date::from_unix_ms(sure, BEIJING_OFFSET_MIN) > self.window_end
    }

    /// The slow pace far from a release, for a normal delay of `normal_delay` ms.
    fn slow_delay_ms(&self, normal_delay: u64) -> u64 {
        let own = u64::from(self.interval.seconds) * 1_000;
        normal_delay
            .saturating_mul(FAR_SLOWDOWN)
            .min(FAR_MAX_DELAY_MS.max(own))
            .max(normal_delay)
    }

    /// The next release whose burst is not over yet (server ms).
    fn next_release(&self, server_now: i64, bound: i64) -> Option<i64> {
        self.release?
            .candidates(server_now)
            .into_iter()
            .filter(|&r| self.burst_done.is_none_or(|d| r > d))
            .find(|&r| server_now <= BurstShape::new(r, bound, self.sync_polls(bound)).end)
    }

    /// The server time of the next poll of `burst`, or `None` when it is over.
    fn burst_poll(
        &self,
        burst: &BurstShape,
        server_now: i64,
        offset: i64,
        unit: f64,
    ) -> Option<i64> {
        let polls = if self.burst_release == Some(burst.release) {
            self.burst_polls
        } else {
            0
        };
        if polls >= BURST_MAX_POLLS {
            return None;
        }
        let last_server = self.last_sent_ms.map(|l| l + offset);
        let earliest =
            last_server.map_or(server_now, |l| (l + BURST_MIN_SPACING_MS).max(server_now));
        let at = match burst.fixed.iter().find(|&&t| t >= earliest) {
            // Joining a burst already under way: the first poll goes at once.
            Some(_) if polls == 0 && earliest > burst.start => earliest,
            Some(&t) => t,
            None => {
                let gap =
                    BURST_MIN_SPACING_MS + (BURST_SPACING_JITTER_MS * unit_or_half(unit)) as i64;
                last_server.map_or(server_now, |l| (l + gap).max(server_now))
            }
        };
        (at <= burst.end).then_some(at)
    }
}

/// A burst's instants on the server's clock.
struct BurstShape {
    release: i64,
    /// The first poll.
    start: i64,
    /// The instants a poll may go at before the release, then the aimed one (just
    /// after the release whatever the clock's error).
    fixed: Vec<i64>,
    /// No poll after this.
    end: i64,
}

/// Polls of a burst before its release go on whole seconds of the server's clock as
/// estimated, so each reply's `Date` tells on which side of the estimate the true clock
/// is: the error bound halves with each (±500 → ±250 → … ms). They go on (≥ 1 s apart,
/// within the burst's cap) until the bound is this small; then the aimed poll, which
/// can be that much closer to the release.
pub const BURST_SYNC_ENOUGH_MS: i64 = 40;

impl BurstShape {
    /// The burst around `release` with the clock's bound `bound`; `sync`: poll on the
    /// server's whole seconds before it to shrink the bound (see
    /// [`BURST_SYNC_ENOUGH_MS`]), else two polls before it (`R − 2 s − b`, half-way).
    fn new(release: i64, bound: i64, sync: bool) -> BurstShape {
        let aim = release + bound + BURST_AIM_AFTER_MS;
        let mut fixed: Vec<i64> = if sync {
            // Whole seconds from a few before the lead, before the release and ≥ 1 s
            // before the aim: room for the sync polls even when one goes late.
            let lead = release - BURST_LEAD_MS - bound - 4_000;
            let first = lead.div_euclid(1_000) * 1_000;
            (0..)
                .map(|i| first + i * 1_000)
                .take_while(|t| *t <= (aim - BURST_MIN_SPACING_MS).min(release - 1))
                .collect()
        } else {
            let start = release - BURST_LEAD_MS - bound;
            vec![start, start + (aim - start) / 2]
        };
        let start = fixed.first().copied().unwrap_or(aim);
        fixed.push(aim);
        BurstShape {
            release,
            start,
            fixed,
            end: aim + BURST_TAIL_MS,
        }
    }
}

fn unit_or_half(unit: f64) -> f64 {
    if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// Keeps all requests of one account at least `min_spacing_ms` apart, whichever of the
/// account's watches sends them (12306: one session, many watches).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPacer {
    min_spacing_ms: u64,
    /// The local time of the latest request sent or slot reserved.
    last_ms: Option<i64>,
}

impl AccountPacer {
    /// A pacer with the default spacing ([`ACCOUNT_MIN_SPACING_MS`]).
    pub fn new() -> AccountPacer {
        AccountPacer::with_spacing(ACCOUNT_MIN_SPACING_MS)
    }

    /// A pacer with spacing `min_spacing_ms` (at least the burst spacing, 1 s).
    pub fn with_spacing(min_spacing_ms: u64) -> AccountPacer {
        AccountPacer {
            min_spacing_ms: min_spacing_ms.max(BURST_MIN_SPACING_MS as u64),
            last_ms: None,
        }
    }

    /// The earliest local time at or after `wanted_ms` a request may go, without
    /// reserving it.
    pub fn earliest(&self, wanted_ms: i64) -> i64 {
        self.last_ms
            .map_or(wanted_ms, |l| wanted_ms.max(l + self.min_spacing_ms as i64))
    }

    /// Reserves the earliest slot at or after `wanted_ms` and returns it; later
    /// reservations queue behind it. An abandoned reservation only wastes a slot.
    pub fn reserve(&mut self, wanted_ms: i64) -> i64 {
        let at = self.earliest(wanted_ms);
        self.last_ms = Some(at);
        at
    }

    /// At the moment of sending: `Ok` (and recorded) when a request may go at
    /// `now_ms`, else `Err(local time to try again)`.
    pub fn try_acquire(&mut self, now_ms: i64) -> Result<(), i64> {
        let at = self.earliest(now_ms);
        if at > now_ms {
            return Err(at);
        }
        self.last_ms = Some(now_ms);
        Ok(())
    }
}

impl Default for AccountPacer {
    fn default() -> Self {
        AccountPacer::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Units(u64);
    impl Units {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// Server ms of a Beijing wall-clock time.
    fn beijing(day: &str, h: i64, m: i64, s: i64) -> i64 {
        date(day).to_days() * 86_400_000 + ((h - 8) * 3_600 + m * 60 + s) * 1_000
    }

    fn interval(seconds: u32, jitter_pct: u8) -> Interval {
        Interval {
            seconds,
            jitter_pct,
        }
    }

    /// A simulated site whose clock is `skew` ms ahead of ours, answering in `rtt` ms
    /// with a millisecond timestamp (114 `fhTimestamp`) stamped half-way.
    struct Sim {
        skew: i64,
        rtt: i64,
        clock: ServerClock,
        sent: Vec<(i64, Reason)>,
        /// The clock's bound when each poll was planned.
        bounds: Vec<i64>,
        /// Feed `Date` headers (1 s resolution) instead of ms timestamps.
        date_headers: bool,
    }

    impl Sim {
        fn new(skew: i64, rtt: i64) -> Sim {
            Sim {
                skew,
                rtt,
                clock: ServerClock::new(),
                sent: Vec::new(),
                bounds: Vec::new(),
                date_headers: false,
            }
        }

        /// Runs `p` from local `now` until local `until` (or a stop), every poll
        /// answered with `outcome(i)`.
        fn run(
            &mut self,
            p: &mut Planner,
            mut now: i64,
            until: i64,
            u: &mut Units,
            outcome: impl Fn(usize, Reason) -> Outcome,
        ) -> i64 {
            loop {
                let plan = p.next(now, &self.clock, u.next());
                assert!(plan.at_ms >= now, "{plan:?} before {now}");
                if matches!(plan.reason, Reason::Stop { .. }) || plan.at_ms > until {
                    return now;
                }
                let sent = plan.at_ms;
                self.sent.push((sent, plan.reason));
                let bound = self.clock.estimate(now).map_or(-1, |e| e.bound_ms as i64);
                self.bounds.push(bound);
                let server = sent + self.rtt / 2 + self.skew;
                if self.date_headers {
                    let date = http_date(server);
                    self.clock
                        .observe_date_header(sent, sent + self.rtt, &date)
                        .unwrap();
                } else {
                    self.clock
                        .observe_timestamp(sent, sent + self.rtt, server)
                        .unwrap();
                }
                p.on_response(sent, outcome(self.sent.len() - 1, plan.reason));
                now = sent + self.rtt;
            }
        }
    }

    #[test]
    fn release_rules_parse() {
        assert_eq!(
            ReleaseRule::daily("08:30"),
            Ok(ReleaseRule::DailyBeijing { minute_of_day: 510 })
        );
        assert_eq!(
            ReleaseRule::daily("7:00"),
            Ok(ReleaseRule::DailyBeijing { minute_of_day: 420 })
        );
        for bad in [
            "24:00", "08:60", "0830", "08:3", "", "a8:30", "08:30:00", "-1:00",
        ] {
            assert!(ReleaseRule::daily(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normal_polls_respect_the_floor_and_jitter_over_many_draws() {
        let mut u = Units(0x1234_5678);
        let mut sim = Sim::new(0, 50);
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(20, 30),
            None,
            date("2026-12-31"),
        );
        let start = beijing("2026-11-27", 9, 0, 0);
        sim.run(&mut p, start, start + 24 * 3_600_000, &mut u, |_, _| {
            Outcome::Ok
        });
        let gaps: Vec<i64> = sim.sent.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(gaps.len() > 3_000);
        assert!(sim.sent.iter().all(|(_, r)| *r == Reason::Normal));
        // 20 s ± 30 % is 14–26 s; the 114 floor of 15 s cuts the bottom off.
        assert!(
            gaps.iter().all(|&g| (15_000..=26_000).contains(&g)),
            "{:?}",
            gaps.iter().min()
        );
        assert!(gaps.contains(&15_000));
        assert!(gaps.iter().any(|&g| g > 25_500));
        let mean = gaps.iter().sum::<i64>() as f64 / gaps.len() as f64;
        assert!((19_500.0..21_000.0).contains(&mean), "{mean}");
        // 12306's floor is 10 s.
        let p = Planner::new(
            Platform::Rail12306,
            interval(10, 50),
            None,
            date("2026-12-31"),
        );
        for i in 0..1_000 {
            let d = p.interval.next_delay_ms(p.platform, f64::from(i) / 1_000.0);
            assert!(d >= 10_000);
        }
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut u = Units(99);
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            None,
            date("2026-12-31"),
        );
        let clock = ServerClock::new();
        let mut now = beijing("2026-11-27", 9, 0, 0);
        let mut delays = Vec::new();
        for i in 1..=12 {
            p.on_response(now, Outcome::Throttled);
            let plan = p.next(now, &clock, 0.0);
            assert_eq!(plan.reason, Reason::Backoff { attempt: i });
            delays.push(plan.at_ms - now);
            now = plan.at_ms;
        }
        let base = 60_000;
        assert_eq!(
            &delays[..5],
            &[base, 2 * base, 4 * base, 8 * base, 16 * base]
        );
        let cap = (BACKOFF_MAX_MS as f64 / 1.25) as i64;
        assert!(delays[5..].iter().all(|&d| d == cap), "{delays:?}");
        // Jitter adds up to 25 % and never passes 30 min.
        for _ in 0..1_000 {
            let x = u.next();
            let d3 = p.backoff_delay_ms(3, x);
            assert!((240_000..=300_000).contains(&d3), "{d3}");
            assert!(p.backoff_delay_ms(40, x) <= BACKOFF_MAX_MS);
        }
        assert!(p.backoff_delay_ms(40, 0.999_999) > 29 * 60_000);
        // A longer interval is the base.
        let slow = Planner::new(
            Platform::Yygh114,
            interval(300, 20),
            None,
            date("2026-12-31"),
        );
        assert_eq!(slow.backoff_delay_ms(2, 0.0), 600_000);
        // "Too frequent" in a 200 backs off too; one success resets.
        assert_eq!(Outcome::of(RetryClass::Ok, true), Outcome::Throttled);
        assert_eq!(Outcome::of(RetryClass::Backoff, false), Outcome::Throttled);
        assert_eq!(Outcome::of(RetryClass::Fatal, false), Outcome::Failed);
        p.on_response(now, Outcome::Ok);
        assert_eq!(p.attempt(), 0);
        let plan = p.next(now, &clock, 0.5);
        assert_eq!((plan.reason, plan.at_ms - now), (Reason::Normal, 30_000));
    }

    fn burst_polls(sim: &Sim) -> Vec<i64> {
        sim.sent
            .iter()
            .filter(|(_, r)| matches!(r, Reason::Burst { .. }))
            .map(|&(t, _)| t)
            .collect()
    }

    #[test]
    fn the_burst_is_placed_by_the_server_clock_and_bounded() {
        // The server is 5 s ahead of us; the hospital releases at 08:30 Beijing.
        for (skew, seed) in [(5_000, 1_u64), (-5_000, 2), (5_000, 3), (0, 4)] {
            let mut u = Units(seed);
            let mut sim = Sim::new(skew, 40);
            let release = beijing("2026-11-27", 8, 30, 0);
            let rule = ReleaseRule::daily("08:30").unwrap();
            let mut p = Planner::new(
                Platform::Yygh114,
                interval(15, 20),
                Some(rule),
                date("2026-12-03"),
            );
            let start = release - 20 * 60_000 - skew;
            sim.run(
                &mut p,
                start,
                release - skew + 5 * 60_000,
                &mut u,
                |_, _| Outcome::Ok,
            );
            let bound = sim.clock.estimate(release - skew).unwrap().bound_ms as i64;
            assert!(bound <= 25, "{bound}");
            let burst: Vec<i64> = burst_polls(&sim).iter().map(|t| t + skew).collect(); // server time
            assert!(
                !burst.is_empty() && burst.len() as u32 <= BURST_MAX_POLLS,
                "{burst:?}"
            );
            // Starts before the release by the lead plus the error bound.
            assert!(
                burst[0] <= release - BURST_LEAD_MS - bound + 50,
                "{} vs {release}",
                burst[0]
            );
            assert!(burst[0] >= release - BURST_LEAD_MS - 3 * bound - 50);
            // The first poll after the release, on the server's timeline, is within 100 ms
            // (plus the bound) of it.
            let first_after = *burst.iter().find(|&&t| t >= release).unwrap();
            assert!(
                first_after - release <= 100 + bound,
                "{}",
                first_after - release
            );
            // Spaced ≥ 1 s, bounded in time.
            assert!(burst
                .windows(2)
                .all(|w| w[1] - w[0] >= BURST_MIN_SPACING_MS));
            let span = burst.last().unwrap() - burst[0];
            assert!(
                span <= BURST_LEAD_MS + 2 * bound + BURST_AIM_AFTER_MS + BURST_TAIL_MS,
                "{span}"
            );
            // Before and after, the floor holds.
            let all: Vec<i64> = sim.sent.iter().map(|&(t, _)| t).collect();
            for w in sim.sent.windows(2) {
                if !matches!(w[1].1, Reason::Burst { .. }) {
                    assert!(w[1].0 - w[0].0 >= 15_000, "{:?}", w);
                }
            }
            assert!(all.len() < 20 * 4 + 5 * 4 + 10);
            // A naive local-clock burst would have been 5 s off: ours is not.
            assert!((burst[0] - (release - BURST_LEAD_MS)).abs() < 200);
        }
    }

    /// An IMF-fixdate for Unix ms, truncated to the second as servers do.
    fn http_date(ms: i64) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = ms.div_euclid(86_400_000);
        let secs = ms.rem_euclid(86_400_000) / 1_000;
        let d = Date::from_days(days);
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[days.rem_euclid(7) as usize],
            d.day,
            MONTHS[usize::from(d.month) - 1],
            d.year,
            secs / 3_600,
            secs / 60 % 60,
            secs % 60
        )
    }

    #[test]
    fn with_date_headers_only_the_burst_still_lands_just_after_the_release() {
        // No ms timestamp, only 1-second Date headers; round trips of 60 ms; the
        // server 5 s ahead. Jittered polls sample many sub-second phases, so the
        // bound shrinks well below the header's resolution before the release.
        for seed in 1..=20_u64 {
            let skew = 5_000 + 37 * seed as i64;
            let mut u = Units(seed);
            let mut sim = Sim::new(skew, 60);
            sim.date_headers = true;
            let release = beijing("2026-11-27", 8, 30, 0);
            let rule = ReleaseRule::daily("08:30").unwrap();
            let mut p = Planner::new(
                Platform::Yygh114,
                interval(15, 20),
                Some(rule),
                date("2026-12-03"),
            );
            let start = release - 25 * 60_000 - skew;
            sim.run(&mut p, start, release - skew + 60_000, &mut u, |_, _| {
                Outcome::Ok
            });
            let i = sim
                .sent
                .iter()
                .position(|&(t, r)| matches!(r, Reason::Burst { .. }) && t + skew >= release)
                .unwrap();
            let bound = sim.bounds[i];
            let burst: Vec<i64> = burst_polls(&sim).iter().map(|t| t + skew).collect();
            let late = sim.sent[i].0 + skew - release;
            assert!(bound <= 150, "seed {seed}: bound {bound}");
            // Sent after the release, by no more than the clock's uncertainty allows.
            assert!(
                (BURST_AIM_AFTER_MS..=2 * bound + BURST_AIM_AFTER_MS).contains(&late),
                "seed {seed}: {late} ms late, bound {bound}"
            );
            assert!(burst[0] < release - BURST_LEAD_MS);
        }
    }

    #[test]
    fn sync_polls_on_whole_seconds_bring_a_slow_watch_within_100_ms() {
        // A 60 s watch has few samples before the release, all with 1 s Date headers:
        // the polls before the release go on the server's whole seconds, each halving
        // the bound, so the aimed poll lands within 100 ms after the release.
        for seed in 1..=20_u64 {
            let skew = if seed % 2 == 0 { 5_000 } else { -5_000 } + (seed as i64 * 7_919) % 1_000;
            let mut u = Units(seed);
            let mut sim = Sim::new(skew, 4);
            sim.date_headers = true;
            let release = beijing("2026-11-27", 15, 0, 0);
            let mut p = Planner::new(
                Platform::Rail12306,
                interval(60, 20),
                Some(ReleaseRule::At { server_ms: release }),
                date("2026-12-03"),
            );
            let start = release - 20_000 - skew + (seed as i64 * 379) % 1_000;
            sim.run(&mut p, start, release - skew + 30_000, &mut u, |_, _| {
                Outcome::Ok
            });
            let i = sim
                .sent
                .iter()
                .position(|&(t, r)| matches!(r, Reason::Burst { .. }) && t + skew >= release)
                .unwrap();
            let late = sim.sent[i].0 + skew - release;
            assert!(
                (0..=100).contains(&late),
                "seed {seed}: {late} ms late, bound {}",
                sim.bounds[i]
            );
        }
    }

    #[test]
    fn the_next_day_bursts_again_and_a_refusal_ends_a_burst() {
        let mut u = Units(5);
        let mut sim = Sim::new(1_234, 60);
        let rule = ReleaseRule::daily("08:00").unwrap();
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(60, 20),
            Some(rule),
            date("2026-12-03"),
        );
        let start = beijing("2026-11-27", 7, 50, 0) - 1_234;
        // The third burst poll is refused: the burst stops, backoff follows.
        let bursts = std::cell::Cell::new(0);
        sim.run(
            &mut p,
            start,
            beijing("2026-11-28", 8, 10, 0),
            &mut u,
            |_, r| {
                if matches!(r, Reason::Burst { .. }) {
                    bursts.set(bursts.get() + 1);
                    if bursts.get() == 3 {
                        return Outcome::Throttled;
                    }
                }
                Outcome::Ok
            },
        );
        let r1 = beijing("2026-11-27", 8, 0, 0);
        let i = sim
            .sent
            .iter()
            .position(|(_, r)| matches!(r, Reason::Burst { .. }))
            .unwrap();
        let burst1 = Reason::Burst {
            release_server_ms: r1,
        };
        assert_eq!(
            [sim.sent[i].1, sim.sent[i + 1].1, sim.sent[i + 2].1],
            [burst1; 3]
        );
        assert_eq!(sim.sent[i + 3].1, Reason::Backoff { attempt: 1 });
        assert!(sim.sent[i + 3].0 - sim.sent[i + 2].0 >= 60_000);
        // Then the next release (tomorrow) is far: the slow pace.
        assert_eq!(sim.sent[i + 4].1, Reason::SlowFar);
        assert_eq!(sim.sent.iter().filter(|(_, r)| *r == burst1).count(), 3);
        // Slow in between, then the full burst of the next day.
        assert!(sim.sent.iter().any(|(_, r)| *r == Reason::SlowFar));
        let r2 = beijing("2026-11-28", 8, 0, 0);
        let day2 = sim
            .sent
            .iter()
            .filter(|(_, r)| {
                *r == Reason::Burst {
                    release_server_ms: r2,
                }
            })
            .count();
        assert_eq!(day2 as u32, BURST_MAX_POLLS);
        // A day at one request a minute near the release and one in 4 far from it.
        assert!(
            sim.sent.len() < 24 * 60 / 4 + 2 * 30 + 20,
            "{}",
            sim.sent.len()
        );
    }

    #[test]
    fn far_from_the_release_the_pace_slows() {
        let clock = ServerClock::new();
        let rule = ReleaseRule::daily("08:30").unwrap();
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            Some(rule),
            date("2026-12-03"),
        );
        let now = beijing("2026-11-27", 2, 0, 0);
        p.on_response(now, Outcome::Ok);
        let plan = p.next(now, &clock, 0.5);
        assert_eq!((plan.reason, plan.at_ms - now), (Reason::SlowFar, 120_000));
        // Capped at 10 min.
        let mut q = Planner::new(
            Platform::Yygh114,
            interval(600, 20),
            Some(rule),
            date("2026-12-03"),
        );
        q.on_response(now, Outcome::Ok);
        let plan = q.next(now, &clock, 0.5);
        assert_eq!((plan.reason, plan.at_ms - now), (Reason::SlowFar, 600_000));
        // Never sleeping past the 30-minute mark.
        let near = beijing("2026-11-27", 8, 0, 0);
        p.on_response(near - 60_000, Outcome::Ok);
        let plan = p.next(near - 60_000, &clock, 0.5);
        assert_eq!((plan.reason, plan.at_ms), (Reason::SlowFar, near));
        // Within 30 min: the normal pace.
        p.on_response(near + 1, Outcome::Ok);
        let plan = p.next(near + 1, &clock, 0.5);
        assert_eq!(
            (plan.reason, plan.at_ms - near - 1),
            (Reason::Normal, 30_000)
        );
        // No release rule: always normal.
        let mut n = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            None,
            date("2026-12-03"),
        );
        n.on_response(now, Outcome::Ok);
        assert_eq!(n.next(now, &clock, 0.5).reason, Reason::Normal);
        // A refusal far from the release backs off, but never sooner than the slow pace
        // (a first backoff of ~67 s would be faster than 120 s).
        let mut b = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            Some(rule),
            date("2026-12-03"),
        );
        b.on_response(now, Outcome::Throttled);
        let plan = b.next(now, &clock, 0.5);
        assert_eq!(
            (plan.reason, plan.at_ms - now),
            (Reason::Backoff { attempt: 1 }, 120_000)
        );
        b.on_response(plan.at_ms, Outcome::Throttled);
        b.on_response(plan.at_ms, Outcome::Throttled);
        let later = b.next(plan.at_ms, &clock, 0.5);
        assert_eq!(
            later.at_ms - plan.at_ms,
            270_000,
            "the third backoff is longer"
        );
    }

    #[test]
    fn a_plan_asked_again_when_due_is_the_same_plan() {
        // A driver that wakes a millisecond after a burst instant must still get that
        // poll, not the next instant; and a normal wait keeps its jitter draw.
        let release = beijing("2026-11-27", 8, 30, 0);
        let mut p = Planner::new(
            Platform::Rail12306,
            interval(60, 20),
            Some(ReleaseRule::At { server_ms: release }),
            date("2026-11-30"),
        );
        let clock = ServerClock::new();
        let first = p.next(release - 3_500, &clock, 0.5);
        assert!(matches!(first.reason, Reason::Burst { .. }), "{first:?}");
        let again = p.next(first.at_ms + 1, &clock, 0.9);
        assert_eq!(again, first);
        p.on_response(first.at_ms + 1, Outcome::Ok);
        let second = p.next(first.at_ms + 5, &clock, 0.5);
        assert!(
            second.at_ms > first.at_ms,
            "after the response, the next instant"
        );
        let mut q = Planner::new(
            Platform::Rail12306,
            interval(60, 20),
            None,
            date("2026-11-30"),
        );
        q.on_response(release, Outcome::Ok);
        let n = q.next(release + 1, &clock, 0.0);
        assert_eq!(
            q.next(n.at_ms + 3, &clock, 1.0),
            n,
            "no new jitter draw on waking"
        );
    }

    #[test]
    fn polls_stop_when_the_window_ends_on_the_server_calendar() {
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            None,
            date("2026-11-27"),
        );
        let mut clock = ServerClock::new();
        let late = beijing("2026-11-27", 23, 59, 0);
        assert_eq!(p.next(late, &clock, 0.5).reason, Reason::Normal);
        let stop = Reason::Stop {
            why: StopReason::WindowEnded,
        };
        assert_eq!(p.next(late + 120_000, &clock, 0.5).reason, stop);
        // Our clock says 23:59:58 on the 27th, the server's says 00:00:03 on the 28th.
        let local = beijing("2026-11-27", 23, 59, 58);
        clock
            .observe_timestamp(local - 40, local, local + 5_000)
            .unwrap();
        assert_eq!(p.next(local, &clock, 0.5).reason, stop);
        // A finished watch stops whatever the date.
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            None,
            date("2026-12-31"),
        );
        p.finish();
        assert_eq!(
            p.next(late, &ServerClock::new(), 0.5).reason,
            Reason::Stop {
                why: StopReason::Done
            }
        );
    }

    #[test]
    fn a_one_off_release_bursts_once_even_without_a_clock_estimate() {
        let release = beijing("2026-11-27", 15, 0, 0);
        let rule = ReleaseRule::At { server_ms: release };
        let mut p = Planner::new(
            Platform::Rail12306,
            interval(10, 20),
            Some(rule),
            date("2026-12-10"),
        );
        // Planned with no clock at all, 3 s before: the burst opens with the widest lead.
        let plan = p.next(release - 3_000, &ServerClock::new(), 0.5);
        assert_eq!(
            plan.reason,
            Reason::Burst {
                release_server_ms: release
            }
        );
        assert_eq!(plan.at_ms, release - 3_000);
        // It goes on with the next whole second, ≥ 1 s later.
        p.on_response(release - 3_000, Outcome::Ok);
        let plan = p.next(release - 2_900, &ServerClock::new(), 0.5);
        assert_eq!(plan.at_ms, release - 2_000);
        let mut p = Planner::new(
            Platform::Rail12306,
            interval(10, 20),
            Some(rule),
            date("2026-12-10"),
        );
        let mut u = Units(11);
        let mut sim = Sim::new(0, 30);
        sim.run(
            &mut p,
            release - 60_000,
            release + 3_600_000,
            &mut u,
            |_, _| Outcome::Ok,
        );
        let burst = burst_polls(&sim);
        assert!(burst.len() as u32 <= BURST_MAX_POLLS);
        assert!(burst.iter().all(|&t| t <= release + 10_000));
        assert!(sim.sent.last().unwrap().1 == Reason::Normal);
    }

    #[test]
    fn the_pacer_spaces_requests_across_watches() {
        let mut pacer = AccountPacer::with_spacing(2_000);
        let mut u = Units(77);
        let mut slots = Vec::new();
        // Ten watches that all want to go at nearly the same moments.
        for round in 0..50 {
            for _w in 0..10 {
                let wanted = round * 10_000 + (u.next() * 3_000.0) as i64;
                let at = pacer.reserve(wanted);
                assert!(at >= wanted);
                slots.push(at);
            }
        }
        slots.sort();
        assert!(slots.windows(2).all(|w| w[1] - w[0] >= 2_000));
        // At sending time.
        let mut pacer = AccountPacer::new();
        assert_eq!(pacer.try_acquire(10_000), Ok(()));
        assert_eq!(pacer.try_acquire(10_400), Err(11_000));
        assert_eq!(pacer.earliest(10_500), 11_000);
        assert_eq!(pacer.try_acquire(11_000), Ok(()));
        // The spacing is never below the burst spacing.
        assert_eq!(AccountPacer::with_spacing(10).earliest(0), 0);
        let mut p = AccountPacer::with_spacing(10);
        p.reserve(0);
        assert_eq!(p.earliest(0), 1_000);
    }

    #[test]
    fn the_planner_survives_a_json_round_trip() {
        let rule = ReleaseRule::daily("08:30").unwrap();
        let mut p = Planner::new(
            Platform::Yygh114,
            interval(30, 20),
            Some(rule),
            date("2026-12-03"),
        );
        p.on_response(5, Outcome::Throttled);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(serde_json::from_value::<Planner>(v).unwrap(), p);
        let plan = Plan {
            at_ms: 1,
            reason: Reason::Burst {
                release_server_ms: 2,
            },
        };
        assert_eq!(
            serde_json::to_value(plan).unwrap(),
            serde_json::json!({"at_ms": 1, "reason": {"kind": "burst", "release_server_ms": 2}})
        );
    }
}
