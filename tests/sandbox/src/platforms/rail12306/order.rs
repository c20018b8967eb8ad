//! The order chain (seed steps 10–18): `submitOrderRequest` → `initDc` (HTML with
//! `globalRepeatSubmitToken` and `ticketInfoForPassengerForm`) → `getPassengerDTOs` →
//! (`getPassCodeNew`) → `checkOrderInfo` → `getQueueCount` → `confirmSingleForQueue` →
//! `queryOrderWaitTime` (the scenario's `waitTime` script) → `resultOrderForDcQueue`, plus
//! `queryMyOrderNoComplete`.
//!
//! Seats are taken in `confirmSingleForQueue`, all-or-nothing under the state lock, so
//! concurrent buyers never oversell: the buyers who find nothing left still enter the
//! queue, and their queue ends `waitTime: -2` with 没有足够的票!. A queue that ends -2/-3
//! (scripted) gives its seats back. Refusals: not logged in (`status: false`, 用户未登录);
//! a wrong or missing `REPEAT_SUBMIT_TOKEN` or a step out of order (`status: false`,
//! 系统忙，请稍后重试); business errors as `data.submitStatus: false` + `data.errMsg`
//! (already booked: `张三(二代身份证)已订2026年12月01日G1次的车票!!`); an unpaid or queued
//! order blocks a new `submitOrderRequest` (您还有未处理的订单…).

use super::auth::{ensure_otn, logged_in};
use super::captcha::{Captcha, Verdict};
use super::query::standing_code;
use super::trains::{self, Seat};
use super::{
    html, otn_fail, otn_ok, redirect, today, with_cookies, Order, OrderStatus, OrderTicket,
    OtnSession, Pending, Rail12306, Req, Stage, State, TicketReq, World,
};
use crate::web;
use axum::response::Response;
use haoyuan_core::date::Date;
use serde_json::{json, Value};

const BUSY: &str = "系统忙，请稍后重试";
const EXPIRED: &str = "车票信息已过期，请重新查询最新车票信息";

fn not_logged_in() -> Response {
    web::json(&json!({
        "validateMessagesShowId": "_validatorMessage",
        "url": "/leftTicket/init",
        "status": false,
        "httpstatus": 200,
        "messages": ["用户未登录"],
        "validateMessages": {},
    }))
}

/// `data.submitStatus: false` with an error message (checkOrderInfo, confirm).
fn submit_false(msg: &str) -> Response {
    otn_ok(json!({
        "ifShowPassCode": "N",
        "canChooseBeds": "N",
        "canChooseSeats": "N",
        "choose_Seats": "MOP9",
        "isCanChooseMid": "N",
        "ifShowPassCodeTime": "1",
        "submitStatus": false,
        "smokeStr": "",
        "errMsg": msg,
    }))
}

/// `Beijing YYYY-MM-DD HH:MM:SS` of Unix ms.
fn bj_datetime(ms: i64) -> String {
    let (d, m) = crate::clock::beijing(ms);
    let secs = (ms + 8 * 3_600_000).rem_euclid(60_000) / 1000;
    format!("{d} {:02}:{:02}:{secs:02}", m / 60, m % 60)
}

/// The logged-in session and its pending order with a matching token (the refusal
/// otherwise; handlers return it at once, so its size does not matter).
#[allow(clippy::result_large_err)]
fn session_with_token<'a>(
    w: &World,
    s: &'a mut State,
    req: &Req,
    now: i64,
) -> Result<(usize, &'a mut OtnSession), Response> {
    let Some((id, user)) = logged_in(w, s, req, now) else {
        return Err(not_logged_in());
    };
    let token = req.get("REPEAT_SUBMIT_TOKEN");
    let Some(sess) = s.otn.get_mut(&id) else {
        return Err(not_logged_in());
    };
    match &sess.pending {
        Some(p) if !token.is_empty() && p.token == token => Ok((user, sess)),
        _ => Err(otn_fail(BUSY)),
    }
}

