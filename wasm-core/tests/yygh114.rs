//! The 114yygh adapter against replies recorded from the sandbox (`tests/fixtures/yygh114/`,
//! recorded once with curl against `haoyuan-sandbox --scenario
//! tests/sandbox/scenarios/114yygh.yaml` and two variants: order SMS with time periods,
//! and the legacy envelope) plus hand-made variants: unknown status, renamed field,
//! wrong type, malformed and truncated JSON, the seed's own example.

use haoyuan_core::date::Date;
use haoyuan_core::http::{HttpRequest, HttpResponse, Method, RetryClass};
use haoyuan_core::platforms::yygh114::booking::{
    Booking, BookingOutcome, Decoded, FailReason, PatientChoice, Plan, Stage,
};
use haoyuan_core::platforms::yygh114::login::{Login, LoginOutcome};
use haoyuan_core::platforms::yygh114::model::*;
use haoyuan_core::platforms::yygh114::*;
use haoyuan_core::watch::{Filters, Period};
use serde_json::Value;

/// The sandbox the fixtures were recorded from.
const BASE: &str = "http://127.0.0.1:39369";

macro_rules! fx {
    ($name:literal) => {
        HttpResponse::new(
            200,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/yygh114/",
                $name
            ))
            .as_bytes()
            .to_vec(),
        )
        .with_header("Content-Type", "application/json;charset=UTF-8")
    };
}

fn site() -> Site {
    Site::new(BASE)
}

fn api_err<T: std::fmt::Debug>(r: Result<T, Error>) -> ApiError {
    match r {
        Err(Error::Api { error, .. }) => error,
        other => panic!("expected a site error, got {other:?}"),
    }
}

