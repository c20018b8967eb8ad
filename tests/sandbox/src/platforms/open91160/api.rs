//! The HTTP handlers of the 91160 open platform: the seed's seven endpoints with its
//! parameter names, methods and reply fields (see the module doc of `open91160` for the
//! error codes). Handlers are cheap: one lock for a short scope, serialisation of a page.

use super::patient::{self, Invalid};
use super::world::{SchedKey, Unit, TIME_TYPES, TITLES};
use super::{sums, Open91160, Order, State, TokenError, ORDER_ID_BASE};
use crate::web;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use haoyuan_core::date::Date;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

type P = AxState<Arc<Open91160>>;
type Reply = Result<Response, Fail>;

/// An error reply: one of the platform's codes and its message (sent with HTTP 200).
struct Fail {
    code: &'static str,
    msg: String,
}

/// The platform's routes.
pub(super) fn router(p: Arc<Open91160>) -> Router {
    Router::new()
        .route("/basicInfo/unitList", get(unit_list))
        .route("/basicInfo/depList", get(dep_list))
        .route("/basicInfo/doctorList", get(doctor_list))
        .route("/appointment/scheduleList", get(schedule_list))
        .route("/appointment/resourceList", get(resource_list))
        .route("/appointment/order", post(order))
        .route("/appointment/cancel", post(cancel))
        .with_state(p)
}

#[derive(Serialize)]
struct Env<'a, T: Serialize> {
    data: T,
    code: &'a str,
    msg: &'a str,
}

#[derive(Serialize)]
struct Bare<'a> {
    code: &'a str,
    msg: &'a str,
}

const OK_MSG: &str = "成功";

fn send<T: Serialize>(v: &T) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

fn ok<T: Serialize>(data: T) -> Response {
    send(&Env {
        data,
        code: "0",
        msg: OK_MSG,
    })
}

fn fail(code: &'static str, msg: impl Into<String>) -> Fail {
    Fail {
        code,
        msg: msg.into(),
    }
}

fn reply(f: Fail) -> Response {
    send(&Env {
        data: Value::Null,
        code: f.code,
        msg: &f.msg,
    })
}

fn missing(name: &str) -> Fail {
    fail("10001", format!("缺少必要参数：{name}"))
}

fn bad_format(name: &str) -> Fail {
    fail("10002", format!("参数格式错误：{name}"))
}

fn invalid(e: Invalid) -> Fail {
    match e {
        Invalid::Missing(n) => missing(&n),
        Invalid::Format(n) => bad_format(&n),
        Invalid::Patient(why) => fail("40005", format!("就诊人信息有误：{why}")),
        Invalid::NeedGuardian => fail("40006", "未成年人预约须填写监护人信息"),
    }
}

fn no_unit() -> Fail {
    fail("30001", "医院不存在")
}
fn no_dep() -> Fail {
    fail("30002", "科室不存在")
}
fn no_doctor() -> Fail {
    fail("30003", "医生不存在")
}
fn no_schedule() -> Fail {
    fail("30004", "排班不存在")
}
fn no_resource() -> Fail {
    fail("30005", "号源不存在")
}

fn auth(st: &State, token: Option<&str>, now: i64) -> Result<String, Fail> {
    st.check_token(token, now).map_err(|e| match e {
        TokenError::Missing => fail("20001", "appToken不能为空"),
        TokenError::Invalid => fail("20002", "appToken无效"),
        TokenError::Expired => fail("20003", "appToken已过期，请联系平台重新授权"),
        TokenError::TooFast => fail("10006", "请求过于频繁，请稍后再试"),
    })
}

/// Query parameters.
struct Params(HashMap<String, String>);