/// Step 10b: `submitOrderRequest` (secretStr of a row).
pub fn submit_order_request(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let Some((id, user)) = logged_in(&w, &mut s, req, now) else {
        return not_logged_in();
    };
    let Some(secret) = trains::secret_decode(w.key, req.get("secretStr")) else {
        return otn_fail(EXPIRED);
    };
    let Some(t) = w.trains.list.get(secret.train as usize) else {
        return otn_fail(EXPIRED);
    };
    if secret.from >= secret.to || secret.to >= t.stops.len() {
        return otn_fail(EXPIRED);
    }
    let travel_day = secret.start_day + i64::from(t.stops[secret.from].depart.div_euclid(1440));
    let train_date = super::parse_day(req.get("train_date"));
    if train_date != Some(travel_day) {
        return otn_fail(EXPIRED);
    }
    let t0 = today(now);
    if travel_day < t0 || travel_day > t0 + w.cfg.presale_days - 1 {
        return otn_fail(EXPIRED);
    }
    if now < w.sale_open_ms(secret.train, secret.start_day) {
        return otn_fail("当前时间不可以订票");
    }
    let tour = req.get("tour_flag");
    if !tour.is_empty() && tour != "dc" {
        return otn_fail("暂不支持往返票，请购买单程票");
    }
    if w.cfg.block_unfinished
        && s.orders.iter().any(|o| {
            o.user == user && matches!(o.status, OrderStatus::Queued | OrderStatus::Booked)
        })
    {
        return otn_fail(
            "您还有未处理的订单，请您到<a href=\"../view/train_order.html\">[未完成订单]</a>进行处理!",
        );
    }
    let token = s.rng.hex(32);
    let key_check = s.rng.hex(56).to_uppercase();
    let left_ticket = trains::left_ticket_str(w.key, &secret);
    let pending = Pending {
        secret,
        travel_day,
        token,
        key_check,
        left_ticket,
        stage: Stage::Submitted,
        pass_code: w.cfg.pass_code,
        tickets: Vec::new(),
        order: None,
    };
    if let Some(sess) = s.otn.get_mut(&id) {
        sess.pending = Some(pending);
    }
    otn_ok(Value::String(w.cfg.submit_data.clone()))
}

