//! The simulated hospital behind pati_service: one tenant, its departments, doctors,
//! AM/PM sessions (排班) with numbered serials (序号) and times, the accounts with their
//! family members (就诊人), the bookings, and the event queue that applies scheduled
//! releases, other buyers and payment time-outs on the simulated clock.
//!
//! Everything here is synchronous and lock-free; [`super::Pati`] holds the world behind
//! one `RwLock` and takes the write lock across every check-and-take, so a serial can
//! never be sold twice.

use super::config::{self, AccountCfg, Config, DeptCfg, DoctorCfg, MemberCfg, Spec};
use crate::gen::{self, Rng};
use haoyuan_core::date::Date;
use serde_json::{json, Value};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
const BJ_OFFSET_MS: i64 = 8 * 3_600_000;

/// Reply codes of the `{"code", "msg", "data"}` envelope (the table with messages is in
/// the parent module's doc).
pub mod code {
    pub const OK: i32 = 0;
    pub const NOT_LOGGED_IN: i32 = 401;
    pub const SYSTEM: i32 = 500;
    pub const BAD_PARAM: i32 = 1001;
    pub const NO_TENANT: i32 = 1002;
    pub const NO_DEPT: i32 = 1003;
    pub const NO_DOCTOR: i32 = 1004;
    pub const BAD_LOGIN: i32 = 2001;
    pub const NO_ACCOUNT: i32 = 2002;
    pub const LOCKED: i32 = 2003;
    pub const NO_SCHEDULE: i32 = 3001;
    pub const SERIAL_TAKEN: i32 = 3002;
    pub const FULL: i32 = 3003;
    pub const DUPLICATE: i32 = 3004;
    pub const NO_MEMBER: i32 = 3005;
    pub const NO_BOOK: i32 = 3006;
    pub const CANCELLED: i32 = 3007;
    pub const TOO_LATE: i32 = 3008;
    pub const CANCEL_TOO_LATE: i32 = 3009;
    pub const SAME_PERIOD: i32 = 3010;
}

/// A business error: envelope `code` and Chinese `msg`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr(pub i32, pub String);

fn err<T>(code: i32, msg: impl Into<String>) -> Result<T, ApiErr> {
    Err(ApiErr(code, msg.into()))
}

/// Beijing calendar day (days since 1970-01-01) of Unix ms.
pub fn bj_day(ms: i64) -> i64 {
    (ms + BJ_OFFSET_MS).div_euclid(DAY_MS)
}

/// Beijing minute of the day of Unix ms.
pub fn bj_minute(ms: i64) -> i64 {
    (ms + BJ_OFFSET_MS).rem_euclid(DAY_MS) / 60_000
}

/// Unix ms of a Beijing day and minute.
pub fn ms_at(day: i64, minute: i64) -> i64 {
    day * DAY_MS + minute * 60_000 - BJ_OFFSET_MS
}

/// `YYYY-MM-DD`.
pub fn date_str(day: i64) -> String {
    Date::from_days(day).to_string()
}

/// `YYYY-MM-DD HH:MM:SS`, Beijing.
pub fn datetime_str(ms: i64) -> String {
    let local = ms + BJ_OFFSET_MS;
    let secs = local.rem_euclid(DAY_MS) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        date_str(local.div_euclid(DAY_MS)),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn hhmm(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// 1 = Monday … 7 = Sunday.
fn weekday(day: i64) -> u8 {
    ((day + 3).rem_euclid(7) + 1) as u8
}

/// Morning or afternoon session.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Period {
    Am,
    Pm,
}

impl Period {
    /// `AM`/`PM` (any case) or `上午`/`下午`.
    pub fn parse(s: &str) -> Option<Period> {
        match s.trim().to_ascii_uppercase().as_str() {
            "AM" | "上午" => Some(Period::Am),
            "PM" | "下午" => Some(Period::Pm),
            _ => None,
        }
    }

    /// First serial's minute of the day.
    fn start(self) -> i64 {
        match self {
            Period::Am => 8 * 60,
            Period::Pm => 13 * 60 + 30,
        }
    }

    /// Session end, minute of the day.
    fn end(self) -> i64 {
        match self {
            Period::Am => 11 * 60 + 30,
            Period::Pm => 16 * 60 + 30,
        }
    }

    /// `AM` or `PM`.
    pub fn name(self) -> &'static str {
        match self {
            Period::Am => "AM",
            Period::Pm => "PM",
        }
    }
}

/// A department (flat: 预约科室展示时不分级).
pub struct Dept {
    pub id: String,
    pub name: String,
    pub avatar: String,
    pub desp: String,
    pub pay: bool,
    /// Runs a 普通门诊 (sessions without a doctor).
    pub general: bool,
    pub general_fee: f64,
    pub doctors: Vec<usize>,
    building: u8,
    floor: u8,
}

/// A doctor.
pub struct Doctor {
    pub id: String,
    pub dept: usize,
    pub name: String,
    pub title: String,
    pub avatar: String,
    pub desp: String,
    /// `type`: 0 普通, 1 专家.
    pub kind: u8,
    pub fee: f64,
    pub pay: bool,
    room: u8,
}

/// Who holds a serial.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Slot {
    Free,
    /// Not released yet.
    Held,
    /// Taken by another patient (generated or a scripted competitor).
    Other,
    /// Taken by a booking made through the API.
    Booked(usize),
}

/// One numbered serial of a session.
pub struct Serial {
    pub no: u32,
    pub minute: i64,
    pub time: String,
    pub slot: Slot,
}

/// One session: a doctor's (or the department's 普通门诊) morning or afternoon.
pub struct Schedule {
    pub id: String,
    pub dept: usize,
    pub doctor: Option<usize>,
    pub day: i64,
    pub period: Period,
    pub kind: u8,
    pub fee: f64,
    pub address: String,
    /// Bookings are charged online.
    pub pay: bool,
    /// Invisible (not yet 放号) before this instant.
    pub open_at: i64,
    pub serials: Vec<Serial>,
}

/// A family member (就诊人) of an account.
pub struct Member {
    pub id: String,
    pub account: usize,
    pub name: String,
    /// 1 男, 2 女.
    pub gender: u8,
    pub birthday: Date,
    pub age: String,
    pub id_no: String,
    pub phone: String,
    pub default: bool,
    pub pati_id: String,
}

/// A member to add, as the patient entered it.
pub struct NewMember {
    pub name: String,
    /// 1 男, 2 女.
    pub gender: u8,
    pub birthday: Date,
    pub id_no: String,
    pub phone: String,
}

/// A patient account (phone + password).
pub struct Account {
    pub user_id: String,
    pub phone: String,
    pub password: String,
    pub members: Vec<usize>,
    pub failures: u32,
    pub locked_until: i64,
}

/// A WeChat prepay order made for a booking (never paid by the simulator).
pub struct PayOrder {
    pub out_trade_no: String,
    pub prepay_id: String,
    pub nonce: String,
    pub trade_type: &'static str,
    pub created: i64,
}

/// Online charging state of a booking.
pub struct Pay {
    pub paid: bool,
    pub order: Option<PayOrder>,
}

/// A booking (预约记录).
pub struct Book {
    pub id: String,
    pub code: String,
    pub account: usize,
    pub member: usize,
    pub schedule: usize,
    pub serial_no: u32,
    pub minute: i64,
    pub cancelled: bool,
    pub booked_at: i64,
    pub pay: Option<Pay>,
}

#[derive(Debug)]
enum EventKind {
    Release {
        targets: Vec<usize>,
        count: Option<u32>,
        extra: Option<(u32, u64)>,
    },
    Take {
        schedule: usize,
        n: u32,
    },
    PayExpire {
        book: usize,
    },
}

#[derive(Debug)]
struct Event {
    at: i64,
    seq: u64,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, o: &Event) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Event) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    fn cmp(&self, o: &Event) -> Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// A resolved target: absent parts match anything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    schedule: Option<usize>,
    dept: Option<usize>,
    /// `Some(None)`: the 普通门诊 only.
    doctor: Option<Option<usize>>,
    day: Option<i64>,
    period: Option<Period>,
}

struct Competitor {
    filter: Filter,
    take: u32,
    within_ms: u64,
}

