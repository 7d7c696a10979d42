//! The clipboard on Wayland without XWayland: copy through arboard's `wayland-data-control` backend on a
//! headless sway and read it back with wl-paste, as the X11 test does with Xvfb and xclip.
//!
//! Needs sway and wl-clipboard (`apt-get install sway wl-clipboard`; .ci/run installs them). The test
//! starts its own headless compositor (as `nobody` when run as root: sway refuses to run as root).
//! Without them it prints why it skipped and passes.

mod common;

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use usercenter::tui::clipboard::{Clipboard, ClipboardEnv, CopyMethod};

/// Set in the child process that copies under the compositor.
const CHILD: &str = "USERCENTER_WAYLAND_TEST_CHILD";
/// `nobody`, whom a root test runs sway as.
const NOBODY: u32 = 65534;

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A headless sway on a private XDG_RUNTIME_DIR; stopped on drop.
struct HeadlessSway {
    child: Child,
    runtime_dir: tempfile::TempDir,
    display: String,
}

impl HeadlessSway {
    fn start() -> Result<Self, String> {
        let runtime_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let as_root = std::fs::metadata("/proc/self").map_err(|e| e.to_string())?.uid() == 0;
        let mut command = if as_root {
            std::os::unix::fs::chown(runtime_dir.path(), Some(NOBODY), None).map_err(|e| e.to_string())?;
            // setpriv executes sway itself (no fork), so killing the child stops the compositor.
            let mut command = Command::new("setpriv");
            command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "sway"]);
            command
        } else {
            Command::new("sway")
        };
        let child = command
            .args(["-c", "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", runtime_dir.path())
            .env("XDG_RUNTIME_DIR", runtime_dir.path())
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start sway: {e}"))?;
        let mut sway = Self { child, runtime_dir, display: String::new() };
        let display = common::within(Duration::from_secs(10), || socket_in(sway.runtime_dir.path()));
        match display {
            Some(display) => {
                sway.display = display;
                Ok(sway)
            }
            None => Err("sway did not open a Wayland socket within 10 s".into()),
        }
    }
}

/// The Wayland socket's name in `dir` (`wayland-1`), once the compositor made it.
fn socket_in(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        (name.starts_with("wayland-") && !name.ends_with(".lock")).then_some(name)
    })
}

impl Drop for HeadlessSway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn copy_through_arboard_on_wayland_is_read_back_by_wl_paste() {
    const TEXT: &str = "usercenter on Wayland\n 1. abcde-fghjk\n 2. klmno-pqrst\n";
    if std::env::var_os(CHILD).is_some() {
        // Under the compositor: WAYLAND_DISPLAY set, no X display, not over SSH.
        let env = ClipboardEnv::from_process();
        assert_eq!(env, ClipboardEnv { display: true, ssh: false, tmux: false });
        let mut clipboard = Clipboard::new(env);
        let mut terminal = Vec::new();
        assert_eq!(
            clipboard.copy(TEXT, &mut terminal),
            Ok(CopyMethod::SystemClipboard),
            "copied and read back"
        );
        assert!(terminal.is_empty(), "no OSC 52 when the Wayland clipboard took it");
        // Another client reads it while the clipboard lives, as a paste would.
        let pasted =
            Command::new("timeout").args(["10", "wl-paste", "--no-newline"]).output().expect("run wl-paste");
        assert!(pasted.status.success(), "wl-paste: {}", String::from_utf8_lossy(&pasted.stderr));
        assert_eq!(String::from_utf8_lossy(&pasted.stdout), TEXT);
        return;
    }
    for program in ["sway", "wl-paste", "setpriv"] {
        if !installed(program) {
            eprintln!("skipped: {program} is not installed (apt-get install sway wl-clipboard)");
            return;
        }
    }
    let sway = match HeadlessSway::start() {
        Ok(sway) => sway,
        Err(why) => {
            eprintln!("skipped: no headless sway here: {why}");
            return;
        }
    };
    let exe: PathBuf = std::env::current_exe().expect("test binary path");
    let output = Command::new(exe)
        .args(["copy_through_arboard_on_wayland_is_read_back_by_wl_paste", "--exact", "--nocapture"])
        .env(CHILD, "1")
        .env("WAYLAND_DISPLAY", &sway.display)
        .env("XDG_RUNTIME_DIR", sway.runtime_dir.path())
        .env_remove("DISPLAY")
        .env_remove("TMUX")
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT")
        .env_remove("SSH_TTY")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
    eprintln!("copied on {} and read back with wl-paste", sway.display);
}
