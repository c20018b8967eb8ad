//! Trains, seats and the `|`-rows of the query reply.
//!
//! Trains run daily along corridors of real stations (京沪, 京广, 沪昆, …, G/D/C/Z/T/K)
//! and along generated local lines through generated stations. A train's stop times are
//! minutes from midnight of its start date (`start_train_date`), so overnight trains
//! reach later stops on the next day. Inventory is kept per train, start date and seat
//! kind for the whole train (not per segment).
//!
//! Row layout (platforms.md): 0 secretStr · 1 button text · 2 train_no · 3 train code ·
//! 4/5 origin/terminus · 6/7 from/to · 8/9/10 depart/arrive/duration · 11 canWebBuy ·
//! 12 leftTicketStr · 13 start_train_date · 14 seat feature · 15 train_location ·
//! 16/17 from/to station_no · 18 is_support_card · 19 controlled flag · 20 gg ·
//! 21 高级软卧 · 22 其他 · 23 软卧 · 24 软座 · 25 特等座 · 26 无座 · 27 yb · 28 硬卧 ·
//! 29 硬座 · 30 二等座 · 31 一等座 · 32 商务座 · 33 动卧 · 34 yp_ex · 35 seat_types ·
//! 36 exchange flag · 37 houbu_train_flag · 38 houbu_seat_limit · 39 yp_info_new ·
//! 40–55 further flags (mostly empty, as in the real ~56-field rows).

use super::stations::Stations;
use crate::gen::Rng;
use std::collections::HashMap;

/// Seat kinds, in the order of [`Seat::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seat {
    /// 商务座 `9`
    Business,
    /// 特等座 `P`
    Premium,
    /// 一等座 `M`
    First,
    /// 二等座 `O`
    Second,
    /// 高级软卧 `6`
    DeluxeSleeper,
    /// 软卧 `4`
    SoftSleeper,
    /// 动卧 `F`
    EmuSleeper,
    /// 硬卧 `3`
    HardSleeper,
    /// 软座 `2`
    SoftSeat,
    /// 硬座 `1`
    HardSeat,
    /// 无座 (sold with the train's base seat code; `W` in admin specs)
    Standing,
}

/// Number of seat kinds.
pub const NSEAT: usize = 11;

impl Seat {
    /// Every kind, indexed by [`Seat::idx`].
    pub const ALL: [Seat; NSEAT] = [
        Seat::Business,
        Seat::Premium,
        Seat::First,
        Seat::Second,
        Seat::DeluxeSleeper,
        Seat::SoftSleeper,
        Seat::EmuSleeper,
        Seat::HardSleeper,
        Seat::SoftSeat,
        Seat::HardSeat,
        Seat::Standing,
    ];

    /// Index into a [`Stock`].
    pub fn idx(self) -> usize {
        self as usize
    }

    /// The order code (`seatType`); 无座 answers `W` (admin only).
    pub fn code(self) -> char {
        match self {
            Seat::Business => '9',
            Seat::Premium => 'P',
            Seat::First => 'M',
            Seat::Second => 'O',
            Seat::DeluxeSleeper => '6',
            Seat::SoftSleeper => '4',
            Seat::EmuSleeper => 'F',
            Seat::HardSleeper => '3',
            Seat::SoftSeat => '2',
            Seat::HardSeat => '1',
            Seat::Standing => 'W',
        }
    }

    /// The seat kind of an order code or an admin spec (`O`, `M`, `9`, `W`/`WZ` …).
    pub fn from_code(code: &str) -> Option<Seat> {
        Some(match code {
            "9" => Seat::Business,
            "P" => Seat::Premium,
            "M" => Seat::First,
            "O" => Seat::Second,
            "6" | "A" => Seat::DeluxeSleeper,
            "4" => Seat::SoftSleeper,
            "F" => Seat::EmuSleeper,
            "3" => Seat::HardSleeper,
            "2" => Seat::SoftSeat,
            "1" => Seat::HardSeat,
            "W" | "WZ" | "无座" => Seat::Standing,
            _ => return None,
        })
    }

