//! Signing in and out: the password, then (when 2FA is on) a second factor against a login challenge.

use std::net::IpAddr;

use super::{timestamp, too_many_attempts};
use crate::domain::{
    BackupCode, Challenge, EventKind, LoginRequest, LoginResponse, Policy, SecondFactorMethod,
    SecondFactorRequest, SecretString, Session, SignInFailure, ThrottleScope, VerificationCode,
};
use crate::server::address::AddressKey;
use crate::server::crypto::{HashKind, random_public_id, random_token};
use crate::server::error::ApiError;
use crate::server::store::{
    AfterPassword, NewCredential, NewSession, Origin, PasswordLogin, Scope, SecondFactorAttempt,
    SecondFactorOutcome, Spend, Store, UserRecord,
};
use crate::server::{CHALLENGE_TTL_S, SESSION_TTL_S, Services, totp, username_problem};

/// `last_seen_at` is written at most this often per session, not on every request.
pub const LAST_SEEN_EVERY_S: i64 = 60;

/// A signed-in request: the account, its session, the workspace policy as read with it, and where the
/// request came from.
pub struct SignedIn {
    pub user: UserRecord,
    pub token_hash: Vec<u8>,
    /// The session's public id.
    pub session_id: String,
    pub policy: Policy,
    /// The account's unused backup codes, read with the session (for `GET /v1/me`).
    pub backup_codes_remaining: u32,
    pub origin: Origin,
}

impl SignedIn {
    /// While the policy requires 2FA and this account has none, the session may only set it up (and
    /// read its account and events, and sign out). Computed at each request, so it ends the moment
    /// enrollment is confirmed, and a policy change takes effect at the next request.
    pub fn setup_only(&self) -> bool {
        self.policy.two_factor_required && !self.user.two_factor_enabled()
    }
}

/// The account behind a bearer token; 401 `unauthorized` for an unknown, expired or revoked one. The
/// session's `last_seen_at` (with the address and user agent) is written when it is a minute old.
pub async fn signed_in<S: Store>(
    state: &Services<S>,
    token: &str,
    origin: Origin,
) -> Result<SignedIn, ApiError> {
    let token_hash = state.keys.lookup_hash(HashKind::SessionToken, token);
    let now = state.clock.unix();
    let found = state.store.session_user(&token_hash, now).await?.ok_or(ApiError::Unauthorized)?;
    if found.session_last_seen_at <= now - LAST_SEEN_EVERY_S {
        // Bookkeeping: a failure (a full disk) must not fail the request that reads.
        if let Err(error) =
            state.store.touch_session(&token_hash, now, now - LAST_SEEN_EVERY_S, &origin).await
        {
            tracing::warn!(error = %format!("{error:#}"), "cannot record when a session was last seen");
        }
    }
    let policy = found.policy();
    let backup_codes_remaining = u32::try_from(found.backup_codes_remaining).unwrap_or(u32::MAX);
    Ok(SignedIn {
        user: found.user,
        token_hash,
        session_id: found.session_id,
        policy,
        backup_codes_remaining,
        origin,
    })
}

/// A new random token, its keyed hash for storage, and when it ends.
struct Issued {
    token: SecretString,
    hash: Vec<u8>,
    expires_at: i64,
}

impl Issued {
    fn new<S>(state: &Services<S>, kind: HashKind, expires_at: i64) -> Self {
        let token = random_token();
        let hash = state.keys.lookup_hash(kind, token.expose());
        Self { token, hash, expires_at }
    }

    fn credential(&self) -> NewCredential<'_> {
        NewCredential { hash: &self.hash, expires_at: self.expires_at }
    }

    fn session<'a>(&'a self, public_id: &'a str) -> NewSession<'a> {
        NewSession { credential: self.credential(), public_id }
    }
}

/// The password step: a session when 2FA is off (one that may only set up 2FA while the policy
/// requires it), a login challenge when it is on.
///
/// A username `user add` would refuse is `invalid_credentials` at once: it names no account, and so
/// nothing is written for it (rule 11). Otherwise the attempt is counted per (client address,
/// username) before the password is checked (rule 8), after a place in the hashing queue is taken (a
/// 503 for a full queue is no attempt). A wrong password for an existing account records
/// `sign_in_failed` (and `throttled` when it starts a back-off); an unknown username records nothing.
pub async fn with_password<S: Store>(
    state: &Services<S>,
    client: IpAddr,
    origin: &Origin,
    request: &LoginRequest,
) -> Result<LoginResponse, ApiError> {
    if username_problem(&request.username).is_some() {
        return Err(ApiError::InvalidCredentials);
    }
    let now = state.clock.unix();
    let ticket = state.passwords.reserve()?;
    // Known or unknown usernames alike, so a 429 does not reveal which accounts exist.
    let subject = state.keys.login_throttle_subject(&AddressKey::of(client).to_string(), &request.username);
    let attempt = state.attempt(Scope::Login, &subject, now).await?;
    let account = state.store.user_by_name(&request.username).await?;
    // An unknown user is checked against a dummy hash: same work, same answer.
    let stored = account.as_ref().map(|a| a.user.password_hash.as_str());
    let matches = state.passwords.verify(ticket, &request.password, stored).await?;
    let Some(account) = account else {
        return Err(ApiError::InvalidCredentials);
    };
    if !matches {
        let mut events = vec![EventKind::SignInFailed { reason: SignInFailure::InvalidPassword }];
        events.extend(attempt.throttled(ThrottleScope::Login));
        state.store.record_events(account.user.id, &events, origin, now).await?;
        return Err(ApiError::InvalidCredentials);
    }
    let policy = account.policy();
    let user = account.user;
    if !user.two_factor_enabled() {
        let session = Issued::new(state, HashKind::SessionToken, now + SESSION_TTL_S);
        let public_id = random_public_id();
        let then = AfterPassword::Session(session.session(&public_id));
        let login = PasswordLogin { user_id: user.id, throttle_subject: &subject, then, origin, now };
        state.store.complete_password_login(login).await?;
        let session = Session {
            token: session.token,
            expires_at: timestamp(session.expires_at)?,
            backup_codes_remaining: None,
        };
        return Ok(if policy.two_factor_required {
            LoginResponse::TwoFactorSetupRequired(session)
        } else {
            LoginResponse::Authenticated(session)
        });
    }
    let challenge = Issued::new(state, HashKind::Challenge, now + CHALLENGE_TTL_S);
    let then = AfterPassword::Challenge(challenge.credential());
    let login = PasswordLogin { user_id: user.id, throttle_subject: &subject, then, origin, now };
    state.store.complete_password_login(login).await?;
    Ok(LoginResponse::SecondFactorRequired(Challenge {
        challenge: challenge.token,
        expires_at: timestamp(challenge.expires_at)?,
        methods: vec![SecondFactorMethod::Totp, SecondFactorMethod::BackupCode],
    }))
}

