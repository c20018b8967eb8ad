//! The host's log file (`host.log` in the data directory), since stdout carries only
//! frames. One line per entry; the file is rotated once it passes 1 MiB. Callers log
//! commands and error codes, never parameters: secrets and patient data stay out.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

const ROTATE_BYTES: u64 = 1024 * 1024;

static LOG: OnceLock<Mutex<Option<File>>> = OnceLock::new();

/// Opens (creating the folder) the log in `dir`. When that fails the host keeps
/// running without a log: a missing log must never stop a watch.
pub fn init(dir: &Path) -> Option<PathBuf> {
    let path = crate::paths::log_path(dir);
    let file = std::fs::create_dir_all(dir).ok().and_then(|_| {
        if std::fs::metadata(&path)
            .map(|m| m.len() > ROTATE_BYTES)
            .unwrap_or(false)
        {
            let _ = std::fs::rename(&path, path.with_extension("log.1"));
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok()
    });
    let ok = file.is_some();
    let slot = LOG.get_or_init(|| Mutex::new(None));
    if let Ok(mut guard) = slot.lock() {
        *guard = file;
    }
    ok.then_some(path)
}

/// Appends one line: `<unix ms> <level> <message>`.
pub fn log(level: &str, message: &str) {
    let Some(slot) = LOG.get() else { return };
    let Ok(mut guard) = slot.lock() else { return };
    if let Some(file) = guard.as_mut() {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let _ = writeln!(file, "{ms} {level} {}", message.replace('\n', " ⏎ "));
    }
}

/// `log("INFO", …)`.
pub fn info(message: &str) {
    log("INFO", message);
}

/// `log("ERROR", …)`.
pub fn error(message: &str) {
    log("ERROR", message);
}
