//! The sandbox's tests: one binary, a module per platform plus the shared machinery.
//! Each test starts its own sandbox on free ports and walks it as a client would.

mod common;
mod framework;
mod open91160;
mod pati;
mod rail12306;
mod yygh114;
mod zheliban;
