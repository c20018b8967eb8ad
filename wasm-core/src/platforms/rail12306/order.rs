//! Ordering one train (steps 10–18 of seed 003) as a sans-IO machine: `checkUser` →
//! `submitOrderRequest` → `initDc` → `getPassengerDTOs` → `checkOrderInfo` (a captcha
//! for the person when `ifShowPassCode` is `Y`) → `getQueueCount` → *the intent is
//! recorded* → `confirmSingleForQueue` → `queryOrderWaitTime` (bounded) →
//! `resultOrderForDcQueue` → `queryMyOrderNoComplete` (the payment deadline).
//!
//! Until `confirmSingleForQueue` is sent no order can exist: a refusal before it ends in
//! [`OrderEnd::NotMade`] and the watch may try again. After it, the end is `Booked`,
//! `NotMade` only when the queue itself says the order failed, or `Unknown` ("check
//! your unpaid orders") — never a second submission.
//!
//! [`Reconcile`] is the other way in: a host that died with an intent recorded and no
//! end looks at the account's unfinished orders instead of ordering again.

use super::query::TrainRow;
use super::site::{read_otn, Otn, Site};
use crate::date::Date;
use crate::http::{HttpRequest, HttpResponse};
use crate::protocol::CaptchaAnswer;
use serde_json::{json, Value};

/// 12306 holds a booked ticket this long for payment.
pub const PAY_WITHIN_MS: i64 = 30 * 60_000;
/// Default pause between two queue polls.
pub const QUEUE_POLL_MS: u64 = 3_000;
/// Default most queue polls before the outcome is called unknown.
pub const QUEUE_MAX_POLLS: u32 = 20;

/// What to order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderPlan {
    /// The travel date queried.
    pub date: Date,
    /// Today in Beijing (the `back_train_date` the page sends).
    pub today: Date,
    pub row: TrainRow,
    /// Order seat code (`O`, `M`, …).
    pub seat: String,
    pub from_name: String,
    pub to_name: String,
    /// Passengers by name (empty: the account holder).
    pub passengers: Vec<String>,
    /// Book this many of them (the first ones), ≤ their number.
    pub count: usize,
    pub queue_poll_ms: u64,
    pub queue_max_polls: u32,
}

/// What the order needs next.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderStep {
    /// Send this with the account's cookies; then [`Order::feed`] (or
    /// [`Order::no_response`]).
    Send {
        request: HttpRequest,
        purpose: &'static str,
    },
    /// Wait this long, then [`Order::tick`] (between queue polls).
    Wait { ms: u64 },
    /// Show the person this picture and give [`Order::answer`] the clicks.
    Captcha { png: Vec<u8>, message: String },
    /// Record that an order may exist from now on (`booking_begin` with `data`); then
    /// [`Order::intent_recorded`] or [`Order::intent_refused`].
    RecordIntent { data: Value },
    /// Finished.
    Done(OrderEnd),
}

/// How an order ended.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderEnd {
    /// 12306 made no order. `retry`: worth trying again at a later poll (sold out in
    /// between, busy); not when the watch itself is wrong (a passenger not on the
    /// account). `intent`: an intent was recorded and must be ended as `failed`.
    NotMade {
        message: String,
        retry: bool,
        intent: bool,
    },
    /// Booked: pay on 12306 before `pay_by_ms` (server time).
    Booked {
        order_id: String,
        message: String,
        pay_by_ms: i64,
    },
    /// An order may exist; nobody knows. Never resubmitted.
    Unknown { message: String },
    /// The session is not logged in any more. `intent`: an intent was recorded (the
    /// order request was not accepted, so the site made none: end it as `failed`).
    SessionExpired { intent: bool },
    /// The host refused the intent: this watch already has an order.
    Blocked { message: String },
}

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    CheckUser,
    Submit,
    InitDc,
    Passengers,
    CheckOrder,
    PassCodeImage,
    PassCodeAnswer,
    PassCodeCheck,
    QueueCount,
    Intent,
    Confirm,
    Waiting,
    WaitTime,
    Result,
    Deadline,
    Done,
}

/// One order under way.
pub struct Order {
    site: Site,
    plan: OrderPlan,
    stage: Stage,
    token: String,
    key_check: String,
    left_ticket: String,
    train_location: String,
    ticket_str: String,
    old_str: String,
    rand_code: String,
    polls: u32,
    order_id: String,
    pictures: u32,
    intent: bool,
    rand: u64,
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)? + i;
    Some(&text[i..j])
}

