//! The 91160 open platform's seven endpoints (seed `001`): one request builder per
//! endpoint and one reader per reply, sans-IO.
//!
//! Every reply is `{"data": …, "code": "0", "msg": "成功"}`; errors carry `"data": null`
//! with HTTP 200 and a code (see the simulator's table): `20001`–`20003` the appToken is
//! refused ([`SiteError::TokenRejected`]), `10006` too many requests
//! ([`SiteError::Throttled`], like HTTP 429/403/5xx), `40001` the number is gone
//! ([`SiteError::SoldOut`]), anything else [`SiteError::Refused`]. A reply that cannot
//! be read (not JSON, an HTML error page, a missing or renamed field) is
//! [`SiteError::Unreadable`], naming the endpoint and the field. Nothing here unwraps
//! reply data.
//!
//! Shapes accepted, as the platform sends them: `code` a string or a number; ids as
//! numbers or strings (`doctorList`'s `depId` is a string, `scheduleList`'s an int);
//! `appointmentOpenTime` as `HH:mm`, `HH:mm:ss` or `yyyy-MM-dd HH:mm:ss` (normalised to
//! `HH:mm`); `appointmentCycleDays` read leniently (leading digits, else 0 = unknown);
//! `appointedNum` above `resourceMax` (free is clamped at 0).

use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::patient::{IdType, Patient, Sex};
use crate::watch::Period;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The platform's paths.
pub const UNIT_LIST: &str = "basicInfo/unitList";
pub const DEP_LIST: &str = "basicInfo/depList";
pub const DOCTOR_LIST: &str = "basicInfo/doctorList";
pub const SCHEDULE_LIST: &str = "appointment/scheduleList";
pub const RESOURCE_LIST: &str = "appointment/resourceList";
pub const ORDER: &str = "appointment/order";
pub const CANCEL: &str = "appointment/cancel";

/// The largest page the platform serves (bigger `pageSize`s are cut to this).
pub const MAX_PAGE_SIZE: u32 = 100;

/// Why a 91160 reply is not the answer wanted, in words for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    /// The platform said no (a code other than the ones below).
    #[error("91160 refused the request ({code}: {msg})")]
    Refused { code: String, msg: String },
    /// The appToken is missing, invalid or expired (`20001`/`20002`/`20003`); only the
    /// platform can renew it.
    #[error("the 91160 appToken was rejected: {0}")]
    TokenRejected(String),
    /// Too many requests (`10006`, or HTTP 429/403/5xx): slow down.
    #[error("91160 is turning requests away (too many, or the server is struggling)")]
    Throttled,
    /// The reply could not be read: not JSON, an HTML page, a field missing or renamed.
    #[error("91160's reply could not be read: {0}")]
    Unreadable(String),
    /// The number was taken by someone else (`40001`).
    #[error("the number is no longer free: {0}")]
    SoldOut(String),
}

impl SiteError {
    /// The platform's code for [`SiteError::Refused`], if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            SiteError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The platform at a base URL (`https://openapi.91160.com`, or a simulator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    base: String,
}

impl Site {
    /// A site at `base` (a trailing `/` is ignored).
    pub fn new(base: &str) -> Site {
        Site {
            base: base.trim().trim_end_matches('/').to_string(),
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path)
    }

    /// `GET basicInfo/unitList?appToken&pageNum&pageSize` (pages from 1).
    pub fn unit_list(&self, token: &str, page_num: u32, page_size: u32) -> HttpRequest {
        HttpRequest::get(self.url(UNIT_LIST)).query(&[
            ("appToken", token.to_string()),
            ("pageNum", page_num.max(1).to_string()),
            ("pageSize", page_size.clamp(1, MAX_PAGE_SIZE).to_string()),
        ])
    }

    /// `GET basicInfo/depList?appToken&unitId&pageNum&pageSize`.
    pub fn dep_list(
        &self,
        token: &str,
        unit_id: &str,
        page_num: u32,
        page_size: u32,
    ) -> HttpRequest {
        HttpRequest::get(self.url(DEP_LIST)).query(&[
            ("appToken", token.to_string()),
            ("unitId", unit_id.trim().to_string()),
            ("pageNum", page_num.max(1).to_string()),
            ("pageSize", page_size.clamp(1, MAX_PAGE_SIZE).to_string()),
        ])
    }

