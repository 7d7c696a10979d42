//! Step 4 of enabling (and the end of "Generate new backup codes"): the ten backup codes, with copy,
//! save to a file, and a question before leaving codes that were neither copied nor saved.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use time::OffsetDateTime;

use crate::domain::SecretString;
use crate::tui::clipboard::{CopyError, CopyMethod};
use crate::tui::savefile::{self, SaveError};
use crate::tui::screens::common::{Notice, Ui, sentence};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::TitledBox;
use crate::tui::widgets::popup::{Popup, wrapped_height};

const PATH_MAX_CHARS: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodesKind {
    /// The end of the enable wizard.
    Enabled,
    /// New codes replaced the old ones.
    Regenerated,
}

/// The buttons under the codes; Tab and the arrows move between them, Enter presses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodesButton {
    Copy,
    Save,
    Done,
}

const BUTTONS: [CodesButton; 3] = [CodesButton::Copy, CodesButton::Save, CodesButton::Done];

impl CodesButton {
    fn label(self) -> &'static str {
        match self {
            CodesButton::Copy => "Copy (c)",
            CodesButton::Save => "Save to a file (s)",
            CodesButton::Done => "Done",
        }
    }

    fn index(self) -> usize {
        match self {
            CodesButton::Copy => 0,
            CodesButton::Save => 1,
            CodesButton::Done => 2,
        }
    }

    fn next(self) -> Self {
        BUTTONS[(self.index() + 1) % BUTTONS.len()]
    }

    fn previous(self) -> Self {
        BUTTONS[(self.index() + BUTTONS.len() - 1) % BUTTONS.len()]
    }
}

#[derive(Debug)]
pub enum CodesMode {
    View,
    SavePrompt {
        field: TextField,
        pending: bool,
    },
    /// The file exists: replace it?
    Replace {
        path_input: String,
        pending: bool,
    },
    LeaveConfirm,
}

#[derive(Debug)]
pub struct CodesStep {
    pub codes: Vec<SecretString>,
    pub issuer: String,
    pub account: String,
    /// When the codes were made, for the file's header.
    pub created: OffsetDateTime,
    pub kind: CodesKind,
    pub copied: Option<CopyMethod>,
    pub saved: Option<PathBuf>,
    pub copying: bool,
    /// The button Enter presses.
    pub focus: CodesButton,
    pub mode: CodesMode,
    pub message: Option<Notice>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodesIntent {
    Nothing,
    Copy(SecretString),
    Save { path_input: String, contents: SecretString, overwrite: bool },
    Done,
}

impl CodesStep {
    pub fn new(
        codes: Vec<SecretString>,
        issuer: &str,
        account: &str,
        created: OffsetDateTime,
        kind: CodesKind,
    ) -> Self {
        Self {
            codes,
            issuer: issuer.to_owned(),
            account: account.to_owned(),
            created,
            kind,
            copied: None,
            saved: None,
            copying: false,
            focus: CodesButton::Done,
            mode: CodesMode::View,
            message: None,
        }
    }

    /// The codes went somewhere: the clipboard or a file.
    pub fn secured(&self) -> bool {
        self.copied.is_some() || self.saved.is_some()
    }

    pub fn is_pending(&self) -> bool {
        self.copying
            || matches!(
                self.mode,
                CodesMode::SavePrompt { pending: true, .. } | CodesMode::Replace { pending: true, .. }
            )
    }

    /// True while typing a path, so `?` and letters go to the field.
    pub fn accepts_text(&self) -> bool {
        matches!(self.mode, CodesMode::SavePrompt { .. })
    }

