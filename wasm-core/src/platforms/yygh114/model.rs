//! Typed replies and their parsers, one per endpoint.
//!
//! Every parser takes the raw [`HttpResponse`] and returns `Result<T, Error>`: the HTTP
//! status is checked first (403 when polled too fast, 5xx), then either envelope is
//! unwrapped and its code typed ([`ApiError`]), then the fields are read. A missing or
//! renamed required field, a value of the wrong type, or malformed JSON is a
//! [`ParseError`] naming the endpoint and the field. Values the site may extend —
//! calendar statuses, half-day codes, order statuses — are kept as `Unknown(text)`
//! instead of failing. Optional display fields default to empty.

use super::codes::try_pua_code_points;
use super::reply::{data_obj, each_obj, open, Obj};
use super::{Endpoint, Error, ParseError, Site};
use crate::date::Date;
use crate::http::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Declares a string-backed enum that keeps unknown values.
macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vm])* $variant,)*
            /// A value this version does not know, kept as the site wrote it.
            Unknown(String),
        }

        impl $name {
            /// The site's text for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Unknown(s) => s,
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                match s.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Unknown(s),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::from(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }
    };
}

open_enum! {
    /// A day's status in the `product/list` calendar.
    Status {
        /// Slots left (`AVAILABLE`): worth a `product/detail`.
        Available = "AVAILABLE",
        /// Released and all taken.
        SoldOut = "SOLD_OUT",
        /// Nothing scheduled (or the hospital is in maintenance).
        NoInventory = "NO_INVENTORY",
        /// Released at the next `openTimeView`.
        TomorrowOpen = "TOMORROW_OPEN",
    }
}

open_enum! {
    /// The half-day of a `product/detail` block.
    Duty {
        Morning = "MORNING",
        Afternoon = "AFTERNOON",
        Evening = "EVENING",
    }
}

open_enum! {
    /// `orderStatus` of `order/detail`.
    OrderStatus {
        /// 预约成功.
        BookingSuccess = "BOOKING_SUCCESS",
        /// 已取消.
        Canceled = "CANCELED",
    }
}

impl Duty {
    /// The watch's period for this half-day, if it has one.
    pub fn period(&self) -> Option<crate::watch::Period> {
        match self {
            Duty::Morning => Some(crate::watch::Period::Morning),
            Duty::Afternoon => Some(crate::watch::Period::Afternoon),
            Duty::Evening => Some(crate::watch::Period::Evening),
            Duty::Unknown(_) => None,
        }
    }
}

// ---------------------------------------------------------------- hospital/list

/// One hospital of `hospital/list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalSummary {
    /// `code` (the `hosCode` of every other call).
    pub code: String,
    pub name: String,
    pub level_text: String,
    /// e.g. `每天08:30放号`.
    pub open_time_text: String,
    pub picture: String,
    /// Under maintenance: nothing can be booked.
    pub maintain: bool,
}

/// A page of `hospital/list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalPage {
    /// Hospitals matching the query, over all pages.
    pub count: u64,
    pub list: Vec<HospitalSummary>,
}

/// Reads `hospital/list`.
pub fn parse_hospital_list(resp: &HttpResponse) -> Result<HospitalPage, Error> {
    let ep = Endpoint::HospitalList;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let items = d.list("list")?;
    let list = each_obj(ep, "data.list", items, |h| {
        Ok(HospitalSummary {
            code: h.string("code")?,
            name: h.string("name")?,
            level_text: h.string_or_empty("levelText")?,
            open_time_text: h.string_or_empty("openTimeText")?,
            picture: h.string_or_empty("picture")?,
            maintain: h.bool_or("maintain", false)?,
        })
    })?;
    let count = match d.opt_int("count")? {
        Some(n) => u64::try_from(n).map_err(|_| d.err("count", "is negative"))?,
        None => list.len() as u64,
    };
    Ok(HospitalPage { count, list })
}