fn parse_err<T: std::fmt::Debug>(r: Result<T, Error>) -> ParseError {
    match r {
        Err(Error::Parse(p)) => p,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn json_body(r: &HttpRequest) -> Value {
    let body = r.body.as_ref().expect("a body");
    serde_json::from_slice(body.as_bytes()).expect("a JSON body")
}

// ------------------------------------------------------------------ requests

#[test]
fn every_request_carries_time_first_and_request_source() {
    let s = Site::new("http://127.0.0.1:4000/");
    let c = ClinicRef::new("270", "d1", "200047497");
    let date = Date::parse("2026-11-30").unwrap();
    let form = OrderForm {
        clinic: c.clone(),
        date,
        duty_time: 0,
        uniq_product_key: "k".into(),
        card_type: "SOCIAL_SECURITY".into(),
        card_no: "1574****6009".into(),
        phone: "17796761085".into(),
        sms_code: String::new(),
        confirm_token: Some("tok".into()),
    };
    let now = 1_662_730_587_759;
    let all: Vec<(HttpRequest, Method, &str)> = vec![
        (
            s.hospital_list(now, &HospitalQuery::search("协和")),
            Method::Get,
            "/web/hospital/list",
        ),
        (
            s.hospital_detail(now, "270"),
            Method::Get,
            "/web/hospital/detail",
        ),
        (
            s.department_list(now, "270"),
            Method::Get,
            "/web/department/hos/list",
        ),
        (
            s.product_list(now, &c, 1),
            Method::Post,
            "/web/product/list",
        ),
        (
            s.product_detail(now, &c, date),
            Method::Post,
            "/web/product/detail",
        ),
        (s.img_code(now), Method::Get, "/web/img/getImgCode"),
        (s.checkcode(now, "1234"), Method::Get, "/web/checkcode"),
        (
            s.verify_code_login(now, "17796761085", "1234"),
            Method::Get,
            "/web/common/verify-code/get",
        ),
        (
            s.verify_code_order(now, "17796761085", "k"),
            Method::Get,
            "/web/common/verify-code/get",
        ),
        (
            s.login(now, "17796761085", "845411"),
            Method::Post,
            "/web/login",
        ),
        (
            s.real_name_status(now),
            Method::Get,
            "/web/user/real-name/status",
        ),
        (s.patient_list(now), Method::Get, "/web/patient/list"),
        (
            s.product_confirm(now, &c, date, 0, "k"),
            Method::Post,
            "/web/product/confirm",
        ),
        (s.order_save(now, &form), Method::Post, "/web/order/save"),
        (
            s.order_detail(now, "270", "219696650944"),
            Method::Get,
            "/web/order/detail",
        ),
        (
            s.order_cancel(now, "270", "219696650944"),
            Method::Get,
            "/web/order/cancel",
        ),
    ];
    for (r, method, path) in &all {
        assert_eq!(r.method, *method, "{path}");
        let prefix = format!("http://127.0.0.1:4000{path}?_time=1662730587759");
        assert!(
            r.url.starts_with(&prefix),
            "{} does not start with {prefix}",
            r.url
        );
        assert_eq!(r.header_value("Request-Source"), Some("PC"), "{path}");
        if *method == Method::Post {
            assert_eq!(
                r.header_value("Content-Type"),
                Some("application/json;charset=UTF-8")
            );
            assert!(json_body(r).is_object(), "{path}");
        } else {
            assert!(r.body.is_none(), "{path}");
        }
    }
    assert_eq!(
        all[0].0.url,
        "http://127.0.0.1:4000/web/hospital/list?_time=1662730587759&keywords=%E5%8D%8F%E5%92%8C&levelId=0&areaId=0&pageNo=1&pageSize=20"
    );
}

#[test]
fn login_requests_encrypt_the_mobile_and_code_with_the_seed_vectors() {
    let s = site();
    let r = s.verify_code_login(1, "17796761085", "1234");
    assert!(
        r.url
            .ends_with("&mobile=8E91WgqSzEHTX_a_3cFOag%3D%3D&smsKey=LOGIN&code=1234"),
        "{}",
        r.url
    );
    let r = s.verify_code_order(1, "17796761085", "abc");
    assert!(
        r.url
            .ends_with("&mobile=8E91WgqSzEHTX_a_3cFOag%3D%3D&smsKey=ORDER_CODE&uniqProductKey=abc"),
        "{}",
        r.url
    );
    let b = json_body(&s.login(1, "17796761085", "845411"));
    assert_eq!(b["mobile"], "8E91WgqSzEHTX_a_3cFOag==");
    assert_eq!(b["code"], "fF60C2fgLcu2GR_YiWTOBg==");
}

#[test]
fn product_bodies_name_the_clinic_day_and_slot() {
    let s = site();
    let c = ClinicRef::new("270", "d1", "200047497");
    let date = Date::parse("2026-11-30").unwrap();
    let b = json_body(&s.product_detail(1, &c, date));
    assert_eq!(
        b,
        serde_json::json!({"firstDeptCode": "d1", "secondDeptCode": "200047497", "hosCode": "270", "target": "2026-11-30"})
    );
    let b = json_body(&s.product_list(1, &c, 2));
    assert_eq!(b["week"], 2);
    let mut form = OrderForm {
        clinic: c,
        date,
        duty_time: 2,
        uniq_product_key: "k".into(),
        card_type: "IDENTITY_CARD".into(),
        card_no: "1101****8818".into(),
        phone: "17796761085".into(),
        sms_code: " 123456 ".into(),
        confirm_token: Some("tok".into()),
    };
    let b = json_body(&s.order_save(1, &form));
    for (k, v) in [
        ("target", "2026-11-30"),
        ("treatmentDay", "2026-11-30"),
        ("uniqProductKey", "k"),
        ("cardType", "IDENTITY_CARD"),
        ("cardNo", "1101****8818"),
        ("orderFrom", "HOSP"),
        ("phone", "17796761085"),
        ("smsCode", "123456"),
        ("confirmToken", "tok"),
        ("hosCode", "270"),
    ] {
        assert_eq!(b[k], v, "{k}");
    }
    assert_eq!(b["dutyTime"], 2);
    form.confirm_token = None;
    assert!(json_body(&s.order_save(1, &form))
        .get("confirmToken")
        .is_none());
}

// ------------------------------------------------------------------ parsers

#[test]
fn hospital_list_in_both_envelopes() {
    for resp in [fx!("hospital_list.json"), fx!("legacy_hospital_list.json")] {
        let page = parse_hospital_list(&resp).unwrap();
        assert_eq!(page.count, 300);
        assert_eq!(page.list[0].code, "270");
        assert_eq!(page.list[0].name, "中日友好医院");
        assert_eq!(page.list[0].open_time_text, "每天08:30放号");
        assert!(!page.list[0].maintain);
    }
    assert_eq!(
        parse_hospital_list(&fx!("hospital_list.json"))
            .unwrap()
            .list
            .len(),
        3
    );
}

#[test]
fn a_renamed_list_is_a_parse_error_naming_endpoint_and_field() {
    let p = parse_err(parse_hospital_list(&fx!(
        "hospital_list_renamed_field.json"
    )));
    assert_eq!(p.endpoint, Endpoint::HospitalList);
    assert_eq!(p.field, "data.list");
    let msg = p.to_string();
    assert!(
        msg.contains("/web/hospital/list")
            && msg.contains("“data.list”")
            && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn hospital_detail_gives_the_release_time() {
    let h = parse_hospital_detail(&fx!("hospital_detail.json")).unwrap();
    assert_eq!(h.code, "270");
    assert_eq!(h.open_time_view, "08:30");
    assert_eq!(h.open_time_minutes, 8 * 60 + 30);
    assert_eq!(h.booking_range, 7);
}

#[test]
fn departments_nest_their_clinics() {
    let list = parse_department_list(&fx!("department_hos_list.json")).unwrap();
    assert!(!list.is_empty());
    let d = &list[0];
    assert_eq!(d.code, "8cf00e19174e8c029e176845e9d77407");
    assert_eq!(d.name, "外科");
    assert_eq!(d.clinics[0].code, "200047497");
    assert_eq!(d.clinics[0].name, "普通外科门诊");
    for d in &list {
        for c in &d.clinics {
            assert_eq!(c.dept1_code, d.code);
        }
    }
}

#[test]
fn product_list_reads_the_calendar_and_keeps_unknown_statuses() {
    let cal = parse_product_list(&fx!("product_list.json")).unwrap();
    assert_eq!(cal.days.len(), 7);
    assert_eq!(cal.days[0].date, Date::parse("2026-11-28").unwrap());
    assert_eq!(cal.days[0].status, Status::Available);
    assert_eq!(cal.days[2].status, Status::SoldOut);
    assert!(cal.fh_timestamp.is_some());
    assert_eq!(cal.hos_name, "中日友好医院");

    let week2 = parse_product_list(&fx!("product_list_week2.json")).unwrap();
    assert_eq!(week2.days[0].status, Status::TomorrowOpen);
    assert_eq!(week2.days[1].status, Status::NoInventory);

    let odd = parse_product_list(&fx!("product_list_unknown_status.json")).unwrap();
    assert_eq!(odd.days[4].status, Status::Unknown("HOLIDAY_CLOSED".into()));
    assert_eq!(odd.days[4].status.as_str(), "HOLIDAY_CLOSED");
    assert_eq!(odd.days[0].status, Status::Available);

    let legacy = parse_product_list(&fx!("legacy_product_list.json")).unwrap();
    assert_eq!(legacy.days.len(), 7);
    assert_eq!(legacy.hos_name, "北京大学第一医院");
}

#[test]
fn session_loss_is_typed_in_both_envelopes() {
    let e = api_err(parse_product_list(&fx!("product_list_not_logged_in.json")));
    assert_eq!(
        e,
        ApiError::NotLoggedIn {
            code: 102,
            msg: "用户未登录".into()
        }
    );
    let e = api_err(parse_product_list(&fx!("legacy_not_logged_in.json")));
    assert_eq!(
        e,
        ApiError::NotLoggedIn {
            code: 2009,
            msg: "用户未登录".into()
        }
    );
    let full = parse_real_name_status(&fx!("real_name_status_expired.json")).unwrap_err();
    assert!(full.is_not_logged_in());
    assert!(full.to_string().contains("log in to 114 again"), "{full}");
}

#[test]
fn illegal_channel_is_typed_in_both_envelopes() {
    for resp in [
        fx!("illegal_channel.json"),
        fx!("legacy_illegal_channel.json"),
    ] {
        let e = api_err(parse_hospital_detail(&resp));
        assert_eq!(
            e,
            ApiError::IllegalChannel {
                msg: "渠道非法".into()
            }
        );
    }
}

#[test]
fn too_frequent_is_an_http_error_to_back_off_from() {
    let body = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/yygh114/too_frequent_403.html"
    ));
    let resp = HttpResponse::new(403, body.as_bytes().to_vec());
    let e = parse_product_detail(&site(), &resp).unwrap_err();
    assert!(e.should_back_off());
    assert!(matches!(
        e,
        Error::Http {
            status: 403,
            retry: RetryClass::Backoff,
            ..
        }
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("HTTP 403") && msg.contains("too many requests"),
        "{msg}"
    );
}

#[test]
fn product_detail_keeps_codes_and_resolves_the_font() {
    let d = parse_product_detail(&site(), &fx!("product_detail.json")).unwrap();
    assert_eq!(d.blocks.len(), 2);
    let am = &d.blocks[0];
    assert_eq!(am.duty, Duty::Morning);
    assert_eq!(
        am.duty_img_url,
        "//127.0.0.1:39369/web/font/a87ff679a2f3e71d9181a67b7542122c"
    );
    assert_eq!(
        am.font_url,
        "http://127.0.0.1:39369/web/font/a87ff679a2f3e71d9181a67b7542122c"
    );
    let p = &am.products[0];
    assert_eq!(p.fcode, "&#xe356;&#xe7a8;&#xe7a8;");
    assert_eq!(p.fcode_points, vec!['\u{e356}', '\u{e7a8}', '\u{e7a8}']);
    assert_eq!(p.ncode_points, vec!['\u{e7a8}']);
    assert_eq!(p.wnumber, 40);
    assert!(!p.bookable_by_parity());
    let pm = &d.blocks[1];
    assert_eq!(pm.duty, Duty::Afternoon);
    assert_eq!(pm.products[0].wnumber, 33);
    assert!(pm.products[0].bookable_by_parity());
    assert_eq!(pm.products[0].doctor_title, "副主任医师");
    assert!(d
        .product("2070ca162d7548c5277ad4a0ed3b268a8409baed")
        .is_some());
}

#[test]
fn product_detail_reads_the_seeds_own_example() {
    let d = parse_product_detail(&Site::default(), &fx!("product_detail_seed.json")).unwrap();
    let p = &d.blocks[0].products[0];
    assert_eq!(p.fcode_points, pua_code_points("&#xf7ee;&#xf128;"));
    assert_eq!(p.fcode_points, vec!['\u{f7ee}', '\u{f128}']);
    assert_eq!(
        d.blocks[0].font_url,
        "https://img.114yygh.com/fe/home/iconfont/a87ff679a2f3e71d9181a67b7542122c"
    );
    assert!(!p.bookable_by_parity()); // wnumber 22
    assert!(d.blocks[1].products[0].bookable_by_parity()); // wnumber 13
}

#[test]
fn product_detail_reads_time_periods() {
    let d = parse_product_detail(&site(), &fx!("product_detail_periods.json")).unwrap();
    let p = &d.blocks[0].products[0];
    assert_eq!(p.periods.len(), 3);
    assert_eq!(p.periods[0].duty_time, 1);
    assert_eq!(p.periods[0].period_view, "08:00-08:30");
    assert_eq!(p.periods[0].remain_available_number, Some(49));
    assert_eq!(p.periods[0].bookable_by_parity(), Some(true));
    assert_eq!(p.periods[0].ncode_points, vec!['\u{ec1c}']);
    assert_eq!(d.blocks[1].products[0].periods, vec![]);
}

#[test]
fn a_day_not_open_is_empty_or_final_by_envelope() {
    let d = parse_product_detail(&site(), &fx!("product_detail_not_open.json")).unwrap();
    assert!(d.blocks.is_empty());
    let e = api_err(parse_product_detail(
        &site(),
        &fx!("legacy_product_detail_outside_window.json"),
    ));
    assert_eq!(
        e,
        ApiError::Final {
            code: 4023,
            msg: "不在放号周期内".into()
        }
    );
    let legacy = parse_product_detail(&site(), &fx!("legacy_product_detail.json")).unwrap();
    assert_eq!(legacy.blocks[0].duty, Duty::Afternoon);
}

#[test]
fn product_detail_with_a_renamed_field_names_it() {
    let p = parse_err(parse_product_detail(
        &site(),
        &fx!("product_detail_renamed_field.json"),
    ));
    assert_eq!(p.endpoint, Endpoint::ProductDetail);
    assert_eq!(p.field, "data[1].detail[0].uniqProductKey");
    let msg = p.to_string();
    assert!(msg.contains("/web/product/detail"), "{msg}");
    assert!(msg.contains("is missing"), "{msg}");
}

#[test]
fn product_detail_with_a_wrong_type_names_it() {
    let p = parse_err(parse_product_detail(
        &site(),
        &fx!("product_detail_wrong_type.json"),
    ));
    assert_eq!(p.field, "data[0].detail[0].wnumber");
    assert!(
        p.problem.contains("an object where a number"),
        "{}",
        p.problem
    );
}

#[test]
fn malformed_json_is_a_parse_error_quoting_the_start() {
    let p = parse_err(parse_product_detail(
        &site(),
        &fx!("product_detail_malformed.json"),
    ));
    assert_eq!(p.field, "");
    let msg = p.to_string();
    assert!(
        msg.contains("not valid JSON") && msg.contains("resCode"),
        "{msg}"
    );
    // Neither envelope.
    let p = parse_err(parse_hospital_list(&HttpResponse::new(
        200,
        br#"{"ok":1}"#.to_vec(),
    )));
    assert!(p.problem.contains("neither"), "{}", p.problem);
    // Not an object.
    let p = parse_err(parse_hospital_list(&HttpResponse::new(
        200,
        b"[1]".to_vec(),
    )));
    assert!(p.problem.contains("not a JSON object"), "{}", p.problem);
}

#[test]
fn login_replies() {
    assert!(parse_checkcode(&fx!("checkcode.json")).unwrap());
    assert!(!parse_checkcode(&fx!("checkcode_false.json")).unwrap());
    parse_verify_code(&fx!("verify_code_get.json")).unwrap();
    parse_verify_code(&fx!("verify_code_get_order.json")).unwrap();
    let l = parse_login(&fx!("login.json")).unwrap();
    assert_eq!(l.auth_status.as_deref(), Some("AUTH_PASS"));
    assert_eq!(l.user_id.as_deref(), Some("495743826"));
    assert_eq!(
        api_err(parse_login(&fx!("login_sms_wrong.json"))),
        ApiError::SmsWrong {
            msg: "短信验证码错误".into()
        }
    );
    assert_eq!(
        api_err(parse_login(&fx!("login_bad_mobile.json"))),
        ApiError::Other {
            code: 1001,
            msg: "手机号格式不正确".into()
        }
    );
}

#[test]
fn account_replies() {
    for resp in [
        fx!("real_name_status.json"),
        fx!("legacy_real_name_status.json"),
    ] {
        let r = parse_real_name_status(&resp).unwrap();
        assert!(r.passed());
        assert!(r.id_no.starts_with("******"));
    }
    let list = parse_patient_list(&fx!("patient_list.json")).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "黄贺");
    assert_eq!(list[0].phone, "17796761085");
    assert_eq!(list[0].cards.len(), 2);
    assert_eq!(list[0].cards[0].card_type, "SOCIAL_SECURITY");
    assert_eq!(list[0].cards[0].card_no, "1574****6009");
}

#[test]
fn confirm_keeps_the_token_and_the_sms_requirement() {
    let c = parse_product_confirm(&fx!("product_confirm.json")).unwrap();
    assert_eq!(
        c.confirm_token.as_deref(),
        Some("c6c076859652ae7205f39294b57bfa67")
    );
    assert!(!c.needs_sms());
    assert_eq!(c.data_item.sms_code, Some(2));
    assert_eq!(c.fee_yuan(), Some(100.0));
    assert_eq!(c.visit_time, "2026年11月30日 周一 下午");
    let c = parse_product_confirm(&fx!("product_confirm_sms_required.json")).unwrap();
    assert!(c.needs_sms());
    assert_eq!(c.data_item.sms_code_tip, "请输入就诊人手机收到的短信验证码");
}

#[test]
fn order_save_replies() {
    let s = parse_order_save(&fx!("order_save.json")).unwrap();
    assert_eq!(s.order_no.as_deref(), Some("219696650944"));
    assert!(!s.lineup);
    let s = parse_order_save(&fx!("order_save_null_data.json")).unwrap();
    assert_eq!(s.order_no, None);
    assert!(s.msg.unwrap().contains("我的订单"));
    assert!(matches!(
        api_err(parse_order_save(&fx!("order_save_duplicate.json"))),
        ApiError::Final { code: 8008, .. }
    ));
    assert!(matches!(
        api_err(parse_order_save(&fx!("order_save_bad_token.json"))),
        ApiError::ConfirmExpired { .. }
    ));
    assert!(matches!(
        api_err(parse_order_save(&fx!("order_save_again.json"))),
        ApiError::ConfirmExpired { .. }
    ));
    assert!(matches!(
        api_err(parse_order_save(&fx!("order_save_sms_wrong.json"))),
        ApiError::SmsWrong { .. }
    ));
    assert!(parse_order_save(&fx!("order_save_truncated.json")).is_err());
}

#[test]
fn order_detail_replies() {
    let d = parse_order_detail(&fx!("order_detail.json")).unwrap();
    assert_eq!(d.order_no, "219696650944");
    assert_eq!(d.status, OrderStatus::BookingSuccess);
    assert_eq!(d.visit_time(), "2026年11月30日 周一 下午");
    assert_eq!(
        d.place(),
        "中日友好医院 · 普通外科门诊 · 门诊楼一层挂号收费处"
    );
    assert_eq!(d.patient_name, "黄贺");
    assert_eq!(d.card_no, "1574****6009");
    let d = parse_order_detail(&fx!("order_detail_cancelled.json")).unwrap();
    assert_eq!(d.status, OrderStatus::Canceled);
    assert!(!d.can_cancel);
    let d = parse_order_detail(&fx!("order_detail_period.json")).unwrap();
    assert_eq!(d.visit_time(), "2026年11月29日 周日 上午 08:00-08:30");
    let d = parse_order_detail(&fx!("order_detail_unknown_status.json")).unwrap();
    assert_eq!(d.status, OrderStatus::Unknown("WAIT_PAY".into()));
    assert_eq!(
        api_err(parse_order_detail(&fx!("order_detail_not_found.json"))),
        ApiError::Other {
            code: 1002,
            msg: "订单不存在".into()
        }
    );
    parse_order_cancel(&fx!("order_cancel.json")).unwrap();
}

// ------------------------------------------------------------------ login machine

fn png() -> HttpResponse {
    HttpResponse::new(200, b"\x89PNG\r\n\x1a\nfake".to_vec())
        .with_header("Content-Type", "image/png")
}

fn sent<T: std::fmt::Debug>(s: &Step<T>) -> &HttpRequest {
    s.request()
        .unwrap_or_else(|| panic!("expected a request, got {s:?}"))
}

#[test]
fn login_walks_picture_check_sms_and_login() {
    let mut l = Login::new(site(), "17796761085");
    let s = l.start(10).unwrap();
    assert!(sent(&s)
        .url
        .starts_with(&format!("{BASE}/web/img/getImgCode?_time=10")));
    // The picture is shown.
    let s = l.feed(11, &png()).unwrap();
    let Step::AskUser {
        prompt:
            Prompt::Captcha {
                image,
                content_type,
                note,
            },
    } = &s
    else {
        panic!("{s:?}")
    };
    assert!(image.starts_with(b"\x89PNG"));
    assert_eq!(content_type, "image/png");
    assert_eq!(*note, None);
    // Wrong reading: a new picture, with a note.
    let s = l.answer(12, "0000").unwrap();
    assert!(sent(&s).url.ends_with("&code=0000"));
    let s = l.feed(13, &fx!("checkcode_false.json")).unwrap();
    assert!(sent(&s).url.contains("/web/img/getImgCode"));
    let s = l.feed(14, &png()).unwrap();
    let Step::AskUser {
        prompt: Prompt::Captcha {
            note: Some(note), ..
        },
    } = &s
    else {
        panic!("{s:?}")
    };
    assert!(note.contains("did not match"), "{note}");
    // Right reading: the SMS is asked for with the same code.
    l.answer(15, " 4821 ").unwrap();
    let s = l.feed(16, &fx!("checkcode.json")).unwrap();
    assert!(
        sent(&s)
            .url
            .ends_with("&mobile=8E91WgqSzEHTX_a_3cFOag%3D%3D&smsKey=LOGIN&code=4821"),
        "{}",
        sent(&s).url
    );
    let s = l.feed(17, &fx!("verify_code_get.json")).unwrap();
    assert_eq!(
        s,
        Step::AskUser {
            prompt: Prompt::LoginSms {
                phone: "177****1085".into(),
                note: None
            }
        }
    );
    // A wrong SMS code is asked again.
    let s = l.answer(18, "000000").unwrap();
    assert_eq!(
        json_body(sent(&s))["code"],
        haoyuan_core::crypto::yygh114_encrypt("000000")
    );
    let s = l.feed(19, &fx!("login_sms_wrong.json")).unwrap();
    assert!(matches!(
        s,
        Step::AskUser {
            prompt: Prompt::LoginSms { note: Some(_), .. }
        }
    ));
    let s = l.answer(20, "845411").unwrap();
    assert_eq!(json_body(sent(&s))["code"], "fF60C2fgLcu2GR_YiWTOBg==");
    let s = l.feed(21, &fx!("login.json")).unwrap();
    assert_eq!(
        s.outcome(),
        Some(&LoginOutcome::LoggedIn {
            user_id: Some("495743826".into()),
            auth_status: Some("AUTH_PASS".into())
        })
    );
    assert!(l.is_done());
    assert!(l.feed(22, &fx!("login.json")).is_err());
}

#[test]
fn login_gets_a_new_picture_when_the_sms_request_rejects_the_code() {
    let mut l = Login::new(site(), "17796761085");
    l.start(1).unwrap();
    l.feed(2, &png()).unwrap();
    l.answer(3, "1234").unwrap();
    l.feed(4, &fx!("checkcode.json")).unwrap();
    let s = l
        .feed(
            5,
            &HttpResponse::new(
                200,
                r#"{"resCode":7002,"msg":"图形验证码输入错误","data":null}"#
                    .as_bytes()
                    .to_vec(),
            ),
        )
        .unwrap();
    assert!(sent(&s).url.contains("/web/img/getImgCode"));
}

#[test]
fn login_stops_on_sms_too_soon_and_after_many_pictures() {
    let mut l = Login::new(site(), "17796761085");
    l.start(1).unwrap();
    l.feed(2, &png()).unwrap();
    l.answer(3, "1234").unwrap();
    l.feed(4, &fx!("checkcode.json")).unwrap();
    let s = l
        .feed(
            5,
            &HttpResponse::new(
                200,
                r#"{"resCode":7003,"msg":"验证码发送过于频繁","data":null}"#
                    .as_bytes()
                    .to_vec(),
            ),
        )
        .unwrap();
    let Some(LoginOutcome::Failed { message, .. }) = s.outcome() else {
        panic!("{s:?}")
    };
    assert!(message.contains("wait a minute"), "{message}");

    let mut l = Login::new(site(), "17796761085");
    l.start(1).unwrap();
    let mut last = None;
    for i in 0..10 {
        if l.is_done() {
            break;
        }
        l.feed(i, &png()).unwrap();
        l.answer(i, "9999").unwrap();
        last = Some(l.feed(i, &fx!("checkcode_false.json")).unwrap());
    }
    let last = last.unwrap();
    assert!(
        matches!(last.outcome(), Some(LoginOutcome::Failed { .. })),
        "{last:?}"
    );
}

#[test]
fn login_refuses_bad_numbers_and_out_of_turn_calls() {
    let mut l = Login::new(site(), "1779676");
    assert!(matches!(
        l.start(1).unwrap().outcome(),
        Some(LoginOutcome::Failed { .. })
    ));
    let mut l = Login::new(site(), "17796761085");
    let e = l.answer(1, "1234").unwrap_err();
    assert!(e.to_string().contains("not started"), "{e}");
    l.start(1).unwrap();
    assert!(l.answer(2, "1234").is_err()); // still waiting for the picture
    let s = l.no_response(3, "timed out").unwrap();
    assert!(matches!(s.outcome(), Some(LoginOutcome::Failed { .. })));
}

// ------------------------------------------------------------------ booking machine

fn plan(filters: Filters) -> Plan {
    Plan {
        clinic: ClinicRef::new("270", "8cf00e19174e8c029e176845e9d77407", "200047497"),
        date: Date::parse("2026-11-30").unwrap(),
        filters,
        patient: PatientChoice::default(),
    }
}

const PM_KEY: &str = "2070ca162d7548c5277ad4a0ed3b268a8409baed";
const AM_KEY: &str = "e378f0431a8873cb11324c391a01c1a09f7517d8";

/// A booking advanced to the `product/confirm` request.
fn to_confirm(filters: Filters, decoded: &[Decoded]) -> (Booking, Step<BookingOutcome>) {
    let mut b = Booking::new(site(), plan(filters));
    b.start(1).unwrap();
    b.feed(2, &fx!("product_detail.json")).unwrap();
    let s = b.decoded(3, decoded).unwrap();
    (b, s)
}

fn failed(s: &Step<BookingOutcome>) -> (FailReason, String) {
    match s.outcome() {
        Some(BookingOutcome::Failed {
            reason, message, ..
        }) => (*reason, message.clone()),
        other => panic!("expected Failed, got {other:?} from {s:?}"),
    }
}

fn http(status: u16, body: &str) -> HttpResponse {
    HttpResponse::new(status, body.as_bytes().to_vec())
}

#[test]
fn booking_happy_path_without_sms() {
    let mut b = Booking::new(site(), plan(Filters::default()));
    let s = b.start(1).unwrap();
    let r = sent(&s);
    assert!(r.url.contains("/web/product/detail?_time=1"));
    assert_eq!(json_body(r)["target"], "2026-11-30");
    assert_eq!(b.stage(), Stage::Detail);

    // The machine asks for the numbers to be decoded, with resolved font URLs.
    let s = b.feed(2, &fx!("product_detail.json")).unwrap();
    let Step::Decode { items } = &s else {
        panic!("{s:?}")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].uniq_product_key, PM_KEY);
    assert!(items[1]
        .font_url
        .starts_with("http://127.0.0.1:39369/web/font/"));
    assert_eq!(items[1].ncode_points.len(), 1);

    // Nothing decoded: parity picks the afternoon (wnumber 33; morning is 40).
    let s = b.decoded(3, &[]).unwrap();
    let r = sent(&s);
    assert!(r.url.contains("/web/product/confirm"));
    assert_eq!(json_body(r)["uniqProductKey"], PM_KEY);
    assert_eq!(json_body(r)["dutyTime"], 0);
    assert_eq!(b.choice().unwrap().doctor_name, "刘一涵");

    let s = b.feed(4, &fx!("product_confirm.json")).unwrap();
    assert!(sent(&s).url.contains("/web/user/real-name/status"));
    let s = b.feed(5, &fx!("real_name_status.json")).unwrap();
    assert!(sent(&s)
        .url
        .contains("/web/patient/list?_time=5&showType=ORDER_CONFIRM"));
    assert!(!b.order_save_sent());

    // smsCode 2: no SMS asked; straight to order/save with the confirm token.
    let s = b.feed(6, &fx!("patient_list.json")).unwrap();
    let r = sent(&s);
    assert!(r.url.contains("/web/order/save"));
    let body = json_body(r);
    assert_eq!(body["confirmToken"], "c6c076859652ae7205f39294b57bfa67");
    assert_eq!(body["cardType"], "SOCIAL_SECURITY");
    assert_eq!(body["cardNo"], "1574****6009");
    assert_eq!(body["phone"], "17796761085");
    assert_eq!(body["smsCode"], "");
    assert_eq!(body["uniqProductKey"], PM_KEY);
    assert!(b.order_save_sent());
    assert_eq!(b.stage(), Stage::OrderSave);

    let s = b.feed(7, &fx!("order_save.json")).unwrap();
    assert!(sent(&s)
        .url
        .ends_with("/web/order/detail?_time=7&hosCode=270&orderNo=219696650944"));
    let s = b.feed(8, &fx!("order_detail.json")).unwrap();
    let Some(BookingOutcome::Booked(booked)) = s.outcome() else {
        panic!("{s:?}")
    };
    assert_eq!(booked.order_no, "219696650944");
    assert_eq!(booked.visit_time, "2026年11月30日 周一 下午");
    assert_eq!(
        booked.place,
        "中日友好医院 · 普通外科门诊 · 门诊楼一层挂号收费处"
    );
    assert_eq!(booked.fee, "100");
    assert_eq!(b.stage(), Stage::Done);
    assert!(b.feed(9, &fx!("order_detail.json")).is_err());
}

#[test]
fn decoded_counts_override_parity() {
    // The afternoon decoded as 0 left, the morning as 2: the morning is booked.
    let decoded = [
        Decoded {
            uniq_product_key: PM_KEY.into(),
            remaining: Some(0),
            fee: Some(100.0),
        },
        Decoded {
            uniq_product_key: AM_KEY.into(),
            remaining: Some(2),
            fee: Some(100.0),
        },
    ];
    let (_, s) = to_confirm(Filters::default(), &decoded);
    assert_eq!(json_body(sent(&s))["uniqProductKey"], AM_KEY);
    // Both 0: nothing to book.
    let decoded = [
        Decoded {
            uniq_product_key: PM_KEY.into(),
            remaining: Some(0),
            fee: None,
        },
        Decoded {
            uniq_product_key: AM_KEY.into(),
            remaining: Some(0),
            fee: None,
        },
    ];
    let (_, s) = to_confirm(Filters::default(), &decoded);
    assert_eq!(failed(&s).0, FailReason::NoMatchingSlot);
}

#[test]
fn filters_pick_by_period_doctor_and_title_in_preference_order() {
    let both = [
        Decoded {
            uniq_product_key: PM_KEY.into(),
            remaining: Some(1),
            fee: None,
        },
        Decoded {
            uniq_product_key: AM_KEY.into(),
            remaining: Some(1),
            fee: None,
        },
    ];
    let f = |periods: Vec<Period>| Filters {
        periods,
        ..Filters::default()
    };
    let (_, s) = to_confirm(f(vec![Period::Morning, Period::Afternoon]), &both);
    assert_eq!(json_body(sent(&s))["uniqProductKey"], AM_KEY);
    let (_, s) = to_confirm(f(vec![Period::Afternoon, Period::Morning]), &both);
    assert_eq!(json_body(sent(&s))["uniqProductKey"], PM_KEY);
    // Morning only, and by parity the morning is full.
    let (_, s) = to_confirm(f(vec![Period::Morning]), &[]);
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::NoMatchingSlot);
    assert!(message.contains("2026-11-30"), "{message}");
    // Doctor and title filters.
    let doc = |d: &str, t: &str| Filters {
        doctors: vec![d.into()],
        titles: if t.is_empty() { vec![] } else { vec![t.into()] },
        ..Filters::default()
    };
    let (_, s) = to_confirm(doc("刘一涵", "副主任医师"), &[]);
    assert_eq!(json_body(sent(&s))["uniqProductKey"], PM_KEY);
    let (_, s) = to_confirm(doc("王医生", ""), &[]);
    assert_eq!(failed(&s).0, FailReason::NoMatchingSlot);
    let (_, s) = to_confirm(doc("刘一涵", "主任医师"), &[]);
    assert_eq!(failed(&s).0, FailReason::NoMatchingSlot);
}