/// A passenger of `getPassengerDTOs`.
#[derive(Clone, Debug, PartialEq)]
struct Passenger {
    name: String,
    id_type: String,
    id_no: String,
    mobile: String,
    kind: String,
    is_self: bool,
}

fn passengers_of(data: &Value) -> Option<Vec<Passenger>> {
    let list = data.get("normal_passengers")?.as_array()?;
    let s = |p: &Value, k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some(
        list.iter()
            .map(|p| Passenger {
                name: s(p, "passenger_name"),
                id_type: s(p, "passenger_id_type_code"),
                id_no: s(p, "passenger_id_no"),
                mobile: s(p, "mobile_no"),
                kind: {
                    let k = s(p, "passenger_type");
                    if k.is_empty() {
                        "1".into()
                    } else {
                        k
                    }
                },
                is_self: s(p, "is_user_self") == "Y",
            })
            .collect(),
    )
}

impl Order {
    /// Starts ordering `plan`; returns the first request.
    pub fn start(site: Site, plan: OrderPlan, seed: u64) -> (Order, OrderStep) {
        let order = Order {
            site,
            plan,
            stage: Stage::CheckUser,
            token: String::new(),
            key_check: String::new(),
            left_ticket: String::new(),
            train_location: String::new(),
            ticket_str: String::new(),
            old_str: String::new(),
            rand_code: String::new(),
            polls: 0,
            order_id: String::new(),
            pictures: 0,
            intent: false,
            rand: seed | 1,
        };
        let step = OrderStep::Send {
            request: order.site.check_user(),
            purpose: "check_user",
        };
        (order, step)
    }

    /// The plan being ordered.
    pub fn plan(&self) -> &OrderPlan {
        &self.plan
    }

    /// Whether an intent has been recorded (an order may exist).
    pub fn intent_open(&self) -> bool {
        self.intent
    }

    fn random(&mut self) -> f64 {
        (super::xorshift(&mut self.rand) % 1_000_000_000) as f64 / 1e9
    }

    fn send(&mut self, stage: Stage, request: HttpRequest, purpose: &'static str) -> OrderStep {
        self.stage = stage;
        OrderStep::Send { request, purpose }
    }

    fn end(&mut self, end: OrderEnd) -> OrderStep {
        self.stage = Stage::Done;
        OrderStep::Done(end)
    }

    fn not_made(&mut self, message: String, retry: bool) -> OrderStep {
        let intent = self.intent;
        self.end(OrderEnd::NotMade {
            message,
            retry,
            intent,
        })
    }

    fn after_order(&self) -> bool {
        matches!(
            self.stage,
            Stage::Waiting | Stage::WaitTime | Stage::Result | Stage::Deadline
        )
    }

    /// Handles a reply that is not the step's success: `None` when `otn` is `Ok`.
    fn trouble(&mut self, what: &str, otn: &Otn) -> Option<OrderStep> {
        let sent_order = self.stage == Stage::Confirm || self.after_order();
        let step = match otn {
            Otn::Ok(_) => return None,
            Otn::NotLoggedIn if sent_order && self.stage != Stage::Confirm => {
                self.end(OrderEnd::Unknown {
                    message: format!(
                        "the 12306 session ended while the order was in the queue ({what}): outcome unknown — check your unpaid orders on 12306"
                    ),
                })
            }
            Otn::NotLoggedIn => {
                let intent = self.intent;
                self.end(OrderEnd::SessionExpired { intent })
            }
            Otn::Refused(m) if self.stage == Stage::Confirm => {
                self.not_made(format!("12306 did not take the order: {m}"), true)
            }
            Otn::Refused(m) if sent_order => self.end(OrderEnd::Unknown {
                message: format!(
                    "12306 said “{m}” while the order was in the queue: outcome unknown — check your unpaid orders on 12306"
                ),
            }),
            Otn::Refused(m) => self.not_made(format!("12306 refused at {what}: {m}"), true),
            Otn::Throttled(m) | Otn::Unreadable(m) if sent_order => self.end(OrderEnd::Unknown {
                message: format!(
                    "{m} at {what} after the order was sent: outcome unknown — check your unpaid orders on 12306"
                ),
            }),
            Otn::Throttled(m) | Otn::Unreadable(m) => {
                self.not_made(format!("{m} at {what}; no order was made"), true)
            }
        };
        Some(step)
    }

