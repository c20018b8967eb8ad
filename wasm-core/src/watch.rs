//! The platform-neutral watch: what a person wants found (and maybe booked), where, when
//! and how often to look — and its validation, with one message per offending field.
//!
//! A watch is stored by the host and shown by the extension; platform adapters read the
//! platform-specific [`Target`]. Validation takes "today" from the caller (the core has
//! no clock) and never trusts that the client validated first.

use crate::date::Date;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The booking sites Haoyuan knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Platform {
    /// 北京114预约挂号 (web API of 2022–23), polled in the browser with the user's cookies.
    #[serde(rename = "114yygh")]
    Yygh114,
    /// 12306 rail tickets, run by the native host.
    #[serde(rename = "12306")]
    Rail12306,
    /// 91160 open platform, run by the native host with an `appToken`.
    #[serde(rename = "91160")]
    Open91160,
    /// A hospital's pati_service patient platform (tenant-specific base URL).
    #[serde(rename = "pati")]
    Pati,
    /// 浙里办 health-check reservation sync (a hospital's front desk; not a watch target).
    #[serde(rename = "zheliban")]
    Zheliban,
}

impl Platform {
    /// Every platform, in display order.
    pub const ALL: [Platform; 5] = [
        Platform::Yygh114,
        Platform::Rail12306,
        Platform::Open91160,
        Platform::Pati,
        Platform::Zheliban,
    ];

    /// The identifier used in JSON, settings and URLs of the sandbox.
    pub fn id(self) -> &'static str {
        match self {
            Platform::Yygh114 => "114yygh",
            Platform::Rail12306 => "12306",
            Platform::Open91160 => "91160",
            Platform::Pati => "pati",
            Platform::Zheliban => "zheliban",
        }
    }

    /// Looks a platform up by its identifier.
    pub fn from_id(id: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.id() == id)
    }

    /// A name a person recognises.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Yygh114 => "北京114预约挂号",
            Platform::Rail12306 => "12306 铁路",
            Platform::Open91160 => "就医160 (91160)",
            Platform::Pati => "医院患者服务 (pati_service)",
            Platform::Zheliban => "浙里办 体检预约同步",
        }
    }

    /// The real site's base URL; `None` where each hospital runs its own server and the
    /// user must say where it is.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Platform::Yygh114 => Some("https://www.114yygh.com"),
            Platform::Rail12306 => Some("https://kyfw.12306.cn"),
            Platform::Open91160 => Some("https://openapi.91160.com"),
            Platform::Pati | Platform::Zheliban => None,
        }
    }

    /// The shortest poll interval allowed, in seconds (conduct: a pace a person could
    /// defend). Bursts near a known release time are a separate, bounded mechanism.
    pub fn poll_floor_secs(self) -> u32 {
        match self {
            Platform::Yygh114 => 15,
            Platform::Rail12306 => 10,
            Platform::Open91160 => 15,
            Platform::Pati => 15,
            Platform::Zheliban => 60,
        }
    }

    /// Whether a watch can target this platform (浙里办 is a sync job, configured apart).
    pub fn watchable(self) -> bool {
        self != Platform::Zheliban
    }
}

/// What to do when a matching slot appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Tell the user; never book.
    #[default]
    Notify,
    /// Book it with the user's account (at most once for this watch), then tell the user.
    Book,
}

/// Half-day periods as the hospital platforms name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Morning,
    Afternoon,
    Evening,
}

