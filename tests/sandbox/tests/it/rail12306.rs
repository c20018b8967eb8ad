//! The 12306 simulator walked as a client would: login steps 1–7 with the picture captcha
//! answered by tile, the query endpoint found through `leftTicket/init` and followed
//! through its drift, rows read by index, the whole order chain through the scripted
//! queue, sale times and releases on the simulated clock, competitors, the rate limit,
//! faults, and many buyers racing for the last seat.

use crate::common::*;
use haoyuan_sandbox::Running;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use std::sync::Arc;

const TRAVELLER: (&str, &str) = ("traveller", "traveller123");

/// A browser-like client whose cookies the test can read.
struct Buyer {
    c: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
    admin: String,
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Days since the epoch → `YYYY-MM-DD`.
fn ymd(day: i64) -> String {
    haoyuan_core::date::Date::from_days(day).to_string()
}

fn today(sb: &Running) -> i64 {
    haoyuan_sandbox::platforms::rail12306::today(sb.shared.clock.now_ms())
}

/// Moves the simulated clock forward to the next Beijing `hh:mm:ss`.
async fn set_beijing_time(sb: &Running, hh: i64, mm: i64, ss: i64) {
    let now = sb.shared.clock.now_ms();
    let local = (now + 8 * 3_600_000).rem_euclid(86_400_000);
    let target = (hh * 3600 + mm * 60 + ss) * 1000;
    let delta = (target - local).rem_euclid(86_400_000);
    admin_post(sb, "/clock", json!({"advance_ms": delta})).await;
}

impl Buyer {
    fn new(sb: &Running) -> Buyer {
        let jar = Arc::new(Jar::default());
        Buyer {
            c: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .build()
                .expect("client"),
            jar,
            base: sb.url("12306"),
            admin: sb.url("admin"),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        let url: reqwest::Url = self.base.parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.c
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get")
    }

    async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.expect("json")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.c
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("post")
    }

    async fn post_json(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.post(path, form).await.json().await.expect("json")
    }

    /// A form body put together by hand, as the seed's client does for secretStr.
    async fn post_raw(&self, path: &str, body: String) -> Value {
        self.c
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    }

    /// Step 2, and the answer a person reads off the picture (admin API).
    async fn captcha(&self, sb: &Running) -> (Vec<u8>, Value) {
        let r = self
            .get("/passport/captcha/captcha-image?login_site=E&module=login&rand=sjrand&0.3638160110014952")
            .await;
        assert_eq!(r.headers()["content-type"], "image/png");
        let png = r.bytes().await.unwrap().to_vec();
        let key = self.cookie("_passport_session").expect("passport cookie");
        let answer = admin_get(sb, "/captcha?platform=12306").await[&key].clone();
        assert!(answer.is_object(), "no captcha answer for {key}");
        (png, answer)
    }

    async fn check_captcha(&self, answer: &str) -> Value {
        self.post_json(
            "/passport/captcha/captcha-check",
            &[("answer", answer), ("login_site", "E"), ("rand", "sjrand")],
        )
        .await
    }

    /// Steps 1–7.
    async fn login(&self, sb: &Running, user: &str, password: &str) -> Value {
        self.get("/otn/login/init").await;
        let (_, a) = self.captcha(sb).await;
        let r = self.check_captcha(a["answer"].as_str().unwrap()).await;
        assert_eq!(r["result_code"], "4", "{r}");
        let r = self
            .post_json(
                "/passport/web/login",
                &[("username", user), ("password", password), ("appid", "otn")],
            )
            .await;
        assert_eq!(r["result_code"], 0, "{r}");
        let uamtk = r["uamtk"].as_str().unwrap().to_string();
        self.post("/otn/login/userLogin", &[("_json_att", "")])
            .await;
        let r = self
            .post_json(
                "/passport/web/auth/uamtk",
                &[("appid", "otn"), ("uamtk", &uamtk)],
            )
            .await;
        assert_eq!(r["result_code"], 0, "{r}");
        let tk = r["newapptk"].as_str().unwrap().to_string();
        let r = self.post_json("/otn/uamauthclient", &[("tk", &tk)]).await;
        assert_eq!(r["result_code"], 0, "{r}");
        r
    }

    async fn check_user(&self) -> bool {
        let r = self
            .post_json("/otn/login/checkUser", &[("_json_att", "")])
            .await;
        r["data"]["flag"].as_bool().expect("flag")
    }

    /// The query URL named by `leftTicket/init`.
    async fn query_url(&self) -> String {
        let html = self.get("/otn/leftTicket/init").await.text().await.unwrap();
        between(&html, "var CLeftTicketUrl = '", "'")
            .expect("CLeftTicketUrl")
            .to_string()
    }

    async fn query_at(&self, url: &str, date: &str, from: &str, to: &str) -> reqwest::Response {
        self.get(&format!(
            "/otn/{url}?leftTicketDTO.train_date={date}&leftTicketDTO.from_station={from}&leftTicketDTO.to_station={to}&purpose_codes=ADULT"
        ))
        .await
    }

    /// Queries through the init-discovered URL, following `c_url`.
    async fn query(&self, date: &str, from: &str, to: &str) -> Value {
        let mut url = self.query_url().await;
        for _ in 0..3 {
            let v: Value = self
                .query_at(&url, date, from, to)
                .await
                .json()
                .await
                .unwrap();
            match v["c_url"].as_str() {
                Some(next) => url = next.to_string(),
                None => return v,
            }
        }
        panic!("the query URL kept moving");
    }

