//! [`Notice`] → [`HttpRequest`] for the webhook channels, and their servers' replies →
//! delivered or [`DeliveryError`]. Sans-IO: the host sends the request (and the clock
//! reading comes from the caller, for the signatures).
//!
//! | channel | request |
//! |---|---|
//! | generic webhook | `POST {url}`, JSON `{id, kind, watch_id, subject, text, url, at}` |
//! | Bark | `POST {server}/push`, JSON `{device_key, title, body, group: "haoyuan", id, url?}` (bark-server API v2) |
//! | ServerChan (Server酱 Turbo) | `POST {server}/{SendKey}.send`, form `title`, `desp` |
//! | DingTalk group robot | `POST {webhook}[&timestamp=&sign=]`, JSON `{"msgtype":"text","text":{"content":…}}` |
//! | Feishu custom bot | `POST {webhook}`, JSON `{["timestamp","sign",]"msg_type":"text","content":{"text":…}}` |
//! | Telegram bot | `POST {api_base}/bot{token}/sendMessage`, JSON `{chat_id, text, disable_web_page_preview}` |
//!
//! Every body carries the notice id (a field, or the last line of the text) so a
//! receiver can drop a repeat after a crash-and-retry; Bark also uses it as the
//! notification's id, so a repeat replaces the first rather than adding a second.
//!
//! Signatures ("加签"):
//! - DingTalk: `sign = urlencode(base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret)))`,
//!   `timestamp` in milliseconds, both appended to the webhook's query.
//! - Feishu: `sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, msg = ""))`,
//!   `timestamp` in seconds (as a string), both in the JSON body.
//!
//! Replies: HTTP 429 and 5xx, and the platforms' rate-limit codes, are transient (retried
//! with backoff); other 4xx, redirects, and app-level refusals in a 200 body (bad
//! signature, bad token, unknown chat, keyword missing) are permanent. No message built
//! here contains a request URL (they hold tokens); the server's own words are quoted
//! briefly, and [`redact_secrets`] removes any setting value a server might echo.

use super::{Channel, ChannelSettings, DeliveryError, Notice};
use crate::http::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The public Bark server.
pub const BARK_DEFAULT_SERVER: &str = "https://api.day.app";
/// The ServerChan Turbo API server.
pub const SERVERCHAN_DEFAULT_SERVER: &str = "https://sctapi.ftqq.com";
/// The Telegram Bot API server.
pub const TELEGRAM_DEFAULT_API: &str = "https://api.telegram.org";
/// The group Bark notifications are filed under.
pub const BARK_GROUP: &str = "haoyuan";
/// Telegram refuses a message longer than this many characters.
pub const TELEGRAM_MAX_CHARS: usize = 4096;
/// A bound on the text sent to the chat robots (their limits are around 20 KB).
pub const ROBOT_MAX_CHARS: usize = 4000;