    /// The `data` of an `otn` reply of step `what`, or the step its trouble leads to.
    fn data(&mut self, what: &str, resp: &HttpResponse) -> Result<Value, OrderStep> {
        match read_otn(resp) {
            Otn::Ok(d) => Ok(d),
            other => Err(self.trouble(what, &other).unwrap_or_else(|| {
                OrderStep::Done(OrderEnd::Unknown {
                    message: format!("12306's reply to {what} could not be understood"),
                })
            })),
        }
    }

    /// No response came (network error, timeout).
    pub fn no_response(&mut self, error: &str) -> OrderStep {
        match self.stage {
            Stage::Confirm | Stage::Waiting | Stage::WaitTime | Stage::Result => {
                self.end(OrderEnd::Unknown {
                    message: format!(
                        "12306 did not answer after the order was sent ({error}): outcome unknown — check your unpaid orders on 12306"
                    ),
                })
            }
            Stage::Deadline => self.booked(None),
            _ => self.not_made(format!("12306 did not answer ({error}); no order was made"), true),
        }
    }

    fn ticket_strings(&mut self, all: &[Passenger]) -> Result<(), String> {
        let chosen: Vec<&Passenger> = if self.plan.passengers.is_empty() {
            let me = all.iter().find(|p| p.is_self).or_else(|| all.first());
            match me {
                Some(p) => vec![p],
                None => return Err("the 12306 account lists no passengers".into()),
            }
        } else {
            let mut v = Vec::new();
            for name in &self.plan.passengers {
                match all.iter().find(|p| p.name == name.trim()) {
                    Some(p) => v.push(p),
                    None => {
                        return Err(format!(
                            "the passenger “{name}” is not on the 12306 account (add them on 12306 or change the watch)"
                        ))
                    }
                }
            }
            v
        };
        let n = self.plan.count.clamp(1, chosen.len());
        let seat = &self.plan.seat;
        self.ticket_str = chosen[..n]
            .iter()
            .map(|p| {
                format!(
                    "{seat},0,{},{},{},{},{},N",
                    p.kind, p.name, p.id_type, p.id_no, p.mobile
                )
            })
            .collect::<Vec<_>>()
            .join("_");
        self.old_str = chosen[..n]
            .iter()
            .map(|p| format!("{},{},{},{}_", p.name, p.id_type, p.id_no, p.kind))
            .collect();
        Ok(())
    }

    fn queue_count(&mut self) -> OrderStep {
        let p = &self.plan;
        let req = self.site.queue_count(
            p.date,
            &p.row.train_no,
            &p.row.train_code,
            &p.seat,
            &p.row.from,
            &p.row.to,
            &self.left_ticket,
            &self.train_location,
            &self.token,
        );
        self.send(Stage::QueueCount, req, "get_queue_count")
    }

    /// What to record with the intent (no secrets: names, train, seat).
    fn intent_data(&self) -> Value {
        let p = &self.plan;
        json!({
            "message": format!(
                "order sent to 12306: {} {} {}→{}, seat {}, {} passenger(s)",
                p.date, p.row.train_code, p.from_name, p.to_name, p.seat,
                self.ticket_str.split('_').count()
            ),
            "train": p.row.train_code,
            "date": p.date.to_string(),
            "seat": p.seat,
            "from": p.row.from,
            "to": p.row.to,
        })
    }

    /// The host recorded the intent: send the order.
    pub fn intent_recorded(&mut self) -> OrderStep {
        if self.stage != Stage::Intent {
            return self.not_made("the order was not ready to be sent".into(), true);
        }
        self.intent = true;
        let req = self.site.confirm(
            &self.ticket_str,
            &self.old_str,
            &self.rand_code,
            &self.key_check,
            &self.left_ticket,
            &self.train_location,
            &self.token,
        );
        self.send(Stage::Confirm, req, "confirm_single_for_queue")
    }

    /// The host refused the intent (`booking_exists`): stop.
    pub fn intent_refused(&mut self, message: &str) -> OrderStep {
        self.end(OrderEnd::Blocked {
            message: message.to_string(),
        })
    }

    /// The person's clicks on the passenger captcha.
    pub fn answer(&mut self, answer: &CaptchaAnswer) -> OrderStep {
        if self.stage != Stage::PassCodeAnswer {
            return self.not_made("no captcha was waiting for an answer".into(), true);
        }
        match super::captcha::answer_string(answer) {
            Ok(a) => {
                self.rand_code = a.clone();
                let req = self.site.check_rand_code(&a, &self.token);
                self.send(Stage::PassCodeCheck, req, "check_rand_code")
            }
            Err(_) => self.pass_code_image(),
        }
    }

