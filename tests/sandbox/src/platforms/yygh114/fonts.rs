//! Generated obfuscation fonts for the 114yygh simulator.
//!
//! On the real site `product/detail` sends prices (`fcode`) and remaining counts
//! (`ncode`) as strings of Private-Use-Area entities (`&#xf7ee;&#xf128;`), drawn by a
//! TrueType font served at `dutyImgUrl`. Only a handful of such fonts exist, named by the
//! md5 of a small integer; they share one typeface's digit outlines but shuffle the code
//! points, so a client can only map code point → digit by matching glyph outlines against
//! labelled references.
//!
//! [`FontSet::generate`] makes such a set, deterministically from a seed:
//! - the outlines of `0`–`9` and `.` come from one of the bundled typefaces (DejaVu and
//!   Liberation, extracted once by `tests/sandbox/tools/extract_font_outlines.py` into
//!   `font_data/outlines.rs`; nothing reads system fonts at run time);
//! - per font, 11 random distinct code points in U+E000–U+F8FF (none shared between the
//!   fonts of a set, never in digit order), a shuffled glyph order and meaningless
//!   lowercase glyph names, so neither code points nor names nor glyph ids carry a digit;
//! - a minimal TrueType writer of our own: `cmap` (format 4, the 11 code points and
//!   nothing else), `glyf`/`loca` (no hinting instructions), `head` (with table
//!   checksums and `checkSumAdjustment`), `hhea`, `hmtx`, `maxp`, `OS/2` (version 4),
//!   `name` (the source typeface's copyright and license notice, as its license asks)
//!   and `post` (format 2).
//!
//! The outline data is font software under its own licenses (Bitstream Vera for DejaVu,
//! SIL OFL 1.1 for Liberation): see `font_data/`.

use crate::gen::Rng;
use std::collections::HashSet;
use std::fmt::Write as _;

#[path = "font_data/outlines.rs"]
mod outlines;

/// The symbols a font draws, in the order of the bundled outline data.
const SYMBOLS: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'];

/// The Private Use Area of the Basic Multilingual Plane.
const PUA_FIRST: u32 = 0xE000;
const PUA_LAST: u32 = 0xF8FF;

/// At most this many fonts per set (names are md5 of small integers; code points are
/// never shared between the fonts of a set).
const MAX_FONTS: usize = 100;

/// Substrings no glyph name may contain: anything naming a digit or the point.
const TELLTALE: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "period", "dot", "point", "stop", "decimal", "uni", "num", "digit", "notdef",
];

/// One glyph of a bundled typeface: TrueType quadratic contours as stored in the source.
pub(super) struct Glyph {
    /// Advance width in font units.
    pub(super) advance: u16,
    /// Index of the last point of each contour.
    pub(super) ends: &'static [u16],
    /// `[x, y, on_curve]` per point (on_curve is 1 or 0).
    pub(super) points: &'static [[i16; 3]],
}

/// The license a bundled typeface is under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum License {
    /// Bitstream Vera (and Arev) license: `font_data/LICENSE-DejaVu.txt`.
    DejaVu,
    /// SIL Open Font License 1.1: `font_data/LICENSE-Liberation.txt`.
    Liberation,
}

impl License {
    /// The full notice, which goes into every generated font (`name` id 13).
    fn text(self) -> &'static str {
        match self {
            License::DejaVu => include_str!("font_data/LICENSE-DejaVu.txt"),
            License::Liberation => include_str!("font_data/LICENSE-Liberation.txt"),
        }
    }

    /// Where the license is published (`name` id 14).
    fn url(self) -> &'static str {
        match self {
            License::DejaVu => "https://dejavu-fonts.github.io/License.html",
            License::Liberation => "https://openfontlicense.org",
        }
    }
}

/// A bundled typeface: the digit and point glyphs and the metrics a font needs.
pub(super) struct Typeface {
    pub(super) id: &'static str,
    /// The file and Debian package the outlines were taken from.
    #[allow(dead_code)]
    pub(super) source: &'static str,
    /// The source font's copyright notice (`name` id 0).
    pub(super) copyright: &'static str,
    pub(super) license: License,
    pub(super) units_per_em: u16,
    pub(super) bold: bool,
    pub(super) weight_class: u16,
    pub(super) ascender: i16,
    pub(super) descender: i16,
    pub(super) line_gap: i16,
    pub(super) typo_ascender: i16,
    pub(super) typo_descender: i16,
    pub(super) typo_line_gap: i16,
    pub(super) win_ascent: u16,
    pub(super) win_descent: u16,
    pub(super) underline_position: i16,
    pub(super) underline_thickness: i16,
    /// `0`–`9` then `.`, as in [`SYMBOLS`].
    pub(super) glyphs: [Glyph; 11],
}

/// A set of obfuscation fonts sharing one typeface's outlines.
#[derive(Clone, Debug)]
pub struct FontSet {
    /// The fonts, in generation order.
    pub fonts: Vec<ObfuscatedFont>,
}

/// One obfuscation font: its name, its TrueType file and its code point per symbol.
#[derive(Clone, Debug)]
pub struct ObfuscatedFont {
    /// md5 hex of a small integer, like the real site's font names.
    pub name: String,
    /// The TrueType file served at dutyImgUrl.
    pub ttf: Vec<u8>,
    /// The code point (in U+E000–U+F8FF) drawing each symbol of "0123456789.".
    code_points: [char; 11],
    /// The id of the typeface the outlines come from.
    typeface: &'static str,
}