#[test]
fn the_highest_fee_is_checked_decoded_or_at_confirm() {
    let cheap = Filters {
        max_fee: Some(50.0),
        ..Filters::default()
    };
    // Decoded fee 100 > 50: no order attempted.
    let decoded = [Decoded {
        uniq_product_key: PM_KEY.into(),
        remaining: Some(1),
        fee: Some(100.0),
    }];
    let (_, s) = to_confirm(cheap.clone(), &decoded);
    assert_eq!(failed(&s).0, FailReason::FeeAboveLimit);
    // Fee not decoded: confirm's clear serviceFee (100) stops it before order/save.
    let (mut b, s) = to_confirm(cheap, &[]);
    assert!(sent(&s).url.contains("/web/product/confirm"));
    let s = b.feed(4, &fx!("product_confirm.json")).unwrap();
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::FeeAboveLimit);
    assert!(message.contains("100"), "{message}");
    assert!(!b.order_save_sent());
    // Within the limit: goes on.
    let (mut b, _) = to_confirm(
        Filters {
            max_fee: Some(100.0),
            ..Filters::default()
        },
        &[],
    );
    let s = b.feed(4, &fx!("product_confirm.json")).unwrap();
    assert!(sent(&s).url.contains("real-name"));
}

#[test]
fn time_periods_send_the_periods_duty_time() {
    let mut b = Booking::new(site(), plan(Filters::default()));
    b.start(1).unwrap();
    b.feed(2, &fx!("product_detail_periods.json")).unwrap();
    let s = b.decoded(3, &[]).unwrap();
    let body = json_body(sent(&s));
    assert_eq!(body["uniqProductKey"], AM_KEY);
    assert_eq!(body["dutyTime"], 1);
    assert_eq!(b.choice().unwrap().period_view, "08:00-08:30");
}

