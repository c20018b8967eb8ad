//! Classification of glyph features against labelled references.
//!
//! Each glyph's distance to a symbol is its distance to the nearest reference of that
//! symbol. Since an obfuscation font draws each symbol once, the glyphs are then
//! assigned to symbols jointly (minimum-cost one-to-one assignment, Hungarian method),
//! which settles most near ties. A glyph's confidence comes from the assignment's
//! margin: how much the best assignment's total cost rises when that glyph is forbidden
//! its symbol, compared with its own distance.

use super::features::{Features, CELLS, GRID_H, GRID_W};

/// The symbols, in reference-table order.
pub(crate) const SYMBOLS: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'];

/// Weight of the relative-height difference.
const W_HEIGHT: f32 = 1.0;
/// Weight of the log aspect-ratio difference.
const W_ASPECT: f32 = 0.15;
/// Weight per hole of difference.
const W_HOLES: f32 = 0.04;
/// A glyph further than this from every reference of its symbol is not classified.
pub(crate) const MAX_DISTANCE: f32 = 0.9;
/// Confidence below which a symbol is not given.
pub(crate) const MIN_CONFIDENCE: f32 = 0.25;

/// One labelled reference glyph.
#[derive(Clone, Debug)]
pub(crate) struct Reference {
    /// Index into [`SYMBOLS`].
    pub(crate) symbol: usize,
    pub(crate) features: Features,
}

/// The distance between two glyphs' features.
pub(crate) fn distance(a: &Features, b: &Features) -> f32 {
    let mut sq = 0.0;
    for i in 0..CELLS {
        let d = a.grid[i] - b.grid[i];
        sq += d * d;
    }
    let grid = (sq / CELLS as f32).sqrt();
    let height = (a.rel_height - b.rel_height).abs();
    let aspect = (a.aspect.max(1e-3) / b.aspect.max(1e-3)).ln().abs();
    let holes = f32::from(a.holes.abs_diff(b.holes));
    grid + W_HEIGHT * height + W_ASPECT * aspect + W_HOLES * holes
}

/// Per glyph: `(symbol index, distance, confidence)` or `None` for a glyph without
/// features. `symbol` is the assigned symbol, whatever its confidence.
pub(crate) fn classify(
    glyphs: &[Option<Features>],
    refs: &[Reference],
) -> Vec<Option<(usize, f32, f32)>> {
    let present: Vec<(usize, &Features)> = glyphs
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
        .collect();
    let mut out = vec![None; glyphs.len()];
    if present.is_empty() {
        return out;
    }
    // cost[g][s]: distance to the nearest reference of symbol s.
    let cost: Vec<[f32; 11]> = present
        .iter()
        .map(|(_, f)| {
            let mut row = [f32::MAX; 11];
            for r in refs {
                let d = distance(f, &r.features);
                if d < row[r.symbol] {
                    row[r.symbol] = d;
                }
            }
            row
        })
        .collect();
    if present.len() <= SYMBOLS.len() {
        let (best, total) = assign(&cost);
        for (k, &(i, _)) in present.iter().enumerate() {
            let s = best[k];
            let d = cost[k][s];
            let mut forbidden = cost.clone();
            forbidden[k][s] = FORBIDDEN;
            let (_, alt) = assign(&forbidden);
            let margin = (alt - total).max(0.0);
            out[i] = Some((s, d, confidence(margin, d)));
        }
    } else {
        // More glyphs than symbols: no one-to-one assignment; nearest symbol and its
        // margin over the runner-up.
        for (k, &(i, _)) in present.iter().enumerate() {
            let row = &cost[k];
            let (mut s, mut runner_up) = (0, f32::MAX);
            for j in 1..row.len() {
                if row[j] < row[s] {
                    runner_up = row[s];
                    s = j;
                } else if row[j] < runner_up {
                    runner_up = row[j];
                }
            }
            let d = row[s];
            let margin = runner_up - d;
            out[i] = Some((s, d, confidence(margin, d)));
        }
    }
    out
}

