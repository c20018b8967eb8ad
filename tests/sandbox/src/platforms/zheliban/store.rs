//! The platform's reservation store and its delivery semantics, without HTTP:
//!
//! - every record has a version; a new reservation is version 1 (`orderStatus` 1), each
//!   reschedule (`orderStatus` 2) or cancellation (`orderStatus` 5) makes a new version;
//! - a record is *unsynced* while its newest version is not acked; every pull
//!   (`sync/order`) delivers up to a batch of unsynced records of the puller's hospital,
//!   oldest first, under a fresh `requestId`, and delivers them again in every later pull
//!   until they are acked;
//! - an ack by `requestId` acks the versions that batch delivered; an ack by
//!   `serialNumber` acks the newest delivered version of that record. A version delivered
//!   after the ack (a reschedule, a cancellation) stays unsynced and is delivered again;
//! - arrivals (`sync/arrival`) are recorded per record.

use super::data::{self, Fields, Fv, Hospital};
use crate::gen::Rng;
use haoyuan_core::date::Date;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// How many batches are remembered for acks by `requestId`.
const BATCHES_KEPT: usize = 10_000;

/// How dictionary codes are written in generated records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStyle {
    /// As numbers (`"cardType": 1`), like the seed's example reply.
    Number,
    /// As strings (`"cardType": "1"`), like the seed's field table.
    String,
    /// Either, per record.
    Mixed,
}

/// One reservation and its sync state.
#[derive(Clone, Debug)]
pub struct Record {
    pub serial: String,
    pub hospital: usize,
    /// 1 new, 2 rescheduled, 5 cancelled.
    pub status: u8,
    pub check_date: String,
    pub fields: Fields,
    pub codes_as_strings: bool,
    /// How this record breaks the dictionaries, if it does (see [`data::MALFORMED_KINDS`]).
    pub malformed: Option<String>,
    pub version: u32,
    /// The JSON object's inside as delivered (without `requestId`).
    pub fragment: Arc<str>,
    pub delivered_version: u32,
    pub acked_version: u32,
    pub deliveries: u32,
    pub last_request_id: Option<String>,
    pending_key: Option<u64>,
    pub arrive_date: Option<String>,
    pub arrivals: u32,
    pub created_at: i64,
    pub history: Vec<Value>,
}

impl Record {
    fn render(&self) -> Fields {
        let mut f = self.fields.clone();
        if let Some(kind) = &self.malformed {
            data::malform(&mut f, kind);
        }
        f
    }
}

struct Batch {
    hospital: usize,
    items: Vec<(usize, u32)>,
}

/// Why an ack, an arrival or an admin change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StoreError {
    /// No such `requestId` / `serialNumber` (for this hospital).
    Unknown,
    /// The record is cancelled.
    Cancelled,
    /// Bad input to an admin action, in words.
    Bad(String),
}

/// A scripted or admin change.
#[derive(Clone, Debug)]
pub enum Change {
    Reschedule {
        serial: String,
        date: Option<Date>,
    },
    Cancel {
        serial: String,
    },
    Add {
        hospital: usize,
        count: usize,
    },
    Malformed {
        hospital: usize,
        count: usize,
        kinds: Vec<String>,
    },
}

/// Every reservation of every hospital.
pub struct Store {
    pub hospitals: Vec<Hospital>,
    pub style: CodeStyle,
    records: Vec<Record>,
    by_serial: HashMap<String, usize>,
    pending: Vec<BTreeMap<u64, usize>>,
    next_key: u64,
    next_seq: Vec<u64>,
    batches: HashMap<String, Batch>,
    batch_order: VecDeque<String>,
    malformed_next: usize,
    rng: Rng,
}

impl Store {
    /// An empty store for these hospitals; `rng` makes records and request ids.
    pub fn new(hospitals: Vec<Hospital>, style: CodeStyle, rng: Rng) -> Store {
        let n = hospitals.len();
        Store {
            hospitals,
            style,
            records: Vec::new(),
            by_serial: HashMap::new(),
            pending: vec![BTreeMap::new(); n],
            next_key: 0,
            next_seq: vec![1; n],
            batches: HashMap::new(),
            batch_order: VecDeque::new(),
            malformed_next: 0,
            rng,
        }
    }

