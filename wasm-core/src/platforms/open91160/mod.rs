//! The 91160 (就医160) open platform (seed `001_*.txt`, platforms.md "91160"), sans-IO:
//! the native host runs it with its own HTTP client; the account's appToken travels in
//! every request (query parameter or JSON body), and orders carry the whole patient
//! profile from the patient book.
//!
//! - [`site`]: the seven endpoints (`unitList`, `depList`, `doctorList`,
//!   `scheduleList`, `resourceList`, `order`, `cancel`) as requests, their replies read
//!   into typed structs or a [`site::SiteError`] in plain words, and the order body.
//! - [`watcher`]: one watch: when to poll, what matches, when to order (a
//!   [`crate::platforms::Driver`]).

pub mod site;
pub mod watcher;

pub use site::{cancel_request, order_body, read_cancel, Site, SiteError};
pub use watcher::{NotAWatch, Watcher};
