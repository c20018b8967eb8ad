//! The 91160 open-platform adapter: reply readers on fixtures shaped like the
//! simulator's replies (`tests/fixtures/open91160/`), the order body, and the watcher
//! driven through [`Driver`] with those replies (find, book, competitor, token loss,
//! unreadable replies, restart with an open intent, release bursts, pacing).

use haoyuan_core::date::Date;
use haoyuan_core::http::{HttpRequest, HttpResponse, Method};
use haoyuan_core::patient::Patient;
use haoyuan_core::platforms::open91160::site::{
    cancel_request, order_body, read_cancel, read_deps, read_doctors, read_order, read_resources,
    read_schedules, read_units, Site, SiteError,
};
use haoyuan_core::platforms::open91160::watcher::{Watcher, MAX_REQUESTS_PER_POLL};
use haoyuan_core::platforms::{Action, Driver, Event};
use haoyuan_core::protocol::{BookingIntent, BookingState};
use haoyuan_core::watch::{Period, Watch};
use haoyuan_sandbox::clock::http_date;
use serde_json::{json, Value};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/open91160/",
            $name
        ))
    };
}

const BASE: &str = "https://openapi.91160.test";
const TOKEN: &str = "75fd1d311fdeef6bcc07a14f381c11f2vDUzpmEL";
const EMPTY_SCHEDULES: &str = r#"{"data":[],"code":"0","msg":"成功"}"#;

/// Unix ms of a Beijing wall-clock time.
fn beijing(date: &str, h: i64, m: i64) -> i64 {
    Date::parse(date).unwrap().to_days() * 86_400_000 + (h * 60 + m) * 60_000 - 8 * 3_600_000
}

/// 2026-05-01 09:00 Beijing.
fn t0() -> i64 {
    beijing("2026-05-01", 9, 0)
}

fn reply(body: &str, at_ms: i64) -> HttpResponse {
    HttpResponse::new(200, body.as_bytes().to_vec())
        .with_header("Content-Type", "application/json;charset=UTF-8")
        .with_header("Date", http_date(at_ms))
}

fn status(code: u16, body: &str) -> HttpResponse {
    HttpResponse::new(code, body.as_bytes().to_vec())
}

fn watch(mode: &str, doctor_id: &str, end: &str, filters: Value, interval: u32) -> Watch {
    serde_json::from_value(json!({
        "id": "w-91160",
        "target": {"platform": "91160", "unit_id": "100", "dep_id": "2001",
                   "doctor_id": doctor_id, "unit_name": "深圳市人民医院", "dep_name": "心血管内科",
                   "doctor_name": if doctor_id.is_empty() { "" } else { "王元" },
                   "open_time": "08:30", "cycle_days": 7, "patient_id": "p-1"},
        "window": {"start": "2026-05-01", "end": end},
        "filters": filters,
        "mode": mode,
        "interval": {"seconds": interval, "jitter_pct": 10}
    }))
    .unwrap()
}

fn minor() -> Patient {
    serde_json::from_value(json!({
        "id": "p-1", "name": "张小明", "id_type": "passport", "id_number": "E12345678",
        "birthday": "2019-06-01", "sex": "male", "phone": "13800138000",
        "address": "深圳市福田区红荔路1号", "clinic_no": "",
        "guardian": {"name": "张伟", "id_type": "resident_id", "id_number": "110105199003070017",
                     "phone": "13900139000", "sex": "male", "birthday": "1990-03-07",
                     "relation": "父亲"}
    }))
    .unwrap()
}

fn adult_woman() -> Patient {
    serde_json::from_value(json!({
        "id": "p-2", "name": "李娜", "id_type": "resident_id", "id_number": "11010519900307002X",
        "birthday": "1990-03-07", "sex": "female", "phone": "13700137000",
        "address": "深圳市罗湖区东门北路1号", "card_no": "M0012345"
    }))
    .unwrap()
}

fn watcher(w: &Watch, patient: Option<Patient>, intent: Option<&BookingIntent>) -> Watcher {
    Watcher::new(w, Site::new(BASE), TOKEN.into(), patient, intent, 7).unwrap()
}

