//! 浙里办 health-check reservation sync (seed 004, platforms.md): here the user is a
//! hospital's health-check centre that pulls the reservations people made on 浙里办,
//! keeps them, acknowledges them and marks people as arrived.
//!
//! Same three files as every platform:
//! - this file: the reservation as stored ([`Reservation`]), the dictionaries and the
//!   check of each delivered record against them ([`validate`] → a [`Reservation`] or a
//!   [`Reject`] with the reason in words), the front desk's masked view and its CSV;
//! - [`site`]: the four endpoints' requests (every body AES-128-ECB/PKCS5 + standard
//!   base64 under the platform-issued key, the token in header `ACCESS-TOKEN`) and the
//!   readers of their replies;
//! - [`watcher`]: the sans-IO sync round — token (cached, renewed on expiry or on an
//!   auth error mid-batch) → pull → *the host stores the batch durably* → ack (by
//!   `requestId` when every record was stored, by `serialNumber` for each stored one
//!   when some were rejected) → pull again — and the arrival flow, plus the pace of the
//!   sync loop (floor, jitter, backoff).
//!
//! A record is never acknowledged before the host says it is stored: that ordering is
//! in the step machine, not left to the caller.

pub mod site;
pub mod watcher;

use crate::date::Date;
use crate::idcard;
use crate::patient::{mask_id, mask_name, mask_phone};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `cardType` (证件类型): 1 身份证, 2 护照, 3 台胞证, 4 港澳通行证, 5 户口簿, 6 军官证,
/// 7 驾驶证, 8 出生医学证明, 99 其他.
pub const CARD_TYPES: [(u8, &str); 9] = [
    (1, "身份证"),
    (2, "护照"),
    (3, "台胞证"),
    (4, "港澳通行证"),
    (5, "户口簿"),
    (6, "军官证"),
    (7, "驾驶证"),
    (8, "出生医学证明"),
    (99, "其他"),
];

/// `orderStatus` 1: 已预约未传输 (a new reservation).
pub const STATUS_NEW: u8 = 1;
/// `orderStatus` 2: 改约 (rescheduled).
pub const STATUS_RESCHEDULED: u8 = 2;
/// `orderStatus` 5: 已取消 (cancelled).
pub const STATUS_CANCELLED: u8 = 5;

/// The name of a `cardType`.
pub fn card_type_name(code: u8) -> &'static str {
    CARD_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("?", |(_, n)| n)
}

/// The name of an `orderStatus`.
pub fn status_name(status: u8) -> &'static str {
    match status {
        STATUS_NEW => "已预约",
        STATUS_RESCHEDULED => "已改约",
        STATUS_CANCELLED => "已取消",
        _ => "?",
    }
}

/// One reservation as delivered and checked. The host stores it as JSON keyed by
/// `serial`; it holds an ID number and a phone in full, so it never leaves the host
/// unmasked (see [`ReservationView`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// `serialNumber`, the platform's reservation id.
    pub serial: String,
    /// `erhcNo`, the health card number (may be empty).
    #[serde(default)]
    pub erhc_no: String,
    pub name: String,
    pub card_type: u8,
    pub idcard: String,
    /// `birthdate`, when given.
    #[serde(default)]
    pub birthdate: Option<Date>,
    /// `sexCode`: 1 男, 2 女.
    pub sex: u8,
    #[serde(default)]
    pub pregnant: bool,
    /// `married`: 1 未婚, 2 已婚; absent when not given.
    #[serde(default)]
    pub married: Option<u8>,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub hospital_code: String,
    #[serde(default)]
    pub hospital_name: String,
    pub check_date: Date,
    #[serde(default)]
    pub package_id: String,
    #[serde(default)]
    pub package_name: String,
    #[serde(default)]
    pub add_ids: String,
    #[serde(default)]
    pub add_names: String,
    /// `examinationFee` in fen (1/100 yuan), read from its two-decimal text.
    pub fee_cents: i64,
    /// `orderStatus`: [`STATUS_NEW`], [`STATUS_RESCHEDULED`] or [`STATUS_CANCELLED`].
    pub status: u8,
    #[serde(default)]
    pub pay_type: String,
    #[serde(default)]
    pub data_sources: String,
}