/// Builds the request that delivers `n` through `channel`. `now_ms` (Unix ms) is the
/// signing time of DingTalk and Feishu. Settings the channel needs and lacks give a
/// permanent error naming the setting; [`Channel::Email`] is not an HTTP channel.
pub fn build(
    channel: Channel,
    s: &ChannelSettings,
    n: &Notice,
    now_ms: i64,
) -> Result<HttpRequest, DeliveryError> {
    match channel {
        Channel::Email => Err(DeliveryError::permanent(
            "email is sent over SMTP, not as a webhook request",
        )),
        Channel::Webhook => {
            let url = required_url(&s.webhook.url, "the generic webhook", "webhook.url")?;
            let body = json!({
                "id": n.id,
                "kind": n.kind,
                "watch_id": n.watch_id,
                "subject": n.subject,
                "text": n.text,
                "url": n.url,
                "at": n.at,
            });
            post_json(url, &body)
        }
        Channel::Bark => {
            let key = required(&s.bark.key, "Bark", "bark.key", "the device key")?;
            let server = server_or(&s.bark.server, BARK_DEFAULT_SERVER, "Bark", "bark.server")?;
            let mut body = json!({
                "device_key": key,
                "title": n.subject,
                "body": with_id(&n.text, &n.id),
                "group": BARK_GROUP,
                "id": n.id,
            });
            if let Some(u) = &n.url {
                body["url"] = json!(u);
            }
            post_json(&format!("{server}/push"), &body)
        }
        Channel::Serverchan => {
            let key = required(
                &s.serverchan.send_key,
                "ServerChan",
                "serverchan.send_key",
                "the SendKey",
            )?;
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(DeliveryError::permanent(
                    "ServerChan: the SendKey holds characters a SendKey never has (setting serverchan.send_key)",
                ));
            }
            let url = if s.serverchan.server.trim().is_empty() {
                serverchan_default_url(key)
            } else {
                let server = server_or(
                    &s.serverchan.server,
                    SERVERCHAN_DEFAULT_SERVER,
                    "ServerChan",
                    "serverchan.server",
                )?;
                format!("{server}/{key}.send")
            };
            let mut desp = with_id(&n.text, &n.id);
            if let Some(u) = &n.url {
                if !desp.contains(u.as_str()) {
                    desp = format!("{desp}\n\n{u}");
                }
            }
            // ServerChan renders desp as Markdown: two trailing spaces keep line breaks.
            let desp = desp.replace('\n', "  \n");
            Ok(HttpRequest::post_form(
                url,
                &[("title", clip(&n.subject, 100)), ("desp", desp)],
            ))
        }
        Channel::Dingtalk => {
            let hook = required_url(&s.dingtalk.webhook, "DingTalk", "dingtalk.webhook")?;
            let content = robot_text(n);
            let body = json!({"msgtype": "text", "text": {"content": content}});
            let secret = s.dingtalk.secret.trim();
            let url = if secret.is_empty() {
                hook.to_string()
            } else {
                let ts = now_ms.to_string();
                let sign = dingtalk_sign(secret, &ts);
                crate::http::append_query(hook, &[("timestamp", ts), ("sign", sign)])
            };
            post_json(&url, &body)
        }
        Channel::Feishu => {
            let hook = required_url(&s.feishu.webhook, "Feishu", "feishu.webhook")?;
            let content = robot_text(n);
            let secret = s.feishu.secret.trim();
            let body = if secret.is_empty() {
                json!({"msg_type": "text", "content": {"text": content}})
            } else {
                let ts = now_ms.div_euclid(1000).to_string();
                let sign = feishu_sign(secret, &ts);
                json!({"timestamp": ts, "sign": sign, "msg_type": "text", "content": {"text": content}})
            };
            post_json(hook, &body)
        }
        Channel::Telegram => {
            let token = required(
                &s.telegram.bot_token,
                "Telegram",
                "telegram.bot_token",
                "the bot token",
            )?;
            let chat = required(
                &s.telegram.chat_id,
                "Telegram",
                "telegram.chat_id",
                "the chat id",
            )?;
            if !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '-')
            {
                return Err(DeliveryError::permanent(
                    "Telegram: the bot token holds characters a token never has (setting telegram.bot_token)",
                ));
            }
            let api = server_or(
                &s.telegram.api_base,
                TELEGRAM_DEFAULT_API,
                "Telegram",
                "telegram.api_base",
            )?;
            let text = fit_with_id(
                &format!("{}\n\n{}", n.subject, n.text),
                &n.id,
                TELEGRAM_MAX_CHARS,
            );
            let body = json!({"chat_id": chat, "text": text, "disable_web_page_preview": true});
            post_json(&format!("{api}/bot{token}/sendMessage"), &body)
        }
    }
}

/// Reads a channel server's reply: `Ok` with a short detail for the person
/// (`HTTP 200 errcode 0`), or why it was not delivered, permanent or transient.
pub fn interpret(channel: Channel, r: &HttpResponse) -> Result<String, DeliveryError> {
    let name = channel.server_name();
    let status = r.status;
    let body: Option<Value> = serde_json::from_slice(&r.body).ok();

    // The platform's own verdict, when its reply says one.
    let app = body.as_ref().and_then(|v| app_verdict(channel, v));

    if let Some(AppVerdict::Refused {
        code,
        message,
        rate_limited: true,
    }) = &app
    {
        return Err(DeliveryError::transient(format!(
            "{name} asks to slow down (HTTP {status}, code {code}: {message}); will retry later"
        )));
    }
    if status == 429 {
        return Err(DeliveryError::transient(format!(
            "{name} asks to slow down (HTTP 429{}); will retry later",
            app_suffix(&app)
        )));
    }
    if (500..=599).contains(&status) {
        return Err(DeliveryError::transient(format!(
            "{name}'s server had a problem (HTTP {status}{}); will retry later",
            app_suffix(&app)
        )));
    }
    if (300..=399).contains(&status) {
        return Err(DeliveryError::permanent(format!(
            "{name} answered with a redirect (HTTP {status}) instead of taking the message; check the address in the settings"
        )));
    }
    if !(200..=299).contains(&status) {
        let hint = match status {
            401 | 403 => "; check the token or key in the settings",
            404 => "; check the address, key or token in the settings",
            _ => "",
        };
        let what = match &app {
            Some(_) => app_suffix(&app),
            None => excerpt_suffix(r),
        };
        return Err(DeliveryError::permanent(format!(
            "{name} refused the message (HTTP {status}{what}){hint}"
        )));
    }

    // 2xx.
    if channel == Channel::Webhook {
        return Ok(format!("HTTP {status}"));
    }
    match app {
        Some(AppVerdict::Ok(detail)) => Ok(format!("HTTP {status} {detail}")),
        Some(AppVerdict::Refused { code, message, .. }) => Err(DeliveryError::permanent(format!(
            "{name} refused the message (code {code}: {message}){}",
            refusal_hint(channel, &code)
        ))),
        None => Err(DeliveryError::permanent(format!(
            "the reply (HTTP {status}) is not what {name} sends{}; check the address in the settings",
            excerpt_suffix(r)
        ))),
    }
}

