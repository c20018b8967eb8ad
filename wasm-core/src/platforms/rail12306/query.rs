//! The left-ticket query: the endpoint's name (it drifts: `queryZ`, `queryG`, …; read
//! from `leftTicket/init`, followed when a reply says `c_url`) and the reply:
//! `data.result`, a list of `|`-separated rows, and
//! `data.map`, telecodes to station names (platforms.md has the row layout). A row
//! shorter than [`MIN_ROW_FIELDS`] is refused with the reason; longer rows (the site adds
//! fields at the end, up to ~56) are read. Seat cells hold a number, `有` (plenty),
//! `无` or nothing (none) or `*` (not on sale yet); anything else is kept as
//! [`Seat::Unknown`] rather than refused.

use serde::{Deserialize, Serialize};

/// The fewest fields a row may have (platforms.md: rows shorter than 37 are refused; the
/// waitlist flag at index 37 counts as absent in a row of exactly 37).
pub const MIN_ROW_FIELDS: usize = 37;

/// The seat kinds of a row, with the index of their cell.
pub const SEAT_CELLS: [(SeatKind, usize); 12] = [
    (SeatKind::SuperSoftSleeper, 21),
    (SeatKind::Other, 22),
    (SeatKind::SoftSleeper, 23),
    (SeatKind::SoftSeat, 24),
    (SeatKind::Premium, 25),
    (SeatKind::Standing, 26),
    (SeatKind::HardSleeper, 28),
    (SeatKind::HardSeat, 29),
    (SeatKind::Second, 30),
    (SeatKind::First, 31),
    (SeatKind::Business, 32),
    (SeatKind::BulletSleeper, 33),
];

/// A kind of seat as the query reply lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    /// 高级软卧
    SuperSoftSleeper,
    /// 其他
    Other,
    /// 软卧
    SoftSleeper,
    /// 软座
    SoftSeat,
    /// 特等座
    Premium,
    /// 无座
    Standing,
    /// 硬卧
    HardSleeper,
    /// 硬座
    HardSeat,
    /// 二等座
    Second,
    /// 一等座
    First,
    /// 商务座
    Business,
    /// 动卧
    BulletSleeper,
}

/// What a seat cell says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Seat {
    /// This many left.
    Count(u32),
    /// `有`: plenty.
    Plenty,
    /// `无` or an empty cell: none.
    None,
    /// `*`: not on sale yet.
    NotYet,
    /// Something else, kept as written.
    Unknown(String),
}

impl Seat {
    /// Reads one cell.
    pub fn parse(cell: &str) -> Seat {
        let t = cell.trim();
        // Counts first, without string comparisons (this runs ~3,600 times a reply).
        if t.is_empty() {
            return Seat::None;
        }
        if t.as_bytes()[0].is_ascii_digit() {
            return match t.parse::<u32>() {
                Ok(0) => Seat::None,
                Ok(k) => Seat::Count(k),
                Err(_) => Seat::Unknown(t.to_string()),
            };
        }
        match t {
            "" | "无" | "--" => Seat::None,
            "有" => Seat::Plenty,
            "*" => Seat::NotYet,
            n => match n.parse::<u32>() {
                Ok(0) => Seat::None,
                Ok(k) => Seat::Count(k),
                Err(_) => Seat::Unknown(n.to_string()),
            },
        }
    }

    /// Whether at least `n` seats can be had.
    pub fn at_least(&self, n: u32) -> bool {
        match self {
            Seat::Count(k) => *k >= n,
            Seat::Plenty => true,
            _ => false,
        }
    }
}

/// One train of a query reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainRow {
    /// What `submitOrderRequest` sends back (empty while not on sale).
    pub secret_str: String,
    /// `预订`, or when sale opens (`12月04日08:00起售`).
    pub button_text: String,
    pub train_no: String,
    /// e.g. `G1`.
    pub train_code: String,
    pub origin: String,
    pub terminus: String,
    pub from: String,
    pub to: String,
    /// `HH:MM`.
    pub depart: String,
    pub arrive: String,
    pub duration: String,
    /// `Y`, `N` or `IS_TIME_NOT_BUY`.
    pub can_web_buy: String,
    pub left_ticket_str: String,
    /// `yyyyMMdd`.
    pub start_train_date: String,
    pub train_location: String,
    pub from_station_no: String,
    pub to_station_no: String,
    /// Seat kinds the train has (`seat_types`, field 35).
    pub seat_types: String,
    /// Waitlist (候补) possible (field 37 is `1`).
    pub houbu: bool,
    /// The cell of every seat kind, in [`SEAT_CELLS`] order.
    pub seats: Vec<(SeatKind, Seat)>,
}

impl TrainRow {
    /// The cell of one seat kind.
    pub fn seat(&self, kind: SeatKind) -> &Seat {
        self.seats
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&Seat::None, |(_, s)| s)
    }

    /// Whether the row can be booked on the web now.
    pub fn on_sale(&self) -> bool {
        self.can_web_buy == "Y" && !self.secret_str.is_empty()
    }
}

/// A row that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("query row {index} has {fields} fields, fewer than the {MIN_ROW_FIELDS} a train row needs (the reply's layout changed?)")]
pub struct RowError {
    pub index: usize,
    pub fields: usize,
}