    /// `GET basicInfo/doctorList?appToken&unitId&depId&pageNum&pageSize`.
    pub fn doctor_list(
        &self,
        token: &str,
        unit_id: &str,
        dep_id: &str,
        page_num: u32,
        page_size: u32,
    ) -> HttpRequest {
        HttpRequest::get(self.url(DOCTOR_LIST)).query(&[
            ("appToken", token.to_string()),
            ("unitId", unit_id.trim().to_string()),
            ("depId", dep_id.trim().to_string()),
            ("pageNum", page_num.max(1).to_string()),
            ("pageSize", page_size.clamp(1, MAX_PAGE_SIZE).to_string()),
        ])
    }

    /// `GET appointment/scheduleList?appToken&unitId&depId&doctorId&beginDate&endDate`.
    pub fn schedule_list(
        &self,
        token: &str,
        unit_id: &str,
        dep_id: &str,
        doctor_id: &str,
        begin: Date,
        end: Date,
    ) -> HttpRequest {
        HttpRequest::get(self.url(SCHEDULE_LIST)).query(&[
            ("appToken", token.to_string()),
            ("unitId", unit_id.trim().to_string()),
            ("depId", dep_id.trim().to_string()),
            ("doctorId", doctor_id.trim().to_string()),
            ("beginDate", begin.to_string()),
            ("endDate", end.to_string()),
        ])
    }

    /// `GET appointment/resourceList?appToken&unitId&scheduleId`.
    pub fn resource_list(&self, token: &str, unit_id: &str, schedule_id: &str) -> HttpRequest {
        HttpRequest::get(self.url(RESOURCE_LIST)).query(&[
            ("appToken", token.to_string()),
            ("unitId", unit_id.trim().to_string()),
            ("scheduleId", schedule_id.trim().to_string()),
        ])
    }

    /// `POST appointment/order` with `body` (see [`order_body`]) as JSON.
    pub fn order(&self, body: &Value) -> HttpRequest {
        json_post(self.url(ORDER), body)
    }

    /// `POST appointment/cancel {appToken, orderId, cancelReason}` as JSON.
    pub fn cancel(&self, token: &str, order_id: &str, reason: &str) -> HttpRequest {
        let reason = if reason.trim().is_empty() {
            "不需要了"
        } else {
            reason.trim()
        };
        let body = json!({
            "appToken": token,
            "orderId": id_value(order_id),
            "cancelReason": reason,
        });
        json_post(self.url(CANCEL), &body)
    }
}

/// `POST appointment/cancel` of order `order_id` with `reason` (empty: a default
/// reason; the platform requires one). Read the reply with [`read_cancel`].
pub fn cancel_request(site: &Site, token: &str, order_id: &str, reason: &str) -> HttpRequest {
    site.cancel(token, order_id, reason)
}

fn json_post(url: String, body: &Value) -> HttpRequest {
    // A `Value` is always JSON; the fallback only keeps this free of `unwrap`.
    HttpRequest::post_json(url.clone(), body).unwrap_or_else(|_| {
        HttpRequest::new(crate::http::Method::Post, url)
            .header("Content-Type", crate::http::CONTENT_TYPE_JSON)
            .body(crate::http::Body::Text(body.to_string()))
    })
}

/// An id as the platform types it: a number when it is one, else the text.
fn id_value(id: &str) -> Value {
    let t = id.trim();
    match t.parse::<i64>() {
        Ok(n) if !t.starts_with('0') || t == "0" => json!(n),
        _ => json!(t),
    }
}

/// 91160's `cardType` of an identity document: resident ID 1, passport 2, Hong Kong /
/// Macau permit 3, Taiwan permit 4, anything else 9.
pub fn card_type(t: IdType) -> u8 {
    match t {
        IdType::ResidentId => 1,
        IdType::Passport => 2,
        IdType::HkMacauPermit => 3,
        IdType::TaiwanPermit => 4,
        IdType::Other => 9,
    }
}

/// 91160's `sex`: 0 male, 1 female.
pub fn sex_code(s: Sex) -> u8 {
    match s {
        Sex::Male => 0,
        Sex::Female => 1,
    }
}

