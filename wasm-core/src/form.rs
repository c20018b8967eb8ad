//! What the extension's pages and background script ask of the core, as plain Rust so
//! that it is unit-tested natively; `wasm.rs` only moves JSON strings across the edge.
//!
//! - [`platforms`]: each platform's name, default base URL, poll floor and the target
//!   fields its form needs, so the popup renders platform-specific inputs from data.
//! - [`watch_from_form`]: the popup form's raw values → a validated [`Watch`], or one
//!   message per offending field (named like the host's `invalid_watch` fields, e.g.
//!   `window.end`, so both kinds of error land next to the same input).
//! - [`watch_summary`], [`install_command`], [`validate_base_url`], [`check_hello`],
//!   [`today_in_china`].
//! - [`encode_request`] / [`decode_host_message`]: the protocol glue, so that the
//!   extension's JS never writes protocol JSON by hand.

use crate::date::Date;
use crate::notify::render::scrub;
use crate::notify::{Channel, ChannelSettings};
use crate::protocol::{
    self, ErrorBody, ErrorCode, Hello, HistoryEntry, HostMessage, PROTOCOL_MAJOR,
};
use crate::watch::{
    DateWindow, FieldError, Filters, Interval, Mode, Period, Platform, Target, Watch,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// How a form field's text becomes a target value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One trimmed string.
    Text,
    /// A 12306 station telecode: trimmed and upper-cased.
    Telecode,
    /// A list, written comma- or space-separated.
    List,
    /// A yes/no choice (a checkbox): `true`/`on`/`1` or `false`/`off`/`0` (a JSON
    /// boolean too); absent or empty is the field's [`FieldSpec::checked`].
    Bool,
    /// 12306 station pairs, `FROM:TO` telecodes, comma- or space-separated
    /// (`BJP:SHH, SNH:AOH`) → `[{"from", "to"}]`, upper-cased.
    Pairs,
    /// A whole number ≥ 0 (empty: 0).
    Number,
}

/// One input of a platform's target, as the popup renders it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldSpec {
    /// The key inside the target; errors name it `target.<name>`.
    pub name: &'static str,
    /// Chinese and English label.
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// An example value.
    pub placeholder: &'static str,
    /// [`FieldKind::Bool`]: whether the box starts checked, which is also the value
    /// when the form leaves the field out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub checked: bool,
}

/// A platform as the extension's pages show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlatformInfo {
    pub id: &'static str,
    pub name: &'static str,
    /// `None` where each hospital runs its own server.
    pub default_base_url: Option<&'static str>,
    pub poll_floor_secs: u32,
    /// Whether a watch can target it (浙里办 is a sync job, configured apart).
    pub watchable: bool,
    /// Whether the half-day period filter applies (hospital platforms).
    pub periods: bool,
    /// The target's inputs, in display order (empty when not watchable).
    pub fields: Vec<FieldSpec>,
}

const fn field(
    name: &'static str,
    label: &'static str,
    kind: FieldKind,
    required: bool,
    placeholder: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        kind,
        required,
        placeholder,
        checked: false,
    }
}

/// A [`FieldKind::Bool`] field, checked or not at first (and when left out).
const fn flag(name: &'static str, label: &'static str, checked: bool) -> FieldSpec {
    FieldSpec {
        name,
        label,
        kind: FieldKind::Bool,
        required: false,
        placeholder: "",
        checked,
    }
}

/// The target inputs of a platform.
pub fn target_fields(p: Platform) -> Vec<FieldSpec> {
    use FieldKind::*;
    match p {
        Platform::Yygh114 => vec![
            field("hos_code", "医院代码 Hospital code", Text, true, "1"),
            field(
                "first_dept_code",
                "科室代码 Department code",
                Text,
                true,
                "200039542",
            ),
            field(
                "second_dept_code",
                "门诊代码 Clinic code",
                Text,
                true,
                "200039602",
            ),
            field(
                "hos_name",
                "医院名称 Hospital name",
                Text,
                false,
                "北京协和医院",
            ),
            field(
                "dept_name",
                "科室名称 Department name",
                Text,
                false,
                "眼科门诊",
            ),
            field(
                "patient_name",
                "就诊人 Patient (name on the account; empty: the first)",
                Text,
                false,
                "黄贺",
            ),
            field(
                "card_type",
                "就诊卡类型 Card type (empty: the patient's first card)",
                Text,
                false,
                "SOCIAL_SECURITY",
            ),
            field(
                "card_no",
                "卡号后四位 Card's last 4 characters (optional)",
                Text,
                false,
                "600X",
            ),
        ],
        Platform::Rail12306 => vec![
            field(
                "from_station",
                "出发站 From (telecode)",
                Telecode,
                true,
                "VNP",
            ),
            field(
                "from_name",
                "出发站名 From (name, optional)",
                Text,
                false,
                "北京南",
            ),
            field("to_station", "到达站 To (telecode)", Telecode, true, "AOH"),
            field(
                "to_name",
                "到达站名 To (name, optional)",
                Text,
                false,
                "上海虹桥",
            ),
            field(
                "more_pairs",
                "其他站对 More station pairs, e.g. BJP:SHH (optional)",
                Pairs,
                false,
                "BJP:SHH",
            ),
            field(
                "dates",
                "乘车日期 Travel dates (YYYY-MM-DD; empty: every day of the window)",
                List,
                false,
                "2026-12-01, 2026-12-02",
            ),
            field(
                "trains",
                "车次 Trains (optional, comma-separated)",
                List,
                false,
                "G1, G3",
            ),
            field(
                "exclude_trains",
                "排除车次 Never these trains (optional)",
                List,
                false,
                "K1234",
            ),
            field(
                "depart_after",
                "最早出发 Leaving after (HH:MM, optional)",
                Text,
                false,
                "07:00",
            ),
            field(
                "depart_before",
                "最晚出发 Leaving before (HH:MM, optional)",
                Text,
                false,
                "21:00",
            ),
            field(
                "seat_types",
                "席别 Seat codes (optional, in order)",
                List,
                false,
                "O, M",
            ),
            field(
                "account",
                "12306 账户 Account (needed to book)",
                Text,
                false,
                "zhangsan",
            ),
            field(
                "passengers",
                "乘车人 Passengers (names on the account; empty: the holder)",
                List,
                false,
                "张三, 李四",
            ),
            flag(
                "allow_fewer",
                "票不够时为部分乘车人预订 Book for fewer passengers when not all fit",
                false,
            ),
            flag(
                "sale_burst",
                "开售时集中查询 Look in a short burst when sale opens",
                true,
            ),
        ],
        Platform::Open91160 => vec![
            field("unit_id", "医院ID Unit id", Text, true, "100"),
            field("dep_id", "科室ID Department id", Text, true, "1000"),
            field(
                "doctor_id",
                "医生ID Doctor id (empty: every doctor)",
                Text,
                false,
                "10000",
            ),
            field("unit_name", "医院 Hospital", Text, false, "深圳市人民医院"),
            field("dep_name", "科室 Department", Text, false, "眼科"),
            field("doctor_name", "医生 Doctor", Text, false, "王元"),
            field(
                "open_time",
                "放号时间 Release time (HH:mm)",
                Text,
                false,
                "08:30",
            ),
            field(
                "cycle_days",
                "预约周期 Days bookable ahead",
                Number,
                false,
                "7",
            ),
            field(
                "account",
                "appToken 名称 Stored token name (empty: default)",
                Text,
                false,
                "default",
            ),
            field(
                "patient_id",
                "就诊人 Patient (from the patient book; needed to book)",
                Text,
                false,
                "p-0123456789abcdef",
            ),
        ],
        Platform::Pati => vec![
            field(
                "account",
                "账号 Account (phone number as stored)",
                Text,
                true,
                "13812345678",
            ),
            field("dept_id", "科室ID Department id", Text, true, "1001"),
            field(
                "doctor_id",
                "医生ID Doctor id (empty: 普通门诊)",
                Text,
                false,
                "2001",
            ),
            field("dept_name", "科室 Department", Text, false, "心血管内科"),
            field("doctor_name", "医生 Doctor", Text, false, "张建国"),
            field(
                "member_id",
                "就诊人 Family member id (needed to book)",
                Text,
                false,
                "3001",
            ),
            field(
                "member_name",
                "就诊人姓名 Member name",
                Text,
                false,
                "张*国",
            ),
        ],
        Platform::Zheliban => Vec::new(),
    }
}

/// Every platform, in display order.
pub fn platforms() -> Vec<PlatformInfo> {
    Platform::ALL
        .into_iter()
        .map(|p| PlatformInfo {
            id: p.id(),
            name: p.display_name(),
            default_base_url: p.default_base_url(),
            poll_floor_secs: p.poll_floor_secs(),
            watchable: p.watchable(),
            periods: matches!(p, Platform::Yygh114 | Platform::Open91160 | Platform::Pati),
            fields: target_fields(p),
        })
        .collect()
}

/// The popup form's values, as the page read them from its inputs (all text).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WatchForm {
    /// Set when editing an existing watch.
    pub id: String,
    pub platform: String,
    pub label: String,
    /// The platform's target inputs by [`FieldSpec::name`], as text (a [`FieldKind::Bool`]
    /// also as a JSON boolean); other keys are ignored.
    pub target: Map<String, Value>,
    /// `YYYY-MM-DD`; empty means today.
    pub start: String,
    /// `YYYY-MM-DD`, required.
    pub end: String,
    /// `morning`, `afternoon`, `evening`.
    pub periods: Vec<String>,
    /// `notify` (default) or `book`.
    pub mode: String,
    /// Whole seconds, as typed (a JSON number is accepted too).
    pub interval_seconds: Value,
}

/// The result of [`watch_from_form`]: the watch, or every field problem.
pub type FormResult = Result<Watch, Vec<FieldError>>;

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// List fields whose entries are codes, upper-cased (`g1` is train G1).
const UPPER_CASE_LISTS: [&str; 3] = ["trains", "exclude_trains", "seat_types"];

/// What separates the two stations of a pair (`BJP:SHH`, `BJP-SHH`, `BJP→SHH`).
fn pair_separator(c: char) -> bool {
    matches!(c, ':' | '：' | '-' | '>' | '→')
}

/// A [`FieldKind::Bool`] value: `Ok(None)` when absent or empty (the default applies).
fn bool_of(v: Option<&Value>) -> Result<Option<bool>, String> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Bool(b)) => return Ok(Some(*b)),
        Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
        Some(other) => other.to_string(),
    };
    match text.as_str() {
        "" => Ok(None),
        "true" | "on" | "1" | "yes" => Ok(Some(true)),
        "false" | "off" | "0" | "no" => Ok(Some(false)),
        _ => Err(format!("“{text}” is neither yes (true) nor no (false)")),
    }
}

/// A [`FieldKind::Pairs`] text → `[{"from", "to"}]` (telecodes upper-cased), or the
/// first entry that is not a pair. Spaces around a separator are allowed (`BJP : SHH`).
fn pairs_of(raw: &str) -> Result<Vec<Value>, String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut text = String::with_capacity(raw.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let prev = text.chars().last();
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if prev.is_some_and(pair_separator) || next.is_some_and(|c| pair_separator(*c)) {
                continue;
            }
        }
        text.push(c);
    }
    split_list(&text)
        .into_iter()
        .map(|item| {
            let parts: Vec<&str> = item.split(pair_separator).collect();
            match parts.as_slice() {
                [from, to] if !from.is_empty() && !to.is_empty() => Ok(json!({
                    "from": from.to_ascii_uppercase(),
                    "to": to.to_ascii_uppercase(),
                })),
                _ => Err(format!(
                    "“{item}” is not a station pair: write departure:arrival telecodes, e.g. BJP:SHH"
                )),
            }
        })
        .collect()
}

