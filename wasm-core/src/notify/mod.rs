//! Notifications: the channels a person can be told through, their settings, and the
//! message (a [`Notice`]) rendered once per event and kept in the host's outbox.
//!
//! Sans-IO like the rest of the core: this module renders subjects and bodies (Chinese
//! or English, ID and card numbers masked) and builds the HTTP requests of the webhook
//! channels; the host sends them (SMTP through lettre, HTTP through its client) and the
//! extension raises desktop notifications.
//!
//! - [`render`]: event → [`Notice`] (subject, text, HTML) and masking.
//! - [`webhook`]: [`Notice`] → `HttpRequest` for the generic webhook, Bark, ServerChan,
//!   DingTalk (signed), Feishu (signed) and Telegram.

pub mod render;
pub mod webhook;

use serde::{Deserialize, Serialize};

/// History kinds that are told to the person (written to the outbox with the event).
pub const NOTIFY_KINDS: [&str; 8] = [
    "slot_seen",
    "booking_sms",
    "booking_submitted",
    "booked",
    "booking_failed",
    "outcome_unknown",
    "session_expired",
    "sync_result",
];

/// Whether events of this kind are told to the person.
pub fn notifies(kind: &str) -> bool {
    NOTIFY_KINDS.contains(&kind)
}

/// Why a message was not delivered through a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// True when trying again cannot help (recipient refused, bad credentials, bad
    /// token): the message is marked failed and the person told in the popup. False for
    /// timeouts, connection failures, 4xx SMTP replies, HTTP 429/5xx: retried with backoff.
    pub permanent: bool,
    /// What happened, in plain words (never containing a secret).
    pub message: String,
}

impl DeliveryError {
    pub fn permanent(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            permanent: true,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            permanent: false,
            message: message.into(),
        }
    }
}

/// The language of messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// A message as it is queued: rendered once, sent to each channel as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable id (also the email `Message-ID` and a field of every webhook body), so
    /// receivers can drop a repeat after a crash-and-retry.
    pub id: String,
    /// The history kind (`slot_seen`, `booked`, …, or `test`).
    pub kind: String,
    #[serde(default)]
    pub watch_id: String,
    /// Subject / title: what happened and for whom, e.g.
    /// `114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功`.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Where to act (the booking page), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Unix ms of the event.
    pub at: i64,
}

/// The channels, as named in settings, the outbox and the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
    Bark,
    Serverchan,
    Dingtalk,
    Feishu,
    Telegram,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Email,
        Channel::Webhook,
        Channel::Bark,
        Channel::Serverchan,
        Channel::Dingtalk,
        Channel::Feishu,
        Channel::Telegram,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Bark => "bark",
            Channel::Serverchan => "serverchan",
            Channel::Dingtalk => "dingtalk",
            Channel::Feishu => "feishu",
            Channel::Telegram => "telegram",
        }
    }

    pub fn from_id(id: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.id() == id)
    }

    /// Who answers for the channel, in error messages ("… could not reach {name}").
    pub fn server_name(self) -> &'static str {
        match self {
            Channel::Email => "the mail server",
            Channel::Webhook => "the webhook receiver",
            Channel::Bark => "Bark",
            Channel::Serverchan => "ServerChan",
            Channel::Dingtalk => "DingTalk",
            Channel::Feishu => "Feishu",
            Channel::Telegram => "Telegram",
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required; port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted network.
    None,
}

/// Email settings. `password` is a secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no AUTH.
    pub username: String,
    pub password: String,
    /// `Name <address>` or an address.
    pub from: String,
    pub to: Vec<String>,
    /// Seconds for connecting and each SMTP command (default 15).
    pub timeout_secs: u32,
    /// A PEM file of an extra root certificate to trust (a private relay's CA).
    pub ca_file: String,
}

/// A generic webhook: the notice as JSON, POSTed to `url`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    pub enabled: bool,
    /// The URL (a secret: it often carries a token).
    pub url: String,
}

/// Bark (iOS push): `server` (default `https://api.day.app`) and the device `key` (secret).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BarkSettings {
    pub enabled: bool,
    pub server: String,
    pub key: String,
}

/// ServerChan (Server酱): `send_key` (secret); `server` defaults to `https://sctapi.ftqq.com`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerChanSettings {
    pub enabled: bool,
    pub server: String,
    pub send_key: String,
}

/// A DingTalk or Feishu group robot: its webhook URL (secret: it holds the access
/// token) and the signing secret ("加签", secret; empty when the robot does not sign).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobotSettings {
    pub enabled: bool,
    pub webhook: String,
    pub secret: String,
}

/// Telegram bot: `bot_token` (secret), `chat_id`; `api_base` defaults to `https://api.telegram.org`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramSettings {
    pub enabled: bool,
    pub api_base: String,
    pub bot_token: String,
    pub chat_id: String,
}