fn js_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Step 11: `initDc`, the passenger page.
pub fn init_dc(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let Some((id, _)) = logged_in(&w, &mut s, req, now) else {
        return redirect("/otn/login/init");
    };
    let Some(p) = s.otn.get(&id).and_then(|x| x.pending.clone()) else {
        return html(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>系统消息</title></head>\
             <body><div class=\"error_text\">系统忙，请稍后重试！</div></body></html>"
                .into(),
        );
    };
    if p.stage >= Stage::Queued {
        return html(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>系统消息</title></head>\
             <body><div class=\"error_text\">订单已提交，请勿重复提交！</div></body></html>"
                .into(),
        );
    }
    drop(s);
    let t = &w.trains.list[p.secret.train as usize];
    let st = |i: usize| &w.stations.list[t.stops[i].station as usize];
    let (from, to) = (st(p.secret.from), st(p.secret.to));
    let dep = t.stops[p.secret.from].depart;
    let arr = t.stops[p.secret.to].arrive;
    let stock = *app
        .state()
        .stock_mut(&w, p.secret.train, p.secret.start_day);
    let left_details: Vec<String> = t
        .seats
        .iter()
        .map(|&x| {
            let n = stock[x.idx()];
            let state = match n {
                n if n <= 0 => "无票".to_string(),
                n if n >= 20 => "有票".to_string(),
                n => format!("{n}张票"),
            };
            format!(
                "'{}({:.2}元){}'",
                x.name(),
                t.price(x, p.secret.from, p.secret.to),
                state
            )
        })
        .collect();
    let seat_codes: Vec<String> = t
        .seats
        .iter()
        .filter(|&&x| x != Seat::Standing)
        .map(|&x| {
            format!(
                "{{'end_station_name':null,'end_time':null,'id':'{}','start_station_name':null,'start_time':null,'value':'{}'}}",
                x.code(),
                x.name()
            )
        })
        .collect();
    let d = Date::from_days(p.travel_day);
    let travel_ms = super::day_start_ms(p.travel_day);
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>中国铁路12306 | 确认乘客信息</title>\n\
<script type=\"text/javascript\">\n\
var ctx='/otn/';\n\
var globalRepeatSubmitToken = '{token}';\n\
var global_lang = 'zh_CN';\n\
var isAsync = '1';\n\
var ticket_submit_order={{'ticket_type':{{'ADULT':'1','CHILD':'2','STUDENT':'3','DISABILITY':'4'}},'tour_flag':{{'dc':'dc','wc':'wc','fc':'fc','gc':'gc','lc':'lc','lc1':'l1','lc2':'l2'}}}};\n\
var ticketInfoForPassengerForm={{'cardTypes':[{{'end_station_name':null,'end_time':null,'id':'1','start_station_name':null,'start_time':null,'value':'中国居民身份证'}},{{'end_station_name':null,'end_time':null,'id':'B','start_station_name':null,'start_time':null,'value':'护照'}}],\
'isAsync':'1','key_check_isChange':'{key}','leftDetails':[{details}],'leftTicketStr':'{left}',\
'limitBuySeatTicketDTO':{{'seat_type_codes':[{codes}],'ticket_seat_codeMap':{{}},'ticket_type_codes':[{{'end_station_name':null,'end_time':null,'id':'1','start_station_name':null,'start_time':null,'value':'成人票'}}]}},\
'maxTicketNum':'5',\
'orderRequestDTO':{{'adult_num':0,'apply_order_no':null,'bed_level_order_num':null,'cancel_flag':null,'from_station_name':'{from_name}','from_station_telecode':'{from_tele}','station_train_code':'{code}','start_time':{{'date':1,'day':4,'hours':{dep_h},'minutes':{dep_m},'month':0,'seconds':0,'time':{dep_ms},'timezoneOffset':-480,'year':70}},'to_station_name':'{to_name}','to_station_telecode':'{to_tele}','train_date':{{'date':{day},'day':0,'hours':0,'minutes':0,'month':{month0},'seconds':0,'time':{travel_ms},'timezoneOffset':-480,'year':{year70}}},'train_no':'{train_no}','tour_flag':'dc'}},\
'purpose_codes':'00',\
'queryLeftNewDetailDTO':{{'from_station_name':'{from_name}','from_station_telecode':'{from_tele}','station_train_code':'{code}','to_station_name':'{to_name}','to_station_telecode':'{to_tele}','train_no':'{train_no}','start_time':'{dep}','arrive_time':'{arr}','lishi':'{lishi}'}},\
'queryLeftTicketRequestDTO':{{'arrive_time':'{arr}','bigger20':'Y','from_station':'{from_tele}','from_station_name':'{from_name}','from_station_no':'{from_no:02}','lishi':'{lishi}','purpose_codes':'00','station_train_code':'{code}','to_station':'{to_tele}','to_station_name':'{to_name}','to_station_no':'{to_no:02}','train_date':'{start_compact}','train_location':'{location}','train_no':'{train_no}'}},\
'tour_flag':'dc','train_location':'{location}'}};\n\
var orderRequestDTO={{'station_train_code':'{code}','train_no':'{train_no}','from_station_telecode':'{from_tele}','to_station_telecode':'{to_tele}'}};\n\
var init_seatTypes=[{codes}];\n\
</script>\n</head>\n<body>\n<div id=\"normal_passenger_id\"></div>\n<a id=\"submitOrder_id\" href=\"javascript:\">提交订单</a>\n</body>\n</html>\n",
        token = p.token,
        key = p.key_check,
        details = left_details.join(","),
        left = p.left_ticket,
        codes = seat_codes.join(","),
        from_name = js_str(&from.name),
        from_tele = from.telecode,
        to_name = js_str(&to.name),
        to_tele = to.telecode,
        code = t.code,
        train_no = t.train_no,
        dep_h = dep.rem_euclid(1440) / 60,
        dep_m = dep.rem_euclid(60),
        dep_ms = i64::from(dep.rem_euclid(1440)) * 60_000 - 8 * 3_600_000,
        day = d.day,
        month0 = d.month - 1,
        year70 = i32::from(d.year) - 1900,
        dep = trains::hhmm(dep, false),
        arr = trains::hhmm(arr, false),
        lishi = trains::hhmm(arr - dep, true),
        from_no = p.secret.from + 1,
        to_no = p.secret.to + 1,
        start_compact = trains::ymd_compact(p.secret.start_day),
        location = t.location,
    );
    html(body)
}

/// Initials of a Chinese name for `first_letter` (characters of the generated pools).
fn first_letter(name: &str) -> String {
    const PY: &[(char, char)] = &[
        ('王', 'W'),
        ('李', 'L'),
        ('张', 'Z'),
        ('刘', 'L'),
        ('陈', 'C'),
        ('杨', 'Y'),
        ('黄', 'H'),
        ('赵', 'Z'),
        ('吴', 'W'),
        ('周', 'Z'),
        ('徐', 'X'),
        ('孙', 'S'),
        ('马', 'M'),
        ('朱', 'Z'),
        ('胡', 'H'),
        ('郭', 'G'),
        ('何', 'H'),
        ('高', 'G'),
        ('林', 'L'),
        ('罗', 'L'),
        ('郑', 'Z'),
        ('梁', 'L'),
        ('谢', 'X'),
        ('宋', 'S'),
        ('唐', 'T'),
        ('许', 'X'),
        ('韩', 'H'),
        ('冯', 'F'),
        ('邓', 'D'),
        ('曹', 'C'),
        ('彭', 'P'),
        ('曾', 'Z'),
        ('肖', 'X'),
        ('田', 'T'),
        ('董', 'D'),
        ('袁', 'Y'),
        ('潘', 'P'),
        ('于', 'Y'),
        ('蒋', 'J'),
        ('蔡', 'C'),
        ('伟', 'W'),
        ('芳', 'F'),
        ('娜', 'N'),
        ('敏', 'M'),
        ('静', 'J'),
        ('丽', 'L'),
        ('强', 'Q'),
        ('磊', 'L'),
        ('军', 'J'),
        ('洋', 'Y'),
        ('勇', 'Y'),
        ('艳', 'Y'),
        ('杰', 'J'),
        ('娟', 'J'),
        ('涛', 'T'),
        ('明', 'M'),
        ('超', 'C'),
        ('秀', 'X'),
        ('英', 'Y'),
        ('霞', 'X'),
        ('平', 'P'),
        ('刚', 'G'),
        ('桂', 'G'),
        ('建', 'J'),
        ('华', 'H'),
        ('文', 'W'),
        ('红', 'H'),
        ('志', 'Z'),
        ('晓', 'X'),
        ('海', 'H'),
        ('燕', 'Y'),
        ('国', 'G'),
        ('玉', 'Y'),
        ('兰', 'L'),
        ('春', 'C'),
        ('梅', 'M'),
        ('立', 'L'),
        ('新', 'X'),
        ('宏', 'H'),
        ('颖', 'Y'),
        ('鹏', 'P'),
        ('婷', 'T'),
        ('琳', 'L'),
        ('三', 'S'),
        ('四', 'S'),
        ('五', 'W'),
    ];
    name.chars()
        .filter_map(|c| PY.iter().find(|(h, _)| *h == c).map(|(_, l)| *l))
        .collect()
}