fn request(a: &Action) -> &HttpRequest {
    match a {
        Action::Send { request, .. } => request,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn path(r: &HttpRequest) -> &str {
    let rest = r.url.strip_prefix(BASE).unwrap_or(&r.url);
    rest.split('?').next().unwrap_or(rest)
}

fn param(r: &HttpRequest, key: &str) -> Option<String> {
    let q = r.url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

fn body(r: &HttpRequest) -> Value {
    let b = r.body.as_ref().expect("a body");
    serde_json::from_slice(b.as_bytes()).unwrap()
}

fn kinds(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// Ticks through waits until the watcher wants to send; returns it and the time.
fn next_send(w: &mut Watcher, mut a: Action, mut now: i64) -> (Action, i64) {
    for _ in 0..20 {
        match a {
            Action::Wait { at_ms } => {
                assert!(at_ms >= now, "a wait into the past");
                now = at_ms;
                a = w.tick(now);
            }
            Action::Send { .. } => return (a, now),
            other => panic!("expected a request or a wait, got {other:?}"),
        }
    }
    panic!("no request after 20 waits");
}

fn no_secrets(events: &[Event]) {
    for e in events {
        let text = format!("{} {}", e.message, e.data);
        for secret in [TOKEN, "E12345678", "13800138000", "110105199003070017"] {
            assert!(!text.contains(secret), "{secret} in event {e:?}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Readers

#[test]
fn readers_accept_the_shapes_the_platform_serves() {
    let units = read_units(&reply(fixture!("unit_list.json"), t0())).unwrap();
    assert_eq!(units.total, 468);
    assert!(units.has_more(1, 3));
    let ids: Vec<&str> = units.list.iter().map(|u| u.unit_id.as_str()).collect();
    assert_eq!(ids, ["100", "117", "131"], "int and string ids");
    let open: Vec<&str> = units.list.iter().map(|u| u.open_time.as_str()).collect();
    assert_eq!(
        open,
        ["08:30", "07:30", "14:20"],
        "HH:mm, HH:mm:ss, date-time"
    );
    let cycles: Vec<u32> = units.list.iter().map(|u| u.cycle_days).collect();
    assert_eq!(
        cycles,
        [7, 14, 0],
        "a cycle that is not a number is unknown"
    );

    let deps = read_deps(&reply(fixture!("dep_list.json"), t0())).unwrap();
    assert_eq!(deps.list[1].dep_id, "2002");
    assert_eq!(deps.list[1].name, "儿科");
    assert!(!deps.has_more(2, 20) || deps.total > 40);

    let docs = read_doctors(&reply(fixture!("doctor_list.json"), t0())).unwrap();
    assert_eq!(docs.list[0].dep_id, "2001", "depId is a string here");
    assert_eq!(docs.list[0].doctor_id, "10000");
    assert_eq!(docs.list[1].title, "主治医师");
    assert!(!docs.has_more(1, 100));

    let sch = read_schedules(&reply(fixture!("schedule_list.json"), t0())).unwrap();
    let free: Vec<u32> = sch.iter().map(|s| s.free()).collect();
    assert_eq!(
        free,
        [0, 3, 0],
        "6 appointed of 4 is none free, not a wrap-around"
    );
    let periods: Vec<Option<Period>> = sch.iter().map(|s| s.period).collect();
    assert_eq!(
        periods,
        [
            Some(Period::Morning),
            Some(Period::Afternoon),
            Some(Period::Evening)
        ]
    );
    assert_eq!(sch[1].date, Date::parse("2026-05-02").unwrap());
    assert_eq!(sch[1].dep_id, "2001");
    assert_eq!(sch[1].fee, Some(50.0));

    let res = read_resources(&reply(fixture!("resource_list.json"), t0())).unwrap();
    let free: Vec<u32> = res.iter().map(|r| r.free()).collect();
    assert_eq!(free, [0, 2, 1]);
    assert_eq!(res[1].time_range(), "14:30–15:00");

    let ok = read_order(&reply(fixture!("order_ok.json"), t0())).unwrap();
    assert_eq!(ok.order_id, "31000001");
    assert_eq!(ok.his_take_no, "48213957");
}

#[test]
fn errors_are_named_in_plain_words() {
    let at = t0();
    let e = read_schedules(&reply(fixture!("token_20002.json"), at)).unwrap_err();
    assert!(matches!(&e, SiteError::TokenRejected(m) if m.contains("appToken无效")));
    assert!(e.to_string().starts_with("the 91160 appToken was rejected"));
    assert!(matches!(
        read_order(&reply(fixture!("order_40001.json"), at)),
        Err(SiteError::SoldOut(_))
    ));
    assert_eq!(
        read_order(&reply(fixture!("order_40002.json"), at))
            .unwrap_err()
            .code(),
        Some("40002")
    );
    assert_eq!(
        read_schedules(&reply(fixture!("throttled_10006.json"), at)),
        Err(SiteError::Throttled)
    );
    for code in [429, 403, 502] {
        assert_eq!(
            read_schedules(&status(code, fixture!("error_page.html"))),
            Err(SiteError::Throttled),
            "HTTP {code}"
        );
    }
    let html = read_schedules(&status(200, fixture!("error_page.html"))).unwrap_err();
    let SiteError::Unreadable(what) = &html else {
        panic!("{html:?}")
    };
    assert!(
        what.contains("scheduleList") && what.contains("HTML"),
        "{what}"
    );
    let cut = read_schedules(&reply(fixture!("schedule_list_truncated.json"), at)).unwrap_err();
    assert!(matches!(&cut, SiteError::Unreadable(w) if w.contains("scheduleList")));
    let renamed = read_schedules(&reply(fixture!("schedule_list_renamed.json"), at)).unwrap_err();
    assert!(
        matches!(&renamed, SiteError::Unreadable(w) if w.contains("`resourceMax`") && w.contains("scheduleList")),
        "{renamed:?}"
    );
    let no_code = read_units(&reply(r#"{"data":{"list":[],"total":0}}"#, at)).unwrap_err();
    assert!(matches!(&no_code, SiteError::Unreadable(w) if w.contains("`code`")));
    let no_id = read_doctors(&reply(
        r#"{"data":{"list":[{"doctor_id":1,"doctorName":"王元"}],"total":1},"code":"0","msg":"成功"}"#,
        at,
    ))
    .unwrap_err();
    assert!(matches!(&no_id, SiteError::Unreadable(w) if w.contains("`doctorId`")));
    // A numeric code works like a string one.
    assert!(matches!(
        read_order(&reply(r#"{"data":null,"code":40001,"msg":"约满"}"#, at)),
        Err(SiteError::SoldOut(_))
    ));
}

#[test]
fn order_body_carries_the_patient_and_a_minors_guardian() {
    let b = order_body(TOKEN, "100", "2001", "10000", "1000020260502202", &minor());
    assert_eq!(b["appToken"], TOKEN);
    assert_eq!(b["unitId"], 100);
    assert_eq!(b["depId"], 2001);
    assert_eq!(b["doctorId"], 10000);
    assert_eq!(b["detlId"], "1000020260502202");
    assert_eq!(b["trueName"], "张小明");
    assert_eq!(b["mobile"], "13800138000");
    assert_eq!(b["sex"], 0);
    assert_eq!(b["birthday"], "2019-06-01");
    assert_eq!(b["cardType"], 2, "passport");
    assert_eq!(b["cardNo"], "E12345678");
    assert_eq!(b["clinicNo"], "", "present, may be empty");
    assert_eq!(b["address"], "深圳市福田区红荔路1号");
    assert_eq!(
        b["guardian"],
        json!({"guardianTrueName": "张伟", "guardianMobile": "13900139000",
               "guardianCardType": "1", "guardianCardNo": "110105199003070017",
               "guardianSex": "0", "guardianRelation": "父亲",
               "guardianBirthday": "1990-03-07"})
    );

    let a = order_body(TOKEN, "100", "2001", "", "1000020260502202", &adult_woman());
    assert_eq!(a["sex"], 1);
    assert_eq!(a["cardType"], 1);
    assert_eq!(
        a["clinicNo"], "M0012345",
        "the medical card number when no clinic number"
    );
    assert!(a.get("guardian").is_none());
    assert!(a.get("doctorId").is_none(), "an empty doctor is left out");
}

#[test]
fn cancel_request_and_its_reply() {
    let r = cancel_request(
        &Site::new(&format!("{BASE}/")),
        TOKEN,
        "31000001",
        "行程有变",
    );
    assert_eq!(r.method, Method::Post);
    assert_eq!(path(&r), "/appointment/cancel");
    assert_eq!(
        body(&r),
        json!({"appToken": TOKEN, "orderId": 31000001, "cancelReason": "行程有变"})
    );
    assert!(r
        .header_value("Content-Type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(
        read_cancel(&reply(fixture!("cancel_ok.json"), t0())),
        Ok(())
    );
    assert_eq!(
        read_cancel(&reply(
            r#"{"data":null,"code":"40008","msg":"订单已取消，请勿重复操作"}"#,
            t0()
        )),
        Ok(()),
        "already cancelled is cancelled"
    );
    assert!(matches!(
        read_cancel(&reply(r#"{"data":null,"code":"40007","msg":"订单不存在"}"#, t0())),
        Err(SiteError::Refused { code, .. }) if code == "40007"
    ));
}

// ---------------------------------------------------------------------------------
// Watcher

/// Book mode up to the order request: returns the watcher, the order action and time.
fn up_to_order(w: &mut Watcher) -> (Action, i64) {
    let now = t0();
    let a = w.tick(now);
    let r = request(&a);
    assert_eq!(path(r), "/appointment/scheduleList");
    let a = w.feed(&reply(fixture!("schedule_list.json"), now), now + 50);
    let r = request(&a);
    assert_eq!(path(r), "/appointment/resourceList");
    assert_eq!(param(r, "scheduleId").as_deref(), Some("10000202605022"));
    let a = w.feed(&reply(fixture!("resource_list.json"), now + 100), now + 100);
    assert!(matches!(a, Action::RecordIntent { .. }), "{a:?}");
    let a = w.intent_recorded("b-0001", now + 120);
    (a, now + 120)
}

#[test]
fn books_a_minor_end_to_end() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, Some(minor()), None);
    let now = t0();

    let a = w.tick(now);
    let Action::Send {
        request: r, paced, ..
    } = &a
    else {
        panic!("{a:?}")
    };
    assert!(
        *paced,
        "a poll waits its turn behind the account's other watches"
    );
    assert_eq!(r.method, Method::Get);
    assert_eq!(path(r), "/appointment/scheduleList");
    assert_eq!(param(r, "appToken").as_deref(), Some(TOKEN));
    assert_eq!(param(r, "unitId").as_deref(), Some("100"));
    assert_eq!(param(r, "depId").as_deref(), Some("2001"));
    assert_eq!(param(r, "doctorId").as_deref(), Some("10000"));
    assert_eq!(param(r, "beginDate").as_deref(), Some("2026-05-01"));
    assert_eq!(
        param(r, "endDate").as_deref(),
        Some("2026-05-08"),
        "today + cycle days, not the window's end"
    );

    let a = w.feed(&reply(fixture!("schedule_list.json"), now), now + 50);
    let r = request(&a);
    assert_eq!(path(r), "/appointment/resourceList");
    assert_eq!(param(r, "unitId").as_deref(), Some("100"));
    assert_eq!(param(r, "scheduleId").as_deref(), Some("10000202605022"));
    let found = w.take_events();
    assert_eq!(kinds(&found), ["slot_seen"]);
    assert_eq!(found[0].data["schedule_id"], "10000202605022");
    assert_eq!(found[0].data["period"], "afternoon");
    assert_eq!(found[0].data["free"], 3);

    let a = w.feed(&reply(fixture!("resource_list.json"), now + 100), now + 100);
    let Action::RecordIntent { data } = &a else {
        panic!("{a:?}")
    };
    assert_eq!(
        data["resource_id"], "1000020260502202",
        "the first slot with a free number"
    );
    assert_eq!(data["date"], "2026-05-02");
    assert_eq!(data["time"], "14:30–15:00");
    assert_eq!(data["patient"], "张*明");
    assert!(!data.to_string().contains("E12345678"));

    let a = w.intent_recorded("b-0001", now + 120);
    let r = request(&a);
    assert_eq!(r.method, Method::Post);
    assert_eq!(path(r), "/appointment/order");
    let b = body(r);
    assert_eq!(b["appToken"], TOKEN);
    assert_eq!(b["unitId"], 100);
    assert_eq!(b["depId"], 2001);
    assert_eq!(b["doctorId"], 10000);
    assert_eq!(b["detlId"], "1000020260502202");
    assert_eq!(b["cardType"], 2);
    assert_eq!(b["guardian"]["guardianTrueName"], "张伟");
    assert_eq!(b["guardian"]["guardianCardNo"], "110105199003070017");
    assert_eq!(b["guardian"]["guardianRelation"], "父亲");

    let a = w.feed(&reply(fixture!("order_ok.json"), now + 300), now + 300);
    assert!(matches!(a, Action::Stopped { .. }), "{a:?}");
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["booked"]);
    assert_eq!(ev[0].booking_result.as_deref(), Some("booked"));
    assert_eq!(ev[0].intent_id.as_deref(), Some("b-0001"));
    assert_eq!(ev[0].data["orderId"], "31000001");
    assert_eq!(ev[0].data["hisTakeNo"], "48213957");
    assert_eq!(ev[0].data["date"], "2026-05-02");
    assert_eq!(ev[0].data["time"], "14:30–15:00");
    assert_eq!(ev[0].data["fee"], 50.0);
    no_secrets(&found);
    no_secrets(&ev);
    assert!(matches!(w.tick(now + 90_000), Action::Stopped { .. }));
}

#[test]
fn a_competitor_taking_the_number_fails_the_intent_and_polling_goes_on() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, Some(minor()), None);
    let (a, now) = up_to_order(&mut w);
    assert_eq!(path(request(&a)), "/appointment/order");
    w.take_events();

    let a = w.feed(&reply(fixture!("order_40001.json"), now), now + 80);
    assert!(matches!(a, Action::Wait { .. }), "back to polling: {a:?}");
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["booking_failed"]);
    assert_eq!(ev[0].booking_result.as_deref(), Some("failed"));
    assert_eq!(ev[0].intent_id.as_deref(), Some("b-0001"));
    assert!(ev[0].message.contains("no order was made"));

    // The next poll finds the schedule again and may book it: a failed intent does
    // not block.
    let (a, now) = next_send(&mut w, a, now + 80);
    assert_eq!(path(request(&a)), "/appointment/scheduleList");
    let a = w.feed(&reply(fixture!("schedule_list.json"), now), now + 10);
    assert_eq!(path(request(&a)), "/appointment/resourceList");
    assert_eq!(
        kinds(&w.take_events()),
        ["slot_seen"],
        "told again: it came back"
    );
    let a = w.feed(&reply(fixture!("resource_list.json"), now), now + 20);
    assert!(matches!(a, Action::RecordIntent { .. }), "{a:?}");
    let a = w.intent_recorded("b-0002", now + 30);
    assert_eq!(path(request(&a)), "/appointment/order");
    let a = w.feed(&reply(fixture!("order_40002.json"), now + 40), now + 40);
    assert!(matches!(a, Action::Stopped { .. }), "40002 stops: {a:?}");
    let ev = w.take_events();
    assert_eq!(ev[0].booking_result.as_deref(), Some("failed"));
    assert_eq!(ev[0].intent_id.as_deref(), Some("b-0002"));
}

#[test]
fn a_rejected_token_asks_for_a_new_one_and_resume_goes_on() {
    let wt = watch("notify", "10000", "2026-05-20", json!({}), 60);
    let mut boxed: Box<dyn Driver> = Box::new(watcher(&wt, None, None));
    // Driven as the host's runner does: through the trait.
    let w = boxed.as_mut();
    let now = t0();
    let a = w.tick(now);
    assert_eq!(param(request(&a), "appToken").as_deref(), Some(TOKEN));
    let a = w.feed(&reply(fixture!("token_20002.json"), now), now + 40);
    let Action::NeedLogin { message } = &a else {
        panic!("{a:?}")
    };
    assert!(
        message.contains("the 91160 appToken was rejected"),
        "{message}"
    );
    assert!(message.contains("appToken无效"));
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["session_expired"]);
    no_secrets(&ev);

    // Nothing is sent until a token comes.
    assert!(matches!(w.tick(now + 60_000), Action::NeedLogin { .. }));
    assert!(w.take_events().is_empty(), "told once");

    let a = w.resume(Some("fresh-token-0001"), now + 90_000);
    let r = request(&a);
    assert_eq!(path(r), "/appointment/scheduleList");
    assert_eq!(param(r, "appToken").as_deref(), Some("fresh-token-0001"));
    let a = w.feed(
        &reply(fixture!("schedule_list.json"), now + 90_000),
        now + 90_050,
    );
    assert!(matches!(a, Action::Wait { .. }));
    assert!(kinds(&w.take_events()).contains(&"slot_seen"));
}

#[test]
fn a_token_rejected_at_the_order_fails_the_intent_then_asks_for_a_token() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, Some(minor()), None);
    let (_, now) = up_to_order(&mut w);
    w.take_events();
    let a = w.feed(&reply(fixture!("token_20002.json"), now), now + 30);
    assert!(matches!(a, Action::NeedLogin { .. }), "{a:?}");
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["booking_failed", "session_expired"]);
    assert_eq!(ev[0].booking_result.as_deref(), Some("failed"));
    let a = w.resume(Some("fresh-token-0002"), now + 1_000);
    assert_eq!(
        param(request(&a), "appToken").as_deref(),
        Some("fresh-token-0002")
    );
}

#[test]
fn over_appointed_schedules_have_no_free_numbers_and_are_not_found() {
    let mut list: Value = serde_json::from_str(fixture!("schedule_list.json")).unwrap();
    // Only the over-appointed morning (6 of 4) and the full evening are left.
    list["data"].as_array_mut().unwrap().remove(1);
    let only_full = list.to_string();

    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, Some(minor()), None);
    let now = t0();
    w.tick(now);
    let a = w.feed(&reply(&only_full, now), now + 20);
    assert!(matches!(a, Action::Wait { .. }), "nothing to book: {a:?}");
    assert!(w.take_events().is_empty());

    // The same watcher finds the afternoon once it has a free number.
    let (_, now) = next_send(&mut w, a, now + 20);
    let a = w.feed(&reply(fixture!("schedule_list.json"), now), now + 20);
    assert_eq!(path(request(&a)), "/appointment/resourceList");
    assert_eq!(kinds(&w.take_events()), ["slot_seen"]);
}

#[test]
fn period_and_fee_filters_narrow_what_is_found() {
    let cases = [
        (json!({"periods": ["morning", "evening"]}), 0),
        (json!({"periods": ["afternoon"]}), 1),
        (json!({"max_fee": 30.0}), 0),
        (json!({"max_fee": 50.0}), 1),
        (json!({}), 1),
    ];
    for (filters, want) in cases {
        let wt = watch("notify", "10000", "2026-05-20", filters.clone(), 60);
        let mut w = watcher(&wt, None, None);
        let now = t0();
        w.tick(now);
        w.feed(&reply(fixture!("schedule_list.json"), now), now + 20);
        let seen = w
            .take_events()
            .iter()
            .filter(|e| e.kind == "slot_seen")
            .count();
        assert_eq!(seen, want, "filters {filters}");
    }
}

#[test]
fn a_slot_is_told_once_per_appearance() {
    let wt = watch("notify", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, None, None);
    let mut now = t0();
    let mut gone: Value = serde_json::from_str(fixture!("schedule_list.json")).unwrap();
    gone["data"][1]["appointedNum"] = json!(4);
    let gone = gone.to_string();
    let replies = [
        fixture!("schedule_list.json"),
        fixture!("schedule_list.json"),
        gone.as_str(),
        fixture!("schedule_list.json"),
    ];
    let mut told = Vec::new();
    let mut a = w.tick(now);
    for body in replies {
        (a, now) = next_send(&mut w, a, now);
        assert_eq!(path(request(&a)), "/appointment/scheduleList");
        a = w.feed(&reply(body, now), now + 20);
        now += 20;
        told.push(
            w.take_events()
                .iter()
                .filter(|e| e.kind == "slot_seen")
                .count(),
        );
    }
    assert_eq!(told, [1, 0, 0, 1]);
}

#[test]
fn unreadable_replies_are_reported_and_polling_goes_on() {
    let wt = watch("notify", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, None, None);
    let mut now = t0();
    let mut a = w.tick(now);

    let mut reports = Vec::new();
    let bodies = [
        fixture!("schedule_list_truncated.json"),
        fixture!("schedule_list_truncated.json"),
        fixture!("error_page.html"),
        fixture!("schedule_list.json"),
        fixture!("schedule_list_renamed.json"),
        fixture!("schedule_list_renamed.json"),
    ];
    for body in bodies {
        (a, now) = next_send(&mut w, a, now);
        assert_eq!(
            path(request(&a)),
            "/appointment/scheduleList",
            "still polling"
        );
        a = w.feed(
            &status(200, body).with_header("Date", http_date(now)),
            now + 20,
        );
        assert!(matches!(a, Action::Wait { .. }), "{a:?}");
        now += 20;
        reports.push(w.take_events());
    }
    let k: Vec<Vec<&str>> = reports.iter().map(|r| kinds(r)).collect();
    assert_eq!(
        k,
        [
            vec!["site_changed"],
            vec![],
            vec!["site_changed"],
            vec!["slot_seen"],
            vec!["site_changed"],
            vec![]
        ],
        "each kind of breakage told once"
    );
    assert!(reports[0][0].message.contains("scheduleList"));
    assert!(reports[2][0].message.contains("HTML"));
    assert!(reports[4][0].message.contains("`resourceMax`"));
    // And it keeps going.
    let (a, _) = next_send(&mut w, a, now);
    assert_eq!(path(request(&a)), "/appointment/scheduleList");
}

#[test]
fn a_restart_with_a_submitted_intent_never_orders_again() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let intent = BookingIntent {
        id: "b-0009".into(),
        watch_id: "w-91160".into(),
        state: BookingState::Submitted,
        created_at: t0() - 60_000,
        updated_at: t0() - 60_000,
        data: json!({"schedule_id": "10000202605022", "resource_id": "1000020260502202",
                     "date": "2026-05-02", "period": "afternoon"}),
    };
    let mut w = watcher(&wt, Some(minor()), Some(&intent));
    let a = w.tick(t0());
    let Action::Stopped { message } = &a else {
        panic!("no request may go: {a:?}")
    };
    assert!(message.contains("check your 91160 orders"), "{message}");
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["outcome_unknown"]);
    assert_eq!(ev[0].booking_result.as_deref(), Some("unknown"));
    assert_eq!(ev[0].intent_id.as_deref(), Some("b-0009"));
    assert!(ev[0].message.contains("no order list"));
    assert_eq!(ev[0].data["schedule_id"], "10000202605022");
    for later in [1_000, 3_600_000] {
        assert!(matches!(w.tick(t0() + later), Action::Stopped { .. }));
    }
    assert!(w.take_events().is_empty());

    // A failed intent does not block: the watch polls.
    let failed = BookingIntent {
        state: BookingState::Failed,
        ..intent
    };
    let mut w = watcher(&wt, Some(minor()), Some(&failed));
    assert_eq!(path(request(&w.tick(t0()))), "/appointment/scheduleList");
}

#[test]
fn a_lost_order_reply_is_unknown_and_never_resent() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, Some(minor()), None);
    let (_, now) = up_to_order(&mut w);
    w.take_events();
    let a = w.no_response("connection reset", now + 5_000);
    assert!(matches!(a, Action::Stopped { .. }), "{a:?}");
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["outcome_unknown"]);
    assert_eq!(ev[0].booking_result.as_deref(), Some("unknown"));
    assert_eq!(ev[0].intent_id.as_deref(), Some("b-0001"));
    assert!(ev[0].message.contains("check your 91160 orders"));
    for later in [10_000, 600_000] {
        assert!(matches!(w.tick(now + later), Action::Stopped { .. }));
    }

    // A 502 to the order is no better: it may have been made.
    let mut w = watcher(&wt, Some(minor()), None);
    let (_, now) = up_to_order(&mut w);
    w.take_events();
    let a = w.feed(&status(502, fixture!("error_page.html")), now + 100);
    assert!(matches!(a, Action::Stopped { .. }), "{a:?}");
    assert_eq!(
        w.take_events()[0].booking_result.as_deref(),
        Some("unknown")
    );
}

