//! Where Haoyuan keeps its data: `HAOYUAN_HOME` when set, else the platform's data
//! directory (`~/.local/share/haoyuan` on Linux, `~/Library/Application Support/org.haoyuan.haoyuan`
//! on macOS, `%APPDATA%\haoyuan\haoyuan\data` on Windows).

use std::path::PathBuf;

/// The environment variable that overrides the data directory.
pub const HOME_ENV: &str = "HAOYUAN_HOME";

/// The data directory (not created here).
pub fn data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "haoyuan", "haoyuan")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            format!("no home directory was found; set {HOME_ENV} to a folder Haoyuan may use")
        })
}

/// The SQLite database inside `dir`.
pub fn database_path(dir: &std::path::Path) -> PathBuf {
    dir.join("haoyuan.sqlite3")
}

/// The host's log file inside `dir`.
pub fn log_path(dir: &std::path::Path) -> PathBuf {
    dir.join("host.log")
}
