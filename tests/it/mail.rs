//! `haoyuan_host::mail::Mailer` against a real SMTP server (aiosmtpd, see
//! `smtp_server.rs`) on 127.0.0.1: plain, STARTTLS and implicit TLS with a test CA made
//! at run time, AUTH, refused recipients, a server that is down or silent, and many
//! messages over one pooled connection.

use crate::smtp_server::{SmtpOpts, SmtpServer, TestCa};
use haoyuan_core::notify::{DeliveryError, EmailSettings, Notice, SmtpSecurity};
use haoyuan_host::mail::Mailer;
use std::collections::BTreeSet;
use std::net::TcpListener;

const SUBJECT: &str = "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功";
const PASSWORD: &str = "s3cret-Pa55-word";

fn settings(port: u16, security: SmtpSecurity) -> EmailSettings {
    EmailSettings {
        enabled: true,
        host: "127.0.0.1".into(),
        port,
        security,
        from: "号源 <haoyuan@example.org>".into(),
        to: vec!["patient@example.org".into()],
        ..EmailSettings::default()
    }
}

fn with_ca(mut s: EmailSettings, ca: &TestCa) -> EmailSettings {
    s.ca_file = ca.ca_file.to_string_lossy().into_owned();
    s
}

fn notice(id: &str) -> Notice {
    Notice {
        id: id.into(),
        kind: "booked".into(),
        watch_id: "w1".into(),
        subject: SUBJECT.into(),
        text: "已为 张* 预约：北京协和医院 眼科，2026-12-03 上午。\n".into(),
        html: "<p>已为 <b>张*</b> 预约：北京协和医院 眼科</p>".into(),
        url: Some("https://www.114yygh.com/".into()),
        at: 1_796_000_000_000,
    }
}

fn send_err(mailer: &Mailer, n: &Notice) -> DeliveryError {
    match mailer.send(n) {
        Ok(reply) => panic!("expected a failure, the server answered {reply:?}"),
        Err(e) => e,
    }
}

/// A port nothing listens on (bound, read, released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn mail_plain_delivers_ids_decoded_subject_and_both_parts() {
    let server = SmtpServer::start(SmtpOpts::plain());
    let mailer = Mailer::new(&settings(server.port(), SmtpSecurity::None)).expect("mailer");
    let reply = mailer.send(&notice("ev-1.booked")).expect("sent");
    assert!(reply.starts_with("250 "), "final reply: {reply}");
    assert!(
        reply.contains("queued"),
        "the server's own words are kept: {reply}"
    );

    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.message_id.as_deref(), Some("<ev-1.booked@haoyuan>"));
    assert_eq!(m.x_haoyuan_id.as_deref(), Some("ev-1.booked"));
    assert_eq!(m.subject, SUBJECT);
    assert_eq!(m.mail_from, "haoyuan@example.org");
    assert_eq!(m.rcpt_tos, ["patient@example.org"]);
    assert!(m.has_text && m.has_html, "{m:?}");
    assert!(
        m.text.as_deref().unwrap_or("").contains("已为 张* 预约"),
        "{m:?}"
    );
    assert!(
        m.html.as_deref().unwrap_or("").contains("<b>张*</b>"),
        "{m:?}"
    );
    assert!(!m.tls && m.auth_user.is_none(), "{m:?}");
}

#[test]
fn mail_starttls_with_the_test_ca_is_encrypted_and_without_it_is_untrusted() {
    let ca = TestCa::generate();
    let server = SmtpServer::start(SmtpOpts::starttls(&ca));

    let mailer = Mailer::new(&with_ca(
        settings(server.port(), SmtpSecurity::Starttls),
        &ca,
    ))
    .expect("mailer");
    mailer
        .send(&notice("starttls-1"))
        .expect("sent over STARTTLS");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].tls,
        "the message must have come over TLS: {:?}",
        got[0]
    );
    assert_eq!(got[0].subject, SUBJECT);

    // Without ca_file only the public roots are trusted: the test CA is not one.
    let untrusting = Mailer::new(&settings(server.port(), SmtpSecurity::Starttls)).expect("mailer");
    let e = send_err(&untrusting, &notice("starttls-2"));
    assert!(
        e.permanent,
        "an untrusted certificate will not become trusted: {e:?}"
    );
    assert!(e.message.contains("not trusted"), "{e:?}");
    assert!(
        e.message.contains("ca_file"),
        "the error says what to set: {e:?}"
    );
    assert_eq!(server.received().len(), 1, "nothing more was accepted");
}