/// The platform-specific thing to look for, tagged by platform (`Deserialize` is
/// written out below).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "platform", rename_all = "snake_case")]
pub enum Target {
    /// A 114yygh department of a hospital.
    #[serde(rename = "114yygh")]
    Yygh114 {
        /// `hosCode` of the hospital.
        hos_code: String,
        /// `firstDeptCode` (the parent department).
        first_dept_code: String,
        /// `secondDeptCode` (the clinic).
        second_dept_code: String,
        /// Hospital name, for display.
        #[serde(default)]
        hos_name: String,
        /// Department name, for display.
        #[serde(default)]
        dept_name: String,
        /// The patient to book for, by name as on the 114 account (empty: the first).
        #[serde(default)]
        patient_name: String,
        /// `cardType` to book with, e.g. `SOCIAL_SECURITY` (empty: the patient's first card).
        #[serde(default)]
        card_type: String,
        /// The card's last characters (empty: any card of the type). Never a full number.
        #[serde(default)]
        card_no: String,
    },
    /// A 12306 journey between two stations.
    #[serde(rename = "12306")]
    Rail12306 {
        /// Telecode of the departure station (e.g. `VNP`).
        from_station: String,
        /// Telecode of the arrival station.
        to_station: String,
        /// Train codes to consider (empty: all).
        #[serde(default)]
        trains: Vec<String>,
        /// Seat codes in order of preference (`O`, `M`, `9`, …; empty: any).
        #[serde(default)]
        seat_types: Vec<String>,
        /// Display names of the two stations (from the station list; may be empty).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        from_name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        to_name: String,
        /// Further station pairs to look at as well (e.g. other stations of the city).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        more_pairs: Vec<StationPair>,
        /// Travel dates to look at, `YYYY-MM-DD` inside the window (empty: every day of it).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dates: Vec<String>,
        /// Train codes never to take.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exclude_trains: Vec<String>,
        /// Departure window, `HH:MM` (empty: any time).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        depart_after: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        depart_before: String,
        /// The 12306 account (its login name) whose session queries and books.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        account: String,
        /// Passengers by name as on the account (empty: the account holder).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        passengers: Vec<String>,
        /// Book for as many of the passengers as there are seats when not all fit.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        allow_fewer: bool,
        /// Wait for a train's announced sale time and look in a short burst then.
        #[serde(default, skip_serializing_if = "Clone::clone")]
        sale_burst: bool,
    },
    /// A 91160 department (and optionally one doctor) of a unit (hospital).
    #[serde(rename = "91160")]
    Open91160 {
        /// `unitId` of the hospital.
        unit_id: String,
        /// `depId` of the department.
        dep_id: String,
        /// `doctorId` (empty: every doctor of the department).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        doctor_id: String,
        /// Display names from the pickers (may be empty).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        unit_name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        dep_name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        doctor_name: String,
        /// The unit's `appointmentOpenTime` as `unitList` gave it (`HH:mm`, `HH:mm:ss` or a
        /// full date-time; empty: unknown) — when the next day's numbers are released.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        open_time: String,
        /// The unit's `appointmentCycleDays` (0: unknown): how many days ahead are open.
        #[serde(default, skip_serializing_if = "is_zero")]
        cycle_days: u32,
        /// The name of the host's stored appToken to use (empty: `default`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        account: String,
        /// The patient-book entry to book for (required to book).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        patient_id: String,
    },
    /// A department (and optionally one doctor) of a pati_service hospital.
    #[serde(rename = "pati")]
    Pati {
        /// The pati account (its phone number) as stored in the host, with its base URL.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        account: String,
        /// `deptId`.
        dept_id: String,
        /// `doctorId` (empty: the department's 普通门诊, sessions without a doctor).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        doctor_id: String,
        /// Display names from the pickers (may be empty).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        dept_name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        doctor_name: String,
        /// `memberId` of the account's family member to book for (required to book).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        member_id: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        member_name: String,
    },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `name` when there is one, else the `code` it names.
fn or_code<'a>(name: &'a str, code: &'a str) -> &'a str {
    if name.trim().is_empty() {
        code
    } else {
        name
    }
}

/// One more departure/arrival pair of a 12306 watch (telecodes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationPair {
    pub from: String,
    pub to: String,
}

impl Target {
    /// The platform this target belongs to.
    pub fn platform(&self) -> Platform {
        match self {
            Target::Yygh114 { .. } => Platform::Yygh114,
            Target::Rail12306 { .. } => Platform::Rail12306,
            Target::Open91160 { .. } => Platform::Open91160,
            Target::Pati { .. } => Platform::Pati,
        }
    }

    /// A short line describing the target for lists and notifications.
    pub fn summary(&self) -> String {
        match self {
            Target::Yygh114 {
                hos_code,
                second_dept_code,
                hos_name,
                dept_name,
                ..
            } => {
                let hos = if hos_name.is_empty() {
                    hos_code
                } else {
                    hos_name
                };
                let dept = if dept_name.is_empty() {
                    second_dept_code
                } else {
                    dept_name
                };
                format!("114 · {hos} · {dept}")
            }
            Target::Rail12306 {
                from_station,
                to_station,
                from_name,
                to_name,
                ..
            } => {
                let name =
                    |n: &String, c: &String| if n.is_empty() { c.clone() } else { n.clone() };
                format!(
                    "12306 · {} → {}",
                    name(from_name, from_station),
                    name(to_name, to_station)
                )
            }
            Target::Open91160 {
                unit_id,
                dep_id,
                doctor_id,
                unit_name,
                dep_name,
                doctor_name,
                ..
            } => {
                let mut s = format!(
                    "91160 · {} · {}",
                    or_code(unit_name, unit_id),
                    or_code(dep_name, dep_id)
                );
                if !doctor_id.is_empty() {
                    s = format!("{s} · {}", or_code(doctor_name, doctor_id));
                }
                s
            }
            Target::Pati {
                dept_id,
                doctor_id,
                dept_name,
                doctor_name,
                ..
            } => {
                let dept = or_code(dept_name, dept_id);
                if doctor_id.is_empty() {
                    format!("pati · {dept} · 普通门诊")
                } else {
                    format!("pati · {dept} · {}", or_code(doctor_name, doctor_id))
                }
            }
        }
    }
}

