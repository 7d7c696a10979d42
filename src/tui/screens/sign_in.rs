//! Signing in, shared by the sign-in form and the second factor: the form's request, then the account
//! loading with the session the server just opened.

use std::time::Instant;

use ratatui::style::Stylize;
use ratatui::text::Line;

use crate::client::ClientError;
use crate::domain::{self, Me, SecretString};
use crate::tui::app::SignedOutRoute;
use crate::tui::app::msg::{ApiCall, Now, RequestId};
use crate::tui::notice::Notice;
use crate::tui::request::Request;
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui};

#[derive(Debug)]
pub enum SignInPhase {
    Form(Request),
    /// The server accepted: the account loads with the new session's token; `notice` goes to the
    /// user center.
    LoadingAccount {
        id: RequestId,
        token: SecretString,
        notice: Option<Notice>,
    },
}

impl Default for SignInPhase {
    fn default() -> Self {
        SignInPhase::Form(Request::default())
    }
}

impl SignInPhase {
    /// A request is out: the fields are not editable.
    pub fn is_busy(&self) -> bool {
        self.activity() == Activity::Waiting
    }

    pub fn activity(&self) -> Activity {
        match self {
            SignInPhase::Form(request) => request.activity(),
            SignInPhase::LoadingAccount { .. } => Activity::Waiting,
        }
    }

    pub fn awaits(&self, id: RequestId) -> bool {
        match self {
            SignInPhase::Form(request) => request.awaits(id),
            SignInPhase::LoadingAccount { id: loading, .. } => *loading == id,
        }
    }

    pub fn reconnected(&mut self) {
        match self {
            SignInPhase::Form(request) => request.reconnected(),
            SignInPhase::LoadingAccount { .. } => {}
        }
    }

    pub fn tick(&mut self, now: Instant) {
        match self {
            SignInPhase::Form(request) => request.tick(now),
            SignInPhase::LoadingAccount { .. } => {}
        }
    }

    /// The session the server opened, while the account loads: quitting now ends it.
    pub fn opened_token(&self) -> Option<&SecretString> {
        match self {
            SignInPhase::Form(_) => None,
            SignInPhase::LoadingAccount { token, .. } => Some(token),
        }
    }

    /// The server accepted: load the account before opening the user center.
    pub fn opened(&mut self, session: domain::Session, notice: Option<Notice>, cx: &mut Cx<'_, ()>) {
        let id = cx.send(ApiCall::LoadMe { token: session.token.clone() });
        *self = SignInPhase::LoadingAccount { id, token: session.token, notice };
    }

    /// The account arrived (the user center opens) or did not (the form says why).
    pub fn on_account(
        &mut self,
        result: Result<Me, ClientError>,
        now: Now,
        cx: &mut Cx<'_, ()>,
    ) -> Transition<SignedOutRoute> {
        let SignInPhase::LoadingAccount { token, notice, .. } = std::mem::take(self) else {
            return Transition::Stay;
        };
        match result {
            Ok(me) => Transition::Go(SignedOutRoute::SignedIn { session: Session { token, me }, notice }),
            Err(ClientError::Unauthorized) => Transition::Go(SignedOutRoute::SignIn {
                username: None,
                notice: Some(Notice::warning(ClientError::Unauthorized.to_string())),
            }),
            Err(error) => {
                *self = SignInPhase::Form(Request::failure(&error, now.instant, Vec::new()));
                cx.connection_lost(&error);
                Transition::Stay
            }
        }
    }

    /// The spinner with `sending` while a request is out, else the form's countdown or problem.
    pub fn status(&self, sending: &str, ui: &Ui) -> Vec<Line<'static>> {
        match self {
            SignInPhase::Form(request) => request.status(sending, ui),
            SignInPhase::LoadingAccount { .. } => {
                vec![Line::from(format!("{} {sending}", ui.spinner)).cyan()]
            }
        }
    }
}
