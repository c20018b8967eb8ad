//! Booking one slot as a step machine:
//!
//! ```text
//! Send(product/detail) ─▶ Decode(fcode/ncode) ─decoded▶ pick the slot by the watch's filters
//!   ─▶ Send(product/confirm)        keep confirmToken; 8008 (gone) ─▶ the next matching slot
//!   ─▶ Send(user/real-name/status)  not AUTH_PASS ─▶ Failed
//!   ─▶ Send(patient/list)           the watch's patient (by name), else the first
//!   ─▶ [dataItem.smsCode = 4] Send(verify-code/get smsKey=ORDER_CODE) ─▶ AskUser(OrderSms)
//!   ─▶ Send(order/save)             7001 ─▶ ask the SMS again; 8009 ─▶ confirm again
//!   ─▶ Send(order/detail)           BOOKING_SUCCESS ─▶ Done(Booked)
//! ```
//!
//! **At most one order.** `order/save` is sent again only after the site answered the
//! previous one with a definite refusal that made no order (7001 SMS wrong, 8009
//! confirmation expired). When its outcome is unknown — no reply, a timeout, HTTP 5xx, an
//! unreadable reply — it is never sent again: if an order number can be read (even from a
//! truncated reply) the order is checked with `order/detail`; otherwise the outcome is
//! [`BookingOutcome::Unknown`] and the person is told to look at their orders.
//! [`Booking::order_save_sent`] tells the caller when to have recorded its intent.
//!
//! The machine can also start from a `product/detail` the watcher already has (and has
//! decoded), saving a request in the race for a slot: [`Booking::start_with_detail`].

use super::model::{
    parse_order_detail, parse_order_save, parse_patient_list, parse_product_confirm,
    parse_product_detail, parse_real_name_status, parse_verify_code, Card, Confirm, DayDetail,
    OrderStatus, Patient,
};
use super::{mask_phone, ApiError, ClinicRef, Error, OrderForm, OutOfTurn, Prompt, Site, Step};
use crate::date::Date;
use crate::http::HttpResponse;
use crate::watch::Filters;
use serde::{Deserialize, Serialize};

/// Slots tried (at `product/confirm`) before giving up.
pub const MAX_CANDIDATES: usize = 3;
/// SMS codes typed for one order before giving up.
pub const MAX_ORDER_SMS_TRIES: u32 = 3;
/// Times `product/confirm` is repeated after `order/save` said the confirmation expired.
pub const MAX_RECONFIRMS: u32 = 1;
/// `order/detail` requests for one order number before reporting the outcome unknown.
pub const MAX_DETAIL_CHECKS: u32 = 2;

/// Which patient and card to book with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PatientChoice {
    /// The patient's name as on the account (empty: the first patient).
    pub name: String,
    /// `cardType` to use, e.g. `SOCIAL_SECURITY` (empty: the patient's first card).
    pub card_type: String,
    /// The card number, full or as shown (masked), or its last four characters (empty:
    /// any card of the type).
    pub card_no: String,
}

/// What to book: the clinic and day, the watch's filters, the patient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub clinic: ClinicRef,
    pub date: Date,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default)]
    pub patient: PatientChoice,
}

/// Obfuscated numbers of one product, for the caller to decode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodeItem {
    pub uniq_product_key: String,
    /// The font to decode with (resolved `dutyImgUrl`).
    pub font_url: String,
    /// `fcode` (price) code points.
    pub fcode_points: Vec<char>,
    /// `ncode` (remaining) code points.
    pub ncode_points: Vec<char>,
}

/// What the caller read from a product's obfuscated numbers; `None` where a glyph could
/// not be classified (the machine then falls back to the `wnumber` parity rule for the
/// count, and to `product/confirm`'s clear `serviceFee` for the fee).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    pub uniq_product_key: String,
    pub remaining: Option<u32>,
    /// Yuan.
    pub fee: Option<f64>,
}

/// A booked order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub order_no: String,
    /// e.g. `2026年11月30日 周一 下午` (plus the period when there is one).
    pub visit_time: String,
    /// Hospital · clinic · where to pick up the number.
    pub place: String,
    pub doctor: String,
    pub doctor_title: String,
    pub fee: String,
    pub patient_name: String,
    /// The site's status text (预约成功).
    pub status_view: String,
}

