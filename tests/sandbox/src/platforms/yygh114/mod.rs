//! The 114yygh simulator (placeholder until its engineer fills it in).

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// The 114yygh platform.
pub struct Yygh114 {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Yygh114 {
    pub fn new(shared: Arc<Shared>) -> Yygh114 {
        Yygh114 { shared }
    }
}

impl Platform for Yygh114 {
    fn id(&self) -> &'static str {
        "114yygh"
    }
    fn routes(self: Arc<Self>) -> Router {
        Router::new()
    }
    fn load(&self, _seed: u64, _section: &Value) -> Result<(), String> {
        Ok(())
    }
    fn release(&self, _spec: &Value) -> Result<Value, String> {
        Err("not yet".into())
    }
    fn orders(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn expire_sessions(&self) {}
}
