//! `otn/leftTicket/init` (the page that names the query endpoint in `CLeftTicketUrl`) and
//! the query endpoint itself, whose name drifts (`queryZ`, `queryA`, `queryO`, `queryG`,
//! `query`). Calling a name that is not the current one answers
//! `{"status": false, "c_url": "leftTicket/queryX", "c_name": "CLeftTicketUrl"}`.
//!
//! Query parameters: `leftTicketDTO.train_date` (YYYY-MM-DD), `leftTicketDTO.from_station`,
//! `leftTicketDTO.to_station` (telecodes; stations of one city are interchangeable),
//! `purpose_codes` (`ADULT` or `0X00`). Missing or malformed ones are sent to the error
//! page (302), as the real site does; a date outside the presale window answers
//! 选择的查询日期不在预售日期范围内. Too many queries from one session within the
//! configured window answer HTTP 403 (or a "too frequent" JSON).

use super::auth::ensure_otn;
use super::trains::{self, Seat, Secret, Stock};
use super::{html, parse_day, redirect, today, with_cookies, Rail12306, Req, World};
use crate::web;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// `leftTicket/init`: the ticket page with `var CLeftTicketUrl = 'leftTicket/queryZ';`.
pub fn init(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let (name, cookies) = {
        let mut s = app.state();
        let (_, cookies) = ensure_otn(&mut s, req, now);
        (s.query_name(&w).to_string(), cookies)
    };
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
<title>中国铁路12306 | 车票预订</title>\n\
<script type=\"text/javascript\">\n\
var ctx='/otn/';\n\
var globalRepeatSubmitToken = null;\n\
var global_lang = 'zh_CN';\n\
var sessionInit = '';\n\
var isShowNotice = null;\n\
var CLeftTicketUrl = 'leftTicket/{name}';\n\
var isSaveQueryLog='Y';\n\
var querySpanTime = 5;\n\
var isstudentDate = false;\n\
var other_buy_date = '{}';\n\
</script>\n\
<script src=\"/otn/resources/js/framework/station_name.js?station_version={}\" type=\"text/javascript\" xml:space=\"preserve\"></script>\n\
</head>\n<body>\n<div id=\"sear-result\"></div>\n<table id=\"queryLeftTable\"></table>\n</body>\n</html>\n",
        haoyuan_core::date::Date::from_days(today(now) + w.cfg.presale_days - 1),
        w.stations.version,
    );
    with_cookies(html(body), &cookies)
}

fn too_frequent(json_reply: bool) -> Response {
    if json_reply {
        return web::json(&json!({
            "validateMessagesShowId": "_validatorMessage",
            "status": false,
            "httpstatus": 200,
            "messages": ["您的操作频率过快，请稍后再试！"],
            "validateMessages": {},
        }));
    }
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>\
         <p>网络可能存在问题，请您重试一下！(访问过于频繁)</p></body></html>",
    )
        .into_response()
}

/// What one row needs, gathered under the lock.
struct RowInput {
    train: u32,
    from: usize,
    to: usize,
    start_day: i64,
    stock: Stock,
}

/// The query endpoint, under whatever name it currently has.
pub fn query(app: &Rail12306, req: &Req) -> Response {
    let name = req.path.rsplit('/').next().unwrap_or("");
    if !name.starts_with("query") {
        return super::not_found(app, req);
    }
    let now = app.now();
    let w = app.world();
    if let Some(rate) = &w.rate {
        let key = req
            .cookie("JSESSIONID")
            .unwrap_or_else(|| "anonymous".into());
        if !rate.allow(&key, now) {
            return too_frequent(w.cfg.rate_json);
        }
    }
    let date = parse_day(req.get("leftTicketDTO.train_date"));
    let from = req.get("leftTicketDTO.from_station");
    let to = req.get("leftTicketDTO.to_station");
    let purpose = req.get("purpose_codes");
    {
        let s = app.state();
        let current = s.query_name(&w);
        if current != name {
            return web::json(&json!({
                "status": false,
                "c_url": format!("leftTicket/{current}"),
                "c_name": "CLeftTicketUrl",
            }));
        }
    }
    let (Some(day), false, false, true) = (
        date.filter(|_| req.get("leftTicketDTO.train_date").len() == 10),
        from.is_empty(),
        to.is_empty(),
        matches!(purpose, "ADULT" | "0X00"),
    ) else {
        return redirect("/mormhweb/logFiles/error.html");
    };
    let t0 = today(now);
    if day < t0 || day > t0 + w.cfg.presale_days - 1 {
        return web::json(&json!({
            "validateMessagesShowId": "_validatorMessage",
            "status": false,
            "httpstatus": 200,
            "messages": ["选择的查询日期不在预售日期范围内"],
            "validateMessages": {},
        }));
    }
    let found = match (w.stations.get(from), w.stations.get(to)) {
        (Some(a), Some(b)) => w.trains.between(&w.stations, a.city, b.city),
        _ => Vec::new(),
    };
    let inputs: Vec<RowInput> = {
        let mut s = app.state();
        // Count the query, and drift after it when the scenario says so.
        s.query_count += 1;
        if w.cfg.change_every > 0 && s.query_count >= w.cfg.change_every {
            s.query_idx = (s.query_idx + 1) % w.cfg.query_names.len().max(1);
            s.query_count = 0;
        }
        found
            .iter()
            .map(|&(t, f, to)| {
                let dep = w.trains.list[t as usize].stops[f].depart;
                let start_day = day - i64::from(dep.div_euclid(1440));
                RowInput {
                    train: t,
                    from: f,
                    to,
                    start_day,
                    stock: *s.stock_mut(&w, t, start_day),
                }
            })
            .collect()
    };
    let mut map = Map::new();
    let result: Vec<Value> = inputs
        .iter()
        .map(|r| {
            let t = &w.trains.list[r.train as usize];
            for stop in [r.from, r.to] {
                let st = &w.stations.list[t.stops[stop].station as usize];
                map.entry(st.telecode.clone())
                    .or_insert_with(|| Value::String(st.name.clone()));
            }
            Value::String(row(&w, r, now))
        })
        .collect();
    web::json(&json!({
        "httpstatus": 200,
        "data": {"result": result, "flag": "1", "map": map},
        "messages": "",
        "status": true,
    }))
}

