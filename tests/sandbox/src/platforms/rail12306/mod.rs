//! The 12306 simulator (placeholder until its engineer fills it in).

use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

/// The 12306 platform.
pub struct Rail12306 {
    #[allow(dead_code)]
    shared: Arc<Shared>,
}

impl Rail12306 {
    pub fn new(shared: Arc<Shared>) -> Rail12306 {
        Rail12306 { shared }
    }
}

impl Platform for Rail12306 {
    fn id(&self) -> &'static str {
        "12306"
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