/// Every channel's settings, kept by the host (file mode 0600), edited from the
/// options page through `channels_get` / `channels_put`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelSettings {
    pub language: Lang,
    pub email: EmailSettings,
    pub webhook: WebhookSettings,
    pub bark: BarkSettings,
    pub serverchan: ServerChanSettings,
    pub dingtalk: RobotSettings,
    pub feishu: RobotSettings,
    pub telegram: TelegramSettings,
}

/// The dotted paths of every secret field.
pub const SECRET_FIELDS: [&str; 8] = [
    "email.password",
    "webhook.url",
    "bark.key",
    "serverchan.send_key",
    "dingtalk.webhook",
    "dingtalk.secret",
    "feishu.webhook",
    "feishu.secret",
];

/// `telegram.bot_token` is a secret too (kept apart to keep the array above readable).
pub const TELEGRAM_SECRET: &str = "telegram.bot_token";

fn secret_slot<'a>(s: &'a mut ChannelSettings, path: &str) -> Option<&'a mut String> {
    Some(match path {
        "email.password" => &mut s.email.password,
        "webhook.url" => &mut s.webhook.url,
        "bark.key" => &mut s.bark.key,
        "serverchan.send_key" => &mut s.serverchan.send_key,
        "dingtalk.webhook" => &mut s.dingtalk.webhook,
        "dingtalk.secret" => &mut s.dingtalk.secret,
        "feishu.webhook" => &mut s.feishu.webhook,
        "feishu.secret" => &mut s.feishu.secret,
        "telegram.bot_token" => &mut s.telegram.bot_token,
        _ => return None,
    })
}

fn all_secret_paths() -> impl Iterator<Item = &'static str> {
    SECRET_FIELDS
        .into_iter()
        .chain(std::iter::once(TELEGRAM_SECRET))
}

impl ChannelSettings {
    /// The settings with every secret blanked, and the paths of the secrets that are set:
    /// what the extension may see.
    pub fn redacted(&self) -> (ChannelSettings, Vec<String>) {
        let mut out = self.clone();
        let mut set = Vec::new();
        for path in all_secret_paths() {
            if let Some(slot) = secret_slot(&mut out, path) {
                if !slot.is_empty() {
                    set.push(path.to_string());
                    slot.clear();
                }
            }
        }
        (out, set)
    }

    /// Applies an update from the extension: an empty secret keeps the stored one,
    /// unless its path is in `clear`.
    pub fn merged(&self, mut update: ChannelSettings, clear: &[String]) -> ChannelSettings {
        let mut current = self.clone();
        for path in all_secret_paths() {
            let keep = secret_slot(&mut current, path)
                .map(|s| s.clone())
                .unwrap_or_default();
            if let Some(slot) = secret_slot(&mut update, path) {
                if clear.iter().any(|c| c == path) {
                    slot.clear();
                } else if slot.is_empty() {
                    *slot = keep;
                }
            }
        }
        update
    }

    /// The channels switched on.
    pub fn enabled(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|c| match c {
                Channel::Email => self.email.enabled,
                Channel::Webhook => self.webhook.enabled,
                Channel::Bark => self.bark.enabled,
                Channel::Serverchan => self.serverchan.enabled,
                Channel::Dingtalk => self.dingtalk.enabled,
                Channel::Feishu => self.feishu.enabled,
                Channel::Telegram => self.telegram.enabled,
            })
            .collect()
    }
}

fn looks_like_address(a: &str) -> bool {
    // `Name <user@host>` or `user@host`.
    let addr = match (a.find('<'), a.rfind('>')) {
        (Some(i), Some(j)) if i < j => &a[i + 1..j],
        _ => a,
    };
    let addr = addr.trim();
    match addr.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && !host.is_empty() && !addr.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn http_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() > "http://".len()
        && !u.contains(char::is_whitespace)
}

