//! Generated 浙里办 reservation records: realistic people (18-digit ID numbers with a
//! correct check digit, phones, birth dates and sexes that agree with the ID number),
//! hospitals' 体检套餐 and add-on items, and the record fields in the seed's order and
//! types. Also the deliberately broken records (`malformed`) a client must reject.

use crate::gen::{self, Rng};
use haoyuan_core::date::Date;
use serde_json::{Map, Value};

/// One field value of a record as it goes on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Fv {
    /// Any JSON value.
    Json(Value),
    /// Written verbatim: decimals with two places (`2881.00`), which `serde_json` would
    /// print as `2881.0`.
    Raw(String),
}

impl Fv {
    fn write(&self, out: &mut String) {
        match self {
            Fv::Json(v) => out.push_str(&serde_json::to_string(v).unwrap_or_default()),
            Fv::Raw(s) => out.push_str(s),
        }
    }

    /// As a JSON value (a `Raw` decimal becomes a number).
    pub fn to_value(&self) -> Value {
        match self {
            Fv::Json(v) => v.clone(),
            Fv::Raw(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        }
    }

    /// The text of a string or number value.
    pub fn text(&self) -> Option<String> {
        match self {
            Fv::Json(Value::String(s)) => Some(s.clone()),
            Fv::Json(Value::Number(n)) => Some(n.to_string()),
            Fv::Raw(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// A record's fields in wire order (without `requestId`, which each pull adds in front).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(pub Vec<(String, Fv)>);

impl Fields {
    /// Replaces a field's value, or appends the field.
    pub fn set(&mut self, key: &str, v: Fv) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => *old = v,
            None => self.0.push((key.to_string(), v)),
        }
    }

    /// Removes a field.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&Fv> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `"k":v,"k2":v2` — the inside of the record's JSON object.
    pub fn fragment(&self) -> String {
        let mut out = String::with_capacity(64 * self.0.len());
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            v.write(&mut out);
        }
        out
    }

    /// As a JSON object (for the admin API).
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect::<Map<String, Value>>(),
        )
    }
}

/// A dictionary code, written as a number (the seed's example reply) or as a string
/// (the seed's field table says `String`).
pub fn code(n: i64, as_string: bool) -> Fv {
    if as_string {
        Fv::Json(Value::String(n.to_string()))
    } else {
        Fv::Json(Value::from(n))
    }
}

/// Yuan with two decimals from fen: `288100` → `2881.00`.
pub fn fee(cents: i64) -> Fv {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    Fv::Raw(format!("{sign}{}.{:02}", c / 100, c % 100))
}

fn s(v: impl Into<String>) -> Fv {
    Fv::Json(Value::String(v.into()))
}

/// A health-check institution that pulls its reservations.
#[derive(Clone, Debug)]
pub struct Hospital {
    /// `hospitalCode`, e.g. `100637`.
    pub code: String,
    /// `hospitalName`, e.g. `杭州市第三人民医院体检中心`.
    pub name: String,
    /// Prefix of its `serialNumber`s, e.g. `ZJ109` (→ `ZJ109-35`).
    pub prefix: String,
}

const CITIES: &[&str] = &[
    "杭州市",
    "宁波市",
    "温州市",
    "嘉兴市",
    "湖州市",
    "绍兴市",
    "金华市",
    "衢州市",
    "舟山市",
    "台州市",
    "丽水市",
    "义乌市",
    "余姚市",
    "慈溪市",
    "诸暨市",
];
const KINDS: &[&str] = &[
    "第一人民医院",
    "人民医院",
    "中医院",
    "第二人民医院",
    "中心医院",
    "第三人民医院",
    "妇幼保健院",
    "中西医结合医院",
];

/// The `n`th generated hospital (0 is the seed's own example).
pub fn hospital(rng: &mut Rng, n: usize) -> Hospital {
    if n == 0 {
        return Hospital {
            code: "100637".into(),
            name: "杭州市第三人民医院体检中心".into(),
            prefix: "ZJ109".into(),
        };
    }
    Hospital {
        code: format!("{}", rng.range(100_100, 999_999)),
        name: format!("{}{}体检中心", rng.pick(CITIES), rng.pick(KINDS)),
        prefix: format!("ZJ{}", 109 + n),
    }
}

