//! Login and the account: the image captcha (`img/getImgCode`, `checkcode`), SMS codes
//! (`common/verify-code/get`, `smsKey` `LOGIN` or `ORDER_CODE`), `web/login` with the
//! AES-encrypted mobile and code setting `cmi-user-ticket`, `user/real-name/status` and
//! `patient/list`. Accounts come from the scenario or are generated (real-name passed,
//! one patient: the account holder) the first time an unknown mobile logs in.

use super::config::AccountCfg;
use super::data::id_card_no;
use super::{captcha, field, ApiError, Req, State};
use crate::gen::{self, Rng};
use crate::web;
use haoyuan_core::crypto::{decrypt_str, Encoding, YYGH114_KEY};
use serde_json::{json, Value};
use std::collections::HashMap;

/// How long an image captcha or an SMS code stays valid.
const CODE_TTL_MS: i64 = 5 * 60_000;
/// Wrong SMS code attempts before the code is burnt.
const MAX_SMS_ATTEMPTS: u32 = 5;

/// A card a patient can book with.
#[derive(Clone, Debug)]
pub struct Card {
    pub card_type: String,
    pub no: String,
    pub medicare: String,
}

impl Card {
    /// `cardTypeView`.
    pub fn type_view(&self) -> &'static str {
        match self.card_type.as_str() {
            "SOCIAL_SECURITY" => "社保卡",
            "IDENTITY_CARD" => "居民身份证",
            "HOSPITAL_CARD" => "就诊卡",
            "JYT_CARD" => "京医通卡",
            _ => "其他",
        }
    }

    /// `medicareTypeView`.
    pub fn medicare_view(&self) -> &'static str {
        match self.medicare.as_str() {
            "MEDICARE_CARD" => "医保",
            _ => "自费",
        }
    }

    /// The card as `patient/list` shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "cardType": self.card_type,
            "cardTypeView": self.type_view(),
            "cardNo": mask_middle(&self.no),
            "cardNoView": mask_middle(&self.no),
            "medicareType": self.medicare,
            "medicareTypeView": self.medicare_view(),
        })
    }
}

/// A patient of an account.
#[derive(Clone, Debug)]
pub struct Patient {
    pub name: String,
    pub id_no: String,
    pub phone: String,
    pub cards: Vec<Card>,
}

impl Patient {
    /// The card a booking names by `cardType` and `cardNo` (full or as shown, masked).
    pub fn card(&self, card_type: &str, card_no: &str) -> Option<&Card> {
        self.cards.iter().find(|c| {
            c.card_type == card_type && (c.no == card_no || mask_middle(&c.no) == card_no)
        })
    }
}

/// An account, keyed by mobile.
#[derive(Clone, Debug)]
pub struct Account {
    pub mobile: String,
    pub user_id: String,
    pub name: String,
    pub id_no: String,
    pub real_name: bool,
    pub patients: Vec<Patient>,
}

impl Account {
    /// An account from the scenario, filling what it leaves out from the seed.
    pub fn from_cfg(seed: u64, c: &AccountCfg) -> Account {
        let mut a = Account::generated(seed, &c.mobile);
        if let Some(n) = &c.name {
            a.name = n.clone();
        }
        if let Some(id) = &c.id_no {
            a.id_no = id.clone();
        }
        a.real_name = c.real_name.unwrap_or(true);
        match &c.patients {
            None => a.patients = vec![self_patient(&a, &mut rng_for(seed, &c.mobile))],
            Some(ps) => {
                let mut rng = rng_for(seed, &format!("{}/patients", c.mobile));
                a.patients = ps
                    .iter()
                    .map(|p| {
                        let id_no = p.id_no.clone().unwrap_or_else(|| id_card_no(&mut rng));
                        let cards = match &p.cards {
                            Some(cs) => cs
                                .iter()
                                .map(|c| Card {
                                    card_type: c.card_type.clone(),
                                    no: c.no.clone(),
                                    medicare: c.medicare.clone().unwrap_or_else(|| {
                                        if c.card_type == "SOCIAL_SECURITY" {
                                            "MEDICARE_CARD".into()
                                        } else {
                                            "SELF_PAY_CARD".into()
                                        }
                                    }),
                                })
                                .collect(),
                            None => default_cards(&id_no, &mut rng),
                        };
                        Patient {
                            name: p.name.clone(),
                            phone: p.phone.clone().unwrap_or_else(|| c.mobile.clone()),
                            id_no,
                            cards,
                        }
                    })
                    .collect();
            }
        }
        a
    }

