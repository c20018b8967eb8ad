//! Glyph outline → normalised shape features.
//!
//! An outline is flattened to polygons (quadratic and cubic curves subdivided), fitted
//! into a `GRID_W`×`GRID_H` box with its aspect ratio kept and centred, and filled by
//! scanlines with the nonzero winding rule, giving each cell its covered fraction
//! (`SUBROWS` sub-scanlines per row, exact horizontal coverage). Beside the grid: the
//! glyph's height relative to the font's tallest glyph (what tells "." from a digit),
//! its aspect ratio and its number of holes (contours wound against the outer one).

use super::Font;
use ttf_parser::{GlyphId, OutlineBuilder};

/// Grid width in cells.
pub(crate) const GRID_W: usize = 12;
/// Grid height in cells.
pub(crate) const GRID_H: usize = 18;
/// Cells per grid.
pub(crate) const CELLS: usize = GRID_W * GRID_H;
/// Sub-scanlines per grid row.
const SUBROWS: usize = 4;
/// Line segments per quadratic curve.
const QUAD_STEPS: usize = 8;
/// Line segments per cubic curve.
const CUBIC_STEPS: usize = 12;
/// At most this many points per glyph (a guard against hostile fonts).
const MAX_POINTS: usize = 20_000;

/// One glyph's outline in font units, flattened.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outline {
    pub(crate) contours: Vec<Vec<(f32, f32)>>,
    too_big: bool,
}

impl Outline {
    /// Reads a glyph; `None` when it has no outline (empty, or unreadable data).
    pub(crate) fn read(font: &Font<'_>, glyph: GlyphId) -> Option<Outline> {
        let mut out = Outline::default();
        font.outline(glyph, &mut out)?;
        out.finish_contour();
        out.contours.retain(|c| c.len() >= 3);
        if out.too_big || out.contours.is_empty() {
            return None;
        }
        Some(out)
    }

    fn finish_contour(&mut self) {
        if let Some(last) = self.contours.last_mut() {
            if last.len() >= 2 && last.first() == last.last() {
                last.pop();
            }
        }
    }

    fn push(&mut self, x: f32, y: f32) {
        if self.points() >= MAX_POINTS {
            self.too_big = true;
            return;
        }
        if let Some(c) = self.contours.last_mut() {
            c.push((x, y));
        }
    }

    fn points(&self) -> usize {
        self.contours.iter().map(Vec::len).sum()
    }

    fn last(&self) -> (f32, f32) {
        self.contours
            .last()
            .and_then(|c| c.last().copied())
            .unwrap_or((0.0, 0.0))
    }

    /// `(x_min, y_min, x_max, y_max)`.
    pub(crate) fn bbox(&self) -> (f32, f32, f32, f32) {
        let mut b = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for &(x, y) in self.contours.iter().flatten() {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
        b
    }
}

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.finish_contour();
        self.contours.push(Vec::new());
        self.push(x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        self.push(x, y);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x0, y0) = self.last();
        for i in 1..=QUAD_STEPS {
            let t = i as f32 / QUAD_STEPS as f32;
            let u = 1.0 - t;
            self.push(
                u * u * x0 + 2.0 * u * t * x1 + t * t * x,
                u * u * y0 + 2.0 * u * t * y1 + t * t * y,
            );
        }
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x0, y0) = self.last();
        for i in 1..=CUBIC_STEPS {
            let t = i as f32 / CUBIC_STEPS as f32;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.push(
                a * x0 + b * x1 + c * x2 + d * x,
                a * y0 + b * y1 + c * y2 + d * y,
            );
        }
    }

    fn close(&mut self) {
        self.finish_contour();
    }
}

/// The features of one glyph.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Features {
    /// Covered fraction per cell, row-major, top row first.
    pub(crate) grid: [f32; CELLS],
    /// Glyph height / the tallest glyph's height in the same font (0..=1).
    pub(crate) rel_height: f32,
    /// Width / height of the bounding box.
    pub(crate) aspect: f32,
    /// Contours wound against the largest one (the counters of 0, 4, 6, 8, 9).
    pub(crate) holes: u8,
}