    /// Steps 10–16 for `train` on `date`, the first passenger, seat `seat`. Returns the
    /// REPEAT_SUBMIT_TOKEN after a successful confirm.
    async fn order_until_confirm(
        &self,
        date: &str,
        train: &str,
        seat: &str,
    ) -> Result<String, Value> {
        let q = self.query(date, "BJP", "SHH").await;
        let row = rows(&q)
            .into_iter()
            .find(|r| r[3] == train)
            .expect("train in the result");
        assert!(self.check_user().await);
        let body = format!(
            "train_date={date}&back_train_date={date}&tour_flag=dc&purpose_codes=ADULT&undefined=&secretStr={}&query_from_station_name=北京&query_to_station_name=上海",
            row[0]
        );
        let r = self
            .post_raw("/otn/leftTicket/submitOrderRequest", body)
            .await;
        if r["status"] != true {
            return Err(r);
        }
        let html = self
            .post("/otn/confirmPassenger/initDc", &[("_json_att", "")])
            .await
            .text()
            .await
            .unwrap();
        let token = between(&html, "globalRepeatSubmitToken = '", "'")
            .expect("token")
            .to_string();
        let key = between(&html, "'key_check_isChange':'", "'")
            .expect("key")
            .to_string();
        let left = between(&html, "'leftTicketStr':'", "'")
            .expect("left")
            .to_string();
        let loc = between(&html, "'train_location':'", "'")
            .expect("location")
            .to_string();
        let r = self
            .post_json(
                "/otn/confirmPassenger/getPassengerDTOs",
                &[("_json_att", ""), ("REPEAT_SUBMIT_TOKEN", &token)],
            )
            .await;
        let p = r["data"]["normal_passengers"][0].clone();
        let (name, id) = (
            p["passenger_name"].as_str().unwrap(),
            p["passenger_id_no"].as_str().unwrap(),
        );
        let mobile = p["mobile_no"].as_str().unwrap();
        let ticket = format!("{seat},0,1,{name},1,{id},{mobile},N");
        let old = format!("{name},1,{id},1_");
        let r = self
            .post_json(
                "/otn/confirmPassenger/checkOrderInfo",
                &[
                    ("cancel_flag", "2"),
                    ("bed_level_order_num", "000000000000000000000000000000"),
                    ("passengerTicketStr", &ticket),
                    ("oldPassengerStr", &old),
                    ("tour_flag", "dc"),
                    ("randCode", ""),
                    ("whatsSelect", "1"),
                    ("_json_att", ""),
                    ("REPEAT_SUBMIT_TOKEN", &token),
                ],
            )
            .await;
        if r["data"]["submitStatus"] != true {
            return Err(r);
        }
        let pass_code = r["data"]["ifShowPassCode"] == "Y";
        let start = row[13].clone();
        let d = haoyuan_core::date::Date::parse(&format!(
            "{}-{}-{}",
            &start[..4],
            &start[4..6],
            &start[6..]
        ))
        .unwrap();
        let weekday =
            ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][d.to_days().rem_euclid(7) as usize];
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][usize::from(d.month - 1)];
        let body = format!(
            "train_date={weekday}+{month}+{:02}+{}+00%3A00%3A00+GMT%2B0800+(%E4%B8%AD%E5%9B%BD%E6%A0%87%E5%87%86%E6%97%B6%E9%97%B4)&train_no={}&stationTrainCode={}&seatType={seat}&fromStationTelecode={}&toStationTelecode={}&leftTicket={}&purpose_codes=00&train_location={}&_json_att=&REPEAT_SUBMIT_TOKEN={token}",
            d.day, d.year, row[2], row[3], row[6], row[7], row[12], row[15]
        );
        let r = self
            .post_raw("/otn/confirmPassenger/getQueueCount", body)
            .await;
        if r["status"] != true {
            return Err(r);
        }
        let mut rand = String::new();
        if pass_code {
            self.get(
                "/otn/passcodeNew/getPassCodeNew?module=passenger&rand=randp&0.8263549525374525",
            )
            .await;
            rand = self.passenger_answer().await;
        }
        let r = self
            .post_json(
                "/otn/confirmPassenger/confirmSingleForQueue",
                &[
                    ("passengerTicketStr", &ticket),
                    ("oldPassengerStr", &old),
                    ("randCode", &rand),
                    ("purpose_codes", "00"),
                    ("key_check_isChange", &key),
                    ("leftTicketStr", &left),
                    ("train_location", &loc),
                    ("choose_seats", ""),
                    ("seatDetailType", "000"),
                    ("whatsSelect", "1"),
                    ("roomType", "00"),
                    ("dwAll", "N"),
                    ("_json_att", ""),
                    ("REPEAT_SUBMIT_TOKEN", &token),
                ],
            )
            .await;
        if r["data"]["submitStatus"] != true {
            return Err(r);
        }
        Ok(token)
    }

    /// The passenger captcha's answer (filed under the otn session).
    async fn passenger_answer(&self) -> String {
        let key = format!("randp:{}", self.cookie("JSESSIONID").unwrap());
        let v: Value = reqwest::get(format!("{}/captcha?platform=12306", self.admin))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v[&key]["answer"]
            .as_str()
            .expect("passenger captcha")
            .to_string()
    }

    async fn wait(&self, token: &str) -> Value {
        self.get_json(&format!(
            "/otn/confirmPassenger/queryOrderWaitTime?random=1515829299528&tourFlag=dc&_json_att=&REPEAT_SUBMIT_TOKEN={token}"
        ))
        .await
    }
}

fn rows(q: &Value) -> Vec<Vec<String>> {
    q["data"]["result"]
        .as_array()
        .expect("data.result")
        .iter()
        .map(|r| r.as_str().unwrap().split('|').map(String::from).collect())
        .collect()
}

async fn start12306(section: Value) -> Running {
    start(json!({ "12306": section })).await
}

