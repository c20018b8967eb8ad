//! AES-128-ECB with PKCS#7 padding, and the two base64 flavours the platforms wrap it in.
//!
//! - 114yygh encrypts the login phone number and SMS code with the fixed key
//!   [`YYGH114_KEY`] and writes the ciphertext in base64 with `+`→`-`, `/`→`_` and the
//!   `=` padding kept ([`Encoding::Yygh114`]; this is exactly the RFC 4648 URL-safe
//!   alphabet with padding).
//! - 浙里办 encrypts request and reply bodies with a 16-byte key the platform issues to
//!   the hospital, in standard base64 ([`Encoding::Standard`]). Java's
//!   `AES/ECB/PKCS5Padding` is PKCS#7 for 16-byte blocks.
//!
//! ECB is what the platforms use, not a choice of ours: it leaks equal blocks and must
//! not be used for anything Haoyuan itself protects. Keys are secrets: never log them.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

type Aes128EcbEnc = ecb::Encryptor<aes::Aes128>;
type Aes128EcbDec = ecb::Decryptor<aes::Aes128>;

/// The key 114yygh's web front end uses to encrypt the login phone number and SMS code.
pub const YYGH114_KEY: &[u8; 16] = b"imed2019imed2019";

/// AES-128 works on 16-byte blocks with a 16-byte key.
const BLOCK: usize = 16;

/// How the ciphertext is written as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// 114yygh: standard base64 with `+`→`-`, `/`→`_`, `=` padding kept.
    Yygh114,
    /// 浙里办 and Java's default: standard base64 with padding.
    Standard,
}

impl Encoding {
    fn engine(self) -> &'static base64::engine::GeneralPurpose {
        match self {
            Encoding::Yygh114 => &URL_SAFE,
            Encoding::Standard => &STANDARD,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Yygh114 => "114yygh (URL-safe) base64",
            Encoding::Standard => "standard base64",
        }
    }
}

/// Why encrypting or decrypting failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key is not 16 bytes long.
    #[error("the AES key is {found} bytes long, but AES-128 needs a key of exactly 16 bytes")]
    BadKeyLength {
        /// The length of the key that was given.
        found: usize,
    },
    /// The text is not valid base64 of the expected flavour.
    #[error("the encrypted text is not valid {encoding}: {detail}")]
    BadBase64 {
        /// Which flavour was expected.
        encoding: &'static str,
        /// What the decoder objected to.
        detail: String,
    },
    /// The decoded ciphertext cannot be AES-ECB output.
    #[error("the encrypted data is {found} bytes long, which is not a whole number of 16-byte AES blocks (damaged or not encrypted)")]
    NotBlockMultiple {
        /// The length of the decoded ciphertext.
        found: usize,
    },
    /// Decryption produced no valid PKCS#7 padding.
    #[error(
        "the data did not decrypt cleanly (bad padding): the key is wrong or the data is damaged"
    )]
    BadPadding,
    /// Decryption worked but the plaintext is not UTF-8 text.
    #[error("the decrypted data is not UTF-8 text (the key may be wrong)")]
    NotUtf8,
}

fn check_key(key: &[u8]) -> Result<(), CryptoError> {
    if key.len() == BLOCK {
        Ok(())
    } else {
        Err(CryptoError::BadKeyLength { found: key.len() })
    }
}

/// Encrypts `plain` with AES-128-ECB/PKCS#7 under `key` (16 bytes) and writes the
/// ciphertext as base64 in the given encoding.
pub fn encrypt(key: &[u8], plain: &[u8], enc: Encoding) -> Result<String, CryptoError> {
    check_key(key)?;
    let cipher = Aes128EcbEnc::new_from_slice(key)
        .map_err(|_| CryptoError::BadKeyLength { found: key.len() })?;
    let bytes = cipher.encrypt_padded_vec_mut::<Pkcs7>(plain);
    Ok(enc.engine().encode(bytes))
}

/// Reads base64 `text` in the given encoding (surrounding whitespace is ignored) and
/// decrypts it with AES-128-ECB/PKCS#7 under `key` (16 bytes).
pub fn decrypt(key: &[u8], text: &str, enc: Encoding) -> Result<Vec<u8>, CryptoError> {
    check_key(key)?;
    let bytes = enc
        .engine()
        .decode(text.trim())
        .map_err(|e| CryptoError::BadBase64 {
            encoding: enc.name(),
            detail: e.to_string(),
        })?;
    if bytes.is_empty() || bytes.len() % BLOCK != 0 {
        return Err(CryptoError::NotBlockMultiple { found: bytes.len() });
    }
    let cipher = Aes128EcbDec::new_from_slice(key)
        .map_err(|_| CryptoError::BadKeyLength { found: key.len() })?;
    cipher
        .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
        .map_err(|_| CryptoError::BadPadding)
}

