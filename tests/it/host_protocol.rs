//! The built `haoyuan-host` spoken to over raw frames, as a browser would: handshake,
//! the watch commands, every kind of bad input, EOF, persistence across processes, and
//! a database it cannot use.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

const HOST: &str = env!("CARGO_BIN_EXE_haoyuan-host");
const WAIT: Duration = Duration::from_secs(20);

/// One host process with a reader thread collecting its stdout frames.
pub struct HostProc {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Result<Value, String>>,
}

impl HostProc {
    pub fn start(home: &Path, args: &[&str]) -> HostProc {
        let mut child = Command::new(HOST)
            .args(args)
            .env("HAOYUAN_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn haoyuan-host");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut header = [0u8; 4];
            match stdout.read_exact(&mut header) {
                Ok(()) => {}
                Err(_) => {
                    // EOF: everything on stdout must have been whole frames.
                    let mut rest = Vec::new();
                    let _ = stdout.read_to_end(&mut rest);
                    if !rest.is_empty() {
                        let _ = tx.send(Err(format!("{} stray bytes on stdout", rest.len())));
                    }
                    return;
                }
            }
            let len = u32::from_ne_bytes(header) as usize;
            let mut body = vec![0u8; len];
            if stdout.read_exact(&mut body).is_err() {
                let _ = tx.send(Err("stdout ended inside a frame".into()));
                return;
            }
            let parsed = String::from_utf8(body)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{e}: {t}")));
            if tx.send(parsed).is_err() {
                return;
            }
        });
        HostProc {
            child,
            stdin,
            frames,
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, msg: Value) {
        self.send_raw(&frame(msg.to_string().as_bytes()));
    }

    pub fn recv(&mut self) -> Value {
        self.frames
            .recv_timeout(WAIT)
            .expect("no frame from the host")
            .expect("bad frame from the host")
    }

    /// Sends a request and returns its reply, collecting events sent before it (a
    /// handler's own events, e.g. 浙里办 changes stored during `zlb_sync`, go out as
    /// they happen) and after it.
    pub fn call(&mut self, id: u64, cmd: &str, params: Value) -> (Value, Vec<Value>) {
        self.send(json!({"id": id, "cmd": cmd, "params": params}));
        let mut events = Vec::new();
        let mut reply = self.recv();
        while reply.get("event").is_some() && reply.get("id").is_none() {
            events.push(reply);
            reply = self.recv();
        }
        assert_eq!(reply["id"], id, "reply to the wrong request: {reply}");
        while let Ok(Ok(ev)) = self.frames.recv_timeout(Duration::from_millis(150)) {
            assert!(ev.get("event").is_some(), "unexpected frame {ev}");
            events.push(ev);
        }
        (reply, events)
    }

    pub fn ok(&mut self, id: u64, cmd: &str, params: Value) -> Value {
        let (reply, _) = self.call(id, cmd, params);
        assert_eq!(reply["ok"], true, "{cmd} failed: {reply}");
        reply["data"].clone()
    }

    /// Closes stdin and waits for the exit status, checking stdout held only frames.
    pub fn finish(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let status = wait_timeout(&mut self.child);
        while let Ok(f) = self.frames.recv_timeout(Duration::from_millis(200)) {
            f.expect("stdout must carry only frames");
        }
        status
    }
}

impl Drop for HostProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_timeout(child: &mut Child) -> ExitStatus {
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the host did not exit after EOF");
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

pub fn watch(label: &str) -> Value {
    json!({
        "label": label,
        "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "200039602", "second_dept_code": "200039608",
                   "hos_name": "北京协和医院", "dept_name": "眼科"},
        "window": {"start": "2026-11-27", "end": "2099-12-31"},
        "interval": {"seconds": 60}
    })
}

/// The window above must stay within the allowed length whatever today is.
pub fn fit_window(mut w: Value) -> Value {
    let today = haoyuan_core::date::Date::from_unix_ms(haoyuan_host::dispatch::now_ms(), 480);
    let end = haoyuan_core::date::Date::from_days(today.to_days() + 30);
    w["window"] = json!({"start": today.to_string(), "end": end.to_string()});
    w
}

