//! `update`: one message in, at most one effect out. Synchronous, no I/O, no clock.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::msg::{Answer, ApiCall, Effect, Msg, Reply, Work};
use super::{Account, App, Leads, Overlay, SignedOutRoute, route_signed_in, route_signed_out};
use crate::client::ClientError;
use crate::tui::demo_phone::DemoPhone;
use crate::tui::screen::{Cx, Screen, Transition};
use crate::tui::screens::connect::{ConnectDialog, ConnectIntent, ConnectState};
use crate::tui::screens::help;

/// Asked before `q` cancels a setup whose code may already be in the person's app.
const SETUP_QUIT_WARNING: &str =
    "Quitting cancels the two-factor setup; you may have scanned its code already.";

/// What reaches the screen: a key, or an answer it waits for.
enum Input<'a> {
    Key(&'a KeyEvent),
    Answer(Answer),
}

impl Input<'_> {
    fn apply<A: 'static, R: 'static>(
        self,
        screen: &mut dyn Screen<Account = A, Route = R>,
        cx: &mut Cx<'_, A>,
    ) -> Transition<R> {
        match self {
            Input::Key(key) => screen.on_key(key, cx),
            Input::Answer(answer) => screen.on_reply(answer, cx),
        }
    }
}

/// What the app does once the screen has handled the input.
enum Then {
    Stay,
    Quit,
    Switch(Account),
}

