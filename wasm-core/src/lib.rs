//! Haoyuan's sans-IO core, shared by the browser extension (compiled to wasm) and the
//! native host (linked as an rlib).
//!
//! Nothing in this crate performs I/O: platform adapters build [`http::HttpRequest`]
//! values and are fed [`http::HttpResponse`] values; the caller decides how to send them
//! (`fetch` with the user's cookies in the browser, a native client in the host).

pub mod clock;
pub mod cookies;
pub mod crypto;
pub mod date;
pub mod fontdecode;
pub mod form;
pub mod http;
pub mod idcard;
pub mod notify;
pub mod patient;
pub mod platforms;
pub mod protocol;
pub mod schedule;
pub mod watch;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The version of this crate, which is also the version of the host and the extension.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Reads JSON text (the wasm edge's arguments, the host's frames).
///
/// Through serde_json's byte reader, which also reads the response bodies: its `&str`
/// reader would put a second copy of the parser in the wasm module, and on text (valid
/// UTF-8) both read the same values and report the same errors.
pub(crate) fn from_json_text<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}
