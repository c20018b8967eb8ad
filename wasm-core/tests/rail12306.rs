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