/// The whole simulated tenant.
pub struct World {
    pub cfg: Config,
    pub tenant_id: String,
    pub tenant_name: String,
    pub agency_id: String,
    pub service_phone: String,
    pub depts: Vec<Dept>,
    pub doctors: Vec<Doctor>,
    pub schedules: Vec<Schedule>,
    pub accounts: Vec<Account>,
    pub members: Vec<Member>,
    pub books: Vec<Book>,
    dept_by_id: HashMap<String, usize>,
    doctor_by_id: HashMap<String, usize>,
    schedule_by_id: HashMap<String, usize>,
    schedule_at: HashMap<(usize, Option<usize>, i64, Period), usize>,
    account_by_phone: HashMap<String, usize>,
    member_by_id: HashMap<String, usize>,
    book_by_id: HashMap<String, usize>,
    events: BinaryHeap<Reverse<Event>>,
    competitors: Vec<Competitor>,
    rng: Rng,
    seq: u64,
}

fn long_id(rng: &mut Rng) -> String {
    rng.range(100_000_000_000_000_000, 999_999_999_999_999_999)
        .to_string()
}

const ID_AREAS: &[&str] = &[
    "110101", "110105", "110108", "310104", "310115", "330102", "330106", "330108", "440103",
    "440305", "320102", "320506", "510104", "420106", "610113", "370202",
];

/// A 身份证 number with a valid check digit; the 17th digit's parity gives the sex.
pub fn id_card(rng: &mut Rng, birthday: Date, gender: u8) -> String {
    let mut s = String::with_capacity(18);
    let area: &&str = rng.pick(ID_AREAS);
    s.push_str(area);
    s.push_str(&format!(
        "{:04}{:02}{:02}",
        birthday.year, birthday.month, birthday.day
    ));
    s.push_str(&rng.digits(2));
    let d = rng.range(0, 5) * 2 + u64::from(gender == 1);
    s.push_str(&d.to_string());
    s.push(id_check_digit(&s).unwrap_or('0'));
    s
}

fn id_check_digit(first17: &str) -> Option<char> {
    haoyuan_core::idcard::check_digit(first17)
}

/// A well-formed 18-digit 身份证 number (check digit, birthday): its birthday and sex
/// (1 male, 2 female).
pub fn valid_id_card(s: &str) -> Option<(Date, u8)> {
    let id = haoyuan_core::idcard::parse(s).ok()?;
    Some((id.birthday, if id.male { 1 } else { 2 }))
}

/// 年龄 as the platform writes it: `35岁`, or `8个月` under one year.
pub fn age_text(birthday: Date, today: Date) -> String {
    let mut years = i64::from(today.year) - i64::from(birthday.year);
    if (today.month, today.day) < (birthday.month, birthday.day) {
        years -= 1;
    }
    if years >= 1 {
        return format!("{years}岁");
    }
    let mut months = (i64::from(today.year) * 12 + i64::from(today.month))
        - (i64::from(birthday.year) * 12 + i64::from(birthday.month));
    if today.day < birthday.day {
        months -= 1;
    }
    format!("{}个月", months.max(0))
}

fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
}

fn fee_for(title: &str) -> (u8, f64) {
    match title {
        "主任医师" => (1, 50.0),
        "副主任医师" => (1, 30.0),
        "主治医师" => (0, 15.0),
        _ => (0, 10.0),
    }
}

impl World {
    /// A world with nothing in it (before the first load).
    pub fn empty() -> World {
        World {
            cfg: Config::default(),
            tenant_id: String::new(),
            tenant_name: String::new(),
            agency_id: String::new(),
            service_phone: String::new(),
            depts: Vec::new(),
            doctors: Vec::new(),
            schedules: Vec::new(),
            accounts: Vec::new(),
            members: Vec::new(),
            books: Vec::new(),
            dept_by_id: HashMap::new(),
            doctor_by_id: HashMap::new(),
            schedule_by_id: HashMap::new(),
            schedule_at: HashMap::new(),
            account_by_phone: HashMap::new(),
            member_by_id: HashMap::new(),
            book_by_id: HashMap::new(),
            events: BinaryHeap::new(),
            competitors: Vec::new(),
            rng: Rng::new(0),
            seq: 0,
        }
    }

    /// Generates the tenant from a seed and the scenario section, as of `now`.
    pub fn generate(seed: u64, section: &Value, now: i64) -> Result<World, String> {
        let cfg = config::parse(section)?;
        let root = Rng::new(seed).fork("pati");
        let today = bj_day(now);
        let mut w = World::empty();
        w.rng = root.fork("runtime");

        let mut r = root.fork("tenant");
        let city = *r.pick(gen::CITIES);
        let kind = *r.pick(&gen::HOSPITAL_KINDS[..4]);
        w.tenant_id = cfg.tenant.id.clone().unwrap_or_else(|| {
            r.range(10_000_000_000_000_000, 99_999_999_999_999_999)
                .to_string()
        });
        w.tenant_name = cfg
            .tenant
            .name
            .clone()
            .unwrap_or_else(|| format!("{city}市{kind}"));
        w.agency_id = long_id(&mut r);
        w.service_phone = cfg
            .tenant
            .phone
            .clone()
            .unwrap_or_else(|| format!("400-{}-{}", r.digits(3), r.digits(4)));

        let depts: Vec<DeptCfg> = match &cfg.departments {
            Some(list) => list.clone(),
            None => {
                let mut r = root.fork("dept-names");
                let mut names: Vec<&str> = gen::DEPARTMENTS
                    .iter()
                    .filter(|(first, _)| *first != "医技科室")
                    .flat_map(|(_, subs)| subs.iter().copied())
                    .collect();
                r.shuffle(&mut names);
                let n = (cfg.department_count as usize).min(names.len());
                names[..n]
                    .iter()
                    .enumerate()
                    .map(|(i, name)| DeptCfg {
                        name: name.to_string(),
                        // The last generated department charges online, so the default
                        // world shows both kinds of booking.
                        pay: n > 1 && i == n - 1,
                        ..DeptCfg::default()
                    })
                    .collect()
            }
        };
        if depts.is_empty() {
            return Err("there must be at least one department".into());
        }
        w.cfg = cfg;
        w.build_departments(&root, &depts)?;
        w.build_sessions(&root, now, today);
        w.build_accounts(&root, today)?;

        let overrides = w.cfg.schedules.clone();
        for (i, spec) in overrides.iter().enumerate() {
            w.apply_override(spec, now)
                .map_err(|e| format!("schedules[{i}]: {e}"))?;
        }
        let competitors = w.cfg.competitors.clone();
        for (i, spec) in competitors.iter().enumerate() {
            let filter = w
                .filter(spec, today)
                .map_err(|e| format!("competitors[{i}]: {e}"))?;
            w.competitors.push(Competitor {
                filter,
                take: spec.take.unwrap_or(1),
                within_ms: spec.within_ms.unwrap_or(200),
            });
        }
        // Sessions that open later on their own (the rolling window) meet the
        // competitors when they open.
        for s in 0..w.schedules.len() {
            let open_at = w.schedules[s].open_at;
            if open_at > now {
                w.schedule_competitors(s, open_at, None);
            }
        }
        let releases = w.cfg.releases.clone();
        for (i, spec) in releases.iter().enumerate() {
            w.release(spec, now)
                .map_err(|e| format!("releases[{i}]: {e}"))?;
        }
        Ok(w)
    }

