//! The 8-tile picture captcha (`passport/captcha/captcha-image`, and the passenger
//! captcha of `passcodeNew/getPassCodeNew`).
//!
//! The image is 293 × 190: a 30-pixel prompt strip on top (a few grey "words" and a
//! small picture of the category to find), then the grid of 4 × 2 tiles of 67 × 67 with
//! 5-pixel gaps. Answer coordinates are relative to the grid area below the strip (what
//! the real page sends: the click minus the strip), so tile `i` spans
//! `x ∈ [5 + 72·(i mod 4), +67)`, `y ∈ [5 + 72·(i div 4), +67)`, the seed's offsets
//! `5,5 77,5 149,5 221,5 / 5,77 77,77 149,77 221,77`. Every tile shows one simple picture
//! of one category (circle, square, triangle, cross, ring, stripes, diamond, checkerboard)
//! in a random colour and size; the answer is every tile of the prompt's category. A
//! click anywhere inside a tile selects it; the check passes when the clicked tiles are
//! exactly the answer's and no click falls outside the tiles.

use crate::gen::Rng;
use crate::png::Image;
use serde_json::{json, Value};

/// Image width.
pub const WIDTH: u32 = 293;
/// Image height.
pub const HEIGHT: u32 = 190;
/// Height of the prompt strip above the grid.
pub const STRIP: i64 = 30;
/// Tile size.
pub const TILE: i64 = 67;

/// Category names, as a prompt would say them (请点击下图中所有的 …).
pub const CATEGORIES: [&str; 8] = [
    "圆形",
    "方块",
    "三角形",
    "十字",
    "圆环",
    "条纹",
    "菱形",
    "棋盘",
];

/// Top-left corner of tile `i` in answer coordinates.
pub fn tile_origin(i: usize) -> (i64, i64) {
    (5 + 72 * (i % 4) as i64, 5 + 72 * (i / 4) as i64)
}

/// The tile a click lands in.
pub fn tile_at(x: i64, y: i64) -> Option<usize> {
    (0..8).find(|&i| {
        let (ox, oy) = tile_origin(i);
        (ox..ox + TILE).contains(&x) && (oy..oy + TILE).contains(&y)
    })
}

/// A generated captcha.
#[derive(Clone, Debug)]
pub struct Captcha {
    /// Index into [`CATEGORIES`].
    pub category: usize,
    /// Bit `i` set: tile `i` is part of the answer.
    pub answer: u8,
    /// When it was made (server clock).
    pub created_ms: i64,
}

/// The outcome of checking an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Exactly the answer's tiles (`result_code` 4).
    Right,
    /// A wrong tile, a missing one, a click outside the tiles or garbage (5).
    Wrong,
    /// Nothing sent (8).
    Empty,
}

impl Captcha {
    /// Makes a captcha and its picture.
    pub fn generate(rng: &mut Rng, created_ms: i64) -> (Captcha, Vec<u8>) {
        let category = rng.range(0, 8) as usize;
        let k = rng.range(1, 4) as usize;
        let mut tiles: Vec<usize> = (0..8).collect();
        rng.shuffle(&mut tiles);
        let mut answer = 0u8;
        for &t in &tiles[..k] {
            answer |= 1 << t;
        }
        let mut img = Image::new(WIDTH, HEIGHT, [255, 255, 255]);
        // Prompt strip: grey "text", then the category to find.
        img.fill(0, 0, i64::from(WIDTH), STRIP, [236, 240, 245]);
        for w in 0..5 {
            img.fill(8 + 22 * w, 11, 16, 9, [110, 110, 120]);
        }
        draw(&mut img, category, 125, 3, 24, [200, 30, 30], rng);
        for i in 0..8 {
            let cat = if answer & (1 << i) != 0 {
                category
            } else {
                let mut c = rng.range(0, 7) as usize;
                if c >= category {
                    c += 1;
                }
                c
            };
            let (ox, oy) = tile_origin(i);
            let bg = [
                rng.range(215, 256) as u8,
                rng.range(215, 256) as u8,
                rng.range(215, 256) as u8,
            ];
            img.fill(ox, oy + STRIP, TILE, TILE, bg);
            let size = rng.range(40, 60) as i64;
            let x = ox + rng.range(0, (TILE - size + 1) as u64) as i64;
            let y = oy + STRIP + rng.range(0, (TILE - size + 1) as u64) as i64;
            const PALETTE: [[u8; 3]; 6] = [
                [200, 30, 30],
                [30, 120, 200],
                [20, 150, 60],
                [180, 100, 20],
                [120, 40, 160],
                [40, 40, 40],
            ];
            let color = *rng.pick(&PALETTE);
            draw(&mut img, cat, x, y, size, color, rng);
            for _ in 0..12 {
                let nx = ox + rng.range(0, TILE as u64) as i64;
                let ny = oy + STRIP + rng.range(0, TILE as u64) as i64;
                img.set(nx, ny, [90, 90, 90]);
            }
        }
        (
            Captcha {
                category,
                answer,
                created_ms,
            },
            img.to_png(),
        )
    }

