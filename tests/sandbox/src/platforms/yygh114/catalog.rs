//! What a patient browses: `hospital/list` (paged, filtered by keywords, level and
//! district), `hospital/detail` (`openTimeView`, `bookingRange`), the nested
//! `department/hos/list`, the `product/list` calendar (`AVAILABLE`, `SOLD_OUT`,
//! `NO_INVENTORY`, `TOMORROW_OPEN`, `fhTimestamp`, `totalWeek`) and `product/detail`
//! (morning/afternoon blocks of doctors whose price and remaining count are Private Use
//! Area entities of one of the obfuscation fonts, `wnumber` odd iff bookable).

use super::inventory::{
    beijing_day, date_string, next_release_at, next_release_day, week_desc, DeptDay, Product,
    DUTIES,
};
use super::{field, ApiError, Req};
use serde_json::{json, Value};

/// Dates further ahead than this are never created by a client's request.
const MAX_DAYS_AHEAD: i64 = 366;

/// `GET /web/hospital/list?keywords=&levelId=&areaId=&pageNo=&pageSize=`.
pub(crate) fn hospital_list(r: &mut Req) -> Result<Value, ApiError> {
    let num = |k: &str, d: u64| {
        r.q.get(k)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(d)
    };
    let level = num("levelId", 0);
    let area = num("areaId", 0);
    let page_no = num("pageNo", 1).max(1);
    let page_size = num("pageSize", 20).clamp(1, 100);
    let kw = r.q.get("keywords").map(|s| s.trim()).unwrap_or("");
    let w = &r.l.world;
    let matching: Vec<usize> = w
        .hospitals
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            (level == 0 || u64::from(h.level_id) == level)
                && (area == 0 || u64::from(h.area_id) == area)
                && (kw.is_empty() || h.name.contains(kw))
        })
        .map(|(i, _)| i)
        .collect();
    let start = usize::try_from((page_no - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let list: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(page_size as usize)
        .map(|&i| w.list_items[i].clone())
        .collect();
    Ok(json!({"count": matching.len(), "list": list}))
}

/// `GET /web/hospital/detail?hosCode=`.
pub(crate) fn hospital_detail(r: &mut Req) -> Result<Value, ApiError> {
    let code = r.q.get("hosCode").cloned().unwrap_or_default();
    let h =
        r.l.world
            .hospital(code.trim())
            .ok_or_else(|| ApiError::Code(1002, "医院不存在".into()))?;
    Ok(json!({
        "code": h.code,
        "name": h.name,
        "levelId": h.level_id,
        "levelText": h.level_text,
        "areaId": h.area_id,
        "areaName": h.area_name,
        "address": h.address,
        "phone": h.phone,
        "picture": h.picture,
        "openTimeView": h.open_time_view(),
        "openTimeText": h.open_time_text(),
        "bookingRange": h.booking_range,
        "maintain": h.maintain,
        "intro": format!("{}是一所集医疗、教学、科研、预防为一体的{}综合医院。", h.name, h.level_text),
    }))
}

/// `GET /web/department/hos/list?hosCode=`.
pub(crate) fn department_list(r: &mut Req) -> Result<Value, ApiError> {
    let code = r.q.get("hosCode").cloned().unwrap_or_default();
    let w = &r.l.world;
    let h = w
        .hospital(code.trim())
        .ok_or_else(|| ApiError::Code(1002, "医院不存在".into()))?;
    let list: Vec<Value> = h
        .depts
        .iter()
        .map(|d| {
            json!({
                "code": d.code,
                "name": d.name,
                "subList": d.subs.iter().map(|&ci| {
                    let c = &w.clinics[ci];
                    json!({"code": c.code, "dept1Code": c.dept1_code, "hotDept": c.hot, "name": c.name})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({"list": list}))
}

/// The clinic named by a product request body (`hosCode`, `firstDeptCode`, `secondDeptCode`).
pub(crate) fn clinic_of(r: &Req, body: &Value) -> Result<usize, ApiError> {
    let hos = field(body, "hosCode").unwrap_or_default();
    let first = field(body, "firstDeptCode");
    let second = field(body, "secondDeptCode").unwrap_or_default();
    r.l.world
        .clinic(hos.trim(), first.as_deref().map(str::trim), second.trim())
        .ok_or_else(|| ApiError::Code(1002, "科室不存在".into()))
}

/// Calendar status of one day.
fn status(dd: &DeptDay, now: i64, tomorrow_open: i64, maintain: bool) -> &'static str {
    if maintain {
        "NO_INVENTORY"
    } else if dd.is_open(now) {
        if dd.is_empty() {
            "NO_INVENTORY"
        } else if dd.remaining() > 0 {
            "AVAILABLE"
        } else {
            "SOLD_OUT"
        }
    } else if dd.day == tomorrow_open {
        "TOMORROW_OPEN"
    } else {
        "NO_INVENTORY"
    }
}

/// `POST /web/product/list` `{firstDeptCode, secondDeptCode, hosCode, week}`.
pub(crate) fn product_list(r: &mut Req) -> Result<Value, ApiError> {
    r.user()?;
    let body = r.json()?;
    let ci = clinic_of(r, &body)?;
    let week = field(&body, "week")
        .and_then(|w| w.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let now = r.now;
    let w = &r.l.world;
    let c = &w.clinics[ci];
    let h = &w.hospitals[c.hos];
    let today = beijing_day(now);
    let tomorrow_open = next_release_day(h, now);
    let total_week = (h.booking_range + 1 + 6) / 7;
    let mut calendars = Vec::new();
    if week <= total_week {
        let env = r.l.env();
        let mut st = r.l.lock();
        for k in 1..=7 {
            let day = today + (week - 1) * 7 + k;
            st.inv.ensure(&env, ci, day, now);
            let s = st
                .inv
                .get(ci, day)
                .map(|dd| status(dd, now, tomorrow_open, h.maintain))
                .unwrap_or("NO_INVENTORY");
            calendars.push(json!({
                "dutyDate": date_string(day),
                "weekDesc": week_desc(day),
                "status": s,
            }));
        }
        r.l.update_due(&st);
    }
    Ok(json!({
        "hosName": h.name,
        "firstDeptName": c.dept1_name,
        "secondDeptName": c.name,
        "fhTimestamp": next_release_at(h, now),
        "totalWeek": total_week,
        "calendars": calendars,
    }))
}

/// A deterministic noise number whose parity tells whether the product is bookable.
pub fn parity_number(key: &str, salt: u32, bookable: bool) -> u32 {
    let mut h: u32 = 0x811C_9DC5 ^ salt.wrapping_mul(0x9E37_79B9);
    for b in key.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let n = 10 + (h % 40);
    if (n % 2 == 1) == bookable {
        n
    } else {
        n + 1
    }
}

/// `POST /web/product/detail` `{firstDeptCode, secondDeptCode, hosCode, target}`.
pub(crate) fn product_detail(r: &mut Req) -> Result<Value, ApiError> {
    r.user()?;
    let body = r.json()?;
    let ci = clinic_of(r, &body)?;
    let target = field(&body, "target").unwrap_or_default();
    let day = haoyuan_core::date::Date::parse(target.trim())
        .map_err(|_| ApiError::Code(1001, "日期格式错误".into()))?
        .to_days();
    let now = r.now;
    let l = r.l;
    let h = &l.world.hospitals[l.world.clinics[ci].hos];
    let today = beijing_day(now);
    if day <= today || day > today + MAX_DAYS_AHEAD {
        // Past, today, or further than any release reaches: nothing to show (and nothing
        // to create, whatever dates a client asks for).
        return if l.cfg.legacy {
            Err(ApiError::OutsideWindow)
        } else {
            Ok(json!([]))
        };
    }
    let (font_url, font) = r.font();
    let env = l.env();
    let mut st = l.lock();
    st.inv.ensure(&env, ci, day, now);
    l.update_due(&st);
    let Some(dd) = st.inv.get(ci, day) else {
        return Ok(json!([]));
    };
    if h.maintain || !dd.is_open(now) {
        return if l.cfg.legacy {
            Err(ApiError::OutsideWindow)
        } else {
            Ok(json!([]))
        };
    }
    let enc = |s: &str| match font {
        Some(f) => f.encode(s),
        None => s.to_string(),
    };
    let mut out = Vec::with_capacity(2);
    for (duty, products) in dd.duties.iter().enumerate() {
        if products.is_empty() {
            continue;
        }
        let detail: Vec<Value> = products.iter().map(|p| product_json(p, &enc)).collect();
        out.push(json!({
            "dutyCode": DUTIES[duty],
            "dutyImgUrl": font_url,
            "detail": detail,
            "showIndexPosition": 0,
            "showNumber": true,
            "showPrice": true,
        }));
    }
    Ok(Value::Array(out))
}

fn product_json(p: &Product, enc: &dyn Fn(&str) -> String) -> Value {
    let bookable = p.remaining > 0;
    let wnumber = parity_number(&p.key, p.remaining, bookable);
    let period: Vec<Value> = p
        .periods
        .iter()
        .map(|per| {
            json!({
                "uniqProductKey": per.key,
                "dutyTime": per.duty_time,
                "periodView": per.view,
                "ncode": enc(&per.remaining.to_string()),
                "remainAvailableNumber": parity_number(&per.key, per.remaining, per.remaining > 0),
            })
        })
        .collect();
    json!({
        "uniqProductKey": p.key,
        "doctorName": p.doctor,
        "doctorTitleName": p.title,
        "skill": p.skill,
        "period": period,
        "fcode": enc(&p.fee),
        "ncode": enc(&p.remaining.to_string()),
        "wnumber": wnumber,
        "znumber": wnumber + 2 + parity_number(&p.key, 7, true) % 9,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parity_tells_bookability_and_stays_put() {
        for n in 0..50u32 {
            let key = format!("k{n}");
            assert_eq!(parity_number(&key, n, true) % 2, 1);
            assert_eq!(parity_number(&key, n, false) % 2, 0);
            assert_eq!(parity_number(&key, n, true), parity_number(&key, n, true));
        }
    }
}