    fn build_departments(&mut self, root: &Rng, depts: &[DeptCfg]) -> Result<(), String> {
        let mut r = root.fork("departments");
        let mut used_names: Vec<String> = Vec::new();
        for (di, dc) in depts.iter().enumerate() {
            if dc.name.trim().is_empty() {
                return Err(format!("departments[{di}] needs a name"));
            }
            let id = dc.id.clone().unwrap_or_else(|| long_id(&mut r));
            if self.dept_by_id.contains_key(&id) {
                return Err(format!("department id {id} is used twice"));
            }
            let dept = Dept {
                avatar: format!(
                    "https://pati-oss.oss-cn-hangzhou.aliyuncs.com/{}/dept/{id}.png",
                    self.tenant_id
                ),
                desp: format!(
                    "{}是{}重点科室，开设专家门诊和普通门诊，实行分时段预约诊疗，请按预约时间到{}候诊。",
                    dc.name, self.tenant_name, dc.name
                ),
                id: id.clone(),
                name: dc.name.clone(),
                pay: dc.pay,
                general: dc.general,
                general_fee: 8.0,
                doctors: Vec::new(),
                building: r.range(1, 4) as u8,
                floor: r.range(1, 6) as u8,
            };
            self.dept_by_id.insert(id, self.depts.len());
            self.depts.push(dept);

            let doctors: Vec<DoctorCfg> = match &dc.doctors {
                Some(list) => list.clone(),
                None => (0..dc.doctor_count.unwrap_or(self.cfg.doctors_per_dept))
                    .map(|_| DoctorCfg::default())
                    .collect(),
            };
            for (ki, kc) in doctors.iter().enumerate() {
                let name = match &kc.name {
                    Some(n) => n.clone(),
                    None => {
                        let mut n = gen::person_name(&mut r);
                        for _ in 0..20 {
                            if !used_names.contains(&n) {
                                break;
                            }
                            n = gen::person_name(&mut r);
                        }
                        n
                    }
                };
                used_names.push(name.clone());
                let title = kc.title.clone().unwrap_or_else(|| {
                    let x = r.range(0, 100);
                    match x {
                        0..=24 => "主任医师",
                        25..=59 => "副主任医师",
                        60..=89 => "主治医师",
                        _ => "住院医师",
                    }
                    .to_string()
                });
                let (kind, fee) = fee_for(&title);
                let id = kc.id.clone().unwrap_or_else(|| long_id(&mut r));
                if self.doctor_by_id.contains_key(&id) {
                    return Err(format!(
                        "departments[{di}].doctors[{ki}]: doctor id {id} is used twice"
                    ));
                }
                let years = r.range(6, 31);
                let doctor = Doctor {
                    avatar: format!(
                        "https://pati-oss.oss-cn-hangzhou.aliyuncs.com/{}/doctor/{id}.jpg",
                        self.tenant_id
                    ),
                    desp: format!(
                        "{title}，从事{}临床工作{years}年，擅长{}常见病、多发病及疑难病的诊治。",
                        dc.name, dc.name
                    ),
                    id: id.clone(),
                    dept: di,
                    name,
                    title,
                    kind,
                    fee: kc.bookfee.unwrap_or(fee),
                    pay: kc.pay.unwrap_or(dc.pay),
                    room: r.range(1, 20) as u8,
                };
                self.doctor_by_id.insert(id, self.doctors.len());
                self.depts[di].doctors.push(self.doctors.len());
                self.doctors.push(doctor);
            }
        }
        Ok(())
    }

    /// Each doctor's weekly rota, as `(weekday, period)` pairs.
    fn rota(&self, r: &mut Rng, kc: Option<&DoctorCfg>) -> Vec<(u8, Period)> {
        if let Some(days) = kc.and_then(|k| k.weekdays.as_ref()) {
            let periods: Vec<Period> = match kc.and_then(|k| k.periods.as_ref()) {
                Some(p) => p.iter().filter_map(|s| Period::parse(s)).collect(),
                None => vec![Period::Am, Period::Pm],
            };
            return days
                .iter()
                .flat_map(|&d| periods.iter().map(move |&p| (d, p)))
                .collect();
        }
        let mut all: Vec<(u8, Period)> = (1..=6u8)
            .flat_map(|d| [(d, Period::Am), (d, Period::Pm)])
            .collect();
        r.shuffle(&mut all);
        let n = r.range(2, 5) as usize;
        all.truncate(n);
        all
    }

    fn build_sessions(&mut self, root: &Rng, now: i64, today: i64) {
        let mut r = root.fork("sessions");
        let release_min = config::parse_hhmm(&self.cfg.release_time).unwrap_or(480);
        let days_ahead = i64::from(self.cfg.days_ahead);
        // The configured doctors, to read their rota settings.
        let doctor_cfgs: Vec<Option<DoctorCfg>> = {
            let mut v = Vec::new();
            for d in &self.depts {
                let cfgs = self
                    .cfg
                    .departments
                    .as_ref()
                    .and_then(|l| l.iter().find(|c| c.name == d.name))
                    .and_then(|c| c.doctors.clone());
                for (k, _) in d.doctors.iter().enumerate() {
                    v.push(cfgs.as_ref().and_then(|c| c.get(k).cloned()));
                }
            }
            v
        };
        let rotas: Vec<Vec<(u8, Period)>> = (0..self.doctors.len())
            .map(|k| {
                let kc = doctor_cfgs.get(k).and_then(|c| c.as_ref());
                self.rota(&mut r, kc)
            })
            .collect();
        let [lo, hi] = self.cfg.serials;
        for day in today..=today + days_ahead + 2 {
            let open_at = ms_at(day - days_ahead, release_min);
            let wd = weekday(day);
            for di in 0..self.depts.len() {
                if self.depts[di].general {
                    for p in [Period::Am, Period::Pm] {
                        if wd == 7 && p == Period::Pm {
                            continue;
                        }
                        let n = hi + r.range(0, 10) as u32;
                        let s = self.create_schedule(di, None, day, p, n, open_at);
                        self.initial_fill(&mut r, s, now, 0.6);
                    }
                }
                for k in self.depts[di].doctors.clone() {
                    for &(d, p) in &rotas[k] {
                        if d != wd {
                            continue;
                        }
                        let n = r.range(u64::from(lo), u64::from(hi) + 1) as u32;
                        let s = self.create_schedule(di, Some(k), day, p, n, open_at);
                        let factor = if self.doctors[k].kind == 1 { 1.5 } else { 1.0 };
                        self.initial_fill(&mut r, s, now, factor);
                    }
                }
            }
        }
    }

    /// Other patients' bookings in sessions that were already open at start.
    fn initial_fill(&mut self, r: &mut Rng, s: usize, now: i64, factor: f64) {
        if self.schedules[s].open_at > now {
            return;
        }
        let full = r.chance((self.cfg.full_ratio * factor).min(1.0));
        let ratio = self.cfg.taken_ratio * factor;
        for ser in &mut self.schedules[s].serials {
            if full || r.chance(ratio.min(1.0)) {
                ser.slot = Slot::Other;
            }
        }
    }

    fn serial_minutes(period: Period, count: u32) -> impl Iterator<Item = i64> {
        let span = period.end() - period.start();
        let count = i64::from(count);
        (0..count).map(move |i| period.start() + (i * span / count.max(1)) / 5 * 5)
    }

    /// Creates a session (or returns the one already there).
    fn create_schedule(
        &mut self,
        dept: usize,
        doctor: Option<usize>,
        day: i64,
        period: Period,
        count: u32,
        open_at: i64,
    ) -> usize {
        if let Some(&s) = self.schedule_at.get(&(dept, doctor, day, period)) {
            return s;
        }
        let id = long_id(&mut self.rng);
        let d = &self.depts[dept];
        let (kind, fee, pay, address) = match doctor {
            Some(k) => {
                let doc = &self.doctors[k];
                (
                    doc.kind,
                    doc.fee,
                    doc.pay,
                    format!(
                        "门诊{}号楼{}楼{}{}诊室",
                        d.building, d.floor, d.name, doc.room
                    ),
                )
            }
            None => (
                0,
                d.general_fee,
                d.pay,
                format!("门诊{}号楼{}楼{}候诊区", d.building, d.floor, d.name),
            ),
        };
        let serials = Self::serial_minutes(period, count)
            .enumerate()
            .map(|(i, minute)| Serial {
                no: i as u32 + 1,
                minute,
                time: hhmm(minute),
                slot: Slot::Free,
            })
            .collect();
        let s = self.schedules.len();
        self.schedules.push(Schedule {
            id: id.clone(),
            dept,
            doctor,
            day,
            period,
            kind,
            fee,
            address,
            pay,
            open_at,
            serials,
        });
        self.schedule_by_id.insert(id, s);
        self.schedule_at.insert((dept, doctor, day, period), s);
        s
    }