/// Validation names the entries of a pairs field (`target.more_pairs[1].to`); the form
/// has one input for them all, so the error goes there, saying which pair.
fn onto_pairs_input(e: FieldError, pairs_fields: &[&str]) -> FieldError {
    for name in pairs_fields {
        let Some(rest) = e.field.strip_prefix(&format!("target.{name}[")) else {
            continue;
        };
        let n: Option<usize> = rest.split(']').next().and_then(|i| i.parse().ok());
        let message = match n {
            Some(i) => format!("第 {0} 对 pair {0}: {1}", i + 1, e.message),
            None => e.message,
        };
        return err(&format!("target.{name}"), message);
    }
    e
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// Turns the popup's form values into a watch and validates it against `today` (the
/// caller's date in China, see [`today_in_china`]). Every problem is reported at once,
/// one message per field; a field that could not even be read is not also reported
/// by validation.
pub fn watch_from_form(form: &WatchForm, today: Date) -> FormResult {
    let mut errs: Vec<FieldError> = Vec::new();

    let platform = match Platform::from_id(form.platform.trim()) {
        Some(p) if p.watchable() => p,
        Some(p) => {
            return Err(vec![err(
                "platform",
                format!("{} cannot be watched", p.display_name()),
            )])
        }
        None => return Err(vec![err("platform", "choose a platform")]),
    };

    let specs = target_fields(platform);
    let mut target = Map::new();
    target.insert("platform".into(), json!(platform.id()));
    for spec in &specs {
        let given = form.target.get(spec.name);
        let raw = text_of(given);
        let value = match spec.kind {
            FieldKind::Text => json!(raw),
            FieldKind::Telecode => json!(raw.to_ascii_uppercase()),
            FieldKind::List => json!(split_list(&raw)
                .into_iter()
                .map(|s| if UPPER_CASE_LISTS.contains(&spec.name) {
                    s.to_ascii_uppercase()
                } else {
                    s
                })
                .collect::<Vec<_>>()),
            FieldKind::Bool => json!(bool_of(given)
                .unwrap_or_else(|e| {
                    errs.push(err(&format!("target.{}", spec.name), e));
                    None
                })
                .unwrap_or(spec.checked)),
            FieldKind::Pairs => json!(pairs_of(&raw).unwrap_or_else(|e| {
                errs.push(err(&format!("target.{}", spec.name), e));
                Vec::new()
            })),
            FieldKind::Number => match given {
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 10_000) => json!(n),
                _ if raw.is_empty() => json!(0),
                _ => match raw.parse::<u32>() {
                    Ok(n) if n <= 10_000 => json!(n),
                    _ => {
                        errs.push(err(
                            &format!("target.{}", spec.name),
                            "a whole number of days, 0 or more",
                        ));
                        json!(0)
                    }
                },
            },
        };
        target.insert(spec.name.into(), value);
    }
    let pairs_fields: Vec<&str> = specs
        .iter()
        .filter(|f| f.kind == FieldKind::Pairs)
        .map(|f| f.name)
        .collect();
    let target: Target = match serde_json::from_value(Value::Object(target)) {
        Ok(t) => t,
        // Cannot happen: every field of every target is filled above.
        Err(e) => {
            return Err(vec![err(
                "target",
                format!("the target could not be read: {e}"),
            )])
        }
    };

    let start = match form.start.trim() {
        "" => today,
        s => Date::parse(s).unwrap_or_else(|e| {
            errs.push(err("window.start", e.to_string()));
            today
        }),
    };
    let end = match form.end.trim() {
        "" => {
            errs.push(err("window.end", "the target date is required"));
            start
        }
        s => Date::parse(s).unwrap_or_else(|e| {
            errs.push(err("window.end", e.to_string()));
            start
        }),
    };

    let mut periods = Vec::new();
    for p in &form.periods {
        match p.as_str() {
            "morning" => periods.push(Period::Morning),
            "afternoon" => periods.push(Period::Afternoon),
            "evening" => periods.push(Period::Evening),
            other => errs.push(err(
                "filters.periods",
                format!("“{other}” is not a period (morning, afternoon, evening)"),
            )),
        }
    }

    let mode = match form.mode.trim() {
        "" | "notify" => Mode::Notify,
        "book" => Mode::Book,
        other => {
            errs.push(err(
                "mode",
                format!("“{other}” is not a mode (notify or book)"),
            ));
            Mode::Notify
        }
    };

    let floor = platform.poll_floor_secs();
    let interval_text = text_of(Some(&form.interval_seconds));
    let seconds = if interval_text.is_empty() {
        errs.push(err(
            "interval.seconds",
            format!("how often to look is required (at least {floor} seconds)"),
        ));
        floor
    } else {
        match interval_text.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errs.push(err(
                    "interval.seconds",
                    format!("“{interval_text}” is not a whole number of seconds"),
                ));
                floor
            }
        }
    };

    let watch = Watch {
        id: form.id.trim().to_string(),
        label: form.label.trim().to_string(),
        target,
        window: DateWindow { start, end },
        filters: Filters {
            periods,
            ..Filters::default()
        },
        mode,
        interval: Interval {
            seconds,
            jitter_pct: 20,
        },
        paused: false,
        created_at: 0,
        updated_at: 0,
    };
    let unreadable: Vec<String> = errs.iter().map(|e| e.field.clone()).collect();
    errs.extend(
        watch
            .validate(today)
            .into_iter()
            .map(|e| onto_pairs_input(e, &pairs_fields))
            .filter(|e| !unreadable.contains(&e.field)),
    );
    if errs.is_empty() {
        Ok(watch)
    } else {
        Err(errs)
    }
}

/// [`watch_from_form`] on JSON text, answering `{"ok": true, "watch": {...}}` or
/// `{"ok": false, "fields": [{"field", "message"}]}`. `today` is `YYYY-MM-DD`.
pub fn watch_from_form_json(form_json: &str, today: &str) -> Value {
    let today = match Date::parse(today) {
        Ok(d) => d,
        Err(e) => return json!({"ok": false, "fields": [err("today", e.to_string())]}),
    };
    // Through `Value`, like every other decode here: one deserializer per type keeps the wasm small.
    let form: WatchForm = match crate::from_json_text::<Value>(form_json)
        .and_then(serde_json::from_value)
    {
        Ok(f) => f,
        Err(e) => {
            return json!({"ok": false, "fields": [err("form", format!("the form could not be read: {e}"))]})
        }
    };
    match watch_from_form(&form, today) {
        Ok(w) => json!({"ok": true, "watch": w}),
        Err(fields) => json!({"ok": false, "fields": fields}),
    }
}

/// Today's date in China (UTC+8, no daylight saving), where every platform lives, for a
/// Unix time in milliseconds.
pub fn today_in_china(now_ms: f64) -> Date {
    let ms = if now_ms.is_finite() { now_ms as i64 } else { 0 };
    Date::from_unix_ms(ms, 480)
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Morning => "上午",
        Period::Afternoon => "下午",
        Period::Evening => "晚上",
    }
}

/// One line describing a watch for the popup's list (its label is shown apart):
/// target · date window · periods · pace · mode.
pub fn watch_summary(w: &Watch) -> String {
    let mut parts = vec![w.target.summary()];
    if w.window.start == w.window.end {
        parts.push(w.window.end.to_string());
    } else {
        parts.push(format!("{} → {}", w.window.start, w.window.end));
    }
    if !w.filters.periods.is_empty() {
        parts.push(
            w.filters
                .periods
                .iter()
                .map(|p| period_name(*p))
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    parts.push(format!("every {} s", w.interval.seconds));
    parts.push(match w.mode {
        Mode::Notify => "notify 通知".to_string(),
        Mode::Book => "book 自动预约".to_string(),
    });
    if w.paused {
        parts.push("paused".to_string());
    }
    parts.join(" · ")
}

/// [`watch_summary`] on a watch's JSON; a watch that cannot be read says so.
pub fn watch_summary_json(watch_json: &str) -> String {
    match crate::from_json_text::<Value>(watch_json).and_then(serde_json::from_value::<Watch>) {
        Ok(w) => watch_summary(&w),
        Err(e) => format!("(a watch this extension cannot read: {e})"),
    }
}

/// The Firefox add-on id (fixed in the manifest).
pub const FIREFOX_ADDON_ID: &str = "haoyuan@haoyuan.org";

/// The browsers `haoyuan-host install --browser` knows.
pub const INSTALL_BROWSERS: [&str; 5] = ["chrome", "chromium", "edge", "brave", "firefox"];

fn chrome_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// The exact command a user runs to register the host for this browser and this
/// extension (Chromium-family browsers need the extension id; Firefox's is fixed).
pub fn install_command(browser: &str, extension_id: &str) -> String {
    let browser = if INSTALL_BROWSERS.contains(&browser) {
        browser
    } else {
        "all"
    };
    let mut cmd = format!("haoyuan-host install --browser {browser}");
    let id_needed = match browser {
        "firefox" => !extension_id.is_empty() && extension_id != FIREFOX_ADDON_ID,
        _ => chrome_extension_id(extension_id),
    };
    if id_needed && !extension_id.contains(char::is_whitespace) {
        cmd.push_str(" --extension-id ");
        cmd.push_str(extension_id);
    }
    cmd
}

/// Checks a platform base URL typed in the options page and returns it normalised
/// (trimmed, without a trailing `/`): `http` or `https`, a host, an optional port and
/// path; no credentials, query or fragment.
pub fn validate_base_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        r
    } else {
        return Err("the address must start with https:// or http://".into());
    };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the address must not contain spaces".into());
    }
    if s.contains(['?', '#']) {
        return Err("the address must not contain a query (?) or fragment (#)".into());
    }
    let (authority, _path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err("the address must not contain a user name or password".into());
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal, e.g. [::1]:8080.
        Some(v6) => match v6.split_once(']') {
            Some((h, after))
                if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') =>
            {
                (h, after.strip_prefix(':'))
            }
            _ => return Err("the address has a malformed IPv6 host".into()),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("the address has no host name".into());
    }
    if !authority.starts_with('[')
        && !host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(format!("“{host}” is not a valid host name"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(format!("“{p}” is not a valid port"));
        }
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// What the extension makes of the host's `hello` answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HelloStatus {
    /// `connected` or `version_mismatch`.
    pub status: &'static str,
    /// A sentence for the person.
    pub message: String,
    /// The host's version, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the host keeps its data, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    /// Set when the host runs but cannot use its database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Reads the `data` of a `hello` reply. A different protocol major is a mismatch the
/// person must fix (by updating whichever side is older), never ignored.
pub fn check_hello(data: &Value) -> HelloStatus {
    let hello: Hello = match serde_json::from_value(data.clone()) {
        Ok(h) => h,
        Err(_) => {
            let protocol = data.get("protocol").and_then(Value::as_u64);
            let version = data
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_string);
            let message = match protocol {
                Some(p) if p != u64::from(PROTOCOL_MAJOR) => mismatch_message(p, version.as_deref()),
                _ => "the host answered hello in a form this extension does not understand: update the host and the extension to the same version".to_string(),
            };
            return HelloStatus {
                status: "version_mismatch",
                message,
                version,
                data_dir: None,
                warning: None,
            };
        }
    };
    if hello.protocol != PROTOCOL_MAJOR {
        return HelloStatus {
            status: "version_mismatch",
            message: mismatch_message(u64::from(hello.protocol), Some(&hello.version)),
            version: Some(hello.version),
            data_dir: Some(hello.data_dir),
            warning: None,
        };
    }
    HelloStatus {
        status: "connected",
        message: format!("connected · host {}", hello.version),
        version: Some(hello.version),
        data_dir: Some(hello.data_dir),
        warning: hello
            .store_error
            .map(|e| format!("the host cannot use its database: {}", e.message)),
    }
}

fn mismatch_message(host_major: u64, host_version: Option<&str>) -> String {
    let host = host_version
        .map(|v| format!("host {v}"))
        .unwrap_or_else(|| "the host".into());
    let ours = u64::from(PROTOCOL_MAJOR);
    let fix = if host_major > ours {
        "update the extension".to_string()
    } else {
        "update haoyuan-host and run its install command again".to_string()
    };
    format!(
        "version mismatch: {host} speaks protocol {host_major}, this extension ({}) speaks protocol {ours} — {fix}",
        crate::VERSION
    )
}

/// The type of one command parameter, as [`encode_request`] checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Param {
    /// A string (required).
    Str,
    /// A string or `null`, may be absent.
    OptStr,
    /// `true` or `false` (required).
    Bool,
    /// A whole number 0 ..= u32::MAX, `null` or absent.
    OptU32,
    /// A whole number in i64, `null` or absent.
    OptI64,
    /// Any JSON value, may be absent.
    Any,
    /// An array of strings, may be absent.
    StrList,
    /// A [`Watch`] (required).
    Watch,
    /// A [`ChannelSettings`] (required).
    Settings,
    /// A channel id, e.g. `email` (required).
    Channel,
    /// How a booking ended: `booked`, `failed` or `unknown` (required).
    BookingResult,
    /// A [`protocol::CaptchaAnswer`] (required).
    Answer,
    /// A string, may be absent (not `null`).
    DefStr,
    /// `true` or `false`, may be absent (not `null`).
    DefBool,
    /// A [`crate::patient::Patient`] (required).
    Patient,
    /// A date `YYYY-MM-DD`, `null` or absent.
    OptDate,
    /// A [`protocol::ZlbNotify`] (`each`, `digest`, `off`), `null` or absent.
    OptNotify,
}