/// Why nothing was booked (no order exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// No slot matched the filters or none was left (keep watching).
    NoMatchingSlot,
    /// The slot was taken or closed before the order went in (keep watching).
    SlotGone,
    /// Only slots above the highest fee were left.
    FeeAboveLimit,
    /// The session is gone (102/2009): log in again.
    SessionExpired,
    /// The account has not passed real-name verification.
    NotRealName,
    /// No such patient or card on the account.
    NoPatient,
    /// The SMS code was not accepted.
    SmsRejected,
    /// The site refused (another code), or is refusing requests (403/5xx) before the order.
    SiteRefused,
    /// A reply before the order could not be read (the site may have changed).
    Unreadable,
    /// The person did not give the SMS code in time.
    NoAnswer,
}

/// How a booking ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum BookingOutcome {
    /// Booked and confirmed by `order/detail`.
    Booked(Booked),
    /// Nothing was ordered.
    Failed {
        reason: FailReason,
        message: String,
        error: Option<Error>,
    },
    /// An order may exist: do not book this watch again before the person checked.
    Unknown {
        order_no: Option<String>,
        message: String,
    },
}

/// Where the machine is (for events and for the caller's intent record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    Detail,
    Decode,
    Confirm,
    RealName,
    Patients,
    OrderSms,
    SmsAnswer,
    OrderSave,
    OrderDetail,
    Done,
}

/// The slot picked from `product/detail`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub uniq_product_key: String,
    pub duty_time: u32,
    pub doctor_name: String,
    pub doctor_title: String,
    pub duty: super::model::Duty,
    pub period_view: String,
    /// Decoded fee, when known.
    pub fee: Option<f64>,
}

type BStep = Step<BookingOutcome>;

/// Booking of one slot for one watch.
#[derive(Clone, Debug)]
pub struct Booking {
    site: Site,
    plan: Plan,
    stage: Stage,
    detail: Option<DayDetail>,
    candidates: Vec<Choice>,
    tried: usize,
    choice: Option<Choice>,
    confirm: Option<Confirm>,
    patient: Option<(Patient, Card)>,
    form: Option<OrderForm>,
    sms_code: String,
    order_no: Option<String>,
    sms_tries: u32,
    reconfirms: u32,
    detail_checks: u32,
    order_save_sent: bool,
}

impl Booking {
    pub fn new(site: Site, plan: Plan) -> Booking {
        Booking {
            site,
            plan,
            stage: Stage::New,
            detail: None,
            candidates: Vec::new(),
            tried: 0,
            choice: None,
            confirm: None,
            patient: None,
            form: None,
            sms_code: String::new(),
            order_no: None,
            sms_tries: 0,
            reconfirms: 0,
            detail_checks: 0,
            order_save_sent: false,
        }
    }

    /// Books for this patient and card, already read from the account (and the account
    /// already known to have passed real-name verification): after `product/confirm`
    /// the order goes out without asking `real-name/status` and `patient/list` again.
    pub fn with_account(mut self, patient: Patient, card: Card) -> Booking {
        self.patient = Some((patient, card));
        self
    }

    /// Where the machine is.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Whether an `order/save` has been handed to the caller. From the moment the
    /// machine returns `Send(order/save)` the caller must have recorded "an order may
    /// exist for this watch" (conduct: never a second order).
    pub fn order_save_sent(&self) -> bool {
        self.order_save_sent
    }

    /// The slot being booked, once picked.
    pub fn choice(&self) -> Option<&Choice> {
        self.choice.as_ref()
    }

    /// The order number, once the site gave one.
    pub fn order_no(&self) -> Option<&str> {
        self.order_no.as_deref()
    }

    fn out_of_turn(&self, given: &'static str) -> OutOfTurn {
        let waiting = match self.stage {
            Stage::New => "not started",
            Stage::Decode => "waiting for decoded numbers",
            Stage::SmsAnswer => "waiting for the SMS code from the person",
            Stage::Done => "finished",
            _ => "waiting for a reply",
        };
        OutOfTurn {
            flow: "booking",
            given,
            waiting,
        }
    }

    fn finish(&mut self, outcome: BookingOutcome) -> BStep {
        self.stage = Stage::Done;
        Step::done(outcome)
    }

    fn fail(
        &mut self,
        reason: FailReason,
        message: impl Into<String>,
        error: Option<Error>,
    ) -> BStep {
        self.finish(BookingOutcome::Failed {
            reason,
            message: message.into(),
            error,
        })
    }

