//! Signing in to 12306: steps 1–7 of seed 003 as a sans-IO machine. The person answers
//! the picture captcha (step 3); a refused answer fetches a new picture; a wrong
//! password ends the login in the site's words. The password lives in this value only
//! for the login; it is never part of an error or an event.

use super::site::Site;
use crate::http::HttpRequest;
use crate::http::HttpResponse;
use crate::protocol::CaptchaAnswer;
use serde_json::Value;

/// What the login needs next.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginStep {
    /// Send this (with the account's cookie jar) and [`Login::feed`] the response.
    Send {
        request: HttpRequest,
        purpose: &'static str,
    },
    /// Show this picture (PNG bytes) and give [`Login::answer`] the clicks.
    Captcha { png: Vec<u8>, message: String },
    /// Signed in; `holder` is the name 12306 gave.
    Done { holder: String },
    /// The login cannot go on; `message` says why in plain words.
    Failed {
        message: String,
        wrong_password: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Init,
    Image,
    Answering,
    Check,
    Password,
    UserLogin,
    Uamtk,
    AuthClient,
    Finished,
}

/// One login of one account.
pub struct Login {
    site: Site,
    account: String,
    password: String,
    stage: Stage,
    /// The last picture's refusal, said with the next picture.
    retry_note: String,
    pictures: u32,
    rand: u64,
}

/// At most this many pictures in one login (then the person starts again).
pub const MAX_PICTURES: u32 = 10;

impl Login {
    /// Starts signing `account` in; returns the first request. `seed` varies the
    /// random number the captcha URL carries.
    pub fn start(site: Site, account: &str, password: &str, seed: u64) -> (Login, LoginStep) {
        let login = Login {
            site,
            account: account.trim().to_string(),
            password: password.to_string(),
            stage: Stage::Init,
            retry_note: String::new(),
            pictures: 0,
            rand: seed | 1,
        };
        let step = LoginStep::Send {
            request: login.site.login_init(),
            purpose: "login_init",
        };
        (login, step)
    }

    /// The account being signed in.
    pub fn account(&self) -> &str {
        &self.account
    }

    fn random(&mut self) -> f64 {
        (super::xorshift(&mut self.rand) % 1_000_000_000) as f64 / 1e9
    }

    fn picture(&mut self) -> LoginStep {
        self.pictures += 1;
        if self.pictures > MAX_PICTURES {
            self.stage = Stage::Finished;
            return self.fail(
                "too many pictures were refused; start the sign-in again",
                false,
            );
        }
        self.stage = Stage::Image;
        let r = self.random();
        LoginStep::Send {
            request: self.site.captcha_image(r),
            purpose: "captcha_image",
        }
    }

    fn fail(&mut self, message: impl Into<String>, wrong_password: bool) -> LoginStep {
        self.stage = Stage::Finished;
        self.password.clear();
        LoginStep::Failed {
            message: message.into(),
            wrong_password,
        }
    }

    /// The person's clicks on the picture last shown.
    pub fn answer(&mut self, answer: &CaptchaAnswer) -> LoginStep {
        if self.stage != Stage::Answering {
            return self.fail("no picture is waiting for an answer", false);
        }
        match super::captcha::answer_string(answer) {
            Ok(a) => {
                self.stage = Stage::Check;
                LoginStep::Send {
                    request: self.site.captcha_check(&a),
                    purpose: "captcha_check",
                }
            }
            Err(e) => {
                self.retry_note = format!("{e}; ");
                self.picture()
            }
        }
    }

    /// Gives up on the picture shown and fetches another.
    pub fn new_picture(&mut self) -> LoginStep {
        if self.stage != Stage::Answering {
            return self.fail("no picture is waiting for an answer", false);
        }
        self.retry_note.clear();
        self.picture()
    }

    fn json(resp: &HttpResponse) -> Option<Value> {
        // captcha-check may answer JSONP: `/**/cb({...});`.
        let text = String::from_utf8_lossy(&resp.body);
        let t = text.trim();
        let t = match (t.find('('), t.rfind(')')) {
            (Some(a), Some(b)) if !t.starts_with('{') && a < b => &t[a + 1..b],
            _ => t,
        };
        serde_json::from_str(t).ok()
    }

