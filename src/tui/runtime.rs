//! Terminal setup and restore, the event loop, and the effects that reach the outside world.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::{Instant as TokioInstant, Interval, MissedTickBehavior};

use super::Options;
use super::app::App;
use super::app::msg::{Answer, ApiCall, Cleanup, Effect, Msg, Now, Reply, RequestId, SaveRequest, Work};
use super::clipboard::{Clipboard, ClipboardEnv, CopyError, CopyMethod};
use super::savefile::{self, SaveError};
use super::theme::{Background, Depth, Palette};
use crate::client::ApiClient;
use crate::config::PaletteChoice;
use crate::domain::SecretString;

/// Printed (before the terminal is taken over) when no server address was given.
pub const NO_URL_MESSAGE: &str = "no server address given.\n  \
     Try the app with a local demo server:   usercenter demo\n  \
     Or connect to a platform:               usercenter --api https://platform.example.com\n  \
     (or set USERCENTER_API_URL)";

/// How long quitting waits for the best-effort logout and cancellation.
const QUIT_CLEANUP: Duration = Duration::from_secs(2);

/// What effects send back to the loop: a message, and bytes for the terminal (OSC 52) if any.
struct Delivery {
    msg: Msg,
    terminal_bytes: Vec<u8>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let Some(url) = options.api_url.filter(|u| !u.trim().is_empty()) else {
        anyhow::bail!(NO_URL_MESSAGE);
    };
    let client = ApiClient::new(&url)?;
    let depth = Depth::detect(|name| std::env::var(name).ok())?;
    if depth == Depth::None {
        // The palette adds no colour under NO_COLOR; the QR code's black and white still go out.
        crossterm::style::force_color_output(true);
    }
    // Logs go to the file named by USERCENTER_LOG (RUST_LOG filters), never to the terminal.
    crate::logging::init_app_file()?;
    let palette = Palette { background: background(options.palette), depth };
    let app = App::new(client.base_url(), options.demo)
        .remembering(options.username)
        .with_palette(palette)
        .in_time_zone(jiff::tz::TimeZone::system());
    let config_path = options.config_path;
    let clipboard = Arc::new(Mutex::new(Clipboard::new(ClipboardEnv::from_process())));
    // try_init also installs the panic hook that restores the terminal before the panic message.
    let mut terminal = ratatui::try_init().map_err(|e| anyhow::anyhow!("cannot open the terminal: {e}"))?;
    let mut hung_up = false;
    let outside = Outside { client: &client, clipboard: &clipboard, config_path: config_path.as_deref() };
    let result = event_loop(&mut terminal, app, &outside, &mut hung_up).await;
    if hung_up {
        // The terminal is gone. Restoring it, or dropping the Terminal (which shows the cursor), fails
        // and ratatui reports that with eprintln!, which panics on the dead stderr and then aborts in
        // the panic hook: no logout, no demo cleanup. So leave the terminal alone.
        std::mem::forget(terminal);
    } else {
        ratatui::restore();
    }
    let (cleanup, failure) = result?;
    if let Some(Cleanup { token: Some(token), cancel_enrollment }) = cleanup {
        let work = async {
            if cancel_enrollment {
                let _ = client.cancel_enrollment(&token).await;
            }
            let _ = client.logout(&token).await;
        };
        let _ = tokio::time::timeout(QUIT_CLEANUP, work).await;
    }
    // Said on standard error by main, now that the terminal is restored; the exit status is 1.
    match failure {
        Some(reason) => Err(anyhow::anyhow!(reason)),
        None => Ok(()),
    }
}

/// How long the terminal may take to say its background colour (over SSH too); a terminal that cannot
/// is usually known at once (colorsaurus asks for its attributes in the same breath).
const BACKGROUND_QUERY: Duration = Duration::from_millis(400);

/// The background to draw for: as chosen, or as the terminal says (OSC 11); dark when it cannot say.
fn background(choice: PaletteChoice) -> Background {
    match choice {
        PaletteChoice::Dark => Background::Dark,
        PaletteChoice::Light => Background::Light,
        PaletteChoice::Auto => {
            let mut query = terminal_colorsaurus::QueryOptions::default();
            query.timeout = BACKGROUND_QUERY;
            match terminal_colorsaurus::theme_mode(query) {
                Ok(terminal_colorsaurus::ThemeMode::Light) => Background::Light,
                Ok(terminal_colorsaurus::ThemeMode::Dark) => Background::Dark,
                Err(error) => {
                    tracing::debug!("the terminal did not say its background: {error}");
                    Background::Dark
                }
            }
        }
    }
}