    /// Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            Seat::Business => "商务座",
            Seat::Premium => "特等座",
            Seat::First => "一等座",
            Seat::Second => "二等座",
            Seat::DeluxeSleeper => "高级软卧",
            Seat::SoftSleeper => "软卧",
            Seat::EmuSleeper => "动卧",
            Seat::HardSleeper => "硬卧",
            Seat::SoftSeat => "软座",
            Seat::HardSeat => "硬座",
            Seat::Standing => "无座",
        }
    }

    /// The row index of its count cell.
    pub fn cell(self) -> usize {
        match self {
            Seat::Business => 32,
            Seat::Premium => 25,
            Seat::First => 31,
            Seat::Second => 30,
            Seat::DeluxeSleeper => 21,
            Seat::SoftSleeper => 23,
            Seat::EmuSleeper => 33,
            Seat::HardSleeper => 28,
            Seat::SoftSeat => 24,
            Seat::HardSeat => 29,
            Seat::Standing => 26,
        }
    }

    /// Fare in yuan per km (roughly the real tariffs).
    fn rate(self) -> f64 {
        match self {
            Seat::Business => 1.46,
            Seat::Premium => 0.88,
            Seat::First => 0.74,
            Seat::Second => 0.46,
            Seat::DeluxeSleeper => 0.52,
            Seat::SoftSleeper => 0.33,
            Seat::EmuSleeper => 0.55,
            Seat::HardSleeper => 0.21,
            Seat::SoftSeat => 0.17,
            Seat::HardSeat => 0.11,
            Seat::Standing => 0.11,
        }
    }
}

/// Seats left per kind; `-1`: the train has no such seat.
pub type Stock = [i32; NSEAT];

/// One stop.
#[derive(Clone, Debug)]
pub struct Stop {
    pub station: u32,
    /// Minutes from midnight of the start date.
    pub arrive: i32,
    pub depart: i32,
}

/// A train (runs daily).
#[derive(Clone, Debug)]
pub struct Train {
    /// `G1`.
    pub code: String,
    /// `240000G10107`.
    pub train_no: String,
    pub stops: Vec<Stop>,
    /// Kinds it sells, in display order.
    pub seats: Vec<Seat>,
    /// Sale time (minutes after Beijing midnight) of its dates.
    pub sale_min: i32,
    /// Whether it takes waitlist (候补) requests.
    pub houbu: bool,
    /// `P2`.
    pub location: String,
    /// km per minute (for fares).
    pub speed: f64,
}

impl Train {
    /// Whether the train sells this kind.
    pub fn has(&self, s: Seat) -> bool {
        self.seats.contains(&s)
    }

    /// Fare in yuan between two stops.
    pub fn price(&self, s: Seat, from: usize, to: usize) -> f64 {
        let minutes = f64::from(self.stops[to].arrive - self.stops[from].depart).max(10.0);
        let raw = minutes * self.speed * s.rate();
        (raw * 2.0).round() / 2.0 + 0.5
    }
}

