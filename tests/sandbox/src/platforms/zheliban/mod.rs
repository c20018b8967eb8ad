//! The 浙里办 health-check reservation sync simulator (seed 004, platforms.md).
//!
//! Here the client is a hospital's health-check centre pulling the reservations people
//! made on 浙里办. Four endpoints, all `POST`:
//!
//! | path | request (decrypted) | `result` of the reply |
//! |---|---|---|
//! | `/reservation/sync/token` | `{"apikey", "secret"}` | `{"expire": 86400000, "token": "eyJ…"}` |
//! | `/reservation/sync/order` | — | `[{requestId, serialNumber, erhcNo, name, cardType, idcard, birthdate, sexCode, isPregnant, married, mobile, hospitalCode, hospitalName, checkDate, hospitalPackageId, hospitalPackageName, addCombinationId, addCombinationName, examinationFee, orderStatus, payType, dataSources}]` |
//! | `/reservation/sync/callback` | `{"requestId"}` (whole batch) or `{"serialNumber"}` (one record); `requestId` wins when both | `null` |
//! | `/reservation/sync/arrival` | `{"serialNumber", "arriveDate"?}` (`yyyy-MM-dd HH:mm:ss`, default now) | `null` |
//!
//! **Wire format.** Bodies in and out are AES-128-ECB/PKCS5 + standard base64 under the
//! platform-issued key (`aes_key`). The seed names no form field for the request: its
//! example request *is* the ciphertext of the compact JSON (89 bytes → 128 base64
//! characters), so the sandbox reads the POST body (sent as form data,
//! `application/x-www-form-urlencoded`) as the ciphertext; it also accepts the
//! ciphertext URL-encoded in one form field (`content=`, `data=`, or the only field).
//! A successful reply is the whole envelope
//! `{"code":200,"message":"操作成功","success":true,"result":…,"timestamp":…}` encrypted
//! (`text/plain`; the seed's example reply decrypts to exactly that length); the token
//! reply keeps the seed's key order `code, message, result, success, timestamp`.
//! Failures are plain JSON as the seed prints them (unless `encrypt_errors`):
//! - `{"code":50002,"message":"数据有误","success":false,"result":null,"timestamp":…}`:
//!   undecryptable or non-JSON body, wrong `apikey`/`secret`, a required field missing
//!   (the pre-2021.4.29 `serial_number` is not read), a bad `arriveDate`;
//! - `{"code":500,"message":"数据有误，请联系平台"}` (two fields only): unknown `requestId`
//!   or `serialNumber` (or another hospital's), arrival of a cancelled reservation;
//! - the token: only in header `ACCESS-TOKEN`; HTTP 401 and code 401 with
//!   `token不能为空!` (missing), `token非法无效!` (unknown), `Token失效，请重新登录!`
//!   (expired after `token_ttl_ms` on the simulated clock, or the `session_expired` fault).
//!   The seed shows no token error; these are the JeecgBoot gateway's, whose
//!   `{code, message, success, result, timestamp}` envelope the seed's is.
//! - other methods: HTTP 405, code 405; other paths: HTTP 404, code 404.
//!
//! **Delivery** (see [`store`]): each pull returns up to `batch_size` unsynced records
//! of the token's hospital under a fresh 32-hex `requestId`; a record is delivered in
//! every pull until acked (by its batch's `requestId` or its `serialNumber`); a
//! reschedule (`orderStatus` 2) or cancellation (5) makes a new version that is delivered
//! again, even after an ack. Serial numbers are `<serial_prefix>-<n>`, `ZJ109-1`,
//! `ZJ109-2`, … for the default hospital (`100637` 杭州市第三人民医院体检中心).
//!
//! **Records** follow the seed field by field: dictionaries of platforms.md (`cardType`
//! mostly 1 身份证, a few 2/3/4; `sexCode` 1/2; `married` 1/2; `orderStatus` 1/2/5;
//! `isPregnant` boolean), 18-digit ID numbers with a correct check digit that agree with
//! `birthdate` and `sexCode`, `examinationFee` with two decimals (`2881.00`), add-on
//! items or `null`, `payType` 1 (支付宝) or 0, `dataSources` 益往健康/浙里办.
//! Deterministic per seed.
//!
//! **Scenario section** `zheliban:` (every field optional):
//! - `aes_key`: the 16-character key (default `ZLB-sandbox-key1`);
//! - `accounts`: `[{apikey, secret, hospital_code?, hospital_name?, serial_prefix?,
//!   reservations?, malformed?}]`, one hospital each (default: one account with the seed's
//!   example `apikey` `NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ` and `secret`
//!   `eAT9HgCQy6l6GjKY26CT0giy65PtXg4W`, hospital `100637`, prefix `ZJ109`);
//! - `batch_size`: records per pull (default 20, 1–1000);
//! - `reservations`: initial new reservations per hospital (default 12);
//! - `malformed`: initial malformed records per hospital, after the good ones (default 0);
//! - `token_ttl_ms`: token validity (default 86 400 000, 24 h);
//! - `code_style`: `number` (the seed's example reply, default), `string` (its field
//!   table) or `mixed` (per record) for `cardType`, `sexCode`, `married`, `orderStatus`,
//!   `payType`;
//! - `encrypt_errors`: encrypt failure replies too (default false);
//! - `changes`: scripted changes, each `{after_ms | at_ms | at, action, …}` where
//!   `after_ms` counts from the load, `at_ms` is Unix ms, `at` is Beijing
//!   `yyyy-MM-dd HH:mm:ss`; `action` is `reschedule` {`serialNumber`, `date`?},
//!   `cancel` {`serialNumber`}, `add` {`count`, `hospital_code`?} or `malformed`
//!   {`count`, `kinds`?, `hospital_code`?}.
//!
//! **Admin** (`POST /platform/zheliban/{action}`): `add_reservations` {`count` |
//! `records`: [partial records, seed field names], `hospital_code`?}, `reschedule`
//! {`serialNumber`, `date`?}, `cancel` {`serialNumber`}, `malformed` {`count`, `kinds`?,
//! `hospital_code`?} (kinds: [`data::MALFORMED_KINDS`]). `POST /release`
//! {`platform`: `zheliban`, `count`?, `hospital_code`?} adds new reservations.
//! `orders()` lists every record with `version`, `deliveredVersion`, `ackedVersion`,
//! `acked`, `deliveries`, `lastRequestId`, `arrived`, `arriveDate`, `malformed`,
//! `history` and the `record` as delivered.
//!
//! Faults: body faults other than `truncated` are applied to the *decrypted* reply and
//! re-encrypted (so `malformed`, `missing_field`, `rename_field` reach the client's JSON
//! parser); `truncated` cuts the ciphertext on the wire.

