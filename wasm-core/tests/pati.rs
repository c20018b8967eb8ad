//! The pati_service adapter against replies recorded from the pati simulator
//! (`tests/fixtures/pati/`, see its README): the request builders, the reply readers,
//! and the watcher driven step by step as the host's runner would.

use haoyuan_core::date::Date;
use haoyuan_core::http::{HttpRequest, HttpResponse, Method};
use haoyuan_core::platforms::pati::site::{self, Half, Site, SiteError};
use haoyuan_core::platforms::pati::watcher::Watcher;
use haoyuan_core::platforms::{Action, Driver, Event};
use haoyuan_core::protocol::{BookingIntent, BookingState};
use haoyuan_core::watch::Watch;
use serde_json::{json, Value};

const BASE: &str = "https://pati.example-hospital.cn";
const DEPT: &str = "650303296691108321";
/// 李娜: not charged online.
const LI_NA: &str = "618415238059933508";
/// 张伟: charged online.
const ZHANG_WEI: &str = "446805217698875791";
const MEMBER: &str = "593614755501772268";
const MEMBER_NAME: &str = "曹鹏";
/// The open session of 李娜 on 2026-12-01 AM (3 serials left).
const SCHEDULE: &str = "971206137493605107";
const BOOK: &str = "384213361722950068";

fn fx_body(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/pati/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn fx(name: &str) -> HttpResponse {
    HttpResponse::new(200, fx_body(name))
        .with_header("Content-Type", "application/json;charset=UTF-8")
}

/// 2026-11-27 21:55 UTC = 2026-11-28 05:55 Beijing (the fixtures' day).
fn t0() -> i64 {
    Date::parse("2026-11-27").unwrap().to_days() * 86_400_000 + (21 * 60 + 55) * 60_000
}

fn watch(doctor: &str, mode: &str, periods: Value) -> Watch {
    serde_json::from_value(json!({
        "id": "w-pati",
        "target": {"platform": "pati", "account": "13812345678", "dept_id": DEPT,
                   "doctor_id": doctor, "dept_name": "心血管内科",
                   "member_id": MEMBER, "member_name": MEMBER_NAME},
        "window": {"start": "2026-11-29", "end": "2026-12-05"},
        "filters": {"periods": periods},
        "mode": mode,
        "interval": {"seconds": 30}
    }))
    .unwrap()
}

fn watcher(doctor: &str, mode: &str) -> Watcher {
    Watcher::new(&watch(doctor, mode, json!([])), Site::new(BASE), None, 7).unwrap()
}

/// The request of a `Send`, checked to carry no credentials.
fn sent(a: &Action) -> HttpRequest {
    match a {
        Action::Send { request, .. } => {
            assert!(
                request.header_value("token").is_none(),
                "the core must not attach the token: {request:?}"
            );
            assert!(!request.url.contains("token"), "{}", request.url);
            assert!(request.url.starts_with(BASE), "{}", request.url);
            request.clone()
        }
        other => panic!("expected a Send, got {other:?}"),
    }
}

fn path_of(r: &HttpRequest) -> String {
    let rest = &r.url[BASE.len()..];
    rest.split('?').next().unwrap_or("").to_string()
}

fn body_of(r: &HttpRequest) -> Value {
    let b = r.body.as_ref().expect("a body");
    serde_json::from_slice(b.as_bytes()).unwrap()
}

/// Ticks through `Wait`s until the watcher sends (at most a few waits).
fn until_send(w: &mut Watcher, mut now: i64) -> (Action, i64) {
    let mut a = w.tick(now);
    for _ in 0..5 {
        match a {
            Action::Wait { at_ms } => {
                assert!(at_ms >= now, "waits go forward");
                now = at_ms;
                a = w.tick(now);
            }
            _ => return (a, now),
        }
    }
    panic!("never sent: {a:?}")
}

fn kinds(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.kind.clone()).collect()
}

/// Drives a Book watch of 李娜 up to the RecordIntent; returns the requests so far.
fn to_intent(w: &mut Watcher, now: i64) -> (Vec<HttpRequest>, Value) {
    let mut reqs = Vec::new();
    let (a, now) = until_send(w, now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("schedule_info.json"), now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("schedule.json"), now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("left_appo.json"), now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("presubmit.json"), now);
    let Action::RecordIntent { data } = a else {
        panic!("expected RecordIntent, got {a:?}")
    };
    (reqs, data)
}

