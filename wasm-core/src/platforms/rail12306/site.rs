//! The requests of seed 003, built against a base URL (`https://kyfw.12306.cn`, or the
//! sandbox in tests), and the common reading of `otn` JSON replies.

use crate::date::Date;
use crate::http::{form_encode_component, form_urlencode, HttpRequest, HttpResponse, Method};
use serde_json::Value;

/// The real site.
pub const DEFAULT_BASE: &str = "https://kyfw.12306.cn";

/// A base URL: every request is made against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    base: String,
}

impl Site {
    /// The site at `base` (scheme and host, no trailing slash needed).
    pub fn new(base: &str) -> Site {
        Site {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> HttpRequest {
        HttpRequest::get(self.url(path)).header("Referer", self.url("/otn/leftTicket/init"))
    }

    /// A form POST of the ajax kind the pages make.
    pub fn post(&self, path: &str, body: String) -> HttpRequest {
        HttpRequest::new(Method::Post, self.url(path))
            .header(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            )
            .header("X-Requested-With", "XMLHttpRequest")
            .header("Referer", self.url("/otn/leftTicket/init"))
            .body(crate::http::Body::Text(body))
    }

    /// Step 1: the login page (sets the `otn` session cookies).
    pub fn login_init(&self) -> HttpRequest {
        self.get("/otn/login/init")
    }

    /// Step 2: a login captcha picture; `rand` is the random number the page appends.
    pub fn captcha_image(&self, rand: f64) -> HttpRequest {
        self.get(&format!(
            "/passport/captcha/captcha-image?login_site=E&module=login&rand=sjrand&{rand}"
        ))
    }

    /// Step 3: the clicks.
    pub fn captcha_check(&self, answer: &str) -> HttpRequest {
        self.post(
            "/passport/captcha/captcha-check",
            form_urlencode(&[("answer", answer), ("login_site", "E"), ("rand", "sjrand")]),
        )
    }

    /// Step 4: name and password.
    pub fn web_login(&self, username: &str, password: &str) -> HttpRequest {
        self.post(
            "/passport/web/login",
            form_urlencode(&[
                ("username", username),
                ("password", password),
                ("appid", "otn"),
            ]),
        )
    }

    /// Step 5.
    pub fn user_login(&self) -> HttpRequest {
        self.post("/otn/login/userLogin", "_json_att=".into())
    }

    /// Step 6.
    pub fn uamtk(&self) -> HttpRequest {
        self.post("/passport/web/auth/uamtk", "appid=otn".into())
    }

    /// Step 7.
    pub fn uamauthclient(&self, tk: &str) -> HttpRequest {
        self.post("/otn/uamauthclient", form_urlencode(&[("tk", tk)]))
    }

    /// `login/conf`: whether the session is logged in, and the current `queryUrl`.
    pub fn login_conf(&self) -> HttpRequest {
        self.post("/otn/login/conf", String::new())
    }

    /// Step 8: the station list.
    pub fn station_names(&self) -> HttpRequest {
        self.get("/otn/resources/js/framework/station_name.js")
    }

    /// The query page, whose script names the query endpoint (`CLeftTicketUrl`).
    pub fn left_ticket_init(&self) -> HttpRequest {
        self.get("/otn/leftTicket/init")
    }

    /// Step 9: one query at `endpoint` (`leftTicket/queryZ` and the like).
    pub fn query(&self, endpoint: &str, date: Date, from: &str, to: &str) -> HttpRequest {
        let q = form_urlencode(&[
            ("leftTicketDTO.train_date", date.to_string().as_str()),
            ("leftTicketDTO.from_station", from),
            ("leftTicketDTO.to_station", to),
            ("purpose_codes", "ADULT"),
        ]);
        self.get(&format!("/otn/{endpoint}?{q}"))
            .header("X-Requested-With", "XMLHttpRequest")
    }

    /// Step 10a.
    pub fn check_user(&self) -> HttpRequest {
        self.post("/otn/login/checkUser", "_json_att=".into())
    }

    /// Step 10b: `secret_str` goes as the row had it (already percent-encoded), the
    /// station names after the rest, as the seed says.
    pub fn submit_order_request(
        &self,
        secret_str: &str,
        date: Date,
        today: Date,
        from_name: &str,
        to_name: &str,
    ) -> HttpRequest {
        let head = form_urlencode(&[
            ("train_date", date.to_string().as_str()),
            ("back_train_date", today.to_string().as_str()),
            ("tour_flag", "dc"),
            ("purpose_codes", "ADULT"),
            ("undefined", ""),
        ]);
        let body = format!(
            "{head}&secretStr={secret_str}&query_from_station_name={}&query_to_station_name={}",
            form_encode_component(from_name),
            form_encode_component(to_name)
        );
        self.post("/otn/leftTicket/submitOrderRequest", body)
    }

    /// Step 11: the passenger page with the tokens.
    pub fn init_dc(&self) -> HttpRequest {
        self.post("/otn/confirmPassenger/initDc", "_json_att=".into())
    }

    /// Step 12.
    pub fn passengers(&self, token: &str) -> HttpRequest {
        self.post(
            "/otn/confirmPassenger/getPassengerDTOs",
            form_urlencode(&[("_json_att", ""), ("REPEAT_SUBMIT_TOKEN", token)]),
        )
    }

    /// Step 13: the passenger captcha picture.
    pub fn pass_code(&self, rand: f64) -> HttpRequest {
        self.get(&format!(
            "/otn/passcodeNew/getPassCodeNew?module=passenger&rand=randp&{rand}"
        ))
    }

    /// The passenger captcha's clicks.
    pub fn check_rand_code(&self, answer: &str, token: &str) -> HttpRequest {
        self.post(
            "/otn/passcodeNew/checkRandCodeAnsyn",
            form_urlencode(&[
                ("randCode", answer),
                ("rand", "randp"),
                ("_json_att", ""),
                ("REPEAT_SUBMIT_TOKEN", token),
            ]),
        )
    }

    /// Step 14.
    pub fn check_order_info(
        &self,
        ticket_str: &str,
        old_str: &str,
        rand_code: &str,
        token: &str,
    ) -> HttpRequest {
        self.post(
            "/otn/confirmPassenger/checkOrderInfo",
            form_urlencode(&[
                ("cancel_flag", "2"),
                ("bed_level_order_num", "000000000000000000000000000000"),
                ("passengerTicketStr", ticket_str),
                ("oldPassengerStr", old_str),
                ("tour_flag", "dc"),
                ("randCode", rand_code),
                ("whatsSelect", "1"),
                ("_json_att", ""),
                ("REPEAT_SUBMIT_TOKEN", token),
            ]),
        )
    }

    /// Step 15. `left_ticket` goes as initDc gave it (already encoded), `train_date`
    /// as the page's JavaScript `Date` prints it.
    #[allow(clippy::too_many_arguments)]
    pub fn queue_count(
        &self,
        date: Date,
        train_no: &str,
        train_code: &str,
        seat: &str,
        from: &str,
        to: &str,
        left_ticket: &str,
        train_location: &str,
        token: &str,
    ) -> HttpRequest {
        let head = form_urlencode(&[
            ("train_no", train_no),
            ("stationTrainCode", train_code),
            ("seatType", seat),
            ("fromStationTelecode", from),
            ("toStationTelecode", to),
            ("purpose_codes", "00"),
            ("train_location", train_location),
            ("_json_att", ""),
            ("REPEAT_SUBMIT_TOKEN", token),
        ]);
        let body = format!(
            "{head}&train_date={}&leftTicket={left_ticket}",
            js_date_form(date)
        );
        self.post("/otn/confirmPassenger/getQueueCount", body)
    }

    /// Step 16: the order. From here an order may exist.
    #[allow(clippy::too_many_arguments)]
    pub fn confirm(
        &self,
        ticket_str: &str,
        old_str: &str,
        rand_code: &str,
        key_check: &str,
        left_ticket: &str,
        train_location: &str,
        token: &str,
    ) -> HttpRequest {
        let head = form_urlencode(&[
            ("passengerTicketStr", ticket_str),
            ("oldPassengerStr", old_str),
            ("randCode", rand_code),
            ("purpose_codes", "00"),
            ("key_check_isChange", key_check),
            ("train_location", train_location),
            ("choose_seats", ""),
            ("seatDetailType", "000"),
            ("whatsSelect", "1"),
            ("roomType", "00"),
            ("dwAll", "N"),
            ("_json_att", ""),
            ("REPEAT_SUBMIT_TOKEN", token),
        ]);
        self.post(
            "/otn/confirmPassenger/confirmSingleForQueue",
            format!("{head}&leftTicketStr={left_ticket}"),
        )
    }

    /// Step 17: the queue.
    pub fn wait_time(&self, now_ms: i64, token: &str) -> HttpRequest {
        let q = form_urlencode(&[
            ("random", now_ms.to_string().as_str()),
            ("tourFlag", "dc"),
            ("_json_att", ""),
            ("REPEAT_SUBMIT_TOKEN", token),
        ]);
        self.get(&format!("/otn/confirmPassenger/queryOrderWaitTime?{q}"))
            .header("X-Requested-With", "XMLHttpRequest")
    }

    /// Step 18.
    pub fn result_order(&self, order_id: &str, token: &str) -> HttpRequest {
        self.post(
            "/otn/confirmPassenger/resultOrderForDcQueue",
            form_urlencode(&[
                ("orderSequence_no", order_id),
                ("_json_att", ""),
                ("REPEAT_SUBMIT_TOKEN", token),
            ]),
        )
    }

    /// The account's unfinished orders (queued or waiting for payment).
    pub fn no_complete(&self) -> HttpRequest {
        self.post(
            "/otn/queryOrder/queryMyOrderNoComplete",
            "_json_att=".into(),
        )
    }
}

/// `Tue Jan 16 2018 00:00:00 GMT+0800 (中国标准时间)`, form-encoded as the seed builds it
/// (its parentheses left as they are).
pub fn js_date_form(d: Date) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wd = DAYS[d.to_days().rem_euclid(7) as usize];
    // Built as the seed does: the parentheses stay as they are.
    format!(
        "{wd}+{}+{:02}+{}+{}+{}+({})",
        MONTHS[(d.month - 1) as usize],
        d.day,
        d.year,
        form_encode_component("00:00:00"),
        form_encode_component("GMT+0800"),
        form_encode_component("中国标准时间")
    )
}

/// What an `otn` JSON reply (`{"status", "data", "messages"}`) says.
#[derive(Clone, Debug, PartialEq)]
pub enum Otn {
    /// `status: true`; its `data`.
    Ok(Value),
    /// `status: false` with the site's words.
    Refused(String),
    /// The session is not logged in (the reply says so, or a redirect to the login or
    /// error page).
    NotLoggedIn,
    /// 403/429/5xx or a "too frequent" page: back off.
    Throttled(String),
    /// Not what a reply of this step looks like.
    Unreadable(String),
}

/// The site's messages joined, or empty.
pub fn messages(v: &Value) -> String {
    match v.get("messages") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Whether a response sends the client to the login or error page.
pub fn is_login_redirect(resp: &HttpResponse) -> bool {
    (300..400).contains(&resp.status)
        && resp
            .header("location")
            .is_some_and(|l| l.contains("login") || l.contains("error.html"))
}

/// Reads an `otn` JSON reply.
pub fn read_otn(resp: &HttpResponse) -> Otn {
    if resp.status == 403 || resp.status == 429 || resp.status >= 500 {
        return Otn::Throttled(format!("12306 answered HTTP {}", resp.status));
    }
    if is_login_redirect(resp) {
        return Otn::NotLoggedIn;
    }
    let text = String::from_utf8_lossy(&resp.body);
    if text.contains("过于频繁") {
        return Otn::Throttled("12306 says the requests come too often".into());
    }
    let v: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(_) => {
            return Otn::Unreadable(format!(
                "12306 answered with something that is not its JSON (HTTP {}: {})",
                resp.status,
                resp.excerpt()
            ))
        }
    };
    let msg = messages(&v);
    if msg.contains("用户未登录") || msg.contains("登录") && msg.contains("未") {
        return Otn::NotLoggedIn;
    }
    match v.get("status").and_then(Value::as_bool) {
        Some(true) => Otn::Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        Some(false) => Otn::Refused(if msg.is_empty() {
            "12306 refused without saying why".into()
        } else {
            strip_tags(&msg)
        }),
        None => Otn::Unreadable(format!(
            "12306's reply has no status (its layout changed?): {}",
            resp.excerpt()
        )),
    }
}

/// Text without HTML tags (12306 puts links in some messages).
pub fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_dates_print_like_the_page() {
        let d = Date::parse("2018-01-16").unwrap();
        assert_eq!(
            js_date_form(d),
            "Tue+Jan+16+2018+00%3A00%3A00+GMT%2B0800+(%E4%B8%AD%E5%9B%BD%E6%A0%87%E5%87%86%E6%97%B6%E9%97%B4)",
            "the seed's own example"
        );
        assert!(js_date_form(Date::parse("2026-11-27").unwrap()).starts_with("Fri+Nov+27+2026"));
    }

    #[test]
    fn otn_replies_are_read_in_words() {
        let r = |s: u16, b: &str| read_otn(&HttpResponse::new(s, b.as_bytes().to_vec()));
        assert_eq!(
            r(200, r#"{"status":true,"data":"N"}"#),
            Otn::Ok(Value::from("N"))
        );
        assert_eq!(
            r(
                200,
                r#"{"status":false,"messages":["您还有未处理的订单，<a href=\"x\">[未完成订单]</a>"]}"#
            ),
            Otn::Refused("您还有未处理的订单，[未完成订单]".into())
        );
        assert_eq!(
            r(200, r#"{"status":false,"messages":["用户未登录"]}"#),
            Otn::NotLoggedIn
        );
        assert!(matches!(r(403, ""), Otn::Throttled(_)));
        assert!(matches!(r(200, "<html>oops</html>"), Otn::Unreadable(_)));
        assert!(matches!(r(200, "{}"), Otn::Unreadable(_)));
        let redirect = HttpResponse::new(302, "").with_header("Location", "/otn/login/init");
        assert_eq!(read_otn(&redirect), Otn::NotLoggedIn);
    }
}
