//! Inventory: the products (a doctor's half-day, optionally split into time periods) of
//! each clinic and day, created on first sight from the seed, released by each
//! hospital's daily `openTimeView` (`bookingRange` days ahead, by the simulated Beijing
//! clock) or explicitly (scenario `releases`, admin `release`, optionally at a time), and
//! taken by bookings or by scripted other buyers.
//!
//! Everything here runs under the platform's one state lock, so checking and taking a
//! slot is atomic: a slot is never sold twice.

use super::data::{Hospital, World};
use crate::gen::Rng;
use haoyuan_core::date::Date;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Duty codes, by index.
pub const DUTIES: [&str; 2] = ["MORNING", "AFTERNOON"];
/// Duty names in visit times.
pub const DUTY_NAMES: [&str; 2] = ["上午", "下午"];
const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// Days since 1970-01-01 of the Beijing calendar date at `ms`.
pub fn beijing_day(ms: i64) -> i64 {
    Date::from_unix_ms(ms, 480).to_days()
}

/// Unix ms of Beijing midnight starting `day`.
pub fn beijing_midnight(day: i64) -> i64 {
    day * DAY_MS - 8 * 3_600_000
}

/// Monday = 0.
pub fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// `周一` … `周日`.
pub fn week_desc(day: i64) -> &'static str {
    WEEKDAYS[weekday(day)]
}

/// `YYYY-MM-DD`.
pub fn date_string(day: i64) -> String {
    Date::from_days(day).to_string()
}

/// `2022年10月01日`.
pub fn date_cn(day: i64) -> String {
    let d = Date::from_days(day);
    format!("{:04}年{:02}月{:02}日", d.year, d.month, d.day)
}

/// When `day` opens for booking by the hospital's daily release: at `openTimeView`,
/// `bookingRange` days before.
pub fn release_instant(h: &Hospital, day: i64) -> i64 {
    beijing_midnight(day - h.booking_range) + h.open_minutes * 60_000
}

/// The hospital's next daily release instant after `now` (`fhTimestamp`).
pub fn next_release_at(h: &Hospital, now: i64) -> i64 {
    let today = beijing_day(now);
    let at = beijing_midnight(today) + h.open_minutes * 60_000;
    if now < at {
        at
    } else {
        at + DAY_MS
    }
}

/// The day the next daily release opens (shown as `TOMORROW_OPEN`).
pub fn next_release_day(h: &Hospital, now: i64) -> i64 {
    let today = beijing_day(now);
    if now < beijing_midnight(today) + h.open_minutes * 60_000 {
        today + h.booking_range
    } else {
        today + h.booking_range + 1
    }
}

/// One time period of a product.
#[derive(Clone, Debug)]
pub struct Period {
    pub key: String,
    pub duty_time: u32,
    pub view: String,
    pub remaining: u32,
    pub total: u32,
}

/// A doctor's half-day on one date.
#[derive(Clone, Debug)]
pub struct Product {
    pub key: String,
    pub doctor: String,
    pub title: String,
    pub skill: String,
    pub fee: String,
    pub remaining: u32,
    pub total: u32,
    pub periods: Vec<Period>,
}

/// The products of one clinic on one date.
#[derive(Clone, Debug)]
pub struct DeptDay {
    pub hos: usize,
    pub day: i64,
    /// The daily release instant of this date.
    pub daily_open_at: i64,
    /// Set by an explicit release: open from then on whatever the daily window says.
    pub forced_open_at: Option<i64>,
    pub duties: [Vec<Product>; 2],
}

impl DeptDay {
    /// Whether the date is bookable at `now` (released, and not today or past).
    pub fn is_open(&self, now: i64) -> bool {
        self.day > beijing_day(now)
            && (now >= self.daily_open_at || self.forced_open_at.is_some_and(|f| now >= f))
    }

    /// Free slots over both duties.
    pub fn remaining(&self) -> u32 {
        self.duties.iter().flatten().map(|p| p.remaining).sum()
    }

    /// Whether the clinic has no product at all that day.
    pub fn is_empty(&self) -> bool {
        self.duties.iter().all(Vec::is_empty)
    }
}

/// No slot left to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoldOut;

/// Where a `uniqProductKey` points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRef {
    pub clinic: usize,
    pub day: i64,
    pub duty: usize,
    pub product: usize,
    pub period: Option<usize>,
}