impl FontSet {
    /// `count` fonts (≥ 3) whose digit glyphs share one typeface's outlines, with code points,
    /// glyph order and glyph names shuffled per font from `seed`.
    ///
    /// Fails when `count` is below 3 or above 100, or `typeface` is not one of
    /// [`FontSet::typefaces`]. The same arguments give the same bytes.
    pub fn generate(seed: u64, count: usize, typeface: &str) -> Result<FontSet, String> {
        if count < 3 {
            return Err(format!("a font set needs at least 3 fonts, not {count}"));
        }
        if count > MAX_FONTS {
            return Err(format!(
                "a font set has at most {MAX_FONTS} fonts, not {count}"
            ));
        }
        let face = outlines::TYPEFACES
            .iter()
            .find(|t| t.id == typeface)
            .ok_or_else(|| {
                format!(
                    "unknown typeface “{typeface}” (bundled: {})",
                    outlines::TYPEFACE_IDS.join(", ")
                )
            })?;
        let mut rng = Rng::new(seed).fork("yygh114/fonts").fork(typeface);

        // Names: md5 of distinct small integers.
        let pool = (count as u64 * 2).max(64);
        let mut numbers = HashSet::new();
        while numbers.len() < count {
            numbers.insert(rng.range(1, pool + 1));
        }
        let mut numbers: Vec<u64> = numbers.into_iter().collect();
        numbers.sort_unstable();
        rng.shuffle(&mut numbers);

        let mut used_code_points: HashSet<u32> = HashSet::new();
        let mut seen_cp_orders: Vec<[usize; 11]> = Vec::new();
        let mut seen_glyph_orders: Vec<[usize; 11]> = Vec::new();
        let mut fonts = Vec::with_capacity(count);
        for n in numbers {
            let code_points = loop {
                let mut cps = [0u32; 11];
                for i in 0..cps.len() {
                    cps[i] = loop {
                        let cp = rng.range(u64::from(PUA_FIRST), u64::from(PUA_LAST) + 1) as u32;
                        if !used_code_points.contains(&cp) && !cps[..i].contains(&cp) {
                            break cp;
                        }
                    };
                }
                let order = sort_order(&cps);
                if order != IDENTITY && !seen_cp_orders.contains(&order) {
                    seen_cp_orders.push(order);
                    break cps;
                }
            };
            used_code_points.extend(code_points.iter().copied());
            let glyph_order = loop {
                let mut order = IDENTITY;
                rng.shuffle(&mut order);
                if order != IDENTITY && !seen_glyph_orders.contains(&order) {
                    seen_glyph_orders.push(order);
                    break order;
                }
            };
            let mut names: Vec<String> = Vec::with_capacity(11);
            while names.len() < 11 {
                let len = rng.range(4, 8) as usize;
                let name = format!("glyph_{}", rng.string("abcdefghijklmnopqrstuvwxyz", len));
                if !TELLTALE.iter().any(|t| name.contains(t)) && !names.contains(&name) {
                    names.push(name);
                }
            }
            let name = md5_hex(n.to_string().as_bytes());
            let ttf = build_ttf(face, &name, &code_points, &glyph_order, &names)?;
            let mut chars = ['\u{E000}'; 11];
            for (c, cp) in chars.iter_mut().zip(code_points) {
                *c = char::from_u32(cp).ok_or("a code point outside Unicode")?;
            }
            fonts.push(ObfuscatedFont {
                name,
                ttf,
                code_points: chars,
                typeface: face.id,
            });
        }
        Ok(FontSet { fonts })
    }

    /// The typeface used when a scenario names none.
    pub fn default_typeface() -> &'static str {
        "dejavu-sans"
    }

    /// The typefaces bundled (e.g. "dejavu-sans", "liberation-sans", "liberation-serif").
    pub fn typefaces() -> &'static [&'static str] {
        outlines::TYPEFACE_IDS
    }

    /// The font with this name (the last path segment of `dutyImgUrl`).
    pub fn font(&self, name: &str) -> Option<&ObfuscatedFont> {
        self.fonts.iter().find(|f| f.name == name)
    }
}

impl ObfuscatedFont {
    /// "12.5" → "&#xf7ee;&#xf128;&#xe00a;&#xe3b1;" (lowercase hex entities, as on the real site).
    ///
    /// Characters other than `0`–`9` and `.` are kept as they are.
    pub fn encode(&self, number: &str) -> String {
        let mut out = String::with_capacity(number.len() * 8);
        for c in number.chars() {
            match self.code_point(c) {
                Some(cp) => {
                    let _ = write!(out, "&#x{:x};", u32::from(cp));
                }
                None => out.push(c),
            }
        }
        out
    }

