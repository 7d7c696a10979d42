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

impl StepBar<'_> {
    /// Every step named, or (`compact`) only the current one: `✓ 1 → ✓ 2 → 3 Verify → 4`.
    fn line(&self, compact: bool) -> Line<'static> {
        let mut spans = vec![Span::raw(" ")];
        for (i, name) in self.steps.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" → ", Style::new().dark_gray()));
            }
            let number = i + 1;
            let named =
                |mark: String| if compact && i != self.current { mark } else { format!("{mark} {name}") };
            let (text, style) = if i < self.current {
                (named(if compact { format!("✓ {number}") } else { "✓".to_owned() }), Style::new().green())
            } else if i == self.current {
                (named(number.to_string()), Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED))
            } else {
                (named(number.to_string()), Style::new().dark_gray())
            };
            spans.push(Span::styled(text, style));
        }
        Line::from(spans)
    }
}

impl Widget for StepBar<'_> {
    /// On a narrow terminal only the current step is named, rather than the last one cut.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let full = self.line(false);
        let line = if full.width() <= usize::from(area.width) { full } else { self.line(true) };
        line.render(area, buf);
    }
}
