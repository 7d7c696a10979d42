//! The user center: a sidebar of pages (Profile, Security, Log out) and the selected page.
//!
//! Each page is a [`Page`]: adding one is a new module here and a line in `pages()`.

mod log_out;
mod profile;
mod security;

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

pub use self::security::{FEW_BACKUP_CODES, few_codes_nudge};
use crate::domain::Me;
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Screen, Session, Transition, Ui, unasked};
use crate::tui::widgets::panel::TitledBox;

/// The sidebar, top to bottom.
fn pages() -> Vec<Box<dyn Page>> {
    vec![
        Box::new(profile::ProfilePage),
        Box::new(security::SecurityPage::default()),
        Box::new(log_out::LogOutPage::default()),
    ]
}

/// The page the user center opens on.
const OPENS_ON: &str = security::LABEL;

/// The keys' mode: whether the page has the focus (rather than the sidebar).
const LEAD_KEYS: &[KeyBinding<bool>] =
    &[KeyBinding::new("↑↓", "move").also("j k Shift-Tab").when(|focused| !focused, "in the sidebar")];
const TAIL_KEYS: &[KeyBinding<bool>] =
    &[keys::help_question_mark(), keys::quit().hinted_if(|focused| !focused)];

/// One page of the user center.
pub trait Page: fmt::Debug {
    /// Its sidebar entry and the title of its box.
    fn label(&self) -> &'static str;

    /// A blank line above its sidebar entry.
    fn stands_apart(&self) -> bool {
        false
    }

    /// Its keys; `focused` when the page has the focus rather than the sidebar.
    fn keys(&self, me: &Me, focused: bool) -> Vec<Key>;

    /// Its keys for the help and the README.
    fn reference(&self) -> Vec<Key>;

    /// Enter, Tab or → on its sidebar entry.
    fn open(&mut self, _key: KeyCode, _cx: &mut Cx<'_, Session>) -> Open {
        Open::Nothing
    }

    /// A key while the page has the focus.
    fn on_key(&mut self, _key: &KeyEvent, _cx: &mut Cx<'_, Session>) -> PageKey {
        PageKey::Leave
    }

    /// A key that works from anywhere on the user center.
    fn shortcut(&self, _key: &KeyEvent, _me: &Me) -> Option<SignedInRoute> {
        None
    }

    fn activity(&self) -> Activity {
        Activity::Idle
    }

    fn awaits(&self, _id: RequestId) -> bool {
        false
    }

    fn on_reply(&mut self, answer: Answer, _cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        unasked(&answer.reply)
    }

    fn lines(&self, me: &Me, ui: &Ui, focused: bool) -> Vec<Line<'static>>;
}

/// What opening a page from the sidebar did.
#[derive(Debug, PartialEq, Eq)]
pub enum Open {
    /// The page has keys of its own: it takes the focus.
    Focus,
    /// The page acted (sent a request).
    Acted,
    Nothing,
}

/// What a key did on a page that has the focus.
#[derive(Debug)]
pub enum PageKey {
    Stay,
    /// Back to the sidebar.
    Leave,
    /// On to the next page's sidebar entry (Tab past the page's last item).
    Next,
    Go(SignedInRoute),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Sidebar,
    Page,
}

#[derive(Debug)]
pub struct HomeScreen {
    pages: Vec<Box<dyn Page>>,
    selected: usize,
    focus: Focus,
    /// Said on top of the page it was said on; gone once another page is chosen.
    notice: Option<Notice>,
    /// The notice says the server could not be reached.
    notice_lost_connection: bool,
    /// The account is being reloaded.
    refreshing: Option<RequestId>,
}

impl HomeScreen {
    pub fn new(notice: Option<Notice>) -> Self {
        let pages = pages();
        let selected = pages.iter().position(|p| p.label() == OPENS_ON).unwrap_or(0);
        Self {
            pages,
            selected,
            focus: Focus::Sidebar,
            notice,
            notice_lost_connection: false,
            refreshing: None,
        }
    }

    /// Reloads the account from the server.
    pub fn refresh(&mut self, cx: &mut Cx<'_, Session>) {
        self.refreshing = Some(cx.send(ApiCall::LoadMe { token: cx.token() }));
    }

    /// Keys for every page, for the README.
    pub fn reference() -> Vec<Key> {
        let mut keys = keys::document(LEAD_KEYS);
        keys.extend(pages().iter().flat_map(|page| page.reference()));
        keys.extend(keys::document(TAIL_KEYS));
        keys
    }

    fn step(&mut self, forward: bool) {
        // What was said belongs to the page it was said on.
        self.notice = None;
        let count = self.pages.len();
        self.selected =
            if forward { (self.selected + 1) % count } else { (self.selected + count - 1) % count };
    }

