//! Decoding 114yygh's obfuscated numbers.
//!
//! `product/detail` sends prices (`fcode`) and remaining counts (`ncode`) as strings of
//! Private-Use-Area entities (`&#xf7ee;&#xf128;`) drawn by a TrueType font served at
//! `dutyImgUrl`. Code points, glyph order and glyph names are shuffled per font, so the
//! only thing that says which digit a code point is, is the shape of its glyph.
//!
//! [`decode_font`] reads every glyph the font's `cmap` maps (Private Use Area code points,
//! or all of them if there are none), normalises its outline (see `features.rs`: fitted
//! into a 12×18 grid with its aspect kept, filled by scanline, plus height relative to
//! the font's tallest glyph, aspect ratio and number of holes), and classifies it against
//! labelled references of `0123456789.` taken from several typefaces (`refs.bin`, see
//! `README.md` beside this file), assigning the glyphs to symbols one-to-one. A glyph that
//! cannot be classified confidently gets no symbol: the caller then falls back to the
//! `wnumber` parity rule and says so.
//!
//! No I/O: the caller fetches the font and keeps a [`DecoderCache`] keyed by its URL.

mod classify;
mod features;

use classify::{Reference, SYMBOLS};
use features::{Features, Outline};
#[cfg(not(target_arch = "wasm32"))]
use ttf_parser::cff;
use ttf_parser::{cmap, glyf, head, loca, maxp, GlyphId, OutlineBuilder, RawFace, Tag};

/// The bundled reference table (see `README.md` in this folder for its sources and licences).
static REFS_BIN: &[u8] = include_bytes!("refs.bin");

/// At most this many code points are classified per font.
const MAX_GLYPHS: usize = 256;

/// Why a font could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a font ttf-parser can read.
    #[error("not a readable font: {0}")]
    Parse(String),
    /// The font has no usable character map.
    #[error("the font has no Unicode character map")]
    NoCmap,
    /// The character map maps nothing.
    #[error("the font maps no code points")]
    NoGlyphs,
    /// More code points than an obfuscation font has.
    #[error("the font maps {0} code points, more than an obfuscation font ({MAX_GLYPHS} at most)")]
    TooManyGlyphs(usize),
    /// No mapped glyph has a readable outline.
    #[error("none of the font's {0} glyphs has a readable outline")]
    NoOutlines(usize),
    /// The bundled reference table is damaged (a build problem, not the font's).
    #[error("the bundled reference table is damaged")]
    References,
}

/// What the decoder makes of one code point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guess {
    /// The symbol (`0`–`9` or `.`), or `None` when not classified confidently.
    pub symbol: Option<char>,
    /// The most likely symbol even when not confident (for logs), `None` for a glyph
    /// without an outline.
    pub best: Option<char>,
    /// 0..1; [`Guess::symbol`] is given only at or above the decoder's threshold.
    pub confidence: f32,
}

/// Code point → symbol for one font.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FontMap {
    /// Sorted by code point (a Vec, not a BTreeMap: smaller in wasm).
    glyphs: Vec<(char, Guess)>,
}

impl FontMap {
    /// The guess for a code point, if the font maps it.
    pub fn get(&self, cp: char) -> Option<&Guess> {
        self.glyphs
            .binary_search_by_key(&cp, |(c, _)| *c)
            .ok()
            .map(|i| &self.glyphs[i].1)
    }

    /// The confidently classified symbol of a code point.
    pub fn symbol(&self, cp: char) -> Option<char> {
        self.get(cp).and_then(|g| g.symbol)
    }

    /// Every code point the font maps, with its guess, in code point order.
    pub fn iter(&self) -> impl Iterator<Item = (char, &Guess)> {
        self.glyphs.iter().map(|(c, g)| (*c, g))
    }

    /// Code points without a confident symbol.
    pub fn unresolved(&self) -> Vec<char> {
        self.glyphs
            .iter()
            .filter(|(_, g)| g.symbol.is_none())
            .map(|(c, _)| *c)
            .collect()
    }