pub mod data;
pub mod http;
pub mod store;

use crate::clock;
use crate::faults::{self, FaultKind};
use crate::gen::Rng;
use crate::platforms::Platform;
use crate::shared::Shared;
use axum::Router;
use base64::Engine;
use data::Hospital;
use haoyuan_core::crypto::{self, Encoding};
use haoyuan_core::date::Date;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use store::{Change, CodeStyle, Store, StoreError};

/// The default platform-issued AES key (16 characters).
pub const DEFAULT_AES_KEY: &str = "ZLB-sandbox-key1";
/// The seed's example `apikey`, the default account's.
pub const DEFAULT_APIKEY: &str = "NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ";
/// The seed's example `secret`, the default account's.
pub const DEFAULT_SECRET: &str = "eAT9HgCQy6l6GjKY26CT0giy65PtXg4W";
/// 24 hours, the seed's token validity.
pub const DAY_MS: i64 = 86_400_000;

/// One hospital's credentials.
#[derive(Clone, Debug)]
pub struct Account {
    pub apikey: String,
    pub secret: String,
}

/// What a scenario section configures.
#[derive(Clone, Debug)]
pub struct Config {
    pub aes_key: Vec<u8>,
    /// Account `i` pulls the reservations of hospital `i`.
    pub accounts: Vec<Account>,
    pub hospitals: Vec<Hospital>,
    pub batch_size: usize,
    pub token_ttl_ms: i64,
    pub encrypt_errors: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            aes_key: DEFAULT_AES_KEY.as_bytes().to_vec(),
            accounts: Vec::new(),
            hospitals: Vec::new(),
            batch_size: 20,
            token_ttl_ms: DAY_MS,
            encrypt_errors: false,
        }
    }
}

/// What an `ACCESS-TOKEN` turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenCheck {
    /// Valid, for this account.
    Valid(usize),
    Missing,
    Invalid,
    Expired,
}

struct Tokens {
    /// token → (account, expires at, Unix ms).
    map: HashMap<String, (usize, i64)>,
    rng: Rng,
}

/// The 浙里办 platform.
pub struct Zheliban {
    shared: Arc<Shared>,
    config: RwLock<Arc<Config>>,
    store: Mutex<Store>,
    tokens: Mutex<Tokens>,
    /// Scripted changes, soonest first.
    changes: Mutex<Vec<(i64, Change)>>,
    next_change: AtomicI64,
}

