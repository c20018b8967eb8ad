//! The patient book: the people a person books for on 91160 (whose orders carry the
//! whole profile) and, by name, on pati_service. Kept by the host; checked here (ID check
//! digit for 身份证, birthdays not in the future, a guardian for minors) and masked here
//! for every display, email and log.

use crate::date::Date;
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