// ---------------------------------------------------------------- hospital/detail

/// `hospital/detail`: when the hospital releases, and how far ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalDetail {
    pub code: String,
    pub name: String,
    pub level_text: String,
    pub address: String,
    /// `openTimeView` as written (`HH:MM`).
    pub open_time_view: String,
    /// The daily release time, minutes after midnight Beijing time.
    pub open_time_minutes: u16,
    /// `bookingRange`: how many days ahead the day released each day is.
    pub booking_range: u32,
    pub maintain: bool,
}

/// Reads `HH:MM` (or `HH:MM:SS`) into minutes after midnight.
pub fn parse_time_of_day(s: &str) -> Option<u16> {
    let mut parts = s.trim().split(':');
    let h: u16 = parts.next()?.trim().parse().ok()?;
    let m: u16 = parts.next()?.trim().parse().ok()?;
    if let Some(sec) = parts.next() {
        let sec: u16 = sec.trim().parse().ok()?;
        if sec > 59 {
            return None;
        }
    }
    if parts.next().is_some() || h > 23 || m > 59 {
        return None;
    }
    Some(h * 60 + m)
}

/// Reads `hospital/detail`.
pub fn parse_hospital_detail(resp: &HttpResponse) -> Result<HospitalDetail, Error> {
    let ep = Endpoint::HospitalDetail;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let open_time_view = d.string("openTimeView")?;
    let open_time_minutes = parse_time_of_day(&open_time_view).ok_or_else(|| {
        d.err(
            "openTimeView",
            format!("is not a time of day such as 08:30 ({open_time_view:?})"),
        )
    })?;
    let booking_range = d.int("bookingRange")?;
    let booking_range = u32::try_from(booking_range).map_err(|_| {
        d.err(
            "bookingRange",
            format!("is not a number of days ({booking_range})"),
        )
    })?;
    Ok(HospitalDetail {
        code: d.string("code")?,
        name: d.string("name")?,
        level_text: d.string_or_empty("levelText")?,
        address: d.string_or_empty("address")?,
        open_time_view,
        open_time_minutes,
        booking_range,
        maintain: d.bool_or("maintain", false)?,
    })
}

// ---------------------------------------------------------------- department/hos/list

/// A clinic (second-level department): what a watch targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clinic {
    /// `secondDeptCode`.
    pub code: String,
    /// `firstDeptCode` (its department's code when the site leaves it out).
    pub dept1_code: String,
    pub name: String,
    pub hot: bool,
}

/// A department with its clinics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// `firstDeptCode`.
    pub code: String,
    pub name: String,
    pub clinics: Vec<Clinic>,
}

/// Reads `department/hos/list`.
pub fn parse_department_list(resp: &HttpResponse) -> Result<Vec<Department>, Error> {
    let ep = Endpoint::DepartmentList;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let items = d.list("list")?;
    Ok(each_obj(ep, "data.list", items, |dept| {
        let code = dept.string("code")?;
        let subs = dept.list_or_empty("subList")?;
        let path = dept.field_path("subList");
        let clinics = each_obj(ep, &path, subs, |c| {
            Ok(Clinic {
                code: c.string("code")?,
                dept1_code: c.opt_string("dept1Code")?.unwrap_or_else(|| code.clone()),
                name: c.string("name")?,
                hot: c.bool_or("hotDept", false)?,
            })
        })?;
        Ok(Department {
            code,
            name: dept.string("name")?,
            clinics,
        })
    })?)
}

// ---------------------------------------------------------------- product/list

/// One day of the `product/list` calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: Date,
    pub week_desc: String,
    pub status: Status,
}

/// `product/list`: a clinic's calendar for one week.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub hos_name: String,
    pub first_dept_name: String,
    pub second_dept_name: String,
    /// `fhTimestamp`: the next release instant by the server's clock (Unix ms).
    pub fh_timestamp: Option<i64>,
    /// How many weeks can be asked for.
    pub total_week: Option<u32>,
    pub days: Vec<CalendarDay>,
}

