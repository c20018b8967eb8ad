//! The 114yygh obfuscated-number decoder (`haoyuan_core::fontdecode`) on fonts whose
//! outlines come from typefaces the reference table was NOT built from.
//!
//! References (`wasm-core/src/fontdecode/refs.bin`): DejaVu Sans, DejaVu Sans Mono,
//! Liberation Serif, Liberation Sans Bold. Unseen: the sandbox's generated obfuscation
//! fonts from dejavu-serif, dejavu-sans-bold, liberation-sans, liberation-mono (several
//! seeds), and Debian system fonts when installed (DejaVu/Liberation variants, Noto,
//! FreeFont, URW base35, Carlito/Caladea), read directly and treated as obfuscation
//! fonts (their digit glyphs under shuffled Private-Use-Area keys). Missing system fonts
//! are skipped, so the test passes on a machine with only the sandbox's fonts.
//!
//! `cargo test -p haoyuan-core --test fontdecode -- --nocapture` prints accuracy per
//! typeface; `… -- --ignored --nocapture bench` prints decode time cold vs cached.

use haoyuan_core::fontdecode::{
    decode_font, decode_font_chars, DecodeError, DecoderCache, FontMap,
};
use haoyuan_sandbox::platforms::yygh114::fonts::FontSet;
use std::time::Instant;

use haoyuan_bench::fontsets::{
    DEBIAN_ITALIC, DEBIAN_UNSEEN, REFERENCE_FILES, REFERENCE_TYPEFACES, UNSEEN_TYPEFACES,
};

const SYMBOLS: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'];

const SEEDS: &[u64] = &[1, 2, 3, 7, 42];

#[derive(Default, Clone, Copy, Debug)]
struct Tally {
    correct: usize,
    wrong: usize,
    unresolved: usize,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.correct += o.correct;
        self.wrong += o.wrong;
        self.unresolved += o.unresolved;
    }
    fn total(&self) -> usize {
        self.correct + self.wrong + self.unresolved
    }
    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total().max(1) as f64
    }
}

/// Scores a map against the truth: `truth(cp)` is the symbol the code point draws.
fn score(map: &FontMap, truth: impl Fn(char) -> Option<char>) -> Tally {
    let mut t = Tally::default();
    for (cp, guess) in map.iter() {
        let expected = truth(cp).expect("every mapped code point draws a symbol");
        match guess.symbol {
            Some(s) if s == expected => t.correct += 1,
            Some(s) => {
                eprintln!(
                    "WRONG: U+{:04X} drawn as {expected} decoded as {s} ({guess:?})",
                    u32::from(cp)
                );
                t.wrong += 1
            }
            None => t.unresolved += 1,
        }
    }
    t
}

fn sandbox_tally(typeface: &str) -> Tally {
    let mut tally = Tally::default();
    for &seed in SEEDS {
        let set = FontSet::generate(seed, 3, typeface).expect("generates");
        for font in &set.fonts {
            let map = decode_font(&font.ttf).expect("decodes");
            assert_eq!(map.len(), 11, "{typeface}: 11 code points");
            tally.add(score(&map, |cp| font.digit_of(cp)));
        }
    }
    tally
}

/// A Debian font's `0`–`9` and `.` under shuffled Private-Use-Area keys.
fn debian_tally(path: &str, seed: u32) -> Option<Tally> {
    let bytes = std::fs::read(format!("/usr/share/fonts/{path}")).ok()?;
    let mut keys: Vec<char> = (0..11u32)
        .map(|i| char::from_u32(0xE000 + ((i * 7 + seed * 13) % 11) * 97 + seed).expect("pua"))
        .collect();
    keys.rotate_left((seed % 11) as usize);
    let pairs: Vec<(char, char)> = keys.iter().copied().zip(SYMBOLS).collect();
    let map = decode_font_chars(&bytes, &pairs).expect("decodes");
    assert_eq!(map.len(), 11, "{path}");
    Some(score(&map, |cp| {
        pairs.iter().find(|p| p.0 == cp).map(|p| p.1)
    }))
}

fn row(name: &str, t: Tally) {
    println!(
        "  {name:55} {:>4}/{:<4} correct  {:>2} unresolved  {} wrong  {:6.2}%",
        t.correct,
        t.total(),
        t.unresolved,
        t.wrong,
        100.0 * t.accuracy()
    );
}