impl Params {
    fn of(uri: &Uri) -> Params {
        Params(web::parse_urlencoded(uri.query().unwrap_or("")))
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// An integer parameter; `default` when absent, `10001` when absent without one.
    fn int(&self, k: &str, default: Option<i64>) -> Result<i64, Fail> {
        match self.get(k) {
            None => default.ok_or_else(|| missing(k)),
            Some(s) => s.parse().map_err(|_| bad_format(k)),
        }
    }

    fn date(&self, k: &str) -> Result<Date, Fail> {
        let s = self.get(k).ok_or_else(|| missing(k))?;
        Date::parse(s).map_err(|_| bad_format(k))
    }

    /// (offset, pageSize) of `pageNum`/`pageSize` (defaults 1 and 20; pages hold at most 100).
    fn page(&self) -> Result<(usize, usize), Fail> {
        let num = self.int("pageNum", Some(1))?;
        let size = self.int("pageSize", Some(20))?;
        if num < 1 {
            return Err(bad_format("pageNum"));
        }
        if size < 1 {
            return Err(bad_format("pageSize"));
        }
        let size = size.min(100) as usize;
        let offset = (num as usize - 1).saturating_mul(size);
        Ok((offset, size))
    }
}

#[derive(Serialize)]
struct Page<T: Serialize> {
    list: Vec<T>,
    total: usize,
}

fn page<'a, T: 'a, O: Serialize>(
    items: impl ExactSizeIterator<Item = &'a T>,
    (offset, size): (usize, usize),
    f: impl Fn(&'a T) -> O,
) -> Page<O> {
    let total = items.len();
    Page {
        list: items.skip(offset).take(size).map(f).collect(),
        total,
    }
}

fn run(f: impl FnOnce() -> Reply) -> Response {
    f().unwrap_or_else(reply)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnitOut<'a> {
    unit_id: u32,
    master_unit_id: u32,
    unit_name: &'a str,
    unit_level: &'a str,
    unit_type: &'a str,
    unit_org: u32,
    image: &'a str,
    area_code: &'a str,
    address: &'a str,
    map_point: &'a str,
    unit_intro: &'a str,
    pay_type: &'a str,
    province_name: &'a str,
    province_code: &'a str,
    city_name: &'a str,
    city_code: &'a str,
    district_name: &'a str,
    appointment_open_time: &'a str,
    appointment_cycle_days: &'a str,
    bus_route: &'a str,
    telephone: &'a str,
    special_deps: &'a str,
    unit_org_name: &'a str,
}

fn unit_out(u: &Unit) -> UnitOut<'_> {
    UnitOut {
        unit_id: u.id,
        master_unit_id: u.master_id,
        unit_name: &u.name,
        unit_level: u.level,
        unit_type: u.unit_type,
        unit_org: u.org,
        image: &u.image,
        area_code: u.area_code,
        address: &u.address,
        map_point: &u.map_point,
        unit_intro: &u.intro,
        pay_type: u.pay_type,
        province_name: u.province,
        province_code: u.province_code,
        city_name: u.city,
        city_code: u.city_code,
        district_name: u.district,
        appointment_open_time: &u.open_time_text,
        appointment_cycle_days: &u.cycle_text,
        bus_route: &u.bus_route,
        telephone: &u.telephone,
        special_deps: &u.special_deps,
        unit_org_name: u.org_name,
    }
}

/// `GET /basicInfo/unitList?appToken&pageNum&pageSize`
async fn unit_list(AxState(p): P, uri: Uri) -> Response {
    run(|| {
        let st = p.state();
        let q = Params::of(&uri);
        auth(&st, q.get("appToken"), p.shared.clock.now_ms())?;
        let pg = q.page()?;
        Ok(ok(page(st.world.units.iter(), pg, unit_out)))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DepOut<'a> {
    dep_id: u32,
    dep_name: &'a str,
    dep_intro: String,
    telephone: &'a str,
    unit_id: u32,
    image: String,
    unit_inner_position: &'a str,
    dep_class_name: &'a str,
    dep_class_id: &'a str,
    his_dep_id: &'a str,
}

fn unit_param<'a>(st: &'a State, q: &Params) -> Result<&'a Unit, Fail> {
    let id = q.int("unitId", None)?;
    st.world.unit(id).ok_or_else(no_unit)
}

/// `GET /basicInfo/depList?appToken&unitId&pageNum&pageSize`
async fn dep_list(AxState(p): P, uri: Uri) -> Response {
    run(|| {
        let st = p.state();
        let q = Params::of(&uri);
        auth(&st, q.get("appToken"), p.shared.clock.now_ms())?;
        let unit = unit_param(&st, &q)?;
        let pg = q.page()?;
        let w = &st.world;
        Ok(ok(page(unit.deps.iter(), pg, |&d| {
            let dep = &w.deps[d];
            DepOut {
                dep_id: dep.id,
                dep_name: &dep.name,
                dep_intro: w.dep_intro(dep),
                telephone: &dep.telephone,
                unit_id: unit.id,
                image: format!("https://images.91160.com/dep/{}.jpg", dep.id),
                unit_inner_position: &dep.position,
                dep_class_name: dep.class_name,
                dep_class_id: dep.class_id,
                his_dep_id: &dep.his_id,
            }
        })))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DoctorOut<'a> {
    unit_id: u32,
    /// A string here (an int elsewhere), as in the seed.
    dep_id: String,
    doctor_id: u32,
    doctor_name: &'a str,
    image: String,
    doctor_title: &'a str,
    more_visits: u32,
    detail: String,
    gender: u8,
    expertise: String,
}

/// `GET /basicInfo/doctorList?appToken&unitId&depId&pageNum&pageSize[&doctorId][&doctorName]`
async fn doctor_list(AxState(p): P, uri: Uri) -> Response {
    run(|| {
        let st = p.state();
        let q = Params::of(&uri);
        auth(&st, q.get("appToken"), p.shared.clock.now_ms())?;
        let unit = unit_param(&st, &q)?;
        let w = &st.world;
        let dep = w
            .dep(q.int("depId", None)?)
            .filter(|d| w.units[d.unit].id == unit.id)
            .ok_or_else(no_dep)?;
        let by_id = match q.get("doctorId") {
            Some(s) => Some(s.parse::<u32>().map_err(|_| bad_format("doctorId"))?),
            None => None,
        };
        let by_name = q.get("doctorName");
        let pg = q.page()?;
        let docs: Vec<&super::world::Doctor> = dep
            .doctors
            .iter()
            .map(|&i| &w.doctors[i])
            .filter(|d| by_id.is_none_or(|id| d.id == id))
            .filter(|d| by_name.is_none_or(|n| d.name.contains(n)))
            .collect();
        Ok(ok(page(docs.iter(), pg, |d| DoctorOut {
            unit_id: unit.id,
            dep_id: dep.id.to_string(),
            doctor_id: d.id,
            doctor_name: &d.name,
            image: format!("https://images.91160.com/doctor/{}.jpg", d.id),
            doctor_title: TITLES[d.title].0,
            more_visits: d.visits,
            detail: w.doctor_detail(d),
            gender: d.gender,
            expertise: w.doctor_expertise(d),
        })))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleOut<'a> {
    schedule_id: String,
    unit_id: u32,
    dep_id: u32,
    doctor_id: u32,
    schedule_date: String,
    unit_name: &'a str,
    time_type: &'a str,
    time_type_desc: &'a str,
    level_code: &'a str,
    level_name: &'a str,
    resource_max: u32,
    appointed_num: u32,
    resource_fee: f64,
}

/// `GET /appointment/scheduleList?appToken&unitId&depId&doctorId&beginDate&endDate`
async fn schedule_list(AxState(p): P, uri: Uri) -> Response {
    run(|| {
        let st = p.state();
        let q = Params::of(&uri);
        let now = p.shared.clock.now_ms();
        auth(&st, q.get("appToken"), now)?;
        let unit = unit_param(&st, &q)?;
        let w = &st.world;
        let dep = w
            .dep(q.int("depId", None)?)
            .filter(|d| w.units[d.unit].id == unit.id)
            .ok_or_else(no_dep)?;
        let doctor_id = q.int("doctorId", None)?;
        let begin = q.date("beginDate")?;
        let end = q.date("endDate")?;
        let doc = u32::try_from(doctor_id)
            .ok()
            .and_then(|id| w.doctor(id))
            .filter(|d| w.deps[d.dep].id == dep.id)
            .ok_or_else(no_doctor)?;
        if end < begin {
            return Err(bad_format("endDate"));
        }
        let (today, last) = w.window(unit, now);
        let from = begin.to_days().max(today);
        let to = end.to_days().min(last);
        let (level_code, level_name) = (TITLES[doc.title].1, TITLES[doc.title].2);
        let fee = w.fee(doc);
        let mut out = Vec::new();
        let inv = st
            .inv
            .lock()
            .map_err(|_| fail("99999", "系统繁忙，请稍后再试"))?;
        for day in from..=to {
            for tt in 0..3u8 {
                let key = SchedKey {
                    doctor: doc.id,
                    day,
                    tt,
                };
                let Some(res) = st.resources(&inv, &key) else {
                    continue;
                };
                let (max, appointed) = sums(&res);
                out.push(ScheduleOut {
                    schedule_id: key.id(),
                    unit_id: unit.id,
                    dep_id: dep.id,
                    doctor_id: doc.id,
                    schedule_date: Date::from_days(day).to_string(),
                    unit_name: &unit.name,
                    time_type: TIME_TYPES[usize::from(tt)].0,
                    time_type_desc: TIME_TYPES[usize::from(tt)].1,
                    level_code,
                    level_name,
                    resource_max: max,
                    appointed_num: appointed,
                    resource_fee: fee,
                });
            }
        }
        drop(inv);
        Ok(ok(out))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceOut {
    resource_id: String,
    begin_time: String,
    end_time: String,
    schedule_id: String,
    resource_max: u32,
    appointed_num: u32,
    resource_fee: f64,
}

/// Minutes after midnight at which slot `index` of a schedule begins, and its length.
fn slot_time(unit: &Unit, key: &SchedKey, index: usize) -> (i64, i64) {
    let start = TIME_TYPES[usize::from(key.tt)].2;
    (start + index as i64 * unit.slot_minutes, unit.slot_minutes)
}

fn stamp(day: i64, minutes: i64) -> String {
    let day = day + minutes.div_euclid(1440);
    let m = minutes.rem_euclid(1440);
    format!("{} {:02}:{:02}:00", Date::from_days(day), m / 60, m % 60)
}

/// Unix ms of a Beijing day and minute.
fn beijing_ms(day: i64, minutes: i64) -> i64 {
    day * 86_400_000 + minutes * 60_000 - 8 * 3_600_000
}

/// A visible schedule's unit, checked against `unitId` (`30004` otherwise).
fn visible_schedule<'a>(
    st: &'a State,
    unit_id: i64,
    key: &SchedKey,
    now: i64,
) -> Result<&'a Unit, Fail> {
    let w = &st.world;
    let unit = w.unit(unit_id).ok_or_else(no_unit)?;
    let doc = w.doctor(key.doctor).ok_or_else(no_schedule)?;
    if w.units[doc.unit].id != unit.id {
        return Err(no_schedule());
    }
    let (today, last) = w.window(unit, now);
    if !(today..=last).contains(&key.day) {
        return Err(no_schedule());
    }
    Ok(unit)
}

/// `GET /appointment/resourceList?appToken&unitId&scheduleId`
async fn resource_list(AxState(p): P, uri: Uri) -> Response {
    run(|| {
        let st = p.state();
        let q = Params::of(&uri);
        let now = p.shared.clock.now_ms();
        auth(&st, q.get("appToken"), now)?;
        let unit_id = q.int("unitId", None)?;
        let sid = q.get("scheduleId").ok_or_else(|| missing("scheduleId"))?;
        let key = SchedKey::parse(sid).ok_or_else(no_schedule)?;
        let unit = visible_schedule(&st, unit_id, &key, now)?;
        let res = {
            let inv = st
                .inv
                .lock()
                .map_err(|_| fail("99999", "系统繁忙，请稍后再试"))?;
            st.resources(&inv, &key).ok_or_else(no_schedule)?
        };
        let fee = st
            .world
            .doctor(key.doctor)
            .map(|d| st.world.fee(d))
            .unwrap_or(0.0);
        let schedule_id = key.id();
        let out: Vec<ResourceOut> = res
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (begin, len) = slot_time(unit, &key, i);
                ResourceOut {
                    resource_id: format!("{schedule_id}{:02}", i + 1),
                    begin_time: stamp(key.day, begin),
                    end_time: stamp(key.day, begin + len),
                    schedule_id: schedule_id.clone(),
                    resource_max: r.max,
                    appointed_num: r.appointed,
                    resource_fee: fee,
                }
            })
            .collect();
        Ok(ok(out))
    })
}

fn json_body(body: &[u8]) -> Result<Value, Fail> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(fail("10002", "参数格式错误：请求报文须为JSON对象")),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderOut {
    order_id: i64,
    his_take_no: String,
}

/// `POST /appointment/order` (JSON): takes one number of resource `detlId`.
async fn order(AxState(p): P, body: Bytes) -> Response {
    run(|| {
        let st = p.state();
        let v = json_body(&body)?;
        let now = p.shared.clock.now_ms();
        let token = auth(&st, v.get("appToken").and_then(Value::as_str), now)?;
        let unit_id = patient::int(&v, "unitId")
            .map_err(invalid)?
            .ok_or_else(|| missing("unitId"))?;
        let detl = patient::text(&v, "detlId")
            .map_err(invalid)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("detlId"))?;
        let dep_id = patient::int(&v, "depId").map_err(invalid)?;
        let doctor_id = patient::int(&v, "doctorId").map_err(invalid)?;
        let today = crate::clock::beijing(now).0;
        let patient = patient::parse(&v, today, st.guardian_under).map_err(invalid)?;
        let (key, index) = SchedKey::parse_resource(&detl).ok_or_else(no_resource)?;
        let w = &st.world;
        w.unit(unit_id).ok_or_else(no_unit)?;
        let unit = visible_schedule(&st, unit_id, &key, now).map_err(|_| no_resource())?;
        let doc = w.doctor(key.doctor).ok_or_else(no_resource)?;
        if dep_id.is_some_and(|d| d != i64::from(w.deps[doc.dep].id))
            || doctor_id.is_some_and(|d| d != i64::from(doc.id))
        {
            return Err(no_resource());
        }
        let (begin, _) = slot_time(unit, &key, index);
        if now >= beijing_ms(key.day, begin) {
            return Err(fail("40004", "该号源已过就诊时间"));
        }
        let his_take_no = st.rng.lock().map(|mut r| r.digits(8)).unwrap_or_default();
        let fee = w.fee(doc);
        // One lock across check-and-take: never oversold, never twice.
        let mut inv = st
            .inv
            .lock()
            .map_err(|_| fail("99999", "系统繁忙，请稍后再试"))?;
        let dup = (patient.card_no.clone(), key);
        if inv.active.contains(&dup) {
            return Err(fail("40002", "该就诊人已预约过该排班，请勿重复预约"));
        }
        let res = st.resources_mut(&mut inv, &key).ok_or_else(no_resource)?;
        let slot = res.get_mut(index).ok_or_else(no_resource)?;
        if slot.free() == 0 {
            return Err(fail("40001", "该号源已约满，请选择其他号源"));
        }
        slot.appointed += 1;
        let order_id = ORDER_ID_BASE + inv.orders.len() as i64;
        inv.active.insert(dup);
        inv.orders.push(Order {
            order_id,
            his_take_no: his_take_no.clone(),
            token,
            key,
            index,
            buyer_name: patient.true_name.clone(),
            patient: Some(patient),
            competitor: false,
            cancelled: false,
            created_at: now,
            cancelled_at: None,
            cancel_reason: None,
            fee,
        });
        drop(inv);
        Ok(ok(OrderOut {
            order_id,
            his_take_no,
        }))
    })
}

/// `POST /appointment/cancel` (JSON `{appToken, orderId, cancelReason}`): gives the number back.
async fn cancel(AxState(p): P, body: Bytes) -> Response {
    run(|| {
        let st = p.state();
        let v = json_body(&body)?;
        let now = p.shared.clock.now_ms();
        let token = auth(&st, v.get("appToken").and_then(Value::as_str), now)?;
        let order_id = patient::int(&v, "orderId")
            .map_err(invalid)?
            .ok_or_else(|| missing("orderId"))?;
        let reason = patient::text(&v, "cancelReason")
            .map_err(invalid)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("cancelReason"))?;
        let mut inv = st
            .inv
            .lock()
            .map_err(|_| fail("99999", "系统繁忙，请稍后再试"))?;
        let i = usize::try_from(order_id.saturating_sub(ORDER_ID_BASE))
            .ok()
            .filter(|&i| i < inv.orders.len())
            .filter(|&i| !inv.orders[i].competitor && inv.orders[i].token == token)
            .ok_or_else(|| fail("40007", "订单不存在"))?;
        let o = &inv.orders[i];
        if o.cancelled {
            return Err(fail("40008", "订单已取消，请勿重复操作"));
        }
        let (key, index) = (o.key, o.index);
        let card = o
            .patient
            .as_ref()
            .map(|p| p.card_no.clone())
            .unwrap_or_default();
        let begin = st
            .world
            .doctor(key.doctor)
            .map(|d| slot_time(&st.world.units[d.unit], &key, index).0)
            .unwrap_or(0);
        if now >= beijing_ms(key.day, begin) {
            return Err(fail("40009", "已过就诊时间，无法取消"));
        }
        if let Some(slot) = st
            .resources_mut(&mut inv, &key)
            .and_then(|r| r.get_mut(index))
        {
            slot.appointed = slot.appointed.saturating_sub(1);
        }
        inv.active.remove(&(card, key));
        let o = &mut inv.orders[i];
        o.cancelled = true;
        o.cancelled_at = Some(now);
        o.cancel_reason = Some(reason);
        drop(inv);
        Ok(send(&Bare {
            code: "0",
            msg: OK_MSG,
        }))
    })
}
