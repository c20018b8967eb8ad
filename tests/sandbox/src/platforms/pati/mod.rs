//! The pati simulator (placeholder until its engineer fills it in).

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// The pati platform.
pub struct Pati {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Pati {
    pub fn new(shared: Arc<Shared>) -> Pati {
        Pati { shared }
    }
}

impl Platform for Pati {
    fn id(&self) -> &'static str {
        "pati"
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