    fn code(v: &Value) -> Option<i64> {
        match v.get("result_code")? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn site_message(v: &Value) -> String {
        v.get("result_message")
            .and_then(Value::as_str)
            .unwrap_or("12306 gave no reason")
            .to_string()
    }

    fn error_page(resp: &HttpResponse) -> bool {
        super::site::is_login_redirect(resp)
            && resp
                .header("location")
                .is_some_and(|l| l.contains("error.html"))
            || String::from_utf8_lossy(&resp.body).contains("mormhweb/logFiles/error")
    }

    /// The response to the request last asked for.
    pub fn feed(&mut self, resp: &HttpResponse) -> LoginStep {
        if resp.status == 403 || resp.status == 429 || resp.status >= 500 {
            return self.fail(
                format!(
                    "12306 answered HTTP {} during sign-in; try again in a few minutes",
                    resp.status
                ),
                false,
            );
        }
        if Login::error_page(resp) {
            return self.fail(
                "12306 sent its error page instead of signing in (it does this to scripts at times); try again",
                false,
            );
        }
        match self.stage {
            Stage::Init => self.picture(),
            Stage::Image => {
                let is_png = resp.body.starts_with(b"\x89PNG");
                let png = if is_png {
                    Some(resp.body.clone())
                } else {
                    // The later JSON form: {"image": base64}.
                    Login::json(resp)
                        .and_then(|v| v.get("image").and_then(Value::as_str).map(str::to_string))
                        .and_then(|b| {
                            use base64::Engine;
                            base64::engine::general_purpose::STANDARD
                                .decode(b.trim())
                                .ok()
                        })
                };
                match png {
                    Some(png) => {
                        self.stage = Stage::Answering;
                        let message = format!(
                            "{}click every picture of the kind the strip at the top names",
                            std::mem::take(&mut self.retry_note)
                        );
                        LoginStep::Captcha { png, message }
                    }
                    None => self.fail(
                        format!(
                            "12306's captcha is not a picture (HTTP {}: {})",
                            resp.status,
                            resp.excerpt()
                        ),
                        false,
                    ),
                }
            }
            Stage::Check => {
                let Some(v) = Login::json(resp) else {
                    return self.fail(
                        format!("12306's captcha check is unreadable: {}", resp.excerpt()),
                        false,
                    );
                };
                match Login::code(&v) {
                    Some(4) => {
                        self.stage = Stage::Password;
                        LoginStep::Send {
                            request: self.site.web_login(&self.account, &self.password),
                            purpose: "web_login",
                        }
                    }
                    Some(5 | 7 | 8) => {
                        self.retry_note = format!(
                            "12306: {}; here is a new picture — ",
                            Login::site_message(&v)
                        );
                        self.picture()
                    }
                    _ => self.fail(
                        format!("12306's captcha check said: {}", Login::site_message(&v)),
                        false,
                    ),
                }
            }
            Stage::Password => {
                let Some(v) = Login::json(resp) else {
                    return self.fail(
                        format!("12306's login reply is unreadable: {}", resp.excerpt()),
                        false,
                    );
                };
                match Login::code(&v) {
                    Some(0) => {
                        self.password.clear();
                        self.stage = Stage::UserLogin;
                        LoginStep::Send {
                            request: self.site.user_login(),
                            purpose: "user_login",
                        }
                    }
                    Some(5 | 7 | 8) => {
                        self.retry_note = format!("12306: {}; ", Login::site_message(&v));
                        self.picture()
                    }
                    _ => self.fail(
                        format!("12306 refused the login: {}", Login::site_message(&v)),
                        true,
                    ),
                }
            }
            Stage::UserLogin => {
                self.stage = Stage::Uamtk;
                LoginStep::Send {
                    request: self.site.uamtk(),
                    purpose: "uamtk",
                }
            }
            Stage::Uamtk => {
                let v = Login::json(resp);
                let tk = v
                    .as_ref()
                    .and_then(|v| v.get("newapptk"))
                    .and_then(Value::as_str);
                match (v.as_ref().and_then(Login::code), tk) {
                    (Some(0), Some(tk)) if !tk.is_empty() => {
                        self.stage = Stage::AuthClient;
                        let tk = tk.to_string();
                        LoginStep::Send {
                            request: self.site.uamauthclient(&tk),
                            purpose: "uamauthclient",
                        }
                    }
                    _ => self.fail(
                        format!(
                            "12306 did not confirm the login (uamtk): {}",
                            v.as_ref()
                                .map_or_else(|| resp.excerpt(), Login::site_message)
                        ),
                        false,
                    ),
                }
            }
            Stage::AuthClient => {
                let v = Login::json(resp);
                match v.as_ref().and_then(Login::code) {
                    Some(0) => {
                        self.stage = Stage::Finished;
                        let holder = v
                            .as_ref()
                            .and_then(|v| v.get("username"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        LoginStep::Done { holder }
                    }
                    _ => self.fail(
                        format!(
                            "12306 did not finish the login (uamauthclient): {}",
                            v.as_ref()
                                .map_or_else(|| resp.excerpt(), Login::site_message)
                        ),
                        false,
                    ),
                }
            }
            Stage::Answering | Stage::Finished => {
                self.fail("the login got an answer it did not ask for", false)
            }
        }
    }
}