/// The JSON body of `appointment/order` for resource `detl_id` of the watch's unit,
/// department and doctor (empty ones are left out), booked for `patient`; a minor's
/// guardian goes in a `guardian` block. `clinicNo` is the patient's clinic number, else
/// their medical card number, else `""` (the key is required, the value may be empty).
pub fn order_body(
    token: &str,
    unit_id: &str,
    dep_id: &str,
    doctor_id: &str,
    detl_id: &str,
    patient: &Patient,
) -> Value {
    let mut m = Map::new();
    m.insert("appToken".into(), json!(token));
    m.insert("unitId".into(), id_value(unit_id));
    if !dep_id.trim().is_empty() {
        m.insert("depId".into(), id_value(dep_id));
    }
    if !doctor_id.trim().is_empty() {
        m.insert("doctorId".into(), id_value(doctor_id));
    }
    m.insert("detlId".into(), json!(detl_id.trim()));
    m.insert("mobile".into(), json!(patient.phone.trim()));
    m.insert("trueName".into(), json!(patient.name.trim()));
    m.insert("sex".into(), json!(sex_code(patient.sex)));
    m.insert("birthday".into(), json!(patient.birthday.to_string()));
    m.insert("cardType".into(), json!(card_type(patient.id_type)));
    m.insert(
        "cardNo".into(),
        json!(patient.id_number.trim().to_ascii_uppercase()),
    );
    let clinic = [&patient.clinic_no, &patient.card_no]
        .into_iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("");
    m.insert("clinicNo".into(), json!(clinic));
    m.insert("address".into(), json!(patient.address.trim()));
    if let Some(g) = &patient.guardian {
        m.insert(
            "guardian".into(),
            json!({
                "guardianTrueName": g.name.trim(),
                "guardianMobile": g.phone.trim(),
                "guardianCardType": card_type(g.id_type).to_string(),
                "guardianCardNo": g.id_number.trim().to_ascii_uppercase(),
                "guardianSex": sex_code(g.sex).to_string(),
                "guardianRelation": g.relation.trim(),
                "guardianBirthday": g.birthday.to_string(),
            }),
        );
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------------
// Reply types

/// One page of a paged list (`unitList`, `depList`, `doctorList`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub list: Vec<T>,
    /// Items over all pages (as the platform says; the list's length when it says none).
    pub total: u64,
}

impl<T> Page<T> {
    /// Whether pages after `page_num` (of `page_size` items) hold more items.
    pub fn has_more(&self, page_num: u32, page_size: u32) -> bool {
        u64::from(page_num) * u64::from(page_size.max(1)) < self.total && !self.list.is_empty()
    }
}

/// A hospital of `unitList`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub unit_id: String,
    pub name: String,
    pub level: String,
    pub address: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub telephone: String,
    /// `appointmentOpenTime` as `HH:mm` (empty when absent or not a time).
    pub open_time: String,
    /// `appointmentCycleDays` (0 when absent or not a number).
    pub cycle_days: u32,
    /// `payType`: `0` pay at the hospital, `1` pay online.
    pub pay_type: String,
}

/// A department of `depList`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dep {
    pub dep_id: String,
    pub unit_id: String,
    pub name: String,
    pub class_name: String,
    pub intro: String,
}

/// A doctor of `doctorList`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Doctor {
    pub doctor_id: String,
    /// A string in this reply (an int elsewhere); empty when absent.
    pub dep_id: String,
    pub unit_id: String,
    pub name: String,
    pub title: String,
    pub expertise: String,
}

/// A doctor's session (`scheduleList`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub schedule_id: String,
    pub unit_id: String,
    pub dep_id: String,
    pub doctor_id: String,
    pub date: Date,
    /// `am`, `pm` or `em` as sent.
    pub time_type: String,
    /// The period of `time_type` (`None` for a value not known).
    pub period: Option<Period>,
    pub level_name: String,
    pub resource_max: i64,
    pub appointed_num: i64,
    /// `resourceFee` in yuan (`None` when absent).
    pub fee: Option<f64>,
}

impl Schedule {
    /// Free numbers: `resourceMax − appointedNum`, at least 0 (over-appointed sessions
    /// have none).
    pub fn free(&self) -> u32 {
        free(self.resource_max, self.appointed_num)
    }
}

/// One time slot of a schedule (`resourceList`); its `resource_id` is the order's
/// `detlId`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub resource_id: String,
    pub schedule_id: String,
    pub begin_time: String,
    pub end_time: String,
    pub resource_max: i64,
    pub appointed_num: i64,
    pub fee: Option<f64>,
}

impl Resource {
    /// Free numbers of the slot, at least 0.
    pub fn free(&self) -> u32 {
        free(self.resource_max, self.appointed_num)
    }