// ------------------------------------------------------------------ site

#[test]
fn requests_have_the_simulators_paths_and_no_token() {
    let s = Site::new("https://h.example/pati_service/");
    assert_eq!(s.base(), "https://h.example");
    let d = Date::parse("2026-12-01").unwrap();
    let cases: Vec<(HttpRequest, Method, &str)> = vec![
        (
            s.login("13812345678", "pw"),
            Method::Post,
            "/pati_service/patient_service/login",
        ),
        (
            s.members(),
            Method::Get,
            "/pati_service/patient_service/members",
        ),
        (s.depts(), Method::Get, "/pati_service/tenant_service/depts"),
        (
            s.schedule_by_doctor(DEPT, 1, 50),
            Method::Get,
            "/pati_service/tenant_service/schedule_by_doctor",
        ),
        (
            s.schedule_by_date(DEPT, d, 1, 50),
            Method::Get,
            "/pati_service/tenant_service/schedule_by_date",
        ),
        (
            s.schedule(DEPT, "", d),
            Method::Get,
            "/pati_service/tenant_service/schedule",
        ),
        (
            s.left_appo(SCHEDULE),
            Method::Get,
            "/pati_service/tenant_service/schedule/left_appo",
        ),
        (
            s.schedule_info(DEPT, LI_NA, 7),
            Method::Get,
            "/pati_service/tenant_service/schedule/info",
        ),
        (
            s.presubmit(SCHEDULE, 1),
            Method::Post,
            "/pati_service/book_service/book/presubmit",
        ),
        (
            s.submit(SCHEDULE, 1, MEMBER),
            Method::Post,
            "/pati_service/book_service/book/submit",
        ),
        (
            s.books(1, 10),
            Method::Get,
            "/pati_service/book_service/books",
        ),
        (
            s.book(BOOK),
            Method::Get,
            "/pati_service/book_service/book/384213361722950068",
        ),
        (
            s.cancel(BOOK),
            Method::Post,
            "/pati_service/book_service/book/cancel",
        ),
        (
            s.pay_link(BOOK),
            Method::Post,
            "/pati_service/book_service/pay/appo_order",
        ),
    ];
    for (r, m, p) in cases {
        assert_eq!(r.method, m, "{}", r.url);
        assert_eq!(
            r.url.split('?').next().unwrap(),
            format!("https://h.example{p}")
        );
        assert!(r.header_value("token").is_none());
    }
    // The 普通门诊 leaves doctorId out; a doctor puts it in.
    assert!(!s.schedule(DEPT, "", d).url.contains("doctorId"));
    assert!(s
        .schedule(DEPT, LI_NA, d)
        .url
        .contains(&format!("doctorId={LI_NA}")));
    assert!(s.schedule(DEPT, "", d).url.contains("date=2026-12-01"));
    assert_eq!(
        body_of(&s.submit(SCHEDULE, 1, MEMBER)),
        json!({"scheduleId": SCHEDULE, "serialNo": 1, "memberId": MEMBER})
    );
    assert_eq!(body_of(&s.pay_link(BOOK)), json!({"appo_id": BOOK}));
    assert_eq!(body_of(&s.cancel(BOOK)), json!({"bookId": BOOK}));
    assert_eq!(
        body_of(&s.login(" 13812345678", "pw")),
        json!({"phone": "13812345678", "password": "pw"})
    );
}

#[test]
fn login_and_its_refusals_read_in_words() {
    let l = site::read_login(&fx("login.json")).unwrap();
    assert_eq!(l.user_id, "755922622275897798");
    assert_eq!(l.token.len(), 32);
    let e = site::read_login(&fx("login_wrong_password.json")).unwrap_err();
    assert_eq!(
        e,
        SiteError::Refused {
            code: 2001,
            msg: "手机号或密码错误".into()
        }
    );
    assert!(
        e.to_string()
            .contains("phone number or the password is wrong"),
        "{e}"
    );
    let e = site::read_login(&fx("login_unregistered.json")).unwrap_err();
    assert!(e.to_string().contains("no account"), "{e}");
    let locked = HttpResponse::new(
        200,
        r#"{"code":2003,"data":null,"msg":"密码错误次数过多，账号已锁定，请30分钟后再试"}"#,
    );
    assert!(site::read_login(&locked)
        .unwrap_err()
        .to_string()
        .contains("locked"));
    assert!(matches!(
        site::read_depts(&fx("token_expired.json")),
        Err(SiteError::TokenRejected(m)) if m == "登录已过期，请重新登录"
    ));
    assert!(matches!(
        site::read_depts(&fx("not_logged_in.json")),
        Err(SiteError::TokenRejected(_))
    ));
}