    fn contents(&self) -> SecretString {
        savefile::codes_file_contents(&self.issuer, &self.account, &self.codes, self.created)
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> CodesIntent {
        match &mut self.mode {
            CodesMode::View => match key.code {
                KeyCode::Char('c') | KeyCode::Char('C') => self.activate(CodesButton::Copy),
                KeyCode::Char('s') | KeyCode::Char('S') => self.activate(CodesButton::Save),
                KeyCode::Enter => self.activate(self.focus),
                KeyCode::Esc => self.activate(CodesButton::Done),
                KeyCode::Tab | KeyCode::Right | KeyCode::Down => {
                    self.focus = self.focus.next();
                    CodesIntent::Nothing
                }
                KeyCode::BackTab | KeyCode::Left | KeyCode::Up => {
                    self.focus = self.focus.previous();
                    CodesIntent::Nothing
                }
                _ => CodesIntent::Nothing,
            },
            CodesMode::SavePrompt { field, pending } => {
                if *pending {
                    return CodesIntent::Nothing;
                }
                match key.code {
                    KeyCode::Esc => {
                        self.mode = CodesMode::View;
                        CodesIntent::Nothing
                    }
                    KeyCode::Enter => {
                        let path_input = field.text().trim().to_owned();
                        if path_input.is_empty() {
                            self.message =
                                Some(Notice::error("Type a file name, such as ~/backup-codes.txt."));
                            return CodesIntent::Nothing;
                        }
                        *pending = true;
                        self.message = None;
                        CodesIntent::Save { path_input, contents: self.contents(), overwrite: false }
                    }
                    _ => {
                        field.handle_key(key);
                        CodesIntent::Nothing
                    }
                }
            }
            CodesMode::Replace { path_input, pending } => {
                if *pending {
                    return CodesIntent::Nothing;
                }
                match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => {
                        *pending = true;
                        let path_input = path_input.clone();
                        CodesIntent::Save { path_input, contents: self.contents(), overwrite: true }
                    }
                    KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                        let field = TextField::plain(PATH_MAX_CHARS).with_text(path_input);
                        self.mode = CodesMode::SavePrompt { field, pending: false };
                        self.message = Some(Notice::info("Not replaced. Choose another name."));
                        CodesIntent::Nothing
                    }
                    _ => CodesIntent::Nothing,
                }
            }
            CodesMode::LeaveConfirm => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => CodesIntent::Done,
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    self.mode = CodesMode::View;
                    CodesIntent::Nothing
                }
                _ => CodesIntent::Nothing,
            },
        }
    }

    /// Letter shortcuts press a button without moving the focus, so Enter stays on Done.
    fn activate(&mut self, button: CodesButton) -> CodesIntent {
        match button {
            CodesButton::Copy => {
                if self.copying {
                    return CodesIntent::Nothing;
                }
                self.copying = true;
                let text = self.codes.iter().map(SecretString::expose).collect::<Vec<_>>().join("\n");
                CodesIntent::Copy(SecretString::new(text))
            }
            CodesButton::Save => {
                let default = savefile::default_path(&self.issuer);
                self.mode = CodesMode::SavePrompt {
                    field: TextField::plain(PATH_MAX_CHARS).with_text(&default),
                    pending: false,
                };
                CodesIntent::Nothing
            }
            CodesButton::Done => {
                if self.secured() {
                    CodesIntent::Done
                } else {
                    self.mode = CodesMode::LeaveConfirm;
                    CodesIntent::Nothing
                }
            }
        }
    }

    pub fn on_copied(&mut self, result: Result<CopyMethod, CopyError>) {
        self.copying = false;
        match result {
            Ok(method) => {
                self.copied = Some(method);
                self.message = Some(match method {
                    CopyMethod::SystemClipboard => Notice::success(method.describe()),
                    CopyMethod::Osc52 { .. } => Notice::info(method.describe()),
                });
            }
            Err(e) => self.message = Some(Notice::error(format!("Not copied: {e}."))),
        }
    }

    pub fn on_saved(&mut self, result: Result<PathBuf, SaveError>) {
        let path_input = match &self.mode {
            CodesMode::SavePrompt { field, .. } => field.text().to_owned(),
            CodesMode::Replace { path_input, .. } => path_input.clone(),
            CodesMode::View | CodesMode::LeaveConfirm => return,
        };
        match result {
            Ok(path) => {
                self.message =
                    Some(Notice::success(format!("Saved to {} (readable only by you).", path.display())));
                self.saved = Some(path);
                self.mode = CodesMode::View;
            }
            Err(SaveError::Exists(path)) => {
                self.message = Some(Notice::warning(format!("{} already exists.", path.display())));
                self.mode = CodesMode::Replace { path_input, pending: false };
            }
            Err(e) => {
                self.message = Some(Notice::error(format!("Not saved: {}", sentence(&e.to_string()))));
                let field = TextField::plain(PATH_MAX_CHARS).with_text(&path_input);
                self.mode = CodesMode::SavePrompt { field, pending: false };
            }
        }
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        match self.mode {
            CodesMode::View => vec![
                ("c", "copy"),
                ("s", "save to a file"),
                ("Tab", "next button"),
                ("Enter", "press"),
                ("Esc", "done"),
                ("?", "help"),
            ],
            CodesMode::SavePrompt { .. } => vec![("Enter", "save"), ("Esc", "cancel"), ("Ctrl-U", "clear")],
            CodesMode::Replace { .. } => vec![("y", "replace"), ("n", "choose another name")],
            CodesMode::LeaveConfirm => vec![("y", "leave"), ("n", "stay")],
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let title = match self.kind {
            CodesKind::Enabled => "Backup codes",
            CodesKind::Regenerated => "New backup codes",
        };
        let inner = TitledBox::new(title).render(area, buf);
        let rows = u16::try_from(self.codes.len().div_ceil(2)).unwrap_or(u16::MAX);
        let mut status_lines = Vec::new();
        if self.copying {
            status_lines.push(Line::from(format!("{} Copying…", ui.spinner)).cyan());
        } else if let Some(m) = &self.message {
            status_lines.push(m.line());
        }
        let status_rows = wrapped_height(&status_lines, inner.width).max(1);
        let [intro, _, codes, _, buttons, _, status, prompt] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Length(rows),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(status_rows + 1),
            Constraint::Min(0),
        ])
        .areas(inner);
        let first = match self.kind {
            CodesKind::Enabled => "Two-factor authentication is on. ",
            CodesKind::Regenerated => "Your old backup codes no longer work. ",
        };
        let intro_text = Line::from(vec![
            Span::styled(first, Style::new().green()),
            Span::raw(
                "If you lose your phone, each of these codes signs you in once. Store them safely now \
                 (a password manager, or print them): they are not shown again.",
            ),
        ]);
        Paragraph::new(intro_text).wrap(Wrap { trim: false }).render(intro, buf);
        self.render_codes(codes, buf);
        self.render_buttons(buttons, buf);
        Paragraph::new(Text::from(status_lines)).wrap(Wrap { trim: false }).render(status, buf);
        match &self.mode {
            CodesMode::View | CodesMode::LeaveConfirm => {
                let mut done = Vec::new();
                if let Some(path) = &self.saved {
                    done.push(format!("saved to {}", path.display()));
                }
                if self.copied.is_some() {
                    done.push("copied".to_owned());
                }
                if !done.is_empty() {
                    Paragraph::new(
                        Line::from(format!("These codes are {}.", done.join(" and "))).dark_gray(),
                    )
                    .wrap(Wrap { trim: false })
                    .render(prompt, buf);
                }
            }
            CodesMode::SavePrompt { field, pending } => {
                let [label, input] =
                    Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(prompt);
                let text = if *pending {
                    format!("{} Saving…", ui.spinner)
                } else {
                    "Save the codes to this file (~ is your home folder):".to_owned()
                };
                Line::from(text).render(label, buf);
                FieldView { label: "File", field, focused: !*pending, label_width: 5 }.render(input, buf);
            }
            CodesMode::Replace { pending, .. } => {
                let text =
                    if *pending { format!("{} Saving…", ui.spinner) } else { "Replace it? y/n".to_owned() };
                Line::from(text).bold().yellow().render(prompt, buf);
            }
        }
        if matches!(self.mode, CodesMode::LeaveConfirm) {
            let lines = vec![
                Line::from(
                    "You have neither copied nor saved these backup codes, and they are not shown again.",
                ),
                Line::from(""),
                Line::from("Leave anyway? y/n").bold(),
            ];
            Popup::new("Leave without saving?", lines)
                .warning()
                .width(area.width.saturating_sub(4))
                .render(area, buf);
        }
    }

    fn render_buttons(&self, area: Rect, buf: &mut Buffer) {
        let active = matches!(self.mode, CodesMode::View);
        let mut spans = vec![Span::raw("  ")];
        for button in BUTTONS {
            let focused = active && button == self.focus;
            let done = match button {
                CodesButton::Copy => self.copied.is_some(),
                CodesButton::Save => self.saved.is_some(),
                CodesButton::Done => false,
            };
            let mark = if done { "✓ " } else { "" };
            let text = format!("[ {mark}{} ]", button.label());
            let style = if focused {
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else {
                Style::new()
            };
            spans.push(Span::raw(if focused { "› " } else { "  " }));
            spans.push(Span::styled(text, style));
            spans.push(Span::raw("  "));
        }
        Line::from(spans).render(area, buf);
    }

    fn render_codes(&self, area: Rect, buf: &mut Buffer) {
        let half = self.codes.len().div_ceil(2);
        let mut lines = Vec::new();
        for row in 0..half {
            let mut spans = vec![Span::raw("    ")];
            for (col, index) in [row, row + half].into_iter().enumerate() {
                if let Some(code) = self.codes.get(index) {
                    if col == 1 {
                        spans.push(Span::raw("        "));
                    }
                    spans.push(Span::styled(format!("{:>2}. ", index + 1), Style::new().dark_gray()));
                    spans.push(Span::styled(code.expose().to_owned(), Style::new().bold()));
                }
            }
            lines.push(Line::from(spans));
        }
        Paragraph::new(Text::from(lines)).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::tui::app::Msg;
    use crate::tui::clipboard::CopyMethod;
    use crate::tui::savefile::SaveError;
    use crate::tui::testing::*;

    #[test]
    fn backup_codes() {
        let app = at_codes();
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn backup_codes_save_prompt() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('s'));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn backup_codes_file_exists() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('s'));
        press(&mut app, KeyCode::Enter);
        app.update(Msg::Saved(Err(SaveError::Exists("/home/alice/usercenter-backup-codes.txt".into()))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn backup_codes_save_failed() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('s'));
        press(&mut app, KeyCode::Enter);
        app.update(Msg::Saved(Err(SaveError::DirNotFound("/home/alice/missing".into()))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn backup_codes_saved_and_copied() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('c'));
        app.update(Msg::Copied(Ok(CopyMethod::Osc52 { tmux: false })));
        press(&mut app, KeyCode::Char('s'));
        press(&mut app, KeyCode::Enter);
        app.update(Msg::Saved(Ok("/home/alice/usercenter-backup-codes.txt".into())));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn tab_moves_between_the_buttons_and_enter_presses() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Tab);
        let effect = press(&mut app, KeyCode::Enter);
        assert!(matches!(effect, Some(crate::tui::app::Effect::Copy(_))), "{effect:?}");
        app.update(Msg::Copied(Ok(CopyMethod::SystemClipboard)));
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Enter);
        assert!(screen_text(&app).contains("Save the codes to this file"));
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::BackTab);
        press(&mut app, KeyCode::BackTab);
        let effect = press(&mut app, KeyCode::Enter);
        assert!(matches!(effect, Some(crate::tui::app::Effect::LoadMe { .. })), "Done: {effect:?}");
    }

    #[test]
    fn backup_codes_leave_without_saving() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Enter);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn backup_codes_quit_confirm() {
        let mut app = at_codes();
        ctrl_c(&mut app);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
