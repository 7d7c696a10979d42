//! The wizard's step bar: `✓ Password → 2 Authenticator app → 3 Verify → 4 Backup codes`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub struct StepBar<'a> {
    pub steps: &'a [&'a str],
    /// Index of the current step.
    pub current: usize,
}

impl Widget for StepBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" ")];
        for (i, name) in self.steps.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" → ", Style::new().dark_gray()));
            }
            let (text, style) = if i < self.current {
                (format!("✓ {name}"), Style::new().green())
            } else if i == self.current {
                (format!("{} {name}", i + 1), Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED))
            } else {
                (format!("{} {name}", i + 1), Style::new().dark_gray())
            };
            spans.push(Span::styled(text, style));
        }
        Line::from(spans).render(area, buf);
    }
}
