//! Tests of the 114yygh simulator, walked over HTTP as the site's own pages (or a client
//! acting for the user) would: captcha → SMS → login, browse, poll, confirm, book, query,
//! cancel; the legacy envelope; releases by the simulated clock; other buyers; parallel
//! buyers for one slot; rate limiting; injected faults.

use crate::common::*;
use haoyuan_core::crypto::yygh114_encrypt;
use haoyuan_core::date::Date;
use haoyuan_sandbox::platforms::yygh114::fonts::FontSet;
use haoyuan_sandbox::Running;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use std::sync::Arc;

/// A browser-like client of the 114 site: its own cookie jar, `Request-Source: PC`.
struct Site {
    c: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

impl Site {
    fn new(sb: &Running) -> Site {
        let jar = Arc::new(Jar::default());
        let c = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Site {
            c,
            jar,
            base: sb.url("114yygh"),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        let url = self.base.parse().unwrap();
        let all = self.jar.cookies(&url)?;
        all.to_str()
            .ok()?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}_time=1662730587759", self.base)
    }

    async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.c
            .get(self.url(path))
            .header("Request-Source", "PC")
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.get_raw(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    async fn post_raw(&self, path: &str, body: &Value) -> reqwest::Response {
        self.c
            .post(self.url(path))
            .header("Request-Source", "PC")
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let r = self.post_raw(path, body).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }
}

/// The whole SMS login, as a person does it: read the picture (through the admin API's
/// captcha answers), ask for the SMS, read the phone (admin inbox), log in with both
/// encrypted.
async fn login(sb: &Running, s: &Site, mobile: &str) {
    let r = s.get_raw("/web/img/getImgCode").await;
    assert_eq!(r.status(), 200);
    let session = s.cookie("imed_session").expect("an imed_session cookie");
    let answers = admin_get(sb, "/captcha?platform=114yygh").await;
    let answer = answers[&session].as_str().expect("an answer").to_string();
    let v = s.get(&format!("/web/checkcode?code={answer}")).await;
    assert_eq!(v["data"], true, "{v}");
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={}&smsKey=LOGIN&code={answer}",
            urlenc(&yygh114_encrypt(mobile))
        ))
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    let inbox = admin_get(sb, &format!("/inbox?phone={mobile}")).await;
    let code = inbox.as_array().unwrap().last().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt(mobile), "code": yygh114_encrypt(&code)}),
        )
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    assert!(
        s.cookie("cmi-user-ticket").is_some(),
        "login sets the ticket"
    );
}

fn urlenc(s: &str) -> String {
    s.replace('=', "%3D")
        .replace('+', "%2B")
        .replace('/', "%2F")
}

fn today(sb: &Running) -> i64 {
    Date::from_unix_ms(sb.shared.clock.now_ms(), 480).to_days()
}

fn date(days: i64) -> String {
    Date::from_days(days).to_string()
}

/// The first clinic of a hospital, as `department/hos/list` shows it.
async fn first_clinic(s: &Site, hos: &str) -> (String, String) {
    let v = s
        .get(&format!("/web/department/hos/list?hosCode={hos}"))
        .await;
    let sub = &v["data"]["list"][0]["subList"][0];
    assert_eq!(sub["dept1Code"], v["data"]["list"][0]["code"]);
    (
        sub["dept1Code"].as_str().unwrap().to_string(),
        sub["code"].as_str().unwrap().to_string(),
    )
}

fn dept_body(hos: &str, first: &str, second: &str) -> Value {
    json!({"hosCode": hos, "firstDeptCode": first, "secondDeptCode": second})
}

fn with(mut a: Value, b: Value) -> Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// Decodes an `fcode`/`ncode` with the font named by `dutyImgUrl`, regenerating the
/// sandbox's font set (seed 1, three fonts, the default typeface) as a test may.
fn decode(url: &str, entities: &str) -> String {
    static SET: std::sync::OnceLock<FontSet> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| FontSet::generate(1, 3, FontSet::default_typeface()).unwrap());
    let name = url.rsplit('/').next().unwrap();
    let font = set.font(name).expect("a font of the set");
    let mut out = String::new();
    for part in entities.split(';').filter(|p| !p.is_empty()) {
        let hex = part.strip_prefix("&#x").expect("an entity");
        let cp = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap();
        assert!(('\u{E000}'..='\u{F8FF}').contains(&cp), "PUA: {cp:?}");
        out.push(font.digit_of(cp).expect("a code point of the font"));
    }
    out
}

fn no_polling_limit() -> Value {
    json!({"window_ms": 10000, "burst": 0})
}

