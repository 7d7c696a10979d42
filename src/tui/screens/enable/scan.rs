//! Step 2 of enabling: the QR code to scan, with the key for typing it in by hand.
//!
//! Where it is drawn depends on the room: beside its text under the step bar; beside its text in the
//! whole height (a short terminal); alone, with one line that says how to go on (a narrow one); or not
//! at all, the key in its place (a terminal too small for it, or after `k`).

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::domain::Enrollment;
use crate::domain::otpauth::compact_uri;
use crate::tui::demo_phone::PhoneCode;
use crate::tui::keys::{self, KeyBinding};
use crate::tui::widgets::keyhints::KeyHints;
use crate::tui::widgets::popup::wrapped_height;
use crate::tui::widgets::qr::{QUIET_ZONE, QrError, QrMatrix, QrWidget};

/// Columns the text beside the QR code needs at least.
pub const SIDE_MIN_WIDTH: u16 = 30;
/// Columns the text beside the QR code takes at most.
const SIDE_MAX_WIDTH: u16 = 40;

/// The mode of the keys: whether the key is shown instead of the QR code.
pub const KEYS: &[KeyBinding<bool>] = &[
    KeyBinding::new("Enter", "next: type the code").also("n Tab →"),
    KeyBinding::new("k", "show the key").when(|key_shown| !key_shown, "to type it by hand"),
    KeyBinding::new("k", "show the QR code").when(|key_shown| key_shown, "after k"),
    KeyBinding::new("i", "invert colours").hinted_if(|key_shown| !key_shown),
    KeyBinding::new("Esc", "cancel").context("asks first; also cancels the setup on the server"),
    keys::help_question_mark(),
];

/// The line under the QR code when it is shown alone.
const QR_ONLY_KEYS: &[(&str, &str)] =
    &[("Enter", "after scanning"), ("k", "type the key instead"), ("Esc", "cancel")];

pub const APPS: [&str; 4] = ["Google Authenticator", "Authy", "LastPass Authenticator", "1Password"];

#[derive(Debug)]
pub struct ScanStep {
    pub enrollment: Enrollment,
    /// The server's URI as a QR code.
    pub qr: Result<QrMatrix, QrError>,
    /// The same key without the repeated issuer parameter ([`compact_uri`]): drawn only where the
    /// server's does not fit (a long account on a small terminal).
    pub compact: Option<QrMatrix>,
    pub inverted: bool,
    /// `k`: the key for typing by hand instead of the QR code.
    pub key_shown: bool,
    /// The text beside the QR code, title first.
    side: SideText,
}

/// The text beside the QR code with its title: made once per enrollment rather than in every frame.
/// It holds the key, so it is zeroized when dropped, as the enrollment's secret is.
struct SideText(Vec<Line<'static>>);

impl Drop for SideText {
    fn drop(&mut self) {
        for span in self.0.iter_mut().flat_map(|line| line.spans.iter_mut()) {
            if let Cow::Owned(text) = &mut span.content {
                zeroize::Zeroize::zeroize(text);
            }
        }
    }
}

impl std::fmt::Debug for SideText {
    // The text holds the key: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideText").field("lines", &self.0.len()).finish_non_exhaustive()
    }
}

/// `line` borrowing its text from the original, so that drawing it copies no string.
fn borrowed<'a>(line: &'a Line<'_>) -> Line<'a> {
    let spans = line.spans.iter().map(|span| Span::styled(span.content.as_ref(), span.style)).collect();
    Line { style: line.style, alignment: line.alignment, spans }
}

/// How the step is laid out in the room it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanLayout {
    /// The QR code and its text side by side.
    Beside,
    /// The QR code alone, and one line saying how to go on.
    QrOnly,
    /// No QR code: the key to type, and why.
    KeyOnly,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScanIntent {
    Nothing,
    Continue,
    Cancel,
}