impl Calendar {
    /// The status of `date`, if the calendar shows it.
    pub fn status_of(&self, date: Date) -> Option<&Status> {
        self.days.iter().find(|d| d.date == date).map(|d| &d.status)
    }
}

fn date_field(o: &Obj<'_>, name: &str) -> Result<Date, ParseError> {
    let s = o.string(name)?;
    Date::parse(s.trim())
        .map_err(|_| o.err(name, format!("is not a date such as 2022-10-01 ({s:?})")))
}

/// Reads `product/list`.
pub fn parse_product_list(resp: &HttpResponse) -> Result<Calendar, Error> {
    let ep = Endpoint::ProductList;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let items = d.list("calendars")?;
    let days = each_obj(ep, "data.calendars", items, |c| {
        Ok(CalendarDay {
            date: date_field(&c, "dutyDate")?,
            week_desc: c.string_or_empty("weekDesc")?,
            status: Status::from(c.string("status")?),
        })
    })?;
    let total_week = match d.opt_int("totalWeek")? {
        Some(n) => Some(u32::try_from(n).map_err(|_| d.err("totalWeek", "is negative"))?),
        None => None,
    };
    Ok(Calendar {
        hos_name: d.string_or_empty("hosName")?,
        first_dept_name: d.string_or_empty("firstDeptName")?,
        second_dept_name: d.string_or_empty("secondDeptName")?,
        fh_timestamp: d.opt_int("fhTimestamp")?,
        total_week,
        days,
    })
}

// ---------------------------------------------------------------- product/detail

/// A time period inside a product (hospitals that book by half-hour).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSlot {
    /// The period's own key, when the site gives one.
    pub uniq_product_key: Option<String>,
    /// `dutyTime`: what `product/confirm` and `order/save` send for this period.
    pub duty_time: u32,
    /// e.g. `08:00-08:30`.
    pub period_view: String,
    /// The remaining count as the raw entity string (may be empty).
    pub ncode: String,
    pub ncode_points: Vec<char>,
    /// `remainAvailableNumber`: even means greyed out (parity rule).
    pub remain_available_number: Option<i64>,
}

impl PeriodSlot {
    /// Bookable by the parity rule (`remainAvailableNumber` odd); `None` when absent.
    pub fn bookable_by_parity(&self) -> Option<bool> {
        self.remain_available_number
            .map(super::codes::bookable_by_parity)
    }
}

/// One doctor's product (a half-day's slots) in `product/detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub uniq_product_key: String,
    pub doctor_name: String,
    pub doctor_title: String,
    pub skill: String,
    /// The price, as the raw entity string (`&#xf7ee;&#xf128;`).
    pub fcode: String,
    /// Its code points, for the font decoder.
    pub fcode_points: Vec<char>,
    /// The remaining count, as the raw entity string.
    pub ncode: String,
    pub ncode_points: Vec<char>,
    /// `wnumber`: odd means bookable (see [`super::bookable_by_parity`]).
    pub wnumber: i64,
    pub znumber: Option<i64>,
    pub periods: Vec<PeriodSlot>,
}

impl Product {
    /// Bookable by the parity rule.
    pub fn bookable_by_parity(&self) -> bool {
        super::codes::bookable_by_parity(self.wnumber)
    }
}

/// One half-day block of `product/detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyBlock {
    pub duty: Duty,
    /// `dutyImgUrl` as the site wrote it (protocol-relative).
    pub duty_img_url: String,
    /// The font's full URL (resolved against the site's base).
    pub font_url: String,
    pub show_number: bool,
    pub show_price: bool,
    pub products: Vec<Product>,
}

/// `product/detail`: the doctors of one day. Empty when the day is not open (the new
/// envelope answers `data: []`; the legacy one answers `4023`, an [`Error::Api`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayDetail {
    pub blocks: Vec<DutyBlock>,
}