    /// `08:00–08:30` from the begin and end times (whatever part of them is there).
    pub fn time_range(&self) -> String {
        let hm = |s: &str| normalize_open_time(s).unwrap_or_else(|| s.trim().to_string());
        match (hm(&self.begin_time), hm(&self.end_time)) {
            (b, e) if b.is_empty() && e.is_empty() => String::new(),
            (b, e) if e.is_empty() => b,
            (b, e) => format!("{b}–{e}"),
        }
    }
}

/// A made order (`appointment/order`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderOk {
    pub order_id: String,
    /// The HIS take-number code (取号密码), empty when not sent.
    pub his_take_no: String,
}

fn free(max: i64, appointed: i64) -> u32 {
    u32::try_from((max - appointed).max(0)).unwrap_or(u32::MAX)
}

/// The period of a `timeType`: `am` morning, `pm` afternoon, `em` evening.
pub fn period_of(time_type: &str) -> Option<Period> {
    match time_type.trim().to_ascii_lowercase().as_str() {
        "am" => Some(Period::Morning),
        "pm" => Some(Period::Afternoon),
        "em" => Some(Period::Evening),
        _ => None,
    }
}

/// `appointmentOpenTime` as `HH:mm`: from `HH:mm`, `H:mm`, `HH:mm:ss` or a full
/// `yyyy-MM-dd HH:mm[:ss]` (the time part is taken). `None` when it holds no time.
pub fn normalize_open_time(s: &str) -> Option<String> {
    let t = s.trim();
    let time = t.rsplit([' ', 'T']).next().unwrap_or(t);
    let mut parts = time.split(':');
    let h = parts.next()?.trim();
    let m = parts.next()?.trim();
    let sec = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let digits = |x: &str, max_len: usize| {
        !x.is_empty() && x.len() <= max_len && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return None;
    }
    if let Some(sec) = sec {
        let sec = sec.split('.').next().unwrap_or("");
        if !digits(sec, 2) {
            return None;
        }
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

/// `appointmentCycleDays` read leniently: a number, or the leading digits of a text
/// (`"7"`, `"7天"`); 0 (unknown) otherwise.
pub fn parse_cycle_days(v: &Value) -> u32 {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map_or(0, |n| u32::try_from(n.min(3660)).unwrap_or(0)),
        Value::String(s) => {
            let digits: String = s
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse::<u32>().map_or(0, |n| n.min(3660))
        }
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------
// Readers

/// The `data` of a successful reply to `endpoint`, or why there is none.
fn envelope(resp: &HttpResponse, endpoint: &str) -> Result<Value, SiteError> {
    if resp.status == 429 || resp.status == 403 || resp.status >= 500 {
        return Err(SiteError::Throttled);
    }
    if !(200..300).contains(&resp.status) {
        return Err(SiteError::Unreadable(format!(
            "{endpoint} answered HTTP {} ({})",
            resp.status,
            resp.excerpt()
        )));
    }
    let v: Value = serde_json::from_slice(&resp.body).map_err(|_| {
        let excerpt = resp.excerpt();
        let what = if excerpt.starts_with('<') {
            "an HTML page, not JSON"
        } else if excerpt.is_empty() {
            "empty"
        } else {
            "not JSON (or cut short)"
        };
        SiteError::Unreadable(format!(
            "{endpoint}'s reply is {what}; it begins: {excerpt:?}"
        ))
    })?;
    let Some(obj) = v.as_object() else {
        return Err(SiteError::Unreadable(format!(
            "{endpoint}'s reply is not a JSON object"
        )));
    };
    let code = match obj.get("code") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(SiteError::Unreadable(format!(
                "{endpoint}'s reply has no `code` field"
            )))
        }
    };
    let msg = obj
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    match code.as_str() {
        "0" => Ok(obj.get("data").cloned().unwrap_or(Value::Null)),
        "10006" => Err(SiteError::Throttled),
        "20001" | "20002" | "20003" => Err(SiteError::TokenRejected(if msg.is_empty() {
            format!("code {code}")
        } else {
            format!("{msg} ({code})")
        })),
        "40001" => Err(SiteError::SoldOut(if msg.is_empty() {
            "code 40001".into()
        } else {
            msg
        })),
        _ => Err(SiteError::Refused { code, msg }),
    }
}

/// Field access that names what is missing.
struct Obj<'a> {
    endpoint: &'a str,
    m: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn of(endpoint: &'a str, v: &'a Value, what: &str) -> Result<Obj<'a>, SiteError> {
        v.as_object().map(|m| Obj { endpoint, m }).ok_or_else(|| {
            SiteError::Unreadable(format!("{endpoint}: {what} is not a JSON object"))
        })
    }

    fn missing(&self, field: &str) -> SiteError {
        SiteError::Unreadable(format!(
            "{}: the field `{field}` is missing (renamed?)",
            self.endpoint
        ))
    }

    fn bad(&self, field: &str) -> SiteError {
        SiteError::Unreadable(format!(
            "{}: the field `{field}` has an unexpected type",
            self.endpoint
        ))
    }

    /// A required id (number or string).
    fn id(&self, field: &str) -> Result<String, SiteError> {
        match self.m.get(field) {
            None | Some(Value::Null) => Err(self.missing(field)),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(self.bad(field)),
        }
    }

    /// A required text.
    fn text(&self, field: &str) -> Result<String, SiteError> {
        match self.m.get(field) {
            None | Some(Value::Null) => Err(self.missing(field)),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(self.bad(field)),
        }
    }

    /// An optional text (empty when absent or not text).
    fn opt_text(&self, field: &str) -> String {
        match self.m.get(field) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// A required integer (a number or a numeric string).
    fn int(&self, field: &str) -> Result<i64, SiteError> {
        match self.m.get(field) {
            None | Some(Value::Null) => Err(self.missing(field)),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .ok_or_else(|| self.bad(field)),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| self.bad(field)),
            Some(_) => Err(self.bad(field)),
        }
    }

    /// An optional amount (a number or a numeric string).
    fn opt_f64(&self, field: &str) -> Result<Option<f64>, SiteError> {
        match self.m.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| self.bad(field)),
            Some(_) => Err(self.bad(field)),
        }
    }
}