impl ScanStep {
    pub fn new(enrollment: Enrollment) -> Self {
        let uri = enrollment.otpauth_uri.expose();
        let qr = QrMatrix::encode(uri);
        let compact = compact_uri(uri).and_then(|shorter| QrMatrix::encode(&shorter).ok());
        let mut step =
            Self { enrollment, qr, compact, inverted: false, key_shown: false, side: SideText(Vec::new()) };
        step.side = SideText(step.side_text());
        step
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> ScanIntent {
        match key.code {
            KeyCode::Char('i' | 'I') => {
                self.inverted = !self.inverted;
                ScanIntent::Nothing
            }
            KeyCode::Char('k' | 'K') => {
                self.key_shown = !self.key_shown;
                ScanIntent::Nothing
            }
            KeyCode::Enter | KeyCode::Char('n') | KeyCode::Tab | KeyCode::Right => ScanIntent::Continue,
            KeyCode::Esc => ScanIntent::Cancel,
            _ => ScanIntent::Nothing,
        }
    }

    pub fn keys(&self) -> Vec<keys::Key> {
        keys::resolve(KEYS, self.key_shown)
    }

    /// The QR codes that may be drawn, the server's first.
    fn codes(&self) -> impl Iterator<Item = &QrMatrix> {
        self.qr.as_ref().ok().into_iter().chain(self.compact.as_ref())
    }

    /// The code to draw in `area` and how: the server's where it fits, else the compact one.
    fn placed(&self, area: Rect) -> Option<(&QrMatrix, ScanLayout)> {
        if self.key_shown {
            return None;
        }
        self.codes().find_map(|matrix| {
            let (w, h) = matrix.cells(QUIET_ZONE);
            if area.width > w + SIDE_MIN_WIDTH && area.height >= h {
                Some((matrix, ScanLayout::Beside))
            } else if area.width >= w && area.height > h {
                Some((matrix, ScanLayout::QrOnly))
            } else {
                None
            }
        })
    }

    /// The layout that fits `area`.
    pub fn layout(&self, area: Rect) -> ScanLayout {
        self.placed(area).map_or(ScanLayout::KeyOnly, |(_, layout)| layout)
    }

    /// The manual-entry key in groups of four, four groups a line.
    pub fn key_lines(&self) -> Vec<String> {
        let chars: Vec<char> = self.enrollment.secret.expose().chars().collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        groups.chunks(4).map(|g| g.join(" ")).collect()
    }

    /// The text beside the QR code; its first two lines are the title and a blank line.
    fn side_text(&self) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from("Step 2 of 4: Authenticator app").bold(), Line::from("")];
        lines.push(Line::from("Scan the QR code with an authenticator app, such as:"));
        lines.extend(APPS.iter().map(|app| Line::from(format!("  • {app}"))));
        lines.push(Line::from(""));
        lines.push(Line::from("Can't scan? Type this key:"));
        lines.extend(self.key_lines().into_iter().map(|l| Line::from(format!("  {l}")).bold().cyan()));
        lines.push(Line::from(""));
        lines.push(Line::from(format!("Account: {}", self.enrollment.account)));
        lines.push(Line::from(format!("Issuer:  {}", self.enrollment.issuer)));
        lines.push(Line::from(format!(
            "Time-based, {} digits, every {} s",
            self.enrollment.digits, self.enrollment.period
        )));
        lines.push(Line::from(""));
        lines.push(Line::from("Then press Enter and type the code the app shows."));
        lines
    }

    /// Draws the step in `area` as [`ScanStep::layout`] says; `with_title` when the step bar is not shown.
    /// In the demo, `phone` is what its stand-in phone shows: said here too when the header is not shown.
    pub fn render(&self, area: Rect, buf: &mut Buffer, with_title: bool, phone: Option<&PhoneCode>) {
        let phone = phone.filter(|_| with_title);
        match self.placed(area) {
            Some((matrix, ScanLayout::Beside)) => self.render_beside(matrix, area, buf, with_title, phone),
            Some((matrix, ScanLayout::QrOnly)) => self.render_qr_only(matrix, area, buf, phone),
            Some((_, ScanLayout::KeyOnly)) | None => self.render_key_only(area, buf),
        }
    }

    /// The QR code and its text, centred as one block, as every step of the wizard is.
    fn render_beside(
        &self,
        matrix: &QrMatrix,
        area: Rect,
        buf: &mut Buffer,
        with_title: bool,
        phone: Option<&PhoneCode>,
    ) {
        let (qr_width, qr_rows) = matrix.cells(QUIET_ZONE);
        let side_width = (area.width - qr_width - 1).min(SIDE_MAX_WIDTH);
        let without_title = if with_title { 0 } else { 2 };
        let mut side = Text::from(self.side.0[without_title..].iter().map(borrowed).collect::<Vec<_>>());
        if let Some(phone) = phone {
            // Its own line: beside a version 6 code the text column is 34 characters wide.
            side.lines.push(Line::from(""));
            side.lines.push(Line::from("Demo, no phone needed:").bold());
            side.lines.push(Line::from(phone.label()).bold());
        }
        let side_rows = wrapped_height(&side.lines, side_width).min(area.height);
        let block = qr_width + 1 + side_width;
        let x = area.x + (area.width - block) / 2;
        let y = area.y + (area.height - qr_rows.max(side_rows)) / 2;
        QrWidget { matrix, inverted: self.inverted }.render(Rect::new(x, y, qr_width, qr_rows), buf);
        let side_y = y + qr_rows.saturating_sub(side_rows) / 2;
        let side_area = Rect::new(x + qr_width + 1, side_y, side_width, area.bottom() - side_y);
        Paragraph::new(side).wrap(Wrap { trim: false }).render(side_area, buf);
    }

    /// The QR code alone at the top, centred, and one line under it that says how to go on.
    fn render_qr_only(&self, matrix: &QrMatrix, area: Rect, buf: &mut Buffer, phone: Option<&PhoneCode>) {
        let (qr_width, qr_rows) = matrix.cells(QUIET_ZONE);
        let x = area.x + (area.width - qr_width) / 2;
        let y = area.y + (area.height - qr_rows - 1) / 2;
        QrWidget { matrix, inverted: self.inverted }.render(Rect::new(x, y, qr_width, qr_rows), buf);
        let code = phone.map(|phone| format!("{} ({} s)", phone.code, phone.seconds_left));
        let mut line = Vec::new();
        if let Some(code) = &code {
            line.push(("stand-in phone:", code.as_str()));
        }
        line.extend_from_slice(QR_ONLY_KEYS);
        KeyHints(&line).render(Rect::new(area.x, y + qr_rows, area.width, 1), buf);
    }

    fn render_key_only(&self, area: Rect, buf: &mut Buffer) {
        let mut lines = vec![Line::from("Step 2 of 4: Authenticator app").bold(), Line::from("")];
        match (&self.qr, self.key_shown) {
            (Ok(_), true) => lines.push(Line::from("Press k to show the QR code again.")),
            (Ok(full), false) => {
                // The smallest code says how large the terminal must be.
                let (w, h) =
                    self.codes().map(|m| m.cells(QUIET_ZONE)).min().unwrap_or(full.cells(QUIET_ZONE));
                // One more row for the line under the code.
                lines.push(
                    Line::from(format!(
                        "Terminal too small for the QR code: it needs at least {w}x{}. Enlarge the window, \
                         or type the key below by hand.",
                        h + 1
                    ))
                    .yellow(),
                );
            }
            (Err(e), _) => {
                lines.push(Line::from(format!("No QR code ({e}). Type the key below by hand.")).yellow())
            }
        }
        // The key first: on a small terminal the end of the text is what gets cut.
        lines.push(Line::from(""));
        lines.push(Line::from(format!(
            "In an authenticator app ({}), add the account with this key:",
            APPS.join(", ")
        )));
        lines.extend(self.key_lines().into_iter().map(|l| Line::from(format!("  {l}")).bold().cyan()));
        lines.push(Line::from(""));
        lines.push(Line::from(format!("Account: {}", self.enrollment.account)));
        lines.push(Line::from(format!("Issuer:  {}", self.enrollment.issuer)));
        lines.push(Line::from(format!(
            "Time-based, {} digits, every {} s",
            self.enrollment.digits, self.enrollment.period
        )));
        lines.push(Line::from(""));
        lines.push(Line::from("Then press Enter and type the code the app shows."));
        let width = area.width.min(72);
        let text = Text::from(lines);
        let rows = wrapped_height(&text.lines, width).min(area.height);
        let rect = crate::tui::widgets::popup::centered(area, width, rows);
        Paragraph::new(text).wrap(Wrap { trim: false }).render(rect, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;
    use ratatui::buffer::Buffer;
    use ratatui::style::Color;

    use crate::domain::otpauth::compact_uri;
    use crate::tui::testing::*;
    use crate::tui::widgets::qr::{DARK, LIGHT, QUIET_ZONE, QrMatrix, decode_buffer};

    /// The text beside the code, made once per enrollment, holds the key: Debug must not show it.
    #[test]
    fn debug_does_not_show_the_key() {
        let step = super::ScanStep::new(crate::tui::testing::enrollment());
        let debug = format!("{step:?}");
        assert!(debug.contains("SideText") && !debug.contains("JBSW"), "{debug}");
    }

    #[test]
    fn scan_fits_and_decodes_at_80x24_with_a_30_character_account() {
        assert_eq!(LONG_ACCOUNT.chars().count(), 30);
        let app = at_scan();
        let terminal = render(&app, 80, 24);
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(otpauth_uri().as_str()));
        let text = terminal.backend().to_string();
        for needle in
            ["JBSW Y3DP EHPK 3PXP", "Google Authenticator", "Authy", "LastPass Authenticator", "1Password"]
        {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
        assert!(text.contains(LONG_ACCOUNT), "{text}");
        insta::assert_snapshot!(terminal.backend());
    }

    /// The quiet zone's top-left cell and a cell of the top-left finder pattern (modules 2..=3 of
    /// column 2: both dark).
    fn corner_colours(buf: &Buffer) -> ((Color, Color), (&str, Color, Color)) {
        let qr = |x: u16, y: u16| matches!((buf[(x, y)].fg, buf[(x, y)].bg), (DARK, LIGHT) | (LIGHT, DARK));
        let (x0, y0) = (0..buf.area.height)
            .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
            .find(|&(x, y)| qr(x, y))
            .expect("a QR code on screen");
        let quiet = &buf[(x0, y0)];
        let finder = &buf[(x0 + 2, y0 + 1)];
        ((quiet.fg, quiet.bg), (finder.symbol(), finder.fg, finder.bg))
    }

    #[test]
    fn qr_colours_are_explicit_and_invert() {
        let mut app = at_scan();
        let terminal = render(&app, 80, 24);
        let (quiet, finder) = corner_colours(terminal.backend().buffer());
        assert_eq!(quiet, (DARK, LIGHT));
        assert_eq!(finder, ("█", DARK, LIGHT));
        press(&mut app, KeyCode::Char('i'));
        let terminal = render(&app, 80, 24);
        let (quiet, finder) = corner_colours(terminal.backend().buffer());
        assert_eq!(quiet, (LIGHT, DARK));
        assert_eq!(finder, ("█", LIGHT, DARK));
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(otpauth_uri().as_str()));
    }

    /// The longest username `user add` allows, with a long issuer: the QR code decodes at 80x24 (the
    /// app asked for 84x28 before). The server's URI is version 8 there (25 rows): the app draws the
    /// same key without the repeated issuer parameter, which authenticators read the same.
    #[test]
    fn a_64_character_username_decodes_at_80x24() {
        let app = at_scan_with(long_enrollment());
        let terminal = render(&app, 80, 24);
        let full = long_enrollment().otpauth_uri.expose().to_owned();
        assert_eq!(QrMatrix::encode(&full).unwrap().cells(QUIET_ZONE).1, 27, "too tall for 24 rows");
        let uri = compact_uri(&full).expect("a shorter form");
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(uri.as_str()));
        let (read, expected) =
            (totp_rs::Totp::from_url(&uri).unwrap(), totp_rs::Totp::from_url(&full).unwrap());
        assert_eq!(
            (read.issuer(), read.account_name(), read.secret()),
            (expected.issuer(), expected.account_name(), expected.secret())
        );
        let text = terminal.backend().to_string();
        assert!(text.contains("Newcomer Platform") && text.contains("JBSW Y3DP EHPK 3PXP"), "{text}");
        insta::assert_snapshot!(terminal.backend());
    }

    /// Where the code fits but its text does not: the QR code alone, one line under it saying how to
    /// go on, no header, step bar or hints.
    #[test]
    fn a_narrow_terminal_gets_the_qr_only_view() {
        let app = at_scan_with(long_enrollment());
        let terminal = render(&app, 60, 24);
        let uri = compact_uri(long_enrollment().otpauth_uri.expose()).expect("a shorter form");
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(uri.as_str()));
        let text = terminal.backend().to_string();
        assert!(text.contains("Enter after scanning") && text.contains("k type the key instead"), "{text}");
        assert!(!text.contains("usercenter ·") && !text.contains("Password →"), "{text}");
        insta::assert_snapshot!(terminal.backend());
    }

    /// `k` shows the key for typing by hand instead of the QR code, and `k` again brings it back.
    #[test]
    fn k_shows_the_key_in_place_of_the_qr_code() {
        let mut app = at_scan_with(long_enrollment());
        press(&mut app, KeyCode::Char('k'));
        let terminal = render(&app, 80, 24);
        assert_eq!(decode_buffer(terminal.backend().buffer()), None);
        let text = terminal.backend().to_string();
        assert!(
            text.contains("JBSW Y3DP EHPK 3PXP") && text.contains("Press k to show the QR code"),
            "{text}"
        );
        insta::assert_snapshot!(terminal.backend());
        press(&mut app, KeyCode::Char('k'));
        assert!(decode_buffer(render(&app, 80, 24).backend().buffer()).is_some());
    }

    #[test]
    fn scan_too_small_names_the_size_and_keeps_the_key() {
        let app = at_scan();
        let terminal = render(&app, 60, 18);
        let text = terminal.backend().to_string();
        assert!(text.contains("it needs at least 41x22"), "{text}");
        assert!(text.contains("JBSW Y3DP EHPK 3PXP"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn scan_large_terminal_keeps_the_step_bar() {
        let app = at_scan();
        let terminal = render(&app, 100, 30);
        assert_eq!(decode_buffer(terminal.backend().buffer()).as_deref(), Some(otpauth_uri().as_str()));
        insta::assert_snapshot!(terminal.backend());
    }
}