impl DayDetail {
    /// Every product with its block.
    pub fn products(&self) -> impl Iterator<Item = (&DutyBlock, &Product)> {
        self.blocks
            .iter()
            .flat_map(|b| b.products.iter().map(move |p| (b, p)))
    }

    /// The product with this key.
    pub fn product(&self, key: &str) -> Option<(&DutyBlock, &Product)> {
        self.products().find(|(_, p)| p.uniq_product_key == key)
    }
}

fn entity_field(
    o: &Obj<'_>,
    name: &str,
    required: bool,
) -> Result<(String, Vec<char>), ParseError> {
    let raw = if required {
        o.string(name)?
    } else {
        o.string_or_empty(name)?
    };
    let points =
        try_pua_code_points(&raw).map_err(|e| o.err(name, format!("cannot be read: {e}")))?;
    Ok((raw, points))
}

/// Reads `product/detail`; `site` resolves the protocol-relative `dutyImgUrl`.
pub fn parse_product_detail(site: &Site, resp: &HttpResponse) -> Result<DayDetail, Error> {
    let ep = Endpoint::ProductDetail;
    let (_, data) = open(ep, resp)?;
    let items: &[Value] = match &data {
        Value::Null => &[],
        Value::Array(a) => a,
        other => {
            return Err(ParseError {
                endpoint: ep,
                field: "data".into(),
                problem: format!("is {} where a list was expected", super::reply::kind(other)),
            }
            .into())
        }
    };
    let blocks = each_obj(ep, "data", items, |b| {
        let duty_img_url = b.string_or_empty("dutyImgUrl")?;
        let detail = b.list("detail")?;
        let path = b.field_path("detail");
        let products = each_obj(ep, &path, detail, |p| {
            let (fcode, fcode_points) = entity_field(&p, "fcode", true)?;
            let (ncode, ncode_points) = entity_field(&p, "ncode", true)?;
            let ppath = p.field_path("period");
            let periods = each_obj(ep, &ppath, p.list_or_empty("period")?, |per| {
                let (ncode, ncode_points) = entity_field(&per, "ncode", false)?;
                let duty_time = per.int("dutyTime")?;
                Ok(PeriodSlot {
                    uniq_product_key: per.opt_string("uniqProductKey")?,
                    duty_time: u32::try_from(duty_time).map_err(|_| {
                        per.err("dutyTime", format!("is not a period number ({duty_time})"))
                    })?,
                    period_view: per.string_or_empty("periodView")?,
                    ncode,
                    ncode_points,
                    remain_available_number: per.opt_int("remainAvailableNumber")?,
                })
            })?;
            Ok(Product {
                uniq_product_key: p.string("uniqProductKey")?,
                doctor_name: p.string("doctorName")?,
                doctor_title: p.string_or_empty("doctorTitleName")?,
                skill: p.string_or_empty("skill")?,
                fcode,
                fcode_points,
                ncode,
                ncode_points,
                wnumber: p.int("wnumber")?,
                znumber: p.opt_int("znumber")?,
                periods,
            })
        })?;
        Ok(DutyBlock {
            duty: Duty::from(b.string("dutyCode")?),
            font_url: site.resolve(&duty_img_url),
            duty_img_url,
            show_number: b.bool_or("showNumber", true)?,
            show_price: b.bool_or("showPrice", true)?,
            products,
        })
    })?;
    Ok(DayDetail { blocks })
}

// ---------------------------------------------------------------- login steps

/// Reads `checkcode`: whether the picture code matched.
pub fn parse_checkcode(resp: &HttpResponse) -> Result<bool, Error> {
    let ep = Endpoint::CheckCode;
    let (_, data) = open(ep, resp)?;
    match data {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(ParseError {
            endpoint: ep,
            field: "data".into(),
            problem: format!(
                "is {} where true/false was expected",
                super::reply::kind(&other)
            ),
        }
        .into()),
    }
}

