//! Login (seed steps 1–7) and the session checks: `otn/login/init`, the picture captcha
//! and its check, `passport/web/login`, `otn/login/userLogin`, `passport/web/auth/uamtk`,
//! `otn/uamauthclient`, `otn/login/checkUser`, `otn/login/conf`, `otn/login/loginOut`.
//!
//! Result codes as the seed: captcha-check `"4"` ok, `"5"` wrong, `"7"` expired (or no
//! captcha in this `_passport_session`), `"8"` empty answer; web/login `0` (+ `uamtk`),
//! `1` with the site's message, `5` when no captcha was passed first; uamtk `0` (+
//! `newapptk`) or `1` 用户未登录; uamauthclient `0` (+ `apptk`, `username`) or `2`
//! uamtk票据内容为空. captcha-check answers JSONP when given `callback`.

use super::captcha::{Captcha, Verdict};
use super::{
    html, otn_ok, redirect, with_cookies, OtnSession, PassportSession, Rail12306, Req, State, World,
};
use crate::web;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

const TOKEN_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A uamtk / newapptk-looking token (`VEqbgNHudMa-N1meoVuv0x9eL-MXBCP5gat1t0`).
fn token(s: &mut State) -> String {
    let mut t = s.rng.string(TOKEN_ALPHABET, 35);
    t.push_str("1t0");
    t
}

/// The otn session of a request, made (with its cookies) when it has none.
pub fn ensure_otn(s: &mut State, req: &Req, now: i64) -> (String, Vec<String>) {
    if let Some(id) = req.cookie("JSESSIONID") {
        if let Some(sess) = s.otn.get_mut(&id) {
            sess.last_ms = sess.last_ms.max(now);
            return (id, Vec::new());
        }
    }
    let id = s.rng.hex(32).to_uppercase();
    s.otn.insert(
        id.clone(),
        OtnSession {
            last_ms: now,
            ..Default::default()
        },
    );
    let big = format!(
        "{}.{}.0000",
        s.rng.range(100_000_000, 4_000_000_000),
        s.rng.range(20_000, 65_000)
    );
    let route = s.rng.hex(32);
    (
        id.clone(),
        vec![
            web::set_cookie("JSESSIONID", &id),
            web::set_cookie("BIGipServerotn", &big),
            web::set_cookie("route", &route),
        ],
    )
}

/// The logged-in user of a request's otn session (logging it out when idle too long).
pub fn logged_in(w: &World, s: &mut State, req: &Req, now: i64) -> Option<(String, usize)> {
    let id = req.cookie("JSESSIONID")?;
    let sess = s.otn.get_mut(&id)?;
    if now - sess.last_ms > w.cfg.session_idle_ms {
        sess.user = None;
        sess.pending = None;
    }
    sess.last_ms = sess.last_ms.max(now);
    sess.user.map(|u| (id, u))
}

fn passport_id(s: &mut State, req: &Req) -> (String, Vec<String>) {
    if let Some(id) = req.cookie("_passport_session") {
        if s.passport.contains_key(&id) {
            return (id, Vec::new());
        }
    }
    let id = format!("{}{}", s.rng.hex(32), s.rng.digits(4));
    s.passport.insert(id.clone(), PassportSession::default());
    let ct = s.rng.hex(32);
    let big = format!(
        "{}.{}.0000",
        s.rng.range(100_000_000, 4_000_000_000),
        s.rng.range(20_000, 65_000)
    );
    (
        id.clone(),
        vec![
            web::set_cookie("_passport_session", &id),
            web::set_cookie("_passport_ct", &format!("{ct}t5007")),
            web::set_cookie("BIGipServerpassport", &big),
        ],
    )
}

/// Step 1: the login page; sets the otn cookies.
pub fn login_init(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let (_, cookies) = ensure_otn(&mut app.state(), req, now);
    let body = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
        <title>登录 | 客运服务 | 铁路客户服务中心</title>\n\
        <script type=\"text/javascript\">var ctx='/otn/'; var passport_appId = 'otn';\
         var passport_login = '/passport/web/login'; var passport_captcha = '/passport/captcha/captcha-image';\
         var passport_authuam = '/passport/web/auth/uamtk'; var passport_captcha_check = '/passport/captcha/captcha-check';\
         var passport_authclient = 'uamauthclient'; var passport_loginPage = 'login/init';</script>\n\
        </head>\n<body>\n<div class=\"login-box\">\n<form id=\"loginForm\">\n\
        <input type=\"text\" id=\"username\" name=\"loginUserDTO.user_name\" placeholder=\"用户名/邮箱/手机号\">\n\
        <input type=\"password\" id=\"password\" name=\"userDTO.password\" placeholder=\"密码\">\n\
        <div class=\"touclick\"><img id=\"passcode\" src=\"/passport/captcha/captcha-image?login_site=E&module=login&rand=sjrand\" alt=\"验证码\"></div>\n\
        <a id=\"loginSub\" href=\"javascript:;\">立即登录</a>\n</form>\n</div>\n</body>\n</html>\n";
    with_cookies(html(body.to_string()), &cookies)
}

