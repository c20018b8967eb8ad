//! The 12306 adapter: `station_name.js` in both record formats (a hand-made fixture in
//! `tests/fixtures/rail12306/` and the sandbox's generated file of thousands of stations).

use haoyuan_core::platforms::rail12306::stations::{parse_station_names, StationsError};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rail12306/station_name.js"
));

fn names(found: &[&haoyuan_core::platforms::rail12306::stations::Station]) -> Vec<String> {
    found.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn both_record_formats_are_read_and_a_broken_record_is_skipped() {
    let st = parse_station_names(FIXTURE).unwrap();
    assert_eq!(st.stations.len(), 7);
    assert_eq!(st.skipped, 1);
    let old = st.by_telecode("VAP").unwrap();
    assert_eq!(
        (
            old.name.as_str(),
            old.pinyin.as_str(),
            old.abbr.as_str(),
            old.city.as_deref()
        ),
        ("北京北", "beijingbei", "bjb", None)
    );
    let new = st.by_telecode("AOH").unwrap();
    assert_eq!(
        (new.name.as_str(), new.abbr.as_str(), new.city.as_deref()),
        ("上海虹桥", "shhq", Some("上海"))
    );
}

#[test]
fn search_by_chinese_name_pinyin_abbreviation_telecode_and_city() {
    let st = parse_station_names(FIXTURE).unwrap();
    assert_eq!(
        names(&st.search("北京", 10)),
        ["北京", "北京北", "北京东", "北京南"],
        "exact first, then shorter names"
    );
    assert_eq!(names(&st.search("shhq", 5)), ["上海虹桥"]);
    assert_eq!(
        names(&st.search("BeiJingNan", 5)),
        ["北京南"],
        "pinyin, any case"
    );
    assert_eq!(names(&st.search("vnp", 5)), ["北京南"], "telecode");
    assert_eq!(names(&st.search("虹桥", 5)), ["上海虹桥"], "part of a name");
    assert_eq!(
        names(&st.search("bj", 2)),
        ["北京", "北京北"],
        "abbreviations, limited"
    );
    assert_eq!(names(&st.search(" gz ", 5)), ["广州南"]);
    assert!(st.search("", 5).is_empty());
    assert!(st.search("拉萨", 5).is_empty());
}

#[test]
fn a_changed_file_is_a_plain_error() {
    assert_eq!(
        parse_station_names("var something_else = 1;"),
        Err(StationsError::NoList)
    );
    assert_eq!(
        parse_station_names("var station_names ='';"),
        Err(StationsError::Empty)
    );
    let e =
        parse_station_names("var station_names ='@a b c@d e f@bjb|北京北|VAP|beijingbei|bjb|0';")
            .unwrap_err();
    assert_eq!(
        e,
        StationsError::MostlyUnreadable {
            skipped: 2,
            total: 3
        }
    );
    assert!(e.to_string().contains("2 of 3 records"), "{e}");
}

#[test]
fn the_sandboxs_whole_file_reads_back_every_station() {
    let rng = haoyuan_sandbox::gen::Rng::new(11);
    let generated = haoyuan_sandbox::platforms::rail12306::stations::Stations::generate(&rng, 3000);
    let js = std::str::from_utf8(&generated.js).unwrap();
    let st = parse_station_names(js).unwrap();
    assert_eq!(st.skipped, 0);
    assert_eq!(st.stations.len(), generated.list.len());
    for (got, want) in st.stations.iter().zip(&generated.list) {
        assert_eq!(
            (got.name.as_str(), got.telecode.as_str()),
            (want.name.as_str(), want.telecode.as_str())
        );
    }
    // Every station is found by its own name and abbreviation.
    for s in st.stations.iter().step_by(97) {
        assert_eq!(st.search(&s.name, 1)[0].telecode, s.telecode, "{s:?}");
        assert!(
            st.search(&s.abbr, 3000)
                .iter()
                .any(|x| x.telecode == s.telecode),
            "{s:?}"
        );
    }
}

// ---------------------------------------------------------------- left-ticket rows

use haoyuan_core::platforms::rail12306::query::{
    parse_row, RowError, Seat, SeatKind, MIN_ROW_FIELDS,
};

const ROWS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rail12306/query_rows.txt"
));

