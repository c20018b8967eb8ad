//! The patient block of `appointment/order`, read and checked the way a hospital's HIS
//! would: required fields present, a mobile number, a real date of birth not in the
//! future, a resident ID number (`cardType` 1) with a valid check digit that agrees
//! with the birthday and sex, and a guardian for minors.

use haoyuan_core::date::Date;
use serde_json::Value;

/// Why an order's patient data is refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Invalid {
    /// A required parameter is absent (`10001`).
    Missing(String),
    /// A parameter has the wrong type or form (`10002`).
    Format(String),
    /// The patient data is inconsistent (`40005`).
    Patient(String),
    /// A minor without a guardian block (`40006`).
    NeedGuardian,
}

/// A checked patient.
#[derive(Debug, Clone)]
pub(super) struct Patient {
    pub true_name: String,
    pub mobile: String,
    /// 0 male, 1 female (as the seed says).
    pub sex: i64,
    pub birthday: String,
    pub card_type: i64,
    pub card_no: String,
    pub clinic_no: String,
    pub address: String,
    pub guardian: Option<Value>,
}

/// A string parameter; numbers are accepted as their text (Jackson would coerce them).
pub(super) fn text(v: &Value, name: &str) -> Result<Option<String>, Invalid> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Invalid::Format(name.to_string())),
    }
}

/// An integer parameter; numeric strings are accepted.
pub(super) fn int(v: &Value, name: &str) -> Result<Option<i64>, Invalid> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Invalid::Format(name.to_string())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Invalid::Format(name.to_string())),
        Some(_) => Err(Invalid::Format(name.to_string())),
    }
}

fn required_text(v: &Value, name: &str, prefix: &str) -> Result<String, Invalid> {
    match text(v, name) {
        Ok(Some(s)) if !s.is_empty() => Ok(s),
        Ok(_) => Err(Invalid::Missing(format!("{prefix}{name}"))),
        Err(_) => Err(Invalid::Format(format!("{prefix}{name}"))),
    }
}

