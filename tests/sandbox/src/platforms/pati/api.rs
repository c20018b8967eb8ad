//! The patient endpoints of pati_service, at the seed's paths, in the platform's
//! `{"code", "msg", "data"}` envelope. Parameters are read from the query string and,
//! for POST, from a JSON or form body; every failure is the platform's own reply, never
//! a panic.

use super::world::{code, ApiErr, World};
use super::Pati;
use crate::web;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use haoyuan_core::date::Date;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// One request's parameters (query string merged with the body).
pub struct Req<'a> {
    pub headers: &'a HeaderMap,
    params: Map<String, Value>,
    bad_body: bool,
}

impl<'a> Req<'a> {
    /// Reads the query string and a JSON (`application/json` or a body starting with
    /// `{`) or form body. A body that cannot be read is remembered, not fatal.
    pub fn parse(headers: &'a HeaderMap, query: Option<&str>, body: &[u8]) -> Req<'a> {
        let mut params: Map<String, Value> = web::parse_urlencoded(query.unwrap_or(""))
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut bad_body = false;
        let trimmed = body.trim_ascii();
        if !trimmed.is_empty() {
            let ctype = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if ctype.contains("json") || trimmed.starts_with(b"{") {
                match serde_json::from_slice::<Value>(trimmed) {
                    Ok(Value::Object(m)) => params.extend(m),
                    _ => bad_body = true,
                }
            } else {
                match std::str::from_utf8(trimmed) {
                    Ok(s) => params.extend(
                        web::parse_urlencoded(s)
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v))),
                    ),
                    Err(_) => bad_body = true,
                }
            }
        }
        Req {
            headers,
            params,
            bad_body,
        }
    }

    /// A non-empty string parameter (numbers are accepted and written out).
    pub fn str(&self, k: &str) -> Option<String> {
        match self.params.get(k)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// An integer parameter: `Ok(None)` when absent, `Err` when not an integer.
    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiErr> {
        let bad = || ApiErr(code::BAD_PARAM, format!("参数错误：{k}格式不正确"));
        match self.params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    }

    fn required(&self, k: &str) -> Result<String, ApiErr> {
        self.str(k)
            .ok_or_else(|| ApiErr(code::BAD_PARAM, format!("参数错误：{k}不能为空")))
    }

    fn required_int(&self, k: &str) -> Result<i64, ApiErr> {
        self.int(k)?
            .ok_or_else(|| ApiErr(code::BAD_PARAM, format!("参数错误：{k}不能为空")))
    }

    fn date(&self, k: &str) -> Result<Option<i64>, ApiErr> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => Date::parse(&s).map(|d| Some(d.to_days())).map_err(|_| {
                ApiErr(
                    code::BAD_PARAM,
                    format!("参数错误：{k}格式不正确，应为yyyy-MM-dd"),
                )
            }),
        }
    }

    /// `pageNo` (default 1) and `pageSize` (default 10), both > 0.
    fn paging(&self) -> Result<(usize, usize), ApiErr> {
        let mut out = [1usize, 10];
        for (i, k) in ["pageNo", "pageSize"].iter().enumerate() {
            if let Some(v) = self.int(k)? {
                if v <= 0 || v > 10_000 {
                    return Err(ApiErr(
                        code::BAD_PARAM,
                        format!("参数错误：{k}需要一个大于0的数字"),
                    ));
                }
                out[i] = v as usize;
            }
        }
        Ok((out[0], out[1]))
    }
}

/// A success reply.
pub fn ok(data: Value) -> Response {
    web::json(&json!({"code": code::OK, "msg": "成功", "data": data}))
}

/// A business error reply (HTTP 200, as the platform answers).
pub fn fail(e: ApiErr) -> Response {
    web::json(&json!({"code": e.0, "msg": e.1, "data": null}))
}

fn reply(r: Result<Value, ApiErr>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => fail(e),
    }
}

