//! `haoyuan-host watch …` and `haoyuan-host history …`: the watches and their history
//! from a terminal (the headless mode of issue 6), against the same SQLite store the
//! browser-launched host uses (the data directory of [`crate::paths::data_dir`]).
//!
//! A watch given by flags (12306) or as JSON (any platform) is read as a
//! [`Watch`], validated against today in China and stored exactly as the protocol's
//! `watch_put` does; pause, resume and delete are the store calls of `watch_pause` and
//! `watch_delete`, so they record the same history events and the browser sees the
//! same watches.
//!
//! `patient …`, `account …` and `cancel …` are the patient book, the stored 91160 / pati
//! accounts and cancelling a booked order: the same [`Host`] calls as the protocol's
//! `patient_*`, `site_account*` and `booking_cancel`. Patients are only ever printed
//! masked; an account's secret is read from stdin (never from the command line, where
//! other users and the shell history could see it) and never printed.
//!
//! Results go to stdout, problems to stderr. Exit status: 0 done, 1 failed (no such
//! watch, the database cannot be used), 2 wrong usage or a watch or patient that is not
//! valid.

use crate::dispatch::{now_ms, Host, CHINA_OFFSET_MINUTES};
use crate::store::{Store, StoreError};
use crate::{logging, paths};
use haoyuan_core::date::Date;
use haoyuan_core::patient::{Guardian, Patient, PatientView};
use haoyuan_core::protocol::{ErrorBody, ErrorCode, HistoryEntry, DEFAULT_PAGE, MAX_PAGE};
use haoyuan_core::watch::{FieldError, Mode, Watch};
use serde_json::json;
use std::io::{Read, Write};
use std::path::PathBuf;

/// The usage of `watch` and `history`.
pub const USAGE: &str = "\
Usage:
  haoyuan-host watch add --from CODE --to CODE --end YYYY-MM-DD [OPTIONS]   a 12306 watch
  haoyuan-host watch add --json FILE|-     a whole watch as JSON (any platform; - reads stdin)
  haoyuan-host watch list [--json]
  haoyuan-host watch pause ID
  haoyuan-host watch resume ID
  haoyuan-host watch rm ID
  haoyuan-host history [ID] [--limit N] [--json]
  haoyuan-host patient add --name N --id NUMBER --birthday YYYY-MM-DD --sex male|female
                           --phone P [OPTIONS]      add a person to the patient book
  haoyuan-host patient add --json FILE|-   a whole patient as JSON (- reads stdin)
  haoyuan-host patient list [--json]       the patient book, masked
  haoyuan-host patient rm ID
  haoyuan-host account add 91160 NAME [--base URL]   the appToken is read from stdin
  haoyuan-host account add pati PHONE --base URL     the password is read from stdin
  haoyuan-host account list [--platform 91160|pati] [--json]
  haoyuan-host account rm 91160|pati NAME
  haoyuan-host cancel WATCH_ID --reason TEXT   cancel the order a 91160/pati watch booked
  haoyuan-host browse 91160 NAME units|deps|doctors [--unit ID] [--dep ID] [--refresh] [--json]
  haoyuan-host browse pati PHONE depts|doctors|members [--dept ID] [--refresh] [--json]
                           the ids a 91160/pati watch needs (lists are kept a day)

Options of `watch add` (12306):
  --from CODE, --to CODE   departure and arrival station telecodes, e.g. VNP AOH
  --from-name NAME         the stations' names for display, e.g. 北京南 上海虹桥
  --to-name NAME
  --start YYYY-MM-DD       first day of travel (default: today in China)
  --end YYYY-MM-DD         last day of travel
  --dates D1,D2            only these days of the window (default: every day)
  --trains G1,G3           only these trains (default: any)
  --exclude G5,...         never these trains
  --seats O,M              seat codes in order of preference: 9 M O P 4 3 2 1 (default: any)
  --after HH:MM            departing at or after this time
  --before HH:MM           departing at or before this time
  --account LOGIN          the 12306 account that looks and books (needed with --mode book)
  --passengers 张三,李四    passengers as named on the account (default: the account holder)
  --allow-fewer            book for as many passengers as there are seats when not all fit
  --no-sale-burst          do not look in a short burst at a train's announced sale time
  --more-pair FROM:TO      another pair of stations to look at too (repeat, at most 4)
  --mode notify|book       tell you, or also book once with the account (default: notify)
  --interval SECS          seconds between looks, at least 10 (default: 30)
  --jitter PCT             random spread of the interval, 10-50 percent (default: 20)
  --label TEXT             your name for the watch

  --json                   (list, history) one JSON object a line
  --limit N                (history) the newest N events (default: 50)