/// The JSON of one [`Target`] variant, its `platform` tag taken out.
struct VariantFields(Map<String, Value>);

impl VariantFields {
    /// Refuses a field the variant does not have, as `deny_unknown_fields` does.
    fn new<E: de::Error>(
        map: Map<String, Value>,
        fields: &'static [&'static str],
    ) -> Result<Self, E> {
        match map.keys().find(|k| !fields.contains(&k.as_str())) {
            Some(k) => Err(E::unknown_field(k, fields)),
            None => Ok(VariantFields(map)),
        }
    }

    /// A field the variant must have.
    fn required<T: DeserializeOwned, E: de::Error>(&mut self, name: &'static str) -> Result<T, E> {
        match self.0.remove(name) {
            Some(v) => T::deserialize(v).map_err(E::custom),
            None => Err(E::missing_field(name)),
        }
    }

    /// A `#[serde(default)]` field.
    fn optional<T: DeserializeOwned + Default, E: de::Error>(
        &mut self,
        name: &'static str,
    ) -> Result<T, E> {
        match self.0.remove(name) {
            Some(v) => T::deserialize(v).map_err(E::custom),
            None => Ok(T::default()),
        }
    }
}

/// Reads a target's JSON object.
struct TargetVisitor;

impl<'de> Visitor<'de> for TargetVisitor {
    /// The platform and the other fields.
    type Value = (TargetTag, Map<String, Value>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("internally tagged enum Target")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            let value = access.next_value()?;
            map.insert(key, value);
        }
        match map.remove("platform") {
            Some(tag) => Ok((TargetTag::deserialize(tag).map_err(de::Error::custom)?, map)),
            None => Err(de::Error::missing_field("platform")),
        }
    }
}

/// The variant of `platform` from its fields.
fn target_of<E: de::Error>(platform: TargetTag, map: Map<String, Value>) -> Result<Target, E> {
    Ok(match platform {
        TargetTag::Yygh114 => {
            let mut f = VariantFields::new(
                map,
                &[
                    "hos_code",
                    "first_dept_code",
                    "second_dept_code",
                    "hos_name",
                    "dept_name",
                    "patient_name",
                    "card_type",
                    "card_no",
                ],
            )?;
            Target::Yygh114 {
                hos_code: f.required("hos_code")?,
                first_dept_code: f.required("first_dept_code")?,
                second_dept_code: f.required("second_dept_code")?,
                hos_name: f.optional("hos_name")?,
                dept_name: f.optional("dept_name")?,
                patient_name: f.optional("patient_name")?,
                card_type: f.optional("card_type")?,
                card_no: f.optional("card_no")?,
            }
        }
        TargetTag::Rail12306 => {
            let mut f = VariantFields::new(
                map,
                &[
                    "from_station",
                    "to_station",
                    "trains",
                    "seat_types",
                    "from_name",
                    "to_name",
                    "more_pairs",
                    "dates",
                    "exclude_trains",
                    "depart_after",
                    "depart_before",
                    "account",
                    "passengers",
                    "allow_fewer",
                    "sale_burst",
                ],
            )?;
            Target::Rail12306 {
                from_station: f.required("from_station")?,
                to_station: f.required("to_station")?,
                trains: f.optional("trains")?,
                seat_types: f.optional("seat_types")?,
                from_name: f.optional("from_name")?,
                to_name: f.optional("to_name")?,
                more_pairs: f.optional("more_pairs")?,
                dates: f.optional("dates")?,
                exclude_trains: f.optional("exclude_trains")?,
                depart_after: f.optional("depart_after")?,
                depart_before: f.optional("depart_before")?,
                account: f.optional("account")?,
                passengers: f.optional("passengers")?,
                allow_fewer: f.optional("allow_fewer")?,
                sale_burst: f.optional::<Option<bool>, E>("sale_burst")?.unwrap_or(true),
            }
        }
        TargetTag::Open91160 => {
            let mut f = VariantFields::new(
                map,
                &[
                    "unit_id",
                    "dep_id",
                    "doctor_id",
                    "unit_name",
                    "dep_name",
                    "doctor_name",
                    "open_time",
                    "cycle_days",
                    "account",
                    "patient_id",
                ],
            )?;
            Target::Open91160 {
                unit_id: f.required("unit_id")?,
                dep_id: f.required("dep_id")?,
                doctor_id: f.optional("doctor_id")?,
                unit_name: f.optional("unit_name")?,
                dep_name: f.optional("dep_name")?,
                doctor_name: f.optional("doctor_name")?,
                open_time: f.optional("open_time")?,
                cycle_days: f.optional("cycle_days")?,
                account: f.optional("account")?,
                patient_id: f.optional("patient_id")?,
            }
        }
        TargetTag::Pati => {
            let mut f = VariantFields::new(
                map,
                &[
                    "account",
                    "dept_id",
                    "doctor_id",
                    "dept_name",
                    "doctor_name",
                    "member_id",
                    "member_name",
                ],
            )?;
            Target::Pati {
                account: f.optional("account")?,
                dept_id: f.required("dept_id")?,
                doctor_id: f.optional("doctor_id")?,
                dept_name: f.optional("dept_name")?,
                doctor_name: f.optional("doctor_name")?,
                member_id: f.optional("member_id")?,
                member_name: f.optional("member_name")?,
            }
        }
    })
}