#[tokio::test]
async fn login_steps_1_to_7_with_the_captcha_checked_by_tile() {
    let sb = start12306(json!(null)).await;
    let b = Buyer::new(&sb);
    // Step 1: cookies.
    let r = b.get("/otn/login/init").await;
    assert!(r.text().await.unwrap().contains("captcha-image"));
    assert!(b.cookie("JSESSIONID").is_some() && b.cookie("BIGipServerotn").is_some());
    // Step 2: a real PNG of 293 × 190.
    let (png, a) = b.captcha(&sb).await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 293);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 190);
    // Step 3: a wrong tile fails with 5 and uses the picture up (7 afterwards).
    let tiles: Vec<i64> = a["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    let wrong = (0..8).find(|t| !tiles.contains(t)).unwrap();
    let origin = |t: i64| (5 + 72 * (t % 4), 5 + 72 * (t / 4));
    let (wx, wy) = origin(wrong);
    let r = b.check_captcha(&format!("{},{}", wx + 30, wy + 30)).await;
    assert_eq!(
        r,
        json!({"result_message": "验证码校验失败", "result_code": "5"})
    );
    let r = b.check_captcha(a["answer"].as_str().unwrap()).await;
    assert_eq!(r["result_code"], "7");
    assert_eq!(b.check_captcha("").await["result_code"], "8");
    // Only some of the right tiles: 5.
    let (_, a) = b.captcha(&sb).await;
    let tiles: Vec<i64> = a["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    if tiles.len() > 1 {
        let (x, y) = origin(tiles[0]);
        assert_eq!(
            b.check_captcha(&format!("{},{}", x + 33, y + 33)).await["result_code"],
            "5"
        );
        b.captcha(&sb).await;
    }
    // Clicks inside the right tiles, far from their centres, pass.
    let a = admin_get(&sb, "/captcha?platform=12306").await
        [&b.cookie("_passport_session").unwrap()]
        .clone();
    let tiles: Vec<i64> = a["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    let clicks: Vec<String> = tiles
        .iter()
        .flat_map(|&t| {
            let (x, y) = origin(t);
            [(x + 2).to_string(), (y + 64).to_string()]
        })
        .collect();
    let r = b.check_captcha(&clicks.join(",")).await;
    assert_eq!(
        r,
        json!({"result_message": "验证码校验成功", "result_code": "4"})
    );
    // Step 4: a wrong password is refused (and the captcha is used up).
    let r = b
        .post_json(
            "/passport/web/login",
            &[
                ("username", "traveller"),
                ("password", "nope"),
                ("appid", "otn"),
            ],
        )
        .await;
    assert_eq!(r["result_code"], 1);
    assert!(r["result_message"]
        .as_str()
        .unwrap()
        .contains("密码输入错误"));
    let r = b
        .post_json(
            "/passport/web/login",
            &[
                ("username", "traveller"),
                ("password", "traveller123"),
                ("appid", "otn"),
            ],
        )
        .await;
    assert_eq!(r["result_code"], 5, "a new captcha is needed: {r}");
    let (_, a) = b.captcha(&sb).await;
    b.check_captcha(a["answer"].as_str().unwrap()).await;
    let r = b
        .post_json(
            "/passport/web/login",
            &[("username", "nobody"), ("password", "x"), ("appid", "otn")],
        )
        .await;
    assert_eq!(
        r,
        json!({"result_message": "登录名不存在。", "result_code": 1})
    );
    let (_, a) = b.captcha(&sb).await;
    b.check_captcha(a["answer"].as_str().unwrap()).await;
    let r = b
        .post_json(
            "/passport/web/login",
            &[
                ("username", "traveller"),
                ("password", "traveller123"),
                ("appid", "otn"),
            ],
        )
        .await;
    assert_eq!(r["result_code"], 0);
    assert_eq!(r["result_message"], "登录成功");
    let uamtk = r["uamtk"].as_str().unwrap().to_string();
    assert_eq!(b.cookie("uamtk").as_deref(), Some(uamtk.as_str()));
    assert!(!b.check_user().await, "not logged in before uamauthclient");
    // Step 5: userLogin sends a passport-logged-in browser on to the passport page.
    let r = b.post("/otn/login/userLogin", &[("_json_att", "")]).await;
    assert_eq!(r.url().path(), "/otn/passport");
    // Step 6.
    let r = b
        .post_json("/passport/web/auth/uamtk", &[("appid", "otn")])
        .await;
    assert_eq!(r["result_code"], 0);
    assert_eq!(r["result_message"], "验证通过");
    assert!(r["apptk"].is_null());
    let tk = r["newapptk"].as_str().unwrap().to_string();
    // Step 7.
    let r = b.post_json("/otn/uamauthclient", &[("tk", &tk)]).await;
    assert_eq!(r["result_code"], 0);
    assert_eq!(r["apptk"], tk.as_str());
    let state = admin_post(&sb, "/platform/12306/state", json!(null)).await;
    assert_eq!(r["username"], state["accounts"][0]["name"]);
    // The newapptk is good once.
    let again = b.post_json("/otn/uamauthclient", &[("tk", &tk)]).await;
    assert_eq!(
        again,
        json!({"result_code": 2, "result_message": "uamtk票据内容为空"})
    );
    assert!(b.check_user().await);
    let conf = b.post_json("/otn/login/conf", &[]).await;
    assert_eq!(conf["data"]["is_login"], "Y");
    // Logged-in userLogin goes home.
    let r = b.post("/otn/login/userLogin", &[("_json_att", "")]).await;
    assert_eq!(r.url().path(), "/otn/view/index.html");
}

#[tokio::test]
async fn the_query_url_comes_from_init_and_its_drift_is_followed() {
    let sb = start12306(json!({"query_url": {"initial": "queryZ", "change_every": 3}})).await;
    let b = Buyer::new(&sb);
    let date = ymd(today(&sb) + 1);
    let url = b.query_url().await;
    assert_eq!(url, "leftTicket/queryZ");
    let conf = b.get_json("/otn/login/conf").await;
    assert_eq!(conf["data"]["queryUrl"], "leftTicket/queryZ");
    assert_eq!(conf["data"]["is_login"], "N");
    // An old name is answered with where to go.
    let r: Value = b
        .query_at("leftTicket/queryA", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r,
        json!({"status": false, "c_url": "leftTicket/queryZ", "c_name": "CLeftTicketUrl"})
    );
    for _ in 0..3 {
        let r: Value = b
            .query_at(&url, &date, "BJP", "SHH")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["status"], true);
        assert!(!rows(&r).is_empty());
    }
    // After three queries the name moved on.
    let r: Value = b
        .query_at(&url, &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["c_url"], "leftTicket/queryA");
    assert_eq!(b.query_url().await, "leftTicket/queryA");
    let r: Value = b
        .query_at("leftTicket/queryA", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], true);
    // An admin drift to plain `query`; a client following c_url gets there.
    admin_post(&sb, "/platform/12306/drift", json!({"to": "query"})).await;
    let r = b.query(&date, "VNP", "AOH").await;
    assert_eq!(r["status"], true);
    assert_eq!(b.query_url().await, "leftTicket/query");
    assert_eq!(
        b.get_json("/otn/login/conf").await["data"]["queryUrl"],
        "leftTicket/query"
    );
    // Missing parameters go to the error page; dates outside the presale window are refused.
    let r = b
        .get(&format!(
            "/otn/leftTicket/query?leftTicketDTO.train_date={date}"
        ))
        .await;
    assert_eq!(r.url().path(), "/mormhweb/logFiles/error.html");
    let far = ymd(today(&sb) + 30);
    let r: Value = b
        .query_at("leftTicket/query", &far, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], false);
    assert_eq!(r["messages"][0], "选择的查询日期不在预售日期范围内");
}