#[test]
fn pickers_read_departments_doctors_and_members_with_masked_ids() {
    let depts = site::read_depts(&fx("depts.json")).unwrap();
    assert_eq!(depts.len(), 1);
    assert_eq!(
        (depts[0].dept_id.as_str(), depts[0].dept_name.as_str()),
        (DEPT, "心血管内科")
    );
    let docs = site::read_schedule_by_doctor(&fx("schedule_by_doctor.json")).unwrap();
    assert_eq!(docs.list.len(), 3);
    assert_eq!(
        docs.list[0].doctor_id, None,
        "the 普通门诊 row has no doctor"
    );
    assert_eq!(docs.list[1].doctor_id.as_deref(), Some(ZHANG_WEI));
    assert_eq!(docs.list[1].doctor_title.as_deref(), Some("主任医师"));
    let by_date = site::read_schedule_by_date(&fx("schedule_by_date.json")).unwrap();
    assert_eq!(
        by_date.list[0].date,
        Some(Date::parse("2026-12-01").unwrap())
    );
    assert_eq!(by_date.list[0].fee, Some(8.0));
    let members = site::read_members(&fx("members.json")).unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(members[0].member_id, MEMBER);
    assert_eq!(members[0].name, MEMBER_NAME);
    assert_eq!(members[0].masked_id, "420***********9195");
    assert!(members[0].default);
    let dbg = format!("{members:?}");
    assert!(
        !dbg.contains("420106197305269195") && !dbg.contains("13812345678"),
        "{dbg}"
    );
}

#[test]
fn schedules_serials_bookings_and_the_pay_link_read() {
    let day = site::read_schedule(&fx("schedule.json")).unwrap();
    let am = day.am.unwrap();
    assert_eq!(
        (am.half, am.schedule_id.as_str(), am.left_count, am.fee),
        (Half::Am, SCHEDULE, 3, Some(30.0))
    );
    assert!(am.bookable());
    assert!(!day.pm.unwrap().bookable());
    let pay_day = site::read_schedule(&fx("schedule_pay.json")).unwrap();
    assert!(pay_day.am.is_none(), "null = no session");
    let serials = site::read_left_appo(&fx("left_appo.json")).unwrap();
    assert_eq!(
        serials[0],
        site::Serial {
            serial_no: 1,
            time: "08:00".into()
        }
    );
    let info = site::read_schedule_info(&fx("schedule_info_pay.json")).unwrap();
    assert_eq!(info.days.len(), 3);
    assert_eq!(info.days[1].left, 2);
    assert_eq!(site::read_submit(&fx("submit.json")).unwrap(), BOOK);
    let b = site::read_book(&fx("book.json")).unwrap();
    assert_eq!(
        (b.book_id.as_str(), b.status, b.serial_no, b.visi_charge),
        (BOOK, 0, Some(1), None)
    );
    let paid = site::read_book(&fx("book_pay.json")).unwrap();
    assert!(paid.needs_payment());
    let books = site::read_books(&fx("books.json")).unwrap();
    assert_eq!(books.total, 2);
    assert_eq!(books.list[1].serial_no, Some(1));
    assert_eq!(books.list[1].member_name.as_deref(), Some(MEMBER_NAME));
    let link = site::read_pay_link(&fx("pay_order.json")).unwrap();
    assert!(link.url.unwrap().contains("/pay/cashier?out_trade_no=GH"));
    site::read_cancel(&fx("cancel.json")).unwrap();
    assert!(site::read_cancel(&fx("cancel_again.json"))
        .unwrap_err()
        .to_string()
        .contains("3007"));
}

