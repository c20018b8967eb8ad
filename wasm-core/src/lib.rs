//! Haoyuan's sans-IO core, shared by the browser extension (compiled to wasm) and the
//! native host (linked as an rlib).
//!
//! Nothing in this crate performs I/O: platform adapters build [`http::HttpRequest`]
//! values and are fed [`http::HttpResponse`] values; the caller decides how to send them
//! (`fetch` with the user's cookies in the browser, a native client in the host).

pub mod clock;
pub mod crypto;
pub mod date;
pub mod fontdecode;
pub mod form;
pub mod http;
pub mod idcard;
pub mod notify;
pub mod platforms;
pub mod protocol;
pub mod schedule;
pub mod watch;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The version of this crate, which is also the version of the host and the extension.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