/// Step 12: the account's passengers.
pub fn passengers(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let user = match session_with_token(&w, &mut s, req, now) {
        Ok((u, _)) => u,
        Err(r) => return r,
    };
    drop(s);
    let list = &w.accounts[user].passengers;
    let normal: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let id = p.id_no.as_bytes();
            let male = id.get(16).is_some_and(|b| (b - b'0') % 2 == 1);
            let born = if id.len() == 18 {
                format!("{}-{}-{} 00:00:00", &p.id_no[6..10], &p.id_no[10..12], &p.id_no[12..14])
            } else {
                "1980-01-01 00:00:00".into()
            };
            json!({
                "code": (i + 1).to_string(),
                "passenger_name": p.name,
                "sex_code": if male { "M" } else { "F" },
                "sex_name": if male { "男" } else { "女" },
                "born_date": born,
                "country_code": "CN",
                "passenger_id_type_code": "1",
                "passenger_id_type_name": "二代身份证",
                "passenger_id_no": p.id_no,
                "passenger_type": p.kind,
                "passenger_flag": "0",
                "passenger_type_name": match p.kind.as_str() { "2" => "儿童", "3" => "学生", "4" => "残疾军人", _ => "成人" },
                "mobile_no": p.mobile,
                "phone_no": "",
                "email": p.email,
                "address": "",
                "postalcode": "",
                "first_letter": first_letter(&p.name),
                "recordCount": list.len().to_string(),
                "total_times": "99",
                "index_id": i.to_string(),
            })
        })
        .collect();
    otn_ok(json!({
        "isExist": true,
        "exMsg": "",
        "two_isOpenClick": ["93", "95", "97", "99"],
        "other_isOpenClick": ["91", "93", "98", "99", "95", "97"],
        "normal_passengers": normal,
        "dj_passengers": [],
    }))
}

/// Step 13: the passenger captcha (`module=passenger&rand=randp`).
pub fn pass_code_image(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let (id, cookies, mut rng) = {
        let mut s = app.state();
        let (id, cookies) = ensure_otn(&mut s, req, now);
        let seed = s.rng.next_u64();
        (id, cookies, crate::gen::Rng::new(seed))
    };
    let (c, png) = Captcha::generate(&mut rng, now);
    app.shared
        .captchas
        .put("12306", &format!("randp:{id}"), c.describe("passenger"));
    if let Some(sess) = app.state().otn.get_mut(&id) {
        sess.passenger_captcha = Some(c);
    }
    with_cookies(web::bytes("image/png", png), &cookies)
}

/// `checkRandCodeAnsyn`: checks the passenger captcha without using it up.
pub fn check_rand_code(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let Some((id, _)) = logged_in(&w, &mut s, req, now) else {
        return not_logged_in();
    };
    let ok = s
        .otn
        .get(&id)
        .and_then(|x| x.passenger_captcha.as_ref())
        .is_some_and(|c| {
            now - c.created_ms <= w.cfg.captcha_ttl_ms
                && c.check(req.get("randCode")) == Verdict::Right
        });
    otn_ok(if ok {
        json!({"result": "1", "msg": "randCodeRight"})
    } else {
        json!({"result": "0", "msg": "randCodeError"})
    })
}