/// The params of every command of [`protocol::Request`], in the order of
/// `Request::COMMANDS`. A unit test holds this table to the protocol's own parser
/// (`protocol::parse_request`, which the host uses) over accepted and refused samples of
/// every command, so the two cannot drift apart silently.
///
/// Why not call `parse_request` here: its derived `Deserialize` for the adjacently
/// tagged `Request` instantiates every params type twice (buffered and direct), which
/// costs the wasm module ~150 KB — half of its size budget.
const PARAMS: [(&str, &[(&str, Param)]); 38] = [
    ("hello", &[]),
    ("watch_put", &[("watch", Param::Watch)]),
    ("watch_get", &[("id", Param::Str)]),
    (
        "watch_list",
        &[("after", Param::OptStr), ("limit", Param::OptU32)],
    ),
    ("watch_delete", &[("id", Param::Str)]),
    (
        "history_list",
        &[
            ("watch_id", Param::Str),
            ("before", Param::OptI64),
            ("limit", Param::OptU32),
        ],
    ),
    (
        "watch_pause",
        &[("id", Param::Str), ("paused", Param::Bool)],
    ),
    (
        "event_record",
        &[
            ("watch_id", Param::Str),
            ("kind", Param::Str),
            ("message", Param::Str),
            ("data", Param::Any),
        ],
    ),
    ("channels_get", &[]),
    (
        "channels_put",
        &[
            ("settings", Param::Settings),
            ("clear_secrets", Param::StrList),
        ],
    ),
    ("send_test", &[("channel", Param::Channel)]),
    ("send_test_email", &[]),
    ("outbox_status", &[]),
    (
        "booking_begin",
        &[("watch_id", Param::Str), ("data", Param::Any)],
    ),
    (
        "booking_end",
        &[
            ("watch_id", Param::Str),
            ("intent_id", Param::Str),
            ("result", Param::BookingResult),
            ("message", Param::Str),
            ("data", Param::Any),
        ],
    ),
    ("booking_get", &[("watch_id", Param::Str)]),
    (
        "rail_login",
        &[("account", Param::Str), ("password", Param::Str)],
    ),
    ("rail_accounts", &[]),
    (
        "rail_stations",
        &[("query", Param::Str), ("limit", Param::OptU32)],
    ),
    ("prompt_list", &[]),
    (
        "prompt_answer",
        &[("id", Param::Str), ("answer", Param::Answer)],
    ),
    ("patient_put", &[("patient", Param::Patient)]),
    ("patient_list", &[]),
    ("patient_delete", &[("id", Param::Str)]),
    (
        "site_account_put",
        &[
            ("platform", Param::Str),
            ("account", Param::Str),
            ("base_url", Param::DefStr),
            ("secret", Param::Any),
        ],
    ),
    ("site_accounts", &[("platform", Param::OptStr)]),
    (
        "site_account_delete",
        &[("platform", Param::Str), ("account", Param::Str)],
    ),
    (
        "site_browse",
        &[
            ("platform", Param::Str),
            ("account", Param::Str),
            ("what", Param::Str),
            ("parent", Param::Any),
            ("refresh", Param::DefBool),
        ],
    ),
    (
        "booking_cancel",
        &[("watch_id", Param::Str), ("reason", Param::Str)],
    ),
    (
        "zlb_config_put",
        &[
            ("base_url", Param::Str),
            ("apikey", Param::Any),
            ("secret", Param::Any),
            ("aes_key", Param::Any),
            ("interval_s", Param::OptU32),
            ("notify", Param::OptNotify),
        ],
    ),
    ("zlb_config_get", &[]),
    ("zlb_test", &[]),
    ("zlb_sync", &[]),
    (
        "zlb_list",
        &[
            ("from", Param::OptDate),
            ("to", Param::OptDate),
            ("query", Param::DefStr),
            ("include_cancelled", Param::DefBool),
            ("limit", Param::OptU32),
        ],
    ),
    (
        "zlb_arrive",
        &[("serial", Param::Str), ("at", Param::OptStr)],
    ),
    ("zlb_rejects", &[]),
    ("zlb_reject_release", &[("serial", Param::Str)]),
    (
        "zlb_export",
        &[
            ("from", Param::OptDate),
            ("to", Param::OptDate),
            ("query", Param::DefStr),
            ("include_cancelled", Param::DefBool),
        ],
    ),
];

/// Checks one parameter's value; `None` when it is absent.
fn check_param(name: &str, kind: Param, value: Option<&Value>) -> Result<(), String> {
    let shown = |v: &Value| {
        let mut t = v.to_string();
        if t.len() > 40 {
            t.truncate(t.char_indices().nth(37).map_or(t.len(), |(i, _)| i));
            t.push('…');
        }
        t
    };
    let Some(v) = value else {
        return match kind {
            Param::Str
            | Param::Bool
            | Param::Watch
            | Param::Settings
            | Param::Channel
            | Param::Answer
            | Param::Patient
            | Param::BookingResult => Err(format!("missing field `{name}`")),
            _ => Ok(()),
        };
    };
    let ok = match kind {
        Param::Str | Param::DefStr => v.is_string(),
        Param::DefBool => v.is_boolean(),
        Param::Patient => {
            return serde_json::from_value::<crate::patient::Patient>(v.clone())
                .map(drop)
                .map_err(|e| format!("{name}: {e}"))
        }
        Param::OptStr => v.is_string() || v.is_null(),
        Param::Bool => v.is_boolean(),
        Param::OptU32 => v.is_null() || v.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
        Param::OptI64 => v.is_null() || v.is_i64(),
        Param::Any => true,
        Param::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Param::Watch => {
            return serde_json::from_value::<Watch>(v.clone())
                .map(drop)
                .map_err(|e| format!("{name}: {e}"))
        }
        Param::Settings => {
            return serde_json::from_value::<ChannelSettings>(v.clone())
                .map(drop)
                .map_err(|e| format!("{name}: {e}"))
        }
        Param::Channel => serde_json::from_value::<Channel>(v.clone()).is_ok(),
        Param::Answer => {
            return serde_json::from_value::<protocol::CaptchaAnswer>(v.clone())
                .map(drop)
                .map_err(|e| format!("{name}: {e}"))
        }
        Param::OptDate => {
            v.is_null() || serde_json::from_value::<crate::date::Date>(v.clone()).is_ok()
        }
        Param::OptNotify => {
            v.is_null() || serde_json::from_value::<protocol::ZlbNotify>(v.clone()).is_ok()
        }
        // The names of `protocol::BookingResult` (the table's test holds them together).
        Param::BookingResult => matches!(v.as_str(), Some("booked" | "failed" | "unknown")),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Param::Str | Param::DefStr => "a string",
        Param::OptStr => "a string or null",
        Param::Bool | Param::DefBool => "true or false",
        Param::OptU32 => "a whole number from 0 to 4294967295",
        Param::OptI64 => "a whole number",
        Param::StrList => "a list of strings",
        Param::BookingResult => "one of booked, failed, unknown",
        Param::OptDate => "a date YYYY-MM-DD or null",
        Param::OptNotify => "one of each, digest, off, or null",
        _ => "one of email, webhook, bark, serverchan, dingtalk, feishu, telegram",
    };
    Err(format!("`{name}` is {}, expected {expected}", shown(v)))
}

/// Builds a request frame's JSON text from a command and its params' JSON text (empty
/// means no params), checking it as the host will: an unknown command or bad params
/// fail here, before anything is sent.
pub fn encode_request(id: u32, cmd: &str, params_json: &str) -> Result<String, ErrorBody> {
    let params: Value = if params_json.trim().is_empty() {
        json!({})
    } else {
        crate::from_json_text(params_json).map_err(|e| {
            ErrorBody::new(
                ErrorCode::BadParams,
                format!("the params of {cmd} are not valid JSON: {e}"),
            )
        })?
    };
    let Some((_, fields)) = PARAMS.iter().find(|(c, _)| *c == cmd) else {
        return Err(ErrorBody::new(
            ErrorCode::UnknownCommand,
            format!("unknown command \"{cmd}\""),
        ));
    };
    let bad =
        |m: String| ErrorBody::new(ErrorCode::BadParams, format!("bad params for {cmd}: {m}"));
    let params = match params {
        Value::Null => json!({}),
        Value::Object(obj) => {
            if let Some(k) = obj.keys().find(|k| !fields.iter().any(|(n, _)| n == k)) {
                return Err(bad(format!("unknown field `{k}`")));
            }
            for (name, kind) in fields.iter() {
                check_param(name, *kind, obj.get(*name)).map_err(bad)?;
            }
            Value::Object(obj)
        }
        _ => {
            return Err(ErrorBody::new(
                ErrorCode::BadParams,
                format!("\"params\" of {cmd} must be an object"),
            ))
        }
    };
    Ok(json!({"id": id, "cmd": cmd, "params": params}).to_string())
}

/// [`encode_request`] as JSON: `{"ok": true, "frame": "<text>"}` or
/// `{"ok": false, "error": {"code", "message"}}`.
pub fn encode_request_json(id: u32, cmd: &str, params_json: &str) -> Value {
    match encode_request(id, cmd, params_json) {
        Ok(frame) => json!({"ok": true, "frame": frame}),
        Err(e) => json!({"ok": false, "error": e}),
    }
}

/// Reads a frame from the host into one normalised shape for the background script:
/// `{"kind": "reply", "id", "ok": true, "data"}`, `{"kind": "reply", "id", "ok": false,
/// "error": {"code", "message", "fields"?}}`, `{"kind": "event", "event", "data"}`, or
/// `{"kind": "invalid", "message"}`.
pub fn decode_host_message(text: &str) -> Value {
    match protocol::parse_host_message(text) {
        Ok(HostMessage::Reply {
            id,
            result: Ok(data),
        }) => json!({"kind": "reply", "id": id, "ok": true, "data": data}),
        Ok(HostMessage::Reply {
            id,
            result: Err(error),
        }) => json!({"kind": "reply", "id": id, "ok": false, "error": error}),
        Ok(HostMessage::Event(event)) => {
            let mut v = serde_json::to_value(&event).unwrap_or(Value::Null);
            if let Value::Object(obj) = &mut v {
                obj.insert("kind".into(), json!("event"));
            }
            v
        }
        Err(message) => json!({"kind": "invalid", "message": message}),
    }
}