/// The `platform` tag of a [`Target`].
#[derive(Deserialize)]
#[serde(variant_identifier)]
enum TargetTag {
    #[serde(rename = "114yygh")]
    Yygh114,
    #[serde(rename = "12306")]
    Rail12306,
    #[serde(rename = "91160")]
    Open91160,
    #[serde(rename = "pati")]
    Pati,
}

/// By hand rather than derived: the derive of an internally tagged enum buffers the
/// object as serde's private `Content` and compiles each variant's reader for it, about
/// 16 KB of the wasm module; reading the fields as `serde_json` values, as every watch
/// is read anyway, reuses the readers already there. The fields, defaults and errors
/// are those of the derive with `deny_unknown_fields` (only the array form it also
/// accepted, `["pati", "dept", …]`, is not read).
impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Target, D::Error> {
        // Like the derive, errors in the tag carry the reader's position and errors in
        // the variant's fields do not.
        let (platform, map) = deserializer.deserialize_any(TargetVisitor)?;
        target_of(platform, map)
    }
}

/// The days to look at: from `start` (default: the day the watch was made) to `end`
/// (the target date), both inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateWindow {
    pub start: Date,
    pub end: Date,
}

/// Narrowing filters that apply to the hospital platforms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filters {
    /// Periods to accept (empty: any).
    pub periods: Vec<Period>,
    /// Doctor names to accept (empty: any).
    pub doctors: Vec<String>,
    /// Doctor titles to accept, e.g. 主任医师 (empty: any).
    pub titles: Vec<String>,
    /// Highest fee in yuan to accept.
    pub max_fee: Option<f64>,
}

/// How often to look: every `seconds`, give or take `jitter_pct` percent at random.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub seconds: u32,
    #[serde(default = "default_jitter")]
    pub jitter_pct: u8,
}

fn default_jitter() -> u8 {
    20
}

/// The least jitter allowed: every poll is randomised.
pub const MIN_JITTER_PCT: u8 = 10;
/// The most jitter allowed.
pub const MAX_JITTER_PCT: u8 = 50;
/// The longest interval allowed (one day).
pub const MAX_INTERVAL_SECS: u32 = 86_400;
/// The longest date window, in days.
pub const MAX_WINDOW_DAYS: i64 = 120;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 80;
/// The most entries in any list field.
pub const MAX_LIST_ITEMS: usize = 20;
/// The longest identifier or list entry, in characters.
pub const MAX_FIELD_CHARS: usize = 64;

impl Interval {
    /// The delay before the next poll, in milliseconds, for a random draw `unit` in
    /// `[0, 1)`: `seconds` scaled by a factor uniformly spread over ±`jitter_pct`%,
    /// and never below the platform's floor.
    pub fn next_delay_ms(&self, platform: Platform, unit: f64) -> u64 {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let spread = f64::from(self.jitter_pct.min(MAX_JITTER_PCT)) / 100.0;
        let factor = 1.0 - spread + 2.0 * spread * unit;
        let ms = f64::from(self.seconds) * 1000.0 * factor;
        let floor = u64::from(platform.poll_floor_secs()) * 1000;
        (ms.round() as u64).max(floor)
    }
}

