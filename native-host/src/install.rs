//! Registering `haoyuan-host` with browsers: the `install`, `uninstall` and
//! `print-manifest` commands.
//!
//! A browser finds a native messaging host through a small JSON manifest (the templates
//! in `manifest/`). Where that manifest must live depends on the browser, the operating
//! system and whether it is for one user or the whole machine. All of that is one table,
//! [`TABLE`]: a row per browser, a column per OS and scope. On Linux and macOS the
//! manifest goes into a fixed folder; on Windows it is written beside Haoyuan's data and
//! a registry key (whose default value is the manifest's path) points at it.
//!
//! The table is plain data and [`location`] a pure function, so every OS's locations are
//! tested on any OS. Sources: Chrome's "Native messaging" guide, Microsoft Edge's
//! "Native messaging" guide, MDN's "Native manifests", and for Brave its own folders and
//! registry key as used by browserpass and KeePassXC.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::HOST_NAME;

/// The Chromium-family manifest template (`allowed_origins`).
pub const CHROMIUM_TEMPLATE: &str = include_str!("../../manifest/chromium.json");

/// The Firefox manifest template (`allowed_extensions`).
pub const FIREFOX_TEMPLATE: &str = include_str!("../../manifest/firefox.json");

/// The Firefox add-on id of the Haoyuan extension (`browser_specific_settings.gecko.id`).
pub const FIREFOX_ADDON_ID: &str = "haoyuan@haoyuan.org";

/// The extension id Chrome gives the unpacked development build (fixed by its public key).
pub fn dev_extension_id() -> &'static str {
    include_str!("../../extension/dev-extension-id.txt").trim()
}

/// The file name of the manifest in a browser's folder (Linux, macOS, `--dir`).
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// The two manifest shapes browsers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Chrome, Chromium, Edge, Brave: `allowed_origins` of `chrome-extension://ID/`.
    Chromium,
    /// Firefox: `allowed_extensions` of add-on ids.
    Firefox,
}

/// A browser the installer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// Google Chrome.
    Chrome,
    /// Chromium (e.g. Debian's `chromium`).
    Chromium,
    /// Microsoft Edge.
    Edge,
    /// Brave.
    Brave,
    /// Mozilla Firefox (and Firefox ESR).
    Firefox,
}

impl Browser {
    /// Every browser in the table, in table order.
    pub const ALL: [Browser; 5] = [
        Browser::Chrome,
        Browser::Chromium,
        Browser::Edge,
        Browser::Brave,
        Browser::Firefox,
    ];

    /// The name used on the command line (`--browser chrome`).
    pub fn id(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Chromium => "chromium",
            Browser::Edge => "edge",
            Browser::Brave => "brave",
            Browser::Firefox => "firefox",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Browser::Chrome => "Google Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Microsoft Edge",
            Browser::Brave => "Brave",
            Browser::Firefox => "Firefox",
        }
    }

    /// Which manifest shape this browser reads.
    pub fn flavour(self) -> Flavour {
        match self {
            Browser::Firefox => Flavour::Firefox,
            _ => Flavour::Chromium,
        }
    }

    /// Parses a command-line name (`chrome`, `firefox`, ...); `None` when unknown.
    pub fn parse(name: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.id() == name)
    }
}

/// An operating system with its own manifest locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux (and other Unix-likes, whose browsers use the Linux locations).
    Linux,
    /// macOS.
    MacOs,
    /// Windows (registry).
    Windows,
}

impl Os {
    /// The OS this program was built for.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }
}

/// For whom the host is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The current user only (no administrator rights needed).
    User,
    /// Every user of the machine (`--system`; needs administrator rights).
    System,
}

impl Scope {
    fn describe(self) -> &'static str {
        match self {
            Scope::User => "for this user",
            Scope::System => "for all users",
        }
    }
}

/// A Windows registry hive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hive {
    /// `HKEY_CURRENT_USER` (user scope).
    CurrentUser,
    /// `HKEY_LOCAL_MACHINE` (system scope).
    LocalMachine,
}

impl fmt::Display for Hive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hive::CurrentUser => "HKEY_CURRENT_USER",
            Hive::LocalMachine => "HKEY_LOCAL_MACHINE",
        })
    }
}

/// Where a browser looks for the host's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The manifest is the file `<dir>/org.haoyuan.host.json` (Linux, macOS).
    Dir(PathBuf),
    /// A registry key whose default value is the manifest's path (Windows).
    Registry {
        /// The hive: current user or local machine.
        hive: Hive,
        /// The key below the hive, ending in the host name.
        key: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::Registry { hive, key } => write!(f, "{hive}\\{key}"),
        }
    }
}

