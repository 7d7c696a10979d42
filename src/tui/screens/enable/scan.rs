//! Step 2 of enabling: the QR code to scan, with the key for typing it in by hand.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::domain::Enrollment;
use crate::tui::keys::{self, KeyBinding};
use crate::tui::widgets::qr::{QUIET_ZONE, QrError, QrMatrix, QrWidget};

/// Columns the text beside the QR code needs at least.
pub const SIDE_MIN_WIDTH: u16 = 30;

pub const KEYS: &[KeyBinding] = &[
    KeyBinding::new("Enter", "next: type the code").also("n Tab →"),
    KeyBinding::new("i", "invert colours"),
    KeyBinding::new("Esc", "cancel").context("also cancels the setup on the server"),
    keys::help_question_mark(),
];

pub const APPS: [&str; 4] = ["Google Authenticator", "Authy", "LastPass Authenticator", "1Password"];

#[derive(Debug)]
pub struct ScanStep {
    pub enrollment: Enrollment,
    pub qr: Result<QrMatrix, QrError>,
    pub inverted: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScanIntent {
    Nothing,
    Continue,
    Cancel,
}

impl ScanStep {
    pub fn new(enrollment: Enrollment) -> Self {
        let qr = QrMatrix::encode(enrollment.otpauth_uri.expose());
        Self { enrollment, qr, inverted: false }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> ScanIntent {
        match key.code {
            KeyCode::Char('i' | 'I') => {
                self.inverted = !self.inverted;
                ScanIntent::Nothing
            }
            KeyCode::Enter | KeyCode::Char('n') | KeyCode::Tab | KeyCode::Right => ScanIntent::Continue,
            KeyCode::Esc => ScanIntent::Cancel,
            _ => ScanIntent::Nothing,
        }
    }

    /// Cells the QR code needs, quiet zone included.
    pub fn qr_cells(&self) -> Option<(u16, u16)> {
        self.qr.as_ref().ok().map(|m| m.cells(QUIET_ZONE))
    }

    /// The whole layout (QR code and text beside it) needs this many cells.
    pub fn needed(&self) -> Option<(u16, u16)> {
        self.qr_cells().map(|(w, h)| (w + 1 + SIDE_MIN_WIDTH, h))
    }

    /// Whether the QR code fits only when the header and step bar are left out.
    pub fn needs_full_height(&self, body_rows: u16) -> bool {
        self.qr_cells().is_some_and(|(_, h)| body_rows < h)
    }

    /// The manual-entry key in groups of four, four groups a line.
    pub fn key_lines(&self) -> Vec<String> {
        let chars: Vec<char> = self.enrollment.secret.expose().chars().collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        groups.chunks(4).map(|g| g.join(" ")).collect()
    }

    fn side_text(&self, with_title: bool, with_qr: bool) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        if with_title {
            lines.push(Line::from("Step 2 of 4: Authenticator app").bold());
            lines.push(Line::from(""));
        }
        lines.push(Line::from(if with_qr {
            "Scan the QR code with an authenticator app, such as:"
        } else {
            "Add the account in an authenticator app, such as:"
        }));
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
        lines.push(Line::from("Then press Enter and type the code the app shows.").dark_gray());
        lines
    }

    /// `with_title` when the step bar is not shown (a small terminal).
    pub fn render(&self, area: Rect, buf: &mut Buffer, with_title: bool) {
        let fits = match (&self.qr, self.needed()) {
            (Ok(matrix), Some((w, h))) if area.width >= w && area.height >= h => {
                Some((matrix, w - SIDE_MIN_WIDTH))
            }
            _ => None,
        };
        let Some((matrix, qr_width)) = fits else {
            return self.render_without_qr(area, buf);
        };
        let qr_rows = matrix.cells(QUIET_ZONE).1;
        QrWidget { matrix, inverted: self.inverted }
            .render(Rect::new(area.x, area.y, qr_width, qr_rows), buf);
        let side = Rect::new(area.x + qr_width + 1, area.y, area.width - qr_width - 1, area.height);
        Paragraph::new(Text::from(self.side_text(with_title, true)))
            .wrap(Wrap { trim: false })
            .render(side, buf);
    }

    fn render_without_qr(&self, area: Rect, buf: &mut Buffer) {
        let mut lines = vec![Line::from("Step 2 of 4: Authenticator app").bold(), Line::from("")];
        match &self.qr {
            Ok(matrix) => {
                let (w, h) = matrix.cells(QUIET_ZONE);
                // One more row for the key hints at the bottom of the terminal.
                let (need_w, need_h) = (w + 1 + SIDE_MIN_WIDTH, h + 1);
                lines.push(
                    Line::from(format!(
                        "Terminal too small for the QR code: it needs at least {need_w}x{need_h}. \
                         Enlarge the window, or type the key below by hand."
                    ))
                    .yellow(),
                );
            }
            Err(e) => {
                lines.push(Line::from(format!("No QR code ({e}). Type the key below by hand.")).yellow())
            }
        }
        lines.push(Line::from(""));
        lines.extend(self.side_text(false, false));
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false }).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;
    use ratatui::buffer::Buffer;
    use ratatui::style::Color;

    use crate::tui::testing::*;
    use crate::tui::widgets::qr::{DARK, LIGHT, decode_buffer};

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
        let quiet = &buf[(0, 0)];
        let finder = &buf[(2, 1)];
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

    #[test]
    fn scan_too_small_names_the_size_and_keeps_the_key() {
        let app = at_scan();
        let terminal = render(&app, 70, 22);
        let text = terminal.backend().to_string();
        assert!(text.contains("76x24"), "{text}");
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
