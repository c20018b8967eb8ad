//! A real SMTP server for the tests: `tests/smtp/smtpd.py` (Python `aiosmtpd`) run on
//! 127.0.0.1, plus a test CA and server certificate made at run time with rcgen.
//!
//! ```ignore
//! let ca = TestCa::generate();
//! let server = SmtpServer::start(SmtpOpts::starttls(&ca).auth("u", "p"));
//! // ... send to 127.0.0.1:server.port() trusting ca.ca_file ...
//! let got = server.received();
//! ```
//!
//! Every accepted message is one JSON line in the server's out file; [`Received`] is
//! that line. A server started with the port and out file of a stopped one continues
//! it: "server down, then up" keeps one log.

#![allow(dead_code)] // a shared helper: each test uses part of it

use serde::Deserialize;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server script, from the workspace root.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smtp/smtpd.py");

/// How long to wait for the server to listen before giving up (not a timing assertion:
/// it only keeps a broken setup from hanging the test run).
const READY_WAIT: Duration = Duration::from_secs(30);

/// How the server secures connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpMode {
    /// No TLS at all.
    #[default]
    Plain,
    /// STARTTLS offered and required before `MAIL`.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpMode {
    fn arg(self) -> &'static str {
        match self {
            SmtpMode::Plain => "plain",
            SmtpMode::Starttls => "starttls",
            SmtpMode::Tls => "tls",
        }
    }
}

/// How to start a [`SmtpServer`]; build with [`SmtpOpts::plain`], [`SmtpOpts::starttls`]
/// or [`SmtpOpts::tls`] and the methods below.
#[derive(Clone, Debug, Default)]
pub struct SmtpOpts {
    /// 0: a free port.
    pub port: u16,
    pub mode: SmtpMode,
    /// Server certificate and key (PEM), for the TLS modes.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Require AUTH with this user and password.
    pub auth: Option<(String, String)>,
    /// Refuse (550) recipients containing this.
    pub reject_rcpt: Option<String>,
    /// Where accepted messages are logged; `None`: a file in a temporary folder of the server.
    pub out: Option<PathBuf>,
}

impl SmtpOpts {
    /// A plain-text server.
    pub fn plain() -> SmtpOpts {
        SmtpOpts::default()
    }

    /// A server requiring STARTTLS, with the test CA's server certificate.
    pub fn starttls(ca: &TestCa) -> SmtpOpts {
        SmtpOpts {
            mode: SmtpMode::Starttls,
            cert: Some((ca.cert_file.clone(), ca.key_file.clone())),
            ..SmtpOpts::default()
        }
    }

    /// An SMTPS server (TLS from the first byte), with the test CA's server certificate.
    pub fn tls(ca: &TestCa) -> SmtpOpts {
        SmtpOpts {
            mode: SmtpMode::Tls,
            cert: Some((ca.cert_file.clone(), ca.key_file.clone())),
            ..SmtpOpts::default()
        }
    }

    /// Listens on this port (to restart a stopped server where it was).
    pub fn port(mut self, port: u16) -> SmtpOpts {
        self.port = port;
        self
    }