/// A watch as stored and exchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    /// Assigned by the host when empty.
    #[serde(default)]
    pub id: String,
    /// What the person calls it.
    #[serde(default)]
    pub label: String,
    /// Where to look.
    pub target: Target,
    /// Which days.
    pub window: DateWindow,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default)]
    pub mode: Mode,
    pub interval: Interval,
    /// A paused watch is kept but not polled.
    #[serde(default)]
    pub paused: bool,
    /// Set by the host (Unix ms).
    #[serde(default)]
    pub created_at: i64,
    /// Set by the host (Unix ms).
    #[serde(default)]
    pub updated_at: i64,
}

/// One problem with one field, in words the person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// A dotted path into the watch, e.g. `window.end` or `target.hos_code`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// The platform of a watch (its target's).
impl Watch {
    pub fn platform(&self) -> Platform {
        self.target.platform()
    }

    /// Checks everything the host and the extension must refuse, against `today`.
    /// Returns every problem at once, one per field, or nothing when the watch is fine.
    pub fn validate(&self, today: Date) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let platform = self.platform();

        if !self.id.is_empty() && !valid_id(&self.id) {
            errs.push(FieldError::new(
                "id",
                "the id may only hold letters, digits, '-' and '_' (at most 64)",
            ));
        }
        if self.label.chars().count() > MAX_LABEL_CHARS {
            errs.push(FieldError::new(
                "label",
                format!("the label is longer than {MAX_LABEL_CHARS} characters"),
            ));
        }
        validate_target(&self.target, &mut errs);

        let w = self.window;
        if w.end < w.start {
            errs.push(FieldError::new(
                "window.end",
                format!(
                    "the target date {} is before the start date {}",
                    w.end, w.start
                ),
            ));
        } else if w.start.days_until(w.end) > MAX_WINDOW_DAYS {
            errs.push(FieldError::new(
                "window.end",
                format!("the window is longer than {MAX_WINDOW_DAYS} days"),
            ));
        }
        if w.end < today {
            errs.push(FieldError::new(
                "window.end",
                format!("the target date {} has already passed", w.end),
            ));
        }

        if let Target::Rail12306 { dates, account, .. } = &self.target {
            if let Some(out) = dates
                .iter()
                .filter_map(|d| Date::parse(d).ok())
                .find(|d| *d < w.start || *d > w.end)
            {
                errs.push(FieldError::new(
                    "target.dates",
                    format!("{out} is outside the window {} – {}", w.start, w.end),
                ));
            }
            if self.mode == Mode::Book && account.trim().is_empty() {
                errs.push(FieldError::new(
                    "target.account",
                    "a watch that books needs the 12306 account to book with",
                ));
            }
        }

        match &self.target {
            Target::Open91160 { patient_id, .. }
                if self.mode == Mode::Book && patient_id.trim().is_empty() =>
            {
                errs.push(FieldError::new(
                    "target.patient_id",
                    "a watch that books needs a patient from the patient book",
                ));
            }
            Target::Pati {
                account, member_id, ..
            } => {
                if account.trim().is_empty() {
                    errs.push(FieldError::new(
                        "target.account",
                        "a pati watch needs the account (phone number) it signs in with",
                    ));
                }
                if self.mode == Mode::Book && member_id.trim().is_empty() {
                    errs.push(FieldError::new(
                        "target.member_id",
                        "a watch that books needs the family member (就诊人) to book for",
                    ));
                }
            }
            _ => {}
        }

        let f = &self.filters;
        list_limits("filters.doctors", &f.doctors, &mut errs);
        list_limits("filters.titles", &f.titles, &mut errs);
        if f.periods
            .iter()
            .enumerate()
            .any(|(i, p)| f.periods[..i].contains(p))
        {
            errs.push(FieldError::new(
                "filters.periods",
                "a period is listed twice",
            ));
        }
        if let Some(fee) = f.max_fee {
            if !fee.is_finite() || fee <= 0.0 {
                errs.push(FieldError::new(
                    "filters.max_fee",
                    "the highest fee must be a positive amount of yuan",
                ));
            }
        }

