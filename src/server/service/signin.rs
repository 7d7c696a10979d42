//! Signing in and out: the password, then (when 2FA is on) a second factor against a login challenge.

use super::timestamp;
use crate::domain::{
    BackupCode, Challenge, LoginRequest, LoginResponse, SecondFactorMethod, SecondFactorRequest,
    SecretString, Session, VerificationCode,
};
use crate::server::crypto::{HashKind, random_token};
use crate::server::error::ApiError;
use crate::server::store::{BackupCodeOutcome, Scope, Store, UserRecord};
use crate::server::{CHALLENGE_TTL_S, Services, totp};

/// A signed-in request: the account and the hash of the token it carried.
pub struct SignedIn {
    pub user: UserRecord,
    pub token_hash: Vec<u8>,
}

/// The account behind a bearer token; 401 `unauthorized` for an unknown, expired or revoked one.
pub async fn signed_in<S: Store>(state: &Services<S>, token: &str) -> Result<SignedIn, ApiError> {
    let token_hash = state.keys.lookup_hash(HashKind::SessionToken, token);
    let user =
        state.store.session_user(&token_hash, state.clock.unix()).await?.ok_or(ApiError::Unauthorized)?;
    Ok(SignedIn { user, token_hash })
}

/// The password step: a session when 2FA is off, a login challenge when it is on.
pub async fn with_password<S: Store>(
    state: &Services<S>,
    request: &LoginRequest,
) -> Result<LoginResponse, ApiError> {
    let now = state.clock.unix();
    // Throttled per username, known or not, so a 429 does not reveal which accounts exist.
    state.attempt(Scope::Login, &request.username, now).await?;
    let user = state.store.user_by_name(&request.username).await?;
    // An unknown user is checked against a dummy hash: same work, same answer.
    let matches =
        state.passwords.verify(&request.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::InvalidCredentials);
    };
    state.store.throttle_reset(Scope::Login, &request.username).await?;
    if !user.two_factor_enabled() {
        return Ok(LoginResponse::Authenticated(state.issue_session(user.id, now, None).await?));
    }
    let challenge = random_token();
    let expires_at = now + CHALLENGE_TTL_S;
    let hash = state.keys.lookup_hash(HashKind::Challenge, challenge.expose());
    state.store.create_challenge(&hash, user.id, expires_at, now).await?;
    Ok(LoginResponse::SecondFactorRequired(Challenge {
        challenge,
        expires_at: timestamp(expires_at)?,
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

/// The second step: a TOTP code or a backup code for a live challenge; a session on success.
///
/// Order: the challenge must be live, the attempt is counted (rule 5), the code is spent (rules 2 and
/// 4), then the challenge; so a wrong code does not kill the challenge, and of two parallel requests
/// for one challenge only one gets a session.
pub async fn with_second_factor<S: Store>(
    state: &Services<S>,
    request: SecondFactorRequest,
) -> Result<Session, ApiError> {
    let SecondFactorRequest { challenge, code, backup_code } = request;
    let proof = Proof::of(code, backup_code)?;
    let now = state.clock.unix();
    let challenge_hash = state.keys.lookup_hash(HashKind::Challenge, challenge.expose());
    // Unknown, expired and already completed challenges all answer challenge_expired: sign in again.
    let user_id =
        state.store.challenge_user(&challenge_hash, now).await?.ok_or(ApiError::ChallengeExpired)?;
    let subject = user_id.to_string();
    state.attempt(Scope::Verify, &subject, now).await?;
    let backup_codes_remaining = match proof {
        Proof::Totp(code) => {
            spend_totp_code(state, user_id, &code, now).await?;
            None
        }
        Proof::Backup(code) => Some(spend_backup_code(state, user_id, &code, now).await?),
    };
    // A challenge completed meanwhile by a parallel request loses here.
    if !state.store.consume_challenge(&challenge_hash, now).await? {
        return Err(ApiError::ChallengeExpired);
    }
    state.store.throttle_reset(Scope::Verify, &subject).await?;
    state.issue_session(user_id, now, backup_codes_remaining).await
}

/// Checks a TOTP code against the user's secret and records its time step (rule 2).
async fn spend_totp_code<S: Store>(
    state: &Services<S>,
    user_id: i64,
    code: &SecretString,
    now: i64,
) -> Result<(), ApiError> {
    let user = state.store.user_by_id(user_id).await?.ok_or(ApiError::ChallengeExpired)?;
    // 2FA was turned off (by support) after this challenge was issued.
    let sealed = user.totp_secret.ok_or(ApiError::ChallengeExpired)?;
    let secret = state.keys.decrypt_secret(user_id, &sealed)?;
    let code = VerificationCode::parse(code.expose()).ok_or(ApiError::InvalidCode)?;
    let step = totp::matching_step(&secret, code.expose(), now)?.ok_or(ApiError::InvalidCode)?;
    if !state.store.accept_totp_step(user_id, step).await? {
        return Err(ApiError::CodeAlreadyUsed);
    }
    Ok(())
}

/// Marks a backup code used (rule 4); the number of unused codes left.
async fn spend_backup_code<S: Store>(
    state: &Services<S>,
    user_id: i64,
    code: &SecretString,
    now: i64,
) -> Result<u32, ApiError> {
    let code = BackupCode::parse(code.expose()).ok_or(ApiError::InvalidCode)?;
    let hash = state.keys.lookup_hash(HashKind::BackupCode, code.canonical());
    match state.store.use_backup_code(user_id, &hash, now).await? {
        BackupCodeOutcome::Accepted { remaining } => Ok(remaining),
        BackupCodeOutcome::AlreadyUsed => Err(ApiError::CodeAlreadyUsed),
        BackupCodeOutcome::Unknown => Err(ApiError::InvalidCode),
    }
}

/// Revokes the session the request was made with.
pub async fn sign_out<S: Store>(state: &Services<S>, signed_in: &SignedIn) -> Result<(), ApiError> {
    state.store.delete_session(&signed_in.token_hash).await?;
    Ok(())
}