/// Whether `s` looks like a mainland mobile number.
pub(super) fn is_mobile(s: &str) -> bool {
    s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether an 18-character resident ID number has a valid ISO 7064 MOD 11-2 check digit.
pub(super) fn id_checksum_ok(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && id.is_ascii()
        && haoyuan_core::idcard::check_digit(&id[..17])
            .is_some_and(|c| c == b[17].to_ascii_uppercase() as char)
}

fn age_on(birthday: Date, today: Date) -> i64 {
    let mut age = i64::from(today.year) - i64::from(birthday.year);
    if (today.month, today.day) < (birthday.month, birthday.day) {
        age -= 1;
    }
    age
}

/// Reads and checks the patient of an order body. `today` is the server's Beijing date;
/// patients younger than `guardian_under` years need a `guardian` block.
pub(super) fn parse(v: &Value, today: Date, guardian_under: i64) -> Result<Patient, Invalid> {
    let mobile = required_text(v, "mobile", "")?;
    let true_name = required_text(v, "trueName", "")?;
    let sex = int(v, "sex")?.ok_or_else(|| Invalid::Missing("sex".into()))?;
    let birthday = required_text(v, "birthday", "")?;
    let card_type = int(v, "cardType")?.ok_or_else(|| Invalid::Missing("cardType".into()))?;
    let card_no = required_text(v, "cardNo", "")?.to_ascii_uppercase();
    // clinicNo is required by the seed but a first visit has none: the key must be
    // there, its value may be empty.
    let clinic_no = match text(v, "clinicNo")? {
        Some(s) => s,
        None if v.get("clinicNo").is_some() => String::new(),
        None => return Err(Invalid::Missing("clinicNo".into())),
    };
    let address = required_text(v, "address", "")?;

    if !is_mobile(&mobile) {
        return Err(Invalid::Patient("手机号码格式不正确".into()));
    }
    if true_name.chars().count() > 30 {
        return Err(Invalid::Patient("患者姓名过长".into()));
    }
    if sex != 0 && sex != 1 {
        return Err(Invalid::Format("sex".into()));
    }
    let born = Date::parse(&birthday).map_err(|_| Invalid::Format("birthday".into()))?;
    if born > today {
        return Err(Invalid::Patient("出生日期不能晚于今天".into()));
    }
    if !(1..=99).contains(&card_type) {
        return Err(Invalid::Format("cardType".into()));
    }
    if card_type == 1 {
        if !id_checksum_ok(&card_no) {
            return Err(Invalid::Patient("身份证号码不正确".into()));
        }
        if card_no[6..14] != birthday.replace('-', "") {
            return Err(Invalid::Patient("出生日期与身份证号码不一致".into()));
        }
        let male = (card_no.as_bytes()[16] - b'0') % 2 == 1;
        if male != (sex == 0) {
            return Err(Invalid::Patient("性别与身份证号码不一致".into()));
        }
    }
    let guardian = match v.get("guardian") {
        None | Some(Value::Null) => None,
        Some(g @ Value::Object(_)) => Some(g.clone()),
        Some(_) => return Err(Invalid::Format("guardian".into())),
    };
    if age_on(born, today) < guardian_under {
        let g = guardian.as_ref().ok_or(Invalid::NeedGuardian)?;
        check_guardian(g, today)?;
    }
    Ok(Patient {
        true_name,
        mobile,
        sex,
        birthday,
        card_type,
        card_no,
        clinic_no,
        address,
        guardian,
    })
}

fn check_guardian(g: &Value, today: Date) -> Result<(), Invalid> {
    const P: &str = "guardian.";
    required_text(g, "guardianTrueName", P)?;
    let mobile = required_text(g, "guardianMobile", P)?;
    let card_type = required_text(g, "guardianCardType", P)?;
    let card_no = required_text(g, "guardianCardNo", P)?;
    required_text(g, "guardianSex", P)?;
    required_text(g, "guardianRelation", P)?;
    let birthday = required_text(g, "guardianBirthday", P)?;
    if !is_mobile(&mobile) {
        return Err(Invalid::Patient("监护人手机号码格式不正确".into()));
    }
    let born =
        Date::parse(&birthday).map_err(|_| Invalid::Format("guardian.guardianBirthday".into()))?;
    if age_on(born, today) < 18 {
        return Err(Invalid::Patient("监护人须年满18周岁".into()));
    }
    if card_type == "1" && !id_checksum_ok(&card_no) {
        return Err(Invalid::Patient("监护人身份证号码不正确".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> Date {
        Date::parse("2026-05-01").unwrap()
    }

    fn adult() -> Value {
        json!({"mobile": "13800138000", "trueName": "张伟", "sex": 0, "birthday": "1990-03-07",
               "cardType": 1, "cardNo": "110105199003070017", "clinicNo": "", "address": "深圳市福田区红荔路1号"})
    }

    #[test]
    fn id_check_digits() {
        assert!(id_checksum_ok("110105199003070017"));
        assert!(id_checksum_ok("44030519850101001X"));
        assert!(id_checksum_ok("44030519850101001x"));
        assert!(!id_checksum_ok("11010519900307001X"));
        assert!(!id_checksum_ok("110105199003070011"));
        assert!(!id_checksum_ok("1101051990030700"));
        assert!(!id_checksum_ok("１１０１０５１９９００３０７００１X"));
        // 18 bytes whose last character is two bytes long: refused, never sliced mid-character.
        assert!(!id_checksum_ok("1101051990030700é"));
    }

    #[test]
    fn adults_pass_and_bad_data_is_named() {
        let p = parse(&adult(), today(), 18).unwrap();
        assert_eq!(p.card_no, "110105199003070017");
        let mut v = adult();
        v["cardNo"] = json!("110105199003070011");
        assert!(matches!(parse(&v, today(), 18), Err(Invalid::Patient(_))));
        let mut v = adult();
        v["birthday"] = json!("1990-03-08");
        assert!(matches!(parse(&v, today(), 18), Err(Invalid::Patient(_))));
        let mut v = adult();
        v["sex"] = json!(1);
        assert!(matches!(parse(&v, today(), 18), Err(Invalid::Patient(_))));
        let mut v = adult();
        v.as_object_mut().unwrap().remove("address");
        assert_eq!(
            parse(&v, today(), 18).unwrap_err(),
            Invalid::Missing("address".into())
        );
        let mut v = adult();
        v["sex"] = json!([0]);
        assert_eq!(
            parse(&v, today(), 18).unwrap_err(),
            Invalid::Format("sex".into())
        );
        let mut v = adult();
        v["cardType"] = json!(2);
        v["birthday"] = json!("2027-01-01");
        assert!(matches!(parse(&v, today(), 18), Err(Invalid::Patient(_))));
    }

    #[test]
    fn minors_need_a_complete_adult_guardian() {
        let mut v = adult();
        v["cardType"] = json!(2);
        v["cardNo"] = json!("E12345678");
        v["birthday"] = json!("2019-06-01");
        assert_eq!(parse(&v, today(), 18).unwrap_err(), Invalid::NeedGuardian);
        v["guardian"] = json!({"guardianTrueName": "张伟", "guardianMobile": "13800138000",
            "guardianCardType": "1", "guardianCardNo": "110105199003070017", "guardianSex": "0",
            "guardianRelation": "父亲", "guardianBirthday": "1990-03-07"});
        assert!(parse(&v, today(), 18).is_ok());
        v["guardian"]["guardianRelation"] = json!("");
        assert_eq!(
            parse(&v, today(), 18).unwrap_err(),
            Invalid::Missing("guardian.guardianRelation".into())
        );
    }
}
