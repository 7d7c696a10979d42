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

/// Rows needed to show `lines` wrapped at `width` word by word, as `Paragraph` with `Wrap` does (a
/// count per character would miss the row a word moved to the next one leaves short).
pub fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|line| word_wrapped_rows(&line.to_string(), width)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// Rows `text` takes wrapped at word boundaries (a word longer than a row is broken).
fn word_wrapped_rows(text: &str, width: usize) -> usize {
    let mut rows = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let columns = Line::from(word).width();
        let needed = if used == 0 { columns } else { used + 1 + columns };
        if needed <= width {
            used = needed;
        } else if used > 0 && columns <= width {
            rows += 1;
            used = columns;
        } else {
            // Longer than a row: on rows of its own, broken over as many as it needs.
            rows += usize::from(used > 0) + columns.div_ceil(width) - 1;
            used = columns - (columns.div_ceil(width) - 1) * width;
        }
    }
    rows
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

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::text::{Line, Text};
    use ratatui::widgets::{Paragraph, Widget, Wrap};

    use super::wrapped_height;

    /// The rows Paragraph actually fills.
    fn rendered_rows(text: &str, width: u16) -> u16 {
        let area = Rect::new(0, 0, width, 40);
        let mut buf = Buffer::empty(area);
        Paragraph::new(Text::from(text)).wrap(Wrap { trim: false }).render(area, &mut buf);
        (0..40).rev().find(|&y| (0..width).any(|x| buf[(x, y)].symbol() != " ")).map_or(0, |y| y + 1)
    }

    #[test]
    fn the_height_is_what_paragraph_fills() {
        let intro = "Set up two-factor authentication to use your account: after your password, each \
                     sign-in will ask for a code from an app on your phone.";
        for width in [20, 35, 57, 68, 76] {
            for text in [intro, "short", "a-word-longer-than-twenty-columns and more", "end"] {
                assert_eq!(
                    wrapped_height(&[Line::from(text)], width),
                    rendered_rows(text, width),
                    "{text:?} at {width}"
                );
            }
        }
    }
}