/// Checks the optional `tenantId` header and the request body, then the `token`
/// header, then runs `f` with the account.
fn authed(p: &Pati, r: &Req, f: impl FnOnce(usize, i64) -> Result<Value, ApiErr>) -> Response {
    if let Err(e) = p.check_request(r) {
        return fail(e);
    }
    let now = p.now();
    match p.account_of(r.headers, now) {
        Ok(a) => reply(f(a, now)),
        Err(e) => fail(e),
    }
}

fn dept_of(w: &World, r: &Req) -> Result<usize, ApiErr> {
    let id = r.required("deptId")?;
    w.dept(&id)
        .ok_or_else(|| ApiErr(code::NO_DEPT, "科室不存在".into()))
}

/// `doctorId` (empty: the department's 普通门诊), which must work in `dept`.
fn doctor_of(w: &World, r: &Req, dept: usize) -> Result<Option<usize>, ApiErr> {
    match r.str("doctorId") {
        None => Ok(None),
        Some(id) => match w.doctor(&id) {
            Some(k) if w.doctors[k].dept == dept => Ok(Some(k)),
            _ => Err(ApiErr(code::NO_DOCTOR, "医生不存在".into())),
        },
    }
}

// ------------------------------------------------------------------ patient_service

fn login(p: &Pati, r: &Req) -> Response {
    if let Err(e) = p.check_request(r) {
        return fail(e);
    }
    let (phone, password) = match (r.required("phone"), r.required("password")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    reply(p.login(&phone, &password))
}

fn logout(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, _| {
        p.logout(r.headers);
        Ok(Value::Null)
    })
}

fn members(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, _| Ok(p.read().members_json(a)))
}

fn add_member(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let name = r.required("name")?;
        let gender = r.required_int("gender")?;
        if gender != 1 && gender != 2 {
            return Err(ApiErr(code::BAD_PARAM, "参数错误：gender格式不正确".into()));
        }
        let birthday = r
            .date("birthday")?
            .ok_or_else(|| ApiErr(code::BAD_PARAM, "参数错误：birthday不能为空".into()))?;
        let id_no = r.required("IDNo")?.to_ascii_uppercase();
        if super::world::valid_id_card(&id_no).is_none() {
            return Err(ApiErr(code::BAD_PARAM, "身份证号码格式不正确".into()));
        }
        let phone = r.required("phone")?;
        if !(phone.len() == 11
            && phone.starts_with('1')
            && phone.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ApiErr(code::BAD_PARAM, "手机号格式不正确".into()));
        }
        let today = super::world::bj_day(now);
        let member = super::world::NewMember {
            name,
            gender: gender as u8,
            birthday: Date::from_days(birthday),
            id_no,
            phone,
        };
        let id = p.write(|w| w.add_member(a, member, today));
        Ok(json!({"memberId": id}))
    })
}

fn myinfo(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, _| Ok(p.read().myinfo_json(a)))
}

// ------------------------------------------------------------------ tenant_service

fn depts(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, _| Ok(p.read().depts_json()))
}

fn schedule_by_date(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let w = p.read();
        let dept = dept_of(&w, r)?;
        let day = r
            .date("date")?
            .ok_or_else(|| ApiErr(code::BAD_PARAM, "参数错误：date不能为空".into()))?;
        let (no, size) = r.paging()?;
        Ok(w.by_date(dept, day, no, size, now))
    })
}

fn schedule_by_doctor(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let w = p.read();
        let dept = dept_of(&w, r)?;
        let (no, size) = r.paging()?;
        Ok(w.by_doctor(dept, no, size, now))
    })
}

fn schedule(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let w = p.read();
        let dept = dept_of(&w, r)?;
        let doctor = doctor_of(&w, r, dept)?;
        let day = r.date("date")?.unwrap_or(super::world::bj_day(now));
        Ok(w.schedule_json(dept, doctor, day, now))
    })
}

