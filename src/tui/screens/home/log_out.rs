//! Log out: end this session on the server and go back to sign-in.

use crossterm::event::KeyCode;
use ratatui::style::Stylize;
use ratatui::text::Line;

use super::{Open, Page, PageView};
use crate::client::ClientError;
use crate::domain::Me;
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui, unasked};

const KEYS: &[KeyBinding] = &[KeyBinding::new("Enter", "log out").context("on Log out")];

#[derive(Debug, Default)]
pub struct LogOutPage {
    signing_out: Option<RequestId>,
}

impl Page for LogOutPage {
    fn label(&self) -> &'static str {
        "Log out"
    }

    fn stands_apart(&self) -> bool {
        true
    }

    fn keys(&self, _me: &Me, _focused: bool) -> Vec<Key> {
        keys::resolve(KEYS, ())
    }

    fn reference(&self) -> Vec<Key> {
        keys::document(KEYS)
    }

    fn open(&mut self, key: KeyCode, cx: &mut Cx<'_, Session>) -> Open {
        if key != KeyCode::Enter {
            return Open::Nothing;
        }
        self.signing_out = Some(cx.send(ApiCall::Logout { token: cx.token() }));
        Open::Acted
    }

    fn activity(&self) -> Activity {
        if self.signing_out.is_some() { Activity::Waiting } else { Activity::Idle }
    }

    fn holds_keys(&self) -> bool {
        self.signing_out.is_some()
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.signing_out == Some(id)
    }

    fn on_reply(&mut self, answer: Answer, _cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        self.signing_out = None;
        let notice = match answer.reply {
            Reply::Logout(Ok(()) | Err(ClientError::Unauthorized)) => Notice::success("Signed out."),
            Reply::Logout(Err(e)) => {
                Notice::warning(format!("Signed out on this computer, but the server was not told: {e}"))
            }
            other => return unasked(&other),
        };
        Transition::Go(SignedInRoute::SignedOut(notice))
    }

    fn lines(&self, _session: &Session, ui: &Ui, _view: PageView) -> Vec<Line<'static>> {
        if self.signing_out.is_some() {
            vec![Line::from(format!("{} Signing out…", ui.spinner)).cyan()]
        } else {
            vec![
                Line::from("End this session: the server forgets its token."),
                Line::from(""),
                Line::from("Press Enter to log out."),
            ]
        }
    }
}
