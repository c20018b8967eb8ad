//! 北京114预约挂号 (114yygh web API of 2022–23), sans-IO.
//!
//! - [`Site`] builds an [`HttpRequest`] for every endpoint of seed `000` (each carries
//!   `_time=<ms>` — the caller passes the time — and `Request-Source: PC`; bodies are JSON).
//! - [`model`] parses replies into typed values, accepting both envelopes
//!   (`{resCode, msg, data}` and the older `{data, hasError, code, msg}`), typing the
//!   site's codes as [`ApiError`] and every unreadable reply as a [`ParseError`] that names
//!   the endpoint and the field.
//! - [`login`] is the SMS login as a step machine (picture → `checkcode` → SMS → login).
//! - [`booking`] is booking as a step machine (`product/detail` → `product/confirm` →
//!   `real-name/status` → `patient/list` → [SMS] → `order/save` → `order/detail`).
//!
//! Cookies (`imed_session`, `cmi-user-ticket`, …) are the caller's business: the browser
//! sends the user's own, the native host keeps a jar. Nothing here does I/O.

pub mod booking;
pub mod bridge;
pub mod codes;
pub mod login;
pub mod model;
pub mod reply;
pub mod watcher;

pub use codes::{bookable_by_parity, pua_code_points, try_pua_code_points};
pub use reply::{ApiError, EnvelopeKind, Error, ParseError};

use crate::crypto::yygh114_encrypt;
use crate::date::Date;
use crate::http::{HttpRequest, CONTENT_TYPE_JSON};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The endpoints of the web API (paths under the base URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    HospitalList,
    HospitalDetail,
    DepartmentList,
    ProductList,
    ProductDetail,
    ImgCode,
    CheckCode,
    VerifyCode,
    Login,
    RealNameStatus,
    PatientList,
    ProductConfirm,
    OrderSave,
    OrderDetail,
    OrderCancel,
}

impl Endpoint {
    /// The path, e.g. `/web/product/detail`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::HospitalList => "/web/hospital/list",
            Endpoint::HospitalDetail => "/web/hospital/detail",
            Endpoint::DepartmentList => "/web/department/hos/list",
            Endpoint::ProductList => "/web/product/list",
            Endpoint::ProductDetail => "/web/product/detail",
            Endpoint::ImgCode => "/web/img/getImgCode",
            Endpoint::CheckCode => "/web/checkcode",
            Endpoint::VerifyCode => "/web/common/verify-code/get",
            Endpoint::Login => "/web/login",
            Endpoint::RealNameStatus => "/web/user/real-name/status",
            Endpoint::PatientList => "/web/patient/list",
            Endpoint::ProductConfirm => "/web/product/confirm",
            Endpoint::OrderSave => "/web/order/save",
            Endpoint::OrderDetail => "/web/order/detail",
            Endpoint::OrderCancel => "/web/order/cancel",
        }
    }
}

/// The header every call carries; without it the site answers `10000` 渠道非法.
pub const REQUEST_SOURCE: (&str, &str) = ("Request-Source", "PC");

/// A clinic: the three codes every product request names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicRef {
    /// `hosCode`.
    pub hos_code: String,
    /// `firstDeptCode` (the parent department).
    pub first_dept_code: String,
    /// `secondDeptCode` (the clinic).
    pub second_dept_code: String,
}

impl ClinicRef {
    pub fn new(
        hos_code: impl Into<String>,
        first_dept_code: impl Into<String>,
        second_dept_code: impl Into<String>,
    ) -> ClinicRef {
        ClinicRef {
            hos_code: hos_code.into(),
            first_dept_code: first_dept_code.into(),
            second_dept_code: second_dept_code.into(),
        }
    }

    fn body(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("firstDeptCode".into(), json!(self.first_dept_code));
        m.insert("secondDeptCode".into(), json!(self.second_dept_code));
        m.insert("hosCode".into(), json!(self.hos_code));
        m
    }
}

/// `hospital/list` filters (the seed's defaults: everything, page 1 of 20).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalQuery {
    pub keywords: String,
    pub level_id: u32,
    pub area_id: u32,
    pub page_no: u32,
    pub page_size: u32,
}

impl Default for HospitalQuery {
    fn default() -> HospitalQuery {
        HospitalQuery {
            keywords: String::new(),
            level_id: 0,
            area_id: 0,
            page_no: 1,
            page_size: 20,
        }
    }
}

impl HospitalQuery {
    /// Hospitals whose name contains `keywords`.
    pub fn search(keywords: impl Into<String>) -> HospitalQuery {
        HospitalQuery {
            keywords: keywords.into(),
            ..HospitalQuery::default()
        }
    }
}