/// What a Linux per-user folder is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinuxBase {
    /// The XDG config folder (`$XDG_CONFIG_HOME`, by default `~/.config`): Chromium family.
    Config,
    /// The home folder: Firefox.
    Home,
}

/// One browser's row of the table: its manifest location on every OS and scope.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The browser.
    pub browser: Browser,
    /// Linux, this user: a folder relative to [`LinuxBase`].
    pub linux_user: (LinuxBase, &'static str),
    /// Linux, all users: an absolute folder.
    pub linux_system: &'static str,
    /// macOS, this user: a folder relative to the home folder.
    pub macos_user: &'static str,
    /// macOS, all users: an absolute folder.
    pub macos_system: &'static str,
    /// Windows: the registry key below `HKEY_CURRENT_USER` (user) or
    /// `HKEY_LOCAL_MACHINE` (system), without the host name.
    pub windows_key: &'static str,
}

/// The installer's one table: browsers × (Linux, macOS, Windows) × (user, system).
/// Rows are in [`Browser::ALL`] order.
pub static TABLE: [Row; 5] = [
    Row {
        browser: Browser::Chrome,
        linux_user: (LinuxBase::Config, "google-chrome/NativeMessagingHosts"),
        linux_system: "/etc/opt/chrome/native-messaging-hosts",
        macos_user: "Library/Application Support/Google/Chrome/NativeMessagingHosts",
        macos_system: "/Library/Google/Chrome/NativeMessagingHosts",
        windows_key: r"Software\Google\Chrome\NativeMessagingHosts",
    },
    Row {
        browser: Browser::Chromium,
        linux_user: (LinuxBase::Config, "chromium/NativeMessagingHosts"),
        linux_system: "/etc/chromium/native-messaging-hosts",
        macos_user: "Library/Application Support/Chromium/NativeMessagingHosts",
        macos_system: "/Library/Application Support/Chromium/NativeMessagingHosts",
        windows_key: r"Software\Chromium\NativeMessagingHosts",
    },
    Row {
        browser: Browser::Edge,
        linux_user: (LinuxBase::Config, "microsoft-edge/NativeMessagingHosts"),
        linux_system: "/etc/opt/edge/native-messaging-hosts",
        macos_user: "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
        macos_system: "/Library/Microsoft/Edge/NativeMessagingHosts",
        windows_key: r"Software\Microsoft\Edge\NativeMessagingHosts",
    },
    Row {
        browser: Browser::Brave,
        linux_user: (
            LinuxBase::Config,
            "BraveSoftware/Brave-Browser/NativeMessagingHosts",
        ),
        linux_system: "/etc/opt/brave/native-messaging-hosts",
        macos_user: "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        macos_system:
            "/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        windows_key: r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    },
    Row {
        browser: Browser::Firefox,
        linux_user: (LinuxBase::Home, ".mozilla/native-messaging-hosts"),
        linux_system: "/usr/lib/mozilla/native-messaging-hosts",
        macos_user: "Library/Application Support/Mozilla/NativeMessagingHosts",
        macos_system: "/Library/Application Support/Mozilla/NativeMessagingHosts",
        windows_key: r"Software\Mozilla\NativeMessagingHosts",
    },
];

/// The table row of `browser`.
pub fn row(browser: Browser) -> &'static Row {
    // Rows follow the enum's order; `table_has_one_row_per_browser` checks it.
    &TABLE[browser as usize]
}

/// The folders the table is relative to, for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Homes {
    /// The home folder (`$HOME`; on Windows the profile folder).
    pub home: PathBuf,
    /// The XDG config folder used by Chromium-family browsers on Linux
    /// (`$XDG_CONFIG_HOME`, by default `~/.config`).
    pub config_home: PathBuf,
    /// Windows `%LOCALAPPDATA%`: user-scope manifests go to `<it>\Haoyuan`.
    pub local_app_data: PathBuf,
    /// Windows `%ProgramData%`: system-scope manifests go to `<it>\Haoyuan`.
    pub program_data: PathBuf,
}

impl Homes {
    /// The defaults for a home folder: `~/.config`, `~\AppData\Local`, `C:\ProgramData`.
    pub fn for_home(home: &Path) -> Homes {
        Homes {
            home: home.to_path_buf(),
            config_home: home.join(".config"),
            local_app_data: PathBuf::from(format!(r"{}\AppData\Local", home.display())),
            program_data: PathBuf::from(r"C:\ProgramData"),
        }
    }

