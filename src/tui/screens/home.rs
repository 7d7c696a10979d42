//! The user center: a sidebar of pages (Profile, Security, Activity, Sessions, Log out) and the
//! selected page.
//!
//! Each page is a [`Page`]: adding one is a new module here and a line in `pages()`.

mod activity;
mod list;
mod log_out;
mod profile;
mod security;
mod sessions;

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

pub use self::security::FEW_BACKUP_CODES;
use crate::domain::Me;
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Screen, Session, Transition, Ui, unasked};
use crate::tui::widgets::panel::TitledBox;
use crate::tui::widgets::popup::wrapped_height;

/// The sidebar, top to bottom.
fn pages() -> Vec<Box<dyn Page>> {
    vec![
        Box::new(profile::ProfilePage),
        Box::new(security::SecurityPage::default()),
        Box::new(activity::ActivityPage::default()),
        Box::new(sessions::SessionsPage::default()),
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

    /// Its sidebar entry was just chosen: the page shows (a page of the server's data loads it).
    fn shown(&mut self, _cx: &mut Cx<'_, Session>) {}

    /// Two-factor authentication was just turned on or off (the account is fresh from the server).
    fn factor_changed(&mut self, _cx: &mut Cx<'_, Session>) {}

    /// Keys wait until its answer arrives (logging out).
    fn holds_keys(&self) -> bool {
        false
    }

    /// It asks a question that needs an answer now: it is shown, with the focus.
    fn takes_focus(&self) -> bool {
        false
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

    /// What it shows in `view`'s room (below what the user center says on top).
    fn lines(&self, session: &Session, ui: &Ui, view: PageView) -> Vec<Line<'static>>;
}

/// The room a page has, and whether it has the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageView {
    pub focused: bool,
    pub width: u16,
    pub height: u16,
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
    /// Said on top of the page they were said on; gone once another page is chosen.
    notices: Vec<Notice>,
    /// The notice says the server could not be reached.
    notice_lost_connection: bool,
    /// The account is being reloaded.
    refreshing: Option<RequestId>,
    /// Two-factor authentication was just turned on or off: the pages hear of it once the account
    /// is fresh.
    factor_changed: bool,
}

impl HomeScreen {
    pub fn new(notices: Vec<Notice>) -> Self {
        let pages = pages();
        let selected = pages.iter().position(|p| p.label() == OPENS_ON).unwrap_or(0);
        Self {
            pages,
            selected,
            focus: Focus::Sidebar,
            notices,
            notice_lost_connection: false,
            refreshing: None,
            factor_changed: false,
        }
    }

    /// After two-factor authentication was turned on or off: the account reloads, then the other
    /// sessions are offered to be signed out.
    pub fn after_factor_change(notice: Notice, cx: &mut Cx<'_, Session>) -> Self {
        let mut home = Self::new(vec![notice]);
        home.refresh(cx);
        home.factor_changed = true;
        home
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

    fn step(&mut self, forward: bool, cx: &mut Cx<'_, Session>) {
        // What was said belongs to the page it was said on.
        self.notices.clear();
        let count = self.pages.len();
        self.selected =
            if forward { (self.selected + 1) % count } else { (self.selected + count - 1) % count };
        self.pages[self.selected].shown(cx);
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
            self.notices.clear();
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
        if self.pages.iter().any(|p| p.holds_keys()) {
            return Transition::Stay;
        }
        if let Some(route) = self.pages.iter().find_map(|p| p.shortcut(key, &cx.account.me)) {
            self.notices.clear();
            return Transition::Go(route);
        }
        let page = &mut self.pages[self.selected];
        match self.focus {
            Focus::Sidebar => match key.code {
                KeyCode::Up | KeyCode::BackTab | KeyCode::Char('k') => self.step(false, cx),
                KeyCode::Down | KeyCode::Char('j') => self.step(true, cx),
                KeyCode::Tab | KeyCode::Right | KeyCode::Enter => match page.open(key.code, cx) {
                    Open::Focus => self.focus = Focus::Page,
                    Open::Acted => {}
                    Open::Nothing => {
                        if key.code == KeyCode::Tab {
                            self.step(true, cx);
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
                    self.step(true, cx);
                }
                PageKey::Go(route) => {
                    self.notices.clear();
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
                Reply::Me(Ok(me)) => {
                    cx.account.me = me;
                    if std::mem::take(&mut self.factor_changed) {
                        self.pages.iter_mut().for_each(|p| p.factor_changed(cx));
                    }
                }
                Reply::Me(Err(error)) => {
                    self.notices.push(Notice::error(format!("Could not refresh your account: {error}")));
                    self.notice_lost_connection = error.is_transport();
                    cx.connection_lost(&error);
                }
                other => return unasked(&other),
            }
            return Transition::Stay;
        }
        let transition = match self.pages.iter_mut().find(|p| p.awaits(answer.id)) {
            Some(page) => page.on_reply(answer, cx),
            None => unasked(&answer.reply),
        };
        // A page with a question to answer now shows it, what was said on top staying.
        if let Some(asking) = self.pages.iter().position(|p| p.takes_focus()) {
            self.selected = asking;
            self.focus = Focus::Page;
        }
        transition
    }

    fn render(&self, session: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let [sidebar, content] =
            Layout::horizontal([Constraint::Length(20), Constraint::Fill(1)]).spacing(1).areas(area);
        self.render_sidebar(sidebar, buf);
        let page = &self.pages[self.selected];
        let inner = TitledBox::new(page.label()).render(content, buf);
        let mut lines: Vec<Line<'static>> = self.notices.iter().map(Notice::line).collect();
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        let said = wrapped_height(&lines, inner.width);
        let refreshing_rows = if self.refreshing.is_some() { 2 } else { 0 };
        let view = PageView {
            focused: self.focus == Focus::Page,
            width: inner.width,
            height: inner.height.saturating_sub(said + refreshing_rows),
        };
        lines.extend(page.lines(session, ui, view));
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
        reply(&mut app, Reply::Events(Ok(quiet_history())));
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
        go_to(&mut app, "Log out");
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

/// What signing in says at once, as SSH prints the last login.
#[cfg(test)]
mod sign_in_notice_tests {
    use crossterm::event::KeyCode;

    use crate::domain::{EventKind, EventsPage, SignInFailure};
    use crate::tui::app::App;
    use crate::tui::testing::*;

    fn after(me: crate::domain::Me, since: Vec<crate::domain::Event>) -> App {
        let mut events = vec![signed_in_event(20, 0)];
        events.extend(since);
        events.push(signed_in_event(10, 2 * 24 * 60));
        signed_in_after(me, EventsPage { events, next_before: None })
    }

    #[test]
    fn failed_attempts_since_the_last_visit() {
        let failed = |reason| EventKind::SignInFailed { reason };
        let app = after(
            me(true, 10),
            vec![
                event(13, failed(SignInFailure::InvalidCode), 4, Some("203.0.113.7")),
                event(12, failed(SignInFailure::InvalidPassword), 9, Some("198.51.100.23")),
            ],
        );
        let text = screen_text(&app);
        assert!(text.contains("2 failed sign-in attempts since your last visit, the"), "{text}");
        assert!(text.contains("203.0.113.7."), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn a_lock_since_the_last_visit() {
        let app = after(
            me(true, 10),
            vec![
                event(13, EventKind::SecondFactorUnlocked {}, 30, None),
                event(12, EventKind::SecondFactorLocked {}, 90, Some("203.0.113.7")),
            ],
        );
        assert!(screen_text(&app).contains("Your account was locked after too many wrong codes"));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn a_factor_change_since_the_last_visit() {
        let app = after(
            me(true, 10),
            vec![
                event(13, EventKind::BackupCodesRegenerated {}, 60, Some("198.51.100.23")),
                event(12, EventKind::PasswordChanged {}, 24 * 60, None),
            ],
        );
        let text = screen_text(&app);
        assert!(text.contains("New backup codes were generated since your last"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn few_codes_left_offers_g() {
        let mut app = after(me(true, 2), Vec::new());
        let text = screen_text(&app);
        assert!(text.contains("Only 2 backup codes left: press g to generate new"), "{text}");
        assert!(text.contains("2 of 10 left: press g for new ones"), "the Security page too:\n{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
        press(&mut app, KeyCode::Char('g'));
        assert!(app.screen::<crate::tui::screens::regenerate::RegenerateScreen>().is_some());
    }

    #[test]
    fn a_quiet_visit_says_nothing_and_the_notices_stay_on_their_page() {
        let app = signed_in(me(true, 10));
        assert!(!screen_text(&app).contains('!'), "{}", screen_text(&app));
        let mut app = after(me(true, 2), Vec::new());
        press(&mut app, KeyCode::Up);
        assert!(!screen_text(&app).contains("Only 2 backup codes"), "gone with its page");
    }

    #[test]
    fn events_that_cannot_be_read_do_not_keep_anyone_out() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(
            &mut app,
            crate::tui::app::msg::Reply::Login(Ok(crate::domain::LoginResponse::Authenticated(session(
                None,
            )))),
        );
        reply(&mut app, crate::tui::app::msg::Reply::Me(Ok(me(true, 10))));
        let v1 = crate::client::ClientError::NotFound;
        reply(&mut app, crate::tui::app::msg::Reply::Events(Err(v1)));
        assert!(app.screen::<super::HomeScreen>().is_some(), "a v1 server has no events");
        assert!(app.overlay.is_none());
    }
}

/// The workspace requires 2FA: it cannot be turned off.
#[cfg(test)]
mod policy_tests {
    use crossterm::event::KeyCode;

    use crate::domain::{Me, Policy};
    use crate::tui::screens::disable::DisableScreen;
    use crate::tui::testing::*;

    fn required_and_on() -> Me {
        Me { policy: Policy { two_factor_required: true }, ..me(true, 10) }
    }

    #[test]
    fn disable_is_shown_unavailable_with_the_reason() {
        let mut app = signed_in(required_and_on());
        let text = screen_text(&app);
        assert!(!text.contains("d disable"), "no d in the hints:\n{text}");
        assert_eq!(press(&mut app, KeyCode::Char('d')), None);
        assert!(app.screen::<DisableScreen>().is_none(), "d does nothing");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Down);
        let text = screen_text(&app);
        assert!(text.contains("Disable two-factor authentication (unavailable)"), "{text}");
        assert!(text.contains("Your organisation requires two-factor authentication,"), "{text}");
        assert!(text.contains("so it cannot be turned off."), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
        press(&mut app, KeyCode::Enter);
        assert!(app.screen::<DisableScreen>().is_none(), "Enter on it does nothing");
    }

    /// The policy came on after the account loaded: the server refuses, the app says why.
    #[test]
    fn a_403_two_factor_required_says_why_and_marks_disable_unavailable() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Char('y'));
        let refused = crate::client::ClientError::TwoFactorRequired;
        let effect = reply(&mut app, crate::tui::app::msg::Reply::Disabled(Err(refused)));
        assert!(matches!(api(effect), Some(crate::tui::app::msg::ApiCall::LoadMe { .. })));
        let text = screen_text(&app);
        assert!(text.contains("(unavailable)") && text.contains("so it cannot be turned off"), "{text}");
    }
}
