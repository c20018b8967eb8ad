//! The pati_service endpoints as requests, and their replies as typed values.
//!
//! Every request is built WITHOUT the `token` header: the host attaches the account's
//! token when it sends (the core never sees it). Replies are read from the platform's
//! `{"code", "msg", "data"}` envelope; anything unexpected becomes a [`SiteError`] in
//! plain words — never a panic.

use crate::date::Date;
use crate::http::{
    form_encode_component, Body, HttpRequest, HttpResponse, Method, CONTENT_TYPE_JSON,
};
use crate::patient::mask_id;
use serde_json::{json, Value};
use std::fmt;

/// One tenant's pati_service server (each hospital runs its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    base: String,
}

/// What went wrong with a reply.
#[derive(Clone, Debug, PartialEq)]
pub enum SiteError {
    /// The platform said no (`code` ≠ 0), with its Chinese `msg`.
    Refused { code: i64, msg: String },
    /// Code 401: the token is missing, unknown or expired — sign in again.
    TokenRejected(String),
    /// HTTP 429/403/5xx or code 500 (系统繁忙): the server is busy or turning us away.
    Throttled,
    /// The reply could not be read (not JSON, an HTML page, a missing or renamed field);
    /// the text names the endpoint and the field.
    Unreadable(String),
    /// Codes 3002/3003: the serial or the session was taken.
    SoldOut(String),
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteError::Refused { code, msg } => match code {
                2001 => write!(f, "the phone number or the password is wrong ({msg})"),
                2002 => write!(
                    f,
                    "this phone number has no account at the hospital ({msg})"
                ),
                2003 => write!(
                    f,
                    "too many wrong passwords: the hospital locked the account for a while ({msg})"
                ),
                3004 => write!(
                    f,
                    "this family member already has a booking for this session ({msg})"
                ),
                3005 => write!(f, "the family member is not in this account ({msg})"),
                3010 => write!(
                    f,
                    "this family member already has a booking in the same half-day ({msg})"
                ),
                _ => write!(f, "the hospital refused: {msg} (code {code})"),
            },
            SiteError::TokenRejected(msg) => {
                write!(f, "the hospital no longer accepts the sign-in ({msg})")
            }
            SiteError::Throttled => {
                write!(f, "the hospital's server is busy or turning requests away")
            }
            SiteError::Unreadable(what) => write!(f, "{what}"),
            SiteError::SoldOut(msg) => write!(f, "that number was taken ({msg})"),
        }
    }
}

impl std::error::Error for SiteError {}

/// A signed-in account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub user_id: String,
    pub token: String,
}

/// A department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dept {
    pub dept_id: String,
    pub dept_name: String,
}

/// A row of `schedule_by_doctor` / `schedule_by_date`: a doctor, or the department's
/// 普通门诊 (`doctor_id: None`).
#[derive(Clone, Debug, PartialEq)]
pub struct DoctorRow {
    pub doctor_id: Option<String>,
    pub doctor_name: Option<String>,
    pub doctor_title: Option<String>,
    pub dept_id: String,
    pub dept_name: String,
    /// 1 可约, 2 约满.
    pub status: Option<i64>,
    /// `schedule_by_date` only.
    pub date: Option<Date>,
    /// 0 普通, 1 专家 (`schedule_by_date` only).
    pub kind: Option<i64>,
    pub fee: Option<f64>,
}

/// A page of a `(Page)` reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub page_no: u32,
    pub pages: u32,
    pub total: u32,
    pub list: Vec<T>,
}

/// Morning or afternoon, as `scheduleAM` / `schedulePM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Half {
    Am,
    Pm,
}

impl Half {
    /// The watch's name of the period.
    pub fn period(self) -> crate::watch::Period {
        match self {
            Half::Am => crate::watch::Period::Morning,
            Half::Pm => crate::watch::Period::Afternoon,
        }
    }

