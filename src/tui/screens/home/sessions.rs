//! Sessions: every device signed in to the account, this one marked. `x` ends the chosen session and
//! `o` every other one, each after a y/n question. After two-factor authentication was turned on or
//! off, the page offers to sign out the other sessions.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};

use super::list::{self, moved};
use super::{Open, Page, PageKey, PageView};
use crate::client::ClientError;
use crate::domain::{Me, SessionInfo, SessionList};
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::history::{plural, shown};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui, unasked};
use crate::tui::text::{ago, fit, format_time};

pub const LABEL: &str = "Sessions";

#[derive(Clone, Copy, Debug)]
pub struct Mode {
    focused: bool,
    asked: bool,
    others: bool,
}

const KEYS: &[KeyBinding<Mode>] = &[
    KeyBinding::new("Enter", "choose a session").also("Tab →").when(|m| !m.focused, "on Sessions"),
    KeyBinding::new("↑↓", "choose")
        .also("j k PgUp PgDn Home End")
        .when(|m| m.focused && !m.asked, "in the sessions"),
    KeyBinding::new("x", "end the session").when(|m| m.focused && !m.asked, "in the sessions; asks first"),
    KeyBinding::new("o", "sign out everywhere else")
        .when(|m| m.focused && !m.asked && m.others, "in the sessions; asks first"),
    KeyBinding::new("Esc", "back").also("← Shift-Tab").when(|m| m.focused && !m.asked, "in the sessions"),
    KeyBinding::new("y", "yes").when(|m| m.asked, "when Sessions asks"),
    KeyBinding::new("n", "no").also("Esc").when(|m| m.asked, "when Sessions asks"),
];

/// Where the list stands.
#[derive(Debug, Default)]
enum Load {
    #[default]
    NotYet,
    Loading(RequestId),
    Loaded,
    Failed(ClientError),
}

/// A y/n question the page asks.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Question {
    /// End one session (`current`: this one, which signs out here).
    EndOne { id: String, current: bool },
    /// End every other one; `after_change` when offered because two-factor authentication changed.
    EndOthers { count: u32, after_change: bool },
}

/// A request that ends sessions, out now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    One { current: bool },
    Others,
}

#[derive(Debug, Default)]
pub struct SessionsPage {
    /// This session first, then the most recently seen.
    sessions: Vec<SessionInfo>,
    load: Load,
    chosen: usize,
    question: Option<Question>,
    ending: Option<(RequestId, Ending)>,
    /// What the last ending did.
    said: Option<Notice>,
    /// Two-factor authentication just changed: once the list is here, offer to end the others.
    offer: bool,
}

impl SessionsPage {
    fn load(&mut self, cx: &mut Cx<'_, Session>) {
        self.load = Load::Loading(cx.send(ApiCall::LoadSessions { token: cx.token() }));
    }

    fn others(&self) -> u32 {
        u32::try_from(self.sessions.iter().filter(|s| !s.current).count()).unwrap_or(u32::MAX)
    }

    fn arrived(&mut self, list: SessionList) {
        let mut sessions = list.sessions;
        sessions.sort_by(|a, b| b.current.cmp(&a.current).then(b.last_seen_at.cmp(&a.last_seen_at)));
        self.sessions = sessions;
        self.chosen = self.chosen.min(self.sessions.len().saturating_sub(1));
        self.load = Load::Loaded;
        let count = self.others();
        if std::mem::take(&mut self.offer) && count > 0 {
            self.question = Some(Question::EndOthers { count, after_change: true });
        }
    }

    fn mode(&self, focused: bool) -> Mode {
        Mode { focused, asked: self.question.is_some(), others: self.others() > 0 }
    }

    /// y: the question's request goes out.
    fn answer_yes(&mut self, question: Question, cx: &mut Cx<'_, Session>) {
        let token = cx.token();
        let (call, ending) = match question {
            Question::EndOne { id, current, .. } => {
                (ApiCall::RevokeSession { token, id }, Ending::One { current })
            }
            Question::EndOthers { .. } => (ApiCall::RevokeOtherSessions { token }, Ending::Others),
        };
        self.said = None;
        self.ending = Some((cx.send(call), ending));
    }