#[test]
fn test_typefaces_are_disjoint_from_the_references() {
    for t in UNSEEN_TYPEFACES {
        assert!(!REFERENCE_TYPEFACES.contains(t));
        assert!(
            FontSet::typefaces().contains(t),
            "{t} is bundled by the sandbox"
        );
    }
    for p in DEBIAN_UNSEEN.iter().chain(DEBIAN_ITALIC) {
        let file = p.rsplit('/').next().unwrap_or(p);
        assert!(!REFERENCE_FILES.contains(&file), "{p} is a reference font");
    }
    let readme = include_str!("../src/fontdecode/README.md");
    for f in REFERENCE_FILES {
        assert!(readme.contains(f), "README names the reference {f}");
    }
}

#[test]
fn accuracy_on_unseen_typefaces() {
    let mut overall = Tally::default();
    println!("fontdecode accuracy on typefaces absent from the references:");
    println!(
        " sandbox obfuscation fonts ({} seeds × 3 fonts each):",
        SEEDS.len()
    );
    for t in UNSEEN_TYPEFACES {
        let tally = sandbox_tally(t);
        row(t, tally);
        assert_eq!(tally.wrong, 0, "{t}: a wrong digit");
        assert!(tally.accuracy() >= 0.9, "{t}: {tally:?}");
        overall.add(tally);
    }
    println!(" Debian fonts, upright (digits under shuffled PUA keys):");
    let mut skipped = Vec::new();
    for p in DEBIAN_UNSEEN {
        match debian_tally(p, 5) {
            Some(t) => {
                row(p, t);
                assert_eq!(t.wrong, 0, "{p}: a wrong digit");
                overall.add(t);
            }
            None => skipped.push(*p),
        }
    }
    println!(" Debian fonts, italic (reported only):");
    for p in DEBIAN_ITALIC {
        if let Some(t) = debian_tally(p, 3) {
            row(p, t);
            assert_eq!(t.wrong, 0, "{p}: a wrong digit");
        }
    }
    if !skipped.is_empty() {
        println!(" not installed, skipped: {}", skipped.join(", "));
    }
    row("OVERALL (sandbox + Debian upright)", overall);
    assert_eq!(overall.wrong, 0);
    assert!(overall.accuracy() >= 0.99, "overall accuracy {overall:?}");
}

#[test]
fn reference_typefaces_decode_exactly() {
    for t in REFERENCE_TYPEFACES {
        let tally = sandbox_tally(t);
        assert_eq!(
            (tally.correct, tally.total()),
            (tally.total(), 5 * 3 * 11),
            "{t}"
        );
    }
}

