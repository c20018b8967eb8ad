//! Booking: `product/confirm` (with `confirmToken` and `dataItem`), `order/save` (the SMS
//! code with `smsKey=ORDER_CODE` when `dataItem.smsCode` asks for it; `8008` final errors;
//! one check-and-take under the state lock, so a slot is never sold twice),
//! `order/detail` and `order/cancel` (the slot goes back).

use super::auth::mask_middle;
use super::catalog::clinic_of;
use super::inventory::{date_cn, date_string, week_desc, SlotRef, DUTIES, DUTY_NAMES};
use super::{field, ApiError, Req};
use crate::clock::beijing;
use serde_json::{json, Value};

/// `dataItem` field values, as the site's pages read them.
const ITEM_OPTIONAL: u32 = 1;
const ITEM_HIDE: u32 = 2;
const ITEM_REQUIRED: u32 = 4;

/// An order.
#[derive(Clone, Debug)]
pub struct Order {
    pub no: String,
    pub mobile: String,
    pub patient_name: String,
    pub card_type: String,
    pub card_type_view: &'static str,
    pub card_no: String,
    pub medicare: String,
    pub medicare_view: &'static str,
    pub hos: usize,
    pub clinic: usize,
    pub slot: SlotRef,
    pub product_key: String,
    pub doctor: String,
    pub title: String,
    pub skill: String,
    pub fee: String,
    pub period_view: Option<String>,
    pub cancelled: bool,
    pub order_time: i64,
    pub cancel_time: Option<i64>,
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time.
pub fn beijing_time(ms: i64) -> String {
    let (d, _) = beijing(ms);
    let secs = (ms + 8 * 3_600_000).rem_euclid(86_400_000) / 1000;
    format!(
        "{d} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn visit_time(day: i64, duty: usize) -> String {
    format!("{} {} {} ", date_cn(day), week_desc(day), DUTY_NAMES[duty])
}

/// The slot named by a booking body: `uniqProductKey` (product or period), narrowed by
/// `dutyTime` when it names a period of the product.
fn slot_of(r: &Req, body: &Value) -> Result<(usize, SlotRef), ApiError> {
    let ci = clinic_of(r, body)?;
    let key = field(body, "uniqProductKey").unwrap_or_default();
    let duty_time = field(body, "dutyTime")
        .and_then(|d| d.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let st = r.l.lock();
    let mut s = st
        .inv
        .lookup(key.trim())
        .ok_or_else(|| ApiError::Code(8008, "号源信息已失效，请重新选择".into()))?;
    if s.clinic != ci {
        return Err(ApiError::Code(1001, "号源与科室不匹配".into()));
    }
    if s.period.is_none() && duty_time > 0 {
        if let Some((_, p, _)) = st.inv.product(s) {
            s.period = p.periods.iter().position(|per| per.duty_time == duty_time);
        }
    }
    for name in ["target", "treatmentDay", "dutyDate"] {
        if let Some(d) = field(body, name).filter(|d| !d.trim().is_empty()) {
            if d.trim() != date_string(s.day) {
                return Err(ApiError::Code(1001, "就诊日期与号源不匹配".into()));
            }
        }
    }
    Ok((ci, s))
}

/// `POST /web/product/confirm`.
pub(crate) fn confirm(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    let body = r.json()?;
    let (ci, s) = slot_of(r, &body)?;
    let now = r.now;
    let l = r.l;
    let (font_url, font) = r.font();
    let c = &l.world.clinics[ci];
    let h = &l.world.hospitals[c.hos];
    let mut st = l.lock();
    let Some((dd, p, _)) = st.inv.product(s) else {
        return Err(ApiError::Code(8008, "号源信息已失效，请重新选择".into()));
    };
    if !dd.is_open(now) {
        return Err(ApiError::OutsideWindow);
    }
    let total_fee = match font {
        Some(f) => f.encode(&p.fee),
        None => p.fee.clone(),
    };
    let mut data = json!({
        "uniqProductKey": p.key,
        "hospitalName": h.name,
        "departmentName": c.name,
        "doctorName": p.doctor,
        "doctorTitleName": p.title,
        "skill": if p.skill.is_empty() { Value::Null } else { Value::String(p.skill.clone()) },
        "visitTime": visit_time(s.day, s.duty),
        "totalFee": total_fee,
        "serviceFee": p.fee,
        "showFee": true,
        "needRemoteHospitalCard": false,
        "dataItem": {
            "hospitalCardId": ITEM_OPTIONAL,
            "hospitalCardIdTip": null,
            "jytCardId": ITEM_HIDE,
            "jytCardIdTip": null,
            "smsCode": if l.cfg.order_sms { ITEM_REQUIRED } else { ITEM_HIDE },
            "smsCodeTip": if l.cfg.order_sms { Value::String("请输入就诊人手机收到的短信验证码".into()) } else { Value::Null },
            "contactUserInfo": ITEM_HIDE,
        },
        "commonRegisterNotice": null,
        "dutyImgUrl": font_url,
        "showRegRule": null,
        "takePlaceTips": h.take_place,
    });
    if l.cfg.confirm_token {
        let st = &mut *st;
        let token = st
            .auth
            .issue_confirm_token(&mobile, &p_key(&data), now, &mut st.rng);
        data["confirmToken"] = Value::String(token);
    }
    Ok(data)
}

fn p_key(data: &Value) -> String {
    data["uniqProductKey"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `POST /web/order/save`.
pub(crate) fn order_save(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    let body = r.json()?;
    let (ci, s) = slot_of(r, &body)?;
    let now = r.now;
    let l = r.l;
    let seed = l.seed;
    let key = field(&body, "uniqProductKey")
        .unwrap_or_default()
        .trim()
        .to_string();
    let card_type = field(&body, "cardType").unwrap_or_default();
    let card_no = field(&body, "cardNo").unwrap_or_default();
    let sms_code = field(&body, "smsCode").unwrap_or_default();
    let token = field(&body, "confirmToken").unwrap_or_default();
    let mut guard = l.lock();
    let st = &mut *guard;
    let account = st.auth.account(seed, &mobile).clone();
    if !account.real_name {
        return Err(ApiError::Code(
            6001,
            "您还未进行实名认证，请先实名认证".into(),
        ));
    }
    let Some((patient, card)) = account
        .patients
        .iter()
        .find_map(|p| p.card(card_type.trim(), card_no.trim()).map(|c| (p, c)))
    else {
        return Err(ApiError::Code(
            1001,
            "就诊卡信息不正确，请重新选择就诊人".into(),
        ));
    };
    if l.cfg.confirm_token
        && !st
            .auth
            .check_confirm_token(token.trim(), &mobile, &key, now)
    {
        return Err(ApiError::Code(
            8009,
            "页面信息已过期，请重新确认挂号信息".into(),
        ));
    }
    if l.cfg.order_sms {
        let phone = field(&body, "phone")
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| patient.phone.clone());
        let ok = st
            .auth
            .check_sms(phone.trim(), "ORDER_CODE", &sms_code, now)
            || (phone.trim() != mobile && st.auth.check_sms(&mobile, "ORDER_CODE", &sms_code, now));
        if !ok {
            return Err(ApiError::Code(7001, "短信验证码错误".into()));
        }
    }
    let Some((dd, p, _)) = st.inv.product(s) else {
        return Err(ApiError::Code(8008, "号源信息已失效，请重新选择".into()));
    };
    if !dd.is_open(now) {
        return Err(ApiError::OutsideWindow);
    }
    let (doctor, title, skill, fee, product_key) = (
        p.doctor.clone(),
        p.title.clone(),
        p.skill.clone(),
        p.fee.clone(),
        p.key.clone(),
    );
    let duplicate = st
        .orders
        .iter()
        .any(|o| !o.cancelled && o.patient_name == patient.name && o.product_key == product_key);
    if duplicate {
        return Err(ApiError::Code(
            8008,
            "您已预约过该号源，请勿重复预约".into(),
        ));
    }
    let period = st
        .inv
        .take(s)
        .map_err(|_| ApiError::Code(8008, "当前号源已约满，请选择其他号源".into()))?;
    let taken = SlotRef { period, ..s };
    let period_view = st
        .inv
        .product(taken)
        .and_then(|(_, _, per)| per.map(|x| x.view.clone()));
    let no = loop {
        let n = format!("2{}", st.rng.digits(11));
        if !st.orders.iter().any(|o| o.no == n) {
            break n;
        }
    };
    st.orders.push(Order {
        no: no.clone(),
        mobile: mobile.clone(),
        patient_name: patient.name.clone(),
        card_type: card.card_type.clone(),
        card_type_view: card.type_view(),
        card_no: card.no.clone(),
        medicare: card.medicare.clone(),
        medicare_view: card.medicare_view(),
        hos: l.world.clinics[ci].hos,
        clinic: ci,
        slot: taken,
        product_key,
        doctor,
        title,
        skill,
        fee,
        period_view,
        cancelled: false,
        order_time: now,
        cancel_time: None,
    });
    if l.cfg.confirm_token {
        st.auth.burn_confirm_token(token.trim());
    }
    Ok(json!({"orderNo": no, "lineup": false}))
}

fn find_order(orders: &[Order], r: &Req, mobile: &str) -> Result<usize, ApiError> {
    let no =
        r.q.get("orderNo")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
    let hos = r.q.get("hosCode").map(|s| s.trim().to_string());
    orders
        .iter()
        .position(|o| {
            o.no == no
                && o.mobile == mobile
                && hos
                    .as_deref()
                    .is_none_or(|h| h.is_empty() || r.l.world.hospitals[o.hos].code == h)
        })
        .ok_or_else(|| ApiError::Code(1002, "订单不存在".into()))
}

/// `GET /web/order/detail?hosCode=&orderNo=`.
pub(crate) fn order_detail(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    let st = r.l.lock();
    let i = find_order(&st.orders, r, &mobile)?;
    let o = &st.orders[i];
    Ok(order_json(r, o))
}

fn order_json(r: &Req, o: &Order) -> Value {
    let w = &r.l.world;
    let h = &w.hospitals[o.hos];
    let c = &w.clinics[o.clinic];
    let can_cancel = !o.cancelled && o.slot.day > super::inventory::beijing_day(r.now);
    json!({
        "orderNo": o.no,
        "identifyingCode": null,
        "orderStatus": if o.cancelled { "CANCELED" } else { "BOOKING_SUCCESS" },
        "orderStatusView": if o.cancelled { "已取消" } else { "预约成功" },
        "orderType": "NON_PAYMENT",
        "orderTime": beijing_time(o.order_time),
        "canCancel": can_cancel,
        "cancelType": if o.cancelled { Value::String("USER_CANCEL".into()) } else { Value::Null },
        "cancelTime": o.cancel_time.map(beijing_time),
        "orderBaseInfo": {
            "hosCode": h.code,
            "hosName": h.name,
            "deptCode": c.code,
            "deptName": c.name,
            "doctorName": o.doctor,
            "doctorTitle": o.title,
            "doctorSkill": o.skill,
            "serviceFee": o.fee,
            "visitTimeTips": visit_time(o.slot.day, o.slot.duty).trim_end().to_string(),
            "takeTimeTips": null,
            "takePlaceTips": h.take_place,
            "cancelTimeTips": null,
            "attention": null,
            "periodView": o.period_view,
            "dutyDate": null,
            "qrTipMessage": null,
            "qrCodeImg": null,
        },
        "patientInfo": {
            "patientName": o.patient_name,
            "patientIdType": null,
            "patientIdNo": null,
            "cardType": o.card_type,
            "cardTypeView": o.card_type_view,
            "cardNo": mask_middle(&o.card_no),
            "medicareType": o.medicare,
            "medicareTypeView": o.medicare_view,
        },
        "payInfo": {
            "payStatus": null,
            "payFee": null,
            "payTime": null,
            "payRemainTime": 0,
            "payCloseMilliseconds": null,
            "userAmount": null,
            "medicalAmount": null,
            "refundTime": null,
        },
    })
}

/// `GET|POST /web/order/cancel?orderNo=&hosCode=`: the slot goes back on sale.
pub(crate) fn order_cancel(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    // A POST may carry the numbers in a JSON body instead of the query.
    if !r.q.contains_key("orderNo") {
        if let Ok(b) = r.json() {
            for k in ["orderNo", "hosCode"] {
                if let Some(v) = field(&b, k) {
                    r.q.insert(k.to_string(), v);
                }
            }
        }
    }
    let now = r.now;
    let mut guard = r.l.lock();
    let st = &mut *guard;
    let i = find_order(&st.orders, r, &mobile)?;
    let o = &mut st.orders[i];
    if o.cancelled {
        return Err(ApiError::Code(8008, "订单已取消".into()));
    }
    if o.slot.day <= super::inventory::beijing_day(now) {
        return Err(ApiError::Code(8008, "已过取消时间，无法取消".into()));
    }
    o.cancelled = true;
    o.cancel_time = Some(now);
    let slot = o.slot;
    st.inv.give_back(slot);
    Ok(Value::Null)
}

/// Every order, for the admin API.
pub(crate) fn orders_json(l: &super::Loaded, orders: &[Order]) -> Value {
    Value::Array(
        orders
            .iter()
            .map(|o| {
                let h = &l.world.hospitals[o.hos];
                let c = &l.world.clinics[o.clinic];
                json!({
                    "orderNo": o.no,
                    "mobile": o.mobile,
                    "patientName": o.patient_name,
                    "hosCode": h.code,
                    "hosName": h.name,
                    "firstDeptCode": c.dept1_code,
                    "secondDeptCode": c.code,
                    "deptName": c.name,
                    "doctorName": o.doctor,
                    "dutyDate": date_string(o.slot.day),
                    "dutyCode": DUTIES[o.slot.duty],
                    "uniqProductKey": o.product_key,
                    "periodView": o.period_view,
                    "status": if o.cancelled { "CANCELED" } else { "BOOKING_SUCCESS" },
                    "orderTime": o.order_time,
                    "cancelTime": o.cancel_time,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        let ms = haoyuan_core::date::Date::parse("2022-10-02")
            .unwrap()
            .to_days()
            * 86_400_000
            + 15 * 3_600_000
            + 19 * 60_000
            + 17_000;
        assert_eq!(beijing_time(ms), "2022-10-02 23:19:17");
        assert_eq!(
            visit_time(
                haoyuan_core::date::Date::parse("2022-10-01")
                    .unwrap()
                    .to_days(),
                1
            ),
            "2022年10月01日 周六 下午 "
        );
    }
}