#[test]
fn refusals_sold_out_busy_and_unreadable_replies_are_told_apart() {
    assert!(matches!(
        site::read_submit(&fx("submit_taken.json")),
        Err(SiteError::SoldOut(_))
    ));
    assert!(matches!(
        site::read_submit(&fx("submit_full.json")),
        Err(SiteError::SoldOut(_))
    ));
    assert!(matches!(
        site::read_submit(&fx("submit_duplicate.json")),
        Err(SiteError::Refused { code: 3004, .. })
    ));
    assert_eq!(
        site::read_depts(&fx("system_busy.json")),
        Err(SiteError::Throttled)
    );
    for status in [429, 403, 502] {
        let r = HttpResponse::new(status, fx_body("gateway_error.html"));
        assert_eq!(site::read_depts(&r), Err(SiteError::Throttled), "{status}");
    }
    let e = site::read_schedule_info(&fx("schedule_info_renamed.json")).unwrap_err();
    assert!(
        matches!(&e, SiteError::Unreadable(m) if m.contains("schedule/info") && m.contains("leftBookCountList")),
        "{e}"
    );
    let e = site::read_schedule(&fx("schedule_renamed.json")).unwrap_err();
    assert!(e.to_string().contains("“leftCount”"), "{e}");
    let e = site::read_schedule_info(&fx("schedule_info_truncated.json")).unwrap_err();
    assert!(e.to_string().contains("not JSON"), "{e}");
    let e = site::read_books(&fx("login_page.html")).unwrap_err();
    assert!(
        e.to_string().contains("HTML page") && e.to_string().contains("books"),
        "{e}"
    );
    let not_found = HttpResponse::new(
        404,
        r#"{"error":"Not Found","message":"No message available","path":"/pati_service/x","status":404}"#,
    );
    assert!(
        matches!(site::read_depts(&not_found), Err(SiteError::Unreadable(m)) if m.contains("404"))
    );
}

// ------------------------------------------------------------------ watcher

#[test]
fn the_full_booking_flow_sends_its_steps_in_order() {
    let mut w = watcher(LI_NA, "book");
    let now = t0();
    let (mut reqs, data) = to_intent(&mut w, now);
    assert_eq!(data["schedule_id"], SCHEDULE);
    assert_eq!(data["serial_no"], 1);
    assert_eq!(data["appo_time"], "2026-12-01 08:00:00");
    assert_eq!(data["member"], "曹*", "the member's name is masked");
    let a = w.intent_recorded("b-0000000000000001", now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("submit.json"), now);
    reqs.push(sent(&a));
    let a = w.feed(&fx("book.json"), now);
    assert!(
        matches!(&a, Action::Stopped { message } if message.contains("booked")),
        "{a:?}"
    );
    let paths: Vec<String> = reqs.iter().map(path_of).collect();
    assert_eq!(
        paths,
        [
            "/pati_service/tenant_service/schedule/info",
            "/pati_service/tenant_service/schedule",
            "/pati_service/tenant_service/schedule/left_appo",
            "/pati_service/book_service/book/presubmit",
            "/pati_service/book_service/book/submit",
            "/pati_service/book_service/book/384213361722950068",
        ]
    );
    assert!(reqs[0].url.contains(&format!("doctorId={LI_NA}")));
    assert!(
        reqs[1].url.contains("date=2026-12-01"),
        "the day with left > 0: {}",
        reqs[1].url
    );
    assert!(reqs[2].url.contains(&format!("scheduleId={SCHEDULE}")));
    assert_eq!(
        body_of(&reqs[3]),
        json!({"scheduleId": SCHEDULE, "serialNo": 1})
    );
    assert_eq!(
        body_of(&reqs[4]),
        json!({"scheduleId": SCHEDULE, "serialNo": 1, "memberId": MEMBER})
    );
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["slot_seen", "booked"]);
    assert_eq!(ev[0].data["period"], "morning");
    assert_eq!(ev[0].data["left"], 3);
    let booked = &ev[1];
    assert_eq!(booked.booking_result.as_deref(), Some("booked"));
    assert_eq!(booked.intent_id.as_deref(), Some("b-0000000000000001"));
    assert_eq!(booked.data["book_id"], BOOK);
    assert!(booked.data.get("pay_url").is_none());
    let text = serde_json::to_string(&ev).unwrap();
    assert!(
        !text.contains("420106197305269195") && !text.contains(MEMBER_NAME),
        "{text}"
    );
    // Finished: it stays stopped.
    assert!(matches!(w.tick(now + 60_000), Action::Stopped { .. }));
}