    /// A failure before any order: typed from the site's error.
    fn fail_err(&mut self, what: &str, e: Error) -> BStep {
        let reason = match &e {
            Error::Api { error, .. } => match error {
                ApiError::NotLoggedIn { .. } => FailReason::SessionExpired,
                ApiError::NotRealName { .. } => FailReason::NotRealName,
                ApiError::Final { .. } => FailReason::SlotGone,
                ApiError::SmsWrong { .. } => FailReason::SmsRejected,
                _ => FailReason::SiteRefused,
            },
            Error::Http { .. } => FailReason::SiteRefused,
            Error::Parse(_) => FailReason::Unreadable,
        };
        let message = match reason {
            FailReason::SessionExpired => {
                format!("{what}: the 114 session expired; log in again (nothing was booked)")
            }
            _ => format!("{what}: {e} (nothing was booked)"),
        };
        self.fail(reason, message, Some(e))
    }

    fn unknown(&mut self, message: impl Into<String>) -> BStep {
        let order_no = self.order_no.clone();
        self.finish(BookingOutcome::Unknown {
            order_no,
            message: message.into(),
        })
    }

    /// Starts by asking for the day's `product/detail`.
    pub fn start(&mut self, now_ms: i64) -> Result<BStep, OutOfTurn> {
        if self.stage != Stage::New {
            return Err(self.out_of_turn("a start"));
        }
        self.stage = Stage::Detail;
        Ok(Step::send(self.site.product_detail(
            now_ms,
            &self.plan.clinic,
            self.plan.date,
        )))
    }

    /// Starts from a `product/detail` the caller already read and decoded (no request).
    pub fn start_with_detail(
        &mut self,
        now_ms: i64,
        detail: DayDetail,
        decoded: &[Decoded],
    ) -> Result<BStep, OutOfTurn> {
        if self.stage != Stage::New {
            return Err(self.out_of_turn("a start"));
        }
        self.detail = Some(detail);
        self.stage = Stage::Decode;
        self.decoded(now_ms, decoded)
    }

    /// The decoded numbers asked for by [`Step::Decode`] (missing products count as not
    /// decoded).
    pub fn decoded(&mut self, now_ms: i64, decoded: &[Decoded]) -> Result<BStep, OutOfTurn> {
        if self.stage != Stage::Decode {
            return Err(self.out_of_turn("decoded numbers"));
        }
        let Some(detail) = self.detail.take() else {
            return Err(self.out_of_turn("decoded numbers"));
        };
        let candidates = choose(&detail, &self.plan.filters, decoded);
        if candidates.is_empty() {
            let reason = if has_slot_over_fee(&detail, &self.plan.filters, decoded) {
                FailReason::FeeAboveLimit
            } else {
                FailReason::NoMatchingSlot
            };
            let message = match reason {
                FailReason::FeeAboveLimit => format!(
                    "{}: the slots left cost more than the highest fee set",
                    self.plan.date
                ),
                _ => format!(
                    "{}: no slot left that matches the watch's period, doctor and title filters",
                    self.plan.date
                ),
            };
            return Ok(self.fail(reason, message, None));
        }
        self.candidates = candidates;
        self.tried = 0;
        Ok(self.confirm_next(now_ms))
    }

    /// Confirms the next candidate, or fails when none is left.
    fn confirm_next(&mut self, now_ms: i64) -> BStep {
        if self.tried >= self.candidates.len().min(MAX_CANDIDATES) {
            return self.fail(
                FailReason::SlotGone,
                "the matching slots were taken before the order could be placed (nothing was booked)",
                None,
            );
        }
        let c = self.candidates[self.tried].clone();
        self.tried += 1;
        self.stage = Stage::Confirm;
        let req = self.site.product_confirm(
            now_ms,
            &self.plan.clinic,
            self.plan.date,
            c.duty_time,
            &c.uniq_product_key,
        );
        self.choice = Some(c);
        Step::send(req)
    }