fn new_captcha(app: &Rail12306, req: &Req) -> (String, Vec<String>, Vec<u8>) {
    let now = app.now();
    let (id, cookies, mut rng) = {
        let mut s = app.state();
        let (id, cookies) = passport_id(&mut s, req);
        let seed = s.rng.next_u64();
        (id, cookies, crate::gen::Rng::new(seed))
    };
    let (captcha, png) = Captcha::generate(&mut rng, now);
    app.shared
        .captchas
        .put("12306", &id, captcha.describe("login"));
    let mut s = app.state();
    let sess = s.passport.entry(id.clone()).or_default();
    sess.captcha = Some(captcha);
    sess.passed = false;
    (id, cookies, png)
}

/// Step 2: the 8-tile picture (PNG) of this passport session.
pub fn captcha_image(app: &Rail12306, req: &Req) -> Response {
    let (_, cookies, png) = new_captcha(app, req);
    with_cookies(web::bytes("image/png", png), &cookies)
}

/// The later JSON variant: `{"image": base64, "result_code": "0"}`.
pub fn captcha_image64(app: &Rail12306, req: &Req) -> Response {
    let (_, cookies, png) = new_captcha(app, req);
    let image = base64::engine::general_purpose::STANDARD.encode(png);
    let v = json!({"image": image, "result_message": "生成验证码成功", "result_code": "0"});
    with_cookies(web::json(&v), &cookies)
}

fn maybe_jsonp(req: &Req, v: Value) -> Response {
    let cb = req.get("callback");
    if !cb.is_empty()
        && cb
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$')
    {
        let body = format!("/**/{cb}({v});");
        return (
            [(header::CONTENT_TYPE, "application/javascript;charset=UTF-8")],
            body,
        )
            .into_response();
    }
    web::json(&v)
}

/// Step 3: checks the clicks by tile.
pub fn captcha_check(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let reply = |code: &str, msg: &str| {
        maybe_jsonp(req, json!({"result_message": msg, "result_code": code}))
    };
    let answer = req.get("answer");
    if answer.trim().is_empty() {
        return reply("8", "验证码校验失败,信息为空");
    }
    let mut s = app.state();
    let Some(sess) = req
        .cookie("_passport_session")
        .and_then(|id| s.passport.get_mut(&id))
    else {
        return reply("7", "验证码已经过期");
    };
    let Some(c) = sess.captcha.take() else {
        return reply("7", "验证码已经过期");
    };
    if now - c.created_ms > w.cfg.captcha_ttl_ms {
        return reply("7", "验证码已经过期");
    }
    match c.check(answer) {
        Verdict::Right => {
            sess.passed = true;
            reply("4", "验证码校验成功")
        }
        Verdict::Empty => reply("8", "验证码校验失败,信息为空"),
        Verdict::Wrong => {
            sess.passed = false;
            reply("5", "验证码校验失败")
        }
    }
}

/// Step 4: username and password, after a passed captcha; sets `uamtk`.
pub fn web_login(app: &Rail12306, req: &Req) -> Response {
    let w = app.world();
    let mut s = app.state();
    let passed = req
        .cookie("_passport_session")
        .and_then(|id| s.passport.get_mut(&id))
        .map(|p| std::mem::take(&mut p.passed))
        .unwrap_or(false);
    if !passed {
        return web::json(&json!({"result_message": "验证码校验失败", "result_code": 5}));
    }
    let username = req.get("username").trim();
    let Some(&u) = w.by_username.get(username) else {
        return web::json(&json!({"result_message": "登录名不存在。", "result_code": 1}));
    };
    if w.accounts[u].password != req.get("password") {
        return web::json(&json!({
            "result_message": "密码输入错误。如果输错次数超过4次，用户将被锁定。",
            "result_code": 1
        }));
    }
    let tk = token(&mut s);
    s.uamtk.insert(tk.clone(), u);
    web::json_with_cookies(
        &json!({"result_message": "登录成功", "result_code": 0, "uamtk": tk}),
        &[web::set_cookie("uamtk", &tk)],
    )
}

fn uamtk_of(req: &Req) -> Option<String> {
    let f = req.get("uamtk");
    if !f.is_empty() {
        return Some(f.to_string());
    }
    req.cookie("uamtk")
}

