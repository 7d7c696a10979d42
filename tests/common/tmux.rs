//! The real binary inside a real tmux server (on a private socket, with tmux's default options unless a
//! test sets one), driven with send-keys and read with capture-pane, as a person in tmux would be.

#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::Duration;

/// A tmux server on its own socket; killed on drop.
pub struct Tmux {
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Whether tmux is installed; tests that need it skip with a note otherwise.
    pub fn available() -> bool {
        let found = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("skipped: tmux is not installed");
        }
        found
    }

    /// Starts a server whose one window runs `command` at `cols`x`rows`, its environment emptied of any
    /// display (so the copy goes through tmux, never through an X server the test runs beside) and
    /// holding `envs`. `options` are `set-option -g` pairs applied before the command starts.
    pub fn start(
        command: &[&str],
        envs: &[(&str, &str)],
        options: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a folder for the tmux socket");
        let tmux = Self { socket: dir.path().join("tmux.sock"), _dir: dir };
        // A placeholder first, so options are set before the app runs.
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let started = tmux.run(&["new-session", "-d", "-x", &cols, "-y", &rows, "-n", "hold", "sleep 600"]);
        assert!(started.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&started.stderr));
        for (name, value) in options {
            assert!(tmux.run(&["set-option", "-g", name, value]).status.success(), "set {name} {value}");
        }
        let mut args: Vec<String> = ["new-window", "-d", "-n", "app"].map(String::from).to_vec();
        let mut env = vec![
            ("DISPLAY", ""),
            ("WAYLAND_DISPLAY", ""),
            ("SSH_CONNECTION", ""),
            ("SSH_CLIENT", ""),
            ("SSH_TTY", ""),
        ];
        env.extend_from_slice(envs);
        for (key, value) in env {
            args.push("-e".into());
            args.push(format!("{key}={value}"));
        }
        // The pane stays after the app ends, so its exit can be read.
        let line = command.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ");
        args.push(format!("{line}; echo \"exit status $?\"; sleep 600"));
        let output = tmux.command().args(&args).output().expect("run tmux new-window");
        assert!(output.status.success(), "tmux new-window: {}", String::from_utf8_lossy(&output.stderr));
        tmux
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket).arg("-f").arg("/dev/null");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run tmux")
    }

    /// The app's pane as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", ":app"]).stdout).into_owned()
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", ":app", "-l", text]).status.success());
        std::thread::sleep(Duration::from_millis(50));
    }

    /// Presses named keys: `Enter`, `Escape`, `Tab`, `C-u`.
    pub fn press(&self, key: &str) {
        assert!(self.run(&["send-keys", "-t", ":app", key]).status.success());
        std::thread::sleep(Duration::from_millis(50));
    }

    pub fn wait_for(&self, needle: &str) -> String {
        super::eventually(
            Duration::from_secs(30),
            || format!("no {needle:?} in the tmux pane:\n{}", self.screen()),
            || Some(self.screen()).filter(|screen| screen.contains(needle)),
        )
    }

    /// tmux's paste buffer, once something set it.
    pub fn paste_buffer(&self) -> Option<String> {
        let output = self.run(&["show-buffer"]);
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}