#[test]
fn hello_answers_protocol_version_and_data_dir() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let data = h.ok(1, "hello", json!({}));
    assert_eq!(data["protocol"], haoyuan_core::protocol::PROTOCOL_MAJOR);
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(data["data_dir"], home.path().display().to_string());
    assert!(data.get("store_error").is_none(), "{data}");
    assert!(h.finish().success());
    assert!(home.path().join("haoyuan.sqlite3").exists());
    assert!(home.path().join("host.log").exists());
}

#[test]
fn browser_launch_arguments_serve_too() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["chrome-extension://jejbhckhgfhcpjnpjddldnoenganfcjp/"],
        vec!["/tmp/org.haoyuan.host.json", "haoyuan@haoyuan.org"],
    ] {
        let mut h = HostProc::start(home.path(), &args);
        assert_eq!(h.ok(1, "hello", json!({}))["protocol"], 1);
        assert!(h.finish().success());
    }
}

#[test]
fn watch_put_list_get_delete_and_history() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    h.ok(1, "hello", json!({}));

    let (reply, events) = h.call(
        2,
        "watch_put",
        json!({"watch": fit_window(watch("协和眼科"))}),
    );
    assert_eq!(reply["ok"], true, "{reply}");
    let stored = reply["data"].clone();
    let id = stored["id"].as_str().unwrap().to_string();
    assert!(!id.is_empty());
    assert!(stored["created_at"].as_i64().unwrap() > 0);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "watch_event");
    assert_eq!(events[0]["data"]["kind"], "created");
    assert_eq!(events[0]["data"]["watch_id"], id.as_str());

    let mut second = fit_window(watch("second"));
    second["target"]["platform"] = json!("pati");
    second["target"] = json!({"platform": "pati", "dept_id": "D01", "account": "13812345678"});
    let id2 = h.ok(3, "watch_put", json!({"watch": second}))["id"]
        .as_str()
        .unwrap()
        .to_string();

    let page = h.ok(4, "watch_list", json!({}));
    let ids: Vec<_> = page["watches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [id.clone(), id2.clone()]);
    assert!(page.get("next").is_none());

    // Paging: one per page.
    let p1 = h.ok(5, "watch_list", json!({"limit": 1}));
    assert_eq!(p1["watches"][0]["id"], id.as_str());
    let p2 = h.ok(6, "watch_list", json!({"limit": 1, "after": p1["next"]}));
    assert_eq!(p2["watches"][0]["id"], id2.as_str());

    // Update keeps created_at.
    let mut changed = stored.clone();
    changed["label"] = json!("协和眼科 · 上午");
    let updated = h.ok(7, "watch_put", json!({"watch": changed}));
    assert_eq!(updated["created_at"], stored["created_at"]);
    assert_eq!(
        h.ok(8, "watch_get", json!({"id": id}))["label"],
        "协和眼科 · 上午"
    );

    let (reply, events) = h.call(9, "watch_delete", json!({"id": id}));
    assert_eq!(reply["data"]["id"], id.as_str());
    assert_eq!(events[0]["data"]["kind"], "deleted");
    let (reply, _) = h.call(10, "watch_get", json!({"id": id}));
    assert_eq!(reply["error"]["code"], "not_found");
    let (reply, _) = h.call(11, "watch_delete", json!({"id": id}));
    assert_eq!(reply["error"]["code"], "not_found");

    // History outlives the watch, newest first.
    let hist = h.ok(12, "history_list", json!({"watch_id": id}));
    let kinds: Vec<_> = hist["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["deleted", "updated", "created"]);
    let older = h.ok(13, "history_list", json!({"watch_id": id, "limit": 2}));
    assert_eq!(older["events"].as_array().unwrap().len(), 2);
    let rest = h.ok(
        14,
        "history_list",
        json!({"watch_id": id, "before": older["next"]}),
    );
    assert_eq!(rest["events"][0]["kind"], "created");
    assert!(h.finish().success());
}

#[test]
fn an_invalid_watch_is_refused_field_by_field_and_not_stored() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    let mut w = fit_window(watch("too fast"));
    w["interval"]["seconds"] = json!(2);
    w["window"]["end"] = json!("2020-01-01");
    let (reply, events) = h.call(1, "watch_put", json!({"watch": w}));
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["code"], "invalid_watch");
    let fields: Vec<_> = reply["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"interval.seconds".to_string())
            && fields.contains(&"window.end".to_string()),
        "{fields:?}"
    );
    assert!(events.is_empty());
    assert_eq!(h.ok(2, "watch_list", json!({}))["watches"], json!([]));
    assert!(h.finish().success());
}

