//! 12306 (seed `003` and the 12306 section of `platforms.md`), sans-IO. So far: the
//! station list ([`stations`]); the login, query and order flows come with the rest of
//! the 12306 issue.

pub mod stations;