#[test]
fn a_closed_day_ends_without_decoding() {
    let mut b = Booking::new(site(), plan(Filters::default()));
    b.start(1).unwrap();
    let s = b.feed(2, &fx!("product_detail_not_open.json")).unwrap();
    assert_eq!(failed(&s).0, FailReason::NoMatchingSlot);
    let mut b = Booking::new(site(), plan(Filters::default()));
    b.start(1).unwrap();
    let s = b
        .feed(2, &fx!("legacy_product_detail_outside_window.json"))
        .unwrap();
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::NoMatchingSlot);
    assert!(message.contains("not open"), "{message}");
}

#[test]
fn a_detail_already_in_hand_goes_straight_to_confirm() {
    let detail = parse_product_detail(&site(), &fx!("product_detail.json")).unwrap();
    let mut b = Booking::new(site(), plan(Filters::default()));
    let s = b.start_with_detail(1, detail, &[]).unwrap();
    assert!(sent(&s).url.contains("/web/product/confirm?_time=1"));
    assert!(b.start(2).is_err());
}

#[test]
fn a_slot_gone_at_confirm_tries_the_next_match() {
    let both = [
        Decoded {
            uniq_product_key: PM_KEY.into(),
            remaining: Some(1),
            fee: None,
        },
        Decoded {
            uniq_product_key: AM_KEY.into(),
            remaining: Some(1),
            fee: None,
        },
    ];
    let (mut b, s) = to_confirm(Filters::default(), &both);
    assert_eq!(json_body(sent(&s))["uniqProductKey"], AM_KEY);
    let gone = http(
        200,
        r#"{"resCode":8008,"msg":"当前号源已约满","data":null}"#,
    );
    let s = b.feed(4, &gone).unwrap();
    assert_eq!(json_body(sent(&s))["uniqProductKey"], PM_KEY);
    let s = b.feed(5, &gone).unwrap();
    assert_eq!(failed(&s).0, FailReason::SlotGone);
    assert!(!b.order_save_sent());
}

