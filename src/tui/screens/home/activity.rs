//! Activity: what happened to the account, newest first; each event when (local time and how long
//! ago), what, and from where. What happened since the previous sign-in is marked. Older events load
//! a page at a time (`before` = the last page's `next_before`) when the list reaches its end.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};

use super::list::{self, moved};
use super::{Open, Page, PageKey, PageView};
use crate::client::ClientError;
use crate::domain::{Event, EventsPage, EventsQuery};
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::history::{self, LastVisit};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui, unasked};
use crate::tui::text::{ago, fit, format_time};
use crate::tui::widgets::popup::wrapped_height;

pub const LABEL: &str = "Activity";

/// The mode: whether the page has the focus.
const KEYS: &[KeyBinding<bool>] = &[
    KeyBinding::new("Enter", "scroll").also("Tab →").when(|focused| !focused, "on Activity"),
    KeyBinding::new("↑↓", "scroll").also("j k").when(|focused| focused, "in the events"),
    KeyBinding::new("PgUp PgDn", "page").also("Space").when(|focused| focused, "in the events"),
    KeyBinding::new("Home End", "newest, oldest")
        .when(|focused| focused, "in the events; the end loads older ones"),
    KeyBinding::new("Esc", "back").also("← Shift-Tab").when(|focused| focused, "in the events"),
];

/// Where the events stand.
#[derive(Debug, Default)]
enum Load {
    /// Not asked for yet (the page was never shown).
    #[default]
    NotYet,
    /// A page is asked for: the newest (`older` false, replacing what shows) or the next older one.
    Loading {
        id: RequestId,
        older: bool,
    },
    Loaded,
    Failed {
        error: ClientError,
        older: bool,
    },
}

#[derive(Debug, Default)]
pub struct ActivityPage {
    /// Newest first, every page loaded so far.
    events: Vec<Event>,
    /// Asks for the page after the last one loaded; `None` once the oldest is here.
    next_before: Option<i64>,
    load: Load,
    /// The event the list is scrolled to (marked while the page has the focus).
    chosen: usize,
}

impl ActivityPage {
    fn load(&mut self, older: bool, cx: &mut Cx<'_, Session>) {
        let query = EventsQuery { limit: None, before: if older { self.next_before } else { None } };
        let id = cx.send(ApiCall::LoadEvents { token: cx.token(), query });
        self.load = Load::Loading { id, older };
    }

    /// At the last event loaded with more on the server: the next page loads.
    fn load_older_if_at_the_end(&mut self, cx: &mut Cx<'_, Session>) {
        let at_the_end = self.chosen + 1 >= self.events.len();
        let idle = matches!(self.load, Load::Loaded | Load::Failed { older: true, .. });
        if at_the_end && idle && self.next_before.is_some() {
            self.load(true, cx);
        }
    }

    fn arrived(&mut self, page: EventsPage, older: bool) {
        if older {
            // A page may overlap the last one if events were purged in between: ids are unique.
            let last = self.events.last().map_or(i64::MAX, |e| e.id);
            self.events.extend(page.events.into_iter().filter(|e| e.id < last));
        } else {
            self.events = page.events;
            self.chosen = 0;
        }
        self.next_before = page.next_before;
        self.load = Load::Loaded;
    }