#[test]
fn bad_input_gets_error_replies_and_the_host_keeps_serving() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);

    h.send_raw(&frame(b"{\"id\": 1, \"cmd\": "));
    let r = h.recv();
    assert_eq!(
        (r["id"].clone(), r["ok"].clone(), r["error"]["code"].clone()),
        (json!(null), json!(false), json!("bad_json"))
    );

    let (r, _) = h.call(2, "launch_rockets", json!({}));
    assert_eq!(r["error"]["code"], "unknown_command");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("launch_rockets"));

    let (r, _) = h.call(3, "watch_get", json!({"wrong": true}));
    assert_eq!(r["error"]["code"], "bad_params");

    h.send_raw(&frame(&[0xff, 0xfe]));
    assert_eq!(h.recv()["error"]["code"], "bad_frame");

    h.send_raw(&frame(b""));
    assert_eq!(h.recv()["error"]["code"], "bad_json");

    // Over 64 MiB: refused, skipped, and the stream stays in step.
    let len = haoyuan_core::protocol::MAX_REQUEST_BYTES + 1;
    let mut big = (len as u32).to_ne_bytes().to_vec();
    big.resize(4 + len, b' ');
    h.send_raw(&big);
    let r = h.recv();
    assert_eq!(r["error"]["code"], "frame_too_large");
    assert_eq!(r["id"], json!(null));

    assert_eq!(h.ok(4, "hello", json!({}))["protocol"], 1);
    assert!(h.finish().success());
}

#[test]
fn an_absurd_length_is_refused_without_waiting_for_it() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    // Claims 4 GiB, then the browser goes away: one error reply, then a clean exit.
    h.send_raw(&u32::MAX.to_ne_bytes());
    drop(h.stdin.take());
    assert_eq!(h.recv()["error"]["code"], "frame_too_large");
    assert!(h.finish().success());
}

#[test]
fn eof_ends_with_status_zero_even_mid_frame() {
    let home = tempfile::tempdir().unwrap();
    let h = HostProc::start(home.path(), &[]);
    assert_eq!(h.finish().code(), Some(0));
    let mut h = HostProc::start(home.path(), &[]);
    h.send_raw(&[10, 0, 0]);
    assert_eq!(h.finish().code(), Some(0));
}

#[test]
fn watches_persist_across_host_processes() {
    let home = tempfile::tempdir().unwrap();
    let mut first = HostProc::start(home.path(), &[]);
    let id = first.ok(1, "watch_put", json!({"watch": fit_window(watch("kept"))}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.finish().success());

    let mut second = HostProc::start(home.path(), &[]);
    let got = second.ok(1, "watch_get", json!({"id": id}));
    assert_eq!(got["label"], "kept");
    assert_eq!(
        second.ok(2, "watch_list", json!({}))["watches"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(second.finish().success());
}

#[test]
fn a_database_it_cannot_use_is_reported_in_plain_words() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("haoyuan.sqlite3");
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&db, &garbage).unwrap();

    let mut h = HostProc::start(home.path(), &[]);
    let hello = h.ok(1, "hello", json!({}));
    assert_eq!(hello["store_error"]["code"], "store_corrupt", "{hello}");
    assert!(hello["store_error"]["message"]
        .as_str()
        .unwrap()
        .contains("haoyuan.sqlite3"));
    let (r, _) = h.call(2, "watch_list", json!({}));
    assert_eq!(r["error"]["code"], "store_corrupt");
    assert!(h.finish().success());
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "a damaged database must never be overwritten"
    );

    // Folder in the way of the data dir: unwritable, said so, host still serves.
    let blocked = tempfile::tempdir().unwrap();
    let file = blocked.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let mut h = HostProc::start(&file.join("home"), &[]);
    let hello = h.ok(1, "hello", json!({}));
    assert_eq!(hello["store_error"]["code"], "store_unwritable", "{hello}");
    assert!(h.finish().success());
}

