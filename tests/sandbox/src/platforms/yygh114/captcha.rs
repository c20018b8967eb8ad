//! The login image captcha of `GET /web/img/getImgCode`: four digits drawn with a small
//! bitmap font on a pale background, each digit shifted and coloured at random, crossed
//! by noise lines and speckled with dots, encoded as a real PNG.

use crate::gen::Rng;
use crate::png::Image;

/// Width of the captcha image in pixels.
pub const WIDTH: u32 = 120;
/// Height of the captcha image in pixels.
pub const HEIGHT: u32 = 40;

/// 5×7 bitmaps of the digits, one row per byte (bit 4 = leftmost column).
const DIGITS: [[u8; 7]; 10] = [
    [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], // 0
    [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E], // 1
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], // 2
    [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E], // 3
    [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], // 4
    [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E], // 5
    [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], // 6
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08], // 7
    [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], // 8
    [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C], // 9
];

/// Scale of one bitmap cell in pixels.
const CELL: i64 = 4;

/// The glyph bitmap of a digit (for tests that read the picture as a person would).
pub fn glyph(d: u8) -> Option<[u8; 7]> {
    DIGITS.get(usize::from(d)).copied()
}

/// Draws `answer` (four digits) and returns the PNG.
pub fn render(answer: &str, rng: &mut Rng) -> Vec<u8> {
    let bg = [
        230 + rng.range(0, 20) as u8,
        230 + rng.range(0, 20) as u8,
        230 + rng.range(0, 20) as u8,
    ];
    let mut img = Image::new(WIDTH, HEIGHT, bg);
    // Speckles behind the digits.
    for _ in 0..160 {
        let c = [
            150 + rng.range(0, 90) as u8,
            150 + rng.range(0, 90) as u8,
            150 + rng.range(0, 90) as u8,
        ];
        img.set(
            rng.range(0, u64::from(WIDTH)) as i64,
            rng.range(0, u64::from(HEIGHT)) as i64,
            c,
        );
    }
    for (i, ch) in answer.chars().take(4).enumerate() {
        let Some(bits) = ch.to_digit(10).and_then(|d| glyph(d as u8)) else {
            continue;
        };
        let color = [
            rng.range(10, 120) as u8,
            rng.range(10, 120) as u8,
            rng.range(10, 120) as u8,
        ];
        let x0 = 8 + i as i64 * 28 + rng.range(0, 7) as i64 - 3;
        let y0 = 4 + rng.range(0, 5) as i64;
        for (row, bits) in bits.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) != 0 {
                    img.fill(x0 + col * CELL, y0 + row as i64 * CELL, CELL, CELL, color);
                }
            }
        }
    }
    // Noise lines across the digits.
    for _ in 0..3 {
        let c = [
            rng.range(60, 200) as u8,
            rng.range(60, 200) as u8,
            rng.range(60, 200) as u8,
        ];
        let (x0, y0) = (0, rng.range(0, u64::from(HEIGHT)) as i64);
        let (x1, y1) = (i64::from(WIDTH) - 1, rng.range(0, u64::from(HEIGHT)) as i64);
        line(&mut img, x0, y0, x1, y1, c);
    }
    img.to_png()
}

fn line(img: &mut Image, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
    let (mut x, mut y, mut err) = (x0, y0, dx + dy);
    loop {
        img.set(x, y, c);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_png_of_the_expected_size() {
        let png = render("0479", &mut Rng::new(1));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), WIDTH);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), HEIGHT);
        assert_ne!(png, render("0478", &mut Rng::new(1)));
    }

    #[test]
    fn every_digit_has_a_distinct_glyph() {
        for a in 0..10u8 {
            for b in (a + 1)..10 {
                assert_ne!(glyph(a), glyph(b));
            }
        }
        assert_eq!(glyph(10), None);
    }
}
