//! The host's HTTP runner, and webhook delivery on top of it.
//!
//! [`execute`] sends one core [`HttpRequest`] with a blocking client (ureq, rustls with
//! the Mozilla roots) and hands back the [`HttpResponse`] as it came: any status,
//! 3xx included (redirects are never followed, so a POST is never silently re-sent or
//! turned into a GET, and the core sees what the site said), and non-2xx statuses are
//! responses, not errors. Only a failure to exchange at all (refused, unreachable,
//! timed out, not HTTP) is an `Err`, in plain words that never quote the request's URL
//! (webhook URLs hold tokens). The same runner will carry the host-side platforms.
//!
//! [`send`] delivers a [`Notice`] through one webhook channel: the core builds the
//! request ([`haoyuan_core::notify::webhook::build`]), [`execute`] sends it with a 10 s
//! timeout, the core reads the reply ([`haoyuan_core::notify::webhook::interpret`]).
//! Connection failures and timeouts are transient; every message is passed through
//! [`haoyuan_core::notify::webhook::redact_secrets`] before it leaves.

use haoyuan_core::http::{HttpRequest, HttpResponse, Method};
use haoyuan_core::notify::webhook::{build, interpret, redact_secrets};
use haoyuan_core::notify::{Channel, ChannelSettings, DeliveryError, Notice};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::http;

/// How long [`send`] waits for a channel's server, connecting included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The `User-Agent` sent when a request names none.
pub const USER_AGENT: &str = concat!("haoyuan-host/", env!("CARGO_PKG_VERSION"));

/// Why an exchange did not happen, and whether trying again later can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError {
    /// True when the request itself is wrong (not a valid URL or header): retrying the
    /// same request cannot help.
    pub permanent: bool,
    /// What happened, in plain words, without the request's URL.
    pub message: String,
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Sends `req` and returns the server's response whatever its status; `Err` only when
/// no HTTP response was had (see the module doc). `timeout` bounds the whole exchange.
pub fn execute(req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, String> {
    execute_detailed(req, timeout).map_err(|e| e.message)
}

/// [`execute`], with the error telling a bad request (permanent) from a network
/// failure (transient).
pub fn execute_detailed(req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, ExecError> {
    let hide = |m: String| hide_url(&m, &req.url);
    let permanent = |m: &str| ExecError {
        permanent: true,
        message: m.to_string(),
    };

    let mut builder = http::Request::builder()
        .method(to_http_method(req.method))
        .uri(req.url.as_str());
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let has_user_agent = req.header_value("user-agent").is_some();
    if !has_user_agent {
        builder = builder.header("User-Agent", USER_AGENT);
    }

    let result = match &req.body {
        // A POST without a body still says `Content-Length: 0`: sent as a chunked
        // body, a server that never reads it may close the connection with the last
        // chunk unread, and the kernel's reset cuts our reply short (seen with large
        // 浙里办 batches).
        None if matches!(req.method, Method::Post | Method::Put | Method::Patch) => {
            match builder.body(Vec::new()) {
                Ok(r) => run(r, timeout),
                Err(_) => return Err(permanent(BAD_REQUEST)),
            }
        }
        None => match builder.body(()) {
            Ok(r) => run(r, timeout),
            Err(_) => return Err(permanent(BAD_REQUEST)),
        },
        Some(body) => match builder.body(body.as_bytes().to_vec()) {
            Ok(r) => run(r, timeout),
            Err(_) => return Err(permanent(BAD_REQUEST)),
        },
    };
    let mut resp = result.map_err(|e| {
        let (permanent, message) = describe(&e, timeout);
        ExecError {
            permanent,
            message: hide(message),
        }
    })?;

    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp.body_mut().read_to_vec().map_err(|e| {
        let (_, message) = describe(&e, timeout);
        ExecError {
            permanent: false,
            message: hide(format!(
                "the reply (HTTP {status}) was cut short: {message}"
            )),
        }
    })?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Delivers `n` through the webhook channel `channel` (not email): build → execute
/// (10 s) → interpret. `Ok` holds what the server said (e.g. `HTTP 200 errcode 0`).
pub fn send(channel: Channel, s: &ChannelSettings, n: &Notice) -> Result<String, DeliveryError> {
    let redact = |e: DeliveryError| DeliveryError {
        permanent: e.permanent,
        message: redact_secrets(&e.message, s),
    };
    let req = build(channel, s, n, now_ms()).map_err(redact)?;
    let resp = execute_detailed(&req, SEND_TIMEOUT).map_err(|e| {
        redact(DeliveryError {
            permanent: e.permanent,
            message: format!(
                "could not deliver to {}: {}",
                channel.server_name(),
                e.message
            ),
        })
    })?;
    interpret(channel, &resp)
        .map(|detail| redact_secrets(&detail, s))
        .map_err(redact)
}

// ---------------------------------------------------------------------------------

const BAD_REQUEST: &str =
    "the request could not be formed (the address or a header is not valid); check the settings";

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            // Non-2xx answers are answers: the caller reads them.
            .http_status_as_error(false)
            // Never follow a redirect: a POST must not be re-sent or turned into a GET
            // behind the caller's back; the 3xx goes back to the caller.
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .build()
            .new_agent()
    })
}