    /// The folders of the user running this program: `HOME`, `XDG_CONFIG_HOME`
    /// (when set to an absolute path), `LOCALAPPDATA` and `ProgramData`.
    pub fn from_env() -> Result<Homes, String> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME")
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
            .ok_or_else(|| {
                "could not find your home folder; set HOME to it and try again".to_string()
            })?;
        let mut homes = Homes::for_home(&home);
        if let Some(config) = var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
            homes.config_home = config;
        }
        if let Some(local) = var("LOCALAPPDATA") {
            homes.local_app_data = local;
        }
        if let Some(data) = var("ProgramData") {
            homes.program_data = data;
        }
        Ok(homes)
    }
}

/// Where `browser` looks for the manifest on `os` in `scope`, for the user whose home
/// folder is `home` (with the default XDG config folder `home/.config`).
pub fn location(browser: Browser, os: Os, scope: Scope, home: &Path) -> Location {
    location_in(browser, os, scope, &Homes::for_home(home))
}

/// [`location`] with every base folder given.
pub fn location_in(browser: Browser, os: Os, scope: Scope, homes: &Homes) -> Location {
    let row = row(browser);
    match (os, scope) {
        (Os::Linux, Scope::User) => {
            let (base, rel) = row.linux_user;
            Location::Dir(match base {
                LinuxBase::Config => homes.config_home.join(rel),
                LinuxBase::Home => homes.home.join(rel),
            })
        }
        (Os::Linux, Scope::System) => Location::Dir(PathBuf::from(row.linux_system)),
        (Os::MacOs, Scope::User) => Location::Dir(homes.home.join(row.macos_user)),
        (Os::MacOs, Scope::System) => Location::Dir(PathBuf::from(row.macos_system)),
        (Os::Windows, scope) => Location::Registry {
            hive: match scope {
                Scope::User => Hive::CurrentUser,
                Scope::System => Hive::LocalMachine,
            },
            key: format!(r"{}\{HOST_NAME}", row.windows_key),
        },
    }
}

/// Everything install writes (and uninstall removes) for one browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The browser.
    pub browser: Browser,
    /// The manifest file.
    pub manifest: PathBuf,
    /// On Windows, the registry key (default value = `manifest`).
    pub registry: Option<(Hive, String)>,
}

/// What to write for `browser`: the table's location, or the manifest file in `dir`
/// when given (`--dir`, e.g. a Chromium profile's `NativeMessagingHosts` folder).
/// On Windows the manifest itself is kept in `%LOCALAPPDATA%\Haoyuan` (user) or
/// `%ProgramData%\Haoyuan` (system), one file per browser.
pub fn target(browser: Browser, os: Os, scope: Scope, homes: &Homes, dir: Option<&Path>) -> Target {
    if let Some(dir) = dir {
        return Target {
            browser,
            manifest: dir.join(manifest_file_name()),
            registry: None,
        };
    }
    match location_in(browser, os, scope, homes) {
        Location::Dir(dir) => Target {
            browser,
            manifest: dir.join(manifest_file_name()),
            registry: None,
        },
        Location::Registry { hive, key } => {
            let base = match scope {
                Scope::User => &homes.local_app_data,
                Scope::System => &homes.program_data,
            };
            let manifest = PathBuf::from(format!(
                r"{}\Haoyuan\{HOST_NAME}.{}.json",
                base.display(),
                browser.id()
            ));
            Target {
                browser,
                manifest,
                registry: Some((hive, key)),
            }
        }
    }
}

