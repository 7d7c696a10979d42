//! Runs the real `usercenter` binary in a pseudo-terminal and reads its screen like a person would.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const KEY_ENTER: &[u8] = b"\r";
pub const KEY_ESC: &[u8] = b"\x1b";
pub const KEY_TAB: &[u8] = b"\t";
pub const KEY_DOWN: &[u8] = b"\x1b[B";
pub const KEY_UP: &[u8] = b"\x1b[A";
pub const KEY_LEFT: &[u8] = b"\x1b[D";
pub const KEY_CTRL_C: &[u8] = b"\x03";
pub const KEY_CTRL_U: &[u8] = b"\x15";

/// The longest a key press waits for the screen to change.
const KEY_ECHO_TIMEOUT: Duration = Duration::from_millis(500);

pub struct PtyApp {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// Ends when the terminal closes: every byte the program wrote has then been read.
    reader: Option<std::thread::JoinHandle<()>>,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
}

impl PtyApp {
    /// Starts the binary at `cols`x`rows` with `args`, in a clean environment plus `envs`.
    pub fn spawn(args: &[&str], envs: &[(&str, &str)], cols: u16, rows: u16) -> Self {
        Self::spawn_program(env!("CARGO_BIN_EXE_usercenter"), args, envs, cols, rows)
    }

    /// Starts `program` (a shell, to run the app as a job) the same way.
    pub fn spawn_program(program: &str, args: &[&str], envs: &[(&str, &str)], cols: u16, rows: u16) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        for (key, value) in envs {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn usercenter");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let rows = NonZeroU16::new(rows).expect("rows");
        let cols = NonZeroU16::new(cols).expect("cols");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r) = (parser.clone(), raw.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        p.lock().expect("parser").process(&buf[..n]);
                        r.lock().expect("raw").extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Self { parser, raw, reader: Some(reader), writer, master: pair.master, child }
    }

    /// Sends a signal (`"TERM"`, `"HUP"`) to the app, as `kill` or a dropped SSH connection would.
    pub fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("the app's pid");
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    /// Whether the emulator is on the alternate screen now.
    pub fn on_alternate_screen(&self) -> bool {
        self.parser.lock().expect("parser").screen().alternate_screen()
    }

    /// Whether the program left the cursor hidden.
    pub fn cursor_hidden(&self) -> bool {
        self.parser.lock().expect("parser").screen().hide_cursor()
    }