// ---- notifications ----------------------------------------------------------------------

/// Whether events of this history kind raise a desktop notification (the same kinds
/// the host writes to its outbox: [`crate::notify::NOTIFY_KINDS`]).
pub fn event_notifies(kind: &str) -> bool {
    crate::notify::notifies(kind)
}

/// What a notifying history kind is called on screen.
fn kind_title(kind: &str) -> &'static str {
    match kind {
        "slot_seen" => "发现号源 Slot found",
        "booking_submitted" => "已提交预约 Booking submitted",
        "booked" => "预约成功 Booked",
        "booking_failed" => "预约失败 Booking failed",
        "outcome_unknown" => "结果未知 Outcome unknown — check the site",
        "session_expired" => "需要重新登录 Sign in again",
        "booking_sms" => "需要短信验证码 Type the SMS code in the popup",
        "sync_result" => "同步结果 Sync result",
        _ => "号源 Haoyuan",
    }
}

/// A desktop notification for one history entry, as the background script raises it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesktopNotice {
    /// `haoyuan-<seq>`: one per history entry, so the same entry told twice replaces
    /// its notification instead of adding a second one.
    pub id: String,
    pub seq: i64,
    pub watch_id: String,
    pub kind: String,
    /// What happened and for which watch, e.g. `发现号源 Slot found · 协和眼科`.
    pub title: String,
    /// Where and when (`114 · 北京协和医院 · 眼科 · 2026-12-03 上午`), then the entry's
    /// sentence; ID, phone and card numbers masked as in every message
    /// ([`crate::notify::render::scrub`]).
    pub message: String,
    /// The booking page from the event's data (http or https only), for "open booking page".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A live finding (a slot seen), counted on the toolbar badge until the popup is opened.
    pub live: bool,
    /// Stays on screen until the person acts: everything that needs them now.
    pub sticky: bool,
}

/// An http(s) address from event data, or nothing: a notification never opens any
/// other kind of URL.
fn booking_url(v: Option<&Value>) -> Option<String> {
    let url = v?.as_str()?.trim();
    let lower = url.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= 2048
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| url.to_string())
}

/// The desktop notification for a history entry, or `None` when its kind is not told.
/// `watch` is the entry's watch when the host still has it.
pub fn desktop_notice(entry: &HistoryEntry, watch: Option<&Watch>) -> Option<DesktopNotice> {
    if !event_notifies(&entry.kind) {
        return None;
    }
    let who = match watch {
        Some(w) if !w.label.trim().is_empty() => w.label.trim().to_string(),
        Some(w) => w.target.summary(),
        None => format!("监控 watch {}", entry.watch_id),
    };
    let text = |k: &str| {
        entry
            .data
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut place: Vec<String> = watch.map(|w| w.target.summary()).into_iter().collect();
    let when: Vec<&str> = [
        text("date"),
        text("period").map(|p| match p {
            "morning" => "上午",
            "afternoon" => "下午",
            "evening" => "晚上",
            other => other,
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !when.is_empty() {
        place.push(when.join(" "));
    }
    let mut lines = Vec::new();
    if !place.is_empty() {
        lines.push(place.join(" · "));
    }
    if !entry.message.trim().is_empty() {
        lines.push(entry.message.trim().to_string());
    }
    let mut message = scrub(&lines.join("\n"));
    if message.chars().count() > 300 {
        message = message.chars().take(299).collect::<String>() + "…";
    }
    Some(DesktopNotice {
        id: format!("haoyuan-{}", entry.seq),
        seq: entry.seq,
        watch_id: entry.watch_id.clone(),
        kind: entry.kind.clone(),
        title: scrub(&format!("{} · {who}", kind_title(&entry.kind))),
        message,
        url: booking_url(entry.data.get("url")),
        live: entry.kind == "slot_seen",
        sticky: !matches!(entry.kind.as_str(), "booking_submitted" | "sync_result"),
    })
}

/// [`desktop_notice`] on JSON text (the `watch_event` data, and the watch or empty):
/// `{"notify": false}` or `{"notify": true, "id", "title", "message", "url"?, …}`.
pub fn desktop_notice_json(entry_json: &str, watch_json: &str) -> Value {
    let entry = match crate::from_json_text::<Value>(entry_json)
        .and_then(serde_json::from_value::<HistoryEntry>)
    {
        Ok(e) => e,
        Err(e) => return json!({"notify": false, "error": format!("unreadable event: {e}")}),
    };
    let watch = crate::from_json_text::<Value>(watch_json)
        .and_then(serde_json::from_value::<Watch>)
        .ok();
    match desktop_notice(&entry, watch.as_ref()) {
        Some(n) => {
            let mut v = serde_json::to_value(n).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.insert("notify".into(), json!(true));
            }
            v
        }
        None => json!({"notify": false}),
    }
}

/// The Chinese and English names of a channel.
pub fn channel_names(c: Channel) -> (&'static str, &'static str) {
    match c {
        Channel::Email => ("邮件", "Email"),
        Channel::Webhook => ("Webhook", "Webhook"),
        Channel::Bark => ("Bark", "Bark"),
        Channel::Serverchan => ("Server酱", "ServerChan"),
        Channel::Dingtalk => ("钉钉", "DingTalk"),
        Channel::Feishu => ("飞书", "Feishu"),
        Channel::Telegram => ("Telegram", "Telegram"),
    }
}

fn channel_display(c: Channel) -> String {
    match channel_names(c) {
        (zh, en) if zh == en => zh.to_string(),
        (zh, en) => format!("{zh} {en}"),
    }
}

/// How an input of the channel settings form turns into a settings value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// A checkbox: `true`/`false`.
    Checkbox,
    /// Trimmed text.
    Text,
    /// Trimmed text never shown back (the host returns secrets blank): a password input
    /// with "已设置 set" when the host has one, and a "clear" box.
    Secret,
    /// A whole number; empty means the default (0).
    Number,
    /// One of `options`.
    Select,
    /// Addresses separated by commas (or spaces, semicolons).
    List,
}

/// One input of the channel settings form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingField {
    /// Dotted path into [`ChannelSettings`], e.g. `email.port`; the host's
    /// `invalid_settings` errors name fields the same way.
    pub path: &'static str,
    pub label: &'static str,
    pub kind: SettingKind,
    pub placeholder: &'static str,
    /// The values of a `select`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub options: &'static [&'static str],
}

/// One channel's part of the settings form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelForm {
    pub channel: Channel,
    pub name: String,
    /// Whether it has a "send test" button (`send_test_email` for email).
    pub test_cmd: &'static str,
    pub fields: Vec<SettingField>,
}

const fn setting(
    path: &'static str,
    label: &'static str,
    kind: SettingKind,
    placeholder: &'static str,
) -> SettingField {
    SettingField {
        path,
        label,
        kind,
        placeholder,
        options: &[],
    }
}

/// The settings form of every channel, in display order (the page renders it from this).
pub fn channel_forms() -> Vec<ChannelForm> {
    use SettingKind::*;
    let on = |path| setting(path, "启用 Enabled", Checkbox, "");
    let forms: [(Channel, Vec<SettingField>); 7] = [
        (
            Channel::Email,
            vec![
                on("email.enabled"),
                setting("email.host", "SMTP 服务器 Server", Text, "smtp.example.com"),
                setting("email.port", "端口 Port", Number, "587"),
                SettingField {
                    options: &["starttls", "tls", "none"],
                    ..setting("email.security", "加密 Security", Select, "")
                },
                setting("email.username", "用户名 Username", Text, "me@example.com"),
                setting("email.password", "密码 Password", Secret, ""),
                setting(
                    "email.from",
                    "发件人 From",
                    Text,
                    "Haoyuan <me@example.com>",
                ),
                setting(
                    "email.to",
                    "收件人 To (逗号分隔 comma-separated)",
                    List,
                    "me@example.com, family@example.com",
                ),
                setting("email.timeout_secs", "超时 Timeout (s)", Number, "15"),
                setting(
                    "email.ca_file",
                    "CA 证书文件 CA file (optional)",
                    Text,
                    "/path/to/ca.pem",
                ),
            ],
        ),
        (
            Channel::Webhook,
            vec![
                on("webhook.enabled"),
                setting(
                    "webhook.url",
                    "地址 URL",
                    Secret,
                    "https://example.com/hook",
                ),
            ],
        ),
        (
            Channel::Bark,
            vec![
                on("bark.enabled"),
                setting("bark.server", "服务器 Server", Text, "https://api.day.app"),
                setting("bark.key", "设备密钥 Device key", Secret, ""),
            ],
        ),
        (
            Channel::Serverchan,
            vec![
                on("serverchan.enabled"),
                setting("serverchan.send_key", "SendKey", Secret, "SCT…"),
                setting(
                    "serverchan.server",
                    "服务器 Server (optional)",
                    Text,
                    "https://sctapi.ftqq.com",
                ),
            ],
        ),
        (
            Channel::Dingtalk,
            vec![
                on("dingtalk.enabled"),
                setting(
                    "dingtalk.webhook",
                    "机器人地址 Robot webhook",
                    Secret,
                    "https://oapi.dingtalk.com/robot/send?access_token=…",
                ),
                setting("dingtalk.secret", "加签密钥 Signing secret", Secret, "SEC…"),
            ],
        ),
        (
            Channel::Feishu,
            vec![
                on("feishu.enabled"),
                setting(
                    "feishu.webhook",
                    "机器人地址 Robot webhook",
                    Secret,
                    "https://open.feishu.cn/open-apis/bot/v2/hook/…",
                ),
                setting("feishu.secret", "签名密钥 Signing secret", Secret, ""),
            ],
        ),
        (
            Channel::Telegram,
            vec![
                on("telegram.enabled"),
                setting("telegram.bot_token", "Bot token", Secret, "123456:ABC…"),
                setting("telegram.chat_id", "Chat ID", Text, "123456789"),
                setting(
                    "telegram.api_base",
                    "API 地址 API base (optional)",
                    Text,
                    "https://api.telegram.org",
                ),
            ],
        ),
    ];
    forms
        .into_iter()
        .map(|(channel, fields)| ChannelForm {
            channel,
            name: channel_display(channel),
            test_cmd: if channel == Channel::Email {
                "send_test_email"
            } else {
                "send_test"
            },
            fields,
        })
        .collect()
}

fn all_setting_fields() -> Vec<SettingField> {
    let mut v = vec![SettingField {
        options: &["zh", "en"],
        ..setting("language", "语言 Language", SettingKind::Select, "")
    }];
    v.extend(channel_forms().into_iter().flat_map(|f| f.fields));
    v
}

fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// The settings the host returned (`channels_get` / `channels_put` data: settings with
/// secrets blank, and `secrets_set`) as the form's values by path:
/// `{"values": {"email.port": "587", "email.enabled": true, …}, "secrets_set": [...]}`.
pub fn channels_to_form(view: &Value) -> Value {
    let settings = view.get("settings").cloned().unwrap_or(Value::Null);
    let mut values = Map::new();
    for f in all_setting_fields() {
        let v = value_at(&settings, f.path);
        let shown = match (f.kind, v) {
            (SettingKind::Checkbox, v) => json!(v.and_then(Value::as_bool).unwrap_or(false)),
            // A secret is never shown, even if a host sent one.
            (SettingKind::Secret, _) => json!(""),
            (SettingKind::List, Some(Value::Array(a))) => json!(a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")),
            (SettingKind::Number, Some(n)) if n.as_u64() == Some(0) => json!(""),
            (_, Some(Value::String(s))) => json!(s),
            (_, Some(n @ Value::Number(_))) => json!(n.to_string()),
            _ => json!(""),
        };
        values.insert(f.path.to_string(), shown);
    }
    let secrets: Vec<&str> = view
        .get("secrets_set")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    json!({"values": values, "secrets_set": secrets})
}

/// The form's values by path (text, or `true`/`false` for checkboxes) and the secrets
/// the person ticked "clear" for → the `channels_put` params `{"settings", "clear_secrets"}`,
/// or one message per field that cannot be read. Blank secrets stay blank: the host
/// keeps the stored ones.
pub fn channels_from_form(
    values: &Map<String, Value>,
    clear: &[String],
) -> Result<Value, Vec<FieldError>> {
    let mut settings = Map::new();
    let mut errs = Vec::new();
    for f in all_setting_fields() {
        let raw = values.get(f.path);
        let value = match f.kind {
            SettingKind::Checkbox => json!(
                matches!(raw, Some(Value::Bool(true)))
                    || matches!(raw, Some(Value::String(s)) if s == "on" || s == "true")
            ),
            SettingKind::Number => {
                let t = text_of(raw);
                let max = if f.path.ends_with(".port") {
                    u64::from(u16::MAX)
                } else {
                    u64::from(u32::MAX)
                };
                match t.parse::<u64>() {
                    _ if t.is_empty() => json!(0),
                    Ok(n) if n <= max => json!(n),
                    _ => {
                        errs.push(err(
                            f.path,
                            format!("“{t}” is not a whole number from 0 to {max}"),
                        ));
                        continue;
                    }
                }
            }
            SettingKind::List => json!(text_of(raw)
                .split(|c: char| c == ','
                    || c == '，'
                    || c == ';'
                    || c == '；'
                    || c.is_whitespace())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()),
            SettingKind::Select => {
                let t = text_of(raw);
                match f.options.iter().find(|o| **o == t) {
                    Some(o) => json!(o),
                    None if t.is_empty() => json!(f.options[0]),
                    None => {
                        errs.push(err(
                            f.path,
                            format!("choose one of {}", f.options.join(", ")),
                        ));
                        continue;
                    }
                }
            }
            SettingKind::Text | SettingKind::Secret => json!(text_of(raw)),
        };
        let mut slot = &mut settings;
        let mut parts = f.path.split('.').peekable();
        while let Some(k) = parts.next() {
            if parts.peek().is_none() {
                slot.insert(k.to_string(), value);
                break;
            }
            slot = match slot.entry(k.to_string()).or_insert_with(|| json!({})) {
                Value::Object(o) => o,
                _ => break,
            };
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let settings = Value::Object(settings);
    if let Err(e) = serde_json::from_value::<ChannelSettings>(settings.clone()) {
        return Err(vec![err(
            "settings",
            format!("the settings could not be read: {e}"),
        )]);
    }
    let secret_paths = all_setting_fields()
        .into_iter()
        .filter(|f| f.kind == SettingKind::Secret)
        .map(|f| f.path)
        .collect::<Vec<_>>();
    let clear: Vec<&str> = clear
        .iter()
        .map(String::as_str)
        .filter(|c| secret_paths.contains(c))
        .collect();
    Ok(json!({"settings": settings, "clear_secrets": clear}))
}

/// [`channels_from_form`] on JSON text `{"values": {...}, "clear": [...]}`:
/// `{"ok": true, "params": {...}}` or `{"ok": false, "fields": [...]}`.
pub fn channels_from_form_json(form_json: &str) -> Value {
    let form = crate::from_json_text::<Value>(form_json).unwrap_or(Value::Null);
    let values = form
        .get("values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let clear: Vec<String> = form
        .get("clear")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    match channels_from_form(&values, &clear) {
        Ok(params) => json!({"ok": true, "params": params}),
        Err(fields) => json!({"ok": false, "fields": fields}),
    }
}

/// How many final failures the popup lists.
pub const POPUP_FAILURES: usize = 5;

/// The popup's notifications block from `outbox_status` data: one line per enabled
/// channel (`state`: `error` when its last attempt failed, `pending`, `ok`, `idle`) and
/// one per recent final failure (`邮件未送达: <subject> — <error>`), the newest
/// [`POPUP_FAILURES`] of them.
pub fn outbox_view(status: &Value) -> Value {
    let channels: Vec<Value> = status
        .get("channels")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.get("enabled").and_then(Value::as_bool) == Some(true))
        .filter_map(|c| {
            let channel = serde_json::from_value::<Channel>(c.get("channel")?.clone()).ok()?;
            let name = channel_display(channel);
            let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
            let (state, text) = match c.get("last_error").and_then(Value::as_str) {
                Some(e) => (
                    "error",
                    format!("{name}: 上次发送失败 last attempt failed — {e}"),
                ),
                None if n("pending") > 0 => (
                    "pending",
                    format!("{name}: {} 条待发送 waiting", n("pending")),
                ),
                None if n("sent") > 0 => (
                    "ok",
                    format!("{name}: 正常 working · 已发送 {} sent", n("sent")),
                ),
                None => (
                    "idle",
                    format!("{name}: 已启用 on · 尚未发送 nothing sent yet"),
                ),
            };
            Some(json!({"channel": channel, "state": state, "text": text}))
        })
        .collect();
    let failures: Vec<Value> = status
        .get("failures")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            let channel = serde_json::from_value::<Channel>(f.get("channel")?.clone()).ok()?;
            let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("");
            Some(json!({
                "channel": channel,
                "id": s("id"),
                "text": format!("{}未送达: {} — {}", channel_names(channel).0, s("subject"), s("error")),
            }))
        })
        .take(POPUP_FAILURES)
        .collect();
    json!({"channels": channels, "failures": failures})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::parse("2026-11-27").unwrap()
    }

    fn form(v: Value) -> WatchForm {
        serde_json::from_value(v).unwrap()
    }

    fn good_114() -> Value {
        json!({
            "platform": "114yygh",
            "label": " 协和眼科 ",
            "target": {"hos_code": " 1 ", "first_dept_code": "200039542", "second_dept_code": "200039602", "hos_name": "北京协和医院", "dept_name": ""},
            "start": "",
            "end": "2026-12-03",
            "periods": ["morning", "afternoon"],
            "mode": "book",
            "interval_seconds": "30"
        })
    }

    fn fields(r: FormResult) -> Vec<String> {
        match r {
            Err(e) => e.into_iter().map(|e| e.field).collect(),
            Ok(w) => panic!("accepted: {w:?}"),
        }
    }

    #[test]
    fn platforms_describe_every_watchable_target_field() {
        let all = platforms();
        assert_eq!(
            all.iter().map(|p| p.id).collect::<Vec<_>>(),
            ["114yygh", "12306", "91160", "pati", "zheliban"]
        );
        for p in &all {
            assert_eq!(p.watchable, !p.fields.is_empty(), "{}", p.id);
            let platform = Platform::from_id(p.id).unwrap();
            assert_eq!(p.poll_floor_secs, platform.poll_floor_secs());
            if !p.watchable {
                continue;
            }
            // Filling exactly the described fields yields a target of that platform
            // whose serialised keys are the described fields: the two cannot drift.
            // Every example is a good value; a yes/no is given its non-default answer.
            let mut t = Map::new();
            for f in &p.fields {
                let v = match f.kind {
                    FieldKind::Bool => json!(if f.checked { "false" } else { "true" }),
                    _ => json!(f.placeholder),
                };
                t.insert(f.name.into(), v);
            }
            let f = form(
                json!({"platform": p.id, "target": t, "end": "2026-12-31", "interval_seconds": 60}),
            );
            let w = match watch_from_form(&f, today()) {
                Ok(w) => w,
                Err(e) => panic!("{}: {e:?}", p.id),
            };
            assert_eq!(w.platform(), platform);
            let v = serde_json::to_value(&w.target).unwrap();
            let mut keys: Vec<_> = v
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "platform")
                .cloned()
                .collect();
            let mut names: Vec<_> = p.fields.iter().map(|f| f.name.to_string()).collect();
            keys.sort();
            names.sort();
            assert_eq!(keys, names, "{}", p.id);
        }
        let v = serde_json::to_value(&all[0]).unwrap();
        assert_eq!(v["default_base_url"], "https://www.114yygh.com");
        assert_eq!(v["fields"][0]["kind"], "text");
        assert_eq!(v["fields"][0].get("checked"), None);
        // The kinds as the popup reads them, and the checkbox that starts checked.
        let rail = serde_json::to_value(&all[1]).unwrap();
        let kind_of = |name: &str| {
            let f = rail["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))
                .clone();
            (
                f["kind"].as_str().unwrap().to_string(),
                f.get("checked").cloned(),
            )
        };
        assert_eq!(kind_of("from_station"), ("telecode".into(), None));
        assert_eq!(kind_of("more_pairs"), ("pairs".into(), None));
        assert_eq!(kind_of("dates"), ("list".into(), None));
        assert_eq!(kind_of("account"), ("text".into(), None));
        assert_eq!(kind_of("allow_fewer"), ("bool".into(), None));
        assert_eq!(kind_of("sale_burst"), ("bool".into(), Some(json!(true))));
    }

    #[test]
    fn a_good_form_becomes_a_trimmed_watch_starting_today() {
        let Ok(w) = watch_from_form(&form(good_114()), today()) else {
            panic!()
        };
        assert_eq!(w.label, "协和眼科");
        assert_eq!(
            w.window,
            DateWindow {
                start: today(),
                end: Date::parse("2026-12-03").unwrap()
            }
        );
        assert_eq!(w.mode, Mode::Book);
        assert_eq!(
            w.interval,
            Interval {
                seconds: 30,
                jitter_pct: 20
            }
        );
        assert_eq!(w.filters.periods, [Period::Morning, Period::Afternoon]);
        match &w.target {
            Target::Yygh114 {
                hos_code, hos_name, ..
            } => assert_eq!(
                (hos_code.as_str(), hos_name.as_str()),
                ("1", "北京协和医院")
            ),
            t => panic!("{t:?}"),
        }
        assert!(w.validate(today()).is_empty());
    }

    #[test]
    fn a_past_target_date_and_a_fast_interval_are_named() {
        let mut v = good_114();
        v["end"] = json!("2026-11-20");
        v["start"] = json!("2026-11-01");
        v["interval_seconds"] = json!("5");
        let r = watch_from_form(&form(v), today());
        assert_eq!(fields(r.clone()), ["window.end", "interval.seconds"]);
        let Err(errs) = r else { panic!() };
        assert!(
            errs[0].message.contains("already passed"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.contains("15 seconds"),
            "{}",
            errs[1].message
        );
    }

    #[test]
    fn unreadable_values_are_reported_once_each() {
        let mut v = good_114();
        v["start"] = json!("tomorrow");
        v["end"] = json!("");
        v["interval_seconds"] = json!("often");
        v["mode"] = json!("grab");
        v["periods"] = json!(["night"]);
        v["target"]["hos_code"] = json!("");
        assert_eq!(
            fields(watch_from_form(&form(v), today())),
            [
                "window.start",
                "window.end",
                "filters.periods",
                "mode",
                "interval.seconds",
                "target.hos_code"
            ]
        );
        let mut v = good_114();
        v["interval_seconds"] = json!("");
        assert_eq!(
            fields(watch_from_form(&form(v), today())),
            ["interval.seconds"]
        );
        // Two problems with one readable field are both named.
        let mut v = good_114();
        v["end"] = json!("2026-11-20");
        assert_eq!(
            fields(watch_from_form(&form(v), today())),
            ["window.end", "window.end"]
        );
        let mut v = good_114();
        v["interval_seconds"] = json!(45);
        assert!(watch_from_form(&form(v), today()).is_ok());
    }

    #[test]
    fn platform_must_be_known_and_watchable() {
        let mut v = good_114();
        v["platform"] = json!("zheliban");
        assert_eq!(fields(watch_from_form(&form(v), today())), ["platform"]);
        let mut v = good_114();
        v["platform"] = json!("");
        assert_eq!(fields(watch_from_form(&form(v), today())), ["platform"]);
    }

    #[test]
    fn rail_fields_are_upper_cased_and_lists_split() {
        let f = form(json!({
            "platform": "12306",
            "target": {"from_station": " vnp", "to_station": "aoh", "trains": "G1, G3，G5", "seat_types": "o m"},
            "end": "2026-11-30",
            "interval_seconds": "10"
        }));
        let Ok(w) = watch_from_form(&f, today()) else {
            panic!()
        };
        // Absent fields take the target's defaults: the burst is on, the rest empty.
        assert_eq!(
            w.target,
            Target::Rail12306 {
                from_station: "VNP".into(),
                to_station: "AOH".into(),
                trains: vec!["G1".into(), "G3".into(), "G5".into()],
                seat_types: vec!["O".into(), "M".into()],
                from_name: String::new(),
                to_name: String::new(),
                more_pairs: vec![],
                dates: vec![],
                exclude_trains: vec![],
                depart_after: String::new(),
                depart_before: String::new(),
                account: String::new(),
                passengers: vec![],
                allow_fewer: false,
                sale_burst: true,
            }
        );
        let f = form(json!({
            "platform": "12306",
            "target": {"from_station": "VNP", "to_station": "VNP", "seat_types": "Z"},
            "end": "2026-11-30",
            "interval_seconds": "10"
        }));
        assert_eq!(
            fields(watch_from_form(&f, today())),
            ["target.to_station", "target.seat_types"]
        );
    }

    /// A 12306 form with every field filled, as the popup sends it.
    fn full_rail() -> Value {
        json!({
            "platform": "12306",
            "label": "回家",
            "target": {
                "from_station": "vnp", "from_name": " 北京南 ",
                "to_station": "AOH", "to_name": "上海虹桥",
                "more_pairs": "bjp:shh,  SNH : aoh、BJP→SHH",
                "dates": "2026-11-28, 2026-11-30",
                "trains": "g1 G3", "exclude_trains": "k1234，G5",
                "depart_after": "06:30", "depart_before": "23:00",
                "seat_types": "O, m",
                "account": " traveller ",
                "passengers": "张三、李四",
                "allow_fewer": "on",
                "sale_burst": "false"
            },
            "start": "2026-11-28",
            "end": "2026-11-30",
            "mode": "book",
            "interval_seconds": "10"
        })
    }

    #[test]
    fn every_rail_field_is_read_from_the_form() {
        let w = match watch_from_form(&form(full_rail()), today()) {
            Ok(w) => w,
            Err(e) => panic!("{e:?}"),
        };
        let pair = |from: &str, to: &str| crate::watch::StationPair {
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            w.target,
            Target::Rail12306 {
                from_station: "VNP".into(),
                to_station: "AOH".into(),
                trains: vec!["G1".into(), "G3".into()],
                seat_types: vec!["O".into(), "M".into()],
                from_name: "北京南".into(),
                to_name: "上海虹桥".into(),
                more_pairs: vec![pair("BJP", "SHH"), pair("SNH", "AOH"), pair("BJP", "SHH")],
                dates: vec!["2026-11-28".into(), "2026-11-30".into()],
                exclude_trains: vec!["K1234".into(), "G5".into()],
                depart_after: "06:30".into(),
                depart_before: "23:00".into(),
                account: "traveller".into(),
                passengers: vec!["张三".into(), "李四".into()],
                allow_fewer: true,
                sale_burst: false,
            }
        );
        assert_eq!(w.mode, Mode::Book);
        // The JSON the host gets: the pairs as objects, the burst said because it is off.
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(
            v["target"]["more_pairs"][1],
            json!({"from": "SNH", "to": "AOH"})
        );
        assert_eq!(v["target"]["sale_burst"], false);
        assert_eq!(v["target"]["allow_fewer"], true);

        // Yes/no as a checkbox may send it: booleans, on/off, or nothing (the default).
        for (given, allow_fewer, sale_burst) in [
            (
                json!({"allow_fewer": true, "sale_burst": false}),
                true,
                false,
            ),
            (
                json!({"allow_fewer": "true", "sale_burst": "true"}),
                true,
                true,
            ),
            (
                json!({"allow_fewer": "false", "sale_burst": "off"}),
                false,
                false,
            ),
            (json!({"allow_fewer": "", "sale_burst": ""}), false, true),
            (json!({"allow_fewer": null}), false, true),
            (json!({}), false, true),
        ] {
            let mut v = full_rail();
            let t = v["target"].as_object_mut().unwrap();
            t.remove("allow_fewer");
            t.remove("sale_burst");
            t.extend(given.as_object().unwrap().clone());
            let Ok(w) = watch_from_form(&form(v), today()) else {
                panic!("{given}")
            };
            let Target::Rail12306 {
                allow_fewer: a,
                sale_burst: b,
                ..
            } = w.target
            else {
                panic!()
            };
            assert_eq!((a, b), (allow_fewer, sale_burst), "{given}");
        }

        // Through the wasm entry point, as the popup calls it.
        let r = watch_from_form_json(&full_rail().to_string(), "2026-11-27");
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["watch"]["target"]["account"], "traveller");
        assert_eq!(
            r["watch"]["target"]["dates"],
            json!(["2026-11-28", "2026-11-30"])
        );
    }

    #[test]
    fn rail_refusals_land_on_their_fields() {
        let refused = |edit: &dyn Fn(&mut Value)| {
            let mut v = full_rail();
            edit(&mut v);
            match watch_from_form(&form(v), today()) {
                Err(e) => e,
                Ok(w) => panic!("accepted: {w:?}"),
            }
        };
        let named = |e: &[FieldError]| e.iter().map(|e| e.field.clone()).collect::<Vec<_>>();

        // A pair that is not one: said on the pairs' input, once.
        for bad in ["BJP", "BJP:SHH, SNH:", "BJP:SHH:AOH", ":AOH", "BJP SHH"] {
            let e = refused(&|v| v["target"]["more_pairs"] = json!(bad));
            assert_eq!(named(&e), ["target.more_pairs"], "{bad}");
            assert!(e[0].message.contains("BJP:SHH"), "{}", e[0].message);
        }
        // A pair of readable shape with a bad telecode: also on that input, saying which.
        let e = refused(&|v| v["target"]["more_pairs"] = json!("BJP:SHH, SNHX:AOH"));
        assert_eq!(named(&e), ["target.more_pairs"]);
        assert!(
            e[0].message.starts_with("第 2 对 pair 2: "),
            "{}",
            e[0].message
        );
        let e = refused(&|v| v["target"]["more_pairs"] = json!("AOH-AOH"));
        assert_eq!(named(&e), ["target.more_pairs"]);
        assert!(e[0].message.contains("same station"), "{}", e[0].message);

        // Times.
        let e = refused(&|v| {
            v["target"]["depart_after"] = json!("25:00");
            v["target"]["depart_before"] = json!("9 pm");
        });
        assert_eq!(named(&e), ["target.depart_after", "target.depart_before"]);
        assert!(e[0].message.contains("HH:MM"), "{}", e[0].message);

        // A travel date outside the window, and one that is not a date.
        let e = refused(&|v| v["target"]["dates"] = json!("2026-11-28, 2026-12-05"));
        assert_eq!(named(&e), ["target.dates"]);
        assert!(
            e[0].message.contains("outside the window"),
            "{}",
            e[0].message
        );
        let e = refused(&|v| v["target"]["dates"] = json!("2026-11-28 tomorrow"));
        assert_eq!(named(&e), ["target.dates"]);

        // Booking needs the account; watching does not.
        let e = refused(&|v| v["target"]["account"] = json!("  "));
        assert_eq!(named(&e), ["target.account"]);
        assert!(e[0].message.contains("account"), "{}", e[0].message);
        let mut v = full_rail();
        v["target"]["account"] = json!("");
        v["mode"] = json!("notify");
        assert!(watch_from_form(&form(v), today()).is_ok());

        // Too many passengers; a yes/no that is neither.
        let e = refused(&|v| v["target"]["passengers"] = json!("a b c d e f"));
        assert_eq!(named(&e), ["target.passengers"]);
        let e = refused(&|v| v["target"]["sale_burst"] = json!("maybe"));
        assert_eq!(named(&e), ["target.sale_burst"]);

        // All at once, each on its own field.
        let e = refused(&|v| {
            v["target"]["more_pairs"] = json!("nonsense");
            v["target"]["depart_before"] = json!("noon");
            v["target"]["dates"] = json!("2026-12-25");
            v["target"]["account"] = json!("");
        });
        assert_eq!(
            named(&e),
            [
                "target.more_pairs",
                "target.depart_before",
                "target.dates",
                "target.account"
            ]
        );
    }

    #[test]
    fn json_entry_points() {
        let ok = watch_from_form_json(&good_114().to_string(), "2026-11-27");
        assert_eq!(ok["ok"], true);
        assert_eq!(ok["watch"]["target"]["platform"], "114yygh");
        assert_eq!(ok["watch"]["window"]["start"], "2026-11-27");
        let bad = watch_from_form_json(&good_114().to_string(), "2026-12-31");
        assert_eq!(bad["ok"], false);
        assert_eq!(bad["fields"][0]["field"], "window.end");
        assert_eq!(
            watch_from_form_json("[", "2026-11-27")["fields"][0]["field"],
            "form"
        );
        assert_eq!(
            watch_from_form_json("{}", "nope")["fields"][0]["field"],
            "today"
        );
    }

    #[test]
    fn china_today_rolls_over_at_beijing_midnight() {
        // 2026-11-27T15:59:59Z is 23:59:59 in Beijing; a second later it is the 28th.
        let base = Date::parse("2026-11-27").unwrap().to_days() as f64 * 86_400_000.0;
        assert_eq!(
            today_in_china(base + 15.0 * 3_600_000.0 + 3_599_000.0).to_string(),
            "2026-11-27"
        );
        assert_eq!(
            today_in_china(base + 16.0 * 3_600_000.0).to_string(),
            "2026-11-28"
        );
    }

    #[test]
    fn summaries() {
        let Ok(w) = watch_from_form(&form(good_114()), today()) else {
            panic!()
        };
        assert_eq!(watch_summary(&w), "114 · 北京协和医院 · 200039602 · 2026-11-27 → 2026-12-03 · 上午/下午 · every 30 s · book 自动预约");
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(watch_summary_json(&text), watch_summary(&w));
        assert!(watch_summary_json("{}").starts_with("(a watch this extension cannot read"));
    }

    #[test]
    fn install_commands() {
        let id = "jejbhckhgfhcpjnpjddldnoenganfcjp";
        assert_eq!(
            install_command("chromium", id),
            format!("haoyuan-host install --browser chromium --extension-id {id}")
        );
        assert_eq!(
            install_command("chrome", id),
            format!("haoyuan-host install --browser chrome --extension-id {id}")
        );
        assert_eq!(
            install_command("firefox", FIREFOX_ADDON_ID),
            "haoyuan-host install --browser firefox"
        );
        assert_eq!(
            install_command("firefox", "other@x.org"),
            "haoyuan-host install --browser firefox --extension-id other@x.org"
        );
        // Not a Chrome id: never pasted into a shell command.
        assert_eq!(
            install_command("chrome", "x; rm -rf ~"),
            "haoyuan-host install --browser chrome"
        );
        assert_eq!(
            install_command("netscape", id),
            format!("haoyuan-host install --browser all --extension-id {id}")
        );
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            validate_base_url(" https://www.114yygh.com/ ").unwrap(),
            "https://www.114yygh.com"
        );
        assert_eq!(
            validate_base_url("http://127.0.0.1:8114").unwrap(),
            "http://127.0.0.1:8114"
        );
        assert_eq!(
            validate_base_url("http://[::1]:8080/pati/").unwrap(),
            "http://[::1]:8080/pati"
        );
        assert_eq!(
            validate_base_url("https://his.example-hospital.cn/pati_service").unwrap(),
            "https://his.example-hospital.cn/pati_service"
        );
        for bad in [
            "",
            "www.114yygh.com",
            "ftp://x.org",
            "https://",
            "https://a b.com",
            "https://x.org?a=1",
            "https://x.org/#top",
            "https://user:pw@x.org",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:port",
            "https://bad_host.org",
            "https://x..org",
            "http://[zz]:1",
        ] {
            assert!(validate_base_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn hello_checks() {
        let ok = check_hello(
            &json!({"protocol": PROTOCOL_MAJOR, "version": "0.1.0", "data_dir": "/tmp/h"}),
        );
        assert_eq!(ok.status, "connected");
        assert_eq!(ok.message, "connected · host 0.1.0");
        assert_eq!(ok.data_dir.as_deref(), Some("/tmp/h"));
        assert_eq!(ok.warning, None);

        let newer = check_hello(
            &json!({"protocol": PROTOCOL_MAJOR + 1, "version": "9.0.0", "data_dir": "/d"}),
        );
        assert_eq!(newer.status, "version_mismatch");
        assert!(
            newer.message.contains("host 9.0.0") && newer.message.contains("update the extension"),
            "{}",
            newer.message
        );

        let older = check_hello(&json!({"protocol": 0, "version": "0.0.1"}));
        assert_eq!(older.status, "version_mismatch");
        assert!(
            older.message.contains("update haoyuan-host"),
            "{}",
            older.message
        );

        assert_eq!(check_hello(&json!("hi")).status, "version_mismatch");

        let store = check_hello(
            &json!({"protocol": PROTOCOL_MAJOR, "version": "0.1.0", "data_dir": "/d",
            "store_error": {"code": "store_locked", "message": "another program holds the database"}}),
        );
        assert_eq!(store.status, "connected");
        assert!(store.warning.unwrap().contains("another program"));
    }

    #[test]
    fn requests_are_checked_before_sending() {
        let frame = encode_request(3, "watch_list", r#"{"limit": 10}"#).unwrap();
        let v: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            v,
            json!({"id": 3, "cmd": "watch_list", "params": {"limit": 10}})
        );
        let hello: Value = serde_json::from_str(&encode_request(1, "hello", "").unwrap()).unwrap();
        assert_eq!(hello["cmd"], "hello");
        assert_eq!(
            encode_request(1, "launch", "{}").unwrap_err().code,
            ErrorCode::UnknownCommand
        );
        assert_eq!(
            encode_request(1, "watch_get", "{}").unwrap_err().code,
            ErrorCode::BadParams
        );
        assert_eq!(
            encode_request(1, "watch_get", "{").unwrap_err().code,
            ErrorCode::BadParams
        );
        let e = encode_request_json(1, "watch_get", "{}");
        assert_eq!(
            (e["ok"].clone(), e["error"]["code"].clone()),
            (json!(false), json!("bad_params"))
        );
        assert_eq!(encode_request_json(2, "hello", "{}")["ok"], true);
    }

    #[test]
    fn host_frames_are_normalised() {
        let r = decode_host_message(r#"{"id": 5, "ok": true, "data": {"watches": []}}"#);
        assert_eq!(
            r,
            json!({"kind": "reply", "id": 5, "ok": true, "data": {"watches": []}})
        );
        let r = decode_host_message(
            r#"{"id": 6, "ok": false, "error": {"code": "invalid_watch", "message": "m", "fields": [{"field": "window.end", "message": "past"}]}}"#,
        );
        assert_eq!(r["kind"], "reply");
        assert_eq!(r["ok"], false);
        assert_eq!(r["error"]["fields"][0]["field"], "window.end");
        let r = decode_host_message(
            r#"{"event": "watch_event", "data": {"seq": 1, "watch_id": "w", "at": 2, "kind": "created", "message": "m", "data": null}}"#,
        );
        assert_eq!(r["kind"], "event");
        assert_eq!(r["event"], "watch_event");
        assert_eq!(r["data"]["watch_id"], "w");
        assert_eq!(decode_host_message("nope")["kind"], "invalid");
        assert_eq!(decode_host_message(r#"{"id": 1}"#)["kind"], "invalid");
    }

    #[test]
    fn the_params_table_agrees_with_the_protocol_parser() {
        // Every command has a row, in the protocol's order.
        let table: Vec<&str> = PARAMS.iter().map(|(c, _)| *c).collect();
        assert_eq!(table, protocol::Request::COMMANDS);
        let watch = json!({"target": {"platform": "pati", "dept_id": "d"},
            "window": {"start": "2026-11-27", "end": "2026-11-28"}, "interval": {"seconds": 60}});
        let patient = json!({"name": "张三", "id_number": "411423199001012113",
            "birthday": "1990-01-01", "sex": "male", "phone": "13812345678",
            "guardian": null});
        let samples: Vec<(&str, Value)> = vec![
            ("hello", json!({})),
            ("hello", json!(null)),
            ("hello", json!({"x": 1})),
            ("hello", json!([1])),
            ("watch_put", json!({"watch": watch})),
            ("watch_put", json!({})),
            (
                "watch_put",
                json!({"watch": {"target": {"platform": "pati"}}}),
            ),
            ("watch_put", json!({"watch": watch, "extra": true})),
            ("watch_get", json!({"id": "w"})),
            ("watch_get", json!({"id": 5})),
            ("watch_get", json!({"id": null})),
            ("watch_get", json!({})),
            ("watch_list", json!({})),
            ("watch_list", json!({"after": "c", "limit": 5})),
            ("watch_list", json!({"after": null, "limit": null})),
            ("watch_list", json!({"limit": -1})),
            ("watch_list", json!({"limit": 5.5})),
            ("watch_list", json!({"limit": 4294967296u64})),
            ("watch_list", json!({"limit": "5"})),
            ("watch_list", json!({"after": 3})),
            ("watch_delete", json!({"id": "w"})),
            ("watch_delete", json!({"id": ["w"]})),
            (
                "history_list",
                json!({"watch_id": "w", "before": 9, "limit": 2}),
            ),
            ("history_list", json!({"watch_id": "w", "before": -9})),
            (
                "history_list",
                json!({"watch_id": "w", "before": 18446744073709551615u64}),
            ),
            ("history_list", json!({"before": 9})),
            ("watch_pause", json!({"id": "w", "paused": true})),
            ("watch_pause", json!({"id": "w"})),
            ("watch_pause", json!({"id": "w", "paused": "yes"})),
            (
                "event_record",
                json!({"watch_id": "w", "kind": "slot_seen", "message": "m"}),
            ),
            (
                "event_record",
                json!({"watch_id": "w", "kind": "slot_seen", "message": "m", "data": {"date": "2026-12-03"}}),
            ),
            (
                "event_record",
                json!({"watch_id": "w", "kind": "slot_seen", "message": "m", "data": null}),
            ),
            (
                "event_record",
                json!({"watch_id": "w", "kind": "slot_seen"}),
            ),
            (
                "event_record",
                json!({"watch_id": "w", "kind": 3, "message": "m"}),
            ),
            ("channels_get", json!({})),
            ("channels_get", json!({"settings": {}})),
            ("channels_put", json!({"settings": {}})),
            (
                "channels_put",
                json!({"settings": {"email": {"enabled": true, "port": 25, "to": ["a@b"]}}, "clear_secrets": ["email.password"]}),
            ),
            (
                "channels_put",
                json!({"settings": {"email": {"port": 70000}}}),
            ),
            (
                "channels_put",
                json!({"settings": {"email": {"security": "ssl"}}}),
            ),
            (
                "channels_put",
                json!({"settings": {"email": {"smtp": "x"}}}),
            ),
            ("channels_put", json!({"settings": {"language": "fr"}})),
            (
                "channels_put",
                json!({"settings": {}, "clear_secrets": null}),
            ),
            (
                "channels_put",
                json!({"settings": {}, "clear_secrets": [1]}),
            ),
            ("channels_put", json!({})),
            ("send_test", json!({"channel": "email"})),
            ("send_test", json!({"channel": "telegram"})),
            ("send_test", json!({"channel": "pigeon"})),
            ("send_test", json!({"channel": 1})),
            ("send_test", json!({})),
            ("send_test_email", json!({})),
            ("send_test_email", json!({"to": "x"})),
            ("outbox_status", json!({})),
            ("booking_begin", json!({"watch_id": "w"})),
            (
                "booking_begin",
                json!({"watch_id": "w", "data": {"message": "m", "date": "2026-12-03"}}),
            ),
            ("booking_begin", json!({"watch_id": "w", "data": null})),
            ("booking_begin", json!({})),
            ("booking_begin", json!({"watch_id": 1})),
            ("booking_begin", json!({"watch_id": "w", "intent_id": "b"})),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "booked", "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "failed", "message": "m", "data": {"reason": "r"}}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "unknown", "message": "m", "data": null}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "submitted", "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "Booked", "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": null, "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "result": "booked", "message": "m"}),
            ),
            (
                "booking_end",
                json!({"watch_id": "w", "intent_id": "b", "result": "booked"}),
            ),
            ("booking_get", json!({"watch_id": "w"})),
            ("booking_get", json!({"watch_id": null})),
            ("booking_get", json!({"id": "w"})),
            ("patient_put", json!({"patient": patient})),
            ("patient_put", json!({"patient": {"name": "x"}})),
            ("patient_put", json!({"patient": null})),
            ("patient_put", json!({})),
            (
                "patient_put",
                json!({"patient": {"name": "张三", "id_number": "1", "birthday": "1990-13-01",
                    "sex": "male", "phone": "1"}}),
            ),
            ("patient_list", json!({})),
            ("patient_list", json!({"all": true})),
            ("patient_delete", json!({"id": "p-1"})),
            ("patient_delete", json!({})),
            (
                "site_account_put",
                json!({"platform": "91160", "account": "a", "secret": {"app_token": "t"}}),
            ),
            (
                "site_account_put",
                json!({"platform": "pati", "account": "138", "base_url": "http://h", "secret": null}),
            ),
            (
                "site_account_put",
                json!({"platform": "pati", "account": "a"}),
            ),
            (
                "site_account_put",
                json!({"platform": "pati", "account": "a", "base_url": null}),
            ),
            ("site_account_put", json!({"platform": "pati"})),
            ("site_accounts", json!({})),
            ("site_accounts", json!({"platform": null})),
            ("site_accounts", json!({"platform": "91160"})),
            ("site_accounts", json!({"platform": 91160})),
            (
                "site_account_delete",
                json!({"platform": "91160", "account": "a"}),
            ),
            ("site_account_delete", json!({"platform": "91160"})),
            (
                "site_browse",
                json!({"platform": "91160", "account": "a", "what": "units"}),
            ),
            (
                "site_browse",
                json!({"platform": "pati", "account": "a", "what": "doctors",
                       "parent": {"dept_id": "d"}, "refresh": true}),
            ),
            (
                "site_browse",
                json!({"platform": "pati", "account": "a", "what": "depts", "refresh": null}),
            ),
            (
                "site_browse",
                json!({"platform": "pati", "account": "a", "what": "depts", "refresh": "yes"}),
            ),
            ("site_browse", json!({"platform": "pati", "account": "a"})),
            ("booking_cancel", json!({"watch_id": "w", "reason": "r"})),
            ("booking_cancel", json!({"watch_id": "w"})),
            ("booking_cancel", json!({"watch_id": "w", "reason": 1})),
            (
                "zlb_config_put",
                json!({"base_url": "http://z", "apikey": "k", "secret": "s", "aes_key": "0123456789abcdef",
                       "interval_s": 300, "notify": "digest"}),
            ),
            ("zlb_config_put", json!({"base_url": "http://z"})),
            ("zlb_config_put", json!({"apikey": "k"})),
            (
                "zlb_config_put",
                json!({"base_url": "http://z", "notify": "hourly"}),
            ),
            (
                "zlb_config_put",
                json!({"base_url": "http://z", "interval_s": -1}),
            ),
            ("zlb_config_get", json!({})),
            ("zlb_test", json!({})),
            ("zlb_sync", json!({})),
            ("zlb_sync", json!({"now": true})),
            ("zlb_list", json!({})),
            (
                "zlb_list",
                json!({"from": "2026-11-28", "to": null, "query": "王", "include_cancelled": true, "limit": 5}),
            ),
            ("zlb_list", json!({"from": "28/11/2026"})),
            ("zlb_list", json!({"query": 5})),
            ("zlb_arrive", json!({"serial": "ZJ109-1", "at": "09:05"})),
            ("zlb_arrive", json!({"serial": "ZJ109-1", "at": null})),
            ("zlb_arrive", json!({"at": "09:05"})),
            ("zlb_rejects", json!({})),
            ("zlb_reject_release", json!({"serial": "ZJ109-1"})),
            ("zlb_reject_release", json!({})),
            ("zlb_export", json!({"to": "2026-12-01"})),
            ("zlb_export", json!({"limit": 5})),
            ("nonsense", json!({})),
        ];
        for (cmd, params) in samples {
            let theirs = protocol::parse_request(
                &json!({"id": 1, "cmd": cmd, "params": params}).to_string(),
            )
            .request
            .map(|_| ())
            .map_err(|e| e.code);
            let ours = encode_request(1, cmd, &params.to_string())
                .map(|_| ())
                .map_err(|e| e.code);
            assert_eq!(ours, theirs, "{cmd} {params}");
            // And what we send, the host reads as the same request.
            if let Ok(frame) = encode_request(1, cmd, &params.to_string()) {
                let e = protocol::parse_request(&frame);
                assert_eq!(e.id, json!(1));
                assert_eq!(e.request.unwrap().cmd(), cmd);
            }
        }
    }

    fn entry(kind: &str, data: Value) -> HistoryEntry {
        HistoryEntry {
            seq: 42,
            watch_id: "w-1".into(),
            at: 1_764_230_400_000,
            kind: kind.into(),
            message: "有号 1 个 for 张三 110101199003074578".into(),
            data,
        }
    }

    fn a_watch(label: &str) -> Watch {
        serde_json::from_value(json!({
            "id": "w-1", "label": label,
            "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "a",
                       "second_dept_code": "b", "hos_name": "北京协和医院", "dept_name": "眼科"},
            "window": {"start": "2026-11-27", "end": "2026-12-03"},
            "interval": {"seconds": 60, "jitter_pct": 20}
        }))
        .unwrap()
    }

    #[test]
    fn a_slot_raises_a_desktop_notice_with_where_when_and_the_booking_page() {
        let e = entry(
            "slot_seen",
            json!({"date": "2026-12-03", "period": "morning", "url": "https://www.114yygh.com/hospital/1/b"}),
        );
        let n = desktop_notice(&e, Some(&a_watch("协和眼科"))).unwrap();
        assert_eq!(n.id, "haoyuan-42");
        assert_eq!(n.title, "发现号源 Slot found · 协和眼科");
        assert_eq!(
            n.message,
            "114 · 北京协和医院 · 眼科 · 2026-12-03 上午\n有号 1 个 for 张三 1101**********4578"
        );
        assert_eq!(
            n.url.as_deref(),
            Some("https://www.114yygh.com/hospital/1/b")
        );
        assert!(n.live && n.sticky);

        // No label: the target names the watch; no watch at all: its id does.
        let n = desktop_notice(&e, Some(&a_watch(" "))).unwrap();
        assert_eq!(n.title, "发现号源 Slot found · 114 · 北京协和医院 · 眼科");
        let n = desktop_notice(&entry("booked", json!(null)), None).unwrap();
        assert_eq!(n.title, "预约成功 Booked · 监控 watch w-1");
        assert_eq!(n.message, "有号 1 个 for 张三 1101**********4578");
        assert!(!n.live && n.sticky && n.url.is_none());
        assert!(
            !desktop_notice(&entry("sync_result", json!({})), None)
                .unwrap()
                .sticky
        );

        // Kinds that are not told, and URLs that are not web pages.
        for kind in ["created", "updated", "deleted", "paused", "resumed"] {
            assert!(
                desktop_notice(&entry(kind, json!({})), None).is_none(),
                "{kind}"
            );
        }
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "chrome://settings",
            "https://",
            "https://a b",
            "",
        ] {
            let n = desktop_notice(&entry("slot_seen", json!({"url": url})), None).unwrap();
            assert_eq!(n.url, None, "{url}");
        }
        for kind in crate::notify::NOTIFY_KINDS {
            assert!(event_notifies(kind));
            assert_ne!(kind_title(kind), "号源 Haoyuan", "{kind} has a title");
        }
        assert!(!event_notifies("created"));
    }

    #[test]
    fn desktop_notice_json_reads_the_event_and_an_optional_watch() {
        let e = serde_json::to_string(&entry("slot_seen", json!({"date": "2026-12-03"}))).unwrap();
        let w = serde_json::to_string(&a_watch("")).unwrap();
        let v = desktop_notice_json(&e, &w);
        assert_eq!(v["notify"], true);
        assert_eq!(
            v["message"].as_str().unwrap().lines().next(),
            Some("114 · 北京协和医院 · 眼科 · 2026-12-03")
        );
        assert_eq!(
            desktop_notice_json(&e, "")["title"],
            "发现号源 Slot found · 监控 watch w-1"
        );
        assert_eq!(desktop_notice_json("nope", "")["notify"], false);
        let created = serde_json::to_string(&entry("created", json!(null))).unwrap();
        assert_eq!(desktop_notice_json(&created, &w), json!({"notify": false}));
    }

    #[test]
    fn channel_settings_round_trip_through_the_form_and_secrets_stay_out() {
        let forms = channel_forms();
        let ids: Vec<_> = forms.iter().map(|f| f.channel).collect();
        assert_eq!(ids, Channel::ALL);
        assert_eq!(forms[0].test_cmd, "send_test_email");
        assert!(forms[1..].iter().all(|f| f.test_cmd == "send_test"));
        // Every secret of the core is a secret input, and every input a real settings path.
        let fields = all_setting_fields();
        let secret_inputs: Vec<&str> = fields
            .iter()
            .filter(|f| f.kind == SettingKind::Secret)
            .map(|f| f.path)
            .collect();
        let mut core_secrets: Vec<&str> = crate::notify::SECRET_FIELDS.to_vec();
        core_secrets.push(crate::notify::TELEGRAM_SECRET);
        let mut sorted = secret_inputs.clone();
        sorted.sort();
        core_secrets.sort();
        assert_eq!(sorted, core_secrets);
        let defaults = serde_json::to_value(ChannelSettings::default()).unwrap();
        for f in &fields {
            assert!(
                value_at(&defaults, f.path).is_some(),
                "{} is a settings path",
                f.path
            );
        }

        let mut s = ChannelSettings {
            language: crate::notify::Lang::En,
            ..ChannelSettings::default()
        };
        s.email.enabled = true;
        s.email.host = "127.0.0.1".into();
        s.email.port = 2525;
        s.email.security = crate::notify::SmtpSecurity::None;
        s.email.password = "hunter2".into();
        s.email.to = vec!["a@example.com".into(), "b@example.com".into()];
        s.telegram.chat_id = "99".into();
        let (red, set) = s.redacted();
        let view = json!({"settings": red, "secrets_set": set});
        let form = channels_to_form(&view);
        assert_eq!(form["values"]["email.port"], "2525");
        assert_eq!(form["values"]["email.timeout_secs"], "");
        assert_eq!(form["values"]["email.to"], "a@example.com, b@example.com");
        assert_eq!(form["values"]["email.enabled"], true);
        assert_eq!(form["values"]["email.security"], "none");
        assert_eq!(form["values"]["language"], "en");
        assert_eq!(form["values"]["email.password"], "");
        assert_eq!(form["secrets_set"], json!(["email.password"]));
        // Even a host that sent a secret would not get it into the form.
        let leaky = json!({"settings": s, "secrets_set": []});
        assert!(!channels_to_form(&leaky).to_string().contains("hunter2"));

        // Back: the same settings (secrets blank, kept by the host), plus what was cleared.
        let values = form["values"].as_object().unwrap().clone();
        let params =
            channels_from_form(&values, &["email.password".into(), "email.host".into()]).unwrap();
        let back: ChannelSettings = serde_json::from_value(params["settings"].clone()).unwrap();
        assert_eq!(back, red);
        assert_eq!(params["clear_secrets"], json!(["email.password"]));
        assert!(encode_request(1, "channels_put", &params.to_string()).is_ok());

        // Unreadable numbers and choices are named by path, like the host's invalid_settings.
        let mut bad = values.clone();
        bad.insert("email.port".into(), json!("99999"));
        bad.insert("email.security".into(), json!("ssl"));
        bad.insert("email.to".into(), json!("x@y.z；w@v.u"));
        let errs = channels_from_form(&bad, &[]).unwrap_err();
        let named: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["email.port", "email.security"]);
        let json = channels_from_form_json(
            &json!({"values": {"email.enabled": "on", "email.to": "x@y.z；w@v.u"}}).to_string(),
        );
        assert_eq!(json["ok"], true);
        assert_eq!(json["params"]["settings"]["email"]["enabled"], true);
        assert_eq!(
            json["params"]["settings"]["email"]["to"],
            json!(["x@y.z", "w@v.u"])
        );
        assert_eq!(json["params"]["settings"]["email"]["security"], "starttls");
        assert_eq!(json["params"]["settings"]["language"], "zh");
    }

    #[test]
    fn the_outbox_view_names_failing_channels_and_undelivered_messages() {
        let status = json!({
            "channels": [
                {"channel": "email", "enabled": true, "pending": 1, "sent": 3, "failed": 1,
                 "last_error": "550 5.1.1 no such user", "last_error_at": 5},
                {"channel": "webhook", "enabled": true, "pending": 2, "sent": 0, "failed": 0},
                {"channel": "bark", "enabled": true, "pending": 0, "sent": 7, "failed": 0},
                {"channel": "feishu", "enabled": true, "pending": 0, "sent": 0, "failed": 0},
                {"channel": "telegram", "enabled": false, "pending": 0, "sent": 0, "failed": 0,
                 "last_error": "old"},
                {"channel": "carrier_pigeon", "enabled": true, "pending": 0, "sent": 0, "failed": 0}
            ],
            "failures": [{"id": "n-1", "channel": "email", "subject": "114 · 协和 · 眼科 · 发现号源",
                          "error": "550 5.1.1 no such user", "at": 5}]
        });
        let v = outbox_view(&status);
        let states: Vec<_> = v["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["channel"].as_str().unwrap(), c["state"].as_str().unwrap()))
            .collect();
        assert_eq!(
            states,
            [
                ("email", "error"),
                ("webhook", "pending"),
                ("bark", "ok"),
                ("feishu", "idle")
            ]
        );
        assert_eq!(
            v["channels"][0]["text"],
            "邮件 Email: 上次发送失败 last attempt failed — 550 5.1.1 no such user"
        );
        assert_eq!(
            v["failures"][0]["text"],
            "邮件未送达: 114 · 协和 · 眼科 · 发现号源 — 550 5.1.1 no such user"
        );
        assert_eq!(
            outbox_view(&json!(null)),
            json!({"channels": [], "failures": []})
        );
    }
}
