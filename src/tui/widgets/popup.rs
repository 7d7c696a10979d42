//! Centred pop-ups for dialogs and overlays.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::panel::TitledBox;

/// A `width` x `height` rectangle centred in `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// Lines needed to show `lines` wrapped at `width` (an estimate that errs on the large side).
pub fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// A bordered box over whatever is below it.
pub struct Popup<'a> {
    pub title: &'a str,
    pub lines: Vec<Line<'a>>,
    pub width: u16,
    pub border: Style,
}

impl<'a> Popup<'a> {
    pub fn new(title: &'a str, lines: Vec<Line<'a>>) -> Self {
        Self { title, lines, width: 64, border: Style::new().cyan() }
    }

    pub fn warning(mut self) -> Self {
        self.border = Style::new().yellow();
        self
    }

    pub fn width(mut self, width: u16) -> Self {
        self.width = width;
        self
    }
}

impl Widget for Popup<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let width = self.width.min(area.width);
        let height = wrapped_height(&self.lines, width.saturating_sub(4)).saturating_add(2);
        let rect = centered(area, width, height);
        Clear.render(rect, buf);
        let text_area = TitledBox::new(self.title).border(self.border).render(rect, buf);
        Paragraph::new(Text::from(self.lines)).wrap(Wrap { trim: false }).render(text_area, buf);
    }
}

/// Shown instead of a screen that does not fit.
pub struct TooSmall {
    pub need: (u16, u16),
}

impl Widget for TooSmall {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let text = format!(
            "Terminal too small: need at least {}x{} (now {}x{}). Enlarge the window, or press Ctrl-C to quit.",
            self.need.0, self.need.1, area.width, area.height
        );
        Paragraph::new(text).wrap(Wrap { trim: true }).render(area, buf);
    }
}