/// A cost no assignment takes if it can avoid it.
const FORBIDDEN: f32 = 1.0e6;

/// 0..1: the margin relative to the glyph's own distance; 0 beyond [`MAX_DISTANCE`].
fn confidence(margin: f32, distance: f32) -> f32 {
    if distance.is_nan() || distance > MAX_DISTANCE {
        return 0.0;
    }
    let margin = margin.min(10.0);
    margin / (margin + distance + 0.02)
}

/// Minimum-cost assignment of rows to distinct columns (rows ≤ 11 columns):
/// `(column per row, total cost)`. Hungarian method with potentials, O(n²m).
pub(crate) fn assign(cost: &[[f32; 11]]) -> (Vec<usize>, f32) {
    let n = cost.len();
    let m = 11;
    let inf = f64::INFINITY;
    let c = |i: usize, j: usize| f64::from(cost[i - 1][j - 1].min(FORBIDDEN));
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = c(i0, j) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            col[p[j] - 1] = j - 1;
        }
    }
    let total = col
        .iter()
        .enumerate()
        .map(|(i, &j)| cost[i][j].min(FORBIDDEN))
        .sum();
    (col, total)
}

// ---------------------------------------------------------------------------------------
// The bundled reference table (refs.bin)

const MAGIC: &[u8; 4] = b"HYFD";
const VERSION: u8 = 1;
/// Header: magic, version, grid width, grid height, entry count (u16 BE).
const HEADER: usize = 4 + 1 + 1 + 1 + 2;
/// Per entry: symbol, rel_height, aspect, holes, then two cells per byte.
const ENTRY: usize = 4 + CELLS.div_ceil(2);

/// Serialises references (the extraction tool writes this to `refs.bin`).
pub(crate) fn encode_table(refs: &[Reference]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + refs.len() * ENTRY);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(GRID_W as u8);
    out.push(GRID_H as u8);
    out.extend_from_slice(&(refs.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    for r in refs.iter().take(usize::from(u16::MAX)) {
        let f = &r.features;
        out.push(r.symbol as u8);
        out.push((f.rel_height.clamp(0.0, 1.0) * 255.0).round() as u8);
        out.push((f.aspect * 64.0).round().clamp(0.0, 255.0) as u8);
        out.push(f.holes);
        for pair in f.grid.chunks(2) {
            let q = |v: f32| (v.clamp(0.0, 1.0) * 15.0).round() as u8;
            let hi = q(pair[0]);
            let lo = pair.get(1).map_or(0, |&v| q(v));
            out.push(hi << 4 | lo);
        }
    }
    out
}

/// Parses a reference table; `None` if it is malformed or made for another grid.
pub(crate) fn decode_table(bytes: &[u8]) -> Option<Vec<Reference>> {
    if bytes.len() < HEADER || &bytes[..4] != MAGIC || bytes[4] != VERSION {
        return None;
    }
    if usize::from(bytes[5]) != GRID_W || usize::from(bytes[6]) != GRID_H {
        return None;
    }
    let count = usize::from(u16::from_be_bytes([bytes[7], bytes[8]]));
    let body = bytes.get(HEADER..)?;
    if body.len() != count * ENTRY {
        return None;
    }
    let mut refs = Vec::with_capacity(count);
    for e in body.chunks_exact(ENTRY) {
        let symbol = usize::from(e[0]);
        if symbol >= SYMBOLS.len() {
            return None;
        }
        let mut grid = [0.0f32; CELLS];
        for (i, cell) in grid.iter_mut().enumerate() {
            let b = e[4 + i / 2];
            let q = if i % 2 == 0 { b >> 4 } else { b & 0x0f };
            *cell = f32::from(q) / 15.0;
        }
        refs.push(Reference {
            symbol,
            features: Features {
                grid,
                rel_height: f32::from(e[1]) / 255.0,
                aspect: f32::from(e[2]) / 64.0,
                holes: e[3],
            },
        });
    }
    Some(refs)
}
