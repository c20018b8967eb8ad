//! The five platform simulators, all of one shape: a type implementing [`Platform`]
//! in its own folder, serving the real site's paths under its own base URL.

use crate::shared::Shared;
use axum::http::HeaderMap;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

pub mod open91160;
pub mod pati;
pub mod rail12306;
pub mod yygh114;
pub mod zheliban;

/// A simulated platform.
pub trait Platform: Send + Sync + 'static {
    /// `114yygh`, `12306`, `91160`, `pati` or `zheliban` (the key in the start-up line).
    fn id(&self) -> &'static str;

    /// The site's routes, at the paths the real site uses.
    fn routes(self: Arc<Self>) -> Router;

    /// Replaces all data with a world generated from `seed` and this platform's
    /// section of the scenario (`Value::Null` when the scenario has none).
    fn load(&self, seed: u64, section: &Value) -> Result<(), String>;

    /// Applies what the clock has made due: scheduled releases, competitors' purchases,
    /// expiries. Called before every request to the platform and by the admin API.
    fn tick(&self, _now_ms: i64) {}

    /// Releases inventory now (admin API); the spec is platform-specific.
    fn release(&self, spec: &Value) -> Result<Value, String>;

    /// Every order made on the platform, for the admin API and tests.
    fn orders(&self) -> Value;

    /// Expires every session / token (the `session_expired` fault and the admin API).
    fn expire_sessions(&self);

    /// The login credential a request carries, shortened with
    /// [`crate::shared::short_session`], for the request log's `session` (`None`: none,
    /// or the platform does not say).
    fn log_session(&self, _headers: &HeaderMap) -> Option<String> {
        None
    }

    /// Platform-specific admin actions (`POST /platform/{id}/{action}`).
    fn admin(&self, action: &str, _body: &Value) -> Result<Value, String> {
        Err(format!("{} has no admin action “{action}”", self.id()))
    }

    /// Applies a body fault (truncated, malformed, missing or renamed field) to a reply
    /// body. The default edits the bytes as sent; a platform whose replies are encrypted
    /// can apply the fault to the plaintext instead, so that it stays observable.
    fn mangle_body(&self, kind: &crate::faults::FaultKind, body: &[u8]) -> Vec<u8> {
        crate::faults::mangle_body(kind, body)
    }
}

/// Builds every platform, in the order of the start-up line.
pub fn all(shared: &Arc<Shared>) -> Vec<Arc<dyn Platform>> {
    vec![
        Arc::new(yygh114::Yygh114::new(shared.clone())),
        Arc::new(rail12306::Rail12306::new(shared.clone())),
        Arc::new(open91160::Open91160::new(shared.clone())),
        Arc::new(pati::Pati::new(shared.clone())),
        Arc::new(zheliban::Zheliban::new(shared.clone())),
    ]
}
