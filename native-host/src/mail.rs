//! Email: a [`Notice`] sent through SMTP with lettre.
//!
//! A [`Mailer`] is built once from [`EmailSettings`] and kept: it holds one SMTP
//! connection, so a burst of messages goes through one connection (checked with `NOOP`
//! before a reuse after a pause, reopened when the server dropped it or an error left it
//! in doubt). The message body and its terminating `<CRLF>.<CRLF>` go out in one write:
//! sent as two small writes, as lettre's own transport does on a socket without
//! `TCP_NODELAY`, every message waits for the server's delayed ACK (~40 ms), which capped
//! the outbox at ~22 messages a second.
//!
//! - Security: STARTTLS (required, never a silent fall back to plain text), implicit
//!   TLS (SMTPS) or plain (only for a relay on this machine or a trusted network).
//!   TLS is rustls on ring; trusted roots are the Mozilla set plus, when `ca_file` is
//!   set, the certificates in that PEM file. Invalid certificates are never accepted.
//! - AUTH (PLAIN or LOGIN, whichever the server offers) when a username is set.
//! - Every message is `multipart/alternative` (text + HTML, UTF-8), with
//!   `Message-ID: <{id}@haoyuan>` and `X-Haoyuan-Id: {id}` so a receiver can drop a
//!   repeat sent after a crash-and-retry.
//! - Failures are a [`DeliveryError`]: permanent when trying again cannot help (5xx
//!   replies, bad settings, a certificate that is not trusted), transient otherwise
//!   (4xx replies, refused or dropped connections, timeouts). Their messages never
//!   contain the password.

use std::fmt;
use std::time::Duration;

use haoyuan_core::notify::{DeliveryError, EmailSettings, Notice, SmtpSecurity};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Message;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::sync::Mutex;
use std::time::Instant;

/// Seconds for connecting and for each SMTP command when the settings say 0.
pub const DEFAULT_TIMEOUT_SECS: u32 = 15;

/// The header carrying the notice id (besides `Message-ID`).
pub const ID_HEADER: &str = "X-Haoyuan-Id";

/// The domain part of every `Message-ID`: `<{notice.id}@haoyuan>`.
pub const MESSAGE_ID_DOMAIN: &str = "haoyuan";

/// An idle connection is closed (QUIT) and reopened after this long.
const IDLE_CLOSE: Duration = Duration::from_secs(60);

/// A connection idle longer than this is checked with `NOOP` before it is reused.
const IDLE_CHECK: Duration = Duration::from_secs(2);

/// The connection and how it is secured.
enum Security {
    Plain,
    Starttls(TlsParameters),
    Wrapper(TlsParameters),
}

/// Sends notices by email through one SMTP server, reusing its connection.
pub struct Mailer {
    host: String,
    port: u16,
    security: Security,
    timeout: Duration,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// The open connection and when it was last used.
    conn: Mutex<Option<(SmtpConnection, Instant)>>,
    from: Mailbox,
    to: Vec<Mailbox>,
    /// Only to scrub it from error messages (a server may echo what it was sent).
    password: String,
    /// `host:port`, for error messages.
    server: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

/// The port used when the settings leave it 0.
pub fn default_port(security: SmtpSecurity) -> u16 {
    match security {
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    }
}

impl Mailer {
    /// Builds a transport from settings: Starttls (required), Tls (implicit, SMTPS), None
    /// (plain, for a local relay); AUTH when `username` is set; `timeout_secs` (0 means
    /// [`DEFAULT_TIMEOUT_SECS`]); `ca_file` adds trusted roots (PEM) — invalid certificates
    /// are never accepted. Port 0 means the security's usual port (587, 465, 25).
    ///
    /// Connects to nothing yet: the first [`Mailer::send`] does. Bad settings give a
    /// permanent [`DeliveryError`] naming the setting (no host, no recipient, a bad
    /// address, an unreadable or empty `ca_file`).
    pub fn new(s: &EmailSettings) -> Result<Mailer, DeliveryError> {
        let host = s.host.trim();
        if host.is_empty() {
            return Err(DeliveryError::permanent(
                "email: no SMTP server is set (setting \"host\")",
            ));
        }
        let from = parse_mailbox(&s.from, "from")?;
        let to =
            s.to.iter()
                .filter(|t| !t.trim().is_empty())
                .map(|t| parse_mailbox(t, "to"))
                .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(DeliveryError::permanent(
                "email: no recipient is set (setting \"to\")",
            ));
        }
        let port = if s.port == 0 {
            default_port(s.security)
        } else {
            s.port
        };
        let timeout_secs = if s.timeout_secs == 0 {
            DEFAULT_TIMEOUT_SECS
        } else {
            s.timeout_secs
        };