Options of `patient add`:
  --name N                 the name as on the ID document
  --id-type T              resident_id (身份证, default), passport, hk_macau_permit,
                           taiwan_permit or other
  --id NUMBER              the document number (a 身份证 is checked: its last digit,
                           and that it agrees with --birthday and --sex)
  --birthday YYYY-MM-DD, --sex male|female, --phone P (an 11-digit mobile)
  --address A, --card-no C (就诊卡号), --clinic-no C (门诊号)
  --guardian-json FILE|-   the guardian of a patient under 18, as JSON: {\"name\",
                           \"id_type\", \"id_number\", \"phone\", \"sex\", \"birthday\",
                           \"relation\"}
  --replace ID             replace the patient with this id instead of adding one

Times are China time (UTC+8). These are the browser extension's watches: the data lives
in $HAOYUAN_HOME, or the system's data folder when it is not set.";

/// Where a command reads and writes: the data directory, the clock and the streams.
pub struct Env<'a> {
    /// The data directory, or why there is none.
    pub data_dir: Result<PathBuf, String>,
    /// The current Unix time in milliseconds.
    pub now_ms: i64,
    pub stdin: &'a mut dyn Read,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Runs `watch …` or `history …` for a person at a terminal. `args` is the command line
/// after the program name, starting with the command. Returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let mut stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    run(
        args,
        &mut Env {
            data_dir: paths::data_dir(),
            now_ms: now_ms(),
            stdin: &mut stdin,
            out: &mut out,
            err: &mut err,
        },
    )
}

/// [`main`] with its surroundings given.
pub fn run(args: &[String], env: &mut Env<'_>) -> i32 {
    let result = match args.first().map(String::as_str) {
        Some("watch") => watch(&args[1..], env),
        Some("history") => history(&args[1..], env),
        Some("patient") => patient(&args[1..], env),
        Some("account") => account(&args[1..], env),
        Some("cancel") => cancel(&args[1..], env),
        Some("browse") => browse(&args[1..], env),
        Some(other) => Err(Fail::Usage(format!("unknown command “{other}”"))),
        None => Err(Fail::Usage("no command given".into())),
    };
    match result {
        Ok(()) => 0,
        Err(Fail::Help) => {
            let _ = writeln!(env.out, "{USAGE}");
            0
        }
        Err(Fail::Usage(msg)) => {
            // The synopsis; the options are one `--help` away.
            let synopsis = USAGE.split("\n\n").next().unwrap_or(USAGE);
            let _ = writeln!(
                env.err,
                "haoyuan-host: {msg}\n\n{synopsis}\n\n(see `haoyuan-host watch --help` for the options)"
            );
            2
        }
        Err(Fail::Invalid(what, problems)) => {
            let _ = writeln!(env.err, "haoyuan-host: the {what} was not saved:");
            for p in problems {
                let _ = writeln!(env.err, "  {}: {}", p.field, p.message);
            }
            2
        }
        Err(Fail::Input(msg)) => {
            let _ = writeln!(env.err, "haoyuan-host: {msg}");
            2
        }
        Err(Fail::Failed(msg)) => {
            let _ = writeln!(env.err, "haoyuan-host: {msg}");
            1
        }
    }
}

/// Why a command did not do its work.
#[derive(Debug)]
enum Fail {
    /// `--help` was asked for (exit 0).
    Help,
    /// Wrong flags or arguments (exit 2, with the usage).
    Usage(String),
    /// The watch or patient (the first) fails validation (exit 2).
    Invalid(&'static str, Vec<FieldError>),
    /// The watch's JSON cannot be read (exit 2).
    Input(String),
    /// No such watch, or the database cannot be used (exit 1).
    Failed(String),
}

impl From<ErrorBody> for Fail {
    /// A host call's refusal: bad input exits 2, the rest 1.
    fn from(e: ErrorBody) -> Fail {
        match e.code {
            ErrorCode::InvalidPatient => Fail::Invalid("patient", e.fields),
            ErrorCode::InvalidWatch => Fail::Invalid("watch", e.fields),
            ErrorCode::BadParams => Fail::Input(e.message),
            _ => Fail::Failed(e.message),
        }
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        logging::error(&format!("command line: store error {:?}", e.code));
        Fail::Failed(e.message)
    }
}

fn watch(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    match args.first().map(String::as_str) {
        Some("add") => watch_add(&args[1..], env),
        Some("list" | "ls") => watch_list(&args[1..], env),
        Some(verb @ ("rm" | "delete" | "pause" | "resume")) => watch_change(verb, &args[1..], env),
        Some("--help" | "-h" | "help") => Err(Fail::Help),
        Some(other) => Err(Fail::Usage(format!(
            "“watch {other}” is not a command: use watch add, list, pause, resume or rm"
        ))),
        None => Err(Fail::Usage(
            "say what to do: watch add, list, pause, resume or rm".into(),
        )),
    }
}

/// The command line of one command, read against the flags it knows.
#[derive(Debug, Default)]
struct Parsed {
    /// Flags with a value, in order (a repeatable flag may appear more than once).
    values: Vec<(&'static str, String)>,
    /// Flags without a value.
    switches: Vec<&'static str>,
    /// Everything else.
    positional: Vec<String>,
}

impl Parsed {
    fn value(&self, flag: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, flag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values
            .iter()
            .filter(move |(f, _)| *f == flag)
            .map(|(_, v)| v.as_str())
    }

    fn switch(&self, flag: &str) -> bool {
        self.switches.contains(&flag)
    }