/// Reads `common/verify-code/get`: `Ok(())` when the SMS was sent.
pub fn parse_verify_code(resp: &HttpResponse) -> Result<(), Error> {
    open(Endpoint::VerifyCode, resp).map(|_| ())
}

/// `web/login`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResult {
    pub user_id: Option<String>,
    /// e.g. `AUTH_PASS`.
    pub auth_status: Option<String>,
}

/// Reads `web/login` (the ticket itself arrives as the `cmi-user-ticket` cookie).
pub fn parse_login(resp: &HttpResponse) -> Result<LoginResult, Error> {
    let ep = Endpoint::Login;
    let (_, data) = open(ep, resp)?;
    match &data {
        Value::Null => Ok(LoginResult {
            user_id: None,
            auth_status: None,
        }),
        v => {
            let d = Obj::of(ep, "data", v)?;
            Ok(LoginResult {
                user_id: d.opt_string("userId")?,
                auth_status: d.opt_string("authStatus")?,
            })
        }
    }
}

// ---------------------------------------------------------------- account

/// `user/real-name/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealName {
    /// `AUTH_PASS` when verified.
    pub status: String,
    /// Masked (`*贺`).
    pub name: String,
    pub id_type_view: String,
    /// Masked (`******2116`).
    pub id_no: String,
    pub message: String,
}

impl RealName {
    /// Whether the account passed real-name verification (needed to book).
    pub fn passed(&self) -> bool {
        self.status == "AUTH_PASS"
    }
}

/// Reads `user/real-name/status`.
pub fn parse_real_name_status(resp: &HttpResponse) -> Result<RealName, Error> {
    let ep = Endpoint::RealNameStatus;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    Ok(RealName {
        status: d.string("status")?,
        name: d.string_or_empty("name")?,
        id_type_view: d.string_or_empty("idTypeView")?,
        id_no: d.string_or_empty("idNo")?,
        message: d.string_or_empty("message")?,
    })
}

/// A card a patient can book with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// `SOCIAL_SECURITY`, `IDENTITY_CARD`, …
    pub card_type: String,
    pub card_type_view: String,
    /// As the site shows it (masked); what `order/save` sends back.
    pub card_no: String,
    pub medicare_type: String,
}

/// A patient of the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub name: String,
    pub id_card_type: String,
    /// Masked.
    pub id_card_no: String,
    pub phone: String,
    /// `BIND` when usable.
    pub status: String,
    pub cards: Vec<Card>,
}

/// Reads `patient/list`.
pub fn parse_patient_list(resp: &HttpResponse) -> Result<Vec<Patient>, Error> {
    let ep = Endpoint::PatientList;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    Ok(each_obj(ep, "data.list", d.list("list")?, |p| {
        let path = p.field_path("cardList");
        let cards = each_obj(ep, &path, p.list_or_empty("cardList")?, |c| {
            Ok(Card {
                card_type: c.string("cardType")?,
                card_type_view: c.string_or_empty("cardTypeView")?,
                card_no: c.string("cardNo")?,
                medicare_type: c.string_or_empty("medicareType")?,
            })
        })?;
        Ok(Patient {
            name: p.string("patientName")?,
            id_card_type: p.string_or_empty("idCardType")?,
            id_card_no: p.string_or_empty("idCardNo")?,
            phone: p.string_or_empty("phone")?,
            status: p.string_or_empty("status")?,
            cards,
        })
    })?)
}

// ---------------------------------------------------------------- booking

/// `dataItem` values: 1 shown, 2 hidden, 4 required.
pub const ITEM_REQUIRED: i64 = 4;

/// `dataItem` of `product/confirm`: which inputs the booking page asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataItem {
    pub sms_code: Option<i64>,
    pub sms_code_tip: String,
    pub hospital_card_id: Option<i64>,
    pub jyt_card_id: Option<i64>,
    pub contact_user_info: Option<i64>,
}

