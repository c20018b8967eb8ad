//! `haoyuan-sandbox`: faithful, scriptable simulators of the five booking platforms,
//! served on 127.0.0.1 so that adapters, tests and the demo never need the real sites.
//!
//! One process serves each platform under its own base URL (its own port) plus an admin
//! API. A seed generates the world; a scenario file says what exists, what is released
//! when, and what competing buyers do; the admin API releases inventory, moves the
//! simulated clock, injects faults, and reads the phone inbox, captcha answers, the
//! request log and the orders.
//!
//! - [`clock`]: the simulated server clock (advance, skew).
//! - [`faults`]: per-route faults for the next K requests.
//! - [`shared`]: inbox, captcha answers, request log, rate limits.
//! - [`admin`]: the admin API.
//! - [`platforms`]: one folder per platform, the same shape in each.
//! - [`gen`], [`png`], [`web`]: seeded data, images, HTTP helpers.

pub mod admin;
pub mod clock;
pub mod faults;
pub mod gen;
pub mod platforms;
pub mod png;
pub mod shared;
pub mod web;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use faults::FaultKind;
use platforms::Platform;
use serde_json::Value;
use shared::{LoggedRequest, Shared};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How to start the sandbox.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Admin port; the platforms take the next five. 0: any free ports.
    pub port: u16,
    /// Seed of the generated world (a scenario's own `seed` wins).
    pub seed: u64,
    /// A parsed scenario (see [`parse_scenario`]).
    pub scenario: Option<Value>,
}

/// A started sandbox.
pub struct Running {
    /// Base URL per platform id, and `admin`.
    pub urls: BTreeMap<String, String>,
    pub shared: Arc<Shared>,
    pub platforms: Vec<Arc<dyn Platform>>,
}

impl Running {
    /// The base URL of a platform (or `admin`).
    pub fn url(&self, id: &str) -> String {
        self.urls.get(id).cloned().unwrap_or_default()
    }

    /// The start-up line: `{"114yygh": "...", ..., "admin": "..."}`.
    pub fn urls_json(&self) -> String {
        serde_json::to_string(&self.urls).unwrap_or_default()
    }

    /// The platform with this id.
    pub fn platform(&self, id: &str) -> Option<&Arc<dyn Platform>> {
        self.platforms.iter().find(|p| p.id() == id)
    }
}

/// Parses a scenario file (YAML or JSON — JSON is YAML).
pub fn parse_scenario(text: &str) -> Result<Value, String> {
    serde_yaml::from_str::<Value>(text)
        .map_err(|e| format!("the scenario is not valid YAML or JSON: {e}"))
}

/// Resets every service and loads a scenario into every platform.
pub fn load_scenario(
    shared: &Shared,
    platforms: &[Arc<dyn Platform>],
    default_seed: u64,
    scenario: &Value,
) -> Result<(), String> {
    if !(scenario.is_object() || scenario.is_null()) {
        return Err("a scenario must be a mapping of platform sections".into());
    }
    let seed = scenario
        .get("seed")
        .and_then(Value::as_u64)
        .unwrap_or(default_seed);
    shared.clock.reset();
    if let Some(c) = scenario.get("clock") {
        shared
            .clock
            .advance(c.get("advance_ms").and_then(Value::as_i64).unwrap_or(0));
        shared
            .clock
            .set_skew(c.get("skew_ms").and_then(Value::as_i64).unwrap_or(0));
    }
    shared.faults.clear();
    shared.inbox.clear();
    shared.captchas.clear();
    shared.log.clear();
    if let Some(faults) = scenario.get("faults").and_then(Value::as_array) {
        for f in faults {
            let spec =
                serde_json::from_value(f.clone()).map_err(|e| format!("bad fault {f}: {e}"))?;
            shared.faults.arm(spec);
        }
    }
    for p in platforms {
        let section = scenario.get(p.id()).cloned().unwrap_or(Value::Null);
        p.load(seed, &section)
            .map_err(|e| format!("{}: {e}", p.id()))?;
    }
    Ok(())
}

/// Starts every listener on the current tokio runtime.
pub async fn start(opts: Options) -> Result<Running, String> {
    let shared = Arc::new(Shared::default());
    let platforms = platforms::all(&shared);
    load_scenario(
        &shared,
        &platforms,
        opts.seed,
        opts.scenario.as_ref().unwrap_or(&Value::Null),
    )?;

    let mut urls = BTreeMap::new();
    let port_for = |i: u16| if opts.port == 0 { 0 } else { opts.port + i };
    for (i, p) in platforms.iter().enumerate() {
        let router = p.clone().routes().layer(middleware::from_fn_with_state(
            Layer {
                shared: shared.clone(),
                platform: p.clone(),
            },
            platform_layer,
        ));
        let url = serve(router, port_for(i as u16 + 1)).await?;
        urls.insert(p.id().to_string(), url);
    }
    let admin = admin::router(admin::AdminState {
        shared: shared.clone(),
        platforms: platforms.clone(),
        seed: opts.seed,
    });
    urls.insert("admin".to_string(), serve(admin, port_for(0)).await?);
    Ok(Running {
        urls,
        shared,
        platforms,
    })
}

async fn serve(router: axum::Router, port: u16) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{addr}"))
}

#[derive(Clone)]
struct Layer {
    shared: Arc<Shared>,
    platform: Arc<dyn Platform>,
}

/// Runs before and after every platform request: ticks the platform, applies an armed
/// fault, stamps the server clock in `Date`, and logs the request.
async fn platform_layer(State(ctx): State<Layer>, req: Request, next: Next) -> Response {
    let shared = &ctx.shared;
    let id = ctx.platform.id();
    ctx.platform.tick(shared.clock.now_ms());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers();
    let header_of = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let origin = header_of("origin");
    let referer = header_of("referer");
    let sec_fetch_site = header_of("sec-fetch-site");
    let session = ctx.platform.log_session(headers);
    let fault = shared.faults.take(id, &path);

    let mut resp = match &fault {
        None => next.run(req).await,
        Some(FaultKind::Status { status }) => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = format!(
                "<html><head><title>{code}</title></head><body><h1>{code}</h1></body></html>"
            );
            (code, [(header::CONTENT_TYPE, "text/html")], body).into_response()
        }
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
            next.run(req).await
        }
        Some(FaultKind::Reset) => {
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                ))
            });
            Response::new(Body::from_stream(stream))
        }
        Some(FaultKind::SessionExpired) => {
            ctx.platform.expire_sessions();
            next.run(req).await
        }
        Some(kind) => {
            let (mut parts, body) = next.run(req).await.into_parts();
            let bytes = axum::body::to_bytes(body, 64 << 20)
                .await
                .unwrap_or_default();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(ctx.platform.mangle_body(kind, &bytes)))
        }
    };
    if let Ok(date) = HeaderValue::from_str(&shared.clock.http_date()) {
        resp.headers_mut().insert(header::DATE, date);
    }
    shared.log.push(LoggedRequest {
        at: shared.clock.now_ms(),
        platform: id.to_string(),
        method,
        path,
        query,
        status: resp.status().as_u16(),
        fault: fault.map(|f| {
            serde_json::to_value(&f)
                .ok()
                .and_then(|v| v["kind"].as_str().map(String::from))
                .unwrap_or_default()
        }),
        origin,
        referer,
        sec_fetch_site,
        session,
    });
    resp
}