#[test]
fn mail_implicit_tls_with_the_test_ca_and_not_with_another() {
    let ca = TestCa::generate();
    let server = SmtpServer::start(SmtpOpts::tls(&ca));

    let mailer =
        Mailer::new(&with_ca(settings(server.port(), SmtpSecurity::Tls), &ca)).expect("mailer");
    mailer.send(&notice("smtps-1")).expect("sent over SMTPS");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert_eq!(got[0].x_haoyuan_id.as_deref(), Some("smtps-1"));

    // A CA file is an extra root, not "accept anything": another CA does not vouch for it.
    let other = TestCa::generate();
    let wrong =
        Mailer::new(&with_ca(settings(server.port(), SmtpSecurity::Tls), &other)).expect("mailer");
    let e = send_err(&wrong, &notice("smtps-2"));
    assert!(e.permanent && e.message.contains("not trusted"), "{e:?}");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn mail_auth_success_over_starttls() {
    let ca = TestCa::generate();
    let server = SmtpServer::start(SmtpOpts::starttls(&ca).auth("haoyuan", PASSWORD));
    let mut s = with_ca(settings(server.port(), SmtpSecurity::Starttls), &ca);
    s.username = "haoyuan".into();
    s.password = PASSWORD.into();
    let mailer = Mailer::new(&s).expect("mailer");
    mailer.send(&notice("auth-ok")).expect("sent with AUTH");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("haoyuan"));
    assert!(got[0].tls);
}

#[test]
fn mail_auth_failure_is_permanent_and_never_shows_the_password() {
    let ca = TestCa::generate();
    let server = SmtpServer::start(SmtpOpts::starttls(&ca).auth("haoyuan", PASSWORD));
    let mut s = with_ca(settings(server.port(), SmtpSecurity::Starttls), &ca);
    s.username = "haoyuan".into();
    s.password = "wrong-Pa55-word-xyz".into();
    let mailer = Mailer::new(&s).expect("mailer");
    let e = send_err(&mailer, &notice("auth-bad"));
    assert!(e.permanent, "{e:?}");
    assert!(
        e.message.contains("535"),
        "the server's reply is shown: {e:?}"
    );
    assert!(!e.message.contains("wrong-Pa55-word-xyz"), "{e:?}");
    assert!(!format!("{e:?} {mailer:?}").contains("wrong-Pa55-word-xyz"));

    // No credentials at all where AUTH is required: refused too, and permanent.
    let mut s = with_ca(settings(server.port(), SmtpSecurity::Starttls), &ca);
    s.username.clear();
    let e = send_err(&Mailer::new(&s).expect("mailer"), &notice("auth-none"));
    assert!(e.permanent && e.message.contains("530"), "{e:?}");
    assert!(server.received().is_empty());
}

#[test]
fn mail_server_down_is_transient_and_the_same_mailer_delivers_once_it_is_back() {
    let mut server = SmtpServer::start(SmtpOpts::plain());
    let mailer = Mailer::new(&settings(server.port(), SmtpSecurity::None)).expect("mailer");
    mailer.send(&notice("updown-1")).expect("sent while up");

    // Down: the pooled connection is gone and a new one is refused.
    let again = server.same();
    server.stop();
    let e = send_err(&mailer, &notice("updown-2"));
    assert!(!e.permanent, "a server that is down may come back: {e:?}");
    assert!(e.message.contains("127.0.0.1"), "{e:?}");

    // Up again on the same port: the retry goes through.
    let server = SmtpServer::start(again);
    mailer
        .send(&notice("updown-2"))
        .expect("sent after recovery");
    let ids: Vec<_> = server
        .received()
        .into_iter()
        .map(|m| m.x_haoyuan_id.unwrap_or_default())
        .collect();
    assert_eq!(ids, ["updown-1", "updown-2"]);

    // Nothing ever listened here.
    let nowhere = Mailer::new(&settings(free_port(), SmtpSecurity::None)).expect("mailer");
    let e = send_err(&nowhere, &notice("nowhere"));
    assert!(!e.permanent, "{e:?}");
}

