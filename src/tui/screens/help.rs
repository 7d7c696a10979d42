//! The help overlay: the keys of the screen below it, then those that work everywhere.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::keys::{self, Key, Scope};
use crate::tui::widgets::input;
use crate::tui::widgets::popup::Popup;

/// The widest key column; longer keys push their text along.
const KEY_COLUMN_MAX: usize = 22;

/// `screen`: the screen's keys; `text_field`: whether a text field has the focus (its keys are listed).
pub fn render(screen: &[Key], text_field: bool, area: Rect, buf: &mut Buffer) {
    let screen: Vec<Key> = screen.iter().copied().filter(|k| k.scope == Scope::Screen).collect();
    let mut general = keys::document(keys::ANYWHERE);
    if text_field {
        general.extend(keys::document(input::KEYS));
    }
    let column = screen.iter().chain(&general).map(|k| label(k).chars().count()).max().unwrap_or(0);
    let column = (column + 2).min(KEY_COLUMN_MAX);
    let mut lines: Vec<Line<'static>> = screen.iter().map(|k| line(k, column)).collect();
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines.extend(general.iter().map(|k| line(k, column)));
    lines.push(Line::from(""));
    lines.push(Line::from("Press any key to close.").dark_gray());
    Popup::new("Keys", lines).width(72).render(area, buf);
}

fn label(key: &Key) -> String {
    if key.also.is_empty() { key.keys.to_owned() } else { format!("{} / {}", key.keys, key.also) }
}

fn line(key: &Key, column: usize) -> Line<'static> {
    let mut spans =
        vec![Span::raw(format!("{:<column$}", label(key))).bold().cyan(), Span::raw(key.action.to_owned())];
    if !key.context.is_empty() {
        spans.push(Span::raw(format!(" ({})", key.context)).dark_gray());
    }
    Line::from(spans)
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
