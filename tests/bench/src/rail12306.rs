//! A realistic 12306 left-ticket query reply for the parse benches (the native
//! `rail12306` bench and, through its `--write-fixture`, `tests/e2e/bench-rail12306.mjs`).
//!
//! [`query_reply`] builds `{"httpstatus":200,"data":{"result":[…],"flag":"1","map":{…}},
//! "messages":"","status":true}` with the requested number of rows, deterministically
//! (a fixed seed: the same bytes on every machine). The rows take their shapes from
//! `wasm-core/tests/fixtures/rail12306/query_rows.txt`:
//!
//! - the 56-field row (`G1`) for G and D trains on sale (二等/一等/商务 or 特等, 无座,
//!   动卧 on some overnight D trains);
//! - the 50-field row (`K7`) for K, T and Z trains (软卧/硬卧/硬座/无座, 高级软卧 on some);
//! - the 37-field row (`G3`) for trains not on sale yet (`…起售`, `IS_TIME_NOT_BUY`,
//!   empty secretStr, `*` cells).
//!
//! Each row gets its own train code (unique in the reply), train_no, origin/terminus and
//! from/to among the Beijing and Shanghai stations, departure spread over the day (the
//! rows come sorted by departure, as the site sends them), arrival and duration for the
//! train type, a percent-encoded secretStr of a real one's length (~375 characters, base64
//! with `%0A` line breaks) and leftTicketStr, and seat cells that are a number, `有`, `无`,
//! empty or `*`. `data.map` names every from/to telecode that appears.

use haoyuan_sandbox::gen::Rng;

/// The rows of the core's test fixture: 56, 50 and 37 fields.
const TEMPLATES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../wasm-core/tests/fixtures/rail12306/query_rows.txt"
));

/// The seed of [`query_reply`].
const SEED: u64 = 12306;

/// The travel date of every row (`start_train_date`), as in the fixture.
pub const DATE: &str = "20261204";

/// Departure stations (the query is the city 北京 → the city 上海, as the site answers
/// a city pair with every station of both cities).
const FROM: [(&str, &str); 3] = [("VNP", "北京南"), ("BJP", "北京"), ("BXP", "北京西")];
const TO: [(&str, &str); 3] = [("AOH", "上海虹桥"), ("SHH", "上海"), ("SNH", "上海南")];
/// Where trains that do not start or end at the queried stations start or end.
const BEYOND_FROM: [&str; 4] = ["HBB", "SYT", "CCT", "TJP"];
const BEYOND_TO: [&str; 4] = ["HGH", "FZS", "NGH", "XMS"];

/// What a row looks like, by the fixture row it is built from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// G or D train on sale (56 fields).
    HighSpeed,
    /// K, T or Z train on sale (50 fields).
    Conventional,
    /// Not on sale yet (37 fields).
    NotYet,
}

/// The JSON body of a left-ticket query answering `rows` trains (see the module doc).
pub fn query_reply(rows: usize) -> Vec<u8> {
    let templates: Vec<Vec<&str>> = TEMPLATES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('|').collect())
        .collect();
    let template = |shape: Shape| -> &[&str] {
        let want = match shape {
            Shape::HighSpeed => 56,
            Shape::Conventional => 50,
            Shape::NotYet => 37,
        };
        templates
            .iter()
            .find(|t| t.len() == want)
            .map(Vec::as_slice)
            .expect("query_rows.txt has rows of 56, 50 and 37 fields")
    };
    let mut rng = Rng::new(SEED);
    let mut numbers = Numbers::default();
    let mut built: Vec<(u32, String)> = Vec::with_capacity(rows);
    let mut used: Vec<&str> = Vec::new();
    for i in 0..rows {
        let shape = match rng.range(0, 100) {
            0..=54 => Shape::HighSpeed,
            55..=84 => Shape::Conventional,
            _ => Shape::NotYet,
        };
        // Keep every shape in even a small reply.
        let shape = match i {
            0 => Shape::HighSpeed,
            1 => Shape::Conventional,
            2 => Shape::NotYet,
            _ => shape,
        };
        let (row, depart, from, to) = build_row(&mut rng, &mut numbers, shape, template(shape));
        for t in [from, to] {
            if !used.contains(&t) {
                used.push(t);
            }
        }
        built.push((depart, row));
    }
    // As the site sends them: by departure (stable, so equal times keep their order).
    built.sort_by_key(|(depart, _)| *depart);

    let mut out = String::with_capacity(rows * 700 + 256);
    out.push_str(r#"{"httpstatus":200,"data":{"result":["#);
    for (k, (_, row)) in built.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(row).unwrap_or_default());
    }
    out.push_str(r#"],"flag":"1","map":{"#);
    let names = FROM.iter().chain(TO.iter());
    let mut first = true;
    for (code, name) in names.filter(|(c, _)| used.contains(c)) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&format!("\"{code}\":\"{name}\""));
    }
    out.push_str(r#"}},"messages":"","status":true}"#);
    out.into_bytes()
}

