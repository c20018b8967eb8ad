//! The patient book: the people a person books for on 91160 (whose orders carry the
//! whole profile) and, by name, on pati_service. Kept by the host; checked here (ID check
//! digit for 身份证, birthdays not in the future, a guardian for minors) and masked here
//! for every display, email and log.

use crate::date::Date;
use crate::idcard::{self, IdError};
use crate::watch::FieldError;
use serde::{Deserialize, Serialize};

/// Kinds of identity document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证 (18 characters with the GB 11643 check digit).
    #[default]
    ResidentId,
    /// 护照.
    Passport,
    /// 港澳居民来往内地通行证.
    HkMacauPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
    /// Anything else the hospital accepts.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// The adult who books for a minor (91160's `guardian` block).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardian {
    pub name: String,
    #[serde(default)]
    pub id_type: IdType,
    pub id_number: String,
    pub phone: String,
    pub sex: Sex,
    pub birthday: Date,
    /// e.g. 父亲, 母亲.
    pub relation: String,
}

/// One person in the patient book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Assigned by the host when empty.
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub id_type: IdType,
    pub id_number: String,
    pub birthday: Date,
    pub sex: Sex,
    pub phone: String,
    #[serde(default)]
    pub address: String,
    /// 就诊卡号 / medical card number (may be empty).
    #[serde(default)]
    pub card_no: String,
    /// 门诊号 / clinic number (may be empty).
    #[serde(default)]
    pub clinic_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian: Option<Guardian>,
    /// Set by the host (Unix ms).
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

/// A name with only its first and last characters shown: 张*明, 李*, 欧**锋.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::new();
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// Keeps the first `head` and last `tail` characters, stars in between; all stars when
/// the value is too short to show anything safely.
fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n <= head + tail {
        return "*".repeat(n);
    }
    let mut s: String = chars[..head].iter().collect();
    s.extend(std::iter::repeat_n('*', n - head - tail));
    s.extend(&chars[n - tail..]);
    s
}

/// An ID number with the first 3 and last 4 characters shown: 110***********123X.
pub fn mask_id(id: &str) -> String {
    mask_middle(id, 3, 4)
}

/// A phone number with the first 3 and last 4 digits shown: 138****5678.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// The oldest a person in the book may be, in years.
const MAX_AGE: i64 = 120;
/// Longest name, in characters.
const MAX_NAME: usize = 50;
/// Longest document number other than a 身份证, in characters.
const MAX_ID: usize = 30;
/// Longest address, in characters.
const MAX_ADDRESS: usize = 200;
/// Longest card or clinic number, in characters.
const MAX_CARD: usize = 64;

/// Full years from `birthday` to `today` (negative when `birthday` is later).
pub fn age_on(birthday: Date, today: Date) -> i64 {
    let mut years = i64::from(today.year) - i64::from(birthday.year);
    if (today.month, today.day) < (birthday.month, birthday.day) {
        years -= 1;
    }
    years
}

/// Whether `phone` is an 11-digit mainland mobile number (1, then 3–9, then 9 digits).
pub fn is_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.to_string(),
        message: message.into(),
    }
}

/// Checks what a person and a guardian have in common; `prefix` is `""` or `guardian.`.
#[allow(clippy::too_many_arguments)]
fn check_person(
    out: &mut Vec<FieldError>,
    prefix: &str,
    name: &str,
    id_type: IdType,
    id_number: &str,
    birthday: Date,
    sex: Sex,
    phone: &str,
    today: Date,
) {
    let f = |n: &str| format!("{prefix}{n}");
    let name_len = name.trim().chars().count();
    if name_len == 0 {
        out.push(field(&f("name"), "the name is required"));
    } else if name_len > MAX_NAME {
        out.push(field(
            &f("name"),
            format!("the name is too long (at most {MAX_NAME} characters)"),
        ));
    } else if name.chars().any(char::is_control) {
        out.push(field(
            &f("name"),
            "the name must not contain control characters",
        ));
    }

    let mut birthday_checked = false;
    match id_type {
        IdType::ResidentId => match idcard::parse(id_number.trim()) {
            Ok(card) => {
                if card.birthday != birthday {
                    out.push(field(
                        &f("birthday"),
                        "the birthday does not match the one in the ID number",
                    ));
                    birthday_checked = true;
                }
                if card.male != (sex == Sex::Male) {
                    out.push(field(
                        &f("sex"),
                        "the sex does not match the ID number (its 17th digit is odd for men, even for women)",
                    ));
                }
            }
            Err(e) => {
                let message = match e {
                    IdError::Shape if id_number.trim().is_empty() => {
                        "the ID number is required".to_string()
                    }
                    e => e.to_string(),
                };
                out.push(field(&f("id_number"), message));
            }
        },
        _ => {
            let id = id_number.trim();
            let len = id.chars().count();
            if len == 0 {
                out.push(field(&f("id_number"), "the document number is required"));
            } else if !(3..=MAX_ID).contains(&len) {
                out.push(field(
                    &f("id_number"),
                    format!("the document number should have 3 to {MAX_ID} characters"),
                ));
            } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                out.push(field(
                    &f("id_number"),
                    "the document number must not contain spaces",
                ));
            }
        }
    }

    if !birthday_checked {
        if birthday > today {
            out.push(field(&f("birthday"), "the birthday is in the future"));
        } else if age_on(birthday, today) > MAX_AGE {
            out.push(field(
                &f("birthday"),
                format!("the birthday is more than {MAX_AGE} years ago"),
            ));
        }
    }

    if phone.trim().is_empty() {
        out.push(field(&f("phone"), "the mobile number is required"));
    } else if !is_mobile(phone.trim()) {
        out.push(field(
            &f("phone"),
            "the mobile number should be 11 digits starting with 1 (a mainland mobile)",
        ));
    }
}

