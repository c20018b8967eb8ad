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
pub const NOTIFY_KINDS: [&str; 7] = [
    "slot_seen",
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
        DeliveryError { permanent: true, message: message.into() }
    }

    pub fn transient(message: impl Into<String>) -> DeliveryError {
        DeliveryError { permanent: false, message: message.into() }
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

#[cfg(test)]
mod tests {
    use super::*;

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