    /// `AM` / `PM`.
    pub fn code(self) -> &'static str {
        match self {
            Half::Am => "AM",
            Half::Pm => "PM",
        }
    }

    /// `morning` / `afternoon` (the watch's and the notifications' word).
    pub fn name(self) -> &'static str {
        match self {
            Half::Am => "morning",
            Half::Pm => "afternoon",
        }
    }

    /// Words for a person.
    pub fn words(self) -> &'static str {
        match self {
            Half::Am => "morning (上午)",
            Half::Pm => "afternoon (下午)",
        }
    }

    /// Reads `AM` / `PM` / `morning` / `afternoon` (any case).
    pub fn parse(s: &str) -> Option<Half> {
        match s.trim().to_ascii_uppercase().as_str() {
            "AM" | "MORNING" => Some(Half::Am),
            "PM" | "AFTERNOON" => Some(Half::Pm),
            _ => None,
        }
    }
}

/// One half-day session of `schedule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub half: Half,
    pub schedule_id: String,
    /// 0 普通门诊, 1 专家门诊.
    pub kind: Option<i64>,
    pub fee: Option<f64>,
    pub left_count: u32,
    /// 1 可约, 2 约满 (not every tenant sends it).
    pub status: Option<i64>,
    pub address: Option<String>,
}

impl Session {
    /// Whether anything can be booked.
    pub fn bookable(&self) -> bool {
        self.left_count > 0 && self.status != Some(2)
    }
}

/// `schedule`: one day of a doctor (or 普通门诊); `None` = no session that half-day.
#[derive(Clone, Debug, PartialEq)]
pub struct DaySchedule {
    pub date: Date,
    pub am: Option<Session>,
    pub pm: Option<Session>,
}

/// A free serial of `left_appo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serial {
    pub serial_no: u32,
    /// `09:00`.
    pub time: String,
}

/// One day of `schedule/info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayLeft {
    pub date: Date,
    pub left: u32,
}

/// `schedule/info`: who, and what is left per day (from tomorrow).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleInfo {
    pub doctor_name: Option<String>,
    pub doctor_title: Option<String>,
    pub dept_name: Option<String>,
    pub days: Vec<DayLeft>,
}

/// `book/presubmit`: what the booking would be (nothing is held).
#[derive(Clone, Debug, PartialEq)]
pub struct Presubmit {
    pub dept_name: Option<String>,
    pub doctor: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss`.
    pub appo_time: String,
    pub fee: Option<f64>,
}

/// A family member of the account (the ID number masked; the phone is not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub member_id: String,
    pub name: String,
    pub masked_id: String,
    /// 1 男, 2 女.
    pub gender: Option<i64>,
    pub age: Option<String>,
    pub default: bool,
}

/// A booking (`books` row or `book/{bookId}`). The platform's replies carry neither
/// the `scheduleId` nor the `memberId`: a booking is known by its department, doctor,
/// `treaTime`, serial and member name.
#[derive(Clone, Debug, PartialEq)]
pub struct Booking {
    pub book_id: String,
    /// 0 已预约, 1 已取消, 2 已挂号, 3 已失约.
    pub status: i64,
    /// 1 unpaid online charge, 2 paid; `None` when not charged online.
    pub visi_charge: Option<i64>,
    pub dept_id: Option<String>,
    pub dept_name: Option<String>,
    pub doctor_id: Option<String>,
    pub doctor_name: Option<String>,
    pub member_name: Option<String>,
    /// `visiSerialno` (books) or `treaNo` (detail).
    pub serial_no: Option<u32>,
    /// `yyyy-MM-dd HH:mm:ss`.
    pub trea_time: Option<String>,
    pub fee: Option<f64>,
    pub book_code: Option<String>,
    pub area: Option<String>,
    /// Not in the platform's replies today; read when a tenant sends them.
    pub schedule_id: Option<String>,
    pub member_id: Option<String>,
}

impl Booking {
    /// Booked and not cancelled (已预约 or 已挂号).
    pub fn active(&self) -> bool {
        self.status == 0 || self.status == 2
    }

    /// Booked with an online charge still unpaid.
    pub fn needs_payment(&self) -> bool {
        self.visi_charge == Some(1)
    }
}

/// `pay/appo_order`: the cashier page to show the person (Haoyuan never pays).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayLink {
    pub url: Option<String>,
    /// `error_msg` when the platform made no pay order (`error_code` FAIL).
    pub error: Option<String>,
}

impl Site {
    /// The tenant's base URL (`https://host[:port]`, a trailing `/` or `/pati_service`
    /// is accepted).
    pub fn new(base: &str) -> Site {
        let mut b = base.trim().trim_end_matches('/').to_string();
        if let Some(s) = b.strip_suffix("/pati_service") {
            b = s.to_string();
        }
        Site { base: b }
    }