impl Patient {
    /// Every problem with this patient, one message per field (empty when it may be
    /// saved), judged on `today` (China's date): a valid ID number agreeing with the
    /// birthday and sex, a birthday not in the future, a mobile number, and an adult
    /// guardian for someone under 18.
    pub fn validate(&self, today: Date) -> Vec<FieldError> {
        let mut out = Vec::new();
        check_person(
            &mut out,
            "",
            &self.name,
            self.id_type,
            &self.id_number,
            self.birthday,
            self.sex,
            &self.phone,
            today,
        );
        if self.address.chars().count() > MAX_ADDRESS {
            out.push(field(
                "address",
                format!("the address is too long (at most {MAX_ADDRESS} characters)"),
            ));
        }
        for (name, value, what) in [
            ("card_no", &self.card_no, "card number"),
            ("clinic_no", &self.clinic_no, "clinic number"),
        ] {
            if value.chars().count() > MAX_CARD {
                out.push(field(
                    name,
                    format!("the {what} is too long (at most {MAX_CARD} characters)"),
                ));
            } else if value.chars().any(char::is_control) {
                out.push(field(
                    name,
                    format!("the {what} must not contain control characters"),
                ));
            }
        }
        let minor = self.birthday <= today && age_on(self.birthday, today) < 18;
        match &self.guardian {
            None if minor => out.push(field(
                "guardian",
                "a patient under 18 needs a guardian (the adult who books for them)",
            )),
            None => {}
            Some(g) => {
                check_person(
                    &mut out,
                    "guardian.",
                    &g.name,
                    g.id_type,
                    &g.id_number,
                    g.birthday,
                    g.sex,
                    &g.phone,
                    today,
                );
                if g.birthday <= today && age_on(g.birthday, today) < 18 {
                    out.push(field(
                        "guardian.birthday",
                        "the guardian must be an adult (18 or older)",
                    ));
                }
                if g.relation.trim().is_empty() {
                    out.push(field(
                        "guardian.relation",
                        "say how the guardian is related (e.g. 父亲, 母亲)",
                    ));
                } else if g.relation.chars().count() > 20 {
                    out.push(field(
                        "guardian.relation",
                        "the relation is too long (at most 20 characters)",
                    ));
                }
            }
        }
        out
    }