impl App {
    pub fn update(&mut self, msg: Msg) -> Option<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Resize(_, _) => None,
            Msg::Tick(now) => {
                self.config.wall = Some(now.wall);
                self.on_tick(now.instant);
                None
            }
            Msg::Reply(answer) => self.on_reply(answer),
            Msg::Terminate => Some(self.quit()),
        }
    }

    fn on_tick(&mut self, now: Instant) {
        if self.is_busy() {
            self.spinner = self.spinner.wrapping_add(1);
        }
        self.account.tick(now);
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.code == KeyCode::Char('z') && ctrl {
            return Some(Effect::Suspend);
        }
        if key.code == KeyCode::Char('c') && ctrl {
            let asked = matches!(self.overlay, Some(Overlay::QuitConfirm(_)));
            match self.account.quit_warning() {
                Some(warning) if !asked => self.overlay = Some(Overlay::QuitConfirm(warning)),
                Some(_) | None => return Some(self.quit()),
            }
            return None;
        }
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, &key);
        }
        let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if key.code == KeyCode::Char('q') && plain && !self.account.accepts_text() {
            return self.quit_or_ask();
        }
        if key.code == KeyCode::F(1) || (key.code == KeyCode::Char('?') && !self.account.accepts_text()) {
            self.overlay = Some(Overlay::Help { scroll: 0 });
            return None;
        }
        self.deliver(Input::Key(&key))
    }

    /// `q`: quits, or asks first when codes kept nowhere or a setup in progress would be lost.
    fn quit_or_ask(&mut self) -> Option<Effect> {
        let setup = self.account.cleanup().cancel_enrollment.then_some(SETUP_QUIT_WARNING);
        match self.account.quit_warning().or(setup) {
            Some(warning) => {
                self.overlay = Some(Overlay::QuitConfirm(warning));
                None
            }
            None => Some(self.quit()),
        }
    }

    /// An overlay takes every key while it is shown.
    fn on_overlay_key(&mut self, overlay: Overlay, key: &KeyEvent) -> Option<Effect> {
        match overlay {
            // The arrows scroll a help longer than the terminal; any other key closes it.
            Overlay::Help { scroll } => {
                let last = help::line_count(&self.account.keys(), self.account.accepts_text());
                let scroll = match key.code {
                    KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
                    KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                    KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(help::PAGE),
                    KeyCode::PageUp => scroll.saturating_sub(help::PAGE),
                    _ => return None,
                };
                self.overlay = Some(Overlay::Help { scroll: scroll.min(last) });
                None
            }
            Overlay::QuitConfirm(warning) => match key.code {
                KeyCode::Char('y' | 'Y') => Some(self.quit()),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => None,
                _ => {
                    self.overlay = Some(Overlay::QuitConfirm(warning));
                    None
                }
            },
            Overlay::Unreachable(mut dialog) => match dialog.on_key(key) {
                ConnectIntent::Nothing => {
                    self.overlay = Some(Overlay::Unreachable(dialog));
                    None
                }
                ConnectIntent::Retry => {
                    let id = self.ids.fresh();
                    dialog.retry(id);
                    self.overlay = Some(Overlay::Unreachable(dialog));
                    Some(Effect::Run(id, Work::Api(ApiCall::CheckHealth)))
                }
                ConnectIntent::Leave => None,
            },
        }
    }

    fn on_reply(&mut self, answer: Answer) -> Option<Effect> {
        self.config.wall = Some(answer.now.wall);
        if self.config.demo.is_some() {
            // The demo's stand-in phone scans what a phone would, and forgets a secret turned off.
            match &answer.reply {
                Reply::EnrollmentStarted(Ok(enrollment)) => {
                    self.config.demo_phone = DemoPhone::scan(&enrollment.otpauth_uri);
                }
                Reply::Disabled(Ok(_)) => self.config.demo_phone = None,
                _ => {}
            }
        }
        // The server's name, learnt from any enrollment it sent; saved codes are headed with it.
        if let Reply::EnrollmentStarted(Ok(enrollment)) = &answer.reply {
            self.config.issuer = Some(enrollment.issuer.clone());
        }
        let unauthorized = matches!(answer.reply.api_error(), Some(ClientError::Unauthorized));
        if unauthorized && self.is_signed_in() && !matches!(answer.reply, Reply::Logout(_)) {
            self.session_ended();
            return None;
        }
        if matches!(answer.reply.api_error(), Some(ClientError::TwoFactorSetupRequired))
            && self.is_signed_in()
        {
            self.setup_required();
            return None;
        }
        if let Some(Overlay::Unreachable(dialog)) = &mut self.overlay
            && dialog.awaits(answer.id)
        {
            return self.on_health_again(answer);
        }
        if self.account.awaits(answer.id) {
            return self.deliver(Input::Answer(answer));
        }
        self.stale(answer)
    }

    /// The retry dialog's check: the server is back (the dialog closes) or still out of reach.
    fn on_health_again(&mut self, answer: Answer) -> Option<Effect> {
        match answer.reply {
            Reply::Health(Ok(_)) => {
                self.overlay = None;
                self.account.reconnected();
            }
            Reply::Health(Err(error)) => {
                if let Some(Overlay::Unreachable(dialog)) = &mut self.overlay {
                    dialog.state = ConnectState::Failed(error);
                }
            }
            other => {
                debug_assert!(false, "the retry dialog asked for the health check only: {other:?}");
            }
        }
        None
    }

    /// An answer nobody waits for any more (its screen was left): dropped, except a setup the server
    /// started, which is undone.
    fn stale(&mut self, answer: Answer) -> Option<Effect> {
        if let (Reply::EnrollmentStarted(Ok(_)), Account::SignedIn { session, .. }) =
            (&answer.reply, &self.account)
        {
            let call = ApiCall::CancelEnrollment { token: session.token.clone() };
            return Some(Effect::Run(self.ids.fresh(), Work::Api(call)));
        }
        None
    }

    /// Hands the input to the screen, then follows its transition: open the retry dialog if its
    /// request could not reach the server, and route to the next screen.
    fn deliver(&mut self, input: Input<'_>) -> Option<Effect> {
        let (then, effect, lost) = match &mut self.account {
            Account::SignedOut(screen) => {
                let mut account = ();
                let mut cx = Cx::new(&mut account, &mut self.ids);
                let mut signed_in_as = None;
                let then = match input.apply(screen.as_mut(), &mut cx) {
                    Transition::Stay => Then::Stay,
                    Transition::Quit => Then::Quit,
                    Transition::Go(route) => {
                        if let SignedOutRoute::SignedIn { session, .. } = &route {
                            signed_in_as = Some(session.me.username.clone());
                        }
                        Then::Switch(route_signed_out(route, &self.config))
                    }
                };
                let (effect, lost) = cx.finish();
                // Offered next time; the demo's account is not the person's.
                let remember =
                    signed_in_as.filter(|_| self.config.demo.is_none()).map(Effect::RememberUsername);
                debug_assert!(effect.is_none() || remember.is_none(), "one effect per message");
                (then, effect.or(remember), lost)
            }
            Account::SignedIn { session, screen } => {
                let mut cx = Cx::new(session, &mut self.ids);
                let then = match input.apply(screen.as_mut(), &mut cx) {
                    Transition::Stay => Then::Stay,
                    Transition::Quit => Then::Quit,
                    Transition::Go(route) => match route_signed_in(route, &self.config, &mut cx) {
                        Leads::Screen(next) => {
                            *screen = next;
                            Then::Stay
                        }
                        Leads::SignedOut(next) => Then::Switch(Account::SignedOut(next)),
                    },
                };
                let (effect, lost) = cx.finish();
                (then, effect, lost)
            }
        };
        if let Some(error) = lost {
            self.overlay = Some(Overlay::Unreachable(ConnectDialog::failed(&self.config.api_url, error)));
        }
        match then {
            Then::Stay => effect,
            Then::Quit => Some(self.quit()),
            Then::Switch(account) => {
                self.account = account;
                effect
            }
        }
    }
}