    /// Number of code points mapped.
    pub fn len(&self) -> usize {
        self.glyphs.len()
    }

    /// Whether the font mapped nothing.
    pub fn is_empty(&self) -> bool {
        self.glyphs.is_empty()
    }

    /// `"&#xf7ee;&#xf128;"` → `"12"`. Hex (`&#x…;`) and decimal (`&#…;`) entities and raw
    /// Private-Use-Area characters are mapped; other characters are kept as they are.
    /// `None` when an entity is malformed or a code point has no confident symbol
    /// (the caller falls back to the `wnumber` parity rule).
    pub fn decode(&self, entities: &str) -> Option<String> {
        let mut out = String::with_capacity(entities.len() / 4);
        let mut rest = entities;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("&#") {
                let end = after.find(';')?;
                let body = &after[..end];
                let cp = match body.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => body.parse::<u32>().ok()?,
                };
                out.push(self.symbol(char::from_u32(cp)?)?);
                rest = &after[end + 1..];
            } else {
                if is_pua(c) || self.get(c).is_some() {
                    out.push(self.symbol(c)?);
                } else {
                    out.push(c);
                }
                rest = &rest[c.len_utf8()..];
            }
        }
        Some(out)
    }
}

fn is_pua(c: char) -> bool {
    matches!(u32::from(c), 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

/// The few tables the decoder reads. Parsed table by table rather than with
/// `ttf_parser::Face`, which would link every table's parser into the wasm module.
pub(crate) struct Font<'a> {
    cmap: Option<cmap::Table<'a>>,
    units_per_em: u16,
    outlines: Outlines<'a>,
}

#[allow(clippy::large_enum_variant)] // one per font being decoded
enum Outlines<'a> {
    /// TrueType (`glyf`/`loca`), what 114yygh serves.
    Glyf(glyf::Table<'a>),
    /// OpenType CFF (e.g. the URW test fonts). Native builds only: it would cost the
    /// wasm module ~34 KB for a format 114yygh does not serve.
    #[cfg(not(target_arch = "wasm32"))]
    Cff(cff::Table<'a>),
}

impl<'a> Font<'a> {
    fn parse(ttf: &'a [u8]) -> Result<Font<'a>, DecodeError> {
        let raw = RawFace::parse(ttf, 0).map_err(|e| DecodeError::Parse(e.to_string()))?;
        let table = |tag: &[u8; 4]| raw.table(Tag::from_bytes(tag));
        let missing = |what: &str| DecodeError::Parse(format!("no readable {what} table"));
        let head = table(b"head")
            .and_then(head::Table::parse)
            .ok_or_else(|| missing("head"))?;
        let cmap = table(b"cmap").and_then(cmap::Table::parse);
        let glyf = table(b"maxp")
            .and_then(maxp::Table::parse)
            .and_then(|maxp| {
                let loca = loca::Table::parse(
                    maxp.number_of_glyphs,
                    head.index_to_location_format,
                    table(b"loca")?,
                )?;
                glyf::Table::parse(loca, table(b"glyf")?)
            });
        let outlines = match glyf {
            Some(g) => Outlines::Glyf(g),
            #[cfg(not(target_arch = "wasm32"))]
            None => Outlines::Cff(
                table(b"CFF ")
                    .and_then(cff::Table::parse)
                    .ok_or_else(|| missing("glyf/loca/maxp or CFF"))?,
            ),
            #[cfg(target_arch = "wasm32")]
            None => return Err(missing("glyf/loca/maxp")),
        };
        Ok(Font {
            cmap,
            units_per_em: head.units_per_em,
            outlines,
        })
    }

    pub(crate) fn outline(&self, glyph: GlyphId, builder: &mut dyn OutlineBuilder) -> Option<()> {
        match &self.outlines {
            Outlines::Glyf(t) => t.outline(glyph, builder).map(|_| ()),
            #[cfg(not(target_arch = "wasm32"))]
            Outlines::Cff(t) => t.outline(glyph, builder).ok().map(|_| ()),
        }
    }

    fn glyph_index(&self, c: char) -> Option<GlyphId> {
        self.cmap?
            .subtables
            .into_iter()
            .filter(|s| s.is_unicode())
            .find_map(|s| s.glyph_index(u32::from(c)))
            .filter(|g| g.0 != 0)
    }
}

/// Decodes an obfuscation font: code point → symbol with a confidence.
pub fn decode_font(ttf: &[u8]) -> Result<FontMap, DecodeError> {
    let font = Font::parse(ttf)?;
    let cmap = font.cmap.ok_or(DecodeError::NoCmap)?;
    let mut all: Vec<(char, GlyphId)> = Vec::new();
    let mut any_unicode = false;
    for sub in cmap.subtables {
        if !sub.is_unicode() {
            continue;
        }
        any_unicode = true;
        let mut cps = Vec::new();
        sub.codepoints(|cp| {
            if cps.len() <= MAX_GLYPHS * 4 {
                cps.push(cp)
            }
        });
        for cp in cps {
            let (Some(c), Some(g)) = (char::from_u32(cp), sub.glyph_index(cp)) else {
                continue;
            };
            if g.0 != 0 && !all.iter().any(|(seen, _)| *seen == c) {
                all.push((c, g));
            }
        }
    }
    if !any_unicode {
        return Err(DecodeError::NoCmap);
    }
    let pua: Vec<(char, GlyphId)> = all.iter().copied().filter(|(c, _)| is_pua(*c)).collect();
    let chosen = if pua.is_empty() { all } else { pua };
    decode_glyphs(&font, &chosen)
}

/// Classifies the glyphs drawing `chars` in an ordinary (labelled) font as if they were an
/// obfuscation font's code points: for tests and benchmarks on system fonts, which map
/// thousands of code points. The map's keys are `chars`.
#[doc(hidden)]
pub fn decode_font_chars(ttf: &[u8], chars: &[(char, char)]) -> Result<FontMap, DecodeError> {
    let font = Font::parse(ttf)?;
    let mut chosen = Vec::new();
    for &(key, drawn) in chars {
        if let Some(g) = font.glyph_index(drawn) {
            chosen.push((key, g));
        }
    }
    decode_glyphs(&font, &chosen)
}

fn decode_glyphs(font: &Font<'_>, glyphs: &[(char, GlyphId)]) -> Result<FontMap, DecodeError> {
    if glyphs.is_empty() {
        return Err(DecodeError::NoGlyphs);
    }
    if glyphs.len() > MAX_GLYPHS {
        return Err(DecodeError::TooManyGlyphs(glyphs.len()));
    }
    let refs = references()?;
    let features = glyph_features(font, glyphs.iter().map(|(_, g)| *g));
    if features.iter().all(Option::is_none) {
        return Err(DecodeError::NoOutlines(glyphs.len()));
    }
    let results = classify::classify(&features, &refs);
    let mut map = FontMap::default();
    for ((c, _), r) in glyphs.iter().zip(results) {
        let guess = match r {
            Some((s, _distance, confidence)) => Guess {
                symbol: (confidence >= classify::MIN_CONFIDENCE).then_some(SYMBOLS[s]),
                best: Some(SYMBOLS[s]),
                confidence,
            },
            None => Guess {
                symbol: None,
                best: None,
                confidence: 0.0,
            },
        };
        if map.get(*c).is_none() {
            map.glyphs.push((*c, guess));
        }
        // Insertion sort by code point (std's sort is large in wasm; n ≤ 256).
        let mut j = map.glyphs.len() - 1;
        while j > 0 && map.glyphs[j - 1].0 > map.glyphs[j].0 {
            map.glyphs.swap(j - 1, j);
            j -= 1;
        }
    }
    Ok(map)
}

/// Features of each glyph (`None` for one without an outline); heights are relative to
/// the tallest glyph among them.
fn glyph_features(font: &Font<'_>, glyphs: impl Iterator<Item = GlyphId>) -> Vec<Option<Features>> {
    let outlines: Vec<Option<Outline>> = glyphs.map(|g| Outline::read(font, g)).collect();
    let tallest = outlines
        .iter()
        .flatten()
        .map(|o| {
            let (_, y0, _, y1) = o.bbox();
            y1 - y0
        })
        .fold(0.0f32, f32::max);
    // With only a glyph or two, "tallest" may be a point: use a typical figure height.
    let font_height = if outlines.iter().flatten().count() >= 3 {
        tallest
    } else {
        tallest.max(f32::from(font.units_per_em) * 0.72)
    };
    outlines
        .iter()
        .map(|o| o.as_ref().and_then(|o| Features::of(o, font_height)))
        .collect()
}

fn references() -> Result<Vec<Reference>, DecodeError> {
    classify::decode_table(REFS_BIN).ok_or(DecodeError::References)
}

/// Builds a reference table from labelled fonts (each drawing `0`–`9` and `.` at their
/// usual code points): what `wasm-core/tools/fontdecode-refs` writes to `refs.bin`.
#[doc(hidden)]
pub fn build_reference_table(fonts: &[&[u8]]) -> Result<Vec<u8>, DecodeError> {
    Ok(classify::encode_table(&labelled_references(fonts)?))
}

fn labelled_references(fonts: &[&[u8]]) -> Result<Vec<Reference>, DecodeError> {
    let mut refs = Vec::new();
    for ttf in fonts {
        let font = Font::parse(ttf)?;
        let ids: Vec<GlyphId> = SYMBOLS
            .iter()
            .map(|&s| font.glyph_index(s).ok_or(DecodeError::NoGlyphs))
            .collect::<Result<_, _>>()?;
        for (symbol, f) in glyph_features(&font, ids.into_iter())
            .into_iter()
            .enumerate()
        {
            let features = f.ok_or(DecodeError::NoOutlines(SYMBOLS.len()))?;
            refs.push(Reference { symbol, features });
        }
    }
    Ok(refs)
}

/// Decoded fonts by URL, for the runtime to keep between polls (fonts are few and
/// never change under one URL). Holds at most `capacity` fonts, dropping the oldest.
#[derive(Clone, Debug)]
pub struct DecoderCache {
    capacity: usize,
    /// Oldest first.
    maps: Vec<(String, FontMap)>,
}

impl Default for DecoderCache {
    fn default() -> Self {
        DecoderCache::new(32)
    }
}

impl DecoderCache {
    /// A cache holding at most `capacity` (≥ 1) fonts.
    pub fn new(capacity: usize) -> DecoderCache {
        DecoderCache {
            capacity: capacity.max(1),
            maps: Vec::new(),
        }
    }

    /// The map decoded for `url`, if cached (fetch the font only when this is `None`).
    pub fn get(&self, url: &str) -> Option<&FontMap> {
        self.maps.iter().find(|(u, _)| u == url).map(|(_, m)| m)
    }

    /// Decodes `ttf` (the bytes fetched from `url`) and caches the map; a font already
    /// cached under `url` is not decoded again. Errors are not cached.
    pub fn decode(&mut self, url: &str, ttf: &[u8]) -> Result<&FontMap, DecodeError> {
        if self.get(url).is_none() {
            let map = decode_font(ttf)?;
            self.insert(url, map);
        }
        self.get(url).ok_or(DecodeError::NoGlyphs)
    }

    /// Caches a map under `url`.
    pub fn insert(&mut self, url: &str, map: FontMap) {
        match self.maps.iter_mut().find(|(u, _)| u == url) {
            Some(entry) => entry.1 = map,
            None => self.maps.push((url.to_string(), map)),
        }
        if self.maps.len() > self.capacity {
            let excess = self.maps.len() - self.capacity;
            self.maps.drain(..excess);
        }
    }

    /// Number of fonts cached.
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }
}
