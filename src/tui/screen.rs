//! The one interface every screen has, and what a screen can ask of the app.
//!
//! `App` never reads a screen's fields: it asks what the screen is doing, hands it keys and the
//! answers it waits for, and follows the [`Transition`] it returns. Where a transition leads (the
//! route enums, and the code that builds the next screen) is decided in one place: `app.rs`.

use std::any::Any;
use std::fmt;
use std::time::Instant;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::app::msg::{Answer, ApiCall, Cleanup, Effect, Reply, RequestId, RequestIds, SaveRequest, Work};
use super::history::LastVisit;
use super::keys::Key;
use super::request::{ErrorClass, classify};
use crate::client::ClientError;
use crate::domain::{Me, SecretString};

/// What a screen is doing; drives the spinner and how often the app wakes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Idle,
    /// An answer is awaited: the spinner turns.
    Waiting,
    /// A countdown is shown: one tick a second.
    CountingDown,
}

/// What a key or an answer leads to.
#[derive(Debug)]
pub enum Transition<R> {
    Stay,
    /// Leave this screen for `R`; the app's routing builds the next one.
    Go(R),
    Quit,
}

/// Signed in: what every screen of the user center relies on.
#[derive(Debug)]
pub struct Session {
    pub token: SecretString,
    pub me: Me,
    /// Where "since your previous sign-in" begins, learnt at sign-in.
    pub last_visit: LastVisit,
}

/// Whether the app draws its header above the screen and its key hints below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chrome {
    Full,
    /// The screen needs every row but the hint line (the QR code on a short terminal).
    NoHeader,
    /// The screen needs the whole terminal and says itself how to go on (the QR code alone).
    Bare,
}

/// What rendering needs beyond a screen's own state.
#[derive(Clone, Copy, Debug)]
pub struct Ui<'a> {
    /// The spinner's current frame.
    pub spinner: &'static str,
    pub api_url: &'a str,
    pub chrome: Chrome,
    /// Times are shown in it, named.
    pub time_zone: &'a jiff::tz::TimeZone,
    /// The wall clock as the last message told it, for "3 min ago"; render never reads the clock.
    pub now: Option<time::OffsetDateTime>,
    /// In the demo, what its stand-in phone shows now.
    pub phone: Option<&'a crate::tui::demo_phone::PhoneCode>,
}

/// What a screen may ask of the app while it handles a key or an answer: the account it relies on,
/// requests (each gets an id to wait for), and the retry dialog when the server is out of reach.
pub struct Cx<'a, A> {
    pub account: &'a mut A,
    ids: &'a mut RequestIds,
    effect: Option<Effect>,
    lost: Option<ClientError>,
}

impl<'a, A> Cx<'a, A> {
    pub fn new(account: &'a mut A, ids: &'a mut RequestIds) -> Self {
        Self { account, ids, effect: None, lost: None }
    }

    /// Calls the API; the answer comes back to the screen if it still waits for the returned id.
    pub fn send(&mut self, call: ApiCall) -> RequestId {
        self.run(Work::Api(call))
    }

    pub fn copy(&mut self, text: SecretString) -> RequestId {
        self.run(Work::Copy(text))
    }

    pub fn save(&mut self, save: SaveRequest) -> RequestId {
        self.run(Work::Save(save))
    }

    fn run(&mut self, work: Work) -> RequestId {
        let id = self.ids.fresh();
        let earlier = self.effect.replace(Effect::Run(id, work));
        debug_assert!(earlier.is_none(), "one effect per message: {earlier:?}");
        id
    }

    /// A request failed; if it may not have reached the server, the retry dialog opens over the screen.
    pub fn connection_lost(&mut self, error: &ClientError) {
        if classify(error) == ErrorClass::Transport {
            self.lost = Some(error.clone());
        }
    }

    /// The effect asked for, and the error that should open the retry dialog.
    pub fn finish(self) -> (Option<Effect>, Option<ClientError>) {
        (self.effect, self.lost)
    }
}

impl Cx<'_, Session> {
    pub fn token(&self) -> SecretString {
        self.account.token.clone()
    }
}

/// A screen: its state, its keys, the answers it waits for, its rendering.
///
/// `Account` is what the screen relies on (nothing before sign-in, the [`Session`] after); `Route` is
/// where it can lead. A screen gets only the answers whose id it [`awaits`](Screen::awaits).
pub trait Screen: fmt::Debug + Any {
    type Account;
    type Route;

    fn activity(&self) -> Activity;

    /// Whether the answer with this id is one the screen waits for.
    fn awaits(&self, id: RequestId) -> bool;

    /// A text field has the focus: `?` and letters are typed, not keys.
    fn accepts_text(&self) -> bool;

    /// The clock moved on (countdowns).
    fn tick(&mut self, _now: Instant) {}

    /// The server answers again (the retry dialog closed): "cannot reach" messages are old news.
    fn reconnected(&mut self) {}

    /// The screen's key table, each key marked whether the hint bar shows it now.
    fn keys(&self, account: &Self::Account) -> Vec<Key>;

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Self::Account>) -> Transition<Self::Route>;

    /// An answer the screen waits for.
    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Self::Account>) -> Transition<Self::Route>;

    fn render(&self, account: &Self::Account, area: Rect, buf: &mut Buffer, ui: &Ui);

    /// How much of the terminal (`area`, all of it) the screen needs.
    fn chrome(&self, _area: Rect) -> Chrome {
        Chrome::Full
    }

    /// Why quitting now must be confirmed (codes not kept anywhere yet); `None` quits at once.
    fn quit_warning(&self) -> Option<&'static str> {
        None
    }

    /// Why quitting now is a failure (the server never answered): said on standard error, exit status 1.
    fn failure(&self) -> Option<String> {
        None
    }

    /// What the server should be told if the app quits now.
    fn cleanup(&self) -> Cleanup {
        Cleanup::default()
    }
}

/// An answer the App routed to a screen that never asks for it: a bug, loud in debug builds.
pub fn unasked<R>(reply: &Reply) -> Transition<R> {
    debug_assert!(false, "an answer the screen did not ask for: {reply:?}");
    Transition::Stay
}
