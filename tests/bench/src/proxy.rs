//! A recording pass-through HTTP proxy for the run-time benches (`rail12306_run`,
//! `sites_run`): the host is pointed at it, and it notes each request's arrival (Unix
//! ms, before forwarding), path, query, login (by a function of the headers) and the
//! upstream's status. Run it on a tokio runtime of its own, so that the simulator's
//! work does not delay the arrival stamps.

use crate::real_ms;
use std::sync::{Arc, Mutex};

/// One request through the recording proxy.
#[derive(Clone, Debug)]
pub struct Hit {
    /// Unix ms of its arrival at the proxy.
    pub at: i64,
    pub path: String,
    pub query: String,
    /// What the proxy's session function saw in its headers.
    pub session: Option<String>,
    /// The upstream's status (502 when it did not answer).
    pub status: u16,
}

/// Tells a request's login (session) from its headers.
pub type SessionOf = fn(&axum::http::HeaderMap) -> Option<String>;

/// A running proxy: what it forwards to, and the requests it saw so far.
pub struct Proxy {
    upstream: String,
    client: reqwest::Client,
    session_of: SessionOf,
    pub hits: Mutex<Vec<Hit>>,
}

/// The value of the cookie `name` among the request's `Cookie` headers.
pub fn cookie_of(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn forward(
    axum::extract::State(p): axum::extract::State<Arc<Proxy>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::header;
    let at = real_ms();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let url = format!(
        "{}{}",
        p.upstream,
        parts.uri.path_and_query().map_or("/", |x| x.as_str())
    );
    let mut rb = p.client.request(parts.method.clone(), url);
    for (k, v) in &parts.headers {
        if k == header::HOST
            || k == header::CONTENT_LENGTH
            || k == header::CONNECTION
            || k == header::TRANSFER_ENCODING
        {
            continue;
        }
        rb = rb.header(k, v);
    }
    let mut hit = Hit {
        at,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        session: (p.session_of)(&parts.headers),
        status: 502,
    };
    let out = match rb.body(bytes).send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            hit.status = status.as_u16();
            let mut out = axum::response::Response::builder().status(status);
            for (k, v) in &headers {
                if k == header::CONTENT_LENGTH
                    || k == header::CONNECTION
                    || k == header::TRANSFER_ENCODING
                {
                    continue;
                }
                out = out.header(k, v);
            }
            out.body(axum::body::Body::from(body))
                .unwrap_or_else(|_| axum::response::Response::new(axum::body::Body::empty()))
        }
        Err(_) => {
            let mut r = axum::response::Response::new(axum::body::Body::empty());
            *r.status_mut() = axum::http::StatusCode::BAD_GATEWAY;
            r
        }
    };
    if let Ok(mut h) = p.hits.lock() {
        h.push(hit);
    }
    out
}

/// Starts a proxy to `upstream` on 127.0.0.1 (on the current tokio runtime); its base
/// URL and its record.
pub async fn start_proxy(
    upstream: String,
    session_of: SessionOf,
) -> Result<(String, Arc<Proxy>), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let proxy = Arc::new(Proxy {
        upstream,
        client,
        session_of,
        hits: Mutex::new(Vec::new()),
    });
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((format!("http://{addr}"), proxy))
}
