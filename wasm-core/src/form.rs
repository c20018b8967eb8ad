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
use crate::protocol::{self, ErrorBody, ErrorCode, Hello, HostMessage, PROTOCOL_MAJOR};
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
        ],
        Platform::Rail12306 => vec![
            field(
                "from_station",
                "出发站 From (telecode)",
                Telecode,
                true,
                "VNP",
            ),
            field("to_station", "到达站 To (telecode)", Telecode, true, "AOH"),
            field(
                "trains",
                "车次 Trains (optional, comma-separated)",
                List,
                false,
                "G1, G3",
            ),
            field(
                "seat_types",
                "席别 Seat codes (optional, in order)",
                List,
                false,
                "O, M",
            ),
        ],
        Platform::Open91160 => vec![
            field("unit_id", "医院ID Unit id", Text, true, "21"),
            field("dep_id", "科室ID Department id", Text, true, "369"),
            field("doctor_id", "医生ID Doctor id (optional)", Text, false, ""),
        ],
        Platform::Pati => vec![
            field("dept_id", "科室ID Department id", Text, true, "1001"),
            field("doctor_id", "医生ID Doctor id (optional)", Text, false, ""),
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
    /// The platform's target inputs by [`FieldSpec::name`]; other keys are ignored.
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

    let mut target = Map::new();
    target.insert("platform".into(), json!(platform.id()));
    for spec in target_fields(platform) {
        let raw = text_of(form.target.get(spec.name));
        let value = match spec.kind {
            FieldKind::Text => json!(raw),
            FieldKind::Telecode => json!(raw.to_ascii_uppercase()),
            FieldKind::List => json!(split_list(&raw)
                .into_iter()
                .map(|s| if spec.name == "seat_types" {
                    s.to_ascii_uppercase()
                } else {
                    s
                })
                .collect::<Vec<_>>()),
        };
        target.insert(spec.name.into(), value);
    }
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
    let form: WatchForm = match serde_json::from_str::<Value>(form_json)
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
    match serde_json::from_str::<Value>(watch_json).and_then(serde_json::from_value::<Watch>) {
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

/// Builds a request frame's JSON text from a command and its params' JSON text (empty
/// means no params), checking it exactly as the host will: an unknown command or bad
/// params fail here, before anything is sent.
pub fn encode_request(id: u32, cmd: &str, params_json: &str) -> Result<String, ErrorBody> {
    let params: Value = if params_json.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(params_json).map_err(|e| {
            ErrorBody::new(
                ErrorCode::BadParams,
                format!("the params of {cmd} are not valid JSON: {e}"),
            )
        })?
    };
    let text = json!({"id": id, "cmd": cmd, "params": params}).to_string();
    let envelope = protocol::parse_request(&text);
    let request = envelope.request?;
    Ok(protocol::request_json(&json!(id), &request))
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
            let mut t = Map::new();
            for f in &p.fields {
                t.insert(f.name.into(), json!(f.placeholder));
            }
            let f = form(
                json!({"platform": p.id, "target": t, "end": "2026-11-28", "interval_seconds": 60}),
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
        assert_eq!(
            w.target,
            Target::Rail12306 {
                from_station: "VNP".into(),
                to_station: "AOH".into(),
                trains: vec!["G1".into(), "G3".into(), "G5".into()],
                seat_types: vec!["O".into(), "M".into()],
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
            json!({"id": 3, "cmd": "watch_list", "params": {"after": null, "limit": 10}})
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
}