    fn build_accounts(&mut self, root: &Rng, today: i64) -> Result<(), String> {
        let mut r = root.fork("accounts");
        let accounts = self.cfg.accounts.clone().unwrap_or_else(|| {
            vec![AccountCfg {
                phone: "13812345678".into(),
                password: "pati123456".into(),
                ..AccountCfg::default()
            }]
        });
        let today_date = Date::from_days(today);
        for (ai, ac) in accounts.iter().enumerate() {
            if !valid_phone(&ac.phone) {
                return Err(format!(
                    "accounts[{ai}]: “{}” is not a mobile number",
                    ac.phone
                ));
            }
            if ac.password.is_empty() {
                return Err(format!("accounts[{ai}] needs a password"));
            }
            if self.account_by_phone.contains_key(&ac.phone) {
                return Err(format!("accounts[{ai}]: {} is listed twice", ac.phone));
            }
            let a = self.accounts.len();
            self.accounts.push(Account {
                user_id: long_id(&mut r),
                phone: ac.phone.clone(),
                password: ac.password.clone(),
                members: Vec::new(),
                failures: 0,
                locked_until: 0,
            });
            self.account_by_phone.insert(ac.phone.clone(), a);
            let members: Vec<MemberCfg> = match &ac.members {
                Some(m) => m.clone(),
                None => (0..ac.member_count.unwrap_or(3))
                    .map(|_| MemberCfg::default())
                    .collect(),
            };
            let mut self_gender = 1;
            for (mi, mc) in members.iter().enumerate() {
                // Generated family: the account holder, a spouse, a child, a parent.
                let (age_lo, age_hi, gender) = match mi {
                    0 => (25, 55, if r.chance(0.5) { 1 } else { 2 }),
                    1 => (25, 55, 3 - self_gender),
                    2 => (1, 15, if r.chance(0.5) { 1 } else { 2 }),
                    _ => (58, 85, if r.chance(0.5) { 1 } else { 2 }),
                };
                let (birthday, gender, id_no) = match &mc.id_no {
                    Some(id) => {
                        let (b, g) = valid_id_card(id).ok_or_else(|| {
                            format!("accounts[{ai}].members[{mi}]: IDNo {id} is not a valid 身份证 number")
                        })?;
                        (b, mc.gender.unwrap_or(g), id.clone())
                    }
                    None => {
                        let g = mc.gender.unwrap_or(gender);
                        let b = match &mc.birthday {
                            Some(s) => Date::parse(s)
                                .map_err(|e| format!("accounts[{ai}].members[{mi}]: {e}"))?,
                            None => Date::from_days(
                                today
                                    - r.range(age_lo, age_hi + 1) as i64 * 365
                                    - r.range(0, 365) as i64,
                            ),
                        };
                        (b, g, id_card(&mut r, b, g))
                    }
                };
                if mi == 0 {
                    self_gender = gender;
                }
                let m = self.members.len();
                let id = mc.id.clone().unwrap_or_else(|| long_id(&mut r));
                if self.member_by_id.contains_key(&id) {
                    return Err(format!("member id {id} is used twice"));
                }
                self.member_by_id.insert(id.clone(), m);
                self.members.push(Member {
                    id,
                    account: a,
                    name: mc.name.clone().unwrap_or_else(|| gen::person_name(&mut r)),
                    gender,
                    birthday,
                    age: age_text(birthday, today_date),
                    id_no,
                    phone: mc.phone.clone().unwrap_or_else(|| {
                        if mi == 0 {
                            ac.phone.clone()
                        } else {
                            format!("1{}{}", r.pick(&["3", "5", "8"]), r.digits(9))
                        }
                    }),
                    default: mc.default.unwrap_or(mi == 0),
                    pati_id: r.range(1_000_000, 9_999_999).to_string(),
                });
                self.accounts[a].members.push(m);
            }
        }
        Ok(())
    }

    /// Adds a member to an account (`patient_service/member`); the caller validated it.
    pub fn add_member(&mut self, account: usize, m: NewMember, today: i64) -> String {
        let id = long_id(&mut self.rng);
        let pati_id = self.rng.range(1_000_000, 9_999_999).to_string();
        let idx = self.members.len();
        self.member_by_id.insert(id.clone(), idx);
        self.members.push(Member {
            id: id.clone(),
            account,
            age: age_text(m.birthday, Date::from_days(today)),
            name: m.name,
            gender: m.gender,
            birthday: m.birthday,
            id_no: m.id_no,
            phone: m.phone,
            default: false,
            pati_id,
        });
        if let Some(a) = self.accounts.get_mut(account) {
            a.members.push(idx);
        }
        id
    }

    /// 32 random hex digits, for a login token.
    pub fn token_hex(&mut self) -> String {
        self.rng.hex(32)
    }

    // ---------------------------------------------------------------- lookups

    /// The account registered with this phone.
    pub fn account_by_phone(&self, phone: &str) -> Option<usize> {
        self.account_by_phone.get(phone).copied()
    }

    /// The department with this `deptId`.
    pub fn dept(&self, id: &str) -> Option<usize> {
        self.dept_by_id.get(id).copied()
    }

    /// The doctor with this `doctorId`.
    pub fn doctor(&self, id: &str) -> Option<usize> {
        self.doctor_by_id.get(id).copied()
    }

    /// A session that exists and is open (放号) at `now`.
    pub fn visible_schedule(&self, id: &str, now: i64) -> Option<usize> {
        self.schedule_by_id
            .get(id)
            .copied()
            .filter(|&s| self.schedules[s].open_at <= now)
    }

    /// The open session of a doctor (or 普通门诊) on a day and period.
    pub fn session(
        &self,
        dept: usize,
        doctor: Option<usize>,
        day: i64,
        period: Period,
        now: i64,
    ) -> Option<usize> {
        self.schedule_at
            .get(&(dept, doctor, day, period))
            .copied()
            .filter(|&s| self.schedules[s].open_at <= now)
    }

    fn past(day: i64, minute: i64, now: i64) -> bool {
        let (today, now_min) = (bj_day(now), bj_minute(now));
        day < today || (day == today && minute <= now_min)
    }

    /// Free serials that can still be booked.
    pub fn free_serials(&self, s: usize, now: i64) -> impl Iterator<Item = &Serial> {
        let sc = &self.schedules[s];
        let (today, now_min) = (bj_day(now), bj_minute(now));
        sc.serials.iter().filter(move |x| {
            x.slot == Slot::Free && !(sc.day < today || (sc.day == today && x.minute <= now_min))
        })
    }

    /// `leftCount` of a session.
    pub fn left(&self, s: usize, now: i64) -> usize {
        self.free_serials(s, now).count()
    }

    // ---------------------------------------------------------------- events

    /// When the next scripted thing happens (`i64::MAX`: nothing pending).
    pub fn next_due(&self) -> i64 {
        self.events.peek().map_or(i64::MAX, |Reverse(e)| e.at)
    }

    fn push(&mut self, at: i64, kind: EventKind) {
        self.seq += 1;
        self.events.push(Reverse(Event {
            at,
            seq: self.seq,
            kind,
        }));
    }

    /// Applies every event due at `now`.
    pub fn run_due(&mut self, now: i64) {
        while self.events.peek().is_some_and(|Reverse(e)| e.at <= now) {
            let Some(Reverse(e)) = self.events.pop() else {
                break;
            };
            match e.kind {
                EventKind::Release {
                    targets,
                    count,
                    extra,
                } => {
                    for s in targets {
                        self.release_one(s, count, e.at, extra);
                    }
                }
                EventKind::Take { schedule, n } => {
                    self.take(schedule, n, e.at);
                }
                EventKind::PayExpire { book } => {
                    let unpaid = self
                        .books
                        .get(book)
                        .is_some_and(|b| !b.cancelled && b.pay.as_ref().is_some_and(|p| !p.paid));
                    if unpaid {
                        self.cancel_book(book);
                    }
                }
            }
        }
    }

    fn schedule_competitors(&mut self, s: usize, at: i64, extra: Option<(u32, u64)>) {
        let mut takes: Vec<(u32, u64)> = self
            .competitors
            .iter()
            .filter(|c| self.matches(&c.filter, s))
            .map(|c| (c.take, c.within_ms))
            .collect();
        takes.extend(extra);
        for (n, within) in takes {
            for _ in 0..n {
                let delay = self.rng.range(0, within + 1) as i64;
                self.push(at + delay, EventKind::Take { schedule: s, n: 1 });
            }
        }
    }

    /// Other buyers take `n` random free serials.
    fn take(&mut self, s: usize, n: u32, now: i64) -> u32 {
        let free: Vec<usize> = {
            let sc = &self.schedules[s];
            let (today, now_min) = (bj_day(now), bj_minute(now));
            sc.serials
                .iter()
                .enumerate()
                .filter(|(_, x)| {
                    x.slot == Slot::Free
                        && !(sc.day < today || (sc.day == today && x.minute <= now_min))
                })
                .map(|(i, _)| i)
                .collect()
        };
        let mut free = free;
        self.rng.shuffle(&mut free);
        let mut taken = 0;
        for i in free.into_iter().take(n as usize) {
            self.schedules[s].serials[i].slot = Slot::Other;
            taken += 1;
        }
        taken
    }

