//! One logging scheme for the app and the server: `RUST_LOG` filters both (default `info`); the server
//! logs to standard error as text or JSON lines, the app (which owns the terminal) only to the file
//! named by `USERCENTER_LOG`. Colours only on a terminal, and never when `NO_COLOR` is set.

use std::ffi::OsStr;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// The filter of every log, as tracing's ecosystem spells it: `RUST_LOG=debug`,
/// `RUST_LOG=usercenter=debug,sqlx=warn`.
pub const FILTER_ENV: &str = "RUST_LOG";
/// The app's log file (it cannot log to the terminal it draws on); unset: no log.
pub const APP_LOG_FILE_ENV: &str = "USERCENTER_LOG";
/// The level when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info";

/// How `serve` writes its log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event, for people.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields, span), for a log shipper.
    Json,
}

/// Colours in log lines: only on a terminal, and not when `NO_COLOR` is set to anything but "".
pub fn colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The filter from `RUST_LOG`, or `info`; a value that is not a filter is said once on standard error
/// (naming the fix) rather than silently logging nothing or everything.
fn filter() -> EnvFilter {
    match std::env::var(FILTER_ENV) {
        Err(_) => EnvFilter::new(DEFAULT_FILTER),
        Ok(text) if text.trim().is_empty() => EnvFilter::new(DEFAULT_FILTER),
        Ok(text) => EnvFilter::try_new(&text).unwrap_or_else(|error| {
            let _ = writeln!(
                std::io::stderr(),
                "usercenter: {FILTER_ENV}={text:?} is not a log filter ({error}); logging at \
                 {DEFAULT_FILTER}. Use a level (error, warn, info, debug, trace) or target=level pairs"
            );
            EnvFilter::new(DEFAULT_FILTER)
        }),
    }
}

/// The server's log: standard error, text or JSON. Keeps a subscriber that is already installed (a
/// test harness).
pub fn init_stderr(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => {
            let no_color = std::env::var_os("NO_COLOR");
            builder.with_ansi(colour(std::io::stderr().is_terminal(), no_color.as_deref())).try_init()
        }
        // The span's fields (method, path) with each line; the event's own fields at the top level.
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The app's log: appended to `USERCENTER_LOG` when set, without colours; nothing otherwise.
pub fn init_app_file() -> anyhow::Result<()> {
    let Some(path) = std::env::var_os(APP_LOG_FILE_ENV) else { return Ok(()) };
    let path = Path::new(&path);
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
        anyhow::anyhow!("cannot open the log file {} ({APP_LOG_FILE_ENV}): {e}", path.display())
    })?;
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter())
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None), "not a terminal: a file or a journal");
        assert!(!colour(true, Some(OsStr::new("1"))), "NO_COLOR=1");
        assert!(colour(true, Some(OsStr::new(""))), "an empty NO_COLOR is unset (no-color.org)");
    }
}
