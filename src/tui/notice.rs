//! A one-line message on a screen: an error, a success, a hint.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Self { tone: Tone::Info, text: text.into() }
    }
    pub fn success(text: impl Into<String>) -> Self {
        Self { tone: Tone::Success, text: text.into() }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self { tone: Tone::Warning, text: text.into() }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self { tone: Tone::Error, text: text.into() }
    }

    pub fn line(&self) -> Line<'static> {
        let (mark, style) = match self.tone {
            Tone::Info => ("", Style::new()),
            Tone::Success => ("✓ ", Style::new().green()),
            Tone::Warning => ("! ", Style::new().yellow()),
            Tone::Error => ("✗ ", Style::new().red()),
        };
        Line::from(vec![Span::styled(mark, style.bold()), Span::styled(self.text.clone(), style)])
    }
}