/// What the second-factor request proves possession of.
enum Proof {
    Totp(SecretString),
    Backup(SecretString),
}

impl Proof {
    /// Exactly one of the two fields; both or neither is 400 `invalid_request`.
    fn of(code: Option<SecretString>, backup_code: Option<SecretString>) -> Result<Self, ApiError> {
        match (code, backup_code) {
            (Some(code), None) => Ok(Proof::Totp(code)),
            (None, Some(code)) => Ok(Proof::Backup(code)),
            (Some(_), Some(_)) | (None, None) => {
                Err(ApiError::InvalidRequest("Send exactly one of \"code\" and \"backup_code\".".into()))
            }
        }
    }
}

/// The proof as the store spends it: checked here (decrypting the secret, matching the code), so the
/// transaction holds no CPU work.
enum Checked {
    Nothing,
    Totp { sealed_secret: Vec<u8>, step: i64 },
    BackupCode { hash: Vec<u8> },
}

impl Checked {
    fn spend(&self) -> Spend<'_> {
        match self {
            Checked::Nothing => Spend::Nothing,
            Checked::Totp { sealed_secret, step } => Spend::Totp { sealed_secret, step: *step },
            Checked::BackupCode { hash } => Spend::BackupCode { hash },
        }
    }
}

/// The second step: a TOTP code or a backup code for a live challenge; a session on success.
///
/// The challenge must be live and 2FA on; the code is checked; then one transaction counts the
/// attempt (rules 10 and 5), spends the code (rules 2 and 4), consumes the challenge and stores the
/// session. So a wrong code does not kill the challenge, of parallel requests for one challenge only
/// one signs in, and the others leave their codes unused (rule 12).
pub async fn with_second_factor<S: Store>(
    state: &Services<S>,
    origin: &Origin,
    request: SecondFactorRequest,
) -> Result<Session, ApiError> {
    let SecondFactorRequest { challenge, code, backup_code } = request;
    let proof = Proof::of(code, backup_code)?;
    let now = state.clock.unix();
    let challenge_hash = state.keys.lookup_hash(HashKind::Challenge, challenge.expose());
    // Unknown, expired and already completed challenges all answer challenge_expired: sign in again.
    let user = state.store.challenge_owner(&challenge_hash, now).await?.ok_or(ApiError::ChallengeExpired)?;
    // 2FA was turned off (by support or the user) after this challenge was issued.
    let Some(sealed_secret) = user.totp_secret else {
        return Err(ApiError::ChallengeExpired);
    };
    let checked = match proof {
        Proof::Totp(code) => {
            let secret = state.keys.decrypt_secret(user.id, &sealed_secret)?;
            let step = match VerificationCode::parse(code.expose()) {
                Some(code) => totp::matching_step(&secret, code.expose(), now)?,
                None => None,
            };
            step.map_or(Checked::Nothing, |step| Checked::Totp { sealed_secret, step })
        }
        Proof::Backup(code) => match BackupCode::parse(code.expose()) {
            Some(code) => {
                Checked::BackupCode { hash: state.keys.lookup_hash(HashKind::BackupCode, code.canonical()) }
            }
            None => Checked::Nothing,
        },
    };
    let session = Issued::new(state, HashKind::SessionToken, now + SESSION_TTL_S);
    let public_id = random_public_id();
    let attempt = SecondFactorAttempt {
        user_id: user.id,
        challenge_hash: &challenge_hash,
        spend: checked.spend(),
        session: session.session(&public_id),
        origin,
        now,
    };
    match state.store.complete_second_factor(attempt).await? {
        SecondFactorOutcome::SignedIn { backup_codes_remaining } => Ok(Session {
            token: session.token,
            expires_at: timestamp(session.expires_at)?,
            backup_codes_remaining,
        }),
        SecondFactorOutcome::Locked => Err(ApiError::SecondFactorLocked),
        SecondFactorOutcome::Throttled { until } => Err(too_many_attempts(until, now)),
        SecondFactorOutcome::InvalidCode => Err(ApiError::InvalidCode),
        SecondFactorOutcome::CodeAlreadyUsed => Err(ApiError::CodeAlreadyUsed),
        SecondFactorOutcome::ChallengeGone => Err(ApiError::ChallengeExpired),
    }
}

/// Revokes the session the request was made with (no event: the person did it, here and now).
pub async fn sign_out<S: Store>(state: &Services<S>, signed_in: &SignedIn) -> Result<(), ApiError> {
    state.store.delete_session(&signed_in.token_hash).await?;
    Ok(())
}