impl Zheliban {
    /// An empty platform (the sandbox loads a scenario before serving).
    pub fn new(shared: Arc<Shared>) -> Zheliban {
        Zheliban {
            shared,
            config: RwLock::new(Arc::new(Config::default())),
            store: Mutex::new(Store::new(Vec::new(), CodeStyle::Number, Rng::new(0))),
            tokens: Mutex::new(Tokens {
                map: HashMap::new(),
                rng: Rng::new(0),
            }),
            changes: Mutex::new(Vec::new()),
            next_change: AtomicI64::new(i64::MAX),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|_| Arc::new(Config::default()))
    }

    fn today(&self, now: i64) -> Date {
        clock::beijing(now).0
    }

    /// Issues a token for an account, valid `token_ttl_ms` from `now`.
    fn issue_token(&self, cfg: &Config, account: usize, now: i64) -> String {
        let exp = now.saturating_add(cfg.token_ttl_ms);
        let aud = cfg
            .hospitals
            .get(account)
            .map(|h| h.code.clone())
            .unwrap_or_default();
        let Ok(mut t) = self.tokens.lock() else {
            return String::new();
        };
        let sub = t.rng.hex(32);
        let sig: Vec<u8> = (0..32).map(|_| t.rng.next_u64() as u8).collect();
        let b64 = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload =
            json!({"sub": sub, "aud": aud, "iss": "ywjk", "exp": exp / 1000, "iat": now / 1000});
        let token = format!(
            // {"typ":"JWT","alg":"HS256"}, as in the seed's token.
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.{}.{}",
            b64.encode(payload.to_string()),
            b64.encode(sig)
        );
        if t.map.len() >= 4096 {
            t.map.retain(|_, (_, e)| *e > now);
        }
        t.map.insert(token.clone(), (account, exp));
        token
    }

    /// Whether `token` is valid at `now`, and for which account.
    fn check_token(&self, token: &str, now: i64) -> TokenCheck {
        let Ok(t) = self.tokens.lock() else {
            return TokenCheck::Invalid;
        };
        match t.map.get(token) {
            None => TokenCheck::Invalid,
            Some(&(_, exp)) if now >= exp => TokenCheck::Expired,
            Some(&(account, _)) => TokenCheck::Valid(account),
        }
    }

    fn hospital_of(&self, body: &Value) -> Result<usize, String> {
        match body.get("hospital_code").and_then(Value::as_str) {
            None => Ok(0),
            Some(code) => self
                .store
                .lock()
                .ok()
                .and_then(|s| s.hospital_index(code))
                .ok_or_else(|| format!("no hospital {code}")),
        }
    }

    fn apply(&self, change: &Change) -> Result<Value, String> {
        let now = self.shared.clock.now_ms();
        let today = self.today(now);
        let mut store = self.store.lock().map_err(|_| "the store is poisoned")?;
        store
            .apply(change, now, today)
            .map_err(|e| describe(e, change))
    }
}

fn describe(e: StoreError, change: &Change) -> String {
    let serial = match change {
        Change::Reschedule { serial, .. } | Change::Cancel { serial } => serial.as_str(),
        _ => "",
    };
    match e {
        StoreError::Unknown => format!("no reservation “{serial}”"),
        StoreError::Cancelled => format!("reservation {serial} is cancelled"),
        StoreError::Bad(s) => s,
    }
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn uint(v: &Value, key: &str, default: u64) -> Result<u64, String> {
    match field(v, key) {
        None => Ok(default),
        Some(x) => x
            .as_u64()
            .ok_or_else(|| format!("{key} must be a non-negative integer, not {x}")),
    }
}

/// A count of records to make, at most 100 000 at a time.
fn count(v: &Value, key: &str, default: u64) -> Result<usize, String> {
    Ok(uint(v, key, default)?.min(100_000) as usize)
}

fn string(v: &Value, key: &str) -> Result<Option<String>, String> {
    match field(v, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(x) => Err(format!("{key} must be a string, not {x}")),
    }
}

fn serial_of(v: &Value) -> Result<String, String> {
    string(v, "serialNumber")?
        .or(string(v, "serial_number")?)
        .ok_or_else(|| "serialNumber is required".to_string())
}

fn date_of(v: &Value) -> Result<Option<Date>, String> {
    match string(v, "date")?.or(string(v, "checkDate")?) {
        None => Ok(None),
        Some(s) => Date::parse(&s).map(Some).map_err(|e| e.to_string()),
    }
}

fn kinds_of(v: &Value) -> Result<Vec<String>, String> {
    match field(v, "kinds") {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|k| {
                k.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("kinds holds strings, not {k}"))
            })
            .collect(),
        Some(x) => Err(format!("kinds must be a list, not {x}")),
    }
}