    /// The base URL as given (normalised).
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/pati_service/{path}", self.base)
    }

    fn get(&self, path: &str, query: &[(&str, String)]) -> HttpRequest {
        let r = HttpRequest::get(self.url(path));
        if query.is_empty() {
            r
        } else {
            r.query(query)
        }
    }

    fn post(&self, path: &str, body: Value) -> HttpRequest {
        HttpRequest::new(Method::Post, self.url(path))
            .header("Content-Type", CONTENT_TYPE_JSON)
            .body(Body::Text(body.to_string()))
    }

    /// `POST patient_service/login {phone, password}`.
    pub fn login(&self, phone: &str, password: &str) -> HttpRequest {
        self.post(
            "patient_service/login",
            json!({"phone": phone.trim(), "password": password}),
        )
    }

    /// The same as [`Site::login`] (the spec's name).
    pub fn login_request(&self, phone: &str, password: &str) -> HttpRequest {
        self.login(phone, password)
    }

    /// `GET patient_service/members`.
    pub fn members(&self) -> HttpRequest {
        self.get("patient_service/members", &[])
    }

    /// `GET tenant_service/depts`.
    pub fn depts(&self) -> HttpRequest {
        self.get("tenant_service/depts", &[])
    }

    /// `GET tenant_service/schedule_by_doctor` (the department's doctors and 普通门诊).
    pub fn schedule_by_doctor(&self, dept_id: &str, page_no: u32, page_size: u32) -> HttpRequest {
        self.get(
            "tenant_service/schedule_by_doctor",
            &[
                ("deptId", dept_id.to_string()),
                ("pageNo", page_no.max(1).to_string()),
                ("pageSize", page_size.max(1).to_string()),
            ],
        )
    }

    /// `GET tenant_service/schedule_by_date`.
    pub fn schedule_by_date(
        &self,
        dept_id: &str,
        date: Date,
        page_no: u32,
        page_size: u32,
    ) -> HttpRequest {
        self.get(
            "tenant_service/schedule_by_date",
            &[
                ("deptId", dept_id.to_string()),
                ("date", date.to_string()),
                ("pageNo", page_no.max(1).to_string()),
                ("pageSize", page_size.max(1).to_string()),
            ],
        )
    }

    /// `GET tenant_service/schedule`: one day, AM and PM. Empty `doctor_id`: 普通门诊.
    pub fn schedule(&self, dept_id: &str, doctor_id: &str, date: Date) -> HttpRequest {
        let mut q = vec![("deptId", dept_id.to_string())];
        if !doctor_id.trim().is_empty() {
            q.push(("doctorId", doctor_id.trim().to_string()));
        }
        q.push(("date", date.to_string()));
        self.get("tenant_service/schedule", &q)
    }

    /// `GET tenant_service/schedule/left_appo`: the free serials.
    pub fn left_appo(&self, schedule_id: &str) -> HttpRequest {
        self.get(
            "tenant_service/schedule/left_appo",
            &[("scheduleId", schedule_id.to_string())],
        )
    }

    /// `GET tenant_service/schedule/info`: left counts per day from tomorrow, `days`
    /// days (1…60). Empty `doctor_id`: 普通门诊.
    pub fn schedule_info(&self, dept_id: &str, doctor_id: &str, days: u32) -> HttpRequest {
        let mut q = vec![("deptId", dept_id.to_string())];
        if !doctor_id.trim().is_empty() {
            q.push(("doctorId", doctor_id.trim().to_string()));
        }
        q.push(("days", days.clamp(1, 60).to_string()));
        self.get("tenant_service/schedule/info", &q)
    }

    /// `POST book_service/book/presubmit {scheduleId, serialNo}` (holds nothing).
    pub fn presubmit(&self, schedule_id: &str, serial_no: u32) -> HttpRequest {
        self.post(
            "book_service/book/presubmit",
            json!({"scheduleId": schedule_id, "serialNo": serial_no}),
        )
    }

    /// `POST book_service/book/submit {scheduleId, serialNo, memberId}`: books.
    pub fn submit(&self, schedule_id: &str, serial_no: u32, member_id: &str) -> HttpRequest {
        self.post(
            "book_service/book/submit",
            json!({"scheduleId": schedule_id, "serialNo": serial_no, "memberId": member_id}),
        )
    }

    /// `GET book_service/books` (newest first).
    pub fn books(&self, page_no: u32, page_size: u32) -> HttpRequest {
        self.get(
            "book_service/books",
            &[
                ("pageNo", page_no.max(1).to_string()),
                ("pageSize", page_size.max(1).to_string()),
            ],
        )
    }

    /// `GET book_service/book/{bookId}`.
    pub fn book(&self, book_id: &str) -> HttpRequest {
        HttpRequest::get(self.url(&format!(
            "book_service/book/{}",
            form_encode_component(book_id.trim())
        )))
    }

    /// `POST book_service/book/cancel {bookId}`.
    pub fn cancel(&self, book_id: &str) -> HttpRequest {
        self.post("book_service/book/cancel", json!({"bookId": book_id}))
    }

    /// `POST book_service/pay/appo_order {appo_id}`: only to read the cashier `url`
    /// for the person; Haoyuan never pays.
    pub fn pay_link(&self, book_id: &str) -> HttpRequest {
        self.post("book_service/pay/appo_order", json!({"appo_id": book_id}))
    }
}