/// A release asked for (resolved to a clinic and a day).
#[derive(Clone, Debug)]
pub struct Release {
    pub clinic: usize,
    pub day: i64,
    pub duty: usize,
    pub count: u32,
    pub doctor: Option<String>,
    pub title: Option<String>,
    pub fee: Option<String>,
}

/// A resolved competitor rule.
#[derive(Clone, Debug)]
pub struct Competitor {
    pub hos: Option<usize>,
    pub clinic: Option<usize>,
    pub day: Option<i64>,
    pub duty: Option<usize>,
    pub within_ms: i64,
    pub take: Option<u32>,
}

impl Competitor {
    fn matches(&self, hos: usize, clinic: usize, day: i64) -> bool {
        self.hos.is_none_or(|h| h == hos)
            && self.clinic.is_none_or(|c| c == clinic)
            && self.day.is_none_or(|d| d == day)
    }
}

#[derive(Clone, Debug)]
struct TakeEvent {
    at: i64,
    clinic: usize,
    day: i64,
    duty: Option<usize>,
    /// Only this product (the one an explicit release added to).
    product: Option<String>,
    count: Option<u32>,
}

#[derive(Clone, Debug)]
struct Scheduled {
    at: i64,
    release: Release,
}

/// What the inventory needs to know about the loaded world.
pub struct Env<'a> {
    pub world: &'a World,
    pub seed: u64,
    pub sold_out_ratio: f64,
    pub competitors: &'a [Competitor],
    pub loaded_at: i64,
}

/// Every product seen so far and the events waiting on the clock.
#[derive(Debug, Default)]
pub struct Inventory {
    days: HashMap<(usize, i64), DeptDay>,
    keys: HashMap<String, SlotRef>,
    scheduled: Vec<Scheduled>,
    takes: Vec<TakeEvent>,
    /// Slots other buyers took, for the admin API.
    pub taken_by_others: Vec<Value>,
    seq: u64,
}

impl Inventory {
    /// The day's products, if created.
    pub fn get(&self, clinic: usize, day: i64) -> Option<&DeptDay> {
        self.days.get(&(clinic, day))
    }

    /// Where a product key points.
    pub fn lookup(&self, key: &str) -> Option<SlotRef> {
        self.keys.get(key).copied()
    }

    /// The product (and period) a slot reference names.
    pub fn product(&self, s: SlotRef) -> Option<(&DeptDay, &Product, Option<&Period>)> {
        let dd = self.days.get(&(s.clinic, s.day))?;
        let p = dd.duties.get(s.duty)?.get(s.product)?;
        let period = match s.period {
            Some(i) => Some(p.periods.get(i)?),
            None => None,
        };
        Some((dd, p, period))
    }

