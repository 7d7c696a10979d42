//! Security: two-factor authentication's status and the actions that apply to it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};

use super::{Open, Page, PageKey, PageView};
use crate::client::ClientError;
use crate::domain::{BACKUP_CODE_COUNT, Me};
use crate::tui::app::SignedInRoute;
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Cx, Session, Ui};
use crate::tui::screens::regenerate::RegenReason;
use crate::tui::text::format_time;

pub const LABEL: &str = "Security";

/// At or below this many backup codes left, the app suggests new ones.
pub const FEW_BACKUP_CODES: u32 = 3;

#[derive(Clone, Copy, Debug)]
pub struct Mode {
    focused: bool,
    enabled: bool,
    /// The workspace requires 2FA: it cannot be turned off.
    required: bool,
}

const KEYS: &[KeyBinding<Mode>] = &[
    KeyBinding::new("Enter", "actions").also("Tab →").when(|m| !m.focused, "on Security"),
    KeyBinding::new("g", "new backup codes").when(|m| !m.focused && m.enabled, "when 2FA is on"),
    KeyBinding::new("d", "disable")
        .when(|m| !m.focused && m.enabled && !m.required, "when 2FA is on, unless required"),
    KeyBinding::new("e", "enable 2FA").when(|m| !m.focused && !m.enabled, "when 2FA is off"),
    KeyBinding::new("↑↓", "choose").also("j k").when(|m| m.focused, "in the actions"),
    KeyBinding::new("Enter", "start").when(|m| m.focused, "in the actions"),
    KeyBinding::new("Esc", "back").also("← Shift-Tab").when(|m| m.focused, "in the actions"),
];

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

    fn route(self) -> SignedInRoute {
        match self {
            Action::Enable => SignedInRoute::Enable,
            Action::Regenerate => SignedInRoute::Regenerate(RegenReason::Requested),
            Action::Disable => SignedInRoute::Disable,
        }
    }
}

/// The actions that apply to the account as it is now (Disable shown, but unavailable, when the
/// workspace requires 2FA: see [`available`]).
pub fn actions(me: &Me) -> &'static [Action] {
    if me.two_factor.enabled { &[Action::Regenerate, Action::Disable] } else { &[Action::Enable] }
}

/// Whether the action can be started: not Disable while the workspace requires 2FA.
fn available(action: Action, me: &Me) -> bool {
    !(action == Action::Disable && me.policy.two_factor_required)
}

#[derive(Debug, Default)]
pub struct SecurityPage {
    /// The action Enter starts, while the page has the focus.
    action: usize,
}

impl Page for SecurityPage {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn keys(&self, me: &Me, focused: bool) -> Vec<Key> {
        keys::resolve(
            KEYS,
            Mode { focused, enabled: me.two_factor.enabled, required: me.policy.two_factor_required },
        )
    }

    fn reference(&self) -> Vec<Key> {
        keys::document(KEYS)
    }

    fn open(&mut self, _key: KeyCode, _cx: &mut Cx<'_, Session>) -> Open {
        self.action = 0;
        Open::Focus
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> PageKey {
        let actions = actions(&cx.account.me);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.action = self.action.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => {
                if self.action + 1 < actions.len() {
                    self.action += 1;
                } else if key.code == KeyCode::Tab {
                    return PageKey::Next;
                }
            }
            KeyCode::Esc | KeyCode::Left | KeyCode::BackTab => return PageKey::Leave,
            KeyCode::Enter => {
                if let Some(&action) = actions.get(self.action)
                    && available(action, &cx.account.me)
                {
                    return PageKey::Go(action.route());
                }
            }
            _ => {}
        }
        PageKey::Stay
    }

    /// Letter shortcuts for the actions, from anywhere on the user center.
    fn shortcut(&self, key: &KeyEvent, me: &Me) -> Option<SignedInRoute> {
        let action = match key.code {
            KeyCode::Char('e') => Action::Enable,
            KeyCode::Char('g') => Action::Regenerate,
            KeyCode::Char('d') => Action::Disable,
            _ => return None,
        };
        (actions(me).contains(&action) && available(action, me)).then(|| action.route())
    }

    fn lines(&self, session: &Session, ui: &Ui, view: PageView) -> Vec<Line<'static>> {
        let (me, focused) = (&session.me, view.focused);
        let tf = &me.two_factor;
        let mut lines = vec![Line::from("Two-factor authentication").bold()];
        if tf.enabled {
            let since =
                tf.enabled_at.map(|t| format!(" since {}", format_time(t, ui.time_zone))).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::raw("  Status:        "),
                Span::styled("On", Style::new().green().bold()),
                Span::raw(since),
            ]));
            let left = tf.backup_codes_remaining;
            let codes = format!("  Backup codes:  {left} of {BACKUP_CODE_COUNT} left");
            lines.push(if left <= FEW_BACKUP_CODES {
                Line::from(format!("{codes}: press g for new ones")).yellow()
            } else {
                Line::from(codes)
            });
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
        let mut unavailable = false;
        for (i, &action) in actions(me).iter().enumerate() {
            let selected = focused && i == self.action;
            let marker = if selected { "› " } else { "  " };
            let mut style = if selected {
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else {
                Style::new()
            };
            let mut label = action.label().to_owned();
            if !available(action, me) {
                unavailable = true;
                style = style.dark_gray();
                label.push_str(" (unavailable)");
            }
            lines.push(Line::from(vec![Span::raw(marker), Span::styled(label, style)]));
        }
        if unavailable {
            lines.push(Line::from(""));
            lines.push(Notice::info(ClientError::TwoFactorRequired.to_string()).line());
        }
        lines
    }
}