#[test]
fn a_competitor_taking_the_serial_fails_the_intent_and_polling_goes_on() {
    let mut w = watcher(LI_NA, "book");
    let now = t0();
    to_intent(&mut w, now);
    sent(&w.intent_recorded("b-1", now));
    let a = w.feed(&fx("submit_taken.json"), now);
    let ev = w.take_events();
    let failed = ev
        .iter()
        .find(|e| e.kind == "booking_failed")
        .expect("booking_failed");
    assert_eq!(failed.booking_result.as_deref(), Some("failed"));
    assert_eq!(failed.intent_id.as_deref(), Some("b-1"));
    assert!(
        failed.message.contains("someone else"),
        "{}",
        failed.message
    );
    assert!(matches!(a, Action::Wait { .. }), "back to polling: {a:?}");
    let (a, _) = until_send(&mut w, now);
    assert_eq!(
        path_of(&sent(&a)),
        "/pati_service/tenant_service/schedule/info"
    );
}

#[test]
fn already_booked_by_this_member_fails_and_stops() {
    let mut w = watcher(LI_NA, "book");
    let now = t0();
    to_intent(&mut w, now);
    sent(&w.intent_recorded("b-1", now));
    let a = w.feed(&fx("submit_duplicate.json"), now);
    assert!(
        matches!(&a, Action::Stopped { message } if message.contains("already has a booking")),
        "{a:?}"
    );
    let ev = w.take_events();
    assert_eq!(ev.last().unwrap().booking_result.as_deref(), Some("failed"));
    assert!(matches!(w.tick(now + 3_600_000), Action::Stopped { .. }));
}

#[test]
fn a_401_mid_flow_asks_for_sign_in_and_the_same_step_goes_again() {
    let mut w = watcher(LI_NA, "book");
    let now = t0();
    let (a, now) = until_send(&mut w, now);
    sent(&a);
    let a = w.feed(&fx("schedule_info.json"), now);
    sent(&a);
    let a = w.feed(&fx("schedule.json"), now);
    sent(&a);
    let presubmit = sent(&w.feed(&fx("left_appo.json"), now));
    let a = w.feed(&fx("token_expired.json"), now);
    assert!(
        matches!(&a, Action::NeedLogin { message } if message.contains("sign in")),
        "{a:?}"
    );
    assert!(
        matches!(w.tick(now + 1_000), Action::NeedLogin { .. }),
        "still waiting for the sign-in"
    );
    let again = sent(&w.resume(None, now + 2_000));
    assert_eq!(again, presubmit, "the same step is re-sent");
    let Action::RecordIntent { .. } = w.feed(&fx("presubmit.json"), now) else {
        panic!("expected the intent")
    };
    // A 401 to the submit: nothing was submitted, the same submit goes again.
    let submit = sent(&w.intent_recorded("b-2", now));
    let a = w.feed(&fx("not_logged_in.json"), now);
    assert!(matches!(a, Action::NeedLogin { .. }));
    let again = sent(&Driver::resume(&mut w, None, now + 5_000));
    assert_eq!(again, submit);
    sent(&w.feed(&fx("submit.json"), now));
    assert!(matches!(
        w.feed(&fx("book.json"), now),
        Action::Stopped { .. }
    ));
    assert!(w.take_events().iter().any(|e| e.kind == "booked"));
}

#[test]
fn a_401_while_polling_re_sends_the_poll_after_sign_in() {
    let mut w = watcher(LI_NA, "notify");
    let (a, now) = until_send(&mut w, t0());
    let info = sent(&a);
    assert!(matches!(
        w.feed(&fx("token_expired.json"), now),
        Action::NeedLogin { .. }
    ));
    assert_eq!(sent(&w.resume(None, now + 1)), info);
}

fn lost_submit(w: &mut Watcher, now: i64) -> i64 {
    to_intent(w, now);
    let submit = sent(&w.intent_recorded("b-3", now));
    assert!(submit.url.ends_with("/book/submit"));
    let a = w.no_response("connection reset", now);
    let Action::Wait { at_ms } = a else {
        panic!("expected a wait before reconciling, got {a:?}")
    };
    at_ms
}

