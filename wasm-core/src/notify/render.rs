//! Event → [`Notice`]: the subject, plain-text and HTML bodies of a message, in Chinese
//! or English, rendered once when the event is recorded and kept in the outbox.
//!
//! The subject says what happened and for whom, e.g.
//! `114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功`: the watch's target
//! summary, the slot's date and period (and train) when the event names them, then the
//! outcome. The bodies carry the event's sentence, the details found in its `data`, the
//! booking page's address, the event time (Beijing time) and the message id (so a person
//! can match a repeat, and a DingTalk keyword `号源` always matches).
//!
//! # What is printed from `entry.data`
//!
//! Only these fields (snake_case or camelCase), and nothing else, so an unexpected field
//! can never leak:
//!
//! | field | shown as |
//! |---|---|
//! | `date`, `period` (`morning`/`afternoon`/`evening`), `train` | in the subject and a "date" line |
//! | `visit_time` / `visitTime` | visit time (in the subject when there is no date) |
//! | `place` / `location` | where to go |
//! | `doctor` / `doctor_name`, `title` / `doctor_title` | doctor |
//! | `fee` / `amount` | fee, in yuan |
//! | `seat` / `seat_type` | seat (12306) |
//! | `patient` / `patient_name` (a string, or an object with `name`, `id_no`, `phone`) | name masked (`张*明`) |
//! | `id_no` / `idNo` / `patient_id_no` / `id_card` … | masked ID number (`1101**********002X`) |
//! | `phone` / `mobile` / `patient_phone` … | masked phone (`138****5678`) |
//! | `card` / `card_no` / `cardNo` / `patient_card` … | masked card (`****1234`) |
//! | `order_no` / `orderNo` / `order_id` / `orderId` | order number |
//! | `pay_deadline` / `payDeadline` | pay-by time |
//! | `reason` / `error` | reason (failures) |
//! | `synced`, `failed` | counts (sync results) |
//! | `url` (http/https only) | the link to act on |
//!
//! Masking: values of ID, card and phone fields are always masked; free text (the event
//! sentence, reasons, names, visit times and places) is scanned and any ID-number-like run (17 digits + digit/X
//! with a plausible birth date), 11-digit mobile number or 16–19-digit card-like number is
//! masked too. No secret is ever an input here (settings are not passed in).

use super::{Lang, Notice};
use crate::date::Date;
use crate::protocol::HistoryEntry;
use crate::watch::{Platform, Watch};
use serde_json::Value;

/// Renders the message for a history entry. `id` is the outbox message id (stable across
/// retries); `watch` is the entry's watch when it still exists.
pub fn render(id: &str, watch: Option<&Watch>, entry: &HistoryEntry, lang: Lang) -> Notice {
    let data = &entry.data;
    let platform = watch
        .map(|w| w.platform())
        .or_else(|| str_field(data, &["platform"]).and_then(|p| Platform::from_id(&p)));

    let who = match watch {
        Some(w) => w.target.summary(),
        None => str_field(data, &["summary"])
            .map(|s| scrub(&s))
            .or_else(|| platform.map(|p| p.display_name().to_string()))
            .unwrap_or_else(|| match lang {
                Lang::Zh => "号源 Haoyuan".to_string(),
                Lang::En => "Haoyuan".to_string(),
            }),
    };
    let when = when_part(data, lang);
    let outcome = outcome_word(&entry.kind, platform, lang);

    let mut parts = vec![who.clone()];
    if !when.is_empty() {
        parts.push(when.clone());
    }
    parts.push(outcome.clone());
    let subject = one_line(&parts.join(" · "));

    let rows = detail_rows(data, lang);
    let url = str_field(data, &["url"])
        .filter(|u| is_http_url(u))
        .map(|u| scrub(&u));
    let message = scrub(entry.message.trim());
    let label = watch
        .map(|w| scrub(w.label.trim()))
        .filter(|l| !l.is_empty());

    let mut footer_rows: Vec<(String, String)> = Vec::new();
    if let Some(l) = &label {
        footer_rows.push((t(lang, "监控", "Watch").into(), l.clone()));
    }
    footer_rows.push((
        t(lang, "事件时间", "Event time").into(),
        format!("{}{}", beijing_time(entry.at), beijing_suffix(lang)),
    ));

    let advice = advice(&entry.kind, lang);
    let text = text_body(
        &message,
        advice,
        &rows,
        url.as_deref(),
        &footer_rows,
        id,
        lang,
    );
    let html = html_body(
        &subject,
        &entry.kind,
        &message,
        advice,
        &rows,
        url.as_deref(),
        &footer_rows,
        id,
        lang,
    );

    Notice {
        id: id.to_string(),
        kind: entry.kind.clone(),
        watch_id: entry.watch_id.clone(),
        subject,
        text,
        html,
        url,
        at: entry.at,
    }
}

