//! The `pati` section of a scenario, parsed with defaults for everything: what the
//! hospital looks like, who can log in, what is released when, what other buyers do.
//! Field-by-field documentation is in the parent module's doc.

use serde::Deserialize;

/// The whole `pati` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The hospital (one tenant).
    pub tenant: TenantCfg,
    /// Days ahead that can be booked (today + `days_ahead` opens at `release_time`).
    pub days_ahead: u32,
    /// Beijing `HH:MM` at which the next day of the window opens every day.
    pub release_time: String,
    /// Explicit departments; generated when absent.
    pub departments: Option<Vec<DeptCfg>>,
    /// How many departments to generate when `departments` is absent.
    pub department_count: u32,
    /// Doctors generated per department (when a department lists none).
    pub doctors_per_dept: u32,
    /// Serial numbers per doctor session: `[min, max]`.
    pub serials: [u32; 2],
    /// Share of serials of already-open sessions that other patients hold at start.
    pub taken_ratio: f64,
    /// Share of already-open sessions that are fully booked at start.
    pub full_ratio: f64,
    /// How long a login token lives on the simulated clock.
    pub token_ttl_ms: i64,
    /// A new login ends the account's other tokens.
    pub single_session: bool,
    /// Wrong passwords in a row that lock an account.
    pub lock_after: u32,
    /// How long a locked account stays locked.
    pub lock_ms: i64,
    /// Unpaid online-charged bookings are cancelled after this long (0: never).
    pub pay_timeout_ms: i64,
    /// Accounts (phone + password + family members); one default account when absent.
    pub accounts: Option<Vec<AccountCfg>>,
    /// Session overrides (and sessions to add).
    pub schedules: Vec<Spec>,
    /// Scripted releases.
    pub releases: Vec<Spec>,
    /// Other buyers: they take serials within `within_ms` of every matching release.
    pub competitors: Vec<Spec>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tenant: TenantCfg::default(),
            days_ahead: 7,
            release_time: "08:00".into(),
            departments: None,
            department_count: 8,
            doctors_per_dept: 4,
            serials: [12, 24],
            taken_ratio: 0.5,
            full_ratio: 0.2,
            token_ttl_ms: 2 * 3_600_000,
            single_session: false,
            lock_after: 5,
            lock_ms: 30 * 60_000,
            pay_timeout_ms: 0,
            accounts: None,
            schedules: Vec::new(),
            releases: Vec::new(),
            competitors: Vec::new(),
        }
    }
}

/// The hospital tenant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantCfg {
    /// Tenant id (the `tenantId` header value); generated when absent.
    pub id: Option<String>,
    /// Hospital name; generated when absent.
    pub name: Option<String>,
    /// Customer-service phone (`wechat/service_info`).
    pub phone: Option<String>,
}

/// One department.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeptCfg {
    pub name: String,
    pub id: Option<String>,
    /// Bookings in this department are charged online (pay link).
    pub pay: bool,
    /// The department runs a 普通门诊 (no doctor) every day.
    pub general: bool,
    /// Its doctors; `doctor_count` generated ones when absent.
    pub doctors: Option<Vec<DoctorCfg>>,
    pub doctor_count: Option<u32>,
}

impl Default for DeptCfg {
    fn default() -> DeptCfg {
        DeptCfg {
            name: String::new(),
            id: None,
            pay: false,
            general: true,
            doctors: None,
            doctor_count: None,
        }
    }
}

/// One doctor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DoctorCfg {
    pub name: Option<String>,
    pub id: Option<String>,
    /// 主任医师, 副主任医师, 主治医师 or 住院医师.
    pub title: Option<String>,
    /// Overrides the department's `pay`.
    pub pay: Option<bool>,
    pub bookfee: Option<f64>,
    /// Weekdays worked, 1 = Monday … 7 = Sunday (generated when absent).
    pub weekdays: Option<Vec<u8>>,
    /// `AM` and/or `PM` on those weekdays (both when absent and `weekdays` is given).
    pub periods: Option<Vec<String>>,
}

