//! What flows through `update`: messages in, effects out. A request's id leaves with its effect and
//! comes back with its reply, so an answer nobody waits for any more is known by its id.

use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::KeyEvent;
use time::OffsetDateTime;

use crate::client::ClientError;
use crate::domain::{
    self, BackupCodesResponse, ConfirmResponse, DisableResponse, Enrollment, EventsPage, EventsQuery, Health,
    LoginResponse, Me, RevokedSessions, SecondFactorInput, SecretString, SessionList, VerificationCode,
};
use crate::tui::clipboard::{CopyError, CopyMethod};
use crate::tui::savefile::SaveError;

/// When an answer arrived: the monotonic instant for countdowns, the wall clock to compare with the
/// server's `Date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub instant: Instant,
    pub wall: OffsetDateTime,
}

/// Names one request: its effect carries it out and its reply brings it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

/// Hands out request ids, each once.
#[derive(Debug, Default)]
pub struct RequestIds {
    next: u64,
}

impl RequestIds {
    pub fn fresh(&mut self) -> RequestId {
        let id = RequestId(self.next);
        self.next += 1;
        id
    }

    /// The id handed out last: tests answer with it.
    #[cfg(test)]
    pub fn last(&self) -> RequestId {
        RequestId(self.next.saturating_sub(1))
    }
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    /// The clock moved on: countdowns, the spinner, the demo's stand-in phone.
    Tick(Now),
    /// The answer to the effect that carried the same id.
    Reply(Answer),
    /// SIGTERM or SIGHUP (the SSH connection dropped): leave at once, there is nobody to ask.
    Terminate,
}

/// A reply, with the id of the request it answers and when it arrived.
#[derive(Debug)]
pub struct Answer {
    pub id: RequestId,
    pub now: Now,
    pub reply: Reply,
}

/// The answer to an [`Effect::Run`].
#[derive(Debug)]
pub enum Reply {
    Health(Result<Health, ClientError>),
    Login(Result<LoginResponse, ClientError>),
    SecondFactor(Result<domain::Session, ClientError>),
    Me(Result<Me, ClientError>),
    Logout(Result<(), ClientError>),
    EnrollmentStarted(Result<Enrollment, ClientError>),
    Confirmed(Result<ConfirmResponse, ClientError>),
    EnrollmentCancelled(Result<(), ClientError>),
    Regenerated(Result<BackupCodesResponse, ClientError>),
    Disabled(Result<DisableResponse, ClientError>),
    Events(Result<EventsPage, ClientError>),
    Sessions(Result<SessionList, ClientError>),
    SessionRevoked(Result<(), ClientError>),
    OthersRevoked(Result<RevokedSessions, ClientError>),
    Copied(Result<CopyMethod, CopyError>),
    Saved(Result<PathBuf, SaveError>),
}

impl Reply {
    /// The API's error, for the rules that hold whatever the screen (an ended session).
    pub fn api_error(&self) -> Option<&ClientError> {
        match self {
            Reply::Health(r) => r.as_ref().err(),
            Reply::Login(r) => r.as_ref().err(),
            Reply::SecondFactor(r) => r.as_ref().err(),
            Reply::Me(r) => r.as_ref().err(),
            Reply::Logout(r) | Reply::EnrollmentCancelled(r) | Reply::SessionRevoked(r) => r.as_ref().err(),
            Reply::EnrollmentStarted(r) => r.as_ref().err(),
            Reply::Confirmed(r) => r.as_ref().err(),
            Reply::Regenerated(r) => r.as_ref().err(),
            Reply::Disabled(r) => r.as_ref().err(),
            Reply::Events(r) => r.as_ref().err(),
            Reply::Sessions(r) => r.as_ref().err(),
            Reply::OthersRevoked(r) => r.as_ref().err(),
            Reply::Copied(_) | Reply::Saved(_) => None,
        }
    }
}

/// What `update` asks of the runtime.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Work whose answer comes back as `Msg::Reply` with this id.
    Run(RequestId, Work),
    /// Leave the app; on the way out, tidy up on the server (best effort).
    Quit(Cleanup),
    /// Ctrl-Z: give the terminal back and stop until the shell's `fg`, then draw again.
    Suspend,
    /// Signed in: write the username to the config file, to offer it next time (never a password).
    RememberUsername(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Work {
    /// Answered by the `Reply` of the same name.
    Api(ApiCall),
    /// Copy to the clipboard; answered by `Reply::Copied`.
    Copy(SecretString),
    /// Save to a file; answered by `Reply::Saved`.
    Save(SaveRequest),
}

/// Save `contents` to `path_input` as typed (`~` expanded by the runtime).
#[derive(Debug, PartialEq, Eq)]
pub struct SaveRequest {
    pub path_input: String,
    pub contents: SecretString,
    pub overwrite: bool,
}

/// One call of the platform's API; the runtime runs every one the same way.
#[derive(Debug, PartialEq, Eq)]
pub enum ApiCall {
    CheckHealth,
    Login {
        username: String,
        password: SecretString,
    },
    SecondFactor {
        challenge: SecretString,
        input: SecondFactorInput,
    },
    LoadMe {
        token: SecretString,
    },
    Logout {
        token: SecretString,
    },
    StartEnrollment {
        token: SecretString,
        password: SecretString,
    },
    ConfirmEnrollment {
        token: SecretString,
        code: VerificationCode,
    },
    CancelEnrollment {
        token: SecretString,
    },
    RegenerateCodes {
        token: SecretString,
        password: SecretString,
    },
    Disable {
        token: SecretString,
        password: SecretString,
    },
    /// One page of the account's security events, answered by `Reply::Events`.
    LoadEvents {
        token: SecretString,
        query: EventsQuery,
    },
    LoadSessions {
        token: SecretString,
    },
    /// Ends one session by its id (not its token): `Reply::SessionRevoked`.
    RevokeSession {
        token: SecretString,
        id: String,
    },
    RevokeOtherSessions {
        token: SecretString,
    },
}

/// What quitting tidies up on the server, best effort: end the session, cancel a setup in progress.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub token: Option<SecretString>,
    pub cancel_enrollment: bool,
}

impl Work {
    /// For logs: what is being done, never with what.
    pub fn name(&self) -> &'static str {
        match self {
            Work::Api(call) => call.name(),
            Work::Copy(_) => "copy",
            Work::Save(_) => "save",
        }
    }
}

impl ApiCall {
    pub fn name(&self) -> &'static str {
        match self {
            ApiCall::CheckHealth => "check_health",
            ApiCall::Login { .. } => "login",
            ApiCall::SecondFactor { .. } => "second_factor",
            ApiCall::LoadMe { .. } => "load_me",
            ApiCall::Logout { .. } => "logout",
            ApiCall::StartEnrollment { .. } => "start_enrollment",
            ApiCall::ConfirmEnrollment { .. } => "confirm_enrollment",
            ApiCall::CancelEnrollment { .. } => "cancel_enrollment",
            ApiCall::RegenerateCodes { .. } => "regenerate_codes",
            ApiCall::Disable { .. } => "disable",
            ApiCall::LoadEvents { .. } => "load_events",
            ApiCall::LoadSessions { .. } => "load_sessions",
            ApiCall::RevokeSession { .. } => "revoke_session",
            ApiCall::RevokeOtherSessions { .. } => "revoke_other_sessions",
        }
    }
}
