//! What the 91160 and pati_service benches share (`sites`: the order chain's latency,
//! client-only and against the simulator; `sites_run`: many watches on one
//! `haoyuan-host run`): the simulator in this process with several 91160 appTokens and
//! pati accounts, a valid patient, a pati sign-in, and the host's protocol handlers
//! called in process (to store accounts, patients and watches, and to record events
//! and intents the way the runner does).

use haoyuan_core::date::Date;
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::platforms::pati;
use haoyuan_core::protocol::Request;
use haoyuan_host::dispatch::Host;
use haoyuan_sandbox::{Options, Running};
use serde_json::{json, Value};
use std::time::Duration;

/// How long a request to the simulator may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The seed's appToken (the simulator's default).
pub const TOKEN_91160: &str = "75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL";

/// `n` 91160 appTokens of the seed's shape (32 hex digits and 8 letters), the seed's
/// first; each starts with another hex digit (so at most 16 tokens).
pub fn tokens_91160(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                TOKEN_91160.to_string()
            } else {
                format!("{:x}{}", (7 + i) % 16, &TOKEN_91160[1..])
            }
        })
        .collect()
}

/// `n` pati accounts: (phone, password).
pub fn pati_accounts(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("138123456{i:02}"), format!("pati{i}23456")))
        .collect()
}

/// The `91160:` and `pati:` sections of a scenario: `tokens` appTokens and `units`
/// hospitals (plus `schedules_91160`, YAML list items indented by 4), `accounts` pati
/// accounts with one family member each (plus the rest of the `pati:` section,
/// `pati_rest`, indented by 2).
pub fn scenario(
    tokens: &[String],
    units: usize,
    schedules_91160: &str,
    accounts: &[(String, String)],
    pati_rest: &str,
) -> String {
    let toks: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let mut s = format!(
        "91160:\n  units: {units}\n  tokens: [{}]\n",
        toks.join(", ")
    );
    if !schedules_91160.trim().is_empty() {
        s.push_str("  schedules:\n");
        s.push_str(schedules_91160);
    }
    s.push_str("pati:\n  accounts:\n");
    for (phone, password) in accounts {
        s.push_str(&format!(
            "    - {{phone: \"{phone}\", password: \"{password}\", member_count: 1}}\n"
        ));
    }
    s.push_str(pati_rest);
    s
}

/// Starts the simulator loaded with `scenario` (YAML) on `rt`.
pub fn start_sim(rt: &tokio::runtime::Runtime, scenario: &str) -> Result<Running, String> {
    let scenario = haoyuan_sandbox::parse_scenario(scenario)?;
    rt.block_on(haoyuan_sandbox::start(Options {
        port: 0,
        seed: 7,
        scenario: Some(scenario),
    }))
}

/// An admin action of one of the simulator's platforms.
pub fn admin(sb: &Running, platform: &str, action: &str, body: Value) -> Result<Value, String> {
    sb.platform(platform)
        .ok_or_else(|| format!("the simulator has no {platform}"))?
        .admin(action, &body)
}

/// The simulator's Beijing day.
pub fn sim_today(sb: &Running) -> Date {
    Date::from_unix_ms(sb.shared.clock.now_ms(), 480)
}

/// A valid adult patient (a resident ID with its check digit), as the patient book
/// stores it.
pub fn patient_json() -> Value {
    let id = haoyuan_core::idcard::complete("11010519800101123").unwrap_or_default();
    json!({"name": "张三丰", "id_type": "resident_id", "id_number": id,
           "birthday": "1980-01-01", "sex": "male", "phone": "13812345678",
           "address": "北京市东城区某街1号"})
}

/// Signs a pati account in with the core's request and reader; returns the token.
pub fn pati_sign_in(
    site: &pati::site::Site,
    phone: &str,
    password: &str,
) -> Result<String, String> {
    let resp = haoyuan_host::webhook::execute(&site.login(phone, password), HTTP_TIMEOUT)?;
    pati::site::read_login(&resp)
        .map(|l| l.token)
        .map_err(|e| format!("pati sign-in of {phone}: {e}"))
}

/// Sends `req` as is (the host's 91160 path; pati adds the `token` header first).
pub fn execute(req: &HttpRequest) -> Result<HttpResponse, String> {
    haoyuan_host::webhook::execute(req, HTTP_TIMEOUT)
}

/// A protocol command (`cmd`, `params`) handled by the host's own handlers in this
/// process; its `data` or the error's message.
pub fn host_call(host: &mut Host, cmd: &str, params: Value) -> Result<Value, String> {
    let req: Request = serde_json::from_value(json!({"cmd": cmd, "params": params}))
        .map_err(|e| format!("{cmd}: not a request: {e}"))?;
    host.handle(req)
        .result
        .map_err(|e| format!("{cmd}: {} ({})", e.message, e.code.as_str()))
}

/// Milliseconds of a duration, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