#[tokio::test]
async fn query_rows_carry_every_indexed_field() {
    let sb = start12306(json!({"inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 7},
                                             {"train": "G1", "date": 1, "seat": "M", "count": 0},
                                             {"train": "G1", "date": 1, "seat": "9", "count": 25}]}))
    .await;
    let b = Buyer::new(&sb);
    let date = ymd(today(&sb) + 1);
    let q = b.query(&date, "BJP", "SHH").await;
    assert_eq!(q["status"], true);
    assert_eq!(q["httpstatus"], 200);
    let map = q["data"]["map"].as_object().unwrap();
    let rows = rows(&q);
    assert!(rows.len() > 20, "{} trains Beijing → Shanghai", rows.len());
    let cell_ok =
        |c: &str| c.is_empty() || c == "有" || c == "无" || c == "*" || c.parse::<u32>().is_ok();
    let hhmm = |c: &str| {
        c.len() == 5
            && &c[2..3] == ":"
            && c[..2].parse::<u32>().is_ok()
            && c[3..].parse::<u32>().unwrap() < 60
    };
    for r in &rows {
        assert!(r.len() > 40, "{} fields", r.len());
        assert!(!r[0].is_empty(), "secretStr");
        assert_eq!(r[1], "预订");
        assert_eq!(r[2].len(), 12, "train_no {}", r[2]);
        assert!(r[2].contains(&r[3]), "{} {}", r[2], r[3]);
        for code in &r[4..=7] {
            assert_eq!(code.len(), 3, "telecode {code}");
        }
        assert!(map.contains_key(&r[6]) && map.contains_key(&r[7]));
        assert!(map[&r[6]].as_str().unwrap().starts_with("北京"));
        assert!(map[&r[7]].as_str().unwrap().starts_with("上海"));
        assert!(hhmm(&r[8]) && hhmm(&r[9]), "{} {}", r[8], r[9]);
        assert!(r[10].contains(':'));
        assert!(["Y", "N"].contains(&r[11].as_str()), "{}", r[11]);
        assert!(r[12].len() > 40, "leftTicketStr");
        assert_eq!(r[13].len(), 8);
        assert_eq!(r[15].len(), 2, "train_location");
        let (f, t): (u32, u32) = (r[16].parse().unwrap(), r[17].parse().unwrap());
        assert!(f < t && r[16].len() == 2);
        for i in [21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33] {
            assert!(cell_ok(&r[i]), "cell {i}: {}", r[i]);
        }
        assert!(!r[35].is_empty(), "seat_types");
        assert!(["0", "1"].contains(&r[37].as_str()), "houbu flag {}", r[37]);
        assert_eq!(r[39].len() % 10, 0, "yp_info_new {}", r[39]);
        // canWebBuy agrees with the cells.
        let any = [21, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33]
            .iter()
            .any(|&i| r[i] == "有" || r[i].parse::<u32>().is_ok_and(|n| n > 0));
        assert_eq!(r[11] == "Y", any, "{}", r.join("|"));
    }
    let g1 = rows.iter().find(|r| r[3] == "G1").expect("G1");
    assert_eq!(
        (
            g1[4].as_str(),
            g1[5].as_str(),
            g1[6].as_str(),
            g1[7].as_str()
        ),
        ("VNP", "AOH", "VNP", "AOH")
    );
    assert_eq!(map["VNP"], "北京南");
    assert_eq!(map["AOH"], "上海虹桥");
    assert_eq!(g1[8], "07:00");
    assert_eq!(g1[13], ymd(today(&sb) + 1).replace('-', ""));
    assert_eq!(g1[16], "01");
    assert_eq!(
        (g1[30].as_str(), g1[31].as_str(), g1[32].as_str()),
        ("7", "无", "有")
    );
    assert!(g1[35].contains('O') && g1[35].contains('M') && g1[35].contains('9'));
    assert!(
        g1[39].contains("O") && g1[39].contains("0007"),
        "{}",
        g1[39]
    );
    // Any station of the city works (北京南 → 上海虹桥 directly).
    let direct = b.query(&date, "VNP", "AOH").await;
    assert!(self::rows(&direct).iter().any(|r| r[3] == "G1"));
    // Unknown stations: an empty result.
    let none = b.query(&date, "XXX", "SHH").await;
    assert_eq!(none["data"]["result"], json!([]));
}

#[tokio::test]
async fn a_date_opens_at_its_sale_time_on_the_simulated_clock() {
    let sb = start12306(json!({
        "trains": [{"code": "G1", "sale_time": "15:00"}],
        "competitors": [{"train": "G1", "seat": "O", "on_sale": true, "within_ms": 0}],
        "stock": "plenty"
    }))
    .await;
    set_beijing_time(&sb, 10, 0, 0).await;
    let b = Buyer::new(&sb);
    let last = ymd(today(&sb) + 14);
    let g1 = |q: &Value| rows(q).into_iter().find(|r| r[3] == "G1").expect("G1");
    let r = g1(&b.query(&last, "BJP", "SHH").await);
    assert_eq!(r[11], "IS_TIME_NOT_BUY");
    assert!(r[0].is_empty(), "no secretStr before the sale");
    assert!(r[1].ends_with("15:00起售"), "{}", r[1]);
    assert_eq!(
        (r[30].as_str(), r[31].as_str(), r[32].as_str()),
        ("*", "*", "*")
    );
    set_beijing_time(&sb, 15, 0, 1).await;
    let r = g1(&b.query(&last, "BJP", "SHH").await);
    assert_eq!(r[11], "Y");
    assert_eq!(r[1], "预订");
    assert!(!r[0].is_empty());
    // The competitor bought every 二等座 the moment the date opened; 一等座 remains.
    assert_eq!(r[30], "无");
    assert_eq!(r[31], "有");
    let orders = admin_get(&sb, "/orders?platform=12306").await;
    assert!(orders
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["buyer"] == "competitor" && o["seat"] == "O"));
}

#[tokio::test]
async fn scheduled_releases_and_competitors_follow_the_clock() {
    let sb = start12306(json!({
        "inventory": [{"train": "G1", "date": 2, "seat": "O", "count": 0}],
        "releases": [{"train": "G1", "date": 2, "seat": "O", "count": 5, "in_ms": 600000}],
        "competitors": [{"train": "G1", "seat": "O", "take": 3, "within_ms": 1000}],
        "rate_limit": false
    }))
    .await;
    let b = Buyer::new(&sb);
    let date = ymd(today(&sb) + 2);
    let o = |q: &Value| rows(q).into_iter().find(|r| r[3] == "G1").unwrap()[30].clone();
    assert_eq!(o(&b.query(&date, "BJP", "SHH").await), "无");
    admin_post(&sb, "/clock", json!({"advance_ms": 590_000})).await;
    assert_eq!(o(&b.query(&date, "BJP", "SHH").await), "无");
    admin_post(&sb, "/clock", json!({"advance_ms": 12_000})).await;
    assert_eq!(
        o(&b.query(&date, "BJP", "SHH").await),
        "2",
        "5 released, 3 taken"
    );
    // An admin release at a future time waits for the clock.
    let at = sb.shared.clock.now_ms() + 60_000;
    let r = admin_post(&sb, "/release", json!({"platform": "12306", "train": "G1", "date": date, "seat": "O", "count": 4, "at_ms": at})).await;
    assert_eq!(r["released"]["scheduled_at_ms"], at);
    assert_eq!(o(&b.query(&date, "BJP", "SHH").await), "2");
    admin_post(&sb, "/clock", json!({"advance_ms": 62_000})).await;
    // 4 more, of which the competitor takes 3 again.
    assert_eq!(o(&b.query(&date, "BJP", "SHH").await), "3");
    let stock = admin_post(
        &sb,
        "/platform/12306/stock",
        json!({"train": "G1", "date": date}),
    )
    .await;
    assert_eq!(stock["stock"]["O"], 3);
    let taken: i64 = admin_get(&sb, "/orders?platform=12306")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["buyer"] == "competitor")
        .map(|o| o["count"].as_i64().unwrap())
        .sum();
    assert_eq!(taken, 6);
}