    /// Indexes of the answer's tiles.
    pub fn tiles(&self) -> Vec<usize> {
        (0..8).filter(|i| self.answer & (1 << i) != 0).collect()
    }

    /// The answer as a person would click it (tile centres): `38,38,182,110`.
    pub fn answer_string(&self) -> String {
        self.tiles()
            .iter()
            .flat_map(|&i| {
                let (x, y) = tile_origin(i);
                [x + TILE / 2, y + TILE / 2]
            })
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What the admin API shows of it.
    pub fn describe(&self, module: &str) -> Value {
        json!({
            "module": module,
            "category": CATEGORIES[self.category],
            "prompt": format!("请点击下图中所有的{}", CATEGORIES[self.category]),
            "tiles": self.tiles(),
            "answer": self.answer_string(),
            "created_ms": self.created_ms,
        })
    }

    /// Checks an answer (`x1,y1,x2,y2,…`) by tile.
    pub fn check(&self, answer: &str) -> Verdict {
        let answer = answer.trim();
        if answer.is_empty() {
            return Verdict::Empty;
        }
        let nums: Result<Vec<i64>, _> = answer
            .split(',')
            .map(|s| s.trim().parse::<f64>().map(|f| f as i64))
            .collect();
        let Ok(nums) = nums else {
            return Verdict::Wrong;
        };
        if nums.len() % 2 != 0 {
            return Verdict::Wrong;
        }
        let mut got = 0u8;
        for p in nums.chunks(2) {
            match tile_at(p[0], p[1]) {
                Some(t) => got |= 1 << t,
                None => return Verdict::Wrong,
            }
        }
        if got == self.answer {
            Verdict::Right
        } else {
            Verdict::Wrong
        }
    }
}

/// Draws one picture of a category in the box (x, y, size).
fn draw(img: &mut Image, cat: usize, x: i64, y: i64, s: i64, c: [u8; 3], rng: &mut Rng) {
    let (cx, cy, r) = (x + s / 2, y + s / 2, s / 2);
    match cat {
        0 => {
            for yy in y..y + s {
                for xx in x..x + s {
                    if (xx - cx).pow(2) + (yy - cy).pow(2) <= r * r {
                        img.set(xx, yy, c);
                    }
                }
            }
        }
        1 => img.fill(x + s / 8, y + s / 8, s * 3 / 4, s * 3 / 4, c),
        2 => {
            for yy in 0..s {
                let half = yy / 2;
                img.fill(cx - half, y + yy, 2 * half + 1, 1, c);
            }
        }
        3 => {
            let w = (s / 4).max(3);
            img.fill(cx - w / 2, y, w, s, c);
            img.fill(x, cy - w / 2, s, w, c);
        }
        4 => {
            let inner = r * 3 / 5;
            for yy in y..y + s {
                for xx in x..x + s {
                    let d = (xx - cx).pow(2) + (yy - cy).pow(2);
                    if d <= r * r && d >= inner * inner {
                        img.set(xx, yy, c);
                    }
                }
            }
        }
        5 => {
            let band = (s / 7).max(2);
            let mut yy = y;
            while yy < y + s {
                img.fill(x, yy, s, band, c);
                yy += 2 * band;
            }
        }
        6 => {
            for yy in y..y + s {
                for xx in x..x + s {
                    if (xx - cx).abs() + (yy - cy).abs() <= r {
                        img.set(xx, yy, c);
                    }
                }
            }
        }
        _ => {
            let cell = (s / 4).max(2);
            for j in 0..4 {
                for i in 0..4 {
                    if (i + j) % 2 == 0 {
                        img.fill(x + i * cell, y + j * cell, cell, cell, c);
                    }
                }
            }
        }
    }
    // A little noise so two pictures of one category never match pixel for pixel.
    for _ in 0..6 {
        let nx = x + rng.range(0, s as u64) as i64;
        let ny = y + rng.range(0, s as u64) as i64;
        img.set(nx, ny, [255, 255, 255]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_by_tile() {
        let mut r = Rng::new(3);
        let (c, png) = Captcha::generate(&mut r, 0);
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(c.check(&c.answer_string()), Verdict::Right);
        // Off-centre clicks inside the right tiles pass.
        let off: Vec<String> = c
            .tiles()
            .iter()
            .flat_map(|&i| {
                let (x, y) = tile_origin(i);
                [(x + 2).to_string(), (y + 60).to_string()]
            })
            .collect();
        assert_eq!(c.check(&off.join(",")), Verdict::Right);
        let wrong = (0..8).find(|i| c.answer & (1 << i) == 0).unwrap();
        let (x, y) = tile_origin(wrong);
        assert_eq!(
            c.check(&format!("{},{},{}", c.answer_string(), x + 1, y + 1)),
            Verdict::Wrong
        );
        assert_eq!(c.check(""), Verdict::Empty);
        assert_eq!(c.check("1,2,3"), Verdict::Wrong);
        assert_eq!(c.check("a,b"), Verdict::Wrong);
        // The gap between tiles is no tile.
        assert_eq!(tile_at(73, 40), None);
        assert_eq!(tile_at(77, 5), Some(1));
        assert_eq!(tile_at(221 + 66, 77 + 66), Some(7));
    }
}
