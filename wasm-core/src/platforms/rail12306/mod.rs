//! 12306 (seed `003` and the 12306 section of `platforms.md`), sans-IO. So far: the
//! station list ([`stations`]) and the left-ticket rows ([`query`]); the login, the
//! query endpoint's drift and the order flow come with the rest of the 12306 issue.

pub mod query;
pub mod stations;