    /// Nobody answered the captcha in time.
    pub fn no_answer(&mut self) -> OrderStep {
        self.not_made(
            "nobody answered 12306's captcha in time; no order was made".into(),
            true,
        )
    }

    fn pass_code_image(&mut self) -> OrderStep {
        self.pictures += 1;
        if self.pictures > 5 {
            return self.not_made(
                "12306 refused five captcha answers; no order was made".into(),
                true,
            );
        }
        let r = self.random();
        let req = self.site.pass_code(r);
        self.send(Stage::PassCodeImage, req, "pass_code_image")
    }

    /// After a [`OrderStep::Wait`].
    pub fn tick(&mut self, now_ms: i64) -> OrderStep {
        if self.stage != Stage::Waiting {
            return self.not_made("the order was not waiting".into(), true);
        }
        let req = self.site.wait_time(now_ms, &self.token);
        self.send(Stage::WaitTime, req, "query_order_wait_time")
    }

    fn booked(&mut self, order_date_ms: Option<i64>) -> OrderStep {
        let p = &self.plan;
        let pay_by = order_date_ms.map(|t| t + PAY_WITHIN_MS);
        let order_id = self.order_id.clone();
        let message = format!(
            "booked {} {} {}→{} (seat {}), order {order_id}: pay on 12306 within 30 minutes{}, or 12306 cancels it",
            p.date,
            p.row.train_code,
            p.from_name,
            p.to_name,
            p.seat,
            pay_by.map_or_else(String::new, |t| format!(" (by {} Beijing time)", beijing_hhmm(t)))
        );
        self.end(OrderEnd::Booked {
            order_id,
            message,
            pay_by_ms: pay_by.unwrap_or(0),
        })
    }

