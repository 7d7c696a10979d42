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
    /// Written to the terminal as OSC 52 (inside tmux: plain and wrapped for passthrough); nobody confirms
    /// it arrived.
    Osc52 { tmux: bool },
}

impl CopyMethod {
    /// What to tell the user: only what we saw.
    pub fn describe(&self) -> &'static str {
        match self {
            CopyMethod::SystemClipboard => "Copied to the clipboard.",
            CopyMethod::Osc52 { tmux: false } => {
                "Sent to your terminal's clipboard with OSC 52. Not every terminal allows this: paste to check."
            }
            CopyMethod::Osc52 { tmux: true } => {
                "Sent to your terminal's clipboard with OSC 52 through tmux (needs tmux's set-clipboard \
                 or allow-passthrough on). Not every terminal allows this: paste to check."
            }
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
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard").field("env", &self.env).field("system", &self.system.is_some()).finish()
    }
}

impl Clipboard {
    /// Cheap: the system clipboard is opened on the first copy that wants it.
    pub fn new(env: ClipboardEnv) -> Self {
        Clipboard { env, system: None }
    }

    /// Copies `text`. Blocking: on X11 a few short round trips to the server.
    ///
    /// With a local display, sets the system clipboard and reads it back; only a matching read counts.
    /// Otherwise, or when that fails, writes the OSC 52 sequence into `terminal` (the caller passes a
    /// buffer and writes it to the tty between draws) and says so. Inside tmux that is the plain
    /// sequence followed by the passthrough-wrapped one: tmux's `set-clipboard on` takes the first,
    /// `allow-passthrough on` the second.
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
        Ok(CopyMethod::Osc52 { tmux })
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
        assert_eq!(clipboard.copy("hello", &mut out), Ok(CopyMethod::Osc52 { tmux: false }));
        assert_eq!(out, b"\x1b]52;c;aGVsbG8=\x07");
        assert!(clipboard.system.is_none(), "no system clipboard opened without a display");
    }

    #[test]
    fn copy_over_ssh_in_tmux_writes_plain_and_wrapped_osc52() {
        let mut clipboard = Clipboard::new(ClipboardEnv { display: true, ssh: true, tmux: true });
        let mut out = Vec::new();
        assert_eq!(clipboard.copy("hello", &mut out), Ok(CopyMethod::Osc52 { tmux: true }));
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
        assert_eq!(CopyMethod::SystemClipboard.describe(), "Copied to the clipboard.");
        for tmux in [false, true] {
            let text = CopyMethod::Osc52 { tmux }.describe();
            assert!(text.contains("OSC 52") && text.contains("paste to check"), "{text}");
            assert!(!text.starts_with("Copied"), "{text}");
            assert_eq!(text.contains("tmux"), tmux);
        }
    }

    #[test]
    fn clipboard_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Clipboard>();
    }
}
