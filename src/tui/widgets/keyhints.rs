//! The key-hint line at the bottom of every screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Pairs of (key, what it does), such as `("Enter", "sign in")`.
pub struct KeyHints<'a>(pub &'a [(&'a str, &'a str)]);

impl Widget for KeyHints<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" ")];
        for (i, (key, what)) in self.0.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", Style::new().dark_gray()));
            }
            spans.push(Span::styled(*key, Style::new().cyan().add_modifier(Modifier::BOLD)));
            spans.push(Span::raw(" "));
            spans.push(Span::raw(*what));
        }
        Line::from(spans).render(area, buf);
    }
}