    /// At most `max` positional arguments.
    fn at_most(&self, max: usize, what: &str) -> Result<(), Fail> {
        match self.positional.get(max) {
            Some(extra) => Err(Fail::Usage(format!(
                "unexpected argument “{extra}” ({what})"
            ))),
            None => Ok(()),
        }
    }
}

/// Reads `args`: `--flag VALUE` or `--flag=VALUE` for `with_value`, `--flag` for
/// `switches`; only the flags of `repeatable` may be given twice; `--` ends the flags.
fn parse(
    args: &[String],
    with_value: &[&'static str],
    switches: &[&'static str],
    repeatable: &[&'static str],
) -> Result<Parsed, Fail> {
    let mut parsed = Parsed::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positional.extend(rest.cloned());
            break;
        }
        if arg == "--help" || arg == "-h" {
            return Err(Fail::Help);
        }
        if !arg.starts_with('-') || arg == "-" {
            parsed.positional.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if let Some(flag) = with_value.iter().copied().find(|f| *f == name) {
            let value = match inline {
                Some(v) => v,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| Fail::Usage(format!("{flag} needs a value")))?,
            };
            if !repeatable.contains(&flag) && parsed.value(flag).is_some() {
                return Err(Fail::Usage(format!("{flag} is given twice")));
            }
            parsed.values.push((flag, value));
        } else if let Some(flag) = switches.iter().copied().find(|f| *f == name) {
            if inline.is_some() {
                return Err(Fail::Usage(format!("{flag} takes no value")));
            }
            if !parsed.switch(flag) {
                parsed.switches.push(flag);
            }
        } else {
            return Err(Fail::Usage(format!("unknown option “{name}”")));
        }
    }
    Ok(parsed)
}

/// The flags of `watch add` that take a value.
const ADD_VALUES: [&str; 20] = [
    "--json",
    "--label",
    "--from",
    "--to",
    "--from-name",
    "--to-name",
    "--start",
    "--end",
    "--dates",
    "--trains",
    "--exclude",
    "--seats",
    "--after",
    "--before",
    "--account",
    "--passengers",
    "--more-pair",
    "--mode",
    "--interval",
    "--jitter",
];
/// The flags of `watch add` without a value.
const ADD_SWITCHES: [&str; 2] = ["--allow-fewer", "--no-sale-burst"];

fn watch_add(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &ADD_VALUES, &ADD_SWITCHES, &["--more-pair"])?;
    p.at_most(0, "watch add takes only options")?;
    let now = env.now_ms;
    let today = Date::from_unix_ms(now, CHINA_OFFSET_MINUTES);
    let (watch, mut problems) = match p.value("--json") {
        Some(source) => {
            if p.values.len() > 1 || !p.switches.is_empty() {
                return Err(Fail::Usage(
                    "--json takes the whole watch: put the other settings inside it".into(),
                ));
            }
            let text = read_source(source, env)?;
            let watch: Watch = serde_json::from_str(&text)
                .map_err(|e| Fail::Input(format!("the watch JSON does not read: {e}")))?;
            (watch, Vec::new())
        }
        None => rail_watch(&p, today)?,
    };
    // Problems found while reading the flags come first; validation does not repeat
    // them (it saw a stand-in for the unreadable value).
    let mut checked = watch.validate(today);
    checked.retain(|c| !problems.iter().any(|f| same_area(&f.field, &c.field)));
    problems.extend(checked);
    if !problems.is_empty() {
        return Err(Fail::Invalid("watch", problems));
    }
    let mut store = open_store(env, "watch add")?;
    let (stored, entry) = store.put_watch(watch, now)?;
    let _ = writeln!(env.out, "{}  {}", stored.id, stored.target.summary());
    if entry.kind == "updated" {
        let _ = writeln!(env.err, "(an existing watch with this id was replaced)");
    }
    Ok(())
}

/// Whether a validation problem of `checked` is about what `flagged` already reported.
fn same_area(flagged: &str, checked: &str) -> bool {
    let area = |f: &str| {
        if f.starts_with("window.") {
            "window".to_string()
        } else {
            f.to_string()
        }
    };
    area(flagged) == area(checked)
}

/// The text of `--json SOURCE`: a file, or stdin for `-` (at most 1 MiB).
fn read_source(source: &str, env: &mut Env<'_>) -> Result<String, Fail> {
    const MAX: u64 = 1 << 20;
    let mut text = String::new();
    let read = if source == "-" {
        env.stdin.take(MAX + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(source).and_then(|f| f.take(MAX + 1).read_to_string(&mut text))
    };
    let name = if source == "-" { "stdin" } else { source };
    read.map_err(|e| Fail::Input(format!("cannot read the watch from {name}: {e}")))?;
    if text.len() as u64 > MAX {
        return Err(Fail::Input(format!(
            "the watch in {name} is larger than 1 MiB"
        )));
    }
    Ok(text)
}

/// A comma-separated list (`,` or `，`), entries trimmed; blank: no entries.
fn list(value: Option<&str>) -> Vec<String> {
    match value.map(str::trim) {
        None | Some("") => Vec::new(),
        Some(v) => v.split([',', '，']).map(|s| s.trim().to_string()).collect(),
    }
}

fn problem(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.to_string(),
        message,
    }
}

/// The 12306 watch of `watch add`'s flags, built as JSON and read as a [`Watch`] so the
/// same rules apply as to one from the browser, with the problems found in the flags
/// themselves (a stand-in value is used for each).
fn rail_watch(p: &Parsed, today: Date) -> Result<(Watch, Vec<FieldError>), Fail> {
    let missing: Vec<&str> = ["--from", "--to", "--end"]
        .into_iter()
        .filter(|f| p.value(f).is_none())
        .collect();
    if !missing.is_empty() {
        let names = match missing.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        return Err(Fail::Usage(format!(
            "watch add needs {names} (or --json FILE)"
        )));
    }
    let text = |flag: &str| p.value(flag).map(str::trim).unwrap_or("").to_string();
    let mut problems = Vec::new();

    let mut date = |flag: &str, field: &str| -> Option<Date> {
        let v = p.value(flag)?.trim();
        match Date::parse(v) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(problem(field, format!("“{v}” is not a date (YYYY-MM-DD)")));
                None
            }
        }
    };
    let start = match p.value("--start") {
        None => Some(today),
        Some(_) => date("--start", "window.start"),
    };
    let end = date("--end", "window.end");
    let dates = list(p.value("--dates"));
    // A stand-in for an unreadable date spans everything else, so that nothing else is
    // reported as outside the window because of it.
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (s, e) => {
            let known: Vec<Date> = [Some(today), s, e]
                .into_iter()
                .flatten()
                .chain(dates.iter().filter_map(|d| Date::parse(d).ok()))
                .collect();
            let lo = known.iter().copied().min().unwrap_or(today);
            let hi = known.iter().copied().max().unwrap_or(today);
            (s.unwrap_or(lo), e.unwrap_or(hi))
        }
    };

    let mode = match p.value("--mode").map(str::trim) {
        None | Some("notify") => Mode::Notify,
        Some("book") => Mode::Book,
        Some(other) => {
            problems.push(problem(
                "mode",
                format!("“{other}” is not a mode: notify or book"),
            ));
            Mode::Notify
        }
    };
    let mut number = |flag: &str, field: &str, what: &str, default: u64, max: u64| -> u64 {
        match p.value(flag).map(str::trim) {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) => n.min(max),
                Err(_) => {
                    problems.push(problem(field, format!("“{v}” is not {what}")));
                    default
                }
            },
        }
    };
    let seconds = number(
        "--interval",
        "interval.seconds",
        "a whole number of seconds",
        30,
        u64::from(u32::MAX),
    );
    let jitter = number(
        "--jitter",
        "interval.jitter_pct",
        "a whole percentage",
        20,
        u64::from(u8::MAX),
    );

    let mut more_pairs = Vec::new();
    for (i, pair) in p.all("--more-pair").enumerate() {
        match pair.trim().split_once(':') {
            Some((from, to)) => more_pairs.push(json!({"from": from.trim(), "to": to.trim()})),
            None => problems.push(problem(
                &format!("target.more_pairs[{i}]"),
                format!("“{pair}” is not two station telecodes as FROM:TO"),
            )),
        }
    }

    let value = json!({
        "label": text("--label"),
        "target": {
            "platform": "12306",
            "from_station": text("--from"),
            "to_station": text("--to"),
            "from_name": text("--from-name"),
            "to_name": text("--to-name"),
            "trains": list(p.value("--trains")),
            "seat_types": list(p.value("--seats")),
            "more_pairs": more_pairs,
            "dates": dates,
            "exclude_trains": list(p.value("--exclude")),
            "depart_after": text("--after"),
            "depart_before": text("--before"),
            "account": text("--account"),
            "passengers": list(p.value("--passengers")),
            "allow_fewer": p.switch("--allow-fewer"),
            "sale_burst": !p.switch("--no-sale-burst"),
        },
        "window": {"start": start.to_string(), "end": end.to_string()},
        "mode": mode,
        "interval": {"seconds": seconds, "jitter_pct": jitter},
    });
    let watch = serde_json::from_value(value)
        .map_err(|e| Fail::Input(format!("the watch cannot be built from the flags: {e}")))?;
    Ok((watch, problems))
}