    /// Requires AUTH with this user and password.
    pub fn auth(mut self, user: &str, password: &str) -> SmtpOpts {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Refuses recipients containing `substr` with 550.
    pub fn reject_rcpt(mut self, substr: &str) -> SmtpOpts {
        self.reject_rcpt = Some(substr.to_string());
        self
    }

    /// Logs accepted messages to this file (appending).
    pub fn out(mut self, path: &Path) -> SmtpOpts {
        self.out = Some(path.to_path_buf());
        self
    }
}

/// One accepted message, as the server logged it.
#[derive(Clone, Debug, Deserialize)]
pub struct Received {
    /// The `Message-ID` header as sent (with its angle brackets).
    pub message_id: Option<String>,
    /// The `X-Haoyuan-Id` header.
    pub x_haoyuan_id: Option<String>,
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients the server accepted.
    pub rcpt_tos: Vec<String>,
    /// The subject, decoded from RFC 2047.
    pub subject: String,
    pub has_text: bool,
    pub has_html: bool,
    /// The decoded text/plain part.
    pub text: Option<String>,
    /// The decoded text/html part.
    pub html: Option<String>,
    /// A number per TCP connection, counted by the server process from 1: messages with
    /// the same number came over the same connection.
    pub session: u64,
    /// Whether the message came over TLS (STARTTLS or SMTPS).
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    /// Unix ms when the server accepted it.
    pub received_at: i64,
}

/// A running `tests/smtp/smtpd.py`; killed when dropped.
pub struct SmtpServer {
    child: Option<Child>,
    port: u16,
    out: PathBuf,
    opts: SmtpOpts,
    /// Holds the out file when the options named none.
    _dir: Option<tempfile::TempDir>,
}

impl SmtpServer {
    /// Starts the server and waits until it listens. Panics with the server's stderr if
    /// it cannot start (aiosmtpd missing: run `scripts/setup.sh`; port taken).
    pub fn start(opts: SmtpOpts) -> SmtpServer {
        let (out, dir) = match &opts.out {
            Some(p) => (p.clone(), None),
            None => {
                let dir = tempfile::tempdir().expect("temporary folder for the SMTP log");
                (dir.path().join("received.jsonl"), Some(dir))
            }
        };
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut cmd = Command::new(python);
        cmd.arg(SCRIPT)
            .args(["--port", &opts.port.to_string(), "--mode", opts.mode.arg()])
            .arg("--out")
            .arg(&out);
        if let Some((cert, key)) = &opts.cert {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &opts.auth {
            cmd.args(["--auth", &format!("{user}:{password}")]);
        }
        if let Some(s) = &opts.reject_rcpt {
            cmd.args(["--reject-rcpt", s]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3 tests/smtp/smtpd.py");

        // The ready line, read on a thread so a server that never gets ready cannot hang us.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(READY_WAIT).unwrap_or_default();
        let port = serde_json::from_str::<serde_json::Value>(line.trim())
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            panic!("the test SMTP server did not start (ready line {line:?}); stderr:\n{err}");
        };
        // Keep stderr drained so a chatty server never blocks on a full pipe.
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut BufReader::new(stderr), &mut std::io::sink());
            });
        }
        SmtpServer {
            child: Some(child),
            port,
            out,
            opts,
            _dir: dir,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The options it was started with, with the port and out file it really uses:
    /// `SmtpServer::start(server.same())` after `stop()` brings it back where it was.
    pub fn same(&self) -> SmtpOpts {
        let mut o = self.opts.clone();
        o.port = self.port;
        o.out = Some(self.out.clone());
        o
    }

    /// The out file.
    pub fn out_file(&self) -> &Path {
        &self.out
    }

    /// The messages accepted so far, oldest first (the server writes a message's line
    /// before it answers `250`).
    pub fn received(&self) -> Vec<Received> {
        read_received(&self.out)
    }

    /// Polls until at least `n` messages were accepted or `limit` passed; returns what
    /// was accepted (the caller asserts on it).
    pub fn wait_received(&self, n: usize, limit: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL if it lingers) and waits for it to exit;
    /// its port is free again afterwards.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The messages logged in an out file (a missing file: none). A line that is not valid
/// is a test failure: the server writes whole lines.
pub fn read_received(out: &Path) -> Vec<Received> {
    let text = match std::fs::read_to_string(out) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("cannot read the SMTP log {}: {e}", out.display()),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad SMTP log line {l:?}: {e}")))
        .collect()
}

/// A test CA and a server certificate it signed, for 127.0.0.1 and localhost, written as
/// PEM files in a temporary folder (kept as long as this value).
pub struct TestCa {
    /// The CA certificate: what a client must trust (`ca_file`).
    pub ca_file: PathBuf,
    /// The server certificate and its key, for the server.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    /// Makes a fresh CA and server certificate.
    pub fn generate() -> TestCa {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let dir = tempfile::tempdir().expect("temporary folder for the test CA");

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Haoyuan test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "haoyuan-test-smtpd");
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let ca_file = dir.path().join("ca.pem");
        let cert_file = dir.path().join("server.pem");
        let key_file = dir.path().join("server.key");
        std::fs::write(&ca_file, ca_cert.pem()).expect("write ca.pem");
        std::fs::write(&cert_file, cert.pem()).expect("write server.pem");
        std::fs::write(&key_file, key.serialize_pem()).expect("write server.key");
        TestCa {
            ca_file,
            cert_file,
            key_file,
            _dir: dir,
        }
    }
}