#[tokio::test]
async fn happy_path_from_captcha_to_cancel() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "hospitals": [{"code": "270", "open_time": "08:30", "booking_range": 7, "periods": false}],
        "inventory": [{"hos_code": "270", "date": 3, "duty": "AFTERNOON", "doctor": "刘一涵",
                       "title": "副主任医师", "fee": "100", "count": 2}],
        "accounts": [{"mobile": "17796761085", "name": "黄贺"}],
    }}))
    .await;
    let s = Site::new(&sb);

    // The captcha picture is a real PNG.
    let r = s.get_raw("/web/img/getImgCode").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 120);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 40);
    assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    assert!(s.cookie("agent_login_img_code").is_some());
    assert!(s.cookie("secure-key").is_some());
    let session = s.cookie("imed_session").unwrap();
    let answer = admin_get(&sb, "/captcha?platform=114yygh").await[&session]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(answer.len(), 4);
    let wrong = if answer == "0000" { "1111" } else { "0000" };
    assert_eq!(
        s.get(&format!("/web/checkcode?code={wrong}")).await["data"],
        false
    );
    assert_eq!(
        s.get(&format!("/web/checkcode?code={answer}")).await["data"],
        true
    );
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={}&smsKey=LOGIN&code={answer}",
            urlenc(&yygh114_encrypt("17796761085"))
        ))
        .await;
    assert_eq!(v, json!({"resCode": 0, "msg": null, "data": null}));
    let sms = admin_get(&sb, "/inbox?phone=17796761085").await;
    let code = sms[0]["code"].as_str().unwrap().to_string();
    assert!(sms[0]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("【{code}】")));
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt("17796761085"), "code": yygh114_encrypt(&code)}),
        )
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    assert_eq!(v["data"]["authStatus"], "AUTH_PASS");
    assert!(s.cookie("cmi-user-ticket").unwrap().ends_with(".."));

    // Browse.
    let list = s
        .get("/web/hospital/list?keywords=中日友好&levelId=0&areaId=0&pageNo=1&pageSize=20")
        .await;
    assert_eq!(list["data"]["list"][0]["code"], "270");
    assert_eq!(list["data"]["list"][0]["name"], "中日友好医院");
    let hos = s.get("/web/hospital/detail?hosCode=270").await;
    assert_eq!(hos["data"]["openTimeView"], "08:30");
    assert_eq!(hos["data"]["bookingRange"], 7);
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let t = today(&sb);
    let cal = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 1})))
        .await;
    assert_eq!(cal["resCode"], 0, "{cal}");
    assert_eq!(cal["data"]["hosName"], "中日友好医院");
    assert_eq!(cal["data"]["totalWeek"], 2);
    assert!(cal["data"]["fhTimestamp"].as_i64().unwrap() > sb.shared.clock.now_ms() - 5_000);
    let days = cal["data"]["calendars"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[0]["dutyDate"], date(t + 1));
    assert_eq!(days[2]["dutyDate"], date(t + 3));
    assert_eq!(days[2]["status"], "AVAILABLE");
    assert!(days[2]["weekDesc"].as_str().unwrap().starts_with('周'));

    // The day's doctors, numbers drawn by a font.
    let target = date(t + 3);
    let detail_body = with(dept.clone(), json!({"target": target}));
    let v = s.post("/web/product/detail", &detail_body).await;
    let blocks = v["data"].as_array().unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["dutyCode"], "AFTERNOON");
    assert_eq!(blocks[0]["showNumber"], true);
    let url = blocks[0]["dutyImgUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with("//127.0.0.1:"), "{url}");
    let doc = &blocks[0]["detail"][0];
    assert_eq!(doc["doctorName"], "刘一涵");
    assert_eq!(doc["wnumber"].as_i64().unwrap() % 2, 1, "odd: bookable");
    assert!(doc["znumber"].is_number());
    assert_eq!(decode(&url, doc["ncode"].as_str().unwrap()), "2");
    assert_eq!(decode(&url, doc["fcode"].as_str().unwrap()), "100");
    let ttf = reqwest::get(format!("http:{url}")).await.unwrap();
    assert_eq!(ttf.status(), 200);
    let ttf = ttf.bytes().await.unwrap();
    assert_eq!(&ttf[..4], &[0, 1, 0, 0], "a TrueType file");
    let key = doc["uniqProductKey"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 40);

    // Who books, with which card.
    let rn = s.get("/web/user/real-name/status").await;
    assert_eq!(rn["data"]["status"], "AUTH_PASS");
    assert_eq!(rn["data"]["name"], "*贺");
    let pl = s.get("/web/patient/list?showType=ORDER_CONFIRM").await;
    assert_eq!(pl["data"]["count"], 1);
    let patient = &pl["data"]["list"][0];
    assert_eq!(patient["patientName"], "黄贺");
    let card = patient["cardList"][0].clone();
    assert_eq!(card["cardType"], "SOCIAL_SECURITY");
    assert!(card["cardNo"].as_str().unwrap().contains("****"));

    // Confirm, then save.
    let booking = with(
        dept.clone(),
        json!({"target": target, "dutyTime": 0, "uniqProductKey": key}),
    );
    let conf = s.post("/web/product/confirm", &booking).await;
    assert_eq!(conf["resCode"], 0, "{conf}");
    let cd = &conf["data"];
    assert_eq!(cd["hospitalName"], "中日友好医院");
    assert_eq!(cd["dataItem"]["smsCode"], 2, "no SMS asked by default");
    assert!(cd["visitTime"].as_str().unwrap().contains("下午"));
    assert_eq!(
        decode(
            cd["dutyImgUrl"].as_str().unwrap(),
            cd["totalFee"].as_str().unwrap()
        ),
        "100"
    );
    let token = cd["confirmToken"].as_str().unwrap().to_string();
    let save_body = with(
        booking.clone(),
        json!({"cardNo": card["cardNo"], "cardType": "SOCIAL_SECURITY", "orderFrom": "HOSP",
               "phone": "17796761085", "treatmentDay": target, "smsCode": "", "confirmToken": token}),
    );
    let saved = s.post("/web/order/save", &save_body).await;
    assert_eq!(saved["resCode"], 0, "{saved}");
    assert_eq!(saved["data"]["lineup"], false);
    let order_no = saved["data"]["orderNo"].as_str().unwrap().to_string();
    assert_eq!(order_no.len(), 12);

    let od = s
        .get(&format!("/web/order/detail?hosCode=270&orderNo={order_no}"))
        .await;
    assert_eq!(od["data"]["orderStatus"], "BOOKING_SUCCESS");
    assert_eq!(od["data"]["orderBaseInfo"]["doctorName"], "刘一涵");
    assert_eq!(od["data"]["patientInfo"]["patientName"], "黄贺");
    assert_eq!(od["data"]["canCancel"], true);
    let v = s.post("/web/product/detail", &detail_body).await;
    let doc = &v["data"][0]["detail"][0];
    assert_eq!(
        decode(
            v["data"][0]["dutyImgUrl"].as_str().unwrap(),
            doc["ncode"].as_str().unwrap()
        ),
        "1"
    );

    // No second order for the same slot.
    let conf = s.post("/web/product/confirm", &booking).await;
    let again = with(
        save_body.clone(),
        json!({"confirmToken": conf["data"]["confirmToken"]}),
    );
    let dup = s.post("/web/order/save", &again).await;
    assert_eq!(dup["resCode"], 8008, "{dup}");
    assert_eq!(dup["data"], Value::Null);

    // Cancel: the slot comes back.
    let v = s
        .get(&format!("/web/order/cancel?orderNo={order_no}&hosCode=270"))
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    let v = s.post("/web/product/detail", &detail_body).await;
    let doc = &v["data"][0]["detail"][0];
    assert_eq!(
        decode(
            v["data"][0]["dutyImgUrl"].as_str().unwrap(),
            doc["ncode"].as_str().unwrap()
        ),
        "2"
    );
    let od = s
        .get(&format!("/web/order/detail?hosCode=270&orderNo={order_no}"))
        .await;
    assert_eq!(od["data"]["orderStatus"], "CANCELED");
    let orders = admin_get(&sb, "/orders?platform=114yygh").await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    assert_eq!(orders[0]["orderNo"], order_no);
    assert_eq!(orders[0]["status"], "CANCELED");
}