impl Reservation {
    /// The fee as yuan text with two decimals (`2881.00`).
    pub fn fee_text(&self) -> String {
        format!("{}.{:02}", self.fee_cents / 100, self.fee_cents % 100)
    }

    /// What makes two deliveries of one reservation "the same": every field, in a
    /// stable text. A re-delivery after a crash has the same fingerprint and changes
    /// nothing; a reschedule or a cancellation has another.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A delivered record that failed the dictionaries or misses a required field. It is
/// kept for a person to look at and never acknowledged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reject {
    /// `serialNumber`, when the record has one.
    pub serial: Option<String>,
    /// Every problem, in plain words (`cardType 0 is not in the dictionary …`).
    pub reason: String,
    /// The record as delivered (without `requestId`), for the person to read.
    pub raw: Value,
}

/// A text field: strings are trimmed; numbers are taken as their text; `null`, absent
/// and blank are `None`.
fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A dictionary code given as a number (`1`) or as its text (`"1"`).
fn code(m: &Map<String, Value>, key: &str) -> Result<Option<u8>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let t = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                other => return Err(format!("{key} {other} is not a code")),
            };
            t.parse::<u8>()
                .map(Some)
                .map_err(|_| format!("{key} “{t}” is not a code"))
        }
    }
}

/// `examinationFee` (a number or its text, at most two decimals) in fen.
fn fee_cents(v: &Value) -> Result<i64, String> {
    let t = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => return Err(format!("examinationFee {other} is not an amount")),
    };
    let bad = || format!("examinationFee “{t}” is not an amount in yuan");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return Err(bad());
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err(bad());
    }
    let mut cents = whole.parse::<i64>().map_err(|_| bad())? * 100;
    let f2: String = frac.chars().chain("00".chars()).take(2).collect();
    cents += f2.parse::<i64>().map_err(|_| bad())?;
    Ok(cents)
}

/// The longest value of each text field, from the seed's field table.
const MAX_LEN: [(&str, usize); 14] = [
    ("serialNumber", 50),
    ("erhcNo", 64),
    ("name", 20),
    ("idcard", 30),
    ("mobile", 15),
    ("hospitalCode", 30),
    ("hospitalName", 50),
    ("hospitalPackageId", 32),
    ("hospitalPackageName", 100),
    ("addCombinationId", 1000),
    ("addCombinationName", 2000),
    ("payType", 20),
    ("dataSources", 20),
    ("requestId", 32),
];