    /// The account a first login of an unknown mobile creates: real-name passed, the
    /// holder as the only patient.
    pub fn generated(seed: u64, mobile: &str) -> Account {
        let mut rng = rng_for(seed, mobile);
        let mut a = Account {
            mobile: mobile.to_string(),
            user_id: rng.digits(9),
            name: gen::person_name(&mut rng),
            id_no: id_card_no(&mut rng),
            real_name: true,
            patients: Vec::new(),
        };
        a.patients = vec![self_patient(&a, &mut rng)];
        a
    }
}

fn rng_for(seed: u64, mobile: &str) -> Rng {
    Rng::new(seed).fork(&format!("114yygh/account/{mobile}"))
}

fn self_patient(a: &Account, rng: &mut Rng) -> Patient {
    Patient {
        name: a.name.clone(),
        id_no: a.id_no.clone(),
        phone: a.mobile.clone(),
        cards: default_cards(&a.id_no, rng),
    }
}

fn default_cards(id_no: &str, rng: &mut Rng) -> Vec<Card> {
    let check = if rng.chance(0.3) {
        "X".to_string()
    } else {
        rng.digits(1)
    };
    vec![
        Card {
            card_type: "SOCIAL_SECURITY".into(),
            no: format!("1{}{check}", rng.digits(10)),
            medicare: "MEDICARE_CARD".into(),
        },
        Card {
            card_type: "IDENTITY_CARD".into(),
            no: id_no.to_string(),
            medicare: "SELF_PAY_CARD".into(),
        },
    ]
}

/// `411423199001012116` → `4114****2116`.
pub fn mask_middle(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return s.to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// `黄贺` → `*贺`.
pub fn mask_name(s: &str) -> String {
    let n = s.chars().count();
    let last: String = s.chars().skip(n.saturating_sub(1)).collect();
    format!("{}{last}", "*".repeat(n.saturating_sub(1)))
}

#[derive(Clone, Debug)]
struct Sms {
    code: String,
    sent_at: i64,
    attempts: u32,
}

/// A login: the account's mobile, and when the ticket was last used.
#[derive(Clone, Debug)]
struct Ticket {
    mobile: String,
    last_seen: i64,
}

/// Sessions, tickets, codes and accounts.
#[derive(Debug, Default)]
pub struct Auth {
    /// `imed_session` → (captcha answer, issued at).
    captchas: HashMap<String, (String, i64)>,
    tickets: HashMap<String, Ticket>,
    /// (mobile, smsKey) → the code last sent.
    sms: HashMap<(String, String), Sms>,
    pub accounts: HashMap<String, Account>,
    /// confirmToken → (mobile, uniqProductKey, issued at).
    confirm_tokens: HashMap<String, (String, String, i64)>,
}

impl Auth {
    /// Forgets every session, login and pending token (accounts stay).
    pub fn expire_all(&mut self) {
        self.captchas.clear();
        self.tickets.clear();
        self.confirm_tokens.clear();
    }

    /// The mobile logged in with this ticket (sliding expiry when `ttl_ms` > 0).
    pub fn mobile_of(&mut self, ticket: &str, now: i64, ttl_ms: i64) -> Option<String> {
        let t = self.tickets.get_mut(ticket)?;
        if ttl_ms > 0 && now - t.last_seen > ttl_ms {
            self.tickets.remove(ticket);
            return None;
        }
        t.last_seen = now;
        Some(t.mobile.clone())
    }

    /// Issues a `confirmToken` for this account and product.
    pub fn issue_confirm_token(
        &mut self,
        mobile: &str,
        key: &str,
        now: i64,
        rng: &mut Rng,
    ) -> String {
        let token = rng.hex(32);
        self.confirm_tokens
            .insert(token.clone(), (mobile.to_string(), key.to_string(), now));
        token
    }

    /// Whether a `confirmToken` is valid for this account and product (10 minutes).
    pub fn check_confirm_token(&self, token: &str, mobile: &str, key: &str, now: i64) -> bool {
        self.confirm_tokens
            .get(token)
            .is_some_and(|(m, k, at)| m == mobile && k == key && now - at <= 10 * 60_000)
    }

    /// Burns a used `confirmToken`.
    pub fn burn_confirm_token(&mut self, token: &str) {
        self.confirm_tokens.remove(token);
    }

    /// Checks (and on success burns) the SMS code for this mobile and key.
    pub fn check_sms(&mut self, mobile: &str, key: &str, code: &str, now: i64) -> bool {
        let k = (mobile.to_string(), key.to_string());
        let Some(s) = self.sms.get_mut(&k) else {
            return false;
        };
        if now - s.sent_at > CODE_TTL_MS || s.attempts >= MAX_SMS_ATTEMPTS {
            self.sms.remove(&k);
            return false;
        }
        if s.code == code.trim() {
            self.sms.remove(&k);
            true
        } else {
            s.attempts += 1;
            false
        }
    }

    /// The account of a mobile (generated on first sight).
    pub fn account(&mut self, seed: u64, mobile: &str) -> &Account {
        self.accounts
            .entry(mobile.to_string())
            .or_insert_with(|| Account::generated(seed, mobile))
    }
}

/// Reads the mobile of a request: AES (114 base64 flavour) of 11 digits, or — where the
/// site's pages send it in clear — 11 digits.
fn mobile_param(text: &str, allow_plain: bool) -> Option<String> {
    let t = text.trim();
    if allow_plain && t.len() == 11 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(t.to_string());
    }
    let m = decrypt_str(YYGH114_KEY, t, Encoding::Yygh114).ok()?;
    (m.len() == 11 && m.bytes().all(|b| b.is_ascii_digit()) && m.starts_with('1')).then_some(m)
}