fn run<B: ureq::AsSendBody>(
    r: http::Request<B>,
    timeout: Duration,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    use ureq::RequestExt;
    r.with_agent(agent())
        .configure()
        .timeout_global(Some(timeout))
        .run()
}

fn to_http_method(m: Method) -> http::Method {
    match m {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Head => http::Method::HEAD,
        Method::Patch => http::Method::PATCH,
        Method::Options => http::Method::OPTIONS,
    }
}

/// Plain words for a client error, and whether it is permanent. Never uses the
/// variants whose text holds the URL.
fn describe(e: &ureq::Error, timeout: Duration) -> (bool, String) {
    use std::io::ErrorKind;
    use ureq::Error as E;
    match e {
        E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) => (true, BAD_REQUEST.to_string()),
        E::Io(io) => {
            let what = match io.kind() {
                ErrorKind::ConnectionRefused => {
                    "the connection was refused (is the server running?)"
                }
                ErrorKind::ConnectionReset => "the connection was reset by the server",
                ErrorKind::ConnectionAborted => "the connection was aborted",
                ErrorKind::TimedOut | ErrorKind::WouldBlock => "the server did not answer in time",
                ErrorKind::UnexpectedEof => {
                    "the server closed the connection without a full answer"
                }
                ErrorKind::AddrNotAvailable | ErrorKind::NotConnected => {
                    "the network is not available"
                }
                _ => "a network error",
            };
            (false, format!("{what} ({io})"))
        }
        E::Timeout(t) => (
            false,
            format!(
                "no answer within {} s ({t})",
                timeout.as_secs_f64().round() as u64
            ),
        ),
        E::HostNotFound => (false, "the server's name could not be resolved".to_string()),
        E::ConnectionFailed => (false, "the connection could not be made".to_string()),
        E::Protocol(_) => (false, "the server's reply was not valid HTTP".to_string()),
        E::TooManyRedirects | E::RedirectFailed => (
            true,
            "the server redirected the request elsewhere; check the address".to_string(),
        ),
        E::BodyExceedsLimit(n) => (true, format!("the reply is larger than {n} bytes")),
        E::LargeResponseHeader(_, _) => (false, "the reply's headers are too large".to_string()),
        E::Tls(m) => (false, format!("the secure connection failed: {m}")),
        E::Rustls(err) => (false, format!("the secure connection failed: {err}")),
        E::Pem(_) => (true, "a certificate could not be read".to_string()),
        E::InvalidProxyUrl | E::ConnectProxyFailed(_) => (
            false,
            "the proxy set in the environment (HTTPS_PROXY / ALL_PROXY) could not be used"
                .to_string(),
        ),
        E::StatusCode(s) => (false, format!("HTTP {s}")),
        _ => (false, "the exchange with the server failed".to_string()),
    }
}

/// `message` without `url` or the part of it after the host (where tokens live).
fn hide_url(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "<address>");
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        if let Some(i) = rest.find(['/', '?']) {
            let tail = &rest[i..];
            if tail.len() > 1 {
                out = out.replace(tail, "<path>");
            }
        }
    }
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_address_is_a_permanent_error_without_the_address() {
        let req = HttpRequest::get("http://exa mple.com/bot123:SECRET/x");
        let e = execute_detailed(&req, Duration::from_secs(1)).unwrap_err();
        assert!(e.permanent, "{e:?}");
        assert!(!e.message.contains("SECRET"), "{}", e.message);
    }

    #[test]
    fn a_post_without_a_body_says_content_length_0_not_chunked() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/reservation/sync/order",
            listener.local_addr().unwrap()
        );
        let server = std::thread::spawn(move || {
            let (mut c, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && c.read(&mut b).unwrap() == 1 {
                head.push(b[0]);
            }
            c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .unwrap();
            String::from_utf8(head).unwrap().to_ascii_lowercase()
        });
        let req = HttpRequest::new(Method::Post, url);
        let resp = execute(&req, Duration::from_secs(5)).unwrap();
        assert_eq!(resp.body, b"ok");
        let head = server.join().unwrap();
        assert!(head.contains("content-length: 0"), "{head}");
        assert!(!head.contains("transfer-encoding"), "{head}");
    }

    #[test]
    fn urls_are_hidden_from_messages() {
        let url = "https://api.telegram.org/bot1:TOKEN/sendMessage";
        assert_eq!(
            hide_url(&format!("bad uri: {url}"), url),
            "bad uri: <address>"
        );
        assert_eq!(
            hide_url("Cannot POST /bot1:TOKEN/sendMessage", url),
            "Cannot POST <path>"
        );
    }
}
