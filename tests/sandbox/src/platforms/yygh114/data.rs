//! The generated world of 114yygh: Beijing hospitals (code, name, level, district, daily
//! release time `openTimeView` and booking range), their nested departments (first-level
//! department → clinics), and the doctors who work in each clinic with their weekly
//! half-day shifts. Everything is deterministic per seed; scenario `hospitals` entries
//! override or add hospitals.

use super::config::HospitalCfg;
use crate::gen::{self, Rng};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Hospital levels (`levelId` filter of `hospital/list`).
pub const LEVELS: &[(u32, &str)] = &[
    (1, "三级甲等"),
    (2, "三级合格"),
    (3, "二级甲等"),
    (4, "二级合格"),
    (5, "一级"),
];

/// Beijing districts (`areaId` filter of `hospital/list`).
pub const AREAS: &[(u32, &str)] = &[
    (1, "东城区"),
    (2, "西城区"),
    (3, "朝阳区"),
    (4, "海淀区"),
    (5, "丰台区"),
    (6, "石景山区"),
    (7, "门头沟区"),
    (8, "房山区"),
    (9, "通州区"),
    (10, "顺义区"),
    (11, "昌平区"),
    (12, "大兴区"),
    (13, "怀柔区"),
    (14, "平谷区"),
    (15, "密云区"),
    (16, "延庆区"),
];

const OPEN_TIMES: &[&str] = &[
    "07:00", "07:30", "08:00", "08:00", "08:30", "08:30", "09:00", "09:30", "10:00", "14:00",
    "15:00", "17:00", "20:00",
];
const RANGES: &[u32] = &[7, 7, 7, 7, 10, 14, 14, 21, 28];
const UNIVERSITIES: &[&str] = &[
    "首都医科大学附属北京",
    "北京大学",
    "清华大学附属",
    "北京中医药大学附属",
    "中国医学科学院",
];
const STREETS: &[&str] = &[
    "东单北大街",
    "西直门南大街",
    "樱花园东街",
    "学院路",
    "永定门外西街",
    "阜成路",
    "新街口东街",
    "朝阳门北大街",
    "复兴路",
    "安定门外大街",
];
const PLACES: &[&str] = &[
    "门诊楼一层挂号收费处",
    "门诊楼二层自助机",
    "门诊大厅人工窗口",
    "各楼层自助挂号机",
];
/// Service fees (医事服务费) by doctor title; a few clinics charge a fractional fee.
const FEES: &[(&str, &[&str])] = &[
    ("主任医师", &["100", "100", "300"]),
    ("副主任医师", &["60", "80", "60"]),
    ("主治医师", &["50", "50", "42.5"]),
    ("住院医师", &["50"]),
    ("医生", &["50"]),
];

/// A hospital.
#[derive(Clone, Debug)]
pub struct Hospital {
    pub code: String,
    pub name: String,
    pub level_id: u32,
    pub level_text: &'static str,
    pub area_id: u32,
    pub area_name: &'static str,
    pub address: String,
    pub phone: String,
    pub picture: String,
    pub take_place: &'static str,
    /// Daily release time, minutes after Beijing midnight.
    pub open_minutes: i64,
    /// Days ahead that can be booked.
    pub booking_range: i64,
    pub maintain: bool,
    /// Whether products are split into time periods (`period` lists).
    pub periods: bool,
    pub depts: Vec<Dept1>,
    /// `secondDeptCode` → index into [`World::clinics`].
    pub clinic_by_code: HashMap<String, usize>,
}

impl Hospital {
    /// `openTimeView`: `HH:MM`.
    pub fn open_time_view(&self) -> String {
        format!(
            "{:02}:{:02}",
            self.open_minutes / 60,
            self.open_minutes % 60
        )
    }

    /// `openTimeText` as the site words it.
    pub fn open_time_text(&self) -> String {
        format!("每天{}放号", self.open_time_view())
    }
}

/// A first-level department.
#[derive(Clone, Debug)]
pub struct Dept1 {
    pub code: String,
    pub name: String,
    /// Indices into [`World::clinics`].
    pub subs: Vec<usize>,
}

/// A clinic (second-level department), where products are offered.
#[derive(Clone, Debug)]
pub struct Clinic {
    pub hos: usize,
    pub code: String,
    pub dept1_code: String,
    pub dept1_name: String,
    pub name: String,
    pub hot: bool,
    pub doctors: Vec<Doctor>,
}