#[test]
fn a_lost_submit_reply_reconciles_with_books_and_finds_the_booking() {
    let mut w = watcher(LI_NA, "book");
    let at = lost_submit(&mut w, t0());
    let books = sent(&w.tick(at));
    assert_eq!(path_of(&books), "/pati_service/book_service/books");
    let a = w.feed(&fx("books.json"), at);
    assert!(matches!(a, Action::Stopped { .. }), "{a:?}");
    let ev = w.take_events();
    let booked = ev.iter().find(|e| e.kind == "booked").expect("booked");
    assert_eq!(booked.booking_result.as_deref(), Some("booked"));
    assert_eq!(booked.intent_id.as_deref(), Some("b-3"));
    assert_eq!(booked.data["book_id"], BOOK);
}

#[test]
fn a_lost_submit_reply_without_a_matching_booking_is_unknown_and_never_resubmitted() {
    let mut w = watcher(LI_NA, "book");
    let at = lost_submit(&mut w, t0());
    sent(&w.tick(at));
    let a = w.feed(&fx("books_without_ours.json"), at);
    assert!(
        matches!(&a, Action::Stopped { message } if message.contains("unknown")),
        "{a:?}"
    );
    let ev = w.take_events();
    let unknown = ev
        .iter()
        .find(|e| e.kind == "outcome_unknown")
        .expect("outcome_unknown");
    assert_eq!(unknown.booking_result.as_deref(), Some("unknown"));
    // Nothing more is ever sent.
    for k in 1..5 {
        let a = w.tick(at + k * 3_600_000);
        assert!(matches!(a, Action::Stopped { .. }), "{a:?}");
    }
}

#[test]
fn a_busy_submit_reply_reconciles_too() {
    let mut w = watcher(LI_NA, "book");
    let now = t0();
    to_intent(&mut w, now);
    sent(&w.intent_recorded("b-4", now));
    let a = w.feed(&HttpResponse::new(502, fx_body("gateway_error.html")), now);
    let Action::Wait { at_ms } = a else {
        panic!("{a:?}")
    };
    let r = sent(&w.tick(at_ms));
    assert!(r.url.contains("/book_service/books"), "{}", r.url);
    assert!(!r.url.contains("submit"));
}

#[test]
fn a_restart_with_a_submitted_intent_reconciles_instead_of_submitting() {
    // The intent data as the first run recorded it.
    let mut first = watcher(LI_NA, "book");
    let (_, data) = to_intent(&mut first, t0());
    let intent = BookingIntent {
        id: "b-5".into(),
        watch_id: "w-pati".into(),
        state: BookingState::Submitted,
        created_at: t0(),
        updated_at: t0(),
        data,
    };
    for (books, kind) in [
        ("books.json", "booked"),
        ("books_without_ours.json", "outcome_unknown"),
    ] {
        let mut w = Watcher::new(
            &watch(LI_NA, "book", json!([])),
            Site::new(BASE),
            Some(&intent),
            9,
        )
        .unwrap();
        let r = sent(&w.tick(t0() + 60_000));
        assert_eq!(path_of(&r), "/pati_service/book_service/books");
        assert!(matches!(
            w.feed(&fx(books), t0() + 60_000),
            Action::Stopped { .. }
        ));
        let ev = w.take_events();
        assert_eq!(kinds(&ev), [kind]);
        assert_eq!(ev[0].intent_id.as_deref(), Some("b-5"));
    }
}