/// A "this is a test" message for the channels' "send test" buttons, at Unix ms `at`.
pub fn test_notice(id: &str, lang: Lang, at: i64) -> Notice {
    let subject = t(lang, "号源 Haoyuan · 测试消息", "Haoyuan · Test message").to_string();
    let message = t(
        lang,
        "这是一条测试消息。收到它，说明这个通知渠道设置正确；有号、预约成功或失败时，你会在这里收到通知。",
        "This is a test message. If you can read it, this channel is set up correctly: slots found, bookings made or failed will be told here.",
    );
    let footer_rows = vec![(
        t(lang, "发送时间", "Sent at").to_string(),
        format!("{}{}", beijing_time(at), beijing_suffix(lang)),
    )];
    let text = text_body(message, None, &[], None, &footer_rows, id, lang);
    let html = html_body(
        &subject,
        "test",
        message,
        None,
        &[],
        None,
        &footer_rows,
        id,
        lang,
    );
    Notice {
        id: id.to_string(),
        kind: "test".to_string(),
        watch_id: String::new(),
        subject,
        text,
        html,
        url: None,
        at,
    }
}

/// Escapes text for HTML element content and quoted attribute values:
/// `& < > " '` become entities.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Masks a resident ID number: an 18-character number keeps its first 4 and last 4
/// characters (`1101**********002X`), as is usual on Chinese sites; other lengths keep
/// less (8–17: first 2 and last 2; shorter: nothing). Spaces are dropped first.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let n = chars.len();
    let (head, tail) = if n >= 15 {
        (4, 4)
    } else if n >= 8 {
        (2, 2)
    } else {
        (0, 0)
    };
    keep_ends(&chars, head, tail)
}

/// Masks a bank or medical card number: `****` and the last 4 characters
/// (`****1234`); spaces and dashes are dropped first; 4 or fewer characters: `****`.
pub fn mask_card(s: &str) -> String {
    let chars: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if chars.len() <= 4 {
        return "****".to_string();
    }
    let last: String = chars[chars.len() - 4..].iter().collect();
    format!("****{last}")
}

/// Masks a phone number: a mainland mobile (11 digits, after dropping spaces, dashes
/// and a `+86`/`86` prefix) becomes `138****5678`; anything else of 7 or more
/// characters keeps its first 3 and last 4; shorter ones are all `*`.
pub fn mask_phone(s: &str) -> String {
    let mut chars: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let text: String = chars.iter().collect();
    let stripped = text
        .strip_prefix("+86")
        .or_else(|| text.strip_prefix("86").filter(|r| r.len() == 11));
    if let Some(rest) = stripped {
        chars = rest.chars().collect();
    }
    let n = chars.len();
    if n == 11 {
        return keep_ends(&chars, 3, 4);
    }
    if n >= 7 {
        let head = 3.min(n - 4);
        return keep_ends(&chars, head, 4);
    }
    "*".repeat(n)
}

/// Masks a person's name: `张三` → `*三`, `张小明` → `张*明`, `欧阳小明` → `欧**明`;
/// one character is kept as is (nothing to hide that the context does not tell).
pub fn mask_name(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    match chars.len() {
        0 | 1 => chars.iter().collect(),
        2 => format!("*{}", chars[1]),
        _ => keep_ends(&chars, 1, 1),
    }
}

/// Masks personal numbers found in free text: runs of 17 digits + digit/X that look
/// like an ID number (plausible birth date), 11-digit mobile numbers (`1[3-9]…`) and
/// 16–19-digit card-like numbers. Everything else is kept.
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut run: String = chars[start..i].iter().collect();
        // An ID number may end in X.
        if run.len() == 17 && i < chars.len() && (chars[i] == 'X' || chars[i] == 'x') {
            run.push(chars[i]);
            i += 1;
        }
        let b = run.as_bytes();
        let masked = match run.len() {
            18 if plausible_birth(&run) => mask_id(&run),
            11 if b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) => mask_phone(&run),
            16..=19 => mask_card(&run),
            _ => run,
        };
        out.push_str(&masked);
    }
    out
}

// ---------------------------------------------------------------------------------

fn t<'a>(lang: Lang, zh: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    if head + tail >= n {
        return "*".repeat(n);
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Whether positions 6..14 of an 18-character run read as a birth date 1900–2099.
fn plausible_birth(run: &str) -> bool {
    if run.len() != 18 || !run.is_char_boundary(14) {
        return false;
    }
    let (y, m, d) = (&run[6..10], &run[10..12], &run[12..14]);
    (y.starts_with("19") || y.starts_with("20")) && Date::parse(&format!("{y}-{m}-{d}")).is_ok()
}