/// Who a package or an add-on item is for.
#[derive(Clone, Copy, PartialEq)]
enum For {
    Anyone,
    Men,
    Women,
}

/// (hospitalPackageId, hospitalPackageName, price in fen, for whom).
const PACKAGES: &[(&str, &str, i64, For)] = &[
    ("RM11", "入职体检套餐", 15_000, For::Anyone),
    ("RM12", "体检A套餐(基础)", 38_800, For::Anyone),
    ("RM13", "体检B套餐(男士)", 68_000, For::Men),
    ("RM14", "体检B套餐(女士已婚)", 76_000, For::Women),
    ("RM15", "体检C套餐(中老年)", 128_000, For::Anyone),
    ("RM16", "体检E套餐(男士)", 198_000, For::Men),
    ("RM17", "体检E套餐(女士)", 208_000, For::Women),
    ("RM18", "心脑血管专项筛查套餐", 158_000, For::Anyone),
    ("RM19", "肿瘤早筛套餐", 228_000, For::Anyone),
    ("RM20", "孕前优生检查套餐(女士)", 56_000, For::Women),
    ("RM21", "教师健康体检套餐", 26_000, For::Anyone),
    ("RM22", "65岁以上老年人免费体检", 0, For::Anyone),
];

/// (addCombinationId, addCombinationName, price in fen, for whom).
const ADD_ONS: &[(&str, &str, i64, For)] = &[
    ("RM0102", "临床检查项目", 18_000, For::Anyone),
    ("RM0206", "临床检验项目", 22_100, For::Anyone),
    ("RM0301", "甲状腺功能五项", 15_000, For::Anyone),
    ("RM0302", "肿瘤标志物十二项", 48_000, For::Anyone),
    ("RM0303", "碳13呼气试验(幽门螺杆菌)", 12_000, For::Anyone),
    ("RM0406", "辅助检查项目", 26_000, For::Anyone),
    ("RM0410", "胸部低剂量螺旋CT", 35_000, For::Anyone),
    ("RM0411", "颈动脉彩超", 18_000, For::Anyone),
    ("RM0412", "乳腺彩超", 16_000, For::Women),
    ("RM0413", "前列腺彩超", 12_000, For::Men),
    ("RM0501", "骨密度检测", 8_000, For::Anyone),
    ("RM0502", "无痛胃镜", 90_000, For::Anyone),
    ("RM0601", "其他", 5_000, For::Anyone),
];

/// Birth regions (administrative division codes), Zhejiang first.
const REGIONS: &[&str] = &[
    "330102", "330105", "330106", "330108", "330109", "330110", "330182", "330203", "330212",
    "330282", "330302", "330381", "330402", "330482", "330502", "330522", "330602", "330681",
    "330702", "330782", "330802", "330902", "331002", "331082", "331102", "110105", "310115",
    "320102", "340104", "360102", "410105", "420106", "430104", "510107", "610113",
];

const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "195", "198", "199",
];

/// The GB 11643 check digit of the first 17 digits of an ID number.
pub fn id_check_digit(first17: &[u8]) -> char {
    std::str::from_utf8(first17)
        .ok()
        .and_then(haoyuan_core::idcard::check_digit)
        .unwrap_or('?')
}

/// Whether an 18-character ID number has digits where it should and a correct check digit.
pub fn id_is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && id_check_digit(&b[..17]) == char::from(b[17]).to_ascii_uppercase()
}

/// An ID number for a person born on `birth`, male or not (the 17th digit is odd for men).
pub fn id_number(rng: &mut Rng, birth: Date, male: bool) -> String {
    let mut seq = rng.range(0, 500) * 2 + u64::from(male);
    if seq == 0 {
        seq = 2;
    }
    let first17 = format!(
        "{}{:04}{:02}{:02}{:03}",
        rng.pick(REGIONS),
        birth.year,
        birth.month,
        birth.day,
        seq
    );
    let check = id_check_digit(first17.as_bytes());
    format!("{first17}{check}")
}

/// A mobile number.
pub fn mobile(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(PHONE_PREFIXES), rng.digits(8))
}

/// What a generated reservation is, before it becomes fields.
#[derive(Clone, Debug)]
pub struct Generated {
    pub fields: Fields,
    pub check_date: Date,
}