#[tokio::test]
async fn fonts_change_between_replies_and_all_decode() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "hospitals": [{"code": "270", "periods": true}],
        "inventory": [{"hos_code": "270", "date": 2, "fee": "42.5", "count": 7, "periods": true}],
    }}))
    .await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000001").await;
    let (first, second) = first_clinic(&s, "270").await;
    let body = with(
        dept_body("270", &first, &second),
        json!({"target": date(today(&sb) + 2)}),
    );
    let mut urls = std::collections::HashSet::new();
    for _ in 0..6 {
        let v = s.post("/web/product/detail", &body).await;
        let url = v["data"][0]["dutyImgUrl"].as_str().unwrap().to_string();
        let doc = &v["data"][0]["detail"][0];
        assert_eq!(decode(&url, doc["fcode"].as_str().unwrap()), "42.5");
        assert_eq!(decode(&url, doc["ncode"].as_str().unwrap()), "7");
        let periods = doc["period"].as_array().unwrap();
        assert!(periods.len() >= 2);
        let sum: u32 = periods
            .iter()
            .map(|p| {
                decode(&url, p["ncode"].as_str().unwrap())
                    .parse::<u32>()
                    .unwrap()
            })
            .sum();
        assert_eq!(sum, 7);
        for p in periods {
            let n: u32 = decode(&url, p["ncode"].as_str().unwrap()).parse().unwrap();
            assert_eq!(p["remainAvailableNumber"].as_u64().unwrap() % 2 == 1, n > 0);
        }
        urls.insert(url);
    }
    assert!(urls.len() >= 3, "several fonts: {urls:?}");
}

#[tokio::test]
async fn not_logged_in_is_102_before_login_and_after_session_expiry() {
    let sb = start(json!({"114yygh": {"rate_limit": no_polling_limit()}})).await;
    let s = Site::new(&sb);
    let (first, second) = first_clinic(&s, "270").await;
    let body = with(dept_body("270", &first, &second), json!({"week": 1}));
    let v = s.post("/web/product/list", &body).await;
    assert_eq!(
        v,
        json!({"resCode": 102, "msg": "用户未登录", "data": null})
    );
    assert_eq!(
        s.get("/web/patient/list?showType=ORDER_CONFIRM").await["resCode"],
        102
    );
    // Public pages need no login.
    assert_eq!(
        s.get("/web/hospital/detail?hosCode=270").await["resCode"],
        0
    );

    login(&sb, &s, "13800000002").await;
    assert_eq!(s.post("/web/product/list", &body).await["resCode"], 0);
    arm(
        &sb,
        json!({"platform": "114yygh", "route": "/web/product/list", "kind": "session_expired"}),
    )
    .await;
    let v = s.post("/web/product/list", &body).await;
    assert_eq!(v["resCode"], 102, "{v}");
    assert_eq!(v["data"], Value::Null);
    assert_eq!(s.get("/web/user/real-name/status").await["resCode"], 102);
    // Log in again (the SMS interval has passed on the simulated clock) and carry on.
    admin_post(&sb, "/clock", json!({"advance_ms": 61_000})).await;
    login(&sb, &s, "13800000002").await;
    assert_eq!(s.post("/web/product/list", &body).await["resCode"], 0);
    // The admin action expires sessions too.
    admin_post(&sb, "/platform/114yygh/expire_sessions", json!({})).await;
    assert_eq!(s.post("/web/product/list", &body).await["resCode"], 102);
}

#[tokio::test]
async fn polling_faster_than_the_rate_gets_http_403() {
    let sb = start(json!({"114yygh": {"rate_limit": {"window_ms": 10000, "burst": 3}}})).await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000003").await;
    let (first, second) = first_clinic(&s, "270").await;
    let body = with(
        dept_body("270", &first, &second),
        json!({"target": date(today(&sb) + 1)}),
    );
    for _ in 0..3 {
        assert_eq!(s.post_raw("/web/product/detail", &body).await.status(), 200);
    }
    let r = s.post_raw("/web/product/detail", &body).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Another session is not affected; this one recovers after the window.
    let other = Site::new(&sb);
    login(&sb, &other, "13800000004").await;
    assert_eq!(
        other.post_raw("/web/product/detail", &body).await.status(),
        200
    );
    admin_post(&sb, "/clock", json!({"advance_ms": 10_001})).await;
    assert_eq!(s.post_raw("/web/product/detail", &body).await.status(), 200);
    // Non-polling endpoints are not limited.
    for _ in 0..5 {
        assert_eq!(
            s.get_raw("/web/hospital/detail?hosCode=270").await.status(),
            200
        );
    }
}

#[tokio::test]
async fn legacy_envelope_uses_2009_and_4023() {
    let sb = start(json!({"114yygh": {
        "legacy_envelope": true,
        "rate_limit": no_polling_limit(),
        "hospitals": [{"code": "270", "booking_range": 7}],
    }}))
    .await;
    let s = Site::new(&sb);
    let v = s.get("/web/hospital/detail?hosCode=270").await;
    assert_eq!(v["code"], 200);
    assert_eq!(v["hasError"], false);
    assert_eq!(v["msg"], "OK");
    assert_eq!(v["data"]["bookingRange"], 7);
    assert!(v.get("resCode").is_none());
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let v = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 1})))
        .await;
    assert_eq!(v["code"], 2009, "{v}");
    assert_eq!(v["hasError"], true);
    assert_eq!(v["data"], Value::Null);
    login_legacy(&sb, &s, "13800000005").await;
    let v = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 1})))
        .await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["data"]["calendars"].as_array().unwrap().len(), 7);
    let v = s
        .post(
            "/web/product/detail",
            &with(dept, json!({"target": date(today(&sb) + 20)})),
        )
        .await;
    assert_eq!(v["code"], 4023, "{v}");
    assert_eq!(v["msg"], "不在放号周期内");
    assert_eq!(v["hasError"], true);
}

