//! 12306 (seed `003` and the 12306 section of `platforms.md`), sans-IO; the native host
//! runs it with its own HTTP client and a cookie jar per account.
//!
//! - [`stations`]: `station_name.js` in both record formats, searchable.
//! - [`query`]: the left-ticket reply (rows, seat cells), the query endpoint named by
//!   `leftTicket/init`, `c_url` moves.
//! - [`site`]: every request of the seed against a base URL; reading `otn` replies.
//! - [`captcha`]: tile clicks ↔ the answer coordinates.
//! - [`login`]: steps 1–7 with the captcha relayed to the person.
//! - [`order`]: steps 10–18 (checkUser → … → resultOrderForDcQueue), the queue bounded.
//! - [`watcher`]: one watch: when to query, what matches, when to order.

pub mod captcha;
pub mod login;
pub mod order;
pub mod query;
pub mod site;
pub mod stations;
pub mod watcher;

/// The next number of a xorshift sequence in `state` (not for secrets: it only varies
/// the random numbers the pages put in URLs and the watcher's jitter).
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