/// The manifest text for `flavour`: `host_path` is the absolute path of the host binary,
/// `ids` the allowed Chromium extension ids (each becomes `chrome-extension://ID/`) or
/// Firefox add-on ids. Ends with a newline.
pub fn manifest_json(flavour: Flavour, host_path: &str, ids: &[String]) -> String {
    let (template, allowed): (&str, Vec<String>) = match flavour {
        Flavour::Chromium => (
            CHROMIUM_TEMPLATE,
            ids.iter()
                .map(|id| format!("chrome-extension://{id}/"))
                .collect(),
        ),
        Flavour::Firefox => (FIREFOX_TEMPLATE, ids.to_vec()),
    };
    let allowed = allowed
        .iter()
        .map(|s| json_string(s))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = template
        .replace("\"@HOST_NAME@\"", &json_string(HOST_NAME))
        .replace("\"@HOST_PATH@\"", &json_string(host_path))
        .replace("\"@ALLOWED@\"", &allowed);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn json_string(s: &str) -> String {
    // Serialising a `&str` cannot fail; the fallback keeps the no-unwrap rule.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Whether `id` is a Chromium extension id: 32 letters from `a` to `p`.
pub fn is_chromium_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// Whether `id` is a Firefox add-on id: an email-like `name@domain` or a `{GUID}`.
pub fn is_firefox_addon_id(id: &str) -> bool {
    let email_part = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    };
    if let Some((name, domain)) = id.split_once('@') {
        return !domain.is_empty() && email_part(name) && email_part(domain);
    }
    let Some(guid) = id.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        return false;
    };
    let groups: Vec<&str> = guid.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The ids each manifest flavour allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedIds {
    /// Chromium extension ids (default: the dev build's id).
    pub chromium: Vec<String>,
    /// Firefox add-on ids (default: [`FIREFOX_ADDON_ID`]).
    pub firefox: Vec<String>,
}

impl AllowedIds {
    /// The ids for `flavour`.
    pub fn for_flavour(&self, flavour: Flavour) -> &[String] {
        match flavour {
            Flavour::Chromium => &self.chromium,
            Flavour::Firefox => &self.firefox,
        }
    }

    /// Sorts the `--extension-id` values into the two flavours, checking each against the
    /// browsers being set up; a flavour given no id gets the default.
    pub fn resolve(browsers: &[Browser], given: &[String]) -> Result<AllowedIds, String> {
        let wants_chromium = browsers.iter().any(|b| b.flavour() == Flavour::Chromium);
        let wants_firefox = browsers.iter().any(|b| b.flavour() == Flavour::Firefox);
        let mut ids = AllowedIds {
            chromium: Vec::new(),
            firefox: Vec::new(),
        };
        for id in given {
            let id = id.trim();
            let list = if is_chromium_extension_id(id) && wants_chromium {
                &mut ids.chromium
            } else if is_firefox_addon_id(id) && wants_firefox {
                &mut ids.firefox
            } else {
                return Err(bad_id_message(id, wants_chromium, wants_firefox));
            };
            if !list.iter().any(|known| known == id) {
                list.push(id.to_string());
            }
        }
        if ids.chromium.is_empty() {
            ids.chromium.push(dev_extension_id().to_string());
        }
        if ids.firefox.is_empty() {
            ids.firefox.push(FIREFOX_ADDON_ID.to_string());
        }
        Ok(ids)
    }
}

fn bad_id_message(id: &str, chromium: bool, firefox: bool) -> String {
    const CHROMIUM: &str = "a Chrome/Chromium/Edge/Brave extension id is 32 letters from a to p \
                            (shown on chrome://extensions with developer mode on)";
    const FIREFOX: &str =
        "a Firefox add-on id looks like name@example.org or {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    match (chromium, firefox) {
        (true, true) => format!("“{id}” is not an extension id: {CHROMIUM}; {FIREFOX}"),
        (true, false) if is_firefox_addon_id(id) => {
            format!("“{id}” is a Firefox add-on id, but this browser needs a Chromium extension id: {CHROMIUM}")
        }
        (true, false) => format!("“{id}” is not an extension id: {CHROMIUM}"),
        (false, _) if is_chromium_extension_id(id) => {
            format!("“{id}” is a Chromium extension id, but Firefox needs an add-on id: {FIREFOX}")
        }
        (false, _) => format!("“{id}” is not a Firefox add-on id: {FIREFOX}"),
    }
}