fn left_appo(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let id = r.required("scheduleId")?;
        let w = p.read();
        let s = w
            .visible_schedule(&id, now)
            .ok_or_else(|| ApiErr(code::NO_SCHEDULE, "排班不存在".into()))?;
        Ok(w.left_appo(s, now))
    })
}

fn schedule_info(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let w = p.read();
        let dept = dept_of(&w, r)?;
        let doctor = doctor_of(&w, r, dept)?;
        let days = r.int("days")?.unwrap_or(7);
        if !(1..=60).contains(&days) {
            return Err(ApiErr(
                code::BAD_PARAM,
                "参数错误：days需要一个大于0的数字".into(),
            ));
        }
        Ok(w.info_json(dept, doctor, days, now))
    })
}

// ------------------------------------------------------------------ book_service

fn presubmit(p: &Pati, r: &Req) -> Response {
    authed(p, r, |_, now| {
        let id = r.required("scheduleId")?;
        let no = r.required_int("serialNo")?;
        p.read().presubmit(&id, no, now)
    })
}

fn submit(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let id = r.required("scheduleId")?;
        let no = r.required_int("serialNo")?;
        let member = r.required("memberId")?;
        let book = p.write(|w| w.submit(a, &id, no, &member, now))?;
        Ok(json!({"bookId": book}))
    })
}

fn cancel(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let id = r.required("bookId")?;
        p.write(|w| w.cancel(a, &id, now))?;
        Ok(Value::Null)
    })
}

fn same_period(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let id = r.required("scheduleId")?;
        let member = r.required("memberId")?;
        p.read().same_period(a, &id, &member, now)?;
        Ok(Value::Null)
    })
}

fn books(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let (no, size) = r.paging()?;
        Ok(p.read().books_page(a, no, size, now))
    })
}

fn book_detail(p: &Pati, r: &Req, book_id: &str) -> Response {
    authed(p, r, |a, now| p.read().book_detail(a, book_id, now))
}

fn pay_order(p: &Pati, r: &Req) -> Response {
    authed(p, r, |a, now| {
        let id = r.required("appo_id")?;
        let open_id = r.str("open_id");
        let host = r
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}");
        p.write(|w| w.pay_order(a, &id, open_id.as_deref(), &base, now))
    })
}

// ------------------------------------------------------------------ other

fn service_info(p: &Pati, r: &Req) -> Response {
    if let Err(e) = p.check_request(r) {
        return fail(e);
    }
    let w = p.read();
    ok(json!({
        "appo_notice": format!(
            "1. 预约挂号实行实名制，请如实填写就诊人信息。\n2. 请于就诊当日按预约时间段提前15分钟到{}门诊候诊。\n3. 如需取消预约，请在就诊时间前取消；多次爽约将被限制预约。",
            w.tenant_name
        ),
        "phone": w.service_phone,
    }))
}

/// The page a pay link opens: it only says what would be paid.
fn cashier(p: &Pati, r: &Req) -> Response {
    let trade = r.str("out_trade_no").unwrap_or_default();
    let w = p.read();
    let body = match w.book_by_trade(&trade) {
        Some(b) => {
            let book = &w.books[b];
            let sc = &w.schedules[book.schedule];
            let paid = book.pay.as_ref().is_some_and(|x| x.paid);
            format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>收银台</title></head><body>\
                 <h1>{}</h1><p>挂号费 ¥{:.2} · {} · 订单号 {}</p><p>{}</p>\
                 <p>（沙箱收银台：不会扣款。测试中用 admin 的 pay 动作模拟用户已支付。）</p></body></html>",
                w.tenant_name,
                sc.fee,
                w.depts[sc.dept].name,
                html_escape(&trade),
                if paid { "已支付" } else { "待支付" }
            )
        }
        None => "<!doctype html><html><head><meta charset=\"utf-8\"><title>收银台</title></head><body><p>订单不存在</p></body></html>".to_string(),
    };
    web::text("text/html;charset=UTF-8", body)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Spring Boot's default error body (what the platform's gateway shows for unknown