/// `product/confirm`: the booking page's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirm {
    pub uniq_product_key: String,
    pub hospital_name: String,
    pub department_name: String,
    pub doctor_name: String,
    pub doctor_title: String,
    /// e.g. `2022年10月01日 周六 下午`.
    pub visit_time: String,
    /// `totalFee` as raw entities (obfuscated like `fcode`).
    pub total_fee: String,
    /// `serviceFee`, in clear.
    pub service_fee: String,
    pub data_item: DataItem,
    pub duty_img_url: String,
    pub take_place_tips: String,
    /// Sent back in `order/save` when present.
    pub confirm_token: Option<String>,
}

impl Confirm {
    /// Whether `order/save` needs an SMS code (`dataItem.smsCode` = 4).
    pub fn needs_sms(&self) -> bool {
        self.data_item.sms_code == Some(ITEM_REQUIRED)
    }

    /// `serviceFee` in yuan, when it is a number.
    pub fn fee_yuan(&self) -> Option<f64> {
        self.service_fee
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
    }
}

/// Reads `product/confirm`.
pub fn parse_product_confirm(resp: &HttpResponse) -> Result<Confirm, Error> {
    let ep = Endpoint::ProductConfirm;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let data_item = match d.map.get("dataItem") {
        None | Some(Value::Null) => DataItem::default(),
        Some(v) => {
            let path = d.field_path("dataItem");
            let i = Obj::of(ep, &path, v)?;
            DataItem {
                sms_code: i.opt_int("smsCode")?,
                sms_code_tip: i.string_or_empty("smsCodeTip")?,
                hospital_card_id: i.opt_int("hospitalCardId")?,
                jyt_card_id: i.opt_int("jytCardId")?,
                contact_user_info: i.opt_int("contactUserInfo")?,
            }
        }
    };
    Ok(Confirm {
        uniq_product_key: d.string("uniqProductKey")?,
        hospital_name: d.string_or_empty("hospitalName")?,
        department_name: d.string_or_empty("departmentName")?,
        doctor_name: d.string_or_empty("doctorName")?,
        doctor_title: d.string_or_empty("doctorTitleName")?,
        visit_time: d.string_or_empty("visitTime")?.trim().to_string(),
        total_fee: d.string_or_empty("totalFee")?,
        service_fee: d.string_or_empty("serviceFee")?,
        data_item,
        duty_img_url: d.string_or_empty("dutyImgUrl")?,
        take_place_tips: d.string_or_empty("takePlaceTips")?,
        confirm_token: d.opt_string("confirmToken")?.filter(|t| !t.is_empty()),
    })
}

/// `order/save`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSaved {
    /// `None` when the site reported success with `data: null` (the seed: tell the user
    /// the site's `msg`).
    pub order_no: Option<String>,
    /// `lineup`: queued rather than booked.
    pub lineup: bool,
    /// The envelope's `msg`, if any.
    pub msg: Option<String>,
}

/// Reads `order/save`.
pub fn parse_order_save(resp: &HttpResponse) -> Result<OrderSaved, Error> {
    let ep = Endpoint::OrderSave;
    let (_, data) = open(ep, resp)?;
    let msg = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| v.get("msg").and_then(Value::as_str).map(str::to_string));
    match &data {
        Value::Null => Ok(OrderSaved {
            order_no: None,
            lineup: false,
            msg,
        }),
        v => {
            let d = Obj::of(ep, "data", v)?;
            Ok(OrderSaved {
                order_no: Some(d.string("orderNo")?),
                lineup: d.bool_or("lineup", false)?,
                msg,
            })
        }
    }
}