#[test]
fn decodes_sandbox_numbers_across_seeds() {
    for &seed in SEEDS {
        for t in UNSEEN_TYPEFACES {
            let set = FontSet::generate(seed, 4, t).expect("generates");
            for font in &set.fonts {
                let map = decode_font(&font.ttf).expect("decodes");
                for n in ["0", "12", "3.5", "100", "46", "789.00", "25.5"] {
                    let entities = font.encode(n);
                    match map.decode(&entities) {
                        Some(s) => assert_eq!(s, n, "{t} seed {seed}"),
                        // Allowed only when a symbol of `n` is unresolved.
                        None => assert!(
                            n.chars().any(|c| font
                                .code_point(c)
                                .and_then(|cp| map.symbol(cp))
                                .is_none()),
                            "{t} seed {seed}: {n}"
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn code_points_glyph_order_and_names_do_not_matter() {
    // Every font of a set (and of other seeds) draws the same outlines under other code
    // points, glyph ids and names: each symbol gets the same guess everywhere.
    for t in FontSet::typefaces() {
        let mut per_symbol: Vec<Option<(Option<char>, f32)>> = vec![None; 11];
        for seed in [11, 12] {
            let set = FontSet::generate(seed, 4, t).expect("generates");
            for font in &set.fonts {
                let map = decode_font(&font.ttf).expect("decodes");
                for (i, s) in SYMBOLS.iter().enumerate() {
                    let cp = font.code_point(*s).expect("symbol");
                    let g = map.get(cp).expect("mapped");
                    let now = (g.symbol, g.confidence);
                    match per_symbol[i] {
                        None => per_symbol[i] = Some(now),
                        // Equal up to float summation order in the assignment.
                        Some(before) => assert!(
                            before.0 == now.0 && (before.1 - now.1).abs() < 1e-4,
                            "{t} {s}: {before:?} vs {now:?}"
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn entities_decode() {
    let set = FontSet::generate(9, 3, "liberation-sans").expect("generates");
    let font = &set.fonts[0];
    let map = decode_font(&font.ttf).expect("decodes");
    let cp = |s: char| font.code_point(s).expect("symbol");
    assert!(map.unresolved().is_empty(), "{map:?}");
    assert_eq!(map.decode(&font.encode("12")).as_deref(), Some("12"));
    let upper = format!("&#X{:X};&#{};", u32::from(cp('4')), u32::from(cp('2')));
    assert_eq!(
        map.decode(&upper).as_deref(),
        Some("42"),
        "upper-case hex and decimal"
    );
    let raw: String = [cp('9'), cp('.'), cp('5')].iter().collect();
    assert_eq!(
        map.decode(&raw).as_deref(),
        Some("9.5"),
        "raw PUA characters"
    );
    assert_eq!(
        map.decode(&format!("¥{}元", font.encode("30"))).as_deref(),
        Some("¥30元")
    );
    assert_eq!(map.decode(""), Some(String::new()));
    assert_eq!(map.decode("&#xzz;"), None, "malformed entity");
    assert_eq!(map.decode("&#xf7ee"), None, "unterminated entity");
    let other = (0xE000..=0xF8FF)
        .filter_map(char::from_u32)
        .find(|c| map.get(*c).is_none())
        .expect("an unmapped PUA code point");
    assert_eq!(
        map.decode(&format!("&#x{:x};", u32::from(other))),
        None,
        "unmapped code point"
    );
    assert_eq!(
        map.decode(&other.to_string()),
        None,
        "unmapped raw PUA character"
    );
}

#[test]
fn a_glyph_that_is_no_digit_is_unresolved_not_wrong() {
    // A font drawing 0–9 plus a letter where "." should be: the letter gets no symbol,
    // and no digit is decoded wrongly.
    let Ok(bytes) = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf") else {
        let set = FontSet::generate(1, 3, "dejavu-serif").expect("generates");
        let map = decode_font(&set.fonts[0].ttf).expect("decodes");
        assert!(map
            .iter()
            .all(|(_, g)| g.symbol.is_none() || g.confidence > 0.0));
        return;
    };
    for letter in ['W', 'x', 'A', '%', 'H'] {
        let mut pairs: Vec<(char, char)> = SYMBOLS[..10]
            .iter()
            .enumerate()
            .map(|(i, &s)| (char::from_u32(0xF000 + i as u32 * 3).expect("pua"), s))
            .collect();
        pairs.push(('\u{F100}', letter));
        let map = decode_font_chars(&bytes, &pairs).expect("decodes");
        assert_eq!(
            map.symbol('\u{F100}'),
            None,
            "{letter} is no digit: {:?}",
            map.get('\u{F100}')
        );
        for (key, s) in &pairs[..10] {
            if let Some(d) = map.symbol(*key) {
                assert_eq!(d, *s, "{letter}");
            }
        }
    }
}

#[test]
fn damaged_fonts_are_errors() {
    let set = FontSet::generate(3, 3, "dejavu-serif").expect("generates");
    let good = set.fonts[0].ttf.clone();
    assert!(matches!(decode_font(&[]), Err(DecodeError::Parse(_))));
    assert!(matches!(
        decode_font(b"<html>404 Not Found</html>"),
        Err(DecodeError::Parse(_))
    ));
    assert!(decode_font(&good[..40]).is_err(), "truncated directory");

    // Table directory: tag, checksum, offset, length (16 bytes each, from byte 12).
    let tables = usize::from(u16::from_be_bytes([good[4], good[5]]));
    let find = |tag: &[u8; 4]| {
        (0..tables)
            .map(|i| 12 + 16 * i)
            .find(|&at| &good[at..at + 4] == tag)
            .expect("table")
    };
    let be32 =
        |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;

    // Cut inside the glyph data (glyf and the tables after it are gone).
    let glyf_at = be32(&good, find(b"glyf") + 8);
    assert!(
        decode_font(&good[..glyf_at + 10]).is_err(),
        "truncated in glyf"
    );
    // Cut inside the character map.
    let cmap_at = be32(&good, find(b"cmap") + 8);
    assert!(
        decode_font(&good[..cmap_at + 6]).is_err(),
        "truncated in cmap"
    );

    let mut no_cmap = good.clone();
    let at = find(b"cmap");
    no_cmap[at..at + 4].copy_from_slice(b"xmap");
    assert_eq!(decode_font(&no_cmap), Err(DecodeError::NoCmap));

    let mut blank_glyf = good.clone();
    let at = find(b"glyf");
    let (off, len) = (be32(&good, at + 8), be32(&good, at + 12));
    blank_glyf[off..off + len].fill(0);
    assert!(matches!(
        decode_font(&blank_glyf),
        Err(DecodeError::NoOutlines(11))
    ));

    let mut garbage_glyf = good.clone();
    for (i, b) in garbage_glyf[off..off + len].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    // Garbage outlines: an error or unresolved glyphs, never a panic.
    if let Ok(map) = decode_font(&garbage_glyf) {
        assert!(map.len() <= 11);
    }

    let mut bad_loca = good.clone();
    let at = find(b"loca");
    let (off, len) = (be32(&good, at + 8), be32(&good, at + 12));
    bad_loca[off..off + len].fill(0xff);
    assert!(decode_font(&bad_loca).is_err(), "loca pointing past glyf");

    // Errors read as plain words.
    let msg = decode_font(&[]).expect_err("empty").to_string();
    assert!(msg.starts_with("not a readable font"), "{msg}");
}

#[test]
fn cache_hits_return_the_same_map() {
    let set = FontSet::generate(21, 4, "liberation-mono").expect("generates");
    let url = |n: &str| format!("https://www.114yygh.com/web/font/{n}");
    let mut cache = DecoderCache::new(2);
    assert!(cache.get(&url(&set.fonts[0].name)).is_none());
    let first = cache
        .decode(&url(&set.fonts[0].name), &set.fonts[0].ttf)
        .expect("decodes")
        .clone();
    assert_eq!(first, decode_font(&set.fonts[0].ttf).expect("decodes"));
    // A hit does not look at the bytes again.
    let hit = cache
        .decode(&url(&set.fonts[0].name), b"not a font")
        .expect("cached")
        .clone();
    assert_eq!(hit, first);
    assert_eq!(cache.get(&url(&set.fonts[0].name)), Some(&first));
    assert_eq!(cache.len(), 1);
    // Errors are not cached.
    assert!(cache.decode("https://x/broken", b"nope").is_err());
    assert!(cache.get("https://x/broken").is_none());
    // Capacity 2: the oldest font goes.
    cache
        .decode(&url(&set.fonts[1].name), &set.fonts[1].ttf)
        .expect("decodes");
    cache
        .decode(&url(&set.fonts[2].name), &set.fonts[2].ttf)
        .expect("decodes");
    assert_eq!(cache.len(), 2);
    assert!(cache.get(&url(&set.fonts[0].name)).is_none());
    assert!(cache.get(&url(&set.fonts[2].name)).is_some());
}

/// `cargo test -p haoyuan-core --release --test fontdecode -- --ignored --nocapture bench`
#[test]
#[ignore]
fn bench_decode_cold_vs_cached() {
    let set = FontSet::generate(1, 20, "dejavu-serif").expect("generates");
    let urls: Vec<String> = set
        .fonts
        .iter()
        .map(|f| format!("https://x/{}", f.name))
        .collect();
    let mut cache = DecoderCache::new(64);
    let t = Instant::now();
    for (u, f) in urls.iter().zip(&set.fonts) {
        cache.decode(u, &f.ttf).expect("decodes");
    }
    let cold = t.elapsed() / set.fonts.len() as u32;
    let rounds = 1000;
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        for (u, f) in urls.iter().zip(&set.fonts) {
            n += cache.decode(u, &f.ttf).expect("cached").len();
        }
    }
    let cached = t.elapsed() / (rounds * set.fonts.len()) as u32;
    let entity = set.fonts[0].encode("123.5");
    let map = cache.get(&urls[0]).expect("cached").clone();
    let t = Instant::now();
    for _ in 0..10_000 {
        assert!(map.decode(&entity).is_some());
    }
    let decode = t.elapsed() / 10_000;
    println!(
        "fontdecode: cold decode {cold:?}/font ({} bytes), cached lookup {cached:?}, entity string → number {decode:?} ({n} lookups)",
        set.fonts[0].ttf.len()
    );
}