/// Opens the store of the data directory, logging the command (never its arguments).
fn open_store(env: &Env<'_>, command: &str) -> Result<Store, Fail> {
    let dir = env.data_dir.clone().map_err(Fail::Failed)?;
    logging::init(&dir);
    logging::info(&format!("command line: {command}"));
    Ok(Store::open(&paths::database_path(&dir))?)
}

fn watch_list(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &[], &["--json"], &[])?;
    p.at_most(0, "watch list takes only --json")?;
    let store = open_store(env, "watch list")?;
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let page = store.list_watches(after.as_deref(), MAX_PAGE)?;
        for w in &page.watches {
            count += 1;
            let line = if p.switch("--json") {
                serde_json::to_string(w).unwrap_or_default()
            } else {
                watch_line(w)
            };
            let _ = writeln!(env.out, "{line}");
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if count == 0 && !p.switch("--json") {
        let _ = writeln!(env.err, "(no watches)");
    }
    Ok(())
}

/// One watch as a line: id, target, window, mode, paused, label.
fn watch_line(w: &Watch) -> String {
    let mode = match w.mode {
        Mode::Notify => "notify",
        Mode::Book => "book",
    };
    let state = if w.paused { "paused" } else { "active" };
    let mut line = format!(
        "{}  {}  {}..{}  {mode}  {state}",
        w.id,
        w.target.summary(),
        w.window.start,
        w.window.end
    );
    if !w.label.trim().is_empty() {
        line.push_str(&format!("  “{}”", one_line(w.label.trim())));
    }
    line
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn not_found(id: &str) -> Fail {
    Fail::Failed(format!(
        "there is no watch “{id}” (it may have been deleted)"
    ))
}

/// `watch rm|pause|resume ID`.
fn watch_change(verb: &str, args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &[], &[], &[])?;
    p.at_most(1, &format!("watch {verb} takes one watch id"))?;
    let Some(id) = p.positional.first() else {
        return Err(Fail::Usage(format!("watch {verb} needs the watch's id")));
    };
    let now = env.now_ms;
    let mut store = open_store(env, &format!("watch {verb}"))?;
    match verb {
        "rm" | "delete" => match store.delete_watch(id, now)? {
            Some(_) => {
                let _ = writeln!(env.out, "deleted {id}");
                Ok(())
            }
            None => Err(not_found(id)),
        },
        _ => {
            let paused = verb == "pause";
            match store.set_paused(id, paused, now)? {
                Some((w, _)) => {
                    let done = if paused { "paused" } else { "resumed" };
                    let _ = writeln!(env.out, "{done} {id}  {}", w.target.summary());
                    Ok(())
                }
                None => Err(not_found(id)),
            }
        }
    }
}