/// Corridors of real stations: (train letters, [(station, minutes from previous)], trains
/// each way, first number).
type Corridor = (&'static str, &'static [(&'static str, i32)], u32, u32);

const CORRIDORS: &[Corridor] = &[
    (
        "G",
        &[
            ("北京南", 0),
            ("天津南", 35),
            ("济南西", 85),
            ("徐州东", 80),
            ("南京南", 75),
            ("苏州北", 55),
            ("上海虹桥", 28),
        ],
        30,
        1,
    ),
    (
        "G",
        &[
            ("北京西", 0),
            ("石家庄", 70),
            ("郑州东", 110),
            ("武汉", 125),
            ("长沙南", 90),
            ("广州南", 150),
            ("深圳北", 35),
        ],
        24,
        71,
    ),
    (
        "G",
        &[
            ("上海虹桥", 0),
            ("杭州东", 50),
            ("南昌西", 150),
            ("长沙南", 100),
            ("贵阳北", 160),
            ("昆明南", 120),
        ],
        16,
        1301,
    ),
    (
        "G",
        &[
            ("郑州东", 0),
            ("西安北", 130),
            ("成都东", 200),
            ("重庆北", 70),
        ],
        12,
        1801,
    ),
    (
        "G",
        &[
            ("北京朝阳", 0),
            ("沈阳北", 165),
            ("长春西", 100),
            ("哈尔滨西", 60),
        ],
        12,
        901,
    ),
    (
        "D",
        &[
            ("上海", 0),
            ("苏州", 30),
            ("无锡", 15),
            ("南京", 60),
            ("合肥南", 60),
        ],
        16,
        3001,
    ),
    (
        "D",
        &[
            ("深圳北", 0),
            ("厦门北", 210),
            ("福州南", 100),
            ("温州南", 150),
            ("宁波", 110),
            ("杭州东", 60),
        ],
        10,
        2281,
    ),
    ("C", &[("北京南", 0), ("天津", 33)], 20, 2001),
    ("C", &[("广州东", 0), ("深圳", 75)], 16, 7001),
    (
        "ZTK",
        &[
            ("北京", 0),
            ("天津", 90),
            ("济南", 240),
            ("徐州", 270),
            ("南京", 220),
            ("上海", 220),
        ],
        8,
        101,
    ),
    (
        "ZTK",
        &[
            ("北京西", 0),
            ("石家庄", 170),
            ("郑州", 250),
            ("武昌", 320),
            ("长沙", 230),
            ("广州东", 480),
            ("广州", 25),
        ],
        8,
        201,
    ),
    (
        "ZK",
        &[
            ("北京西", 0),
            ("石家庄", 170),
            ("太原", 240),
            ("西安", 420),
            ("兰州", 480),
            ("西宁", 150),
            ("拉萨", 1300),
        ],
        4,
        301,
    ),
    (
        "TK",
        &[
            ("北京", 0),
            ("天津", 90),
            ("沈阳", 480),
            ("长春", 240),
            ("哈尔滨", 180),
        ],
        6,
        401,
    ),
    (
        "DK",
        &[("广州南", 0), ("南宁东", 220), ("昆明南", 300)],
        6,
        3601,
    ),
];

fn bureau_no(letter: char) -> &'static str {
    match letter {
        'P' => "24",
        'H' => "5l",
        'Q' => "6i",
        'N' => "4e",
        'W' => "76",
        'F' => "39",
        'Y' => "41",
        'T' => "12",
        'B' => "01",
        'K' => "38",
        'J' => "91",
        'V' => "14",
        'G' => "58",
        'M' => "80",
        'Z' => "87",
        'O' => "5k",
        _ => "33",
    }
}

fn seats_for(letter: char, r: &mut Rng) -> Vec<Seat> {
    use Seat::*;
    let mut v = match letter {
        'G' => {
            let mut v = vec![Business];
            if r.chance(0.2) {
                v.push(Premium);
            }
            v.extend([First, Second]);
            v
        }
        'D' => {
            let mut v = vec![First, Second];
            if r.chance(0.15) {
                v.push(EmuSleeper);
            }
            v
        }
        'C' => vec![First, Second],
        'Z' => {
            let mut v = vec![];
            if r.chance(0.3) {
                v.push(DeluxeSleeper);
            }
            v.extend([SoftSleeper, HardSleeper, HardSeat]);
            v
        }
        _ => vec![SoftSleeper, HardSleeper, HardSeat],
    };
    if matches!(letter, 'Z' | 'T' | 'K') || r.chance(0.5) {
        v.push(Standing);
    }
    v
}

/// Builds a train along `route` (station index, minutes from previous).
fn make_train(
    st: &Stations,
    r: &mut Rng,
    letter: char,
    number: u32,
    route: &[(u32, i32)],
    depart: i32,
) -> Train {
    let fast = matches!(letter, 'G' | 'D' | 'C');
    let mut stops = Vec::with_capacity(route.len());
    let mut t = depart;
    for (i, &(station, minutes)) in route.iter().enumerate() {
        let arrive = if i == 0 { depart } else { t + minutes };
        let dwell = if i == 0 || i + 1 == route.len() {
            0
        } else if fast {
            r.range(2, 5) as i32
        } else {
            r.range(5, 13) as i32
        };
        stops.push(Stop {
            station,
            arrive,
            depart: arrive + dwell,
        });
        t = arrive + dwell;
    }
    let code = format!("{letter}{number}");
    let origin = &st.list[route[0].0 as usize];
    let bureau = origin.telecode.chars().last().unwrap_or('P');
    let pad = 12usize.saturating_sub(2 + code.len() + 2);
    let train_no = format!(
        "{}{}{}0{}",
        bureau_no(bureau),
        "0".repeat(pad),
        code,
        r.string("0123456789ABCDEF", 1)
    );
    let sale_slots = [
        480, 510, 540, 570, 600, 630, 660, 690, 720, 750, 780, 810, 840, 870, 900, 930, 960, 990,
        1020,
    ];
    Train {
        seats: seats_for(letter, r),
        sale_min: *r.pick(&sale_slots),
        houbu: r.chance(0.8),
        location: format!("{bureau}{}", r.range(1, 10)),
        speed: match letter {
            'G' => 4.6,
            'D' | 'C' => 3.5,
            'Z' => 2.0,
            'T' => 1.7,
            _ => 1.3,
        },
        code,
        train_no,
        stops,
    }
}

/// Every train of a world, and indexes for queries.
#[derive(Debug, Default)]
pub struct Trains {
    pub list: Vec<Train>,
    pub by_code: HashMap<String, u32>,
    /// City → (train, stop index) of every stop in that city.
    pub by_city: HashMap<u32, Vec<(u32, u16)>>,
}

impl Trains {
    /// Generates the trains of a world.
    pub fn generate(st: &Stations, rng: &Rng, local_lines: usize) -> Trains {
        let mut out = Trains::default();
        let mut r = rng.fork("trains");
        for (letters, route, count, base) in CORRIDORS {
            let route: Vec<(u32, i32)> = route
                .iter()
                .filter_map(|(n, m)| st.index_by_name(n).map(|i| (i, *m)))
                .collect();
            if route.len() < 2 {
                continue;
            }
            let letters: Vec<char> = letters.chars().collect();
            for k in 0..*count {
                for reverse in [false, true] {
                    let number = base + 2 * k + u32::from(reverse);
                    let letter = letters[(k as usize) % letters.len()];
                    let fast = matches!(letter, 'G' | 'D' | 'C');
                    let mut leg: Vec<(u32, i32)> = if reverse {
                        // minutes belong to the segment before a stop; reverse them.
                        let mut v: Vec<(u32, i32)> = Vec::new();
                        for i in (0..route.len()).rev() {
                            let m = if i + 1 < route.len() {
                                route[i + 1].1
                            } else {
                                0
                            };
                            v.push((route[i].0, m));
                        }
                        v
                    } else {
                        route.clone()
                    };
                    // Most trains run the whole corridor; some a part of it.
                    let first = number <= 2 && letter == 'G';
                    if !first && leg.len() > 2 && r.chance(0.3) {
                        let a = r.range(0, (leg.len() - 1) as u64) as usize;
                        let b = r.range(a as u64 + 2, leg.len() as u64 + 1) as usize;
                        leg = leg[a..b].to_vec();
                        leg[0].1 = 0;
                    }
                    // Fast trains skip some intermediate stations.
                    if fast && !first && leg.len() > 2 {
                        let mut kept = vec![leg[0]];
                        let mut carry = 0;
                        for (i, &(s, m)) in leg.iter().enumerate().skip(1) {
                            if i + 1 < leg.len() && r.chance(0.35) {
                                carry += m - 3;
                            } else {
                                kept.push((s, m + carry));
                                carry = 0;
                            }
                        }
                        leg = kept;
                    }
                    let depart = if fast {
                        let span = 15 * 60 - 30;
                        6 * 60 + (span * k as i32) / (*count as i32).max(1) + r.range(0, 20) as i32
                    } else {
                        r.range(0, 24 * 60) as i32
                    };
                    let depart = if first { 7 * 60 } else { depart };
                    out.push(make_train(st, &mut r, letter, number, &leg, depart));
                }
            }
        }
        // Local lines through generated stations, between two real cities.
        let real: Vec<u32> = (0..st.list.len() as u32)
            .filter(|&i| st.list[i as usize].real)
            .collect();
        let generated: Vec<u32> = (0..st.list.len() as u32)
            .filter(|&i| !st.list[i as usize].real)
            .collect();
        if !generated.is_empty() && real.len() > 1 {
            for k in 0..local_lines as u32 {
                let a = *r.pick(&real);
                let mut b = *r.pick(&real);
                while st.list[b as usize].city == st.list[a as usize].city {
                    b = *r.pick(&real);
                }
                let mut route = vec![(a, 0)];
                for _ in 0..r.range(3, 9) {
                    route.push((*r.pick(&generated), r.range(25, 90) as i32));
                }
                route.push((b, r.range(30, 120) as i32));
                let mut seen = std::collections::HashSet::new();
                route.retain(|x| seen.insert(x.0));
                let letter = if r.chance(0.8) { 'K' } else { 'T' };
                let number = if letter == 'K' {
                    1001 + 2 * k
                } else {
                    5001 + 2 * k
                };
                let depart = r.range(0, 24 * 60) as i32;
                out.push(make_train(st, &mut r, letter, number, &route, depart));
                let back: Vec<(u32, i32)> = (0..route.len())
                    .rev()
                    .map(|i| {
                        (
                            route[i].0,
                            if i + 1 < route.len() {
                                route[i + 1].1
                            } else {
                                0
                            },
                        )
                    })
                    .collect();
                let depart = r.range(0, 24 * 60) as i32;
                out.push(make_train(st, &mut r, letter, number + 1, &back, depart));
            }
        }
        for (ti, t) in out.list.iter().enumerate() {
            for (si, s) in t.stops.iter().enumerate() {
                let city = st.list[s.station as usize].city;
                out.by_city
                    .entry(city)
                    .or_default()
                    .push((ti as u32, si as u16));
            }
        }
        out
    }

    fn push(&mut self, t: Train) {
        if self.by_code.contains_key(&t.code) {
            return;
        }
        self.by_code.insert(t.code.clone(), self.list.len() as u32);
        self.list.push(t);
    }

    /// The train with this code (`G1`).
    pub fn get(&self, code: &str) -> Option<(u32, &Train)> {
        let i = *self.by_code.get(code)?;
        Some((i, &self.list[i as usize]))
    }

    /// Trains from a city to a city: (train, from stop, to stop), by departure time of day.
    pub fn between(&self, st: &Stations, from_city: u32, to_city: u32) -> Vec<(u32, usize, usize)> {
        let mut v = Vec::new();
        if from_city == to_city {
            return v;
        }
        for &(ti, si) in self
            .by_city
            .get(&from_city)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let t = &self.list[ti as usize];
            let si = si as usize;
            if let Some(to) = (si + 1..t.stops.len())
                .find(|&j| st.list[t.stops[j].station as usize].city == to_city)
            {
                v.push((ti, si, to));
            }
        }
        v.sort_by_key(|&(ti, si, _)| {
            (self.list[ti as usize].stops[si].depart.rem_euclid(1440), ti)
        });
        v
    }
}

/// The initial stock of a train on a date (deterministic per world seed).
pub fn initial_stock(seed: u64, train_idx: u32, train: &Train, day: i64, mode: StockMode) -> Stock {
    let mut stock = [-1; NSEAT];
    let mut r =
        Rng::new(seed ^ (u64::from(train_idx) << 32) ^ (day as u64).wrapping_mul(0x9E37_79B9));
    for &s in &train.seats {
        stock[s.idx()] = match mode {
            StockMode::SoldOut => 0,
            StockMode::Plenty => r.range(100, 600) as i32,
            StockMode::Fixed(n) => n,
            StockMode::Random => {
                let x = r.range(0, 100);
                if x < 45 {
                    r.range(20, 500) as i32
                } else if x < 75 {
                    r.range(1, 20) as i32
                } else {
                    0
                }
            }
        };
    }
    stock
}

/// How initial stock is generated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StockMode {
    /// A mix of plenty, few and none (default).
    Random,
    /// Plenty of everything.
    Plenty,
    /// Nothing left anywhere (waitlist scenarios).
    SoldOut,
    /// This many of every kind.
    Fixed(i32),
}