/// Parses `O,0,1,张三,1,110…,138…,N_M,0,1,…` into tickets.
fn parse_tickets(s: &str) -> Option<Vec<TicketReq>> {
    let mut out = Vec::new();
    for part in s.split('_').filter(|p| !p.trim().is_empty()) {
        let f: Vec<&str> = part.split(',').collect();
        if f.len() < 7 {
            return None;
        }
        out.push(TicketReq {
            seat: Seat::from_code(f[0].trim()).filter(|x| *x != Seat::Standing)?,
            ticket_type: f[2].trim().to_string(),
            name: f[3].trim().to_string(),
            id_no: f[5].trim().to_string(),
        });
    }
    (!out.is_empty()).then_some(out)
}

/// The "already booked" message for a passenger, if they hold a ticket on this train and date.
fn duplicate(w: &World, s: &State, p: &Pending, tickets: &[TicketReq]) -> Option<String> {
    for k in tickets {
        let clash = s.orders.iter().any(|o| {
            o.status.holds()
                && o.train == p.secret.train
                && o.start_day == p.secret.start_day
                && o.tickets.iter().any(|x| x.id_no == k.id_no)
        });
        if clash {
            let d = Date::from_days(p.travel_day);
            return Some(format!(
                "{}(二代身份证)已订{:04}年{:02}月{:02}日{}次的车票!!",
                k.name, d.year, d.month, d.day, w.trains.list[p.secret.train as usize].code
            ));
        }
    }
    None
}