/// What `order/save` sends: the slot, the patient's card, and the codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderForm {
    pub clinic: ClinicRef,
    /// The visit day (`target` and `treatmentDay`).
    pub date: Date,
    /// `dutyTime`: 0 for the whole half-day, else the period's number.
    pub duty_time: u32,
    pub uniq_product_key: String,
    /// `cardType`, e.g. `SOCIAL_SECURITY` or `IDENTITY_CARD`.
    pub card_type: String,
    /// `cardNo` as `patient/list` shows it (masked is what the site's page sends).
    pub card_no: String,
    /// The patient's phone.
    pub phone: String,
    /// The SMS code (`smsKey=ORDER_CODE`), empty when the site does not ask for one.
    pub sms_code: String,
    /// `confirmToken` from `product/confirm`, when it gave one.
    pub confirm_token: Option<String>,
}

/// One 114yygh site: where it lives. Builds every request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// e.g. `https://www.114yygh.com` or the sandbox's `http://127.0.0.1:PORT`; no
    /// trailing slash.
    pub base_url: String,
}

impl Default for Site {
    fn default() -> Site {
        Site::new(
            crate::watch::Platform::Yygh114
                .default_base_url()
                .unwrap_or("https://www.114yygh.com"),
        )
    }
}

impl Site {
    /// A site at `base_url` (a trailing `/` is dropped).
    pub fn new(base_url: impl Into<String>) -> Site {
        let mut base_url = base_url.into().trim().to_string();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Site { base_url }
    }

    /// The scheme of the base URL (`https` when it has none).
    fn scheme(&self) -> &str {
        self.base_url
            .split_once("://")
            .map(|(s, _)| s)
            .unwrap_or("https")
    }

    /// `scheme://host[:port]` of the base URL.
    fn origin(&self) -> &str {
        match self.base_url.split_once("://") {
            Some((s, rest)) => {
                let host_len = rest.find('/').unwrap_or(rest.len());
                &self.base_url[..s.len() + 3 + host_len]
            }
            None => &self.base_url,
        }
    }

    /// Resolves a URL the site gives (e.g. a protocol-relative `dutyImgUrl`
    /// `//127.0.0.1:PORT/web/font/<md5>`) against the base: `//host/x` takes the base's
    /// scheme, `/x` its origin, a full URL is kept, anything else is relative to the base.
    pub fn resolve(&self, url: &str) -> String {
        let url = url.trim();
        if url.is_empty() {
            return String::new();
        }
        if let Some(rest) = url.strip_prefix("//") {
            return format!("{}://{rest}", self.scheme());
        }
        if url.starts_with('/') {
            return format!("{}{url}", self.origin());
        }
        if url
            .split_once("://")
            .is_some_and(|(s, _)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return url.to_string();
        }
        format!("{}/{url}", self.base_url)
    }

    /// A request to `ep` with `_time` first, then `query`, and `Request-Source: PC`.
    fn request(
        &self,
        method: crate::http::Method,
        ep: Endpoint,
        now_ms: i64,
        query: &[(&str, &str)],
    ) -> HttpRequest {
        let time = now_ms.to_string();
        let mut pairs: Vec<(&str, &str)> = vec![("_time", &time)];
        pairs.extend_from_slice(query);
        HttpRequest::new(method, format!("{}{}", self.base_url, ep.path()))
            .query(&pairs)
            .header(REQUEST_SOURCE.0, REQUEST_SOURCE.1)
    }

    fn get(&self, ep: Endpoint, now_ms: i64, query: &[(&str, &str)]) -> HttpRequest {
        self.request(crate::http::Method::Get, ep, now_ms, query)
    }

    fn post(&self, ep: Endpoint, now_ms: i64, body: Value) -> HttpRequest {
        self.request(crate::http::Method::Post, ep, now_ms, &[])
            .header("Content-Type", CONTENT_TYPE_JSON)
            .body(crate::http::Body::Text(body.to_string()))
    }

    /// `GET hospital/list` (paged search).
    pub fn hospital_list(&self, now_ms: i64, q: &HospitalQuery) -> HttpRequest {
        let (level, area, page_no, page_size) = (
            q.level_id.to_string(),
            q.area_id.to_string(),
            q.page_no.max(1).to_string(),
            q.page_size.max(1).to_string(),
        );
        self.get(
            Endpoint::HospitalList,
            now_ms,
            &[
                ("keywords", &q.keywords),
                ("levelId", &level),
                ("areaId", &area),
                ("pageNo", &page_no),
                ("pageSize", &page_size),
            ],
        )
    }

    /// `GET hospital/detail?hosCode=` (`openTimeView`, `bookingRange`).
    pub fn hospital_detail(&self, now_ms: i64, hos_code: &str) -> HttpRequest {
        self.get(Endpoint::HospitalDetail, now_ms, &[("hosCode", hos_code)])
    }

