//! Signing in, shared by the sign-in form and the second factor: the form's request, then the account
//! and its newest events loading with the session the server just opened.

use std::time::Instant;

use ratatui::style::Stylize;
use ratatui::text::Line;

use crate::client::ClientError;
use crate::domain::{self, EventsPage, EventsQuery, Me, SecretString};
use crate::tui::app::SignedOutRoute;
use crate::tui::app::msg::{ApiCall, Now, RequestId};
use crate::tui::history::{SIGN_IN_LOOKBACK, SinceLastVisit, codes_notice, since_last_visit};
use crate::tui::notice::Notice;
use crate::tui::request::Request;
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui};

#[derive(Debug)]
pub enum SignInPhase {
    Form(Request),
    /// The server accepted: the account loads with the new session's token.
    LoadingAccount {
        id: RequestId,
        opened: Opened,
    },
    /// Then the newest events, to say at once what happened since the previous sign-in.
    LoadingActivity {
        id: RequestId,
        opened: Opened,
        me: Me,
    },
}

/// What the session the server just opened may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Full,
    /// The workspace requires 2FA and the account has none: the session may only set it up.
    SetupOnly,
}

/// A session the server just opened, on its way to the user center (or to the required setup).
#[derive(Debug)]
pub struct Opened {
    token: SecretString,
    access: Access,
    /// Backup codes left, when a backup code signed in.
    used_backup_code: Option<u32>,
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
            SignInPhase::LoadingAccount { .. } | SignInPhase::LoadingActivity { .. } => Activity::Waiting,
        }
    }

    pub fn awaits(&self, id: RequestId) -> bool {
        match self {
            SignInPhase::Form(request) => request.awaits(id),
            SignInPhase::LoadingAccount { id: loading, .. }
            | SignInPhase::LoadingActivity { id: loading, .. } => *loading == id,
        }
    }

    pub fn reconnected(&mut self) {
        match self {
            SignInPhase::Form(request) => request.reconnected(),
            SignInPhase::LoadingAccount { .. } | SignInPhase::LoadingActivity { .. } => {}
        }
    }

    pub fn tick(&mut self, now: Instant) {
        match self {
            SignInPhase::Form(request) => request.tick(now),
            SignInPhase::LoadingAccount { .. } | SignInPhase::LoadingActivity { .. } => {}
        }
    }

    /// The session the server opened, while the account loads: quitting now ends it.
    pub fn opened_token(&self) -> Option<&SecretString> {
        match self {
            SignInPhase::Form(_) => None,
            SignInPhase::LoadingAccount { opened, .. } | SignInPhase::LoadingActivity { opened, .. } => {
                Some(&opened.token)
            }
        }
    }

    /// The server accepted: load the account before opening the user center.
    pub fn opened(&mut self, session: domain::Session, access: Access, cx: &mut Cx<'_, ()>) {
        let id = cx.send(ApiCall::LoadMe { token: session.token.clone() });
        let opened =
            Opened { token: session.token, access, used_backup_code: session.backup_codes_remaining };
        *self = SignInPhase::LoadingAccount { id, opened };
    }

    /// The account arrived (its newest events load next) or did not (the form says why).
    pub fn on_account(
        &mut self,
        result: Result<Me, ClientError>,
        now: Now,
        cx: &mut Cx<'_, ()>,
    ) -> Transition<SignedOutRoute> {
        let SignInPhase::LoadingAccount { opened, .. } = std::mem::take(self) else {
            return Transition::Stay;
        };
        match result {
            Ok(me) => {
                let query = EventsQuery { limit: Some(SIGN_IN_LOOKBACK), before: None };
                let id = cx.send(ApiCall::LoadEvents { token: opened.token.clone(), query });
                *self = SignInPhase::LoadingActivity { id, opened, me };
                Transition::Stay
            }
            Err(ClientError::Unauthorized) => session_ended(),
            Err(error) => {
                *self = SignInPhase::Form(Request::failure(&error, now.instant, Vec::new()));
                cx.connection_lost(&error);
                Transition::Stay
            }
        }
    }

    /// The newest events arrived: the user center opens (or the required setup), saying what happened
    /// since the previous sign-in. Without them it opens all the same, with nothing marked.
    pub fn on_activity(&mut self, result: Result<EventsPage, ClientError>) -> Transition<SignedOutRoute> {
        let SignInPhase::LoadingActivity { opened, me, .. } = std::mem::take(self) else {
            return Transition::Stay;
        };
        let since = match result {
            Ok(page) => since_last_visit(&page),
            Err(ClientError::Unauthorized) => return session_ended(),
            // A v1 server keeps no events, and a lost answer is no reason to keep someone out.
            Err(_) => SinceLastVisit::default(),
        };
        let mut notices = since.notices;
        notices.extend(codes_notice(&me, opened.used_backup_code));
        Transition::Go(SignedOutRoute::SignedIn {
            session: Session { token: opened.token, me, last_visit: since.last_visit },
            notices,
            setup_required: opened.access == Access::SetupOnly,
        })
    }

    /// The spinner with `sending` while a request is out, else the form's countdown or problem.
    pub fn status(&self, sending: &str, ui: &Ui) -> Vec<Line<'static>> {
        match self {
            SignInPhase::Form(request) => request.status(sending, ui),
            SignInPhase::LoadingAccount { .. } | SignInPhase::LoadingActivity { .. } => {
                vec![Line::from(format!("{} {sending}", ui.spinner)).cyan()]
            }
        }
    }
}

/// The new session was refused at once: back to the sign-in form.
fn session_ended() -> Transition<SignedOutRoute> {
    Transition::Go(SignedOutRoute::SignIn {
        username: None,
        notice: Some(Notice::warning(ClientError::Unauthorized.to_string())),
    })
}