impl ChannelSettings {
    /// Problems with the settings of enabled channels, one per field (dotted paths
    /// such as `email.host`), in words the person can act on.
    pub fn validate(&self) -> Vec<crate::watch::FieldError> {
        use crate::watch::FieldError;
        let mut errs = Vec::new();
        let mut bad = |field: &str, message: &str| {
            errs.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        let e = &self.email;
        if e.enabled {
            if e.host.trim().is_empty() {
                bad("email.host", "the SMTP server is required");
            }
            if e.from.trim().is_empty() || !looks_like_address(&e.from) {
                bad(
                    "email.from",
                    "the sender must be an address such as haoyuan@example.com",
                );
            }
            if e.to.is_empty() {
                bad("email.to", "at least one recipient is required");
            } else if let Some(a) = e.to.iter().find(|a| !looks_like_address(a)) {
                bad("email.to", &format!("“{a}” is not an email address"));
            }
            if e.timeout_secs > 300 {
                bad("email.timeout_secs", "the timeout is at most 300 seconds");
            }
            if e.security == SmtpSecurity::None && !e.password.is_empty() && !is_local_host(&e.host)
            {
                bad("email.security", "a password must not be sent unencrypted to another machine: use STARTTLS or TLS");
            }
        }
        for (on, field, url) in [
            (self.webhook.enabled, "webhook.url", &self.webhook.url),
            (
                self.dingtalk.enabled,
                "dingtalk.webhook",
                &self.dingtalk.webhook,
            ),
            (self.feishu.enabled, "feishu.webhook", &self.feishu.webhook),
        ] {
            if on && !http_url(url) {
                bad(
                    field,
                    "a webhook address starting with https:// is required",
                );
            }
        }
        for (on, field, server) in [
            (self.bark.enabled, "bark.server", &self.bark.server),
            (
                self.serverchan.enabled,
                "serverchan.server",
                &self.serverchan.server,
            ),
            (
                self.telegram.enabled,
                "telegram.api_base",
                &self.telegram.api_base,
            ),
        ] {
            if on && !server.is_empty() && !http_url(server) {
                bad(
                    field,
                    "the server must start with https:// (leave it empty for the default)",
                );
            }
        }
        if self.bark.enabled && self.bark.key.trim().is_empty() {
            bad("bark.key", "the Bark device key is required");
        }
        if self.serverchan.enabled && self.serverchan.send_key.trim().is_empty() {
            bad("serverchan.send_key", "the SendKey is required");
        }
        if self.telegram.enabled {
            if self.telegram.bot_token.trim().is_empty() {
                bad("telegram.bot_token", "the bot token is required");
            }
            if self.telegram.chat_id.trim().is_empty() {
                bad("telegram.chat_id", "the chat id is required");
            }
        }
        errs
    }

    /// Whether a channel has what it needs to send (enabled or not): `Err` says what
    /// is missing.
    pub fn configured(&self, channel: Channel) -> Result<(), String> {
        let missing = |what: &str| Err(format!("{} is not set up: {what}", channel.id()));
        match channel {
            Channel::Email if self.email.host.trim().is_empty() => missing("no SMTP server"),
            Channel::Email if self.email.to.is_empty() => missing("no recipient"),
            Channel::Webhook if self.webhook.url.is_empty() => missing("no webhook address"),
            Channel::Bark if self.bark.key.is_empty() => missing("no device key"),
            Channel::Serverchan if self.serverchan.send_key.is_empty() => missing("no SendKey"),
            Channel::Dingtalk if self.dingtalk.webhook.is_empty() => missing("no robot webhook"),
            Channel::Feishu if self.feishu.webhook.is_empty() => missing("no robot webhook"),
            Channel::Telegram
                if self.telegram.bot_token.is_empty() || self.telegram.chat_id.is_empty() =>
            {
                missing("no bot token or chat id")
            }
            _ => Ok(()),
        }
    }
}

fn is_local_host(h: &str) -> bool {
    matches!(h.trim(), "localhost" | "127.0.0.1" | "::1") || h.trim().starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_each_field_of_enabled_channels_only() {
        let mut s = ChannelSettings::default();
        s.telegram.bot_token = String::new();
        assert!(s.validate().is_empty(), "disabled channels are not checked");
        s.email.enabled = true;
        s.email.to = vec!["not-an-address".into()];
        s.email.security = SmtpSecurity::None;
        s.email.host = "smtp.example.com".into();
        s.email.password = "x".into();
        s.dingtalk.enabled = true;
        s.dingtalk.webhook = "oapi.dingtalk.com/robot".into();
        let fields: Vec<_> = s.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "email.from",
                "email.to",
                "email.security",
                "dingtalk.webhook"
            ]
        );
        s.email.host = "127.0.0.1".into();
        s.email.from = "号源 <haoyuan@example.com>".into();
        s.email.to = vec!["me@example.com".into()];
        s.dingtalk.webhook = "https://oapi.dingtalk.com/robot/send?access_token=t".into();
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        assert!(s.configured(Channel::Email).is_ok());
        assert!(s
            .configured(Channel::Telegram)
            .unwrap_err()
            .contains("bot token"));
    }

    #[test]
    fn secrets_never_leave_redacted_and_survive_an_update_without_them() {
        let mut s = ChannelSettings::default();
        s.email.enabled = true;
        s.email.host = "smtp.example.com".into();
        s.email.password = "hunter2".into();
        s.telegram.bot_token = "123:abc".into();
        let (red, set) = s.redacted();
        assert_eq!(red.email.password, "");
        assert_eq!(red.telegram.bot_token, "");
        assert_eq!(set, ["email.password", "telegram.bot_token"]);
        assert!(!serde_json::to_string(&red).unwrap().contains("hunter2"));

        // The options page sends back what it was shown (secrets blank) with a change.
        let mut update = red.clone();
        update.email.port = 2525;
        let merged = s.merged(update.clone(), &[]);
        assert_eq!(merged.email.password, "hunter2");
        assert_eq!(merged.email.port, 2525);
        let cleared = s.merged(update, &["email.password".into()]);
        assert_eq!(cleared.email.password, "");
        assert_eq!(cleared.telegram.bot_token, "123:abc");
        assert_eq!(s.enabled(), [Channel::Email]);
    }

    #[test]
    fn channel_ids_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_id(c.id()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.id()));
        }
    }
}