/// Like [`decrypt`], for plaintext that is UTF-8 text (JSON bodies, phone numbers).
pub fn decrypt_str(key: &[u8], text: &str, enc: Encoding) -> Result<String, CryptoError> {
    String::from_utf8(decrypt(key, text, enc)?).map_err(|_| CryptoError::NotUtf8)
}

/// Encrypts a login field (phone number, SMS code) the way 114yygh's front end does:
/// key [`YYGH114_KEY`], [`Encoding::Yygh114`].
pub fn yygh114_encrypt(plain: &str) -> String {
    // The key is a 16-byte constant, so the only failure of `encrypt` cannot happen.
    encrypt(YYGH114_KEY, plain.as_bytes(), Encoding::Yygh114).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 浙里办-style key for the tests: `zheliban-key-16!` (hex 7a68656c6962616e2d6b65792d313621).
    const ZLB_KEY: &[u8; 16] = b"zheliban-key-16!";

    #[test]
    fn seed_vectors_encrypt() {
        assert_eq!(yygh114_encrypt("17796761085"), "8E91WgqSzEHTX_a_3cFOag==");
        assert_eq!(yygh114_encrypt("845411"), "fF60C2fgLcu2GR_YiWTOBg==");
        assert_eq!(
            encrypt(YYGH114_KEY, b"17796761085", Encoding::Yygh114).unwrap(),
            "8E91WgqSzEHTX_a_3cFOag=="
        );
    }

    #[test]
    fn seed_vectors_decrypt() {
        assert_eq!(
            decrypt_str(YYGH114_KEY, "8E91WgqSzEHTX_a_3cFOag==", Encoding::Yygh114).unwrap(),
            "17796761085"
        );
        assert_eq!(
            decrypt_str(YYGH114_KEY, "fF60C2fgLcu2GR_YiWTOBg==", Encoding::Yygh114).unwrap(),
            "845411"
        );
        // The same bytes in standard base64 (`/` instead of `_`).
        assert_eq!(
            decrypt_str(YYGH114_KEY, "8E91WgqSzEHTX/a/3cFOag==", Encoding::Standard).unwrap(),
            "17796761085"
        );
    }

    #[test]
    fn yygh114_is_standard_base64_with_two_characters_swapped_and_padding_kept() {
        // The seed's description, literally, against URL_SAFE with padding, for every
        // padding length (none, `=`, `==`) and inputs whose ciphertext contains `+` and `/`.
        let mut saw_plus = false;
        let mut saw_slash = false;
        for n in 0..200 {
            let plain: String = (0..n)
                .map(|i| char::from(b'a' + ((i * 7 + n) % 26) as u8))
                .collect();
            let std = encrypt(YYGH114_KEY, plain.as_bytes(), Encoding::Standard).unwrap();
            let yygh = encrypt(YYGH114_KEY, plain.as_bytes(), Encoding::Yygh114).unwrap();
            saw_plus |= std.contains('+');
            saw_slash |= std.contains('/');
            assert_eq!(yygh, std.replace('+', "-").replace('/', "_"));
            // Padding kept: the length is always a multiple of 4, `=` as base64 needs.
            let ct_len = (n / 16 + 1) * 16;
            let pad = (3 - ct_len % 3) % 3;
            assert_eq!(yygh.len() % 4, 0, "{yygh}");
            assert_eq!(yygh.len() - yygh.trim_end_matches('=').len(), pad, "{yygh}");
        }
        assert!(
            saw_plus && saw_slash,
            "the sample should exercise both swapped characters"
        );
    }

    #[test]
    fn round_trips_in_both_encodings() {
        let inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![b'x'; 15],
            vec![b'y'; 16],
            vec![b'z'; 17],
            "张三 预约 体检：浙江省人民医院".as_bytes().to_vec(),
            (0u8..=255).collect(),
        ];
        for enc in [Encoding::Yygh114, Encoding::Standard] {
            for key in [&YYGH114_KEY[..], &ZLB_KEY[..]] {
                for plain in &inputs {
                    let text = encrypt(key, plain, enc).unwrap();
                    // PKCS#7 always adds 1..=16 bytes.
                    let ct_len = base64::engine::general_purpose::STANDARD
                        .decode(text.replace('-', "+").replace('_', "/"))
                        .unwrap()
                        .len();
                    assert_eq!(
                        ct_len,
                        (plain.len() / 16 + 1) * 16,
                        "{enc:?} {}",
                        plain.len()
                    );
                    assert_eq!(
                        &decrypt(key, &text, enc).unwrap(),
                        plain,
                        "{enc:?} {}",
                        plain.len()
                    );
                }
            }
        }
        let chinese = "姓名：李四，手机号 13800000000";
        let text = encrypt(ZLB_KEY, chinese.as_bytes(), Encoding::Standard).unwrap();
        assert_eq!(
            decrypt_str(ZLB_KEY, &text, Encoding::Standard).unwrap(),
            chinese
        );
    }

    #[test]
    fn standard_encoding_matches_openssl() {
        // Computed at authoring time with:
        //   printf '{"cardNo":"330102199001011234","name":"张三"}' \
        //     | openssl enc -aes-128-ecb -K 7a68656c6962616e2d6b65792d313621 -nosalt | base64 -w0
        let plain = r#"{"cardNo":"330102199001011234","name":"张三"}"#;
        let expected = "41HPBOuKpmfyIBeBLsdWVgpcYrS1BgHmjXqWM+QPLlIslqC8w5b/SpVk4k9XcDfG";
        assert_eq!(
            encrypt(ZLB_KEY, plain.as_bytes(), Encoding::Standard).unwrap(),
            expected
        );
        assert_eq!(
            decrypt_str(ZLB_KEY, expected, Encoding::Standard).unwrap(),
            plain
        );
        // Whitespace around the text (a trailing newline in a body) is ignored.
        assert_eq!(
            decrypt_str(ZLB_KEY, &format!(" {expected}\r\n"), Encoding::Standard).unwrap(),
            plain
        );
    }

    #[test]
    fn encodings_are_not_interchangeable() {
        // `+` and `/` belong only to the standard alphabet, `-` and `_` only to 114yygh's.
        let std = "41HPBOuKpmfyIBeBLsdWVgpcYrS1BgHmjXqWM+QPLlIslqC8w5b/SpVk4k9XcDfG";
        assert!(matches!(
            decrypt(ZLB_KEY, std, Encoding::Yygh114),
            Err(CryptoError::BadBase64 { .. })
        ));
        assert!(matches!(
            decrypt(YYGH114_KEY, "8E91WgqSzEHTX_a_3cFOag==", Encoding::Standard),
            Err(CryptoError::BadBase64 { .. })
        ));
    }

    #[test]
    fn wrong_key_length_is_reported_with_the_length_found() {
        for key in [
            &b""[..],
            b"imed2019",
            b"imed2019imed2019imed2019",
            b"imed2019imed201",
        ] {
            let e = encrypt(key, b"x", Encoding::Standard).unwrap_err();
            assert_eq!(e, CryptoError::BadKeyLength { found: key.len() });
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{} bytes", key.len())) && msg.contains("16 bytes"),
                "{msg}"
            );
            assert_eq!(
                decrypt(key, "8E91WgqSzEHTX_a_3cFOag==", Encoding::Yygh114).unwrap_err(),
                CryptoError::BadKeyLength { found: key.len() }
            );
        }
    }

    #[test]
    fn bad_base64_is_reported() {
        for text in [
            "not base64!",
            "8E91WgqSzEHTX_a_3cFOag=",
            "8E91Wg qSzEHTX_a_3cFOag==",
            "é",
        ] {
            let e = decrypt(YYGH114_KEY, text, Encoding::Yygh114).unwrap_err();
            assert!(matches!(e, CryptoError::BadBase64 { .. }), "{text}: {e:?}");
            assert!(e.to_string().contains("not valid 114yygh"), "{e}");
        }
    }

    #[test]
    fn ciphertext_that_is_not_whole_blocks_is_reported() {
        // 15 bytes and 0 bytes of valid base64.
        let fifteen = base64::engine::general_purpose::STANDARD.encode([7u8; 15]);
        assert_eq!(
            decrypt(ZLB_KEY, &fifteen, Encoding::Standard).unwrap_err(),
            CryptoError::NotBlockMultiple { found: 15 }
        );
        assert_eq!(
            decrypt(ZLB_KEY, "", Encoding::Standard).unwrap_err(),
            CryptoError::NotBlockMultiple { found: 0 }
        );
        assert!(decrypt(ZLB_KEY, &fifteen, Encoding::Standard)
            .unwrap_err()
            .to_string()
            .contains("15 bytes"));
    }

    #[test]
    fn wrong_key_or_damaged_data_is_bad_padding() {
        // With the wrong key the last block decrypts to noise; find an input where that
        // noise is not accidentally valid padding (likely for almost all).
        let text = encrypt(YYGH114_KEY, b"17796761085", Encoding::Yygh114).unwrap();
        let e = decrypt(b"imed2020imed2020", &text, Encoding::Yygh114).unwrap_err();
        assert_eq!(e, CryptoError::BadPadding);
        assert!(e
            .to_string()
            .contains("key is wrong or the data is damaged"));
        // 16 zero bytes do not decrypt to valid padding under the seed key.
        let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
        assert_eq!(
            decrypt(YYGH114_KEY, &zeros, Encoding::Standard).unwrap_err(),
            CryptoError::BadPadding
        );
    }

    #[test]
    fn non_utf8_plaintext_is_reported_by_decrypt_str() {
        let text = encrypt(ZLB_KEY, &[0xff, 0xfe, 0x00], Encoding::Standard).unwrap();
        assert_eq!(
            decrypt(ZLB_KEY, &text, Encoding::Standard).unwrap(),
            vec![0xff, 0xfe, 0x00]
        );
        assert_eq!(
            decrypt_str(ZLB_KEY, &text, Encoding::Standard).unwrap_err(),
            CryptoError::NotUtf8
        );
    }
}
