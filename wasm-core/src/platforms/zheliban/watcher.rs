//! One sync round with 浙里办, as a sans-IO step machine, and the pace of the rounds.
//!
//! A round: arrivals recorded at the desk but not yet told are sent first; then, when
//! pulling, `sync/order` → [`Step::Store`] (the host writes the checked records and the
//! rejects in one transaction) → [`Sync::stored`] → the acknowledgement → the next
//! pull, until a batch brings nothing new (or the round's batch limit). The ordering
//! *store, then ack* is the machine's: it has no way to ack a batch the host did not
//! report stored, so a crash between the two leaves the batch unacked and the platform
//! delivers it again; the host's store recognises the repeat.
//!
//! - **Ack**: by `requestId` when every record of the batch was stored; by
//!   `serialNumber` for each stored record when some were rejected (the rejects stay
//!   unacked and are kept for a person); a refused batch ack (an unknown `requestId`)
//!   falls back to acking each stored record.
//! - **Token**: the cached one is used until [`TOKEN_MARGIN_MS`] before it expires. An
//!   auth error on any step renews it once and repeats that step (a token that expires
//!   mid-batch costs one token request, nothing is lost or repeated).
//! - **Failures** end the round with [`Step::Failed`] and the summary so far; nothing
//!   not yet stored is acked.
//! - **Pace** ([`Pace`]): the interval with jitter, never below the platform's floor,
//!   backing off on 429/403/5xx and failures — the watches' [`Planner`], shared.

use super::site::{Batch, Credentials, Site, Token, ZlbError};
use super::{validate, Reject, Reservation};
use crate::clock::ServerClock;
use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::schedule::{Outcome, Planner};
use crate::watch::{Interval, Platform};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A cached token is renewed this long before it expires.
pub const TOKEN_MARGIN_MS: i64 = 5 * 60_000;
/// The most batches one round pulls (then the next round goes on).
pub const MAX_BATCHES_PER_ROUND: u32 = 1_000;

/// What the host does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Send this; then [`Sync::on_response`] or [`Sync::no_response`].
    Send(HttpRequest),
    /// Store these in one transaction; then [`Sync::stored`] with the serial numbers
    /// stored, or [`Sync::store_failed`].
    Store(Delivery),
    /// The round is over.
    Done(Summary),
    /// The round stopped; nothing unstored was acknowledged.
    Failed(Failure),
}

/// A checked batch for the host to store.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub request_id: Option<String>,
    pub accepted: Vec<Reservation>,
    pub rejects: Vec<Reject>,
}

/// What a round did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Batches pulled.
    pub batches: u32,
    /// Records delivered (accepted + rejected).
    pub delivered: u32,
    /// Records that passed the checks and were stored.
    pub stored: u32,
    /// Distinct records that failed the checks (kept as rejects, not acked).
    pub rejected: u32,
    /// Acks accepted: whole batches, and single records.
    pub acked_batches: u32,
    pub acked_serials: u32,
    /// Token requests made.
    pub tokens: u32,
    /// Arrivals told: accepted, and refused by the platform (with its reason).
    pub arrivals_sent: Vec<String>,
    pub arrivals_refused: Vec<(String, String)>,
}

/// Why a round stopped, and what it did before.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub error: SyncError,
    pub summary: Summary,
}

