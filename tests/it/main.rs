//! The integration tests: one binary, a module per area. Each spawns the built
//! `haoyuan-host` (or uses its library) with a temporary `HAOYUAN_HOME`.

mod booking;
mod cli;
mod host_protocol;
mod installer;
mod mail;
mod open91160;
mod outbox;
mod pati;
mod rail12306;
mod smtp_server;
mod webhooks;
mod zheliban;