    /// The inverse of [`ObfuscatedFont::encode`]: `None` if an entity is malformed or
    /// names a code point this font does not draw.
    pub fn decode(&self, entities: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = entities;
        while let Some(start) = rest.find("&#x") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let end = after.find(';')?;
            let cp = u32::from_str_radix(&after[..end], 16).ok()?;
            out.push(self.digit_of(char::from_u32(cp)?)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// Which symbol a code point draws (for tests and the admin API only).
    pub fn digit_of(&self, cp: char) -> Option<char> {
        let i = self.code_points.iter().position(|&c| c == cp)?;
        Some(SYMBOLS[i])
    }

    /// The code point drawing `symbol` (`0`–`9` or `.`).
    pub fn code_point(&self, symbol: char) -> Option<char> {
        let i = SYMBOLS.iter().position(|&s| s == symbol)?;
        Some(self.code_points[i])
    }

    /// The id of the typeface whose outlines this font draws.
    pub fn typeface(&self) -> &'static str {
        self.typeface
    }
}

const IDENTITY: [usize; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The symbol indices ordered by their code points.
fn sort_order(cps: &[u32; 11]) -> [usize; 11] {
    let mut order = IDENTITY;
    order.sort_by_key(|&i| cps[i]);
    order
}

// ---------------------------------------------------------------------------------------
// TrueType writer

/// A glyph ready to be written: contours and advance.
struct OutGlyph {
    advance: u16,
    ends: Vec<u16>,
    points: Vec<(i16, i16, bool)>,
}

impl OutGlyph {
    fn from_source(g: &Glyph) -> OutGlyph {
        OutGlyph {
            advance: g.advance,
            ends: g.ends.to_vec(),
            points: g.points.iter().map(|p| (p[0], p[1], p[2] != 0)).collect(),
        }
    }

    /// `.notdef`: a hollow box as wide as the digits.
    fn notdef(face: &Typeface) -> OutGlyph {
        let upm = i32::from(face.units_per_em);
        let advance = face.glyphs[0].advance;
        let adv = i32::from(advance);
        let (x0, x1) = (
            upm / 16,
            (adv - upm / 16).max(upm / 16 + 2 * (upm / 20) + 2),
        );
        let (y0, y1) = (0, upm * 7 / 10);
        let t = upm / 20;
        let p = |x: i32, y: i32| (x as i16, y as i16, true);
        OutGlyph {
            advance,
            ends: vec![3, 7],
            points: vec![
                // Outer contour clockwise, inner counter-clockwise (TrueType winding).
                p(x0, y0),
                p(x0, y1),
                p(x1, y1),
                p(x1, y0),
                p(x0 + t, y0 + t),
                p(x1 - t, y0 + t),
                p(x1 - t, y1 - t),
                p(x0 + t, y1 - t),
            ],
        }
    }

    /// `(x_min, y_min, x_max, y_max)`, or `None` for a glyph without points.
    fn bbox(&self) -> Option<(i16, i16, i16, i16)> {
        let first = self.points.first()?;
        Some(self.points.iter().fold(
            (first.0, first.1, first.0, first.1),
            |(a, b, c, d), &(x, y, _)| (a.min(x), b.min(y), c.max(x), d.max(y)),
        ))
    }

    /// The `glyf` record (simple glyph, no instructions, no flag repeats).
    fn encode(&self) -> Result<Vec<u8>, String> {
        let Some((x_min, y_min, x_max, y_max)) = self.bbox() else {
            return Ok(Vec::new());
        };
        let mut out = Be::default();
        out.i16(i16::try_from(self.ends.len()).map_err(|_| "too many contours")?);
        out.i16(x_min);
        out.i16(y_min);
        out.i16(x_max);
        out.i16(y_max);
        for &e in &self.ends {
            out.u16(e);
        }
        out.u16(0); // instructionLength
        let (mut flags, mut xs, mut ys) = (Vec::new(), Be::default(), Be::default());
        let (mut px, mut py) = (0i32, 0i32);
        for &(x, y, on) in &self.points {
            let mut flag = u8::from(on);
            let (dx, dy) = (i32::from(x) - px, i32::from(y) - py);
            (px, py) = (i32::from(x), i32::from(y));
            flag |= delta(dx, 0x02, 0x10, &mut xs)?;
            flag |= delta(dy, 0x04, 0x20, &mut ys)?;
            flags.push(flag);
        }
        out.0.extend_from_slice(&flags);
        out.0.extend_from_slice(&xs.0);
        out.0.extend_from_slice(&ys.0);
        Ok(out.0)
    }
}

/// Writes one coordinate delta; returns its flag bits (`short` and `same/positive`).
fn delta(d: i32, short: u8, same_or_positive: u8, out: &mut Be) -> Result<u8, String> {
    if d == 0 {
        Ok(same_or_positive)
    } else if d.abs() <= 255 {
        out.0.push(d.unsigned_abs() as u8);
        Ok(short | if d > 0 { same_or_positive } else { 0 })
    } else {
        out.i16(i16::try_from(d).map_err(|_| format!("coordinate delta {d} out of range"))?);
        Ok(0)
    }
}

/// A big-endian byte buffer.
#[derive(Default)]
struct Be(Vec<u8>);

impl Be {
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
}

/// Sum of big-endian u32 words, the data zero-padded to a multiple of 4.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// `2^floor(log2(n))` and `floor(log2(n))`, for the binary-search header fields.
fn pow2_floor(n: u16) -> (u16, u16) {
    let mut p = 0u16;
    while (1u32 << (p + 1)) <= u32::from(n) {
        p += 1;
    }
    (1 << p, p)
}

/// 2019-07-01T00:00:00Z in seconds since 1904-01-01 (the `head` dates).
const FONT_DATE: i64 = 2_082_844_800 + 1_561_939_200;

/// Builds the TrueType file: `.notdef` then the symbols in `glyph_order`
/// (`glyph_order[k]` = symbol index of glyph `k + 1`).
fn build_ttf(
    face: &Typeface,
    name: &str,
    code_points: &[u32; 11],
    glyph_order: &[usize; 11],
    glyph_names: &[String],
) -> Result<Vec<u8>, String> {
    let mut glyphs = vec![OutGlyph::notdef(face)];
    for &s in glyph_order {
        glyphs.push(OutGlyph::from_source(&face.glyphs[s]));
    }
    let num_glyphs = glyphs.len() as u16;
    let upm = face.units_per_em;

    // glyf + loca (long offsets, every glyph 4-byte aligned).
    let mut glyf = Vec::new();
    let mut loca = Be::default();
    for g in &glyphs {
        loca.u32(glyf.len() as u32);
        glyf.extend(g.encode()?);
        while glyf.len() % 4 != 0 {
            glyf.push(0);
        }
    }
    loca.u32(glyf.len() as u32);

    // Metrics.
    let bboxes: Vec<_> = glyphs.iter().map(OutGlyph::bbox).collect();
    let all = bboxes.iter().flatten();
    let x_min = all.clone().map(|b| b.0).min().unwrap_or(0);
    let y_min = all.clone().map(|b| b.1).min().unwrap_or(0);
    let x_max = all.clone().map(|b| b.2).max().unwrap_or(0);
    let y_max = all.clone().map(|b| b.3).max().unwrap_or(0);
    let advance_max = glyphs.iter().map(|g| g.advance).max().unwrap_or(0);
    let mut min_lsb = i16::MAX;
    let mut min_rsb = i16::MAX;
    let mut max_extent = i16::MIN;
    let mut hmtx = Be::default();
    for (g, b) in glyphs.iter().zip(&bboxes) {
        hmtx.u16(g.advance);
        let lsb = b.map_or(0, |b| b.0);
        hmtx.i16(lsb);
        if let Some((bx0, _, bx1, _)) = *b {
            min_lsb = min_lsb.min(bx0);
            min_rsb = min_rsb.min((i32::from(g.advance) - i32::from(bx1)) as i16);
            max_extent = max_extent.max(bx1);
        }
    }
    let max_points = glyphs.iter().map(|g| g.points.len()).max().unwrap_or(0) as u16;
    let max_contours = glyphs.iter().map(|g| g.ends.len()).max().unwrap_or(0) as u16;
    let advances: Vec<u32> = glyphs
        .iter()
        .map(|g| u32::from(g.advance))
        .filter(|&a| a > 0)
        .collect();
    let avg_width = if advances.is_empty() {
        0
    } else {
        (advances.iter().sum::<u32>() + advances.len() as u32 / 2) / advances.len() as u32
    };

    // head (checkSumAdjustment written last).
    let mut head = Be::default();
    head.u16(1); // majorVersion
    head.u16(0); // minorVersion
    head.u32(0x0001_0000); // fontRevision 1.0
    head.u32(0); // checkSumAdjustment
    head.u32(0x5F0F_3CF5); // magicNumber
    head.u16(0x000B); // flags: baseline at y=0, lsb at x=0, integer ppem
    head.u16(upm);
    head.i64(FONT_DATE); // created
    head.i64(FONT_DATE); // modified
    head.i16(x_min);
    head.i16(y_min);
    head.i16(x_max);
    head.i16(y_max);
    head.u16(u16::from(face.bold)); // macStyle
    head.u16(8); // lowestRecPPEM
    head.i16(2); // fontDirectionHint
    head.i16(1); // indexToLocFormat: long
    head.i16(0); // glyphDataFormat

    let mut hhea = Be::default();
    hhea.u32(0x0001_0000);
    hhea.i16(face.ascender);
    hhea.i16(face.descender);
    hhea.i16(face.line_gap);
    hhea.u16(advance_max);
    hhea.i16(min_lsb);
    hhea.i16(min_rsb);
    hhea.i16(max_extent);
    hhea.i16(1); // caretSlopeRise
    hhea.i16(0); // caretSlopeRun
    hhea.i16(0); // caretOffset
    for _ in 0..4 {
        hhea.i16(0); // reserved
    }
    hhea.i16(0); // metricDataFormat
    hhea.u16(num_glyphs); // numberOfHMetrics

    let mut maxp = Be::default();
    maxp.u32(0x0001_0000);
    maxp.u16(num_glyphs);
    maxp.u16(max_points);
    maxp.u16(max_contours);
    maxp.u16(0); // maxCompositePoints
    maxp.u16(0); // maxCompositeContours
    maxp.u16(1); // maxZones: no twilight zone without instructions
    for _ in 0..7 {
        // maxTwilightPoints, maxStorage, maxFunctionDefs, maxInstructionDefs,
        // maxStackElements, maxSizeOfInstructions, maxComponentElements
        maxp.u16(0);
    }
    maxp.u16(0); // maxComponentDepth

    // OS/2 version 4.
    let digit_height = face.glyphs[1].points.iter().map(|p| p[1]).max();
    let digit_height = digit_height.unwrap_or(0);
    let scale = |f: u32| (u32::from(upm) * f / 1000) as i16;
    let mut os2 = Be::default();
    os2.u16(4);
    os2.i16(avg_width as i16);
    os2.u16(face.weight_class);
    os2.u16(5); // usWidthClass: medium
    os2.u16(0); // fsType: installable
    os2.i16(scale(650)); // ySubscriptXSize
    os2.i16(scale(600)); // ySubscriptYSize
    os2.i16(0); // ySubscriptXOffset
    os2.i16(scale(75)); // ySubscriptYOffset
    os2.i16(scale(650)); // ySuperscriptXSize
    os2.i16(scale(600)); // ySuperscriptYSize
    os2.i16(0); // ySuperscriptXOffset
    os2.i16(scale(350)); // ySuperscriptYOffset
    os2.i16(face.underline_thickness); // yStrikeoutSize
    os2.i16(scale(250)); // yStrikeoutPosition
    os2.i16(0); // sFamilyClass
    os2.0.extend_from_slice(&[0; 10]); // panose: any
    os2.u32(0); // ulUnicodeRange1
    os2.u32(1 << 28); // ulUnicodeRange2: bit 60, Private Use Area
    os2.u32(0);
    os2.u32(0);
    os2.0.extend_from_slice(b"NONE"); // achVendID
    os2.u16(if face.bold { 0x0020 } else { 0x0040 }); // fsSelection: BOLD or REGULAR
    os2.u16(*code_points.iter().min().unwrap_or(&PUA_FIRST) as u16); // usFirstCharIndex
    os2.u16(*code_points.iter().max().unwrap_or(&PUA_LAST) as u16); // usLastCharIndex
    os2.i16(face.typo_ascender);
    os2.i16(face.typo_descender);
    os2.i16(face.typo_line_gap);
    os2.u16(face.win_ascent);
    os2.u16(face.win_descent);
    os2.u32(1); // ulCodePageRange1: Latin 1
    os2.u32(0);
    os2.i16(0); // sxHeight: no x here
    os2.i16(digit_height); // sCapHeight ≈ the height of the digit 1
    os2.u16(0); // usDefaultChar
    os2.u16(0x20); // usBreakChar
    os2.u16(0); // usMaxContext

    // cmap: one format 4 subtable (Windows, Unicode BMP), one segment per code point.
    let mut map: Vec<(u16, u16)> = Vec::with_capacity(12);
    for (k, &s) in glyph_order.iter().enumerate() {
        map.push((code_points[s] as u16, k as u16 + 1));
    }
    map.sort_unstable();
    map.push((0xFFFF, 0)); // the required final segment
    let seg_count = map.len() as u16;
    let (p, log) = pow2_floor(seg_count);
    let mut sub = Be::default();
    sub.u16(4); // format
    sub.u16(16 + 8 * seg_count); // length
    sub.u16(0); // language
    sub.u16(seg_count * 2);
    sub.u16(p * 2); // searchRange
    sub.u16(log); // entrySelector
    sub.u16(seg_count * 2 - p * 2); // rangeShift
    for &(cp, _) in &map {
        sub.u16(cp); // endCode
    }
    sub.u16(0); // reservedPad
    for &(cp, _) in &map {
        sub.u16(cp); // startCode
    }
    for &(cp, gid) in &map {
        sub.u16(gid.wrapping_sub(cp)); // idDelta (mod 65536)
    }
    for _ in &map {
        sub.u16(0); // idRangeOffset
    }
    let mut cmap = Be::default();
    cmap.u16(0); // version
    cmap.u16(1); // numTables
    cmap.u16(3); // platformID: Windows
    cmap.u16(1); // encodingID: Unicode BMP
    cmap.u32(12); // offset
    cmap.0.extend_from_slice(&sub.0);

    // name: Windows, US English, UTF-16BE.
    let version = "Version 1.000";
    let unique = format!("1.000;NONE;{name}");
    let records: [(u16, &str); 9] = [
        (0, face.copyright),
        (1, name),
        (2, if face.bold { "Bold" } else { "Regular" }),
        (3, &unique),
        (4, name),
        (5, version),
        (6, name),
        (13, face.license.text()),
        (14, face.license.url()),
    ];
    let mut strings = Vec::new();
    let mut name_table = Be::default();
    name_table.u16(0); // format
    name_table.u16(records.len() as u16);
    name_table.u16(6 + 12 * records.len() as u16); // stringOffset
    for (id, text) in records {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        name_table.u16(3); // platformID
        name_table.u16(1); // encodingID
        name_table.u16(0x0409); // languageID
        name_table.u16(id);
        name_table.u16(u16::try_from(bytes.len()).map_err(|_| "name string too long")?);
        name_table.u16(u16::try_from(strings.len()).map_err(|_| "name table too long")?);
        strings.extend(bytes);
    }
    name_table.0.extend(strings);

    // post format 2: .notdef is standard name 0, the rest are our Pascal strings.
    let mut post = Be::default();
    post.u32(0x0002_0000);
    post.u32(0); // italicAngle
    post.i16(face.underline_position);
    post.i16(face.underline_thickness);
    post.u32(0); // isFixedPitch
    for _ in 0..4 {
        post.u32(0); // min/max memory
    }
    post.u16(num_glyphs);
    post.u16(0);
    for k in 0..glyph_names.len() {
        post.u16(258 + k as u16);
    }
    for n in glyph_names {
        post.0
            .push(u8::try_from(n.len()).map_err(|_| "glyph name too long")?);
        post.0.extend_from_slice(n.as_bytes());
    }

    let tables: [(&[u8; 4], Vec<u8>); 10] = [
        (b"OS/2", os2.0),
        (b"cmap", cmap.0),
        (b"glyf", glyf),
        (b"head", head.0),
        (b"hhea", hhea.0),
        (b"hmtx", hmtx.0),
        (b"loca", loca.0),
        (b"maxp", maxp.0),
        (b"name", name_table.0),
        (b"post", post.0),
    ];
    Ok(assemble(&tables))
}

/// The sfnt wrapper: table directory sorted by tag, 4-byte aligned tables, table
/// checksums and the `head` checkSumAdjustment.
fn assemble(tables: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut sorted: Vec<&(&[u8; 4], Vec<u8>)> = tables.iter().collect();
    sorted.sort_by_key(|t| *t.0);
    let n = sorted.len() as u16;
    let (p, log) = pow2_floor(n);
    let mut out = Be::default();
    out.u32(0x0001_0000); // sfntVersion: TrueType outlines
    out.u16(n);
    out.u16(p * 16); // searchRange
    out.u16(log); // entrySelector
    out.u16(n * 16 - p * 16); // rangeShift
    let mut offset = 12 + 16 * sorted.len();
    let mut head_at = None;
    for (tag, data) in &sorted {
        out.0.extend_from_slice(&tag[..]);
        out.u32(checksum(data));
        out.u32(offset as u32);
        out.u32(data.len() as u32);
        if tag == &b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &sorted {
        out.0.extend_from_slice(data);
        while out.0.len() % 4 != 0 {
            out.0.push(0);
        }
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out.0));
        out.0[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out.0
}

// ---------------------------------------------------------------------------------------
// md5 (RFC 1321), for the font names.

/// The md5 digest of `input` as 32 lowercase hex digits.
fn md5_hex(input: &[u8]) -> String {
    md5(input)
        .iter()
        .fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    let mut msg = input.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((input.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for chunk in msg.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (w, bytes) in m.iter_mut().zip(chunk.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(K[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (o, s) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttf_parser::{Face, GlyphId, OutlineBuilder, Tag};

    /// A path command as ttf-parser reports it.
    #[derive(Clone, Debug, PartialEq)]
    enum Cmd {
        M(f32, f32),
        L(f32, f32),
        Q(f32, f32, f32, f32),
        Z,
    }

    #[derive(Default)]
    struct Recorder(Vec<Cmd>);

    impl OutlineBuilder for Recorder {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(Cmd::M(x, y));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(Cmd::L(x, y));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.push(Cmd::Q(x1, y1, x, y));
        }
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {
            panic!("a TrueType outline has no cubic curves");
        }
        fn close(&mut self) {
            self.0.push(Cmd::Z);
        }
    }

    /// The path the TrueType rules give for a source glyph: on-curve points are
    /// segment ends, off-curve points quadratic controls, and an on-curve point is
    /// implied halfway between two consecutive off-curve points. Starts where
    /// ttf-parser starts (the first on-curve point, real or implied).
    fn reference_path(g: &Glyph) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        let mut start = 0usize;
        for &end in g.ends {
            let pts: Vec<(f32, f32, bool)> = g.points[start..=usize::from(end)]
                .iter()
                .map(|p| (f32::from(p[0]), f32::from(p[1]), p[2] != 0))
                .collect();
            start = usize::from(end) + 1;
            // Expand to an alternating list with implied on-curve points.
            let n = pts.len();
            let mut full: Vec<(f32, f32, bool)> = Vec::new();
            for i in 0..n {
                let cur = pts[i];
                full.push(cur);
                let next = pts[(i + 1) % n];
                if !cur.2 && !next.2 {
                    full.push(((cur.0 + next.0) / 2.0, (cur.1 + next.1) / 2.0, true));
                }
            }
            // Start where ttf-parser starts: at point 0 when it is on-curve; otherwise at
            // point 1 when that is on-curve, or at the midpoint of points 0 and 1 when
            // both are off-curve — index 1 of `full` either way.
            let rot = if pts[0].2 { 0 } else { 1 };
            full.rotate_left(rot);
            cmds.push(Cmd::M(full[0].0, full[0].1));
            let mut i = 1;
            let m = full.len();
            while i <= m {
                let p = full[i % m];
                if p.2 {
                    cmds.push(Cmd::L(p.0, p.1));
                    i += 1;
                } else {
                    let q = full[(i + 1) % m];
                    cmds.push(Cmd::Q(p.0, p.1, q.0, q.1));
                    i += 2;
                }
            }
            cmds.push(Cmd::Z);
        }
        cmds
    }

    fn outline(face: &Face, gid: GlyphId) -> Vec<Cmd> {
        let mut r = Recorder::default();
        face.outline_glyph(gid, &mut r);
        r.0
    }

    fn typeface(id: &str) -> &'static Typeface {
        outlines::TYPEFACES
            .iter()
            .find(|t| t.id == id)
            .expect("bundled")
    }

    /// Reads the code points a font's cmap maps, with their glyphs, through ttf-parser.
    fn cmap_entries(face: &Face) -> Vec<(u32, u16)> {
        let cmap = face.tables().cmap.expect("cmap");
        let mut out = Vec::new();
        for sub in cmap.subtables {
            sub.codepoints(|cp| {
                let gid = sub.glyph_index(cp).map_or(0, |g| g.0);
                out.push((cp, gid));
            });
        }
        out
    }

    /// The symbol a glyph draws, found only by comparing its outline with every bundled
    /// typeface's labelled outlines (what the decoder of issue 5 does, exactly).
    fn classify_by_outline(face: &Face, gid: GlyphId) -> Option<char> {
        let got = outline(face, gid);
        for t in outlines::TYPEFACES {
            for (k, g) in t.glyphs.iter().enumerate() {
                if reference_path(g) == got {
                    return Some(SYMBOLS[k]);
                }
            }
        }
        None
    }

    fn all_sets(seed: u64) -> Vec<FontSet> {
        FontSet::typefaces()
            .iter()
            .map(|t| FontSet::generate(seed, 5, t).expect("generates"))
            .collect()
    }

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"message digest"),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(md5_hex(b"1"), "c4ca4238a0b923820dcc509a6f75849b");
    }

    #[test]
    fn at_least_three_typefaces_with_consistent_ids() {
        assert!(FontSet::typefaces().len() >= 3);
        let ids: Vec<&str> = outlines::TYPEFACES.iter().map(|t| t.id).collect();
        assert_eq!(ids, FontSet::typefaces());
        assert!(FontSet::typefaces().contains(&FontSet::default_typeface()));
        for id in ["dejavu-sans", "liberation-sans", "liberation-serif"] {
            assert!(FontSet::typefaces().contains(&id), "{id}");
        }
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(FontSet::generate(1, 2, "dejavu-sans").is_err());
        assert!(FontSet::generate(1, MAX_FONTS + 1, "dejavu-sans").is_err());
        let err = FontSet::generate(1, 3, "comic-sans").expect_err("unknown typeface");
        assert!(err.contains("dejavu-sans"), "{err}");
        assert_eq!(
            FontSet::generate(1, MAX_FONTS, "dejavu-sans").map(|s| s.fonts.len()),
            Ok(MAX_FONTS)
        );
    }

    #[test]
    fn every_font_parses_and_maps_exactly_its_eleven_pua_code_points() {
        for set in all_sets(7) {
            assert_eq!(set.fonts.len(), 5);
            for f in &set.fonts {
                let face = Face::parse(&f.ttf, 0).expect("ttf-parser accepts the font");
                let t = typeface(f.typeface());
                assert_eq!(face.units_per_em(), t.units_per_em);
                assert_eq!(face.number_of_glyphs(), 12);
                let mut entries = cmap_entries(&face);
                entries.sort_unstable();
                let mut expected: Vec<u32> = SYMBOLS
                    .iter()
                    .map(|&s| u32::from(f.code_point(s).expect("symbol")))
                    .collect();
                expected.sort_unstable();
                let got: Vec<u32> = entries.iter().map(|e| e.0).collect();
                assert_eq!(got, expected, "cmap maps exactly the 11 code points");
                let mut gids: Vec<u16> = entries.iter().map(|e| e.1).collect();
                gids.sort_unstable();
                assert_eq!(
                    gids,
                    (1..=11).collect::<Vec<u16>>(),
                    "one glyph each, never .notdef"
                );
                for cp in got {
                    assert!((PUA_FIRST..=PUA_LAST).contains(&cp), "{cp:x} in the PUA");
                }
                for c in ['0', '5', '.', 'a', ' ', '\u{E000}', '\u{F8FF}', '\u{FFFF}'] {
                    if f.digit_of(c).is_none() {
                        // U+FFFF is format 4's required last segment, mapped to .notdef.
                        let gid = face.glyph_index(c);
                        assert!(matches!(gid, None | Some(GlyphId(0))), "{c:?} → {gid:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn each_code_point_draws_the_source_outline_of_its_symbol() {
        for set in all_sets(11) {
            for f in &set.fonts {
                let face = Face::parse(&f.ttf, 0).expect("parses");
                let t = typeface(f.typeface());
                for (k, &s) in SYMBOLS.iter().enumerate() {
                    let cp = f.code_point(s).expect("symbol");
                    let gid = face.glyph_index(cp).expect("mapped");
                    let src = &t.glyphs[k];
                    assert_eq!(outline(&face, gid), reference_path(src), "{} {s}", t.id);
                    assert_eq!(face.glyph_hor_advance(gid), Some(src.advance));
                    let x_min = src.points.iter().map(|p| p[0]).min();
                    assert_eq!(face.glyph_hor_side_bearing(gid), x_min);
                }
            }
        }
    }

    #[test]
    fn numbers_decode_by_outline_alone() {
        for set in all_sets(3) {
            for f in &set.fonts {
                let face = Face::parse(&f.ttf, 0).expect("parses");
                for number in ["0", "12.5", "3.14", "9876543210", "100.00"] {
                    let html = f.encode(number);
                    let decoded: String = html
                        .split(';')
                        .filter(|s| !s.is_empty())
                        .map(|e| {
                            let hex = e.strip_prefix("&#x").expect("entity");
                            let cp = u32::from_str_radix(hex, 16).expect("hex");
                            let c = char::from_u32(cp).expect("char");
                            let gid = face.glyph_index(c).expect("mapped");
                            classify_by_outline(&face, gid).expect("known outline")
                        })
                        .collect();
                    assert_eq!(decoded, number, "{} {}", f.typeface(), f.name);
                }
            }
        }
    }

    #[test]
    fn glyph_names_carry_no_digit() {
        let digit_names = [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "period",
        ];
        for seed in 0..20 {
            for set in all_sets(seed) {
                for f in &set.fonts {
                    let face = Face::parse(&f.ttf, 0).expect("parses");
                    assert_eq!(face.glyph_name(GlyphId(0)), Some(".notdef"));
                    let mut names = HashSet::new();
                    for gid in 1..face.number_of_glyphs() {
                        let name = face.glyph_name(GlyphId(gid)).expect("every glyph is named");
                        assert!(!name.chars().any(|c| c.is_ascii_digit()), "{name}");
                        assert!(!name.contains("uni") && !name.starts_with('u'), "{name}");
                        assert!(!digit_names.iter().any(|d| name.contains(d)), "{name}");
                        assert!(
                            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                            "{name}"
                        );
                        assert!(names.insert(name.to_string()), "{name} is unique");
                    }
                }
            }
        }
    }

    #[test]
    fn code_points_and_glyph_order_carry_no_digit() {
        for seed in 0..20 {
            for set in all_sets(seed) {
                let mut seen = HashSet::new();
                let mut cp_orders = Vec::new();
                let mut glyph_orders = Vec::new();
                for f in &set.fonts {
                    let cps: Vec<u32> = SYMBOLS
                        .iter()
                        .map(|&s| u32::from(f.code_point(s).expect("symbol")))
                        .collect();
                    // No code point is reused in another font of the set, so a mapping
                    // learnt from one font says nothing about another.
                    for &cp in &cps {
                        assert!(seen.insert(cp), "{cp:x} shared between fonts");
                    }
                    // Sorting code points does not give the digits in order, and each
                    // font sorts differently.
                    let mut by_cp: Vec<usize> = (0..11).collect();
                    by_cp.sort_by_key(|&i| cps[i]);
                    assert_ne!(by_cp, (0..11).collect::<Vec<_>>());
                    cp_orders.push(by_cp);
                    // No arithmetic relation: cp − digit is not constant modulo any k.
                    for k in 10..=256u32 {
                        let residues: HashSet<u32> = (0..10u32)
                            .map(|d| (cps[d as usize] + k * 16 - d) % k)
                            .collect();
                        assert!(residues.len() > 1, "cp ≡ digit + c (mod {k})");
                    }
                    // Glyph ids are not in digit order, and differ between fonts.
                    let face = Face::parse(&f.ttf, 0).expect("parses");
                    let gids: Vec<u16> = cps
                        .iter()
                        .map(|&cp| {
                            let c = char::from_u32(cp).expect("char");
                            face.glyph_index(c).expect("mapped").0
                        })
                        .collect();
                    assert_ne!(gids, (1..=11).collect::<Vec<u16>>(), "glyph order shuffled");
                    glyph_orders.push(gids);
                }
                for i in 0..cp_orders.len() {
                    for j in i + 1..cp_orders.len() {
                        assert_ne!(cp_orders[i], cp_orders[j]);
                        assert_ne!(glyph_orders[i], glyph_orders[j]);
                    }
                }
                // The code point → digit mappings differ between the fonts of one set.
                let a = &set.fonts[0];
                let b = &set.fonts[1];
                for s in SYMBOLS {
                    let cp = a.code_point(s).expect("symbol");
                    assert_ne!(b.digit_of(cp), Some(s));
                }
            }
        }
    }

    #[test]
    fn encode_and_digit_of_round_trip() {
        let set = FontSet::generate(42, 4, "liberation-serif").expect("generates");
        let f = &set.fonts[0];
        let html = f.encode("12.5");
        let expected: String = "12.5"
            .chars()
            .map(|c| format!("&#x{:x};", u32::from(f.code_point(c).expect("symbol"))))
            .collect();
        assert_eq!(html, expected);
        assert_eq!(html, html.to_lowercase(), "lowercase hex");
        assert_eq!(html.matches("&#x").count(), 4);
        assert_eq!(f.decode(&html).as_deref(), Some("12.5"));
        assert_eq!(f.encode("¥12"), format!("¥{}", f.encode("12")));
        for s in SYMBOLS {
            let cp = f.code_point(s).expect("symbol");
            assert_eq!(f.digit_of(cp), Some(s));
        }
        assert_eq!(f.code_point('x'), None);
        assert_eq!(f.digit_of('7'), None);
        assert_eq!(f.decode("&#xzz;"), None);
        assert_eq!(set.font(&f.name).map(|g| g.ttf.len()), Some(f.ttf.len()));
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_fonts() {
        let a = FontSet::generate(5, 4, "dejavu-sans").expect("generates");
        let b = FontSet::generate(5, 4, "dejavu-sans").expect("generates");
        for (x, y) in a.fonts.iter().zip(&b.fonts) {
            assert_eq!(x.name, y.name);
            assert_eq!(x.ttf, y.ttf);
            assert_eq!(x.encode("0123456789."), y.encode("0123456789."));
        }
        let c = FontSet::generate(6, 4, "dejavu-sans").expect("generates");
        assert_ne!(a.fonts[0].ttf, c.fonts[0].ttf);
        assert_ne!(
            a.fonts[0].encode("0123456789."),
            c.fonts[0].encode("0123456789.")
        );
    }

    #[test]
    fn names_are_md5_of_small_integers() {
        for set in all_sets(9) {
            let mut names = HashSet::new();
            for f in &set.fonts {
                assert!(names.insert(f.name.clone()), "distinct names");
                assert!(
                    (0..1000u32).any(|n| md5_hex(n.to_string().as_bytes()) == f.name),
                    "{} is the md5 of a small integer",
                    f.name
                );
            }
        }
    }

    #[test]
    fn typefaces_draw_different_outlines() {
        let sets = all_sets(1);
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                let (fa, fb) = (&a.fonts[0], &b.fonts[0]);
                let (ea, eb) = (
                    Face::parse(&fa.ttf, 0).expect("a"),
                    Face::parse(&fb.ttf, 0).expect("b"),
                );
                let mut differing = 0;
                for s in SYMBOLS {
                    let ga = ea.glyph_index(fa.code_point(s).expect("s")).expect("a");
                    let gb = eb.glyph_index(fb.code_point(s).expect("s")).expect("b");
                    if outline(&ea, ga) != outline(&eb, gb) {
                        differing += 1;
                    }
                }
                // Every digit differs between typefaces (the point may be a plain square).
                assert!(
                    differing >= 10,
                    "{} vs {}: {differing}",
                    fa.typeface(),
                    fb.typeface()
                );
            }
        }
    }

    /// Parses the table directory: (tag, checksum, offset, length).
    fn directory(ttf: &[u8]) -> Vec<([u8; 4], u32, usize, usize)> {
        let be32 = |at: usize| u32::from_be_bytes([ttf[at], ttf[at + 1], ttf[at + 2], ttf[at + 3]]);
        let n = usize::from(u16::from_be_bytes([ttf[4], ttf[5]]));
        (0..n)
            .map(|i| {
                let at = 12 + 16 * i;
                let tag = [ttf[at], ttf[at + 1], ttf[at + 2], ttf[at + 3]];
                (
                    tag,
                    be32(at + 4),
                    be32(at + 8) as usize,
                    be32(at + 12) as usize,
                )
            })
            .collect()
    }

    #[test]
    fn checksums_directory_and_tables_are_valid() {
        for set in all_sets(2) {
            for f in &set.fonts {
                let ttf = &f.ttf;
                assert_eq!(&ttf[..4], &[0, 1, 0, 0]);
                assert_eq!(ttf.len() % 4, 0);
                let dir = directory(ttf);
                let tags: Vec<&[u8]> = dir.iter().map(|d| &d.0[..]).collect();
                assert_eq!(
                    tags,
                    [
                        &b"OS/2"[..],
                        b"cmap",
                        b"glyf",
                        b"head",
                        b"hhea",
                        b"hmtx",
                        b"loca",
                        b"maxp",
                        b"name",
                        b"post"
                    ],
                    "exactly these tables, sorted; no hinting tables (fpgm, prep, cvt)"
                );
                assert_eq!(
                    &ttf[6..12],
                    &[0, 128, 0, 3, 0, 32],
                    "searchRange, entrySelector, rangeShift"
                );
                for (tag, sum, offset, len) in &dir {
                    assert_eq!(offset % 4, 0);
                    let mut data = ttf[*offset..offset + len].to_vec();
                    if tag == b"head" {
                        data[8..12].copy_from_slice(&[0; 4]);
                    }
                    assert_eq!(checksum(&data), *sum, "{}", String::from_utf8_lossy(tag));
                }
                assert_eq!(checksum(ttf), 0xB1B0_AFBA, "whole-file checksum");
                let face = Face::parse(ttf, 0).expect("parses");
                let raw = face.raw_face();
                let maxp = raw.table(Tag::from_bytes(b"maxp")).expect("maxp");
                assert_eq!(maxp.len(), 32, "maxp version 1.0");
                let os2 = face.tables().os2.expect("OS/2");
                assert_eq!(os2.version, 4);
                let post = raw.table(Tag::from_bytes(b"post")).expect("post");
                assert_eq!(&post[..4], &[0, 2, 0, 0], "post format 2");
                // No glyph has hinting instructions.
                let glyf = raw.table(Tag::from_bytes(b"glyf")).expect("glyf");
                let loca = raw.table(Tag::from_bytes(b"loca")).expect("loca");
                for gid in 0..12 {
                    let at = |i: usize| {
                        u32::from_be_bytes([
                            loca[4 * i],
                            loca[4 * i + 1],
                            loca[4 * i + 2],
                            loca[4 * i + 3],
                        ]) as usize
                    };
                    let start = at(gid);
                    let contours = usize::from(u16::from_be_bytes([glyf[start], glyf[start + 1]]));
                    let ins = start + 10 + 2 * contours;
                    assert_eq!(
                        &glyf[ins..ins + 2],
                        &[0, 0],
                        "glyph {gid} has no instructions"
                    );
                    assert!(at(gid + 1) - start >= 12);
                }
            }
        }
    }

    #[test]
    fn fonts_carry_the_source_license_and_no_reserved_name() {
        for set in all_sets(4) {
            for f in &set.fonts {
                let face = Face::parse(&f.ttf, 0).expect("parses");
                let t = typeface(f.typeface());
                let name = |id: u16| {
                    face.names()
                        .into_iter()
                        .find(|n| n.name_id == id)
                        .and_then(|n| n.to_string())
                        .unwrap_or_default()
                };
                assert_eq!(name(0), t.copyright);
                assert_eq!(name(13), t.license.text());
                assert!(name(13).len() > 1000, "the full license notice");
                for id in [1, 3, 4, 6] {
                    let n = name(id);
                    assert!(n.contains(&f.name), "{id}: {n}");
                    for reserved in [
                        "Liberation",
                        "Arimo",
                        "Tinos",
                        "Cousine",
                        "Bitstream",
                        "Vera",
                        "DejaVu",
                        "Arev",
                    ] {
                        assert!(!n.contains(reserved), "{id}: {n}");
                    }
                }
            }
        }
    }
}