    /// A fresh 32-hex-digit `requestId`.
    pub fn request_id(&mut self) -> String {
        self.rng.hex(32)
    }

    /// The index of the hospital with this `hospitalCode`.
    pub fn hospital_index(&self, code: &str) -> Option<usize> {
        self.hospitals.iter().position(|h| h.code == code)
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn next_serial(&mut self, h: usize) -> String {
        loop {
            let s = format!("{}-{}", self.hospitals[h].prefix, self.next_seq[h]);
            self.next_seq[h] += 1;
            if !self.by_serial.contains_key(&s) {
                return s;
            }
        }
    }

    fn codes_as_strings(&mut self) -> bool {
        match self.style {
            CodeStyle::Number => false,
            CodeStyle::String => true,
            CodeStyle::Mixed => self.rng.chance(0.5),
        }
    }

    fn mark_pending(&mut self, i: usize) {
        let r = &mut self.records[i];
        if r.acked_version < r.version && r.pending_key.is_none() {
            r.pending_key = Some(self.next_key);
            self.pending[r.hospital].insert(self.next_key, i);
            self.next_key += 1;
        }
    }

    fn rerender(&mut self, i: usize, now: i64) {
        let r = &mut self.records[i];
        r.fragment = Arc::from(r.render().fragment());
        r.history.push(json!({
            "version": r.version, "orderStatus": r.status, "checkDate": r.check_date, "at": now
        }));
    }

    fn insert(&mut self, mut r: Record, now: i64) -> String {
        let serial = r.serial.clone();
        r.version = 1;
        let i = self.records.len();
        self.by_serial.insert(serial.clone(), i);
        self.records.push(r);
        self.rerender(i, now);
        self.mark_pending(i);
        serial
    }

    fn blank(&mut self, h: usize, now: i64, today: Date, serial: String) -> Record {
        let strings = self.codes_as_strings();
        let hospital = self.hospitals[h].clone();
        let g = data::reservation(&mut self.rng, &hospital, &serial, today, strings);
        Record {
            serial,
            hospital: h,
            status: 1,
            check_date: g.check_date.to_string(),
            fields: g.fields,
            codes_as_strings: strings,
            malformed: None,
            version: 0,
            fragment: Arc::from(""),
            delivered_version: 0,
            acked_version: 0,
            deliveries: 0,
            last_request_id: None,
            pending_key: None,
            arrive_date: None,
            arrivals: 0,
            created_at: now,
            history: Vec::new(),
        }
    }

    /// Adds `count` generated new reservations to hospital `h`; their serial numbers.
    pub fn add_generated(&mut self, h: usize, count: usize, now: i64, today: Date) -> Vec<String> {
        (0..count)
            .map(|_| {
                let serial = self.next_serial(h);
                let r = self.blank(h, now, today, serial);
                self.insert(r, now)
            })
            .collect()
    }

    /// Adds a reservation of hospital `h` whose generated fields are overridden by
    /// `overrides` (seed field names; `serialNumber`, `orderStatus` and `checkDate`
    /// are checked).
    pub fn add_with(
        &mut self,
        h: usize,
        overrides: &Map<String, Value>,
        now: i64,
        today: Date,
    ) -> Result<String, StoreError> {
        let serial = match overrides.get("serialNumber") {
            None | Some(Value::Null) => self.next_serial(h),
            Some(Value::String(s)) if !s.is_empty() => {
                if self.by_serial.contains_key(s) {
                    return Err(StoreError::Bad(format!("serialNumber {s} exists already")));
                }
                s.clone()
            }
            Some(v) => return Err(StoreError::Bad(format!("bad serialNumber {v}"))),
        };
        let mut r = self.blank(h, now, today, serial);
        for (k, v) in overrides {
            if k == "requestId" {
                continue;
            }
            let fv = match (k.as_str(), v) {
                ("examinationFee", Value::Number(n)) => match n.as_f64() {
                    Some(x) => data::fee((x * 100.0).round() as i64),
                    None => Fv::Json(v.clone()),
                },
                _ => Fv::Json(v.clone()),
            };
            r.fields.set(k, fv);
        }
        if let Some(v) = overrides.get("orderStatus") {
            let code = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            match code {
                Some(c @ (1 | 2 | 5)) => r.status = c as u8,
                _ => return Err(StoreError::Bad(format!("orderStatus {v} is not 1, 2 or 5"))),
            }
        }
        if let Some(v) = overrides.get("checkDate") {
            match v.as_str().map(Date::parse) {
                Some(Ok(d)) => r.check_date = d.to_string(),
                _ => return Err(StoreError::Bad(format!("checkDate {v} is not YYYY-MM-DD"))),
            }
        }
        Ok(self.insert(r, now))
    }

    /// Adds `count` records of hospital `h` that break the dictionaries or miss fields,
    /// cycling through `kinds` (all of [`data::MALFORMED_KINDS`] when empty).
    pub fn add_malformed(
        &mut self,
        h: usize,
        count: usize,
        kinds: &[String],
        now: i64,
        today: Date,
    ) -> Result<Vec<String>, StoreError> {
        let all: Vec<String> = data::MALFORMED_KINDS
            .iter()
            .map(|k| k.to_string())
            .collect();
        let kinds = if kinds.is_empty() { &all } else { kinds };
        if let Some(k) = kinds.iter().find(|k| !all.contains(k)) {
            return Err(StoreError::Bad(format!(
                "unknown malformation “{k}” (known: {})",
                all.join(", ")
            )));
        }
        Ok((0..count)
            .map(|_| {
                let kind = kinds[self.malformed_next % kinds.len()].clone();
                self.malformed_next += 1;
                let serial = self.next_serial(h);
                let mut r = self.blank(h, now, today, serial);
                r.malformed = Some(kind);
                self.insert(r, now)
            })
            .collect())
    }

    fn change_version(&mut self, i: usize, status: u8, date: Option<String>, now: i64) {
        let strings = self.records[i].codes_as_strings;
        let r = &mut self.records[i];
        r.status = status;
        r.fields
            .set("orderStatus", data::code(i64::from(status), strings));
        if let Some(d) = date {
            r.fields
                .set("checkDate", Fv::Json(Value::String(d.clone())));
            r.check_date = d;
        }
        r.version += 1;
        self.rerender(i, now);
        self.mark_pending(i);
    }

    fn index(&self, serial: &str) -> Result<usize, StoreError> {
        self.by_serial
            .get(serial)
            .copied()
            .ok_or(StoreError::Unknown)
    }

    /// Reschedules a record (`orderStatus` 2) to `date`, or 1–14 days after its current
    /// `checkDate` when `None`.
    pub fn reschedule(
        &mut self,
        serial: &str,
        date: Option<Date>,
        now: i64,
        today: Date,
    ) -> Result<String, StoreError> {
        let i = self.index(serial)?;
        if self.records[i].status == 5 {
            return Err(StoreError::Cancelled);
        }
        let date = match date {
            Some(d) => d,
            None => {
                let base = Date::parse(&self.records[i].check_date).unwrap_or(today);
                Date::from_days(base.to_days() + self.rng.range(1, 15) as i64)
            }
        };
        self.change_version(i, 2, Some(date.to_string()), now);
        Ok(date.to_string())
    }

    /// Cancels a record (`orderStatus` 5).
    pub fn cancel(&mut self, serial: &str, now: i64) -> Result<(), StoreError> {
        let i = self.index(serial)?;
        if self.records[i].status == 5 {
            return Err(StoreError::Cancelled);
        }
        self.change_version(i, 5, None, now);
        Ok(())
    }

    /// Applies a scripted or admin change.
    pub fn apply(&mut self, c: &Change, now: i64, today: Date) -> Result<Value, StoreError> {
        match c {
            Change::Reschedule { serial, date } => self
                .reschedule(serial, *date, now, today)
                .map(|d| json!({"serialNumber": serial, "checkDate": d, "orderStatus": 2})),
            Change::Cancel { serial } => self
                .cancel(serial, now)
                .map(|()| json!({"serialNumber": serial, "orderStatus": 5})),
            Change::Add { hospital, count } => Ok(json!({
                "serialNumbers": self.add_generated(*hospital, *count, now, today)
            })),
            Change::Malformed {
                hospital,
                count,
                kinds,
            } => self
                .add_malformed(*hospital, *count, kinds, now, today)
                .map(|s| json!({ "serialNumbers": s })),
        }
    }

    /// A pull by hospital `h`: up to `n` unsynced records (oldest first), delivered under
    /// `request_id`. Returns their JSON fragments; an empty pull makes no batch.
    pub fn pull(&mut self, h: usize, n: usize, request_id: &str) -> Vec<Arc<str>> {
        let Some(pending) = self.pending.get(h) else {
            return Vec::new();
        };
        let idxs: Vec<usize> = pending.values().take(n).copied().collect();
        if idxs.is_empty() {
            return Vec::new();
        }
        let mut items = Vec::with_capacity(idxs.len());
        let mut frags = Vec::with_capacity(idxs.len());
        for i in idxs {
            let r = &mut self.records[i];
            r.deliveries += 1;
            r.delivered_version = r.version;
            r.last_request_id = Some(request_id.to_string());
            items.push((i, r.version));
            frags.push(r.fragment.clone());
        }
        if self.batch_order.len() >= BATCHES_KEPT {
            if let Some(old) = self.batch_order.pop_front() {
                self.batches.remove(&old);
            }
        }
        self.batch_order.push_back(request_id.to_string());
        self.batches
            .insert(request_id.to_string(), Batch { hospital: h, items });
        frags
    }

    fn ack_version(&mut self, i: usize, v: u32) -> bool {
        let r = &mut self.records[i];
        if v <= r.acked_version {
            return false;
        }
        r.acked_version = v;
        if r.acked_version >= r.version {
            if let Some(k) = r.pending_key.take() {
                self.pending[r.hospital].remove(&k);
            }
        }
        true
    }

    /// Acks the batch `request_id` of hospital `h`; how many record versions it newly acked.
    pub fn ack_batch(&mut self, h: usize, request_id: &str) -> Result<usize, StoreError> {
        let items = match self.batches.get(request_id) {
            Some(b) if b.hospital == h => b.items.clone(),
            _ => return Err(StoreError::Unknown),
        };
        Ok(items
            .into_iter()
            .filter(|&(i, v)| self.ack_version(i, v))
            .count())
    }

    /// Acks the newest delivered version of one record of hospital `h`.
    pub fn ack_serial(&mut self, h: usize, serial: &str) -> Result<bool, StoreError> {
        let i = self.index(serial)?;
        if self.records[i].hospital != h {
            return Err(StoreError::Unknown);
        }
        let v = self.records[i].delivered_version;
        Ok(v > 0 && self.ack_version(i, v))
    }

    /// Records that a person of hospital `h` arrived at `when` (`yyyy-MM-dd HH:mm:ss`).
    pub fn arrive(&mut self, h: usize, serial: &str, when: String) -> Result<(), StoreError> {
        let i = self.index(serial)?;
        let r = &mut self.records[i];
        if r.hospital != h {
            return Err(StoreError::Unknown);
        }
        if r.status == 5 {
            return Err(StoreError::Cancelled);
        }
        r.arrive_date = Some(when);
        r.arrivals += 1;
        Ok(())
    }

    /// Every record with its sync and arrival state, for the admin API.
    pub fn orders(&self) -> Value {
        Value::Array(
            self.records
                .iter()
                .map(|r| {
                    json!({
                        "serialNumber": r.serial,
                        "hospitalCode": self.hospitals[r.hospital].code,
                        "orderStatus": r.status,
                        "checkDate": r.check_date,
                        "version": r.version,
                        "deliveredVersion": r.delivered_version,
                        "ackedVersion": r.acked_version,
                        "acked": r.acked_version >= r.version,
                        "deliveries": r.deliveries,
                        "lastRequestId": r.last_request_id,
                        "arrived": r.arrive_date.is_some(),
                        "arriveDate": r.arrive_date,
                        "arrivals": r.arrivals,
                        "malformed": r.malformed,
                        "createdAt": r.created_at,
                        "history": r.history,
                        "record": r.render().to_value(),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, Date) {
        let mut rng = Rng::new(5);
        let h = data::hospital(&mut rng, 0);
        let h2 = data::hospital(&mut rng, 1);
        (
            Store::new(vec![h, h2], CodeStyle::Number, rng),
            Date::parse("2026-03-01").unwrap(),
        )
    }

    fn serials(frags: &[Arc<str>]) -> Vec<String> {
        frags
            .iter()
            .map(|f| {
                let v: Value = serde_json::from_str(&format!("{{{f}}}")).unwrap();
                v["serialNumber"].as_str().unwrap_or("").to_string()
            })
            .collect()
    }

    #[test]
    fn unacked_records_come_back_until_acked() {
        let (mut s, today) = store();
        let added = s.add_generated(0, 5, 0, today);
        assert_eq!(added[0], "ZJ109-1");
        assert_eq!(serials(&s.pull(0, 3, "a")), added[..3]);
        // No ack: the same records again, then the rest once they are acked.
        assert_eq!(serials(&s.pull(0, 3, "b")), added[..3]);
        assert_eq!(s.ack_batch(0, "b"), Ok(3));
        assert_eq!(s.ack_batch(0, "a"), Ok(0));
        assert_eq!(serials(&s.pull(0, 3, "c")), added[3..]);
        assert_eq!(s.ack_serial(0, "ZJ109-4"), Ok(true));
        assert_eq!(serials(&s.pull(0, 3, "d")), ["ZJ109-5"]);
        assert_eq!(s.ack_batch(1, "d"), Err(StoreError::Unknown));
        assert_eq!(s.ack_batch(0, "nope"), Err(StoreError::Unknown));
        assert_eq!(s.ack_serial(1, "ZJ109-5"), Err(StoreError::Unknown));
        assert_eq!(s.ack_batch(0, "d"), Ok(1));
        assert!(s.pull(0, 3, "e").is_empty());
        // The other hospital never sees these.
        assert!(s.pull(1, 3, "f").is_empty());
    }

    #[test]
    fn changes_after_delivery_are_delivered_again() {
        let (mut s, today) = store();
        s.add_generated(0, 2, 0, today);
        s.pull(0, 10, "a");
        // Rescheduled after delivery, before the ack: the ack covers version 1 only.
        s.reschedule("ZJ109-1", Date::parse("2026-04-01").ok(), 1, today)
            .unwrap();
        assert_eq!(s.ack_batch(0, "a"), Ok(2));
        let f = s.pull(0, 10, "b");
        assert_eq!(serials(&f), ["ZJ109-1"]);
        assert!(f[0].contains("\"orderStatus\":2") && f[0].contains("2026-04-01"));
        s.ack_batch(0, "b").unwrap();
        s.cancel("ZJ109-2", 2).unwrap();
        assert_eq!(s.cancel("ZJ109-2", 2), Err(StoreError::Cancelled));
        assert_eq!(
            s.reschedule("ZJ109-2", None, 2, today),
            Err(StoreError::Cancelled)
        );
        let f = s.pull(0, 10, "c");
        assert_eq!(serials(&f), ["ZJ109-2"]);
        assert!(f[0].contains("\"orderStatus\":5"));
        assert_eq!(
            s.arrive(0, "ZJ109-2", "x".into()),
            Err(StoreError::Cancelled)
        );
        assert_eq!(s.arrive(0, "ZJ109-1", "2026-04-01 08:00:00".into()), Ok(()));
    }
}
