//! The host's deliverer: email through one reused SMTP connection ([`mail::Mailer`]),
//! every other channel through its webhook ([`webhook::send`]).

use crate::outbox::Deliver;
use crate::{mail, webhook};
use haoyuan_core::notify::{Channel, ChannelSettings, DeliveryError, EmailSettings, Notice};

/// Sends notices; keeps the SMTP connection between messages while the email settings
/// stay the same.
#[derive(Default)]
pub struct Deliverer {
    mailer: Option<(EmailSettings, mail::Mailer)>,
}

impl Deliver for Deliverer {
    fn deliver(
        &mut self,
        channel: Channel,
        settings: &ChannelSettings,
        notice: &Notice,
    ) -> Result<String, DeliveryError> {
        if channel != Channel::Email {
            return webhook::send(channel, settings, notice);
        }
        if self
            .mailer
            .as_ref()
            .is_none_or(|(s, _)| s != &settings.email)
        {
            self.mailer = Some((settings.email.clone(), mail::Mailer::new(&settings.email)?));
        }
        let result = match &self.mailer {
            Some((_, m)) => m.send(notice),
            None => Err(DeliveryError::transient("the mailer could not be built")),
        };
        if result.is_err() {
            self.mailer = None; // never reuse a connection that just failed
        }
        result
    }
}