#[test]
fn bursts_at_the_open_time_while_the_window_holds_a_day_not_open_yet() {
    // 08:29 Beijing; the unit opens today + 7 at 08:30.
    let now = beijing("2026-05-01", 8, 29);
    let release = beijing("2026-05-01", 8, 30);

    let wait_after_poll = |end: &str| {
        let wt = watch("notify", "10000", end, json!({}), 300);
        let mut w = watcher(&wt, None, None);
        let a = w.tick(now);
        assert_eq!(path(request(&a)), "/appointment/scheduleList");
        match w.feed(&reply(EMPTY_SCHEDULES, now), now) {
            Action::Wait { at_ms } => at_ms,
            other => panic!("{other:?}"),
        }
    };

    // 2026-05-09 is not open yet: the next poll is just before 08:30, not 5 minutes on.
    let at = wait_after_poll("2026-05-20");
    assert!(
        at >= release - 3_600 && at < release,
        "burst poll {} ms before the release",
        release - at
    );
    // Every day of this window is open already: the normal interval (300 s ± 10 %).
    let at = wait_after_poll("2026-05-07");
    assert!(
        (now + 270_000..=now + 330_000).contains(&at),
        "{} s after",
        (at - now) / 1000
    );
}

#[test]
fn throttling_backs_off() {
    // A window whose days are all open: no release ahead, the plain interval.
    let wt = watch("notify", "10000", "2026-05-07", json!({}), 20);
    for resp in [
        status(429, "Too Many Requests"),
        reply(fixture!("throttled_10006.json"), t0()),
    ] {
        let mut w = watcher(&wt, None, None);
        let now = t0();
        w.tick(now);
        let a = w.feed(&resp, now + 30);
        let Action::Wait { at_ms } = a else {
            panic!("{a:?}")
        };
        assert!(at_ms >= now + 60_000, "backed off: {} ms", at_ms - now);
        assert_eq!(kinds(&w.take_events()), ["throttled"]);
    }
    // Compare: a good reply waits the interval (20 s ± 10 %).
    let mut w = watcher(&wt, None, None);
    w.tick(t0());
    let Action::Wait { at_ms } = w.feed(&reply(EMPTY_SCHEDULES, t0()), t0() + 30) else {
        panic!()
    };
    assert!(at_ms < t0() + 60_000, "{}", at_ms - t0());
}

