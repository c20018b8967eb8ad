//! The `haoyuan-host` native messaging host as a library; `main.rs` only picks a mode.
//!
//! - [`framing`]: the browser's wire format (u32 native-endian length + UTF-8 JSON).
//! - [`serve`]: the stdio loop: read a frame, dispatch, write the reply; never dies on
//!   bad input, turns handler panics into `internal` replies.
//! - [`dispatch`]: protocol requests → store operations → replies.
//! - [`store`]: the SQLite file (watches, events, outbox) with migrations.
//! - [`outbox`]: queued notifications (written with their event) and the sender that
//!   delivers them at least once; [`channels`] sends through [`mail`] (SMTP) or
//!   [`webhook`] (HTTP); [`settings`] keeps the channel settings in a private file.
//! - [`install`]: native-messaging manifests for every browser × OS.
//! - [`cli`]: `watch add|list|pause|resume|rm` and `history` from a terminal, on the
//!   same store as the browser's host.
//! - [`rail`]: 12306 run by the host (login with relayed captchas, the watch runner,
//!   the headless `run` mode).
//! - [`runtime`]: what the host-run platforms share (event sink, store connection,
//!   pacing); [`runner`] drives their watches.
//! - [`sites`]: 91160 and pati_service run by the host (accounts, pickers, cancel).
//! - [`zlb`]: 浙里办 health-check reservation sync for a hospital's front desk (settings,
//!   the sync loop, arrivals, the front-desk list and CSV).
//! - [`paths`] and [`logging`]: where the data lives, and the log file beside it.

pub mod channels;
pub mod cli;
pub mod dispatch;
pub mod framing;
pub mod install;
pub mod logging;
pub mod mail;
pub mod outbox;
pub mod paths;
pub mod rail;
pub mod runner;
pub mod runtime;
pub mod serve;
pub mod settings;
pub mod sites;
pub mod store;
pub mod webhook;
pub mod zlb;

/// The host's version (the workspace version, shared with the extension).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The native messaging host name registered with browsers.
pub const HOST_NAME: &str = "org.haoyuan.host";