/// A seat cell: a number, `有` (20 or more), `无`, empty (no such seat), `*` (not on sale).
pub fn cell(count: i32, on_sale: bool) -> String {
    if count < 0 {
        String::new()
    } else if !on_sale {
        "*".into()
    } else if count == 0 {
        "无".into()
    } else if count >= 20 {
        "有".into()
    } else {
        count.to_string()
    }
}

/// `HH:MM` of minutes (mod a day unless `duration`).
pub fn hhmm(minutes: i32, duration: bool) -> String {
    let m = if duration {
        minutes.max(0)
    } else {
        minutes.rem_euclid(1440)
    };
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `yyyyMMdd` of days since the epoch.
pub fn ymd_compact(day: i64) -> String {
    let d = haoyuan_core::date::Date::from_days(day);
    format!("{:04}{:02}{:02}", d.year, d.month, d.day)
}

// ---------------------------------------------------------------------------------------
// Opaque strings: secretStr and leftTicketStr.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' || c.is_ascii_whitespace() {
            continue;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// Percent-encodes everything but `[A-Za-z0-9-_.~]` (as `encodeURIComponent` roughly).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` (not `+`); None when nothing was encoded.
pub fn unpct(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).ok()?, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn keystream(key: u64, n: usize) -> Vec<u8> {
    let mut r = Rng::new(key);
    (0..n).map(|_| r.next_u64() as u8).collect()
}

fn mac(key: u64, data: &[u8]) -> u64 {
    let mut h = key ^ 0xCBF2_9CE4_8422_2325;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    Rng::new(h).next_u64()
}

/// What a secretStr stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Secret {
    pub train: u32,
    /// Start date (days since the epoch).
    pub start_day: i64,
    pub from: usize,
    pub to: usize,
}