/// Train numbers handed out so far, per letter (codes are unique in a reply).
#[derive(Default)]
struct Numbers {
    g: u32,
    d: u32,
    k: u32,
    t: u32,
    z: u32,
}

/// One row: its text, its departure (minutes), and its from/to telecodes.
fn build_row(
    rng: &mut Rng,
    n: &mut Numbers,
    shape: Shape,
    template: &[&str],
) -> (String, u32, &'static str, &'static str) {
    let mut f: Vec<String> = template.iter().map(|s| s.to_string()).collect();
    let letter = match shape {
        Shape::HighSpeed | Shape::NotYet => {
            if rng.chance(0.7) {
                'G'
            } else {
                'D'
            }
        }
        Shape::Conventional => *rng.pick(&['K', 'K', 'T', 'Z']),
    };
    let number = {
        let (slot, base, step) = match letter {
            'G' => (&mut n.g, 1, 2),
            'D' => (&mut n.d, 301, 2),
            'K' => (&mut n.k, 101, 2),
            'T' => (&mut n.t, 101, 2),
            _ => (&mut n.z, 1, 2),
        };
        let k = base + *slot * step;
        *slot += 1;
        k
    };
    let code = format!("{letter}{number}");
    let bureau = rng.pick(&["24", "55", "5l", "38", "01"]);
    f[2] = format!("{bureau}{code:0>6}{:02}00", rng.range(1, 4));
    f[3] = code;

    let (from_i, to_i) = (rng.range(0, 3) as usize, rng.range(0, 3) as usize);
    let (from, to) = (FROM[from_i].0, TO[to_i].0);
    let starts_here = rng.chance(0.7);
    let ends_here = rng.chance(0.7);
    f[4] = if starts_here {
        from.to_string()
    } else {
        rng.pick(&BEYOND_FROM).to_string()
    };
    f[5] = if ends_here {
        to.to_string()
    } else {
        rng.pick(&BEYOND_TO).to_string()
    };
    f[6] = from.to_string();
    f[7] = to.to_string();

    let (depart, duration) = match (shape, letter) {
        (Shape::Conventional, _) => (
            // Evening departures, overnight trips.
            rng.range(14 * 60, 23 * 60 + 30) as u32,
            rng.range(11 * 60, 22 * 60) as u32,
        ),
        (_, 'D') => (
            rng.range(6 * 60, 22 * 60) as u32,
            rng.range(6 * 60, 12 * 60) as u32,
        ),
        _ => (
            rng.range(6 * 60, 20 * 60 + 30) as u32,
            rng.range(4 * 60 + 18, 6 * 60 + 40) as u32,
        ),
    };
    f[8] = hhmm(depart % (24 * 60));
    f[9] = hhmm((depart + duration) % (24 * 60));
    f[10] = hhmm(duration);
    f[13] = DATE.to_string();
    f[15] = rng.pick(&["P2", "P3", "P4", "H6", "Q6"]).to_string();
    let from_no = if starts_here { 1 } else { rng.range(2, 9) };
    f[16] = format!("{from_no:02}");
    f[17] = format!("{:02}", from_no + rng.range(3, 15));

    // Seat kinds of this train (cell index, seat-type code, price in jiao).
    let kinds: Vec<(usize, char, u32)> = match (shape, letter) {
        (Shape::Conventional, l) => {
            let mut k = vec![(23, '4', 4_760), (28, '3', 3_070), (29, '1', 1_775)];
            if l == 'Z' && rng.chance(0.4) {
                k.insert(0, (21, '6', 9_070));
            }
            k
        }
        (_, 'D') if duration > 9 * 60 => vec![(33, 'F', 7_100), (30, 'O', 3_090)],
        (_, 'D') => vec![(30, 'O', 3_090), (31, 'M', 4_940)],
        _ => {
            if rng.chance(0.2) {
                vec![(30, 'O', 5_530), (31, 'M', 9_330), (25, 'P', 11_040)]
            } else {
                vec![(30, 'O', 5_530), (31, 'M', 9_330), (32, '9', 17_480)]
            }
        }
    };
    let standing = shape != Shape::NotYet && rng.chance(0.6);
    let mut counts: Vec<(char, u32, u32)> = Vec::new();
    for &(cell, seat, price) in &kinds {
        let (text, count) = if shape == Shape::NotYet {
            ("*".to_string(), 0)
        } else {
            seat_cell(rng)
        };
        f[cell] = text;
        counts.push((seat, price, count));
    }
    if standing {
        let (text, count) = if shape == Shape::Conventional && rng.chance(0.3) {
            ("*".to_string(), 0)
        } else {
            seat_cell(rng)
        };
        f[26] = text;
        // 无座 is sold under the base seat's code (二等座, else 硬座), with a count of
        // 3000 and more.
        if let Some(&(_, base, price)) = kinds.iter().find(|k| k.0 == 30 || k.0 == 29) {
            counts.push((base, price, 3000 + count));
        }
    }
    f[35] = kinds.iter().map(|k| k.1).collect();
    f[34] = kinds.iter().map(|k| format!("{}0", k.1)).collect();

    if shape == Shape::NotYet {
        let open = rng.range(8 * 60, 17 * 60 + 1) as u32 / 30 * 30;
        f[0] = String::new();
        f[1] = format!("12月{}日{}起售", &DATE[6..8], hhmm(open));
        f[11] = "IS_TIME_NOT_BUY".to_string();
        f[12] = String::new();
    } else {
        let sold_out = counts.iter().all(|c| c.2 == 0 || c.2 == 3000);
        f[0] = secret_str(rng);
        f[1] = "预订".to_string();
        f[11] = if sold_out { "N" } else { "Y" }.to_string();
        f[12] = left_ticket_str(rng);
        f[36] = rng.pick(&["0", "1"]).to_string();
        f[37] = if rng.chance(0.6) { "1" } else { "0" }.to_string();
        f[39] = counts
            .iter()
            .map(|(seat, price, count)| format!("{seat}{price:05}{count:04}"))
            .collect();
    }
    (f.join("|"), depart, from, to)
}