    /// One event's rows: what (marked if new), then when and from where (on two rows if narrow).
    fn event_rows(
        &self,
        index: usize,
        event: &Event,
        last_visit: LastVisit,
        ui: &Ui,
        view: PageView,
    ) -> Vec<Line<'static>> {
        let chosen = view.focused && index == self.chosen;
        let cursor = if chosen { "›" } else { " " };
        let new =
            if last_visit.is_new(event) { Span::styled("●", Style::new().cyan()) } else { Span::raw(" ") };
        let mut what = Style::new();
        if event.kind.is_failure() {
            what = what.yellow();
        }
        if chosen {
            what = what.add_modifier(Modifier::BOLD | Modifier::REVERSED);
        }
        let first = Line::from(vec![
            Span::raw(cursor),
            new,
            Span::raw(" "),
            Span::styled(history::describe(&event.kind), what),
        ]);
        let when = format_time(event.at, ui.time_zone);
        let ago = ui.now.map(|now| ago(event.at, now));
        let origin = history::origin(event);
        let mut rows = vec![fit(first, view.width)];
        // When, how long ago and from where on one row; on two where the room is narrow.
        let fits = |text: &str| Line::from(text).width() <= usize::from(view.width);
        let joined = |parts: &[&str]| format!("   {}", parts.join(" · "));
        let one = match &ago {
            Some(ago) => joined(&[&when, ago, &origin]),
            None => joined(&[&when, &origin]),
        };
        let split = match &ago {
            Some(ago) if !fits(&joined(&[&when, ago])) => [joined(&[&when]), joined(&[ago, &origin])],
            Some(ago) => [joined(&[&when, ago]), joined(&[&origin])],
            None => [joined(&[&when]), joined(&[&origin])],
        };
        if fits(&one) {
            rows.push(Line::from(one).dark_gray());
        } else {
            rows.extend(split.map(|row| fit(Line::from(row).dark_gray(), view.width)));
        }
        rows
    }

    /// The line under the list: older events loading, loadable, failed, or none left.
    fn end_line(&self, ui: &Ui) -> Line<'static> {
        match &self.load {
            Load::Loading { older: true, .. } => {
                Line::from(format!("{} Loading older events…", ui.spinner)).cyan()
            }
            Load::Failed { error, older: true } => {
                Notice::error(format!("Could not load older events: {}", error_text(error))).line()
            }
            Load::NotYet
            | Load::Loading { older: false, .. }
            | Load::Loaded
            | Load::Failed { older: false, .. } => {
                if self.next_before.is_some() {
                    Line::from("Older events load at the end of the list (End).").dark_gray()
                } else {
                    Line::from("No older events.").dark_gray()
                }
            }
        }
    }
}

/// What a failed load says: a v1 server has no activity to show.
fn error_text(error: &ClientError) -> String {
    match error {
        ClientError::NotFound => "this server keeps no activity (it predates API v1.1).".to_owned(),
        other => other.to_string(),
    }
}

impl Page for ActivityPage {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn keys(&self, _me: &crate::domain::Me, focused: bool) -> Vec<Key> {
        keys::resolve(KEYS, focused)
    }

    fn reference(&self) -> Vec<Key> {
        keys::document(KEYS)
    }

    fn shown(&mut self, cx: &mut Cx<'_, Session>) {
        self.load(false, cx);
    }

