//! The pati_service simulator, walked over HTTP as a patient's client would: login →
//! departments → doctors → sessions → serials → pre-submit → submit → bookings → cancel;
//! tokens that expire by the clock and by the `session_expired` fault; wrong passwords
//! and the lock; body faults; many parallel buyers for the last serial; scheduled
//! releases with competitors; the rolling booking window; online payment links.

use crate::common::*;
use futures_util::future::join_all;
use haoyuan_sandbox::platforms::pati::world::{bj_day, date_str};
use haoyuan_sandbox::Running;
use serde_json::{json, Value};

const PHONE: &str = "13900000001";
const PASSWORD: &str = "s3cret!Pati";

/// One department with one expert whose only session is tomorrow morning (10 serials,
/// `left` of them free, `held` not released), and one account with two members.
fn scenario(left: u32, held: u32, extra: Value) -> Value {
    let mut pati = json!({
        "tenant": {"name": "杭州市第一人民医院"},
        "departments": [
            {"name": "心血管内科", "general": false, "doctors": [
                {"name": "张建国", "title": "主任医师", "weekdays": []}
            ]},
            {"name": "口腔科", "pay": true, "doctors": [
                {"name": "王丽", "title": "副主任医师", "weekdays": []}
            ]}
        ],
        "schedules": [
            {"dept": "心血管内科", "doctor": "张建国", "day": 1, "period": "AM",
             "count": 10, "left": left, "held": held}
        ],
        "accounts": [
            {"phone": PHONE, "password": PASSWORD, "members": [
                {"name": "李秀英", "gender": 2, "birthday": "1985-03-02"},
                {"name": "陈小明", "gender": 1, "birthday": "2016-07-19"}
            ]}
        ]
    });
    if let (Some(p), Some(e)) = (pati.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    json!({ "pati": pati })
}

fn url(sb: &Running, path: &str) -> String {
    format!("{}/pati_service{path}", sb.url("pati"))
}

async fn get(sb: &Running, token: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let r = client()
        .get(url(sb, path))
        .header("token", token)
        .query(query)
        .send()
        .await
        .expect("pati GET");
    assert_eq!(r.status(), 200, "{path}");
    let text = r.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

async fn post(sb: &Running, token: &str, path: &str, body: Value) -> Value {
    let r = client()
        .post(url(sb, path))
        .header("token", token)
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .expect("pati POST");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

fn ok(v: &Value) -> &Value {
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["msg"], "成功", "{v}");
    &v["data"]
}

fn assert_code(v: &Value, code: i64) {
    assert_eq!(v["code"], code, "{v}");
    assert!(v["data"].is_null(), "{v}");
    assert!(!v["msg"].as_str().unwrap_or("").is_empty(), "{v}");
}

async fn login_as(sb: &Running, phone: &str, password: &str) -> Value {
    post(
        sb,
        "",
        "/patient_service/login",
        json!({"phone": phone, "password": password}),
    )
    .await
}

async fn login(sb: &Running) -> String {
    let v = login_as(sb, PHONE, PASSWORD).await;
    let d = ok(&v);
    assert!(d["userId"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    d["token"].as_str().expect("token").to_string()
}

fn today(sb: &Running) -> i64 {
    bj_day(sb.shared.clock.now_ms())
}

/// The department with this name, by walking `depts`.
async fn dept_id(sb: &Running, token: &str, name: &str) -> String {
    let v = get(sb, token, "/tenant_service/depts", &[]).await;
    ok(&v)
        .as_array()
        .expect("a list")
        .iter()
        .find(|d| d["deptName"] == name)
        .and_then(|d| d["deptId"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_string()
}

/// The doctor with this name, by walking `schedule_by_doctor`.
async fn doctor_id(sb: &Running, token: &str, dept: &str, name: &str) -> String {
    let v = get(
        sb,
        token,
        "/tenant_service/schedule_by_doctor",
        &[("deptId", dept)],
    )
    .await;
    ok(&v)["list"]
        .as_array()
        .expect("a page")
        .iter()
        .find(|d| d["doctorName"] == name)
        .and_then(|d| d["doctorId"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_string()
}

/// `schedule` for a doctor on a date.
async fn session(sb: &Running, token: &str, dept: &str, doctor: &str, date: &str) -> Value {
    let v = get(
        sb,
        token,
        "/tenant_service/schedule",
        &[("deptId", dept), ("doctorId", doctor), ("date", date)],
    )
    .await;
    ok(&v).clone()
}

async fn member_ids(sb: &Running, token: &str) -> Vec<String> {
    let v = get(sb, token, "/patient_service/members", &[]).await;
    ok(&v)
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["memberId"].as_str().expect("memberId").to_string())
        .collect()
}

/// Tomorrow's morning session of 张建国: (deptId, doctorId, scheduleId, leftCount).
async fn tomorrow_am(sb: &Running, token: &str) -> (String, String, String, i64) {
    let dept = dept_id(sb, token, "心血管内科").await;
    let doctor = doctor_id(sb, token, &dept, "张建国").await;
    let date = date_str(today(sb) + 1);
    let s = session(sb, token, &dept, &doctor, &date).await;
    let am = &s["scheduleAM"];
    (
        dept,
        doctor,
        am["scheduleId"].as_str().expect("scheduleId").to_string(),
        am["leftCount"].as_i64().expect("leftCount"),
    )
}

async fn left_appo(sb: &Running, token: &str, schedule: &str) -> Vec<(i64, String)> {
    let v = get(
        sb,
        token,
        "/tenant_service/schedule/left_appo",
        &[("scheduleId", schedule)],
    )
    .await;
    ok(&v)
        .as_array()
        .expect("serials")
        .iter()
        .map(|x| {
            (
                x["serialNo"].as_i64().expect("serialNo"),
                x["time"].as_str().expect("time").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_patient_books_and_cancels_like_a_client_would() {
    let sb = start(scenario(3, 0, json!({}))).await;
    let token = login(&sb).await;
    let tomorrow = date_str(today(&sb) + 1);

    // Departments → doctors → the doctor's day.
    let (dept, doctor, schedule, left) = tomorrow_am(&sb, &token).await;
    assert_eq!(left, 3);
    let day = session(&sb, &token, &dept, &doctor, &tomorrow).await;
    assert_eq!(day["date"], tomorrow.as_str());
    assert!(
        day["schedulePM"].is_null(),
        "the doctor does not work that afternoon"
    );
    assert_eq!(day["scheduleAM"]["type"], 1);
    assert_eq!(day["scheduleAM"]["bookfee"], 50.0);
    assert!(day["scheduleAM"]["scheAdderss"]
        .as_str()
        .is_some_and(|a| a.contains("心血管内科")));

    let by_date = get(
        &sb,
        &token,
        "/tenant_service/schedule_by_date",
        &[("deptId", &dept), ("date", &tomorrow)],
    )
    .await;
    let page = ok(&by_date);
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["list"][0];
    assert_eq!(row["doctorId"], doctor.as_str());
    assert_eq!(row["status"], 1);
    assert_eq!(row["date"], tomorrow.as_str());
    assert_eq!(row["doctorTitle"], "主任医师");

    let info = get(
        &sb,
        &token,
        "/tenant_service/schedule/info",
        &[("deptId", &dept), ("doctorId", &doctor), ("days", "3")],
    )
    .await;
    let info = &ok(&info)[0];
    assert_eq!(info["doctorName"], "张建国");
    assert_eq!(
        info["leftBookCountList"],
        json!([{"date": tomorrow, "leftCount": 3}])
    );

    // Serials → pre-submit → submit.
    let serials = left_appo(&sb, &token, &schedule).await;
    assert_eq!(serials.len(), 3);
    let (no, time) = serials[1].clone();
    assert!(time.len() == 5 && time.as_bytes()[2] == b':', "{time}");
    let pre = post(
        &sb,
        &token,
        "/book_service/book/presubmit",
        json!({"scheduleId": schedule, "serialNo": no}),
    )
    .await;
    let pre = ok(&pre);
    assert_eq!(pre["deptName"], "心血管内科");
    assert_eq!(pre["doctor"], "张建国");
    assert_eq!(pre["appoTime"], format!("{tomorrow} {time}:00"));
    assert_eq!(pre["bookfee"], 50.0);

    let members = member_ids(&sb, &token).await;
    assert_eq!(members.len(), 2);
    let sub = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": no, "memberId": members[0]}),
    )
    .await;
    let book_id = ok(&sub)["bookId"].as_str().expect("bookId").to_string();

    // The serial is gone, the count went down, the same member cannot book again.
    let after = left_appo(&sb, &token, &schedule).await;
    assert_eq!(after.len(), 2);
    assert!(!after.iter().any(|(n, _)| *n == no));
    assert_eq!(tomorrow_am(&sb, &token).await.3, 2);
    let again = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": after[0].0, "memberId": members[0]}),
    )
    .await;
    assert_code(&again, 3004);
    let taken = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": no, "memberId": members[1]}),
    )
    .await;
    assert_code(&taken, 3002);
    let same_half_day = post(
        &sb,
        &token,
        "/book_service/book/schedule",
        json!({"scheduleId": schedule, "memberId": members[0]}),
    )
    .await;
    assert_code(&same_half_day, 3010);

    // The booking as the account sees it.
    let books = get(&sb, &token, "/book_service/books", &[("pageNo", "1")]).await;
    let books = ok(&books);
    assert_eq!(books["total"], 1);
    let b = &books["list"][0];
    assert_eq!(b["bookId"], book_id.as_str());
    assert_eq!(b["bookStatus"], 0);
    assert_eq!(b["memberName"], "李秀英");
    assert_eq!(b["visiSerialno"], no.to_string());
    assert!(b.get("visiCharge").is_none(), "not charged online: {b}");
    let detail = get(&sb, &token, &format!("/book_service/book/{book_id}"), &[]).await;
    let d = ok(&detail);
    assert_eq!(d["treaNo"], no);
    assert_eq!(d["treaTime"], format!("{tomorrow} {time}:00"));
    assert_eq!(d["memberGender"], "女");
    assert!(d["memberAge"].as_str().is_some_and(|a| a.ends_with('岁')));
    assert_eq!(d["memberIDNo"].as_str().map(str::len), Some(18));
    assert!(d["bookCode"].as_str().is_some_and(|c| !c.is_empty()));
    let orders = admin_get(&sb, "/orders?platform=pati").await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1));
    assert_eq!(orders[0]["bookId"], book_id.as_str());

    // Cancel: the serial is back on sale; a second cancel is refused.
    let c = post(
        &sb,
        &token,
        "/book_service/book/cancel",
        json!({"bookId": book_id}),
    )
    .await;
    assert!(ok(&c).is_null());
    assert_eq!(left_appo(&sb, &token, &schedule).await.len(), 3);
    let d = get(&sb, &token, &format!("/book_service/book/{book_id}"), &[]).await;
    assert_eq!(ok(&d)["bookStatus"], 1);
    let c = post(
        &sb,
        &token,
        "/book_service/book/cancel",
        json!({"bookId": book_id}),
    )
    .await;
    assert_code(&c, 3007);
    // The cancelled serial can be booked again, as a form body this time.
    let r = client()
        .post(url(&sb, "/book_service/book/submit"))
        .header("token", &token)
        .form(&[
            ("scheduleId", schedule.as_str()),
            ("serialNo", &no.to_string()),
            ("memberId", members[1].as_str()),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    ok(&v);
}

#[tokio::test]
async fn a_token_dies_with_the_clock_and_a_new_login_works() {
    let sb = start(scenario(3, 0, json!({"token_ttl_ms": 60_000}))).await;
    let token = login(&sb).await;
    ok(&get(&sb, &token, "/tenant_service/depts", &[]).await);
    admin_post(&sb, "/clock", json!({"advance_ms": 30_000})).await;
    ok(&get(&sb, &token, "/tenant_service/depts", &[]).await);
    admin_post(&sb, "/clock", json!({"advance_ms": 31_000})).await;
    let v = get(&sb, &token, "/tenant_service/depts", &[]).await;
    assert_code(&v, 401);
    assert_eq!(v["msg"], "登录已过期，请重新登录");
    let fresh = login(&sb).await;
    assert_ne!(fresh, token);
    ok(&get(&sb, &fresh, "/tenant_service/depts", &[]).await);
    // No token at all.
    assert_code(&get(&sb, "", "/tenant_service/depts", &[]).await, 401);
}

#[tokio::test]
async fn the_session_expired_fault_ends_the_token() {
    let sb = start(scenario(3, 0, json!({}))).await;
    let token = login(&sb).await;
    let (_, _, schedule, _) = tomorrow_am(&sb, &token).await;
    arm(
        &sb,
        json!({"platform": "pati", "route": "/pati_service/tenant_service/schedule/left_appo", "kind": "session_expired"}),
    )
    .await;
    let v = get(
        &sb,
        &token,
        "/tenant_service/schedule/left_appo",
        &[("scheduleId", &schedule)],
    )
    .await;
    assert_code(&v, 401);
    // Every request after it too, until the client logs in again.
    assert_code(
        &get(&sb, &token, "/patient_service/members", &[]).await,
        401,
    );
    let fresh = login(&sb).await;
    assert_eq!(left_appo(&sb, &fresh, &schedule).await.len(), 3);
    let log = admin_get(&sb, "/requests?platform=pati").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["fault"] == "session_expired"));
    // The log's session is the `token` header, shortened; none on the logins.
    for r in log.as_array().unwrap() {
        if r["path"] == "/pati_service/patient_service/login" {
            assert!(r.get("session").is_none(), "{r}");
        } else {
            assert_eq!(r["session"].as_str().map(str::len), Some(8), "{r}");
        }
    }
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["session"], fresh[..8]);
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_lock_the_account() {
    let sb = start(scenario(3, 0, json!({"lock_after": 3, "lock_ms": 600_000}))).await;
    assert_code(&login_as(&sb, PHONE, "wrong").await, 2001);
    assert_code(&login_as(&sb, "13911112222", PASSWORD).await, 2002);
    assert_code(&login_as(&sb, "1391111", PASSWORD).await, 1001);
    assert_code(
        &post(&sb, "", "/patient_service/login", json!({"phone": PHONE})).await,
        1001,
    );
    assert_code(&login_as(&sb, PHONE, "wrong").await, 2001);
    assert_code(&login_as(&sb, PHONE, "wrong again").await, 2003);
    // Locked: even the right password is refused until the lock ends.
    let v = login_as(&sb, PHONE, PASSWORD).await;
    assert_code(&v, 2003);
    assert!(v["msg"].as_str().unwrap().contains("10分钟"), "{v}");
    admin_post(&sb, "/clock", json!({"advance_ms": 600_001})).await;
    login(&sb).await;
}

#[tokio::test]
async fn body_and_status_faults_are_observable() {
    let sb = start(scenario(3, 0, json!({}))).await;
    let token = login(&sb).await;
    let (dept, doctor, _, _) = tomorrow_am(&sb, &token).await;
    let date = date_str(today(&sb) + 1);
    let route = "/pati_service/tenant_service/schedule";
    let fetch = || {
        client()
            .get(url(&sb, "/tenant_service/schedule"))
            .header("token", &token)
            .query(&[("deptId", &dept), ("doctorId", &doctor), ("date", &date)])
            .send()
    };

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "malformed"}),
    )
    .await;
    let text = fetch().await.unwrap().text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "truncated"}),
    )
    .await;
    let text = fetch().await.unwrap().text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "missing_field", "field": "leftCount"}),
    )
    .await;
    let v: Value = fetch().await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], 0);
    assert!(v["data"]["scheduleAM"].get("leftCount").is_none(), "{v}");

    arm(&sb, json!({"platform": "pati", "route": route, "kind": "rename_field", "from": "scheduleAM", "to": "scheduleAm"})).await;
    let v: Value = fetch().await.unwrap().json().await.unwrap();
    assert!(
        v["data"].get("scheduleAM").is_none() && v["data"]["scheduleAm"].is_object(),
        "{v}"
    );

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "status", "status": 502}),
    )
    .await;
    let r = fetch().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("502"));

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "reset"}),
    )
    .await;
    let failed = match fetch().await {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset must not look like a complete reply");

    arm(
        &sb,
        json!({"platform": "pati", "route": route, "kind": "delay", "ms": 50}),
    )
    .await;
    let v: Value = fetch().await.unwrap().json().await.unwrap();
    assert_eq!(
        v["data"]["scheduleAM"]["leftCount"], 3,
        "a delay still answers"
    );

    // Spent faults leave the route healthy.
    let v: Value = fetch().await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["scheduleAM"]["leftCount"], 3);
    let log = admin_get(&sb, "/requests?platform=pati&limit=9").await;
    let faults: Vec<Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fault"].clone())
        .collect();
    for kind in [
        "malformed",
        "truncated",
        "missing_field",
        "rename_field",
        "status",
        "reset",
        "delay",
    ] {
        assert!(
            faults.contains(&json!(kind)),
            "{kind} not logged: {faults:?}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_the_platforms_own_errors() {
    let sb = start(scenario(
        3,
        0,
        json!({"accounts": [
            {"phone": PHONE, "password": PASSWORD, "member_count": 1},
            {"phone": "13900000002", "password": "other", "member_count": 1}
        ]}),
    ))
    .await;
    let token = login(&sb).await;
    let (dept, _, schedule, _) = tomorrow_am(&sb, &token).await;
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule_by_date",
            &[("date", "2026-01-01")],
        )
        .await,
        1001,
    );
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule_by_date",
            &[("deptId", &dept), ("date", "2026/01/01")],
        )
        .await,
        1001,
    );
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule_by_date",
            &[("deptId", "42"), ("date", "2026-01-01")],
        )
        .await,
        1003,
    );
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule_by_doctor",
            &[("deptId", &dept), ("pageNo", "0")],
        )
        .await,
        1001,
    );
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule",
            &[("deptId", &dept), ("doctorId", "42")],
        )
        .await,
        1004,
    );
    assert_code(
        &get(
            &sb,
            &token,
            "/tenant_service/schedule/left_appo",
            &[("scheduleId", "42")],
        )
        .await,
        3001,
    );
    assert_code(
        &post(
            &sb,
            &token,
            "/book_service/book/presubmit",
            json!({"scheduleId": schedule, "serialNo": "ten"}),
        )
        .await,
        1001,
    );
    assert_code(
        &post(
            &sb,
            &token,
            "/book_service/book/presubmit",
            json!({"scheduleId": schedule, "serialNo": 99}),
        )
        .await,
        3002,
    );
    assert_code(&get(&sb, &token, "/book_service/book/42", &[]).await, 3006);
    // Another account's member is not mine.
    let other = ok(&login_as(&sb, "13900000002", "other").await)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = member_ids(&sb, &other).await;
    let no = left_appo(&sb, &token, &schedule).await[0].0;
    assert_code(
        &post(
            &sb,
            &token,
            "/book_service/book/submit",
            json!({"scheduleId": schedule, "serialNo": no, "memberId": theirs[0]}),
        )
        .await,
        3005,
    );
    // A body that is not JSON, a foreign tenant.
    let r = client()
        .post(url(&sb, "/book_service/book/presubmit"))
        .header("token", &token)
        .header("Content-Type", "application/json")
        .body("{scheduleId:")
        .send()
        .await
        .unwrap();
    assert_code(&r.json().await.unwrap(), 1001);
    let r = client()
        .get(url(&sb, "/tenant_service/depts"))
        .header("token", &token)
        .header("tenantId", "1")
        .send()
        .await
        .unwrap();
    assert_code(&r.json().await.unwrap(), 1002);
    // Unknown paths and methods answer as the site's Spring gateway does.
    let r = client()
        .get(url(&sb, "/book_service/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "Not Found");
    let r = client()
        .get(url(&sb, "/book_service/book/submit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn many_parallel_buyers_for_the_last_serial_make_exactly_one_booking() {
    const BUYERS: usize = 24;
    let accounts: Vec<Value> = (0..BUYERS)
        .map(|i| json!({"phone": format!("1370000{:04}", i), "password": "pw", "member_count": 1}))
        .collect();
    let sb = start(scenario(1, 0, json!({"accounts": accounts}))).await;
    let mut buyers = Vec::new();
    for i in 0..BUYERS {
        let v = login_as(&sb, &format!("1370000{:04}", i), "pw").await;
        let token = ok(&v)["token"].as_str().unwrap().to_string();
        let member = member_ids(&sb, &token).await.remove(0);
        buyers.push((token, member));
    }
    let (_, _, schedule, left) = tomorrow_am(&sb, &buyers[0].0).await;
    assert_eq!(left, 1);
    let no = left_appo(&sb, &buyers[0].0, &schedule).await[0].0;
    let replies = join_all(buyers.iter().map(|(token, member)| {
        let body = json!({"scheduleId": schedule, "serialNo": no, "memberId": member});
        let sb = &sb;
        async move { post(sb, token, "/book_service/book/submit", body).await }
    }))
    .await;
    let won: Vec<&Value> = replies.iter().filter(|v| v["code"] == 0).collect();
    assert_eq!(won.len(), 1, "{replies:?}");
    for v in replies.iter().filter(|v| v["code"] != 0) {
        assert!(v["code"] == 3002 || v["code"] == 3003, "{v}");
    }
    assert_eq!(
        admin_get(&sb, "/orders?platform=pati")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(tomorrow_am(&sb, &buyers[0].0).await.3, 0);
    let row = get(
        &sb,
        &buyers[0].0,
        "/tenant_service/schedule_by_doctor",
        &[("deptId", &tomorrow_am(&sb, &buyers[0].0).await.0)],
    )
    .await;
    assert_eq!(ok(&row)["list"][0]["status"], 2, "约满");
}

#[tokio::test]
async fn a_scheduled_release_meets_the_competitors_on_the_simulated_clock() {
    let sb = start(scenario(
        0,
        5,
        json!({"releases": [{"dept": "心血管内科", "doctor": "张建国", "day": 1, "period": "AM",
                             "in_ms": 60_000, "competitors": {"take": 2, "within_ms": 1_000}}]}),
    ))
    .await;
    let token = login(&sb).await;
    let (_, _, schedule, left) = tomorrow_am(&sb, &token).await;
    assert_eq!(left, 0, "held serials are not on sale");
    assert!(left_appo(&sb, &token, &schedule).await.is_empty());
    admin_post(&sb, "/clock", json!({"advance_ms": 59_000})).await;
    assert_eq!(tomorrow_am(&sb, &token).await.3, 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 3_000})).await;
    // Five released, two gone to other buyers within a second.
    assert_eq!(tomorrow_am(&sb, &token).await.3, 3);
    assert_eq!(left_appo(&sb, &token, &schedule).await.len(), 3);

    // An admin release adds serials now; an admin `take` is another buyer.
    let r = admin_post(
        &sb,
        "/release",
        json!({"platform": "pati", "schedule_id": schedule, "count": 2}),
    )
    .await;
    assert_eq!(r["released"]["schedules"][0]["released"], 2);
    assert_eq!(tomorrow_am(&sb, &token).await.3, 5);
    admin_post(
        &sb,
        "/platform/pati/take",
        json!({"schedule_id": schedule, "count": 5}),
    )
    .await;
    assert_eq!(tomorrow_am(&sb, &token).await.3, 0);
    let members = member_ids(&sb, &token).await;
    let v = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": 1, "memberId": members[0]}),
    )
    .await;
    assert_code(&v, 3003);
}

#[tokio::test]
async fn a_release_at_a_time_can_add_a_session_that_did_not_exist() {
    let sb = start(scenario(3, 0, json!({}))).await;
    let token = login(&sb).await;
    let (dept, doctor, _, _) = tomorrow_am(&sb, &token).await;
    let date = date_str(today(&sb) + 2);
    let at = sb.shared.clock.now_ms() + 10_000;
    admin_post(
        &sb,
        "/release",
        json!({"platform": "pati", "doctor": "张建国", "day": 2, "period": "PM", "count": 4, "at_ms": at}),
    )
    .await;
    assert!(session(&sb, &token, &dept, &doctor, &date).await["schedulePM"].is_null());
    admin_post(&sb, "/clock", json!({"advance_ms": 10_000})).await;
    let pm = &session(&sb, &token, &dept, &doctor, &date).await["schedulePM"];
    assert_eq!(pm["leftCount"], 4, "{pm}");
}

#[tokio::test]
async fn the_booking_window_rolls_open_a_day_at_release_time() {
    let sb = start(json!({"pati": {
        "days_ahead": 3, "release_time": "08:00",
        "departments": [{"name": "儿内科", "doctor_count": 0}],
    }}))
    .await;
    let token = login_as(&sb, "13812345678", "pati123456").await;
    let token = ok(&token)["token"].as_str().unwrap().to_string();
    let dept = dept_id(&sb, &token, "儿内科").await;
    // Today + 4 opens tomorrow at 08:00 (Beijing): not before.
    let far = date_str(today(&sb) + 4);
    let general = |v: Value| ok(&v).clone();
    let before = general(
        get(
            &sb,
            &token,
            "/tenant_service/schedule",
            &[("deptId", &dept), ("date", &far)],
        )
        .await,
    );
    assert!(before["scheduleAM"].is_null(), "{before}");
    let by_date = get(
        &sb,
        &token,
        "/tenant_service/schedule_by_date",
        &[("deptId", &dept), ("date", &far)],
    )
    .await;
    assert_eq!(ok(&by_date)["total"], 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 2 * 86_400_000i64})).await;
    let token = ok(&login_as(&sb, "13812345678", "pati123456").await)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let after = general(
        get(
            &sb,
            &token,
            "/tenant_service/schedule",
            &[("deptId", &dept), ("date", &far)],
        )
        .await,
    );
    assert!(
        after["scheduleAM"]["leftCount"].as_i64().unwrap() > 0,
        "{after}"
    );
    let by_date = get(
        &sb,
        &token,
        "/tenant_service/schedule_by_date",
        &[("deptId", &dept), ("date", &far)],
    )
    .await;
    let row = &ok(&by_date)["list"][0];
    assert!(row["doctorId"].is_null(), "the 普通门诊 row: {row}");
    assert_eq!(row["status"], 1);
}