#[test]
fn a_booking_charged_online_carries_the_pay_url_and_says_it_must_be_paid() {
    let mut w = watcher(ZHANG_WEI, "book");
    let (a, now) = until_send(&mut w, t0());
    sent(&a);
    let r = sent(&w.feed(&fx("schedule_info_pay.json"), now));
    assert!(r.url.contains("date=2026-12-02"), "{}", r.url);
    sent(&w.feed(&fx("schedule_pay.json"), now));
    sent(&w.feed(&fx("left_appo_pay.json"), now));
    let Action::RecordIntent { data } = w.feed(&fx("presubmit_pay.json"), now) else {
        panic!("expected the intent")
    };
    assert_eq!(data["period"], "afternoon");
    assert_eq!(data["serial_no"], 25);
    sent(&w.intent_recorded("b-6", now));
    sent(&w.feed(&fx("submit_pay.json"), now));
    let pay = sent(&w.feed(&fx("book_pay.json"), now));
    assert_eq!(path_of(&pay), "/pati_service/book_service/pay/appo_order");
    assert_eq!(body_of(&pay), json!({"appo_id": "460138144854154285"}));
    let a = w.feed(&fx("pay_order.json"), now);
    assert!(matches!(a, Action::Stopped { .. }));
    let ev = w.take_events();
    let booked = ev.iter().find(|e| e.kind == "booked").expect("booked");
    let url = "http://127.0.0.1:47314/pay/cashier?out_trade_no=GH20261128055400721586";
    assert_eq!(booked.data["pay_url"], url);
    assert_eq!(booked.data["payment_needed"], true);
    assert!(
        booked
            .message
            .contains("must be paid on the hospital's page"),
        "{}",
        booked.message
    );
    assert!(booked.message.contains(url));
}

#[test]
fn malformed_and_renamed_replies_are_reported_and_polling_goes_on() {
    let mut w = watcher(LI_NA, "notify");
    let mut now = t0();
    for (bad, words) in [
        (fx("schedule_info_truncated.json"), "not JSON"),
        (
            fx("schedule_info_renamed.json"),
            "“leftBookCountList” is missing or renamed",
        ),
        (
            HttpResponse::new(200, fx_body("login_page.html")),
            "HTML page",
        ),
    ] {
        let (a, t) = until_send(&mut w, now);
        now = t;
        assert_eq!(
            path_of(&sent(&a)),
            "/pati_service/tenant_service/schedule/info"
        );
        let a = w.feed(&bad, now);
        assert!(matches!(a, Action::Wait { .. }), "keeps polling: {a:?}");
        let ev = w.take_events();
        assert_eq!(kinds(&ev), ["site_changed"]);
        assert!(
            ev[0].message.contains(words) && ev[0].message.contains("schedule/info"),
            "{}",
            ev[0].message
        );
    }
    // A renamed field of the day's schedule names that field.
    let (a, now) = until_send(&mut w, now);
    sent(&a);
    sent(&w.feed(&fx("schedule_info.json"), now));
    let a = w.feed(&fx("schedule_renamed.json"), now);
    assert!(matches!(a, Action::Wait { .. }));
    let ev = w.take_events();
    assert_eq!(kinds(&ev), ["site_changed"]);
    assert!(ev[0].message.contains("“leftCount”"), "{}", ev[0].message);
    // And the next good poll finds the slot.
    let (a, now) = until_send(&mut w, now);
    sent(&a);
    sent(&w.feed(&fx("schedule_info.json"), now));
    w.feed(&fx("schedule.json"), now);
    assert_eq!(kinds(&w.take_events()), ["slot_seen"]);
}

#[test]
fn throttling_backs_off_beyond_the_interval() {
    let mut w = watcher(LI_NA, "notify");
    let (a, now) = until_send(&mut w, t0());
    sent(&a);
    let a = w.feed(&HttpResponse::new(429, "too many"), now);
    let Action::Wait { at_ms } = a else {
        panic!("{a:?}")
    };
    assert!(
        at_ms - now >= 60_000,
        "backoff, not the 30 s interval: {}",
        at_ms - now
    );
    assert_eq!(kinds(&w.take_events()), ["throttled"]);
    // Code 500 in the envelope is the same.
    let (a, now) = until_send(&mut w, at_ms);
    sent(&a);
    let Action::Wait { at_ms: next } = w.feed(&fx("system_busy.json"), now) else {
        panic!()
    };
    assert!(next - now > at_ms - t0(), "the second backoff is longer");
}