#[test]
fn session_loss_and_account_problems_fail_before_any_order() {
    let (mut b, _) = to_confirm(Filters::default(), &[]);
    let s = b.feed(4, &fx!("product_list_not_logged_in.json")).unwrap();
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::SessionExpired);
    assert!(message.contains("log in again"), "{message}");

    let (mut b, _) = to_confirm(Filters::default(), &[]);
    b.feed(4, &fx!("product_confirm.json")).unwrap();
    let not_auth = http(
        200,
        r#"{"resCode":0,"msg":null,"data":{"status":"NOT_AUTH","name":null,"idTypeView":null,"idNo":null,"message":"您还未进行实名认证，请先实名认证"}}"#,
    );
    let s = b.feed(5, &not_auth).unwrap();
    assert_eq!(failed(&s).0, FailReason::NotRealName);
    assert!(!b.order_save_sent());
}

#[test]
fn the_patient_and_card_are_chosen_as_asked() {
    let run = |patient: PatientChoice| {
        let mut p = plan(Filters::default());
        p.patient = patient;
        let mut b = Booking::new(site(), p);
        b.start(1).unwrap();
        b.feed(2, &fx!("product_detail.json")).unwrap();
        b.decoded(3, &[]).unwrap();
        b.feed(4, &fx!("product_confirm.json")).unwrap();
        b.feed(5, &fx!("real_name_status.json")).unwrap();
        b.feed(6, &fx!("patient_list.json")).unwrap()
    };
    let s = run(PatientChoice {
        name: "黄贺".into(),
        card_type: "IDENTITY_CARD".into(),
        card_no: String::new(),
    });
    let body = json_body(sent(&s));
    assert_eq!(body["cardType"], "IDENTITY_CARD");
    assert_eq!(body["cardNo"], "1101****8818");
    let s = run(PatientChoice {
        card_no: "6009".into(),
        ..PatientChoice::default()
    });
    assert_eq!(json_body(sent(&s))["cardNo"], "1574****6009");
    let s = run(PatientChoice {
        name: "张三".into(),
        ..PatientChoice::default()
    });
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::NoPatient);
    assert!(message.contains("张三"), "{message}");
    let s = run(PatientChoice {
        card_type: "JYT_CARD".into(),
        ..PatientChoice::default()
    });
    assert_eq!(failed(&s).0, FailReason::NoPatient);
    // The card's tail is compared by characters: a person's non-ASCII text is no panic.
    let s = run(PatientChoice {
        card_no: "黄贺12".into(),
        ..PatientChoice::default()
    });
    assert_eq!(failed(&s).0, FailReason::NoPatient);
}

