//! The `114yygh` section of a scenario (see the module documentation of
//! [`super`] for every field), parsed with defaults so that an absent section
//! (`Null`) gives a sensible world.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string that scenario authors may also write as a number (`code: 162`).
fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

/// A calendar date: `"YYYY-MM-DD"`, or a number of days after today (Beijing, by the
/// simulated clock when the scenario is loaded or the release is asked for).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum DateRef {
    Offset(i64),
    Date(String),
}

/// The whole section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Section {
    pub legacy_envelope: bool,
    pub require_request_source: Option<bool>,
    pub rate_limit: Option<RateCfg>,
    pub order_sms: bool,
    pub confirm_token: Option<bool>,
    pub hospital_count: Option<usize>,
    pub fonts: Option<FontCfg>,
    pub session_ttl_ms: i64,
    pub sms_interval_ms: Option<i64>,
    pub sold_out_ratio: Option<f64>,
    pub accounts: Vec<AccountCfg>,
    pub hospitals: Vec<HospitalCfg>,
    pub inventory: Vec<SlotCfg>,
    pub releases: Vec<ReleaseCfg>,
    pub competitors: Vec<CompetitorCfg>,
}

/// `rate_limit`: at most `burst` polls per session within `window_ms` (burst 0: off).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCfg {
    pub window_ms: i64,
    pub burst: usize,
}

/// `fonts`: how many obfuscation fonts, from which typeface.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FontCfg {
    pub count: Option<usize>,
    pub typeface: Option<String>,
}

/// An account (by mobile) with its real-name status and patients.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountCfg {
    #[serde(deserialize_with = "de_string")]
    pub mobile: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub id_no: Option<String>,
    #[serde(default)]
    pub real_name: Option<bool>,
    #[serde(default)]
    pub patients: Option<Vec<PatientCfg>>,
}

/// A patient of an account.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientCfg {
    pub name: String,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub id_no: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub phone: Option<String>,
    #[serde(default)]
    pub cards: Option<Vec<CardCfg>>,
}

/// A card of a patient.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardCfg {
    #[serde(rename = "type")]
    pub card_type: String,
    #[serde(deserialize_with = "de_string")]
    pub no: String,
    #[serde(default)]
    pub medicare: Option<String>,
}

/// An override of (or addition to) the generated hospitals.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalCfg {
    #[serde(deserialize_with = "de_string")]
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub level_id: Option<u32>,
    #[serde(default)]
    pub area_id: Option<u32>,
    #[serde(default)]
    pub open_time: Option<String>,
    #[serde(default)]
    pub booking_range: Option<u32>,
    #[serde(default)]
    pub maintain: Option<bool>,
    #[serde(default)]
    pub periods: Option<bool>,
    /// Every clinic holds a clinic every day of the week (a doctor gets a morning shift
    /// on any weekday none works), so a release day is staffed whatever day it falls on.
    #[serde(default)]
    pub every_day: Option<bool>,
}

/// A declared product: the products of its clinic and day are exactly the declared ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotCfg {
    #[serde(deserialize_with = "de_string")]
    pub hos_code: String,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dept: Option<String>,
    pub date: DateRef,
    #[serde(default)]
    pub duty: Option<String>,
    #[serde(default)]
    pub doctor: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub skill: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub fee: Option<String>,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub periods: Option<bool>,
}

/// A release of `count` slots (scenario `releases` and the admin `release` spec).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseCfg {
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(deserialize_with = "de_string")]
    pub hos_code: String,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dept: Option<String>,
    pub date: DateRef,
    #[serde(default)]
    pub duty: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub at_ms: Option<i64>,
    #[serde(default)]
    pub after_ms: Option<i64>,
    #[serde(default)]
    pub doctor: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub fee: Option<String>,
}

fn one() -> u32 {
    1
}

/// Other buyers: within `within_ms` of each release matching the filters, they take
/// `take` slots (all when absent).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompetitorCfg {
    #[serde(deserialize_with = "de_opt_string")]
    pub hos_code: Option<String>,
    #[serde(deserialize_with = "de_opt_string")]
    pub dept: Option<String>,
    pub date: Option<DateRef>,
    pub duty: Option<String>,
    pub within_ms: i64,
    pub take: Option<u32>,
}

impl Section {
    /// Parses the section (`Null`: defaults).
    pub fn parse(v: &Value) -> Result<Section, String> {
        if v.is_null() {
            return Ok(Section::default());
        }
        serde_json::from_value(v.clone()).map_err(|e| format!("bad 114yygh section: {e}"))
    }
}

/// Parses a duty name (`MORNING`/`AFTERNOON`, also `AM`/`PM`, `1`/`2`) → 0 or 1.
pub fn duty_index(s: Option<&str>) -> Result<usize, String> {
    match s.map(|s| s.trim().to_ascii_uppercase()) {
        None => Ok(0),
        Some(s) => match s.as_str() {
            "MORNING" | "AM" | "1" | "上午" => Ok(0),
            "AFTERNOON" | "PM" | "2" | "下午" => Ok(1),
            _ => Err(format!("duty “{s}” is not MORNING or AFTERNOON")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_is_all_defaults_and_typos_are_refused() {
        let s = Section::parse(&Value::Null).unwrap();
        assert!(!s.legacy_envelope && s.accounts.is_empty());
        assert!(Section::parse(&json!({"legacy_envelop": true})).is_err());
        let s = Section::parse(&json!({
            "hospitals": [{"code": 162, "open_time": "08:30"}],
            "releases": [{"platform": "114yygh", "hos_code": "162", "date": 7, "count": 2}],
            "inventory": [{"hos_code": "162", "date": "2026-12-01", "count": 1}],
        }))
        .unwrap();
        assert_eq!(s.hospitals[0].code, "162");
        assert!(matches!(s.releases[0].date, DateRef::Offset(7)));
        assert!(matches!(s.inventory[0].date, DateRef::Date(_)));
        assert_eq!(duty_index(Some("afternoon")), Ok(1));
        assert!(duty_index(Some("EVENING")).is_err());
    }
}