/// Runs until the app quits; returns what to tidy up on the server once the terminal is restored, and
/// why quitting is a failure if it is.
async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut app: App,
    outside: &Outside<'_>,
    hung_up: &mut bool,
) -> anyhow::Result<(Option<Cleanup>, Option<String>)> {
    let debug_panic = debug_panic_requested();
    let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
    let mut events = EventStream::new();
    let mut ticker: Option<(Duration, Interval)> = None;
    let mut terminate = Signals::new()?;
    if let Some(Effect::Run(id, work)) = app.start() {
        spawn_work(id, work, outside.client, outside.clipboard, &tx);
    }
    loop {
        terminal.draw(|frame| frame.render_widget(&app, frame.area()))?;
        if debug_panic {
            panic!("USERCENTER_DEBUG_PANIC=1: deliberate panic after the first draw");
        }
        let wanted = app.tick_interval();
        if wanted != ticker.as_ref().map(|(d, _)| *d) {
            ticker = wanted.map(|d| {
                let mut interval = tokio::time::interval_at(TokioInstant::now() + d, d);
                interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
                (d, interval)
            });
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => Msg::Key(key),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(anyhow::anyhow!("cannot read the terminal: {e}")),
                None => return Ok((None, None)),
            },
            Some(delivery) = rx.recv() => {
                if !delivery.terminal_bytes.is_empty() {
                    let mut out = std::io::stdout();
                    out.write_all(&delivery.terminal_bytes)?;
                    out.flush()?;
                }
                delivery.msg
            },
            _ = async {
                match ticker.as_mut() {
                    Some((_, interval)) => { interval.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => Msg::Tick(now()),
            signal = terminate.recv() => {
                *hung_up = signal == Signal::Hangup;
                Msg::Terminate
            }
        };
        match app.update(msg) {
            Some(Effect::Quit(cleanup)) => {
                tracing::info!("quitting");
                return Ok((Some(cleanup), app.exit_failure()));
            }
            Some(Effect::Run(id, work)) => spawn_work(id, work, outside.client, outside.clipboard, &tx),
            Some(Effect::Suspend) => suspend(terminal)?,
            Some(Effect::RememberUsername(username)) => {
                if let Some(path) = outside.config_path {
                    remember_username(path.to_owned(), username);
                }
            }
            None => {}
        }
    }
}

/// What the effects reach: the API, the session's clipboard, the config file.
struct Outside<'a> {
    client: &'a ApiClient,
    clipboard: &'a Arc<Mutex<Clipboard>>,
    config_path: Option<&'a Path>,
}

/// Ctrl-Z: hands the terminal back to the shell, stops (SIGTSTP, as the shell expects of a job), and
/// once continued (`fg`) takes the terminal again and draws everything anew.
fn suspend(terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    use crossterm::{execute, terminal};
    tracing::info!("suspending");
    terminal.show_cursor()?;
    ratatui::restore();
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    // Here again after SIGCONT (or at once where the shell has no job control).
    terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), terminal::EnterAlternateScreen, terminal::Clear(terminal::ClearType::All))?;
    terminal.hide_cursor()?;
    // The screen is blank now: a blank frame makes ratatui's next draw send every cell again.
    // (Terminal::clear would ask the terminal for the cursor position, which not every one answers.)
    terminal.draw(|frame| frame.render_widget(ratatui::widgets::Clear, frame.area()))?;
    tracing::info!("resumed");
    Ok(())
}

/// Writes the username that signed in to the config file, off the loop. A failure must not disturb
/// the person: it is logged (without the name), and the app goes on.
fn remember_username(path: PathBuf, username: String) {
    tokio::task::spawn_blocking(move || {
        if let Err(error) = crate::config::remember_username(&path, &username) {
            tracing::warn!("cannot remember the username: {error:#}");
        }
    });
}

/// Test hook for the pseudo-terminal test: panic right after the first draw, to prove the panic hook
/// restores the terminal. Compiled into debug builds only.
#[cfg(debug_assertions)]
fn debug_panic_requested() -> bool {
    std::env::var("USERCENTER_DEBUG_PANIC").is_ok_and(|v| v == "1")
}

#[cfg(not(debug_assertions))]
fn debug_panic_requested() -> bool {
    false
}

/// SIGTERM and SIGHUP: quit through the app, so the terminal is restored, the session logged out and
/// a demo's temporary folder removed, instead of dying where we stand.
struct Signals {
    term: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| signal(kind).map_err(|e| anyhow::anyhow!("cannot listen for signals: {e}"));
        Ok(Self { term: listen(SignalKind::terminate())?, hangup: listen(SignalKind::hangup())? })
    }

    async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Terminate,
            _ = self.hangup.recv() => Signal::Hangup,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Terminate,
    Hangup,
}

/// Copies through the session's clipboard; OSC 52 bytes come back for the loop to write.
fn copy(clipboard: &Mutex<Clipboard>, text: &SecretString) -> (Result<CopyMethod, CopyError>, Vec<u8>) {
    let mut bytes = Vec::new();
    let result = match clipboard.lock() {
        Ok(mut clipboard) => clipboard.copy(text.expose(), &mut bytes),
        Err(_) => Err(CopyError::Write("the clipboard is unavailable".into())),
    };
    (result, bytes)
}

