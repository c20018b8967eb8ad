//! Webhook channels end to end: `haoyuan_host::webhook::send` delivers notices to a
//! local HTTP receiver on 127.0.0.1 that plays each service (generic webhook, Bark,
//! ServerChan, DingTalk, Feishu, Telegram), records what arrived and answers as the
//! real service does. The DingTalk and Feishu receivers check signatures themselves
//! (their own HMAC over their own copy of the secret) and refuse a wrong one with the
//! service's real error reply. Also: 429/5xx/refused connections are transient,
//! app-level refusals in a 200 body are failures, redirects are not followed, and no
//! error message holds a secret or token.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use haoyuan_core::http::HttpRequest;
use haoyuan_core::notify::render::{render, test_notice};
use haoyuan_core::notify::{Channel, ChannelSettings, DeliveryError, Lang, Notice};
use haoyuan_core::protocol::HistoryEntry;
use haoyuan_core::watch::Watch;
use haoyuan_host::webhook::{execute, execute_detailed, send};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ----------------------------------------------------------------------------------
// The receiver.

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    /// Path and query, as sent.
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self, name: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        form_value(q, name)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn form(&self, name: &str) -> Option<String> {
        form_value(std::str::from_utf8(&self.body).ok()?, name)
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A scripted reply: status, content type, body.
struct Reply(u16, &'static str, String);

impl Reply {
    fn json(status: u16, v: Value) -> Reply {
        Reply(status, "application/json", v.to_string())
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 that records every request and answers each with
/// `handler`'s reply, one request per connection. Stops when dropped.
struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, stop2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let (log3, handler) = (log2.clone(), handler.clone());
                // One thread per connection, so a slow client cannot stall the others.
                std::thread::spawn(move || serve_one(stream, &log3, &*handler));
            }
        });
        Receiver {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    fn only_request(&self) -> Recorded {
        let r = self.requests();
        assert_eq!(r.len(), 1, "exactly one request expected: {r:#?}");
        r.into_iter().next().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(stream: TcpStream, log: &Mutex<Vec<Recorded>>, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let Some(req) = read_request(&mut reader) else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    let Reply(status, content_type, body) = handler(&req);
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    if status == 302 {
        head.push_str("Location: /elsewhere\r\n");
    }
    if status != 204 {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut out = stream;
    let _ = out.write_all(head.as_bytes());
    if status != 204 {
        let _ = out.write_all(body.as_bytes());
    }
    let _ = out.flush();
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = find("content-length") {
        let len: usize = len.parse().ok()?;
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    } else if find("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form_value(q: &str, name: &str) -> Option<String> {
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

// ----------------------------------------------------------------------------------
// The services' rules, written here independently of the code under test.

fn hmac_sha256_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const DING_TOKEN: &str = "ding-access-token-7f3a9c";
const DING_SECRET: &str = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const DING_SIGN_MISMATCH: &str = r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#;

/// DingTalk's group robot: `POST /robot/send?access_token=…[&timestamp=…&sign=…]`.
/// A robot with signing on accepts only `sign = base64(HMAC-SHA256(secret,
/// timestamp + "\n" + secret))` with a timestamp (ms) within an hour.
fn dingtalk(r: &Recorded) -> Reply {
    if r.method != "POST" || r.path() != "/robot/send" {
        return Reply::json(
            404,
            json!({"errcode": 404, "errmsg": "请求的URI地址不存在"}),
        );
    }
    if r.query("access_token").as_deref() != Some(DING_TOKEN) {
        return Reply::json(
            200,
            json!({"errcode": 300001, "errmsg": "token is not exist"}),
        );
    }
    let (Some(ts), Some(sign)) = (r.query("timestamp"), r.query("sign")) else {
        return Reply(200, "application/json", DING_SIGN_MISMATCH.into());
    };
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| (now_ms() - t).abs() < 3_600_000);
    let want = hmac_sha256_b64(
        DING_SECRET.as_bytes(),
        format!("{ts}\n{DING_SECRET}").as_bytes(),
    );
    if !fresh || sign != want {
        return Reply(200, "application/json", DING_SIGN_MISMATCH.into());
    }
    let v = r.json();
    if v["msgtype"] != "text" || !v["text"]["content"].is_string() {
        return Reply::json(200, json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    }
    Reply::json(200, json!({"errcode": 0, "errmsg": "ok"}))
}

const FEISHU_HOOK: &str = "/open-apis/bot/v2/hook/0d8a5b9e-33c1-4f55-9a0e-feishu00000001";
const FEISHU_SECRET: &str = "feishuSigningSecret9Q";

/// Feishu's custom bot: `POST /open-apis/bot/v2/hook/<id>` with `timestamp` (s) and
/// `sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, msg = ""))` in the body.
fn feishu(r: &Recorded) -> Reply {
    if r.method != "POST" || r.path() != FEISHU_HOOK {
        return Reply::json(
            404,
            json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}),
        );
    }
    let v = r.json();
    let ts = v["timestamp"].as_str().unwrap_or("");
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| (now_ms() / 1000 - t).abs() < 3600);
    let want = hmac_sha256_b64(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"");
    if !fresh || v["sign"].as_str() != Some(want.as_str()) {
        return Reply::json(
            200,
            json!({"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}),
        );
    }
    if v["msg_type"] != "text" || !v["content"]["text"].is_string() {
        return Reply::json(200, json!({"code": 9499, "data": {}, "msg": "Bad Request"}));
    }
    Reply::json(200, json!({"code": 0, "data": {}, "msg": "success"}))
}

const BARK_KEY: &str = "BarkDeviceKey8KZ2";

/// bark-server API v2: `POST /push` with JSON; an unknown key is a 400 that echoes it.
fn bark(r: &Recorded) -> Reply {
    if r.method != "POST" || r.path() != "/push" {
        return Reply::json(404, json!({"code": 404, "message": "not found"}));
    }
    let v = r.json();
    let key = v["device_key"].as_str().unwrap_or("");
    if key != BARK_KEY {
        return Reply::json(
            400,
            json!({"code": 400, "message": format!("failed to get device token: failed to get [{key}] device token from database"), "timestamp": now_ms() / 1000}),
        );
    }
    Reply::json(
        200,
        json!({"code": 200, "message": "success", "timestamp": now_ms() / 1000}),
    )
}

const SCT_KEY: &str = "SCT99999TqwertyuiopASDF";

/// ServerChan Turbo: `POST /<SendKey>.send`, form `title`, `desp`.
fn serverchan(r: &Recorded) -> Reply {
    if r.method != "POST" || r.path() != format!("/{SCT_KEY}.send") {
        return Reply::json(
            200,
            json!({"code": 40001, "message": "bad pushtoken[]", "data": null}),
        );
    }
    if !matches!(r.form("title"), Some(t) if !t.is_empty()) {
        return Reply::json(
            200,
            json!({"code": 20001, "message": "title can't be empty"}),
        );
    }
    Reply::json(
        200,
        json!({"code": 0, "message": "", "data": {"pushid": "4242", "readkey": "rk", "error": "SUCCESS", "errno": 0}}),
    )
}

const TG_TOKEN: &str = "7000001:AAH-telegram_Secret_Part";
const TG_CHAT: &str = "-1009876";

/// Telegram Bot API: `POST /bot<token>/sendMessage`.
fn telegram(r: &Recorded) -> Reply {
    if r.method != "POST" || r.path() != format!("/bot{TG_TOKEN}/sendMessage") {
        return Reply::json(
            401,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        );
    }
    let v = r.json();
    if v["chat_id"] != TG_CHAT {
        return Reply::json(
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        );
    }
    Reply::json(
        200,
        json!({"ok": true, "result": {"message_id": 77, "chat": {"id": -1009876}, "text": v["text"]}}),
    )
}

// ----------------------------------------------------------------------------------
// Helpers.

fn notice() -> Notice {
    test_notice("msg-webhook-1", Lang::Zh, now_ms())
}

/// Every secret in `s`, for "never in a message" checks.
fn secrets_of(s: &ChannelSettings) -> Vec<String> {
    [
        &s.webhook.url,
        &s.bark.key,
        &s.serverchan.send_key,
        &s.dingtalk.webhook,
        &s.dingtalk.secret,
        &s.feishu.webhook,
        &s.feishu.secret,
        &s.telegram.bot_token,
    ]
    .into_iter()
    .filter(|v| !v.is_empty())
    .cloned()
    .chain(
        [
            DING_TOKEN,
            DING_SECRET,
            FEISHU_SECRET,
            BARK_KEY,
            SCT_KEY,
            TG_TOKEN,
            "AAH-telegram_Secret_Part",
            "feishu00000001",
        ]
        .map(String::from),
    )
    .collect()
}

fn assert_no_secret(text: &str, s: &ChannelSettings) {
    for secret in secrets_of(s) {
        assert!(
            !text.contains(&secret),
            "secret {secret:?} leaked in: {text}"
        );
    }
}

fn failure(r: Result<String, DeliveryError>, s: &ChannelSettings) -> DeliveryError {
    let e = r.expect_err("delivery should have failed");
    assert_no_secret(&e.message, s);
    e
}

// ----------------------------------------------------------------------------------
// The tests.

#[test]
fn dingtalk_signed_message_is_verified_and_a_wrong_secret_is_refused() {
    let rx = Receiver::start(dingtalk);
    let mut s = ChannelSettings::default();
    s.dingtalk.webhook = format!("{}/robot/send?access_token={DING_TOKEN}", rx.base());
    s.dingtalk.secret = DING_SECRET.into();
    let n = notice();

    let detail = send(Channel::Dingtalk, &s, &n).expect("delivered");
    assert_eq!(detail, "HTTP 200 errcode 0");
    let r = rx.only_request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), "/robot/send");
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    let content = r.json()["text"]["content"].as_str().unwrap().to_string();
    assert!(content.starts_with(&n.subject), "{content}");
    assert!(
        content.contains("msg-webhook-1"),
        "the id travels: {content}"
    );
    assert!(
        content.contains("号源"),
        "a keyword robot can match 号源: {content}"
    );

    // The same robot, our copy of the secret wrong: DingTalk's real refusal, permanent.
    let mut wrong = s.clone();
    wrong.dingtalk.secret = "SECwrong-secret-000000000000".into();
    let e = failure(send(Channel::Dingtalk, &wrong, &n), &wrong);
    assert!(e.permanent, "{e:?}");
    assert!(e.message.contains("310000"), "{}", e.message);
    assert!(e.message.contains("sign not match"), "{}", e.message);
    assert_eq!(rx.requests().len(), 2);

    // Signing switched off on our side while the robot requires it: refused too.
    let mut unsigned = s.clone();
    unsigned.dingtalk.secret.clear();
    let e = failure(send(Channel::Dingtalk, &unsigned, &n), &s);
    assert!(e.permanent && e.message.contains("310000"), "{e:?}");
    assert!(rx.requests()[2].query("sign").is_none());
}

#[test]
fn feishu_signed_message_is_verified_and_a_wrong_secret_is_refused() {
    let rx = Receiver::start(feishu);
    let mut s = ChannelSettings::default();
    s.feishu.webhook = format!("{}{FEISHU_HOOK}", rx.base());
    s.feishu.secret = FEISHU_SECRET.into();
    let n = notice();

    assert_eq!(
        send(Channel::Feishu, &s, &n).expect("delivered"),
        "HTTP 200 code 0"
    );
    let r = rx.only_request();
    assert_eq!((r.method.as_str(), r.path()), ("POST", FEISHU_HOOK));
    let v = r.json();
    assert_eq!(v["msg_type"], "text");
    assert!(v["content"]["text"]
        .as_str()
        .unwrap()
        .contains("msg-webhook-1"));
    assert!(v["timestamp"].is_string(), "{v}");

    let mut wrong = s.clone();
    wrong.feishu.secret = "notTheSecret".into();
    let e = failure(send(Channel::Feishu, &wrong, &n), &wrong);
    assert!(e.permanent && e.message.contains("19021"), "{e:?}");
}

#[test]
fn generic_webhook_gets_the_notice_as_json_with_ids_masked() {
    let rx = Receiver::start(|_| Reply(204, "text/plain", String::new()));
    let mut s = ChannelSettings::default();
    s.webhook.url = format!("{}/hooks/in/private-token-31337", rx.base());
    let watch: Watch = serde_json::from_value(json!({
        "id": "w-9",
        "target": {"platform": "114yygh", "hos_code": "H1", "first_dept_code": "a",
                   "second_dept_code": "b", "hos_name": "北京协和医院", "dept_name": "眼科"},
        "window": {"start": "2026-11-27", "end": "2026-12-03"},
        "interval": {"seconds": 30}
    }))
    .unwrap();
    let entry = HistoryEntry {
        seq: 3,
        watch_id: "w-9".into(),
        at: now_ms(),
        kind: "booked".into(),
        message: "预约成功".into(),
        data: json!({"date": "2026-12-03", "period": "morning", "patient": "张小明",
                     "id_no": "11010119900307002X", "phone": "13812345678",
                     "url": "https://www.114yygh.com/order/9"}),
    };
    let n = render("msg-generic-7", Some(&watch), &entry, Lang::Zh);

    assert_eq!(
        send(Channel::Webhook, &s, &n).expect("delivered"),
        "HTTP 204"
    );
    let r = rx.only_request();
    assert_eq!(
        (r.method.as_str(), r.path()),
        ("POST", "/hooks/in/private-token-31337")
    );
    let v = r.json();
    assert_eq!(v["id"], "msg-generic-7");
    assert_eq!(v["kind"], "booked");
    assert_eq!(v["watch_id"], "w-9");
    assert_eq!(
        v["subject"],
        "114 · 北京协和医院 · 眼科 · 2026-12-03 上午 · 已预约成功"
    );
    assert_eq!(v["url"], "https://www.114yygh.com/order/9");
    assert_eq!(v["at"], entry.at);
    assert!(v["text"].as_str().unwrap().contains("1101**********002X"));
    let raw = r.body_text();
    for personal in ["11010119900307002X", "13812345678", "张小明"] {
        assert!(
            !raw.contains(personal),
            "{personal} was sent in the clear: {raw}"
        );
    }
}

#[test]
fn bark_serverchan_and_telegram_deliver_in_their_shapes() {
    let n = notice();

    let rx = Receiver::start(bark);
    let mut s = ChannelSettings::default();
    s.bark.server = format!("{}/", rx.base());
    s.bark.key = BARK_KEY.into();
    assert_eq!(send(Channel::Bark, &s, &n).unwrap(), "HTTP 200 code 200");
    let r = rx.only_request();
    assert_eq!((r.method.as_str(), r.path()), ("POST", "/push"));
    let v = r.json();
    assert_eq!(v["device_key"], BARK_KEY);
    assert_eq!(v["title"], n.subject);
    assert_eq!(v["group"], "haoyuan");
    assert_eq!(v["id"], "msg-webhook-1");
    // An unknown key: Bark's 400 echoes it; the message must not.
    s.bark.key = "BarkKeyThatIsWrong42".into();
    let e = failure(send(Channel::Bark, &s, &n), &s);
    assert!(e.permanent && e.message.contains("HTTP 400"), "{e:?}");
    drop(rx);

    let rx = Receiver::start(serverchan);
    let mut s = ChannelSettings::default();
    s.serverchan.server = rx.base();
    s.serverchan.send_key = SCT_KEY.into();
    assert_eq!(
        send(Channel::Serverchan, &s, &n).unwrap(),
        "HTTP 200 code 0 pushid 4242"
    );
    let r = rx.only_request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), format!("/{SCT_KEY}.send"));
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/x-www-form-urlencoded"));
    assert_eq!(r.form("title").as_deref(), Some(n.subject.as_str()));
    assert!(r.form("desp").unwrap().contains("msg-webhook-1"));
    // A wrong key: an app-level refusal in a 200 body.
    s.serverchan.send_key = "SCTwrongkey0000".into();
    let e = failure(send(Channel::Serverchan, &s, &n), &s);
    assert!(e.permanent && e.message.contains("40001"), "{e:?}");
    drop(rx);

    let rx = Receiver::start(telegram);
    let mut s = ChannelSettings::default();
    s.telegram.api_base = rx.base();
    s.telegram.bot_token = TG_TOKEN.into();
    s.telegram.chat_id = TG_CHAT.into();
    assert_eq!(
        send(Channel::Telegram, &s, &n).unwrap(),
        "HTTP 200 ok message_id 77"
    );
    let r = rx.only_request();
    assert_eq!(r.path(), format!("/bot{TG_TOKEN}/sendMessage"));
    let v = r.json();
    assert_eq!(v["chat_id"], TG_CHAT);
    assert_eq!(v["disable_web_page_preview"], true);
    assert!(v["text"].as_str().unwrap().contains("msg-webhook-1"));
    s.telegram.chat_id = "-1000".into();
    let e = failure(send(Channel::Telegram, &s, &n), &s);
    assert!(e.permanent && e.message.contains("chat not found"), "{e:?}");
    s.telegram.bot_token = "7000001:AAH-wrong_token_value".into();
    let e = failure(send(Channel::Telegram, &s, &n), &s);
    assert!(e.permanent && e.message.contains("401"), "{e:?}");
}

#[test]
fn busy_servers_and_refused_connections_are_transient() {
    let n = notice();
    let status = Arc::new(Mutex::new(500u16));
    let st = status.clone();
    let rx = Receiver::start(move |_| {
        let s = *st.lock().unwrap();
        Reply::json(s, json!({"errcode": -1, "errmsg": "系统繁忙"}))
    });
    let mut s = ChannelSettings::default();
    s.dingtalk.webhook = format!("{}/robot/send?access_token={DING_TOKEN}", rx.base());
    s.dingtalk.secret = DING_SECRET.into();
    s.webhook.url = format!("{}/hooks/in/private-token-31337", rx.base());

    for code in [500u16, 502, 503, 429] {
        *status.lock().unwrap() = code;
        for c in [Channel::Dingtalk, Channel::Webhook] {
            let e = failure(send(c, &s, &n), &s);
            assert!(!e.permanent, "{c:?} HTTP {code}: {e:?}");
            assert!(e.message.contains(&code.to_string()), "{}", e.message);
        }
    }
    // DingTalk's "too fast" in a 200 body: transient as well.
    drop(rx);
    let rx = Receiver::start(|_| {
        Reply::json(
            200,
            json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        )
    });
    s.dingtalk.webhook = format!("{}/robot/send?access_token={DING_TOKEN}", rx.base());
    let e = failure(send(Channel::Dingtalk, &s, &n), &s);
    assert!(!e.permanent && e.message.contains("130101"), "{e:?}");
    drop(rx);

    // Nobody listening.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    s.dingtalk.webhook = format!("http://127.0.0.1:{port}/robot/send?access_token={DING_TOKEN}");
    let e = failure(send(Channel::Dingtalk, &s, &n), &s);
    assert!(!e.permanent, "{e:?}");
    assert!(e.message.contains("refused"), "{}", e.message);
    assert!(
        !e.message.contains("127.0.0.1:"),
        "no address in {}",
        e.message
    );
}

#[test]
fn redirects_are_not_followed() {
    let rx = Receiver::start(|_| Reply(302, "text/html", "<a href=/elsewhere>moved</a>".into()));
    let mut s = ChannelSettings::default();
    s.webhook.url = format!("{}/hooks/in/private-token-31337", rx.base());
    let e = failure(send(Channel::Webhook, &s, &notice()), &s);
    assert!(e.permanent && e.message.contains("302"), "{e:?}");
    assert_eq!(
        rx.requests().len(),
        1,
        "the POST was not re-sent to /elsewhere"
    );

    // The runner hands the 3xx back as a response.
    let r = execute(
        &HttpRequest::get(format!("{}/x", rx.base())),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/elsewhere"));
    assert_eq!(rx.requests().len(), 2);
}

#[test]
fn the_runner_returns_any_status_with_headers_and_body() {
    let rx = Receiver::start(|r| {
        let echo = json!({"method": r.method, "target": r.target, "body": r.body_text(),
                          "x": r.header("x-probe"), "ua": r.header("user-agent")});
        Reply::json(404, echo)
    });
    let req = HttpRequest::post_form(format!("{}/p?a=1", rx.base()), &[("k", "v w")])
        .header("X-Probe", "yes");
    let r = execute(&req, Duration::from_secs(10)).expect("a 404 is a response");
    assert_eq!(r.status, 404);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let v: Value = r.json().unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["target"], "/p?a=1");
    assert_eq!(v["body"], "k=v+w");
    assert_eq!(v["x"], "yes");
    assert!(v["ua"].as_str().unwrap().starts_with("haoyuan-host/"));

    let r = execute(
        &HttpRequest::get(format!("{}/g", rx.base())),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["method"], "GET");
}

#[test]
fn a_server_that_never_answers_times_out_as_a_transient_error() {
    // Accepts the connection, reads, never answers; released when the test ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let rel = release.clone();
    let t = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
            let mut buf = [0u8; 4096];
            while !rel.load(Ordering::SeqCst) {
                let _ = stream.read(&mut buf);
            }
        }
    });
    let req = HttpRequest::post_json(
        format!("http://{addr}/bot1:SECRETTOKEN/sendMessage"),
        &json!({}),
    )
    .unwrap();
    let e = execute_detailed(&req, Duration::from_millis(300)).unwrap_err();
    release.store(true, Ordering::SeqCst);
    let _ = t.join();
    assert!(!e.permanent, "{e:?}");
    assert!(!e.message.contains("SECRETTOKEN"), "{}", e.message);
}