    /// Releases `count` serials of one session (all held ones when `None`): held
    /// serials first, then new ones (加号) after the last.
    fn release_one(
        &mut self,
        s: usize,
        count: Option<u32>,
        at: i64,
        extra: Option<(u32, u64)>,
    ) -> u32 {
        let sc = &mut self.schedules[s];
        sc.open_at = sc.open_at.min(at);
        let held = sc.serials.iter().filter(|x| x.slot == Slot::Held).count() as u32;
        let want = count.unwrap_or(held);
        let mut released = 0;
        for x in sc.serials.iter_mut() {
            if released == want {
                break;
            }
            if x.slot == Slot::Held {
                x.slot = Slot::Free;
                released += 1;
            }
        }
        while released < want {
            let last = sc
                .serials
                .last()
                .map_or(sc.period.start() - 5, |x| x.minute);
            let minute = (last + 5).min(sc.period.end() - 5).max(sc.period.start());
            let no = sc.serials.len() as u32 + 1;
            sc.serials.push(Serial {
                no,
                minute,
                time: hhmm(minute),
                slot: Slot::Free,
            });
            released += 1;
        }
        self.schedule_competitors(s, at, extra);
        released
    }

    // ---------------------------------------------------------------- targets

    /// Resolves a spec's target against the world; `today` resolves `day`.
    pub fn filter(&self, spec: &Spec, today: i64) -> Result<Filter, String> {
        let mut f = Filter::default();
        if let Some(id) = &spec.schedule_id {
            f.schedule = Some(
                *self
                    .schedule_by_id
                    .get(id)
                    .ok_or_else(|| format!("no schedule {id}"))?,
            );
        }
        if let Some(d) = spec.dept.as_ref().or(spec.dept_id.as_ref()) {
            f.dept = Some(
                self.dept_by_id
                    .get(d)
                    .copied()
                    .or_else(|| self.depts.iter().position(|x| &x.name == d))
                    .ok_or_else(|| format!("no department “{d}”"))?,
            );
        }
        if let Some(d) = spec.doctor.as_ref().or(spec.doctor_id.as_ref()) {
            if spec.general {
                return Err(
                    "a target is either a doctor or the 普通门诊 (general), not both".into(),
                );
            }
            let k = self
                .doctor_by_id
                .get(d)
                .copied()
                .or_else(|| {
                    self.doctors
                        .iter()
                        .position(|x| &x.name == d && f.dept.is_none_or(|dp| dp == x.dept))
                })
                .ok_or_else(|| format!("no doctor “{d}”"))?;
            f.doctor = Some(Some(k));
            if f.dept.is_some_and(|dp| dp != self.doctors[k].dept) {
                return Err(format!("doctor “{d}” is not in that department"));
            }
            f.dept = Some(self.doctors[k].dept);
        } else if spec.general {
            f.doctor = Some(None);
        }
        if let Some(d) = &spec.date {
            f.day = Some(Date::parse(d).map_err(|e| e.to_string())?.to_days());
        } else if let Some(n) = spec.day {
            f.day = Some(today + n);
        }
        if let Some(p) = &spec.period {
            f.period =
                Some(Period::parse(p).ok_or_else(|| format!("period “{p}” is not AM or PM"))?);
        }
        Ok(f)
    }

    fn matches(&self, f: &Filter, s: usize) -> bool {
        let sc = &self.schedules[s];
        f.schedule.is_none_or(|x| x == s)
            && f.dept.is_none_or(|x| x == sc.dept)
            && f.doctor.is_none_or(|x| x == sc.doctor)
            && f.day.is_none_or(|x| x == sc.day)
            && f.period.is_none_or(|x| x == sc.period)
    }

    fn matching(&self, f: &Filter) -> Vec<usize> {
        match f.schedule {
            Some(s) => vec![s]
                .into_iter()
                .filter(|&s| self.matches(f, s))
                .collect(),
            None => (0..self.schedules.len())
                .filter(|&s| self.matches(f, s))
                .collect(),
        }
    }

    /// The one session a filter names (to create it when missing).
    fn key(&self, f: &Filter) -> Option<(usize, Option<usize>, i64, Period)> {
        Some((f.dept?, f.doctor.flatten(), f.day?, f.period?))
    }

    /// Reshapes matching sessions (creating the named one when missing): `count`
    /// serials, of which the first `held` are not released yet and the next `left`
    /// are free; the rest belong to other patients.
    fn apply_override(&mut self, spec: &Spec, now: i64) -> Result<(), String> {
        let f = self.filter(spec, bj_day(now))?;
        let mut targets = self.matching(&f);
        if targets.is_empty() {
            let Some((d, k, day, p)) = self.key(&f) else {
                return Err(
                    "matches no session; name dept (or doctor), date or day, and period to add one"
                        .into(),
                );
            };
            let n = spec.count.unwrap_or(self.cfg.serials[1]);
            targets.push(self.create_schedule(d, k, day, p, n, now));
        }
        for s in targets {
            let sc = &mut self.schedules[s];
            if let Some(fee) = spec.bookfee {
                sc.fee = fee;
            }
            if let Some(pay) = spec.pay {
                sc.pay = pay;
            }
            if spec.count.is_none() && spec.left.is_none() && spec.held.is_none() {
                continue;
            }
            sc.open_at = sc.open_at.min(now);
            let held = spec.held.unwrap_or(0);
            let count = spec
                .count
                .unwrap_or(sc.serials.len() as u32)
                .max(held + spec.left.unwrap_or(0));
            let left = spec.left.unwrap_or(count - held);
            if count as usize != sc.serials.len() {
                sc.serials = Self::serial_minutes(sc.period, count)
                    .enumerate()
                    .map(|(i, minute)| Serial {
                        no: i as u32 + 1,
                        minute,
                        time: hhmm(minute),
                        slot: Slot::Free,
                    })
                    .collect();
            }
            for (i, x) in sc.serials.iter_mut().enumerate() {
                let i = i as u32;
                x.slot = if i < held {
                    Slot::Held
                } else if i < held + left {
                    Slot::Free
                } else {
                    Slot::Other
                };
            }
        }
        Ok(())
    }

    /// Releases now, or schedules the release (`at_ms` / `in_ms`). A release naming one
    /// session that does not exist adds it.
    pub fn release(&mut self, spec: &Spec, now: i64) -> Result<Value, String> {
        let f = self.filter(spec, bj_day(now))?;
        let at = spec.at_ms.or(spec.in_ms.map(|d| now + d)).unwrap_or(now);
        let mut targets = self.matching(&f);
        if targets.is_empty() {
            let Some((d, k, day, p)) = self.key(&f) else {
                return Err("the release matches no session; name schedule_id, or dept (or doctor), date or day, and period".into());
            };
            if spec.count.is_none() {
                return Err("the release adds a session: say how many serials (count)".into());
            }
            // Invisible until the release.
            targets.push(self.create_schedule(d, k, day, p, 0, at.max(now)));
        }
        let extra = spec
            .competitors
            .as_ref()
            .map(|c| (c.take.unwrap_or(1), c.within_ms.unwrap_or(200)));
        if at > now {
            let ids: Vec<Value> = targets
                .iter()
                .map(|&s| json!(self.schedules[s].id))
                .collect();
            self.push(
                at,
                EventKind::Release {
                    targets,
                    count: spec.count,
                    extra,
                },
            );
            return Ok(json!({"at_ms": at, "schedules": ids}));
        }
        let mut out = Vec::new();
        for s in targets {
            let n = self.release_one(s, spec.count, now, extra);
            out.push((s, n));
        }
        // Competitors acting within 0 ms already have the serials.
        self.run_due(now);
        Ok(json!({
            "at_ms": now,
            "schedules": out.iter().map(|&(s, n)| json!({
                "scheduleId": self.schedules[s].id,
                "released": n,
                "leftCount": self.left(s, now),
            })).collect::<Vec<_>>(),
        }))
    }

    /// Other buyers take `count` (default 1) serials of every matching session now.
    pub fn take_now(&mut self, spec: &Spec, now: i64) -> Result<Value, String> {
        let f = self.filter(spec, bj_day(now))?;
        let targets = self.matching(&f);
        if targets.is_empty() {
            return Err("matches no session".into());
        }
        let n = spec.count.unwrap_or(1);
        let out: Vec<Value> = targets
            .into_iter()
            .map(|s| {
                let taken = self.take(s, n, now);
                json!({"scheduleId": self.schedules[s].id, "taken": taken, "leftCount": self.left(s, now)})
            })
            .collect();
        Ok(json!(out))
    }