// ------------------------------------------------------------------ reading

fn unreadable(endpoint: &str, what: impl fmt::Display) -> SiteError {
    SiteError::Unreadable(format!(
        "the hospital's {endpoint} reply could not be read: {what}"
    ))
}

fn missing(endpoint: &str, field: &str) -> SiteError {
    unreadable(
        endpoint,
        format!("the field “{field}” is missing or renamed (the site may have changed)"),
    )
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string or a number written out; empty and `null` are `None`.
fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field that must be there.
struct Obj<'a> {
    v: &'a Value,
    endpoint: &'a str,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, endpoint: &'a str, what: &str) -> Result<Obj<'a>, SiteError> {
        if v.is_object() {
            Ok(Obj { v, endpoint })
        } else {
            Err(unreadable(endpoint, format!("{what} is not an object")))
        }
    }
    fn opt(&self, k: &str) -> Option<&'a Value> {
        self.v.get(k).filter(|x| !x.is_null())
    }
    fn string(&self, k: &str) -> Result<String, SiteError> {
        self.opt(k)
            .and_then(str_of)
            .ok_or_else(|| missing(self.endpoint, k))
    }
    fn opt_string(&self, k: &str) -> Option<String> {
        self.opt(k).and_then(str_of)
    }
    fn int(&self, k: &str) -> Result<i64, SiteError> {
        match self.opt(k) {
            None => Err(missing(self.endpoint, k)),
            Some(x) => int_of(x).ok_or_else(|| {
                unreadable(self.endpoint, format!("the field “{k}” is not a number"))
            }),
        }
    }
    fn opt_int(&self, k: &str) -> Option<i64> {
        self.opt(k).and_then(int_of)
    }
    fn count(&self, k: &str) -> Result<u32, SiteError> {
        Ok(self.int(k)?.clamp(0, i64::from(u32::MAX)) as u32)
    }
    fn opt_float(&self, k: &str) -> Option<f64> {
        self.opt(k).and_then(float_of)
    }
    fn date(&self, k: &str) -> Result<Date, SiteError> {
        let s = self.string(k)?;
        let day = s.get(..10).unwrap_or(&s);
        Date::parse(day).map_err(|_| {
            unreadable(
                self.endpoint,
                format!("the field “{k}” is not a date (“{s}”)"),
            )
        })
    }
    fn array(&self, k: &str) -> Result<&'a Vec<Value>, SiteError> {
        match self.v.get(k) {
            Some(Value::Array(a)) => Ok(a),
            Some(Value::Null) | None => Err(missing(self.endpoint, k)),
            Some(_) => Err(unreadable(
                self.endpoint,
                format!("the field “{k}” is not a list"),
            )),
        }
    }
}