/// `history [ID] [--limit N] [--json]`.
fn history(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &["--limit"], &["--json"], &[])?;
    p.at_most(1, "history takes at most one watch id")?;
    let limit = match p.value("--limit") {
        None => DEFAULT_PAGE as usize,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(Fail::Usage(format!(
                    "--limit takes a whole number from 1, not “{v}”"
                )))
            }
        },
    };
    let id = p.positional.first().map(String::as_str);
    let store = open_store(env, "history")?;
    let mut events: Vec<HistoryEntry> = Vec::new();
    let mut before = None;
    while events.len() < limit {
        let want = (limit - events.len()).min(MAX_PAGE as usize) as u32;
        let page = match id {
            Some(id) => store.history(id, before, want)?,
            None => store.history_all(before, want)?,
        };
        events.extend(page.events);
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    if let Some(id) = id {
        if events.is_empty() && store.get_watch(id)?.is_none() {
            return Err(not_found(id));
        }
    }
    for e in &events {
        let line = if p.switch("--json") {
            serde_json::to_string(e).unwrap_or_default()
        } else {
            format!(
                "{}  {}  {}  {}",
                china_time(e.at),
                e.watch_id,
                e.kind,
                one_line(&e.message)
            )
        };
        let _ = writeln!(env.out, "{line}");
    }
    if events.is_empty() && !p.switch("--json") {
        let _ = writeln!(env.err, "(no history yet)");
    }
    Ok(())
}

/// The host of the data directory (as the browser's, with this command's clock),
/// logging the command (never its arguments).
fn open_host(env: &Env<'_>, command: &str) -> Result<Host, Fail> {
    let dir = env.data_dir.clone().map_err(Fail::Failed)?;
    logging::init(&dir);
    logging::info(&format!("command line: {command}"));
    let now = env.now_ms;
    Ok(Host::with_clock(&dir, Box::new(move || now)))
}

fn patient(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    match args.first().map(String::as_str) {
        Some("add") => patient_add(&args[1..], env),
        Some("list" | "ls") => patient_list(&args[1..], env),
        Some("rm" | "delete") => {
            let p = parse(&args[1..], &[], &[], &[])?;
            p.at_most(1, "patient rm takes one id")?;
            let id = p
                .positional
                .first()
                .ok_or_else(|| Fail::Usage("patient rm needs the patient's id".into()))?;
            let deleted = open_host(env, "patient rm")?.patient_delete(id.clone())?;
            let _ = writeln!(env.out, "deleted {}", deleted.id);
            Ok(())
        }
        Some("--help" | "-h" | "help") => Err(Fail::Help),
        Some(other) => Err(Fail::Usage(format!(
            "“patient {other}” is not a command: use patient add, list or rm"
        ))),
        None => Err(Fail::Usage(
            "say what to do: patient add, list or rm".into(),
        )),
    }
}

/// The flags of `patient add` that take a value.
const PATIENT_VALUES: [&str; 12] = [
    "--json",
    "--name",
    "--id-type",
    "--id",
    "--birthday",
    "--sex",
    "--phone",
    "--address",
    "--card-no",
    "--clinic-no",
    "--guardian-json",
    "--replace",
];