    /// The network gave no reply (timeout, connection lost) to the last request.
    pub fn no_response(&mut self, now_ms: i64, detail: &str) -> Result<BStep, OutOfTurn> {
        match self.stage {
            Stage::Detail
            | Stage::Confirm
            | Stage::RealName
            | Stage::Patients
            | Stage::OrderSms => Ok(self.fail(
                FailReason::SiteRefused,
                format!("the 114 site did not answer ({detail}); nothing was booked"),
                None,
            )),
            Stage::OrderSave => Ok(self.unknown(format!(
                "the order was sent but no reply came ({detail}); it may or may not have been \
                 placed. Haoyuan will not send it again: check “我的订单” on 114"
            ))),
            Stage::OrderDetail => Ok(self.check_again(now_ms, detail)),
            _ => Err(self.out_of_turn("a missing reply")),
        }
    }

    /// Another `order/detail`, or Unknown when the checks are used up.
    fn check_again(&mut self, now_ms: i64, why: &str) -> BStep {
        let Some(no) = self.order_no.clone() else {
            return self.unknown(format!("the order could not be checked ({why})"));
        };
        if self.detail_checks >= MAX_DETAIL_CHECKS {
            return self.unknown(format!(
                "order {no} was placed but its state could not be read ({why}); check “我的订单” on 114"
            ));
        }
        self.detail_checks += 1;
        self.stage = Stage::OrderDetail;
        Step::send(
            self.site
                .order_detail(now_ms, &self.plan.clinic.hos_code, &no),
        )
    }

    /// The reply to the last request.
    pub fn feed(&mut self, now_ms: i64, resp: &HttpResponse) -> Result<BStep, OutOfTurn> {
        Ok(match self.stage {
            Stage::Detail => match parse_product_detail(&self.site, resp) {
                Ok(detail) => {
                    let items = decode_items(&detail);
                    self.detail = Some(detail);
                    self.stage = Stage::Decode;
                    if items.is_empty() {
                        // Nothing to decode (the day is not open or has no doctors).
                        return self.decoded(now_ms, &[]);
                    }
                    Step::Decode { items }
                }
                Err(e @ Error::Api { error: ApiError::Final { .. }, .. }) => self.fail(
                    FailReason::NoMatchingSlot,
                    format!("{} is not open for booking ({e})", self.plan.date),
                    Some(e),
                ),
                Err(e) => self.fail_err("the day's slots could not be read", e),
            },
            Stage::Confirm => match parse_product_confirm(resp) {
                Ok(c) => {
                    let max = self.plan.filters.max_fee;
                    if let (Some(max), Some(fee)) = (max, c.fee_yuan()) {
                        if fee > max {
                            // The decoded fee was unknown; the clear one is too high.
                            return Ok(self.confirm_next_or(
                                now_ms,
                                FailReason::FeeAboveLimit,
                                format!("the slot costs {fee} yuan, above the highest fee {max} (nothing was booked)"),
                            ));
                        }
                    }
                    self.confirm = Some(c);
                    if self.patient.is_some() {
                        // Confirmed again after 8009: account and patient are known.
                        return Ok(self.after_patient(now_ms));
                    }
                    self.stage = Stage::RealName;
                    Step::send(self.site.real_name_status(now_ms))
                }
                Err(Error::Api { error: ApiError::Final { .. }, .. }) => self.confirm_next(now_ms),
                Err(e) => self.fail_err("the slot could not be confirmed", e),
            },
            Stage::RealName => match parse_real_name_status(resp) {
                Ok(r) if r.passed() => {
                    self.stage = Stage::Patients;
                    Step::send(self.site.patient_list(now_ms))
                }
                Ok(r) => self.fail(
                    FailReason::NotRealName,
                    format!(
                        "the 114 account has not passed real-name verification ({}); finish it on the site first",
                        if r.message.is_empty() { &r.status } else { &r.message }
                    ),
                    None,
                ),
                Err(e) => self.fail_err("the account's real-name status could not be read", e),
            },
            Stage::Patients => match parse_patient_list(resp) {
                Ok(list) => match pick_patient(&list, &self.plan.patient) {
                    Ok((p, card)) => {
                        self.patient = Some((p, card));
                        self.after_patient(now_ms)
                    }
                    Err(message) => self.fail(FailReason::NoPatient, message, None),
                },
                Err(e) => self.fail_err("the patients could not be read", e),
            },
            Stage::OrderSms => match parse_verify_code(resp) {
                Ok(()) => {
                    self.stage = Stage::SmsAnswer;
                    Step::ask(Prompt::OrderSms {
                        phone: self.phone_masked(),
                        note: None,
                    })
                }
                Err(e) => self.fail_err("the booking SMS code could not be requested", e),
            },
            Stage::OrderSave => self.on_order_save(now_ms, resp),
            Stage::OrderDetail => match parse_order_detail(resp) {
                Ok(d) => match d.status {
                    OrderStatus::BookingSuccess => {
                        let fee = if d.service_fee.is_empty() {
                            self.confirm.as_ref().map(|c| c.service_fee.clone()).unwrap_or_default()
                        } else {
                            d.service_fee.clone()
                        };
                        let booked = Booked {
                            order_no: d.order_no.clone(),
                            visit_time: d.visit_time(),
                            place: d.place(),
                            doctor: d.doctor_name.clone(),
                            doctor_title: d.doctor_title.clone(),
                            fee,
                            patient_name: d.patient_name.clone(),
                            status_view: d.status_view.clone(),
                        };
                        self.finish(BookingOutcome::Booked(booked))
                    }
                    other => self.unknown(format!(
                        "order {} is in state {} ({}), not “booked”; check it on 114",
                        d.order_no,
                        other.as_str(),
                        d.status_view
                    )),
                },
                Err(e) if e.should_back_off() || matches!(e, Error::Parse(_)) => {
                    self.check_again(now_ms, &e.to_string())
                }
                Err(e) => self.unknown(format!(
                    "order {} was placed but could not be checked: {e}; check “我的订单” on 114",
                    self.order_no.as_deref().unwrap_or("?")
                )),
            },
            _ => return Err(self.out_of_turn("a reply")),
        })
    }

