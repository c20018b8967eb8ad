//! `station_name.js`: every station's name, telecode, pinyin and abbreviation, for the
//! station pickers (search by Chinese name, pinyin or abbreviation) and for turning the
//! telecodes of query replies into names.
//!
//! The file is one JavaScript string of `@`-separated records in two formats, both
//! accepted (platforms.md): the old 6-field `@bjb|北京北|VAP|beijingbei|bjb|0` and the
//! new 10-field `@shh|上海虹桥|AOH|shanghaihongqiao|shhq|0|0000|上海|||` (adds the city's
//! code and name). A record with fewer than the 5 fields a station needs is skipped and
//! counted; a file where most records are unreadable, or none is found, is an error that
//! says so (the site changed the file).

use serde::{Deserialize, Serialize};

/// One station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    /// Chinese name, e.g. `北京南`.
    pub name: String,
    /// Telecode, e.g. `VNP` (what queries and orders send).
    pub telecode: String,
    /// Full pinyin without spaces, e.g. `beijingnan`.
    pub pinyin: String,
    /// Abbreviation of the pinyin, e.g. `bjn`.
    pub abbr: String,
    /// The city (new records only), e.g. `北京`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// The parsed file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stations {
    pub stations: Vec<Station>,
    /// Records that could not be read (skipped).
    pub skipped: usize,
}

/// Why the file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StationsError {
    #[error("station_name.js has no `station_names` string (the site changed the file?)")]
    NoList,
    #[error("station_name.js lists no station")]
    Empty,
    #[error("station_name.js could not be read: {skipped} of {total} records are not `|`-separated station records")]
    MostlyUnreadable { skipped: usize, total: usize },
}

/// Reads `station_name.js` (`var station_names ='@…';`).
pub fn parse_station_names(js: &str) -> Result<Stations, StationsError> {
    let after = js
        .find("station_names")
        .map(|at| &js[at + "station_names".len()..])
        .ok_or(StationsError::NoList)?;
    let body = after
        .find(['\'', '"'])
        .and_then(|open| {
            let quote = after[open..].chars().next()?;
            let rest = &after[open + 1..];
            rest.find(quote).map(|close| &rest[..close])
        })
        .ok_or(StationsError::NoList)?;
    let mut out = Stations::default();
    let mut total = 0;
    for record in body.split('@').filter(|r| !r.trim().is_empty()) {
        total += 1;
        let f: Vec<&str> = record.split('|').map(str::trim).collect();
        let ok = f.len() >= 5 && !f[1].is_empty() && is_telecode(f[2]);
        if !ok {
            out.skipped += 1;
            continue;
        }
        let city = f.get(7).filter(|c| !c.is_empty()).map(|c| c.to_string());
        out.stations.push(Station {
            name: f[1].to_string(),
            telecode: f[2].to_string(),
            pinyin: f[3].to_ascii_lowercase(),
            abbr: f[4].to_ascii_lowercase(),
            city,
        });
    }
    if out.stations.is_empty() {
        return Err(if total == 0 {
            StationsError::Empty
        } else {
            StationsError::MostlyUnreadable {
                skipped: out.skipped,
                total,
            }
        });
    }
    if out.skipped * 2 > total {
        return Err(StationsError::MostlyUnreadable {
            skipped: out.skipped,
            total,
        });
    }
    Ok(out)
}

/// Whether `s` looks like a telecode (three ASCII capitals).
pub fn is_telecode(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

impl Stations {
    /// The station with this telecode.
    pub fn by_telecode(&self, telecode: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.telecode == telecode)
    }

    /// Stations matching what a person typed, best first, at most `limit`: the exact
    /// name, then the telecode, then names, abbreviations and pinyin that start with it,
    /// then names that contain it, then stations of a city of that name. Latin letters
    /// match without regard to case; spaces are ignored.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Station> {
        let q: String = query.split_whitespace().collect();
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let lower = q.to_lowercase();
        let rank = |s: &Station| -> Option<u8> {
            if s.name == q {
                Some(0)
            } else if s.telecode.eq_ignore_ascii_case(&q) {
                Some(1)
            } else if s.name.starts_with(&q) {
                Some(2)
            } else if s.abbr.starts_with(&lower) {
                Some(3)
            } else if s.pinyin.starts_with(&lower) {
                Some(4)
            } else if s.name.contains(&q) {
                Some(5)
            } else if s.city.as_deref() == Some(q.as_str()) {
                Some(6)
            } else {
                None
            }
        };
        let mut hits: Vec<(u8, usize, &Station)> = self
            .stations
            .iter()
            .enumerate()
            .filter_map(|(i, s)| rank(s).map(|r| (r, i, s)))
            .collect();
        // Within a rank, shorter names first (北京 before 北京北), then the file's order.
        hits.sort_by_key(|(r, i, s)| (*r, s.name.chars().count(), *i));
        hits.into_iter().take(limit).map(|(_, _, s)| s).collect()
    }
}