fn patient_add(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &PATIENT_VALUES, &[], &[])?;
    p.at_most(0, "patient add takes only options")?;
    let now = env.now_ms;
    let today = Date::from_unix_ms(now, CHINA_OFFSET_MINUTES);
    let (patient, mut problems) = match p.value("--json") {
        Some(source) => {
            if p.values.len() > 1 {
                return Err(Fail::Usage(
                    "--json takes the whole patient: put the other settings inside it".into(),
                ));
            }
            let text = read_source(source, env)?;
            let patient: Patient = serde_json::from_str(&text)
                .map_err(|e| Fail::Input(format!("the patient JSON does not read: {e}")))?;
            (patient, Vec::new())
        }
        None => patient_from_flags(&p, today, env)?,
    };
    let mut checked = crate::dispatch::tidy_patient(patient.clone()).validate(today);
    checked.retain(|c| !problems.iter().any(|f| f.field == c.field));
    problems.extend(checked);
    if !problems.is_empty() {
        return Err(Fail::Invalid("patient", problems));
    }
    let saved = open_host(env, "patient add")?.patient_put(patient, now)?;
    let _ = writeln!(env.out, "{}", patient_line(&saved.patient));
    Ok(())
}

/// The patient of `patient add`'s flags, with the problems found in the flags
/// themselves (a stand-in value is used for each).
fn patient_from_flags(
    p: &Parsed,
    today: Date,
    env: &mut Env<'_>,
) -> Result<(Patient, Vec<FieldError>), Fail> {
    let missing: Vec<&str> = ["--name", "--id", "--birthday", "--sex", "--phone"]
        .into_iter()
        .filter(|f| p.value(f).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Fail::Usage(format!(
            "patient add needs {} (or --json FILE)",
            missing.join(", ")
        )));
    }
    let text = |flag: &str| p.value(flag).map(str::trim).unwrap_or("").to_string();
    let mut problems = Vec::new();
    let birthday = match Date::parse(&text("--birthday")) {
        Ok(d) => d,
        Err(_) => {
            problems.push(problem(
                "birthday",
                format!("“{}” is not a date (YYYY-MM-DD)", text("--birthday")),
            ));
            today
        }
    };
    let sex = match text("--sex").to_ascii_lowercase().as_str() {
        "male" | "m" | "男" => "male",
        "female" | "f" | "女" => "female",
        other => {
            problems.push(problem(
                "sex",
                format!("“{other}” is not a sex: male or female"),
            ));
            "male"
        }
    };
    let id_type = match p.value("--id-type").map(str::trim) {
        None | Some("") => "resident_id".to_string(),
        Some(t) => match serde_json::from_value::<haoyuan_core::patient::IdType>(json!(t)) {
            Ok(_) => t.to_string(),
            Err(_) => {
                problems.push(problem(
                    "id_type",
                    format!(
                        "“{t}” is not a kind of document: resident_id, passport, \
                         hk_macau_permit, taiwan_permit or other"
                    ),
                ));
                "resident_id".to_string()
            }
        },
    };
    let guardian: Option<Guardian> = match p.value("--guardian-json") {
        None => None,
        Some(source) => {
            let text = read_source(source, env)?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| Fail::Input(format!("the guardian JSON does not read: {e}")))?,
            )
        }
    };
    let value = json!({
        "id": text("--replace"),
        "name": text("--name"),
        "id_type": id_type,
        "id_number": text("--id"),
        "birthday": birthday.to_string(),
        "sex": sex,
        "phone": text("--phone"),
        "address": text("--address"),
        "card_no": text("--card-no"),
        "clinic_no": text("--clinic-no"),
        "guardian": guardian,
    });
    let patient = serde_json::from_value(value)
        .map_err(|e| Fail::Input(format!("the patient cannot be built from the flags: {e}")))?;
    Ok((patient, problems))
}

/// One patient as a line, masked: id, name, document, birth year, sex, phone.
fn patient_line(v: &PatientView) -> String {
    let id_type = serde_json::to_value(v.id_type)
        .ok()
        .and_then(|t| t.as_str().map(str::to_string))
        .unwrap_or_default();
    let sex = match v.sex {
        haoyuan_core::patient::Sex::Male => "male",
        haoyuan_core::patient::Sex::Female => "female",
    };
    let mut line = format!(
        "{}  {}  {id_type} {}  born {}  {sex}  {}",
        v.id,
        one_line(&v.name),
        v.id_number,
        v.birth_year,
        v.phone
    );
    if !v.card_no.is_empty() {
        line.push_str(&format!("  card {}", v.card_no));
    }
    if let Some(g) = &v.guardian_name {
        line.push_str(&format!("  guardian {}", one_line(g)));
    }
    line
}

fn patient_list(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &[], &["--json"], &[])?;
    p.at_most(0, "patient list takes only --json")?;
    let book = open_host(env, "patient list")?.patient_list()?;
    for v in &book.patients {
        let line = if p.switch("--json") {
            serde_json::to_string(v).unwrap_or_default()
        } else {
            patient_line(v)
        };
        let _ = writeln!(env.out, "{line}");
    }
    if book.patients.is_empty() && !p.switch("--json") {
        let _ = writeln!(env.err, "(no patients)");
    }
    Ok(())
}