    fn confirm_next_or(&mut self, now_ms: i64, reason: FailReason, message: String) -> BStep {
        if self.tried < self.candidates.len().min(MAX_CANDIDATES) {
            self.confirm_next(now_ms)
        } else {
            self.fail(reason, message, None)
        }
    }

    fn phone(&self) -> String {
        self.patient
            .as_ref()
            .map(|(p, _)| p.phone.clone())
            .unwrap_or_default()
    }

    fn phone_masked(&self) -> String {
        let p = self.phone();
        if p.is_empty() {
            "the account's phone".into()
        } else {
            mask_phone(&p)
        }
    }

    /// After the patient: the SMS when the site asks for one, else the order.
    fn after_patient(&mut self, now_ms: i64) -> BStep {
        let needs_sms = self.confirm.as_ref().is_some_and(Confirm::needs_sms);
        if needs_sms && self.sms_code.is_empty() {
            let key = self
                .choice
                .as_ref()
                .map(|c| c.uniq_product_key.clone())
                .unwrap_or_default();
            self.stage = Stage::OrderSms;
            return Step::send(self.site.verify_code_order(now_ms, &self.phone(), &key));
        }
        self.save(now_ms)
    }

    fn save(&mut self, now_ms: i64) -> BStep {
        let (Some(choice), Some(confirm), Some((patient, card))) =
            (&self.choice, &self.confirm, &self.patient)
        else {
            return self.fail(
                FailReason::Unreadable,
                "the booking lost track of its slot or patient (nothing was booked)",
                None,
            );
        };
        let sms_code = self.sms_code.clone();
        let form = OrderForm {
            clinic: self.plan.clinic.clone(),
            date: self.plan.date,
            duty_time: choice.duty_time,
            uniq_product_key: choice.uniq_product_key.clone(),
            card_type: card.card_type.clone(),
            card_no: card.card_no.clone(),
            phone: patient.phone.clone(),
            sms_code,
            confirm_token: confirm.confirm_token.clone(),
        };
        let req = self.site.order_save(now_ms, &form);
        self.form = Some(form);
        self.stage = Stage::OrderSave;
        self.order_save_sent = true;
        Step::send(req)
    }

