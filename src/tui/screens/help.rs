//! The help overlay: every key of the app.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::widgets::popup::Popup;

/// (keys, what they do); the README lists the same.
pub const KEYS: [(&str, &str); 15] = [
    ("Tab / Shift-Tab", "next / previous field or item"),
    ("↑ ↓", "move in lists and between fields"),
    ("Enter", "submit, choose, continue"),
    ("Esc", "go back; leaves the setup (and cancels it)"),
    ("? or F1", "this help (F1 while typing in a field)"),
    ("Ctrl-C", "quit (asks first if backup codes are unsaved)"),
    ("← → Home End", "move the cursor in a field"),
    ("Ctrl-U", "clear the field"),
    ("r", "retry when the server cannot be reached"),
    ("e / g / d", "Security: enable 2FA / new backup codes / disable"),
    ("i", "QR code: invert its colours"),
    ("Shift-Tab", "Verify step: back to the QR code"),
    ("c", "backup codes: copy to the clipboard"),
    ("s", "backup codes: save to a file"),
    ("y / n", "answer a question"),
];

pub fn render(area: Rect, buf: &mut Buffer) {
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![Span::raw(format!("{keys:<16}")).bold().cyan(), Span::raw(*what)])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from("Press any key to close.").dark_gray());
    Popup::new("Keys", lines).width(72).render(area, buf);
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::tui::testing::*;

    #[test]
    fn help_overlay() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('?'));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