#[test]
fn rows_of_every_length_from_37_fields_up_are_read_with_their_seat_cells() {
    let rows: Vec<&str> = ROWS.lines().collect();
    assert!(rows.iter().all(|r| r.split('|').count() >= MIN_ROW_FIELDS));
    assert!(
        rows[0].split('|').count() > 50,
        "a long row (the site adds fields)"
    );
    assert_eq!(
        rows[2].split('|').count(),
        37,
        "a row of exactly the minimum"
    );

    let g1 = parse_row(0, rows[0]).unwrap();
    assert_eq!(
        (g1.train_code.as_str(), g1.from.as_str(), g1.to.as_str()),
        ("G1", "VNP", "AOH")
    );
    assert_eq!(
        (g1.depart.as_str(), g1.arrive.as_str(), g1.duration.as_str()),
        ("07:00", "11:29", "04:29")
    );
    assert_eq!(g1.start_train_date, "20261204");
    assert!(g1.on_sale() && g1.houbu);
    assert_eq!(g1.seat(SeatKind::Second), &Seat::Count(20));
    assert_eq!(g1.seat(SeatKind::First), &Seat::Plenty);
    assert_eq!(g1.seat(SeatKind::Business), &Seat::Count(3));
    assert_eq!(
        g1.seat(SeatKind::HardSeat),
        &Seat::None,
        "an empty cell is none"
    );
    assert_eq!(g1.seat_types, "OM9");
    assert!(g1.seat(SeatKind::First).at_least(5) && !g1.seat(SeatKind::Business).at_least(4));

    let k7 = parse_row(1, rows[1]).unwrap();
    assert_eq!(k7.seat(SeatKind::SoftSleeper), &Seat::None, "无");
    assert_eq!(k7.seat(SeatKind::Standing), &Seat::NotYet, "*");
    assert_eq!(k7.seat(SeatKind::HardSleeper), &Seat::Count(12));
    assert!(!k7.houbu);

    let g3 = parse_row(2, rows[2]).unwrap();
    assert!(!g3.on_sale(), "not on sale yet: {}", g3.button_text);
    assert!(g3.button_text.contains("起售"));
    assert_eq!(g3.seat(SeatKind::Second), &Seat::NotYet);
    assert!(!g3.houbu, "no flag in a 37-field row");
}

#[test]
fn a_short_row_is_refused_in_words_and_odd_cells_are_kept() {
    let short = ROWS
        .lines()
        .next()
        .unwrap()
        .split('|')
        .take(36)
        .collect::<Vec<_>>()
        .join("|");
    let e = parse_row(4, &short).unwrap_err();
    assert_eq!(
        e,
        RowError {
            index: 4,
            fields: 36
        }
    );
    assert!(e.to_string().contains("row 4 has 36 fields"), "{e}");
    assert_eq!(Seat::parse(" 7 "), Seat::Count(7));
    assert_eq!(Seat::parse("0"), Seat::None);
    assert_eq!(Seat::parse("候补"), Seat::Unknown("候补".into()));
}

// ---------------------------------------------------------------- the endpoint's drift

use haoyuan_core::platforms::rail12306::query::{
    endpoint_from_init_page, parse_query_reply, QueryError, QueryReply,
};

#[test]
fn the_query_endpoint_is_read_from_the_init_page_and_followed_when_it_moves() {
    let html = "<script>\nvar ctx = '/otn/';\nvar CLeftTicketUrl = 'leftTicket/queryZ';\n</script>";
    assert_eq!(
        endpoint_from_init_page(html).as_deref(),
        Some("leftTicket/queryZ")
    );
    assert_eq!(
        endpoint_from_init_page("var CLeftTicketUrl=\"queryG\";").as_deref(),
        Some("leftTicket/queryG")
    );
    assert_eq!(
        endpoint_from_init_page("var CLeftTicketUrl = '../../evil';"),
        None
    );
    assert_eq!(endpoint_from_init_page("<html>no script</html>"), None);
    let moved = parse_query_reply(
        br#"{"status": false, "c_url": "leftTicket/queryA", "c_name": "CLeftTicketUrl"}"#,
    )
    .unwrap();
    assert_eq!(
        moved,
        QueryReply::Moved {
            endpoint: "leftTicket/queryA".into()
        }
    );
}

