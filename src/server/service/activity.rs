//! What happened to an account (its security events) and its sessions: list, end one, end the others.

use super::signin::SignedIn;
use super::timestamp;
use crate::domain::{
    EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT, Event, EventKind, EventsPage, EventsQuery, RevokedSessions,
    SessionInfo, SessionList,
};
use crate::server::Services;
use crate::server::error::ApiError;
use crate::server::store::{EventRecord, Store};

/// GET /v1/me/events: newest first, `limit` (1 to 100, default 20) events with ids below `before`.
/// `next_before` is set when older events exist.
pub async fn events<S: Store>(
    state: &Services<S>,
    signed_in: &SignedIn,
    query: EventsQuery,
) -> Result<EventsPage, ApiError> {
    let limit = query.limit.unwrap_or(EVENTS_DEFAULT_LIMIT);
    if !(1..=EVENTS_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidRequest(format!(
            "\"limit\" must be 1 to {EVENTS_MAX_LIMIT} (the default is {EVENTS_DEFAULT_LIMIT})."
        )));
    }
    if query.before.is_some_and(|before| before < 1) {
        return Err(ApiError::InvalidRequest("\"before\" must be an event id (1 or more).".into()));
    }
    // One more than asked for tells whether there is a next page.
    let mut records = state.store.events(Some(signed_in.user.id), query.before, limit + 1).await?;
    let more = records.len() > limit as usize;
    records.truncate(limit as usize);
    let events = records.iter().map(api_event).collect::<Result<Vec<_>, _>>()?;
    let next_before = if more { events.last().map(|e| e.id) } else { None };
    Ok(EventsPage { events, next_before })
}

/// An event as the API shows it.
pub fn api_event(record: &EventRecord) -> Result<Event, ApiError> {
    let kind: EventKind = serde_json::from_value(serde_json::json!({
        "type": record.kind,
        "details": serde_json::from_str::<serde_json::Value>(&record.details)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("event {}: bad details: {e}", record.id)))?,
    }))
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("event {}: {e}", record.id)))?;
    Ok(Event {
        id: record.id,
        kind,
        at: timestamp(record.at)?,
        address: record.address.clone(),
        user_agent: record.user_agent.clone(),
    })
}

/// GET /v1/me/sessions: the account's live sessions, the one asking marked `current`.
pub async fn sessions<S: Store>(state: &Services<S>, signed_in: &SignedIn) -> Result<SessionList, ApiError> {
    let records = state.store.sessions(signed_in.user.id, state.clock.unix()).await?;
    let sessions = records
        .into_iter()
        .map(|record| {
            Ok(SessionInfo {
                current: record.token_hash == signed_in.token_hash,
                id: record.public_id,
                created_at: timestamp(record.created_at)?,
                last_seen_at: timestamp(record.last_seen_at)?,
                expires_at: timestamp(record.expires_at)?,
                address: record.address,
                user_agent: record.user_agent,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(SessionList { sessions })
}

/// DELETE /v1/me/sessions/{id}: ends one of the account's sessions (the current one too); 404
/// `not_found` for an unknown id or another account's, alike.
pub async fn revoke<S: Store>(state: &Services<S>, signed_in: &SignedIn, id: &str) -> Result<(), ApiError> {
    let now = state.clock.unix();
    if !state.store.revoke_session(signed_in.user.id, id, &signed_in.origin, now).await? {
        return Err(ApiError::NoSuchSession);
    }
    Ok(())
}

/// POST /v1/me/sessions/revoke-others: ends every other session of the account.
pub async fn revoke_others<S: Store>(
    state: &Services<S>,
    signed_in: &SignedIn,
) -> Result<RevokedSessions, ApiError> {
    let now = state.clock.unix();
    let revoked = state
        .store
        .revoke_other_sessions(signed_in.user.id, &signed_in.token_hash, &signed_in.origin, now)
        .await?;
    Ok(RevokedSessions { revoked })
}