/// Collapses newlines and tabs into spaces (a subject is one line: no header injection).
fn one_line(s: &str) -> String {
    s.split(['\r', '\n', '\t'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_http_url(u: &str) -> bool {
    let lower = u.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The first of `names` present in `data` as a non-empty string or a number, as text.
fn str_field(data: &Value, names: &[&str]) -> Option<String> {
    let obj = data.as_object()?;
    names.iter().find_map(|n| match obj.get(*n)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(x) => Some(x.to_string()),
        _ => None,
    })
}

fn period_word(p: &str, lang: Lang) -> String {
    match p.to_ascii_lowercase().as_str() {
        "morning" | "am" => t(lang, "上午", "AM").to_string(),
        "afternoon" | "pm" => t(lang, "下午", "PM").to_string(),
        "evening" | "night" => t(lang, "晚上", "evening").to_string(),
        _ => scrub(p),
    }
}

/// What the person should do, for the kinds that need them to act.
fn advice(kind: &str, lang: Lang) -> Option<&'static str> {
    match kind {
        "outcome_unknown" => Some(t(
            lang,
            "号源不能确定订单是否已生成，因此不会再为这个监控提交订单。请到网站的“我的订单”里查看：如果有这笔订单，按订单就诊或支付；如果没有，可以自己重新预约。",
            "Haoyuan cannot tell whether the order was made, so it will not submit another one for this watch. Check your orders on the site: if the order is there, follow it (pay or attend); if it is not, you can book again yourself.",
        )),
        _ => None,
    }
}

/// `2026-12-03 上午` / `2026-12-03 G101`: date, period and train, those present; else
/// the visit time.
fn when_part(data: &Value, lang: Lang) -> String {
    let mut bits = Vec::new();
    if let Some(d) = str_field(data, &["date"]) {
        bits.push(scrub(&d));
    }
    if let Some(p) = str_field(data, &["period"]) {
        bits.push(period_word(&p, lang));
    }
    if let Some(tr) = str_field(data, &["train", "train_code", "trainCode"]) {
        bits.push(scrub(&tr));
    }
    if bits.is_empty() {
        if let Some(v) = str_field(data, &["visit_time", "visitTime"]) {
            bits.push(scrub(&v));
        }
    }
    one_line(&bits.join(" "))
}

/// The outcome word of a history kind.
fn outcome_word(kind: &str, platform: Option<Platform>, lang: Lang) -> String {
    let rail = platform == Some(Platform::Rail12306);
    let (zh, en) = match kind {
        "slot_seen" if rail => ("有票了", "Tickets available"),
        "slot_seen" => ("有号了", "Slot available"),
        "booking_sms" => ("需要短信验证码", "SMS code needed to book"),
        "booking_submitted" => ("已提交预约", "Booking submitted"),
        "booked" => ("已预约成功", "Booked"),
        "booking_failed" => ("预约失败", "Booking failed"),
        "outcome_unknown" => (
            "结果未知（请查看订单）",
            "Outcome unknown (check your orders)",
        ),
        "session_expired" => ("需要重新登录", "Login needed"),
        "sync_result" => ("同步结果", "Sync result"),
        "test" => ("测试消息", "Test message"),
        other => return one_line(&scrub(other)),
    };
    t(lang, zh, en).to_string()
}

/// What a field name says about its value's sensitivity.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sensitive {
    Id,
    Card,
    Phone,
    Name,
}

fn classify(name: &str) -> Option<Sensitive> {
    let n: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    if n.contains("idno") || n.contains("idcard") || n.contains("idnumber") || n.ends_with("certno")
    {
        Some(Sensitive::Id)
    } else if n.contains("card") {
        Some(Sensitive::Card)
    } else if n.contains("phone") || n.contains("mobile") || n.ends_with("tel") {
        Some(Sensitive::Phone)
    } else if n.starts_with("patient") {
        Some(Sensitive::Name)
    } else {
        None
    }
}

fn mask_as(kind: Sensitive, v: &str) -> String {
    match kind {
        Sensitive::Id => mask_id(v),
        Sensitive::Card => mask_card(v),
        Sensitive::Phone => mask_phone(v),
        Sensitive::Name => {
            // A "patient" field holding a number is masked as the number it looks like.
            let digits = v.chars().filter(char::is_ascii_digit).count();
            if digits >= 15 {
                mask_id(v)
            } else if digits >= 7 {
                mask_phone(v)
            } else {
                mask_name(&scrub(v))
            }
        }
    }
}

fn fee_text(data: &Value, lang: Lang) -> Option<String> {
    let obj = data.as_object()?;
    let v = ["fee", "amount"].iter().find_map(|k| obj.get(*k))?;
    let amount = match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e12 => format!("{}", f as i64),
            Some(f) => format!("{f:.2}"),
            None => n.to_string(),
        },
        Value::String(s) if !s.trim().is_empty() => {
            let s = scrub(s.trim());
            if s.contains('元') || s.contains('¥') || s.contains('￥') {
                return Some(s);
            }
            s
        }
        _ => return None,
    };
    Some(match lang {
        Lang::Zh => format!("{amount} 元"),
        Lang::En => format!("¥{amount}"),
    })
}