/// Unix ms of a Beijing `yyyy-MM-dd HH:mm:ss`.
fn beijing_ms(s: &str) -> Option<i64> {
    let norm = http::parse_datetime(s)?;
    let d = Date::parse(&norm[..10]).ok()?;
    let n = |r: std::ops::Range<usize>| norm[r].parse::<i64>().ok();
    let secs = n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    Some(d.to_days() * DAY_MS + secs * 1000 - 8 * 3_600_000)
}

/// A change of the scenario's `changes` or of an admin action (hospital codes resolved
/// through `hospital`).
fn parse_change(
    c: &Value,
    action: &str,
    hospital: &dyn Fn(&Value) -> Result<usize, String>,
) -> Result<Change, String> {
    Ok(match action {
        "reschedule" => Change::Reschedule {
            serial: serial_of(c)?,
            date: date_of(c)?,
        },
        "cancel" => Change::Cancel {
            serial: serial_of(c)?,
        },
        "add" | "add_reservations" => Change::Add {
            hospital: hospital(c)?,
            count: count(c, "count", 1)?,
        },
        "malformed" => Change::Malformed {
            hospital: hospital(c)?,
            count: count(c, "count", 1)?,
            kinds: kinds_of(c)?,
        },
        other => return Err(format!("unknown change action “{other}”")),
    })
}

