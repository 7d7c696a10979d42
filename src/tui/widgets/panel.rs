//! The bordered, titled boxes screens draw their content in.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::popup::centered;

/// A bordered box with a bold title.
pub struct TitledBox<'a> {
    pub title: &'a str,
    pub border: Style,
}

impl<'a> TitledBox<'a> {
    pub fn new(title: &'a str) -> Self {
        Self { title, border: Style::new() }
    }

    pub fn border(mut self, border: Style) -> Self {
        self.border = border;
        self
    }

    /// Draws the box on `area` and returns its inside, one column in from each side so text does not
    /// touch the border.
    pub fn render(self, area: Rect, buf: &mut Buffer) -> Rect {
        let block =
            Block::bordered().title(Line::from(format!(" {} ", self.title)).bold()).border_style(self.border);
        let inner = block.inner(area);
        block.render(area, buf);
        Rect::new(inner.x.saturating_add(1), inner.y, inner.width.saturating_sub(2), inner.height)
    }
}

/// The centred box of a form with one field (a password, a code): intro, field and status, a blank
/// row between each.
pub struct FormCard<'a> {
    pub title: &'a str,
    pub width: u16,
    pub height: u16,
    pub intro: Text<'a>,
    pub intro_rows: u16,
    /// The request's progress or its error; empty for none.
    pub status: Vec<Line<'a>>,
}

impl FormCard<'_> {
    /// Draws all but the field and returns the field's row: each form draws its own field.
    pub fn render(self, area: Rect, buf: &mut Buffer) -> Rect {
        let rect = centered(area, self.width, self.height);
        let inner = TitledBox::new(self.title).render(rect, buf);
        let [intro_area, _, field_area, _, status_area] = Layout::vertical([
            Constraint::Length(self.intro_rows),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        Paragraph::new(self.intro).wrap(Wrap { trim: false }).render(intro_area, buf);
        Paragraph::new(Text::from(self.status)).wrap(Wrap { trim: false }).render(status_area, buf);
        field_area
    }
}
