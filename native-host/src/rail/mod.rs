//! 12306 in the host: the platform runs outside the browser, so the host executes the
//! core's sans-IO flows (`haoyuan_core::platforms::rail12306`) with a native HTTP client
//! and a cookie jar per account.
//!
//! - [`Service`]: what the browser (dispatch) and the command line ask of 12306:
//!   sign an account in (captcha relayed as a [`Prompt`]), answer prompts, list the
//!   accounts and search stations.
//! - `runner`: the watches of platform 12306, one thread each, sharing per-account
//!   pacing and sessions; at most one process runs them (a lock file).

use haoyuan_core::protocol::{
    CaptchaAnswer, ErrorBody, ErrorCode, Prompt, PromptAnswered, RailAccounts, RailStations,
};
use std::path::PathBuf;

/// The 12306 part of one host process.
pub struct Service {
    #[allow(dead_code)]
    data_dir: PathBuf,
}

impl Service {
    /// The service for the data in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Service {
        Service { data_dir }
    }

    fn unavailable() -> ErrorBody {
        ErrorBody::new(
            ErrorCode::SiteFailed,
            "12306 is not available in this host yet",
        )
    }

    /// Starts signing `account` in; answers the captcha to show.
    pub fn login_begin(&self, _account: &str, _password: &str) -> Result<Prompt, ErrorBody> {
        Err(Self::unavailable())
    }

    /// The person's answer to prompt `id`.
    pub fn answer(&self, _id: &str, _answer: &CaptchaAnswer) -> Result<PromptAnswered, ErrorBody> {
        Err(Self::unavailable())
    }

    /// The prompts waiting on the person.
    pub fn prompts(&self) -> Vec<Prompt> {
        Vec::new()
    }

    /// The accounts with a session.
    pub fn accounts(&self) -> Result<RailAccounts, ErrorBody> {
        Err(Self::unavailable())
    }

    /// Stations matching `query`.
    pub fn stations(&self, _query: &str, _limit: usize) -> Result<RailStations, ErrorBody> {
        Err(Self::unavailable())
    }
}

/// `haoyuan-host run`: runs every 12306 watch without a browser until interrupted.
pub fn cli_run(_args: &[String]) -> i32 {
    eprintln!("haoyuan-host run: not available yet");
    1
}

/// `haoyuan-host login 12306 ACCOUNT`: signs an account in from the terminal.
pub fn cli_login(_args: &[String]) -> i32 {
    eprintln!("haoyuan-host login: not available yet");
    1
}