    /// `GET department/hos/list?hosCode=` (departments with their clinics).
    pub fn department_list(&self, now_ms: i64, hos_code: &str) -> HttpRequest {
        self.get(Endpoint::DepartmentList, now_ms, &[("hosCode", hos_code)])
    }

    /// `POST product/list` — the calendar of week `week` (1: the 7 days from tomorrow).
    pub fn product_list(&self, now_ms: i64, clinic: &ClinicRef, week: u32) -> HttpRequest {
        let mut b = clinic.body();
        b.insert("week".into(), json!(week.max(1)));
        self.post(Endpoint::ProductList, now_ms, Value::Object(b))
    }

    /// `POST product/detail` — the doctors of one day.
    pub fn product_detail(&self, now_ms: i64, clinic: &ClinicRef, date: Date) -> HttpRequest {
        let mut b = clinic.body();
        b.insert("target".into(), json!(date.to_string()));
        self.post(Endpoint::ProductDetail, now_ms, Value::Object(b))
    }

    /// `GET img/getImgCode` — the picture code (a PNG; show it to the person).
    pub fn img_code(&self, now_ms: i64) -> HttpRequest {
        self.get(Endpoint::ImgCode, now_ms, &[])
    }

    /// `GET checkcode?code=` — does the person's reading of the picture match?
    pub fn checkcode(&self, now_ms: i64, code: &str) -> HttpRequest {
        self.get(Endpoint::CheckCode, now_ms, &[("code", code.trim())])
    }

    /// `GET common/verify-code/get?mobile=<AES>&smsKey=LOGIN&code=<picture code>` — the
    /// login SMS.
    pub fn verify_code_login(&self, now_ms: i64, mobile: &str, img_code: &str) -> HttpRequest {
        let m = yygh114_encrypt(mobile.trim());
        self.get(
            Endpoint::VerifyCode,
            now_ms,
            &[
                ("mobile", &m),
                ("smsKey", "LOGIN"),
                ("code", img_code.trim()),
            ],
        )
    }

    /// `GET common/verify-code/get?mobile=<AES>&smsKey=ORDER_CODE&uniqProductKey=` — the
    /// SMS `order/save` needs when `dataItem.smsCode` is 4. An empty `mobile` is sent
    /// empty (the site then texts the account's own phone).
    pub fn verify_code_order(
        &self,
        now_ms: i64,
        mobile: &str,
        uniq_product_key: &str,
    ) -> HttpRequest {
        let m = if mobile.trim().is_empty() {
            String::new()
        } else {
            yygh114_encrypt(mobile.trim())
        };
        self.get(
            Endpoint::VerifyCode,
            now_ms,
            &[
                ("mobile", &m),
                ("smsKey", "ORDER_CODE"),
                ("uniqProductKey", uniq_product_key),
            ],
        )
    }

    /// `POST web/login {mobile, code}`, both AES-encrypted as the site's page does.
    pub fn login(&self, now_ms: i64, mobile: &str, sms_code: &str) -> HttpRequest {
        self.post(
            Endpoint::Login,
            now_ms,
            json!({
                "mobile": yygh114_encrypt(mobile.trim()),
                "code": yygh114_encrypt(sms_code.trim()),
            }),
        )
    }

    /// `GET user/real-name/status`.
    pub fn real_name_status(&self, now_ms: i64) -> HttpRequest {
        self.get(Endpoint::RealNameStatus, now_ms, &[])
    }

    /// `GET patient/list?showType=ORDER_CONFIRM`.
    pub fn patient_list(&self, now_ms: i64) -> HttpRequest {
        self.get(
            Endpoint::PatientList,
            now_ms,
            &[("showType", "ORDER_CONFIRM")],
        )
    }

    /// `POST product/confirm` — the booking page's summary, `dataItem` and `confirmToken`.
    pub fn product_confirm(
        &self,
        now_ms: i64,
        clinic: &ClinicRef,
        date: Date,
        duty_time: u32,
        uniq_product_key: &str,
    ) -> HttpRequest {
        let mut b = clinic.body();
        b.insert("target".into(), json!(date.to_string()));
        b.insert("dutyTime".into(), json!(duty_time));
        b.insert("uniqProductKey".into(), json!(uniq_product_key));
        self.post(Endpoint::ProductConfirm, now_ms, Value::Object(b))
    }