    /// The masked view shown in lists (never the full name, number or phone).
    pub fn masked(&self) -> PatientView {
        PatientView {
            id: self.id.clone(),
            name: mask_name(&self.name),
            id_type: self.id_type,
            id_number: mask_id(&self.id_number),
            birth_year: self.birthday.year,
            sex: self.sex,
            phone: mask_phone(&self.phone),
            card_no: mask_middle(&self.card_no, 0, 4),
            has_guardian: self.guardian.is_some(),
            guardian_name: self.guardian.as_ref().map(|g| mask_name(&g.name)),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A patient as lists show it: masked name, ID number, phone and card number, and the
/// birth year only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientView {
    pub id: String,
    /// e.g. 张*明.
    pub name: String,
    pub id_type: IdType,
    /// e.g. 110***********123X.
    pub id_number: String,
    pub birth_year: u16,
    pub sex: Sex,
    /// e.g. 138****5678.
    pub phone: String,
    /// All but the last 4 characters starred; empty when there is none.
    pub card_no: String,
    pub has_guardian: bool,
    /// The guardian's masked name, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    const TODAY: &str = "2026-11-27";

    fn adult() -> Patient {
        Patient {
            id: String::new(),
            name: "张三明".into(),
            id_type: IdType::ResidentId,
            id_number: "411423199001012113".into(),
            birthday: d("1990-01-01"),
            sex: Sex::Male,
            phone: "13812345678".into(),
            address: String::new(),
            card_no: "C000123456".into(),
            clinic_no: String::new(),
            guardian: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn fields(p: &Patient) -> Vec<String> {
        p.validate(d(TODAY)).into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_good_adult_passes() {
        assert!(adult().validate(d(TODAY)).is_empty());
        let mut p = adult();
        p.id_number = "11010519491231002x".into();
        p.birthday = d("1949-12-31");
        p.sex = Sex::Female;
        assert!(p.validate(d(TODAY)).is_empty());
    }

    #[test]
    fn a_bad_check_digit_is_named_in_plain_words() {
        let mut p = adult();
        p.id_number = "411423199001012114".into();
        let errs = p.validate(d(TODAY));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "id_number");
        assert!(
            errs[0].message.contains("does not match"),
            "{}",
            errs[0].message
        );
        p.id_number = "4114231990".into();
        assert_eq!(fields(&p), ["id_number"]);
        p.id_number = " ".into();
        assert_eq!(p.validate(d(TODAY))[0].message, "the ID number is required");
    }

    #[test]
    fn birthday_and_sex_must_agree_with_the_id_number() {
        let mut p = adult();
        p.birthday = d("1990-01-02");
        assert_eq!(fields(&p), ["birthday"]);
        let mut p = adult();
        p.sex = Sex::Female;
        assert_eq!(fields(&p), ["sex"]);
        // Other documents say nothing about either.
        let mut p = adult();
        p.id_type = IdType::Passport;
        p.id_number = "E12345678".into();
        p.sex = Sex::Female;
        assert!(p.validate(d(TODAY)).is_empty());
        p.id_number = "".into();
        assert_eq!(fields(&p), ["id_number"]);
        p.id_number = "E".repeat(31);
        assert_eq!(fields(&p), ["id_number"]);
    }

    #[test]
    fn birthdays_in_the_future_or_long_ago_are_refused() {
        let mut p = adult();
        p.id_type = IdType::Passport;
        p.id_number = "E12345678".into();
        p.birthday = d("2026-11-28");
        let errs = p.validate(d(TODAY));
        assert_eq!(errs[0].field, "birthday");
        assert_eq!(errs[0].message, "the birthday is in the future");
        p.birthday = d("1901-01-01");
        assert_eq!(fields(&p), ["birthday"]);
        p.birthday = d("2026-11-27");
        // Born today: fine, but a minor needs a guardian.
        assert_eq!(fields(&p), ["guardian"]);
    }

    #[test]
    fn names_and_phones() {
        let mut p = adult();
        p.name = "  ".into();
        p.phone = "1381234567".into();
        assert_eq!(fields(&p), ["name", "phone"]);
        p.name = "张".repeat(51);
        p.phone = "12812345678".into();
        assert_eq!(fields(&p), ["name", "phone"]);
        assert!(is_mobile("19912345678"));
        assert!(!is_mobile("+8613812345"));
    }

    fn child() -> Patient {
        let id = idcard::complete("11010520150601001").unwrap();
        Patient {
            name: "王小明".into(),
            id_number: id,
            birthday: d("2015-06-01"),
            sex: Sex::Male,
            ..adult()
        }
    }

    fn guardian() -> Guardian {
        Guardian {
            name: "王大明".into(),
            id_type: IdType::ResidentId,
            id_number: "411423199001012113".into(),
            phone: "13912345678".into(),
            sex: Sex::Male,
            birthday: d("1990-01-01"),
            relation: "父亲".into(),
        }
    }

    #[test]
    fn a_minor_needs_an_adult_guardian_with_a_valid_id() {
        let mut p = child();
        assert_eq!(fields(&p), ["guardian"]);
        p.guardian = Some(guardian());
        assert!(
            p.validate(d(TODAY)).is_empty(),
            "{:?}",
            p.validate(d(TODAY))
        );
        // A guardian who is a minor too.
        let mut g = guardian();
        g.id_number = child().id_number;
        g.birthday = d("2015-06-01");
        p.guardian = Some(g);
        assert_eq!(fields(&p), ["guardian.birthday"]);
        // A guardian with a bad number and no relation.
        let mut g = guardian();
        g.id_number = "411423199001012114".into();
        g.relation = " ".into();
        p.guardian = Some(g);
        assert_eq!(fields(&p), ["guardian.id_number", "guardian.relation"]);
        // Turning 18 today: an adult.
        let mut p = adult();
        p.id_number = idcard::complete("11010520081127001").unwrap();
        p.birthday = d("2008-11-27");
        assert!(p.validate(d(TODAY)).is_empty());
        assert_eq!(p.validate(d("2026-11-26"))[0].field, "guardian");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳小锋"), "欧**锋");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_id("11010519491231123X"), "110***********123X");
        assert_eq!(mask_id("E12345678"), "E12**5678");
        assert_eq!(mask_id("1234567"), "*******");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone(""), "");
        let v = adult().masked();
        assert_eq!(v.name, "张*明");
        assert_eq!(v.id_number, "411***********2113");
        assert_eq!(v.phone, "138****5678");
        assert_eq!(v.card_no, "******3456");
        assert_eq!(v.birth_year, 1990);
        assert!(!v.has_guardian);
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("411423199001012113"));
        assert!(!json.contains("13812345678"));
        assert!(!json.contains("1990-01-01"));
    }
}