        let floor = platform.poll_floor_secs();
        if self.interval.seconds < floor {
            errs.push(FieldError::new(
                "interval.seconds",
                format!(
                    "{} is polled at most every {floor} seconds; {} is too often",
                    platform.display_name(),
                    self.interval.seconds
                ),
            ));
        } else if self.interval.seconds > MAX_INTERVAL_SECS {
            errs.push(FieldError::new(
                "interval.seconds",
                "the interval is longer than one day",
            ));
        }
        if !(MIN_JITTER_PCT..=MAX_JITTER_PCT).contains(&self.interval.jitter_pct) {
            errs.push(FieldError::new(
                "interval.jitter_pct",
                format!("the jitter must be between {MIN_JITTER_PCT}% and {MAX_JITTER_PCT}%"),
            ));
        }
        errs
    }
}

/// Whether `id` is a usable watch identifier.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_FIELD_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn required(field: &str, value: &str, what: &str, errs: &mut Vec<FieldError>) {
    let v = value.trim();
    if v.is_empty() {
        errs.push(FieldError::new(field, format!("{what} is required")));
    } else if v.chars().count() > MAX_FIELD_CHARS {
        errs.push(FieldError::new(
            field,
            format!("{what} is longer than {MAX_FIELD_CHARS} characters"),
        ));
    }
}

fn optional(field: &str, value: &str, what: &str, errs: &mut Vec<FieldError>) {
    if value.chars().count() > MAX_FIELD_CHARS {
        errs.push(FieldError::new(
            field,
            format!("{what} is longer than {MAX_FIELD_CHARS} characters"),
        ));
    }
}

fn list_limits(field: &str, items: &[String], errs: &mut Vec<FieldError>) {
    if items.len() > MAX_LIST_ITEMS {
        errs.push(FieldError::new(
            field,
            format!("at most {MAX_LIST_ITEMS} entries"),
        ));
    }
    if items
        .iter()
        .any(|s| s.trim().is_empty() || s.chars().count() > MAX_FIELD_CHARS)
    {
        errs.push(FieldError::new(
            field,
            format!("entries must be non-empty and at most {MAX_FIELD_CHARS} characters"),
        ));
    }
}

fn telecode(field: &str, value: &str, what: &str, errs: &mut Vec<FieldError>) {
    if value.len() != 3 || !value.bytes().all(|b| b.is_ascii_uppercase()) {
        errs.push(FieldError::new(
            field,
            format!("{what} must be a three-letter station telecode such as VNP"),
        ));
    }
}

/// Minutes after midnight of `HH:MM` (00:00–23:59; 24:00 allowed as the day's end).
pub fn minutes_of_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// The 12306 order seat codes of platforms.md.
pub const SEAT_CODES: [&str; 8] = ["9", "M", "O", "P", "4", "3", "2", "1"];