/// The secretStr of a row, percent-encoded as it appears in the reply (base64 with line
/// breaks every 76 characters, like the real one).
pub fn secret_encode(key: u64, s: &Secret) -> String {
    let mut plain = format!("{}#{}#{}#{}#", s.train, s.start_day, s.from, s.to).into_bytes();
    plain.resize(120, b'#');
    let ks = keystream(key, plain.len());
    let mut data: Vec<u8> = plain.iter().zip(ks).map(|(a, b)| a ^ b).collect();
    data.extend_from_slice(&mac(key, &data).to_be_bytes());
    let b = b64_encode(&data);
    let mut wrapped = String::with_capacity(b.len() + b.len() / 76 + 1);
    for (i, c) in b.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            wrapped.push('\n');
        }
        wrapped.push(c);
    }
    pct(&wrapped)
}

/// Reads a secretStr as a client sends it back: decoded once by the form parser, or still
/// percent-encoded, with or without its line breaks.
pub fn secret_decode(key: u64, s: &str) -> Option<Secret> {
    let mut text = s.to_string();
    for _ in 0..2 {
        if let Some(d) = unpct(&text) {
            text = d;
        }
    }
    let text = text.replace(' ', "+");
    let data = b64_decode(&text)?;
    if data.len() != 128 {
        return None;
    }
    let (body, tag) = data.split_at(120);
    if mac(key, body).to_be_bytes() != tag {
        return None;
    }
    let ks = keystream(key, body.len());
    let plain: Vec<u8> = body.iter().zip(ks).map(|(a, b)| a ^ b).collect();
    let plain = String::from_utf8(plain).ok()?;
    let mut it = plain.split('#');
    Some(Secret {
        train: it.next()?.parse().ok()?,
        start_day: it.next()?.parse().ok()?,
        from: it.next()?.parse().ok()?,
        to: it.next()?.parse().ok()?,
    })
}