#[tokio::test]
async fn the_whole_order_chain_ends_in_an_order_id() {
    let sb = start12306(json!({
        "inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 5}],
        "queue": {"wait_times": [5, 3, -1]}
    }))
    .await;
    let b = Buyer::new(&sb);
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    let date = ymd(today(&sb) + 1);
    let token = b
        .order_until_confirm(&date, "G1", "O")
        .await
        .expect("confirmed");
    // The scripted queue: 5, 3, then done.
    let r = b.wait(&token).await;
    assert_eq!(r["status"], true);
    assert_eq!(r["data"]["waitTime"], 5);
    assert!(r["data"]["orderId"].is_null());
    assert!(r["data"]["requestId"].as_u64().is_some());
    assert_eq!(b.wait(&token).await["data"]["waitTime"], 3);
    let r = b.wait(&token).await;
    assert_eq!(r["data"]["waitTime"], -1);
    assert_eq!(r["data"]["count"], 0);
    let order_id = r["data"]["orderId"].as_str().expect("orderId").to_string();
    assert!(
        order_id.starts_with('E') && order_id.len() == 10,
        "{order_id}"
    );
    // Step 18.
    let r = b
        .post_json(
            "/otn/confirmPassenger/resultOrderForDcQueue",
            &[
                ("orderSequence_no", &order_id),
                ("_json_att", ""),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["status"], true);
    assert_eq!(r["data"]["submitStatus"], true);
    // The order query, the admin view, and the seat gone from the query.
    let r = b
        .post_json(
            "/otn/queryOrder/queryMyOrderNoComplete",
            &[("_json_att", "")],
        )
        .await;
    assert_eq!(
        r["data"]["orderDBList"][0]["sequence_no"],
        order_id.as_str()
    );
    let orders = admin_get(&sb, "/orders?platform=12306").await;
    let mine: Vec<&Value> = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["buyer"] == "user")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["orderId"], order_id.as_str());
    assert_eq!(mine[0]["status"], "booked");
    assert_eq!(mine[0]["train"], "G1");
    let q = b.query(&date, "BJP", "SHH").await;
    assert_eq!(
        rows(&q).into_iter().find(|r| r[3] == "G1").unwrap()[30],
        "4"
    );
    // An unpaid order blocks the next one.
    let r = b.order_until_confirm(&date, "G1", "O").await.unwrap_err();
    assert!(
        r["messages"][0]
            .as_str()
            .unwrap()
            .contains("您还有未处理的订单"),
        "{r}"
    );
    // Paid, the same passenger still cannot buy the same train and date twice.
    admin_post(
        &sb,
        "/platform/12306/pay_order",
        json!({"orderId": order_id}),
    )
    .await;
    let r = b.order_until_confirm(&date, "G1", "M").await.unwrap_err();
    let msg = r["data"]["errMsg"].as_str().unwrap();
    assert!(msg.contains("已订") && msg.contains("G1次的车票"), "{msg}");
}

#[tokio::test]
async fn a_never_resolving_queue_never_claims_success() {
    let sb = start12306(json!({
        "inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 5}],
        "queue": {"wait_times": [-100]}
    }))
    .await;
    let b = Buyer::new(&sb);
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    let token = b
        .order_until_confirm(&ymd(today(&sb) + 1), "G1", "O")
        .await
        .unwrap();
    for _ in 0..12 {
        let r = b.wait(&token).await;
        assert_eq!(r["data"]["waitTime"], -100);
        assert!(r["data"]["orderId"].is_null());
    }
    let orders = admin_get(&sb, "/orders?platform=12306").await;
    assert_eq!(orders[0]["status"], "queued");
    assert!(orders[0]["orderId"].is_null());
    let r = b
        .post_json("/otn/queryOrder/queryMyOrderNoComplete", &[])
        .await;
    assert_eq!(r["data"]["to_page"], "cache");
}

#[tokio::test]
async fn a_failed_queue_gives_the_seat_back() {
    let sb = start12306(json!({
        "inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 1}],
        "queue": {"wait_times": [2, -2]}
    }))
    .await;
    let b = Buyer::new(&sb);
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    let date = ymd(today(&sb) + 1);
    let token = b.order_until_confirm(&date, "G1", "O").await.unwrap();
    assert_eq!(b.wait(&token).await["data"]["waitTime"], 2);
    let r = b.wait(&token).await;
    assert_eq!(r["data"]["waitTime"], -2);
    assert_eq!(r["data"]["msg"], "没有足够的票!");
    let stock = admin_post(
        &sb,
        "/platform/12306/stock",
        json!({"train": "G1", "date": date}),
    )
    .await;
    assert_eq!(stock["stock"]["O"], 1);
}