    fn on_order_save(&mut self, now_ms: i64, resp: &HttpResponse) -> BStep {
        match parse_order_save(resp) {
            Ok(saved) => match saved.order_no {
                Some(no) => {
                    self.order_no = Some(no);
                    self.detail_checks = 0;
                    self.check_again(now_ms, "")
                }
                None => self.unknown(format!(
                    "the site accepted the order without an order number ({}); check “我的订单” on 114",
                    saved.msg.unwrap_or_else(|| "no message".into())
                )),
            },
            Err(Error::Api { error: ApiError::SmsWrong { .. }, .. })
                if self.confirm.as_ref().is_some_and(Confirm::needs_sms) =>
            {
                // A definite refusal: no order was made; ask for the code again.
                if self.sms_tries >= MAX_ORDER_SMS_TRIES {
                    return self.fail(
                        FailReason::SmsRejected,
                        format!("the SMS code was not accepted {MAX_ORDER_SMS_TRIES} times (nothing was booked)"),
                        None,
                    );
                }
                self.sms_code.clear();
                self.stage = Stage::SmsAnswer;
                Step::ask(Prompt::OrderSms {
                    phone: self.phone_masked(),
                    note: Some("the site did not accept that code; check the SMS and type it again".into()),
                })
            }
            Err(e @ Error::Api { error: ApiError::ConfirmExpired { .. }, .. }) => {
                // A definite refusal: no order was made; confirm the same slot again.
                if self.reconfirms >= MAX_RECONFIRMS {
                    return self.fail_err("the booking confirmation kept expiring", e);
                }
                self.reconfirms += 1;
                self.stage = Stage::Confirm;
                self.tried = self.tried.saturating_sub(1);
                self.confirm_next(now_ms)
            }
            Err(e @ Error::Api { .. }) => {
                let mut step = self.fail_err("the site refused the order", e);
                if let Step::Done {
                    outcome: BookingOutcome::Failed { message, .. },
                } = &mut step
                {
                    // A refusal makes no order, but 8008 may mean an earlier one exists.
                    *message = message.replace("(nothing was booked)", "(this request placed no order)");
                }
                step
            }
            Err(e) => {
                // No definite answer: an order may exist. Never send order/save again.
                if let Some(no) = salvage_order_no(&resp.body) {
                    self.order_no = Some(no);
                    self.detail_checks = 0;
                    return self.check_again(now_ms, &e.to_string());
                }
                self.unknown(format!(
                    "the order was sent but the reply could not be read ({e}); it may or may not \
                     have been placed. Haoyuan will not send it again: check “我的订单” on 114"
                ))
            }
        }
    }

    /// The person's answer to the last prompt (the booking SMS code).
    pub fn answer(&mut self, now_ms: i64, text: &str) -> Result<BStep, OutOfTurn> {
        if self.stage != Stage::SmsAnswer {
            return Err(self.out_of_turn("an answer"));
        }
        let code = text.trim();
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Step::ask(Prompt::OrderSms {
                phone: self.phone_masked(),
                note: Some("type the code from the SMS (digits only)".into()),
            }));
        }
        self.sms_tries += 1;
        self.sms_code = code.to_string();
        Ok(self.save(now_ms))
    }
}

/// The decode requests of a day's products.
pub(crate) fn decode_items(detail: &DayDetail) -> Vec<DecodeItem> {
    detail
        .products()
        .map(|(b, p)| DecodeItem {
            uniq_product_key: p.uniq_product_key.clone(),
            font_url: b.font_url.clone(),
            fcode_points: p.fcode_points.clone(),
            ncode_points: p.ncode_points.clone(),
        })
        .collect()
}

fn find_decoded<'a>(decoded: &'a [Decoded], key: &str) -> Option<&'a Decoded> {
    decoded.iter().find(|d| d.uniq_product_key == key)
}

/// Position of `value` in `list` (0 when the list is empty: no preference).
fn rank(list: &[String], value: &str) -> Option<usize> {
    if list.is_empty() {
        return Some(0);
    }
    list.iter().position(|x| x.trim() == value.trim())
}