    /// `POST order/save` — places the order. Send it at most once per slot: an unknown
    /// outcome is checked, never retried (see [`booking`]).
    pub fn order_save(&self, now_ms: i64, f: &OrderForm) -> HttpRequest {
        let mut b = f.clinic.body();
        let date = f.date.to_string();
        b.insert("target".into(), json!(date));
        b.insert("dutyTime".into(), json!(f.duty_time));
        b.insert("uniqProductKey".into(), json!(f.uniq_product_key));
        b.insert("cardType".into(), json!(f.card_type));
        b.insert("cardNo".into(), json!(f.card_no));
        b.insert("orderFrom".into(), json!("HOSP"));
        b.insert("phone".into(), json!(f.phone));
        b.insert("treatmentDay".into(), json!(date));
        b.insert("smsCode".into(), json!(f.sms_code.trim()));
        if let Some(t) = &f.confirm_token {
            b.insert("confirmToken".into(), json!(t));
        }
        self.post(Endpoint::OrderSave, now_ms, Value::Object(b))
    }

    /// `GET order/detail?hosCode=&orderNo=`.
    pub fn order_detail(&self, now_ms: i64, hos_code: &str, order_no: &str) -> HttpRequest {
        self.get(
            Endpoint::OrderDetail,
            now_ms,
            &[("hosCode", hos_code), ("orderNo", order_no)],
        )
    }

    /// `GET order/cancel?orderNo=&hosCode=` — the slot goes back on sale.
    pub fn order_cancel(&self, now_ms: i64, hos_code: &str, order_no: &str) -> HttpRequest {
        self.get(
            Endpoint::OrderCancel,
            now_ms,
            &[("orderNo", order_no), ("hosCode", hos_code)],
        )
    }
}

/// What a step machine ([`login::Login`], [`booking::Booking`]) wants next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step<T> {
    /// Send this request and feed the machine the response (or tell it none came).
    Send { request: HttpRequest },
    /// Show this to the person and give the machine their answer.
    AskUser { prompt: Prompt },
    /// Decode these obfuscated numbers (fetch each font, run the font decoder) and give
    /// the machine the results. Only [`booking::Booking`] asks this.
    Decode { items: Vec<booking::DecodeItem> },
    /// Finished.
    Done { outcome: T },
}

impl<T> Step<T> {
    /// The request, when this step is a send.
    pub fn request(&self) -> Option<&HttpRequest> {
        match self {
            Step::Send { request } => Some(request),
            _ => None,
        }
    }

    /// The outcome, when this step is the last.
    pub fn outcome(&self) -> Option<&T> {
        match self {
            Step::Done { outcome } => Some(outcome),
            _ => None,
        }
    }

    fn send(request: HttpRequest) -> Step<T> {
        Step::Send { request }
    }

    fn ask(prompt: Prompt) -> Step<T> {
        Step::AskUser { prompt }
    }

    fn done(outcome: T) -> Step<T> {
        Step::Done { outcome }
    }
}

/// What to show the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prompt {
    /// The picture code: show the image, ask for the characters in it.
    Captcha {
        /// The image bytes (standard base64 in JSON).
        #[serde(with = "crate::http::b64")]
        image: Vec<u8>,
        /// e.g. `image/png`.
        content_type: String,
        /// Why it is asked again, when it is.
        note: Option<String>,
    },
    /// The login SMS code sent to `phone` (masked).
    LoginSms { phone: String, note: Option<String> },
    /// The booking SMS code sent to `phone` (masked).
    OrderSms { phone: String, note: Option<String> },
}

/// A machine was given something it was not waiting for (a caller bug, not a site
/// problem). The machine's state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the 114 {flow} was given {given} while it is {waiting}")]
pub struct OutOfTurn {
    pub flow: &'static str,
    pub given: &'static str,
    pub waiting: &'static str,
}

/// `17796761085` → `177****1085`: phone numbers shown to people or written to events.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_protocol_relative_and_other_urls() {
        let s = Site::new("http://127.0.0.1:4000/");
        assert_eq!(s.base_url, "http://127.0.0.1:4000");
        assert_eq!(
            s.resolve("//127.0.0.1:4000/web/font/a87f"),
            "http://127.0.0.1:4000/web/font/a87f"
        );
        assert_eq!(s.resolve("/web/font/x"), "http://127.0.0.1:4000/web/font/x");
        assert_eq!(s.resolve("https://img.x/y"), "https://img.x/y");
        assert_eq!(s.resolve("web/font/x"), "http://127.0.0.1:4000/web/font/x");
        let real = Site::default();
        assert_eq!(
            real.resolve("//img.114yygh.com/fe/home/iconfont/a87f"),
            "https://img.114yygh.com/fe/home/iconfont/a87f"
        );
        let nested = Site::new("https://proxy.example/114");
        assert_eq!(
            nested.resolve("/web/font/x"),
            "https://proxy.example/web/font/x"
        );
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("17796761085"), "177****1085");
        assert_eq!(mask_phone("123"), "***");
    }
}
