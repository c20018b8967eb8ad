//! The SMS login as a step machine, as the site's page does it:
//!
//! ```text
//! start ─▶ Send(img/getImgCode) ─▶ AskUser(Captcha) ─answer▶ Send(checkcode)
//!   false ─▶ a new picture (at most MAX_CAPTCHA_TRIES)
//!   true  ─▶ Send(verify-code/get smsKey=LOGIN) ─▶ AskUser(LoginSms) ─answer▶ Send(web/login)
//!            7002 ─▶ a new picture          7001 ─▶ AskUser(LoginSms) again (at most MAX_SMS_TRIES)
//!                                           ok   ─▶ Done(LoggedIn)
//! ```
//!
//! The person reads the picture and the SMS; nothing is solved for them. The picture
//! and the SMS request must share the site's `imed_session` cookie, which the caller's
//! cookie handling (the browser, or the host's jar) provides.

use super::model::{parse_checkcode, parse_login, parse_verify_code};
use super::{mask_phone, ApiError, Error, OutOfTurn, Prompt, Site, Step};
use crate::http::HttpResponse;
use serde::{Deserialize, Serialize};

/// Pictures shown before giving up.
pub const MAX_CAPTCHA_TRIES: u32 = 5;
/// SMS codes typed before giving up (the site burns a code after a few wrong tries).
pub const MAX_SMS_TRIES: u32 = 3;

/// How a login ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// The site set its `cmi-user-ticket` cookie.
    LoggedIn {
        user_id: Option<String>,
        /// `AUTH_PASS` when the account passed real-name verification.
        auth_status: Option<String>,
    },
    /// Not logged in; `message` says why in plain words.
    Failed {
        message: String,
        error: Option<Error>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    New,
    AwaitImage,
    AwaitCaptchaAnswer,
    AwaitCheck { code: String },
    AwaitSmsSent,
    AwaitSmsAnswer,
    AwaitLogin,
    Done,
}

impl State {
    fn waiting(&self) -> &'static str {
        match self {
            State::New => "not started",
            State::AwaitImage => "waiting for the picture",
            State::AwaitCaptchaAnswer => "waiting for the picture code from the person",
            State::AwaitCheck { .. } => "waiting for the checkcode reply",
            State::AwaitSmsSent => "waiting for the SMS request reply",
            State::AwaitSmsAnswer => "waiting for the SMS code from the person",
            State::AwaitLogin => "waiting for the login reply",
            State::Done => "finished",
        }
    }
}

/// The login of one mobile number.
#[derive(Clone, Debug)]
pub struct Login {
    site: Site,
    mobile: String,
    state: State,
    pictures: u32,
    sms_tries: u32,
    note: Option<String>,
}

type LStep = Step<LoginOutcome>;

impl Login {
    /// A login of `mobile` (11 digits, in clear: it is encrypted for the site).
    pub fn new(site: Site, mobile: impl Into<String>) -> Login {
        Login {
            site,
            mobile: mobile.into().trim().to_string(),
            state: State::New,
            pictures: 0,
            sms_tries: 0,
            note: None,
        }
    }