/// Checks one delivered record (a JSON object of the `sync/order` result) against the
/// seed's dictionaries and field table: a [`Reservation`], or a [`Reject`] listing
/// every problem.
pub fn validate(record: &Value) -> Result<Reservation, Reject> {
    // The record as delivered, for a reject (cloned only then).
    let raw = || {
        let mut raw = record.clone();
        if let Some(o) = raw.as_object_mut() {
            o.remove("requestId");
        }
        raw
    };
    let Some(m) = record.as_object() else {
        return Err(Reject {
            serial: None,
            reason: format!("the record is not an object: {}", short(record)),
            raw: raw(),
        });
    };
    let mut problems: Vec<String> = Vec::new();
    let serial = text(m, "serialNumber");
    let mut need = |key: &str, what: &str| {
        let v = text(m, key);
        if v.is_none() {
            problems.push(format!("{key} ({what}) is missing"));
        }
        v.unwrap_or_default()
    };
    let serial_v = need("serialNumber", "平台预约ID");
    let name = need("name", "姓名");
    let idcard = need("idcard", "证件号码");
    let check_text = need("checkDate", "预约体检日期");
    for (key, max) in MAX_LEN {
        if let Some(v) = text(m, key) {
            if v.chars().count() > max {
                problems.push(format!("{key} is longer than {max} characters"));
            }
        }
    }
    let card_type = match code(m, "cardType") {
        Ok(Some(c)) if CARD_TYPES.iter().any(|(k, _)| *k == c) => c,
        Ok(Some(c)) => {
            problems.push(format!("cardType {c} is not in the dictionary (1–8 or 99)"));
            0
        }
        Ok(None) => {
            problems.push("cardType (证件类型) is missing".into());
            0
        }
        Err(e) => {
            problems.push(format!("{e} (dictionary: 1–8 or 99)"));
            0
        }
    };
    let sex = match code(m, "sexCode") {
        Ok(Some(c @ (1 | 2))) => c,
        Ok(Some(c)) => {
            problems.push(format!("sexCode {c} is not in the dictionary (1 男, 2 女)"));
            0
        }
        Ok(None) => {
            problems.push("sexCode (性别) is missing".into());
            0
        }
        Err(e) => {
            problems.push(format!("{e} (dictionary: 1 男, 2 女)"));
            0
        }
    };
    let married = match code(m, "married") {
        Ok(Some(c @ (1 | 2))) => Some(c),
        Ok(None) => None,
        Ok(Some(c)) => {
            problems.push(format!(
                "married {c} is not in the dictionary (1 未婚, 2 已婚)"
            ));
            None
        }
        Err(e) => {
            problems.push(format!("{e} (dictionary: 1 未婚, 2 已婚)"));
            None
        }
    };
    let status = match code(m, "orderStatus") {
        Ok(Some(c @ (STATUS_NEW | STATUS_RESCHEDULED | STATUS_CANCELLED))) => c,
        Ok(Some(c)) => {
            problems.push(format!(
                "orderStatus {c} is not in the dictionary (1 已预约, 2 改约, 5 已取消)"
            ));
            0
        }
        Ok(None) => {
            problems.push("orderStatus (预约状态) is missing".into());
            0
        }
        Err(e) => {
            problems.push(format!("{e} (dictionary: 1, 2 or 5)"));
            0
        }
    };
    let pregnant = match m.get("isPregnant") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(other) => {
            problems.push(format!("isPregnant {} is not true or false", short(other)));
            false
        }
    };
    let check_date = match Date::parse(&check_text) {
        Ok(d) => Some(d),
        Err(_) if check_text.is_empty() => None,
        Err(_) => {
            problems.push(format!("checkDate “{check_text}” is not a date"));
            None
        }
    };
    let birthdate = match text(m, "birthdate") {
        None => None,
        Some(b) => match Date::parse(b.get(..10).unwrap_or(&b)) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(format!("birthdate “{b}” is not a date"));
                None
            }
        },
    };
    if card_type == 1 && !idcard.is_empty() {
        match idcard::parse(&idcard) {
            Err(e) => problems.push(format!("idcard (身份证): {e}")),
            Ok(card) => {
                if birthdate.is_some_and(|b| b != card.birthday) {
                    problems.push("birthdate does not agree with the ID number".into());
                }
                if sex != 0 && (sex == 1) != card.male {
                    problems.push("sexCode does not agree with the ID number".into());
                }
            }
        }
    }
    let fee = match m.get("examinationFee") {
        None | Some(Value::Null) => 0,
        Some(v) => fee_cents(v).unwrap_or_else(|e| {
            problems.push(e);
            0
        }),
    };
    if !problems.is_empty() {
        return Err(Reject {
            serial,
            reason: problems.join("; "),
            raw: raw(),
        });
    }
    let t = |k: &str| text(m, k).unwrap_or_default();
    Ok(Reservation {
        serial: serial_v,
        erhc_no: t("erhcNo"),
        name,
        card_type,
        idcard: idcard.to_ascii_uppercase(),
        birthdate,
        sex,
        pregnant,
        married,
        mobile: t("mobile"),
        hospital_code: t("hospitalCode"),
        hospital_name: t("hospitalName"),
        // Present: a missing or bad date was a problem above.
        check_date: check_date.unwrap_or(Date {
            year: 1970,
            month: 1,
            day: 1,
        }),
        package_id: t("hospitalPackageId"),
        package_name: t("hospitalPackageName"),
        add_ids: t("addCombinationId"),
        add_names: t("addCombinationName"),
        fee_cents: fee,
        status,
        pay_type: t("payType"),
        data_sources: t("dataSources"),
    })
}