/// One account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountCfg {
    pub phone: String,
    pub password: String,
    /// Family members; `member_count` generated ones (default 3) when absent.
    pub members: Option<Vec<MemberCfg>>,
    pub member_count: Option<u32>,
}

/// One family member (就诊人).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemberCfg {
    pub id: Option<String>,
    pub name: Option<String>,
    /// 1 男, 2 女.
    pub gender: Option<u8>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    #[serde(rename = "IDNo")]
    pub id_no: Option<String>,
    pub phone: Option<String>,
    pub default: Option<bool>,
}

/// A target (one or many sessions) plus what to do with it: used by `schedules`,
/// `releases`, `competitors`, the admin release spec and the `take` admin action.
/// Absent fields match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spec {
    /// Only in the admin release spec.
    pub platform: Option<String>,
    pub schedule_id: Option<String>,
    /// Department name or id.
    pub dept: Option<String>,
    pub dept_id: Option<String>,
    /// Doctor name or id.
    pub doctor: Option<String>,
    pub doctor_id: Option<String>,
    /// Only the department's 普通门诊 (no doctor).
    pub general: bool,
    /// `YYYY-MM-DD` (Beijing).
    pub date: Option<String>,
    /// Days from today (Beijing), instead of `date`.
    pub day: Option<i64>,
    /// `AM` / `PM` (also `上午` / `下午`).
    pub period: Option<String>,
    /// schedules: serials in the session; releases: serials to release.
    pub count: Option<u32>,
    /// schedules: free serials now.
    pub left: Option<u32>,
    /// schedules: serials not released yet (a release frees them).
    pub held: Option<u32>,
    pub bookfee: Option<f64>,
    pub pay: Option<bool>,
    /// releases: when, on the simulated clock (absolute ms) …
    pub at_ms: Option<i64>,
    /// … or this long after loading / the admin call.
    pub in_ms: Option<i64>,
    /// competitors: serials each release loses to them (default 1).
    pub take: Option<u32>,
    /// competitors: they act within this many ms of the release (default 200).
    pub within_ms: Option<u64>,
    /// releases: extra competitors for this release only (`{take, within_ms}`).
    pub competitors: Option<Box<Spec>>,
}

/// Parses the section (`Null` → defaults).
pub fn parse(section: &serde_json::Value) -> Result<Config, String> {
    if section.is_null() {
        return Ok(Config::default());
    }
    let cfg: Config = serde_json::from_value(section.clone()).map_err(|e| e.to_string())?;
    if cfg.serials[0] == 0 || cfg.serials[0] > cfg.serials[1] || cfg.serials[1] > 200 {
        return Err("serials must be [min, max] with 1 ≤ min ≤ max ≤ 200".into());
    }
    if !(0.0..=1.0).contains(&cfg.taken_ratio) || !(0.0..=1.0).contains(&cfg.full_ratio) {
        return Err("taken_ratio and full_ratio are between 0 and 1".into());
    }
    if cfg.days_ahead > 60 || cfg.department_count > 40 || cfg.doctors_per_dept > 30 {
        return Err("days_ahead ≤ 60, department_count ≤ 40, doctors_per_dept ≤ 30".into());
    }
    if parse_hhmm(&cfg.release_time).is_none() {
        return Err(format!("release_time “{}” is not HH:MM", cfg.release_time));
    }
    if cfg.token_ttl_ms <= 0 {
        return Err("token_ttl_ms must be positive".into());
    }
    Ok(cfg)
}

/// `HH:MM` → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_gives_defaults_and_typos_are_refused() {
        let c = parse(&serde_json::Value::Null).unwrap();
        assert_eq!(c.days_ahead, 7);
        assert_eq!(c.token_ttl_ms, 7_200_000);
        assert!(parse(&json!({"days_ahaed": 3})).is_err());
        assert!(parse(&json!({"serials": [5, 2]})).is_err());
        assert!(parse(&json!({"release_time": "25:00"})).is_err());
        let c = parse(&json!({"releases": [{"dept": "眼科", "day": 1, "period": "AM", "count": 2, "in_ms": 1000}]})).unwrap();
        assert_eq!(c.releases[0].count, Some(2));
    }
}