    // ---------------------------------------------------------------- booking

    fn check_serial(&self, s: usize, serial_no: i64, now: i64) -> Result<usize, ApiErr> {
        let sc = &self.schedules[s];
        if Self::past(sc.day, sc.period.end(), now) {
            return err(code::TOO_LATE, "该排班已停止预约");
        }
        if self.left(s, now) == 0 {
            return err(code::FULL, "该时段号源已约满，请选择其他时段");
        }
        let Some(i) = sc.serials.iter().position(|x| i64::from(x.no) == serial_no) else {
            return err(code::SERIAL_TAKEN, "该号源不存在或已被预约，请重新选择");
        };
        let x = &sc.serials[i];
        if x.slot != Slot::Free {
            return err(code::SERIAL_TAKEN, "该号源已被预约，请重新选择");
        }
        if Self::past(sc.day, x.minute, now) {
            return err(code::TOO_LATE, "该号源已过预约时间，请重新选择");
        }
        Ok(i)
    }

    fn appo_time(&self, s: usize, minute: i64) -> String {
        datetime_str(ms_at(self.schedules[s].day, minute))
    }

    /// `book/presubmit`: what the booking would be (nothing is held).
    pub fn presubmit(&self, schedule_id: &str, serial_no: i64, now: i64) -> Result<Value, ApiErr> {
        let Some(s) = self.visible_schedule(schedule_id, now) else {
            return err(code::NO_SCHEDULE, "排班不存在");
        };
        let i = self.check_serial(s, serial_no, now)?;
        let sc = &self.schedules[s];
        Ok(json!({
            "deptId": self.depts[sc.dept].id,
            "deptName": self.depts[sc.dept].name,
            "type": sc.kind,
            "doctor": sc.doctor.map(|k| self.doctors[k].name.clone()),
            "appoTime": self.appo_time(s, sc.serials[i].minute),
            "bookfee": sc.fee,
        }))
    }

    /// `book/submit`: checks and takes the serial in one step; the caller holds the
    /// write lock.
    pub fn submit(
        &mut self,
        account: usize,
        schedule_id: &str,
        serial_no: i64,
        member_id: &str,
        now: i64,
    ) -> Result<String, ApiErr> {
        let Some(s) = self.visible_schedule(schedule_id, now) else {
            return err(code::NO_SCHEDULE, "排班不存在");
        };
        let Some(m) = self
            .member_by_id
            .get(member_id)
            .copied()
            .filter(|&m| self.members[m].account == account)
        else {
            return err(code::NO_MEMBER, "就诊人不存在");
        };
        let dup = self
            .books
            .iter()
            .any(|b| b.member == m && b.schedule == s && !b.cancelled);
        if dup {
            return err(code::DUPLICATE, "该就诊人已预约该排班，请勿重复预约");
        }
        let i = self.check_serial(s, serial_no, now)?;
        let b = self.books.len();
        let id = long_id(&mut self.rng);
        let code = format!(
            "{}{:05}",
            date_str(bj_day(now)).replace('-', ""),
            self.books.len() + 1
        );
        let sc = &mut self.schedules[s];
        sc.serials[i].slot = Slot::Booked(b);
        let (minute, no, pay) = (sc.serials[i].minute, sc.serials[i].no, sc.pay);
        self.books.push(Book {
            id: id.clone(),
            code,
            account,
            member: m,
            schedule: s,
            serial_no: no,
            minute,
            cancelled: false,
            booked_at: now,
            pay: pay.then_some(Pay {
                paid: false,
                order: None,
            }),
        });
        self.book_by_id.insert(id.clone(), b);
        if pay && self.cfg.pay_timeout_ms > 0 {
            self.push(
                now + self.cfg.pay_timeout_ms,
                EventKind::PayExpire { book: b },
            );
        }
        Ok(id)
    }

    fn own_book(&self, account: usize, book_id: &str) -> Result<usize, ApiErr> {
        match self.book_by_id.get(book_id).copied() {
            Some(b) if self.books[b].account == account => Ok(b),
            _ => err(code::NO_BOOK, "预约记录不存在"),
        }
    }

    fn cancel_book(&mut self, b: usize) {
        let (s, no) = (self.books[b].schedule, self.books[b].serial_no);
        self.books[b].cancelled = true;
        if let Some(x) = self.schedules[s]
            .serials
            .iter_mut()
            .find(|x| x.no == no && x.slot == Slot::Booked(b))
        {
            x.slot = Slot::Free;
        }
    }

    /// `book/cancel`: the serial goes back on sale.
    pub fn cancel(&mut self, account: usize, book_id: &str, now: i64) -> Result<(), ApiErr> {
        let b = self.own_book(account, book_id)?;
        let book = &self.books[b];
        if book.cancelled {
            return err(code::CANCELLED, "该预约已取消，请勿重复操作");
        }
        if ms_at(self.schedules[book.schedule].day, book.minute) <= now {
            return err(code::CANCEL_TOO_LATE, "已过就诊时间，无法取消预约");
        }
        self.cancel_book(b);
        Ok(())
    }

    /// `book/schedule`: may this member book this session (no booking in the same
    /// half-day)?
    pub fn same_period(
        &self,
        account: usize,
        schedule_id: &str,
        member_id: &str,
        now: i64,
    ) -> Result<(), ApiErr> {
        let Some(s) = self.visible_schedule(schedule_id, now) else {
            return err(code::NO_SCHEDULE, "排班不存在");
        };
        let Some(m) = self
            .member_by_id
            .get(member_id)
            .copied()
            .filter(|&m| self.members[m].account == account)
        else {
            return err(code::NO_MEMBER, "就诊人不存在");
        };
        let sc = &self.schedules[s];
        let clash = self.books.iter().any(|b| {
            let o = &self.schedules[b.schedule];
            b.member == m && !b.cancelled && o.day == sc.day && o.period == sc.period
        });
        if clash {
            return err(code::SAME_PERIOD, "该就诊人在同一时间段已有预约");
        }
        Ok(())
    }

    /// `bookStatus`: 0 已预约, 1 已取消, 3 已失约 (after the session ended).
    fn book_status(&self, b: usize, now: i64) -> u8 {
        let book = &self.books[b];
        let sc = &self.schedules[book.schedule];
        if book.cancelled {
            1
        } else if ms_at(sc.day, sc.period.end()) < now {
            3
        } else {
            0
        }
    }

    fn visi_charge(&self, b: usize) -> Option<u8> {
        self.books[b]
            .pay
            .as_ref()
            .map(|p| if p.paid { 2 } else { 1 })
    }

    /// A page of an account's bookings, newest first.
    pub fn books_page(&self, account: usize, page_no: usize, page_size: usize, now: i64) -> Value {
        let mine: Vec<usize> = (0..self.books.len())
            .rev()
            .filter(|&b| self.books[b].account == account)
            .collect();
        let rows = mine
            .iter()
            .skip((page_no - 1) * page_size)
            .take(page_size)
            .map(|&b| {
                let book = &self.books[b];
                let sc = &self.schedules[book.schedule];
                let mut row = json!({
                    "bookId": book.id,
                    "treaTime": self.appo_time(book.schedule, book.minute),
                    "bookStatus": self.book_status(b, now),
                    "deptId": self.depts[sc.dept].id,
                    "deptName": self.depts[sc.dept].name,
                    "type": sc.kind,
                    "doctorId": sc.doctor.map(|k| self.doctors[k].id.clone()),
                    "doctorName": sc.doctor.map(|k| self.doctors[k].name.clone()),
                    "memberName": self.members[book.member].name,
                    "visiSerialno": book.serial_no.to_string(),
                });
                if let Some(v) = self.visi_charge(b) {
                    row["visiCharge"] = json!(v);
                }
                row
            })
            .collect();
        page(rows, mine.len(), page_no, page_size)
    }