/// The `data: {list, total}` of a paged reply, each item read by `item`.
fn read_page<T>(
    resp: &HttpResponse,
    endpoint: &str,
    item: impl Fn(&Obj) -> Result<T, SiteError>,
) -> Result<Page<T>, SiteError> {
    let data = envelope(resp, endpoint)?;
    let d = Obj::of(endpoint, &data, "`data`")?;
    let list = match d.m.get("list") {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => return Err(d.missing("data.list")),
        Some(_) => return Err(d.bad("data.list")),
    };
    let items = list
        .iter()
        .map(|v| Obj::of(endpoint, v, "an item of `data.list`").and_then(|o| item(&o)))
        .collect::<Result<Vec<T>, SiteError>>()?;
    let total = match d.m.get("total") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(items.len() as u64),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(items.len() as u64),
        _ => items.len() as u64,
    };
    Ok(Page { list: items, total })
}

/// The `data` array of a list reply, each item read by `item`.
fn read_array<T>(
    resp: &HttpResponse,
    endpoint: &str,
    item: impl Fn(&Obj) -> Result<T, SiteError>,
) -> Result<Vec<T>, SiteError> {
    let data = envelope(resp, endpoint)?;
    let list = match &data {
        Value::Array(a) => a,
        Value::Null => {
            return Err(SiteError::Unreadable(format!(
                "{endpoint}: the field `data` is missing (renamed?)"
            )))
        }
        _ => {
            return Err(SiteError::Unreadable(format!(
                "{endpoint}: the field `data` is not a list"
            )))
        }
    };
    list.iter()
        .map(|v| Obj::of(endpoint, v, "an item of `data`").and_then(|o| item(&o)))
        .collect()
}

/// A `unitList` page.
pub fn read_units(resp: &HttpResponse) -> Result<Page<Unit>, SiteError> {
    read_page(resp, UNIT_LIST, |o| {
        Ok(Unit {
            unit_id: o.id("unitId")?,
            name: o.text("unitName")?,
            level: o.opt_text("unitLevel"),
            address: o.opt_text("address"),
            province: o.opt_text("provinceName"),
            city: o.opt_text("cityName"),
            district: o.opt_text("districtName"),
            telephone: o.opt_text("telephone"),
            open_time: normalize_open_time(&o.opt_text("appointmentOpenTime")).unwrap_or_default(),
            cycle_days: o.m.get("appointmentCycleDays").map_or(0, parse_cycle_days),
            pay_type: o.opt_text("payType"),
        })
    })
}