/// paths and wrong methods).
fn spring_error(p: &Pati, status: StatusCode, message: String, path: &str) -> Response {
    let ts = super::world::datetime_str(p.now()).replace(' ', "T") + ".000+0800";
    web::json_status(
        status,
        &json!({
            "timestamp": ts,
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or(""),
            "message": message,
            "path": path,
        }),
    )
}

macro_rules! endpoint {
    ($f:path) => {
        |State(p): State<Arc<Pati>>,
         headers: HeaderMap,
         RawQuery(q): RawQuery,
         body: Bytes| async move {
            let req = Req::parse(&headers, q.as_deref(), &body);
            $f(&p, &req)
        }
    };
}

/// The routes, at the real site's paths.
pub fn routes(p: Arc<Pati>) -> Router {
    const P: &str = "/pati_service/patient_service";
    const T: &str = "/pati_service/tenant_service";
    const B: &str = "/pati_service/book_service";
    Router::new()
        .route(&format!("{P}/login"), post(endpoint!(login)))
        .route(&format!("{P}/logout"), post(endpoint!(logout)))
        .route(&format!("{P}/members"), get(endpoint!(members)))
        .route(&format!("{P}/member"), post(endpoint!(add_member)))
        .route(&format!("{P}/myinfo"), get(endpoint!(myinfo)))
        .route(&format!("{T}/depts"), get(endpoint!(depts)))
        .route(
            &format!("{T}/schedule_by_date"),
            get(endpoint!(schedule_by_date)),
        )
        .route(
            &format!("{T}/schedule_by_doctor"),
            get(endpoint!(schedule_by_doctor)),
        )
        .route(&format!("{T}/schedule"), get(endpoint!(schedule)))
        .route(
            &format!("{T}/schedule/left_appo"),
            get(endpoint!(left_appo)),
        )
        .route(&format!("{T}/schedule/info"), get(endpoint!(schedule_info)))
        .route(&format!("{B}/book/presubmit"), post(endpoint!(presubmit)))
        .route(&format!("{B}/book/submit"), post(endpoint!(submit)))
        .route(&format!("{B}/book/cancel"), post(endpoint!(cancel)))
        .route(&format!("{B}/book/schedule"), post(endpoint!(same_period)))
        .route(
            &format!("{B}/book/{{bookId}}"),
            get(
                |State(p): State<Arc<Pati>>,
                 Path(id): Path<String>,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery| async move {
                    let req = Req::parse(&headers, q.as_deref(), &[]);
                    book_detail(&p, &req, &id)
                },
            ),
        )
        .route(&format!("{B}/books"), get(endpoint!(books)))
        .route(&format!("{B}/pay/appo_order"), post(endpoint!(pay_order)))
        .route(
            "/pati_service/wechat/service_info",
            get(endpoint!(service_info)),
        )
        .route("/pay/cashier", get(endpoint!(cashier)))
        .fallback(|State(p): State<Arc<Pati>>, uri: Uri| async move {
            spring_error(
                &p,
                StatusCode::NOT_FOUND,
                "No message available".into(),
                uri.path(),
            )
        })
        .method_not_allowed_fallback(
            |State(p): State<Arc<Pati>>, method: Method, uri: Uri| async move {
                spring_error(
                    &p,
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("Request method '{method}' not supported"),
                    uri.path(),
                )
            },
        )
        .with_state(p)
}

impl Pati {
    /// The optional `tenantId` header must name this tenant; the body must be readable.
    fn check_request(&self, r: &Req) -> Result<(), ApiErr> {
        if r.bad_body {
            return Err(ApiErr(
                code::BAD_PARAM,
                "参数错误：请求报文格式不正确".into(),
            ));
        }
        if let Some(t) = r.headers.get("tenantId").and_then(|v| v.to_str().ok()) {
            if !t.trim().is_empty() && t.trim() != self.read().tenant_id {
                return Err(ApiErr(code::NO_TENANT, "租户不存在".into()));
            }
        }
        Ok(())
    }
}