/// At most 120 characters of a JSON value, for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let mut t: String = s.chars().take(120).collect();
        t.push('…');
        t
    } else {
        s
    }
}

/// Whether a person has arrived, and whether the platform was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalState {
    /// Recorded here; the platform is told on the next sync (it could not be reached).
    Pending,
    /// The platform accepted the arrival.
    Sent,
    /// The platform refused it (`arrival_error` says why); not tried again.
    Refused,
}

impl ArrivalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalState::Pending => "pending",
            ArrivalState::Sent => "sent",
            ArrivalState::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<ArrivalState> {
        match s {
            "pending" => Some(ArrivalState::Pending),
            "sent" => Some(ArrivalState::Sent),
            "refused" => Some(ArrivalState::Refused),
            _ => None,
        }
    }
}

/// A reservation as the front desk sees it: the name in full (the person at the desk
/// greets them by it), the ID number and phone masked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReservationView {
    pub serial: String,
    pub name: String,
    /// 身份证, 护照, …
    pub card_type: String,
    /// `330***********0014`.
    pub id_masked: String,
    /// 男 / 女.
    pub sex: String,
    /// `133****5663`.
    pub mobile_masked: String,
    pub check_date: Date,
    pub package: String,
    pub add_ons: String,
    /// Yuan, two decimals.
    pub fee: String,
    /// 1, 2 or 5.
    pub status: u8,
    /// 已预约 / 已改约 / 已取消.
    pub status_name: String,
    /// Beijing `yyyy-MM-dd HH:mm:ss`, once arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<ArrivalState>,
    /// Why telling the platform of the arrival failed, while it is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_error: Option<String>,
    /// Unix ms this reservation was first stored and last changed.
    pub first_seen_at: i64,
    pub updated_at: i64,
}

impl ReservationView {
    /// The view of a stored reservation and its arrival.
    pub fn of(
        r: &Reservation,
        arrived_at: Option<String>,
        arrival: Option<ArrivalState>,
        arrival_error: Option<String>,
        first_seen_at: i64,
        updated_at: i64,
    ) -> ReservationView {
        ReservationView {
            serial: r.serial.clone(),
            name: r.name.clone(),
            card_type: card_type_name(r.card_type).to_string(),
            id_masked: mask_id(&r.idcard),
            sex: if r.sex == 1 { "男" } else { "女" }.to_string(),
            mobile_masked: mask_phone(&r.mobile),
            check_date: r.check_date,
            package: r.package_name.clone(),
            add_ons: r.add_names.clone(),
            fee: r.fee_text(),
            status: r.status,
            status_name: status_name(r.status).to_string(),
            arrived_at,
            arrival,
            arrival_error,
            first_seen_at,
            updated_at,
        }
    }

    /// Whether the front desk's search text matches: part of the name, the serial
    /// number, or the ID number as shown masked (its visible head or tail, e.g. `0014`
    /// or `330`, or the masked text itself).
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim();
        if q.is_empty() {
            return true;
        }
        let q_upper = q.to_uppercase();
        self.name.contains(q)
            || self.serial.to_uppercase().contains(&q_upper)
            || self.id_masked.to_uppercase().contains(&q_upper)
            || {
                // The visible parts of the masked ID: head and tail.
                let visible: Vec<&str> = self
                    .id_masked
                    .split('*')
                    .filter(|s| !s.is_empty())
                    .collect();
                visible.iter().any(|v| v.to_uppercase().contains(&q_upper))
            }
    }
}