    /// `book/{bookId}`.
    pub fn book_detail(&self, account: usize, book_id: &str, now: i64) -> Result<Value, ApiErr> {
        let b = self.own_book(account, book_id)?;
        let book = &self.books[b];
        let sc = &self.schedules[book.schedule];
        let m = &self.members[book.member];
        let mut v = json!({
            "bookId": book.id,
            "bookCode": book.code,
            "bookStatus": self.book_status(b, now),
            "deptId": self.depts[sc.dept].id,
            "deptName": self.depts[sc.dept].name,
            "type": sc.kind,
            "doctorId": sc.doctor.map(|k| self.doctors[k].id.clone()),
            "doctorName": sc.doctor.map(|k| self.doctors[k].name.clone()),
            "bookfee": sc.fee,
            "treaTime": self.appo_time(book.schedule, book.minute),
            "treaNo": book.serial_no,
            "treaArea": sc.address,
            "memberName": m.name,
            "memberGender": if m.gender == 1 { "男" } else { "女" },
            "memberAge": m.age,
            "memberIDNo": m.id_no,
            "bookTime": datetime_str(book.booked_at),
        });
        if let Some(c) = self.visi_charge(b) {
            v["visiCharge"] = json!(c);
        }
        Ok(v)
    }

    /// `pay/appo_order`: a WeChat prepay order for an online-charged booking. The
    /// simulator never takes money; the admin `pay` action marks a booking paid.
    pub fn pay_order(
        &mut self,
        account: usize,
        appo_id: &str,
        open_id: Option<&str>,
        base: &str,
        now: i64,
    ) -> Result<Value, ApiErr> {
        let b = self.own_book(account, appo_id)?;
        let timestamp = (now / 1000).to_string();
        let fail = |msg: &str, agency: &str| {
            json!({
                "is_success": true, "trade_type": null, "prepay_id": null, "trade_no": null,
                "out_trade_no": null, "url": null, "error_code": "FAIL", "error_msg": msg,
                "nonce_str": null, "sign_type": "MD5", "agency_id": agency, "timestamp": timestamp,
            })
        };
        let agency = self.agency_id.clone();
        if self.books[b].cancelled {
            return Ok(fail("预约已取消，无法支付", &agency));
        }
        match &self.books[b].pay {
            None => return Ok(fail("该预约无需在线支付", &agency)),
            Some(p) if p.paid => return Ok(fail("该预约已支付，请勿重复支付", &agency)),
            _ => {}
        }
        let trade_type = if open_id.is_some() { "JSAPI" } else { "MWEB" };
        let (out_trade_no, prepay_id, nonce) = (
            format!(
                "GH{}{}",
                datetime_str(now).replace(['-', ' ', ':'], ""),
                self.rng.digits(6)
            ),
            format!(
                "wx{}{}",
                datetime_str(now).replace(['-', ' ', ':'], ""),
                self.rng.hex(18)
            ),
            self.rng.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32),
        );
        let Some(pay) = self.books[b].pay.as_mut() else {
            return err(code::SYSTEM, "系统繁忙，请稍后再试");
        };
        let order = pay.order.get_or_insert(PayOrder {
            out_trade_no,
            prepay_id,
            nonce,
            trade_type,
            created: now,
        });
        Ok(json!({
            "is_success": true,
            "trade_type": order.trade_type,
            "prepay_id": order.prepay_id,
            "trade_no": null,
            "out_trade_no": order.out_trade_no,
            "url": format!("{base}/pay/cashier?out_trade_no={}", order.out_trade_no),
            "error_code": "SUCCESS",
            "error_msg": null,
            "nonce_str": order.nonce,
            "sign_type": "MD5",
            "agency_id": agency,
            "timestamp": (order.created / 1000).to_string(),
        }))
    }

    /// The booking a prepay order belongs to.
    pub fn book_by_trade(&self, out_trade_no: &str) -> Option<usize> {
        self.books.iter().position(|b| {
            b.pay
                .as_ref()
                .and_then(|p| p.order.as_ref())
                .is_some_and(|o| o.out_trade_no == out_trade_no)
        })
    }

    /// Admin: the person paid on their phone.
    pub fn mark_paid(&mut self, book_id: &str) -> Result<Value, String> {
        let b = self
            .book_by_id
            .get(book_id)
            .copied()
            .ok_or_else(|| format!("no booking {book_id}"))?;
        let book = &mut self.books[b];
        if book.cancelled {
            return Err(format!("booking {book_id} is cancelled"));
        }
        match book.pay.as_mut() {
            None => Err(format!("booking {book_id} is not charged online")),
            Some(p) => {
                p.paid = true;
                Ok(json!({"bookId": book_id, "visiCharge": 2}))
            }
        }
    }

    // ---------------------------------------------------------------- listings

    fn doctor_json(&self, k: Option<usize>) -> (Value, Value, Value, Value, Value) {
        match k {
            Some(k) => {
                let d = &self.doctors[k];
                (
                    json!(d.id),
                    json!(d.name),
                    json!(d.avatar),
                    json!(d.title),
                    json!(d.desp),
                )
            }
            None => (
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ),
        }
    }

    /// The 普通门诊 (when the department runs one) then the doctors.
    fn clinics(&self, dept: usize) -> impl Iterator<Item = Option<usize>> + '_ {
        let d = &self.depts[dept];
        d.general
            .then_some(None)
            .into_iter()
            .chain(d.doctors.iter().map(|&k| Some(k)))
    }

    /// `tenant_service/depts`.
    pub fn depts_json(&self) -> Value {
        Value::Array(
            self.depts
                .iter()
                .map(|d| json!({"deptId": d.id, "deptName": d.name}))
                .collect(),
        )
    }

    /// `tenant_service/schedule_by_date`.
    pub fn by_date(
        &self,
        dept: usize,
        day: i64,
        page_no: usize,
        page_size: usize,
        now: i64,
    ) -> Value {
        let d = &self.depts[dept];
        let rows: Vec<Value> = self
            .clinics(dept)
            .filter_map(|k| {
                let sessions: Vec<usize> = [Period::Am, Period::Pm]
                    .iter()
                    .filter_map(|&p| self.session(dept, k, day, p, now))
                    .collect();
                if sessions.is_empty() {
                    return None;
                }
                let bookable = sessions.iter().any(|&s| self.left(s, now) > 0);
                let (id, name, avatar, title, desp) = self.doctor_json(k);
                let sc = &self.schedules[sessions[0]];
                Some(json!({
                    "doctorId": id, "doctorName": name, "doctorAvatar": avatar,
                    "doctorTitle": title, "doctorDesp": desp,
                    "deptId": d.id, "deptName": d.name, "deptAvatar": d.avatar, "deptDesp": d.desp,
                    "date": date_str(day),
                    "type": sc.kind,
                    "status": if bookable { 1 } else { 2 },
                    "bookfee": sc.fee,
                }))
            })
            .collect();
        paged(rows, page_no, page_size)
    }

    /// Open sessions of a clinic from today to the end of the window.
    fn window_sessions(
        &self,
        dept: usize,
        k: Option<usize>,
        now: i64,
    ) -> impl Iterator<Item = usize> + '_ {
        let today = bj_day(now);
        let last = today + i64::from(self.cfg.days_ahead) + 2;
        (today..=last).flat_map(move |day| {
            [Period::Am, Period::Pm]
                .into_iter()
                .filter_map(move |p| self.session(dept, k, day, p, now))
        })
    }

    /// `tenant_service/schedule_by_doctor`.
    pub fn by_doctor(&self, dept: usize, page_no: usize, page_size: usize, now: i64) -> Value {
        let d = &self.depts[dept];
        let rows: Vec<Value> = self
            .clinics(dept)
            .map(|k| {
                let bookable = self
                    .window_sessions(dept, k, now)
                    .any(|s| self.left(s, now) > 0);
                let (id, name, avatar, title, desp) = self.doctor_json(k);
                json!({
                    "doctorId": id, "doctorName": name, "doctorAvatar": avatar,
                    "doctorTitle": title, "doctorDesp": desp,
                    "deptId": d.id, "deptName": d.name, "deptPortrait": d.avatar, "deptDesp": d.desp,
                    "status": if bookable { 1 } else { 2 },
                })
            })
            .collect();
        paged(rows, page_no, page_size)
    }

    /// One `scheduleAM` / `schedulePM` object.
    pub fn session_json(&self, s: usize, now: i64) -> Value {
        let sc = &self.schedules[s];
        json!({
            "scheduleId": sc.id,
            "type": sc.kind,
            "bookfee": sc.fee,
            "leftCount": self.left(s, now),
            "scheAdderss": sc.address,
        })
    }

    /// `tenant_service/schedule`.
    pub fn schedule_json(&self, dept: usize, k: Option<usize>, day: i64, now: i64) -> Value {
        let half = |p| {
            self.session(dept, k, day, p, now)
                .map_or(Value::Null, |s| self.session_json(s, now))
        };
        json!({
            "date": date_str(day),
            "scheduleAM": half(Period::Am),
            "schedulePM": half(Period::Pm),
        })
    }

    /// `tenant_service/schedule/left_appo`.
    pub fn left_appo(&self, s: usize, now: i64) -> Value {
        Value::Array(
            self.free_serials(s, now)
                .map(|x| json!({"serialNo": x.no, "time": x.time}))
                .collect(),
        )
    }

    /// `tenant_service/schedule/info`: from tomorrow, `days` days.
    pub fn info_json(&self, dept: usize, k: Option<usize>, days: i64, now: i64) -> Value {
        let d = &self.depts[dept];
        let tomorrow = bj_day(now) + 1;
        let list: Vec<Value> = (tomorrow..tomorrow + days)
            .filter_map(|day| {
                let sessions: Vec<usize> = [Period::Am, Period::Pm]
                    .iter()
                    .filter_map(|&p| self.session(dept, k, day, p, now))
                    .collect();
                (!sessions.is_empty()).then(|| {
                    json!({
                        "date": date_str(day),
                        "leftCount": sessions.iter().map(|&s| self.left(s, now)).sum::<usize>(),
                    })
                })
            })
            .collect();
        let (id, name, avatar, title, desp) = self.doctor_json(k);
        json!([{
            "doctorId": id, "doctorName": name, "doctorPortrait": avatar,
            "doctorTitle": title, "doctorDesp": desp,
            "deptId": d.id, "deptName": d.name, "deptPortrait": d.avatar, "deptDesp": d.desp,
            "leftBookCountList": list,
        }])
    }

    /// `patient_service/members`.
    pub fn members_json(&self, account: usize) -> Value {
        use base64::Engine;
        Value::Array(
            self.accounts[account]
                .members
                .iter()
                .map(|&m| {
                    let m = &self.members[m];
                    json!({
                        "memberId": m.id,
                        "bindPatiId": m.pati_id,
                        "name": m.name,
                        "gender": m.gender,
                        "age": m.age,
                        "IDNo": m.id_no,
                        "phone": m.phone,
                        "defaultMember": m.default,
                        "patiImg": base64::engine::general_purpose::STANDARD.encode(&m.pati_id),
                    })
                })
                .collect(),
        )
    }

    /// `patient_service/myinfo`: the account holder (default member).
    pub fn myinfo_json(&self, account: usize) -> Value {
        use base64::Engine;
        let a = &self.accounts[account];
        let m = a
            .members
            .iter()
            .copied()
            .find(|&m| self.members[m].default)
            .or(a.members.first().copied());
        match m {
            Some(m) => {
                let m = &self.members[m];
                json!({
                    "phone": a.phone, "avatar": "", "name": m.name, "gender": m.gender,
                    "birthday": m.birthday.to_string(), "age": m.age,
                    "pati_img": base64::engine::general_purpose::STANDARD.encode(&m.pati_id),
                    "pati_id": m.pati_id,
                })
            }
            None => json!({
                "phone": a.phone, "avatar": "", "name": a.phone, "gender": 0,
                "birthday": null, "age": null, "pati_img": null, "pati_id": null,
            }),
        }
    }

    // ---------------------------------------------------------------- admin

    /// Every booking, for the admin API.
    pub fn orders_json(&self, now: i64) -> Value {
        Value::Array(
            (0..self.books.len())
                .map(|b| {
                    let book = &self.books[b];
                    let sc = &self.schedules[book.schedule];
                    json!({
                        "bookId": book.id,
                        "bookCode": book.code,
                        "phone": self.accounts[book.account].phone,
                        "memberId": self.members[book.member].id,
                        "memberName": self.members[book.member].name,
                        "scheduleId": sc.id,
                        "deptName": self.depts[sc.dept].name,
                        "doctorName": sc.doctor.map(|k| self.doctors[k].name.clone()),
                        "date": date_str(sc.day),
                        "period": sc.period.name(),
                        "serialNo": book.serial_no,
                        "time": hhmm(book.minute),
                        "bookStatus": self.book_status(b, now),
                        "visiCharge": self.visi_charge(b),
                        "bookTime": datetime_str(book.booked_at),
                    })
                })
                .collect(),
        )
    }

    /// The tenant, its departments and doctors, and the accounts, for scripting.
    pub fn info_admin(&self) -> Value {
        json!({
            "tenant": {"id": self.tenant_id, "name": self.tenant_name},
            "departments": self.depts.iter().map(|d| json!({
                "deptId": d.id, "deptName": d.name, "pay": d.pay, "general": d.general,
                "doctors": d.doctors.iter().map(|&k| {
                    let doc = &self.doctors[k];
                    json!({"doctorId": doc.id, "doctorName": doc.name, "doctorTitle": doc.title, "type": doc.kind, "bookfee": doc.fee, "pay": doc.pay})
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "accounts": self.accounts.iter().map(|a| json!({
                "userId": a.user_id, "phone": a.phone, "password": a.password,
                "members": a.members.iter().map(|&m| json!({"memberId": self.members[m].id, "name": self.members[m].name})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// Every session matching a spec, with its serials, for scripting and debugging.
    pub fn sessions_admin(&self, spec: &Spec, now: i64) -> Result<Value, String> {
        let f = self.filter(spec, bj_day(now))?;
        Ok(Value::Array(
            self.matching(&f)
                .into_iter()
                .map(|s| {
                    let sc = &self.schedules[s];
                    json!({
                        "scheduleId": sc.id,
                        "deptName": self.depts[sc.dept].name,
                        "doctorId": sc.doctor.map(|k| self.doctors[k].id.clone()),
                        "doctorName": sc.doctor.map(|k| self.doctors[k].name.clone()),
                        "date": date_str(sc.day),
                        "period": sc.period.name(),
                        "open": sc.open_at <= now,
                        "open_at": sc.open_at,
                        "pay": sc.pay,
                        "leftCount": self.left(s, now),
                        "held": sc.serials.iter().filter(|x| x.slot == Slot::Held).count(),
                        "count": sc.serials.len(),
                    })
                })
                .collect(),
        ))
    }
}

/// The `(Page)` reply shape.
pub fn page(list: Vec<Value>, total: usize, page_no: usize, page_size: usize) -> Value {
    json!({
        "pageNo": page_no,
        "pageSize": page_size,
        "total": total,
        "pages": total.div_ceil(page_size.max(1)),
        "list": list,
    })
}

fn paged(rows: Vec<Value>, page_no: usize, page_size: usize) -> Value {
    let total = rows.len();
    let list = rows
        .into_iter()
        .skip((page_no - 1).saturating_mul(page_size))
        .take(page_size)
        .collect();
    page(list, total, page_no, page_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_cards_carry_a_valid_check_digit() {
        let mut r = Rng::new(3);
        for g in [1, 2] {
            let b = Date::parse("1986-04-09").unwrap();
            let id = id_card(&mut r, b, g);
            assert_eq!(valid_id_card(&id), Some((b, g)), "{id}");
        }
        // A published example number.
        assert!(valid_id_card("11010519491231002X").is_some());
        assert!(valid_id_card("110105194912310021").is_none());
    }

    #[test]
    fn beijing_days_and_minutes_round_trip() {
        let day = Date::parse("2026-11-27").unwrap().to_days();
        let ms = ms_at(day, 8 * 60 + 30);
        assert_eq!(bj_day(ms), day);
        assert_eq!(bj_minute(ms), 510);
        assert_eq!(datetime_str(ms), "2026-11-27 08:30:00");
        assert_eq!(weekday(day), 5); // a Friday
    }

    #[test]
    fn the_same_seed_builds_the_same_hospital() {
        let now = ms_at(Date::parse("2026-11-27").unwrap().to_days(), 600);
        let a = World::generate(9, &Value::Null, now).unwrap();
        let b = World::generate(9, &Value::Null, now).unwrap();
        assert_eq!(a.depts_json(), b.depts_json());
        assert_eq!(a.schedules.len(), b.schedules.len());
        assert!(a.schedules.len() > 50);
        let c = World::generate(10, &Value::Null, now).unwrap();
        assert_ne!(a.depts_json(), c.depts_json());
    }

    #[test]
    fn ages_read_like_the_platform() {
        let t = Date::parse("2026-11-27").unwrap();
        assert_eq!(age_text(Date::parse("1990-11-28").unwrap(), t), "35岁");
        assert_eq!(age_text(Date::parse("2026-03-27").unwrap(), t), "8个月");
    }
}