    fn render_sidebar(&self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(Line::from(" User ").bold());
        let inner = block.inner(area);
        block.render(area, buf);
        let mut lines = Vec::new();
        for (index, page) in self.pages.iter().enumerate() {
            if page.stands_apart() {
                lines.push(Line::from(""));
            }
            let selected = index == self.selected;
            let marker = if selected { "› " } else { "  " };
            let mut style = Style::new();
            if selected {
                style = style.add_modifier(Modifier::BOLD);
                if self.focus == Focus::Sidebar {
                    style = style.add_modifier(Modifier::REVERSED);
                }
            }
            lines.push(Line::from(vec![Span::raw(marker), Span::styled(page.label(), style)]));
        }
        Paragraph::new(Text::from(lines)).render(inner, buf);
    }
}

impl Screen for HomeScreen {
    type Account = Session;
    type Route = SignedInRoute;

    fn activity(&self) -> Activity {
        let page_waits = self.pages.iter().any(|p| p.activity() == Activity::Waiting);
        if self.refreshing.is_some() || page_waits { Activity::Waiting } else { Activity::Idle }
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.refreshing == Some(id) || self.pages.iter().any(|p| p.awaits(id))
    }

    fn accepts_text(&self) -> bool {
        false
    }

    fn reconnected(&mut self) {
        if self.notice_lost_connection {
            self.notice = None;
            self.notice_lost_connection = false;
        }
    }

    fn keys(&self, session: &Session) -> Vec<Key> {
        let focused = self.focus == Focus::Page;
        let mut keys = keys::resolve(LEAD_KEYS, focused);
        keys.extend(self.pages[self.selected].keys(&session.me, focused));
        keys.extend(keys::resolve(TAIL_KEYS, focused));
        keys
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        // While a page waits for its answer (logging out), keys wait too.
        if self.pages.iter().any(|p| p.activity() == Activity::Waiting) {
            return Transition::Stay;
        }
        if let Some(route) = self.pages.iter().find_map(|p| p.shortcut(key, &cx.account.me)) {
            self.notice = None;
            return Transition::Go(route);
        }
        let page = &mut self.pages[self.selected];
        match self.focus {
            Focus::Sidebar => match key.code {
                KeyCode::Up | KeyCode::BackTab | KeyCode::Char('k') => self.step(false),
                KeyCode::Down | KeyCode::Char('j') => self.step(true),
                KeyCode::Tab | KeyCode::Right | KeyCode::Enter => match page.open(key.code, cx) {
                    Open::Focus => self.focus = Focus::Page,
                    Open::Acted => {}
                    Open::Nothing => {
                        if key.code == KeyCode::Tab {
                            self.step(true);
                        }
                    }
                },
                _ => {}
            },
            Focus::Page => match page.on_key(key, cx) {
                PageKey::Stay => {}
                PageKey::Leave => self.focus = Focus::Sidebar,
                PageKey::Next => {
                    self.focus = Focus::Sidebar;
                    self.step(true);
                }
                PageKey::Go(route) => {
                    self.notice = None;
                    return Transition::Go(route);
                }
            },
        }
        Transition::Stay
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if self.refreshing == Some(answer.id) {
            self.refreshing = None;
            match answer.reply {
                Reply::Me(Ok(me)) => cx.account.me = me,
                Reply::Me(Err(error)) => {
                    self.notice = Some(Notice::error(format!("Could not refresh your account: {error}")));
                    self.notice_lost_connection = error.is_transport();
                    cx.connection_lost(&error);
                }
                other => return unasked(&other),
            }
            return Transition::Stay;
        }
        match self.pages.iter_mut().find(|p| p.awaits(answer.id)) {
            Some(page) => page.on_reply(answer, cx),
            None => unasked(&answer.reply),
        }
    }

    fn render(&self, session: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let [sidebar, content] =
            Layout::horizontal([Constraint::Length(20), Constraint::Fill(1)]).spacing(1).areas(area);
        self.render_sidebar(sidebar, buf);
        let page = &self.pages[self.selected];
        let inner = TitledBox::new(page.label()).render(content, buf);
        let mut lines: Vec<Line<'static>> = Vec::new();
        if let Some(notice) = &self.notice {
            lines.push(notice.line());
            lines.push(Line::from(""));
        }
        lines.extend(page.lines(&session.me, ui, self.focus == Focus::Page));
        if self.refreshing.is_some() {
            lines.push(Line::from(""));
            lines.push(Line::from(format!("{} Refreshing…", ui.spinner)).dark_gray());
        }
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false }).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::domain::LoginResponse;
    use crate::tui::app::msg::Reply;
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

#[cfg(test)]
mod time_zone_tests {
    use crate::tui::testing::*;

    #[test]
    fn security_shows_the_time_in_the_local_zone_named() {
        let zone = jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("a POSIX zone");
        let app = signed_in(me(true, 10)).in_time_zone(zone);
        let text = screen_text(&app);
        assert!(text.contains("On since 2026-11-01 10:30 CET"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