async fn login_legacy(sb: &Running, s: &Site, mobile: &str) {
    s.get_raw("/web/img/getImgCode").await;
    let session = s.cookie("imed_session").unwrap();
    let answer = admin_get(sb, "/captcha?platform=114yygh").await[&session]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={}&smsKey=LOGIN&code={answer}",
            urlenc(&yygh114_encrypt(mobile))
        ))
        .await;
    assert_eq!(v["code"], 200, "{v}");
    let code = admin_get(sb, &format!("/inbox?phone={mobile}")).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt(mobile), "code": yygh114_encrypt(&code)}),
        )
        .await;
    assert_eq!(v["code"], 200, "{v}");
}

/// Milliseconds from now to the next 06:00 Beijing time (real clock).
fn to_six_beijing() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let local = (now + 8 * 3_600_000).rem_euclid(86_400_000);
    (6 * 3_600_000 - local).rem_euclid(86_400_000)
}

#[tokio::test]
async fn the_daily_release_at_open_time_turns_tomorrow_open_into_available() {
    // 06:00 Beijing on the simulated clock; the hospital releases 7 days ahead at 08:30.
    let sb = start(json!({
        "clock": {"advance_ms": to_six_beijing()},
        "114yygh": {
            "rate_limit": no_polling_limit(),
            "hospitals": [{"code": "270", "open_time": "08:30", "booking_range": 7}],
            "inventory": [{"hos_code": "270", "date": 7, "duty": "MORNING", "count": 3}],
            "competitors": [{"hos_code": "270", "within_ms": 60000, "take": 1}],
        }
    }))
    .await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000006").await;
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let t = today(&sb);
    let status_of = |cal: &Value, day: i64| {
        cal["data"]["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["dutyDate"] == date(day))
            .map(|c| c["status"].as_str().unwrap().to_string())
    };
    let cal = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 1})))
        .await;
    assert_eq!(
        status_of(&cal, t + 7).as_deref(),
        Some("TOMORROW_OPEN"),
        "{cal}"
    );
    let release_at = Date::from_days(t).to_days() * 86_400_000 - 8 * 3_600_000 + 510 * 60_000;
    assert_eq!(cal["data"]["fhTimestamp"], release_at);
    let detail = with(dept.clone(), json!({"target": date(t + 7)}));
    assert_eq!(
        s.post("/web/product/detail", &detail).await["data"],
        json!([])
    );

    // 08:30:01.
    admin_post(
        &sb,
        "/clock",
        json!({"advance_ms": 2 * 3_600_000 + 30 * 60_000 + 1_000}),
    )
    .await;
    let cal = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 1})))
        .await;
    assert_eq!(
        status_of(&cal, t + 7).as_deref(),
        Some("AVAILABLE"),
        "{cal}"
    );
    assert_eq!(cal["data"]["fhTimestamp"], release_at + 86_400_000);
    let cal2 = s
        .post("/web/product/list", &with(dept.clone(), json!({"week": 2})))
        .await;
    assert_eq!(
        status_of(&cal2, t + 8).as_deref(),
        Some("TOMORROW_OPEN"),
        "{cal2}"
    );
    let v = s.post("/web/product/detail", &detail).await;
    let url = v["data"][0]["dutyImgUrl"].as_str().unwrap();
    assert_eq!(
        decode(url, v["data"][0]["detail"][0]["ncode"].as_str().unwrap()),
        "3"
    );
    // Within a minute another buyer takes one of them.
    admin_post(&sb, "/clock", json!({"advance_ms": 60_000})).await;
    let v = s.post("/web/product/detail", &detail).await;
    let url = v["data"][0]["dutyImgUrl"].as_str().unwrap();
    assert_eq!(
        decode(url, v["data"][0]["detail"][0]["ncode"].as_str().unwrap()),
        "2"
    );
}

/// Confirms and saves `key` with the account's first card.
async fn book(s: &Site, dept: &Value, target: &str, key: &str) -> Value {
    let pl = s.get("/web/patient/list?showType=ORDER_CONFIRM").await;
    let p = &pl["data"]["list"][0];
    let card = &p["cardList"][0];
    let booking = with(
        dept.clone(),
        json!({"target": target, "dutyTime": 0, "uniqProductKey": key}),
    );
    let conf = s.post("/web/product/confirm", &booking).await;
    if conf["resCode"] != 0 {
        return conf;
    }
    s.post(
        "/web/order/save",
        &with(
            booking,
            json!({"cardNo": card["cardNo"], "cardType": card["cardType"], "orderFrom": "HOSP",
                   "phone": p["phone"], "treatmentDay": target, "smsCode": "",
                   "confirmToken": conf["data"]["confirmToken"]}),
        ),
    )
    .await
}