/// What is missing for `channel` to send, as [`build`] would report it; `Ok` when
/// nothing is. Lets the caller tell "not set up" apart before trying.
pub fn check(channel: Channel, s: &ChannelSettings) -> Result<(), DeliveryError> {
    let probe = Notice {
        id: "check".into(),
        kind: "test".into(),
        watch_id: String::new(),
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        url: None,
        at: 0,
    };
    build(channel, s, &probe, 0).map(|_| ())
}

/// `text` with every secret of `s` (and each long path segment or query value of a
/// secret URL, which a server may echo) replaced by `***`. For error messages and
/// details that quote a server's reply.
pub fn redact_secrets(text: &str, s: &ChannelSettings) -> String {
    let mut secrets: Vec<String> = Vec::new();
    let mut add = |v: &str| {
        let v = v.trim();
        if v.len() >= 4 {
            secrets.push(v.to_string());
        }
    };
    for v in [
        &s.email.password,
        &s.bark.key,
        &s.serverchan.send_key,
        &s.dingtalk.secret,
        &s.feishu.secret,
        &s.telegram.bot_token,
    ] {
        add(v);
    }
    for url in [&s.webhook.url, &s.dingtalk.webhook, &s.feishu.webhook] {
        add(url);
        // The parts after the host: path segments, query values.
        let rest = url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(url)
            .split_once('/')
            .map(|(_, r)| r)
            .unwrap_or("");
        for part in rest.split(['/', '?', '&', '=', '#']) {
            if part.len() >= 6 {
                add(part);
            }
        }
    }
    // The Telegram token's secret half is enough to act; hide it alone too.
    if let Some((_, half)) = s.telegram.bot_token.split_once(':') {
        add(half);
    }
    secrets.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_string();
    for v in secrets {
        if out.contains(&v) {
            out = out.replace(&v, "***");
        }
    }
    out
}

/// The DingTalk signature of `timestamp` (ms, as sent) before URL encoding:
/// `base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret))`.
pub fn dingtalk_sign(secret: &str, timestamp: &str) -> String {
    hmac_b64(
        secret.as_bytes(),
        format!("{timestamp}\n{secret}").as_bytes(),
    )
}

/// The Feishu signature of `timestamp` (seconds, as sent):
/// `base64(HMAC-SHA256(key = timestamp + "\n" + secret, msg = ""))`.
pub fn feishu_sign(secret: &str, timestamp: &str) -> String {
    hmac_b64(format!("{timestamp}\n{secret}").as_bytes(), b"")
}

// ---------------------------------------------------------------------------------

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(msg);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn post_json(url: &str, body: &Value) -> Result<HttpRequest, DeliveryError> {
    HttpRequest::post_json(url, body)
        .map_err(|e| DeliveryError::permanent(format!("the message could not be written: {e}")))
}

fn required<'a>(
    v: &'a str,
    who: &str,
    setting: &str,
    what: &str,
) -> Result<&'a str, DeliveryError> {
    let v = v.trim();
    if v.is_empty() {
        Err(DeliveryError::permanent(format!(
            "{who} is not set up: {what} is missing (setting {setting})"
        )))
    } else {
        Ok(v)
    }
}