        let security = match s.security {
            SmtpSecurity::None => Security::Plain,
            SmtpSecurity::Starttls => Security::Starttls(tls_parameters(host, &s.ca_file)?),
            SmtpSecurity::Tls => Security::Wrapper(tls_parameters(host, &s.ca_file)?),
        };
        let credentials = (!s.username.is_empty())
            .then(|| Credentials::new(s.username.clone(), s.password.clone()));

        Ok(Mailer {
            host: host.to_string(),
            port,
            security,
            timeout: Duration::from_secs(u64::from(timeout_secs)),
            credentials,
            hello: ClientId::default(),
            conn: Mutex::new(None),
            from,
            to,
            password: s.password.clone(),
            server: format!("{host}:{port}"),
        })
    }

    /// Sends one notice as `multipart/alternative` (text + HTML, UTF-8, subject encoded),
    /// From/To from the settings, `Message-ID: <{notice.id}@haoyuan>` and a header
    /// `X-Haoyuan-Id: {notice.id}` so receivers can de-duplicate. Returns the server's
    /// final reply (e.g. `"250 OK queued"`).
    ///
    /// Errors: 5xx replies (recipient refused, AUTH failed, TLS required), a certificate
    /// that is not trusted, a server lacking STARTTLS or AUTH → permanent; 4xx replies,
    /// refused or dropped connections, timeouts → transient. Messages never include the
    /// password.
    pub fn send(&self, n: &Notice) -> Result<String, DeliveryError> {
        let message = self.message(n)?;
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Reuse the open connection unless it idled too long or no longer answers NOOP.
        if let Some((conn, last)) = guard.as_mut() {
            let idle = last.elapsed();
            if idle > IDLE_CLOSE {
                let _ = conn.quit();
                *guard = None;
            } else if idle > IDLE_CHECK && !conn.test_connected() {
                *guard = None;
            }
        }
        if guard.is_none() {
            *guard = Some((
                self.connect().map_err(|e| self.classify(&e))?,
                Instant::now(),
            ));
        }
        let Some((conn, last)) = guard.as_mut() else {
            return Err(DeliveryError::transient("email: no connection"));
        };
        match transmit(conn, &message) {
            Ok(response) => {
                *last = Instant::now();
                let text = response.message().collect::<Vec<_>>().join(" ");
                Ok(format!("{} {}", response.code(), text)
                    .trim_end()
                    .to_string())
            }
            Err(e) => {
                // A failed exchange leaves the session in doubt: start afresh next time.
                conn.abort();
                *guard = None;
                Err(self.classify(&e))
            }
        }
    }

    /// Opens a connection: TLS from the first byte or STARTTLS as configured, then AUTH.
    fn connect(&self) -> Result<SmtpConnection, SmtpError> {
        let wrapper = match &self.security {
            Security::Wrapper(p) => Some(p),
            _ => None,
        };
        let addr = (self.host.as_str(), self.port);
        let mut conn =
            SmtpConnection::connect(addr, Some(self.timeout), &self.hello, wrapper, None)?;
        if let Security::Starttls(p) = &self.security {
            conn.starttls(p, &self.hello)?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c)?;
        }
        Ok(conn)
    }

    /// The email for a notice.
    fn message(&self, n: &Notice) -> Result<Message, DeliveryError> {
        if n.id.is_empty() || !n.id.chars().all(is_message_id_char) {
            return Err(DeliveryError::permanent(format!(
                "email: the notice id {:?} cannot be used as a Message-ID (letters, digits and -._ only)",
                n.id
            )));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@{}>", n.id, MESSAGE_ID_DOMAIN)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(ID_HEADER),
                n.id.clone(),
            ));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                n.text.clone(),
                n.html.clone(),
            ))
            .map_err(|e| DeliveryError::permanent(format!("email: cannot build the message: {e}")))
    }

    /// Turns a lettre error into a [`DeliveryError`] in plain words, without the password.
    fn classify(&self, e: &SmtpError) -> DeliveryError {
        let server = &self.server;
        let (permanent, message) = if let Some(code) = e.status() {
            let reply = cause(e);
            let what = if e.is_permanent() {
                "refused"
            } else {
                "answered: try again later"
            };
            (
                e.is_permanent(),
                format!("email: the SMTP server {server} {what}: {code} {reply}"),
            )
        } else if let Some(tls) = rustls_error(e) {
            let message = match tls {
                rustls::Error::InvalidCertificate(why) => format!(
                    "email: the certificate of {server} is not trusted: {}; if it is a \
                     private server, set \"ca_file\" to its CA certificate (PEM)",
                    certificate_problem(why)
                ),
                other => format!(
                    "email: TLS with {server} failed ({other}); check the \"security\" setting \
                     (STARTTLS is usually port 587, TLS port 465)"
                ),
            };
            (true, message)
        } else if timed_out(e) {
            (false, format!("email: {server} did not answer in time"))
        } else if e.is_client() || e.is_tls() {
            // The server lacks something required (STARTTLS, an AUTH mechanism, 8BITMIME)
            // or the TLS setup itself failed: retrying the same thing cannot help.
            (
                true,
                format!("email: cannot send through {server}: {}", cause(e)),
            )
        } else {
            // Connection refused or reset, the server went away mid-command, a garbled
            // reply: worth trying again later.
            (false, format!("email: cannot reach {server}: {}", cause(e)))
        };
        let message = self.scrub(message);
        if permanent {
            DeliveryError::permanent(message)
        } else {
            DeliveryError::transient(message)
        }
    }

    /// Removes the password from a message, should a server have echoed it.
    fn scrub(&self, message: String) -> String {
        if self.password.is_empty() {
            message
        } else {
            message.replace(&self.password, "********")
        }
    }
}