/// Why a round stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The platform's reply, or its absence, during `what`.
    #[error("{what}: {error}")]
    Site { what: &'static str, error: ZlbError },
    /// No reply (network).
    #[error("{what}: 浙里办 could not be reached ({detail})")]
    Network { what: &'static str, detail: String },
    /// The host could not store the batch: nothing was acknowledged.
    #[error("the reservations could not be saved ({0}); nothing was acknowledged, 浙里办 will deliver them again")]
    Store(String),
}

/// An arrival to tell the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub serial: String,
    /// Beijing `yyyy-MM-dd HH:mm:ss`.
    pub at: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Pending {
    /// Get a token, then do the step in `then`.
    Token {
        then: Box<Pending>,
    },
    Arrival(Arrival),
    Pull,
    AckBatch {
        request_id: String,
        serials: Vec<String>,
    },
    AckSerial(String),
    /// Waiting for the host to store a delivery.
    Storing {
        request_id: Option<String>,
        all_accepted: bool,
    },
    Finished,
}

/// One sync round.
#[derive(Clone, Debug)]
pub struct Sync {
    site: Site,
    creds: Credentials,
    token: Option<Token>,
    arrivals: VecDeque<Arrival>,
    acks: VecDeque<String>,
    pull: bool,
    max_batches: u32,
    fresh_token: bool,
    current: Pending,
    /// Token renewals for the current step (one is allowed).
    renewed_for_step: bool,
    summary: Summary,
    /// The rejects seen this round (each counted once however often it comes back).
    rejects_seen: std::collections::HashSet<String>,
}

impl Sync {
    /// A round with `token` (cached from an earlier round, if any).
    pub fn new(site: Site, creds: Credentials, token: Option<Token>) -> Sync {
        Sync {
            site,
            creds,
            token,
            arrivals: VecDeque::new(),
            acks: VecDeque::new(),
            pull: false,
            max_batches: MAX_BATCHES_PER_ROUND,
            fresh_token: false,
            current: Pending::Finished,
            renewed_for_step: false,
            summary: Summary::default(),
            rejects_seen: std::collections::HashSet::new(),
        }
    }

    /// Pull (and store, and ack) up to `max_batches` batches.
    pub fn pulling(mut self, max_batches: u32) -> Sync {
        self.pull = true;
        self.max_batches = max_batches.max(1);
        self
    }

    /// Tell the platform of these arrivals first.
    pub fn with_arrivals(mut self, arrivals: Vec<Arrival>) -> Sync {
        self.arrivals.extend(arrivals);
        self
    }

    /// Acknowledge these records by serial number (rejects a person released).
    pub fn with_acks(mut self, serials: Vec<String>) -> Sync {
        self.acks.extend(serials);
        self
    }

    /// Ask for a new token even when a cached one is valid ("test connection": it
    /// proves the apikey, the secret and the AES key both ways).
    pub fn fresh_token(mut self) -> Sync {
        self.fresh_token = true;
        self
    }

    /// The token now held (the host caches it for the next round).
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// The first step.
    pub fn start(&mut self, now_ms: i64) -> Step {
        if self.fresh_token {
            self.token = None;
        }
        self.advance(now_ms)
    }

    fn valid_token(&self, now_ms: i64) -> Option<String> {
        self.token
            .as_ref()
            .filter(|t| t.expires_at_ms - TOKEN_MARGIN_MS > now_ms)
            .map(|t| t.token.clone())
    }

    /// The next piece of work after the current one finished.
    fn advance(&mut self, now_ms: i64) -> Step {
        self.renewed_for_step = false;
        let next = if let Some(s) = self.acks.pop_front() {
            Pending::AckSerial(s)
        } else if let Some(a) = self.arrivals.pop_front() {
            Pending::Arrival(a)
        } else if self.pull && self.summary.batches < self.max_batches {
            Pending::Pull
        } else if self.fresh_token && self.summary.tokens == 0 {
            // A test with nothing else to do: the token alone.
            Pending::Token {
                then: Box::new(Pending::Finished),
            }
        } else {
            return Step::Done(self.summary.clone());
        };
        self.run(next, now_ms)
    }

    /// Sends the request of `p`, getting a token first when none is valid.
    fn run(&mut self, p: Pending, now_ms: i64) -> Step {
        let token = match &p {
            Pending::Token { .. } => None,
            _ => match self.valid_token(now_ms) {
                Some(t) => Some(t),
                None => return self.run(Pending::Token { then: Box::new(p) }, now_ms),
            },
        };
        let req = match (&p, token) {
            (Pending::Token { .. }, _) => self.site.token_request(&self.creds),
            (Pending::Arrival(a), Some(t)) => self.site.arrival_request(&t, &a.serial, Some(&a.at)),
            (Pending::Pull, Some(t)) => self.site.order_request(&t),
            (Pending::AckBatch { request_id, .. }, Some(t)) => {
                self.site.ack_batch_request(&t, request_id)
            }
            (Pending::AckSerial(s), Some(t)) => self.site.ack_serial_request(&t, s),
            (Pending::Storing { .. } | Pending::Finished, _) | (_, None) => {
                return Step::Done(self.summary.clone())
            }
        };
        self.current = p;
        Step::Send(req)
    }

    fn what(p: &Pending) -> &'static str {
        match p {
            Pending::Token { .. } => "getting a token",
            Pending::Arrival(_) => "telling 浙里办 of an arrival",
            Pending::Pull => "pulling new reservations",
            Pending::AckBatch { .. } | Pending::AckSerial(_) => "acknowledging stored reservations",
            Pending::Storing { .. } | Pending::Finished => "syncing",
        }
    }

    fn fail(&mut self, error: SyncError) -> Step {
        self.current = Pending::Finished;
        Step::Failed(Failure {
            error,
            summary: self.summary.clone(),
        })
    }

    /// The request of the current step got no reply.
    pub fn no_response(&mut self, detail: &str) -> Step {
        let what = Self::what(&self.current);
        self.fail(SyncError::Network {
            what,
            detail: detail.to_string(),
        })
    }

    /// The reply to the current step's request, received at local `now_ms`.
    pub fn on_response(&mut self, resp: &HttpResponse, now_ms: i64) -> Step {
        let current = std::mem::replace(&mut self.current, Pending::Finished);
        let what = Self::what(&current);
        // Any step but the token's: an auth error renews the token once and repeats it.
        let auth_retry = |this: &mut Sync, e: &ZlbError, p: Pending| -> Option<Step> {
            if e.is_auth() && !this.renewed_for_step {
                this.renewed_for_step = true;
                this.token = None;
                Some(this.run(Pending::Token { then: Box::new(p) }, now_ms))
            } else {
                None
            }
        };
        match current {
            Pending::Token { then } => {
                self.summary.tokens += 1;
                match self.site.read_token(resp, now_ms) {
                    Ok(t) => {
                        self.token = Some(t);
                        match *then {
                            Pending::Finished => self.advance(now_ms),
                            p => self.run(p, now_ms),
                        }
                    }
                    Err(ZlbError::Refused { code, message }) => self.fail(SyncError::Site {
                        what,
                        error: ZlbError::Refused {
                            code,
                            message: format!(
                                "{message} — the apikey, secret or AES key in the settings is not the one 浙里办 issued"
                            ),
                        },
                    }),
                    Err(error) => self.fail(SyncError::Site { what, error }),
                }
            }
            Pending::Arrival(a) => match self.site.read_ok(resp) {
                Ok(()) => {
                    self.summary.arrivals_sent.push(a.serial);
                    self.advance(now_ms)
                }
                Err(e) => {
                    if let Some(step) = auth_retry(self, &e, Pending::Arrival(a.clone())) {
                        return step;
                    }
                    match e {
                        ZlbError::Refused { message, code } => {
                            self.summary
                                .arrivals_refused
                                .push((a.serial, format!("{message} (code {code})")));
                            self.advance(now_ms)
                        }
                        error => self.fail(SyncError::Site { what, error }),
                    }
                }
            },
            Pending::Pull => match self.site.read_batch(resp) {
                Ok(batch) => {
                    self.summary.batches += 1;
                    self.deliver(batch)
                }
                Err(e) => {
                    if let Some(step) = auth_retry(self, &e, Pending::Pull) {
                        return step;
                    }
                    self.fail(SyncError::Site { what, error: e })
                }
            },
            Pending::AckBatch {
                request_id,
                serials,
            } => match self.site.read_ok(resp) {
                Ok(()) => {
                    self.summary.acked_batches += 1;
                    self.advance(now_ms)
                }
                Err(e) => {
                    if let Some(step) = auth_retry(
                        self,
                        &e,
                        Pending::AckBatch {
                            request_id: request_id.clone(),
                            serials: serials.clone(),
                        },
                    ) {
                        return step;
                    }
                    match e {
                        // The platform does not know the batch (any more): ack each record.
                        ZlbError::Refused { .. } => {
                            self.acks.extend(serials);
                            self.advance(now_ms)
                        }
                        error => self.fail(SyncError::Site { what, error }),
                    }
                }
            },
            Pending::AckSerial(s) => match self.site.read_ok(resp) {
                Ok(()) => {
                    self.summary.acked_serials += 1;
                    self.advance(now_ms)
                }
                Err(e) => {
                    if let Some(step) = auth_retry(self, &e, Pending::AckSerial(s.clone())) {
                        return step;
                    }
                    // The rest stay unacked: the platform delivers them again and the
                    // store recognises them.
                    self.acks.clear();
                    self.fail(SyncError::Site { what, error: e })
                }
            },
            Pending::Storing { .. } | Pending::Finished => self.advance(now_ms),
        }
    }

    /// A pulled batch: checked, then handed to the host to store.
    fn deliver(&mut self, batch: Batch) -> Step {
        let n = batch.records.len() as u32;
        self.summary.delivered += n;
        if n == 0 {
            self.pull = false;
            return Step::Done(self.summary.clone());
        }
        let mut accepted = Vec::new();
        let mut rejects = Vec::new();
        for r in &batch.records {
            match validate(r) {
                Ok(res) => accepted.push(res),
                Err(rej) => rejects.push(rej),
            }
        }
        for r in &rejects {
            if self.rejects_seen.insert(r.raw.to_string()) {
                self.summary.rejected += 1;
            }
        }
        self.current = Pending::Storing {
            request_id: batch.request_id.clone(),
            all_accepted: rejects.is_empty(),
        };
        Step::Store(Delivery {
            request_id: batch.request_id,
            accepted,
            rejects,
        })
    }

    /// The host stored the delivery (the serial numbers of the records it wrote, in
    /// one committed transaction): now, and only now, acknowledge them.
    pub fn stored(&mut self, serials: Vec<String>, now_ms: i64) -> Step {
        let Pending::Storing {
            request_id,
            all_accepted,
        } = std::mem::replace(&mut self.current, Pending::Finished)
        else {
            return self.advance(now_ms);
        };
        self.summary.stored += serials.len() as u32;
        if serials.is_empty() {
            // Nothing new in this batch (only rejects): stop pulling this round, or
            // the same rejects would come back batch after batch.
            self.pull = false;
            return self.advance(now_ms);
        }
        match request_id {
            Some(id) if all_accepted => {
                self.renewed_for_step = false;
                self.run(
                    Pending::AckBatch {
                        request_id: id,
                        serials,
                    },
                    now_ms,
                )
            }
            _ => {
                self.acks.extend(serials);
                self.advance(now_ms)
            }
        }
    }

    /// The host could not store the delivery: the round stops, nothing is acked.
    pub fn store_failed(&mut self, detail: &str) -> Step {
        self.fail(SyncError::Store(detail.to_string()))
    }
}