/// The usage text of the three commands.
pub const USAGE: &str = "\
Usage:
  haoyuan-host install [--browser chrome|chromium|edge|brave|firefox|all] [--system]
                       [--extension-id ID]... [--dir DIR] [--host-path PATH]
  haoyuan-host uninstall [--browser B|all] [--system] [--dir DIR]
  haoyuan-host print-manifest --browser B [--extension-id ID]... [--host-path PATH]

  --browser B        which browser (default: all of them)
  --system           for every user of this machine (needs administrator rights)
  --extension-id ID  an extension allowed to talk to the host; repeat for more.
                     Chromium family: 32 letters a-p (default: the dev build's id);
                     Firefox: the add-on id (default: haoyuan@haoyuan.org)
  --dir DIR          write the manifest into DIR instead, e.g.
                     <chromium --user-data-dir>/NativeMessagingHosts (needs one --browser)
  --host-path PATH   the host binary the browser should start (default: this program)";

/// A command-line failure: `Usage` exits with 2, `Failed` with 1.
#[derive(Debug)]
enum CliError {
    Usage(String),
    Failed(String),
}

/// Runs `install`, `uninstall` or `print-manifest`. `args` is the command line after the
/// program name, starting with the command. Results go to stdout, errors to stderr.
/// Returns the exit status: 0 done, 1 failed, 2 wrong usage.
pub fn cli(args: &[String]) -> i32 {
    let command = args.first().map(String::as_str);
    let result = match command {
        Some("install" | "uninstall" | "print-manifest")
            if args.iter().any(|a| a == "--help" || a == "-h") =>
        {
            println!("{USAGE}");
            Ok(())
        }
        Some("install") => parse(&args[1..], Command::Install).and_then(|o| install(&o)),
        Some("uninstall") => parse(&args[1..], Command::Uninstall).and_then(|o| uninstall(&o)),
        Some("print-manifest") => {
            parse(&args[1..], Command::PrintManifest).and_then(|o| print_manifest(&o))
        }
        Some(other) => Err(CliError::Usage(format!("unknown command “{other}”"))),
        None => Err(CliError::Usage("no command given".to_string())),
    };
    match result {
        Ok(()) => 0,
        Err(CliError::Usage(msg)) => {
            let help = match command {
                Some(c @ ("install" | "uninstall" | "print-manifest")) => {
                    format!("haoyuan-host {c} --help")
                }
                _ => "haoyuan-host install --help".to_string(),
            };
            eprintln!("haoyuan-host: {msg}\n(see `{help}` for the options)");
            2
        }
        Err(CliError::Failed(msg)) => {
            eprintln!("haoyuan-host: {msg}");
            1
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Install,
    Uninstall,
    PrintManifest,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Install => "install",
            Command::Uninstall => "uninstall",
            Command::PrintManifest => "print-manifest",
        }
    }

    fn accepts(self, option: &str) -> bool {
        match self {
            Command::Install => true,
            Command::Uninstall => matches!(option, "--browser" | "--system" | "--dir"),
            Command::PrintManifest => {
                matches!(option, "--browser" | "--extension-id" | "--host-path")
            }
        }
    }
}

/// The parsed options of one command.
#[derive(Debug, Default)]
struct Options {
    /// `None` = all browsers.
    browser: Option<Browser>,
    /// Whether `--browser` was given at all (`--browser all` sets it with `browser: None`).
    browser_given: bool,
    system: bool,
    ids: Vec<String>,
    dir: Option<PathBuf>,
    host_path: Option<PathBuf>,
}

impl Options {
    fn browsers(&self) -> Vec<Browser> {
        match self.browser {
            Some(b) => vec![b],
            None => Browser::ALL.to_vec(),
        }
    }

    fn scope(&self) -> Scope {
        if self.system {
            Scope::System
        } else {
            Scope::User
        }
    }
}

const BROWSER_CHOICES: &str = "chrome, chromium, edge, brave, firefox or all";

fn parse(args: &[String], command: Command) -> Result<Options, CliError> {
    let mut opts = Options::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let known = matches!(
            name,
            "--browser" | "--system" | "--extension-id" | "--dir" | "--host-path"
        );
        if !known {
            return Err(CliError::Usage(format!(
                "{} does not understand “{arg}”",
                command.name()
            )));
        }
        if !command.accepts(name) {
            return Err(CliError::Usage(format!(
                "{} does not take {name}",
                command.name()
            )));
        }
        if name == "--system" {
            if inline.is_some() {
                return Err(CliError::Usage("--system takes no value".to_string()));
            }
            opts.system = true;
            continue;
        }
        let value = match inline.or_else(|| rest.next().cloned()) {
            Some(v) if !v.is_empty() => v,
            _ => {
                let what = match name {
                    "--browser" => format!("a browser: {BROWSER_CHOICES}"),
                    "--extension-id" => "an extension id".to_string(),
                    _ => "a path".to_string(),
                };
                return Err(CliError::Usage(format!("{name} needs {what}")));
            }
        };
        match name {
            "--browser" => {
                opts.browser_given = true;
                opts.browser = match value.as_str() {
                    "all" => None,
                    v => Some(Browser::parse(v).ok_or_else(|| {
                        CliError::Usage(format!("unknown browser “{v}”: choose {BROWSER_CHOICES}"))
                    })?),
                };
            }
            "--extension-id" => opts.ids.push(value),
            "--dir" => opts.dir = Some(PathBuf::from(value)),
            _ => opts.host_path = Some(PathBuf::from(value)),
        }
    }
    if opts.dir.is_some() && opts.system {
        return Err(CliError::Usage(
            "--dir and --system do not go together: --dir already says where".to_string(),
        ));
    }
    if command == Command::Install && opts.dir.is_some() && opts.browser.is_none() {
        return Err(CliError::Usage(
            "--dir needs a single --browser (chrome, chromium, edge, brave or firefox): it decides which kind of \
             manifest to write"
                .to_string(),
        ));
    }
    if command == Command::PrintManifest && opts.browser.is_none() {
        let why = if opts.browser_given {
            "not all"
        } else {
            "it is required"
        };
        return Err(CliError::Usage(format!(
            "print-manifest needs one --browser (chrome, chromium, edge, brave or firefox; {why})"
        )));
    }
    Ok(opts)
}

