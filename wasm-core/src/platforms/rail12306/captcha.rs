//! The 8-tile picture captcha of seed 003 (login, and before an order when
//! `checkOrderInfo` says `ifShowPassCode: "Y"`): a person clicks the tiles; 12306 takes
//! the click points as `x1,y1,x2,y2,…` in the grid's coordinates.
//!
//! The picture is 293 × 190 with a 30-pixel prompt strip on top; the grid below it has
//! 4 × 2 tiles of 67 × 67 with 5-pixel gaps, tile `i`'s top-left corner at
//! `(5 + 72·(i mod 4), 5 + 72·(i div 4))` in grid coordinates (the seed's table). Points
//! are grid coordinates; a click on the picture is `(x, y − 30)`.

use crate::protocol::CaptchaAnswer;

/// Picture width.
pub const WIDTH: i32 = 293;
/// Picture height, prompt strip included.
pub const HEIGHT: i32 = 190;
/// Height of the prompt strip above the grid.
pub const STRIP: i32 = 30;
/// Tile side.
pub const TILE: i32 = 67;
/// Distance between two tiles' corners.
pub const PITCH: i32 = 72;

/// The centre of tile `i` (0–7) in grid coordinates.
pub fn tile_centre(i: u8) -> [i32; 2] {
    let i = i32::from(i);
    [
        5 + PITCH * (i % 4) + TILE / 2,
        5 + PITCH * (i / 4) + TILE / 2,
    ]
}

/// The tile under a grid point, if any.
pub fn tile_at(x: i32, y: i32) -> Option<u8> {
    (0..8u8).find(|&i| {
        let [cx, cy] = tile_centre(i);
        (x - cx).abs() <= TILE / 2 && (y - cy).abs() <= TILE / 2
    })
}

/// Why an answer cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no tile was clicked")]
    Empty,
    #[error("tile {0} does not exist (tiles are numbered 1 to 8)")]
    NoSuchTile(u32),
    #[error("the point {0},{1} is outside the picture's tiles")]
    Outside(i32, i32),
    #[error("“{0}” is not a list of tile numbers 1–8")]
    NotNumbers(String),
}

/// The `answer` field 12306 takes: points as given, tiles as their centres; a tile
/// clicked twice counts once.
pub fn answer_string(answer: &CaptchaAnswer) -> Result<String, AnswerError> {
    let mut points: Vec<[i32; 2]> = Vec::new();
    for &[x, y] in &answer.points {
        if tile_at(x, y).is_none() {
            return Err(AnswerError::Outside(x, y));
        }
        points.push([x, y]);
    }
    let mut seen = Vec::new();
    for &t in &answer.tiles {
        if t > 7 {
            return Err(AnswerError::NoSuchTile(u32::from(t) + 1));
        }
        if !seen.contains(&t) {
            seen.push(t);
            points.push(tile_centre(t));
        }
    }
    if points.is_empty() {
        return Err(AnswerError::Empty);
    }
    Ok(points
        .iter()
        .map(|[x, y]| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(","))
}

/// Tiles typed at a terminal: numbers 1–8 (as a person counts them, row by row),
/// separated by spaces or commas.
pub fn tiles_from_text(text: &str) -> Result<CaptchaAnswer, AnswerError> {
    let mut tiles = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        let n: u32 = part
            .parse()
            .map_err(|_| AnswerError::NotNumbers(text.trim().to_string()))?;
        if !(1..=8).contains(&n) {
            return Err(AnswerError::NoSuchTile(n));
        }
        tiles.push((n - 1) as u8);
    }
    if tiles.is_empty() {
        return Err(AnswerError::Empty);
    }
    Ok(CaptchaAnswer {
        tiles,
        points: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_become_the_seeds_points() {
        // The seed's corners 5,5 77,5 149,5 221,5 / 5,77 …; centres are 33 further.
        assert_eq!(tile_centre(0), [38, 38]);
        assert_eq!(tile_centre(3), [254, 38]);
        assert_eq!(tile_centre(4), [38, 110]);
        assert_eq!(tile_at(5, 5), Some(0));
        assert_eq!(tile_at(74, 40), None, "the gap between tiles");
        assert_eq!(tile_at(230, 140), Some(7));
        let a = CaptchaAnswer {
            tiles: vec![0, 6, 0],
            points: vec![[80, 80]],
        };
        assert_eq!(answer_string(&a).unwrap(), "80,80,38,38,182,110");
        assert_eq!(
            answer_string(&CaptchaAnswer::default()),
            Err(AnswerError::Empty)
        );
        assert!(answer_string(&CaptchaAnswer {
            tiles: vec![8],
            points: vec![]
        })
        .is_err());
        assert!(answer_string(&CaptchaAnswer {
            tiles: vec![],
            points: vec![[290, 150]]
        })
        .is_err());
    }

    #[test]
    fn terminal_answers_count_from_one() {
        assert_eq!(tiles_from_text(" 1 3,8 ").unwrap().tiles, vec![0, 2, 7]);
        assert!(tiles_from_text("0").is_err());
        assert!(tiles_from_text("9").is_err());
        assert!(tiles_from_text("a").is_err());
        assert!(tiles_from_text("").is_err());
    }
}