    /// Whether the login has finished.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn out_of_turn(&self, given: &'static str) -> OutOfTurn {
        OutOfTurn {
            flow: "login",
            given,
            waiting: self.state.waiting(),
        }
    }

    fn fail(&mut self, message: impl Into<String>, error: Option<Error>) -> LStep {
        self.state = State::Done;
        Step::done(LoginOutcome::Failed {
            message: message.into(),
            error,
        })
    }

    fn fail_err(&mut self, what: &str, e: Error) -> LStep {
        let message = if e.is_not_logged_in() {
            format!("{what}: the site lost the session; start the login again")
        } else {
            format!("{what}: {e}")
        };
        self.fail(message, Some(e))
    }

    fn new_picture(&mut self, now_ms: i64, note: Option<String>) -> LStep {
        if self.pictures >= MAX_CAPTCHA_TRIES {
            return self.fail(
                format!(
                    "the picture code was not accepted {MAX_CAPTCHA_TRIES} times; try again later"
                ),
                None,
            );
        }
        self.pictures += 1;
        self.note = note;
        self.state = State::AwaitImage;
        Step::send(self.site.img_code(now_ms))
    }

    /// Starts: asks for the picture.
    pub fn start(&mut self, now_ms: i64) -> Result<LStep, OutOfTurn> {
        if self.state != State::New {
            return Err(self.out_of_turn("a start"));
        }
        let digits = self.mobile.len() == 11 && self.mobile.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return Ok(self.fail(
                "the mobile number must be 11 digits, as registered with 114",
                None,
            ));
        }
        Ok(self.new_picture(now_ms, None))
    }

    /// The network gave no reply (timeout, connection lost). The login stops; starting
    /// again is safe (no step of a login books anything).
    pub fn no_response(&mut self, _now_ms: i64, detail: &str) -> Result<LStep, OutOfTurn> {
        match self.state {
            State::AwaitImage
            | State::AwaitCheck { .. }
            | State::AwaitSmsSent
            | State::AwaitLogin => Ok(self.fail(
                format!("the 114 site did not answer ({detail}); try the login again"),
                None,
            )),
            _ => Err(self.out_of_turn("a missing reply")),
        }
    }

    /// The reply to the last request.
    pub fn feed(&mut self, now_ms: i64, resp: &HttpResponse) -> Result<LStep, OutOfTurn> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitImage => {
                if !resp.is_success() || resp.body.is_empty() {
                    let e = Error::Http {
                        endpoint: super::Endpoint::ImgCode,
                        status: resp.status,
                        retry: resp.retry_class(),
                        excerpt: resp.excerpt(),
                    };
                    return Ok(self.fail_err("the picture code could not be loaded", e));
                }
                let content_type = resp
                    .header("content-type")
                    .unwrap_or("image/png")
                    .to_string();
                if content_type.contains("json") {
                    // An error in an envelope instead of a picture.
                    let e = match super::reply::open(super::Endpoint::ImgCode, resp) {
                        Err(e) => e,
                        Ok(_) => Error::Parse(super::ParseError {
                            endpoint: super::Endpoint::ImgCode,
                            field: String::new(),
                            problem: "it is JSON where a picture was expected".into(),
                        }),
                    };
                    return Ok(self.fail_err("the picture code could not be loaded", e));
                }
                self.state = State::AwaitCaptchaAnswer;
                Ok(Step::ask(Prompt::Captcha {
                    image: resp.body.clone(),
                    content_type,
                    note: self.note.take(),
                }))
            }
            State::AwaitCheck { code } => match parse_checkcode(resp) {
                Ok(true) => {
                    self.state = State::AwaitSmsSent;
                    Ok(Step::send(
                        self.site.verify_code_login(now_ms, &self.mobile, &code),
                    ))
                }
                Ok(false) => Ok(self.new_picture(
                    now_ms,
                    Some("that did not match the picture; here is a new one".into()),
                )),
                Err(e) => Ok(self.fail_err("the picture code could not be checked", e)),
            },
            State::AwaitSmsSent => match parse_verify_code(resp) {
                Ok(()) => {
                    self.state = State::AwaitSmsAnswer;
                    Ok(Step::ask(Prompt::LoginSms {
                        phone: mask_phone(&self.mobile),
                        note: None,
                    }))
                }
                Err(Error::Api {
                    error: ApiError::CaptchaWrong { .. },
                    ..
                }) => Ok(self.new_picture(
                    now_ms,
                    Some("the site did not accept the picture code; here is a new one".into()),
                )),
                Err(
                    e @ Error::Api {
                        error: ApiError::SmsTooSoon { .. },
                        ..
                    },
                ) => Ok(self.fail(
                    "an SMS code was sent to this phone a moment ago; wait a minute, then log in again",
                    Some(e),
                )),
                Err(e) => Ok(self.fail_err("the SMS code could not be requested", e)),
            },
            State::AwaitLogin => match parse_login(resp) {
                Ok(r) => {
                    self.state = State::Done;
                    Ok(Step::done(LoginOutcome::LoggedIn {
                        user_id: r.user_id,
                        auth_status: r.auth_status,
                    }))
                }
                Err(
                    e @ Error::Api {
                        error: ApiError::SmsWrong { .. },
                        ..
                    },
                ) => {
                    if self.sms_tries >= MAX_SMS_TRIES {
                        return Ok(self.fail(
                            format!("the SMS code was not accepted {MAX_SMS_TRIES} times; log in again for a new code"),
                            Some(e),
                        ));
                    }
                    self.state = State::AwaitSmsAnswer;
                    Ok(Step::ask(Prompt::LoginSms {
                        phone: mask_phone(&self.mobile),
                        note: Some("the site did not accept that code; check the SMS and type it again".into()),
                    }))
                }
                Err(e) => Ok(self.fail_err("the login failed", e)),
            },
            other => {
                self.state = other;
                Err(self.out_of_turn("a reply"))
            }
        }
    }

    /// The person's answer to the last prompt (the picture's characters, or the SMS code).
    pub fn answer(&mut self, now_ms: i64, text: &str) -> Result<LStep, OutOfTurn> {
        let text = text.trim();
        match self.state {
            State::AwaitCaptchaAnswer => {
                if text.is_empty() {
                    return Ok(
                        self.new_picture(now_ms, Some("type the characters in the picture".into()))
                    );
                }
                self.state = State::AwaitCheck {
                    code: text.to_string(),
                };
                Ok(Step::send(self.site.checkcode(now_ms, text)))
            }
            State::AwaitSmsAnswer => {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Ok(Step::ask(Prompt::LoginSms {
                        phone: mask_phone(&self.mobile),
                        note: Some("type the code from the SMS (digits only)".into()),
                    }));
                }
                self.sms_tries += 1;
                self.state = State::AwaitLogin;
                Ok(Step::send(self.site.login(now_ms, &self.mobile, text)))
            }
            _ => Err(self.out_of_turn("an answer")),
        }
    }
}
