//! 12306 (seed `003` and the 12306 section of `platforms.md`), sans-IO. So far: the
//! station list ([`stations`]) and the left-ticket query reply ([`query`]: rows, the
//! endpoint named by `leftTicket/init`, `c_url` moves); the login, the requests and the
//! order flow come with the rest of the 12306 issue.

pub mod query;
pub mod stations;