/// The matching, bookable slots of a day, best first (the filters' order is the
/// person's preference: periods, then doctors, then titles; the site's order breaks ties).
pub fn choose(detail: &DayDetail, filters: &Filters, decoded: &[Decoded]) -> Vec<Choice> {
    let mut out: Vec<((usize, usize, usize), Choice)> = Vec::new();
    for (b, p) in detail.products() {
        let period_rank = if filters.periods.is_empty() {
            Some(0)
        } else {
            b.duty
                .period()
                .and_then(|per| filters.periods.iter().position(|x| *x == per))
        };
        let (Some(pr), Some(dr), Some(tr)) = (
            period_rank,
            rank(&filters.doctors, &p.doctor_name),
            rank(&filters.titles, &p.doctor_title),
        ) else {
            continue;
        };
        let d = find_decoded(decoded, &p.uniq_product_key);
        let bookable = match d.and_then(|d| d.remaining) {
            Some(n) => n > 0,
            None => p.bookable_by_parity(),
        };
        if !bookable {
            continue;
        }
        let fee = d.and_then(|d| d.fee);
        if let (Some(max), Some(fee)) = (filters.max_fee, fee) {
            if fee > max {
                continue;
            }
        }
        let (duty_time, period_view) = if p.periods.is_empty() {
            (0, String::new())
        } else {
            match p
                .periods
                .iter()
                .find(|s| s.bookable_by_parity() != Some(false))
            {
                Some(s) => (s.duty_time, s.period_view.clone()),
                None => continue,
            }
        };
        out.push((
            (pr, dr, tr),
            Choice {
                uniq_product_key: p.uniq_product_key.clone(),
                duty_time,
                doctor_name: p.doctor_name.clone(),
                doctor_title: p.doctor_title.clone(),
                duty: b.duty.clone(),
                period_view,
                fee,
            },
        ));
    }
    out.sort_by_key(|(r, _)| *r);
    out.into_iter().map(|(_, c)| c).collect()
}

/// Whether a slot would match but for the fee.
fn has_slot_over_fee(detail: &DayDetail, filters: &Filters, decoded: &[Decoded]) -> bool {
    if filters.max_fee.is_none() {
        return false;
    }
    let relaxed = Filters {
        max_fee: None,
        ..filters.clone()
    };
    !choose(detail, &relaxed, decoded).is_empty()
}

/// The patient and card to book with.
/// Whether two card numbers (either possibly masked) end in the same last four
/// characters (characters, not bytes: the watch's text is the person's).
fn same_tail(a: &str, b: &str) -> bool {
    let tail = |s: &str| -> Vec<char> {
        let c: Vec<char> = s.chars().collect();
        c[c.len().saturating_sub(4)..].to_vec()
    };
    b.chars().count() >= 4 && tail(a) == tail(b)
}

/// The patient and card of the account that `want` names (the first when unnamed).
pub fn pick_patient(list: &[Patient], want: &PatientChoice) -> Result<(Patient, Card), String> {
    let name = want.name.trim();
    let patient = if name.is_empty() {
        list.first()
            .ok_or("the 114 account has no patient; add one on the site first")?
    } else {
        list.iter()
            .find(|p| p.name.trim() == name)
            .ok_or_else(|| format!("the 114 account has no patient named {name}"))?
    };
    let card_type = want.card_type.trim();
    let card_no = want.card_no.trim();
    let card = patient
        .cards
        .iter()
        .find(|c| {
            (card_type.is_empty() || c.card_type == card_type)
                && (card_no.is_empty() || c.card_no == card_no || same_tail(&c.card_no, card_no))
        })
        .ok_or_else(|| {
            if card_type.is_empty() && card_no.is_empty() {
                format!("patient {} has no card to book with", patient.name)
            } else {
                format!(
                    "patient {} has no such card ({card_type} {card_no})",
                    patient.name
                )
            }
        })?;
    Ok((patient.clone(), card.clone()))
}

/// An order number in a reply that could not be parsed as a whole (a truncated body):
/// `"orderNo"` `:` `"<digits>"` with its closing quote, or a bare number followed by `,`/`}`.
pub fn salvage_order_no(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let at = text.find("\"orderNo\"")?;
    let rest = text[at + "\"orderNo\"".len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let (digits, closed) = if let Some(r) = rest.strip_prefix('"') {
        let end = r.find('"')?;
        (&r[..end], true)
    } else {
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        let after = rest[end..].trim_start();
        (
            &rest[..end],
            after.starts_with(',') || after.starts_with('}'),
        )
    };
    (closed
        && !digits.is_empty()
        && digits.len() <= 32
        && digits.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then(|| digits.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salvages_complete_order_numbers_only() {
        assert_eq!(
            salvage_order_no(
                br#"{"resCode":0,"msg":null,"data":{"lineup":false,"orderNo":"219696650944"}"#
            ),
            Some("219696650944".into())
        );
        assert_eq!(salvage_order_no(br#"{"data":{"orderNo":"2196966"#), None);
        assert_eq!(
            salvage_order_no(br#"{"data":{"orderNo":2196,"x":1}}"#),
            Some("2196".into())
        );
        assert_eq!(salvage_order_no(br#"{"data":{"orderNo":2196"#), None);
        assert_eq!(salvage_order_no(b"<html>502</html>"), None);
    }
}