    fn open(&mut self, _key: KeyCode, cx: &mut Cx<'_, Session>) -> Open {
        match self.load {
            Load::Failed { older: false, .. } | Load::NotYet => {
                self.load(false, cx);
                Open::Acted
            }
            Load::Loading { .. } | Load::Loaded | Load::Failed { older: true, .. } => {
                if self.events.is_empty() { Open::Nothing } else { Open::Focus }
            }
        }
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> PageKey {
        match key.code {
            KeyCode::Esc | KeyCode::Left | KeyCode::BackTab => PageKey::Leave,
            KeyCode::Tab => PageKey::Next,
            code => {
                if let Some(chosen) = moved(code, self.chosen, self.events.len()) {
                    self.chosen = chosen;
                    self.load_older_if_at_the_end(cx);
                }
                PageKey::Stay
            }
        }
    }

    fn activity(&self) -> Activity {
        if matches!(self.load, Load::Loading { .. }) { Activity::Waiting } else { Activity::Idle }
    }

    fn awaits(&self, id: RequestId) -> bool {
        matches!(self.load, Load::Loading { id: loading, .. } if loading == id)
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let Load::Loading { older, .. } = self.load else { return unasked(&answer.reply) };
        match answer.reply {
            Reply::Events(Ok(page)) => self.arrived(page, older),
            Reply::Events(Err(error)) => {
                cx.connection_lost(&error);
                self.load = Load::Failed { error, older };
            }
            other => return unasked(&other),
        }
        Transition::Stay
    }

    fn lines(&self, session: &Session, ui: &Ui, view: PageView) -> Vec<Line<'static>> {
        let mut lines = vec![if session.last_visit.is_known() {
            Line::from(vec![
                Span::raw("Newest first · "),
                Span::styled("●", Style::new().cyan()),
                Span::raw(" since your previous sign-in"),
            ])
        } else {
            Line::from("Newest first.")
        }];
        lines.push(Line::from(""));
        if let (Load::Failed { error, older: false }, false) = (&self.load, self.events.is_empty()) {
            lines.push(
                Notice::error(format!("Could not reload: {} (Enter tries again)", error_text(error))).line(),
            );
        }
        if self.events.is_empty() {
            lines.push(match &self.load {
                Load::NotYet | Load::Loading { .. } => {
                    Line::from(format!("{} Loading your activity…", ui.spinner)).cyan()
                }
                Load::Failed { error, .. } => {
                    Notice::error(format!("Could not load your activity: {}", error_text(error))).line()
                }
                Load::Loaded => Line::from("Nothing has happened to this account yet."),
            });
            if matches!(self.load, Load::Failed { .. }) {
                lines.push(Line::from(""));
                lines.push(Line::from("Enter tries again."));
            }
            return lines;
        }
        let rows: Vec<Vec<Line<'static>>> = self
            .events
            .iter()
            .enumerate()
            .map(|(index, event)| self.event_rows(index, event, session.last_visit, ui, view))
            .collect();
        // The line under the list (after a blank one) is one more item: it shows once the list is near
        // its end.
        let mut heights: Vec<u16> = rows.iter().map(|r| u16::try_from(r.len()).unwrap_or(u16::MAX)).collect();
        heights.push(2);
        let room = view.height.saturating_sub(wrapped_height(&lines, view.width));
        let shown = list::window(&heights, self.chosen, room);
        let at_the_end = shown.end == heights.len();
        lines.extend(rows.into_iter().skip(shown.start).take(shown.len()).flatten());
        if at_the_end {
            lines.push(Line::from(""));
            lines.push(self.end_line(ui));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::domain::{EventKind, EventsPage, EventsQuery, SignInFailure, ThrottleScope};
    use crate::tui::app::msg::{ApiCall, Reply};
    use crate::tui::screens::login::LoginScreen;
    use crate::tui::testing::*;

    /// The newest events: this sign-in, failed attempts since the previous one (marked), then older.
    fn first_page() -> EventsPage {
        let failed = |reason| EventKind::SignInFailed { reason };
        EventsPage {
            events: vec![
                signed_in_event(30, 0),
                event(29, failed(SignInFailure::InvalidCode), 3, Some("203.0.113.7")),
                event(28, EventKind::Throttled { scope: ThrottleScope::Login }, 41, Some("203.0.113.7")),
                event(27, failed(SignInFailure::InvalidPassword), 42, Some("203.0.113.7")),
                event(26, failed(SignInFailure::InvalidPassword), 50, Some("198.51.100.23")),
                signed_in_event(25, 26 * 60),
                event(24, EventKind::BackupCodesRegenerated {}, 26 * 60 + 5, Some("192.0.2.10")),
                event(23, EventKind::SessionsRevoked { count: 2 }, 3 * 24 * 60, Some("192.0.2.10")),
                signed_in_event(22, 3 * 24 * 60 + 2),
                event(21, EventKind::PasswordChanged {}, 9 * 24 * 60, None),
            ],
            next_before: Some(21),
        }
    }

    fn older_page() -> EventsPage {
        EventsPage {
            events: vec![
                event(20, EventKind::TwoFactorEnabled {}, 20 * 24 * 60, Some("192.0.2.10")),
                signed_in_event(19, 20 * 24 * 60 + 3),
                event(18, EventKind::SecondFactorUnlocked {}, 30 * 24 * 60, None),
            ],
            next_before: None,
        }
    }

    /// Signed in after [`first_page`]'s sign-in, on Activity with its first page.
    fn on_activity() -> crate::tui::app::App {
        let mut app = signed_in_after(me(true, 10), first_page());
        let effect = go_to(&mut app, "Activity");
        let query = EventsQuery { limit: None, before: None };
        assert_eq!(api(effect), Some(ApiCall::LoadEvents { token: "token-1".into(), query }));
        reply(&mut app, Reply::Events(Ok(first_page())));
        app
    }

    #[test]
    fn activity_marks_what_happened_since_the_previous_sign_in() {
        let app = on_activity();
        let text = screen_text(&app);
        assert!(text.contains("● Sign-in failed: wrong code"), "new since the last visit:\n{text}");
        assert!(text.contains("  Signed in with a code from the app"), "the previous visit is not new");
        assert!(text.contains("2026-11-28 11:57 UTC · 3 min ago · from 203.0.113.7"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn activity_scrolls_and_loads_the_next_page_at_the_end() {
        let mut app = on_activity();
        assert_eq!(press(&mut app, KeyCode::Enter), None, "the events take the focus");
        assert_eq!(press(&mut app, KeyCode::PageDown), None, "five down: not the end yet");
        let effect = press(&mut app, KeyCode::End);
        let query = EventsQuery { limit: None, before: Some(21) };
        assert_eq!(
            api(effect),
            Some(ApiCall::LoadEvents { token: "token-1".into(), query }),
            "before = next_before"
        );
        assert_eq!(press(&mut app, KeyCode::End), None, "one page at a time");
        assert!(screen_text(&app).contains("Loading older events…"));
        reply(&mut app, Reply::Events(Ok(older_page())));
        press(&mut app, KeyCode::End);
        let text = screen_text(&app);
        assert!(text.contains("Unlocked by an administrator") && text.contains("No older events."), "{text}");
        insta::assert_snapshot!("activity_second_page_at_the_end", render(&app, 80, 24).backend());
        assert_eq!(press(&mut app, KeyCode::Char('j')), None, "nothing older to ask for");
        press(&mut app, KeyCode::Home);
        assert!(screen_text(&app).contains("›● Signed in with a code from the app"), "back at the newest");
        for code in [KeyCode::Down, KeyCode::Char('j'), KeyCode::PageUp, KeyCode::Char('k'), KeyCode::Up] {
            press(&mut app, code);
        }
        assert!(screen_text(&app).contains("›● Signed in"), "{}", screen_text(&app));
        press(&mut app, KeyCode::Esc);
        assert!(
            !screen_text(&app).contains('›') || screen_text(&app).contains("› Activity"),
            "back to the sidebar"
        );
    }

    #[test]
    fn activity_at_60x20_keeps_the_chosen_event_in_sight() {
        let mut app = on_activity();
        press(&mut app, KeyCode::Enter);
        for _ in 0..7 {
            press(&mut app, KeyCode::Down);
        }
        let text = render(&app, 60, 20).backend().to_string();
        assert!(text.contains("›  Signed out everywhere else (2 s…"), "{text}");
        assert!(text.contains("3 days ago · from 192.0.2.10"), "narrow: on two rows, cut nowhere:\n{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_late_answer_for_a_page_left_is_dropped() {
        let mut app = signed_in(me(true, 10));
        go_to(&mut app, "Activity");
        let first = app.last_request();
        go_to(&mut app, "Sessions");
        press(&mut app, KeyCode::Up);
        // The first request's answer arrives after the page was shown again: not the one awaited.
        let late = crate::tui::app::msg::Msg::Reply(crate::tui::app::msg::Answer {
            id: first,
            now: at(0),
            reply: Reply::Events(Ok(first_page())),
        });
        assert_eq!(app.update(late), None);
        assert!(screen_text(&app).contains("Loading your activity…"), "{}", screen_text(&app));
        // And one for a user center already left (g: new backup codes) is dropped too.
        press(&mut app, KeyCode::Char('g'));
        assert_eq!(reply(&mut app, Reply::Events(Ok(first_page()))), None);
        assert!(app.screen::<crate::tui::screens::regenerate::RegenerateScreen>().is_some());
    }

    #[test]
    fn an_ended_session_while_loading_goes_back_to_sign_in() {
        let mut app = signed_in(me(true, 10));
        go_to(&mut app, "Activity");
        reply(&mut app, Reply::Events(Err(ClientError::Unauthorized)));
        assert!(app.screen::<LoginScreen>().is_some());
        assert!(screen_text(&app).contains("Your session has ended. Sign in again."));
    }

    #[test]
    fn a_failed_load_says_why_and_enter_tries_again() {
        let mut app = signed_in(me(true, 10));
        go_to(&mut app, "Activity");
        reply(&mut app, Reply::Events(Err(ClientError::NotFound)));
        let text = screen_text(&app);
        assert!(text.contains("this server keeps no"), "a v1 server: {text}");
        assert!(matches!(api(press(&mut app, KeyCode::Enter)), Some(ApiCall::LoadEvents { .. })));
    }
}