/// Generates a new reservation (`orderStatus` 1) of `hospital` with this serial number,
/// a `checkDate` 1–30 days after `today`.
pub fn reservation(
    rng: &mut Rng,
    hospital: &Hospital,
    serial: &str,
    today: Date,
    codes_as_strings: bool,
) -> Generated {
    let male = rng.chance(0.5);
    let age = rng.range(18, 76) as i64;
    let year = i64::from(today.year) - age;
    let jan1 = Date {
        year: year.clamp(1900, 9999) as u16,
        month: 1,
        day: 1,
    };
    let birth = Date::from_days(jan1.to_days() + rng.range(0, 365) as i64);
    // 身份证 for nearly everyone ("暂时只支持身份证"), a few other documents.
    let (card_type, card_no) = if rng.chance(0.95) {
        (1, id_number(rng, birth, male))
    } else {
        match rng.range(0, 3) {
            0 => (2, format!("E{}", rng.digits(8))),
            1 => (3, rng.digits(8)),
            _ => (4, format!("C{}", rng.digits(8))),
        }
    };
    let married = if age < 23 {
        1
    } else if rng.chance(0.82) {
        2
    } else {
        1
    };
    let pregnant = !male && married == 2 && (23..=40).contains(&age) && rng.chance(0.06);
    let fits = |f: For| f == For::Anyone || (f == For::Men) == male;
    let packages: Vec<_> = PACKAGES
        .iter()
        .filter(|p| fits(p.3) && (p.2 > 0 || age >= 65))
        .collect();
    let package = **rng.pick(&packages);
    let mut fee_cents = package.2;
    let mut adds: Vec<_> = ADD_ONS.iter().filter(|a| fits(a.3)).collect();
    rng.shuffle(&mut adds);
    let n_adds = if rng.chance(0.4) {
        0
    } else {
        rng.range(1, 5) as usize
    };
    let mut adds = adds[..n_adds.min(adds.len())].to_vec();
    adds.sort_by_key(|a| a.0);
    fee_cents += adds.iter().map(|a| a.2).sum::<i64>();
    let (add_ids, add_names) = if adds.is_empty() {
        (Fv::Json(Value::Null), Fv::Json(Value::Null))
    } else {
        (
            s(adds.iter().map(|a| a.0).collect::<Vec<_>>().join(",")),
            s(adds.iter().map(|a| a.1).collect::<Vec<_>>().join(",")),
        )
    };
    let check_date = Date::from_days(today.to_days() + rng.range(1, 31) as i64);
    let pay_type = if fee_cents == 0 || rng.chance(0.12) {
        0
    } else {
        1
    };
    let source = if rng.chance(0.7) {
        "益往健康"
    } else {
        "浙里办"
    };
    let c = codes_as_strings;
    let fields = Fields(vec![
        ("serialNumber".into(), s(serial)),
        ("erhcNo".into(), s(rng.hex(64).to_ascii_uppercase())),
        ("name".into(), s(gen::person_name(rng))),
        ("cardType".into(), code(card_type, c)),
        ("idcard".into(), s(card_no)),
        ("birthdate".into(), s(birth.to_string())),
        ("sexCode".into(), code(if male { 1 } else { 2 }, c)),
        ("isPregnant".into(), Fv::Json(Value::Bool(pregnant))),
        ("married".into(), code(married, c)),
        ("mobile".into(), s(mobile(rng))),
        ("hospitalCode".into(), s(hospital.code.clone())),
        ("hospitalName".into(), s(hospital.name.clone())),
        ("checkDate".into(), s(check_date.to_string())),
        ("hospitalPackageId".into(), s(package.0)),
        ("hospitalPackageName".into(), s(package.1)),
        ("addCombinationId".into(), add_ids),
        ("addCombinationName".into(), add_names),
        ("examinationFee".into(), fee(fee_cents)),
        ("orderStatus".into(), code(1, c)),
        ("payType".into(), code(pay_type, c)),
        ("dataSources".into(), s(source)),
    ]);
    Generated { fields, check_date }
}

/// The ways a malformed record breaks the seed's dictionaries or misses fields.
pub const MALFORMED_KINDS: &[&str] = &[
    "card_type",
    "sex_code",
    "married",
    "order_status",
    "pregnant",
    "bad_idcard",
    "bad_check_date",
    "bad_fee",
    "no_name",
    "no_idcard",
    "no_check_date",
    "no_serial",
];