#[test]
fn a_locked_database_is_reported_and_recovered_from_without_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    h.ok(1, "hello", json!({}));

    // Another program takes the write lock.
    let other = rusqlite::Connection::open(home.path().join("haoyuan.sqlite3")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (r, _) = h.call(
        2,
        "watch_put",
        json!({"watch": fit_window(watch("blocked"))}),
    );
    assert_eq!(r["error"]["code"], "store_locked", "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("locked"));

    // Released: the same host process saves the watch.
    other.execute_batch("COMMIT").unwrap();
    drop(other);
    let saved = h.ok(
        3,
        "watch_put",
        json!({"watch": fit_window(watch("after the lock"))}),
    );
    assert_eq!(
        h.ok(4, "watch_list", json!({}))["watches"][0]["id"],
        saved["id"]
    );
    assert_eq!(
        h.ok(5, "watch_list", json!({}))["watches"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the refused watch must not appear"
    );
    assert!(h.finish().success());
}

/// A valid adult for `patient_put`.
pub fn patient_json(name: &str) -> Value {
    json!({"name": name, "id_type": "resident_id", "id_number": "411423199001012113",
           "birthday": "1990-01-01", "sex": "male", "phone": "13812345678",
           "card_no": "C000123456"})
}

/// Every file under `dir` but the database (and its WAL and shared-memory files).
fn files_besides_the_database(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_besides_the_database(&path));
        } else if !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("haoyuan.sqlite3"))
        {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_patient_book_is_kept_checked_and_only_shown_masked() {
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::start(home.path(), &[]);
    // A mistyped ID number: refused field by field, nothing stored.
    let mut bad = patient_json("张三明");
    bad["id_number"] = json!("411423199001012114");
    bad["birthday"] = json!("2999-01-01");
    let (reply, _) = h.call(1, "patient_put", json!({"patient": bad}));
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["error"]["code"], "invalid_patient");
    let fields: Vec<&str> = reply["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id_number", "birthday"], "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not match"));
    // Wrong shapes are bad_params.
    let (reply, _) = h.call(2, "patient_put", json!({"patient": {"name": "x"}}));
    assert_eq!(reply["error"]["code"], "bad_params");

    let saved = h.ok(
        3,
        "patient_put",
        json!({"patient": patient_json(" 张三明 ")}),
    );
    let view = &saved["patient"];
    let id = view["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("p-"), "{saved}");
    assert_eq!(view["name"], "张*明");
    assert_eq!(view["id_number"], "411***********2113");
    assert_eq!(view["phone"], "138****5678");
    assert_eq!(view["card_no"], "******3456");
    assert_eq!(view["birth_year"], 1990);
    assert_eq!(view["has_guardian"], false);
    // A minor needs a guardian.
    let mut child = patient_json("王小明");
    child["id_number"] = json!("110105201506010016");
    child["birthday"] = json!("2015-06-01");
    let (reply, _) = h.call(4, "patient_put", json!({"patient": child.clone()}));
    assert_eq!(reply["error"]["fields"][0]["field"], "guardian", "{reply}");
    child["guardian"] = json!({"name": "王大明", "id_number": "411423199001012113",
        "phone": "13912345678", "sex": "male", "birthday": "1990-01-01", "relation": "父亲"});
    let kid = h.ok(5, "patient_put", json!({"patient": child}));
    assert_eq!(kid["patient"]["has_guardian"], true, "{kid}");

    let list = h.ok(6, "patient_list", json!({}));
    let patients = list["patients"].as_array().unwrap();
    assert_eq!(patients.len(), 2);
    assert_eq!(patients[0]["id"], id.as_str());
    let text = list.to_string();
    for secret in [
        "411423199001012113",
        "13812345678",
        "13912345678",
        "张三明",
        "1990-01-01",
    ] {
        assert!(!text.contains(secret), "{secret} shown in {text}");
    }

    assert_eq!(
        h.ok(7, "patient_delete", json!({"id": id}))["id"],
        id.as_str()
    );
    let (reply, _) = h.call(8, "patient_delete", json!({"id": id}));
    assert_eq!(reply["error"]["code"], "not_found");
    assert_eq!(
        h.ok(9, "patient_list", json!({}))["patients"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(h.finish().success());
}

#[test]
fn site_account_secrets_live_only_in_the_database() {
    let home = tempfile::tempdir().unwrap();
    let token = "app-token-5ecret-91160";
    let password = "pati-pa55word-secret";
    let mut h = HostProc::start(home.path(), &[]);
    let saved = h.ok(
        1,
        "site_account_put",
        json!({"platform": "91160", "account": "me", "secret": {"app_token": token}}),
    );
    assert_eq!(
        saved["account"],
        json!({"platform": "91160", "account": "me", "base_url": "", "has_secret": true,
               "signed_in": false, "updated_at": saved["account"]["updated_at"]})
    );
    // pati: the phone is the account, the hospital's server is required.
    let (reply, _) = h.call(
        2,
        "site_account_put",
        json!({"platform": "pati", "account": "13812345678", "secret": {"password": password}}),
    );
    assert_eq!(reply["error"]["code"], "bad_params", "{reply}");
    assert!(!reply.to_string().contains(password));
    let (reply, _) = h.call(
        3,
        "site_account_put",
        json!({"platform": "pati", "account": "13812345678", "base_url": "ftp://x",
               "secret": {"password": password}}),
    );
    assert_eq!(reply["error"]["code"], "bad_params", "{reply}");
    let (reply, _) = h.call(
        4,
        "site_account_put",
        json!({"platform": "114yygh", "account": "a", "secret": {}}),
    );
    assert_eq!(reply["error"]["code"], "bad_params", "{reply}");
    let (reply, _) = h.call(
        5,
        "site_account_put",
        json!({"platform": "91160", "account": "me", "secret": {"password": token}}),
    );
    assert_eq!(reply["error"]["code"], "bad_params", "{reply}");
    assert!(!reply.to_string().contains(token));
    let pati = h.ok(
        6,
        "site_account_put",
        json!({"platform": "pati", "account": "13812345678", "base_url": "http://127.0.0.1:9/",
               "secret": {"password": password}}),
    );
    assert_eq!(pati["account"]["account"], "138****5678");
    assert_eq!(pati["account"]["base_url"], "http://127.0.0.1:9");
    // A blank secret keeps the stored one.
    let again = h.ok(
        7,
        "site_account_put",
        json!({"platform": "91160", "account": "me", "secret": {"app_token": ""}}),
    );
    assert_eq!(again["account"]["has_secret"], true);

    let all = h.ok(8, "site_accounts", json!({}));
    let accounts = all["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{all}");
    assert!(accounts.iter().all(|a| a["has_secret"] == true));
    let only = h.ok(9, "site_accounts", json!({"platform": "pati"}));
    assert_eq!(only["accounts"].as_array().unwrap().len(), 1);
    let (reply, _) = h.call(10, "site_accounts", json!({"platform": "12306"}));
    assert_eq!(reply["error"]["code"], "bad_params");
    for text in [all.to_string(), only.to_string()] {
        assert!(!text.contains(token) && !text.contains(password), "{text}");
        assert!(!text.contains("13812345678"), "{text}");
    }
    // An unknown platform for the pickers is bad_params.
    let (reply, _) = h.call(
        11,
        "site_browse",
        json!({"platform": "nope", "account": "me", "what": "units"}),
    );
    assert_eq!(reply["error"]["code"], "bad_params");
    // The masked form names the one pati account it stands for.
    let gone = h.ok(
        12,
        "site_account_delete",
        json!({"platform": "pati", "account": "138****5678"}),
    );
    assert_eq!(gone, json!({"platform": "pati", "account": "138****5678"}));
    let (reply, _) = h.call(
        13,
        "site_account_delete",
        json!({"platform": "pati", "account": "13812345678"}),
    );
    assert_eq!(reply["error"]["code"], "not_found");
    assert!(h.finish().success());

    // The database holds the token; no other file (the log included) does.
    let db = rusqlite::Connection::open(home.path().join("haoyuan.sqlite3")).unwrap();
    let stored: String = db
        .query_row(
            "SELECT secret FROM site_accounts WHERE platform = '91160' AND account = 'me'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        json!({"app_token": token})
    );
    let others = files_besides_the_database(home.path());
    assert!(
        others.iter().any(|(p, _)| p.ends_with("host.log")),
        "no log"
    );
    for (path, bytes) in others {
        assert!(
            !contains(&bytes, token) && !contains(&bytes, password),
            "a secret in {}",
            path.display()
        );
    }
}