/// `GET /web/img/getImgCode`: a PNG with four digits; the answer goes to the session
/// (and to the admin API's captcha answers, keyed by `imed_session`).
pub(crate) fn get_img_code(r: &mut Req) -> Vec<u8> {
    let (answer, png) = {
        let mut st = r.l.lock();
        let answer = st.rng.digits(4);
        let mut img_rng = st.rng.fork(&answer);
        st.rng.next_u64();
        let png = captcha::render(&answer, &mut img_rng);
        st.auth
            .captchas
            .insert(r.session.clone(), (answer.clone(), r.now));
        let code = st.rng.hex(32);
        r.cookies
            .push(web::set_cookie("agent_login_img_code", &code));
        (answer, png)
    };
    r.shared
        .captchas
        .put("114yygh", &r.session, Value::String(answer));
    png
}

/// `GET /web/checkcode?code=`: `data` true when the code matches the session's picture.
pub(crate) fn checkcode(r: &mut Req) -> Result<Value, ApiError> {
    let code = r.q.get("code").cloned().unwrap_or_default();
    let st = r.l.lock();
    let ok = st
        .auth
        .captchas
        .get(&r.session)
        .is_some_and(|(a, at)| r.now - at <= CODE_TTL_MS && a == code.trim());
    Ok(Value::Bool(ok))
}

/// `GET /web/common/verify-code/get?mobile=&smsKey=&code=[&uniqProductKey=]`.
pub(crate) fn verify_code_get(r: &mut Req) -> Result<Value, ApiError> {
    let sms_key = r.q.get("smsKey").cloned().unwrap_or_else(|| "LOGIN".into());
    let now = r.now;
    let interval = r.l.cfg.sms_interval_ms;
    let mobile_text = r.q.get("mobile").cloned().unwrap_or_default();
    let mut st = r.l.lock();
    let st = &mut *st;
    let mobile = match sms_key.as_str() {
        "LOGIN" => {
            let mobile = mobile_param(&mobile_text, false)
                .ok_or_else(|| ApiError::Code(1001, "手机号格式不正确".into()))?;
            let code =
                r.q.get("code")
                    .map(|c| c.trim().to_string())
                    .unwrap_or_default();
            let ok = st
                .auth
                .captchas
                .get(&r.session)
                .is_some_and(|(a, at)| now - at <= CODE_TTL_MS && *a == code);
            // One picture, one SMS: a wrong answer also needs a new picture.
            st.auth.captchas.remove(&r.session);
            if !ok {
                return Err(ApiError::Code(7002, "图形验证码输入错误".into()));
            }
            mobile
        }
        "ORDER_CODE" => {
            let Some(own) = r.mobile.clone() else {
                return Err(ApiError::NotLoggedIn);
            };
            if mobile_text.trim().is_empty() {
                own
            } else {
                mobile_param(&mobile_text, true)
                    .ok_or_else(|| ApiError::Code(1001, "手机号格式不正确".into()))?
            }
        }
        other => return Err(ApiError::Code(1001, format!("不支持的短信类型{other}"))),
    };
    let k = (mobile.clone(), sms_key.clone());
    if let Some(prev) = st.auth.sms.get(&k) {
        if now - prev.sent_at < interval {
            return Err(ApiError::Code(
                7003,
                "验证码发送过于频繁，请稍后再试".into(),
            ));
        }
    }
    let code = st.rng.digits(6);
    st.auth.sms.insert(
        k,
        Sms {
            code: code.clone(),
            sent_at: now,
            attempts: 0,
        },
    );
    let purpose = if sms_key == "LOGIN" {
        "登录"
    } else {
        "挂号"
    };
    let text = format!(
        "【北京114预约挂号】您正在进行{purpose}操作，短信验证码为【{code}】，5分钟内有效，请勿泄露给他人。"
    );
    r.shared.inbox.send("114yygh", &mobile, &code, &text, now);
    Ok(Value::Null)
}

