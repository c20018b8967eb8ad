//! Faults injected per platform and route for the next K requests, through the admin
//! API: an error status, a delay, a dropped connection, a truncated or malformed body, a
//! missing or renamed field, or every session of the platform expiring.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Mutex;

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (403, 429, 500, 502, …) and a short HTML body, as a
    /// gateway or a WAF would.
    Status { status: u16 },
    /// Wait this long before handling the request normally.
    Delay { ms: u64 },
    /// Drop the connection without a complete response.
    Reset,
    /// Send only the first half of the real body (with a matching length).
    Truncated,
    /// Send the real body with its JSON broken.
    Malformed,
    /// Remove every occurrence of this key from the JSON reply (a changed schema).
    MissingField { field: String },
    /// Rename every occurrence of this key in the JSON reply.
    RenameField { from: String, to: String },
    /// Expire every session / token of the platform before handling the request.
    SessionExpired,
}

/// One armed fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultSpec {
    /// Platform id (`114yygh`, `12306`, `91160`, `pati`, `zheliban`).
    pub platform: String,
    /// A path (`/web/product/detail`), a prefix ending in `*` (`/otn/*`), or `*`.
    #[serde(default = "any_route")]
    pub route: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests it hits.
    #[serde(default = "one")]
    pub count: u32,
}

fn any_route() -> String {
    "*".into()
}

fn one() -> u32 {
    1
}

impl FaultSpec {
    fn matches(&self, platform: &str, path: &str) -> bool {
        if self.platform != platform {
            return false;
        }
        match self.route.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.route == path,
        }
    }
}

/// The armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<FaultSpec>>,
}

impl Faults {
    /// Arms a fault.
    pub fn arm(&self, spec: FaultSpec) {
        if let Ok(mut a) = self.armed.lock() {
            a.push(spec);
        }
    }

    /// Removes every armed fault.
    pub fn clear(&self) {
        if let Ok(mut a) = self.armed.lock() {
            a.clear();
        }
    }

    /// The armed faults, for the admin API.
    pub fn list(&self) -> Vec<FaultSpec> {
        self.armed.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Takes the first fault armed for this request, counting it down.
    pub fn take(&self, platform: &str, path: &str) -> Option<FaultKind> {
        let mut armed = self.armed.lock().ok()?;
        let i = armed.iter().position(|f| f.matches(platform, path))?;
        let kind = armed[i].kind.clone();
        armed[i].count = armed[i].count.saturating_sub(1);
        if armed[i].count == 0 {
            armed.remove(i);
        }
        Some(kind)
    }
}

/// Applies a body fault to a reply body.
pub fn mangle_body(kind: &FaultKind, body: &[u8]) -> Vec<u8> {
    match kind {
        FaultKind::Truncated => body[..body.len() / 2].to_vec(),
        FaultKind::Malformed => {
            // Replace the first ':' with '=' — still looks like JSON to a person, not to a parser.
            let mut v = body.to_vec();
            match v.iter().position(|&b| b == b':') {
                Some(i) => v[i] = b'=',
                None => v.splice(0..0, b"{oops".iter().copied()).for_each(drop),
            }
            v
        }
        FaultKind::MissingField { field } => edit_json(body, &mut |v| remove_key(v, field)),
        FaultKind::RenameField { from, to } => edit_json(body, &mut |v| rename_key(v, from, to)),
        _ => body.to_vec(),
    }
}

fn edit_json(body: &[u8], f: &mut dyn FnMut(&mut Value)) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            f(&mut v);
            serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
        }
        Err(_) => body.to_vec(),
    }
}

fn remove_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(m) => {
            m.remove(key);
            m.values_mut().for_each(|x| remove_key(x, key));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| remove_key(x, key)),
        _ => {}
    }
}

fn rename_key(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.remove(from) {
                m.insert(to.to_string(), x);
            }
            m.values_mut().for_each(|x| rename_key(x, from, to));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_key(x, from, to)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn faults_count_down_and_match_routes() {
        let f = Faults::default();
        f.arm(serde_json::from_value(json!({"platform": "91160", "route": "/appointment/*", "kind": "status", "status": 502, "count": 2})).unwrap());
        assert_eq!(f.take("91160", "/basicInfo/unitList"), None);
        assert_eq!(f.take("12306", "/appointment/order"), None);
        assert_eq!(
            f.take("91160", "/appointment/order"),
            Some(FaultKind::Status { status: 502 })
        );
        assert_eq!(
            f.take("91160", "/appointment/scheduleList"),
            Some(FaultKind::Status { status: 502 })
        );
        assert_eq!(f.take("91160", "/appointment/order"), None);
    }

    #[test]
    fn body_faults_break_what_they_say() {
        let body = br#"{"code":"0","data":{"list":[{"unitId":1,"unitName":"x"}]}}"#;
        let missing = mangle_body(
            &FaultKind::MissingField {
                field: "unitName".into(),
            },
            body,
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&missing).unwrap(),
            json!({"code":"0","data":{"list":[{"unitId":1}]}})
        );
        let renamed = mangle_body(
            &FaultKind::RenameField {
                from: "unitId".into(),
                to: "unit_id".into(),
            },
            body,
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&renamed).unwrap()["data"]["list"][0]["unit_id"],
            1
        );
        assert!(
            serde_json::from_slice::<Value>(&mangle_body(&FaultKind::Malformed, body)).is_err()
        );
        let cut = mangle_body(&FaultKind::Truncated, body);
        assert_eq!(cut.len(), body.len() / 2);
        assert!(serde_json::from_slice::<Value>(&cut).is_err());
    }
}
