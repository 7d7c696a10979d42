//! The user center: a sidebar (User › Profile, User › Security, Log out) and the selected page.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::common::{Notice, Ui, format_time};
use crate::domain::{BACKUP_CODE_COUNT, Me};
use crate::tui::widgets::panel::TitledBox;

/// At or below this many backup codes left, the app suggests new ones.
pub const FEW_BACKUP_CODES: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Profile,
    Security,
    LogOut,
}

const SECTIONS: [Section; 3] = [Section::Profile, Section::Security, Section::LogOut];

impl Section {
    fn label(self) -> &'static str {
        match self {
            Section::Profile => "Profile",
            Section::Security => "Security",
            Section::LogOut => "Log out",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Enable,
    Regenerate,
    Disable,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Enable => "Enable two-factor authentication",
            Action::Regenerate => "Generate new backup codes",
            Action::Disable => "Disable two-factor authentication",
        }
    }
}

/// The actions that apply to the account as it is now.
pub fn actions(me: &Me) -> &'static [Action] {
    if me.two_factor.enabled { &[Action::Regenerate, Action::Disable] } else { &[Action::Enable] }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Sidebar,
    Actions,
}

#[derive(Debug)]
pub struct HomeScreen {
    pub section: Section,
    pub focus: Focus,
    pub action: usize,
    pub notice: Option<Notice>,
    /// `me` is being refreshed.
    pub loading: bool,
    pub logging_out: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HomeIntent {
    Nothing,
    Start(Action),
    LogOut,
}

impl HomeScreen {
    pub fn new(section: Section, notice: Option<Notice>) -> Self {
        Self { section, focus: Focus::Sidebar, action: 0, notice, loading: false, logging_out: false }
    }

    pub fn is_pending(&self) -> bool {
        self.loading || self.logging_out
    }

    pub fn on_key(&mut self, key: &KeyEvent, me: &Me) -> HomeIntent {
        if self.logging_out {
            return HomeIntent::Nothing;
        }
        let actions = actions(me);
        // Letter shortcuts for the security actions, from anywhere on the page.
        let shortcut = match key.code {
            KeyCode::Char('e') => Some(Action::Enable),
            KeyCode::Char('g') => Some(Action::Regenerate),
            KeyCode::Char('d') => Some(Action::Disable),
            _ => None,
        };
        if let Some(action) = shortcut.filter(|a| actions.contains(a)) {
            self.notice = None;
            return HomeIntent::Start(action);
        }
        match self.focus {
            Focus::Sidebar => {
                let index = SECTIONS.iter().position(|s| *s == self.section).unwrap_or(0);
                match key.code {
                    KeyCode::Up | KeyCode::BackTab => {
                        self.section = SECTIONS[(index + SECTIONS.len() - 1) % SECTIONS.len()];
                    }
                    KeyCode::Down => self.section = SECTIONS[(index + 1) % SECTIONS.len()],
                    KeyCode::Tab | KeyCode::Right | KeyCode::Enter => match self.section {
                        Section::Security => {
                            self.focus = Focus::Actions;
                            self.action = 0;
                        }
                        Section::LogOut if key.code == KeyCode::Enter => {
                            self.logging_out = true;
                            return HomeIntent::LogOut;
                        }
                        Section::LogOut | Section::Profile => {
                            if key.code == KeyCode::Tab {
                                self.section = SECTIONS[(index + 1) % SECTIONS.len()];
                            }
                        }
                    },
                    _ => {}
                }
            }
            Focus::Actions => match key.code {
                KeyCode::Up => self.action = self.action.saturating_sub(1),
                KeyCode::Down | KeyCode::Tab => {
                    if self.action + 1 < actions.len() {
                        self.action += 1;
                    } else if key.code == KeyCode::Tab {
                        self.focus = Focus::Sidebar;
                        self.section = Section::LogOut;
                    }
                }
                KeyCode::Esc | KeyCode::Left | KeyCode::BackTab => self.focus = Focus::Sidebar,
                KeyCode::Enter => {
                    if let Some(action) = actions.get(self.action) {
                        self.notice = None;
                        return HomeIntent::Start(*action);
                    }
                }
                _ => {}
            },
        }
        HomeIntent::Nothing
    }

    pub fn hints(&self, me: &Me) -> Vec<(&'static str, &'static str)> {
        match (self.focus, self.section) {
            (Focus::Actions, _) => vec![("↑↓", "choose"), ("Enter", "start"), ("Esc", "back"), ("?", "help")],
            (Focus::Sidebar, Section::Security) => {
                let mut hints = vec![("↑↓", "move"), ("Enter", "actions")];
                if me.two_factor.enabled {
                    hints.extend([("g", "new backup codes"), ("d", "disable")]);
                } else {
                    hints.push(("e", "enable 2FA"));
                }
                hints.extend([("?", "help"), ("Ctrl-C", "quit")]);
                hints
            }
            (Focus::Sidebar, Section::LogOut) => {
                vec![("↑↓", "move"), ("Enter", "log out"), ("?", "help"), ("Ctrl-C", "quit")]
            }
            (Focus::Sidebar, Section::Profile) => vec![("↑↓", "move"), ("?", "help"), ("Ctrl-C", "quit")],
        }
    }

