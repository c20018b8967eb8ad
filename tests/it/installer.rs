//! Installer tests: the built `haoyuan-host` run with a temporary `HOME` writes and removes
//! the manifest for every browser on Linux, refuses bad input with exit 2 and a clear
//! message, and the pure location table gives the documented macOS and Windows places.

use haoyuan_host::install::{
    location, location_in, manifest_json, target, Browser, Flavour, Hive, Homes, Location, Os,
    Scope, FIREFOX_ADDON_ID,
};
use haoyuan_host::HOST_NAME;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEV_ID: &str = "jejbhckhgfhcpjnpjddldnoenganfcjp";
const OTHER_ID: &str = "abcdefghijklmnopabcdefghijklmnop";

/// Runs the built host with `args` and only `HOME` (and `PATH`) from us: no XDG, no
/// `HAOYUAN_HOME` leaking in from the developer's shell.
fn run(home: &Path, args: &[&str]) -> Output {
    run_env(home, args, &[])
}

fn run_env(home: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haoyuan-host"));
    cmd.args(args).env_clear().env("HOME", home);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the haoyuan-host binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

fn the_binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_haoyuan-host"))
        .canonicalize()
        .expect("binary path")
}

/// Where the manifest of `browser` must land for a user whose home is `home`, spelled
/// out from the browsers' documentation (not computed by the code under test).
fn linux_user_manifest(home: &Path, browser: Browser) -> PathBuf {
    let dir = match browser {
        Browser::Chrome => ".config/google-chrome/NativeMessagingHosts",
        Browser::Chromium => ".config/chromium/NativeMessagingHosts",
        Browser::Edge => ".config/microsoft-edge/NativeMessagingHosts",
        Browser::Brave => ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        Browser::Firefox => ".mozilla/native-messaging-hosts",
    };
    home.join(dir).join("org.haoyuan.host.json")
}