/// When the next round starts: the interval (at least the platform's floor of 60 s)
/// with jitter, backing off after failures — the watches' [`Planner`].
#[derive(Clone, Debug)]
pub struct Pace {
    planner: Planner,
    clock: ServerClock,
}

impl Pace {
    /// Rounds every `seconds` (raised to the floor) with ±20 % jitter.
    pub fn new(seconds: u32) -> Pace {
        Pace {
            planner: Planner::new(
                Platform::Zheliban,
                Interval {
                    seconds: seconds.max(Platform::Zheliban.poll_floor_secs()),
                    jitter_pct: 20,
                },
                None,
                Date {
                    year: 9999,
                    month: 12,
                    day: 31,
                },
            ),
            clock: ServerClock::new(),
        }
    }

    /// A round started at `started_ms` ended, well or not: a failure (the platform
    /// refusing or struggling, no answer, unusable settings) makes the next rounds wait
    /// longer, doubling up to 30 minutes; a success resets that.
    pub fn finished(&mut self, started_ms: i64, ok: bool) {
        let outcome = if ok { Outcome::Ok } else { Outcome::Failed };
        self.planner.on_response(started_ms, outcome);
    }

    /// When (local Unix ms) the next round starts, with a random `unit` in `[0, 1)`.
    pub fn next_at(&mut self, now_ms: i64, unit: f64) -> i64 {
        self.planner.next(now_ms, &self.clock, unit).at_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const KEY: &str = "ZLB-sandbox-key1";

    fn site() -> Site {
        Site::new("http://zlb.test", KEY).unwrap()
    }

    fn creds() -> Credentials {
        Credentials {
            apikey: "k".into(),
            secret: "s".into(),
        }
    }

    fn ok(result: Value) -> HttpResponse {
        HttpResponse::new(
            200,
            site().encrypt(&json!({"code":200,"message":"操作成功","success":true,"result":result,"timestamp":1}).to_string()),
        )
    }

    /// A round holding a cached token.
    fn holding(token: &str, expires_at_ms: i64) -> Sync {
        Sync::new(
            site(),
            creds(),
            Some(Token {
                token: token.into(),
                expires_at_ms,
            }),
        )
    }

    fn token_reply(t: &str) -> HttpResponse {
        ok(json!({"expire": 86_400_000, "token": t}))
    }

    fn expired() -> HttpResponse {
        HttpResponse::new(
            401,
            r#"{"code":401,"message":"Token失效，请重新登录!","success":false,"result":null,"timestamp":1}"#,
        )
    }

    fn record(serial: &str, rid: &str) -> Value {
        let mut r = crate::platforms::zheliban::tests::record();
        r["serialNumber"] = json!(serial);
        r["requestId"] = json!(rid);
        r
    }

    fn sent(step: &Step) -> &HttpRequest {
        match step {
            Step::Send(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    fn plain_body(req: &HttpRequest) -> String {
        let b = std::str::from_utf8(req.body.as_ref().unwrap().as_bytes()).unwrap();
        crate::crypto::decrypt_str(KEY.as_bytes(), b, crate::crypto::Encoding::Standard).unwrap()
    }

    #[test]
    fn a_round_gets_a_token_pulls_stores_then_acks_the_batch() {
        let mut s = Sync::new(site(), creds(), None).pulling(10);
        let step = s.start(0);
        assert!(sent(&step).url.ends_with("/reservation/sync/token"));
        let step = s.on_response(&token_reply("T1"), 10);
        let req = sent(&step);
        assert!(req.url.ends_with("/reservation/sync/order"));
        assert_eq!(req.header_value("ACCESS-TOKEN"), Some("T1"));
        let step = s.on_response(&ok(json!([record("A-1", "r1"), record("A-2", "r1")])), 20);
        let Step::Store(d) = step else {
            panic!("{step:?}")
        };
        assert_eq!(d.accepted.len(), 2);
        assert_eq!(d.request_id.as_deref(), Some("r1"));
        // Not acked until stored.
        let step = s.stored(vec!["A-1".into(), "A-2".into()], 30);
        let req = sent(&step);
        assert!(req.url.ends_with("/reservation/sync/callback"));
        assert_eq!(plain_body(req), r#"{"requestId":"r1"}"#);
        let step = s.on_response(&ok(Value::Null), 40);
        assert!(sent(&step).url.ends_with("/order"));
        let step = s.on_response(&ok(json!([])), 50);
        let Step::Done(sum) = step else {
            panic!("{step:?}")
        };
        assert_eq!(
            (sum.batches, sum.stored, sum.acked_batches, sum.tokens),
            (2, 2, 1, 1)
        );
        assert_eq!(s.token().unwrap().token, "T1");
    }

    #[test]
    fn rejects_make_the_acks_per_serial_and_stay_unacked() {
        let mut s = holding("T", i64::MAX).pulling(10);
        let step = s.start(0);
        assert!(sent(&step).url.ends_with("/order"));
        let mut bad = record("A-3", "r1");
        bad["cardType"] = json!(0);
        let step = s.on_response(
            &ok(json!([record("A-1", "r1"), bad, record("A-2", "r1")])),
            1,
        );
        let Step::Store(d) = step else { panic!() };
        assert_eq!(d.rejects.len(), 1);
        assert_eq!(d.rejects[0].serial.as_deref(), Some("A-3"));
        let step = s.stored(vec!["A-1".into(), "A-2".into()], 2);
        assert_eq!(plain_body(sent(&step)), r#"{"serialNumber":"A-1"}"#);
        let step = s.on_response(&ok(Value::Null), 3);
        assert_eq!(plain_body(sent(&step)), r#"{"serialNumber":"A-2"}"#);
        let step = s.on_response(&ok(Value::Null), 4);
        assert!(sent(&step).url.ends_with("/order"));
        // The next batch holds only the reject again: stored nothing new, the round ends.
        let mut bad = record("A-3", "r2");
        bad["cardType"] = json!(0);
        let Step::Store(_) = s.on_response(&ok(json!([bad])), 5) else {
            panic!()
        };
        let Step::Done(sum) = s.stored(vec![], 6) else {
            panic!()
        };
        assert_eq!(
            (sum.acked_serials, sum.acked_batches, sum.rejected),
            (2, 0, 1)
        );
    }

    #[test]
    fn a_token_expiring_mid_batch_is_renewed_once_and_the_ack_repeated() {
        let mut s = holding("OLD", i64::MAX).pulling(1);
        s.start(0);
        let Step::Store(_) = s.on_response(&ok(json!([record("A-1", "r1")])), 1) else {
            panic!()
        };
        let step = s.stored(vec!["A-1".into()], 2);
        assert_eq!(sent(&step).header_value("ACCESS-TOKEN"), Some("OLD"));
        let step = s.on_response(&expired(), 3);
        assert!(sent(&step).url.ends_with("/token"));
        let step = s.on_response(&token_reply("NEW"), 4);
        let req = sent(&step);
        assert_eq!(req.header_value("ACCESS-TOKEN"), Some("NEW"));
        assert_eq!(plain_body(req), r#"{"requestId":"r1"}"#);
        // A second auth error on the same step is not retried again.
        let step = s.on_response(&expired(), 5);
        let Step::Failed(f) = step else {
            panic!("{step:?}")
        };
        assert!(matches!(
            f.error,
            SyncError::Site {
                error: ZlbError::Auth { .. },
                ..
            }
        ));
        assert_eq!(f.summary.acked_batches, 0);
    }

    #[test]
    fn an_undecryptable_batch_fails_the_round_without_any_ack() {
        let mut s = holding("T", i64::MAX).pulling(5);
        s.start(0);
        let other = Site::new("http://x", "0123456789abcdef").unwrap();
        let wrong = HttpResponse::new(200, other.encrypt(r#"{"code":200,"result":[]}"#));
        let Step::Failed(f) = s.on_response(&wrong, 1) else {
            panic!()
        };
        assert!(f.error.to_string().contains("AES key"), "{}", f.error);
        assert_eq!(f.summary.stored, 0);
        // And a store failure: no ack either.
        let mut s = holding("T", i64::MAX).pulling(5);
        s.start(0);
        let Step::Store(_) = s.on_response(&ok(json!([record("A-1", "r1")])), 1) else {
            panic!()
        };
        let Step::Failed(f) = s.store_failed("the disk is full") else {
            panic!()
        };
        assert!(f.error.to_string().contains("nothing was acknowledged"));
    }

    #[test]
    fn a_refused_batch_ack_falls_back_to_each_record() {
        let mut s = holding("T", i64::MAX).pulling(1);
        s.start(0);
        s.on_response(&ok(json!([record("A-1", "r1"), record("A-2", "r1")])), 1);
        s.stored(vec!["A-1".into(), "A-2".into()], 2);
        let contact = HttpResponse::new(200, r#"{"code":500,"message":"数据有误，请联系平台"}"#);
        let step = s.on_response(&contact, 3);
        assert_eq!(plain_body(sent(&step)), r#"{"serialNumber":"A-1"}"#);
    }

    #[test]
    fn arrivals_go_first_and_a_refusal_is_reported_not_fatal() {
        let arrivals = vec![
            Arrival {
                serial: "A-1".into(),
                at: "2026-11-28 09:00:00".into(),
            },
            Arrival {
                serial: "A-9".into(),
                at: "2026-11-28 09:05:00".into(),
            },
        ];
        let mut s = holding("T", i64::MAX).with_arrivals(arrivals);
        let step = s.start(0);
        assert_eq!(
            plain_body(sent(&step)),
            r#"{"arriveDate":"2026-11-28 09:00:00","serialNumber":"A-1"}"#
        );
        s.on_response(&ok(Value::Null), 1);
        let contact = HttpResponse::new(200, r#"{"code":500,"message":"数据有误，请联系平台"}"#);
        let Step::Done(sum) = s.on_response(&contact, 2) else {
            panic!()
        };
        assert_eq!(sum.arrivals_sent, vec!["A-1".to_string()]);
        assert_eq!(sum.arrivals_refused[0].0, "A-9");
    }

    #[test]
    fn wrong_credentials_say_which_settings_to_check() {
        let mut s = Sync::new(site(), creds(), None).fresh_token();
        s.start(0);
        let bad = HttpResponse::new(
            200,
            r#"{"code":50002,"message":"数据有误","success":false,"result":null,"timestamp":1}"#,
        );
        let Step::Failed(f) = s.on_response(&bad, 1) else {
            panic!()
        };
        assert!(
            f.error.to_string().contains("apikey, secret or AES key"),
            "{}",
            f.error
        );
        // A test with a cached token still asks for a new one.
        let mut s = holding("T", i64::MAX).fresh_token();
        assert!(sent(&s.start(0)).url.ends_with("/token"));
        let Step::Done(sum) = s.on_response(&token_reply("N"), 1) else {
            panic!()
        };
        assert_eq!(sum.tokens, 1);
    }

    #[test]
    fn a_cached_token_near_expiry_is_renewed_before_use() {
        let mut s = holding("T", 1_000_000).pulling(1);
        assert!(sent(&s.start(1_000_000 - TOKEN_MARGIN_MS + 1))
            .url
            .ends_with("/token"));
        let mut s = holding("T", 1_000_000).pulling(1);
        assert!(sent(&s.start(0)).url.ends_with("/order"));
    }

    #[test]
    fn the_pace_has_a_floor_jitter_and_backoff() {
        let mut p = Pace::new(5);
        let first = p.next_at(0, 0.5);
        p.finished(first, true);
        let mut gaps = Vec::new();
        let mut t = first;
        for i in 0..20 {
            let next = p.next_at(t, i as f64 / 20.0);
            gaps.push(next - t);
            p.finished(next, true);
            t = next;
        }
        assert!(gaps.iter().all(|g| *g >= 60_000), "{gaps:?}");
        assert!(gaps.iter().max() > gaps.iter().min(), "jitter: {gaps:?}");
        p.finished(t, false);
        let b1 = p.next_at(t, 0.5) - t;
        p.finished(t + b1, false);
        let b2 = p.next_at(t + b1, 0.5) - (t + b1);
        assert!(b1 >= 60_000 && b2 > b1, "{b1} {b2}");
    }
}