fn validate_target(t: &Target, errs: &mut Vec<FieldError>) {
    match t {
        Target::Yygh114 {
            hos_code,
            first_dept_code,
            second_dept_code,
            hos_name,
            dept_name,
            patient_name,
            card_type,
            card_no,
        } => {
            required("target.hos_code", hos_code, "the hospital code", errs);
            required(
                "target.first_dept_code",
                first_dept_code,
                "the department code",
                errs,
            );
            required(
                "target.second_dept_code",
                second_dept_code,
                "the clinic code",
                errs,
            );
            optional("target.hos_name", hos_name, "the hospital name", errs);
            optional("target.dept_name", dept_name, "the department name", errs);
            optional(
                "target.patient_name",
                patient_name,
                "the patient's name",
                errs,
            );
            optional("target.card_type", card_type, "the card type", errs);
            optional("target.card_no", card_no, "the card number", errs);
            if card_no.trim().chars().count() > 6 {
                errs.push(FieldError::new(
                    "target.card_no",
                    "give only the card's last 4–6 characters (Haoyuan never stores a full card number)",
                ));
            }
        }
        Target::Rail12306 {
            from_station,
            to_station,
            trains,
            seat_types,
            from_name,
            to_name,
            more_pairs,
            dates,
            exclude_trains,
            depart_after,
            depart_before,
            account,
            passengers,
            allow_fewer: _,
            sale_burst: _,
        } => {
            optional(
                "target.from_name",
                from_name,
                "the departure station's name",
                errs,
            );
            optional(
                "target.to_name",
                to_name,
                "the arrival station's name",
                errs,
            );
            optional("target.account", account, "the 12306 account", errs);
            if more_pairs.len() > 4 {
                errs.push(FieldError::new(
                    "target.more_pairs",
                    "at most 4 more station pairs",
                ));
            }
            for (i, p) in more_pairs.iter().enumerate() {
                telecode(
                    &format!("target.more_pairs[{i}].from"),
                    &p.from,
                    "a departure station",
                    errs,
                );
                telecode(
                    &format!("target.more_pairs[{i}].to"),
                    &p.to,
                    "an arrival station",
                    errs,
                );
                if p.from == p.to {
                    errs.push(FieldError::new(
                        &format!("target.more_pairs[{i}].to"),
                        "departure and arrival are the same station",
                    ));
                }
            }
            list_limits("target.dates", dates, errs);
            if let Some(bad) = dates.iter().find(|d| Date::parse(d).is_err()) {
                errs.push(FieldError::new(
                    "target.dates",
                    format!("“{bad}” is not a date (YYYY-MM-DD)"),
                ));
            }
            list_limits("target.exclude_trains", exclude_trains, errs);
            list_limits("target.passengers", passengers, errs);
            if passengers.len() > 5 {
                errs.push(FieldError::new(
                    "target.passengers",
                    "12306 takes at most 5 passengers in one order",
                ));
            }
            for (field, v) in [
                ("target.depart_after", depart_after),
                ("target.depart_before", depart_before),
            ] {
                if !v.is_empty() && minutes_of_hhmm(v).is_none() {
                    errs.push(FieldError::new(
                        field,
                        format!("“{v}” is not a time (HH:MM)"),
                    ));
                }
            }
            telecode(
                "target.from_station",
                from_station,
                "the departure station",
                errs,
            );
            telecode("target.to_station", to_station, "the arrival station", errs);
            if from_station == to_station {
                errs.push(FieldError::new(
                    "target.to_station",
                    "departure and arrival are the same station",
                ));
            }
            list_limits("target.trains", trains, errs);
            if let Some(bad) = seat_types
                .iter()
                .find(|s| !SEAT_CODES.contains(&s.as_str()))
            {
                errs.push(FieldError::new(
                    "target.seat_types",
                    format!(
                        "“{bad}” is not a 12306 seat code ({})",
                        SEAT_CODES.join(" ")
                    ),
                ));
            }
        }
        Target::Open91160 {
            unit_id,
            dep_id,
            doctor_id,
            unit_name,
            dep_name,
            doctor_name,
            open_time,
            account,
            patient_id,
            ..
        } => {
            required("target.unit_id", unit_id, "the unit (hospital) id", errs);
            required("target.dep_id", dep_id, "the department id", errs);
            optional("target.doctor_id", doctor_id, "the doctor id", errs);
            optional("target.unit_name", unit_name, "the hospital name", errs);
            optional("target.dep_name", dep_name, "the department name", errs);
            optional("target.doctor_name", doctor_name, "the doctor name", errs);
            optional("target.open_time", open_time, "the release time", errs);
            optional("target.account", account, "the token name", errs);
            optional("target.patient_id", patient_id, "the patient", errs);
        }
        Target::Pati {
            account,
            dept_id,
            doctor_id,
            dept_name,
            doctor_name,
            member_id,
            member_name,
        } => {
            optional("target.account", account, "the account", errs);
            required("target.dept_id", dept_id, "the department id", errs);
            optional("target.doctor_id", doctor_id, "the doctor id", errs);
            optional("target.dept_name", dept_name, "the department name", errs);
            optional("target.doctor_name", doctor_name, "the doctor name", errs);
            optional("target.member_id", member_id, "the member id", errs);
            optional("target.member_name", member_name, "the member name", errs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> Date {
        Date::parse("2026-11-27").unwrap()
    }

    fn sample() -> serde_json::Value {
        json!({
            "label": "协和眼科",
            "target": {"platform": "114yygh", "hos_code": "1", "first_dept_code": "a", "second_dept_code": "b"},
            "window": {"start": "2026-11-27", "end": "2026-12-03"},
            "filters": {"periods": ["morning"], "max_fee": 100.0},
            "mode": "book",
            "interval": {"seconds": 30}
        })
    }

    #[test]
    fn a_good_watch_round_trips_with_defaults() {
        let w: Watch = serde_json::from_value(sample()).unwrap();
        assert_eq!(w.platform(), Platform::Yygh114);
        assert_eq!(w.interval.jitter_pct, 20);
        assert_eq!(w.mode, Mode::Book);
        assert!(w.validate(today()).is_empty(), "{:?}", w.validate(today()));
        let back: Watch = serde_json::from_value(serde_json::to_value(&w).unwrap()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn unknown_fields_and_platforms_are_refused() {
        let mut v = sample();
        v["colour"] = json!("red");
        assert!(serde_json::from_value::<Watch>(v).is_err());
        let mut v = sample();
        v["target"]["platform"] = json!("zheliban");
        assert!(serde_json::from_value::<Watch>(v).is_err());
    }

    #[test]
    fn targets_read_by_hand_fail_as_the_derive_did() {
        let err =
            |v: serde_json::Value| serde_json::from_value::<Target>(v).unwrap_err().to_string();
        assert_eq!(
            serde_json::from_value::<Target>(json!({"platform": "pati", "dept_id": "7"})).unwrap(),
            Target::Pati {
                account: String::new(),
                dept_id: "7".into(),
                doctor_id: String::new(),
                dept_name: String::new(),
                doctor_name: String::new(),
                member_id: String::new(),
                member_name: String::new(),
            }
        );
        assert_eq!(err(json!({"dept_id": "7"})), "missing field `platform`");
        assert_eq!(
            err(json!({"platform": "zheliban"})),
            "unknown variant `zheliban`, expected one of `114yygh`, `12306`, `91160`, `pati`"
        );
        assert_eq!(
            err(json!({"platform": 5})),
            "invalid type: integer `5`, expected variant identifier"
        );
        assert_eq!(err(json!({"platform": "pati"})), "missing field `dept_id`");
        assert_eq!(
            err(json!({"platform": "pati", "dept_id": "7", "unit_id": "1"})),
            "unknown field `unit_id`, expected one of `account`, `dept_id`, `doctor_id`, `dept_name`, `doctor_name`, `member_id`, `member_name`"
        );
        assert_eq!(
            err(
                json!({"platform": "12306", "from_station": "VNP", "to_station": "AOH", "trains": "G1"})
            ),
            "invalid type: string \"G1\", expected a sequence"
        );
        assert_eq!(
            err(json!("pati")),
            "invalid type: string \"pati\", expected internally tagged enum Target"
        );
        // With the reader's position only where the derive gave one (the tag).
        let text = r#"{"platform": "pati", "dept_id": 7}"#;
        assert_eq!(
            serde_json::from_str::<Target>(text)
                .unwrap_err()
                .to_string(),
            "invalid type: integer `7`, expected a string"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut v = sample();
        v["id"] = json!("has space");
        v["target"]["hos_code"] = json!("  ");
        v["window"] = json!({"start": "2026-11-20", "end": "2026-11-10"});
        v["interval"] = json!({"seconds": 3, "jitter_pct": 0});
        v["filters"]["max_fee"] = json!(-1.0);
        let w: Watch = serde_json::from_value(v).unwrap();
        let fields: Vec<_> = w.validate(today()).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "id",
                "target.hos_code",
                "window.end",
                "window.end",
                "filters.max_fee",
                "interval.seconds",
                "interval.jitter_pct"
            ]
        );
    }

    #[test]
    fn the_floor_message_names_the_platform_and_the_floor() {
        let mut v = sample();
        v["interval"]["seconds"] = json!(5);
        let w: Watch = serde_json::from_value(v).unwrap();
        let e = &w.validate(today())[0];
        assert_eq!(e.field, "interval.seconds");
        assert!(
            e.message.contains("15 seconds") && e.message.contains("114"),
            "{}",
            e.message
        );
    }

    #[test]
    fn rail_targets_check_telecodes_and_seats() {
        let w: Watch = serde_json::from_value(json!({
            "target": {"platform": "12306", "from_station": "vnp", "to_station": "AOH", "seat_types": ["O", "Z"]},
            "window": {"start": "2026-11-27", "end": "2026-11-30"},
            "interval": {"seconds": 10}
        }))
        .unwrap();
        let fields: Vec<_> = w.validate(today()).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["target.from_station", "target.seat_types"]);
    }

    #[test]
    fn jitter_spreads_around_the_interval_and_respects_the_floor() {
        let i = Interval {
            seconds: 60,
            jitter_pct: 20,
        };
        assert_eq!(i.next_delay_ms(Platform::Yygh114, 0.0), 48_000);
        assert_eq!(i.next_delay_ms(Platform::Yygh114, 0.5), 60_000);
        assert_eq!(i.next_delay_ms(Platform::Yygh114, 1.0), 72_000);
        // An interval at the floor never jitters below it.
        let i = Interval {
            seconds: 15,
            jitter_pct: 50,
        };
        assert_eq!(i.next_delay_ms(Platform::Yygh114, 0.0), 15_000);
        assert_eq!(i.next_delay_ms(Platform::Yygh114, f64::NAN), 15_000);
    }

    #[test]
    fn platform_ids_round_trip() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_id(p.id()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.id()));
        }
    }
}