/// Reads row number `index` (for the error message) of `data.result`.
pub fn parse_row(index: usize, row: &str) -> Result<TrainRow, RowError> {
    // The fields read are all below 38: keep those, count the rest (no allocation).
    let mut f = [""; 38];
    let mut fields = 0;
    for (i, part) in row.split('|').enumerate() {
        if let Some(slot) = f.get_mut(i) {
            *slot = part;
        }
        fields = i + 1;
    }
    if fields < MIN_ROW_FIELDS {
        return Err(RowError { index, fields });
    }
    let s = |i: usize| f[i].trim().to_string();
    Ok(TrainRow {
        secret_str: s(0),
        button_text: s(1),
        train_no: s(2),
        train_code: s(3),
        origin: s(4),
        terminus: s(5),
        from: s(6),
        to: s(7),
        depart: s(8),
        arrive: s(9),
        duration: s(10),
        can_web_buy: s(11),
        left_ticket_str: s(12),
        start_train_date: s(13),
        train_location: s(15),
        from_station_no: s(16),
        to_station_no: s(17),
        seat_types: s(35),
        houbu: fields > 37 && f[37].trim() == "1",
        seats: SEAT_CELLS
            .iter()
            .map(|&(k, i)| (k, Seat::parse(f[i])))
            .collect(),
    })
}

// ---------------------------------------------------------------- the endpoint's drift

/// The query endpoint named by the `otn/leftTicket/init` page:
/// `var CLeftTicketUrl = 'leftTicket/queryZ';` → `leftTicket/queryZ`.
pub fn endpoint_from_init_page(html: &str) -> Option<String> {
    let at = html.find("CLeftTicketUrl")?;
    let rest = html[at + "CLeftTicketUrl".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    valid_endpoint(&inner[..end])
}

/// `leftTicket/queryX` (or a bare `queryX`) when it is a plausible endpoint path.
fn valid_endpoint(path: &str) -> Option<String> {
    let path = path.trim().trim_start_matches('/');
    let path = path.strip_prefix("otn/").unwrap_or(path);
    let name = path.strip_prefix("leftTicket/").unwrap_or(path);
    let ok = name.starts_with("query")
        && name.len() <= 16
        && name.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| format!("leftTicket/{name}"))
}

/// What a query reply says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryReply {
    /// The trains, the telecode → name map, and the rows that could not be read.
    Trains {
        rows: Vec<TrainRow>,
        names: Vec<(String, String)>,
        bad_rows: Vec<String>,
    },
    /// The endpoint moved: ask `leftTicket/queryX` instead (`c_url`).
    Moved { endpoint: String },
    /// The site refused the query and said why (`messages`), e.g. a date outside the
    /// pre-sale window.
    Refused { message: String },
}

/// Why a query reply could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the 12306 query reply is not JSON ({0})")]
    NotJson(String),
    #[error("the 12306 query reply has no {0} (the reply's layout changed?)")]
    Missing(&'static str),
}

/// Reads the JSON body of a left-ticket query.
pub fn parse_query_reply(body: &[u8]) -> Result<QueryReply, QueryError> {
    // The common case, read without building a JSON tree: rows borrowed from the body.
    if let Ok(fast) = serde_json::from_slice::<FastReply<'_>>(body) {
        if let (None, Some(true) | None, Some(data)) = (&fast.c_url, fast.status, fast.data) {
            let mut rows = Vec::with_capacity(data.result.len());
            let mut bad_rows = Vec::new();
            for (i, r) in data.result.iter().enumerate() {
                match parse_row(i, r) {
                    Ok(row) => rows.push(row),
                    Err(e) => bad_rows.push(e.to_string()),
                }
            }
            return Ok(QueryReply::Trains {
                rows,
                names: data.map.into_iter().collect(),
                bad_rows,
            });
        }
    }
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| QueryError::NotJson(e.to_string()))?;
    if let Some(endpoint) = v
        .get("c_url")
        .and_then(|c| c.as_str())
        .and_then(valid_endpoint)
    {
        return Ok(QueryReply::Moved { endpoint });
    }
    if v.get("status").and_then(|s| s.as_bool()) == Some(false) {
        let message = v
            .get("messages")
            .and_then(|m| m.as_array())
            .map(|m| {
                m.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "the site refused the query without saying why".into());
        return Ok(QueryReply::Refused { message });
    }
    let data = v.get("data").ok_or(QueryError::Missing("data"))?;
    let result = data
        .get("result")
        .and_then(|r| r.as_array())
        .ok_or(QueryError::Missing("data.result"))?;
    let mut rows = Vec::new();
    let mut bad_rows = Vec::new();
    for (i, r) in result.iter().enumerate() {
        match r.as_str().map(|s| parse_row(i, s)) {
            Some(Ok(row)) => rows.push(row),
            Some(Err(e)) => bad_rows.push(e.to_string()),
            None => bad_rows.push(format!("query row {i} is not text")),
        }
    }
    let names = data
        .get("map")
        .and_then(|m| m.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(QueryReply::Trains {
        rows,
        names,
        bad_rows,
    })
}

/// The shape of a normal query reply, borrowing its rows from the body.
#[derive(Deserialize)]
struct FastReply<'a> {
    #[serde(default)]
    status: Option<bool>,
    #[serde(default, borrow)]
    c_url: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<FastData<'a>>,
}

#[derive(Deserialize)]
struct FastData<'a> {
    #[serde(borrow)]
    result: Vec<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    map: std::collections::BTreeMap<String, String>,
}