#[tokio::test]
async fn other_buyers_take_released_slots_within_n_ms() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "hospitals": [{"code": "270", "booking_range": 7}],
        // Beyond the daily window (7 days): only explicit releases open this day, and it
        // has no other doctor.
        "inventory": [{"hos_code": "270", "date": 12, "doctor": "赵敏", "count": 0}],
        "competitors": [{"hos_code": "270", "within_ms": 60000}],
    }}))
    .await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000007").await;
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let t = today(&sb);
    let target = date(t + 12);
    let detail = with(dept.clone(), json!({"target": target}));
    assert_eq!(
        s.post("/web/product/detail", &detail).await["data"],
        json!([])
    );

    // A release scheduled a minute ahead.
    let at = sb.shared.clock.now_ms() + 60_000;
    let v = admin_post(
        &sb,
        "/release",
        json!({"platform": "114yygh", "hos_code": "270",
        "date": target, "duty": "AFTERNOON", "count": 1, "doctor": "王伟", "at_ms": at}),
    )
    .await;
    assert_eq!(v["released"]["scheduled"], true);
    assert_eq!(
        s.post("/web/product/detail", &detail).await["data"],
        json!([])
    );
    admin_post(&sb, "/clock", json!({"advance_ms": 61_000})).await;
    let v = s.post("/web/product/detail", &detail).await;
    let block = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["dutyCode"] == "AFTERNOON")
        .unwrap()
        .clone();
    let doc = block["detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["doctorName"] == "王伟")
        .unwrap()
        .clone();
    assert_eq!(
        doc["wnumber"].as_i64().unwrap() % 2,
        1,
        "released and still free"
    );
    // The other buyer strikes within a minute of the release.
    admin_post(&sb, "/clock", json!({"advance_ms": 60_000})).await;
    let v = s.post("/web/product/detail", &detail).await;
    let block = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["dutyCode"] == "AFTERNOON")
        .unwrap()
        .clone();
    let doc = block["detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["doctorName"] == "王伟")
        .unwrap()
        .clone();
    assert_eq!(doc["wnumber"].as_i64().unwrap() % 2, 0, "taken: {doc}");
    assert_eq!(
        decode(
            block["dutyImgUrl"].as_str().unwrap(),
            doc["ncode"].as_str().unwrap()
        ),
        "0"
    );
    let r = book(&s, &dept, &target, doc["uniqProductKey"].as_str().unwrap()).await;
    assert_eq!(r["resCode"], 8008, "{r}");
    let taken = admin_post(&sb, "/platform/114yygh/taken_by_others", json!({})).await;
    assert_eq!(taken.as_array().unwrap().len(), 1);

    // A buyer quicker than the others gets the slot; they find nothing left.
    let v = admin_post(
        &sb,
        "/release",
        json!({"platform": "114yygh", "hos_code": "270",
        "date": target, "duty": "MORNING", "count": 1, "doctor": "李娜"}),
    )
    .await;
    let key = v["released"]["uniqProductKey"]
        .as_str()
        .unwrap()
        .to_string();
    let r = book(&s, &dept, &target, &key).await;
    assert_eq!(r["resCode"], 0, "{r}");
    admin_post(&sb, "/clock", json!({"advance_ms": 120_000})).await;
    let taken = admin_post(&sb, "/platform/114yygh/taken_by_others", json!({})).await;
    assert_eq!(
        taken.as_array().unwrap().len(),
        1,
        "nothing left for the others"
    );
    assert_eq!(
        admin_get(&sb, "/orders?platform=114yygh")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn many_parallel_buyers_for_one_slot_make_exactly_one_order() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "inventory": [{"hos_code": "270", "date": 2, "count": 1, "periods": false}],
    }}))
    .await;
    let n = 16;
    let mut sites = Vec::new();
    for i in 0..n {
        let s = Site::new(&sb);
        login(&sb, &s, &format!("139{:08}", i)).await;
        sites.push(s);
    }
    let (first, second) = first_clinic(&sites[0], "270").await;
    let dept = dept_body("270", &first, &second);
    let target = date(today(&sb) + 2);
    let v = sites[0]
        .post(
            "/web/product/detail",
            &with(dept.clone(), json!({"target": target})),
        )
        .await;
    let key = v["data"][0]["detail"][0]["uniqProductKey"]
        .as_str()
        .unwrap()
        .to_string();
    // Everyone confirms first, then all save at once.
    let mut saves = Vec::new();
    for s in &sites {
        let pl = s.get("/web/patient/list?showType=ORDER_CONFIRM").await;
        let p = pl["data"]["list"][0].clone();
        let booking = with(
            dept.clone(),
            json!({"target": target, "dutyTime": 0, "uniqProductKey": key}),
        );
        let conf = s.post("/web/product/confirm", &booking).await;
        assert_eq!(conf["resCode"], 0, "{conf}");
        saves.push(with(
            booking,
            json!({"cardNo": p["cardList"][0]["cardNo"],
            "cardType": p["cardList"][0]["cardType"], "orderFrom": "HOSP", "phone": p["phone"],
            "treatmentDay": target, "smsCode": "", "confirmToken": conf["data"]["confirmToken"]}),
        ));
    }
    let tasks: Vec<_> = sites
        .into_iter()
        .zip(saves)
        .map(|(s, body)| tokio::spawn(async move { s.post("/web/order/save", &body).await }))
        .collect();
    let mut ok = 0;
    for t in tasks {
        let v = t.await.unwrap();
        match v["resCode"].as_i64() {
            Some(0) => ok += 1,
            Some(8008) => assert!(v["msg"].as_str().unwrap().contains("约满"), "{v}"),
            _ => panic!("unexpected reply {v}"),
        }
    }
    assert_eq!(ok, 1);
    let orders = admin_get(&sb, "/orders?platform=114yygh").await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let slots = admin_post(
        &sb,
        "/platform/114yygh/slots",
        json!({"hos_code": "270", "date": 2}),
    )
    .await;
    assert_eq!(slots["duties"][0]["products"][0]["remaining"], 0);
}

#[tokio::test]
async fn body_faults_on_product_detail_are_observable() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "inventory": [{"hos_code": "270", "date": 1, "count": 5}],
    }}))
    .await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000008").await;
    let (first, second) = first_clinic(&s, "270").await;
    let body = with(
        dept_body("270", &first, &second),
        json!({"target": date(today(&sb) + 1)}),
    );
    let route = "/web/product/detail";
    let text = |r: reqwest::Response| async move { r.text().await.unwrap() };

    arm(
        &sb,
        json!({"platform": "114yygh", "route": route, "kind": "truncated"}),
    )
    .await;
    let t = text(s.post_raw(route, &body).await).await;
    assert!(serde_json::from_str::<Value>(&t).is_err(), "truncated: {t}");
    assert!(t.starts_with("{\"resCode\":0"));

    arm(
        &sb,
        json!({"platform": "114yygh", "route": route, "kind": "malformed"}),
    )
    .await;
    let t = text(s.post_raw(route, &body).await).await;
    assert!(serde_json::from_str::<Value>(&t).is_err(), "malformed: {t}");

    arm(
        &sb,
        json!({"platform": "114yygh", "route": route, "kind": "missing_field", "field": "ncode"}),
    )
    .await;
    let v: Value = s.post_raw(route, &body).await.json().await.unwrap();
    assert_eq!(v["resCode"], 0);
    assert!(v["data"][0]["detail"][0].get("ncode").is_none(), "{v}");
    assert!(v["data"][0]["detail"][0].get("fcode").is_some());

    arm(&sb, json!({"platform": "114yygh", "route": route, "kind": "rename_field", "from": "wnumber", "to": "wNumber"})).await;
    let v: Value = s.post_raw(route, &body).await.json().await.unwrap();
    assert!(v["data"][0]["detail"][0].get("wnumber").is_none());
    assert!(v["data"][0]["detail"][0]["wNumber"].is_number());

    arm(
        &sb,
        json!({"platform": "114yygh", "route": route, "kind": "status", "status": 502}),
    )
    .await;
    assert_eq!(s.post_raw(route, &body).await.status(), 502);

    // And then the real thing again.
    let v: Value = s.post_raw(route, &body).await.json().await.unwrap();
    assert!(v["data"][0]["detail"][0]["ncode"].is_string());
    let log = admin_get(&sb, "/requests?platform=114yygh&limit=6").await;
    let faults: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fault"].clone())
        .collect();
    assert_eq!(
        faults,
        [
            json!("truncated"),
            json!("malformed"),
            json!("missing_field"),
            json!("rename_field"),
            json!("status"),
            Value::Null
        ]
    );
}

