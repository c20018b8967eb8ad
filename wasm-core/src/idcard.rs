//! Mainland China resident ID numbers (居民身份证, GB 11643-1999): the ISO 7064
//! MOD 11-2 check digit, and what an 18-character number says (birthday, sex).
//!
//! Used wherever an ID number is checked (patient books, the sandbox's validation) or
//! made up (the sandbox's generated people), so the rule lives in one place.

use crate::date::Date;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The check digit of the first 17 digits, or `None` when they are not 17 ASCII digits.
pub fn check_digit(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

/// `first17` followed by its check digit (`first17` must be 17 digits).
pub fn complete(first17: &str) -> Option<String> {
    check_digit(first17).map(|c| format!("{first17}{c}"))
}

/// What a valid 18-character ID number says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdCard {
    pub birthday: Date,
    /// The 17th digit is odd for men.
    pub male: bool,
}

/// Why an ID number is not valid, in words for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an ID number has 18 characters: 17 digits and a last digit or X")]
    Shape,
    #[error("the birthday in the ID number is not a real date")]
    Birthday,
    #[error("the last character of the ID number does not match the others (mistyped?)")]
    CheckDigit,
}

/// Checks an 18-character number (a lowercase `x` is accepted) and reads it.
pub fn parse(id: &str) -> Result<IdCard, IdError> {
    let b = id.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return Err(IdError::Shape);
    }
    let birthday = Date::parse(&format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]))
        .map_err(|_| IdError::Birthday)?;
    if check_digit(&id[..17]) != Some(b[17].to_ascii_uppercase() as char) {
        return Err(IdError::CheckDigit);
    }
    Ok(IdCard {
        birthday,
        male: (b[16] - b'0') % 2 == 1,
    })
}

/// Whether `id` is a valid 18-character ID number.
pub fn is_valid(id: &str) -> bool {
    parse(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_and_the_x_check_digit() {
        // GB 11643's example number.
        assert_eq!(check_digit("11010519491231002"), Some('X'));
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.birthday.to_string(), "1949-12-31");
        assert!(!id.male);
        assert!(is_valid("11010519491231002x"));
        assert_eq!(
            complete("41142319900101211").as_deref(),
            Some("411423199001012113")
        );
    }

    #[test]
    fn every_kind_of_bad_number_is_named() {
        assert_eq!(parse("1101051949123100"), Err(IdError::Shape));
        assert_eq!(parse("11010519491231002Y"), Err(IdError::Shape));
        assert_eq!(parse("1101051949123100２X"), Err(IdError::Shape));
        assert_eq!(parse("110105194902300021").unwrap_err(), IdError::Birthday);
        assert_eq!(parse("110105194912310021"), Err(IdError::CheckDigit));
        assert_eq!(check_digit("1234"), None);
        assert_eq!(check_digit("1101051949123100a"), None);
    }

    #[test]
    fn one_changed_digit_breaks_the_check() {
        let good = "411423199001012113";
        for i in 0..17 {
            let mut b = good.as_bytes().to_vec();
            b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
            let s = String::from_utf8(b).unwrap();
            assert_ne!(parse(&s).ok(), parse(good).ok(), "{s}");
        }
    }
}