fn read_manifest(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("manifest at {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("manifest at {} is not JSON ({e}):\n{text}", path.display()))
}

/// Checks a manifest's fields: name, type, an absolute `path` equal to `host`, and the
/// allowed list of the right flavour (and not the other one).
fn check_manifest(m: &Value, browser: Browser, host: &Path, allowed: &[&str]) {
    assert_eq!(m["name"], HOST_NAME);
    assert_eq!(m["type"], "stdio");
    assert!(
        m["description"].as_str().is_some_and(|d| !d.is_empty()),
        "description: {m}"
    );
    let path = m["path"].as_str().expect("path is a string");
    assert!(Path::new(path).is_absolute(), "path {path} is not absolute");
    assert_eq!(Path::new(path), host);
    if browser == Browser::Firefox {
        assert_eq!(m["allowed_extensions"], serde_json::json!(allowed));
        assert!(
            m.get("allowed_origins").is_none(),
            "Firefox manifest with allowed_origins: {m}"
        );
    } else {
        let origins: Vec<String> = allowed
            .iter()
            .map(|id| format!("chrome-extension://{id}/"))
            .collect();
        assert_eq!(m["allowed_origins"], serde_json::json!(origins));
        assert!(
            m.get("allowed_extensions").is_none(),
            "Chromium manifest with allowed_extensions: {m}"
        );
    }
}

/// Every file below `dir`, relative to it.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("below").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[cfg(target_os = "linux")]
#[test]
fn install_and_uninstall_each_browser_on_linux() {
    let host = the_binary();
    for browser in Browser::ALL {
        let home = tempfile::tempdir().expect("temp HOME");
        let out = run(home.path(), &["install", "--browser", browser.id()]);
        assert_ok(&out);
        let expected = linux_user_manifest(home.path(), browser);
        assert!(
            stdout(&out).contains(&expected.display().to_string()),
            "install should say where: {}",
            stdout(&out)
        );
        // Exactly one file written, at the documented place.
        assert_eq!(
            files_below(home.path()),
            vec![expected
                .strip_prefix(home.path())
                .expect("in HOME")
                .to_path_buf()]
        );
        let default_id = if browser == Browser::Firefox {
            FIREFOX_ADDON_ID
        } else {
            DEV_ID
        };
        check_manifest(&read_manifest(&expected), browser, &host, &[default_id]);

        let out = run(home.path(), &["uninstall", "--browser", browser.id()]);
        assert_ok(&out);
        assert!(!expected.exists(), "uninstall left {}", expected.display());
        assert!(stdout(&out).contains("Removed"), "{}", stdout(&out));

        // A second uninstall has nothing to do, says so, and still succeeds.
        let out = run(home.path(), &["uninstall", "--browser", browser.id()]);
        assert_ok(&out);
        assert!(
            stdout(&out).contains("Nothing to remove"),
            "{}",
            stdout(&out)
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn install_all_registers_every_browser_and_uninstall_removes_them() {
    let home = tempfile::tempdir().expect("temp HOME");
    let host = the_binary();
    assert_ok(&run(home.path(), &["install"]));
    for browser in Browser::ALL {
        let path = linux_user_manifest(home.path(), browser);
        let default_id = if browser == Browser::Firefox {
            FIREFOX_ADDON_ID
        } else {
            DEV_ID
        };
        check_manifest(&read_manifest(&path), browser, &host, &[default_id]);
    }
    assert_eq!(files_below(home.path()).len(), Browser::ALL.len());
    assert_ok(&run(home.path(), &["uninstall", "--browser", "all"]));
    assert_eq!(files_below(home.path()), Vec::<PathBuf>::new());
}

#[cfg(target_os = "linux")]
#[test]
fn chromium_family_honours_xdg_config_home_and_firefox_does_not() {
    let home = tempfile::tempdir().expect("temp HOME");
    let config = tempfile::tempdir().expect("temp XDG_CONFIG_HOME");
    let out = run_env(
        home.path(),
        &["install"],
        &[("XDG_CONFIG_HOME", config.path())],
    );
    assert_ok(&out);
    assert!(config
        .path()
        .join("google-chrome/NativeMessagingHosts/org.haoyuan.host.json")
        .is_file());
    assert!(config
        .path()
        .join("chromium/NativeMessagingHosts/org.haoyuan.host.json")
        .is_file());
    assert!(home
        .path()
        .join(".mozilla/native-messaging-hosts/org.haoyuan.host.json")
        .is_file());
    assert!(
        !home.path().join(".config").exists(),
        "nothing belongs in ~/.config when XDG_CONFIG_HOME is set"
    );
}

#[test]
fn repeated_extension_ids_and_host_path_are_written() {
    let home = tempfile::tempdir().expect("temp HOME");
    let dir = home.path().join("profile/NativeMessagingHosts");
    let dir_s = dir.to_str().expect("utf-8");
    let fake_host = home.path().join("bin/haoyuan-host");
    let out = run(
        home.path(),
        &[
            "install",
            "--browser",
            "chromium",
            "--extension-id",
            OTHER_ID,
            &format!("--extension-id={DEV_ID}"),
            "--extension-id",
            OTHER_ID,
            "--dir",
            dir_s,
            "--host-path",
            fake_host.to_str().expect("utf-8"),
        ],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("does not exist"),
        "a missing host binary deserves a warning: {}",
        stderr(&out)
    );
    check_manifest(
        &read_manifest(&dir.join("org.haoyuan.host.json")),
        Browser::Chromium,
        &fake_host,
        &[OTHER_ID, DEV_ID],
    );
}

#[test]
fn dir_writes_only_into_that_folder_and_uninstall_empties_it() {
    let home = tempfile::tempdir().expect("temp HOME");
    let profile = tempfile::tempdir().expect("temp profile");
    let dir = profile.path().join("NativeMessagingHosts");
    let dir_s = dir.to_str().expect("utf-8");
    for browser in [Browser::Chromium, Browser::Firefox] {
        assert_ok(&run(
            home.path(),
            &["install", "--browser", browser.id(), "--dir", dir_s],
        ));
        let default_id = if browser == Browser::Firefox {
            FIREFOX_ADDON_ID
        } else {
            DEV_ID
        };
        check_manifest(
            &read_manifest(&dir.join("org.haoyuan.host.json")),
            browser,
            &the_binary(),
            &[default_id],
        );
        assert_eq!(
            files_below(home.path()),
            Vec::<PathBuf>::new(),
            "--dir must not touch HOME"
        );
        assert_ok(&run(home.path(), &["uninstall", "--dir", dir_s]));
        assert_eq!(files_below(&dir), Vec::<PathBuf>::new());
    }
}

#[test]
fn dir_without_a_single_browser_is_refused() {
    let home = tempfile::tempdir().expect("temp HOME");
    let dir = home.path().join("d");
    for args in [
        vec!["install", "--dir", dir.to_str().expect("utf-8")],
        vec![
            "install",
            "--browser",
            "all",
            "--dir",
            dir.to_str().expect("utf-8"),
        ],
    ] {
        let out = run(home.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--dir needs a single --browser"),
            "{}",
            stderr(&out)
        );
        assert!(!dir.exists());
    }
}

#[test]
fn bad_extension_ids_are_refused_with_the_reason() {
    let home = tempfile::tempdir().expect("temp HOME");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "install",
                "--browser",
                "chrome",
                "--extension-id",
                "not-an-id",
            ],
            "32 letters from a to p",
        ),
        (
            &[
                "install",
                "--browser",
                "chrome",
                "--extension-id",
                "jejbhckhgfhcpjnpjddldnoenganfcjz",
            ],
            "“jejbhckhgfhcpjnpjddldnoenganfcjz” is not an extension id",
        ),
        (
            &[
                "install",
                "--browser",
                "edge",
                "--extension-id",
                "haoyuan@haoyuan.org",
            ],
            "is a Firefox add-on id",
        ),
        (
            &["install", "--browser", "firefox", "--extension-id", DEV_ID],
            "is a Chromium extension id",
        ),
    ];
    for (args, reason) in cases {
        let out = run(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(reason),
            "{args:?} should explain “{reason}”: {}",
            stderr(&out)
        );
        assert_eq!(
            files_below(home.path()),
            Vec::<PathBuf>::new(),
            "{args:?} wrote something"
        );
    }
}

#[test]
fn unknown_browser_option_or_command_is_refused() {
    let home = tempfile::tempdir().expect("temp HOME");
    let out = run(home.path(), &["install", "--browser", "safari"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown browser “safari”")
            && err.contains("chrome, chromium, edge, brave, firefox or all"),
        "{err}"
    );

    let out = run(home.path(), &["install", "--browser"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--browser needs a browser"),
        "{}",
        stderr(&out)
    );

    let out = run(home.path(), &["uninstall", "--extension-id", DEV_ID]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("uninstall does not take --extension-id"),
        "{}",
        stderr(&out)
    );

    let out = run(home.path(), &["install", "--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("“--force”"), "{}", stderr(&out));
    assert_eq!(files_below(home.path()), Vec::<PathBuf>::new());
}

#[test]
fn print_manifest_prints_exactly_manifest_json() {
    let home = tempfile::tempdir().expect("temp HOME");
    for browser in [Browser::Chrome, Browser::Firefox] {
        let out = run(
            home.path(),
            &[
                "print-manifest",
                "--browser",
                browser.id(),
                "--host-path",
                "/opt/haoyuan/haoyuan-host",
            ],
        );
        assert_ok(&out);
        let text = stdout(&out);
        let default_id = if browser == Browser::Firefox {
            FIREFOX_ADDON_ID
        } else {
            DEV_ID
        };
        assert_eq!(
            text,
            manifest_json(
                browser.flavour(),
                "/opt/haoyuan/haoyuan-host",
                &[default_id.to_string()]
            )
        );
        let v: Value = serde_json::from_str(&text).expect("print-manifest prints JSON");
        check_manifest(
            &v,
            browser,
            Path::new("/opt/haoyuan/haoyuan-host"),
            &[default_id],
        );
    }
    // Without --host-path the manifest names the running binary.
    let out = run(
        home.path(),
        &[
            "print-manifest",
            "--browser",
            "brave",
            "--extension-id",
            OTHER_ID,
        ],
    );
    assert_ok(&out);
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    check_manifest(&v, Browser::Brave, &the_binary(), &[OTHER_ID]);
    // It writes nothing, and needs one browser.
    assert_eq!(files_below(home.path()), Vec::<PathBuf>::new());
    let out = run(home.path(), &["print-manifest"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("print-manifest needs one --browser"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn manifest_json_flavours_differ_only_in_the_allowed_list() {
    let c: Value = serde_json::from_str(&manifest_json(
        Flavour::Chromium,
        "/h",
        &[DEV_ID.to_string()],
    ))
    .expect("JSON");
    let f: Value = serde_json::from_str(&manifest_json(
        Flavour::Firefox,
        "/h",
        &[FIREFOX_ADDON_ID.to_string()],
    ))
    .expect("JSON");
    assert_eq!(
        c["allowed_origins"],
        serde_json::json!([format!("chrome-extension://{DEV_ID}/")])
    );
    assert_eq!(
        f["allowed_extensions"],
        serde_json::json!([FIREFOX_ADDON_ID])
    );
    for key in ["name", "description", "path", "type"] {
        assert_eq!(c[key], f[key], "{key}");
    }
}

fn dir(p: &str) -> Location {
    Location::Dir(PathBuf::from(p))
}

#[test]
fn linux_table() {
    let home = Path::new("/home/ann");
    let expect = [
        (
            Browser::Chrome,
            "/home/ann/.config/google-chrome/NativeMessagingHosts",
            "/etc/opt/chrome/native-messaging-hosts",
        ),
        (
            Browser::Chromium,
            "/home/ann/.config/chromium/NativeMessagingHosts",
            "/etc/chromium/native-messaging-hosts",
        ),
        (
            Browser::Edge,
            "/home/ann/.config/microsoft-edge/NativeMessagingHosts",
            "/etc/opt/edge/native-messaging-hosts",
        ),
        (
            Browser::Brave,
            "/home/ann/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            "/etc/opt/brave/native-messaging-hosts",
        ),
        (
            Browser::Firefox,
            "/home/ann/.mozilla/native-messaging-hosts",
            "/usr/lib/mozilla/native-messaging-hosts",
        ),
    ];
    for (browser, user, system) in expect {
        assert_eq!(
            location(browser, Os::Linux, Scope::User, home),
            dir(user),
            "{browser:?} user"
        );
        assert_eq!(
            location(browser, Os::Linux, Scope::System, home),
            dir(system),
            "{browser:?} system"
        );
    }
    let mut homes = Homes::for_home(home);
    homes.config_home = PathBuf::from("/xdg");
    assert_eq!(
        location_in(Browser::Chrome, Os::Linux, Scope::User, &homes),
        dir("/xdg/google-chrome/NativeMessagingHosts")
    );
    assert_eq!(
        location_in(Browser::Firefox, Os::Linux, Scope::User, &homes),
        dir("/home/ann/.mozilla/native-messaging-hosts")
    );
}

#[test]
fn macos_table() {
    let home = Path::new("/Users/ann");
    let expect = [
        (
            Browser::Chrome,
            "/Users/ann/Library/Application Support/Google/Chrome/NativeMessagingHosts",
            "/Library/Google/Chrome/NativeMessagingHosts",
        ),
        (
            Browser::Chromium,
            "/Users/ann/Library/Application Support/Chromium/NativeMessagingHosts",
            "/Library/Application Support/Chromium/NativeMessagingHosts",
        ),
        (
            Browser::Edge,
            "/Users/ann/Library/Application Support/Microsoft Edge/NativeMessagingHosts",
            "/Library/Microsoft/Edge/NativeMessagingHosts",
        ),
        (
            Browser::Brave,
            "/Users/ann/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            "/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        ),
        (
            Browser::Firefox,
            "/Users/ann/Library/Application Support/Mozilla/NativeMessagingHosts",
            "/Library/Application Support/Mozilla/NativeMessagingHosts",
        ),
    ];
    for (browser, user, system) in expect {
        assert_eq!(
            location(browser, Os::MacOs, Scope::User, home),
            dir(user),
            "{browser:?} user"
        );
        assert_eq!(
            location(browser, Os::MacOs, Scope::System, home),
            dir(system),
            "{browser:?} system"
        );
    }
}

#[test]
fn windows_table() {
    let home = Path::new(r"C:\Users\ann");
    let expect = [
        (
            Browser::Chrome,
            r"Software\Google\Chrome\NativeMessagingHosts\org.haoyuan.host",
        ),
        (
            Browser::Chromium,
            r"Software\Chromium\NativeMessagingHosts\org.haoyuan.host",
        ),
        (
            Browser::Edge,
            r"Software\Microsoft\Edge\NativeMessagingHosts\org.haoyuan.host",
        ),
        (
            Browser::Brave,
            r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\org.haoyuan.host",
        ),
        (
            Browser::Firefox,
            r"Software\Mozilla\NativeMessagingHosts\org.haoyuan.host",
        ),
    ];
    for (browser, key) in expect {
        let user = location(browser, Os::Windows, Scope::User, home);
        assert_eq!(
            user,
            Location::Registry {
                hive: Hive::CurrentUser,
                key: key.to_string()
            },
            "{browser:?} user"
        );
        assert_eq!(user.to_string(), format!(r"HKEY_CURRENT_USER\{key}"));
        let system = location(browser, Os::Windows, Scope::System, home);
        assert_eq!(
            system,
            Location::Registry {
                hive: Hive::LocalMachine,
                key: key.to_string()
            },
            "{browser:?} system"
        );
        assert_eq!(system.to_string(), format!(r"HKEY_LOCAL_MACHINE\{key}"));
    }
    // The manifest the key points at lives beside Haoyuan's data, one per browser.
    let homes = Homes::for_home(home);
    let t = target(Browser::Edge, Os::Windows, Scope::User, &homes, None);
    assert_eq!(
        t.manifest,
        PathBuf::from(r"C:\Users\ann\AppData\Local\Haoyuan\org.haoyuan.host.edge.json")
    );
    assert_eq!(
        t.registry,
        Some((
            Hive::CurrentUser,
            r"Software\Microsoft\Edge\NativeMessagingHosts\org.haoyuan.host".to_string()
        ))
    );
    let t = target(Browser::Firefox, Os::Windows, Scope::System, &homes, None);
    assert_eq!(
        t.manifest,
        PathBuf::from(r"C:\ProgramData\Haoyuan\org.haoyuan.host.firefox.json")
    );
    assert_eq!(
        t.registry,
        Some((
            Hive::LocalMachine,
            r"Software\Mozilla\NativeMessagingHosts\org.haoyuan.host".to_string()
        ))
    );
}