    /// Everything the program wrote to the terminal so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.raw.lock().expect("raw").clone()
    }

    /// Waits until the screen shows `needle`; panics with the screen if it never does.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_any(&[needle]).1
    }

    /// Waits until the screen shows one of `needles`; returns which one and the screen.
    pub fn wait_for_any(&self, needles: &[&str]) -> (usize, String) {
        super::eventually(
            Duration::from_secs(30),
            || format!("no {needles:?} on the screen:\n{}", self.screen()),
            || {
                let screen = self.screen();
                needles.iter().position(|n| screen.contains(n)).map(|i| (i, screen))
            },
        )
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_until_gone(&self, text: &str) {
        super::eventually(
            Duration::from_secs(10),
            || format!("{text:?} stays on the screen:\n{}", self.screen()),
            || (!self.screen().contains(text)).then_some(()),
        );
    }

    /// Resizes the terminal, as dragging the window's corner would (the program gets SIGWINCH).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.parser
            .lock()
            .expect("parser")
            .set_size(NonZeroU16::new(rows).expect("rows"), NonZeroU16::new(cols).expect("cols"));
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("resize the pty");
    }

    /// Writes `bytes` as typed keys and waits until the app has drawn its answer (bounded: a key that
    /// changes nothing on screen draws nothing). Waiting keeps a lone Esc from reaching the app in one
    /// read with the next key, which a terminal would read as Alt plus that key.
    pub fn send(&mut self, bytes: &[u8]) {
        let before = self.raw.lock().expect("raw").len();
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush pty");
        super::within(KEY_ECHO_TIMEOUT, || (self.raw.lock().expect("raw").len() > before).then_some(()));
    }

    pub fn type_text(&mut self, text: &str) {
        self.send(text.as_bytes());
    }

    /// Waits for the process to end; `None` if it is still running after `timeout`.
    /// Runs `usercenter ARGS` at an 80x24 terminal, answers its "Password:" and "Password again:"
    /// prompts, and returns whether it succeeded and its last screen.
    pub fn answer_password_twice(args: &[&str], first: &str, again: &str) -> (bool, String) {
        let mut app = Self::spawn(args, &[], 80, 24);
        app.wait_for("Password:");
        app.type_text(&format!("{first}\r"));
        app.wait_for("Password again:");
        app.type_text(&format!("{again}\r"));
        let status = app.wait_exit(Duration::from_secs(20)).expect("the command ends");
        (status.success(), app.screen())
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<portable_pty::ExitStatus> {
        let status = super::within(timeout, || self.child.try_wait().ok().flatten())?;
        // Every byte the program wrote is read once the reader sees the terminal close.
        let closed = super::within(Duration::from_secs(2), || {
            self.reader.as_ref().is_none_or(|r| r.is_finished()).then_some(())
        });
        if closed.is_some() {
            let _ = self.reader.take().map(std::thread::JoinHandle::join);
        }
        Some(status)
    }

    /// The process state letter from /proc (`T` while stopped), if the app still runs.
    pub fn process_state(&self) -> Option<char> {
        let pid = self.child.process_id()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // "pid (comm) S ...": the state follows the command's closing parenthesis.
        stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next())
    }

    /// Cells drawn in a colour other than the QR code's black and white (or light grey), as
    /// (row, column, fg, bg).
    pub fn colours_outside_the_qr_code(&self) -> Vec<(u16, u16, vt100::Color, vt100::Color)> {
        let qr = |c: vt100::Color| matches!(c, vt100::Color::Idx(0 | 7 | 15));
        self.cells_where(|fg, bg| {
            let default = |c: vt100::Color| c == vt100::Color::Default;
            let plain = default(fg) && default(bg);
            !(plain || (qr(fg) && qr(bg)))
        })
    }

    /// Cells drawn in a colour beyond the first `n` of the palette.
    pub fn colours_beyond(&self, n: u8) -> Vec<(u16, u16, vt100::Color, vt100::Color)> {
        let beyond = |c: vt100::Color| match c {
            vt100::Color::Default => false,
            vt100::Color::Idx(i) => i >= n,
            vt100::Color::Rgb(..) => true,
        };
        self.cells_where(|fg, bg| beyond(fg) || beyond(bg))
    }

    fn cells_where(
        &self,
        pick: impl Fn(vt100::Color, vt100::Color) -> bool,
    ) -> Vec<(u16, u16, vt100::Color, vt100::Color)> {
        let parser = self.parser.lock().expect("parser");
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let mut found = Vec::new();
        for row in 0..rows.get() {
            for col in 0..cols.get() {
                if let Some(cell) = screen.cell(row, col)
                    && pick(cell.fgcolor(), cell.bgcolor())
                {
                    found.push((row, col, cell.fgcolor(), cell.bgcolor()));
                }
            }
        }
        found
    }

    /// Decodes the QR code on screen as a phone camera would, from the cells' characters and colours.
    pub fn decode_qr(&self) -> Option<String> {
        let parser = self.parser.lock().expect("parser");
        decode_screen_qr(parser.screen(), false)
    }

    /// Decodes a QR code drawn light-on-dark, as a camera app with an "inverted codes" option would.
    pub fn decode_inverted_qr(&self) -> Option<String> {
        let parser = self.parser.lock().expect("parser");
        decode_screen_qr(parser.screen(), true)
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        // A failed test leaves the app running: stop it and reap it, so no process outlives the test.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Darkness of a terminal colour: `Some(true)` dark, `Some(false)` light, `None` the terminal default.
fn is_dark(color: vt100::Color) -> Option<bool> {
    match color {
        vt100::Color::Default => None,
        vt100::Color::Idx(i) => Some(matches!(i, 0 | 8 | 16 | 232..=243)),
        vt100::Color::Rgb(r, g, b) => Some((u32::from(r) + u32::from(g) + u32::from(b)) < 384),
    }
}

/// Rebuilds the picture of the screen, two pixels a cell vertically (half blocks), and lets rqrr find
/// and decode the code in it. Cells in the terminal's default colours count as light, like paper.
/// `invert` swaps dark and light for explicitly coloured cells: the reading of a light-on-dark code.
pub fn decode_screen_qr(screen: &vt100::Screen, invert: bool) -> Option<String> {
    let (screen_rows, screen_cols) = screen.size();
    let (rows, cols) = (usize::from(screen_rows.get()), usize::from(screen_cols.get()));
    const SCALE: usize = 4;
    let mut modules = vec![false; cols * rows * 2];
    for (row, cell_row) in (0..screen_rows.get()).enumerate() {
        for (col, cell_col) in (0..screen_cols.get()).enumerate() {
            let Some(cell) = screen.cell(cell_row, cell_col) else { continue };
            let fg = is_dark(cell.fgcolor()).map(|d| d != invert);
            let bg = is_dark(cell.bgcolor()).map(|d| d != invert);
            let (top, bottom) = match cell.contents() {
                "▀" => (fg, bg),
                "▄" => (bg, fg),
                "█" => (fg, fg),
                "" | " " => (bg, bg),
                _ => (None, None),
            };
            let (top, bottom) =
                if cell.inverse() { (top.map(|d| !d), bottom.map(|d| !d)) } else { (top, bottom) };
            modules[(row * 2) * cols + col] = top.unwrap_or(false);
            modules[(row * 2 + 1) * cols + col] = bottom.unwrap_or(false);
        }
    }
    let (w, h) = (cols * SCALE, rows * 2 * SCALE);
    let mut image =
        rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| modules[(y / SCALE) * cols + x / SCALE]);
    image.detect_grids().into_iter().find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}