impl Platform for Zheliban {
    fn id(&self) -> &'static str {
        "zheliban"
    }

    fn routes(self: Arc<Self>) -> Router {
        http::routes(self)
    }

    fn load(&self, seed: u64, section: &Value) -> Result<(), String> {
        if !(section.is_object() || section.is_null()) {
            return Err("the zheliban section must be a mapping".into());
        }
        let now = self.shared.clock.now_ms();
        let today = self.today(now);
        let root = Rng::new(seed).fork("zheliban");
        let mut hrng = root.fork("hospitals");

        let key = string(section, "aes_key")?.unwrap_or_else(|| DEFAULT_AES_KEY.into());
        if key.len() != 16 {
            return Err(format!(
                "aes_key must be 16 bytes (AES-128), “{key}” is {}",
                key.len()
            ));
        }
        let style = match string(section, "code_style")?.as_deref() {
            None | Some("number") => CodeStyle::Number,
            Some("string") => CodeStyle::String,
            Some("mixed") => CodeStyle::Mixed,
            Some(o) => return Err(format!("code_style is number, string or mixed, not “{o}”")),
        };
        let default_count = uint(section, "reservations", 12)?;
        let default_malformed = uint(section, "malformed", 0)?;
        let account_list = match field(section, "accounts") {
            None => vec![json!({"apikey": DEFAULT_APIKEY, "secret": DEFAULT_SECRET})],
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            Some(x) => return Err(format!("accounts must be a non-empty list, not {x}")),
        };
        let mut accounts = Vec::new();
        let mut hospitals: Vec<Hospital> = Vec::new();
        let mut counts = Vec::new();
        for (i, a) in account_list.iter().enumerate() {
            let (Some(apikey), Some(secret)) = (string(a, "apikey")?, string(a, "secret")?) else {
                return Err(format!("account {i} needs apikey and secret"));
            };
            let mut h = data::hospital(&mut hrng, i);
            if let Some(c) = string(a, "hospital_code")? {
                h.code = c;
            }
            if let Some(n) = string(a, "hospital_name")? {
                h.name = n;
            }
            if let Some(p) = string(a, "serial_prefix")? {
                h.prefix = p;
            }
            if hospitals
                .iter()
                .any(|o| o.code == h.code || o.prefix == h.prefix)
            {
                return Err(format!(
                    "account {i}: hospital code {} or serial prefix {} is taken",
                    h.code, h.prefix
                ));
            }
            accounts.push(Account { apikey, secret });
            hospitals.push(h);
            counts.push((
                count(a, "reservations", default_count)?,
                count(a, "malformed", default_malformed)?,
            ));
        }
        let batch_size = uint(section, "batch_size", 20)?.clamp(1, 1000) as usize;
        let cfg = Config {
            aes_key: key.into_bytes(),
            accounts,
            hospitals: hospitals.clone(),
            batch_size,
            token_ttl_ms: uint(section, "token_ttl_ms", DAY_MS as u64)?.min(i64::MAX as u64) as i64,
            encrypt_errors: field(section, "encrypt_errors")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };

        let mut store = Store::new(hospitals, style, root.fork("records"));
        for (h, &(good, bad)) in counts.iter().enumerate() {
            store.add_generated(h, good, now, today);
            store
                .add_malformed(h, bad, &[], now, today)
                .map_err(|e| format!("{e:?}"))?;
        }

        let mut changes = Vec::new();
        if let Some(list) = field(section, "changes") {
            let list = list.as_array().ok_or("changes must be a list")?;
            for c in list {
                let at = if let Some(ms) = field(c, "after_ms") {
                    now + ms.as_i64().ok_or("after_ms must be an integer")?
                } else if let Some(ms) = field(c, "at_ms") {
                    ms.as_i64().ok_or("at_ms must be an integer")?
                } else if let Some(s) = string(c, "at")? {
                    beijing_ms(&s).ok_or_else(|| format!("at “{s}” is not yyyy-MM-dd HH:mm:ss"))?
                } else {
                    return Err(format!("change {c} needs after_ms, at_ms or at"));
                };
                let action = string(c, "action")?.ok_or("a change needs an action")?;
                let by_code = |v: &Value| match string(v, "hospital_code")? {
                    None => Ok(0),
                    Some(code) => store
                        .hospital_index(&code)
                        .ok_or_else(|| format!("no hospital {code}")),
                };
                changes.push((at, parse_change(c, &action, &by_code)?));
            }
        }
        changes.sort_by_key(|(at, _)| *at);

        if let Ok(mut c) = self.config.write() {
            *c = Arc::new(cfg);
        }
        if let Ok(mut s) = self.store.lock() {
            *s = store;
        }
        if let Ok(mut t) = self.tokens.lock() {
            t.map.clear();
            t.rng = root.fork("tokens");
        }
        let next = changes.first().map_or(i64::MAX, |(at, _)| *at);
        if let Ok(mut c) = self.changes.lock() {
            *c = changes;
        }
        self.next_change.store(next, Ordering::SeqCst);
        Ok(())
    }

    fn tick(&self, now_ms: i64) {
        if now_ms < self.next_change.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut changes) = self.changes.lock() else {
            return;
        };
        let due = changes.iter().take_while(|(at, _)| *at <= now_ms).count();
        for (_, c) in changes.drain(..due) {
            // A scripted change that no longer applies (say, a cancelled record) is skipped.
            let _ = self.apply(&c);
        }
        let next = changes.first().map_or(i64::MAX, |(at, _)| *at);
        self.next_change.store(next, Ordering::SeqCst);
    }

    fn release(&self, spec: &Value) -> Result<Value, String> {
        let change = Change::Add {
            hospital: self.hospital_of(spec)?,
            count: count(spec, "count", 1)?,
        };
        self.apply(&change)
    }

    fn orders(&self) -> Value {
        self.store.lock().map(|s| s.orders()).unwrap_or(Value::Null)
    }

    fn expire_sessions(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            t.map.values_mut().for_each(|(_, exp)| *exp = i64::MIN);
        }
    }

    fn admin(&self, action: &str, body: &Value) -> Result<Value, String> {
        if action == "add_reservations" {
            if let Some(records) = field(body, "records") {
                let records = records.as_array().ok_or("records must be a list")?;
                let h = self.hospital_of(body)?;
                let now = self.shared.clock.now_ms();
                let today = self.today(now);
                let mut store = self.store.lock().map_err(|_| "the store is poisoned")?;
                let mut serials = Vec::new();
                for r in records {
                    let m = r.as_object().ok_or("each record is a mapping")?;
                    let s = store.add_with(h, m, now, today).map_err(|e| {
                        describe(
                            e,
                            &Change::Add {
                                hospital: h,
                                count: 0,
                            },
                        )
                    })?;
                    serials.push(s);
                }
                return Ok(json!({ "serialNumbers": serials }));
            }
        }
        let change = match action {
            "add_reservations" | "reschedule" | "cancel" | "malformed" => {
                parse_change(body, action, &|v| self.hospital_of(v))?
            }
            other => return Err(format!("zheliban has no admin action “{other}”")),
        };
        self.apply(&change)
    }

    fn mangle_body(&self, kind: &FaultKind, body: &[u8]) -> Vec<u8> {
        if *kind != FaultKind::Truncated {
            let cfg = self.config();
            let plain = std::str::from_utf8(body)
                .ok()
                .and_then(|t| crypto::decrypt(&cfg.aes_key, t, Encoding::Standard).ok());
            if let Some(plain) = plain {
                let mangled = faults::mangle_body(kind, &plain);
                if let Ok(b64) = crypto::encrypt(&cfg.aes_key, &mangled, Encoding::Standard) {
                    return b64.into_bytes();
                }
            }
        }
        faults::mangle_body(kind, body)
    }
}
