//! The fonts the 114yygh font decoder is judged on, shared by its accuracy test
//! (`wasm-core/tests/fontdecode.rs`) and the `yygh114` bench: the typefaces its
//! reference table was built from (never counted), the sandbox typefaces and the Debian
//! font files it has never seen, and the italics that are reported only. Debian paths
//! are under `/usr/share/fonts` (scripts/setup.sh installs the packages).

/// Sandbox typefaces the references were built from (never counted as unseen).
pub const REFERENCE_TYPEFACES: &[&str] = &[
    "dejavu-sans",
    "dejavu-sans-mono",
    "liberation-serif",
    "liberation-sans-bold",
];

/// The same references as Debian files (never used as test fonts).
pub const REFERENCE_FILES: &[&str] = &[
    "DejaVuSans.ttf",
    "DejaVuSansMono.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationSans-Bold.ttf",
];

/// Sandbox typefaces whose outlines the decoder has never seen.
pub const UNSEEN_TYPEFACES: &[&str] = &[
    "dejavu-serif",
    "dejavu-sans-bold",
    "liberation-sans",
    "liberation-mono",
];

/// Upright Debian fonts (not reference files), under /usr/share/fonts.
pub const DEBIAN_UNSEEN: &[&str] = &[
    "truetype/dejavu/DejaVuSerif.ttf",
    "truetype/dejavu/DejaVuSerif-Bold.ttf",
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    "truetype/dejavu/DejaVuSansCondensed.ttf",
    "truetype/dejavu/DejaVuSans-ExtraLight.ttf",
    "truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "truetype/liberation2/LiberationSans-Regular.ttf",
    "truetype/liberation2/LiberationSerif-Bold.ttf",
    "truetype/liberation2/LiberationMono-Regular.ttf",
    "truetype/liberation2/LiberationMono-Bold.ttf",
    "truetype/liberation/LiberationSansNarrow-Regular.ttf",
    "truetype/noto/NotoSans-Regular.ttf",
    "truetype/noto/NotoSans-Bold.ttf",
    "truetype/noto/NotoSerif-Regular.ttf",
    "truetype/noto/NotoSerif-Bold.ttf",
    "truetype/noto/NotoSansDisplay-Regular.ttf",
    "truetype/noto/NotoSerifDisplay-Regular.ttf",
    "truetype/freefont/FreeSans.ttf",
    "truetype/freefont/FreeSansBold.ttf",
    "truetype/freefont/FreeSerif.ttf",
    "truetype/freefont/FreeSerifBold.ttf",
    "truetype/freefont/FreeMono.ttf",
    "truetype/freefont/FreeMonoBold.ttf",
    "truetype/crosextra/Carlito-Regular.ttf",
    "truetype/crosextra/Carlito-Bold.ttf",
    "truetype/crosextra/Caladea-Regular.ttf",
    "truetype/crosextra/Caladea-Bold.ttf",
    "opentype/urw-base35/NimbusSans-Regular.otf",
    "opentype/urw-base35/NimbusSans-Bold.otf",
    "opentype/urw-base35/NimbusSansNarrow-Regular.otf",
    "opentype/urw-base35/NimbusRoman-Regular.otf",
    "opentype/urw-base35/NimbusRoman-Bold.otf",
    "opentype/urw-base35/NimbusMonoPS-Regular.otf",
    "opentype/urw-base35/C059-Roman.otf",
    "opentype/urw-base35/P052-Roman.otf",
    "opentype/urw-base35/URWBookman-Light.otf",
    "opentype/urw-base35/URWGothic-Book.otf",
    "opentype/urw-base35/URWGothic-Demi.otf",
];

/// Italic and oblique fonts: reported, not asserted (the references are all upright).
pub const DEBIAN_ITALIC: &[&str] = &[
    "truetype/dejavu/DejaVuSerif-Italic.ttf",
    "truetype/liberation2/LiberationSans-Italic.ttf",
    "truetype/noto/NotoSerif-Italic.ttf",
    "truetype/freefont/FreeSerifItalic.ttf",
];