/// A doctor and the weekly shifts they work.
#[derive(Clone, Debug)]
pub struct Doctor {
    pub name: String,
    pub title: String,
    pub skill: String,
    pub fee: String,
    /// Capacity per weekday (Monday first) and duty (morning, afternoon); 0 = off.
    pub shifts: [[u32; 2]; 7],
}

/// Everything generated from the seed.
#[derive(Debug, Default)]
pub struct World {
    pub hospitals: Vec<Hospital>,
    pub by_code: HashMap<String, usize>,
    pub clinics: Vec<Clinic>,
    /// `hospital/list` items, in list order, precomputed.
    pub list_items: Vec<Value>,
}

impl World {
    /// The hospital with this `hosCode`.
    pub fn hospital(&self, code: &str) -> Option<&Hospital> {
        self.by_code.get(code).map(|&i| &self.hospitals[i])
    }

    /// The clinic `secondDeptCode` of hospital `hosCode` (and of `firstDeptCode` when given).
    pub fn clinic(&self, hos_code: &str, first: Option<&str>, second: &str) -> Option<usize> {
        let h = self.hospital(hos_code)?;
        let &ci = h.clinic_by_code.get(second)?;
        match first {
            Some(f) if !f.is_empty() && self.clinics[ci].dept1_code != f => None,
            _ => Some(ci),
        }
    }

    /// Generates `count` hospitals, then applies the scenario's overrides.
    pub fn generate(seed: u64, count: usize, overrides: &[HospitalCfg]) -> Result<World, String> {
        let root = Rng::new(seed).fork("114yygh/world");
        let mut w = World::default();
        let mut names = HashSet::new();
        let mut codes = HashSet::new();
        let mut rng = root.fork("hospitals");
        // A few hospitals as the seed shows them, then generated ones.
        let fixed: &[(&str, &str)] = &[
            ("270", "中日友好医院"),
            ("H02110003", "北京大学第一医院"),
            ("162", "北京大学口腔医院"),
            ("1", "北京协和医院"),
        ];
        for i in 0..count {
            let (code, name) = match fixed.get(i) {
                Some((c, n)) => (c.to_string(), n.to_string()),
                None => {
                    let code = loop {
                        let c = if rng.chance(0.2) {
                            format!("H{:08}", rng.range(1_000_000, 99_999_999))
                        } else {
                            rng.range(2, 2000).to_string()
                        };
                        if !codes.contains(&c) {
                            break c;
                        }
                    };
                    (code, hospital_name(&mut rng, &names))
                }
            };
            codes.insert(code.clone());
            names.insert(name.clone());
            let mut hr = root.fork(&format!("hospital/{code}"));
            w.push_hospital(&mut hr, code, name);
            if i < fixed.len() {
                // The hospitals the seed names are always open for booking.
                if let Some(h) = w.hospitals.last_mut() {
                    h.maintain = false;
                }
            }
        }
        for o in overrides {
            let code = o.code.clone();
            if code.is_empty() {
                return Err("a hospital entry needs a `code`".into());
            }
            let i = match w.by_code.get(&code) {
                Some(&i) => i,
                None => {
                    let mut hr = root.fork(&format!("hospital/{code}"));
                    let name = o
                        .name
                        .clone()
                        .unwrap_or_else(|| hospital_name(&mut hr, &names));
                    names.insert(name.clone());
                    w.push_hospital(&mut hr, code.clone(), name);
                    w.hospitals.len() - 1
                }
            };
            let h = &mut w.hospitals[i];
            if let Some(n) = &o.name {
                h.name = n.clone();
            }
            if let Some(t) = &o.open_time {
                h.open_minutes = parse_hhmm(t)
                    .ok_or_else(|| format!("hospital {code}: open_time “{t}” is not HH:MM"))?;
            }
            if let Some(r) = o.booking_range {
                if !(1..=180).contains(&r) {
                    return Err(format!("hospital {code}: booking_range must be 1..=180"));
                }
                h.booking_range = i64::from(r);
            }
            if let Some(l) = o.level_id {
                let (id, text) = LEVELS
                    .iter()
                    .find(|(id, _)| *id == l)
                    .ok_or_else(|| format!("hospital {code}: no level_id {l}"))?;
                h.level_id = *id;
                h.level_text = text;
            }
            if let Some(a) = o.area_id {
                let (id, name) = AREAS
                    .iter()
                    .find(|(id, _)| *id == a)
                    .ok_or_else(|| format!("hospital {code}: no area_id {a}"))?;
                h.area_id = *id;
                h.area_name = name;
            }
            if let Some(m) = o.maintain {
                h.maintain = m;
            }
            if let Some(p) = o.periods {
                h.periods = p;
            }
            if o.every_day == Some(true) {
                for c in w.clinics.iter_mut().filter(|c| c.hos == i) {
                    staff_every_day(&mut c.doctors);
                }
            }
        }
        w.list_items = w
            .hospitals
            .iter()
            .map(|h| {
                json!({
                    "code": h.code,
                    "name": h.name,
                    "levelText": h.level_text,
                    "openTimeText": h.open_time_text(),
                    "picture": h.picture,
                    "maintain": h.maintain,
                })
            })
            .collect();
        Ok(w)
    }