/// The front desk's CSV export (UTF-8 with a BOM so spreadsheet programs read the
/// Chinese; RFC 4180 quoting; ID numbers and phones masked as on screen).
pub fn csv(rows: &[ReservationView]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("serialNumber,name,cardType,idcard,sex,mobile,checkDate,package,addOns,fee,status,arrivedAt\r\n");
    for r in rows {
        let cells = [
            r.serial.as_str(),
            r.name.as_str(),
            r.card_type.as_str(),
            r.id_masked.as_str(),
            r.sex.as_str(),
            r.mobile_masked.as_str(),
            &r.check_date.to_string(),
            r.package.as_str(),
            r.add_ons.as_str(),
            r.fee.as_str(),
            r.status_name.as_str(),
            r.arrived_at.as_deref().unwrap_or(""),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `=`,
/// `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
fn csv_cell(s: &str) -> String {
    let mut v = s.to_string();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// What changed for one reservation when a delivery was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// First seen.
    New,
    /// `orderStatus` 2, or the check date moved.
    Rescheduled,
    /// `orderStatus` 5.
    Cancelled,
    /// Another field changed (name, package, …).
    Updated,
}

impl Change {
    /// The history kind (`zlb_new`, …), also the event kind that notifies.
    pub fn kind(self) -> &'static str {
        match self {
            Change::New => "zlb_new",
            Change::Rescheduled => "zlb_rescheduled",
            Change::Cancelled => "zlb_cancelled",
            Change::Updated => "zlb_updated",
        }
    }

    /// How a stored reservation `old` (if any) becomes `new`; `None` when the delivery
    /// is a repeat of what is stored.
    pub fn between(old: Option<&Reservation>, new: &Reservation) -> Option<Change> {
        match old {
            None if new.status == STATUS_CANCELLED => Some(Change::Cancelled),
            None => Some(Change::New),
            Some(o) if o == new => None,
            Some(_) if new.status == STATUS_CANCELLED => Some(Change::Cancelled),
            Some(o) if new.status == STATUS_RESCHEDULED || o.check_date != new.check_date => {
                Some(Change::Rescheduled)
            }
            Some(_) => Some(Change::Updated),
        }
    }

    /// One line for the history and notifications; the name masked (张*明), never the
    /// ID number or phone.
    pub fn describe(self, old: Option<&Reservation>, new: &Reservation) -> String {
        let who = mask_name(&new.name);
        let pkg = if new.package_name.is_empty() {
            String::new()
        } else {
            format!(" · {}", new.package_name)
        };
        match self {
            Change::New => format!("新预约 {} · {who} · {}{pkg}", new.serial, new.check_date),
            Change::Rescheduled => match old {
                Some(o) if o.check_date != new.check_date => format!(
                    "改约 {} · {who} · {} → {}{pkg}",
                    new.serial, o.check_date, new.check_date
                ),
                _ => format!("改约 {} · {who} · {}{pkg}", new.serial, new.check_date),
            },
            Change::Cancelled => {
                format!("取消预约 {} · {who} · {}{pkg}", new.serial, new.check_date)
            }
            Change::Updated => format!(
                "预约信息更新 {} · {who} · {}{pkg}",
                new.serial, new.check_date
            ),
        }
    }
}

/// The message for the notification channels about 浙里办 changes: one change
/// (`lines` has one entry) or a digest. `lines` come from [`Change::describe`]: masked
/// names, never an ID number or phone.
pub fn notice(
    id: &str,
    kind: &str,
    subject: &str,
    lines: &[String],
    at: i64,
) -> crate::notify::Notice {
    use crate::notify::render::html_escape;
    let mut text = String::new();
    let mut html = format!("<p>{}</p><ul>", html_escape(subject));
    for l in lines {
        text.push_str("· ");
        text.push_str(l);
        text.push('\n');
        html.push_str("<li>");
        html.push_str(&html_escape(l));
        html.push_str("</li>");
    }
    html.push_str("</ul><p>Haoyuan · 浙里办 体检预约同步</p>");
    text.push_str("\nHaoyuan · 浙里办 体检预约同步\n");
    crate::notify::Notice {
        id: id.to_string(),
        kind: kind.to_string(),
        watch_id: ZLB_WATCH_ID.to_string(),
        subject: subject.to_string(),
        text,
        html,
        url: None,
        at,
    }
}

/// An arrival time typed at the desk, as the platform's `yyyy-MM-dd HH:mm:ss`:
/// `HH:mm[:ss]` (on `today`), or `yyyy-MM-dd HH:mm[:ss]` (a `T` instead of the space
/// is accepted).
pub fn parse_arrival_time(s: &str, today: Date) -> Result<String, String> {
    let s = s.trim();
    let bad = || format!("“{s}” is not a time: write HH:mm or yyyy-MM-dd HH:mm");
    let (date, time) = match s.len() {
        5 | 8 => (today, s),
        _ => {
            let d = Date::parse(s.get(..10).ok_or_else(bad)?).map_err(|_| bad())?;
            let rest = &s[10..];
            let t = rest
                .strip_prefix(' ')
                .or_else(|| rest.strip_prefix('T'))
                .ok_or_else(bad)?;
            (d, t)
        }
    };
    let parts: Vec<&str> = time.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let n = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    if n(0) > 23 || n(1) > 59 || n(2) > 59 {
        return Err(bad());
    }
    Ok(format!("{date} {:02}:{:02}:{:02}", n(0), n(1), n(2)))
}

/// The `watch_id` under which 浙里办 sync events are recorded in the history.
pub const ZLB_WATCH_ID: &str = "zlb";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn record() -> Value {
        json!({
            "requestId": "d5dfbba53ff87920fc77c1bffea9ea25",
            "serialNumber": "ZJ109-35",
            "erhcNo": "50043697C1E58FAD22098794D872CDC796F7F2F4E933F8A1682BE7CA3994AFEF",
            "name": "侧大出",
            "cardType": 1,
            "idcard": "330482199309140014",
            "birthdate": "1993-09-14",
            "sexCode": 1,
            "isPregnant": false,
            "married": 1,
            "mobile": "13345815663",
            "hospitalCode": "100637",
            "hospitalName": "杭州市第三人民医院体检中心",
            "checkDate": "2021-04-06",
            "hospitalPackageId": "RM16",
            "hospitalPackageName": "体检E套餐(男士)",
            "addCombinationId": "RM0102,RM0206,RM0406,RM0601",
            "addCombinationName": "临床检查项目,临床检验项目,辅助检查项目,其他",
            "examinationFee": 2881.00,
            "orderStatus": 1,
            "payType": 0,
            "dataSources": "益往健康"
        })
    }

    #[test]
    fn the_seed_example_record_is_read() {
        let r = validate(&record()).unwrap();
        assert_eq!(r.serial, "ZJ109-35");
        assert_eq!(r.fee_cents, 288_100);
        assert_eq!(r.fee_text(), "2881.00");
        assert_eq!(r.check_date.to_string(), "2021-04-06");
        assert_eq!(r.status, STATUS_NEW);
        assert_eq!(r.pay_type, "0");
        let v = ReservationView::of(&r, None, None, None, 1, 1);
        assert_eq!(v.id_masked, "330***********0014");
        assert_eq!(v.mobile_masked, "133****5663");
        assert!(v.matches("0014") && v.matches("侧大") && v.matches("zj109-35"));
        assert!(!v.matches("0015"));
    }

    #[test]
    fn codes_as_strings_are_the_same_record() {
        let mut s = record();
        for k in ["cardType", "sexCode", "married", "orderStatus", "payType"] {
            let t = s[k].to_string();
            s[k] = Value::String(t);
        }
        s["examinationFee"] = json!("2881.00");
        assert_eq!(validate(&s).unwrap(), validate(&record()).unwrap());
    }

    #[test]
    fn each_broken_dictionary_or_missing_field_is_named() {
        let cases: [(&str, Value, &str); 9] = [
            ("cardType", json!(0), "cardType 0 is not in the dictionary"),
            ("sexCode", json!(3), "sexCode 3"),
            ("married", json!("9"), "married 9"),
            ("orderStatus", json!(3), "orderStatus 3"),
            ("isPregnant", json!("是"), "isPregnant"),
            ("idcard", json!("330482199309140015"), "does not match"),
            (
                "checkDate",
                json!("2021-02-30"),
                "checkDate “2021-02-30” is not a date",
            ),
            ("examinationFee", json!("待定"), "examinationFee"),
            ("name", Value::Null, "name (姓名) is missing"),
        ];
        for (key, value, expected) in cases {
            let mut r = record();
            r[key] = value;
            let e = validate(&r).unwrap_err();
            assert!(e.reason.contains(expected), "{key}: {}", e.reason);
            assert_eq!(e.serial.as_deref(), Some("ZJ109-35"));
            assert!(e.raw.get("requestId").is_none());
        }
        let mut r = record();
        r.as_object_mut().unwrap().remove("serialNumber");
        let e = validate(&r).unwrap_err();
        assert_eq!(e.serial, None);
        assert!(e.reason.contains("serialNumber"));
        assert!(validate(&json!([1])).is_err());
    }

    #[test]
    fn changes_between_deliveries() {
        let a = validate(&record()).unwrap();
        assert_eq!(Change::between(None, &a), Some(Change::New));
        assert_eq!(Change::between(Some(&a), &a.clone()), None);
        let mut b = a.clone();
        b.status = STATUS_RESCHEDULED;
        b.check_date = b.check_date.add_days(3);
        assert_eq!(Change::between(Some(&a), &b), Some(Change::Rescheduled));
        assert!(Change::Rescheduled
            .describe(Some(&a), &b)
            .contains("2021-04-06 → 2021-04-09"));
        let mut c = b.clone();
        c.status = STATUS_CANCELLED;
        assert_eq!(Change::between(Some(&b), &c), Some(Change::Cancelled));
        let line = Change::Cancelled.describe(Some(&b), &c);
        assert!(line.contains("侧*出") && !line.contains("330482"), "{line}");
    }

    #[test]
    fn arrival_times_typed_at_the_desk() {
        let today = Date::parse("2026-11-28").unwrap();
        assert_eq!(
            parse_arrival_time("09:05", today).unwrap(),
            "2026-11-28 09:05:00"
        );
        assert_eq!(
            parse_arrival_time("2026-11-27T18:30:15", today).unwrap(),
            "2026-11-27 18:30:15"
        );
        for bad in [
            "9:05",
            "25:00",
            "2026-02-30 08:00",
            "tomorrow",
            "2026-11-28",
        ] {
            assert!(parse_arrival_time(bad, today).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut r = validate(&record()).unwrap();
        r.package_name = "=HYPERLINK(\"x\"),套餐".into();
        let v = ReservationView::of(&r, Some("2021-04-06 08:30:00".into()), None, None, 1, 1);
        let text = csv(&[v]);
        assert!(text.starts_with('\u{feff}'));
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\"),套餐\""), "{line}");
        assert!(line.contains("330***********0014") && !line.contains("330482199309140014"));
        assert!(line.ends_with("2021-04-06 08:30:00"));
    }
}
