//! A one-line text field, optionally masked, whose text is wiped from memory when dropped.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use zeroize::{Zeroize, Zeroizing};

use crate::domain::SecretString;
use crate::tui::keys::KeyBinding;

/// The editing keys of every text field.
pub const KEYS: &[KeyBinding] = &[
    KeyBinding::new("← →", "move the cursor").also("Home End Ctrl-A Ctrl-E"),
    KeyBinding::new("Backspace", "delete").also("Delete"),
    KeyBinding::new("Ctrl-U", "clear the field"),
    KeyBinding::new("Ctrl-W", "delete the word before the cursor"),
];

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
    /// Insertion point, in characters.
    cursor: usize,
    masked: bool,
    max_chars: usize,
    filter: Filter,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(test)]
        if crate::domain::secret::shown_in_tests::on() {
            return f.debug_struct("TextField").field("value", &self.value.as_str()).finish();
        }
        f.debug_struct("TextField").field("chars", &self.char_count()).field("masked", &self.masked).finish()
    }
}

impl TextField {
    fn new(masked: bool, max_chars: usize, filter: Filter) -> Self {
        Self {
            value: Zeroizing::new(String::with_capacity(max_chars * BYTES_PER_CHAR)),
            cursor: 0,
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
        self.cursor = self.char_count();
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
        self.cursor = 0;
    }

    pub fn secret(&self) -> SecretString {
        SecretString::new(self.value.as_str())
    }

    fn byte_index(&self, chars: usize) -> usize {
        self.value.char_indices().nth(chars).map_or(self.value.len(), |(i, _)| i)
    }

    /// Removes the character at `chars`, overwriting the bytes it frees so it does not linger.
    fn remove_at(&mut self, chars: usize) {
        let index = self.byte_index(chars);
        if index >= self.value.len() {
            return;
        }
        let removed = self.value.remove(index);
        let len = self.value.len();
        for _ in 0..removed.len_utf8() {
            self.value.push('\0');
        }
        self.value.truncate(len);
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
            KeyCode::Char('w') if ctrl => {
                // As in a shell: the spaces before the cursor, then the word before them.
                let chars: Vec<char> = self.value.chars().collect();
                let mut start = self.cursor.min(chars.len());
                while start > 0 && chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                while start > 0 && !chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                for _ in start..self.cursor {
                    self.remove_at(start);
                }
                self.cursor = start;
                true
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                true
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = self.char_count();
                true
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                let allowed = match self.filter {
                    Filter::Any => !c.is_control(),
                    Filter::Digits => c.is_ascii_digit(),
                };
                if allowed && self.char_count() < self.max_chars {
                    let index = self.byte_index(self.cursor);
                    self.value.insert(index, c);
                    self.cursor += 1;
                }
                true
            }
            KeyCode::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    self.remove_at(self.cursor);
                }
                true
            }
            KeyCode::Delete => {
                self.remove_at(self.cursor);
                true
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                true
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.char_count());
                true
            }
            KeyCode::Home => {
                self.cursor = 0;
                true
            }
            KeyCode::End => {
                self.cursor = self.char_count();
                true
            }
            _ => false,
        }
    }

    fn display_chars(&self) -> Vec<char> {
        if self.masked { vec!['•'; self.char_count()] } else { self.value.chars().collect() }
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
        let used = 2 + label.chars().count() + 2 + 1;
        let inner = usize::from(area.width).saturating_sub(used).max(1);
        let chars = self.field.display_chars();
        let cursor = self.field.cursor.min(chars.len());
        // One cell for the cursor at the end; scroll so the cursor stays visible.
        let total = chars.len() + 1;
        let start = if total <= inner { 0 } else { (cursor + 1).saturating_sub(inner).min(total - inner) };
        let end = (start + inner).min(chars.len());
        let mut spans = vec![
            Span::styled(marker, Style::new().cyan()),
            Span::styled(label, label_style),
            Span::raw(" ["),
        ];
        let text_style = Style::new().add_modifier(Modifier::UNDERLINED);
        let cursor_style = Style::new().add_modifier(Modifier::REVERSED);
        let mut shown = 0;
        for (i, c) in chars.iter().enumerate().take(end).skip(start) {
            let style = if self.focused && i == cursor { cursor_style } else { text_style };
            spans.push(Span::styled(c.to_string(), style));
            shown += 1;
        }
        if self.focused && cursor == chars.len() && shown < inner {
            spans.push(Span::styled(" ", cursor_style));
            shown += 1;
        }
        spans.push(Span::raw(" ".repeat(inner.saturating_sub(shown))));
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

    fn render(field: &TextField, width: u16) -> String {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, 1));
        FieldView { label: "Path", field, focused: true, label_width: 5 }.render(buf.area, &mut buf);
        (0..width).map(|x| buf[(x, 0)].symbol().to_owned()).collect()
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
    fn editing_in_the_middle() {
        let mut f = TextField::plain(40).with_text("~/codes.txt");
        for _ in 0..4 {
            f.handle_key(&key(KeyCode::Left));
        }
        for c in "-backupX".chars() {
            f.handle_key(&key(KeyCode::Char(c)));
        }
        f.handle_key(&key(KeyCode::Backspace));
        assert_eq!(f.text(), "~/codes-backup.txt");
        f.handle_key(&key(KeyCode::Home));
        f.handle_key(&key(KeyCode::Delete));
        assert_eq!(f.text(), "/codes-backup.txt");
        f.handle_key(&key(KeyCode::End));
        f.handle_key(&key(KeyCode::Char('x')));
        assert_eq!(f.text(), "/codes-backup.txtx");
    }

    #[test]
    fn ctrl_w_deletes_the_word_before_the_cursor() {
        let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
        let mut f = TextField::plain(40).with_text("correct horse  battery");
        f.handle_key(&ctrl_w);
        assert_eq!(f.text(), "correct horse  ");
        f.handle_key(&ctrl_w);
        assert_eq!(f.text(), "correct ");
        f.handle_key(&key(KeyCode::Left));
        f.handle_key(&key(KeyCode::Left));
        f.handle_key(&ctrl_w);
        assert_eq!(f.text(), "t ");
        f.handle_key(&key(KeyCode::Home));
        f.handle_key(&ctrl_w);
        assert_eq!(f.text(), "t ", "nothing before the cursor");
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

    #[test]
    fn long_text_scrolls_to_the_cursor() {
        let f = TextField::plain(100).with_text("/a/very/long/path/to/the/backup-codes.txt");
        let line = render(&f, 30);
        assert!(line.contains("backup-codes.txt"), "{line}");
        assert!(line.ends_with(']'), "{line}");
        assert_eq!(line.chars().count(), 30);
    }
}