#[test]
fn an_account_read_ahead_goes_from_confirm_straight_to_the_order() {
    use haoyuan_core::platforms::yygh114::booking::pick_patient;
    let patients = parse_patient_list(&fx!("patient_list.json")).unwrap();
    let (patient, card) = pick_patient(&patients, &PatientChoice::default()).unwrap();
    let detail = parse_product_detail(&site(), &fx!("product_detail.json")).unwrap();
    let mut b = Booking::new(site(), plan(Filters::default())).with_account(patient, card.clone());
    let s = b.start_with_detail(1, detail, &[]).unwrap();
    assert!(sent(&s).url.contains("/web/product/confirm"));
    let s = b.feed(2, &fx!("product_confirm.json")).unwrap();
    assert!(
        sent(&s).url.contains("/web/order/save"),
        "no real-name or patient request: {s:?}"
    );
    assert!(b.order_save_sent());
    assert_eq!(json_body(sent(&s))["cardNo"], card.card_no);
}

/// A booking of the SMS scenario, advanced to the order SMS request.
fn to_order_sms() -> (Booking, Step<BookingOutcome>) {
    let mut b = Booking::new(site(), plan(Filters::default()));
    b.start(1).unwrap();
    b.feed(2, &fx!("product_detail_periods.json")).unwrap();
    b.decoded(3, &[]).unwrap();
    let s = b
        .feed(4, &fx!("product_confirm_sms_required.json"))
        .unwrap();
    assert!(sent(&s).url.contains("real-name"));
    b.feed(5, &fx!("real_name_status.json")).unwrap();
    let s = b.feed(6, &fx!("patient_list.json")).unwrap();
    (b, s)
}

