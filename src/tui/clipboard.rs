//! Copying backup codes: the system clipboard (arboard), or the terminal's clipboard with OSC 52.
//!
//! The system clipboard only helps when it is the user's own: a local display, not a session over
//! SSH (where a forwarded X display's clipboard would vanish with the app). Everywhere else the text
//! goes to the terminal emulator as an OSC 52 escape sequence, which the terminal may or may not honour:
//! we cannot see whether it did, so the message never claims it worked.

use std::io::Write;

use base64::Engine;

/// The most base64 bytes we put in one OSC 52 sequence: terminals and tmux cap it somewhere around
/// 75-100 kB (sunaku's widely used yank script stops at 74994). Ten backup codes are about 150 bytes,
/// so this only guards against misuse.
pub const OSC52_MAX_ENCODED: usize = 74_994;

/// What the process environment says about the clipboards within reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClipboardEnv {
    /// DISPLAY or WAYLAND_DISPLAY is set and not empty.
    pub display: bool,
    /// SSH_CONNECTION, SSH_CLIENT or SSH_TTY is set and not empty.
    pub ssh: bool,
    /// TMUX is set and not empty: OSC 52 must pass through tmux.
    pub tmux: bool,
}

impl ClipboardEnv {
    pub fn from_process() -> Self {
        Self::from_vars(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// The detection itself, over any source of environment variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        ClipboardEnv {
            display: set("DISPLAY") || set("WAYLAND_DISPLAY"),
            ssh: set("SSH_CONNECTION") || set("SSH_CLIENT") || set("SSH_TTY"),
            tmux: set("TMUX"),
        }
    }

    /// Whether the system clipboard is the user's: a display, and not over SSH.
    pub fn use_system_clipboard(&self) -> bool {
        self.display && !self.ssh
    }
}

/// How a copy was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyMethod {
    /// Set on the system clipboard and read back: it is there.
    SystemClipboard,
    /// Written to the terminal as OSC 52; nobody confirms it arrived.
    Osc52(Osc52Route),
}

/// Which way an OSC 52 sequence went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Osc52Route {
    /// Straight to the terminal emulator.
    Terminal,
    /// Through tmux (plain and wrapped for passthrough); tmux's options decide whether it passes.
    Tmux(TmuxClipboard),
}

/// What tmux's options say about OSC 52 from a program in one of its panes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TmuxClipboard {
    /// `set-clipboard on` or `allow-passthrough on`: tmux passes the copy on.
    Open,
    /// Both off (tmux's defaults: `set-clipboard external`, `allow-passthrough off`): tmux drops it.
    Closed,
    /// tmux could not be asked.
    Unknown,
}

impl TmuxClipboard {
    /// Reads `#{set-clipboard}|#{allow-passthrough}` as `tmux display-message -p` prints it.
    pub fn from_options(printed: &str) -> Self {
        let Some((set_clipboard, passthrough)) = printed.trim().split_once('|') else {
            return TmuxClipboard::Unknown;
        };
        let (set_clipboard, passthrough) = (set_clipboard.trim(), passthrough.trim());
        if set_clipboard.is_empty() && passthrough.is_empty() {
            return TmuxClipboard::Unknown;
        }
        // set-clipboard "external" only lets tmux itself set the outer clipboard, not a program.
        let open = set_clipboard == "on" || !matches!(passthrough, "" | "0" | "off");
        if open { TmuxClipboard::Open } else { TmuxClipboard::Closed }
    }

    /// Asks the tmux server this process runs under (bounded by tmux itself: a local socket).
    pub fn query() -> Self {
        let mut command = std::process::Command::new("tmux");
        command.args(["display-message", "-p"]);
        if let Some(pane) = std::env::var_os("TMUX_PANE").filter(|p| !p.is_empty()) {
            command.arg("-t").arg(pane);
        }
        command.arg("#{set-clipboard}|#{allow-passthrough}");
        match command.stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).output() {
            Ok(output) if output.status.success() => {
                Self::from_options(&String::from_utf8_lossy(&output.stdout))
            }
            Ok(_) | Err(_) => TmuxClipboard::Unknown,
        }
    }
}