    fn ended(&mut self, reply: Reply, ending: Ending, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let said = match (reply, ending) {
            (Reply::SessionRevoked(Ok(())), Ending::One { current: true }) => {
                let notice = Notice::success("Signed out: you ended this session.");
                return Transition::Go(SignedInRoute::SignedOut(notice));
            }
            (Reply::SessionRevoked(Ok(())), Ending::One { current: false }) => {
                Notice::success("Session ended: that device is signed out.")
            }
            (Reply::SessionRevoked(Err(ClientError::NotFound)), Ending::One { .. }) => {
                Notice::info("That session had already ended.")
            }
            (Reply::OthersRevoked(Ok(revoked)), Ending::Others) => {
                let n = revoked.revoked;
                Notice::success(format!(
                    "Signed out everywhere else: {n} {} ended.",
                    plural(n, "session", "sessions")
                ))
            }
            (Reply::SessionRevoked(Err(error)) | Reply::OthersRevoked(Err(error)), _) => {
                cx.connection_lost(&error);
                self.said = Some(Notice::error(format!("Nothing was ended: {error}")));
                return Transition::Stay;
            }
            (other, _) => return unasked(&other),
        };
        self.said = Some(said);
        // The list as the server now has it.
        self.load(cx);
        Transition::Stay
    }

    fn session_rows(
        &self,
        index: usize,
        session: &SessionInfo,
        ui: &Ui,
        view: PageView,
    ) -> [Line<'static>; 2] {
        let chosen = view.focused && index == self.chosen;
        let cursor = if chosen { "› " } else { "  " };
        let mut style = Style::new();
        if chosen {
            style = style.add_modifier(Modifier::BOLD | Modifier::REVERSED);
        }
        let place = describe(session);
        let mut first = vec![Span::raw(cursor)];
        if session.current {
            first.push(Span::styled("This session", style.green().bold()));
            first.push(Span::styled(format!(" · {place}"), style));
        } else {
            first.push(Span::styled(place, style));
        }
        let mut when = format!("    signed in {}", format_time(session.created_at, ui.time_zone));
        if let Some(now) = ui.now {
            when = format!("{when} · seen {}", ago(session.last_seen_at, now));
        }
        [fit(Line::from(first), view.width), fit(Line::from(when).dark_gray(), view.width)]
    }

    fn question_lines(&self, question: &Question, ui: &Ui) -> Vec<Line<'static>> {
        let text = match question {
            Question::EndOne { current: true, .. } => {
                "End this session? You will be signed out here. y/n".to_owned()
            }
            Question::EndOne { id, .. } => match self.sessions.iter().find(|s| &s.id == id) {
                Some(session) => format!(
                    "End the session from {}, signed in {}? y/n",
                    describe(session),
                    format_time(session.created_at, ui.time_zone)
                ),
                None => "End that session? y/n".to_owned(),
            },
            Question::EndOthers { count, after_change: false } => {
                let sessions = plural(*count, "other session is", "other sessions are");
                format!("{count} {sessions} signed in. Sign them out? y/n")
            }
            Question::EndOthers { count, after_change: true } => {
                let sessions = plural(*count, "other session", "other sessions");
                return vec![
                    Line::from(format!("{count} {sessions} signed in before this change.")).bold().yellow(),
                    Line::from("Sign them out? y/n").bold().yellow(),
                ];
            }
        };
        vec![Line::from(text).bold().yellow()]
    }
}

/// `203.0.113.7 · curl/8.5.0`, as the server saw it.
fn describe(session: &SessionInfo) -> String {
    let address = session.address.as_deref().map_or_else(|| "unknown address".to_owned(), shown);
    match session.user_agent.as_deref() {
        Some(agent) => format!("{address} · {}", shown(agent)),
        None => address,
    }
}

impl Page for SessionsPage {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn keys(&self, _me: &Me, focused: bool) -> Vec<Key> {
        keys::resolve(KEYS, self.mode(focused))
    }

    fn reference(&self) -> Vec<Key> {
        keys::document(KEYS)
    }