#[tokio::test]
async fn a_booking_charged_online_gets_a_pay_link_and_never_pays_itself() {
    let sb = start(scenario(3, 0, json!({"schedules": [
        {"dept": "心血管内科", "doctor": "张建国", "day": 1, "period": "AM", "count": 10, "left": 3},
        {"dept": "口腔科", "doctor": "王丽", "day": 1, "period": "PM", "count": 6, "left": 2}
    ]}))).await;
    let token = login(&sb).await;
    let dept = dept_id(&sb, &token, "口腔科").await;
    let doctor = doctor_id(&sb, &token, &dept, "王丽").await;
    let date = date_str(today(&sb) + 1);
    let pm = session(&sb, &token, &dept, &doctor, &date).await["schedulePM"].clone();
    let schedule = pm["scheduleId"].as_str().unwrap().to_string();
    let no = left_appo(&sb, &token, &schedule).await[0].0;
    let members = member_ids(&sb, &token).await;
    let v = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": no, "memberId": members[1]}),
    )
    .await;
    let book = ok(&v)["bookId"].as_str().unwrap().to_string();

    let detail = get(&sb, &token, &format!("/book_service/book/{book}"), &[]).await;
    assert_eq!(ok(&detail)["visiCharge"], 1, "未收费");
    let books = get(&sb, &token, "/book_service/books", &[]).await;
    assert_eq!(ok(&books)["list"][0]["visiCharge"], 1);

    let pay = post(
        &sb,
        &token,
        "/book_service/pay/appo_order",
        json!({"appo_id": book.parse::<u64>().unwrap(), "open_id": "oXyz123"}),
    )
    .await;
    let p = ok(&pay).clone();
    assert_eq!(p["is_success"], true);
    assert_eq!(p["error_code"], "SUCCESS");
    assert_eq!(p["trade_type"], "JSAPI");
    for f in [
        "prepay_id",
        "out_trade_no",
        "url",
        "nonce_str",
        "sign_type",
        "agency_id",
        "timestamp",
    ] {
        assert!(p[f].as_str().is_some_and(|s| !s.is_empty()), "{f}: {p}");
    }
    let page = client()
        .get(p["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("待支付"));
    // Asking again gives the same order; the booking is still unpaid.
    let again = post(
        &sb,
        &token,
        "/book_service/pay/appo_order",
        json!({"appo_id": book, "open_id": "oXyz123"}),
    )
    .await;
    assert_eq!(ok(&again)["out_trade_no"], p["out_trade_no"]);
    let detail = get(&sb, &token, &format!("/book_service/book/{book}"), &[]).await;
    assert_eq!(ok(&detail)["visiCharge"], 1);

    // The person pays on their phone.
    admin_post(&sb, "/platform/pati/pay", json!({"bookId": book})).await;
    let detail = get(&sb, &token, &format!("/book_service/book/{book}"), &[]).await;
    assert_eq!(ok(&detail)["visiCharge"], 2, "已收费");
    let paid = post(
        &sb,
        &token,
        "/book_service/pay/appo_order",
        json!({"appo_id": book}),
    )
    .await;
    assert_eq!(ok(&paid)["error_code"], "FAIL");

    // A booking that is not charged online has no pay link.
    let (_, _, free_schedule, _) = tomorrow_am(&sb, &token).await;
    let no = left_appo(&sb, &token, &free_schedule).await[0].0;
    let v = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": free_schedule, "serialNo": no, "memberId": members[0]}),
    )
    .await;
    let free_book = ok(&v)["bookId"].as_str().unwrap().to_string();
    let none = post(
        &sb,
        &token,
        "/book_service/pay/appo_order",
        json!({"appo_id": free_book}),
    )
    .await;
    assert_eq!(ok(&none)["error_code"], "FAIL");
    assert!(ok(&none)["url"].is_null());
}