/// Checks the tickets asked for against the account and the train.
fn validate_tickets(
    w: &World,
    user: usize,
    p: &Pending,
    tickets: &[TicketReq],
) -> Result<(), String> {
    if tickets.len() > 5 {
        return Err("每个订单最多只能购买5张车票".into());
    }
    let t = &w.trains.list[p.secret.train as usize];
    for k in tickets {
        if !w.accounts[user]
            .passengers
            .iter()
            .any(|x| x.name == k.name && x.id_no == k.id_no)
        {
            return Err(format!("{}的证件信息有误，请核对后重新输入", k.name));
        }
        if !t.has(k.seat) {
            return Err(format!("本车次没有{}，请重新选择席别", k.seat.name()));
        }
    }
    let mut ids: Vec<&str> = tickets.iter().map(|k| k.id_no.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != tickets.len() {
        return Err("同一乘车人不能重复购票".into());
    }
    Ok(())
}

/// Step 14: `checkOrderInfo`.
pub fn check_order_info(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut guard = app.state();
    let s = &mut *guard;
    let (user, sess) = match session_with_token(&w, s, req, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(p) = sess.pending.clone() else {
        return otn_fail(BUSY);
    };
    if p.stage >= Stage::Queued {
        return otn_fail(BUSY);
    }
    let Some(tickets) = parse_tickets(req.get("passengerTicketStr")) else {
        return submit_false("请选择乘车人");
    };
    if let Err(e) = validate_tickets(&w, user, &p, &tickets) {
        return submit_false(&e);
    }
    if let Some(msg) = duplicate(&w, s, &p, &tickets) {
        return submit_false(&msg);
    }
    let t = &w.trains.list[p.secret.train as usize];
    let choose: String = t
        .seats
        .iter()
        .filter(|x| {
            matches!(
                x,
                Seat::Business | Seat::First | Seat::Second | Seat::Premium
            )
        })
        .map(|x| x.code())
        .collect();
    if let Some(sess) = req.cookie("JSESSIONID").and_then(|id| s.otn.get_mut(&id)) {
        if let Some(pp) = sess.pending.as_mut() {
            pp.tickets = tickets;
            pp.stage = Stage::Checked;
        }
    }
    otn_ok(json!({
        "ifShowPassCode": if p.pass_code { "Y" } else { "N" },
        "canChooseBeds": "N",
        "canChooseSeats": if choose.is_empty() { "N" } else { "Y" },
        "choose_Seats": choose,
        "isCanChooseMid": "N",
        "ifShowPassCodeTime": if p.pass_code { "2423" } else { "1" },
        "submitStatus": true,
        "smokeStr": "",
    }))
}

/// `Tue Jan 16 2018 00:00:00 GMT+0800 (中国标准时间)` or `YYYY-MM-DD` → day.
fn js_date(s: &str) -> Option<i64> {
    if let Some(d) = super::parse_day(s) {
        return Some(d);
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split_whitespace().collect();
    let month = MONTHS.iter().position(|m| Some(m) == parts.get(1))? + 1;
    let day: u32 = parts.get(2)?.parse().ok()?;
    let year: u32 = parts.get(3)?.parse().ok()?;
    super::parse_day(&format!("{year:04}-{month:02}-{day:02}"))
}

/// Step 15: `getQueueCount`.
pub fn queue_count(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut guard = app.state();
    let s = &mut *guard;
    let (_, sess) = match session_with_token(&w, s, req, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(p) = sess.pending.clone() else {
        return otn_fail(BUSY);
    };
    if !(Stage::Checked..Stage::Queued).contains(&p.stage) {
        return otn_fail(BUSY);
    }
    let t = &w.trains.list[p.secret.train as usize];
    let tele = |i: usize| {
        w.stations.list[t.stops[i].station as usize]
            .telecode
            .as_str()
    };
    let day = js_date(req.get("train_date"));
    let seat = Seat::from_code(req.get("seatType")).filter(|x| t.has(*x) && *x != Seat::Standing);
    let ok = req.get("train_no") == t.train_no
        && req.get("stationTrainCode") == t.code
        && req.get("fromStationTelecode") == tele(p.secret.from)
        && req.get("toStationTelecode") == tele(p.secret.to)
        && trains::same_left_ticket(&p.left_ticket, req.get("leftTicket"))
        && (req.get("train_location").is_empty() || req.get("train_location") == t.location)
        && (day == Some(p.secret.start_day) || day == Some(p.travel_day));
    let Some(seat) = seat.filter(|_| ok) else {
        return otn_fail(EXPIRED);
    };
    let queued = s
        .orders
        .iter()
        .filter(|o| {
            o.status == OrderStatus::Queued
                && o.train == p.secret.train
                && o.start_day == p.secret.start_day
        })
        .count();
    let stock = *s.stock_mut(&w, p.secret.train, p.secret.start_day);
    let n = stock[seat.idx()].max(0);
    let standing = stock[Seat::Standing.idx()];
    let base = standing_code(&w, p.secret.train);
    let ticket = if standing >= 0 && seat.code() == base {
        format!("{n},{}", standing.max(0))
    } else {
        n.to_string()
    };
    let avail = n + if seat.code() == base {
        standing.max(0)
    } else {
        0
    };
    if let Some(pp) = req
        .cookie("JSESSIONID")
        .and_then(|id| s.otn.get_mut(&id))
        .and_then(|x| x.pending.as_mut())
    {
        pp.stage = Stage::Counted;
    }
    otn_ok(json!({
        "count": queued.to_string(),
        "ticket": ticket,
        "op_2": if queued as i32 >= avail { "true" } else { "false" },
        "countT": "0",
        "op_1": if queued > 0 { "true" } else { "false" },
    }))
}

fn seat_label(r: &mut crate::gen::Rng, seat: Seat) -> (u32, String) {
    match seat {
        Seat::Business | Seat::Premium => (
            1,
            format!("{:02}{}号", r.range(1, 5), r.pick(&["A", "C", "F"])),
        ),
        Seat::First => (
            r.range(2, 4) as u32,
            format!("{:02}{}号", r.range(1, 14), r.pick(&["A", "C", "D", "F"])),
        ),
        Seat::Second => (
            r.range(4, 17) as u32,
            format!(
                "{:02}{}号",
                r.range(1, 19),
                r.pick(&["A", "B", "C", "D", "F"])
            ),
        ),
        Seat::Standing => (r.range(4, 17) as u32, "无座".into()),
        Seat::SoftSleeper | Seat::DeluxeSleeper | Seat::EmuSleeper => (
            r.range(8, 11) as u32,
            format!("{:02}号{}", r.range(1, 37), r.pick(&["上铺", "下铺"])),
        ),
        Seat::HardSleeper => (
            r.range(11, 18) as u32,
            format!(
                "{:03}号{}",
                r.range(1, 61),
                r.pick(&["上铺", "中铺", "下铺"])
            ),
        ),
        Seat::SoftSeat | Seat::HardSeat => {
            (r.range(1, 8) as u32, format!("{:03}号", r.range(1, 119)))
        }
    }
}

/// Step 16: `confirmSingleForQueue` — takes the seats (all or nothing) and queues the order.
pub fn confirm(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut guard = app.state();
    let s = &mut *guard;
    let (user, sess) = match session_with_token(&w, s, req, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(p) = sess.pending.clone() else {
        return otn_fail(BUSY);
    };
    if p.stage != Stage::Counted {
        return otn_fail(BUSY);
    }
    let t = &w.trains.list[p.secret.train as usize];
    if req.get("key_check_isChange") != p.key_check
        || !trains::same_left_ticket(&p.left_ticket, req.get("leftTicketStr"))
        || (!req.get("train_location").is_empty() && req.get("train_location") != t.location)
    {
        return submit_false(EXPIRED);
    }
    if parse_tickets(req.get("passengerTicketStr")).as_deref() != Some(p.tickets.as_slice()) {
        return submit_false("乘车人信息与所选信息不一致，请重新提交");
    }
    if p.pass_code {
        let c = sess.passenger_captcha.take();
        let right = c.is_some_and(|c| {
            now - c.created_ms <= w.cfg.captcha_ttl_ms
                && c.check(req.get("randCode")) == Verdict::Right
        });
        if !right {
            return submit_false("验证码输入错误，请重新点击验证码");
        }
    }
    if let Some(msg) = duplicate(&w, s, &p, &p.tickets) {
        return submit_false(&msg);
    }
    // Take every seat or none.
    let base = standing_code(&w, p.secret.train);
    let stock = s.stock_mut(&w, p.secret.train, p.secret.start_day);
    let mut trial = *stock;
    let mut kinds = Vec::with_capacity(p.tickets.len());
    for k in &p.tickets {
        if trial[k.seat.idx()] > 0 {
            trial[k.seat.idx()] -= 1;
            kinds.push(k.seat);
        } else if k.seat.code() == base && trial[Seat::Standing.idx()] > 0 {
            trial[Seat::Standing.idx()] -= 1;
            kinds.push(Seat::Standing);
        } else {
            kinds.clear();
            break;
        }
    }
    let got_seats = !kinds.is_empty();
    if got_seats {
        *stock = trial;
    }
    let mut r = s.rng.fork("seat");
    r = crate::gen::Rng::new(r.next_u64() ^ s.rng.next_u64());
    let tickets: Vec<OrderTicket> = p
        .tickets
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let seat = kinds.get(i).copied().unwrap_or(k.seat);
            let (coach, seat_no) = seat_label(&mut r, seat);
            OrderTicket {
                name: k.name.clone(),
                id_no: k.id_no.clone(),
                seat,
                coach,
                seat_no,
                price: t.price(k.seat, p.secret.from, p.secret.to),
            }
        })
        .collect();
    let request_id = s.rng.next_u64() >> 1;
    s.orders.push(Order {
        id: None,
        request_id,
        user,
        train: p.secret.train,
        start_day: p.secret.start_day,
        travel_day: p.travel_day,
        from: p.secret.from,
        to: p.secret.to,
        tickets,
        status: OrderStatus::Queued,
        got_seats,
        polls: 0,
        created_ms: now,
        msg: String::new(),
    });
    let oi = s.orders.len() - 1;
    if let Some(pp) = req
        .cookie("JSESSIONID")
        .and_then(|id| s.otn.get_mut(&id))
        .and_then(|x| x.pending.as_mut())
    {
        pp.order = Some(oi);
        pp.stage = Stage::Queued;
    }
    otn_ok(json!({"submitStatus": true, "isAsync": "1"}))
}

fn order_id(s: &mut State) -> String {
    let letter = s.rng.string("ABCDEFGHJK", 1);
    format!("E{letter}{}", s.rng.digits(8))
}

/// Step 17: `queryOrderWaitTime` — one step of the scripted queue per poll.
pub fn wait_time(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut guard = app.state();
    let s = &mut *guard;
    let (_, sess) = match session_with_token(&w, s, req, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(oi) = sess.pending.as_ref().and_then(|p| p.order) else {
        return otn_fail(BUSY);
    };
    let Some(o) = s.orders.get(oi).cloned() else {
        return otn_fail(BUSY);
    };
    let reply = |wait: i64, count: i64, o: &Order| {
        let mut d = json!({
            "queryOrderWaitTimeStatus": true,
            "count": count,
            "waitTime": wait,
            "requestId": o.request_id,
            "waitCount": if wait >= 0 { 1 } else { 0 },
            "tourFlag": "dc",
            "orderId": o.id,
        });
        if matches!(wait, -2 | -3) {
            d["errorcode"] = json!("0");
            d["msg"] = json!(o.msg);
        }
        otn_ok(d)
    };
    match o.status {
        OrderStatus::Booked | OrderStatus::Paid => return reply(-1, 0, &o),
        OrderStatus::Failed => return reply(-2, 0, &o),
        OrderStatus::Cancelled => return reply(-3, 0, &o),
        OrderStatus::Queued => {}
    }
    if !o.got_seats {
        s.orders[oi].status = OrderStatus::Failed;
        s.orders[oi].msg = w.cfg.fail_msg.clone();
        return reply(-2, 0, &s.orders[oi].clone());
    }
    let script = &w.cfg.wait_times;
    let wait = script[o.polls.min(script.len() - 1)];
    s.orders[oi].polls += 1;
    match wait {
        -1 => {
            let id = order_id(s);
            s.orders[oi].id = Some(id);
            s.orders[oi].status = OrderStatus::Booked;
            reply(-1, 0, &s.orders[oi].clone())
        }
        -2 | -3 => {
            super::Rail12306::return_seats(&w, s, oi);
            s.orders[oi].status = if wait == -2 {
                OrderStatus::Failed
            } else {
                OrderStatus::Cancelled
            };
            s.orders[oi].msg = if wait == -2 {
                w.cfg.fail_msg.clone()
            } else {
                "订单已撤销".into()
            };
            reply(wait, 0, &s.orders[oi].clone())
        }
        n if n >= 0 => reply(n, n * 13 + 1, &o),
        n => reply(n, 0, &o),
    }
}

/// Step 18: `resultOrderForDcQueue`.
pub fn result_order(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut guard = app.state();
    let s = &mut *guard;
    let (_, sess) = match session_with_token(&w, s, req, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(oi) = sess.pending.as_ref().and_then(|p| p.order) else {
        return otn_fail(BUSY);
    };
    let seq = req.get("orderSequence_no");
    let booked = s.orders.get(oi).is_some_and(|o| {
        o.id.as_deref() == Some(seq) && matches!(o.status, OrderStatus::Booked | OrderStatus::Paid)
    });
    if !booked {
        return otn_ok(json!({"submitStatus": false, "errMsg": "订单不存在或尚未出票"}));
    }
    if let Some(pp) = req
        .cookie("JSESSIONID")
        .and_then(|id| s.otn.get_mut(&id))
        .and_then(|x| x.pending.as_mut())
    {
        pp.stage = Stage::Done;
    }
    otn_ok(json!({"submitStatus": true}))
}

/// `queryOrder/queryMyOrderNoComplete`: the unpaid order (or the one still queueing).
pub fn no_complete(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let Some((_, user)) = logged_in(&w, &mut s, req, now) else {
        return not_logged_in();
    };
    let mine: Vec<Order> = s
        .orders
        .iter()
        .filter(|o| o.user == user)
        .cloned()
        .collect();
    drop(s);
    if let Some(o) = mine.iter().find(|o| o.status == OrderStatus::Queued) {
        let t = &w.trains.list[o.train as usize];
        return otn_ok(json!({
            "orderCacheDTO": {
                "requestId": o.request_id,
                "userId": user,
                "number": o.tickets.len(),
                "tourFlag": "dc",
                "requestTime": bj_datetime(o.created_ms),
                "trainDate": format!("{} 00:00:00", Date::from_days(o.travel_day)),
                "stationTrainCode": t.code,
                "status": 1,
                "waitTime": 1,
                "waitCount": 1,
                "message": {"message": "正在排队中", "code": "0"},
            },
            "to_page": "cache",
        }));
    }
    let list: Vec<Value> = mine
        .iter()
        .filter(|o| o.status == OrderStatus::Booked)
        .map(|o| {
            let t = &w.trains.list[o.train as usize];
            let st = |i: usize| w.stations.list[t.stops[i].station as usize].name.clone();
            let total: f64 = o.tickets.iter().map(|k| k.price).sum();
            json!({
                "sequence_no": o.id,
                "order_date": bj_datetime(o.created_ms),
                "ticket_totalnum": o.tickets.len(),
                "ticket_price_all": total * 100.0,
                "tickets": o.tickets.iter().map(|k| json!({
                    "stationTrainDTO": {
                        "station_train_code": t.code,
                        "from_station_name": st(o.from),
                        "to_station_name": st(o.to),
                    },
                    "passengerDTO": {"passenger_name": k.name, "passenger_id_type_name": "二代身份证"},
                    "coach_no": format!("{:02}", k.coach),
                    "seat_no": k.seat_no,
                    "seat_type_name": k.seat.name(),
                    "ticket_price": k.price * 100.0,
                    "start_train_date_page": format!("{} {}", Date::from_days(o.travel_day), trains::hhmm(t.stops[o.from].depart, false)),
                    "ticket_status_name": "待支付",
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    if list.is_empty() {
        return otn_ok(json!({"to_page": "db"}));
    }
    otn_ok(json!({"orderDBList": list, "to_page": "db"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passenger_ticket_strings_and_js_dates() {
        let t =
            parse_tickets("O,0,1,张三,1,110101199001011234,13800138000,N_M,0,1,李四,1,1101,138,N")
                .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].seat, Seat::Second);
        assert_eq!(t[1].name, "李四");
        assert!(parse_tickets("").is_none());
        assert!(parse_tickets("X,0,1,a,1,b,c,N").is_none());
        assert_eq!(
            js_date("Tue Jan 16 2018 00:00:00 GMT+0800 (中国标准时间)"),
            super::super::parse_day("2018-01-16")
        );
        assert_eq!(first_letter("张三"), "ZS");
    }
}