/// How to turn tmux's clipboard on, for the message that says it is off.
pub const TMUX_HOW_TO: &str = "tmux set -g set-clipboard on";

impl CopyMethod {
    /// Whether the codes are known to be on the clipboard: only a copy that was read back.
    pub fn is_confirmed(&self) -> bool {
        matches!(self, CopyMethod::SystemClipboard)
    }

    /// Whether the copy can have worked at all (tmux says it drops OSC 52 here).
    pub fn may_have_worked(&self) -> bool {
        !matches!(self, CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Closed)))
    }

    /// What to tell the user: only what we saw.
    pub fn describe(&self) -> String {
        const NOT_CONFIRMED: &str = "(not confirmed: paste to check)";
        match self {
            CopyMethod::SystemClipboard => "Copied to the clipboard (read back to check).".to_owned(),
            CopyMethod::Osc52(Osc52Route::Terminal) => format!("Sent to your terminal {NOT_CONFIRMED}."),
            CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Open)) => {
                format!("Sent to your terminal through tmux {NOT_CONFIRMED}.")
            }
            CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Unknown)) => format!(
                "Sent to your terminal through tmux {NOT_CONFIRMED}; tmux passes it on only with \
                 set-clipboard or allow-passthrough on."
            ),
            CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Closed)) => format!(
                "The copy cannot work in this tmux: its set-clipboard and allow-passthrough options are \
                 off. Turn one on ({TMUX_HOW_TO}) and copy again, or save to a file."
            ),
        }
    }
}

/// Why nothing was copied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the text is too long to send to the terminal's clipboard ({encoded} bytes encoded, at most {max}); \
         save it to a file instead"
    )]
    TooLong { encoded: usize, max: usize },
    #[error("cannot send the text to the terminal's clipboard: {0}; save it to a file instead")]
    Write(String),
}

/// The clipboard for the whole session. On X11 the copied text lives in this process (the selection
/// owner) and is gone when the arboard handle drops, so keep one `Clipboard` as long as the app runs.
pub struct Clipboard {
    env: ClipboardEnv,
    system: Option<arboard::Clipboard>,
    /// Asks tmux whether it passes OSC 52 on (replaced in tests).
    tmux_query: fn() -> TmuxClipboard,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard").field("env", &self.env).field("system", &self.system.is_some()).finish()
    }
}

impl Clipboard {
    /// Cheap: the system clipboard is opened on the first copy that wants it.
    pub fn new(env: ClipboardEnv) -> Self {
        Clipboard { env, system: None, tmux_query: TmuxClipboard::query }
    }

    /// As [`Clipboard::new`], with tmux's answer given rather than asked.
    pub fn with_tmux_query(env: ClipboardEnv, tmux_query: fn() -> TmuxClipboard) -> Self {
        Clipboard { env, system: None, tmux_query }
    }

    /// Copies `text`. Blocking: on X11 a few short round trips to the server.
    ///
    /// With a local display, sets the system clipboard and reads it back; only a matching read counts.
    /// Otherwise, or when that fails, writes the OSC 52 sequence into `terminal` (the caller passes a
    /// buffer and writes it to the tty between draws) and says so. Inside tmux that is the plain
    /// sequence followed by the passthrough-wrapped one: tmux's `set-clipboard on` takes the first,
    /// `allow-passthrough on` the second; tmux is asked which of them it lets through.
    pub fn copy(&mut self, text: &str, terminal: &mut dyn Write) -> Result<CopyMethod, CopyError> {
        if self.env.use_system_clipboard() && self.copy_to_system(text) {
            return Ok(CopyMethod::SystemClipboard);
        }
        let encoded = base64::encoded_len(text.len(), true).unwrap_or(usize::MAX);
        if encoded > OSC52_MAX_ENCODED {
            return Err(CopyError::TooLong { encoded, max: OSC52_MAX_ENCODED });
        }
        let tmux = self.env.tmux;
        let mut sequence = osc52_sequence(text, false);
        if tmux {
            // tmux drops both by default: the plain sequence works with `set-clipboard on` (tmux keeps a
            // paste buffer and forwards it), the wrapped one with `allow-passthrough on`. Either may be
            // set, so send both; a terminal that gets both just sets the same text twice.
            sequence.push_str(&osc52_sequence(text, true));
        }
        terminal
            .write_all(sequence.as_bytes())
            .and_then(|()| terminal.flush())
            .map_err(|e| CopyError::Write(e.to_string()))?;
        let route = if tmux { Osc52Route::Tmux((self.tmux_query)()) } else { Osc52Route::Terminal };
        Ok(CopyMethod::Osc52(route))
    }