    fn shown(&mut self, cx: &mut Cx<'_, Session>) {
        self.said = None;
        self.question = None;
        self.load(cx);
    }

    fn factor_changed(&mut self, cx: &mut Cx<'_, Session>) {
        self.offer = true;
        self.load(cx);
    }

    fn open(&mut self, _key: KeyCode, cx: &mut Cx<'_, Session>) -> Open {
        match self.load {
            Load::NotYet | Load::Failed(_) => {
                self.load(cx);
                Open::Acted
            }
            Load::Loading(_) if self.sessions.is_empty() => Open::Nothing,
            Load::Loading(_) | Load::Loaded => {
                self.said = None;
                Open::Focus
            }
        }
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> PageKey {
        if let Some(question) = self.question.take() {
            match key.code {
                KeyCode::Char('y' | 'Y') => self.answer_yes(question, cx),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {}
                _ => self.question = Some(question),
            }
            return PageKey::Stay;
        }
        // One ending at a time.
        let idle = self.ending.is_none();
        match key.code {
            KeyCode::Esc | KeyCode::Left | KeyCode::BackTab => return PageKey::Leave,
            KeyCode::Tab => return PageKey::Next,
            KeyCode::Char('x') if idle => {
                if let Some(session) = self.sessions.get(self.chosen) {
                    self.question =
                        Some(Question::EndOne { id: session.id.clone(), current: session.current });
                }
            }
            KeyCode::Char('o') if idle => {
                let count = self.others();
                if count > 0 {
                    self.question = Some(Question::EndOthers { count, after_change: false });
                } else {
                    self.said = Some(Notice::info("No other session is signed in."));
                }
            }
            code => {
                if let Some(chosen) = moved(code, self.chosen, self.sessions.len()) {
                    self.chosen = chosen;
                }
            }
        }
        PageKey::Stay
    }

    fn activity(&self) -> Activity {
        if self.ending.is_some() || matches!(self.load, Load::Loading(_)) {
            Activity::Waiting
        } else {
            Activity::Idle
        }
    }

    fn awaits(&self, id: RequestId) -> bool {
        matches!(self.load, Load::Loading(loading) if loading == id)
            || self.ending.is_some_and(|(e, _)| e == id)
    }

    fn takes_focus(&self) -> bool {
        matches!(self.question, Some(Question::EndOthers { after_change: true, .. }))
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if let Some((id, ending)) = self.ending
            && id == answer.id
        {
            self.ending = None;
            return self.ended(answer.reply, ending, cx);
        }
        match answer.reply {
            Reply::Sessions(Ok(list)) => self.arrived(list),
            Reply::Sessions(Err(error)) => {
                cx.connection_lost(&error);
                self.load = Load::Failed(error);
            }
            other => return unasked(&other),
        }
        Transition::Stay
    }

    fn lines(&self, _session: &Session, ui: &Ui, view: PageView) -> Vec<Line<'static>> {
        let mut top: Vec<Line<'static>> = self.said.iter().map(Notice::line).collect();
        if !top.is_empty() {
            top.push(Line::from(""));
        }
        if self.sessions.is_empty() {
            top.push(match &self.load {
                Load::NotYet | Load::Loading(_) => {
                    Line::from(format!("{} Loading your sessions…", ui.spinner)).cyan()
                }
                Load::Failed(error) => Notice::error(format!("Could not load your sessions: {error}")).line(),
                Load::Loaded => Line::from("No session is signed in."),
            });
            if matches!(self.load, Load::Failed(_)) {
                top.push(Line::from(""));
                top.push(Line::from("Enter tries again."));
            }
            return top;
        }
        let mut bottom = vec![Line::from("")];
        bottom.push(match (self.others(), &self.ending) {
            (_, Some((_, _))) => Line::from(format!("{} Ending…", ui.spinner)).cyan(),
            (0, None) => Line::from("No other session is signed in.").dark_gray(),
            (n, None) => Line::from(format!(
                "o  Sign out everywhere else ({n} other {})",
                plural(n, "session", "sessions")
            )),
        });
        if let Some(question) = &self.question {
            bottom.push(Line::from(""));
            bottom.extend(self.question_lines(question, ui));
        }
        let rows: Vec<[Line<'static>; 2]> = self
            .sessions
            .iter()
            .enumerate()
            .map(|(index, session)| self.session_rows(index, session, ui, view))
            .collect();
        let heights = vec![2; rows.len()];
        let fixed = |lines: &[Line<'static>]| crate::tui::widgets::popup::wrapped_height(lines, view.width);
        let room = view.height.saturating_sub(fixed(&top) + fixed(&bottom));
        let shown = list::window(&heights, self.chosen, room);
        let mut lines = top;
        lines.extend(rows.into_iter().skip(shown.start).take(shown.len()).flatten());
        lines.extend(bottom);
        lines
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::domain::{RevokedSessions, SessionList};
    use crate::tui::app::App;
    use crate::tui::app::msg::{ApiCall, Reply};
    use crate::tui::screens::login::LoginScreen;
    use crate::tui::testing::*;

    /// On Sessions with [`three_sessions`], the list focused.
    fn on_sessions() -> App {
        let mut app = signed_in(me(true, 10));
        let effect = go_to(&mut app, "Sessions");
        assert_eq!(api(effect), Some(ApiCall::LoadSessions { token: "token-1".into() }));
        reply(&mut app, Reply::Sessions(Ok(three_sessions())));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "the list takes the focus");
        app
    }

    #[test]
    fn sessions_mark_this_one_first() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Down);
        let text = screen_text(&app);
        let this = text.find("This session · 192.0.2.10").expect("this session, marked");
        let laptop = text.find("› 203.0.113.7").expect("the chosen one, seen 12 min ago");
        let phone = text.find("198.51.100.4").expect("seen 3 h ago");
        assert!(this < laptop && laptop < phone, "this one first, then the most recently seen:\n{text}");
        assert!(text.contains("o  Sign out everywhere else (2 other sessions)"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn x_asks_then_ends_the_chosen_session() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(press(&mut app, KeyCode::Char('x')), None, "asks first");
        let text = screen_text(&app);
        assert!(text.contains("End the session from 203.0.113.7"), "{text}");
        insta::assert_snapshot!("sessions_asks_before_ending_one", render(&app, 80, 24).backend());
        assert_eq!(press(&mut app, KeyCode::Char('n')), None, "n keeps it");
        assert!(!screen_text(&app).contains("End the session"));
        press(&mut app, KeyCode::Char('x'));
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(
            api(effect),
            Some(ApiCall::RevokeSession { token: "token-1".into(), id: "s-laptop".into() })
        );
        assert_eq!(press(&mut app, KeyCode::Char('x')), None, "one at a time");
        let effect = reply(&mut app, Reply::SessionRevoked(Ok(())));
        assert_eq!(
            api(effect),
            Some(ApiCall::LoadSessions { token: "token-1".into() }),
            "the list as it is now"
        );
        assert!(screen_text(&app).contains("Session ended"));
    }

    #[test]
    fn a_session_already_ended_is_said_so_and_the_list_reloads() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Char('x'));
        press(&mut app, KeyCode::Char('y'));
        let effect = reply(&mut app, Reply::SessionRevoked(Err(ClientError::NotFound)));
        assert_eq!(api(effect), Some(ApiCall::LoadSessions { token: "token-1".into() }));
        assert!(screen_text(&app).contains("That session had already ended."));
    }