/// Applies a malformation to a record's fields (`kind` from [`MALFORMED_KINDS`]).
pub fn malform(fields: &mut Fields, kind: &str) {
    match kind {
        "card_type" => fields.set("cardType", code(0, false)),
        "sex_code" => fields.set("sexCode", code(3, false)),
        "married" => fields.set("married", code(9, true)),
        "order_status" => fields.set("orderStatus", code(3, false)),
        "pregnant" => fields.set("isPregnant", s("是")),
        "bad_idcard" => {
            // An 身份证 number whose check digit is not the right one.
            let id = fields.get("idcard").and_then(Fv::text).unwrap_or_default();
            let first17 = match id.get(..17) {
                Some(f) if id.len() == 18 && f.bytes().all(|b| b.is_ascii_digit()) => f.to_string(),
                _ => "33010619880715002".to_string(),
            };
            let right = id_check_digit(first17.as_bytes());
            let wrong = if right == '0' { '1' } else { '0' };
            fields.set("cardType", code(1, false));
            fields.set("idcard", s(format!("{first17}{wrong}")));
        }
        "bad_check_date" => fields.set("checkDate", s("2021-02-30")),
        "bad_fee" => fields.set("examinationFee", s("待定")),
        "no_name" => fields.remove("name"),
        "no_idcard" => fields.remove("idcard"),
        "no_check_date" => fields.remove("checkDate"),
        "no_serial" => fields.remove("serialNumber"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_carry_birth_sex_and_a_correct_check_digit() {
        // A published example: 11010519491231002X.
        assert!(id_is_valid("11010519491231002X"));
        assert!(!id_is_valid("110105194912310021"));
        let mut rng = Rng::new(3);
        let birth = Date::parse("1993-09-14").unwrap();
        for male in [true, false] {
            let id = id_number(&mut rng, birth, male);
            assert!(id_is_valid(&id), "{id}");
            assert_eq!(&id[6..14], "19930914");
            assert_eq!((id.as_bytes()[16] - b'0') % 2 == 1, male, "{id}");
        }
    }

    #[test]
    fn records_are_consistent_and_in_seed_order() {
        let mut rng = Rng::new(9);
        let h = hospital(&mut rng, 0);
        let today = Date::parse("2026-03-01").unwrap();
        for i in 0..200 {
            let g = reservation(&mut rng, &h, &format!("ZJ109-{i}"), today, false);
            let v = g.fields.to_value();
            let keys: Vec<_> = g.fields.0.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys[0], "serialNumber");
            assert_eq!(keys.len(), 21);
            assert!(v["mobile"].as_str().unwrap().len() == 11);
            if v["cardType"] == 1 {
                let id = v["idcard"].as_str().unwrap();
                assert!(id_is_valid(id), "{id}");
                assert_eq!(
                    &id[6..14],
                    v["birthdate"].as_str().unwrap().replace('-', "")
                );
                let male = (id.as_bytes()[16] - b'0') % 2 == 1;
                assert_eq!(v["sexCode"], if male { 1 } else { 2 });
            }
            if v["isPregnant"] == true {
                assert_eq!(v["sexCode"], 2);
            }
            let d = Date::parse(v["checkDate"].as_str().unwrap()).unwrap();
            assert!((1..=30).contains(&today.days_until(d)));
            let frag = g.fields.fragment();
            let fee_text = frag.split("\"examinationFee\":").nth(1).unwrap();
            let fee_text = fee_text.split(',').next().unwrap();
            assert_eq!(
                fee_text.split('.').nth(1).map(str::len),
                Some(2),
                "{fee_text}"
            );
            serde_json::from_str::<Value>(&format!("{{{frag}}}")).unwrap();
        }
    }

    #[test]
    fn malformations_break_what_they_say() {
        let mut rng = Rng::new(1);
        let h = hospital(&mut rng, 0);
        let g = reservation(
            &mut rng,
            &h,
            "ZJ109-1",
            Date::parse("2026-03-01").unwrap(),
            true,
        );
        for kind in MALFORMED_KINDS {
            let mut f = g.fields.clone();
            malform(&mut f, kind);
            assert_ne!(f, g.fields, "{kind}");
        }
        assert_eq!(fee(288_100), Fv::Raw("2881.00".into()));
        assert_eq!(fee(5), Fv::Raw("0.05".into()));
    }
}