#[test]
fn booking_asks_for_the_sms_only_when_required_and_again_when_rejected() {
    let (mut b, s) = to_order_sms();
    let r = sent(&s);
    assert!(
        r.url.ends_with(&format!(
            "&mobile=8E91WgqSzEHTX_a_3cFOag%3D%3D&smsKey=ORDER_CODE&uniqProductKey={AM_KEY}"
        )),
        "{}",
        r.url
    );
    assert!(!b.order_save_sent());
    let s = b.feed(7, &fx!("verify_code_get_order.json")).unwrap();
    assert_eq!(
        s,
        Step::AskUser {
            prompt: Prompt::OrderSms {
                phone: "177****1085".into(),
                note: None
            }
        }
    );
    assert!(b.answer(8, "").unwrap().request().is_none()); // asked again
    let s = b.answer(8, "000000").unwrap();
    let body = json_body(sent(&s));
    assert_eq!(body["smsCode"], "000000");
    assert_eq!(body["dutyTime"], 1);
    assert!(b.order_save_sent());
    // 7001 is a definite refusal: ask again, then a second order/save is allowed.
    let s = b.feed(9, &fx!("order_save_sms_wrong.json")).unwrap();
    let Step::AskUser {
        prompt: Prompt::OrderSms {
            note: Some(note), ..
        },
    } = &s
    else {
        panic!("{s:?}")
    };
    assert!(note.contains("did not accept"), "{note}");
    let s = b.answer(10, "482913").unwrap();
    assert_eq!(json_body(sent(&s))["smsCode"], "482913");
    let s = b.feed(11, &fx!("order_save_sms.json")).unwrap();
    assert!(sent(&s).url.contains("orderNo=278261398905"));
    let s = b.feed(12, &fx!("order_detail_period.json")).unwrap();
    let Some(BookingOutcome::Booked(booked)) = s.outcome() else {
        panic!("{s:?}")
    };
    assert_eq!(booked.visit_time, "2026年11月29日 周日 上午 08:00-08:30");
}

/// A booking advanced to the `order/save` request (no SMS).
fn to_save() -> Booking {
    let (mut b, _) = to_confirm(Filters::default(), &[]);
    b.feed(4, &fx!("product_confirm.json")).unwrap();
    b.feed(5, &fx!("real_name_status.json")).unwrap();
    let s = b.feed(6, &fx!("patient_list.json")).unwrap();
    assert!(sent(&s).url.contains("/web/order/save"));
    b
}

#[test]
fn an_unknown_order_outcome_is_never_sent_again() {
    // 5xx: unknown, finished, no further request of any kind.
    let mut b = to_save();
    let s = b
        .feed(7, &http(502, "<html>502 Bad Gateway</html>"))
        .unwrap();
    let Some(BookingOutcome::Unknown {
        order_no: None,
        message,
    }) = s.outcome()
    else {
        panic!("{s:?}")
    };
    assert!(message.contains("will not send it again"), "{message}");
    assert!(b.order_save_sent());
    assert!(b.feed(8, &fx!("order_save.json")).is_err());
    assert!(b.no_response(8, "x").is_err());

    // No reply at all.
    let mut b = to_save();
    let s = b.no_response(7, "timed out after 10 s").unwrap();
    assert!(matches!(
        s.outcome(),
        Some(BookingOutcome::Unknown { order_no: None, .. })
    ));

    // A truncated reply with a whole order number: checked with order/detail.
    let mut b = to_save();
    let s = b.feed(7, &fx!("order_save_truncated.json")).unwrap();
    assert!(
        sent(&s).url.contains("/web/order/detail") && sent(&s).url.contains("orderNo=219696650944")
    );
    let s = b.feed(8, &fx!("order_detail.json")).unwrap();
    assert!(matches!(s.outcome(), Some(BookingOutcome::Booked(_))));

    // Cut inside the number: unknown, not guessed.
    let mut b = to_save();
    let s = b.feed(7, &fx!("order_save_truncated_early.json")).unwrap();
    assert!(matches!(
        s.outcome(),
        Some(BookingOutcome::Unknown { order_no: None, .. })
    ));

    // Success without a number.
    let mut b = to_save();
    let s = b.feed(7, &fx!("order_save_null_data.json")).unwrap();
    let Some(BookingOutcome::Unknown { message, .. }) = s.outcome() else {
        panic!("{s:?}")
    };
    assert!(message.contains("我的订单"), "{message}");
}

