//! The clipboard for real: copy through arboard on an X server and read it back with xclip; copy with
//! OSC 52 inside a real tmux and read tmux's paste buffer; fall back when the display is unreachable.
//!
//! Needs an X server and xclip (CI runs it under Xvfb, see .ci/run), and tmux. Without them the test
//! concerned prints a skip note and passes:
//!
//! ```sh
//! apt-get install -y xvfb xclip
//! Xvfb :99 -nolisten tcp & DISPLAY=:99 cargo nextest run --test clipboard_x11
//! ```

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use usercenter::tui::clipboard::{
    Clipboard, ClipboardEnv, CopyMethod, Osc52Route, TmuxClipboard, osc52_sequence,
};

/// Set in the child processes of the fallback and tmux tests.
const CHILD: &str = "USERCENTER_CLIPBOARD_TEST_CHILD";

fn x_server_and_xclip() -> bool {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if display.is_empty() {
        eprintln!("skipped: DISPLAY is not set (run under Xvfb to test the X11 clipboard)");
        return false;
    }
    if !Command::new("xclip").arg("-version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: xclip is not installed (apt-get install xclip)");
        return false;
    }
    true
}

/// Reads the CLIPBOARD selection as another X client would; bounded so a hung owner fails the test.
fn xclip_read() -> String {
    let output = Command::new("timeout")
        .args(["10", "xclip", "-o", "-selection", "clipboard"])
        .output()
        .expect("run xclip");
    assert!(output.status.success(), "xclip -o failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("xclip output is UTF-8")
}

#[test]
fn copy_through_arboard_is_read_back_by_xclip() {
    if !x_server_and_xclip() {
        return;
    }
    let local = ClipboardEnv { display: true, ssh: false, tmux: false };
    let mut clipboard = Clipboard::new(local);
    let mut terminal = Vec::new();

    let first = format!("usercenter test {}\n 1. abcde-fghij\n 2. klmno-pqrst\n", std::process::id());
    assert_eq!(clipboard.copy(&first, &mut terminal), Ok(CopyMethod::SystemClipboard));
    assert!(terminal.is_empty(), "no OSC 52 when the system clipboard took it");
    // The Clipboard is alive: this process owns the selection and serves xclip from it.
    assert_eq!(xclip_read(), first);

    // A second copy on the same session handle replaces the first.
    let second = "Zweite Kopie: äöü ✓";
    assert_eq!(clipboard.copy(second, &mut terminal), Ok(CopyMethod::SystemClipboard));
    assert_eq!(xclip_read(), second);
    assert!(terminal.is_empty());
    drop(clipboard);
}

#[test]
fn falls_back_to_osc52_when_the_display_is_unreachable() {
    if std::env::var_os(CHILD).is_none() {
        // Run this test again in a child process whose DISPLAY points at no X server.
        let exe = std::env::current_exe().expect("test binary path");
        let output = Command::new(exe)
            .args(["falls_back_to_osc52_when_the_display_is_unreachable", "--exact", "--nocapture"])
            .env(CHILD, "1")
            .env("DISPLAY", ":4711")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("TMUX")
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT")
            .env_remove("SSH_TTY")
            .output()
            .expect("run the test binary");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
        return;
    }
    let env = ClipboardEnv::from_process();
    assert_eq!(env, ClipboardEnv { display: true, ssh: false, tmux: false });
    let mut clipboard = Clipboard::new(env);
    let mut terminal = Vec::new();
    let started = Instant::now();
    assert_eq!(clipboard.copy("hello", &mut terminal), Ok(CopyMethod::Osc52(Osc52Route::Terminal)));
    assert_eq!(terminal, osc52_sequence("hello", false).as_bytes());
    assert!(started.elapsed() < Duration::from_secs(5), "fallback took {:?}", started.elapsed());
}

/// A tmux server on a private socket, killed on drop.
struct Tmux {
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket).arg("-f").arg("/dev/null");
        command
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().expect("run tmux")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

#[test]
fn osc52_inside_tmux_reaches_its_paste_buffer() {
    const TEXT: &str = " 1. abcde-fghij\n 2. klmno-pqrst\n";
    if std::env::var_os(CHILD).is_some() {
        // In a tmux pane: TMUX is set by tmux, DISPLAY emptied by the parent, stdout is the pane.
        let env = ClipboardEnv::from_process();
        assert_eq!(env, ClipboardEnv { display: false, ssh: false, tmux: true });
        let mut clipboard = Clipboard::new(env);
        // set-clipboard is on (the parent set it): tmux says the copy passes.
        let open = Ok(CopyMethod::Osc52(Osc52Route::Tmux(TmuxClipboard::Open)));
        assert_eq!(clipboard.copy(TEXT, &mut std::io::stdout()), open);
        return;
    }
    if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let tmux = Tmux { socket: dir.path().join("tmux.sock"), _dir: dir };
    assert!(tmux.run(&["new-session", "-d", "-x", "80", "-y", "24", "sleep 60"]).status.success());
    // tmux ignores OSC 52 from programs unless set-clipboard is on (the default is "external").
    assert!(tmux.run(&["set-option", "-g", "set-clipboard", "on"]).status.success());
    let exe = std::env::current_exe().expect("test binary path");
    let child =
        format!("{} osc52_inside_tmux_reaches_its_paste_buffer --exact --nocapture; sleep 30", exe.display());
    let set = |var: &str| format!("{var}=");
    let output = tmux
        .command()
        .args(["new-window", "-d", "-n", "clip", "-e", &format!("{CHILD}=1"), "-e", &set("DISPLAY")])
        .args(["-e", &set("WAYLAND_DISPLAY"), "-e", &set("SSH_CONNECTION"), "-e", &set("SSH_CLIENT")])
        .args(["-e", &set("SSH_TTY"), &child])
        .output()
        .expect("run tmux new-window");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let buffer = common::eventually(
        Duration::from_secs(20),
        || {
            let pane = tmux.run(&["capture-pane", "-p", "-t", ":clip"]);
            format!("no tmux paste buffer; the pane shows:\n{}", String::from_utf8_lossy(&pane.stdout))
        },
        || Some(tmux.run(&["show-buffer"])).filter(|buffer| buffer.status.success()),
    );
    assert_eq!(String::from_utf8_lossy(&buffer.stdout), TEXT);
}
