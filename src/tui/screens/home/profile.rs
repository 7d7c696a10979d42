//! Profile: who is signed in, and where.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Page, PageView};
use crate::domain::Me;
use crate::tui::keys::Key;
use crate::tui::screen::{Session, Ui};

#[derive(Debug)]
pub struct ProfilePage;

impl Page for ProfilePage {
    fn label(&self) -> &'static str {
        "Profile"
    }

    fn keys(&self, _me: &Me, _focused: bool) -> Vec<Key> {
        Vec::new()
    }

    fn reference(&self) -> Vec<Key> {
        Vec::new()
    }

    fn lines(&self, session: &Session, ui: &Ui, _view: PageView) -> Vec<Line<'static>> {
        let me = &session.me;
        let status = if me.two_factor.enabled { "On" } else { "Off" };
        vec![
            Line::from(vec![
                Span::raw("Username:                   "),
                Span::styled(me.username.clone(), Style::new().bold()),
            ]),
            Line::from(format!("Two-factor authentication:  {status}")),
            Line::from(format!("Server:                     {}", ui.api_url)),
        ]
    }
}