/// Step 5: `otn/login/userLogin` — on to the passport page when the passport login was
/// done, to the login page when not, to the home page when already logged in.
pub fn user_login(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    if logged_in(&w, &mut s, req, now).is_some() {
        return redirect("/otn/view/index.html");
    }
    let (_, cookies) = ensure_otn(&mut s, req, now);
    let to = match uamtk_of(req) {
        Some(t) if s.uamtk.contains_key(&t) => "/otn/passport?redirect=/otn/login/userLogin",
        _ => "/otn/login/init",
    };
    with_cookies(redirect(to), &cookies)
}

/// The page `userLogin` sends a passport-logged-in browser to (its script does steps 6–7).
pub fn passport_page(_: &Rail12306, _: &Req) -> Response {
    html("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>中国铁路12306</title>\
        <script type=\"text/javascript\">var ctx='/otn/';var passport_authuam='/passport/web/auth/uamtk';\
        var passport_authclient='uamauthclient';var passport_appId='otn';</script></head>\
        <body><div id=\"loading\">正在跳转…</div></body></html>"
        .into())
}

/// The home page after login.
pub fn index_page(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    match logged_in(&w, &mut s, req, now) {
        Some((_, u)) => html(format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>我的12306</title></head>\
             <body><div class=\"welcome-name\">{}</div><p>欢迎您登录中国铁路客户服务中心网站。</p></body></html>",
            w.accounts[u].name()
        )),
        None => redirect("/otn/login/init"),
    }
}

/// Step 6: `uamtk` → a one-time `newapptk`.
pub fn uamtk(app: &Rail12306, req: &Req) -> Response {
    let appid = req.get("appid");
    if !appid.is_empty() && appid != "otn" {
        return web::json(&json!({"result_message": "appid不正确", "result_code": 1}));
    }
    let mut s = app.state();
    let Some(u) = uamtk_of(req).and_then(|t| s.uamtk.get(&t).copied()) else {
        return web::json(&json!({"result_message": "用户未登录", "result_code": 1}));
    };
    let tk = token(&mut s);
    s.apptk.insert(tk.clone(), u);
    web::json(
        &json!({"result_message": "验证通过", "result_code": 0, "apptk": null, "newapptk": tk}),
    )
}

/// Step 7: `tk` logs the otn session in.
pub fn uamauthclient(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let tk = req.get("tk").trim().to_string();
    let mut s = app.state();
    let Some(u) = s.apptk.remove(&tk) else {
        return web::json(&json!({"result_code": 2, "result_message": "uamtk票据内容为空"}));
    };
    let (id, mut cookies) = ensure_otn(&mut s, req, now);
    if let Some(sess) = s.otn.get_mut(&id) {
        sess.user = Some(u);
        sess.last_ms = now;
        sess.pending = None;
    }
    cookies.push(web::set_cookie("tk", &tk));
    web::json_with_cookies(
        &json!({
            "apptk": tk,
            "result_code": 0,
            "result_message": "验证通过",
            "username": w.accounts[u].name(),
        }),
        &cookies,
    )
}

/// `checkUser`: `data.flag` true when logged in.
pub fn check_user(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let flag = logged_in(&w, &mut app.state(), req, now).is_some();
    otn_ok(json!({"flag": flag}))
}

/// `loginOut`: ends the session's login.
pub fn logout(app: &Rail12306, req: &Req) -> Response {
    let mut s = app.state();
    if let Some(sess) = req.cookie("JSESSIONID").and_then(|id| s.otn.get_mut(&id)) {
        sess.user = None;
        sess.pending = None;
    }
    if let Some(t) = uamtk_of(req) {
        s.uamtk.remove(&t);
    }
    with_cookies(
        redirect("/otn/login/init"),
        &[web::clear_cookie("uamtk"), web::clear_cookie("tk")],
    )
}

/// `otn/login/conf`: login state and the current `queryUrl`.
pub fn conf(app: &Rail12306, req: &Req) -> Response {
    let now = app.now();
    let w = app.world();
    let mut s = app.state();
    let login = logged_in(&w, &mut s, req, now).is_some();
    let query = format!("leftTicket/{}", s.query_name(&w));
    drop(s);
    otn_ok(json!({
        "isstudentDate": false,
        "is_login_passCode": "Y",
        "is_sweep_login": "Y",
        "psr_qr_code_result": "N",
        "login_url": "resources/login.html",
        "studentDate": [],
        "stu_control": 15,
        "is_uam_login": "Y",
        "is_login": if login { "Y" } else { "N" },
        "other_control": w.cfg.presale_days,
        "queryUrl": query,
        "station_version": w.stations.version,
    }))
}
