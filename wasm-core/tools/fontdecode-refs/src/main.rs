//! Writes the fontdecode reference table (`wasm-core/src/fontdecode/refs.bin`) from the
//! `0`–`9` and `.` glyphs of the reference typefaces, with the decoder's own feature code
//! (`haoyuan_core::fontdecode::build_reference_table`), so the table always matches it.
//!
//! Usage (from the repository root, after `apt-get install fonts-dejavu-core fonts-liberation2`):
//!
//! ```text
//! cargo run --manifest-path wasm-core/tools/fontdecode-refs/Cargo.toml -- [OUT] [FONT…]
//! ```
//!
//! OUT defaults to `wasm-core/src/fontdecode/refs.bin`; the fonts default to [`DEFAULT_FONTS`].
//! Changing the set means updating `wasm-core/src/fontdecode/README.md` (sources, licences)
//! and keeping the test typefaces in `wasm-core/tests/fontdecode.rs` disjoint from it.

use std::process::ExitCode;

/// The reference typefaces (Debian packages fonts-dejavu-core 2.37-6, fonts-liberation2 2.1.5-1).
const DEFAULT_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .cloned()
        .unwrap_or_else(|| "wasm-core/src/fontdecode/refs.bin".into());
    let paths: Vec<String> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        DEFAULT_FONTS.iter().map(|s| s.to_string()).collect()
    };
    let mut fonts = Vec::new();
    for p in &paths {
        match std::fs::read(p) {
            Ok(b) => fonts.push(b),
            Err(e) => {
                eprintln!("cannot read {p}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let slices: Vec<&[u8]> = fonts.iter().map(Vec::as_slice).collect();
    let table = match haoyuan_core::fontdecode::build_reference_table(&slices) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot build the table: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&out, &table) {
        eprintln!("cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("{out}: {} bytes from {} fonts", table.len(), paths.len());
    ExitCode::SUCCESS
}