/// Reads the envelope: `Ok(data)` for code 0, else the error in words.
pub fn read_envelope(resp: &HttpResponse, endpoint: &str) -> Result<Value, SiteError> {
    if matches!(resp.status, 403 | 429 | 500..=599) {
        return Err(SiteError::Throttled);
    }
    let text = String::from_utf8_lossy(&resp.body);
    let trimmed = text.trim_start();
    let parsed: Result<Value, _> = serde_json::from_str(trimmed);
    let v = match parsed {
        Ok(v) => v,
        Err(_) if trimmed.starts_with('<') => {
            return Err(unreadable(
                endpoint,
                format!(
                    "an HTML page came instead of data (HTTP {}: {})",
                    resp.status,
                    resp.excerpt()
                ),
            ))
        }
        Err(e) => {
            return Err(unreadable(
                endpoint,
                format!(
                    "it is not JSON (HTTP {}, {e}: {})",
                    resp.status,
                    resp.excerpt()
                ),
            ))
        }
    };
    if !(200..300).contains(&resp.status) {
        // Spring Boot's 404/405 body, or a gateway's.
        let msg = v
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| v.get("error").and_then(Value::as_str))
            .unwrap_or("");
        return Err(unreadable(
            endpoint,
            format!(
                "HTTP {} {msg} — the address may be wrong or the site changed",
                resp.status
            ),
        ));
    }
    let Some(code) = v.get("code").and_then(int_of) else {
        return Err(missing(endpoint, "code"));
    };
    let msg = v
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match code {
        0 => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        401 => Err(SiteError::TokenRejected(msg)),
        500 => Err(SiteError::Throttled),
        3002 | 3003 => Err(SiteError::SoldOut(msg)),
        _ => Err(SiteError::Refused { code, msg }),
    }
}

fn data_obj<'a>(data: &'a Value, endpoint: &'a str) -> Result<Obj<'a>, SiteError> {
    if data.is_null() {
        return Err(missing(endpoint, "data"));
    }
    Obj::new(data, endpoint, "data")
}

fn data_list<'a>(data: &'a Value, endpoint: &str) -> Result<&'a Vec<Value>, SiteError> {
    match data {
        Value::Array(a) => Ok(a),
        Value::Null => Err(missing(endpoint, "data")),
        _ => Err(unreadable(endpoint, "“data” is not a list")),
    }
}

fn page_of<T>(
    data: &Value,
    endpoint: &str,
    row: impl Fn(&Obj) -> Result<T, SiteError>,
) -> Result<Page<T>, SiteError> {
    let p = data_obj(data, endpoint)?;
    let mut list = Vec::new();
    for r in p.array("list")? {
        list.push(row(&Obj::new(r, endpoint, "a row of “list”")?)?);
    }
    let n = |k: &str| p.opt_int(k).map(|x| x.clamp(0, i64::from(u32::MAX)) as u32);
    Ok(Page {
        page_no: n("pageNo").unwrap_or(1),
        pages: n("pages").unwrap_or(1),
        total: n("total").unwrap_or(list.len() as u32),
        list,
    })
}

/// `patient_service/login` → user id and token.
pub fn read_login(resp: &HttpResponse) -> Result<Login, SiteError> {
    const E: &str = "login";
    let data = read_envelope(resp, E)?;
    let o = data_obj(&data, E)?;
    Ok(Login {
        user_id: o.string("userId")?,
        token: o.string("token")?,
    })
}