#[tokio::test]
async fn the_page_is_html_for_a_browser_tab_and_never_limited() {
    // One poll per window and Request-Source required: the page needs neither.
    let sb = start(json!({"114yygh": {"rate_limit": {"window_ms": 10000, "burst": 1}}})).await;
    let s = Site::new(&sb);
    let r = s.c.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    // A client without `imed_session` gets one, as from the API.
    let set: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    for name in ["imed_session", "imed_session_tm", "secure-key"] {
        let c = set
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {set:?}"));
        // What a browser keeps on plain http and sends back from an extension's fetch.
        assert!(c.contains("; Path=/"), "{c}");
        assert!(!c.to_ascii_lowercase().contains("; secure"), "{c}");
        assert!(!c.to_ascii_lowercase().contains("samesite=strict"), "{c}");
    }
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("<title>北京114预约挂号 · sandbox</title>"),
        "{html}"
    );
    assert!(html.contains("Haoyuan sandbox of 114yygh"), "{html}");
    let session = s.cookie("imed_session").expect("the page set imed_session");

    // The other paths, many times: never 403, and no second session.
    for path in [
        "/index.html",
        "/html/index.html",
        "/html/hospital/270/home",
        "/",
    ] {
        for _ in 0..3 {
            let r = s.c.get(format!("{}{path}", s.base)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
            assert!(r.headers().get("set-cookie").is_none(), "{path}");
            assert!(r.text().await.unwrap().contains("<title>北京114预约挂号"));
        }
    }
    assert_eq!(s.cookie("imed_session"), Some(session.clone()));
    // The session the page set is the one the API goes on with (the captcha is keyed by it).
    assert_eq!(s.get_raw("/web/img/getImgCode").await.status(), 200);
    let answers = admin_get(&sb, "/captcha?platform=114yygh").await;
    assert!(answers[&session].is_string(), "{answers}");

    // Logged like every route.
    let log = admin_get(&sb, "/requests?platform=114yygh").await;
    let pages: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().starts_with("/web/"))
        .map(|r| (r["method"].clone(), r["path"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(pages.len(), 13, "{log}");
    assert_eq!(pages[0], (json!("GET"), json!("/"), json!(200)));
    assert_eq!(pages[1], (json!("GET"), json!("/index.html"), json!(200)));
    assert_eq!(
        pages[7],
        (json!("GET"), json!("/html/hospital/270/home"), json!(200))
    );
}

/// A GET as a browser extension's `fetch` sends it: with `Origin`, `Referer` and
/// `Sec-Fetch-Site`.
async fn get_from(s: &Site, path: &str, origin: &str, referer: &str, site: &str) -> Value {
    let r =
        s.c.get(s.url(path))
            .header("Request-Source", "PC")
            .header("Origin", origin)
            .header("Referer", referer)
            .header("Sec-Fetch-Site", site)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_log_says_who_sent_each_request_and_with_which_login() {
    let sb = start(json!({"114yygh": {"rate_limit": no_polling_limit()}})).await;
    let s = Site::new(&sb);
    let ext = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    let page = format!("{}/", s.base);

    // Before a login: the headers as sent, no session.
    let v = get_from(&s, "/web/hospital/detail?hosCode=270", ext, &page, "none").await;
    assert_eq!(v["resCode"], 0);
    s.get("/web/hospital/detail?hosCode=270").await;
    login(&sb, &s, "13800000005").await;
    let ticket = s.cookie("cmi-user-ticket").expect("a ticket");
    // After it: the session is the ticket's first 8 characters.
    let v = get_from(
        &s,
        "/web/user/real-name/status",
        &page[..page.len() - 1],
        &page,
        "same-origin",
    )
    .await;
    assert_eq!(v["resCode"], 0, "{v}");
    s.get("/web/patient/list?showType=ORDER_CONFIRM").await;

    let log = admin_get(&sb, "/requests?platform=114yygh").await;
    let log = log.as_array().unwrap();
    let first = &log[0];
    assert_eq!(first["path"], "/web/hospital/detail");
    assert_eq!(first["origin"], ext);
    assert_eq!(first["referer"], page.as_str());
    assert_eq!(first["sec_fetch_site"], "none");
    assert!(first.get("session").is_none(), "{first}");
    // Headers not sent are not in the entry at all.
    let second = log[1].as_object().unwrap();
    let mut keys: Vec<_> = second.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["at", "method", "path", "platform", "query", "status"],
        "{second:?}"
    );
    // No session up to and including the login request (it carried no ticket).
    let login_at = log
        .iter()
        .position(|r| r["path"] == "/web/login")
        .expect("the login is logged");
    assert!(log[..=login_at].iter().all(|r| r.get("session").is_none()));
    let short: String = ticket.chars().take(8).collect();
    let after = &log[login_at + 1..];
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.iter().all(|r| r["session"] == short.as_str()),
        "{after:?}"
    );
    assert_eq!(after[0]["path"], "/web/user/real-name/status");
    assert_eq!(after[0]["origin"], s.base.as_str());
    assert_eq!(after[0]["sec_fetch_site"], "same-origin");
    assert!(after[1].get("origin").is_none());
    // Another login is another session.
    let other = Site::new(&sb);
    login(&sb, &other, "13800000006").await;
    other.get("/web/user/real-name/status").await;
    let log = admin_get(&sb, "/requests?platform=114yygh&limit=1").await;
    let other_ticket = other.cookie("cmi-user-ticket").unwrap();
    assert_eq!(log[0]["session"], other_ticket[..8]);
    assert_ne!(log[0]["session"], short.as_str());
}

#[tokio::test]
async fn without_request_source_the_channel_is_illegal() {
    let sb = start(json!(null)).await;
    let base = sb.url("114yygh");
    let c = client();
    let v: Value = c
        .get(format!("{base}/web/hospital/detail?hosCode=270"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v,
        json!({"resCode": 10000, "msg": "渠道非法", "data": null})
    );
    // The captcha image is loaded by an <img> tag: no header needed.
    let r = c
        .get(format!("{base}/web/img/getImgCode"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
}

#[tokio::test]
async fn captcha_and_sms_mistakes_are_refused_in_the_sites_words() {
    let sb = start(json!({"114yygh": {"rate_limit": no_polling_limit()}})).await;
    let s = Site::new(&sb);
    let mobile = "13800000009";
    let enc = urlenc(&yygh114_encrypt(mobile));
    s.get_raw("/web/img/getImgCode").await;
    let session = s.cookie("imed_session").unwrap();
    let answer = admin_get(&sb, "/captcha?platform=114yygh").await[&session]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = if answer == "0000" { "1111" } else { "0000" };
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={enc}&smsKey=LOGIN&code={wrong}"
        ))
        .await;
    assert_eq!(v["resCode"], 7002);
    assert_eq!(v["msg"], "图形验证码输入错误");
    // The picture is spent: a new one is needed.
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={enc}&smsKey=LOGIN&code={answer}"
        ))
        .await;
    assert_eq!(v["resCode"], 7002);
    assert!(admin_get(&sb, &format!("/inbox?phone={mobile}"))
        .await
        .as_array()
        .unwrap()
        .is_empty());

    s.get_raw("/web/img/getImgCode").await;
    let answer = admin_get(&sb, "/captcha?platform=114yygh").await[&session]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={enc}&smsKey=LOGIN&code={answer}"
        ))
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    let code = admin_get(&sb, &format!("/inbox?phone={mobile}")).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = if code == "000000" { "111111" } else { "000000" };
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt(mobile), "code": yygh114_encrypt(bad)}),
        )
        .await;
    assert_eq!(
        v,
        json!({"resCode": 7001, "msg": "短信验证码错误", "data": null})
    );
    // The code in clear is not what the site's page sends.
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt(mobile), "code": code}),
        )
        .await;
    assert_eq!(v["resCode"], 7001);
    // Asking again at once is too frequent.
    s.get_raw("/web/img/getImgCode").await;
    let answer = admin_get(&sb, "/captcha?platform=114yygh").await[&session]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={enc}&smsKey=LOGIN&code={answer}"
        ))
        .await;
    assert_eq!(v["resCode"], 7003);
    // The right code still works.
    let v = s
        .post(
            "/web/login",
            &json!({"mobile": yygh114_encrypt(mobile), "code": yygh114_encrypt(&code)}),
        )
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    // Garbage never breaks the server.
    let r = s.post_raw("/web/login", &json!("not an object")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["resCode"], 1001);
    let r = s
        .post_raw("/web/product/detail", &json!({"target": "2022-02-30"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["resCode"], 1002);
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    for target in ["2022-02-30", "9999-12-31", "", "1900-01-01"] {
        let v = s
            .post(
                "/web/product/detail",
                &with(dept.clone(), json!({"target": target})),
            )
            .await;
        assert!(
            v["resCode"] == 1001 || v["data"] == json!([]),
            "{target}: {v}"
        );
    }
    let v = s
        .post("/web/product/list", &with(dept, json!({"week": "x"})))
        .await;
    assert_eq!(v["resCode"], 0, "a bad week reads as week 1: {v}");
}

#[tokio::test]
async fn order_sms_is_needed_when_data_item_asks_for_it() {
    let sb = start(json!({"114yygh": {
        "order_sms": true,
        "rate_limit": no_polling_limit(),
        "inventory": [{"hos_code": "270", "date": 2, "count": 1}],
    }}))
    .await;
    let s = Site::new(&sb);
    let mobile = "13800000010";
    login(&sb, &s, mobile).await;
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let target = date(today(&sb) + 2);
    let v = s
        .post(
            "/web/product/detail",
            &with(dept.clone(), json!({"target": target})),
        )
        .await;
    let key = v["data"][0]["detail"][0]["uniqProductKey"]
        .as_str()
        .unwrap()
        .to_string();
    let booking = with(
        dept.clone(),
        json!({"target": target, "dutyTime": 0, "uniqProductKey": key}),
    );
    let conf = s.post("/web/product/confirm", &booking).await;
    assert_eq!(conf["data"]["dataItem"]["smsCode"], 4);
    let pl = s.get("/web/patient/list?showType=ORDER_CONFIRM").await;
    let p = &pl["data"]["list"][0];
    let save = with(
        booking.clone(),
        json!({"cardNo": p["cardList"][1]["cardNo"],
        "cardType": p["cardList"][1]["cardType"], "orderFrom": "HOSP", "phone": mobile,
        "treatmentDay": target, "smsCode": "", "confirmToken": conf["data"]["confirmToken"]}),
    );
    let v = s.post("/web/order/save", &save).await;
    assert_eq!(v["resCode"], 7001, "{v}");
    let v = s
        .get(&format!(
            "/web/common/verify-code/get?mobile={}&smsKey=ORDER_CODE&uniqProductKey={key}&code=",
            urlenc(&yygh114_encrypt(mobile))
        ))
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    let code = admin_get(&sb, &format!("/inbox?phone={mobile}"))
        .await
        .as_array()
        .unwrap()
        .last()
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let v = s
        .post("/web/order/save", &with(save, json!({"smsCode": code})))
        .await;
    assert_eq!(v["resCode"], 0, "{v}");
    let orders = admin_get(&sb, "/orders?platform=114yygh").await;
    assert_eq!(
        orders[0]["patientName"],
        pl["data"]["list"][0]["patientName"]
    );
}

#[tokio::test]
async fn order_save_without_the_confirm_token_must_confirm_again() {
    let sb = start(json!({"114yygh": {
        "rate_limit": no_polling_limit(),
        "inventory": [{"hos_code": "270", "date": 2, "count": 1}],
        "accounts": [{"mobile": "13800000011", "real_name": false}],
    }}))
    .await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800000012").await;
    let (first, second) = first_clinic(&s, "270").await;
    let dept = dept_body("270", &first, &second);
    let target = date(today(&sb) + 2);
    let v = s
        .post(
            "/web/product/detail",
            &with(dept.clone(), json!({"target": target})),
        )
        .await;
    let key = v["data"][0]["detail"][0]["uniqProductKey"]
        .as_str()
        .unwrap()
        .to_string();
    let pl = s.get("/web/patient/list?showType=ORDER_CONFIRM").await;
    let p = &pl["data"]["list"][0];
    let save = with(
        dept.clone(),
        json!({"target": target, "dutyTime": 0, "uniqProductKey": key,
        "cardNo": p["cardList"][0]["cardNo"], "cardType": p["cardList"][0]["cardType"],
        "orderFrom": "HOSP", "phone": p["phone"], "treatmentDay": target, "smsCode": ""}),
    );
    let v = s.post("/web/order/save", &save).await;
    assert_eq!(v["resCode"], 8009, "{v}");
    assert_eq!(book(&s, &dept, &target, &key).await["resCode"], 0);

    // An account without real-name verification cannot book.
    let other = Site::new(&sb);
    login(&sb, &other, "13800000011").await;
    let rn = other.get("/web/user/real-name/status").await;
    assert_eq!(rn["data"]["status"], "NOT_AUTH");
    assert_eq!(book(&other, &dept, &target, &key).await["resCode"], 6001);
}

#[tokio::test]
async fn hospital_list_pages_and_filters() {
    let sb = start(json!(null)).await;
    let s = Site::new(&sb);
    let all = s
        .get("/web/hospital/list?keywords=&levelId=0&areaId=0&pageNo=1&pageSize=20")
        .await;
    let count = all["data"]["count"].as_u64().unwrap();
    assert!(count >= 300, "hundreds of hospitals: {count}");
    let p1 = all["data"]["list"].as_array().unwrap().clone();
    assert_eq!(p1.len(), 20);
    for h in &p1 {
        for k in [
            "code",
            "name",
            "levelText",
            "openTimeText",
            "picture",
            "maintain",
        ] {
            assert!(h.get(k).is_some(), "{k} in {h}");
        }
    }
    let p2 = s
        .get("/web/hospital/list?keywords=&levelId=0&areaId=0&pageNo=2&pageSize=20")
        .await;
    let p2 = p2["data"]["list"].as_array().unwrap().clone();
    assert!(p1.iter().all(|h| !p2.contains(h)), "pages do not overlap");
    let l1 = s
        .get("/web/hospital/list?levelId=1&pageNo=1&pageSize=100")
        .await;
    assert!(l1["data"]["count"].as_u64().unwrap() < count);
    assert!(l1["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["levelText"] == "三级甲等"));
    let kw = s.get("/web/hospital/list?keywords=%E5%8C%97%E4%BA%AC%E5%A4%A7%E5%AD%A6&pageNo=1&pageSize=100").await;
    assert!(kw["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["name"].as_str().unwrap().contains("北京大学")));
    assert!(kw["data"]["count"].as_u64().unwrap() >= 2);
    let far = s
        .get("/web/hospital/list?pageNo=18446744073709551615&pageSize=100")
        .await;
    assert_eq!(far["resCode"], 0);
    assert_eq!(far["data"]["list"], json!([]));
    let none = s.get("/web/hospital/detail?hosCode=nope").await;
    assert_eq!(none["resCode"], 1002);
    // The nested department list.
    let d = s.get("/web/department/hos/list?hosCode=H02110003").await;
    let list = d["data"]["list"].as_array().unwrap();
    assert!(!list.is_empty());
    for dept in list {
        for sub in dept["subList"].as_array().unwrap() {
            assert_eq!(sub["dept1Code"], dept["code"]);
            assert!(sub["hotDept"].is_boolean());
        }
    }
}

fn scenario(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    haoyuan_sandbox::parse_scenario(&text).unwrap()
}

#[tokio::test]
async fn the_example_scenarios_load_and_do_what_they_say() {
    let sb = start(scenario("114yygh.yaml")).await;
    let s = Site::new(&sb);
    login(&sb, &s, "17796761085").await;
    let (first, second) = first_clinic(&s, "270").await;
    let detail = with(
        dept_body("270", &first, &second),
        json!({"target": date(today(&sb) + 3)}),
    );
    let v = s.post("/web/product/detail", &detail).await;
    let blocks = v["data"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{v}");
    assert_eq!(blocks[0]["dutyCode"], "MORNING");
    assert_eq!(
        blocks[0]["detail"][0]["wnumber"].as_i64().unwrap() % 2,
        0,
        "fully booked"
    );
    let afternoon = |v: &Value| {
        let b = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["dutyCode"] == "AFTERNOON")?
            .clone();
        Some(decode(
            b["dutyImgUrl"].as_str()?,
            b["detail"][0]["ncode"].as_str()?,
        ))
    };
    admin_post(&sb, "/clock", json!({"advance_ms": 121_000})).await;
    let v = s.post("/web/product/detail", &detail).await;
    assert_eq!(afternoon(&v).as_deref(), Some("2"), "released: {v}");
    admin_post(&sb, "/clock", json!({"advance_ms": 5_000})).await;
    let v = s.post("/web/product/detail", &detail).await;
    assert_eq!(
        afternoon(&v).as_deref(),
        Some("1"),
        "one taken by another buyer: {v}"
    );

    let sb = start(scenario("114yygh-legacy.yaml")).await;
    let s = Site::new(&sb);
    let v = s.get("/web/hospital/detail?hosCode=H02110003").await;
    assert_eq!(v["code"], 200);
    assert_eq!(v["data"]["openTimeView"], "09:00");
    assert_eq!(v["data"]["bookingRange"], 14);

    let sb = start(scenario("114yygh-order-sms.yaml")).await;
    let s = Site::new(&sb);
    login(&sb, &s, "13800138001").await;
    let (first, second) = first_clinic(&s, "162").await;
    let dept = dept_body("162", &first, &second);
    let target = date(today(&sb) + 2);
    let v = s
        .post(
            "/web/product/detail",
            &with(dept.clone(), json!({"target": target})),
        )
        .await;
    let doc = &v["data"][0]["detail"][0];
    assert!(doc["period"].as_array().unwrap().len() >= 2);
    let booking = with(
        dept,
        json!({"target": target, "dutyTime": 0, "uniqProductKey": doc["uniqProductKey"]}),
    );
    let conf = s.post("/web/product/confirm", &booking).await;
    assert_eq!(conf["data"]["dataItem"]["smsCode"], 4);
}