/// A `depList` page.
pub fn read_deps(resp: &HttpResponse) -> Result<Page<Dep>, SiteError> {
    read_page(resp, DEP_LIST, |o| {
        Ok(Dep {
            dep_id: o.id("depId")?,
            unit_id: o.opt_text("unitId"),
            name: o.text("depName")?,
            class_name: o.opt_text("depClassName"),
            intro: o.opt_text("depIntro"),
        })
    })
}

/// A `doctorList` page.
pub fn read_doctors(resp: &HttpResponse) -> Result<Page<Doctor>, SiteError> {
    read_page(resp, DOCTOR_LIST, |o| {
        Ok(Doctor {
            doctor_id: o.id("doctorId")?,
            dep_id: o.opt_text("depId"),
            unit_id: o.opt_text("unitId"),
            name: o.text("doctorName")?,
            title: o.opt_text("doctorTitle"),
            expertise: o.opt_text("expertise"),
        })
    })
}

/// A `scheduleList` reply.
pub fn read_schedules(resp: &HttpResponse) -> Result<Vec<Schedule>, SiteError> {
    read_array(resp, SCHEDULE_LIST, |o| {
        let date_text = o.text("scheduleDate")?;
        let date = Date::parse(date_text.get(..10).unwrap_or(&date_text))
            .map_err(|_| o.bad("scheduleDate"))?;
        let time_type = o.text("timeType")?;
        Ok(Schedule {
            schedule_id: o.id("scheduleId")?,
            unit_id: o.opt_text("unitId"),
            dep_id: o.opt_text("depId"),
            doctor_id: o.opt_text("doctorId"),
            date,
            period: period_of(&time_type),
            time_type,
            level_name: o.opt_text("levelName"),
            resource_max: o.int("resourceMax")?,
            appointed_num: o.int("appointedNum")?,
            fee: o.opt_f64("resourceFee")?,
        })
    })
}

/// A `resourceList` reply.
pub fn read_resources(resp: &HttpResponse) -> Result<Vec<Resource>, SiteError> {
    read_array(resp, RESOURCE_LIST, |o| {
        Ok(Resource {
            resource_id: o.id("resourceId")?,
            schedule_id: o.opt_text("scheduleId"),
            begin_time: o.opt_text("beginTime"),
            end_time: o.opt_text("endTime"),
            resource_max: o.int("resourceMax")?,
            appointed_num: o.int("appointedNum")?,
            fee: o.opt_f64("resourceFee")?,
        })
    })
}

/// An `appointment/order` reply.
pub fn read_order(resp: &HttpResponse) -> Result<OrderOk, SiteError> {
    let data = envelope(resp, ORDER)?;
    if data.is_null() {
        return Err(SiteError::Unreadable(format!(
            "{ORDER}: the field `data` is missing (renamed?)"
        )));
    }
    let o = Obj::of(ORDER, &data, "`data`")?;
    Ok(OrderOk {
        order_id: o.id("orderId")?,
        his_take_no: o.opt_text("hisTakeNo"),
    })
}

/// An `appointment/cancel` reply: `Ok` when the order is cancelled. `40008` (already
/// cancelled) counts as cancelled too.
pub fn read_cancel(resp: &HttpResponse) -> Result<(), SiteError> {
    match envelope(resp, CANCEL) {
        Ok(_) => Ok(()),
        Err(SiteError::Refused { code, .. }) if code == "40008" => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_times_are_normalised() {
        assert_eq!(normalize_open_time("08:30").as_deref(), Some("08:30"));
        assert_eq!(normalize_open_time("7:05").as_deref(), Some("07:05"));
        assert_eq!(normalize_open_time("14:20:00").as_deref(), Some("14:20"));
        assert_eq!(
            normalize_open_time("2023-04-24 17:03:28").as_deref(),
            Some("17:03")
        );
        assert_eq!(normalize_open_time("gyjq45"), None);
        assert_eq!(normalize_open_time("25:00"), None);
        assert_eq!(normalize_open_time(""), None);
    }

    #[test]
    fn cycle_days_are_lenient() {
        assert_eq!(parse_cycle_days(&json!("7")), 7);
        assert_eq!(parse_cycle_days(&json!(" 14天")), 14);
        assert_eq!(parse_cycle_days(&json!(28)), 28);
        assert_eq!(parse_cycle_days(&json!("gyjq45")), 0);
        assert_eq!(parse_cycle_days(&Value::Null), 0);
    }
}