fn is_http_url(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/'))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn required_url<'a>(v: &'a str, who: &str, setting: &str) -> Result<&'a str, DeliveryError> {
    let v = required(v, who, setting, "the webhook address")?;
    if is_http_url(v) {
        Ok(v)
    } else {
        Err(DeliveryError::permanent(format!(
            "{who}: the webhook address must start with https:// or http:// (setting {setting})"
        )))
    }
}

/// The configured server without a trailing `/`, or `default` when empty.
fn server_or(v: &str, default: &str, who: &str, setting: &str) -> Result<String, DeliveryError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(default.to_string());
    }
    if !is_http_url(v) {
        return Err(DeliveryError::permanent(format!(
            "{who}: the server must start with https:// or http:// (setting {setting}; leave it empty for {default})"
        )));
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// ServerChan's own rule: a Server酱³ key `sctp<uid>t…` goes to
/// `https://<uid>.push.ft07.com/send/<key>.send`; any other key to
/// `https://sctapi.ftqq.com/<key>.send`.
fn serverchan_default_url(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("sctp") {
        let uid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !uid.is_empty() && rest[uid.len()..].starts_with('t') {
            return format!("https://{uid}.push.ft07.com/send/{key}.send");
        }
    }
    format!("{SERVERCHAN_DEFAULT_SERVER}/{key}.send")
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text`, with a last line naming `id` unless the text already holds it.
fn with_id(text: &str, id: &str) -> String {
    if text.contains(id) {
        text.to_string()
    } else {
        format!("{}\nHaoyuan 号源 · id {id}", text.trim_end())
    }
}

/// `text` cut to `max` characters, keeping the id line at the end.
fn fit_with_id(text: &str, id: &str, max: usize) -> String {
    let full = with_id(text, id);
    if full.chars().count() <= max {
        return full;
    }
    let tail = format!("…\nHaoyuan 号源 · id {id}");
    let keep = max.saturating_sub(tail.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&tail);
    out
}

/// What the chat robots show: the subject, a blank line, the text (with the id).
fn robot_text(n: &Notice) -> String {
    fit_with_id(
        &format!("{}\n\n{}", n.subject, n.text),
        &n.id,
        ROBOT_MAX_CHARS,
    )
}

enum AppVerdict {
    Ok(String),
    Refused {
        code: String,
        message: String,
        rate_limited: bool,
    },
}

fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    clip(&one, 160)
}

fn code_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => short(s),
        Some(Value::Null) | None => String::new(),
        Some(other) => short(&other.to_string()),
    }
}

fn looks_rate_limited(message: &str) -> bool {
    let m = message.to_lowercase();
    [
        "too fast",
        "too many",
        "too frequent",
        "frequency",
        "rate limit",
        "限流",
        "频繁",
        "太快",
        "频率",
    ]
    .iter()
    .any(|k| m.contains(k))
}

/// The platform's verdict from its JSON reply (`None` when the reply is not the
/// platform's shape).
fn app_verdict(channel: Channel, v: &Value) -> Option<AppVerdict> {
    let refused = |code: i64, message: String, rate: bool| AppVerdict::Refused {
        code: code.to_string(),
        rate_limited: rate || looks_rate_limited(&message),
        message,
    };
    match channel {
        Channel::Dingtalk => {
            let code = code_of(v.get("errcode")?)?;
            let msg = text_of(v.get("errmsg"));
            Some(if code == 0 {
                AppVerdict::Ok("errcode 0".to_string())
            } else {
                // 130101: "send too fast, exceed 20 times per minute"; -1: system busy.
                refused(code, msg, code == 130101 || code == -1)
            })
        }
        Channel::Feishu => {
            let code = v
                .get("code")
                .and_then(code_of)
                .or_else(|| v.get("StatusCode").and_then(code_of))?;
            let msg = {
                let m = text_of(v.get("msg"));
                if m.is_empty() {
                    text_of(v.get("StatusMessage"))
                } else {
                    m
                }
            };
            Some(if code == 0 {
                AppVerdict::Ok("code 0".to_string())
            } else {
                // 9499: "too many request" (sent with HTTP 400).
                refused(code, msg, code == 9499)
            })
        }
        Channel::Serverchan => {
            let code = code_of(v.get("code")?)?;
            let msg = {
                let m = text_of(v.get("message"));
                if m.is_empty() {
                    text_of(v.get("info"))
                } else {
                    m
                }
            };
            Some(if code == 0 {
                let push = v
                    .pointer("/data/pushid")
                    .map(|p| format!(" pushid {}", text_of(Some(p))))
                    .unwrap_or_default();
                AppVerdict::Ok(format!("code 0{push}"))
            } else {
                refused(code, msg, false)
            })
        }
        Channel::Bark => {
            let code = code_of(v.get("code")?)?;
            let msg = text_of(v.get("message"));
            Some(if code == 200 {
                AppVerdict::Ok("code 200".to_string())
            } else {
                refused(code, msg, code == 429)
            })
        }
        Channel::Telegram => {
            let ok = v.get("ok")?.as_bool()?;
            if ok {
                let id = v
                    .pointer("/result/message_id")
                    .and_then(Value::as_i64)
                    .map(|m| format!(" message_id {m}"))
                    .unwrap_or_default();
                Some(AppVerdict::Ok(format!("ok{id}")))
            } else {
                let code = v.get("error_code").and_then(code_of).unwrap_or(0);
                let msg = text_of(v.get("description"));
                Some(refused(code, msg, code == 429))
            }
        }
        Channel::Webhook | Channel::Email => None,
    }
}

fn app_suffix(app: &Option<AppVerdict>) -> String {
    match app {
        Some(AppVerdict::Refused { code, message, .. }) if message.is_empty() => {
            format!(", code {code}")
        }
        Some(AppVerdict::Refused { code, message, .. }) => format!(", code {code}: {message}"),
        _ => String::new(),
    }
}

fn excerpt_suffix(r: &HttpResponse) -> String {
    let e = r.excerpt();
    if e.is_empty() {
        String::new()
    } else {
        format!("; it begins: {}", clip(&e, 80))
    }
}

fn refusal_hint(channel: Channel, code: &str) -> &'static str {
    match (channel, code) {
        (Channel::Dingtalk, "310000") => {
            "; check the robot's security settings: the signing secret (加签), keywords (add 号源) or IP range"
        }
        (Channel::Dingtalk, "300001") | (Channel::Dingtalk, "400013") | (Channel::Dingtalk, "400101") => {
            "; check the robot's webhook address"
        }
        (Channel::Feishu, "19021") => "; check the signing secret (签名校验) and this computer's clock",
        (Channel::Feishu, "19022") => "; the robot's IP allow-list refuses this computer",
        (Channel::Feishu, "19024") => "; the robot's keyword filter refused it: add the keyword 号源",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Body, Method, CONTENT_TYPE_FORM, CONTENT_TYPE_JSON};

    fn notice() -> Notice {
        Notice {
            id: "msg-42".into(),
            kind: "booked".into(),
            watch_id: "w-1".into(),
            subject: "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功".into(),
            text: "已为你预约成功。\n—\nHaoyuan 号源 · 消息编号 msg-42\n".into(),
            html: "<p>x</p>".into(),
            url: Some("https://www.114yygh.com/order/1".into()),
            at: 1_795_742_100_000,
        }
    }

    fn body_json(r: &HttpRequest) -> Value {
        match &r.body {
            Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
            other => panic!("not a text body: {other:?}"),
        }
    }

    fn body_text(r: &HttpRequest) -> &str {
        match &r.body {
            Some(Body::Text(t)) => t,
            other => panic!("not a text body: {other:?}"),
        }
    }

    fn settings() -> ChannelSettings {
        let mut s = ChannelSettings::default();
        s.webhook.url = "https://hooks.example.com/in/abc123".into();
        s.bark.key = "BarkKey123".into();
        s.serverchan.send_key = "SCT12345TabcdEF".into();
        s.dingtalk.webhook = "https://oapi.dingtalk.com/robot/send?access_token=tok123".into();
        s.feishu.webhook = "https://open.feishu.cn/open-apis/bot/v2/hook/uuid-0001".into();
        s.telegram.bot_token = "123456:ABC-def_ghi".into();
        s.telegram.chat_id = "-1001234".into();
        s
    }

    #[test]
    fn generic_webhook_posts_the_notice() {
        let r = build(Channel::Webhook, &settings(), &notice(), 0).unwrap();
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://hooks.example.com/in/abc123");
        assert_eq!(r.header_value("content-type"), Some(CONTENT_TYPE_JSON));
        let n = notice();
        assert_eq!(
            body_json(&r),
            json!({"id": "msg-42", "kind": "booked", "watch_id": "w-1", "subject": n.subject,
                   "text": n.text, "url": "https://www.114yygh.com/order/1", "at": 1_795_742_100_000i64})
        );
        let mut no_url = notice();
        no_url.url = None;
        let r = build(Channel::Webhook, &settings(), &no_url, 0).unwrap();
        assert_eq!(body_json(&r)["url"], Value::Null);
    }

    #[test]
    fn bark_posts_to_push_with_the_device_key() {
        let r = build(Channel::Bark, &settings(), &notice(), 0).unwrap();
        assert_eq!(r.url, "https://api.day.app/push");
        let b = body_json(&r);
        assert_eq!(b["device_key"], "BarkKey123");
        assert_eq!(b["title"], notice().subject);
        assert_eq!(b["body"], notice().text);
        assert_eq!(b["group"], "haoyuan");
        assert_eq!(b["id"], "msg-42");
        assert_eq!(b["url"], "https://www.114yygh.com/order/1");
        let mut s = settings();
        s.bark.server = "https://bark.example.org/".into();
        let r = build(Channel::Bark, &s, &notice(), 0).unwrap();
        assert_eq!(r.url, "https://bark.example.org/push");
    }

    #[test]
    fn serverchan_posts_a_form_to_the_key() {
        let r = build(Channel::Serverchan, &settings(), &notice(), 0).unwrap();
        assert_eq!(r.url, "https://sctapi.ftqq.com/SCT12345TabcdEF.send");
        assert_eq!(r.header_value("content-type"), Some(CONTENT_TYPE_FORM));
        let form = body_text(&r);
        assert!(form.starts_with("title=114+%C2%B7+"), "{form}");
        assert!(form.contains("&desp="));
        assert!(form.contains("msg-42"), "the id is in desp: {form}");
        assert!(form.contains("https%3A%2F%2Fwww.114yygh.com%2Forder%2F1"));
        let mut s = settings();
        s.serverchan.send_key = "sctp1234tAbCd".into();
        let r = build(Channel::Serverchan, &s, &notice(), 0).unwrap();
        assert_eq!(r.url, "https://1234.push.ft07.com/send/sctp1234tAbCd.send");
        s.serverchan.server = "http://127.0.0.1:9/".into();
        let r = build(Channel::Serverchan, &s, &notice(), 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9/sctp1234tAbCd.send");
        s.serverchan.send_key = "a/b".into();
        assert!(
            build(Channel::Serverchan, &s, &notice(), 0)
                .unwrap_err()
                .permanent
        );
    }

    #[test]
    fn dingtalk_signs_with_the_known_vector() {
        // python3: ts = "1764230400000"; secret = "SECtestsecret0123456789"
        //   base64.b64encode(hmac.new(secret.encode(), (ts + "\n" + secret).encode(),
        //                    hashlib.sha256).digest())
        //   -> /BYzbJedQfFKI2zC3nHSMR45RCTzq8EsYHeSWFFj7ro=
        //   urllib.parse.quote_plus(...) -> %2FBYzbJedQfFKI2zC3nHSMR45RCTzq8EsYHeSWFFj7ro%3D
        assert_eq!(
            dingtalk_sign("SECtestsecret0123456789", "1764230400000"),
            "/BYzbJedQfFKI2zC3nHSMR45RCTzq8EsYHeSWFFj7ro="
        );
        let mut s = settings();
        s.dingtalk.secret = "SECtestsecret0123456789".into();
        let r = build(Channel::Dingtalk, &s, &notice(), 1_764_230_400_000).unwrap();
        assert_eq!(
            r.url,
            "https://oapi.dingtalk.com/robot/send?access_token=tok123&timestamp=1764230400000\
             &sign=%2FBYzbJedQfFKI2zC3nHSMR45RCTzq8EsYHeSWFFj7ro%3D"
        );
        let b = body_json(&r);
        assert_eq!(b["msgtype"], "text");
        let content = b["text"]["content"].as_str().unwrap();
        assert!(content.starts_with(&format!("{}\n\n已为你预约成功。", notice().subject)));
        assert!(content.contains("msg-42"));
        assert_eq!(b.as_object().unwrap().len(), 2);
        // No secret: no signature.
        let r = build(Channel::Dingtalk, &settings(), &notice(), 1).unwrap();
        assert_eq!(
            r.url,
            "https://oapi.dingtalk.com/robot/send?access_token=tok123"
        );
    }

    #[test]
    fn feishu_signs_with_the_known_vector() {
        // python3: ts = "1764230400"; secret = "feishuSecret42"
        //   base64.b64encode(hmac.new((ts + "\n" + secret).encode(), b"",
        //                    hashlib.sha256).digest())
        //   -> 3KNb7uS7tVw7RPpFYqPyWEm61jHhujN8LYYWeMfkaao=
        assert_eq!(
            feishu_sign("feishuSecret42", "1764230400"),
            "3KNb7uS7tVw7RPpFYqPyWEm61jHhujN8LYYWeMfkaao="
        );
        let mut s = settings();
        s.feishu.secret = "feishuSecret42".into();
        let r = build(Channel::Feishu, &s, &notice(), 1_764_230_400_999).unwrap();
        assert_eq!(
            r.url,
            "https://open.feishu.cn/open-apis/bot/v2/hook/uuid-0001"
        );
        let b = body_json(&r);
        assert_eq!(b["timestamp"], "1764230400");
        assert_eq!(b["sign"], "3KNb7uS7tVw7RPpFYqPyWEm61jHhujN8LYYWeMfkaao=");
        assert_eq!(b["msg_type"], "text");
        assert!(b["content"]["text"].as_str().unwrap().contains("msg-42"));
        let r = build(Channel::Feishu, &settings(), &notice(), 1).unwrap();
        let b = body_json(&r);
        assert!(b.get("sign").is_none() && b.get("timestamp").is_none());
    }

    #[test]
    fn telegram_posts_send_message_and_fits_the_limit() {
        let r = build(Channel::Telegram, &settings(), &notice(), 0).unwrap();
        assert_eq!(
            r.url,
            "https://api.telegram.org/bot123456:ABC-def_ghi/sendMessage"
        );
        let b = body_json(&r);
        assert_eq!(b["chat_id"], "-1001234");
        assert_eq!(b["disable_web_page_preview"], true);
        assert!(b["text"].as_str().unwrap().starts_with(&notice().subject));
        let mut long = notice();
        long.text = "长".repeat(10_000);
        let r = build(Channel::Telegram, &settings(), &long, 0).unwrap();
        let text = body_json(&r)["text"].as_str().unwrap().to_string();
        assert!(text.chars().count() <= TELEGRAM_MAX_CHARS);
        assert!(text.ends_with("Haoyuan 号源 · id msg-42"));
        let mut s = settings();
        s.telegram.api_base = "http://127.0.0.1:8081".into();
        assert_eq!(
            build(Channel::Telegram, &s, &notice(), 0).unwrap().url,
            "http://127.0.0.1:8081/bot123456:ABC-def_ghi/sendMessage"
        );
    }

    #[test]
    fn missing_settings_say_which() {
        let empty = ChannelSettings::default();
        let cases = [
            (Channel::Webhook, "webhook.url"),
            (Channel::Bark, "bark.key"),
            (Channel::Serverchan, "serverchan.send_key"),
            (Channel::Dingtalk, "dingtalk.webhook"),
            (Channel::Feishu, "feishu.webhook"),
            (Channel::Telegram, "telegram.bot_token"),
        ];
        for (c, setting) in cases {
            let e = build(c, &empty, &notice(), 0).unwrap_err();
            assert!(e.permanent, "{c:?}");
            assert!(e.message.contains(setting), "{c:?}: {}", e.message);
            assert!(e.message.contains("not set up"), "{c:?}: {}", e.message);
            assert_eq!(check(c, &empty).unwrap_err(), e);
            assert!(check(c, &settings()).is_ok(), "{c:?}");
        }
        let mut s = settings();
        s.telegram.chat_id = " ".into();
        assert!(build(Channel::Telegram, &s, &notice(), 0)
            .unwrap_err()
            .message
            .contains("telegram.chat_id"));
        s.dingtalk.webhook = "oapi.dingtalk.com/robot/send?access_token=tok123".into();
        let e = build(Channel::Dingtalk, &s, &notice(), 0).unwrap_err();
        assert!(
            e.message.contains("https://") && !e.message.contains("tok123"),
            "{}",
            e.message
        );
        s.bark.server = "ftp://x".into();
        assert!(build(Channel::Bark, &s, &notice(), 0)
            .unwrap_err()
            .message
            .contains("bark.server"));
        assert!(
            build(Channel::Email, &s, &notice(), 0)
                .unwrap_err()
                .permanent
        );
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn replies_are_read_per_channel() {
        use Channel::*;
        assert_eq!(interpret(Webhook, &reply(204, "")).unwrap(), "HTTP 204");
        assert_eq!(
            interpret(Dingtalk, &reply(200, r#"{"errcode":0,"errmsg":"ok"}"#)).unwrap(),
            "HTTP 200 errcode 0"
        );
        assert_eq!(
            interpret(
                Feishu,
                &reply(200, r#"{"code":0,"data":{},"msg":"success"}"#)
            )
            .unwrap(),
            "HTTP 200 code 0"
        );
        assert_eq!(
            interpret(
                Feishu,
                &reply(
                    200,
                    r#"{"Extra":null,"StatusCode":0,"StatusMessage":"success"}"#
                )
            )
            .unwrap(),
            "HTTP 200 code 0"
        );
        assert_eq!(
            interpret(
                Serverchan,
                &reply(200, r#"{"code":0,"message":"","data":{"pushid":"99","readkey":"r","error":"SUCCESS","errno":0}}"#)
            )
            .unwrap(),
            "HTTP 200 code 0 pushid 99"
        );
        assert_eq!(
            interpret(
                Bark,
                &reply(200, r#"{"code":200,"message":"success","timestamp":1}"#)
            )
            .unwrap(),
            "HTTP 200 code 200"
        );
        assert_eq!(
            interpret(
                Telegram,
                &reply(200, r#"{"ok":true,"result":{"message_id":17}}"#)
            )
            .unwrap(),
            "HTTP 200 ok message_id 17"
        );

        // App-level refusals in a 200 body.
        let e = interpret(
            Dingtalk,
            &reply(200, r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#),
        )
        .unwrap_err();
        assert!(e.permanent);
        assert!(
            e.message.contains("310000") && e.message.contains("sign not match"),
            "{}",
            e.message
        );
        let e = interpret(
            Dingtalk,
            &reply(
                200,
                r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#,
            ),
        )
        .unwrap_err();
        assert!(!e.permanent, "{}", e.message);
        let e = interpret(
            Feishu,
            &reply(200, r#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#),
        )
        .unwrap_err();
        assert!(e.permanent && e.message.contains("19021"));
        // Feishu rate-limits with HTTP 400.
        let e = interpret(
            Feishu,
            &reply(400, r#"{"code":9499,"msg":"too many request","data":{}}"#),
        )
        .unwrap_err();
        assert!(!e.permanent, "{}", e.message);
        let e = interpret(
            Serverchan,
            &reply(200, r#"{"code":40001,"message":"bad pushtoken"}"#),
        )
        .unwrap_err();
        assert!(e.permanent && e.message.contains("bad pushtoken"));
        let e = interpret(
            Bark,
            &reply(400, r#"{"code":400,"message":"failed to get device token: failed to get [x] device token from database","timestamp":1}"#),
        )
        .unwrap_err();
        assert!(e.permanent && e.message.contains("HTTP 400"));
        let e = interpret(
            Telegram,
            &reply(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            ),
        )
        .unwrap_err();
        assert!(e.permanent && e.message.contains("chat not found"));
        let e = interpret(
            Telegram,
            &reply(429, r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#),
        )
        .unwrap_err();
        assert!(!e.permanent);
        let e = interpret(
            Telegram,
            &reply(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            ),
        )
        .unwrap_err();
        assert!(e.permanent && e.message.contains("Unauthorized"));

        // Statuses.
        for c in [Webhook, Bark, Serverchan, Dingtalk, Feishu, Telegram] {
            for s in [429, 500, 502, 503] {
                assert!(
                    !interpret(c, &reply(s, "busy")).unwrap_err().permanent,
                    "{c:?} {s}"
                );
            }
            for s in [400, 401, 403, 404, 410, 301, 302, 307] {
                assert!(
                    interpret(c, &reply(s, "no")).unwrap_err().permanent,
                    "{c:?} {s}"
                );
            }
        }
        // A 200 that is not the platform's reply (a login page, a proxy).
        let e = interpret(Dingtalk, &reply(200, "<html>hello</html>")).unwrap_err();
        assert!(
            e.permanent && e.message.contains("not what DingTalk sends"),
            "{}",
            e.message
        );
    }

    #[test]
    fn secrets_are_redacted_from_quoted_replies() {
        let mut s = settings();
        s.dingtalk.secret = "SECtestsecret0123456789".into();
        let echoed = "Cannot POST /bot123456:ABC-def_ghi/sendMessage; token tok123 and /open-apis/bot/v2/hook/uuid-0001 \
                      SECtestsecret0123456789 BarkKey123 SCT12345TabcdEF ABC-def_ghi";
        let out = redact_secrets(echoed, &s);
        for secret in [
            "tok123",
            "123456:ABC-def_ghi",
            "ABC-def_ghi",
            "uuid-0001",
            "SECtestsecret0123456789",
            "BarkKey123",
            "SCT12345TabcdEF",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.starts_with("Cannot POST /bot***/sendMessage"), "{out}");
    }
}