#[tokio::test]
async fn if_show_pass_code_y_needs_the_passenger_captcha() {
    let sb = start12306(json!({
        "inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 5}],
        "pass_code": true,
        "submit_data": "0",
        "queue": {"wait_times": [-1]}
    }))
    .await;
    let b = Buyer::new(&sb);
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    let date = ymd(today(&sb) + 1);
    // Walk by hand up to confirm to see ifShowPassCode and a refused confirm.
    let q = b.query(&date, "BJP", "SHH").await;
    let row = rows(&q).into_iter().find(|r| r[3] == "G1").unwrap();
    let body = format!(
        "train_date={date}&back_train_date={date}&tour_flag=dc&purpose_codes=ADULT&undefined=&secretStr={}&query_from_station_name=北京&query_to_station_name=上海",
        row[0]
    );
    let r = b.post_raw("/otn/leftTicket/submitOrderRequest", body).await;
    assert_eq!(r["data"], "0", "the newer success data");
    let html = b
        .post("/otn/confirmPassenger/initDc", &[("_json_att", "")])
        .await
        .text()
        .await
        .unwrap();
    let token = between(&html, "globalRepeatSubmitToken = '", "'")
        .unwrap()
        .to_string();
    let key = between(&html, "'key_check_isChange':'", "'")
        .unwrap()
        .to_string();
    let left = between(&html, "'leftTicketStr':'", "'")
        .unwrap()
        .to_string();
    let p = b
        .post_json(
            "/otn/confirmPassenger/getPassengerDTOs",
            &[("REPEAT_SUBMIT_TOKEN", &token)],
        )
        .await["data"]["normal_passengers"][0]
        .clone();
    let ticket = format!(
        "O,0,1,{},1,{},{},N",
        p["passenger_name"].as_str().unwrap(),
        p["passenger_id_no"].as_str().unwrap(),
        p["mobile_no"].as_str().unwrap()
    );
    let r = b
        .post_json(
            "/otn/confirmPassenger/checkOrderInfo",
            &[
                ("passengerTicketStr", &ticket),
                ("tour_flag", "dc"),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["data"]["ifShowPassCode"], "Y");
    let r = b
        .post_json(
            "/otn/confirmPassenger/getQueueCount",
            &[
                ("train_date", &date),
                ("train_no", &row[2]),
                ("stationTrainCode", "G1"),
                ("seatType", "O"),
                ("fromStationTelecode", &row[6]),
                ("toStationTelecode", &row[7]),
                ("leftTicket", &row[12]),
                ("purpose_codes", "00"),
                ("train_location", &row[15]),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["status"], true, "{r}");
    let confirm = |rand: String| {
        let (ticket, key, left, token, loc) = (
            ticket.clone(),
            key.clone(),
            left.clone(),
            token.clone(),
            row[15].clone(),
        );
        let b = &b;
        async move {
            b.post_json(
                "/otn/confirmPassenger/confirmSingleForQueue",
                &[
                    ("passengerTicketStr", ticket.as_str()),
                    ("randCode", &rand),
                    ("purpose_codes", "00"),
                    ("key_check_isChange", &key),
                    ("leftTicketStr", &left),
                    ("train_location", &loc),
                    ("REPEAT_SUBMIT_TOKEN", &token),
                ],
            )
            .await
        }
    };
    // Without the captcha: refused.
    let r = confirm(String::new()).await;
    assert_eq!(r["data"]["submitStatus"], false, "{r}");
    // With a wrong answer: refused.
    let png = b
        .get("/otn/passcodeNew/getPassCodeNew?module=passenger&rand=randp&0.82")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let answer = b.passenger_answer().await;
    let r = b
        .post_json(
            "/otn/passcodeNew/checkRandCodeAnsyn",
            &[
                ("randCode", "1,1"),
                ("rand", "randp"),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["data"]["msg"], "randCodeError");
    let r = b
        .post_json(
            "/otn/passcodeNew/checkRandCodeAnsyn",
            &[
                ("randCode", &answer),
                ("rand", "randp"),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["data"], json!({"result": "1", "msg": "randCodeRight"}));
    let r = confirm(answer).await;
    assert_eq!(r["data"]["submitStatus"], true, "{r}");
    let r = b.wait(&token).await;
    assert_eq!(r["data"]["waitTime"], -1);
    assert!(r["data"]["orderId"].is_string());
}

#[tokio::test]
async fn steps_out_of_order_are_refused() {
    let sb =
        start12306(json!({"inventory": [{"train": "G1", "date": 1, "seat": "O", "count": 5}]}))
            .await;
    let b = Buyer::new(&sb);
    // Passport steps without their predecessors.
    let r = b
        .post_json(
            "/passport/web/login",
            &[
                ("username", "traveller"),
                ("password", "traveller123"),
                ("appid", "otn"),
            ],
        )
        .await;
    assert_eq!(r["result_code"], 5, "no captcha passed: {r}");
    assert_eq!(
        b.check_captcha("40,40").await["result_code"],
        "7",
        "no captcha shown"
    );
    let r = b
        .post_json("/passport/web/auth/uamtk", &[("appid", "otn")])
        .await;
    assert_eq!(r, json!({"result_message": "用户未登录", "result_code": 1}));
    let r = b
        .post_json("/otn/uamauthclient", &[("tk", "made-up")])
        .await;
    assert_eq!(r["result_code"], 2);
    let r = b.post_json("/otn/uamauthclient", &[]).await;
    assert_eq!(r["result_message"], "uamtk票据内容为空");
    let r = b.post("/otn/login/userLogin", &[("_json_att", "")]).await;
    assert_eq!(r.url().path(), "/otn/login/init", "to the login page");
    assert!(!b.check_user().await);
    // Order steps without a login.
    let date = ymd(today(&sb) + 1);
    let q = b.query(&date, "BJP", "SHH").await;
    let row = rows(&q).into_iter().find(|r| r[3] == "G1").unwrap();
    let submit = format!(
        "train_date={date}&back_train_date={date}&tour_flag=dc&purpose_codes=ADULT&secretStr={}",
        row[0]
    );
    let r = b
        .post_raw("/otn/leftTicket/submitOrderRequest", submit.clone())
        .await;
    assert_eq!(r["status"], false);
    assert_eq!(r["messages"][0], "用户未登录");
    let r = b.post("/otn/confirmPassenger/initDc", &[]).await;
    assert_eq!(r.url().path(), "/otn/login/init");
    // Logged in: initDc before submitOrderRequest has no token.
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    let html = b
        .post("/otn/confirmPassenger/initDc", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("globalRepeatSubmitToken"), "{html}");
    // A tampered secretStr.
    let bad = format!(
        "train_date={date}&tour_flag=dc&purpose_codes=ADULT&secretStr=AAAA{}",
        &row[0][4..]
    );
    let r = b.post_raw("/otn/leftTicket/submitOrderRequest", bad).await;
    assert_eq!(r["messages"][0], "车票信息已过期，请重新查询最新车票信息");
    let r = b
        .post_raw("/otn/leftTicket/submitOrderRequest", submit)
        .await;
    assert_eq!(r["data"], "N");
    let html = b
        .post("/otn/confirmPassenger/initDc", &[])
        .await
        .text()
        .await
        .unwrap();
    let token = between(&html, "globalRepeatSubmitToken = '", "'")
        .unwrap()
        .to_string();
    // Wrong token; queue steps before checkOrderInfo.
    let r = b
        .post_json(
            "/otn/confirmPassenger/getPassengerDTOs",
            &[("REPEAT_SUBMIT_TOKEN", "0123")],
        )
        .await;
    assert_eq!(r["status"], false);
    let r = b
        .post_json(
            "/otn/confirmPassenger/getQueueCount",
            &[("REPEAT_SUBMIT_TOKEN", &token)],
        )
        .await;
    assert_eq!(
        r["status"], false,
        "getQueueCount before checkOrderInfo: {r}"
    );
    let r = b
        .post_json(
            "/otn/confirmPassenger/confirmSingleForQueue",
            &[("REPEAT_SUBMIT_TOKEN", &token)],
        )
        .await;
    assert_eq!(r["status"], false);
    let r = b.wait(&token).await;
    assert_eq!(r["status"], false, "no order in the queue yet");
    let r = b
        .post_json(
            "/otn/confirmPassenger/resultOrderForDcQueue",
            &[
                ("orderSequence_no", "E123"),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["status"], false);
    // A passenger not on the account.
    let r = b
        .post_json(
            "/otn/confirmPassenger/checkOrderInfo",
            &[
                (
                    "passengerTicketStr",
                    "O,0,1,路人甲,1,110101199001010000,13800000000,N",
                ),
                ("REPEAT_SUBMIT_TOKEN", &token),
            ],
        )
        .await;
    assert_eq!(r["data"]["submitStatus"], false);
    assert!(r["data"]["errMsg"].as_str().unwrap().contains("路人甲"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_parallel_buyers_for_the_last_seat_get_exactly_one() {
    const BUYERS: usize = 12;
    let sb = start12306(json!({"generated_accounts": BUYERS, "queue": {"wait_times": [1, -1]}, "rate_limit": false})).await;
    let date = ymd(today(&sb) + 3);
    let stock = admin_post(
        &sb,
        "/platform/12306/stock",
        json!({"train": "G1", "date": date}),
    )
    .await;
    admin_post(
        &sb,
        "/platform/12306/set_stock",
        json!({"train": "G1", "date": date, "seat": "O", "count": 1}),
    )
    .await;
    if stock["stock"].get("W").is_some() {
        admin_post(
            &sb,
            "/platform/12306/set_stock",
            json!({"train": "G1", "date": date, "seat": "W", "count": 0}),
        )
        .await;
    }
    let sb = Arc::new(sb);
    let mut tasks = Vec::new();
    for i in 1..=BUYERS {
        let sb = sb.clone();
        let date = date.clone();
        tasks.push(tokio::spawn(async move {
            let b = Buyer::new(&sb);
            b.login(&sb, &format!("user{i}"), &format!("pass{i}")).await;
            match b.order_until_confirm(&date, "G1", "O").await {
                Err(_) => None,
                Ok(token) => loop {
                    let r = b.wait(&token).await;
                    match r["data"]["waitTime"].as_i64().unwrap() {
                        -1 => break Some(r["data"]["orderId"].as_str().unwrap().to_string()),
                        -2 | -3 => break None,
                        _ => continue,
                    }
                },
            }
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            won.push(id);
        }
    }
    assert_eq!(
        won.len(),
        1,
        "exactly one buyer gets the last seat: {won:?}"
    );
    let orders = admin_get(&sb, "/orders?platform=12306").await;
    let booked = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "booked")
        .count();
    assert_eq!(booked, 1);
    let stock = admin_post(
        &sb,
        "/platform/12306/stock",
        json!({"train": "G1", "date": date}),
    )
    .await;
    assert_eq!(stock["stock"]["O"], 0);
}

#[tokio::test]
async fn the_station_file_has_both_record_formats_and_thousands_of_stations() {
    let sb = start12306(json!(null)).await;
    let b = Buyer::new(&sb);
    let init = b.get("/otn/leftTicket/init").await.text().await.unwrap();
    let version = between(&init, "station_name.js?station_version=", "\"")
        .unwrap()
        .to_string();
    assert!(version.starts_with("1.9"), "{version}");
    let js = b
        .get(&format!(
            "/otn/resources/js/framework/station_name.js?station_version={version}"
        ))
        .await
        .text()
        .await
        .unwrap();
    let body = between(&js, "var station_names ='", "';").expect("the variable");
    let records: Vec<Vec<&str>> = body
        .split('@')
        .skip(1)
        .map(|r| r.split('|').collect())
        .collect();
    assert!(records.len() >= 2500, "{} stations", records.len());
    let old = records.iter().filter(|r| r.len() == 6).count();
    let new = records
        .iter()
        .filter(|r| r.len() == 11 && r[8].is_empty())
        .count();
    assert!(old > 500 && new > 500, "old {old}, new {new}");
    assert_eq!(old + new, records.len());
    assert!(js.contains("@bjb|北京北|VAP|beijingbei|bjb|0@"));
    assert!(js.contains("|上海虹桥|AOH|shanghaihongqiao|shhq|"));
    assert!(js.contains("|北京南|VNP|beijingnan|bjn|"));
    assert!(js.contains("@bji|北京|BJP|beijing|bj|"));
    for r in &records {
        assert_eq!(r[2].len(), 3);
        assert!(r[3].bytes().all(|c| c.is_ascii_lowercase()));
        assert_eq!(
            r[4].len(),
            r[1].chars().count(),
            "one initial per character: {r:?}"
        );
    }
    let mut codes: Vec<&str> = records.iter().map(|r| r[2]).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), records.len(), "telecodes are unique");
}

#[tokio::test]
async fn faults_on_the_query_endpoint_are_observable() {
    let sb = start12306(json!({"rate_limit": false})).await;
    let b = Buyer::new(&sb);
    let date = ymd(today(&sb) + 1);
    let route = "/otn/leftTicket/queryZ";
    let arm12306 = |kind: Value| {
        let mut f = json!({"platform": "12306", "route": route});
        f.as_object_mut()
            .unwrap()
            .extend(kind.as_object().unwrap().clone());
        f
    };
    for status in [403u16, 429, 500, 502] {
        arm(&sb, arm12306(json!({"kind": "status", "status": status}))).await;
        let r = b.query_at("leftTicket/queryZ", &date, "BJP", "SHH").await;
        assert_eq!(r.status().as_u16(), status);
    }
    arm(&sb, arm12306(json!({"kind": "truncated"}))).await;
    let text = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    arm(&sb, arm12306(json!({"kind": "malformed"}))).await;
    let text = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    arm(
        &sb,
        arm12306(json!({"kind": "missing_field", "field": "result"})),
    )
    .await;
    let v: Value = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert!(v["data"].get("result").is_none() && v["data"].get("map").is_some());
    arm(
        &sb,
        arm12306(json!({"kind": "rename_field", "from": "map", "to": "stationMap"})),
    )
    .await;
    let v: Value = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert!(v["data"].get("map").is_none() && v["data"]["stationMap"]["VNP"] == "北京南");
    arm(&sb, arm12306(json!({"kind": "reset"}))).await;
    let broken = match b.query_at_raw(&date).await {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken);
    arm(&sb, arm12306(json!({"kind": "delay", "ms": 50}))).await;
    let v: Value = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], true, "a delay still answers");
    let log = admin_get(&sb, "/requests?platform=12306").await;
    let faults: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["fault"].as_str().map(String::from))
        .collect();
    assert!(
        faults.ends_with(&["reset".to_string(), "delay".to_string()]),
        "{faults:?}"
    );
    // Afterwards the endpoint is healthy again.
    let v: Value = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], true);
    // Session expiry logs everyone out.
    b.login(&sb, TRAVELLER.0, TRAVELLER.1).await;
    assert!(b.check_user().await);
    arm(
        &sb,
        json!({"platform": "12306", "route": "/otn/login/checkUser", "kind": "session_expired"}),
    )
    .await;
    assert!(!b.check_user().await);
}

#[tokio::test]
async fn querying_too_fast_is_answered_with_403_or_too_frequent() {
    let sb = start12306(json!({"rate_limit": {"window_ms": 60000, "burst": 3}})).await;
    let b = Buyer::new(&sb);
    b.get("/otn/leftTicket/init").await;
    let date = ymd(today(&sb) + 1);
    for _ in 0..3 {
        assert_eq!(
            b.query_at("leftTicket/queryZ", &date, "BJP", "SHH")
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        b.query_at("leftTicket/queryZ", &date, "BJP", "SHH")
            .await
            .status(),
        403
    );
    // Another session has its own budget; the window passes on the simulated clock.
    let other = Buyer::new(&sb);
    other.get("/otn/leftTicket/init").await;
    assert_eq!(
        other
            .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
            .await
            .status(),
        200
    );
    admin_post(&sb, "/clock", json!({"advance_ms": 61_000})).await;
    assert_eq!(
        b.query_at("leftTicket/queryZ", &date, "BJP", "SHH")
            .await
            .status(),
        200
    );

    let sb =
        start12306(json!({"rate_limit": {"window_ms": 60000, "burst": 1, "reply": "json"}})).await;
    let b = Buyer::new(&sb);
    b.get("/otn/leftTicket/init").await;
    b.query_at("leftTicket/queryZ", &date, "BJP", "SHH").await;
    let v: Value = b
        .query_at("leftTicket/queryZ", &date, "BJP", "SHH")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], false);
    assert!(v["messages"][0].as_str().unwrap().contains("频率过快"));
}

impl Buyer {
    async fn query_at_raw(&self, date: &str) -> Result<reqwest::Response, reqwest::Error> {
        self.c
            .get(format!(
                "{}/otn/leftTicket/queryZ?leftTicketDTO.train_date={date}&leftTicketDTO.from_station=BJP&leftTicketDTO.to_station=SHH&purpose_codes=ADULT",
                self.base
            ))
            .send()
            .await
    }
}

#[tokio::test]
async fn the_scenario_files_load_and_timed_drift_follows_the_clock() {
    for name in [
        "12306-demo.yaml",
        "12306-bench.yaml",
        "12306-stuck-queue.yaml",
    ] {
        let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("scenario file");
        let scenario = haoyuan_sandbox::parse_scenario(&text).expect("parses");
        let sb = start(scenario).await;
        let b = Buyer::new(&sb);
        let url = b.query_url().await;
        assert!(url.starts_with("leftTicket/query"), "{name}: {url}");
        if name == "12306-stuck-queue.yaml" {
            assert_eq!(url, "leftTicket/queryO");
            admin_post(&sb, "/clock", json!({"advance_ms": 600_500})).await;
            assert_eq!(b.query_url().await, "leftTicket/queryG");
            admin_post(&sb, "/clock", json!({"advance_ms": 600_000})).await;
            let q = b.query(&ymd(today(&sb) + 1), "BJP", "SHH").await;
            assert_eq!(q["status"], true);
            assert_eq!(b.query_url().await, "leftTicket/query");
        }
    }
}

#[tokio::test]
async fn captcha_variants_jsonp_and_base64() {
    let sb = start12306(json!(null)).await;
    let b = Buyer::new(&sb);
    let v = b
        .get_json("/passport/captcha/captcha-image64?login_site=E&module=login&rand=sjrand")
        .await;
    assert_eq!(v["result_code"], "0");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(v["image"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let key = b.cookie("_passport_session").unwrap();
    let answer = admin_get(&sb, "/captcha?platform=12306").await[&key]["answer"]
        .as_str()
        .unwrap()
        .to_string();
    let text = b
        .get(&format!(
            "/passport/captcha/captcha-check?callback=jQuery19108016&answer={answer}&rand=sjrand&login_site=E"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("/**/jQuery19108016({"), "{text}");
    assert!(text.contains("\"result_code\":\"4\""), "{text}");
}

#[tokio::test]
async fn bad_scenario_sections_are_refused_in_words() {
    for (section, words) in [
        (
            json!({"inventory": [{"train": "G0", "date": 1, "seat": "O", "count": 1}]}),
            "no train",
        ),
        (
            json!({"inventory": [{"train": "G1", "date": "tomorrow", "seat": "O"}]}),
            "bad date",
        ),
        (
            json!({"inventory": [{"train": "G1", "date": 1, "seat": "Q"}]}),
            "unknown seat",
        ),
        (json!({"queue": {"wait_times": []}}), "wait_times"),
        (json!({"sale_time": "25:00"}), "sale_time"),
        (json!({"stock": "lots"}), "stock"),
    ] {
        let r = reqwest::Client::new();
        let sb = start(json!(null)).await;
        let resp = r
            .post(format!("{}/scenario", sb.url("admin")))
            .body(json!({"12306": section}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains(words), "{v}");
    }
}

/// Throughput of the hot query endpoint and start-up time (prints figures, asserts none):
/// `cargo test --release -p haoyuan-sandbox --test it rail12306::throughput -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_of_query_g() {
    let t0 = std::time::Instant::now();
    let sb = start(json!({"12306": {"rate_limit": false, "stock": "plenty", "query_url": {"initial": "queryG"}}})).await;
    println!("start-up (all platforms): {:?}", t0.elapsed());
    let date = ymd(today(&sb) + 1);
    for (from, to) in [("VNP", "AOH"), ("BJP", "SHH")] {
        let url = format!(
            "{}/otn/leftTicket/queryG?leftTicketDTO.train_date={date}&leftTicketDTO.from_station={from}&leftTicketDTO.to_station={to}&purpose_codes=ADULT",
            sb.url("12306")
        );
        let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
        let n = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (url, n) = (url.clone(), n.clone());
            tasks.push(tokio::spawn(async move {
                let c = reqwest::Client::new();
                while std::time::Instant::now() < until {
                    let r = c.get(&url).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = n.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "queryG {from}→{to}: {} bytes/reply, {:.0} req/s (client and server on the same cores)",
            body.len(),
            total as f64 / 3.0
        );
    }
}