/// The leftTicketStr (yp_info) of a train, date and segment, percent-encoded.
pub fn left_ticket_str(key: u64, s: &Secret) -> String {
    let mut r = Rng::new(
        key ^ (u64::from(s.train) << 40)
            ^ ((s.start_day as u64) << 12)
            ^ ((s.from as u64) << 6)
            ^ s.to as u64,
    );
    let raw: Vec<u8> = (0..43).map(|_| r.next_u64() as u8).collect();
    pct(&b64_encode(&raw))
}

/// Whether a client's `leftTicket`/`leftTicketStr` is this one (sent encoded once,
/// twice, or decoded).
pub fn same_left_ticket(expected_pct: &str, got: &str) -> bool {
    if got == expected_pct {
        return true;
    }
    let raw = unpct(expected_pct).unwrap_or_default();
    let mut g = got.to_string();
    for _ in 0..2 {
        if g == raw || g == expected_pct {
            return true;
        }
        match unpct(&g) {
            Some(d) => g = d,
            None => break,
        }
    }
    g == raw || g.replace(' ', "+") == raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_roundtrips_in_every_encoding() {
        let s = Secret {
            train: 17,
            start_day: 20_000,
            from: 1,
            to: 5,
        };
        let enc = secret_encode(42, &s);
        assert!(enc.contains("%0A"), "{enc}");
        assert_eq!(secret_decode(42, &enc), Some(s.clone()));
        let once = unpct(&enc).unwrap();
        assert_eq!(secret_decode(42, &once), Some(s.clone()));
        assert_eq!(secret_decode(42, &pct(&enc)), Some(s.clone()));
        assert_eq!(secret_decode(43, &enc), None);
        assert_eq!(secret_decode(42, "garbage"), None);
    }

    #[test]
    fn left_ticket_matches_its_encodings() {
        let s = Secret {
            train: 3,
            start_day: 20_100,
            from: 0,
            to: 2,
        };
        let lt = left_ticket_str(7, &s);
        assert!(same_left_ticket(&lt, &lt));
        assert!(same_left_ticket(&lt, &unpct(&lt).unwrap_or(lt.clone())));
        assert!(same_left_ticket(&lt, &pct(&lt)));
        assert!(!same_left_ticket(&lt, "x"));
    }

    #[test]
    fn trains_connect_real_cities() {
        let rng = Rng::new(5);
        let st = Stations::generate(&rng, 800);
        let tr = Trains::generate(&st, &rng, 50);
        let (_, g1) = tr.get("G1").unwrap();
        assert_eq!(st.list[g1.stops[0].station as usize].telecode, "VNP");
        assert_eq!(
            st.list[g1.stops.last().unwrap().station as usize].telecode,
            "AOH"
        );
        let bj = st.get("BJP").unwrap().city;
        let sh = st.get("SHH").unwrap().city;
        let found = tr.between(&st, bj, sh);
        assert!(found.len() > 20, "{}", found.len());
        assert!(found
            .iter()
            .any(|&(t, _, _)| tr.list[t as usize].code == "G1"));
        assert!(tr.list.len() > 300);
    }
}