    /// The response to the last request; `server_now_ms` is the site's time now.
    pub fn feed(&mut self, resp: &HttpResponse, server_now_ms: i64) -> OrderStep {
        match self.stage {
            Stage::CheckUser => {
                let otn = read_otn(resp);
                if let Some(s) = self.trouble("checkUser", &otn) {
                    return s;
                }
                let flag = matches!(&otn, Otn::Ok(d) if d.get("flag").and_then(Value::as_bool) == Some(true));
                if !flag {
                    return self.end(OrderEnd::SessionExpired { intent: false });
                }
                let p = &self.plan;
                let req = self.site.submit_order_request(
                    &p.row.secret_str,
                    p.date,
                    p.today,
                    &p.from_name,
                    &p.to_name,
                );
                self.send(Stage::Submit, req, "submit_order_request")
            }
            Stage::Submit => {
                let otn = read_otn(resp);
                if let Some(s) = self.trouble("submitOrderRequest", &otn) {
                    return s;
                }
                // Success data is "N" in old captures, "0" in newer ones.
                let req = self.site.init_dc();
                self.send(Stage::InitDc, req, "init_dc")
            }
            Stage::InitDc => {
                if super::site::is_login_redirect(resp) {
                    return self.end(OrderEnd::SessionExpired { intent: false });
                }
                let html = String::from_utf8_lossy(&resp.body);
                let token = between(&html, "globalRepeatSubmitToken = '", "'")
                    .or_else(|| between(&html, "globalRepeatSubmitToken='", "'"));
                let key = between(&html, "'key_check_isChange':'", "'");
                let left = between(&html, "'leftTicketStr':'", "'");
                let loc = between(&html, "'train_location':'", "'");
                match (token, key, left) {
                    (Some(t), Some(k), Some(l)) if !t.is_empty() && !k.is_empty() => {
                        self.token = t.to_string();
                        self.key_check = k.to_string();
                        self.left_ticket = l.to_string();
                        self.train_location = loc
                            .map(str::to_string)
                            .unwrap_or_else(|| self.plan.row.train_location.clone());
                        let req = self.site.passengers(&self.token);
                        self.send(Stage::Passengers, req, "get_passenger_dtos")
                    }
                    _ => self.not_made(
                        format!(
                            "12306's passenger page (initDc) has no order tokens (HTTP {}; its layout changed?); no order was made",
                            resp.status
                        ),
                        true,
                    ),
                }
            }
            Stage::Passengers => {
                let data = match self.data("getPassengerDTOs", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                let Some(list) = passengers_of(&data) else {
                    return self.not_made(
                        "12306's passenger list is unreadable (its layout changed?); no order was made".into(),
                        true,
                    );
                };
                if let Err(m) = self.ticket_strings(&list) {
                    return self.not_made(m, false);
                }
                let req =
                    self.site
                        .check_order_info(&self.ticket_str, &self.old_str, "", &self.token);
                self.send(Stage::CheckOrder, req, "check_order_info")
            }
            Stage::CheckOrder => {
                let data = match self.data("checkOrderInfo", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                if let Some(m) = refusal(&data) {
                    return self.not_made(format!("12306 refused the order details: {m}"), true);
                }
                if data.get("ifShowPassCode").and_then(Value::as_str) == Some("Y") {
                    return self.pass_code_image();
                }
                self.queue_count()
            }
            Stage::PassCodeImage => {
                if !resp.body.starts_with(b"\x89PNG") {
                    let otn = read_otn(resp);
                    if let Some(s) = self.trouble("getPassCodeNew", &otn) {
                        return s;
                    }
                    return self.not_made(
                        "12306's order captcha is not a picture; no order was made".into(),
                        true,
                    );
                }
                self.stage = Stage::PassCodeAnswer;
                OrderStep::Captcha {
                    png: resp.body.clone(),
                    message: format!(
                        "12306 asks for a captcha before ordering {} {}: click every picture of the kind the strip names",
                        self.plan.date, self.plan.row.train_code
                    ),
                }
            }
            Stage::PassCodeCheck => {
                let data = match self.data("checkRandCodeAnsyn", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                if data.get("result").and_then(Value::as_str) == Some("1") {
                    self.queue_count()
                } else {
                    self.pass_code_image()
                }
            }
            Stage::QueueCount => {
                let data = match self.data("getQueueCount", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                if data.get("op_2").and_then(Value::as_str) == Some("true") {
                    return self.not_made(
                        "12306 says more people queue for this seat than there are tickets; no order was made".into(),
                        true,
                    );
                }
                self.stage = Stage::Intent;
                OrderStep::RecordIntent {
                    data: self.intent_data(),
                }
            }
            Stage::Confirm => {
                let data = match self.data("confirmSingleForQueue", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                if let Some(m) = refusal(&data) {
                    return self.not_made(format!("12306 did not take the order: {m}"), true);
                }
                self.polls = 0;
                self.stage = Stage::Waiting;
                OrderStep::Wait { ms: 0 }
            }
            Stage::WaitTime => {
                let data = match self.data("queryOrderWaitTime", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                self.polls += 1;
                let wait = data.get("waitTime").and_then(Value::as_i64);
                let id = data
                    .get("orderId")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                match wait {
                    Some(-1) if !id.is_empty() => {
                        self.order_id = id;
                        let req = self.site.result_order(&self.order_id, &self.token);
                        self.send(Stage::Result, req, "result_order_for_dc_queue")
                    }
                    Some(-2 | -3) => {
                        let m = data
                            .get("msg")
                            .and_then(Value::as_str)
                            .unwrap_or("the order failed in the queue");
                        self.not_made(format!("12306's queue turned the order down: {m}"), true)
                    }
                    _ if self.polls >= self.plan.queue_max_polls => self.end(OrderEnd::Unknown {
                        message: format!(
                            "the order is still in 12306's queue after {} checks: outcome unknown — check your unpaid orders on 12306",
                            self.polls
                        ),
                    }),
                    _ => {
                        self.stage = Stage::Waiting;
                        OrderStep::Wait {
                            ms: self.plan.queue_poll_ms,
                        }
                    }
                }
            }
            Stage::Result => {
                let data = match self.data("resultOrderForDcQueue", resp) {
                    Ok(d) => d,
                    Err(step) => return step,
                };
                if data.get("submitStatus").and_then(Value::as_bool) != Some(true) {
                    return self.end(OrderEnd::Unknown {
                        message: format!(
                            "12306 gave order {} but did not confirm it: outcome unknown — check your unpaid orders on 12306",
                            self.order_id
                        ),
                    });
                }
                let req = self.site.no_complete();
                self.send(Stage::Deadline, req, "query_my_order_no_complete")
            }
            Stage::Deadline => {
                let when = match read_otn(resp) {
                    Otn::Ok(data) => order_date_of(&data, &self.order_id),
                    _ => None,
                };
                self.booked(when.or(Some(server_now_ms)))
            }
            Stage::PassCodeAnswer | Stage::Intent | Stage::Waiting | Stage::Done => {
                self.not_made("the order got a response it did not ask for".into(), true)
            }
        }
    }
}

/// The site's words when `data.submitStatus` is not true (checkOrderInfo, confirm).
fn refusal(data: &Value) -> Option<String> {
    if data.get("submitStatus").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let m = data
        .get("errMsg")
        .and_then(Value::as_str)
        .unwrap_or("no reason given");
    Some(super::site::strip_tags(m))
}

/// `HH:MM` Beijing of Unix ms.
pub fn beijing_hhmm(ms: i64) -> String {
    let m = (ms + 8 * 3_600_000).rem_euclid(86_400_000) / 60_000;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Unix ms of `YYYY-MM-DD HH:MM:SS` Beijing time.
fn beijing_ms(s: &str) -> Option<i64> {
    let (d, t) = s.trim().split_once(' ')?;
    let d = Date::parse(d).ok()?;
    let mut it = t.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, sec) = (it.next()??, it.next()??, it.next().flatten().unwrap_or(0));
    Some(d.to_days() * 86_400_000 + ((h * 60 + m) * 60 + sec) * 1000 - 8 * 3_600_000)
}

/// When order `id` was made, from `queryMyOrderNoComplete`'s `orderDBList`.
fn order_date_of(data: &Value, id: &str) -> Option<i64> {
    data.get("orderDBList")?
        .as_array()?
        .iter()
        .find(|o| id.is_empty() || o.get("sequence_no").and_then(Value::as_str) == Some(id))
        .and_then(|o| o.get("order_date").and_then(Value::as_str))
        .and_then(beijing_ms)
}

/// What the account's unfinished orders say about a booking whose end was lost.
#[derive(Clone, Debug, PartialEq)]
pub enum Reconciled {
    /// An unpaid order of this train and date: booked.
    Booked {
        order_id: String,
        message: String,
        pay_by_ms: i64,
    },
    /// Still in the queue, or nothing found: it cannot be known from here.
    Unknown { message: String },
    /// Not logged in: ask again after a login.
    NotLoggedIn,
}

/// Reads `queryMyOrderNoComplete` for the order of `train` on `date` (`YYYY-MM-DD`).
pub fn reconcile(resp: &HttpResponse, train: &str, date: &str) -> Reconciled {
    let data = match read_otn(resp) {
        Otn::Ok(d) => d,
        Otn::NotLoggedIn => return Reconciled::NotLoggedIn,
        Otn::Refused(m) | Otn::Throttled(m) | Otn::Unreadable(m) => {
            return Reconciled::Unknown {
                message: format!(
                    "the host stopped while ordering and 12306's order list could not be read ({m}): outcome unknown — check your unpaid orders on 12306"
                ),
            }
        }
    };
    if data.get("orderCacheDTO").is_some() {
        return Reconciled::Unknown {
            message: "the host stopped while ordering; 12306 still has an order of this account in its queue: outcome unknown — check your unpaid orders on 12306".into(),
        };
    }
    let found = data
        .get("orderDBList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|o| {
            o.get("tickets")
                .and_then(Value::as_array)
                .is_some_and(|ts| {
                    ts.iter().any(|t| {
                        let dto = t.get("stationTrainDTO");
                        dto.and_then(|d| d.get("station_train_code"))
                            .and_then(Value::as_str)
                            == Some(train)
                            && t.get("start_train_date_page")
                                .and_then(Value::as_str)
                                .is_some_and(|s| s.starts_with(date))
                    })
                })
        });
    match found {
        Some(o) => {
            let order_id = o
                .get("sequence_no")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let pay_by = o
                .get("order_date")
                .and_then(Value::as_str)
                .and_then(beijing_ms)
                .map(|t| t + PAY_WITHIN_MS);
            Reconciled::Booked {
                message: format!(
                    "booked {date} {train}, order {order_id} (found after the host restarted): pay on 12306 within 30 minutes of the order{}, or 12306 cancels it",
                    pay_by.map_or_else(String::new, |t| format!(" (by {} Beijing time)", beijing_hhmm(t)))
                ),
                order_id,
                pay_by_ms: pay_by.unwrap_or(0),
            }
        }
        None => Reconciled::Unknown {
            message: "the host stopped while ordering and 12306 lists no unpaid order of this train: outcome unknown — check your orders on 12306".into(),
        },
    }
}