    #[test]
    fn ending_this_session_signs_out_here() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Char('x'));
        assert!(screen_text(&app).contains("End this session? You will be signed out here. y/n"));
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(
            api(effect),
            Some(ApiCall::RevokeSession { token: "token-1".into(), id: "s-this".into() })
        );
        reply(&mut app, Reply::SessionRevoked(Ok(())));
        assert!(app.screen::<LoginScreen>().is_some());
        assert!(screen_text(&app).contains("Signed out: you ended this session."));
    }

    #[test]
    fn sign_out_everywhere_else() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Char('o'));
        assert!(screen_text(&app).contains("2 other sessions are signed in. Sign them out? y/n"));
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(api(effect), Some(ApiCall::RevokeOtherSessions { token: "token-1".into() }));
        let effect = reply(&mut app, Reply::OthersRevoked(Ok(RevokedSessions { revoked: 2 })));
        assert_eq!(api(effect), Some(ApiCall::LoadSessions { token: "token-1".into() }));
        let alone = SessionList { sessions: vec![session_info("s-this", true, "192.0.2.10", 0)] };
        reply(&mut app, Reply::Sessions(Ok(alone)));
        let text = screen_text(&app);
        assert!(text.contains("Signed out everywhere else: 2 sessions ended."), "{text}");
        assert!(text.contains("No other session is signed in."), "{text}");
        insta::assert_snapshot!("sessions_after_signing_out_everywhere_else", render(&app, 80, 24).backend());
        assert_eq!(press(&mut app, KeyCode::Char('o')), None, "nobody else to sign out");
    }

    #[test]
    fn a_401_while_ending_goes_back_to_sign_in() {
        let mut app = on_sessions();
        press(&mut app, KeyCode::Char('o'));
        press(&mut app, KeyCode::Char('y'));
        reply(&mut app, Reply::OthersRevoked(Err(ClientError::Unauthorized)));
        assert!(app.screen::<LoginScreen>().is_some());
        assert!(screen_text(&app).contains("Your session has ended. Sign in again."));
    }

    /// After enabling: the user center reloads the account, then offers to end the other sessions.
    #[test]
    fn enabling_offers_to_sign_out_the_other_sessions() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('c'));
        reply(&mut app, Reply::Copied(Ok(crate::tui::clipboard::CopyMethod::SystemClipboard)));
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }), "the account first");
        let effect = reply(&mut app, Reply::Me(Ok(me(true, 10))));
        assert_eq!(api(effect), Some(ApiCall::LoadSessions { token: "token-1".into() }), "then the sessions");
        reply(&mut app, Reply::Sessions(Ok(three_sessions())));
        let text = screen_text(&app);
        assert!(text.contains("› Sessions"), "the question shows where it is answered:\n{text}");
        assert!(text.contains("2 other sessions signed in before this change."), "{text}");
        assert!(text.contains("Sign them out? y/n"), "{text}");
        assert!(text.contains("Two-factor authentication is on"), "what was said stays:\n{text}");
        insta::assert_snapshot!("sessions_offered_after_enabling", render(&app, 80, 24).backend());
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(api(effect), Some(ApiCall::RevokeOtherSessions { token: "token-1".into() }));
    }

    #[test]
    fn disabling_offers_too_and_n_keeps_them() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Char('y'));
        let disabled = crate::domain::DisableResponse { enabled: false };
        assert!(matches!(
            api(reply(&mut app, Reply::Disabled(Ok(disabled.clone())))),
            Some(ApiCall::LoadMe { .. })
        ));
        assert!(matches!(
            api(reply(&mut app, Reply::Me(Ok(me(false, 0))))),
            Some(ApiCall::LoadSessions { .. })
        ));
        reply(&mut app, Reply::Sessions(Ok(three_sessions())));
        assert!(screen_text(&app).contains("signed in before this change."));
        assert_eq!(press(&mut app, KeyCode::Char('n')), None);
        assert!(!screen_text(&app).contains("y/n"));
        // Alone: nothing to offer, the user center stays as it opened.
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Char('y'));
        reply(&mut app, Reply::Disabled(Ok(disabled)));
        reply(&mut app, Reply::Me(Ok(me(false, 0))));
        let alone = SessionList { sessions: vec![session_info("s-this", true, "192.0.2.10", 0)] };
        reply(&mut app, Reply::Sessions(Ok(alone)));
        let text = screen_text(&app);
        assert!(text.contains("› Security") && text.contains("Two-factor authentication is off."), "{text}");
    }

    #[test]
    fn a_late_list_for_a_user_center_left_is_dropped() {
        let mut app = signed_in(me(true, 10));
        go_to(&mut app, "Sessions");
        press(&mut app, KeyCode::Char('d'));
        assert_eq!(reply(&mut app, Reply::Sessions(Ok(three_sessions()))), None);
        assert!(app.screen::<crate::tui::screens::disable::DisableScreen>().is_some());
    }
}
