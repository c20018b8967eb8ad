//! `site_browse`: the lists behind the popup's pickers (91160 hospitals → departments →
//! doctors; pati departments → doctors, and the account's family members). Lists that
//! change rarely are kept in `cache/` in the data directory for a day; `refresh` fetches
//! them again. Every request is paced with the account's watches.

use super::{account_name, now_ms, secret_of, site_failed, Service};
use haoyuan_core::http::{HttpRequest, HttpResponse};
use haoyuan_core::patient::mask_name;
use haoyuan_core::platforms::{open91160, pati};
use haoyuan_core::protocol::{ErrorBody, ErrorCode};
use haoyuan_core::watch::Platform;
use serde_json::{json, Value};

/// How long a cached list is used without asking again.
const CACHE_MS: i64 = 24 * 3_600_000;
/// Pages fetched at most for one list (100 items each for 91160).
const MAX_PAGES: u32 = 50;
const PAGE_91160: u32 = open91160::site::MAX_PAGE_SIZE;
const PAGE_PATI: u32 = 50;

fn bad(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadParams, message)
}

/// `parent[key]` as text (numbers accepted), or a `bad_params` error.
fn parent_id(parent: &Value, key: &str, what: &str) -> Result<String, ErrorBody> {
    match parent.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(bad(format!(
            "choose {what} first (parent.{key} is missing)"
        ))),
    }
}

/// A file name safe part for a cache key.
fn key_part(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(48)
        .collect()
}

impl Service {
    fn cache_path(
        &self,
        platform: Platform,
        account: &str,
        what: &str,
        parent: &[&str],
    ) -> std::path::PathBuf {
        let mut name = format!("{}-{}-{what}", platform.id(), key_part(account));
        for p in parent {
            name.push('-');
            name.push_str(&key_part(p));
        }
        self.data_dir().join("cache").join(format!("{name}.json"))
    }

    fn cached(&self, path: &std::path::Path) -> Option<(i64, Vec<Value>)> {
        let text = std::fs::read_to_string(path).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        let at = v.get("fetched_at")?.as_i64()?;
        let items = v.get("items")?.as_array()?.clone();
        (now_ms() - at < CACHE_MS).then_some((at, items))
    }