#[tokio::test]
async fn unpaid_bookings_time_out_and_free_their_serial() {
    let sb = start(scenario(3, 0, json!({
        "pay_timeout_ms": 900_000,
        "schedules": [{"dept": "口腔科", "doctor": "王丽", "day": 1, "period": "AM", "count": 4, "left": 1}]
    }))).await;
    let token = login(&sb).await;
    let dept = dept_id(&sb, &token, "口腔科").await;
    let doctor = doctor_id(&sb, &token, &dept, "王丽").await;
    let date = date_str(today(&sb) + 1);
    let am = session(&sb, &token, &dept, &doctor, &date).await["scheduleAM"].clone();
    let schedule = am["scheduleId"].as_str().unwrap().to_string();
    let no = left_appo(&sb, &token, &schedule).await[0].0;
    let members = member_ids(&sb, &token).await;
    let v = post(
        &sb,
        &token,
        "/book_service/book/submit",
        json!({"scheduleId": schedule, "serialNo": no, "memberId": members[0]}),
    )
    .await;
    let book = ok(&v)["bookId"].as_str().unwrap().to_string();
    assert!(left_appo(&sb, &token, &schedule).await.is_empty());
    admin_post(&sb, "/clock", json!({"advance_ms": 900_000})).await;
    let back = left_appo(&sb, &token, &schedule).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].0, no);
    let d = get(&sb, &token, &format!("/book_service/book/{book}"), &[]).await;
    assert_eq!(ok(&d)["bookStatus"], 1);
    assert_eq!(ok(&d)["visiCharge"], 1);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_hospital_and_defaults_work() {
    let a = start_seeded(json!(null), 7).await;
    let b = start_seeded(json!(null), 7).await;
    let c = start_seeded(json!(null), 8).await;
    let mut seen = Vec::new();
    for sb in [&a, &b, &c] {
        let token = ok(&login_as(sb, "13812345678", "pati123456").await)["token"]
            .as_str()
            .unwrap()
            .to_string();
        let depts = get(sb, &token, "/tenant_service/depts", &[]).await;
        assert!(ok(&depts).as_array().unwrap().len() >= 5);
        let members = get(sb, &token, "/patient_service/members", &[]).await;
        let m = &ok(&members)[0];
        assert_eq!(m["defaultMember"], true);
        assert_eq!(m["phone"], "13812345678");
        seen.push((depts, members));
    }
    assert_eq!(seen[0], seen[1]);
    assert_ne!(seen[0], seen[2]);
}