/// Expands `~` with `home` and writes the file (atomically, 0600, replacing only when asked).
fn save(request: &SaveRequest, home: Option<&Path>) -> Result<PathBuf, SaveError> {
    savefile::expand_tilde(&request.path_input, home)
        .and_then(|path| savefile::atomic::save(&path, request.contents.expose(), request.overwrite))
}

fn now() -> Now {
    Now { instant: std::time::Instant::now(), wall: OffsetDateTime::now_utc() }
}

/// Runs `work` off the loop; its answer comes back as `Msg::Reply` with `id`.
fn spawn_work(
    id: RequestId,
    work: Work,
    client: &ApiClient,
    clipboard: &Arc<Mutex<Clipboard>>,
    tx: &mpsc::UnboundedSender<Delivery>,
) {
    let tx = tx.clone();
    let send = move |reply: Reply, terminal_bytes: Vec<u8>| {
        let msg = Msg::Reply(Answer { id, now: now(), reply });
        // The loop is gone only when the app quits; nothing is waiting for the answer then.
        let _ = tx.send(Delivery { msg, terminal_bytes });
    };
    // Only the work's name: passwords, tokens and codes never reach the log.
    tracing::debug!(work = work.name(), "running");
    match work {
        Work::Api(call) => {
            let client = client.clone();
            tokio::spawn(async move { send(call_api(&client, call).await, Vec::new()) });
        }
        Work::Copy(text) => {
            let clipboard = Arc::clone(clipboard);
            tokio::task::spawn_blocking(move || {
                let (result, bytes) = copy(&clipboard, &text);
                send(Reply::Copied(result), bytes);
            });
        }
        Work::Save(request) => {
            tokio::task::spawn_blocking(move || {
                let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
                send(Reply::Saved(save(&request, home.as_deref())), Vec::new());
            });
        }
    }
}

/// Every API call the app makes, and the reply it becomes.
async fn call_api(client: &ApiClient, call: ApiCall) -> Reply {
    match call {
        ApiCall::CheckHealth => Reply::Health(client.health().await),
        ApiCall::Login { username, password } => Reply::Login(client.login(&username, &password).await),
        ApiCall::SecondFactor { challenge, input } => {
            Reply::SecondFactor(client.second_factor(&challenge, &input).await)
        }
        ApiCall::LoadMe { token } => Reply::Me(client.me(&token).await),
        ApiCall::Logout { token } => Reply::Logout(client.logout(&token).await),
        ApiCall::StartEnrollment { token, password } => {
            Reply::EnrollmentStarted(client.start_enrollment(&token, &password).await)
        }
        ApiCall::ConfirmEnrollment { token, code } => {
            Reply::Confirmed(client.confirm_enrollment(&token, &code).await)
        }
        ApiCall::CancelEnrollment { token } => {
            Reply::EnrollmentCancelled(client.cancel_enrollment(&token).await)
        }
        ApiCall::RegenerateCodes { token, password } => {
            Reply::Regenerated(client.regenerate_backup_codes(&token, &password).await)
        }
        ApiCall::Disable { token, password } => Reply::Disabled(client.disable(&token, &password).await),
        ApiCall::LoadEvents { token, query } => Reply::Events(client.events(&token, query).await),
        ApiCall::LoadSessions { token } => Reply::Sessions(client.sessions(&token).await),
        ApiCall::RevokeSession { token, id } => {
            Reply::SessionRevoked(client.revoke_session(&token, &id).await)
        }
        ApiCall::RevokeOtherSessions { token } => {
            Reply::OthersRevoked(client.revoke_other_sessions(&token).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn save_expands_the_home_folder_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let request = |contents: &str, overwrite| SaveRequest {
            path_input: "~/codes.txt".into(),
            contents: SecretString::new(contents),
            overwrite,
        };
        let path = save(&request("abcde-fghjk\n", false), Some(dir.path())).expect("saved");
        assert_eq!(path, dir.path().join("codes.txt"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "abcde-fghjk\n");
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = save(&request("new", false), Some(dir.path()));
        assert!(matches!(again, Err(SaveError::Exists(_))), "{again:?}");
        save(&request("new", true), Some(dir.path())).expect("replaced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }

    #[test]
    fn copy_without_a_display_returns_osc52_bytes_for_the_terminal() {
        let env = ClipboardEnv { display: false, ssh: false, tmux: false };
        let clipboard = Mutex::new(Clipboard::new(env));
        let (result, bytes) = copy(&clipboard, &SecretString::new("abc"));
        assert_eq!(result, Ok(CopyMethod::Osc52(crate::tui::clipboard::Osc52Route::Terminal)));
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            crate::tui::clipboard::osc52_sequence("abc", false)
        );
    }
}