/// A seat cell of a train on sale, and the count behind it (0: none).
fn seat_cell(rng: &mut Rng) -> (String, u32) {
    match rng.range(0, 100) {
        0..=34 => ("有".into(), 99),
        35..=64 => {
            let k = rng.range(1, 21) as u32;
            (k.to_string(), k)
        }
        65..=89 => ("无".into(), 0),
        _ => (String::new(), 0),
    }
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `len` random bytes in base64, percent-encoded as in the reply (`+` `/` `=` and the
/// line breaks every 76 characters when `wrap`).
fn encoded(rng: &mut Rng, len: usize, wrap: bool) -> String {
    let mut b64 = String::with_capacity(len * 4 / 3 + 4);
    for _ in 0..len.div_ceil(3) {
        let n = rng.next_u64();
        for shift in [18, 12, 6, 0] {
            b64.push(B64[(n >> shift) as usize & 63] as char);
        }
    }
    let pad = (3 - len % 3) % 3;
    b64.truncate(b64.len() - pad);
    b64.push_str(&"=".repeat(pad));
    let mut out = String::with_capacity(b64.len() * 3 / 2);
    for (i, c) in b64.chars().enumerate() {
        if wrap && i > 0 && i % 76 == 0 {
            out.push_str("%0A");
        }
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// A secretStr: ~340 base64 characters with line breaks, percent-encoded (~400).
fn secret_str(rng: &mut Rng) -> String {
    let len = 252 + rng.range(0, 6) as usize;
    encoded(rng, len, true)
}

/// A leftTicketStr: ~60 base64 characters, percent-encoded.
fn left_ticket_str(rng: &mut Rng) -> String {
    let len = 43 + rng.range(0, 3) as usize;
    encoded(rng, len, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haoyuan_core::platforms::rail12306::query::{parse_query_reply, QueryReply, Seat};

    #[test]
    fn the_core_reads_every_row_of_a_300_row_reply() {
        let body = query_reply(300);
        assert_eq!(body, query_reply(300), "deterministic");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let result = v["data"]["result"].as_array().unwrap();
        assert_eq!(result.len(), 300);
        let lens: Vec<usize> = result
            .iter()
            .map(|r| r.as_str().unwrap().split('|').count())
            .collect();
        for want in [56, 50, 37] {
            let k = lens.iter().filter(|&&l| l == want).count();
            assert!(k >= 20, "{k} rows of {want} fields");
        }
        assert_eq!(
            lens.len(),
            lens.iter().filter(|l| [56, 50, 37].contains(l)).count()
        );

        let QueryReply::Trains {
            rows,
            names,
            bad_rows,
        } = parse_query_reply(&body).unwrap()
        else {
            panic!("not trains");
        };
        assert_eq!(rows.len(), 300);
        assert!(bad_rows.is_empty(), "{bad_rows:?}");
        let mut codes: Vec<&str> = rows.iter().map(|r| r.train_code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 300, "train codes are unique");
        for r in &rows {
            assert!(names.iter().any(|(c, _)| *c == r.from), "{}", r.from);
            assert!(names.iter().any(|(c, _)| *c == r.to), "{}", r.to);
        }
        let departs: Vec<&str> = rows.iter().map(|r| r.depart.as_str()).collect();
        assert!(
            departs.windows(2).all(|w| w[0] <= w[1]),
            "sorted by departure"
        );

        let on_sale = rows.iter().filter(|r| r.on_sale()).count();
        assert!(on_sale > 150 && on_sale < 300, "{on_sale} on sale");
        assert!(rows.iter().any(|r| r.houbu));
        assert!(rows
            .iter()
            .filter(|r| r.on_sale())
            .all(|r| r.secret_str.len() > 300 && r.secret_str.contains("%0A")));
        let seats: Vec<&Seat> = rows
            .iter()
            .flat_map(|r| r.seats.iter().map(|(_, s)| s))
            .collect();
        assert!(seats.iter().any(|s| matches!(s, Seat::Count(_))));
        assert!(seats.contains(&&Seat::Plenty));
        assert!(seats.contains(&&Seat::None));
        assert!(seats.contains(&&Seat::NotYet));
        assert!(!seats.iter().any(|s| matches!(s, Seat::Unknown(_))));
        // Empty cells (none) as well as 无 in the text.
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("|无|") && text.contains("||") && text.contains("|*|"));
    }

    #[test]
    fn a_small_reply_has_every_shape() {
        let QueryReply::Trains { rows, bad_rows, .. } = parse_query_reply(&query_reply(3)).unwrap()
        else {
            panic!("not trains");
        };
        assert_eq!((rows.len(), bad_rows.len()), (3, 0));
        assert_eq!(rows.iter().filter(|r| !r.on_sale()).count(), 1);
    }
}