/// `POST /web/login` `{"mobile": AES, "code": AES}` → sets `cmi-user-ticket`.
pub(crate) fn login(r: &mut Req) -> Result<Value, ApiError> {
    let body = r.json()?;
    let mobile = field(&body, "mobile")
        .and_then(|m| mobile_param(&m, false))
        .ok_or_else(|| ApiError::Code(1001, "手机号格式不正确".into()))?;
    let code = field(&body, "code")
        .and_then(|c| decrypt_str(YYGH114_KEY, &c, Encoding::Yygh114).ok())
        .ok_or_else(|| ApiError::Code(7001, "短信验证码错误".into()))?;
    let now = r.now;
    let seed = r.l.seed;
    let mut st = r.l.lock();
    let st: &mut State = &mut st;
    if !st.auth.check_sms(&mobile, "LOGIN", &code, now) {
        return Err(ApiError::Code(7001, "短信验证码错误".into()));
    }
    let ticket = format!(
        "{}..",
        st.rng.string(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            38,
        )
    );
    st.auth.tickets.insert(
        ticket.clone(),
        Ticket {
            mobile: mobile.clone(),
            last_seen: now,
        },
    );
    let a = st.auth.account(seed, &mobile);
    let data = json!({
        "userId": a.user_id,
        "authStatus": if a.real_name { "AUTH_PASS" } else { "NOT_AUTH" },
    });
    r.cookies.push(web::set_cookie("cmi-user-ticket", &ticket));
    r.cookies
        .push(web::set_cookie("imed_session_tm", &now.to_string()));
    Ok(data)
}

/// `GET /web/user/real-name/status`.
pub(crate) fn real_name_status(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    let seed = r.l.seed;
    let mut st = r.l.lock();
    let a = st.auth.account(seed, &mobile);
    Ok(if a.real_name {
        json!({
            "status": "AUTH_PASS",
            "name": mask_name(&a.name),
            "idTypeView": "居民身份证",
            "idNo": format!("******{}", a.id_no.chars().skip(a.id_no.chars().count().saturating_sub(4)).collect::<String>()),
            "message": "实名认证成功",
        })
    } else {
        json!({
            "status": "NOT_AUTH",
            "name": null,
            "idTypeView": null,
            "idNo": null,
            "message": "您还未进行实名认证，请先实名认证",
        })
    })
}

/// `GET /web/patient/list?showType=ORDER_CONFIRM`.
pub(crate) fn patient_list(r: &mut Req) -> Result<Value, ApiError> {
    let mobile = r.user()?;
    let seed = r.l.seed;
    let mut st = r.l.lock();
    let a = st.auth.account(seed, &mobile);
    let list: Vec<Value> = a
        .patients
        .iter()
        .map(|p| {
            json!({
                "patientName": p.name,
                "idCardType": "IDENTITY_CARD",
                "idCardTypeView": "居民身份证",
                "idCardNo": mask_middle(&p.id_no),
                "idCardNoView": mask_middle(&p.id_no),
                "phone": p.phone,
                "status": "BIND",
                "statusTips": "",
                "cardList": p.cards.iter().map(Card::to_json).collect::<Vec<_>>(),
                "options": [],
            })
        })
        .collect();
    Ok(json!({"count": list.len(), "list": list}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_the_site_does() {
        assert_eq!(mask_middle("411423199001012116"), "4114****2116");
        assert_eq!(mask_middle("12980000600X"), "1298****600X");
        assert_eq!(mask_name("黄贺"), "*贺");
        assert_eq!(mask_name("欧阳明"), "**明");
    }

    #[test]
    fn mobiles_are_read_from_the_seed_vector() {
        assert_eq!(
            mobile_param("8E91WgqSzEHTX_a_3cFOag==", false).as_deref(),
            Some("17796761085")
        );
        assert_eq!(mobile_param("17796761085", false), None);
        assert_eq!(
            mobile_param("17796761085", true).as_deref(),
            Some("17796761085")
        );
        assert_eq!(mobile_param("not base64!", false), None);
    }

    #[test]
    fn sms_codes_are_single_use_and_burn_after_attempts() {
        let mut a = Auth::default();
        let k = ("13800000000".to_string(), "LOGIN".to_string());
        a.sms.insert(
            k.clone(),
            Sms {
                code: "123456".into(),
                sent_at: 0,
                attempts: 0,
            },
        );
        assert!(!a.check_sms("13800000000", "LOGIN", "000000", 1));
        assert!(a.check_sms("13800000000", "LOGIN", "123456", 2));
        assert!(!a.check_sms("13800000000", "LOGIN", "123456", 3));
        a.sms.insert(
            k,
            Sms {
                code: "123456".into(),
                sent_at: 0,
                attempts: 0,
            },
        );
        assert!(!a.check_sms("13800000000", "LOGIN", "123456", CODE_TTL_MS + 1));
    }
}