/// The absolute path of the host binary to put in the manifest.
fn host_path(given: Option<&Path>) -> Result<String, CliError> {
    let path = match given {
        Some(p) => std::path::absolute(p).map_err(|e| {
            CliError::Failed(format!(
                "could not make {} an absolute path: {e}",
                p.display()
            ))
        })?,
        None => {
            let exe = std::env::current_exe().map_err(|e| {
                CliError::Failed(format!(
                    "could not tell where this program is ({e}); pass its location with --host-path"
                ))
            })?;
            // Windows canonical paths carry a `\\?\` prefix browsers may not accept;
            // `current_exe` is already absolute there.
            if cfg!(windows) {
                exe
            } else {
                exe.canonicalize().unwrap_or(exe)
            }
        }
    };
    if !path.is_file() {
        eprintln!(
            "haoyuan-host: warning: {} does not exist (yet); the browser will fail to start the host until it does",
            path.display()
        );
    }
    path.to_str().map(str::to_string).ok_or_else(|| {
        CliError::Failed(format!(
            "the host's path {} is not valid UTF-8, which a manifest cannot hold; move the program to a plain folder \
             or pass --host-path",
            path.display()
        ))
    })
}

fn install(opts: &Options) -> Result<(), CliError> {
    let browsers = opts.browsers();
    let ids = AllowedIds::resolve(&browsers, &opts.ids).map_err(CliError::Usage)?;
    let host = host_path(opts.host_path.as_deref())?;
    let homes = Homes::from_env().map_err(CliError::Failed)?;
    let (os, scope) = (Os::current(), opts.scope());
    let mut failed = Vec::new();
    for browser in &browsers {
        let target = target(*browser, os, scope, &homes, opts.dir.as_deref());
        let json = manifest_json(browser.flavour(), &host, ids.for_flavour(browser.flavour()));
        match write_target(&target, &json) {
            Ok(()) => {
                println!(
                    "Registered {HOST_NAME} with {} {}:",
                    browser.display_name(),
                    scope.describe()
                );
                println!("  manifest: {}", target.manifest.display());
                if let Some((hive, key)) = &target.registry {
                    println!("  registry: {hive}\\{key}");
                }
            }
            Err(e) => {
                eprintln!(
                    "haoyuan-host: could not register with {}: {}",
                    browser.display_name(),
                    explain(&e, opts)
                );
                failed.push(browser.display_name());
            }
        }
    }
    println!("Host program: {host}");
    if browsers.iter().any(|b| b.flavour() == Flavour::Chromium) {
        println!(
            "Chromium-family extensions allowed: {}",
            ids.chromium.join(", ")
        );
    }
    if browsers.contains(&Browser::Firefox) {
        println!("Firefox add-ons allowed: {}", ids.firefox.join(", "));
    }
    if failed.is_empty() {
        println!("Done. Restart the browser, or reload the extension, so it finds the host.");
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "registration failed for {}",
            failed.join(", ")
        )))
    }
}

fn uninstall(opts: &Options) -> Result<(), CliError> {
    let homes = Homes::from_env().map_err(CliError::Failed)?;
    let (os, scope) = (Os::current(), opts.scope());
    // With --dir every browser means the same file: handle it once.
    let browsers = match (&opts.dir, opts.browser) {
        (Some(_), None) => vec![Browser::Chromium],
        _ => opts.browsers(),
    };
    let mut failed = Vec::new();
    for browser in browsers {
        let target = target(browser, os, scope, &homes, opts.dir.as_deref());
        let who = if opts.dir.is_some() && opts.browser.is_none() {
            "the folder".to_string()
        } else {
            format!("{} {}", browser.display_name(), scope.describe())
        };
        match remove_target(&target) {
            Ok(true) => println!(
                "Removed {HOST_NAME} from {who}: {}",
                target.manifest.display()
            ),
            Ok(false) => {
                println!(
                    "Nothing to remove for {who}: {} is not there",
                    target.manifest.display()
                )
            }
            Err(e) => {
                eprintln!(
                    "haoyuan-host: could not remove the registration from {who}: {}",
                    explain(&e, opts)
                );
                failed.push(browser.display_name());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "removal failed for {}",
            failed.join(", ")
        )))
    }
}

