//! The host's command line for watches and history (`haoyuan-host watch …`,
//! `haoyuan-host history …`), run as a person would, on the same database a
//! browser-launched host uses.

use crate::host_protocol::HostProc;
use haoyuan_core::date::Date;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const HOST: &str = env!("CARGO_BIN_EXE_haoyuan-host");

/// Runs the host with `args` and `HAOYUAN_HOME=home`, feeding `stdin`.
fn run_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(HOST)
        .args(args)
        .env("HAOYUAN_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn haoyuan-host");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn run(home: &Path, args: &[&str]) -> Output {
    run_with_stdin(home, args, "")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(home: &Path, args: &[&str]) -> String {
    let o = run(home, args);
    assert!(
        o.status.success(),
        "{args:?} failed ({:?}): {}",
        o.status,
        stderr(&o)
    );
    stdout(&o)
}

/// JSON lines of stdout.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Today in China, and `n` days after it, as `YYYY-MM-DD`.
fn day(n: i64) -> String {
    let today = Date::from_unix_ms(haoyuan_host::dispatch::now_ms(), 480);
    today.add_days(n).to_string()
}

/// Adds a plain 12306 watch; returns its id.
fn add(home: &Path, from: &str, to: &str, label: &str) -> String {
    let end = day(10);
    let out = ok(
        home,
        &[
            "watch", "add", "--from", from, "--to", to, "--end", &end, "--label", label,
        ],
    );
    id_of(&out)
}

/// The watch id `watch add` printed first.
fn id_of(out: &str) -> String {
    let id = out.split_whitespace().next().unwrap_or("").to_string();
    assert!(id.starts_with("w-"), "no watch id in {out:?}");
    id
}

fn list(home: &Path) -> Vec<Value> {
    json_lines(&ok(home, &["watch", "list", "--json"]))
}

#[test]
fn a_rail_watch_from_flags_reads_back_field_for_field() {
    let home = tempfile::tempdir().unwrap();
    let (start, end, d1, d2) = (day(1), day(20), day(3), day(4));
    let dates = format!("{d1},{d2}");
    let out = ok(
        home.path(),
        &[
            "watch",
            "add",
            "--from",
            "VNP",
            "--to",
            "AOH",
            "--from-name",
            "北京南",
            "--to-name",
            "上海虹桥",
            "--start",
            &start,
            "--end",
            &end,
            "--dates",
            &dates,
            "--trains",
            "G1,G3",
            "--exclude",
            "G5",
            "--seats",
            "O,M",
            "--after",
            "07:00",
            "--before=12:30",
            "--account",
            "alice",
            "--passengers",
            "张三,李四",
            "--allow-fewer",
            "--no-sale-burst",
            "--more-pair",
            "BJP:SHH",
            "--more-pair",
            "BXP:AOH",
            "--mode",
            "book",
            "--interval",
            "45",
            "--jitter",
            "30",
            "--label",
            "回家",
        ],
    );
    let id = id_of(&out);
    assert!(out.contains("12306 · 北京南 → 上海虹桥"), "{out}");

    let watches = list(home.path());
    assert_eq!(watches.len(), 1, "{watches:?}");
    let w = &watches[0];
    assert_eq!(w["id"], id.as_str());
    assert_eq!(w["label"], "回家");
    assert_eq!(
        w["target"],
        json!({
            "platform": "12306",
            "from_station": "VNP",
            "to_station": "AOH",
            "from_name": "北京南",
            "to_name": "上海虹桥",
            "trains": ["G1", "G3"],
            "seat_types": ["O", "M"],
            "more_pairs": [{"from": "BJP", "to": "SHH"}, {"from": "BXP", "to": "AOH"}],
            "dates": [d1, d2],
            "exclude_trains": ["G5"],
            "depart_after": "07:00",
            "depart_before": "12:30",
            "account": "alice",
            "passengers": ["张三", "李四"],
            "allow_fewer": true,
            "sale_burst": false,
        })
    );
    assert_eq!(w["window"], json!({"start": start, "end": end}));
    assert_eq!(w["mode"], "book");
    assert_eq!(w["interval"], json!({"seconds": 45, "jitter_pct": 30}));
    assert_eq!(w["paused"], false);
    assert!(w["created_at"].as_i64().unwrap() > 0);

    // The plain list: one line with the id, the target, the window, the mode, the state.
    let text = ok(home.path(), &["watch", "list"]);
    let line = text.lines().next().unwrap();
    for part in [
        id.as_str(),
        "12306 · 北京南 → 上海虹桥",
        &format!("{start}..{end}"),
        "book",
        "active",
        "回家",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }

    // The defaults: start today in China, notify, 30 s ± 20 %, looking at sale times.
    let before = day(0);
    let out = ok(
        home.path(),
        &[
            "watch", "add", "--from", "VNP", "--to", "AOH", "--end", &end,
        ],
    );
    let after = day(0);
    let second = id_of(&out);
    let w = list(home.path())
        .into_iter()
        .find(|w| w["id"] == second.as_str())
        .unwrap();
    let start = w["window"]["start"].as_str().unwrap().to_string();
    assert!(start == before || start == after, "{w}");
    assert_eq!(w["mode"], "notify");
    assert_eq!(w["interval"], json!({"seconds": 30, "jitter_pct": 20}));
    assert_eq!(
        w["target"],
        json!({"platform": "12306", "from_station": "VNP", "to_station": "AOH",
               "trains": [], "seat_types": []})
    );
}

#[test]
fn an_invalid_add_exits_2_naming_every_field_and_stores_nothing() {
    let home = tempfile::tempdir().unwrap();
    let (start, end) = (day(5), day(2));
    let o = run(
        home.path(),
        &[
            "watch", "add", "--from", "BJ", "--to", "AOH", "--start", &start, "--end", &end,
            "--mode", "book",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for field in ["target.from_station:", "window.end:", "target.account:"] {
        assert!(err.contains(field), "{field} missing from {err}");
    }
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    // Values the flags cannot even carry are named as fields too.
    let o = run(
        home.path(),
        &[
            "watch",
            "add",
            "--from",
            "VNP",
            "--to",
            "AOH",
            "--end",
            "2026-02-30",
            "--interval",
            "5",
            "--jitter",
            "often",
            "--seats",
            "O,Z",
            "--after",
            "7 am",
            "--more-pair",
            "BJP",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for field in [
        "window.end:",
        "interval.seconds:",
        "interval.jitter_pct:",
        "target.seat_types:",
        "target.depart_after:",
        "target.more_pairs[0]:",
    ] {
        assert!(err.contains(field), "{field} missing from {err}");
    }

    // Bad flags: the usage, exit 2.
    for args in [
        &["watch", "add", "--from", "VNP", "--to", "AOH"][..],
        &[
            "watch", "add", "--from", "VNP", "--to", "AOH", "--end", &end, "--colour", "red",
        ],
        &["watch", "add", "--from", "VNP", "--from", "VNP"],
        &["watch", "add", "--json", "-", "--from", "VNP"],
        &["watch", "frobnicate"],
        &["watch"],
        &["watch", "rm"],
        &["history", "--limit", "0"],
    ] {
        let o = run(home.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("Usage:"), "{args:?}: {}", stderr(&o));
    }

    // A watch JSON that is not valid is refused the same way.
    let bad = json!({
        "target": {"platform": "114yygh", "hos_code": "", "first_dept_code": "a", "second_dept_code": "b"},
        "window": {"start": day(0), "end": day(1)},
        "interval": {"seconds": 5}
    });
    let o = run_with_stdin(
        home.path(),
        &["watch", "add", "--json", "-"],
        &bad.to_string(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("target.hos_code:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("interval.seconds:"), "{}", stderr(&o));
    let o = run_with_stdin(home.path(), &["watch", "add", "--json", "-"], "{not json");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not read"), "{}", stderr(&o));

    assert!(list(home.path()).is_empty());
    assert!(ok(home.path(), &["history", "--json"]).is_empty());
}

#[test]
fn a_whole_watch_as_json_is_added_for_any_platform() {
    let home = tempfile::tempdir().unwrap();
    let watch = json!({
        "label": "协和眼科",
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "200039602",
                   "second_dept_code": "200039608", "hos_name": "北京协和医院", "dept_name": "眼科"},
        "window": {"start": day(0), "end": day(7)},
        "filters": {"periods": ["morning"]},
        "interval": {"seconds": 60}
    });
    let o = run_with_stdin(
        home.path(),
        &["watch", "add", "--json", "-"],
        &watch.to_string(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let id = id_of(&stdout(&o));
    assert!(stdout(&o).contains("114 · 北京协和医院 · 眼科"));

    let file = home.path().join("pati.json");
    let pati = json!({
        "target": {"platform": "pati", "dept_id": "7", "account": "13812345678"},
        "window": {"start": day(0), "end": day(3)},
        "interval": {"seconds": 15, "jitter_pct": 10}
    });
    std::fs::write(&file, pati.to_string()).unwrap();
    let second = id_of(&ok(
        home.path(),
        &["watch", "add", "--json", file.to_str().unwrap()],
    ));

    let watches = list(home.path());
    assert_eq!(watches.len(), 2);
    assert_eq!(watches[0]["id"], id.as_str());
    assert_eq!(watches[0]["target"]["hos_name"], "北京协和医院");
    assert_eq!(watches[0]["filters"]["periods"], json!(["morning"]));
    assert_eq!(watches[1]["id"], second.as_str());
    assert_eq!(watches[1]["target"]["platform"], "pati");
}

#[test]
fn pause_resume_and_rm_record_history() {
    let home = tempfile::tempdir().unwrap();
    let id = add(home.path(), "VNP", "AOH", "home");

    let out = ok(home.path(), &["watch", "pause", &id]);
    assert!(out.contains("paused") && out.contains(&id), "{out}");
    assert_eq!(list(home.path())[0]["paused"], true);
    assert!(ok(home.path(), &["watch", "list"]).contains("paused"));
    ok(home.path(), &["watch", "resume", &id]);
    assert_eq!(list(home.path())[0]["paused"], false);
    ok(home.path(), &["watch", "rm", &id]);
    assert!(list(home.path()).is_empty());

    // The history stays, newest first, with the kinds the browser's host records.
    let events = json_lines(&ok(home.path(), &["history", &id, "--json"]));
    let kinds: Vec<_> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["deleted", "resumed", "paused", "created"]);
    assert!(events.iter().all(|e| e["watch_id"] == id.as_str()));

    let text = ok(home.path(), &["history", &id]);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    // Local time in China, the watch, the kind, the message.
    let today = day(0);
    let yesterday = day(-1);
    assert!(
        lines[0].starts_with(&today) || lines[0].starts_with(&yesterday),
        "{}",
        lines[0]
    );
    let time = &lines[0][11..19];
    assert!(
        time.len() == 8 && time.as_bytes()[2] == b':' && time.as_bytes()[5] == b':',
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(&id) && lines[0].contains("deleted"));
    assert!(lines[3].contains("created") && lines[3].contains("Watch created"));
    assert_eq!(
        ok(home.path(), &["history", &id, "--limit", "1", "--json"])
            .lines()
            .count(),
        1
    );

    // An unknown (or already deleted) watch: a plain message, exit 1.
    for verb in ["rm", "pause", "resume"] {
        let o = run(home.path(), &["watch", verb, &id]);
        assert_eq!(o.status.code(), Some(1), "{verb}");
        assert!(
            stderr(&o).contains(&format!("there is no watch “{id}”")),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("Usage:"));
    }
    let o = run(home.path(), &["history", "w-nosuchwatch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("there is no watch"), "{}", stderr(&o));
}

#[test]
fn history_without_an_id_merges_every_watch_newest_first() {
    let home = tempfile::tempdir().unwrap();
    let a = add(home.path(), "VNP", "AOH", "a");
    let b = add(home.path(), "BJP", "SHH", "b");
    ok(home.path(), &["watch", "pause", &a]);
    ok(home.path(), &["watch", "rm", &b]);

    let events = json_lines(&ok(home.path(), &["history", "--json"]));
    let seen: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["watch_id"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (b.clone(), "deleted"),
        (a.clone(), "paused"),
        (b.clone(), "created"),
        (a.clone(), "created"),
    ];
    assert_eq!(seen, want.map(|(id, k)| (id, k.to_string())), "{events:?}");
    let seqs: Vec<_> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    let text = ok(home.path(), &["history", "--limit", "3"]);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains(&b) && lines[0].contains("deleted"));
    assert!(lines[1].contains(&a) && lines[1].contains("paused"));
}

#[test]
fn a_watch_added_on_the_command_line_is_seen_by_the_browsers_host() {
    let home = tempfile::tempdir().unwrap();
    // The browser's host is running, its database open, while the command line works.
    let mut h = HostProc::start(home.path(), &[]);
    h.ok(1, "hello", json!({}));
    let id = add(home.path(), "VNP", "AOH", "from the terminal");

    let page = h.ok(2, "watch_list", json!({}));
    let watches = page["watches"].as_array().unwrap();
    assert_eq!(watches.len(), 1, "{page}");
    assert_eq!(watches[0]["id"], id.as_str());
    assert_eq!(watches[0]["label"], "from the terminal");
    assert_eq!(watches[0]["target"]["platform"], "12306");
    let history = h.ok(3, "history_list", json!({"watch_id": id}));
    assert_eq!(history["events"][0]["kind"], "created");

    // And the other way: what the browser does shows on the command line.
    h.ok(4, "watch_pause", json!({"id": id, "paused": true}));
    assert_eq!(list(home.path())[0]["paused"], true);
    ok(home.path(), &["watch", "resume", &id]);
    assert_eq!(h.ok(5, "watch_get", json!({"id": id}))["paused"], false);
    assert!(h.finish().success());
}

#[test]
fn a_database_it_cannot_use_is_told_in_plain_words_with_exit_1() {
    // Damaged: said so, and the file is left as it was.
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("haoyuan.sqlite3");
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&db, &garbage).unwrap();
    for args in [
        &["watch", "list"][..],
        &["history"],
        &["watch", "rm", "w-1"],
    ] {
        let o = run(home.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains("is damaged or is not a Haoyuan database"),
            "{err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Usage:"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), garbage);

    // Locked by another program while a watch is added.
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["watch", "list"]);
    let other = rusqlite::Connection::open(home.path().join("haoyuan.sqlite3")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let end = day(3);
    let o = run(
        home.path(),
        &[
            "watch", "add", "--from", "VNP", "--to", "AOH", "--end", &end,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    other.execute_batch("COMMIT").unwrap();
    drop(other);
    assert!(list(home.path()).is_empty());
}

#[test]
fn the_help_lists_every_command() {
    let home = tempfile::tempdir().unwrap();
    let help = ok(home.path(), &["--help"]);
    for command in [
        "haoyuan-host run",
        "haoyuan-host login 12306 ACCOUNT",
        "haoyuan-host watch add --from CODE",
        "haoyuan-host watch list",
        "haoyuan-host watch rm ID",
        "haoyuan-host history [ID]",
        "haoyuan-host patient add --name N",
        "haoyuan-host patient list",
        "haoyuan-host account add 91160 NAME",
        "haoyuan-host account add pati PHONE --base URL",
        "haoyuan-host account list",
        "haoyuan-host cancel WATCH_ID --reason TEXT",
        "haoyuan-host install",
        "haoyuan-host --version",
    ] {
        assert!(help.contains(command), "{command} missing from {help}");
    }
    assert!(ok(home.path(), &["watch", "add", "--help"]).contains("--no-sale-burst"));
    assert!(ok(home.path(), &["history", "--help"]).contains("--limit N"));
}

const GOOD_ID: &str = "411423199001012113";

fn patient_args(id: &str) -> Vec<&str> {
    vec![
        "patient",
        "add",
        "--name",
        "张三明",
        "--id",
        id,
        "--birthday",
        "1990-01-01",
        "--sex",
        "male",
        "--phone",
        "13812345678",
        "--card-no",
        "C000123456",
    ]
}

#[test]
fn a_patient_with_a_mistyped_id_is_refused_with_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), &patient_args("411423199001012114"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("the patient was not saved"), "{err}");
    assert!(
        err.contains("id_number: the last character of the ID number does not match"),
        "{err}"
    );
    // Unreadable flag values are named once, by field.
    let mut args = patient_args(GOOD_ID);
    args[7] = "1990-02-30";
    args[9] = "robot";
    let o = run(home.path(), &args);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("birthday: “1990-02-30” is not a date"),
        "{err}"
    );
    assert!(err.contains("sex: “robot” is not a sex"), "{err}");
    assert_eq!(err.matches("birthday:").count(), 1, "{err}");
    // Missing flags are a usage error.
    let o = run(home.path(), &["patient", "add", "--name", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--id, --birthday, --sex, --phone"));
    let o = run(home.path(), &["patient", "list"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("(no patients)"));
}

#[test]
fn a_patient_is_listed_masked_and_its_numbers_never_printed() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), &patient_args(GOOD_ID));
    assert!(o.status.success(), "{}", stderr(&o));
    let added = stdout(&o);
    let id = added.split_whitespace().next().unwrap().to_string();
    assert!(id.starts_with("p-"), "{added}");
    let listed = ok(home.path(), &["patient", "list"]);
    assert!(
        listed.contains(&format!(
            "{id}  张*明  resident_id 411***********2113  born 1990  male  138****5678  card ******3456"
        )),
        "{listed}"
    );
    let json = ok(home.path(), &["patient", "list", "--json"]);
    assert_eq!(json_lines(&json)[0]["id_number"], "411***********2113");
    for text in [&added, &listed, &json, &stderr(&o)] {
        assert!(!text.contains(GOOD_ID), "{text}");
        assert!(!text.contains("13812345678"), "{text}");
        assert!(!text.contains("张三明"), "{text}");
    }
    // A whole patient as JSON on stdin, with a guardian for a minor.
    let child = json!({"name": "王小明", "id_number": "110105201506010016",
        "birthday": "2015-06-01", "sex": "male", "phone": "13812345678",
        "guardian": {"name": "王大明", "id_number": GOOD_ID, "phone": "13912345678",
                     "sex": "male", "birthday": "1990-01-01", "relation": "父亲"}});
    let o = run_with_stdin(
        home.path(),
        &["patient", "add", "--json", "-"],
        &child.to_string(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("guardian 王*明"), "{}", stdout(&o));
    assert_eq!(ok(home.path(), &["patient", "list"]).lines().count(), 2);
    assert_eq!(
        ok(home.path(), &["patient", "rm", &id]),
        format!("deleted {id}\n")
    );
    let o = run(home.path(), &["patient", "rm", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no patient"), "{}", stderr(&o));
    assert_eq!(ok(home.path(), &["patient", "list"]).lines().count(), 1);
}

#[test]
fn account_secrets_come_from_stdin_and_are_never_shown() {
    let home = tempfile::tempdir().unwrap();
    let token = "tok-91160-very-secret";
    let o = run_with_stdin(
        home.path(),
        &["account", "add", "91160", "me"],
        &format!("{token}\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "91160 account me saved (secret stored)\n");
    let password = "pati pass with spaces ";
    // pati needs the hospital's server.
    let o = run_with_stdin(
        home.path(),
        &["account", "add", "pati", "13812345678"],
        password,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("base_url"), "{}", stderr(&o));
    let o = run_with_stdin(
        home.path(),
        &[
            "account",
            "add",
            "pati",
            "13812345678",
            "--base",
            "http://127.0.0.1:9",
        ],
        &format!("{password}\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "pati account 138****5678 saved (secret stored)\n"
    );
    // Nothing on stdin: the stored token stays.
    assert!(run(home.path(), &["account", "add", "91160", "me"])
        .status
        .success());

    let listed = ok(home.path(), &["account", "list"]);
    assert_eq!(
        listed,
        "91160  me  secret stored  not signed in\n\
         pati  138****5678  secret stored  not signed in  http://127.0.0.1:9\n"
    );
    let json = ok(
        home.path(),
        &["account", "list", "--platform", "91160", "--json"],
    );
    assert_eq!(json_lines(&json)[0]["has_secret"], true);
    for text in [&listed, &json] {
        assert!(
            !text.contains(token) && !text.contains("pati pass"),
            "{text}"
        );
    }
    let db = rusqlite::Connection::open(home.path().join("haoyuan.sqlite3")).unwrap();
    let (secret, pati): (String, String) = db
        .query_row(
            "SELECT (SELECT secret FROM site_accounts WHERE platform = '91160'),
                    (SELECT secret FROM site_accounts WHERE platform = 'pati')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&secret).unwrap(),
        json!({"app_token": token})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&pati).unwrap(),
        json!({"password": password})
    );
    drop(db);
    let log = std::fs::read_to_string(home.path().join("host.log")).unwrap_or_default();
    assert!(!log.contains(token) && !log.contains("pati pass"), "{log}");

    assert_eq!(
        ok(home.path(), &["account", "rm", "91160", "me"]),
        "deleted 91160 account me\n"
    );
    let o = run(home.path(), &["account", "rm", "91160", "me"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(home.path(), &["account", "add", "12306", "x"]);
    assert_eq!(o.status.code(), Some(2));
    // cancel needs a reason.
    let o = run(home.path(), &["cancel", "w-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--reason"));
}