/// `patient_service/members`.
pub fn read_members(resp: &HttpResponse) -> Result<Vec<Member>, SiteError> {
    const E: &str = "members";
    let data = read_envelope(resp, E)?;
    let mut out = Vec::new();
    for m in data_list(&data, E)? {
        let o = Obj::new(m, E, "a member")?;
        out.push(Member {
            member_id: o.string("memberId")?,
            name: o.string("name")?,
            masked_id: o
                .opt_string("IDNo")
                .map(|s| mask_id(&s))
                .unwrap_or_default(),
            gender: o.opt_int("gender"),
            age: o.opt_string("age"),
            default: o
                .opt("defaultMember")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Ok(out)
}

/// `tenant_service/depts`.
pub fn read_depts(resp: &HttpResponse) -> Result<Vec<Dept>, SiteError> {
    const E: &str = "depts";
    let data = read_envelope(resp, E)?;
    let mut out = Vec::new();
    for d in data_list(&data, E)? {
        let o = Obj::new(d, E, "a department")?;
        out.push(Dept {
            dept_id: o.string("deptId")?,
            dept_name: o.string("deptName")?,
        });
    }
    Ok(out)
}

fn doctor_row(o: &Obj) -> Result<DoctorRow, SiteError> {
    Ok(DoctorRow {
        doctor_id: o.opt_string("doctorId"),
        doctor_name: o.opt_string("doctorName"),
        doctor_title: o.opt_string("doctorTitle"),
        dept_id: o.string("deptId")?,
        dept_name: o.opt_string("deptName").unwrap_or_default(),
        status: o.opt_int("status"),
        date: match o.opt("date") {
            Some(_) => Some(o.date("date")?),
            None => None,
        },
        kind: o.opt_int("type"),
        fee: o.opt_float("bookfee"),
    })
}

/// `tenant_service/schedule_by_doctor`: the doctors (and 普通门诊) of a department.
pub fn read_schedule_by_doctor(resp: &HttpResponse) -> Result<Page<DoctorRow>, SiteError> {
    const E: &str = "schedule_by_doctor";
    let data = read_envelope(resp, E)?;
    page_of(&data, E, doctor_row)
}

/// `tenant_service/schedule_by_date`.
pub fn read_schedule_by_date(resp: &HttpResponse) -> Result<Page<DoctorRow>, SiteError> {
    const E: &str = "schedule_by_date";
    let data = read_envelope(resp, E)?;
    page_of(&data, E, doctor_row)
}

fn session(o: &Obj, half: Half) -> Result<Session, SiteError> {
    Ok(Session {
        half,
        schedule_id: o.string("scheduleId")?,
        kind: o.opt_int("type"),
        fee: o.opt_float("bookfee"),
        left_count: o.count("leftCount")?,
        status: o.opt_int("status"),
        address: o
            .opt_string("scheAdderss")
            .or_else(|| o.opt_string("scheAddress")),
    })
}

/// `tenant_service/schedule`: one day's AM and PM sessions.
pub fn read_schedule(resp: &HttpResponse) -> Result<DaySchedule, SiteError> {
    const E: &str = "schedule";
    let data = read_envelope(resp, E)?;
    let o = data_obj(&data, E)?;
    let date = o.date("date")?;
    let v = o.v;
    if v.get("scheduleAM").is_none() && v.get("schedulePM").is_none() {
        return Err(missing(E, "scheduleAM"));
    }
    let half = |k: &str, h: Half| -> Result<Option<Session>, SiteError> {
        match o.opt(k) {
            None => Ok(None),
            Some(s) => Ok(Some(session(&Obj::new(s, E, k)?, h)?)),
        }
    };
    Ok(DaySchedule {
        date,
        am: half("scheduleAM", Half::Am)?,
        pm: half("schedulePM", Half::Pm)?,
    })
}

/// `tenant_service/schedule/left_appo`: the free serials, in order.
pub fn read_left_appo(resp: &HttpResponse) -> Result<Vec<Serial>, SiteError> {
    const E: &str = "left_appo";
    let data = read_envelope(resp, E)?;
    let mut out = Vec::new();
    for s in data_list(&data, E)? {
        let o = Obj::new(s, E, "a serial")?;
        let no = o.int("serialNo")?;
        let serial_no = u32::try_from(no)
            .map_err(|_| unreadable(E, format!("the serial number {no} is out of range")))?;
        out.push(Serial {
            serial_no,
            time: o.opt_string("time").unwrap_or_default(),
        });
    }
    Ok(out)
}

/// `tenant_service/schedule/info`.
pub fn read_schedule_info(resp: &HttpResponse) -> Result<ScheduleInfo, SiteError> {
    const E: &str = "schedule/info";
    let data = read_envelope(resp, E)?;
    // The seed says ObjectList (the simulator sends one element); an object is taken too.
    let first = match &data {
        Value::Array(a) => match a.first() {
            Some(x) => x,
            None => {
                return Ok(ScheduleInfo {
                    doctor_name: None,
                    doctor_title: None,
                    dept_name: None,
                    days: Vec::new(),
                })
            }
        },
        Value::Null => return Err(missing(E, "data")),
        other => other,
    };
    let o = Obj::new(first, E, "data")?;
    let mut days = Vec::new();
    for d in o.array("leftBookCountList")? {
        let x = Obj::new(d, E, "a day of “leftBookCountList”")?;
        days.push(DayLeft {
            date: x.date("date")?,
            left: x.count("leftCount")?,
        });
    }
    Ok(ScheduleInfo {
        doctor_name: o.opt_string("doctorName"),
        doctor_title: o.opt_string("doctorTitle"),
        dept_name: o.opt_string("deptName"),
        days,
    })
}

/// `book_service/book/presubmit`.
pub fn read_presubmit(resp: &HttpResponse) -> Result<Presubmit, SiteError> {
    const E: &str = "book/presubmit";
    let data = read_envelope(resp, E)?;
    let o = data_obj(&data, E)?;
    Ok(Presubmit {
        dept_name: o.opt_string("deptName"),
        doctor: o.opt_string("doctor"),
        appo_time: o.string("appoTime")?,
        fee: o.opt_float("bookfee"),
    })
}

/// `book_service/book/submit` → the `bookId`.
pub fn read_submit(resp: &HttpResponse) -> Result<String, SiteError> {
    const E: &str = "book/submit";
    let data = read_envelope(resp, E)?;
    data_obj(&data, E)?.string("bookId")
}

fn booking(o: &Obj) -> Result<Booking, SiteError> {
    let serial = o
        .opt_int("visiSerialno")
        .or_else(|| o.opt_int("treaNo"))
        .and_then(|n| u32::try_from(n).ok());
    Ok(Booking {
        book_id: o.string("bookId")?,
        status: o.int("bookStatus")?,
        visi_charge: o.opt_int("visiCharge"),
        dept_id: o.opt_string("deptId"),
        dept_name: o.opt_string("deptName"),
        doctor_id: o.opt_string("doctorId"),
        doctor_name: o.opt_string("doctorName"),
        member_name: o.opt_string("memberName"),
        serial_no: serial,
        trea_time: o.opt_string("treaTime"),
        fee: o.opt_float("bookfee"),
        book_code: o.opt_string("bookCode"),
        area: o.opt_string("treaArea"),
        schedule_id: o.opt_string("scheduleId"),
        member_id: o.opt_string("memberId"),
    })
}

/// `book_service/books`.
pub fn read_books(resp: &HttpResponse) -> Result<Page<Booking>, SiteError> {
    const E: &str = "books";
    let data = read_envelope(resp, E)?;
    page_of(&data, E, booking)
}

/// `book_service/book/{bookId}`.
pub fn read_book(resp: &HttpResponse) -> Result<Booking, SiteError> {
    const E: &str = "book";
    let data = read_envelope(resp, E)?;
    booking(&data_obj(&data, E)?)
}

/// `book_service/book/cancel`.
pub fn read_cancel(resp: &HttpResponse) -> Result<(), SiteError> {
    read_envelope(resp, "book/cancel").map(|_| ())
}

/// `book_service/pay/appo_order` → the cashier `url` (or why there is none).
pub fn read_pay_link(resp: &HttpResponse) -> Result<PayLink, SiteError> {
    const E: &str = "pay/appo_order";
    let data = read_envelope(resp, E)?;
    let o = data_obj(&data, E)?;
    let url = o.opt_string("url");
    let failed = o
        .opt_string("error_code")
        .is_some_and(|c| !c.eq_ignore_ascii_case("SUCCESS"));
    if url.is_none() && !failed {
        return Err(missing(E, "url"));
    }
    Ok(PayLink {
        url: if failed { None } else { url },
        error: if failed {
            Some(o.opt_string("error_msg").unwrap_or_else(|| "FAIL".into()))
        } else {
            None
        },
    })
}
