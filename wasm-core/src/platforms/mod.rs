//! Platform adapters. Each is sans-IO: it builds [`crate::http::HttpRequest`]s, reads
//! [`crate::http::HttpResponse`]s, and drives multi-step flows as step machines whose
//! steps are "send this", "ask the person this" or "done".

pub mod rail12306;
pub mod yygh114;