fn account(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    match args.first().map(String::as_str) {
        Some("add") => account_add(&args[1..], env),
        Some("list" | "ls") => {
            let p = parse(&args[1..], &["--platform"], &["--json"], &[])?;
            p.at_most(0, "account list takes only --platform and --json")?;
            let list = open_host(env, "account list")?.site_accounts(p.value("--platform"))?;
            for a in &list.accounts {
                let line = if p.switch("--json") {
                    serde_json::to_string(a).unwrap_or_default()
                } else {
                    let mut line = format!(
                        "{}  {}  {}  {}",
                        a.platform,
                        one_line(&a.account),
                        if a.has_secret {
                            "secret stored"
                        } else {
                            "no secret"
                        },
                        if a.signed_in {
                            "signed in"
                        } else {
                            "not signed in"
                        },
                    );
                    if !a.base_url.is_empty() {
                        line.push_str(&format!("  {}", a.base_url));
                    }
                    line
                };
                let _ = writeln!(env.out, "{line}");
            }
            if list.accounts.is_empty() && !p.switch("--json") {
                let _ = writeln!(env.err, "(no accounts)");
            }
            Ok(())
        }
        Some("rm" | "delete") => {
            let p = parse(&args[1..], &[], &[], &[])?;
            p.at_most(2, "account rm takes a platform and an account")?;
            let [platform, name] = p.positional.as_slice() else {
                return Err(Fail::Usage(
                    "account rm needs the platform and the account, e.g. account rm 91160 me"
                        .into(),
                ));
            };
            let gone = open_host(env, "account rm")?.site_account_delete(platform, name)?;
            let _ = writeln!(
                env.out,
                "deleted {} account {}",
                gone.platform, gone.account
            );
            Ok(())
        }
        Some("--help" | "-h" | "help") => Err(Fail::Help),
        Some(other) => Err(Fail::Usage(format!(
            "“account {other}” is not a command: use account add, list or rm"
        ))),
        None => Err(Fail::Usage(
            "say what to do: account add, list or rm".into(),
        )),
    }
}

/// `account add 91160 NAME` / `account add pati PHONE --base URL`, the secret on stdin.
fn account_add(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &["--base"], &[], &[])?;
    p.at_most(2, "account add takes a platform and an account")?;
    let [platform, name] = p.positional.as_slice() else {
        return Err(Fail::Usage(
            "account add needs the platform and the account, e.g. account add 91160 me".into(),
        ));
    };
    let key = match platform.as_str() {
        "91160" => "app_token",
        "pati" => "password",
        other => {
            return Err(Fail::Usage(format!(
                "“{other}” is not a site with stored accounts: 91160 or pati"
            )))
        }
    };
    let mut secret = String::new();
    env.stdin
        .take(4097)
        .read_to_string(&mut secret)
        .map_err(|e| Fail::Input(format!("cannot read the {key} from stdin: {e}")))?;
    // One line: the line break that ends it is not part of the secret.
    let secret = secret.lines().next().unwrap_or("");
    let secret = if key == "app_token" {
        secret.trim()
    } else {
        secret
    };
    if secret.len() > 4096 {
        return Err(Fail::Input(format!("the {key} on stdin is too long")));
    }
    let secret = if secret.trim().is_empty() {
        // Nothing typed: keep the stored one (a new account then has none).
        serde_json::Value::Null
    } else {
        json!({ key: secret })
    };
    let base = p.value("--base").unwrap_or("");
    let now = env.now_ms;
    let saved =
        open_host(env, "account add")?.site_account_put(platform, name, base, &secret, now)?;
    let a = saved.account;
    let _ = writeln!(
        env.out,
        "{} account {} saved ({})",
        a.platform,
        a.account,
        if a.has_secret {
            "secret stored"
        } else {
            "no secret: give it on stdin"
        }
    );
    Ok(())
}

/// `cancel WATCH_ID --reason TEXT`: `booking_cancel`.
/// `browse PLATFORM ACCOUNT WHAT`: a picker's list, a line each (`id  name  detail`).
fn browse(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(
        args,
        &["--unit", "--dep", "--dept"],
        &["--refresh", "--json"],
        &[],
    )?;
    p.at_most(3, "browse takes a platform, an account and a list")?;
    let [platform, account, what] = p.positional.as_slice() else {
        return Err(Fail::Usage(
            "browse needs the platform, the account and the list, e.g. browse 91160 default units"
                .into(),
        ));
    };
    let mut parent = serde_json::Map::new();
    for (flag, key) in [
        ("--unit", "unit_id"),
        ("--dep", "dep_id"),
        ("--dept", "dept_id"),
    ] {
        if let Some(v) = p.value(flag) {
            parent.insert(key.into(), json!(v));
        }
    }
    let mut host = open_host(env, "browse")?;
    let handled = host.handle(haoyuan_core::protocol::Request::SiteBrowse {
        platform: platform.clone(),
        account: account.clone(),
        what: what.clone(),
        parent: serde_json::Value::Object(parent),
        refresh: p.switch("--refresh"),
    });
    let list = handled.result?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    for item in &items {
        let line = if p.switch("--json") {
            item.to_string()
        } else {
            let text = |k: &str| match &item[k] {
                serde_json::Value::String(s) => one_line(s),
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            };
            let mut line = format!("{}  {}", text("id"), text("name"));
            if !text("detail").is_empty() {
                line.push_str(&format!("  {}", text("detail")));
            }
            if !text("open_time").is_empty() {
                line.push_str(&format!(
                    "  opens {} for {} days",
                    text("open_time"),
                    text("cycle_days")
                ));
            }
            line
        };
        let _ = writeln!(env.out, "{line}");
    }
    if items.is_empty() && !p.switch("--json") {
        let _ = writeln!(env.err, "(nothing listed)");
    }
    Ok(())
}

