//! The 浙里办 health-check sync simulator, walked as a hospital's sync client would:
//! AES-encrypted form bodies, `ACCESS-TOKEN` header, pulls, acks by batch or record,
//! re-delivery of whatever is not acked, reschedules and cancellations, arrivals, token
//! expiry on the simulated clock, and the injected faults.

use crate::common::*;
use haoyuan_core::crypto::{self, Encoding};
use haoyuan_sandbox::Running;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const KEY: &str = "ZLB-sandbox-key1";
const APIKEY: &str = "NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ";
const SECRET: &str = "eAT9HgCQy6l6GjKY26CT0giy65PtXg4W";

/// A reply: HTTP status, raw body, and the JSON it carries (decrypted when encrypted).
struct Reply {
    status: u16,
    raw: String,
    json: Result<Value, String>,
}

impl Reply {
    fn v(&self) -> &Value {
        match &self.json {
            Ok(v) => v,
            Err(e) => panic!("reply is not readable: {e}; raw: {}", self.raw),
        }
    }
    fn code(&self) -> i64 {
        self.v()["code"].as_i64().unwrap_or(-1)
    }
}

/// A minimal hospital-side client.
struct Hospital {
    base: String,
    key: Vec<u8>,
    http: reqwest::Client,
}

fn open(key: &[u8], raw: &str) -> Result<Value, String> {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        crypto::decrypt_str(key, raw, Encoding::Standard).map_err(|e| e.to_string())?
    };
    serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}: {text}"))
}

impl Hospital {
    fn new(sb: &Running) -> Hospital {
        Hospital::with_key(sb, KEY)
    }

    fn with_key(sb: &Running, key: &str) -> Hospital {
        Hospital {
            base: sb.url("zheliban"),
            key: key.as_bytes().to_vec(),
            http: reqwest::Client::new(),
        }
    }

    fn seal(&self, plain: &Value) -> String {
        crypto::encrypt(&self.key, plain.to_string().as_bytes(), Encoding::Standard).unwrap()
    }

    /// POSTs `body` as form data with the token (if any) in `ACCESS-TOKEN`.
    async fn raw(&self, path: &str, token: Option<&str>, body: String) -> Reply {
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(t) = token {
            rb = rb.header("ACCESS-TOKEN", t);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let raw = r.text().await.unwrap_or_default();
        Reply {
            status,
            json: open(&self.key, &raw),
            raw,
        }
    }

    /// POSTs `plain` encrypted.
    async fn call(&self, path: &str, token: Option<&str>, plain: &Value) -> Reply {
        let body = self.seal(plain);
        self.raw(path, token, body).await
    }

    async fn token_for(&self, apikey: &str, secret: &str) -> String {
        let r = self
            .call(
                "/reservation/sync/token",
                None,
                &json!({"apikey": apikey, "secret": secret}),
            )
            .await;
        assert_eq!(r.code(), 200, "{}", r.raw);
        r.v()["result"]["token"].as_str().unwrap().to_string()
    }

    async fn token(&self) -> String {
        self.token_for(APIKEY, SECRET).await
    }

    async fn pull_reply(&self, token: &str) -> Reply {
        self.raw("/reservation/sync/order", Some(token), String::new())
            .await
    }

    /// One pull: the records.
    async fn pull(&self, token: &str) -> Vec<Value> {
        let r = self.pull_reply(token).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.code(), 200, "{:?}", r.json);
        assert_eq!(r.v()["success"], true);
        r.v()["result"].as_array().unwrap().clone()
    }

    async fn ack(&self, token: &str, body: Value) -> Reply {
        self.call("/reservation/sync/callback", Some(token), &body)
            .await
    }

    async fn arrive(&self, token: &str, body: Value) -> Reply {
        self.call("/reservation/sync/arrival", Some(token), &body)
            .await
    }
}

fn serials(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["serialNumber"].as_str().unwrap_or("").to_string())
        .collect()
}