#[test]
fn a_query_reply_gives_its_trains_names_and_the_rows_it_could_not_read() {
    let rows: Vec<&str> = ROWS.lines().collect();
    let body = serde_json::json!({
        "httpstatus": 200, "status": true,
        "data": {"result": [rows[0], "short|row", rows[1]], "flag": "1", "map": {"VNP": "北京南", "AOH": "上海虹桥"}}
    });
    match parse_query_reply(body.to_string().as_bytes()).unwrap() {
        QueryReply::Trains {
            rows,
            names,
            bad_rows,
        } => {
            assert_eq!(
                rows.iter()
                    .map(|r| r.train_code.as_str())
                    .collect::<Vec<_>>(),
                ["G1", "K7"]
            );
            assert!(names.contains(&("VNP".into(), "北京南".into())));
            assert_eq!(bad_rows.len(), 1);
            assert!(bad_rows[0].contains("row 1 has 2 fields"), "{bad_rows:?}");
        }
        other => panic!("{other:?}"),
    }
    let refused = parse_query_reply(
        "{\"status\": false, \"messages\": [\"选择的查询日期不在预售日期范围内\"]}".as_bytes(),
    )
    .unwrap();
    assert_eq!(
        refused,
        QueryReply::Refused {
            message: "选择的查询日期不在预售日期范围内".into()
        }
    );
    assert!(matches!(
        parse_query_reply(b"<html>error</html>"),
        Err(QueryError::NotJson(_))
    ));
    assert_eq!(
        parse_query_reply(br#"{"status": true, "data": {}}"#),
        Err(QueryError::Missing("data.result"))
    );
}

// ---------------------------------------------------------------- the run-time watcher

mod flow {
    use haoyuan_core::date::Date;
    use haoyuan_core::http::{Body, HttpRequest, HttpResponse};
    use haoyuan_core::platforms::rail12306::order::{
        reconcile, Order, OrderEnd, OrderPlan, OrderStep, Reconciled,
    };
    use haoyuan_core::platforms::rail12306::query::{parse_row, TrainRow};
    use haoyuan_core::platforms::rail12306::site::Site;
    use haoyuan_core::platforms::rail12306::watcher::{sale_time, Action, Tuning, Watcher};
    use haoyuan_core::platforms::Driver;
    use haoyuan_core::watch::Watch;
    use serde_json::{json, Value};

    const ROWS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rail12306/query_rows.txt"
    ));
    const INIT_DC: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rail12306/init_dc.html"
    ));
    const PASSENGERS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rail12306/passengers.json"
    ));
    const NO_COMPLETE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rail12306/no_complete.json"
    ));

    /// Unix ms of a Beijing time `YYYY-MM-DD HH:MM:SS`.
    fn bj(s: &str) -> i64 {
        let (d, t) = s.split_once(' ').unwrap();
        let d = Date::parse(d).unwrap();
        let p: Vec<i64> = t.split(':').map(|x| x.parse().unwrap()).collect();
        d.to_days() * 86_400_000 + ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 - 8 * 3_600_000
    }

    fn http_date(ms: i64) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = ms.div_euclid(86_400_000);
        let d = Date::from_days(days);
        let s = ms.rem_euclid(86_400_000) / 1000;
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[days.rem_euclid(7) as usize],
            d.day,
            MONTHS[(d.month - 1) as usize],
            d.year,
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    fn reply(body: &str, at_ms: i64) -> HttpResponse {
        HttpResponse::new(200, body.as_bytes().to_vec()).with_header("Date", http_date(at_ms))
    }

    fn query_reply(rows: &[&str]) -> String {
        json!({"httpstatus": 200, "status": true, "messages": "",
               "data": {"flag": "1", "result": rows, "map": {"VNP": "北京南", "AOH": "上海虹桥"}}})
        .to_string()
    }

    fn watch(target: Value, mode: &str) -> Watch {
        let mut t = json!({"platform": "12306", "from_station": "VNP", "to_station": "AOH",
                           "dates": ["2026-12-04"]});
        for (k, v) in target.as_object().unwrap() {
            t[k] = v.clone();
        }
        serde_json::from_value(json!({"id": "w-1", "target": t,
            "window": {"start": "2026-12-03", "end": "2026-12-05"}, "mode": mode,
            "interval": {"seconds": 60, "jitter_pct": 10}}))
        .unwrap()
    }

    fn send_of(a: &Action) -> (&HttpRequest, &'static str) {
        match a {
            Action::Send {
                request, purpose, ..
            } => (request, *purpose),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    fn body_of(r: &HttpRequest) -> String {
        match &r.body {
            Some(Body::Text(t)) => t.clone(),
            _ => String::new(),
        }
    }

    /// Runs one poll of `w` at server time `now` with `rows`; the action after it.
    fn poll(w: &mut Watcher, now: i64, rows: &[&str]) -> Action {
        let a = w.tick(now);
        let (req, purpose) = send_of(&a);
        assert_eq!(purpose, "left_ticket_init");
        assert!(req.url.ends_with("/otn/leftTicket/init"));
        let a = w.feed(
            &reply(
                "<script>var CLeftTicketUrl = 'leftTicket/queryA';</script>",
                now,
            ),
            now,
        );
        let (req, purpose) = send_of(&a);
        assert_eq!(purpose, "query");
        assert!(req.url.contains("/otn/leftTicket/queryA?leftTicketDTO.train_date=2026-12-04&leftTicketDTO.from_station=VNP&leftTicketDTO.to_station=AOH&purpose_codes=ADULT"), "{}", req.url);
        w.feed(&reply(&query_reply(rows), now), now)
    }

    fn rows() -> Vec<&'static str> {
        ROWS.lines().filter(|l| !l.trim().is_empty()).collect()
    }

    fn seen(w: &mut Watcher) -> Vec<(String, String)> {
        w.take_events()
            .into_iter()
            .filter(|e| e.kind == "slot_seen")
            .map(|e| {
                (
                    e.data["train"].as_str().unwrap().to_string(),
                    e.data["seat"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn filters_pick_trains_departures_and_the_preferred_seat_once() {
        let now = bj("2026-12-03 09:00:00");
        let site = Site::new("https://kyfw.example");
        let all = rows();
        // G1 07:00 (O 20, M 有, 9 3), K7 20:00 (硬座 无…), G3 not on sale yet.
        let mut w = Watcher::new(
            &watch(json!({"seat_types": ["M", "O"]}), "notify"),
            site.clone(),
            Tuning::default(),
            None,
            1,
        )
        .unwrap();
        let next = poll(&mut w, now, &all);
        assert_eq!(
            seen(&mut w),
            [("G1".to_string(), "M".to_string())],
            "M preferred over O"
        );
        assert!(matches!(next, Action::Wait { .. }), "{next:?}");
        // The same slot is not told twice.
        let Action::Wait { at_ms } = next else {
            unreachable!()
        };
        let a = w.tick(at_ms);
        let (req, _) = send_of(&a);
        assert!(req.url.contains("queryA"), "the endpoint is remembered");
        w.feed(&reply(&query_reply(&all), at_ms), at_ms);
        assert!(seen(&mut w).is_empty());

        for (target, expect) in [
            // K7 runs between other stations of the same cities (12306 lists those too).
            (json!({"exclude_trains": ["g1"]}), vec![("K7", "3")]),
            (json!({"depart_after": "07:30"}), vec![("K7", "3")]),
            (
                json!({"depart_after": "07:30", "depart_before": "19:59"}),
                vec![],
            ),
            (json!({"depart_before": "06:59"}), vec![]),
            (json!({"trains": ["K7"], "seat_types": ["1"]}), vec![]),
            (json!({"seat_types": ["P", "9"]}), vec![("G1", "9")]),
            (
                json!({"seat_types": ["9"], "passengers": ["张三", "李四", "王五", "赵六"]}),
                vec![],
            ),
            (
                json!({"seat_types": ["9"], "passengers": ["张三", "李四", "王五", "赵六"], "allow_fewer": true}),
                vec![("G1", "9")],
            ),
        ] {
            let mut w = Watcher::new(
                &watch(target.clone(), "notify"),
                site.clone(),
                Tuning::default(),
                None,
                1,
            )
            .unwrap();
            poll(&mut w, now, &all);
            let want: Vec<(String, String)> = expect
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(seen(&mut w), want, "{target}");
        }
    }

    #[test]
    fn many_dates_and_pairs_are_taken_a_few_per_poll_in_turn() {
        let now = bj("2026-12-03 09:00:00");
        let site = Site::new("https://kyfw.example");
        let dates: Vec<String> = (4..=9).map(|d| format!("2026-12-{d:02}")).collect();
        let mut t = json!({"dates": dates, "more_pairs": [{"from": "BJP", "to": "SHH"}]});
        t["seat_types"] = json!(["O"]);
        let mut wj = serde_json::to_value(watch(t, "notify")).unwrap();
        wj["window"]["end"] = json!("2026-12-10");
        let w: Watch = serde_json::from_value(wj).unwrap();
        let mut w = Watcher::new(&w, site, Tuning::default(), None, 1).unwrap();
        let mut asked = Vec::new();
        let mut a = w.tick(now);
        let mut t = now;
        let mut this_poll = 0;
        while asked.len() < 12 {
            match a {
                Action::Send {
                    request, purpose, ..
                } => {
                    let body = if purpose == "left_ticket_init" {
                        "var CLeftTicketUrl = 'leftTicket/queryZ';".to_string()
                    } else {
                        asked.push(request.url.split('?').nth(1).unwrap().to_string());
                        this_poll += 1;
                        assert!(this_poll <= 4, "a poll sends at most 4 queries");
                        query_reply(&[])
                    };
                    a = w.feed(&reply(&body, t), t);
                }
                Action::Wait { at_ms } => {
                    this_poll = 0;
                    t = at_ms;
                    a = w.tick(t);
                }
                other => panic!("{other:?}"),
            }
        }
        // 6 dates × 2 pairs = 12 queries, taken 4 a poll: each exactly once in 3 polls.
        let mut unique = asked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 12, "{asked:?}");
    }

    #[test]
    fn a_train_not_on_sale_yet_brings_the_next_poll_to_its_sale_time() {
        let site = Site::new("https://kyfw.example");
        let g3 = rows()[2];
        let sale = bj("2026-12-04 08:00:00");
        assert_eq!(
            sale_time("12月04日08:00起售", Date::parse("2026-12-04").unwrap()),
            Some(sale)
        );
        assert_eq!(
            sale_time("12月31日15:00起售", Date::parse("2027-01-14").unwrap()),
            Some(bj("2026-12-31 15:00:00")),
            "a December sale of a January train"
        );
        assert_eq!(sale_time("预订", Date::parse("2026-12-04").unwrap()), None);
        let now = sale - 40_000;
        let mut burst = Watcher::new(
            &watch(json!({"trains": ["G3"]}), "notify"),
            site.clone(),
            Tuning::default(),
            None,
            1,
        )
        .unwrap();
        let Action::Wait { at_ms } = poll(&mut burst, now, &[g3]) else {
            panic!()
        };
        assert!(
            at_ms > now && at_ms < sale,
            "polls again before the sale opens, not 60 s later: {}",
            at_ms - now
        );
        let mut plain = Watcher::new(
            &watch(json!({"trains": ["G3"], "sale_burst": false}), "notify"),
            site,
            Tuning::default(),
            None,
            1,
        )
        .unwrap();
        let Action::Wait { at_ms } = poll(&mut plain, now, &[g3]) else {
            panic!()
        };
        assert!(
            at_ms >= now + 54_000,
            "without sale_burst the interval holds: {}",
            at_ms - now
        );
    }

    fn g1() -> TrainRow {
        parse_row(0, rows()[0]).unwrap()
    }

    fn otn(data: Value) -> String {
        json!({"validateMessagesShowId": "_validatorMessage", "status": true, "httpstatus": 200,
               "data": data, "messages": [], "validateMessages": {}})
        .to_string()
    }

    #[test]
    fn the_order_chain_sends_the_seeds_fields_and_books_with_the_deadline() {
        let site = Site::new("https://kyfw.example");
        let plan = OrderPlan {
            date: Date::parse("2026-12-04").unwrap(),
            today: Date::parse("2026-12-03").unwrap(),
            row: g1(),
            seat: "O".into(),
            from_name: "北京南".into(),
            to_name: "上海虹桥".into(),
            passengers: vec!["李四".into(), "张三".into()],
            count: 2,
            queue_poll_ms: 1000,
            queue_max_polls: 5,
        };
        let now = bj("2026-12-03 09:15:00");
        let (mut o, step) = Order::start(site, plan, 9);
        let s = |step: &OrderStep| match step {
            OrderStep::Send { request, purpose } => (request.clone(), *purpose),
            other => panic!("expected a request, got {other:?}"),
        };
        assert_eq!(s(&step).1, "check_user");
        let step = o.feed(&reply(&otn(json!({"flag": true})), now), now);
        let (req, p) = s(&step);
        assert_eq!(p, "submit_order_request");
        let body = body_of(&req);
        assert!(
            body.contains("&secretStr=SECRET%2Bg1&"),
            "secretStr as the row had it: {body}"
        );
        assert!(
            body.contains("train_date=2026-12-04")
                && body.contains("tour_flag=dc")
                && body.contains("purpose_codes=ADULT")
        );
        assert!(
            body.contains("query_from_station_name=%E5%8C%97%E4%BA%AC%E5%8D%97"),
            "{body}"
        );
        // Newer captures answer "0".
        let (req, p) = s(&o.feed(&reply(&otn(json!("0")), now), now));
        assert_eq!(p, "init_dc");
        assert!(req.url.ends_with("/otn/confirmPassenger/initDc"));
        let (req, p) = s(&o.feed(&reply(INIT_DC, now), now));
        assert_eq!(p, "get_passenger_dtos");
        assert!(body_of(&req).contains("REPEAT_SUBMIT_TOKEN=41ccc1848d24018ea59ea2534dcb6ef6"));
        let (req, p) = s(&o.feed(&reply(PASSENGERS, now), now));
        assert_eq!(p, "check_order_info");
        let body = body_of(&req);
        let ticket = haoyuan_core::http::form_encode_component(
            "O,0,1,李四,1,110101199202021236,13900139000,N_O,0,1,张三,1,110101199001011234,13800138000,N",
        );
        assert!(
            body.contains(&format!("passengerTicketStr={ticket}")),
            "{body}"
        );
        let old = haoyuan_core::http::form_encode_component(
            "李四,1,110101199202021236,1_张三,1,110101199001011234,1_",
        );
        assert!(body.contains(&format!("oldPassengerStr={old}")), "{body}");
        let (req, p) = s(&o.feed(
            &reply(
                &otn(json!({"ifShowPassCode": "N", "submitStatus": true})),
                now,
            ),
            now,
        ));
        assert_eq!(p, "get_queue_count");
        let body = body_of(&req);
        assert!(body.contains("train_date=Fri+Dec+04+2026+00%3A00%3A00+GMT%2B0800+(%E4%B8%AD%E5%9B%BD%E6%A0%87%E5%87%86%E6%97%B6%E9%97%B4)"), "{body}");
        assert!(
            body.contains(
                "&leftTicket=OZR1tpi%2BCS0QS8hPbEkbAETALtfyHEorcZtzKm2GfmJfMqKMr78Z3Na4iWQ%3D"
            ),
            "initDc's leftTicketStr as given: {body}"
        );
        assert!(
            body.contains("train_location=P2")
                && body.contains("seatType=O")
                && body.contains("train_no=240000G10100")
        );
        // The intent comes before the order; nothing is sent until it is recorded.
        let step = o.feed(
            &reply(
                &otn(json!({"count": "0", "ticket": "20,0", "op_2": "false"})),
                now,
            ),
            now,
        );
        let OrderStep::RecordIntent { data } = step else {
            panic!("{step:?}")
        };
        assert_eq!(data["train"], "G1");
        assert!(
            !data.to_string().contains("1101011990"),
            "no ID numbers in the intent: {data}"
        );
        let (req, p) = s(&o.intent_recorded());
        assert_eq!(p, "confirm_single_for_queue");
        let body = body_of(&req);
        assert!(body.contains(
            "key_check_isChange=8826E8156DC5DFA8352ECDEF23F70EB4B71710F26D47E691207507E7"
        ));
        assert!(body.ends_with(
            "&leftTicketStr=OZR1tpi%2BCS0QS8hPbEkbAETALtfyHEorcZtzKm2GfmJfMqKMr78Z3Na4iWQ%3D"
        ));
        let step = o.feed(&reply(&otn(json!({"submitStatus": true})), now), now);
        assert_eq!(step, OrderStep::Wait { ms: 0 });
        let (_, p) = s(&o.tick(now));
        assert_eq!(p, "query_order_wait_time");
        let step = o.feed(
            &reply(
                &otn(json!({"waitTime": 4, "orderId": null, "count": 3})),
                now,
            ),
            now,
        );
        assert_eq!(step, OrderStep::Wait { ms: 1000 });
        s(&o.tick(now));
        let (req, p) = s(&o.feed(
            &reply(&otn(json!({"waitTime": -1, "orderId": "EG03339181"})), now),
            now,
        ));
        assert_eq!(p, "result_order_for_dc_queue");
        assert!(body_of(&req).contains("orderSequence_no=EG03339181"));
        let (_, p) = s(&o.feed(&reply(&otn(json!({"submitStatus": true})), now), now));
        assert_eq!(p, "query_my_order_no_complete");
        let OrderStep::Done(OrderEnd::Booked {
            order_id,
            message,
            pay_by_ms,
        }) = o.feed(&reply(NO_COMPLETE, now), now)
        else {
            panic!()
        };
        assert_eq!(order_id, "EG03339181");
        assert_eq!(
            pay_by_ms,
            bj("2026-12-03 09:45:00"),
            "30 minutes after the order"
        );
        assert!(message.contains("by 09:45 Beijing time"), "{message}");
    }

    #[test]
    fn a_queue_without_an_answer_is_unknown_and_refusals_before_the_order_are_retried() {
        let site = Site::new("https://kyfw.example");
        let plan = OrderPlan {
            date: Date::parse("2026-12-04").unwrap(),
            today: Date::parse("2026-12-03").unwrap(),
            row: g1(),
            seat: "O".into(),
            from_name: "北京南".into(),
            to_name: "上海虹桥".into(),
            passengers: vec![],
            count: 1,
            queue_poll_ms: 1000,
            queue_max_polls: 2,
        };
        let now = bj("2026-12-03 09:15:00");
        // Sold out between the query and the order: no order, try again later.
        let (mut o, _) = Order::start(site.clone(), plan.clone(), 1);
        o.feed(&reply(&otn(json!({"flag": true})), now), now);
        let step = o.feed(
            &reply(
                r#"{"status":false,"messages":["车票信息已过期，请重新查询最新车票信息"]}"#,
                now,
            ),
            now,
        );
        let OrderStep::Done(OrderEnd::NotMade {
            retry: true,
            intent: false,
            message,
        }) = step
        else {
            panic!("{step:?}")
        };
        assert!(message.contains("车票信息已过期"));
        // A passenger not on the account: the watch must change, not retry.
        let mut named = plan.clone();
        named.passengers = vec!["王五".into()];
        let (mut o, _) = Order::start(site.clone(), named, 1);
        o.feed(&reply(&otn(json!({"flag": true})), now), now);
        o.feed(&reply(&otn(json!("N")), now), now);
        o.feed(&reply(INIT_DC, now), now);
        let step = o.feed(&reply(PASSENGERS, now), now);
        let OrderStep::Done(OrderEnd::NotMade { retry: false, .. }) = step else {
            panic!("{step:?}")
        };
        // The queue never answers: unknown, never booked.
        let (mut o, _) = Order::start(site, plan, 1);
        o.feed(&reply(&otn(json!({"flag": true})), now), now);
        o.feed(&reply(&otn(json!("N")), now), now);
        o.feed(&reply(INIT_DC, now), now);
        o.feed(&reply(PASSENGERS, now), now);
        o.feed(
            &reply(
                &otn(json!({"ifShowPassCode": "Y", "submitStatus": true})),
                now,
            ),
            now,
        );
        // ifShowPassCode Y: the picture first.
        let step = o.feed(
            &HttpResponse::new(200, b"\x89PNG\r\n\x1a\nfake".to_vec()),
            now,
        );
        assert!(matches!(step, OrderStep::Captcha { .. }), "{step:?}");
        let step = o.answer(&haoyuan_core::protocol::CaptchaAnswer {
            tiles: vec![1, 4],
            points: vec![],
        });
        let OrderStep::Send { request, .. } = step else {
            panic!()
        };
        assert!(body_of(&request).contains("randCode=110%2C38%2C38%2C110"));
        o.feed(
            &reply(&otn(json!({"result": "1", "msg": "randCodeRight"})), now),
            now,
        );
        o.feed(
            &reply(&otn(json!({"count": "0", "op_2": "false"})), now),
            now,
        );
        let OrderStep::Send { request, .. } = o.intent_recorded() else {
            panic!()
        };
        assert!(
            body_of(&request).contains("randCode=110%2C38%2C38%2C110"),
            "the captcha answer goes with the order"
        );
        o.feed(&reply(&otn(json!({"submitStatus": true})), now), now);
        for _ in 0..2 {
            o.tick(now);
            let step = o.feed(&reply(&otn(json!({"waitTime": -100})), now), now);
            if let OrderStep::Done(end) = step {
                let OrderEnd::Unknown { message } = end else {
                    panic!("{end:?}")
                };
                assert!(message.contains("check your unpaid orders"));
                return;
            }
        }
        panic!("the queue was polled past its cap");
    }

    #[test]
    fn unfinished_orders_settle_a_booking_whose_end_was_lost() {
        let found = reconcile(&reply(NO_COMPLETE, 0), "G1", "2026-12-04");
        let Reconciled::Booked {
            order_id,
            pay_by_ms,
            ..
        } = found
        else {
            panic!("{found:?}")
        };
        assert_eq!(
            (order_id.as_str(), pay_by_ms),
            ("EG03339181", bj("2026-12-03 09:45:00"))
        );
        assert!(matches!(
            reconcile(&reply(NO_COMPLETE, 0), "G3", "2026-12-04"),
            Reconciled::Unknown { .. }
        ));
        let queued = otn(
            json!({"orderCacheDTO": {"status": 1, "stationTrainCode": "G1"}, "to_page": "cache"}),
        );
        assert!(matches!(
            reconcile(&reply(&queued, 0), "G1", "2026-12-04"),
            Reconciled::Unknown { .. }
        ));
        let out = r#"{"status":false,"messages":["用户未登录"],"url":"/leftTicket/init"}"#;
        assert_eq!(
            reconcile(&reply(out, 0), "G1", "2026-12-04"),
            Reconciled::NotLoggedIn
        );
        assert!(matches!(
            reconcile(&reply("<html>", 0), "G1", "2026-12-04"),
            Reconciled::Unknown { .. }
        ));
    }
}
