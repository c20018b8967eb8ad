//! Platform adapters. Each is sans-IO: it builds [`crate::http::HttpRequest`]s, reads
//! [`crate::http::HttpResponse`]s, and drives multi-step flows as step machines whose
//! steps are "send this", "ask the person this" or "done".

pub mod yygh114;