/// Characters kept in a Message-ID's left part (a safe subset of RFC 5322 `atext`).
/// One message over an open connection: MAIL, RCPT, DATA, then the body and its
/// terminator in a single write.
fn transmit(conn: &mut SmtpConnection, message: &Message) -> Result<Response, SmtpError> {
    let envelope = message.envelope();
    let body = message.formatted();
    let mut params = Vec::new();
    let non_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii && conn.server_info().supports_feature(Extension::SmtpUtfEight) {
        params.push(MailParameter::SmtpUtfEight);
    }
    conn.command(Mail::new(envelope.from().cloned(), params))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))?;
    }
    conn.command(Data)?;
    match String::from_utf8(body) {
        // Our messages are 7-bit (quoted-printable or base64 bodies): one write.
        Ok(text) if text.is_ascii() => conn.command(Terminated(dot_stuff(&text))),
        Ok(text) => conn.message(text.as_bytes()),
        Err(e) => conn.message(e.as_bytes()),
    }
}

/// The DATA payload with leading dots doubled (RFC 5321 §4.5.2) and `<CRLF>.<CRLF>` after it.
fn dot_stuff(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 8);
    if body.starts_with('.') {
        out.push('.');
    }
    out.push_str(&body.replace("\r\n.", "\r\n.."));
    out.push_str("\r\n.\r\n");
    out
}

/// Text written as it is (the "command" is the whole DATA payload).
struct Terminated(String);

impl fmt::Display for Terminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_message_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

fn parse_mailbox(value: &str, setting: &str) -> Result<Mailbox, DeliveryError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DeliveryError::permanent(format!(
            "email: no address is set (setting \"{setting}\")"
        )));
    }
    value.parse::<Mailbox>().map_err(|e| {
        DeliveryError::permanent(format!(
            "email: {value:?} is not an email address (setting \"{setting}\"): {e}"
        ))
    })
}

/// TLS parameters for `host`: the Mozilla roots, plus the certificates of `ca_file`.
fn tls_parameters(host: &str, ca_file: &str) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if !ca_file.trim().is_empty() {
        let path = ca_file.trim();
        let pem = std::fs::read(path).map_err(|e| {
            DeliveryError::permanent(format!(
                "email: cannot read the CA file {path:?} (setting \"ca_file\"): {e}"
            ))
        })?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                DeliveryError::permanent(format!(
                    "email: the CA file {path:?} is not valid PEM (setting \"ca_file\"): {e}"
                ))
            })?;
        if certs.is_empty() {
            return Err(DeliveryError::permanent(format!(
                "email: the CA file {path:?} holds no certificate (setting \"ca_file\")"
            )));
        }
        for cert in certs {
            let cert = Certificate::from_der(cert.to_vec()).map_err(|e| {
                DeliveryError::permanent(format!(
                    "email: a certificate in {path:?} cannot be used (setting \"ca_file\"): {e}"
                ))
            })?;
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build_rustls().map_err(|e| {
        DeliveryError::permanent(format!(
            "email: cannot set up TLS for {host:?} (setting \"host\" or \"ca_file\"): {}",
            cause(&e)
        ))
    })
}