fn cancel(args: &[String], env: &mut Env<'_>) -> Result<(), Fail> {
    let p = parse(args, &["--reason"], &[], &[])?;
    p.at_most(1, "cancel takes one watch id")?;
    let Some(watch_id) = p.positional.first() else {
        return Err(Fail::Usage(
            "cancel needs the watch's id and --reason".into(),
        ));
    };
    let reason = p.value("--reason").map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(Fail::Usage(
            "cancel needs --reason (the site asks why)".into(),
        ));
    }
    let done = open_host(env, "cancel")?.booking_cancel(watch_id, reason)?;
    let message = done
        .get("message")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("the order of watch {watch_id} was cancelled"));
    let _ = writeln!(env.out, "{}", one_line(&message));
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` in China (UTC+8) of a Unix time in milliseconds.
pub fn china_time(ms: i64) -> String {
    let offset_secs = i64::from(CHINA_OFFSET_MINUTES) * 60;
    let date = Date::from_unix_ms(ms, CHINA_OFFSET_MINUTES);
    let secs = (ms.div_euclid(1000) + offset_secs).rem_euclid(86_400);
    format!(
        "{date} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn today() -> Date {
        Date::parse("2026-11-27").unwrap()
    }

    #[test]
    fn flags_take_values_both_ways_and_refuse_the_unknown() {
        let p = parse(
            &args(&["--from=VNP", "--to", "AOH", "--allow-fewer", "x"]),
            &["--from", "--to"],
            &["--allow-fewer"],
            &[],
        )
        .unwrap();
        assert_eq!(p.value("--from"), Some("VNP"));
        assert_eq!(p.value("--to"), Some("AOH"));
        assert!(p.switch("--allow-fewer"));
        assert_eq!(p.positional, ["x"]);
        for bad in [
            &["--colour", "red"][..],
            &["--from"],
            &["--from", "A", "--from", "B"],
        ] {
            assert!(matches!(
                parse(&args(bad), &["--from"], &[], &[]),
                Err(Fail::Usage(_))
            ));
        }
        assert!(matches!(
            parse(
                &args(&["--more-pair", "A:B", "--help"]),
                &["--more-pair"],
                &[],
                &[]
            ),
            Err(Fail::Help)
        ));
    }

    #[test]
    fn a_rail_watch_is_built_from_flags() {
        let p = parse(
            &args(&[
                "--from",
                "VNP",
                "--to",
                "AOH",
                "--end",
                "2026-12-01",
                "--trains",
                "G1, G3",
                "--seats",
                "O，M",
                "--more-pair",
                "BJP:SHH",
                "--no-sale-burst",
            ]),
            &ADD_VALUES,
            &ADD_SWITCHES,
            &["--more-pair"],
        )
        .unwrap();
        let (w, problems) = rail_watch(&p, today()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(w.validate(today()).is_empty());
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(
            v["window"],
            json!({"start": "2026-11-27", "end": "2026-12-01"})
        );
        assert_eq!(v["target"]["trains"], json!(["G1", "G3"]));
        assert_eq!(v["target"]["seat_types"], json!(["O", "M"]));
        assert_eq!(
            v["target"]["more_pairs"],
            json!([{"from": "BJP", "to": "SHH"}])
        );
        assert_eq!(v["target"]["sale_burst"], json!(false));
        assert_eq!(v["interval"], json!({"seconds": 30, "jitter_pct": 20}));
    }

    #[test]
    fn unreadable_flag_values_are_named_once() {
        let p = parse(
            &args(&[
                "--from",
                "VNP",
                "--to",
                "AOH",
                "--start",
                "2026-13-01",
                "--end",
                "2026-12-01",
                "--interval",
                "soon",
                "--mode",
                "grab",
            ]),
            &ADD_VALUES,
            &ADD_SWITCHES,
            &[],
        )
        .unwrap();
        let (w, mut problems) = rail_watch(&p, today()).unwrap();
        let mut checked = w.validate(today());
        checked.retain(|c| !problems.iter().any(|f| same_area(&f.field, &c.field)));
        problems.extend(checked);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["window.start", "mode", "interval.seconds"]);
    }

    #[test]
    fn china_time_is_utc_plus_eight() {
        // 2026-11-27 00:30:05 UTC.
        let ms = 1_795_739_405_000;
        assert_eq!(Date::from_unix_ms(ms, 0).to_string(), "2026-11-27");
        assert_eq!(china_time(ms), "2026-11-27 08:30:05");
    }
}
