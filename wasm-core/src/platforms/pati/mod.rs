//! pati_service (seed `002_*.txt`): a hospital SaaS tenant's patient platform — phone +
//! password sign-in (the host keeps the `token` and attaches it as the `token` header),
//! departments, doctors' AM/PM sessions with numbered serials, pre-submit → submit for a
//! family member, bookings, cancel, and a WeChat pay link for bookings charged online.
//!
//! - [`site`]: one request builder per endpoint (without the token) and typed reply
//!   readers with plain-word [`site::SiteError`]s.
//! - [`watcher`]: the sans-IO [`crate::platforms::Driver`] of one watch: polls
//!   `schedule/info` → `schedule`, books `left_appo` → `presubmit` → intent → `submit`
//!   → `book/{id}` (→ pay link), reconciles with `books` when a submit's reply is lost.
//!
//! Each tenant runs its own server: the base URL belongs to the account.

pub mod site;
pub mod watcher;

pub use site::{Site, SiteError};
pub use watcher::{NotAWatch, Watcher};