#[test]
fn mail_a_silent_server_times_out_as_transient() {
    // Accepts the connection and never greets.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let conn = listener.accept();
        // Hold the socket until the client gives up and closes it.
        if let Ok((mut stream, _)) = conn {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stream, &mut sink);
        }
    });
    let mut s = settings(port, SmtpSecurity::None);
    s.timeout_secs = 1;
    let e = send_err(&Mailer::new(&s).expect("mailer"), &notice("silent"));
    assert!(!e.permanent, "{e:?}");
    assert!(e.message.contains("did not answer in time"), "{e:?}");
    holder.join().expect("holder thread");
}

#[test]
fn mail_refused_recipient_is_permanent() {
    let server = SmtpServer::start(SmtpOpts::plain().reject_rcpt("nobody"));
    let mut s = settings(server.port(), SmtpSecurity::None);
    s.to = vec!["nobody@example.org".into()];
    let e = send_err(&Mailer::new(&s).expect("mailer"), &notice("rcpt-bad"));
    assert!(e.permanent, "{e:?}");
    assert!(e.message.contains("550"), "{e:?}");
    assert!(server.received().is_empty());

    // The same server takes other recipients.
    let ok = Mailer::new(&settings(server.port(), SmtpSecurity::None)).expect("mailer");
    ok.send(&notice("rcpt-ok")).expect("sent");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn mail_a_security_setting_the_server_does_not_speak_is_permanent() {
    let server = SmtpServer::start(SmtpOpts::plain());
    // STARTTLS required but not offered: never falls back to plain text.
    let e = send_err(
        &Mailer::new(&settings(server.port(), SmtpSecurity::Starttls)).expect("mailer"),
        &notice("sec-1"),
    );
    assert!(e.permanent && e.message.contains("STARTTLS"), "{e:?}");
    // TLS from the first byte to a plain-text server.
    let e = send_err(
        &Mailer::new(&settings(server.port(), SmtpSecurity::Tls)).expect("mailer"),
        &notice("sec-2"),
    );
    assert!(e.permanent && e.message.contains("TLS"), "{e:?}");
    assert!(server.received().is_empty());
}

#[test]
fn mail_fifty_messages_share_one_connection() {
    let ca = TestCa::generate();
    let server = SmtpServer::start(SmtpOpts::starttls(&ca).auth("haoyuan", PASSWORD));
    let mut s = with_ca(settings(server.port(), SmtpSecurity::Starttls), &ca);
    s.username = "haoyuan".into();
    s.password = PASSWORD.into();
    let mailer = Mailer::new(&s).expect("mailer");
    for i in 0..50 {
        let reply = mailer.send(&notice(&format!("bulk-{i}"))).expect("sent");
        assert!(reply.starts_with("250"), "{reply}");
    }
    let got = server.received();
    assert_eq!(got.len(), 50);
    let ids: BTreeSet<_> = got.iter().filter_map(|m| m.x_haoyuan_id.clone()).collect();
    assert_eq!(ids.len(), 50, "every message arrived once with its own id");
    for m in &got {
        let id = m.x_haoyuan_id.as_deref().unwrap_or("");
        assert_eq!(
            m.message_id.as_deref(),
            Some(format!("<{id}@haoyuan>").as_str())
        );
    }
    let sessions: BTreeSet<_> = got.iter().map(|m| m.session).collect();
    assert_eq!(
        sessions.len(),
        1,
        "one SMTP connection for all 50: {sessions:?}"
    );
}
