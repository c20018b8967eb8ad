//! The 91160 simulator (placeholder until its engineer fills it in).

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// The 91160 platform.
pub struct Open91160 {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Open91160 {
    pub fn new(shared: Arc<Shared>) -> Open91160 {
        Open91160 { shared }
    }
}

impl Platform for Open91160 {
    fn id(&self) -> &'static str {
        "91160"
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