#[test]
fn slots_are_reported_once_per_appearance_and_filtered_by_period() {
    let mut w = watcher(LI_NA, "notify");
    let mut now = t0();
    let poll = |w: &mut Watcher, day: &str, now: &mut i64| -> Vec<Event> {
        let (a, t) = until_send(w, *now);
        *now = t;
        sent(&a);
        sent(&w.feed(&fx("schedule_info.json"), *now));
        let a = w.feed(&fx(day), *now);
        assert!(matches!(a, Action::Wait { .. }), "{a:?}");
        w.take_events()
    };
    assert_eq!(
        kinds(&poll(&mut w, "schedule.json", &mut now)),
        ["slot_seen"]
    );
    assert!(
        poll(&mut w, "schedule.json", &mut now).is_empty(),
        "once while it stays"
    );
    assert!(poll(&mut w, "schedule_full.json", &mut now).is_empty());
    assert_eq!(
        kinds(&poll(&mut w, "schedule.json", &mut now)),
        ["slot_seen"],
        "again when it comes back"
    );

    // Only afternoons wanted: the morning session is not reported.
    let mut pm = Watcher::new(
        &watch(LI_NA, "notify", json!(["afternoon"])),
        Site::new(BASE),
        None,
        3,
    )
    .unwrap();
    let mut now = t0();
    assert!(poll(&mut pm, "schedule.json", &mut now).is_empty());
}

#[test]
fn a_watch_of_another_platform_or_without_a_member_to_book_is_refused() {
    let mut v = serde_json::to_value(watch(LI_NA, "book", json!([]))).unwrap();
    v["target"]["member_id"] = json!("");
    let no_member: Watch = serde_json::from_value(v).unwrap();
    let e = Watcher::new(&no_member, Site::new(BASE), None, 1)
        .err()
        .unwrap();
    assert!(e.0.contains("member"), "{e}");
    // Notify mode needs no member.
    let mut v = serde_json::to_value(watch(LI_NA, "notify", json!([]))).unwrap();
    v["target"]["member_id"] = json!("");
    let notify: Watch = serde_json::from_value(v).unwrap();
    assert!(Watcher::new(&notify, Site::new(BASE), None, 1).is_ok());
    let other: Watch = serde_json::from_value(json!({
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "a", "second_dept_code": "b"},
        "window": {"start": "2026-11-29", "end": "2026-12-05"},
        "interval": {"seconds": 30}
    }))
    .unwrap();
    let e = Watcher::new(&other, Site::new(BASE), None, 1)
        .err()
        .unwrap();
    assert!(e.0.contains("not a pati"), "{e}");
}

#[test]
fn today_is_asked_on_its_own_because_schedule_info_starts_tomorrow() {
    let mut v = serde_json::to_value(watch(LI_NA, "notify", json!([]))).unwrap();
    v["window"]["start"] = json!("2026-11-28");
    let w: Watch = serde_json::from_value(v).unwrap();
    let mut w = Watcher::new(&w, Site::new(BASE), None, 5).unwrap();
    let (a, now) = until_send(&mut w, t0());
    assert!(
        sent(&a).url.contains("days=7"),
        "tomorrow to the window's end"
    );
    let today = sent(&w.feed(&fx("schedule_info.json"), now));
    assert!(today.url.contains("date=2026-11-28"), "{}", today.url);
    let next = sent(&w.feed(&fx("schedule_full.json"), now));
    assert!(next.url.contains("date=2026-12-01"), "{}", next.url);
    assert!(matches!(
        w.feed(&fx("schedule.json"), now),
        Action::Wait { .. }
    ));
    assert_eq!(kinds(&w.take_events()), ["slot_seen"]);
}

#[test]
fn a_poll_that_waited_for_its_account_plans_the_next_from_when_it_left() {
    // Interval 30 s ± 20 %; the poll waits 20 s in the account's queue before leaving.
    let mut w = watcher(LI_NA, "notify");
    let (a, now) = until_send(&mut w, t0());
    let Action::Send { paced, .. } = a else {
        panic!()
    };
    assert!(paced, "a poll waits its account's turn");
    let left = now + 20_000;
    w.departed(true, left);
    let mut a = w.feed(&fx("schedule_full.json"), left + 100);
    let mut at = left + 100;
    while let Action::Send { paced, .. } = a {
        at += 100;
        w.departed(paced, at);
        a = w.feed(&fx("schedule_full.json"), at + 50);
    }
    let Action::Wait { at_ms } = a else {
        panic!("{a:?}")
    };
    assert!(
        at_ms >= left + 24_000,
        "the next poll at least 24 s after the request left, not after it was handed out: {} s",
        (at_ms - left) / 1000
    );
}
