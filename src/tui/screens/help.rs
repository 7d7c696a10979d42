//! The help overlay: the keys of the screen below it, then those that work everywhere.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use crate::tui::keys::{self, Key, Scope};
use crate::tui::widgets::input;
use crate::tui::widgets::panel::TitledBox;
use crate::tui::widgets::popup::centered;

/// The widest key column; longer keys push their text along.
const KEY_COLUMN_MAX: usize = 22;
/// The help's widest box.
const WIDTH: u16 = 72;
/// Lines PgUp and PgDn scroll.
pub const PAGE: u16 = 10;

/// Every key the help lists: the screen's own, then those that work everywhere.
fn listed(screen: &[Key], text_field: bool) -> (Vec<Key>, Vec<Key>) {
    let screen: Vec<Key> = screen.iter().copied().filter(|k| k.scope == Scope::Screen).collect();
    let mut general = keys::document(keys::ANYWHERE);
    if text_field {
        general.extend(keys::document(input::KEYS));
    }
    (screen, general)
}

/// The help's lines at `width` columns: the key, then what it does, wrapped under itself.
fn lines(screen: &[Key], text_field: bool, width: usize) -> Vec<Line<'static>> {
    let (screen, general) = listed(screen, text_field);
    let column = screen.iter().chain(&general).map(|k| label(k).chars().count()).max().unwrap_or(0);
    let column = (column + 2).min(KEY_COLUMN_MAX).min(width / 2);
    let mut lines: Vec<Line<'static>> = screen.iter().flat_map(|k| key_lines(k, column, width)).collect();
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines.extend(general.iter().flat_map(|k| key_lines(k, column, width)));
    lines
}

/// How far the help can scroll at most (on the smallest terminal the app draws).
pub fn line_count(screen: &[Key], text_field: bool) -> u16 {
    let width = usize::from(crate::tui::app::MIN_WIDTH.saturating_sub(4));
    u16::try_from(lines(screen, text_field, width).len()).unwrap_or(u16::MAX)
}

/// `screen`: the screen's keys; `text_field`: whether a text field has the focus (its keys are listed).
/// A help longer than `area` shows from line `scroll` on and says how many lines are above and below.
pub fn render(screen: &[Key], text_field: bool, scroll: u16, area: Rect, buf: &mut Buffer) {
    let width = WIDTH.min(area.width);
    let inner_width = usize::from(width.saturating_sub(4));
    let all = lines(screen, text_field, inner_width);
    let total = u16::try_from(all.len()).unwrap_or(u16::MAX);
    let visible = area.height.saturating_sub(2).min(total);
    let scrolls = visible < total;
    // One row for the "more" line when the help does not fit.
    let shown = if scrolls { visible.saturating_sub(1) } else { visible };
    let scroll = scroll.min(total.saturating_sub(shown));
    let mut text: Vec<Line<'static>> =
        all.into_iter().skip(usize::from(scroll)).take(usize::from(shown)).collect();
    if scrolls {
        let below = total - scroll - shown;
        text.push(Line::from(format!("↑ {scroll} more above · ↓ {below} more below")).dark_gray());
    }
    let rect = centered(area, width, visible + 2);
    Clear.render(rect, buf);
    let inner = TitledBox::new("Keys").border(ratatui::style::Style::new().cyan()).render(rect, buf);
    Paragraph::new(text).render(inner, buf);
}

fn label(key: &Key) -> String {
    if key.also.is_empty() { key.keys.to_owned() } else { format!("{} / {}", key.keys, key.also) }
}

/// A key and what it does: the text starts at `column` and wraps under itself, word by word.
fn key_lines(key: &Key, column: usize, width: usize) -> Vec<Line<'static>> {
    let label = label(key);
    let mut text = key.action.to_owned();
    if !key.context.is_empty() {
        text.push_str(&format!(" ({})", key.context));
    }
    let room = width.saturating_sub(column).max(10);
    let mut rows = wrap(&text, room).into_iter();
    let first = rows.next().unwrap_or_default();
    let mut lines = Vec::new();
    if label.chars().count() + 1 > column {
        // A long key gets its own line.
        lines.push(Line::from(Span::raw(label).bold().cyan()));
        lines.push(Line::from(format!("{:column$}{first}", "")));
    } else {
        lines.push(Line::from(vec![Span::raw(format!("{label:<column$}")).bold().cyan(), Span::raw(first)]));
    }
    lines.extend(rows.map(|row| Line::from(format!("{:column$}{row}", ""))));
    lines
}

/// `text` in rows of at most `width` columns, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        if !row.is_empty() && row.chars().count() + 1 + word.chars().count() > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    rows.push(row);
    rows
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

#[cfg(test)]
mod small_terminal_tests {
    use crossterm::event::KeyCode;

    use crate::tui::testing::*;

    /// Found at 60x20: the help was cut at the bottom, the keys that work everywhere out of reach.
    #[test]
    fn help_at_60x20_scrolls() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('?'));
        let text = render(&app, 60, 20).backend().to_string();
        assert!(text.contains("more below") && !text.contains("Ctrl-Z"), "{text}");
        insta::assert_snapshot!(render(&app, 60, 20).backend());
        for _ in 0..30 {
            press(&mut app, KeyCode::Char('j'));
        }
        let text = render(&app, 60, 20).backend().to_string();
        assert!(text.contains("Ctrl-Z") && text.contains("0 more below"), "scrolled to the end:\n{text}");
        insta::assert_snapshot!("help_at_60x20_scrolled_to_the_end", render(&app, 60, 20).backend());
        press(&mut app, KeyCode::Char('x'));
        assert!(app.overlay.is_none(), "any other key closes");
    }
}