/// The labelled details printed from `data` (see the module doc).
fn detail_rows(data: &Value, lang: Lang) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let Some(obj) = data.as_object() else {
        return rows;
    };
    let mut push = |zh: &str, en: &str, v: String| {
        let v = one_line(&v);
        if !v.is_empty() {
            rows.push((t(lang, zh, en).to_string(), v));
        }
    };

    let mut date_bits = Vec::new();
    if let Some(d) = str_field(data, &["date"]) {
        date_bits.push(scrub(&d));
    }
    if let Some(p) = str_field(data, &["period"]) {
        date_bits.push(period_word(&p, lang));
    }
    if !date_bits.is_empty() {
        push("日期", "Date", date_bits.join(" "));
    }
    if let Some(v) = str_field(data, &["visit_time", "visitTime"]) {
        push("就诊时间", "Visit time", scrub(&v));
    }
    if let Some(p) = str_field(data, &["place", "location"]) {
        push("地点", "Place", scrub(&p));
    }
    if let Some(tr) = str_field(data, &["train", "train_code", "trainCode"]) {
        push("车次", "Train", scrub(&tr));
    }
    if let Some(seat) = str_field(data, &["seat", "seat_type", "seatType"]) {
        push("席别", "Seat", scrub(&seat));
    }
    let doctor = str_field(data, &["doctor", "doctor_name", "doctorName"]).map(|d| scrub(&d));
    let title = str_field(data, &["title", "doctor_title", "doctorTitle"]).map(|d| scrub(&d));
    match (doctor, title) {
        (Some(d), Some(ti)) => push("医生", "Doctor", format!("{d} ({ti})")),
        (Some(d), None) => push("医生", "Doctor", d),
        (None, Some(ti)) => push("医生", "Doctor", ti),
        (None, None) => {}
    }
    if let Some(fee) = fee_text(data, lang) {
        push("费用", "Fee", fee);
    }

    // The patient: a name (or an object with name / ID / phone), then any ID, phone and
    // card fields, each masked by what its name says it holds.
    let mut patient_name = None;
    let mut sensitive: Vec<(Sensitive, String)> = Vec::new();
    for (k, v) in obj {
        let Some(kind) = classify(k) else { continue };
        match v {
            Value::String(s) if !s.trim().is_empty() => {
                if kind == Sensitive::Name {
                    if patient_name.is_none() {
                        patient_name = Some(mask_as(kind, s.trim()));
                    }
                } else {
                    sensitive.push((kind, mask_as(kind, s.trim())));
                }
            }
            Value::Number(n) => {
                let s = n.to_string();
                let kind = if kind == Sensitive::Name {
                    Sensitive::Id
                } else {
                    kind
                };
                sensitive.push((kind, mask_as(kind, &s)));
            }
            Value::Object(inner) if kind == Sensitive::Name => {
                for (ik, iv) in inner {
                    let ikind = classify(ik).or(match ik.as_str() {
                        "name" | "realName" | "real_name" => Some(Sensitive::Name),
                        _ => None,
                    });
                    let (Some(ikind), Some(s)) = (
                        ikind,
                        match iv {
                            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        },
                    ) else {
                        continue;
                    };
                    if ikind == Sensitive::Name {
                        if patient_name.is_none() {
                            patient_name = Some(mask_as(ikind, &s));
                        }
                    } else {
                        sensitive.push((ikind, mask_as(ikind, &s)));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(n) = patient_name {
        push("就诊人", "Patient", n);
    }
    for kind in [Sensitive::Id, Sensitive::Phone, Sensitive::Card] {
        for (k, v) in &sensitive {
            if *k == kind {
                match kind {
                    Sensitive::Id => push("证件号", "ID number", v.clone()),
                    Sensitive::Phone => push("手机", "Phone", v.clone()),
                    Sensitive::Card => push("卡号", "Card", v.clone()),
                    Sensitive::Name => {}
                }
            }
        }
    }

    if let Some(o) = str_field(data, &["order_no", "orderNo", "order_id", "orderId"]) {
        push("订单号", "Order number", o);
    }
    if let Some(p) = str_field(data, &["pay_deadline", "payDeadline"]) {
        push("支付期限", "Pay by", scrub(&p));
    }
    if let Some(s) = str_field(data, &["synced"]) {
        push("已同步", "Synced", scrub(&s));
    }
    if let Some(f) = str_field(data, &["failed"]) {
        push("同步失败", "Failed", scrub(&f));
    }
    if let Some(r) = str_field(data, &["reason", "error"]) {
        push("原因", "Reason", scrub(&r));
    }
    rows
}

/// `2026-11-27 09:15`, Beijing time (UTC+8), from Unix ms.
pub fn beijing_time(ms: i64) -> String {
    const OFFSET_MIN: i64 = 8 * 60;
    let date = Date::from_unix_ms(ms, OFFSET_MIN as i32);
    let minute_of_day = (ms.div_euclid(60_000) + OFFSET_MIN).rem_euclid(24 * 60);
    format!("{date} {:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

fn beijing_suffix(lang: Lang) -> &'static str {
    t(lang, "（北京时间）", " (Beijing time)")
}

fn footer_line(id: &str, lang: Lang) -> String {
    format!("Haoyuan 号源 · {} {id}", t(lang, "消息编号", "message id"))
}

fn label_sep(lang: Lang) -> &'static str {
    t(lang, "：", ": ")
}

fn text_body(
    message: &str,
    advice: Option<&str>,
    rows: &[(String, String)],
    url: Option<&str>,
    footer_rows: &[(String, String)],
    id: &str,
    lang: Lang,
) -> String {
    let sep = label_sep(lang);
    let mut out = String::new();
    if !message.is_empty() {
        out.push_str(message);
        out.push_str("\n\n");
    }
    if let Some(a) = advice {
        out.push_str(a);
        out.push_str("\n\n");
    }
    for (k, v) in rows {
        out.push_str(&format!("{k}{sep}{v}\n"));
    }
    if !rows.is_empty() {
        out.push('\n');
    }
    if let Some(u) = url {
        out.push_str(&format!("{}{sep}{u}\n\n", t(lang, "打开", "Open")));
    }
    for (k, v) in footer_rows {
        out.push_str(&format!("{k}{sep}{v}\n"));
    }
    out.push_str("—\n");
    out.push_str(&footer_line(id, lang));
    out.push('\n');
    out
}

#[allow(clippy::too_many_arguments)]
fn html_body(
    subject: &str,
    kind: &str,
    message: &str,
    advice: Option<&str>,
    rows: &[(String, String)],
    url: Option<&str>,
    footer_rows: &[(String, String)],
    id: &str,
    lang: Lang,
) -> String {
    let accent = match kind {
        "booked" => "#1a7f37",
        "slot_seen" => "#0969da",
        "booking_failed" | "session_expired" | "booking_sms" => "#cf222e",
        "outcome_unknown" => "#9a6700",
        _ => "#24292f",
    };
    let html_lang = t(lang, "zh-CN", "en");
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n",
        html_escape(subject)
    ));
    out.push_str(
        "<body style=\"margin:0;padding:16px;font-family:-apple-system,'PingFang SC','Microsoft YaHei',Arial,sans-serif;font-size:14px;line-height:1.6;color:#24292f;background:#ffffff\">\n",
    );
    out.push_str(&format!(
        "<h2 style=\"margin:0 0 12px;font-size:18px;color:{accent}\">{}</h2>\n",
        html_escape(subject)
    ));
    if !message.is_empty() {
        let lines: Vec<String> = message.lines().map(html_escape).collect();
        out.push_str(&format!(
            "<p style=\"margin:0 0 12px\">{}</p>\n",
            lines.join("<br>")
        ));
    }
    if let Some(a) = advice {
        out.push_str(&format!(
            "<p style=\"margin:0 0 12px;padding:8px 12px;border-left:4px solid {accent};background:#fff8c5\">{}</p>\n",
            html_escape(a)
        ));
    }
    if !rows.is_empty() {
        out.push_str("<table style=\"border-collapse:collapse;margin:0 0 12px\">\n");
        for (k, v) in rows {
            out.push_str(&format!(
                "<tr><td style=\"padding:2px 16px 2px 0;color:#57606a;white-space:nowrap;vertical-align:top\">{}</td><td style=\"padding:2px 0\">{}</td></tr>\n",
                html_escape(k),
                html_escape(v)
            ));
        }
        out.push_str("</table>\n");
    }
    if let Some(u) = url {
        out.push_str(&format!(
            "<p style=\"margin:0 0 12px\"><a href=\"{}\" style=\"display:inline-block;padding:6px 14px;border-radius:6px;background:{accent};color:#ffffff;text-decoration:none\">{}</a></p>\n",
            html_escape(u),
            html_escape(t(lang, "打开预约页面", "Open the booking page"))
        ));
    }
    out.push_str("<p style=\"margin:16px 0 0;font-size:12px;color:#8c959f\">");
    let sep = label_sep(lang);
    for (k, v) in footer_rows {
        out.push_str(&format!("{}{sep}{}<br>", html_escape(k), html_escape(v)));
    }
    out.push_str(&html_escape(&footer_line(id, lang)));
    out.push_str("</p>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watch_114() -> Watch {
        serde_json::from_value(json!({
            "id": "w-1",
            "label": "协和眼科",
            "target": {"platform": "114yygh", "hos_code": "H1", "first_dept_code": "a",
                       "second_dept_code": "b", "hos_name": "北京协和医院", "dept_name": "眼科"},
            "window": {"start": "2026-11-27", "end": "2026-12-03"},
            "interval": {"seconds": 30}
        }))
        .unwrap()
    }

    fn watch_rail() -> Watch {
        serde_json::from_value(json!({
            "id": "w-2",
            "target": {"platform": "12306", "from_station": "VNP", "to_station": "AOH"},
            "window": {"start": "2026-11-27", "end": "2026-12-03"},
            "interval": {"seconds": 30}
        }))
        .unwrap()
    }

    fn entry(kind: &str, data: Value) -> HistoryEntry {
        HistoryEntry {
            seq: 7,
            watch_id: "w-1".into(),
            // 2026-11-27 09:15 Beijing time.
            at: 1_795_742_100_000,
            kind: kind.into(),
            message: "事件".into(),
            data,
        }
    }

    fn subject(w: Option<&Watch>, kind: &str, data: Value, lang: Lang) -> String {
        render("m-1", w, &entry(kind, data), lang).subject
    }

    #[test]
    fn subjects_say_what_happened_and_for_whom_in_both_languages() {
        let w = watch_114();
        let slot = json!({"date": "2026-12-03", "period": "morning"});
        let cases = [
            (
                "booked",
                Lang::Zh,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功",
            ),
            (
                "booked",
                Lang::En,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Booked",
            ),
            (
                "slot_seen",
                Lang::Zh,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 有号了",
            ),
            (
                "slot_seen",
                Lang::En,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Slot available",
            ),
            (
                "booking_submitted",
                Lang::Zh,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已提交预约",
            ),
            (
                "booking_submitted",
                Lang::En,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Booking submitted",
            ),
            (
                "booking_failed",
                Lang::Zh,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 预约失败",
            ),
            (
                "booking_failed",
                Lang::En,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Booking failed",
            ),
            (
                "outcome_unknown",
                Lang::Zh,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 结果未知（请查看订单）",
            ),
            (
                "outcome_unknown",
                Lang::En,
                "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Outcome unknown (check your orders)",
            ),
        ];
        for (kind, lang, want) in cases {
            assert_eq!(
                subject(Some(&w), kind, slot.clone(), lang),
                want,
                "{kind} {lang:?}"
            );
        }
        // No slot in the data: the date part is left out, not left empty.
        assert_eq!(
            subject(Some(&w), "session_expired", Value::Null, Lang::Zh),
            "114 · 北京协和医院 · 眼科 · 需要重新登录"
        );
        assert_eq!(
            subject(Some(&w), "session_expired", json!({}), Lang::En),
            "114 · 北京协和医院 · 眼科 · Login needed"
        );
        assert_eq!(
            subject(
                Some(&w),
                "slot_seen",
                json!({"date": "2026-12-03", "period": "afternoon"}),
                Lang::Zh
            ),
            "114 · 北京协和医院 · 眼科 · 2026-12-03 下午 · 有号了"
        );
        assert_eq!(
            subject(
                Some(&w),
                "slot_seen",
                json!({"period": "evening"}),
                Lang::En
            ),
            "114 · 北京协和医院 · 眼科 · evening · Slot available"
        );
        // Rail: tickets, with the train.
        assert_eq!(
            subject(
                Some(&watch_rail()),
                "slot_seen",
                json!({"date": "2026-12-03", "train": "G101"}),
                Lang::Zh
            ),
            "12306 · VNP → AOH · 2026-12-03 G101 · 有票了"
        );
        // A sync result has no watch: the platform names it.
        assert_eq!(
            subject(
                None,
                "sync_result",
                json!({"platform": "zheliban", "synced": 12}),
                Lang::Zh
            ),
            "浙里办 体检预约同步 · 同步结果"
        );
        assert_eq!(
            subject(None, "sync_result", json!({}), Lang::En),
            "Haoyuan · Sync result"
        );
    }

    #[test]
    fn bodies_carry_message_details_link_time_and_id() {
        let w = watch_114();
        let e = HistoryEntry {
            message: "已为你预约成功，请按时就诊。".into(),
            ..entry(
                "booked",
                json!({"date": "2026-12-03", "period": "morning", "doctor": "王医生", "title": "主任医师",
                       "fee": 50, "patient": "张小明", "orderNo": "YY20261203001",
                       "pay_deadline": "2026-11-27 09:45", "url": "https://www.114yygh.com/order/1",
                       "internal": "not printed"}),
            )
        };
        let n = render("msg-42", Some(&w), &e, Lang::Zh);
        assert_eq!(n.id, "msg-42");
        assert_eq!(n.kind, "booked");
        assert_eq!(n.watch_id, "w-1");
        assert_eq!(n.at, e.at);
        assert_eq!(n.url.as_deref(), Some("https://www.114yygh.com/order/1"));
        let want = "已为你预约成功，请按时就诊。\n\n\
                    日期：2026-12-03 上午\n\
                    医生：王医生 (主任医师)\n\
                    费用：50 元\n\
                    就诊人：张*明\n\
                    订单号：YY20261203001\n\
                    支付期限：2026-11-27 09:45\n\n\
                    打开：https://www.114yygh.com/order/1\n\n\
                    监控：协和眼科\n\
                    事件时间：2026-11-27 09:15（北京时间）\n\
                    —\n\
                    Haoyuan 号源 · 消息编号 msg-42\n";
        assert_eq!(n.text, want);
        assert!(!n.text.contains("not printed"));

        let en = render("msg-42", Some(&w), &e, Lang::En);
        assert!(en.text.contains("Fee: ¥50\n"), "{}", en.text);
        assert!(en.text.contains("Patient: 张*明\n"));
        assert!(en
            .text
            .contains("Event time: 2026-11-27 09:15 (Beijing time)\n"));
        assert!(en.text.ends_with("Haoyuan 号源 · message id msg-42\n"));

        assert!(n
            .html
            .contains("<td style=\"padding:2px 0\">YY20261203001</td>"));
        assert!(n.html.contains("href=\"https://www.114yygh.com/order/1\""));
        assert!(n.html.contains("消息编号 msg-42"));
        assert!(n.html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn only_http_links_are_kept() {
        let e = entry("slot_seen", json!({"url": "javascript:alert(1)"}));
        let n = render("m", None, &e, Lang::En);
        assert_eq!(n.url, None);
        assert!(!n.html.contains("javascript:"));
        assert!(!n.text.contains("javascript:"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        let w: Watch = serde_json::from_value(json!({
            "target": {"platform": "114yygh", "hos_code": "H1", "first_dept_code": "a",
                       "second_dept_code": "b", "hos_name": "<b>医院</b>", "dept_name": "A&B"},
            "window": {"start": "2026-11-27", "end": "2026-12-03"},
            "interval": {"seconds": 30}
        }))
        .unwrap();
        let e = HistoryEntry {
            message: "<script>alert(\"x\")</script>".into(),
            ..entry(
                "slot_seen",
                json!({"doctor": "<img src=x onerror=y>", "url": "https://h/p?a=1&b=\"2\""}),
            )
        };
        let n = render("m<1>", Some(&w), &e, Lang::Zh);
        for raw in ["<script>", "<b>医院", "<img", "A&B", "m<1>", "b=\"2\""] {
            assert!(!n.html.contains(raw), "{raw} left unescaped in {}", n.html);
        }
        assert!(n
            .html
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assert!(n.html.contains("&lt;b&gt;医院&lt;/b&gt; · A&amp;B"));
        assert!(n
            .html
            .contains("href=\"https://h/p?a=1&amp;b=&quot;2&quot;\""));
        assert!(n.html.contains("&lt;img src=x onerror=y&gt;"));
        // The plain text is not escaped.
        assert!(n.text.contains("<script>"));
        // And a subject is one line whatever the data holds.
        let e = entry("slot_seen", json!({"date": "2026-12-03\r\nBcc: x@y"}));
        assert!(!render("m", Some(&w), &e, Lang::Zh).subject.contains('\n'));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_id("11010119900307002X"), "1101**********002X");
        assert_eq!(mask_id("110101 19900307 002X"), "1101**********002X");
        assert_eq!(mask_id("G1234567"), "G1****67");
        assert_eq!(mask_id("12345"), "*****");
        assert_eq!(mask_card("6222 0212 3456 7890"), "****7890");
        assert_eq!(mask_card("123"), "****");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("8613812345678"), "138****5678");
        assert_eq!(mask_phone("010-66668888"), "010****8888");
        assert_eq!(mask_phone("66668888"), "666*8888");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_name("张三"), "*三");
        assert_eq!(mask_name("张小明"), "张*明");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(
            scrub("身份证11010119900307002X，手机13812345678，卡6222021234567890123，订单20261127"),
            "身份证1101**********002X，手机138****5678，卡****0123，订单20261127"
        );
        // A timestamp or an 18-digit number without a birth date is not an ID number.
        assert_eq!(scrub("at 1764206100000"), "at 1764206100000");
    }

    #[test]
    fn raw_id_numbers_phones_and_cards_never_appear() {
        let id = "11010119900307002X";
        let phone = "13812345678";
        let card = "6222021234567890";
        let w = watch_114();
        let datas = [
            json!({"id_no": id, "phone": phone, "cardNo": card, "patient": "张三"}),
            json!({"idNo": id, "mobile": phone, "card": card}),
            json!({"patient": {"name": "张三", "idNo": id, "phone": phone}}),
            json!({"patient_id_no": id, "patient_phone": phone, "patient_card": card, "patient_name": "李四"}),
            json!({"patient": id}),
            json!({"reason": format!("就诊人 {id} 手机 {phone} 已有预约"), "doctor": format!("医生{phone}")}),
        ];
        for data in datas {
            for lang in [Lang::Zh, Lang::En] {
                let e = HistoryEntry {
                    message: format!("为 {id} 预约，联系 {phone}，卡 {card}"),
                    ..entry("booked", data.clone())
                };
                let n = render("m", Some(&w), &e, lang);
                for raw in [id, phone, card, "张三", "李四"] {
                    assert!(!n.subject.contains(raw), "{raw} in subject for {data}");
                    assert!(
                        !n.text.contains(raw),
                        "{raw} in text for {data}: {}",
                        n.text
                    );
                    assert!(!n.html.contains(raw), "{raw} in html for {data}");
                }
                assert!(n.text.contains("1101**********002X"), "{}", n.text);
                assert!(n.text.contains("138****5678"), "{}", n.text);
            }
        }
        let e = entry(
            "booked",
            json!({"id_no": id, "phone": phone, "card": card, "patient": "张三"}),
        );
        let n = render("m", Some(&w), &e, Lang::Zh);
        assert!(n.text.contains("就诊人：*三\n"));
        assert!(n.text.contains("证件号：1101**********002X\n"));
        assert!(n.text.contains("手机：138****5678\n"));
        assert!(n.text.contains("卡号：****7890\n"));
    }

    #[test]
    fn booking_events_say_when_where_and_what_to_do() {
        let w = watch_114();
        let data = json!({"visit_time": "2026-12-03 08:30-09:00", "place": "门诊楼 2 层 眼科",
                          "order_no": "YY20261203001", "doctor": "王伟", "patient_name": "张小明",
                          "card_no": "6222021234567890", "patient_id_no": "11010119900307002X"});
        let e = HistoryEntry {
            message: "预约成功".into(),
            ..entry("booked", data.clone())
        };
        let n = render("m", Some(&w), &e, Lang::Zh);
        // No date in the data: the visit time says when, in the subject too.
        assert_eq!(
            n.subject,
            "114 · 北京协和医院 · 眼科 · 2026-12-03 08:30-09:00 · 已预约成功"
        );
        for line in [
            "就诊时间：2026-12-03 08:30-09:00\n",
            "地点：门诊楼 2 层 眼科\n",
            "医生：王伟\n",
            "就诊人：张*明\n",
            "订单号：YY20261203001\n",
            "卡号：****7890\n",
            "证件号：1101**********002X\n",
        ] {
            assert!(n.text.contains(line), "{line:?} missing from {}", n.text);
        }
        assert!(n.html.contains("门诊楼 2 层 眼科"));
        let en = render("m", Some(&w), &e, Lang::En);
        assert!(en.text.contains("Visit time: 2026-12-03 08:30-09:00\n"));
        assert!(en.text.contains("Place: 门诊楼 2 层 眼科\n"));
        assert!(en.text.contains("Order number: YY20261203001\n"));
        for n in [&n, &en] {
            for raw in ["张小明", "6222021234567890", "11010119900307002X"] {
                assert!(!n.text.contains(raw) && !n.html.contains(raw), "{raw}");
                assert!(!n.subject.contains(raw), "{raw}");
            }
            assert!(!n.text.contains("cannot tell") && !n.text.contains("不能确定"));
        }
        // A date, when given, still leads the subject; the visit time is a detail.
        let with_date = json!({"date": "2026-12-03", "period": "morning", "visit_time": "08:30"});
        assert_eq!(
            subject(Some(&w), "booked", with_date, Lang::En),
            "114 · 北京协和医院 · 眼科 · 2026-12-03 AM · Booked"
        );
        // Numbers hidden in a visit time or place are masked like any free text.
        let sneaky = entry(
            "booked",
            json!({"visit_time": "11010119900307002X", "place": "13812345678"}),
        );
        let n = render("m", Some(&w), &sneaky, Lang::Zh);
        assert!(!n.text.contains("11010119900307002X") && !n.text.contains("13812345678"));
        assert!(!n.subject.contains("11010119900307002X"));

        // Outcome unknown: the person is told to check their orders, in both languages.
        let e = entry("outcome_unknown", json!({"visit_time": "2026-12-03 08:30"}));
        let zh = render("m", Some(&w), &e, Lang::Zh);
        assert!(
            zh.subject.ends_with("结果未知（请查看订单）"),
            "{}",
            zh.subject
        );
        assert!(
            zh.text.contains("我的订单") && zh.text.contains("不会再为这个监控提交订单"),
            "{}",
            zh.text
        );
        assert!(zh.html.contains("我的订单"));
        let en = render("m", Some(&w), &e, Lang::En);
        assert!(
            en.text.contains("Check your orders on the site")
                && en.text.contains("will not submit another one"),
            "{}",
            en.text
        );
        assert!(en.html.contains("Check your orders on the site"));
        // The advice comes after the event's own sentence, before the details.
        let at = |s: &str| en.text.find(s).unwrap();
        assert!(at("事件") < at("Check your orders") && at("Check your orders") < at("Visit time"));

        // Submitting is told too.
        assert!(crate::notify::notifies("booking_submitted"));
        let s = render("m", Some(&w), &entry("booking_submitted", data), Lang::Zh);
        assert!(s.subject.ends_with("已提交预约"), "{}", s.subject);
        assert!(s.text.contains("就诊时间：2026-12-03 08:30-09:00\n"));
    }

    #[test]
    fn test_notice_says_it_is_a_test() {
        let n = test_notice("t-1", Lang::Zh, 1_795_742_100_000);
        assert_eq!(n.kind, "test");
        assert_eq!(n.subject, "号源 Haoyuan · 测试消息");
        assert!(n.text.contains("测试消息"));
        assert!(n.text.contains("发送时间：2026-11-27 09:15（北京时间）"));
        assert!(n.text.contains("t-1"));
        assert!(n.html.contains("t-1"));
        assert_eq!(n.url, None);
        let n = test_notice("t-2", Lang::En, 0);
        assert_eq!(n.subject, "Haoyuan · Test message");
        assert!(
            n.text.contains("Sent at: 1970-01-01 08:00 (Beijing time)"),
            "{}",
            n.text
        );
    }
}