#[test]
fn an_expired_confirmation_is_confirmed_again_then_saved_once_more() {
    let mut b = to_save();
    let s = b.feed(7, &fx!("order_save_bad_token.json")).unwrap();
    let r = sent(&s);
    assert!(r.url.contains("/web/product/confirm"));
    assert_eq!(json_body(r)["uniqProductKey"], PM_KEY);
    // Account and patient are known: straight back to order/save with the new token.
    let s = b.feed(8, &fx!("product_confirm.json")).unwrap();
    assert!(sent(&s).url.contains("/web/order/save"));
    // A second expiry ends it.
    let s = b.feed(9, &fx!("order_save_again.json")).unwrap();
    assert_eq!(failed(&s).0, FailReason::SiteRefused);
}

#[test]
fn a_refused_order_says_no_order_was_placed_by_it() {
    let mut b = to_save();
    let s = b.feed(7, &fx!("order_save_duplicate.json")).unwrap();
    let (reason, message) = failed(&s);
    assert_eq!(reason, FailReason::SlotGone);
    assert!(
        message.contains("请勿重复预约") && message.contains("placed no order"),
        "{message}"
    );
}

#[test]
fn the_order_is_checked_again_then_reported_unknown_with_its_number() {
    let mut b = to_save();
    b.feed(7, &fx!("order_save.json")).unwrap();
    let s = b.feed(8, &http(503, "busy")).unwrap();
    assert!(sent(&s).url.contains("/web/order/detail"));
    let s = b.no_response(9, "timed out").unwrap();
    let Some(BookingOutcome::Unknown { order_no, message }) = s.outcome() else {
        panic!("{s:?}")
    };
    assert_eq!(order_no.as_deref(), Some("219696650944"));
    assert!(message.contains("219696650944"), "{message}");

    let mut b = to_save();
    b.feed(7, &fx!("order_save.json")).unwrap();
    let s = b.feed(8, &fx!("order_detail_unknown_status.json")).unwrap();
    let Some(BookingOutcome::Unknown { message, .. }) = s.outcome() else {
        panic!("{s:?}")
    };
    assert!(message.contains("WAIT_PAY"), "{message}");
}

#[test]
fn steps_and_outcomes_serialise_for_the_wasm_edge() {
    let mut b = Booking::new(site(), plan(Filters::default()));
    let s = b.start(1).unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["step"], "send");
    assert_eq!(v["request"]["method"], "POST");
    let mut b = to_save();
    let s = b.feed(7, &http(502, "x")).unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["step"], "done");
    assert_eq!(v["outcome"]["result"], "unknown");
}

// ---------------------------------------------------------------- the pages' JSON face

fn response_json(r: &HttpResponse) -> String {
    serde_json::to_string(r).expect("response json")
}

#[test]
fn bridge_builds_the_pickers_requests_and_refuses_missing_params() {
    use haoyuan_core::platforms::yygh114::bridge::request_json;
    let v = request_json(
        "hospital_list",
        r#"{"keywords": " 协和 ", "page_size": 500}"#,
        BASE,
        1,
    );
    assert_eq!(v["ok"], true, "{v}");
    let url = v["request"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{BASE}/web/hospital/list?_time=1")),
        "{url}"
    );
    assert!(
        url.contains("keywords=%E5%8D%8F%E5%92%8C"),
        "trimmed and encoded: {url}"
    );
    assert!(url.contains("pageSize=50"), "page size clamped: {url}");
    let v = request_json("department_list", r#"{"hos_code": 1}"#, BASE, 1);
    assert!(
        v["request"]["url"].as_str().unwrap().contains("hosCode=1"),
        "{v}"
    );
    let v = request_json("hospital_detail", "{}", BASE, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["message"], "hospital_detail needs hos_code");
    let v = request_json("order_save", "{}", BASE, 1);
    assert_eq!(
        v["ok"], false,
        "only the pickers' read-only requests are offered: {v}"
    );
}

#[test]
fn bridge_reads_replies_and_says_what_went_wrong_in_words() {
    use haoyuan_core::platforms::yygh114::bridge::parse_json;
    let v = parse_json("hospital_list", &response_json(&fx!("hospital_list.json")));
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["data"]["list"][0]["code"].is_string(), "{v}");
    let v = parse_json(
        "department_list",
        &response_json(&fx!("department_hos_list.json")),
    );
    assert!(v["data"][0]["clinics"].is_array(), "{v}");
    let v = parse_json(
        "real_name_status",
        &response_json(&fx!("product_list_not_logged_in.json")),
    );
    assert_eq!(v["error"]["kind"], "session_expired", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("sign in"),
        "{v}"
    );
    let v = parse_json(
        "hospital_list",
        &response_json(&fx!("hospital_list_renamed_field.json")),
    );
    assert_eq!(v["error"]["kind"], "parse");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("list"),
        "{v}"
    );
    let v = parse_json("hospital_list", "not json");
    assert_eq!(v["error"]["kind"], "parse");
}

#[test]
fn a_watcher_over_a_recorded_intent_never_books() {
    use haoyuan_core::platforms::yygh114::bridge::{action_json, watcher_from_json};
    let watch = serde_json::json!({
        "id": "w1", "label": "", "target": {"platform": "114yygh", "hos_code": "1",
        "first_dept_code": "a", "second_dept_code": "b"},
        "window": {"start": "2026-12-01", "end": "2026-12-01"},
        "mode": "book", "interval": {"seconds": 30, "jitter_pct": 20}
    })
    .to_string();
    let mut w = watcher_from_json(&watch, BASE, r#"{"state": "booked", "id": "b-1"}"#).unwrap();
    let a = w.tick(0, 0.5);
    let v: Value = serde_json::from_str(&action_json(&mut w, a)).unwrap();
    assert_eq!(v["action"], "stopped", "{v}");
    assert!(
        v["events"][0]["message"]
            .as_str()
            .unwrap()
            .contains("will not order again"),
        "{v}"
    );
    // Without an intent it starts by reading the hospital's release time.
    let mut w = watcher_from_json(&watch, BASE, "null").unwrap();
    let a = w.tick(0, 0.5);
    let v: Value = serde_json::from_str(&action_json(&mut w, a)).unwrap();
    assert_eq!(v["action"], "send", "{v}");
    assert_eq!(v["purpose"], "hospital_detail");
    assert_eq!(
        v["paced"], true,
        "what starts something new waits behind the account's other watches"
    );
    // A watch of another platform is refused in words.
    let mut rail: Value = serde_json::from_str(&watch).unwrap();
    rail["target"] =
        serde_json::json!({"platform": "12306", "from_station": "VNP", "to_station": "AOH"});
    let rail = rail.to_string();
    let err = watcher_from_json(&rail, BASE, "null").expect_err("refused");
    assert!(err.contains("not 114yygh"), "{err}");
}
