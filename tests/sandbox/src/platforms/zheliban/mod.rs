//! The zheliban simulator (placeholder until its engineer fills it in).

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// The zheliban platform.
pub struct Zheliban {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Zheliban {
    pub fn new(shared: Arc<Shared>) -> Zheliban {
        Zheliban { shared }
    }
}

impl Platform for Zheliban {
    fn id(&self) -> &'static str {
        "zheliban"
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