fn print_manifest(opts: &Options) -> Result<(), CliError> {
    let browsers = opts.browsers();
    let ids = AllowedIds::resolve(&browsers, &opts.ids).map_err(CliError::Usage)?;
    let host = host_path(opts.host_path.as_deref())?;
    for browser in browsers {
        print!(
            "{}",
            manifest_json(browser.flavour(), &host, ids.for_flavour(browser.flavour()))
        );
    }
    Ok(())
}

/// An I/O error with the path it concerns.
#[derive(Debug)]
struct PathError {
    path: String,
    doing: &'static str,
    error: io::Error,
}

fn at(path: &Path, doing: &'static str) -> impl FnOnce(io::Error) -> PathError {
    let path = path.display().to_string();
    move |error| PathError { path, doing, error }
}

/// Plain words for a failed write or removal, with what to do about it.
fn explain(e: &PathError, opts: &Options) -> String {
    let mut msg = format!("{} {} failed: {}", e.doing, e.path, e.error);
    if e.error.kind() == io::ErrorKind::PermissionDenied {
        msg.push_str(if opts.system {
            "; registering for all users needs administrator rights: run it again as root (sudo) or from an \
             administrator prompt, or leave out --system to register for yourself only"
        } else {
            "; check that you own that folder, or pass --dir with a folder you can write"
        });
    }
    msg
}

/// Writes the manifest (atomically: a temporary file, then a rename) and, on Windows,
/// the registry key pointing at it.
fn write_target(target: &Target, json: &str) -> Result<(), PathError> {
    let file = &target.manifest;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(at(dir, "creating the folder"))?;
    }
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, json).map_err(at(&tmp, "writing"))?;
    #[cfg(unix)]
    {
        // Browsers of every user must read a system-wide manifest, whatever the umask.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .map_err(at(&tmp, "setting the mode of"))?;
    }
    if let Err(e) = std::fs::rename(&tmp, file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(at(file, "writing")(e));
    }
    if let Some((hive, key)) = &target.registry {
        registry_set(*hive, key, file).map_err(at(
            Path::new(&format!("{hive}\\{key}")),
            "writing the registry key",
        ))?;
    }
    Ok(())
}

/// Removes the manifest and registry key; `Ok(false)` when neither was there.
fn remove_target(target: &Target) -> Result<bool, PathError> {
    let mut removed = match std::fs::remove_file(&target.manifest) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(at(&target.manifest, "removing")(e)),
    };
    if let Some((hive, key)) = &target.registry {
        removed |= registry_delete(*hive, key).map_err(at(
            Path::new(&format!("{hive}\\{key}")),
            "removing the registry key",
        ))?;
    }
    Ok(removed)
}

#[cfg(windows)]
fn registry_set(hive: Hive, key: &str, manifest: &Path) -> io::Result<()> {
    windows_registry::set_default(hive, key, &manifest.to_string_lossy())
}

#[cfg(windows)]
fn registry_delete(hive: Hive, key: &str) -> io::Result<bool> {
    windows_registry::delete(hive, key)
}

#[cfg(not(windows))]
fn registry_set(_hive: Hive, _key: &str, _manifest: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the Windows registry exists only on Windows",
    ))
}

#[cfg(not(windows))]
fn registry_delete(_hive: Hive, _key: &str) -> io::Result<bool> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the Windows registry exists only on Windows",
    ))
}