    pub fn render(&self, me: &Me, url: &str, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let [sidebar, content] =
            Layout::horizontal([Constraint::Length(20), Constraint::Fill(1)]).spacing(1).areas(area);
        self.render_sidebar(sidebar, buf);
        let inner = TitledBox::new(self.section.label()).render(content, buf);
        let mut lines: Vec<Line<'static>> = Vec::new();
        if let Some(notice) = &self.notice {
            lines.push(notice.line());
            lines.push(Line::from(""));
        }
        match self.section {
            Section::Profile => lines.extend(profile_lines(me, url)),
            Section::Security => lines.extend(self.security_lines(me)),
            Section::LogOut => {
                if self.logging_out {
                    lines.push(Line::from(format!("{} Signing out…", ui.spinner)).cyan());
                } else {
                    lines.push(Line::from("End this session: the server forgets its token."));
                    lines.push(Line::from(""));
                    lines.push(Line::from("Press Enter to log out."));
                }
            }
        }
        if self.loading {
            lines.push(Line::from(""));
            lines.push(Line::from(format!("{} Refreshing…", ui.spinner)).dark_gray());
        }
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false }).render(inner, buf);
    }

    fn render_sidebar(&self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(Line::from(" User ").bold());
        let inner = block.inner(area);
        block.render(area, buf);
        let mut lines = Vec::new();
        for section in SECTIONS {
            if section == Section::LogOut {
                lines.push(Line::from(""));
            }
            let selected = section == self.section;
            let marker = if selected { "› " } else { "  " };
            let mut style = Style::new();
            if selected {
                style = style.add_modifier(Modifier::BOLD);
                if self.focus == Focus::Sidebar {
                    style = style.add_modifier(Modifier::REVERSED);
                }
            }
            lines.push(Line::from(vec![Span::raw(marker), Span::styled(section.label(), style)]));
        }
        Paragraph::new(Text::from(lines)).render(inner, buf);
    }

    fn security_lines(&self, me: &Me) -> Vec<Line<'static>> {
        let tf = &me.two_factor;
        let mut lines = vec![Line::from("Two-factor authentication").bold()];
        if tf.enabled {
            let since = tf.enabled_at.map(|t| format!(" since {}", format_time(t))).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::raw("  Status:        "),
                Span::styled("On", Style::new().green().bold()),
                Span::raw(since),
            ]));
            let left = tf.backup_codes_remaining;
            let codes = format!("  Backup codes:  {left} of {BACKUP_CODE_COUNT} left");
            lines.push(if left <= FEW_BACKUP_CODES { Line::from(codes).yellow() } else { Line::from(codes) });
            if left <= FEW_BACKUP_CODES {
                lines.push(Line::from(""));
                lines.push(few_codes_nudge(left).line());
            }
        } else {
            lines.push(Line::from(vec![
                Span::raw("  Status:        "),
                Span::styled("Off", Style::new().yellow().bold()),
            ]));
            lines.push(Line::from(""));
            lines.push(Line::from(
                "Protect your account with a code from an authenticator app on your phone, asked at each sign-in.",
            ));
        }
        lines.push(Line::from(""));
        lines.push(Line::from("Actions").bold());
        for (i, action) in actions(me).iter().enumerate() {
            let focused = self.focus == Focus::Actions && i == self.action;
            let marker = if focused { "› " } else { "  " };
            let style = if focused {
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else {
                Style::new()
            };
            lines.push(Line::from(vec![Span::raw(marker), Span::styled(action.label(), style)]));
        }
        lines
    }
}

fn profile_lines(me: &Me, url: &str) -> Vec<Line<'static>> {
    let status = if me.two_factor.enabled { "On" } else { "Off" };
    vec![
        Line::from(vec![
            Span::raw("Username:                   "),
            Span::styled(me.username.clone(), Style::new().bold()),
        ]),
        Line::from(format!("Two-factor authentication:  {status}")),
        Line::from(format!("Server:                     {url}")),
    ]
}

/// "Only N backup codes left: generate new ones."
pub fn few_codes_nudge(left: u32) -> Notice {
    let codes = if left == 1 { "code" } else { "codes" };
    Notice::warning(format!(
        "Only {left} backup {codes} left. Generate new ones (Security › Generate new backup codes) so you are not locked out."
    ))
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::domain::LoginResponse;
    use crate::tui::app::Reply;
    use crate::tui::testing::*;

    #[test]
    fn security_off() {
        let app = signed_in(me(false, 0));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn security_on_after_backup_code_login() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
        type_text(&mut app, "abcde-fghjk");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::SecondFactor(Ok(session(Some(2)))));
        reply(&mut app, Reply::Me(Ok(me(true, 2))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn security_actions_focused() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Down);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn profile() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Up);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn log_out() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Down);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