    /// Sets and verifies the system clipboard; false on any failure (the caller falls back to OSC 52).
    fn copy_to_system(&mut self, text: &str) -> bool {
        if self.system.is_none() {
            // Without a reachable display this fails at once; retried on the next copy.
            self.system = arboard::Clipboard::new().ok();
        }
        let Some(system) = self.system.as_mut() else {
            return false;
        };
        if system.set_text(text).is_err() {
            // A broken connection stays broken: open a fresh one next time.
            self.system = None;
            return false;
        }
        system.get_text().is_ok_and(|read| read == text)
    }
}

/// The OSC 52 sequence that asks the terminal to put `text` on its clipboard:
/// `ESC ] 52 ; c ; BASE64 BEL`. Inside tmux it is wrapped in tmux's DCS passthrough,
/// `ESC P tmux; ... ESC \`, with every ESC of the inner sequence doubled.
pub fn osc52_sequence(text: &str, tmux: bool) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let osc = format!("\x1b]52;c;{encoded}\x07");
    if tmux { format!("\x1bPtmux;{}\x1b\\", osc.replace('\x1b', "\x1b\x1b")) } else { osc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(vars: &[(&str, &str)]) -> ClipboardEnv {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ClipboardEnv::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn osc52_exact_bytes() {
        // base64("hello") = "aGVsbG8="
        assert_eq!(osc52_sequence("hello", false), "\x1b]52;c;aGVsbG8=\x07");
        assert_eq!(osc52_sequence("hello", false).as_bytes(), b"\x1b]52;c;aGVsbG8=\x07");
        assert_eq!(osc52_sequence("", false), "\x1b]52;c;\x07");
    }

    #[test]
    fn osc52_tmux_wrapping() {
        assert_eq!(osc52_sequence("hello", true).as_bytes(), b"\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\");
    }

    #[test]
    fn osc52_encodes_newlines_and_unicode() {
        let seq = osc52_sequence("a1b2c-d3e4f\nÄ", false);
        assert!(!seq[1..seq.len() - 1].contains(['\n', '\x1b', '\x07']));
        let inner = seq.strip_prefix("\x1b]52;c;").and_then(|s| s.strip_suffix('\x07')).unwrap();
        let decoded = base64::engine::general_purpose::STANDARD.decode(inner).unwrap();
        assert_eq!(decoded, "a1b2c-d3e4f\nÄ".as_bytes());
    }

    #[test]
    fn env_detection() {
        assert_eq!(env_of(&[]), ClipboardEnv { display: false, ssh: false, tmux: false });
        assert_eq!(env_of(&[("DISPLAY", ":0")]), ClipboardEnv { display: true, ssh: false, tmux: false });
        assert!(env_of(&[("WAYLAND_DISPLAY", "wayland-0")]).display);
        assert!(!env_of(&[("DISPLAY", ""), ("WAYLAND_DISPLAY", "")]).display);
        for name in ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"] {
            assert!(env_of(&[(name, "x")]).ssh, "{name}");
        }
        assert!(!env_of(&[("SSH_TTY", "")]).ssh);
        assert!(env_of(&[("TMUX", "/tmp/tmux-1000/default,123,0")]).tmux);
        assert!(!env_of(&[("TMUX", "")]).tmux);
    }

    #[test]
    fn system_clipboard_only_locally() {
        assert!(env_of(&[("DISPLAY", ":0")]).use_system_clipboard());
        assert!(!env_of(&[("DISPLAY", ":0"), ("SSH_TTY", "/dev/pts/1")]).use_system_clipboard());
        assert!(!env_of(&[]).use_system_clipboard());
    }

    #[test]
    fn copy_without_display_writes_osc52() {
        let mut clipboard = Clipboard::new(ClipboardEnv { display: false, ssh: false, tmux: false });
        let mut out = Vec::new();
        assert_eq!(clipboard.copy("hello", &mut out), Ok(CopyMethod::Osc52(Osc52Route::Terminal)));
        assert_eq!(out, b"\x1b]52;c;aGVsbG8=\x07");
        assert!(clipboard.system.is_none(), "no system clipboard opened without a display");
    }

    #[test]
    fn copy_over_ssh_in_tmux_writes_plain_and_wrapped_osc52() {
        let env = ClipboardEnv { display: true, ssh: true, tmux: true };
        let mut clipboard = Clipboard::with_tmux_query(env, || TmuxClipboard::Closed);
        let mut out = Vec::new();
        let closed = Ok(CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Closed)));
        assert_eq!(clipboard.copy("hello", &mut out), closed);
        assert_eq!(out, b"\x1b]52;c;aGVsbG8=\x07\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\");
        assert!(clipboard.system.is_none(), "a forwarded display is not the user's clipboard");
    }

    #[test]
    fn copy_too_long_writes_nothing() {
        let mut clipboard = Clipboard::new(ClipboardEnv { display: false, ssh: false, tmux: false });
        let mut out = Vec::new();
        let text = "x".repeat(60_000);
        assert_eq!(clipboard.copy(&text, &mut out), Err(CopyError::TooLong { encoded: 80_000, max: 74_994 }));
        assert!(out.is_empty());
    }

    struct FailingWriter;
    impl Write for FailingWriter {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "broken pipe"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn copy_write_failure_is_an_error() {
        let mut clipboard = Clipboard::new(ClipboardEnv { display: false, ssh: false, tmux: false });
        let err = clipboard.copy("hello", &mut FailingWriter).unwrap_err();
        assert_eq!(err, CopyError::Write("broken pipe".into()));
        assert!(err.to_string().contains("save it to a file"));
    }

    #[test]
    fn descriptions_are_honest() {
        assert!(CopyMethod::SystemClipboard.describe().starts_with("Copied to the clipboard"));
        assert!(CopyMethod::SystemClipboard.is_confirmed());
        let routes = [
            Osc52Route::Terminal,
            Osc52Route::Tmux(TmuxClipboard::Open),
            Osc52Route::Tmux(TmuxClipboard::Unknown),
            Osc52Route::Tmux(TmuxClipboard::Closed),
        ];
        for route in routes {
            let method = CopyMethod::Osc52(route);
            let text = method.describe();
            assert!(!method.is_confirmed(), "{text}");
            assert!(!text.to_lowercase().contains("copied"), "{text}");
            if method.may_have_worked() {
                assert!(text.contains("not confirmed: paste to check"), "{text}");
            } else {
                assert!(text.contains("cannot work") && text.contains(TMUX_HOW_TO), "{text}");
            }
        }
    }

    #[test]
    fn tmux_options_decide_whether_osc52_passes() {
        assert_eq!(TmuxClipboard::from_options("external|0\n"), TmuxClipboard::Closed);
        assert_eq!(TmuxClipboard::from_options("off|off"), TmuxClipboard::Closed);
        assert_eq!(TmuxClipboard::from_options("on|0"), TmuxClipboard::Open);
        assert_eq!(TmuxClipboard::from_options("external|1"), TmuxClipboard::Open);
        assert_eq!(TmuxClipboard::from_options("external|all"), TmuxClipboard::Open);
        assert_eq!(TmuxClipboard::from_options("|"), TmuxClipboard::Unknown);
        assert_eq!(TmuxClipboard::from_options(""), TmuxClipboard::Unknown);
    }

    #[test]
    fn clipboard_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Clipboard>();
    }
}