/// The base seat code 无座 is sold under.
pub fn standing_code(w: &World, train: u32) -> char {
    let t = &w.trains.list[train as usize];
    if t.has(Seat::Second) {
        'O'
    } else {
        '1'
    }
}

/// One `|`-row (56 fields).
fn row(w: &World, r: &RowInput, now: i64) -> String {
    let t = &w.trains.list[r.train as usize];
    let st = |i: usize| &w.stations.list[t.stops[i].station as usize];
    let open = w.sale_open_ms(r.train, r.start_day);
    let on_sale = now >= open;
    let secret = Secret {
        train: r.train,
        start_day: r.start_day,
        from: r.from,
        to: r.to,
    };
    let mut f: Vec<String> = vec![String::new(); 56];
    let any_left = t.seats.iter().any(|s| r.stock[s.idx()] > 0);
    if on_sale {
        f[0] = trains::secret_encode(w.key, &secret);
        f[1] = "预订".into();
        f[11] = if any_left { "Y" } else { "N" }.into();
    } else {
        let (d, m) = crate::clock::beijing(open);
        f[1] = format!(
            "{:02}月{:02}日{}起售",
            d.month,
            d.day,
            trains::hhmm(m as i32, false)
        );
        f[11] = "IS_TIME_NOT_BUY".into();
    }
    f[2] = t.train_no.clone();
    f[3] = t.code.clone();
    f[4] = st(0).telecode.clone();
    f[5] = st(t.stops.len() - 1).telecode.clone();
    f[6] = st(r.from).telecode.clone();
    f[7] = st(r.to).telecode.clone();
    let dep = t.stops[r.from].depart;
    let arr = t.stops[r.to].arrive;
    f[8] = trains::hhmm(dep, false);
    f[9] = trains::hhmm(arr, false);
    f[10] = trains::hhmm(arr - dep, true);
    f[12] = trains::left_ticket_str(w.key, &secret);
    f[13] = trains::ymd_compact(r.start_day);
    f[14] = if t.has(Seat::Second) { "3" } else { "2" }.into();
    f[15] = t.location.clone();
    f[16] = format!("{:02}", r.from + 1);
    f[17] = format!("{:02}", r.to + 1);
    f[18] = if t.has(Seat::Second) { "1" } else { "0" }.into();
    f[19] = "0".into();
    for s in Seat::ALL {
        f[s.cell()] = trains::cell(r.stock[s.idx()], on_sale);
    }
    let base = standing_code(w, r.train);
    let codes: Vec<char> = t
        .seats
        .iter()
        .map(|&s| if s == Seat::Standing { base } else { s.code() })
        .collect();
    f[34] = codes.iter().map(|c| format!("{c}0")).collect();
    let mut types: Vec<char> = codes.clone();
    types.dedup();
    f[35] = types.into_iter().collect();
    f[36] = if t.has(Seat::Second) { "1" } else { "0" }.into();
    f[37] = if on_sale && t.houbu { "1" } else { "0" }.into();
    f[38] = String::new();
    f[39] = t
        .seats
        .iter()
        .map(|&s| {
            let code = if s == Seat::Standing { base } else { s.code() };
            let price = (t.price(s, r.from, r.to) * 10.0).round() as i64;
            let n = if on_sale {
                r.stock[s.idx()].clamp(0, 2999)
            } else {
                0
            };
            let n = if s == Seat::Standing { 3000 + n } else { n };
            format!("{code}{price:05}{n:04}")
        })
        .collect();
    f[46] = if t.has(Seat::Second) {
        "#1#0#0#z#0#z#z"
    } else {
        "#0#0#0#z#0#z#z"
    }
    .into();
    f[48] = "CHN,CHN".into();
    f.join("|")
}
