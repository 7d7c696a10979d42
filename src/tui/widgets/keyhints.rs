//! The key-hint line at the bottom of every screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Pairs of (key, what it does), such as `("Enter", "sign in")`.
pub struct KeyHints<'a>(pub &'a [(&'a str, &'a str)]);

impl Widget for KeyHints<'_> {
    /// Entries that do not fit are left out whole, from the end (the main keys come first): a hint is
    /// never cut in the middle of a word.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let room = usize::from(area.width);
        let mut spans = vec![Span::raw(" ")];
        let mut used = 1;
        for (i, (key, what)) in self.0.iter().enumerate() {
            let separator = if i > 0 { " · " } else { "" };
            let width = [separator, key, " ", what].iter().map(|s| s.chars().count()).sum::<usize>();
            if used + width > room {
                break;
            }
            used += width;
            if i > 0 {
                spans.push(Span::styled(separator, Style::new().dark_gray()));
            }
            spans.push(Span::styled(*key, Style::new().cyan().add_modifier(Modifier::BOLD)));
            spans.push(Span::raw(" "));
            spans.push(Span::raw(*what));
        }
        Line::from(spans).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(hints: &[(&str, &str)], width: u16) -> String {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 1));
        KeyHints(hints).render(buf.area, &mut buf);
        (0..width).map(|x| buf[(x, 0)].symbol().to_owned()).collect::<String>().trim_end().to_owned()
    }

    /// Found at 60x20: "… · Esc cancel · ? " with the last hint cut in half.
    #[test]
    fn hints_that_do_not_fit_are_left_out_whole() {
        let hints =
            [("Enter", "next: type the code"), ("k", "show the key"), ("Esc", "cancel"), ("?", "help")];
        assert_eq!(shown(&hints, 80), " Enter next: type the code · k show the key · Esc cancel · ? help");
        assert_eq!(shown(&hints, 60), " Enter next: type the code · k show the key · Esc cancel");
        assert_eq!(shown(&hints, 30), " Enter next: type the code");
        assert_eq!(shown(&hints, 10), "");
    }
}