    fn push_hospital(&mut self, rng: &mut Rng, code: String, name: String) {
        let hos = self.hospitals.len();
        let short_codes = code.starts_with('H');
        let (level_id, level_text) = *rng.pick(&[
            LEVELS[0], LEVELS[0], LEVELS[0], LEVELS[1], LEVELS[2], LEVELS[3], LEVELS[4],
        ]);
        let (area_id, area_name) = *rng.pick(AREAS);
        let open_minutes = parse_hhmm(rng.pick::<&str>(OPEN_TIMES)).unwrap_or(510);
        let booking_range = i64::from(*rng.pick(RANGES));
        let mut depts = Vec::new();
        let mut clinic_by_code = HashMap::new();
        let mut first_kinds: Vec<usize> = (0..gen::DEPARTMENTS.len()).collect();
        rng.shuffle(&mut first_kinds);
        let n_first = rng.range(4, gen::DEPARTMENTS.len() as u64 + 1) as usize;
        let mut short_seq = 100 + rng.range(0, 500);
        for (fi, &k) in first_kinds.iter().take(n_first).enumerate() {
            let (first_name, clinics) = gen::DEPARTMENTS[k];
            let first_code = if short_codes {
                format!("{:02}", fi + 1)
            } else {
                rng.hex(32)
            };
            let mut subs = Vec::new();
            let n_sub = rng.range(1, clinics.len() as u64 + 1) as usize;
            for &cname in clinics.iter().take(n_sub) {
                let code = loop {
                    let c = if short_codes {
                        short_seq += 1 + rng.range(0, 7);
                        short_seq.to_string()
                    } else {
                        format!("2000{}", rng.digits(5))
                    };
                    if !clinic_by_code.contains_key(&c) {
                        break c;
                    }
                };
                let ci = self.clinics.len();
                let name = if rng.chance(0.5) && !cname.ends_with("门诊") {
                    format!("{cname}门诊")
                } else {
                    cname.to_string()
                };
                self.clinics.push(Clinic {
                    hos,
                    code: code.clone(),
                    dept1_code: first_code.clone(),
                    dept1_name: first_name.to_string(),
                    name,
                    hot: rng.chance(0.2),
                    doctors: doctors(rng),
                });
                clinic_by_code.insert(code, ci);
                subs.push(ci);
            }
            depts.push(Dept1 {
                code: first_code,
                name: first_name.to_string(),
                subs,
            });
        }
        let phone = format!("010-{}", 6000_0000 + rng.range(0, 2999_9999));
        self.by_code.insert(code.clone(), hos);
        self.hospitals.push(Hospital {
            address: format!(
                "北京市{area_name}{}{}号",
                rng.pick(STREETS),
                rng.range(1, 300)
            ),
            picture: format!("https://img.114yygh.com/image/image-{}.png", rng.hex(16)),
            take_place: rng.pick::<&str>(PLACES),
            code,
            name,
            level_id,
            level_text,
            area_id,
            area_name,
            phone,
            open_minutes,
            booking_range,
            maintain: rng.chance(0.03),
            periods: rng.chance(0.5),
            depts,
            clinic_by_code,
        });
    }
}

fn hospital_name(rng: &mut Rng, taken: &HashSet<String>) -> String {
    for _ in 0..64 {
        let kind = rng.pick(gen::HOSPITAL_KINDS);
        let (_, area) = rng.pick(AREAS);
        let name = match rng.range(0, 4) {
            0 => format!("北京市{area}{kind}"),
            1 => format!("{}{kind}", rng.pick(UNIVERSITIES)),
            2 => format!("北京{}{kind}", area.trim_end_matches('区')),
            _ => format!("{area}{kind}"),
        };
        if !taken.contains(&name) {
            return name;
        }
    }
    format!("北京{}医院", rng.digits(4))
}