/// The rustls error behind a failed read or write, if any (the handshake runs inside
/// the first read or write after connecting or STARTTLS).
fn rustls_error(e: &SmtpError) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(tls);
            }
        }
        source = err.source();
    }
    None
}

/// Whether the server did not answer within the timeout. A socket read timeout is
/// `WouldBlock` on Unix and `TimedOut` elsewhere (lettre's `is_timeout` only knows the latter).
fn timed_out(e: &SmtpError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        source = err.source();
    }
    false
}

/// What went wrong, without lettre's category prefix ("internal client error: ..."); for
/// a negative reply, the server's text.
fn cause(e: &SmtpError) -> String {
    match std::error::Error::source(e) {
        Some(source) => source.to_string(),
        None => e.to_string(),
    }
}

/// Why a certificate was refused, in plain words.
fn certificate_problem(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match why {
        C::UnknownIssuer | C::BadSignature => {
            "it is not signed by a trusted certificate authority".to_string()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is made out for another host name".to_string()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".to_string(),
        C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".to_string(),
        C::Revoked => "it was revoked".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn data_payload_doubles_leading_dots_and_ends_with_the_terminator() {
        assert_eq!(dot_stuff("a\r\n.b\r\nc"), "a\r\n..b\r\nc\r\n.\r\n");
        assert_eq!(dot_stuff(".x"), "..x\r\n.\r\n");
        assert_eq!(dot_stuff("a.b\r\n"), "a.b\r\n\r\n.\r\n");
    }

    use super::*;

    fn settings() -> EmailSettings {
        EmailSettings {
            enabled: true,
            host: "127.0.0.1".into(),
            port: 2525,
            security: SmtpSecurity::None,
            from: "号源 <haoyuan@example.org>".into(),
            to: vec!["someone@example.org".into()],
            ..EmailSettings::default()
        }
    }

    fn notice(id: &str) -> Notice {
        Notice {
            id: id.into(),
            kind: "test".into(),
            watch_id: String::new(),
            subject: "测试".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
            url: None,
            at: 0,
        }
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let mut s = settings();
        s.host = " ".into();
        assert!(Mailer::new(&s).unwrap_err().message.contains("\"host\""));

        let mut s = settings();
        s.to = vec![];
        let e = Mailer::new(&s).unwrap_err();
        assert!(e.permanent && e.message.contains("\"to\""), "{e:?}");

        let mut s = settings();
        s.to = vec!["not an address".into()];
        let e = Mailer::new(&s).unwrap_err();
        assert!(e.permanent && e.message.contains("\"to\""), "{e:?}");

        let mut s = settings();
        s.from = "nobody".into();
        assert!(Mailer::new(&s).unwrap_err().message.contains("\"from\""));

        let mut s = settings();
        s.security = SmtpSecurity::Starttls;
        s.ca_file = "/nonexistent/ca.pem".into();
        let e = Mailer::new(&s).unwrap_err();
        assert!(e.permanent && e.message.contains("\"ca_file\""), "{e:?}");

        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        s.ca_file = empty.to_string_lossy().into_owned();
        let e = Mailer::new(&s).unwrap_err();
        assert!(e.permanent && e.message.contains("no certificate"), "{e:?}");
    }

    #[test]
    fn the_message_carries_the_id_twice_and_both_bodies() {
        let mailer = Mailer::new(&settings()).unwrap();
        let raw =
            String::from_utf8(mailer.message(&notice("n-42.x_y")).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <n-42.x_y@haoyuan>\r\n"), "{raw}");
        assert!(raw.contains("X-Haoyuan-Id: n-42.x_y\r\n"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8"),
            "{raw}"
        );
        // The Chinese subject is encoded, not sent raw.
        assert!(raw.contains("Subject: =?utf-8?b?"), "{raw}");
    }

    #[test]
    fn an_id_that_could_break_the_header_is_refused() {
        let mailer = Mailer::new(&settings()).unwrap();
        for id in ["", "a b", "a>b", "a\r\nBcc: x@y", "a@b"] {
            let e = mailer.message(&notice(id)).unwrap_err();
            assert!(e.permanent, "{id:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let mut s = settings();
        s.username = "u".into();
        s.password = "hunter2-secret".into();
        let mailer = Mailer::new(&s).unwrap();
        assert!(!format!("{mailer:?}").contains("hunter2-secret"));
        assert_eq!(mailer.scrub("x hunter2-secret y".into()), "x ******** y");
    }
}
