//! The notification channel settings, secrets included, in `channels.json` in the data
//! directory: readable by its owner only (mode 0600 on Unix), replaced atomically (write a
//! temporary file, flush it to disk, rename), never logged and never sent to the
//! extension in clear (see `ChannelSettings::redacted`).

use haoyuan_core::notify::ChannelSettings;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The settings file inside `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("channels.json")
}

/// The stored settings; defaults (every channel off) when there is no file yet.
pub fn load(dir: &Path) -> Result<ChannelSettings, String> {
    let p = path(dir);
    match std::fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            format!("the notification settings in {} cannot be read ({e}); save them again in the options page", p.display())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ChannelSettings::default()),
        Err(e) => Err(format!("the notification settings in {} cannot be read: {e}", p.display())),
    }
}

/// Replaces the stored settings.
pub fn save(dir: &Path, settings: &ChannelSettings) -> Result<(), String> {
    let p = path(dir);
    let tmp = dir.join(".channels.json.tmp");
    let fail = |e: std::io::Error| {
        format!(
            "the notification settings could not be saved in {}: {e}",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let bytes = serde_json::to_vec_pretty(settings)
        .map_err(|e| format!("the settings could not be encoded: {e}"))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(fail)?;
    #[cfg(unix)]
    {
        // An older file made with another mode keeps it on open: set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    f.write_all(&bytes)
        .and_then(|_| f.sync_all())
        .map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, &p).map_err(fail)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), ChannelSettings::default());
        let mut s = ChannelSettings::default();
        s.email.password = "hunter2".into();
        s.email.host = "smtp.example.com".into();
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()).unwrap(), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!dir.path().join(".channels.json.tmp").exists());
    }

    #[test]
    fn a_damaged_file_is_reported_not_replaced_silently() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), b"{ not json").unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(
            err.contains("channels.json") && err.contains("options page"),
            "{err}"
        );
    }
}