/// The registry half of a Windows registration: a key whose default value is the
/// manifest's path (what `REG ADD "HKCU\...\org.haoyuan.host" /ve /t REG_SZ /d PATH` does).
#[cfg(windows)]
mod windows_registry {
    use super::Hive;
    use std::io;
    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};
    use winreg::RegKey;

    fn root(hive: Hive) -> RegKey {
        RegKey::predef(match hive {
            Hive::CurrentUser => HKEY_CURRENT_USER,
            Hive::LocalMachine => HKEY_LOCAL_MACHINE,
        })
    }

    /// Creates `key` (and its parents) and sets its default value to `value`.
    pub fn set_default(hive: Hive, key: &str, value: &str) -> io::Result<()> {
        let (created, _) = root(hive).create_subkey(key)?;
        created.set_value("", &value)
    }

    /// Deletes `key` and everything below it; `Ok(false)` when it did not exist.
    pub fn delete(hive: Hive, key: &str) -> io::Result<bool> {
        match root(hive).delete_subkey_all(key) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table_has_one_row_per_browser() {
        for browser in Browser::ALL {
            assert_eq!(
                TABLE.iter().filter(|r| r.browser == browser).count(),
                1,
                "{browser:?}"
            );
            assert_eq!(row(browser).browser, browser);
        }
    }

    #[test]
    fn templates_are_json_with_the_placeholders() {
        for (template, key) in [
            (CHROMIUM_TEMPLATE, "allowed_origins"),
            (FIREFOX_TEMPLATE, "allowed_extensions"),
        ] {
            let v: serde_json::Value = serde_json::from_str(template).expect("template is JSON");
            assert_eq!(v["name"], "@HOST_NAME@");
            assert_eq!(v["path"], "@HOST_PATH@");
            assert_eq!(v["type"], "stdio");
            assert_eq!(v[key], serde_json::json!(["@ALLOWED@"]));
        }
    }

    #[test]
    fn manifest_escapes_awkward_paths_and_lists_every_id() {
        let path = r#"C:\Program Files\Hao "yuan"\haoyuan-host.exe"#;
        let ids = strings(&[
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ]);
        let v: serde_json::Value =
            serde_json::from_str(&manifest_json(Flavour::Chromium, path, &ids)).expect("JSON");
        assert_eq!(v["path"], path);
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(
            v["allowed_origins"],
            serde_json::json!([
                "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
                "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
            ])
        );
        let empty: serde_json::Value =
            serde_json::from_str(&manifest_json(Flavour::Firefox, "/x", &[]))
                .expect("JSON with no ids");
        assert_eq!(empty["allowed_extensions"], serde_json::json!([]));
    }

    #[test]
    fn extension_id_shapes() {
        assert!(is_chromium_extension_id(dev_extension_id()));
        assert!(!is_chromium_extension_id(
            "jejbhckhgfhcpjnpjddldnoenganfcjq"
        )); // q is out of a-p
        assert!(!is_chromium_extension_id("jejbhckhgfhcpjnpjddldnoenganfcj")); // 31 letters
        assert!(!is_chromium_extension_id(
            "JEJBHCKHGFHCPJNPJDDLDNOENGANFCJP"
        ));
        assert!(is_firefox_addon_id(FIREFOX_ADDON_ID));
        assert!(is_firefox_addon_id(
            "{0f9ad9b5-5c3d-4f3e-9a6e-123456789abc}"
        ));
        assert!(!is_firefox_addon_id("{0f9ad9b5-5c3d-4f3e-9a6e}"));
        assert!(!is_firefox_addon_id("haoyuan@"));
        assert!(!is_firefox_addon_id("hao yuan@haoyuan.org"));
        assert!(!is_firefox_addon_id(dev_extension_id()));
    }

    #[test]
    fn ids_are_sorted_by_flavour_with_defaults() {
        let ids = AllowedIds::resolve(
            &Browser::ALL,
            &strings(&["x@y.org", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]),
        )
        .expect("ok");
        assert_eq!(ids.chromium, strings(&["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]));
        assert_eq!(ids.firefox, strings(&["x@y.org"]));
        let defaults = AllowedIds::resolve(&Browser::ALL, &[]).expect("ok");
        assert_eq!(defaults.chromium, strings(&[dev_extension_id()]));
        assert_eq!(defaults.firefox, strings(&[FIREFOX_ADDON_ID]));
        let err = AllowedIds::resolve(&[Browser::Chrome], &strings(&["x@y.org"]))
            .expect_err("wrong flavour");
        assert!(err.contains("Firefox add-on id"), "{err}");
        let err = AllowedIds::resolve(&[Browser::Firefox], &strings(&[dev_extension_id()]))
            .expect_err("wrong flavour");
        assert!(err.contains("Chromium extension id"), "{err}");
    }

    #[test]
    fn option_parsing() {
        let o = parse(
            &strings(&["--browser=edge", "--extension-id", "a", "--system"]),
            Command::Install,
        )
        .expect("ok");
        assert_eq!(
            (o.browser, o.system, o.ids.clone()),
            (Some(Browser::Edge), true, strings(&["a"]))
        );
        assert!(matches!(
            parse(&strings(&["--browser"]), Command::Install),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse(&strings(&["--extension-id", "a"]), Command::Uninstall),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse(&strings(&["--dir", "/d"]), Command::Install),
            Err(CliError::Usage(_))
        ));
        assert!(parse(&strings(&["--dir", "/d"]), Command::Uninstall).is_ok());
        assert!(matches!(
            parse(&strings(&["--browser", "all"]), Command::PrintManifest),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse(&strings(&["--verbose"]), Command::Install),
            Err(CliError::Usage(_))
        ));
    }
}
