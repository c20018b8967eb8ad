//! The 91160 open platform simulator, walked over HTTP as a client would: paged lists,
//! schedule → resources → order → cancel, `appointedNum > resourceMax`, tokens that are
//! missing, wrong or expired, body faults, many parallel buyers for one number,
//! releases by the simulated clock and competitors, and each unit's open time.

use crate::common::*;
use serde_json::{json, Value};

const TOKEN: &str = "75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL";

async fn get(sb: &haoyuan_sandbox::Running, path_and_query: &str) -> Value {
    let r = client()
        .get(format!("{}{path_and_query}", sb.url("91160")))
        .send()
        .await
        .expect("91160 GET");
    assert_eq!(r.status(), 200, "{path_and_query}");
    let text = r.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path_and_query}: {e}: {text}"))
}

async fn post(sb: &haoyuan_sandbox::Running, path: &str, body: &Value) -> Value {
    post_to(sb.url("91160"), path, body).await
}

async fn post_to(base: String, path: &str, body: &Value) -> Value {
    let r = client()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .expect("91160 POST");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

fn code(v: &Value) -> &str {
    v["code"]
        .as_str()
        .unwrap_or_else(|| panic!("code is a string: {v}"))
}

fn assert_ok(v: &Value) {
    assert_eq!(code(v), "0", "{v}");
}

/// A resident ID number with a valid check digit.
fn resident_id(birthday: &str, seq: u32, male: bool) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let seq = (seq % 500) * 2 + u32::from(male);
    let body = format!("440304{}{:03}", birthday.replace('-', ""), seq);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", &"10X98765432"[(sum % 11) as usize..][..1])
}

/// An order body for adult patient `n` on resource `detl`.
fn order_body(unit_id: &Value, detl: &str, n: u32) -> Value {
    let names = [
        "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "黄敏", "赵强",
    ];
    let male = n & 1 == 0;
    let birthday = format!("19{}-0{}-1{}", 60 + n % 40, 1 + n % 9, n % 10);
    json!({
        "appToken": TOKEN, "unitId": unit_id, "detlId": detl,
        "mobile": format!("138{:08}", n), "trueName": names[(n % 8) as usize],
        "sex": if male { 0 } else { 1 }, "birthday": birthday, "cardType": 1,
        "cardNo": resident_id(&birthday, n, male), "clinicNo": "", "address": "深圳市福田区红荔路1号"
    })
}

async fn summary(sb: &haoyuan_sandbox::Running) -> Value {
    admin_post(sb, "/platform/91160/summary", json!({})).await
}

fn add_days(date: &str, n: i64) -> String {
    let d = haoyuan_core::date::Date::parse(date).unwrap();
    haoyuan_core::date::Date::from_days(d.to_days() + n).to_string()
}