    fn keep(&self, path: &std::path::Path, items: &[Value]) -> i64 {
        let at = now_ms();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let body = json!({"fetched_at": at, "items": items}).to_string();
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, body).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
        at
    }

    /// Sends a browse request for the account, paced with its watches.
    pub(super) fn browse_send(
        &self,
        platform: Platform,
        account: &str,
        req: HttpRequest,
    ) -> Result<HttpResponse, ErrorBody> {
        let key = format!("{}:{account}", platform.id());
        self.pacers.pace(&key, &|| false);
        self.pacers.departed(&key);
        let sent = match platform {
            Platform::Pati => self.pati_send(account, req.clone()).map(|(r, _)| r),
            _ => self.execute(&req),
        };
        let resp = sent
            .map_err(|e| site_failed(format!("{} did not answer: {e}", platform.display_name())))?;
        if platform == Platform::Pati
            && pati::site::read_envelope(&resp, "")
                .is_err_and(|e| matches!(e, pati::site::SiteError::TokenRejected(_)))
        {
            // The sign-in expired: sign in again once and repeat the request.
            let stale = self.pati_token(account).map(|t| t.at).unwrap_or(0);
            self.pati_login(account, stale)?;
            self.pacers.pace(&key, &|| false);
            self.pacers.departed(&key);
            return self.pati_send(account, req).map(|(r, _)| r).map_err(|e| {
                site_failed(format!("{} did not answer: {e}", platform.display_name()))
            });
        }
        Ok(resp)
    }

    /// `site_browse` (see [`Service::browse`] in the module above for the shape).
    pub fn browse(
        &self,
        platform: Platform,
        account: &str,
        what: &str,
        parent: &Value,
        refresh: bool,
    ) -> Result<Value, ErrorBody> {
        let account = account_name(platform, account);
        let acc = self.account(platform, &account)?;
        let (parents, cacheable): (Vec<String>, bool) = match (platform, what) {
            (Platform::Open91160, "units") => (vec![], true),
            (Platform::Open91160, "deps") => (vec![parent_id(parent, "unit_id", "a hospital")?], true),
            (Platform::Open91160, "doctors") => (
                vec![
                    parent_id(parent, "unit_id", "a hospital")?,
                    parent_id(parent, "dep_id", "a department")?,
                ],
                true,
            ),
            (Platform::Pati, "depts") => (vec![], true),
            (Platform::Pati, "doctors") => (vec![parent_id(parent, "dept_id", "a department")?], true),
            (Platform::Pati, "members") => (vec![], false),
            (Platform::Open91160 | Platform::Pati, _) => {
                return Err(bad(format!(
                    "{} has no list “{what}” (91160: units, deps, doctors; pati: depts, doctors, members)",
                    platform.id()
                )))
            }
            _ => return Err(bad("only 91160 and pati have pickers in the host")),
        };
        let refs: Vec<&str> = parents.iter().map(String::as_str).collect();
        let path = self.cache_path(platform, &account, what, &refs);
        if cacheable && !refresh {
            if let Some((at, items)) = self.cached(&path) {
                return Ok(json!({"items": items, "total": items.len(), "cached_at": at}));
            }
        }
        let items = match platform {
            Platform::Open91160 => self.fetch_91160(&acc, what, &refs)?,
            _ => self.fetch_pati(&account, &acc.base_url, what, &refs)?,
        };
        let at = if cacheable {
            self.keep(&path, &items)
        } else {
            now_ms()
        };
        Ok(json!({"items": items, "total": items.len(), "cached_at": at}))
    }

    fn fetch_91160(
        &self,
        acc: &crate::store::SiteAccount,
        what: &str,
        parents: &[&str],
    ) -> Result<Vec<Value>, ErrorBody> {
        use open91160::site::{read_deps, read_doctors, read_units, Site, SiteError};
        let site = Site::new(&super::base_91160(acc));
        let token = secret_of(acc, "app_token");
        let fail = |e: SiteError| match e {
            SiteError::TokenRejected(_) => ErrorBody::new(ErrorCode::LoginFailed, e.to_string()),
            _ => site_failed(e.to_string()),
        };
        let mut items = Vec::new();
        for page in 1..=MAX_PAGES {
            let req = match (what, parents) {
                ("units", _) => site.unit_list(&token, page, PAGE_91160),
                ("deps", [unit]) => site.dep_list(&token, unit, page, PAGE_91160),
                ("doctors", [unit, dep]) => site.doctor_list(&token, unit, dep, page, PAGE_91160),
                _ => return Err(bad("unknown list")),
            };
            let resp = self.browse_send(Platform::Open91160, &acc.account, req)?;
            let more =
                match what {
                    "units" => {
                        let p = read_units(&resp).map_err(fail)?;
                        items.extend(p.list.iter().map(|u| {
                            let detail = [u.level.as_str(), u.city.as_str(), u.district.as_str()]
                                .into_iter()
                                .filter(|s| !s.is_empty())
                                .collect::<Vec<_>>()
                                .join(" · ");
                            json!({"id": u.unit_id, "name": u.name, "detail": detail,
                               "open_time": u.open_time, "cycle_days": u.cycle_days})
                        }));
                        p.has_more(page, PAGE_91160)
                    }
                    "deps" => {
                        let p = read_deps(&resp).map_err(fail)?;
                        items.extend(p.list.iter().map(
                            |d| json!({"id": d.dep_id, "name": d.name, "detail": d.class_name}),
                        ));
                        p.has_more(page, PAGE_91160)
                    }
                    _ => {
                        let p = read_doctors(&resp).map_err(fail)?;
                        items.extend(p.list.iter().map(
                            |d| json!({"id": d.doctor_id, "name": d.name, "detail": d.title}),
                        ));
                        p.has_more(page, PAGE_91160)
                    }
                };
            if !more {
                break;
            }
        }
        Ok(items)
    }

    fn fetch_pati(
        &self,
        phone: &str,
        base: &str,
        what: &str,
        parents: &[&str],
    ) -> Result<Vec<Value>, ErrorBody> {
        use pati::site::{read_depts, read_members, read_schedule_by_doctor, Site};
        let site = Site::new(base);
        let fail = |e: pati::site::SiteError| site_failed(format!("pati: {e}"));
        match (what, parents) {
            ("depts", _) => {
                let resp = self.browse_send(Platform::Pati, phone, site.depts())?;
                Ok(read_depts(&resp)
                    .map_err(fail)?
                    .iter()
                    .map(|d| json!({"id": d.dept_id, "name": d.dept_name, "detail": ""}))
                    .collect())
            }
            ("members", _) => {
                let resp = self.browse_send(Platform::Pati, phone, site.members())?;
                Ok(read_members(&resp)
                    .map_err(fail)?
                    .iter()
                    .map(|m| {
                        json!({"id": m.member_id, "name": mask_name(&m.name), "detail": m.masked_id,
                               "default": m.default})
                    })
                    .collect())
            }
            ("doctors", [dept]) => {
                let mut items: Vec<Value> = Vec::new();
                for page in 1..=MAX_PAGES {
                    let resp = self.browse_send(
                        Platform::Pati,
                        phone,
                        site.schedule_by_doctor(dept, page, PAGE_PATI),
                    )?;
                    let p = read_schedule_by_doctor(&resp).map_err(fail)?;
                    for r in &p.list {
                        let id = r.doctor_id.clone().unwrap_or_default();
                        if items.iter().any(|i| i["id"] == json!(id)) {
                            continue;
                        }
                        let name = r.doctor_name.clone().unwrap_or_else(|| "普通门诊".into());
                        let detail = r.doctor_title.clone().unwrap_or_default();
                        items.push(json!({"id": id, "name": name, "detail": detail}));
                    }
                    if page >= p.pages || p.list.is_empty() {
                        break;
                    }
                }
                Ok(items)
            }
            _ => Err(bad("unknown list")),
        }
    }
}
