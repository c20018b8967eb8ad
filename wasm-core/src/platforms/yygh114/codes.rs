//! The obfuscated numbers of `product/detail`: `fcode` (price) and `ncode` (remaining)
//! are strings of HTML character references into the Private Use Area
//! (`&#xf7ee;&#xf128;`), drawn by the font at `dutyImgUrl`. This module only reads the
//! code points; turning them into digits is the font decoder's job (`crate::fontdecode`).
//! It also holds the parity leak the site's own page uses when the digits are unknown.

/// Why an `fcode`/`ncode` string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("“{input}” is not a list of character references such as &#xf7ee;&#xf128; ({problem})")]
pub struct EntityError {
    pub input: String,
    pub problem: String,
}

/// Reads `&#xHHHH;` (hex) and `&#NNNN;` (decimal) references; any other character is
/// kept as itself (a site without fonts sends plain digits such as `100`). Whitespace
/// between references is ignored. Errors on a broken or impossible reference.
pub fn try_pua_code_points(s: &str) -> Result<Vec<char>, EntityError> {
    let err = |problem: String| EntityError {
        input: s.to_string(),
        problem,
    };
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("&#") {
            let end = after
                .find(';')
                .ok_or_else(|| err("a reference has no closing “;”".into()))?;
            let body = &after[..end];
            let value = match body.strip_prefix('x').or_else(|| body.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => body.parse::<u32>(),
            }
            .map_err(|_| err(format!("“&#{body};” is not a number")))?;
            let c = char::from_u32(value)
                .ok_or_else(|| err(format!("“&#{body};” is not a character")))?;
            out.push(c);
            rest = &after[end + 1..];
        } else {
            let mut chars = rest.chars();
            // `rest` is non-empty, so there is a next character.
            if let Some(c) = chars.next() {
                if !c.is_whitespace() {
                    out.push(c);
                }
            }
            rest = chars.as_str();
        }
    }
    Ok(out)
}

/// The code points of an `fcode`/`ncode` string, e.g.
/// `pua_code_points("&#xf7ee;&#xf128;") == ['\u{f7ee}', '\u{f128}']`. Lenient: a broken
/// reference ends the list (use [`try_pua_code_points`] to see the error).
pub fn pua_code_points(s: &str) -> Vec<char> {
    match try_pua_code_points(s) {
        Ok(v) => v,
        Err(_) => {
            // Keep what reads cleanly before the first broken reference.
            let mut ok = Vec::new();
            for part in s.split_inclusive(';') {
                match try_pua_code_points(part) {
                    Ok(v) => ok.extend(v),
                    Err(_) => break,
                }
            }
            ok
        }
    }
}

/// Whether a code point is in the Basic Multilingual Plane's Private Use Area, where the
/// site's fonts put their digits.
pub fn is_pua(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

/// The site's own parity rule: a product whose `wnumber` is odd can be booked; a time
/// period whose `remainAvailableNumber` is even is greyed out. Used when the digits of
/// `ncode` cannot be read.
pub fn bookable_by_parity(wnumber: i64) -> bool {
    wnumber.rem_euclid(2) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_example() {
        assert_eq!(
            pua_code_points("&#xf7ee;&#xf128;"),
            vec!['\u{f7ee}', '\u{f128}']
        );
        assert!(pua_code_points("&#xf7ee;&#xf128;").into_iter().all(is_pua));
        assert_eq!(pua_code_points("&#xF15E;"), vec!['\u{f15e}']);
        assert_eq!(pua_code_points("&#61790;"), vec!['\u{f15e}']);
        assert_eq!(pua_code_points(""), Vec::<char>::new());
    }

    #[test]
    fn plain_digits_are_kept_and_broken_references_reported() {
        assert_eq!(pua_code_points("100"), vec!['1', '0', '0']);
        assert_eq!(
            pua_code_points(" &#xe000; &#xe001;"),
            vec!['\u{e000}', '\u{e001}']
        );
        let e = try_pua_code_points("&#xf7ee;&#xzz;").unwrap_err();
        assert!(e.to_string().contains("&#xzz;"), "{e}");
        assert!(try_pua_code_points("&#xf7ee").is_err());
        assert!(try_pua_code_points("&#xd800;").is_err());
        // Lenient form keeps what precedes the broken part.
        assert_eq!(pua_code_points("&#xf7ee;&#xzz;"), vec!['\u{f7ee}']);
    }

    #[test]
    fn odd_is_bookable() {
        assert!(bookable_by_parity(33));
        assert!(!bookable_by_parity(40));
        assert!(!bookable_by_parity(0));
        assert!(bookable_by_parity(-1));
    }
}