/// `order/detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub order_no: String,
    pub status: OrderStatus,
    pub status_view: String,
    pub order_time: String,
    pub can_cancel: bool,
    pub hos_code: String,
    pub hos_name: String,
    pub dept_code: String,
    pub dept_name: String,
    pub doctor_name: String,
    pub doctor_title: String,
    pub service_fee: String,
    /// e.g. `2022年10月08日 周六 下午`.
    pub visit_time_tips: String,
    /// e.g. `08:00-08:30` for period bookings.
    pub period_view: String,
    pub take_place_tips: String,
    pub patient_name: String,
    pub card_type: String,
    /// Masked.
    pub card_no: String,
}

impl OrderDetail {
    /// The visit time in one line: `visitTimeTips` plus the period when there is one.
    pub fn visit_time(&self) -> String {
        let v = self.visit_time_tips.trim();
        let p = self.period_view.trim();
        match (v.is_empty(), p.is_empty()) {
            (_, true) => v.to_string(),
            (true, false) => p.to_string(),
            (false, false) => format!("{v} {p}"),
        }
    }

    /// Where to go: hospital, clinic, and the hospital's pick-up instructions.
    pub fn place(&self) -> String {
        [&self.hos_name, &self.dept_name, &self.take_place_tips]
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Reads `order/detail`.
pub fn parse_order_detail(resp: &HttpResponse) -> Result<OrderDetail, Error> {
    let ep = Endpoint::OrderDetail;
    let (_, data) = open(ep, resp)?;
    let d = data_obj(ep, &data)?;
    let base_v = d.req("orderBaseInfo")?;
    let base_path = d.field_path("orderBaseInfo");
    let b = Obj::of(ep, &base_path, base_v)?;
    let pat_path = d.field_path("patientInfo");
    let (patient_name, card_type, card_no) = match d.map.get("patientInfo") {
        None | Some(Value::Null) => Default::default(),
        Some(v) => {
            let p = Obj::of(ep, &pat_path, v)?;
            (
                p.string_or_empty("patientName")?,
                p.string_or_empty("cardType")?,
                p.string_or_empty("cardNo")?,
            )
        }
    };
    Ok(OrderDetail {
        order_no: d.string("orderNo")?,
        status: OrderStatus::from(d.string("orderStatus")?),
        status_view: d.string_or_empty("orderStatusView")?,
        order_time: d.string_or_empty("orderTime")?,
        can_cancel: d.bool_or("canCancel", false)?,
        hos_code: b.string_or_empty("hosCode")?,
        hos_name: b.string_or_empty("hosName")?,
        dept_code: b.string_or_empty("deptCode")?,
        dept_name: b.string_or_empty("deptName")?,
        doctor_name: b.string_or_empty("doctorName")?,
        doctor_title: b.string_or_empty("doctorTitle")?,
        service_fee: b.string_or_empty("serviceFee")?,
        visit_time_tips: b.string_or_empty("visitTimeTips")?.trim().to_string(),
        period_view: b.string_or_empty("periodView")?,
        take_place_tips: b.string_or_empty("takePlaceTips")?,
        patient_name,
        card_type,
        card_no,
    })
}

/// Reads `order/cancel`: `Ok(())` when cancelled.
pub fn parse_order_cancel(resp: &HttpResponse) -> Result<(), Error> {
    open(Endpoint::OrderCancel, resp).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("08:30"), Some(510));
        assert_eq!(parse_time_of_day("20:00:00"), Some(1200));
        assert_eq!(parse_time_of_day("24:00"), None);
        assert_eq!(parse_time_of_day("8点半"), None);
        assert_eq!(parse_time_of_day("08:30:00:00"), None);
    }

    #[test]
    fn open_enums_keep_unknown_values() {
        assert_eq!(Status::from("AVAILABLE"), Status::Available);
        let s = Status::from("HOLIDAY");
        assert_eq!(s, Status::Unknown("HOLIDAY".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"HOLIDAY\"");
        let back: Status = serde_json::from_str("\"SOLD_OUT\"").unwrap();
        assert_eq!(back, Status::SoldOut);
    }
}