fn doctors(rng: &mut Rng) -> Vec<Doctor> {
    let n = rng.range(2, 7) as usize;
    let mut out = Vec::with_capacity(n + 1);
    for _ in 0..n {
        let title = rng.pick(gen::DOCTOR_TITLES).to_string();
        let fee = FEES
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, f)| rng.pick(f).to_string())
            .unwrap_or_else(|| "50".into());
        out.push(Doctor {
            name: gen::person_name(rng),
            skill: rng.pick(gen::SKILLS).to_string(),
            title,
            fee,
            shifts: shifts(rng, 2, 6),
        });
    }
    if rng.chance(0.4) {
        // A general clinic without a named doctor, as the site shows it.
        out.push(Doctor {
            name: "医生".into(),
            title: "普通号".into(),
            skill: String::new(),
            fee: "50".into(),
            shifts: shifts(rng, 5, 10),
        });
    }
    out
}

/// Gives the first doctor a morning shift on each weekday no doctor works.
fn staff_every_day(doctors: &mut [Doctor]) {
    for wd in 0..7 {
        if doctors.iter().all(|d| d.shifts[wd] == [0, 0]) {
            if let Some(d) = doctors.first_mut() {
                d.shifts[wd][0] = 10;
            }
        }
    }
}

fn shifts(rng: &mut Rng, lo: u64, hi: u64) -> [[u32; 2]; 7] {
    let mut s = [[0u32; 2]; 7];
    let n = rng.range(lo, hi + 1);
    for _ in 0..n {
        let day = rng.range(0, 7) as usize;
        if day == 6 && rng.chance(0.7) {
            continue; // few Sunday clinics
        }
        s[day][rng.range(0, 2) as usize] = rng.range(4, 31) as u32;
    }
    s
}

/// `HH:MM` → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// A generated mainland identity-card number (18 characters with a valid check digit).
pub fn id_card_no(rng: &mut Rng) -> String {
    let region = rng.pick(&[
        "110101", "110102", "110105", "110108", "110106", "411423", "130102",
    ]);
    let year = rng.range(1950, 2015);
    let month = rng.range(1, 13);
    let day = rng.range(1, 29);
    let body = format!("{region}{year}{month:02}{day:02}{}", rng.digits(3));
    haoyuan_core::idcard::complete(&body).unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_is_deterministic_and_hundreds_of_hospitals_strong() {
        let a = World::generate(7, 300, &[]).unwrap();
        let b = World::generate(7, 300, &[]).unwrap();
        assert_eq!(a.hospitals.len(), 300);
        assert_eq!(a.by_code.len(), 300, "codes are unique");
        let names: HashSet<_> = a.hospitals.iter().map(|h| &h.name).collect();
        assert_eq!(names.len(), 300, "names are unique");
        assert_eq!(a.list_items, b.list_items);
        let h = a.hospital("270").unwrap();
        assert_eq!(h.name, "中日友好医院");
        for h in &a.hospitals {
            assert!(!h.depts.is_empty());
            for d in &h.depts {
                for &ci in &d.subs {
                    assert_eq!(a.clinics[ci].dept1_code, d.code);
                    assert_eq!(
                        a.clinic(&h.code, Some(&d.code), &a.clinics[ci].code),
                        Some(ci)
                    );
                }
            }
        }
        assert_ne!(
            World::generate(8, 300, &[]).unwrap().list_items,
            a.list_items
        );
    }

    #[test]
    fn a_hospital_open_every_day_has_every_clinic_staffed_every_weekday() {
        let cfg = |every_day: bool| -> Vec<crate::platforms::yygh114::config::HospitalCfg> {
            serde_json::from_value(serde_json::json!([{"code": "1", "every_day": every_day}]))
                .unwrap()
        };
        let plain = World::generate(20261127, 300, &cfg(false)).unwrap();
        let cfg = cfg(true);
        let w = World::generate(20261127, 300, &cfg).unwrap();
        let staffed = |w: &World, ci: usize| {
            (0..7).all(|wd| w.clinics[ci].doctors.iter().any(|d| d.shifts[wd] != [0, 0]))
        };
        let i = w.by_code["1"];
        let clinics: Vec<usize> = (0..w.clinics.len())
            .filter(|&c| w.clinics[c].hos == i)
            .collect();
        assert!(!clinics.is_empty());
        assert!(clinics.iter().all(|&c| staffed(&w, c)));
        // Without it the generated week has gaps (few Sunday clinics).
        assert!(clinics.iter().any(|&c| !staffed(&plain, c)));
    }

    #[test]
    fn id_numbers_carry_a_valid_check_digit() {
        let mut r = Rng::new(3);
        for _ in 0..50 {
            let id = id_card_no(&mut r);
            assert_eq!(id.len(), 18);
        }
        assert_eq!(parse_hhmm("08:30"), Some(510));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("8"), None);
    }
}