#[test]
fn without_a_doctor_the_department_list_comes_first_and_polls_stay_small() {
    let doctors = |from: u32, n: u32, total: u32| {
        let list: Vec<Value> = (from..from + n)
            .map(|i| {
                json!({"unitId": 100, "depId": "2001", "doctorId": 20000 + i,
                            "doctorName": format!("医生{i}"), "doctorTitle": "主治医师"})
            })
            .collect();
        json!({"data": {"list": list, "total": total}, "code": "0", "msg": "成功"}).to_string()
    };
    let wt = watch("notify", "", "2026-05-20", json!({}), 60);
    let mut w = watcher(&wt, None, None);
    let mut now = t0();

    let mut a = w.tick(now);
    let r = request(&a);
    assert_eq!(path(r), "/basicInfo/doctorList");
    assert_eq!(param(r, "pageNum").as_deref(), Some("1"));
    assert_eq!(param(r, "depId").as_deref(), Some("2001"));
    a = w.feed(&reply(&doctors(0, 100, 150), now), now + 10);
    let r = request(&a);
    assert_eq!(path(r), "/basicInfo/doctorList");
    assert_eq!(param(r, "pageNum").as_deref(), Some("2"));
    now += 20;
    a = w.feed(&reply(&doctors(100, 50, 150), now), now);

    let mut polls: Vec<Vec<String>> = vec![Vec::new()];
    loop {
        match &a {
            Action::Send { request: r, .. } => {
                assert_eq!(path(r), "/appointment/scheduleList");
                polls
                    .last_mut()
                    .unwrap()
                    .push(param(r, "doctorId").unwrap());
                now += 10;
                a = w.feed(&reply(EMPTY_SCHEDULES, now), now);
            }
            Action::Wait { at_ms } => {
                if polls.len() == 3 {
                    break;
                }
                polls.push(Vec::new());
                now = *at_ms;
                a = w.tick(now);
            }
            other => panic!("{other:?}"),
        }
    }
    // The first poll spent 2 of its 4 requests on the doctor list.
    assert_eq!(polls[0], ["20000", "20001"]);
    assert_eq!(polls[1], ["20002", "20003", "20004", "20005"]);
    assert_eq!(polls[2].len(), MAX_REQUESTS_PER_POLL);
    assert_eq!(polls[2][0], "20006");
}