    /// The earliest time an event is due (`i64::MAX` when none).
    pub fn next_due(&self) -> i64 {
        self.scheduled
            .iter()
            .map(|s| s.at)
            .chain(self.takes.iter().map(|t| t.at))
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Makes sure the day exists (generated from the seed on first sight), then applies
    /// whatever is due.
    pub fn ensure(&mut self, env: &Env, clinic: usize, day: i64, now: i64) {
        if !self.days.contains_key(&(clinic, day)) {
            let dd = generate_day(env, clinic, day, now);
            self.insert_day(env, clinic, dd, now);
        }
        self.settle(env, now);
    }

    /// Replaces a day's products with declared ones (scenario `inventory`), each with
    /// its duty.
    pub fn declare(
        &mut self,
        env: &Env,
        clinic: usize,
        day: i64,
        products: Vec<(usize, Product)>,
        now: i64,
    ) {
        let hos = env.world.clinics[clinic].hos;
        if let Some(old) = self.days.remove(&(clinic, day)) {
            for p in old.duties.iter().flatten() {
                self.keys.remove(&p.key);
                for per in &p.periods {
                    self.keys.remove(&per.key);
                }
            }
        }
        let mut dd = DeptDay {
            hos,
            day,
            daily_open_at: release_instant(&env.world.hospitals[hos], day),
            forced_open_at: None,
            duties: [Vec::new(), Vec::new()],
        };
        for (duty, p) in products {
            dd.duties[duty.min(1)].push(p);
        }
        self.insert_day(env, clinic, dd, now);
    }

    fn insert_day(&mut self, env: &Env, clinic: usize, dd: DeptDay, now: i64) {
        let day = dd.day;
        for (duty, products) in dd.duties.iter().enumerate() {
            for (pi, p) in products.iter().enumerate() {
                self.keys.insert(
                    p.key.clone(),
                    SlotRef {
                        clinic,
                        day,
                        duty,
                        product: pi,
                        period: None,
                    },
                );
                for (i, per) in p.periods.iter().enumerate() {
                    self.keys.insert(
                        per.key.clone(),
                        SlotRef {
                            clinic,
                            day,
                            duty,
                            product: pi,
                            period: Some(i),
                        },
                    );
                }
            }
        }
        // Other buyers pounce on daily releases that happen while the sandbox runs.
        if dd.daily_open_at > env.loaded_at && dd.daily_open_at > now - DAY_MS {
            for c in env.competitors {
                if c.matches(dd.hos, clinic, day) {
                    self.takes.push(TakeEvent {
                        at: dd.daily_open_at.saturating_add(c.within_ms.max(0)),
                        clinic,
                        day,
                        duty: c.duty,
                        product: None,
                        count: c.take,
                    });
                }
            }
        }
        self.days.insert((clinic, day), dd);
    }

    /// Applies every release and competitor purchase due at `now`, in time order.
    pub fn settle(&mut self, env: &Env, now: i64) {
        loop {
            let rel = self
                .scheduled
                .iter()
                .enumerate()
                .filter(|(_, s)| s.at <= now)
                .min_by_key(|(_, s)| s.at)
                .map(|(i, s)| (i, s.at));
            let take = self
                .takes
                .iter()
                .enumerate()
                .filter(|(_, t)| t.at <= now)
                .min_by_key(|(_, t)| t.at)
                .map(|(i, t)| (i, t.at));
            match (rel, take) {
                (Some((ri, ra)), t) if t.is_none_or(|(_, ta)| ra <= ta) => {
                    let s = self.scheduled.remove(ri);
                    self.apply_release(env, &s.release, s.at, now);
                }
                (_, Some((ti, _))) => {
                    let t = self.takes.remove(ti);
                    self.apply_take(&t);
                }
                _ => return,
            }
        }
    }

    /// Releases now, or schedules the release for `at`.
    pub fn release(&mut self, env: &Env, r: Release, at: i64, now: i64) -> Value {
        if at > now {
            self.scheduled.push(Scheduled {
                at,
                release: r.clone(),
            });
            return json!({"scheduled": true, "at_ms": at, "date": date_string(r.day),
                "dutyCode": DUTIES[r.duty], "count": r.count});
        }
        let v = self.apply_release(env, &r, at, now);
        self.settle(env, now);
        v
    }

    fn apply_release(&mut self, env: &Env, r: &Release, at: i64, now: i64) -> Value {
        if !self.days.contains_key(&(r.clinic, r.day)) {
            let dd = generate_day(env, r.clinic, r.day, now);
            self.insert_day(env, r.clinic, dd, now);
        }
        self.seq += 1;
        let seq = self.seq;
        let clinic = &env.world.clinics[r.clinic];
        let Some(dd) = self.days.get_mut(&(r.clinic, r.day)) else {
            return Value::Null;
        };
        dd.forced_open_at = Some(dd.forced_open_at.map_or(at, |f| f.min(at)));
        let products = &mut dd.duties[r.duty];
        let found = products.iter().position(|p| match &r.doctor {
            Some(d) => &p.doctor == d,
            None => true,
        });
        let pi = match found {
            Some(i) => i,
            None => {
                let mut rng = Rng::new(env.seed).fork(&format!(
                    "114yygh/release/{}/{}/{}",
                    clinic.code, r.day, seq
                ));
                let doc = clinic.doctors.first();
                let title = r
                    .title
                    .clone()
                    .or_else(|| doc.map(|d| d.title.clone()))
                    .unwrap_or_else(|| "主治医师".into());
                products.push(Product {
                    key: rng.hex(40),
                    doctor: r
                        .doctor
                        .clone()
                        .or_else(|| doc.map(|d| d.name.clone()))
                        .unwrap_or_else(|| "医生".into()),
                    title,
                    skill: doc.map(|d| d.skill.clone()).unwrap_or_default(),
                    fee: r
                        .fee
                        .clone()
                        .or_else(|| doc.map(|d| d.fee.clone()))
                        .unwrap_or_else(|| "50".into()),
                    remaining: 0,
                    total: 0,
                    periods: Vec::new(),
                });
                let pi = products.len() - 1;
                self.keys.insert(
                    products[pi].key.clone(),
                    SlotRef {
                        clinic: r.clinic,
                        day: r.day,
                        duty: r.duty,
                        product: pi,
                        period: None,
                    },
                );
                pi
            }
        };
        let p = &mut products[pi];
        if let Some(per) = p.periods.first_mut() {
            per.remaining = per.remaining.saturating_add(r.count);
            per.total = per.total.saturating_add(r.count);
        }
        p.remaining = p.remaining.saturating_add(r.count);
        p.total = p.total.saturating_add(r.count);
        let v = json!({
            "scheduled": false,
            "at_ms": at,
            "date": date_string(r.day),
            "dutyCode": DUTIES[r.duty],
            "uniqProductKey": p.key,
            "doctorName": p.doctor,
            "remaining": p.remaining,
        });
        let hos = clinic.hos;
        let key = p.key.clone();
        for c in env.competitors {
            if c.matches(hos, r.clinic, r.day) && c.duty.is_none_or(|d| d == r.duty) {
                self.takes.push(TakeEvent {
                    at: at.saturating_add(c.within_ms.max(0)),
                    clinic: r.clinic,
                    day: r.day,
                    duty: Some(r.duty),
                    product: Some(key.clone()),
                    count: c.take,
                });
            }
        }
        v
    }

    fn apply_take(&mut self, t: &TakeEvent) {
        let Some(dd) = self.days.get_mut(&(t.clinic, t.day)) else {
            return;
        };
        let mut left = t.count.unwrap_or(u32::MAX);
        for (duty, products) in dd.duties.iter_mut().enumerate() {
            if t.duty.is_some_and(|d| d != duty) {
                continue;
            }
            for p in products {
                if t.product.as_ref().is_some_and(|k| *k != p.key) {
                    continue;
                }
                while left > 0 && p.remaining > 0 {
                    take_from(p, None);
                    left -= 1;
                    self.taken_by_others.push(json!({
                        "at_ms": t.at,
                        "date": date_string(t.day),
                        "dutyCode": DUTIES[duty],
                        "uniqProductKey": p.key,
                        "doctorName": p.doctor,
                    }));
                }
            }
        }
    }

    /// Takes one slot of a product (of a period when given, else of the first period
    /// with one left). Returns the period taken, or [`SoldOut`].
    pub fn take(&mut self, s: SlotRef) -> Result<Option<usize>, SoldOut> {
        let p = self
            .days
            .get_mut(&(s.clinic, s.day))
            .and_then(|dd| dd.duties.get_mut(s.duty))
            .and_then(|ps| ps.get_mut(s.product))
            .ok_or(SoldOut)?;
        if p.remaining == 0 {
            return Err(SoldOut);
        }
        if let Some(i) = s.period {
            if p.periods.get(i).is_none_or(|per| per.remaining == 0) {
                return Err(SoldOut);
            }
        }
        Ok(take_from(p, s.period))
    }

    /// Gives a slot back (a cancelled order).
    pub fn give_back(&mut self, s: SlotRef) {
        if let Some(p) = self
            .days
            .get_mut(&(s.clinic, s.day))
            .and_then(|dd| dd.duties.get_mut(s.duty))
            .and_then(|ps| ps.get_mut(s.product))
        {
            p.remaining += 1;
            if let Some(per) = s.period.and_then(|i| p.periods.get_mut(i)) {
                per.remaining += 1;
            }
        }
    }
}

fn take_from(p: &mut Product, period: Option<usize>) -> Option<usize> {
    p.remaining = p.remaining.saturating_sub(1);
    let i = match period {
        Some(i) => Some(i),
        None => p.periods.iter().position(|per| per.remaining > 0),
    };
    if let Some(per) = i.and_then(|i| p.periods.get_mut(i)) {
        per.remaining = per.remaining.saturating_sub(1);
    }
    i
}

/// A product built from a declaration or a generated doctor.
#[allow(clippy::too_many_arguments)]
pub fn make_product(
    rng: &mut Rng,
    duty: usize,
    doctor: String,
    title: String,
    skill: String,
    fee: String,
    total: u32,
    remaining: u32,
    with_periods: bool,
) -> Product {
    let key = rng.hex(40);
    let mut periods = Vec::new();
    if with_periods && total > 0 {
        let k = (rng.range(2, 5) as u32).min(total);
        let start = if duty == 0 { 8 * 60 } else { 13 * 60 + 30 };
        for i in 0..k {
            let from = start + i64::from(i) * 30;
            periods.push(Period {
                key: rng.hex(40),
                duty_time: i + 1,
                view: format!(
                    "{:02}:{:02}-{:02}:{:02}",
                    from / 60,
                    from % 60,
                    (from + 30) / 60,
                    (from + 30) % 60
                ),
                remaining: 0,
                total: total / k + u32::from(i < total % k),
            });
        }
        // Spread what is left over the periods in a random order.
        let mut order: Vec<usize> = (0..periods.len()).collect();
        rng.shuffle(&mut order);
        let mut left = remaining.min(total);
        for i in order {
            let r = periods[i].total.min(left);
            periods[i].remaining = r;
            left -= r;
        }
    }
    Product {
        key,
        doctor,
        title,
        skill,
        fee,
        remaining,
        total,
        periods,
    }
}

fn generate_day(env: &Env, clinic: usize, day: i64, now: i64) -> DeptDay {
    let c = &env.world.clinics[clinic];
    let h = &env.world.hospitals[c.hos];
    let daily_open_at = release_instant(h, day);
    let mut rng = Rng::new(env.seed).fork(&format!("114yygh/day/{}/{}/{}", h.code, c.code, day));
    let wd = weekday(day);
    let already_open = now >= daily_open_at;
    let mut duties = [Vec::new(), Vec::new()];
    for (duty, products) in duties.iter_mut().enumerate() {
        for d in &c.doctors {
            let cap = d.shifts[wd][duty];
            if cap == 0 {
                continue;
            }
            let remaining = if !already_open {
                cap
            } else if rng.chance(env.sold_out_ratio) {
                0
            } else {
                rng.range(1, u64::from(cap) + 1) as u32
            };
            products.push(make_product(
                &mut rng,
                duty,
                d.name.clone(),
                d.title.clone(),
                d.skill.clone(),
                d.fee.clone(),
                cap,
                remaining,
                h.periods,
            ));
        }
    }
    DeptDay {
        hos: c.hos,
        day,
        daily_open_at,
        forced_open_at: None,
        duties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::generate(5, 20, &[]).unwrap()
    }

    #[test]
    fn daily_release_opens_booking_range_days_ahead_at_open_time() {
        let w = world();
        let mut h = w.hospitals[0].clone();
        h.open_minutes = 8 * 60 + 30;
        h.booking_range = 7;
        let today = Date::parse("2026-11-27").unwrap().to_days();
        let before = beijing_midnight(today) + 8 * 3_600_000; // 08:00 Beijing
        let after = before + 3_600_000; // 09:00
        assert_eq!(beijing_day(before), today);
        assert_eq!(next_release_day(&h, before), today + 7);
        assert_eq!(next_release_day(&h, after), today + 8);
        assert_eq!(release_instant(&h, today + 7), before + 30 * 60_000);
        assert_eq!(next_release_at(&h, before), before + 30 * 60_000);
        assert_eq!(next_release_at(&h, after), before + 30 * 60_000 + DAY_MS);
        assert_eq!(week_desc(today), "周五");
        assert_eq!(date_cn(today), "2026年11月27日");
    }

    #[test]
    fn taking_stops_at_zero_and_giving_back_restores() {
        let w = world();
        let env = Env {
            world: &w,
            seed: 1,
            sold_out_ratio: 0.0,
            competitors: &[],
            loaded_at: 0,
        };
        let mut inv = Inventory::default();
        let mut rng = Rng::new(1);
        let p = make_product(
            &mut rng,
            0,
            "张伟".into(),
            "主任医师".into(),
            String::new(),
            "100".into(),
            2,
            2,
            true,
        );
        let key = p.key.clone();
        inv.declare(&env, 0, 30_000, vec![(0, p)], 0);
        let s = inv.lookup(&key).unwrap();
        assert!(inv.take(s).is_ok());
        assert!(inv.take(s).is_ok());
        assert!(inv.take(s).is_err());
        inv.give_back(SlotRef {
            period: Some(0),
            ..s
        });
        let (_, p, _) = inv.product(s).unwrap();
        assert_eq!(p.remaining, 1);
        assert_eq!(p.periods.iter().map(|x| x.remaining).sum::<u32>(), 1);
    }
}