fn request_id(records: &[Value]) -> String {
    let ids: BTreeSet<_> = records.iter().map(|r| r["requestId"].to_string()).collect();
    assert_eq!(ids.len(), 1, "one requestId per batch: {ids:?}");
    let id = records[0]["requestId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    id
}

fn code_of(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn id_check_ok(id: &str) -> bool {
    haoyuan_core::idcard::is_valid(id)
}

fn is_date(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| haoyuan_core::date::Date::parse(s).is_ok())
}

/// What a careful client checks before storing a record: every seed field, with the
/// dictionaries of platforms.md.
fn check_record(r: &Value) -> Result<(), String> {
    let need_str = |k: &str| -> Result<&str, String> {
        r[k].as_str()
            .filter(|s| !s.is_empty())
            .ok_or(format!("{k} missing or not a string"))
    };
    need_str("serialNumber")?;
    need_str("name")?;
    need_str("mobile")?;
    need_str("hospitalCode")?;
    need_str("hospitalName")?;
    need_str("hospitalPackageId")?;
    need_str("hospitalPackageName")?;
    let erhc = need_str("erhcNo")?;
    if erhc.len() > 64 {
        return Err("erhcNo too long".into());
    }
    let card = code_of(&r["cardType"]).ok_or("cardType")?;
    if ![1, 2, 3, 4, 5, 6, 7, 8, 99].contains(&card) {
        return Err(format!("cardType {card}"));
    }
    let id = need_str("idcard")?;
    let sex = code_of(&r["sexCode"]).ok_or("sexCode")?;
    if ![1, 2].contains(&sex) {
        return Err(format!("sexCode {sex}"));
    }
    if !is_date(&r["birthdate"]) {
        return Err("birthdate".into());
    }
    if card == 1 {
        if !id_check_ok(id) {
            return Err(format!("idcard {id} check digit"));
        }
        let birth = r["birthdate"].as_str().unwrap().replace('-', "");
        if id[6..14] != birth {
            return Err("idcard and birthdate disagree".into());
        }
        if ((id.as_bytes()[16] - b'0') % 2 == 1) != (sex == 1) {
            return Err("idcard and sexCode disagree".into());
        }
    }
    if !r["isPregnant"].is_boolean() {
        return Err("isPregnant is not a boolean".into());
    }
    let married = code_of(&r["married"]).ok_or("married")?;
    if ![1, 2].contains(&married) {
        return Err(format!("married {married}"));
    }
    if !is_date(&r["checkDate"]) {
        return Err("checkDate".into());
    }
    let status = code_of(&r["orderStatus"]).ok_or("orderStatus")?;
    if ![1, 2, 5].contains(&status) {
        return Err(format!("orderStatus {status}"));
    }
    if !r["examinationFee"].is_number() {
        return Err("examinationFee is not a number".into());
    }
    for k in ["addCombinationId", "addCombinationName"] {
        if !(r[k].is_null() || r[k].is_string()) {
            return Err(k.to_string());
        }
    }
    code_of(&r["payType"]).ok_or("payType")?;
    need_str("dataSources")?;
    Ok(())
}

#[tokio::test]
async fn token_pull_ack_by_request_id_then_nothing_left() {
    let sb = start(json!({"zheliban": {"reservations": 12}})).await;
    let h = Hospital::new(&sb);

    // The token reply decrypts to the seed's shape and key order.
    let r = h
        .call(
            "/reservation/sync/token",
            None,
            &json!({"apikey": APIKEY, "secret": SECRET}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.raw.starts_with('{'), "the reply is encrypted: {}", r.raw);
    let plain = crypto::decrypt_str(KEY.as_bytes(), &r.raw, Encoding::Standard).unwrap();
    let order: Vec<_> = [
        "\"code\"",
        "\"message\"",
        "\"result\"",
        "\"success\"",
        "\"timestamp\"",
    ]
    .iter()
    .map(|k| plain.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{plain}");
    let v = r.v();
    assert_eq!(v["message"], "操作成功");
    assert_eq!(v["result"]["expire"], 86_400_000);
    let token = v["result"]["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(token.starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."));

    let records = h.pull(token).await;
    assert_eq!(records.len(), 12);
    let rid = request_id(&records);
    for r in &records {
        check_record(r).unwrap_or_else(|e| panic!("{e}: {r}"));
        assert_eq!(code_of(&r["orderStatus"]), Some(1));
        assert_eq!(r["hospitalCode"], "100637");
        assert_eq!(r["hospitalName"], "杭州市第三人民医院体检中心");
    }
    assert!(serials(&records).contains("ZJ109-1"));
    // The seed's field order, requestId first.
    let raw = crypto::decrypt_str(
        KEY.as_bytes(),
        &h.pull_reply(token).await.raw,
        Encoding::Standard,
    )
    .unwrap();
    let first = &raw[raw.find("[{").unwrap()..];
    let keys = [
        "requestId",
        "serialNumber",
        "erhcNo",
        "name",
        "cardType",
        "idcard",
        "birthdate",
        "sexCode",
        "isPregnant",
        "married",
        "mobile",
        "hospitalCode",
        "hospitalName",
        "checkDate",
        "hospitalPackageId",
        "hospitalPackageName",
        "addCombinationId",
        "addCombinationName",
        "examinationFee",
        "orderStatus",
        "payType",
        "dataSources",
    ];
    let pos: Vec<_> = keys
        .iter()
        .map(|k| first.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{first}");
    // Two decimals, like 2881.00.
    let fee = first.split("\"examinationFee\":").nth(1).unwrap();
    let fee = fee.split(',').next().unwrap();
    assert_eq!(fee.split('.').nth(1).map(str::len), Some(2), "{fee}");

    // Acking the second batch acks everything it delivered.
    let second = h.pull(token).await;
    let rid2 = request_id(&second);
    assert_ne!(rid, rid2, "every pull is a new batch");
    let ack = h.ack(token, json!({"requestId": rid2})).await;
    assert_eq!(ack.code(), 200, "{:?}", ack.json);
    assert_eq!(ack.v()["success"], true);
    assert_eq!(ack.v()["result"], Value::Null);
    assert!(h.pull(token).await.is_empty());

    let orders = sb.platform("zheliban").unwrap().orders();
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 12);
    assert!(orders
        .iter()
        .all(|o| o["acked"] == true && o["deliveries"] == 3));
}

#[tokio::test]
async fn wrong_credentials_get_bad_data() {
    let sb = start(json!(null)).await;
    let h = Hospital::new(&sb);
    let r = h
        .call(
            "/reservation/sync/token",
            None,
            &json!({"apikey": APIKEY, "secret": "wrong"}),
        )
        .await;
    assert!(r.raw.starts_with('{'), "failures are plain JSON: {}", r.raw);
    assert_eq!(r.code(), 50002);
    assert_eq!(r.v()["message"], "数据有误");
    assert_eq!(r.v()["success"], false);
    assert_eq!(r.v()["result"], Value::Null);
    assert!(r.v()["timestamp"].is_i64());
    // Plain (unencrypted) credentials are bad data too.
    let r = h
        .raw(
            "/reservation/sync/token",
            None,
            format!("apikey={APIKEY}&secret={SECRET}"),
        )
        .await;
    assert_eq!(r.code(), 50002);
}

#[tokio::test]
async fn partial_ack_by_serial_number_redelivers_the_rest() {
    let sb = start(json!({"zheliban": {"reservations": 6}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let first = h.pull(&t).await;
    assert_eq!(first.len(), 6);
    for s in ["ZJ109-2", "ZJ109-5"] {
        let r = h.ack(&t, json!({"serialNumber": s})).await;
        assert_eq!(r.code(), 200, "{:?}", r.json);
    }
    let again = h.pull(&t).await;
    let expected: BTreeSet<String> = ["ZJ109-1", "ZJ109-3", "ZJ109-4", "ZJ109-6"]
        .map(String::from)
        .into();
    assert_eq!(serials(&again), expected);
    // requestId null: the serialNumber is used.
    let r = h
        .ack(&t, json!({"requestId": null, "serialNumber": "ZJ109-1"}))
        .await;
    assert_eq!(r.code(), 200);
    assert_eq!(h.pull(&t).await.len(), 3);
    // Unknown serial: the seed's short 500.
    let r = h.ack(&t, json!({"serialNumber": "ZJ109-999"})).await;
    assert_eq!(
        r.v(),
        &json!({"code": 500, "message": "数据有误，请联系平台"})
    );
    // Neither field: bad data.
    assert_eq!(h.ack(&t, json!({})).await.code(), 50002);
}

#[tokio::test]
async fn request_id_wins_over_serial_number() {
    let sb = start(json!({"zheliban": {"reservations": 4}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let batch = h.pull(&t).await;
    let rid = request_id(&batch);
    // A serial number that alone would fail: the batch id is the one used.
    let r = h
        .ack(&t, json!({"requestId": rid, "serialNumber": "ZJ109-404"}))
        .await;
    assert_eq!(r.code(), 200, "{:?}", r.json);
    assert!(h.pull(&t).await.is_empty());
    // An unknown batch id fails even with a good serial number.
    sb.platform("zheliban")
        .unwrap()
        .admin("add_reservations", &json!({"count": 1}))
        .unwrap();
    h.pull(&t).await;
    let r = h
        .ack(
            &t,
            json!({"requestId": "0".repeat(32), "serialNumber": "ZJ109-5"}),
        )
        .await;
    assert_eq!(r.code(), 500);
    assert_eq!(
        serials(&h.pull(&t).await),
        BTreeSet::from(["ZJ109-5".to_string()])
    );
}

#[tokio::test]
async fn unacked_records_come_back_after_every_crash() {
    let sb = start(json!({"zheliban": {"reservations": 30, "batch_size": 10}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let first = h.pull(&t).await;
    assert_eq!(first.len(), 10);
    let mut ids = BTreeSet::new();
    // The client "crashes" before acking, again and again: the same records each time.
    for _ in 0..4 {
        let again = h.pull(&t).await;
        assert_eq!(serials(&again), serials(&first));
        assert!(ids.insert(request_id(&again)));
    }
    let orders = sb.platform("zheliban").unwrap().orders();
    let delivered: Vec<_> = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| serials(&first).contains(o["serialNumber"].as_str().unwrap()))
        .collect();
    assert!(delivered
        .iter()
        .all(|o| o["deliveries"] == 5 && o["acked"] == false));
    // An old batch's id still acks what it delivered; then the next ten come.
    let old = ids.iter().next().unwrap().clone();
    assert_eq!(h.ack(&t, json!({"requestId": old})).await.code(), 200);
    let next = h.pull(&t).await;
    assert_eq!(next.len(), 10);
    assert!(serials(&next).is_disjoint(&serials(&first)));
    // A fresh client (new token) after a crash sees them too.
    let t2 = h.token().await;
    assert_eq!(serials(&h.pull(&t2).await), serials(&next));
}

#[tokio::test]
async fn reschedules_and_cancellations_are_delivered_again() {
    let sb = start(json!({"zheliban": {"reservations": 5}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let batch = h.pull(&t).await;
    assert_eq!(
        h.ack(&t, json!({"requestId": request_id(&batch)}))
            .await
            .code(),
        200
    );
    assert!(h.pull(&t).await.is_empty());

    admin_post(
        &sb,
        "/platform/zheliban/reschedule",
        json!({"serialNumber": "ZJ109-2", "date": "2030-05-06"}),
    )
    .await;
    admin_post(
        &sb,
        "/platform/zheliban/cancel",
        json!({"serialNumber": "ZJ109-3"}),
    )
    .await;
    let changed = h.pull(&t).await;
    assert_eq!(changed.len(), 2);
    for r in &changed {
        check_record(r).unwrap();
        match r["serialNumber"].as_str().unwrap() {
            "ZJ109-2" => {
                assert_eq!(code_of(&r["orderStatus"]), Some(2));
                assert_eq!(r["checkDate"], "2030-05-06");
            }
            "ZJ109-3" => assert_eq!(code_of(&r["orderStatus"]), Some(5)),
            other => panic!("unexpected {other}"),
        }
    }
    // Rescheduled again after delivery but before the ack: the ack covers the old
    // version only, so the newest comes back.
    admin_post(
        &sb,
        "/platform/zheliban/reschedule",
        json!({"serialNumber": "ZJ109-2", "date": "2030-06-07"}),
    )
    .await;
    assert_eq!(
        h.ack(&t, json!({"requestId": request_id(&changed)}))
            .await
            .code(),
        200
    );
    let last = h.pull(&t).await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["checkDate"], "2030-06-07");
    assert_eq!(
        h.ack(&t, json!({"serialNumber": "ZJ109-2"})).await.code(),
        200
    );
    assert!(h.pull(&t).await.is_empty());

    // A cancelled reservation cannot be rescheduled or cancelled again.
    let r = reqwest::Client::new()
        .post(format!("{}/platform/zheliban/cancel", sb.url("admin")))
        .body(json!({"serialNumber": "ZJ109-3"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let orders = sb.platform("zheliban").unwrap().orders();
    let o2 = orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["serialNumber"] == "ZJ109-2")
        .unwrap()
        .clone();
    assert_eq!(o2["version"], 3);
    assert_eq!(o2["history"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn scripted_changes_happen_on_the_simulated_clock() {
    let sb = start(json!({"zheliban": {
        "reservations": 3,
        "changes": [
            {"after_ms": 3_600_000, "action": "cancel", "serialNumber": "ZJ109-1"},
            {"after_ms": 7_200_000, "action": "add", "count": 2}
        ]
    }}))
    .await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let b = h.pull(&t).await;
    assert_eq!(b.len(), 3);
    h.ack(&t, json!({"requestId": request_id(&b)})).await;
    assert!(h.pull(&t).await.is_empty());
    admin_post(&sb, "/clock", json!({"advance_ms": 3_600_000})).await;
    let b = h.pull(&t).await;
    assert_eq!(serials(&b), BTreeSet::from(["ZJ109-1".to_string()]));
    assert_eq!(code_of(&b[0]["orderStatus"]), Some(5));
    h.ack(&t, json!({"requestId": request_id(&b)})).await;
    admin_post(&sb, "/clock", json!({"advance_ms": 3_600_000})).await;
    let b = h.pull(&t).await;
    assert_eq!(
        serials(&b),
        BTreeSet::from(["ZJ109-4".to_string(), "ZJ109-5".to_string()])
    );
}

#[tokio::test]
async fn arrivals_are_recorded() {
    let sb = start(json!({"zheliban": {"reservations": 3}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    h.pull(&t).await;
    let r = h
        .arrive(
            &t,
            json!({"serialNumber": "ZJ109-1", "arriveDate": "2026-03-02 08:15:00"}),
        )
        .await;
    assert_eq!(r.code(), 200, "{:?}", r.json);
    assert_eq!(r.v()["result"], Value::Null);
    // Without arriveDate: now on the server's (Beijing) clock.
    assert_eq!(
        h.arrive(&t, json!({"serialNumber": "ZJ109-2"}))
            .await
            .code(),
        200
    );
    // The field was renamed in 2021.4.29: the old name is not read.
    assert_eq!(
        h.arrive(&t, json!({"serial_number": "ZJ109-3"}))
            .await
            .code(),
        50002
    );
    assert_eq!(
        h.arrive(
            &t,
            json!({"serialNumber": "ZJ109-3", "arriveDate": "tomorrow"})
        )
        .await
        .code(),
        50002
    );
    assert_eq!(
        h.arrive(&t, json!({"serialNumber": "ZJ109-77"})).await.v(),
        &json!({"code": 500, "message": "数据有误，请联系平台"})
    );
    admin_post(
        &sb,
        "/platform/zheliban/cancel",
        json!({"serialNumber": "ZJ109-3"}),
    )
    .await;
    assert_eq!(
        h.arrive(&t, json!({"serialNumber": "ZJ109-3"}))
            .await
            .code(),
        500
    );

    let orders = admin_get(&sb, "/orders?platform=zheliban").await;
    let by = |s: &str| {
        orders
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["serialNumber"] == s)
            .unwrap()
            .clone()
    };
    assert_eq!(by("ZJ109-1")["arrived"], true);
    assert_eq!(by("ZJ109-1")["arriveDate"], "2026-03-02 08:15:00");
    let (today, _) = haoyuan_sandbox::clock::beijing(sb.shared.clock.now_ms());
    let second = by("ZJ109-2")["arriveDate"].as_str().unwrap().to_string();
    assert_eq!(second.len(), 19, "{second}");
    let day = haoyuan_core::date::Date::parse(&second[..10]).unwrap();
    assert!(
        (0..=1).contains(&day.days_until(today)),
        "{second} vs {today}"
    );
    assert_eq!(by("ZJ109-3")["arrived"], false);
}

#[tokio::test]
async fn tokens_expire_after_24_hours_of_simulated_time() {
    let sb = start(json!(null)).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    assert_eq!(h.pull(&t).await.len(), 12);
    admin_post(
        &sb,
        "/clock",
        json!({"advance_ms": 86_400_000i64 - 600_000}),
    )
    .await;
    h.pull(&t).await;
    admin_post(&sb, "/clock", json!({"advance_ms": 600_000})).await;
    let r = h.pull_reply(&t).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), 401);
    assert_eq!(r.v()["message"], "Token失效，请重新登录!");
    assert_eq!(r.v()["success"], false);
    // The ack endpoints refuse it too, and nothing is acked.
    let r = h.ack(&t, json!({"serialNumber": "ZJ109-1"})).await;
    assert_eq!(r.code(), 401);
    let t2 = h.token().await;
    assert_ne!(t, t2);
    assert_eq!(h.pull(&t2).await.len(), 12);
    // A made-up token is invalid, not expired.
    let r = h
        .pull_reply("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.x")
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.v()["message"], "token非法无效!");
}

#[tokio::test]
async fn a_wrong_client_key_gets_bad_data_and_acks_nothing() {
    let sb = start(json!({"zheliban": {"reservations": 4}})).await;
    let good = Hospital::new(&sb);
    let t = good.token().await;
    let batch = good.pull(&t).await;
    let rid = request_id(&batch);
    let wrong = Hospital::with_key(&sb, "another-16b-key!");
    let r = wrong.ack(&t, json!({"requestId": rid})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), 50002);
    assert_eq!(r.v()["message"], "数据有误");
    let r = wrong.ack(&t, json!({"serialNumber": "ZJ109-1"})).await;
    assert_eq!(r.code(), 50002);
    assert!(
        wrong
            .call(
                "/reservation/sync/token",
                None,
                &json!({"apikey": APIKEY, "secret": SECRET})
            )
            .await
            .code()
            == 50002
    );
    let orders = sb.platform("zheliban").unwrap().orders();
    assert!(orders
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["acked"] == false));
    assert_eq!(good.pull(&t).await.len(), 4);
}

#[tokio::test]
async fn undecryptable_bodies_get_bad_data() {
    let sb = start(json!(null)).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let bodies = [
        "not base64 at all!".to_string(),
        "QUJD".to_string(), // base64, but 3 bytes: not an AES block
        json!({"apikey": APIKEY, "secret": SECRET}).to_string(),
        // Encrypted, but not JSON.
        crypto::encrypt(KEY.as_bytes(), b"hello", Encoding::Standard).unwrap(),
        String::new(),
    ];
    for body in &bodies {
        for path in [
            "/reservation/sync/token",
            "/reservation/sync/callback",
            "/reservation/sync/arrival",
        ] {
            let r = h.raw(path, Some(&t), body.clone()).await;
            assert_eq!(r.code(), 50002, "{path} {body:?}: {}", r.raw);
        }
    }
}

#[tokio::test]
async fn the_token_goes_only_in_the_access_token_header() {
    let sb = start(json!(null)).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let r = h.raw("/reservation/sync/order", None, String::new()).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), 401);
    assert_eq!(r.v()["message"], "token不能为空!");
    // Anywhere else it is not seen.
    let r = h
        .http
        .post(format!("{}/reservation/sync/order?token={t}", h.base))
        .header("Authorization", format!("Bearer {t}"))
        .body(format!("token={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = h.ack(&t, json!({})).await;
    assert_eq!(r.code(), 50002, "with the header, the body is read");
}

#[tokio::test]
async fn the_ciphertext_may_come_in_a_form_field() {
    let sb = start(json!(null)).await;
    let h = Hospital::new(&sb);
    let ct = h.seal(&json!({"apikey": APIKEY, "secret": SECRET}));
    let enc = ct
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let r = h
        .raw("/reservation/sync/token", None, format!("content={enc}"))
        .await;
    assert_eq!(r.code(), 200, "{}", r.raw);
}

#[tokio::test]
async fn malformed_records_break_the_dictionaries() {
    let sb = start(json!({"zheliban": {"reservations": 2}})).await;
    let kinds = [
        "card_type",
        "sex_code",
        "married",
        "order_status",
        "pregnant",
        "bad_idcard",
        "bad_check_date",
        "bad_fee",
        "no_name",
        "no_idcard",
        "no_check_date",
        "no_serial",
    ];
    let v = admin_post(
        &sb,
        "/platform/zheliban/malformed",
        json!({"count": kinds.len()}),
    )
    .await;
    assert_eq!(v["serialNumbers"].as_array().unwrap().len(), kinds.len());
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let records = h.pull(&t).await;
    assert_eq!(records.len(), 2 + kinds.len());
    let bad: Vec<_> = records
        .iter()
        .filter(|r| check_record(r).is_err())
        .collect();
    assert_eq!(bad.len(), kinds.len(), "every malformed record is caught");
    assert!(records[..2].iter().all(|r| check_record(r).is_ok()));
    assert!(records.iter().any(|r| r.get("serialNumber").is_none()));
    // They stay until acked, like any record; the batch ack clears them all.
    assert_eq!(h.pull(&t).await.len(), 2 + kinds.len());
    let rid = request_id(&records);
    assert_eq!(h.ack(&t, json!({"requestId": rid})).await.code(), 200);
    assert!(h.pull(&t).await.is_empty());
    let orders = sb.platform("zheliban").unwrap().orders();
    let marked: BTreeSet<_> = orders
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["malformed"].as_str().map(String::from))
        .collect();
    assert_eq!(marked.len(), kinds.len());
}

#[tokio::test]
async fn each_hospital_sees_and_acks_only_its_own() {
    let sb = start(json!({"zheliban": {
        "reservations": 3,
        "accounts": [
            {"apikey": "a1", "secret": "s1"},
            {"apikey": "a2", "secret": "s2", "hospital_code": "470243324", "hospital_name": "宁波市第一医院体检中心", "reservations": 2}
        ]
    }}))
    .await;
    let h = Hospital::new(&sb);
    let t1 = h.token_for("a1", "s1").await;
    let t2 = h.token_for("a2", "s2").await;
    let b1 = h.pull(&t1).await;
    let b2 = h.pull(&t2).await;
    assert_eq!(b1.len(), 3);
    assert_eq!(b2.len(), 2);
    assert!(b2.iter().all(|r| r["hospitalCode"] == "470243324"));
    assert!(serials(&b2).iter().all(|s| s.starts_with("ZJ110-")));
    // Hospital 2 cannot ack hospital 1's batch or records.
    assert_eq!(
        h.ack(&t2, json!({"requestId": request_id(&b1)}))
            .await
            .code(),
        500
    );
    assert_eq!(
        h.ack(&t2, json!({"serialNumber": "ZJ109-1"})).await.code(),
        500
    );
    assert_eq!(h.pull(&t1).await.len(), 3);
    // Releases go to a hospital by code.
    admin_post(
        &sb,
        "/release",
        json!({"platform": "zheliban", "count": 2, "hospital_code": "470243324"}),
    )
    .await;
    assert_eq!(h.pull(&t2).await.len(), 4);
}

#[tokio::test]
async fn codes_come_as_numbers_or_strings() {
    let sb =
        start(json!({"zheliban": {"reservations": 40, "batch_size": 100, "code_style": "mixed"}}))
            .await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let records = h.pull(&t).await;
    assert!(records.iter().any(|r| r["sexCode"].is_string()));
    assert!(records.iter().any(|r| r["sexCode"].is_number()));
    assert!(records.iter().all(|r| check_record(r).is_ok()));
}

#[tokio::test]
async fn records_are_deterministic_per_seed() {
    let people = |sb: &Running| -> Vec<(Value, Value)> {
        sb.platform("zheliban")
            .unwrap()
            .orders()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["record"]["name"].clone(), o["record"]["idcard"].clone()))
            .collect()
    };
    let a = start_seeded(json!(null), 7).await;
    let b = start_seeded(json!(null), 7).await;
    let c = start_seeded(json!(null), 8).await;
    assert_eq!(people(&a), people(&b));
    assert_ne!(people(&a), people(&c));
}

#[tokio::test]
async fn admin_added_records_take_the_given_fields() {
    let sb = start(json!({"zheliban": {"reservations": 0}})).await;
    let v = admin_post(
        &sb,
        "/platform/zheliban/add_reservations",
        json!({"records": [{"name": "张三", "idcard": "330111200001010000", "checkDate": "2030-01-12", "examinationFee": 388.03}]}),
    )
    .await;
    assert_eq!(v["serialNumbers"], json!(["ZJ109-1"]));
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let r = &h.pull(&t).await[0];
    assert_eq!(r["name"], "张三");
    assert_eq!(r["checkDate"], "2030-01-12");
    assert_eq!(r["examinationFee"], 388.03);
}

#[tokio::test]
async fn body_faults_are_observable() {
    let sb = start(json!({"zheliban": {"reservations": 3}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;

    // Truncated on the wire: the ciphertext no longer decrypts.
    arm(
        &sb,
        json!({"platform": "zheliban", "route": "/reservation/sync/order", "kind": "truncated"}),
    )
    .await;
    let r = h.pull_reply(&t).await;
    assert!(r.json.is_err(), "{}", r.raw);
    assert!(crypto::decrypt_str(KEY.as_bytes(), &r.raw, Encoding::Standard).is_err());

    // Malformed: decrypts, but the JSON inside is broken.
    arm(
        &sb,
        json!({"platform": "zheliban", "route": "/reservation/sync/order", "kind": "malformed"}),
    )
    .await;
    let r = h.pull_reply(&t).await;
    let plain = crypto::decrypt_str(KEY.as_bytes(), &r.raw, Encoding::Standard).unwrap();
    assert!(serde_json::from_str::<Value>(&plain).is_err(), "{plain}");

    // A missing field inside the encrypted reply.
    arm(&sb, json!({"platform": "zheliban", "route": "/reservation/sync/order", "kind": "missing_field", "field": "serialNumber"})).await;
    let r = h.pull_reply(&t).await;
    let records = r.v()["result"].as_array().unwrap().clone();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|x| x.get("serialNumber").is_none()));

    // A renamed field.
    arm(&sb, json!({"platform": "zheliban", "route": "/reservation/sync/token", "kind": "rename_field", "from": "token", "to": "accessToken"})).await;
    let r = h
        .call(
            "/reservation/sync/token",
            None,
            &json!({"apikey": APIKEY, "secret": SECRET}),
        )
        .await;
    assert!(r.v()["result"]["token"].is_null());
    assert!(r.v()["result"]["accessToken"].is_string());

    // None of those pulls was acked: everything is still delivered.
    assert_eq!(h.pull(&t).await.len(), 3);
}

#[tokio::test]
async fn status_reset_and_session_faults_are_observable() {
    let sb = start(json!({"zheliban": {"reservations": 2}})).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;

    arm(&sb, json!({"platform": "zheliban", "route": "/reservation/sync/order", "kind": "status", "status": 502})).await;
    let r = h.pull_reply(&t).await;
    assert_eq!(r.status, 502);
    assert!(r.json.is_err());

    arm(
        &sb,
        json!({"platform": "zheliban", "route": "/reservation/sync/callback", "kind": "reset"}),
    )
    .await;
    let b = h.pull(&t).await;
    let sent = h
        .http
        .post(format!("{}/reservation/sync/callback", h.base))
        .header("ACCESS-TOKEN", &t)
        .body(h.seal(&json!({"requestId": request_id(&b)})))
        .send()
        .await;
    let failed = match sent {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed);

    arm(
        &sb,
        json!({"platform": "zheliban", "kind": "session_expired"}),
    )
    .await;
    let r = h.pull_reply(&t).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.v()["message"], "Token失效，请重新登录!");
    let t2 = h.token().await;
    assert_eq!(h.pull(&t2).await.len(), 2);
}

#[tokio::test]
async fn errors_can_be_encrypted_and_other_methods_and_paths_refused() {
    let sb = start(json!({"zheliban": {"encrypt_errors": true}})).await;
    let h = Hospital::new(&sb);
    let r = h
        .call(
            "/reservation/sync/token",
            None,
            &json!({"apikey": "x", "secret": "y"}),
        )
        .await;
    assert!(!r.raw.starts_with('{'));
    assert_eq!(r.code(), 50002);
    let r = reqwest::get(format!("{}/reservation/sync/callback?requestId=x", h.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = h.raw("/reservation/sync/orders", None, String::new()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), 404);
}

#[tokio::test]
async fn scenario_mistakes_are_refused_in_words() {
    let sb = start(json!(null)).await;
    for (bad, says) in [
        (json!({"zheliban": {"aes_key": "short"}}), "aes_key"),
        (json!({"zheliban": {"code_style": "roman"}}), "code_style"),
        (
            json!({"zheliban": {"accounts": [{"apikey": "a"}]}}),
            "apikey and secret",
        ),
        (
            json!({"zheliban": {"changes": [{"action": "cancel", "serialNumber": "ZJ109-1"}]}}),
            "after_ms",
        ),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}/scenario", sb.url("admin")))
            .body(bad.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    }
}

#[tokio::test]
async fn the_example_scenario_files_load_and_play() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let text = std::fs::read_to_string(format!("{dir}/zheliban.yaml")).unwrap();
    let sb = start(haoyuan_sandbox::parse_scenario(&text).unwrap()).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let b = h.pull(&t).await;
    assert_eq!(b.len(), 20);
    assert_eq!(
        h.ack(&t, json!({"requestId": request_id(&b)})).await.code(),
        200
    );
    let rest = h.pull(&t).await;
    assert_eq!(rest.len(), 7, "25 good and 2 malformed in all");
    assert_eq!(rest.iter().filter(|r| check_record(r).is_err()).count(), 2);
    h.ack(&t, json!({"requestId": request_id(&rest)})).await;
    admin_post(&sb, "/clock", json!({"advance_ms": 120_000})).await;
    let changed = h.pull(&t).await;
    assert_eq!(
        serials(&changed),
        BTreeSet::from(["ZJ109-3".to_string(), "ZJ109-5".to_string()])
    );
    let t2 = h
        .token_for(
            "nbyy0001apikey00000000000000000a",
            "nbyy0001secret00000000000000000b",
        )
        .await;
    assert_eq!(h.pull(&t2).await.len(), 6 + 2);

    let text = std::fs::read_to_string(format!("{dir}/zheliban-defaults.yaml")).unwrap();
    let sb = start(haoyuan_sandbox::parse_scenario(&text).unwrap()).await;
    let h = Hospital::new(&sb);
    let t = h.token().await;
    let b = h.pull(&t).await;
    assert_eq!(b.len(), 12);
    assert!(b
        .iter()
        .all(|r| r["cardType"].is_number() && check_record(r).is_ok()));
}