#[test]
fn a_book_watch_needs_a_patient() {
    let wt = watch("book", "10000", "2026-05-20", json!({}), 60);
    assert!(Watcher::new(&wt, Site::new(BASE), TOKEN.into(), None, None, 1).is_err());
    let nt = watch("notify", "10000", "2026-05-20", json!({}), 60);
    assert!(Watcher::new(&nt, Site::new(BASE), TOKEN.into(), None, None, 1).is_ok());
}

// ---------------------------------------------------------------------------------
// Against the simulator (in process, on a virtual clock)

#[test]
fn books_a_minor_against_the_simulator_and_cancels() {
    use haoyuan_bench::yygh114::{runtime, Drive, Units};
    runtime().expect("runtime").block_on(async {
        let scenario = "91160:\n  units: 5\n  schedules:\n    - day_offset: 1\n      time_type: pm\n      resources: 3\n      resource_max: 3\n      appointed_num: 1\n";
        let mut d = Drive::start(scenario, Units::Constant(0.5))
            .await
            .expect("sandbox");
        let s = d
            .admin_post("/platform/91160/summary", &json!({}))
            .await
            .expect("summary");
        let first = &s["first"];
        let today = Date::parse(s["today"].as_str().unwrap()).unwrap();
        let tomorrow = today.add_days(1).to_string();
        let id = |k: &str| first[k].to_string().trim_matches('"').to_string();
        let site = Site::new(&d.sb.url("91160"));

        // The hospital list as the pickers read it.
        let units = read_units(&d.exec(&site.unit_list(TOKEN, 1, 100)).await.unwrap()).unwrap();
        let unit = units
            .list
            .iter()
            .find(|u| u.unit_id == id("unitId"))
            .expect("first unit listed");
        assert_eq!(units.total, 5);
        assert_eq!(unit.open_time.len(), 5, "HH:mm: {unit:?}");
        assert!(unit.cycle_days > 1, "{unit:?}");

        let wt: Watch = serde_json::from_value(json!({
            "id": "w-live",
            "target": {"platform": "91160", "unit_id": id("unitId"), "dep_id": id("depId"),
                       "doctor_id": id("doctorId"), "open_time": unit.open_time,
                       "cycle_days": unit.cycle_days, "patient_id": "p-1"},
            "window": {"start": tomorrow, "end": tomorrow},
            "filters": {"periods": ["afternoon"]},
            "mode": "book",
            "interval": {"seconds": 15, "jitter_pct": 10}
        }))
        .unwrap();
        let mut w = Watcher::new(&wt, site.clone(), TOKEN.into(), Some(minor()), None, 3).unwrap();
        let mut events = Vec::new();
        let mut a = w.tick(d.now());
        let mut purposes = Vec::new();
        for _ in 0..30 {
            a = match a {
                Action::Send {
                    ref request,
                    purpose,
                    ..
                } => {
                    purposes.push(purpose);
                    let resp = d.exec(request).await.expect("reply");
                    w.feed(&resp, d.now())
                }
                Action::Wait { at_ms } => {
                    d.advance(at_ms - d.now());
                    w.tick(d.now())
                }
                Action::RecordIntent { .. } => w.intent_recorded("i1", d.now()),
                Action::Stopped { .. } => break,
                other => panic!("{other:?}"),
            };
            events.extend(w.take_events());
        }
        events.extend(w.take_events());
        assert!(matches!(a, Action::Stopped { .. }), "{a:?} {events:?}");
        assert_eq!(
            purposes,
            ["schedule_list", "resource_list", "order"],
            "{events:?}"
        );
        let booked = events
            .iter()
            .find(|e| e.kind == "booked")
            .unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(booked.intent_id.as_deref(), Some("i1"));
        no_secrets(&events);
        let order_id = booked.data["order_id"].as_str().unwrap().to_string();

        let resp = d
            .exec(&cancel_request(&site, TOKEN, &order_id, "行程有变"))
            .await
            .unwrap();
        assert_eq!(read_cancel(&resp), Ok(()));
        let again = d
            .exec(&cancel_request(&site, TOKEN, "999", "行程有变"))
            .await
            .unwrap();
        assert!(read_cancel(&again).is_err(), "an unknown order is refused");
    });
}

#[test]
fn a_poll_that_waited_for_its_account_plans_the_next_from_when_it_left() {
    // Interval 60 s ± 10 %; the poll waits 40 s in the account's queue before leaving.
    let w0 = watch("notify", "731", "2026-05-03", json!({}), 60);
    let mut w = watcher(&w0, None, None);
    let first = w.tick(t0());
    let (a, now) = next_send(&mut w, first, t0());
    let Action::Send { paced, .. } = a else {
        panic!()
    };
    assert!(paced, "a poll waits its account's turn");
    let left = now + 40_000;
    w.departed(true, left);
    let mut a = w.feed(&reply(EMPTY_SCHEDULES, left + 100), left + 100);
    while let Action::Send { paced, .. } = a {
        w.departed(paced, left + 200);
        a = w.feed(&reply(EMPTY_SCHEDULES, left + 300), left + 300);
    }
    let Action::Wait { at_ms } = a else {
        panic!("{a:?}")
    };
    assert!(
        at_ms >= left + 54_000,
        "the next poll at least 54 s after the request left, not after it was handed out: {} s",
        (at_ms - left) / 1000
    );
}