impl Features {
    /// Features of `outline`, whose font's tallest glyph is `font_height` units high.
    /// `None` for a degenerate outline (no area).
    pub(crate) fn of(outline: &Outline, font_height: f32) -> Option<Features> {
        let (x0, y0, x1, y1) = outline.bbox();
        let (w, h) = (x1 - x0, y1 - y0);
        if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
            return None;
        }
        let s = (GRID_W as f32 / w).min(GRID_H as f32 / h);
        let ox = (GRID_W as f32 - w * s) / 2.0;
        let oy = (GRID_H as f32 - h * s) / 2.0;
        // Grid coordinates, y downwards (row 0 at the top of the glyph).
        let polys: Vec<Vec<(f32, f32)>> = outline
            .contours
            .iter()
            .map(|c| {
                c.iter()
                    .map(|&(x, y)| ((x - x0) * s + ox, (y1 - y) * s + oy))
                    .collect()
            })
            .collect();
        let grid = rasterise(&polys);
        let areas: Vec<f32> = outline.contours.iter().map(|c| signed_area(c)).collect();
        let largest = areas
            .iter()
            .copied()
            .fold(0.0f32, |a, b| if b.abs() > a.abs() { b } else { a });
        let holes = areas
            .iter()
            .filter(|&&a| a * largest < 0.0 && a.abs() > largest.abs() * 0.01)
            .count();
        let rel_height = if font_height > 0.0 {
            (h / font_height).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Some(Features {
            grid,
            rel_height,
            aspect: w / h,
            holes: holes.min(255) as u8,
        })
    }
}

/// Twice the signed area (shoelace).
fn signed_area(c: &[(f32, f32)]) -> f32 {
    let mut a = 0.0;
    for i in 0..c.len() {
        let (x0, y0) = c[i];
        let (x1, y1) = c[(i + 1) % c.len()];
        a += x0 * y1 - x1 * y0;
    }
    a
}

/// Nonzero-winding scanline fill: the covered fraction of every cell.
fn rasterise(polys: &[Vec<(f32, f32)>]) -> [f32; CELLS] {
    let mut grid = [0.0f32; CELLS];
    let mut crossings: Vec<(f32, i32)> = Vec::new();
    for row in 0..GRID_H {
        for sub in 0..SUBROWS {
            let y = row as f32 + (sub as f32 + 0.5) / SUBROWS as f32;
            crossings.clear();
            for poly in polys {
                for i in 0..poly.len() {
                    let (ax, ay) = poly[i];
                    let (bx, by) = poly[(i + 1) % poly.len()];
                    if (ay <= y && by > y) || (by <= y && ay > y) {
                        let t = (y - ay) / (by - ay);
                        crossings.push((ax + t * (bx - ax), if by > ay { 1 } else { -1 }));
                    }
                }
            }
            // Insertion sort: a handful of crossings, and std's sort is large in wasm.
            for i in 1..crossings.len() {
                let mut j = i;
                while j > 0 && crossings[j - 1].0 > crossings[j].0 {
                    crossings.swap(j - 1, j);
                    j -= 1;
                }
            }
            let mut winding = 0;
            for pair in crossings.windows(2) {
                winding += pair[0].1;
                if winding != 0 {
                    add_span(
                        &mut grid[row * GRID_W..(row + 1) * GRID_W],
                        pair[0].0,
                        pair[1].0,
                    );
                }
            }
        }
    }
    for v in &mut grid {
        *v /= SUBROWS as f32;
    }
    grid
}

/// Adds the horizontal coverage of `[xa, xb]` to the cells of one row.
fn add_span(row: &mut [f32], xa: f32, xb: f32) {
    let (xa, xb) = (xa.max(0.0), xb.min(GRID_W as f32));
    if xb <= xa {
        return;
    }
    let first = xa.floor() as usize;
    let last = (xb.ceil() as usize).min(GRID_W);
    for (c, cell) in row.iter_mut().enumerate().take(last).skip(first) {
        let lo = xa.max(c as f32);
        let hi = xb.min(c as f32 + 1.0);
        if hi > lo {
            *cell += hi - lo;
        }
    }
}