#[tokio::test]
async fn the_scenario_files_load_and_do_what_they_say() {
    let demo = haoyuan_sandbox::parse_scenario(include_str!("../../scenarios/pati.yaml")).unwrap();
    let sb = start(demo).await;
    let token = ok(&login_as(&sb, "13900000001", "demo2024").await)["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(member_ids(&sb, &token).await.len(), 2);
    let (_, _, schedule, left) = tomorrow_am(&sb, &token).await;
    assert_eq!(left, 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 122_000})).await;
    // Five released, three taken by other buyers within a second.
    assert_eq!(left_appo(&sb, &token, &schedule).await.len(), 2);
    let r = client()
        .get(url(&sb, "/wechat/service_info"))
        .send()
        .await
        .unwrap();
    let info: Value = r.json().await.unwrap();
    assert!(ok(&info)["appo_notice"]
        .as_str()
        .unwrap()
        .contains("杭州市第一人民医院"));

    let rush =
        haoyuan_sandbox::parse_scenario(include_str!("../../scenarios/pati-rush.yaml")).unwrap();
    let sb = start(rush).await;
    let token = ok(&login_as(&sb, "13812345678", "pati123456").await)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let dept = dept_id(&sb, &token, "儿内科").await;
    let date = date_str(today(&sb) + 1);
    let pm = |v: Value| ok(&v)["schedulePM"]["leftCount"].clone();
    let q = [("deptId", dept.as_str()), ("date", date.as_str())];
    assert_eq!(
        pm(get(&sb, &token, "/tenant_service/schedule", &q).await),
        0
    );
    admin_post(&sb, "/clock", json!({"advance_ms": 10_000})).await;
    admin_post(&sb, "/clock", json!({"advance_ms": 1_000})).await;
    assert_eq!(
        pm(get(&sb, &token, "/tenant_service/schedule", &q).await),
        0,
        "the other buyers were faster"
    );
    let sessions = admin_post(
        &sb,
        "/platform/pati/sessions",
        json!({"dept": "儿内科", "general": true, "day": 1, "period": "PM"}),
    )
    .await;
    assert_eq!(
        sessions[0]["count"], 33,
        "three numbers were added: {sessions}"
    );
}
