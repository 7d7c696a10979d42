//! A one-line text field, optionally masked, whose text is wiped from memory when dropped.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use zeroize::{Zeroize, Zeroizing};

use crate::domain::SecretString;

/// Room reserved up front (4 bytes a character) so typing never reallocates: a reallocation would
/// leave a copy of the text behind in freed memory.
const BYTES_PER_CHAR: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Any,
    Digits,
}

#[derive(Clone)]
pub struct TextField {
    value: Zeroizing<String>,
    masked: bool,
    max_chars: usize,
    filter: Filter,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextField").field("chars", &self.char_count()).field("masked", &self.masked).finish()
    }
}

impl TextField {
    fn new(masked: bool, max_chars: usize, filter: Filter) -> Self {
        Self {
            value: Zeroizing::new(String::with_capacity(max_chars * BYTES_PER_CHAR)),
            masked,
            max_chars,
            filter,
        }
    }

    pub fn plain(max_chars: usize) -> Self {
        Self::new(false, max_chars, Filter::Any)
    }

    pub fn masked(max_chars: usize) -> Self {
        Self::new(true, max_chars, Filter::Any)
    }

    pub fn digits(max_chars: usize) -> Self {
        Self::new(false, max_chars, Filter::Digits)
    }

    pub fn with_text(mut self, text: &str) -> Self {
        for c in text.chars().take(self.max_chars) {
            self.value.push(c);
        }
        self
    }

    pub fn text(&self) -> &str {
        self.value.as_str()
    }

    pub fn char_count(&self) -> usize {
        self.value.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    pub fn clear(&mut self) {
        self.value.zeroize();
    }

    pub fn secret(&self) -> SecretString {
        SecretString::new(self.value.as_str())
    }

    /// Applies an editing key; returns true when the key belonged to the field.
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.clear();
                true
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                let allowed = match self.filter {
                    Filter::Any => !c.is_control(),
                    Filter::Digits => c.is_ascii_digit(),
                };
                if allowed && self.char_count() < self.max_chars {
                    self.value.push(c);
                }
                true
            }
            KeyCode::Backspace => {
                if let Some(c) = self.value.pop() {
                    // Overwrite the freed bytes so a removed character does not linger.
                    let len = self.value.len();
                    let mut tail = [0u8; 4];
                    let n = c.len_utf8();
                    self.value.push_str(std::str::from_utf8(&tail[..n]).unwrap_or(""));
                    tail.zeroize();
                    self.value.truncate(len);
                }
                true
            }
            _ => false,
        }
    }

    fn display(&self) -> String {
        if self.masked { "•".repeat(self.char_count()) } else { self.value.as_str().to_owned() }
    }
}

/// `› Label      [value█             ]`
pub struct FieldView<'a> {
    pub label: &'a str,
    pub field: &'a TextField,
    pub focused: bool,
    pub label_width: u16,
}

impl Widget for FieldView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let marker = if self.focused { "› " } else { "  " };
        let label = format!("{:<width$}", self.label, width = usize::from(self.label_width));
        let label_style = if self.focused { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() };
        let used = 2 + label.chars().count() + 1;
        let inner = usize::from(area.width).saturating_sub(used + 2).max(1);
        let text = self.field.display();
        let cursor = usize::from(self.focused);
        let chars: Vec<char> = text.chars().collect();
        // Show the end of a long value, where the typing happens.
        let visible_from = (chars.len() + cursor).saturating_sub(inner);
        let shown: String = chars[visible_from.min(chars.len())..].iter().collect();
        let pad = inner.saturating_sub(shown.chars().count() + cursor);
        let mut spans = vec![
            Span::styled(marker, Style::new().cyan()),
            Span::styled(label, label_style),
            Span::raw(" ["),
            Span::styled(shown, Style::new().add_modifier(Modifier::UNDERLINED)),
        ];
        if self.focused {
            spans.push(Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)));
        }
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::raw("]"));
        Line::from(spans).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_backspace_and_clear() {
        let mut f = TextField::masked(10);
        for c in "abc".chars() {
            assert!(f.handle_key(&key(KeyCode::Char(c))));
        }
        assert_eq!(f.text(), "abc");
        f.handle_key(&key(KeyCode::Backspace));
        assert_eq!(f.text(), "ab");
        f.handle_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert!(f.is_empty());
        assert_eq!(format!("{f:?}"), "TextField { chars: 0, masked: true }");
    }

    #[test]
    fn digits_only_and_length_limit() {
        let mut f = TextField::digits(6);
        for c in "12a345678".chars() {
            f.handle_key(&key(KeyCode::Char(c)));
        }
        assert_eq!(f.text(), "123456");
        assert!(!f.handle_key(&key(KeyCode::Enter)));
    }

    #[test]
    fn masked_view_hides_the_text() {
        let f = TextField::masked(10).with_text("hunter2");
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 1));
        FieldView { label: "Password", field: &f, focused: false, label_width: 9 }.render(buf.area, &mut buf);
        let line: String = (0..40).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        assert!(line.contains("•••••••"), "{line}");
        assert!(!line.contains("hunter2"));
    }
}