async fn schedules(
    sb: &haoyuan_sandbox::Running,
    unit: &Value,
    dep: &Value,
    doctor: &Value,
    begin: &str,
    end: &str,
) -> Vec<Value> {
    let v = get(sb, &format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate={begin}&endDate={end}")).await;
    assert_ok(&v);
    v["data"].as_array().expect("data is an array").clone()
}

async fn resources(sb: &haoyuan_sandbox::Running, unit: &Value, sid: &str) -> Vec<Value> {
    let v = get(
        sb,
        &format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId={sid}"),
    )
    .await;
    assert_ok(&v);
    v["data"].as_array().expect("data is an array").clone()
}

fn free(r: &Value) -> i64 {
    (r["resourceMax"].as_i64().unwrap() - r["appointedNum"].as_i64().unwrap()).max(0)
}

/// The first unit, department and doctor, found through the lists.
async fn first_doctor(sb: &haoyuan_sandbox::Running) -> (Value, Value, Value) {
    let units = get(
        sb,
        &format!("/basicInfo/unitList?appToken={TOKEN}&pageNum=1&pageSize=1"),
    )
    .await;
    let unit = units["data"]["list"][0]["unitId"].clone();
    let deps = get(
        sb,
        &format!("/basicInfo/depList?appToken={TOKEN}&unitId={unit}&pageNum=1&pageSize=1"),
    )
    .await;
    let dep = deps["data"]["list"][0]["depId"].clone();
    let docs = get(
        sb,
        &format!(
            "/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}&pageNum=1&pageSize=1"
        ),
    )
    .await;
    let doctor = docs["data"]["list"][0]["doctorId"].clone();
    (unit, dep, doctor)
}

#[tokio::test]
async fn lists_page_through_hundreds_of_units_with_their_departments_and_doctors() {
    let sb = start(json!(null)).await;
    // Defaults: page 1 of 20.
    let v = get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await;
    assert_ok(&v);
    assert_eq!(v["data"]["list"].as_array().unwrap().len(), 20);
    let total = v["data"]["total"].as_u64().unwrap() as usize;
    assert!(total >= 300, "hundreds of units: {total}");
    let mut ids = std::collections::BTreeSet::new();
    let pages = total.div_ceil(100);
    for n in 1..=pages {
        let v = get(
            &sb,
            &format!("/basicInfo/unitList?appToken={TOKEN}&pageNum={n}&pageSize=100"),
        )
        .await;
        let list = v["data"]["list"].as_array().unwrap();
        assert_eq!(
            list.len(),
            if n < pages {
                100
            } else {
                total - 100 * (pages - 1)
            }
        );
        for u in list {
            assert!(ids.insert(u["unitId"].as_i64().expect("unitId is an int")));
            assert!(u["masterUnitId"].is_i64() && u["unitOrg"].is_i64());
            let name = u["unitName"].as_str().unwrap();
            assert!(
                ["院", "中心", "门诊部"].iter().any(|k| name.contains(k)),
                "{name}"
            );
            for f in [
                "unitLevel",
                "unitType",
                "areaCode",
                "address",
                "mapPoint",
                "provinceName",
                "cityName",
                "districtName",
                "telephone",
                "unitOrgName",
                "payType",
                "busRoute",
                "unitIntro",
                "specialDeps",
                "image",
                "provinceCode",
                "cityCode",
            ] {
                assert!(u[f].is_string(), "{f} in {u}");
            }
            let open = u["appointmentOpenTime"].as_str().unwrap();
            let hm = open.rsplit(' ').next().unwrap();
            assert!(hm.len() >= 5 && hm.as_bytes()[2] == b':', "{open}");
            let days: i64 = u["appointmentCycleDays"].as_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&days));
        }
    }
    assert_eq!(ids.len(), total);
    let beyond = get(
        &sb,
        &format!(
            "/basicInfo/unitList?appToken={TOKEN}&pageNum={}&pageSize=100",
            pages + 1
        ),
    )
    .await;
    assert_eq!(beyond["data"]["list"], json!([]));
    assert_eq!(beyond["data"]["total"].as_u64().unwrap() as usize, total);

    let unit = ids.iter().next().unwrap();
    let deps = get(
        &sb,
        &format!("/basicInfo/depList?appToken={TOKEN}&unitId={unit}&pageNum=1&pageSize=100"),
    )
    .await;
    assert_ok(&deps);
    let dl = deps["data"]["list"].as_array().unwrap();
    assert_eq!(dl.len() as u64, deps["data"]["total"].as_u64().unwrap());
    assert!(!dl.is_empty());
    for d in dl {
        assert!(d["depId"].is_i64() && d["unitId"] == json!(unit));
        assert!(
            d["depClassId"].is_string() && d["depName"].is_string() && d["hisDepId"].is_string()
        );
    }
    let two = get(
        &sb,
        &format!("/basicInfo/depList?appToken={TOKEN}&unitId={unit}&pageNum=2&pageSize=1"),
    )
    .await;
    assert_eq!(two["data"]["list"][0]["depId"], dl[1]["depId"]);

    let dep = &dl[0]["depId"];
    let docs = get(&sb, &format!("/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}&pageNum=1&pageSize=10")).await;
    assert_ok(&docs);
    let first = &docs["data"]["list"][0];
    assert_eq!(
        first["depId"],
        json!(dep.to_string()),
        "doctorList's depId is a string"
    );
    assert!(first["doctorId"].is_i64() && first["unitId"].is_i64());
    assert!([0, 1].contains(&first["gender"].as_i64().unwrap()));
    let name = first["doctorName"].as_str().unwrap();
    assert!((2..=3).contains(&name.chars().count()), "{name}");
    assert!(first["doctorTitle"].as_str().unwrap().contains("医师"));
    let by_name = get(
        &sb,
        &format!(
            "/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorName={name}"
        ),
    )
    .await;
    assert!(by_name["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["doctorName"].as_str().unwrap().contains(name)));
    assert!(by_name["data"]["total"].as_u64().unwrap() >= 1);

    // The seed's error shapes.
    let v = get(&sb, &format!("/basicInfo/depList?appToken={TOKEN}")).await;
    assert_eq!(code(&v), "10001");
    assert_eq!(v["msg"], "缺少必要参数：unitId");
    assert_eq!(
        code(
            &get(
                &sb,
                &format!("/basicInfo/depList?appToken={TOKEN}&unitId=abc")
            )
            .await
        ),
        "10002"
    );
    assert_eq!(
        code(
            &get(
                &sb,
                &format!("/basicInfo/depList?appToken={TOKEN}&unitId=1")
            )
            .await
        ),
        "30001"
    );
    assert_eq!(
        code(
            &get(
                &sb,
                &format!("/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId=1")
            )
            .await
        ),
        "30002"
    );
    assert_eq!(
        code(
            &get(
                &sb,
                &format!("/basicInfo/unitList?appToken={TOKEN}&pageSize=0")
            )
            .await
        ),
        "10002"
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let a = start_seeded(json!(null), 5).await;
    let b = start_seeded(json!(null), 5).await;
    let c = start_seeded(json!(null), 6).await;
    let q = format!("/basicInfo/unitList?appToken={TOKEN}&pageNum=3&pageSize=5");
    let (va, vb, vc) = (get(&a, &q).await, get(&b, &q).await, get(&c, &q).await);
    assert_eq!(va["data"]["list"], vb["data"]["list"]);
    assert_ne!(va["data"]["list"], vc["data"]["list"]);
}

#[tokio::test]
async fn a_client_walks_schedule_resources_order_and_cancel() {
    let sb = start(json!({"91160": {"schedules": [
        {"day_offset": 1, "time_type": "am", "resources": 3, "resource_max": 3, "appointed_num": 1}
    ]}}))
    .await;
    let today = summary(&sb).await["today"].as_str().unwrap().to_string();
    let tomorrow = add_days(&today, 1);
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let list = schedules(&sb, &unit, &dep, &doctor, &today, &add_days(&today, 6)).await;
    let s = list
        .iter()
        .find(|s| s["scheduleDate"] == json!(tomorrow) && s["timeType"] == "am")
        .unwrap_or_else(|| panic!("tomorrow morning is listed: {list:?}"))
        .clone();
    assert!(list
        .iter()
        .all(|s| ["am", "pm", "em"].contains(&s["timeType"].as_str().unwrap())));
    assert!(
        s["scheduleId"].is_string()
            && s["unitId"] == unit
            && s["depId"] == dep
            && s["doctorId"] == doctor
    );
    assert_eq!(
        (s["resourceMax"].as_i64(), s["appointedNum"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(s["timeTypeDesc"], "上午");
    assert!(
        s["resourceFee"].as_f64().unwrap() > 0.0
            && s["levelName"].is_string()
            && s["unitName"].is_string()
    );
    let sid = s["scheduleId"].as_str().unwrap();

    let res = resources(&sb, &unit, sid).await;
    assert_eq!(res.len(), 3);
    assert!(res
        .iter()
        .all(|r| r["scheduleId"] == json!(sid) && r["resourceId"].is_string()));
    assert!(res[0]["beginTime"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{tomorrow} 08:00")));
    assert_eq!(free(&res[0]), 0);
    let (r1, r2) = (
        res[1]["resourceId"].as_str().unwrap().to_string(),
        res[2]["resourceId"].as_str().unwrap().to_string(),
    );
    assert_eq!(free(&res[1]), 1);

    let mut first = order_body(&unit, &r1, 1);
    first["depId"] = dep.clone();
    first["doctorId"] = doctor.clone();
    let v = post(&sb, "/appointment/order", &first).await;
    assert_ok(&v);
    let order_id = v["data"]["orderId"].as_i64().expect("orderId is an int");
    assert!(v["data"]["hisTakeNo"].is_string());
    let res = resources(&sb, &unit, sid).await;
    assert_eq!(free(&res[1]), 0, "a booked number is gone");
    let list = schedules(&sb, &unit, &dep, &doctor, &tomorrow, &tomorrow).await;
    let s = list.iter().find(|x| x["scheduleId"] == json!(sid)).unwrap();
    assert_eq!(s["appointedNum"], 2);

    // The same patient on the same schedule again: refused, even on another slot.
    let v = post(&sb, "/appointment/order", &order_body(&unit, &r2, 1)).await;
    assert_eq!(code(&v), "40002", "{v}");
    // Another patient on the slot just taken.
    let v = post(&sb, "/appointment/order", &order_body(&unit, &r1, 2)).await;
    assert_eq!(code(&v), "40001", "{v}");
    let v = post(&sb, "/appointment/order", &order_body(&unit, &r2, 2)).await;
    assert_ok(&v);

    // Cancel needs a reason, then gives the number back, once.
    let v = post(
        &sb,
        "/appointment/cancel",
        &json!({"appToken": TOKEN, "orderId": order_id}),
    )
    .await;
    assert_eq!(code(&v), "10001");
    let v = post(
        &sb,
        "/appointment/cancel",
        &json!({"appToken": TOKEN, "orderId": order_id, "cancelReason": "行程有变"}),
    )
    .await;
    assert_eq!(v, json!({"code": "0", "msg": "成功"}));
    assert_eq!(free(&resources(&sb, &unit, sid).await[1]), 1);
    let v = post(
        &sb,
        "/appointment/cancel",
        &json!({"appToken": TOKEN, "orderId": order_id, "cancelReason": "行程有变"}),
    )
    .await;
    assert_eq!(code(&v), "40008");
    let v = post(
        &sb,
        "/appointment/cancel",
        &json!({"appToken": TOKEN, "orderId": 1, "cancelReason": "x"}),
    )
    .await;
    assert_eq!(code(&v), "40007");
    // After cancelling, the first patient may book this schedule again.
    assert_ok(&post(&sb, "/appointment/order", &order_body(&unit, &r1, 1)).await);

    let orders = admin_get(&sb, "/orders?platform=91160").await;
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[0]["status"], "cancelled");
    assert_eq!(orders[0]["cancelReason"], "行程有变");
    assert_eq!(orders[1]["status"], "booked");
    assert_eq!(orders[1]["detlId"], json!(r2));
}

#[tokio::test]
async fn orders_check_the_patient_like_a_hospital_does() {
    let sb = start(json!({"91160": {"schedules": [{"resources": 4, "resource_max": 4}]}})).await;
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let today = summary(&sb).await["today"].as_str().unwrap().to_string();
    let tomorrow = add_days(&today, 1);
    let sid = schedules(&sb, &unit, &dep, &doctor, &tomorrow, &tomorrow)
        .await
        .into_iter()
        .find(|s| s["timeType"] == "am")
        .unwrap()["scheduleId"]
        .as_str()
        .unwrap()
        .to_string();
    let res = resources(&sb, &unit, &sid).await;
    let other = res[1]["resourceId"].as_str().unwrap().to_string();
    let detl = res[0]["resourceId"].as_str().unwrap().to_string();

    let mut bad_id = order_body(&unit, &detl, 3);
    let card = bad_id["cardNo"].as_str().unwrap().to_string();
    let last = if card.ends_with('0') { "1" } else { "0" };
    bad_id["cardNo"] = json!(format!("{}{last}", &card[..17]));
    let v = post(&sb, "/appointment/order", &bad_id).await;
    assert_eq!(code(&v), "40005", "{v}");
    let mut no_name = order_body(&unit, &detl, 3);
    no_name.as_object_mut().unwrap().remove("trueName");
    assert_eq!(
        post(&sb, "/appointment/order", &no_name).await["msg"],
        "缺少必要参数：trueName"
    );
    let mut future = order_body(&unit, &detl, 3);
    future["cardType"] = json!(2);
    future["birthday"] = json!(add_days(&today, 30));
    assert_eq!(
        code(&post(&sb, "/appointment/order", &future).await),
        "40005"
    );
    let mut phone = order_body(&unit, &detl, 3);
    phone["mobile"] = json!("12345");
    assert_eq!(
        code(&post(&sb, "/appointment/order", &phone).await),
        "40005"
    );

    // A child needs a guardian.
    let year: i64 = today[..4].parse().unwrap();
    let birthday = format!("{}-06-01", year - 6);
    let mut child = order_body(&unit, &detl, 4);
    child["birthday"] = json!(birthday);
    child["sex"] = json!(0);
    child["cardNo"] = json!(resident_id(&birthday, 4, true));
    let v = post(&sb, "/appointment/order", &child).await;
    assert_eq!(code(&v), "40006", "{v}");
    let parent = order_body(&unit, &detl, 5);
    child["guardian"] = json!({
        "guardianTrueName": parent["trueName"], "guardianMobile": parent["mobile"],
        "guardianCardType": "1", "guardianCardNo": parent["cardNo"], "guardianSex": "1",
        "guardianRelation": "母亲", "guardianBirthday": parent["birthday"]
    });
    assert_ok(&post(&sb, "/appointment/order", &child).await);

    // Wrong ids and a body that is not JSON.
    assert_eq!(
        code(&post(&sb, "/appointment/order", &order_body(&unit, "106", 6)).await),
        "30005"
    );
    assert_eq!(
        code(&post(&sb, "/appointment/order", &order_body(&json!(1), &detl, 6)).await),
        "30001"
    );
    let mut wrong_doc = order_body(&unit, &detl, 6);
    wrong_doc["doctorId"] = json!(1);
    assert_eq!(
        code(&post(&sb, "/appointment/order", &wrong_doc).await),
        "30005"
    );
    let r = client()
        .post(format!("{}/appointment/order", sb.url("91160")))
        .body(format!("appToken={TOKEN}&unitId={unit}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "10002");
    // Numbers given as strings are accepted, as Jackson would.
    let mut strings = order_body(&json!(unit.to_string()), &other, 7);
    strings["sex"] = json!("1");
    strings["cardType"] = json!("1");
    let v = post(&sb, "/appointment/order", &strings).await;
    assert_ok(&v);
    let orders = admin_get(&sb, "/orders?platform=91160").await;
    assert_eq!(orders.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn some_schedules_have_more_appointed_than_numbers() {
    let sb = start(json!({"91160": {"schedules": [
        {"day_offset": 2, "time_type": "pm", "resources": 2, "resource_max": 2, "appointed_num": 5}
    ]}}))
    .await;
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let today = summary(&sb).await["today"].as_str().unwrap().to_string();
    let day = add_days(&today, 2);
    let s = schedules(&sb, &unit, &dep, &doctor, &day, &day)
        .await
        .into_iter()
        .find(|s| s["timeType"] == "pm")
        .unwrap();
    assert!(
        s["appointedNum"].as_i64().unwrap() > s["resourceMax"].as_i64().unwrap(),
        "{s}"
    );
    let sid = s["scheduleId"].as_str().unwrap();
    let res = resources(&sb, &unit, sid).await;
    assert!(res
        .iter()
        .any(|r| r["appointedNum"].as_i64() > r["resourceMax"].as_i64()));
    for r in &res {
        let v = post(
            &sb,
            "/appointment/order",
            &order_body(&unit, r["resourceId"].as_str().unwrap(), 1),
        )
        .await;
        assert_eq!(code(&v), "40001");
    }

    // The generated world has them too (加号), as in the seed's sample.
    let units = get(
        &sb,
        &format!("/basicInfo/unitList?appToken={TOKEN}&pageSize=10"),
    )
    .await;
    let mut found = false;
    'scan: for u in units["data"]["list"].as_array().unwrap() {
        let unit = &u["unitId"];
        let deps = get(
            &sb,
            &format!("/basicInfo/depList?appToken={TOKEN}&unitId={unit}&pageSize=100"),
        )
        .await;
        for d in deps["data"]["list"].as_array().unwrap() {
            let dep = &d["depId"];
            let docs = get(
                &sb,
                &format!(
                    "/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}&pageSize=100"
                ),
            )
            .await;
            for doc in docs["data"]["list"].as_array().unwrap() {
                let list = schedules(
                    &sb,
                    unit,
                    dep,
                    &doc["doctorId"],
                    &today,
                    &add_days(&today, 3),
                )
                .await;
                if list
                    .iter()
                    .any(|s| s["appointedNum"].as_i64() > s["resourceMax"].as_i64())
                {
                    found = true;
                    break 'scan;
                }
            }
        }
    }
    assert!(
        found,
        "no generated schedule with appointedNum > resourceMax"
    );
}

#[tokio::test]
async fn tokens_missing_wrong_or_expired_are_refused_until_the_platform_renews_them() {
    let sb = start(json!(null)).await;
    let v = get(&sb, "/basicInfo/unitList?pageNum=1&pageSize=1").await;
    assert_eq!(
        (code(&v), v["msg"].as_str().unwrap()),
        ("20001", "appToken不能为空")
    );
    assert_eq!(v["data"], Value::Null);
    let v = get(&sb, "/basicInfo/unitList?appToken=nottherightone").await;
    assert_eq!(code(&v), "20002");
    assert_ok(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await);

    arm(&sb, json!({"platform": "91160", "route": "/appointment/scheduleList", "kind": "session_expired"})).await;
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let v = get(&sb, &format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate=2026-01-01&endDate=2026-01-02")).await;
    assert_eq!(code(&v), "20003", "{v}");
    // It stays expired: the client cannot renew it.
    assert_eq!(
        code(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await),
        "20003"
    );
    let v = post(&sb, "/appointment/order", &order_body(&unit, "1", 1)).await;
    assert_eq!(code(&v), "20003");
    admin_post(&sb, "/platform/91160/renew_token", json!({})).await;
    assert_ok(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await);

    // Tokens with a lifetime on the simulated clock.
    let sb = start(json!({"91160": {"tokens": ["partnerA"], "token_ttl_ms": 60000}})).await;
    assert_ok(&get(&sb, "/basicInfo/unitList?appToken=partnerA").await);
    assert_eq!(
        code(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await),
        "20002"
    );
    admin_post(&sb, "/clock", json!({"advance_ms": 61000})).await;
    assert_eq!(
        code(&get(&sb, "/basicInfo/unitList?appToken=partnerA").await),
        "20003"
    );
    let r = admin_post(
        &sb,
        "/platform/91160/renew_token",
        json!({"token": "partnerA"}),
    )
    .await;
    assert_eq!(r["tokens"], json!(["partnerA"]));
    assert_ok(&get(&sb, "/basicInfo/unitList?appToken=partnerA").await);
}

#[tokio::test]
async fn polling_too_fast_is_refused_when_a_rate_limit_is_set() {
    let sb = start(json!({"91160": {"rate_limit": {"window_ms": 600000, "burst": 3}}})).await;
    for _ in 0..3 {
        assert_ok(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await);
    }
    let v = get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await;
    assert_eq!(code(&v), "10006");
    admin_post(&sb, "/clock", json!({"advance_ms": 600001})).await;
    assert_ok(&get(&sb, &format!("/basicInfo/unitList?appToken={TOKEN}")).await);
}

#[tokio::test]
async fn body_faults_are_observable() {
    let sb = start(json!({"91160": {"schedules": [{"resources": 2}]}})).await;
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let today = summary(&sb).await["today"].as_str().unwrap().to_string();
    let tomorrow = add_days(&today, 1);
    let q = format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate={tomorrow}&endDate={tomorrow}");
    let url = format!("{}{q}", sb.url("91160"));

    arm(
        &sb,
        json!({"platform": "91160", "route": "/appointment/scheduleList", "kind": "malformed"}),
    )
    .await;
    let text = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(text.contains("scheduleId"));
    let ok = get(&sb, &q).await;
    assert_ok(&ok);

    arm(
        &sb,
        json!({"platform": "91160", "route": "/appointment/scheduleList", "kind": "truncated"}),
    )
    .await;
    let text = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    arm(&sb, json!({"platform": "91160", "route": "/appointment/scheduleList", "kind": "missing_field", "field": "appointedNum"})).await;
    let v = get(&sb, &q).await;
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s.get("appointedNum").is_none() && s.get("resourceMax").is_some()));

    let sid = ok["data"][0]["scheduleId"].as_str().unwrap();
    arm(&sb, json!({"platform": "91160", "route": "/appointment/resourceList", "kind": "rename_field", "from": "resourceMax", "to": "resource_max"})).await;
    let v = get(
        &sb,
        &format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId={sid}"),
    )
    .await;
    let r = &v["data"][0];
    assert!(
        r.get("resourceMax").is_none() && r["resource_max"].is_i64(),
        "{r}"
    );
    let v = get(
        &sb,
        &format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId={sid}"),
    )
    .await;
    assert!(v["data"][0]["resourceMax"].is_i64());

    // A gateway error on order: nothing was booked.
    arm(&sb, json!({"platform": "91160", "route": "/appointment/order", "kind": "status", "status": 502})).await;
    let detl = v["data"][0]["resourceId"].as_str().unwrap();
    let r = client()
        .post(format!("{}/appointment/order", sb.url("91160")))
        .body(order_body(&unit, detl, 1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(admin_get(&sb, "/orders?platform=91160").await, json!([]));
}

/// Sends every order body at once, each from its own task, after a common start signal.
async fn all_at_once(sb: &haoyuan_sandbox::Running, bodies: Vec<Value>) -> Vec<Value> {
    let gate = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (base, gate) = (sb.url("91160"), gate.clone());
            tokio::spawn(async move {
                gate.wait().await;
                post_to(base, "/appointment/order", &body).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.expect("buyer task"));
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_parallel_buyers_for_the_last_number_make_exactly_one_order() {
    let sb = start(json!({"91160": {"schedules": [
        {"resources": 3, "resource_max": 3, "appointed_num": 2},
        {"time_type": "pm", "resources": 6, "resource_max": 6}
    ]}}))
    .await;
    let pinned = summary(&sb).await["pinned"].clone();
    let (unit, _, _) = first_doctor(&sb).await;
    let sid = pinned[0].as_str().unwrap();
    let res = resources(&sb, &unit, sid).await;
    let last: Vec<_> = res.iter().filter(|r| free(r) > 0).collect();
    assert_eq!(last.len(), 1);
    let detl = last[0]["resourceId"].as_str().unwrap().to_string();
    let buyers = (0..48).map(|n| order_body(&unit, &detl, 100 + n)).collect();
    let replies = all_at_once(&sb, buyers).await;
    let wins = replies.iter().filter(|v| code(v) == "0").count();
    assert_eq!(wins, 1, "{replies:?}");
    assert!(replies.iter().all(|v| ["0", "40001"].contains(&code(v))));
    assert_eq!(
        admin_get(&sb, "/orders?platform=91160")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(free(&resources(&sb, &unit, sid).await[2]), 0);

    // One patient racing for every slot of a schedule gets exactly one.
    let sid = pinned[1].as_str().unwrap();
    let res = resources(&sb, &unit, sid).await;
    let tries = res
        .iter()
        .cycle()
        .take(30)
        .map(|r| order_body(&unit, r["resourceId"].as_str().unwrap(), 7))
        .collect();
    let replies = all_at_once(&sb, tries).await;
    assert_eq!(replies.iter().filter(|v| code(v) == "0").count(), 1);
    assert!(
        replies.iter().all(|v| ["0", "40002"].contains(&code(v))),
        "{replies:?}"
    );
}

#[tokio::test]
async fn numbers_released_at_a_time_appear_when_the_clock_gets_there() {
    let sb = start(json!({"91160": {
        "schedules": [{"resources": 2, "resource_max": 0}, {"time_type": "pm", "resources": 2, "resource_max": 0}],
        "releases": [{"schedule": 1, "count": 3, "after_ms": 3600000}]
    }}))
    .await;
    let (unit, _, _) = first_doctor(&sb).await;
    let pinned = summary(&sb).await["pinned"].clone();
    let sid = pinned[0].as_str().unwrap();
    let total_free = |res: &Vec<Value>| res.iter().map(free).sum::<i64>();
    let res = resources(&sb, &unit, sid).await;
    assert_eq!(total_free(&res), 0);
    let detl = res[0]["resourceId"].as_str().unwrap().to_string();
    assert_eq!(
        code(&post(&sb, "/appointment/order", &order_body(&unit, &detl, 1)).await),
        "40001"
    );

    let now = admin_get(&sb, "/clock").await["now_ms"].as_i64().unwrap();
    let r = admin_post(
        &sb,
        "/release",
        json!({"platform": "91160", "schedule_id": sid, "count": 2, "at_ms": now + 60000}),
    )
    .await;
    assert_eq!(r["released"]["scheduled"], true);
    assert_eq!(total_free(&resources(&sb, &unit, sid).await), 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 30000})).await;
    assert_eq!(total_free(&resources(&sb, &unit, sid).await), 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 31000})).await;
    let res = resources(&sb, &unit, sid).await;
    assert_eq!(total_free(&res), 2);
    assert_ok(&post(&sb, "/appointment/order", &order_body(&unit, &detl, 1)).await);

    // The scenario's own release, an hour after load.
    let sid1 = pinned[1].as_str().unwrap();
    assert_eq!(total_free(&resources(&sb, &unit, sid1).await), 0);
    admin_post(&sb, "/clock", json!({"advance_ms": 3600000})).await;
    assert_eq!(total_free(&resources(&sb, &unit, sid1).await), 3);
}

#[tokio::test]
async fn competitors_take_released_numbers_within_their_window() {
    let sb = start(json!({"91160": {
        "schedules": [{"resources": 2, "resource_max": 0}, {"time_type": "pm", "resources": 1, "resource_max": 0}],
        "competitors": [{"schedule": 1, "within_ms": 1000}]
    }}))
    .await;
    let (unit, _, _) = first_doctor(&sb).await;
    let pinned = summary(&sb).await["pinned"].clone();
    let sid = pinned[0].as_str().unwrap();
    // An immediate release with a competitor taking one at once: the client sees one left.
    admin_post(&sb, "/release", json!({"platform": "91160", "schedule_id": sid, "count": 2, "competitors": {"take": 1, "within_ms": 0}})).await;
    let res = resources(&sb, &unit, sid).await;
    assert_eq!(res.iter().map(free).sum::<i64>(), 1);
    let orders = admin_get(&sb, "/orders?platform=91160").await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    assert_eq!(orders[0]["competitor"], true);

    // The scenario's competitor on schedule 1 takes everything within a second.
    let sid1 = pinned[1].as_str().unwrap();
    admin_post(
        &sb,
        "/release",
        json!({"platform": "91160", "schedule": 1, "count": 1}),
    )
    .await;
    admin_post(&sb, "/clock", json!({"advance_ms": 1001})).await;
    let res = resources(&sb, &unit, sid1).await;
    assert_eq!(res.iter().map(free).sum::<i64>(), 0);
    let detl = res[0]["resourceId"].as_str().unwrap();
    assert_eq!(
        code(&post(&sb, "/appointment/order", &order_body(&unit, detl, 1)).await),
        "40001"
    );
    assert_eq!(
        admin_get(&sb, "/orders?platform=91160")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_new_day_opens_at_the_units_appointment_open_time() {
    let sb = start(json!(null)).await;
    // A unit with a plain HH:mm open time that is not midnight.
    let units = get(
        &sb,
        &format!("/basicInfo/unitList?appToken={TOKEN}&pageSize=100"),
    )
    .await;
    let u = units["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            let t = u["appointmentOpenTime"].as_str().unwrap();
            t.len() == 5 && t != "00:00"
        })
        .unwrap()
        .clone();
    let unit = &u["unitId"];
    let open = u["appointmentOpenTime"].as_str().unwrap();
    let open_min: i64 = open[..2].parse::<i64>().unwrap() * 60 + open[3..].parse::<i64>().unwrap();
    let cycle: i64 = u["appointmentCycleDays"].as_str().unwrap().parse().unwrap();
    let deps = get(
        &sb,
        &format!("/basicInfo/depList?appToken={TOKEN}&unitId={unit}"),
    )
    .await;
    let dep = deps["data"]["list"][0]["depId"].clone();
    let docs = get(
        &sb,
        &format!("/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}"),
    )
    .await;
    let doctor = docs["data"]["list"][0]["doctorId"].clone();

    // Put the server clock a minute before the next open time, with a schedule pinned
    // on the day that release opens.
    let now = admin_get(&sb, "/clock").await["real_ms"].as_i64().unwrap();
    let bj = now + 8 * 3_600_000;
    let midnight = bj - bj.rem_euclid(86_400_000);
    let mut open_at = midnight + open_min * 60_000;
    if open_at - 120_000 <= bj {
        open_at += 86_400_000;
    }
    let advance = open_at - 60_000 - bj;
    let open_day = haoyuan_core::date::Date::from_days(open_at.div_euclid(86_400_000)).to_string();
    let target = add_days(&open_day, cycle);
    admin_post(
        &sb,
        "/scenario",
        json!({"clock": {"advance_ms": advance}, "91160": {"schedules": [
            {"doctor_id": doctor, "date": target, "time_type": "pm", "resources": 4}
        ]}}),
    )
    .await;
    let pinned = summary(&sb).await["pinned"][0]
        .as_str()
        .unwrap()
        .to_string();
    let before = schedules(&sb, unit, &dep, &doctor, &target, &target).await;
    assert_eq!(before, Vec::<Value>::new(), "not open yet");
    let v = get(
        &sb,
        &format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId={pinned}"),
    )
    .await;
    assert_eq!(code(&v), "30004");
    let day_before = schedules(&sb, unit, &dep, &doctor, &add_days(&target, -1), &target).await;
    assert!(day_before
        .iter()
        .all(|s| s["scheduleDate"] == json!(add_days(&target, -1))));

    admin_post(&sb, "/clock", json!({"advance_ms": 120_000})).await;
    let after = schedules(&sb, unit, &dep, &doctor, &target, &target).await;
    assert!(
        after
            .iter()
            .any(|s| s["scheduleId"] == json!(pinned) && s["resourceMax"] == 4),
        "{after:?}"
    );
    assert_eq!(resources(&sb, unit, &pinned).await.len(), 4);
}

#[tokio::test]
async fn the_example_scenario_file_loads_and_plays_out() {
    let text = include_str!("../../scenarios/91160.yaml");
    let sb = start(haoyuan_sandbox::parse_scenario(text).unwrap()).await;
    let (unit, _, _) = first_doctor(&sb).await;
    let pinned = summary(&sb).await["pinned"].clone();
    let (full, over) = (
        pinned[0].as_str().unwrap().to_string(),
        pinned[1].as_str().unwrap().to_string(),
    );
    assert_eq!(
        resources(&sb, &unit, &full)
            .await
            .iter()
            .map(free)
            .sum::<i64>(),
        0
    );
    let res = resources(&sb, &unit, &over).await;
    let (max, app) = res.iter().fold((0, 0), |(m, a), r| {
        (
            m + r["resourceMax"].as_i64().unwrap(),
            a + r["appointedNum"].as_i64().unwrap(),
        )
    });
    assert!(app > max);
    admin_post(&sb, "/clock", json!({"advance_ms": 60_301})).await;
    assert_eq!(
        resources(&sb, &unit, &full)
            .await
            .iter()
            .map(free)
            .sum::<i64>(),
        1
    );
    let orders = admin_get(&sb, "/orders?platform=91160").await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    assert_eq!(orders[0]["competitor"], true);
}

#[tokio::test]
async fn bad_input_gets_the_platforms_own_errors_never_a_crash() {
    let sb = start(json!({"91160": {"schedules": [{}]}})).await;
    let (unit, dep, doctor) = first_doctor(&sb).await;
    let sid = summary(&sb).await["pinned"][0]
        .as_str()
        .unwrap()
        .to_string();
    let gets = [
        (format!("/basicInfo/unitList?appToken={TOKEN}&pageNum=99999999999&pageSize=100"), "0"),
        (format!("/basicInfo/unitList?appToken={TOKEN}&pageNum=-1"), "10002"),
        (format!("/basicInfo/unitList?appToken={TOKEN}&pageSize=%E4%B8%AD"), "10002"),
        (format!("/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}"), "10001"),
        (format!("/basicInfo/doctorList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId=x"), "10002"),
        (format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate=2026-02-30&endDate=2026-03-01"), "10002"),
        (format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate=2026-03-02&endDate=2026-03-01"), "10002"),
        (format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId=99999999999&beginDate=2026-03-01&endDate=2026-03-01"), "30003"),
        (format!("/appointment/scheduleList?appToken={TOKEN}&unitId={unit}&depId={dep}&doctorId={doctor}&beginDate=1900-01-01&endDate=9999-12-31"), "0"),
        (format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}"), "10001"),
        (format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId=%E4%B8%AD%E6%96%87"), "30004"),
        (format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId=99999999999999999999999999"), "30004"),
        (format!("/appointment/resourceList?appToken={TOKEN}&unitId=1&scheduleId={sid}"), "30001"),
    ];
    for (q, want) in gets {
        let v = get(&sb, &q).await;
        assert_eq!(code(&v), want, "{q}: {v}");
    }
    let posts = [
        (
            "/appointment/cancel",
            json!({"appToken": TOKEN, "orderId": i64::MIN, "cancelReason": "x"}),
            "40007",
        ),
        (
            "/appointment/cancel",
            json!({"appToken": TOKEN, "orderId": "abc", "cancelReason": "x"}),
            "10002",
        ),
        (
            "/appointment/cancel",
            json!({"appToken": TOKEN, "orderId": 1.5, "cancelReason": "x"}),
            "10002",
        ),
        ("/appointment/cancel", json!([1, 2]), "10002"),
        ("/appointment/order", json!({"appToken": TOKEN}), "10001"),
        (
            "/appointment/order",
            json!({"appToken": TOKEN, "unitId": [1], "detlId": "1"}),
            "10002",
        ),
        ("/appointment/order", json!({"appToken": 5}), "20001"),
    ];
    for (path, body, want) in posts {
        let v = post(&sb, path, &body).await;
        assert_eq!(code(&v), want, "{path} {body}: {v}");
    }
    let mut weird = order_body(&unit, "１２３４５６７８９０１２", 1);
    assert_eq!(
        code(&post(&sb, "/appointment/order", &weird).await),
        "30005"
    );
    weird["detlId"] = json!(format!("{sid}00"));
    assert_eq!(
        code(&post(&sb, "/appointment/order", &weird).await),
        "30005"
    );
    weird["detlId"] = json!(format!("{sid}99"));
    assert_eq!(
        code(&post(&sb, "/appointment/order", &weird).await),
        "30005"
    );
    weird["cardNo"] = json!("４４０３０４１９６００１１００００X");
    assert_eq!(
        code(&post(&sb, "/appointment/order", &weird).await),
        "40005"
    );
    assert_eq!(admin_get(&sb, "/orders?platform=91160").await, json!([]));
}

#[tokio::test]
async fn past_numbers_cannot_be_booked_and_past_orders_cannot_be_cancelled() {
    let sb = start(
        json!({"91160": {"schedules": [{"day_offset": 1, "resources": 8, "resource_max": 8}]}}),
    )
    .await;
    let (unit, _, _) = first_doctor(&sb).await;
    let today = summary(&sb).await["today"].as_str().unwrap().to_string();
    let sid = summary(&sb).await["pinned"][0]
        .as_str()
        .unwrap()
        .to_string();
    let res = resources(&sb, &unit, &sid).await;
    let first = res[0]["resourceId"].as_str().unwrap().to_string();
    let last = res[7]["resourceId"].as_str().unwrap().to_string();
    let v = post(&sb, "/appointment/order", &order_body(&unit, &first, 1)).await;
    assert_ok(&v);
    let order_id = v["data"]["orderId"].clone();

    // Tomorrow at 09:00 Beijing: the 08:00 number has begun, the last one has not.
    let tomorrow = haoyuan_core::date::Date::parse(&add_days(&today, 1)).unwrap();
    let nine = tomorrow.to_days() * 86_400_000 + 9 * 3_600_000 - 8 * 3_600_000;
    let now = admin_get(&sb, "/clock").await["now_ms"].as_i64().unwrap();
    admin_post(&sb, "/clock", json!({"advance_ms": nine - now})).await;
    assert_eq!(res[0]["beginTime"], json!(format!("{tomorrow} 08:00:00")));
    let v = post(&sb, "/appointment/order", &order_body(&unit, &first, 2)).await;
    assert_eq!(code(&v), "40004", "{v}");
    let v = post(
        &sb,
        "/appointment/cancel",
        &json!({"appToken": TOKEN, "orderId": order_id, "cancelReason": "来不及"}),
    )
    .await;
    assert_eq!(code(&v), "40009", "{v}");
    assert_ok(&post(&sb, "/appointment/order", &order_body(&unit, &last, 2)).await);
    // The day after, the schedule is gone from the lists.
    admin_post(&sb, "/clock", json!({"advance_ms": 86_400_000})).await;
    let v = get(
        &sb,
        &format!("/appointment/resourceList?appToken={TOKEN}&unitId={unit}&scheduleId={sid}"),
    )
    .await;
    assert_eq!(code(&v), "30004");
}
