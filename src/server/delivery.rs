//! Delivery of security events from the outbox (API v1.1): each event as one ECS JSON line to the
//! events log (`--events-log`), and the six events an owner must hear of to the notification webhook
//! (`--notify-webhook`), with bounded retries.
//!
//! Requests never deliver anything: they write the event, and the outbox row with it, in their own
//! transaction. One task per server claims due rows for a lease ([`LEASE_S`]), delivers them and deletes
//! them, so each event leaves once across every server sharing the database; a server that dies
//! mid-delivery leaves its rows to the next claim after the lease (at-least-once). A row's webhook
//! delivery is retried after a failure (a refused connection, a timeout, an answer other than 2xx) with
//! a doubling back-off, [`WEBHOOK_ATTEMPTS`] times in all; the last failure is logged as an error.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::future::join_all;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::service::activity::api_event;
use super::store::{Delivered, EventRecord, OutboxRecord, Store};
use crate::domain::EventKind;

/// How long a server holds the rows it claimed: longer than a batch can take (its webhook calls run
/// at once, each at most [`WEBHOOK_TIMEOUT`]).
pub const LEASE_S: i64 = 5 * 60;
/// Rows claimed at once.
const BATCH: u32 = 20;
/// How often the outbox is looked at for events other servers or administrator commands recorded (this
/// server's own are delivered at once).
const POLL: Duration = Duration::from_secs(1);
/// Batches whose webhook calls may be under way at once: a hanging receiver holds up at most this
/// many batches, never the events log or the requests.
const WEBHOOK_BATCHES_IN_FLIGHT: usize = 4;
/// Webhook deliveries per event, the first included.
pub const WEBHOOK_ATTEMPTS: i64 = 10;
/// Wait after the first failed webhook delivery; it doubles with each further failure, up to
/// [`WEBHOOK_MAX_BACKOFF_S`] (so the ten attempts span about 43 minutes).
pub const WEBHOOK_FIRST_BACKOFF_S: i64 = 5;
const WEBHOOK_MAX_BACKOFF_S: i64 = 60 * 60;
/// One webhook call: connect and answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
const WEBHOOK_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Wait before writing to an events log that failed (a full disk) again.
const LOG_RETRY_S: i64 = 5;
/// The Elastic Common Schema version the lines follow.
pub const ECS_VERSION: &str = "8.11.0";

/// Where `--events-log` writes: a file (appended to) or standard output (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventsLogTarget {
    Stdout,
    File(PathBuf),
}

impl std::str::FromStr for EventsLogTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "" => Err("give a file, or - for standard output".into()),
            "-" => Ok(Self::Stdout),
            path => Ok(Self::File(PathBuf::from(path))),
        }
    }
}

/// The events a webhook hears of: each changes how the account is protected, so its owner is told
/// (ASVS 2.5.5).
pub fn notifies(kind: &EventKind) -> bool {
    match kind {
        EventKind::TwoFactorEnabled {}
        | EventKind::TwoFactorDisabled {}
        | EventKind::BackupCodesRegenerated {}
        | EventKind::TwoFactorReset {}
        | EventKind::SecondFactorLocked {}
        | EventKind::PasswordChanged {} => true,
        EventKind::SignIn { .. }
        | EventKind::SignInFailed { .. }
        | EventKind::Throttled { .. }
        | EventKind::SecondFactorUnlocked {}
        | EventKind::SessionRevoked {}
        | EventKind::SessionsRevoked { .. } => false,
    }
}

/// The ECS document of an event: nested objects, not dotted keys.
pub fn ecs_document(record: &EventRecord) -> anyhow::Result<Value> {
    let event = api_event(record).map_err(|e| anyhow::anyhow!("event {}: {e}", record.id))?;
    let category = if event.kind.is_failure() || matches!(event.kind, EventKind::SignIn { .. }) {
        "authentication"
    } else {
        "iam"
    };
    let outcome = if event.kind.is_failure() { "failure" } else { "success" };
    let details: Value = serde_json::from_str(&record.details).context("bad details")?;
    Ok(json!({
        "@timestamp": event.at.format(&Rfc3339).context("bad time")?,
        "event": {
            "kind": "event",
            "category": [category],
            "action": record.kind,
            "outcome": outcome,
            "id": record.id.to_string(),
        },
        "user": { "name": record.username },
        "source": { "ip": record.address },
        "user_agent": { "original": record.user_agent },
        "usercenter": { "details": details },
        "ecs": { "version": ECS_VERSION },
    }))
}

/// The webhook's body: `{"event": <the API's event>, "username": …}`.
pub fn webhook_body(record: &EventRecord) -> anyhow::Result<Value> {
    let event = api_event(record).map_err(|e| anyhow::anyhow!("event {}: {e}", record.id))?;
    Ok(json!({ "event": event, "username": record.username }))
}

/// Where this server delivers events; a server with neither still empties the outbox.
pub struct Delivery {
    log: Option<EventsLog>,
    webhook: Option<Arc<Webhook>>,
    webhook_batches: Arc<tokio::sync::Semaphore>,
}

impl Delivery {
    /// Opens the events log (created with mode 0600, appended to) and prepares the webhook's client.
    pub fn new(log: Option<&EventsLogTarget>, webhook: Option<&reqwest::Url>) -> anyhow::Result<Self> {
        let log = log.map(EventsLog::open).transpose()?;
        let webhook = webhook.map(|url| Webhook::new(url.clone()).map(Arc::new)).transpose()?;
        let webhook_batches = Arc::new(tokio::sync::Semaphore::new(WEBHOOK_BATCHES_IN_FLIGHT));
        Ok(Self { log, webhook, webhook_batches })
    }

    /// Delivers due outbox rows until the server stops.
    pub async fn run<S: Store>(mut self, state: AppState<S>) {
        loop {
            let now = state.clock.unix();
            match state.store.claim_outbox(now, now + LEASE_S, BATCH).await {
                Ok(rows) if !rows.is_empty() => {
                    self.deliver(&state, rows).await;
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %format!("{error:#}"), "cannot read the events outbox"),
            }
            tokio::select! {
                () = state.store.events_recorded().notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn deliver<S: Store>(&mut self, state: &AppState<S>, rows: Vec<OutboxRecord>) {
        let mut settled = Vec::with_capacity(rows.len());
        let mut to_notify = Vec::new();
        for row in rows {
            let id = row.event.id;
            let mut logged = row.logged != 0;
            if let Some(log) = self.log.as_mut().filter(|_| !logged) {
                match log.write(&row.event) {
                    Ok(()) => logged = true,
                    Err(error) => {
                        tracing::warn!(event_id = id, error = %format!("{error:#}"), "cannot write to the events log; trying again");
                        let next_attempt_at = state.clock.unix() + LOG_RETRY_S;
                        settled
                            .push((id, Delivered::Retry { next_attempt_at, logged: false, failed: false }));
                        continue;
                    }
                }
            }
            let for_owner = api_event(&row.event).map(|event| notifies(&event.kind)).unwrap_or(false);
            if self.webhook.is_some() && for_owner {
                to_notify.push((row, logged));
            } else {
                settled.push((id, Delivered::Done));
            }
        }
        settle(state, &settled).await;
        let Some(webhook) = self.webhook.clone().filter(|_| !to_notify.is_empty()) else { return };
        // The calls run in their own task (their rows stay claimed meanwhile), so a slow receiver
        // delays neither the events log nor other events; only a few batches wait on it at once.
        let Ok(permit) = Arc::clone(&self.webhook_batches).acquire_owned().await else { return };
        let state = state.clone();
        tokio::spawn(async move {
            let sent = join_all(to_notify.iter().map(|(row, _)| webhook.post(&row.event))).await;
            let now = state.clock.unix();
            let settled: Vec<_> = to_notify
                .iter()
                .zip(sent)
                .map(|((row, logged), sent)| (row.event.id, settle_webhook(row, *logged, sent, now)))
                .collect();
            settle(&state, &settled).await;
            drop(permit);
        });
    }
}

async fn settle<S: Store>(state: &AppState<S>, settled: &[(i64, Delivered)]) {
    if let Err(error) = state.store.settle_outbox(settled).await {
        // The rows stay claimed; after the lease they are delivered again.
        tracing::warn!(error = %format!("{error:#}"), "cannot record delivered events");
    }
}

/// What becomes of a row after its webhook call: done, tried again later, or given up (logged).
fn settle_webhook(row: &OutboxRecord, logged: bool, sent: anyhow::Result<()>, now: i64) -> Delivered {
    let event = &row.event;
    let Err(error) = sent else { return Delivered::Done };
    let attempts = row.attempts + 1;
    if attempts >= WEBHOOK_ATTEMPTS {
        tracing::error!(
            event_id = event.id,
            event_type = %event.kind,
            username = %event.username,
            attempts,
            error = %format!("{error:#}"),
            "gave up telling the notification webhook of an event"
        );
        return Delivered::Done;
    }
    let wait = webhook_backoff_s(attempts);
    tracing::warn!(
        event_id = event.id,
        event_type = %event.kind,
        attempts,
        retry_in_s = wait,
        error = %format!("{error:#}"),
        "the notification webhook did not take an event; trying again"
    );
    Delivered::Retry { next_attempt_at: now + wait, logged, failed: true }
}

/// Wait after the `failures`-th failed webhook delivery: 5 s, doubling, at most an hour.
pub fn webhook_backoff_s(failures: i64) -> i64 {
    let doublings = u32::try_from((failures - 1).clamp(0, 20)).unwrap_or(20);
    (WEBHOOK_FIRST_BACKOFF_S << doublings).min(WEBHOOK_MAX_BACKOFF_S)
}

/// The open events log.
enum EventsLog {
    Stdout,
    File(std::fs::File),
}

impl EventsLog {
    fn open(target: &EventsLogTarget) -> anyhow::Result<Self> {
        match target {
            EventsLogTarget::Stdout => Ok(Self::Stdout),
            EventsLogTarget::File(path) => {
                let mut options = std::fs::OpenOptions::new();
                options.append(true).create(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt as _;
                    // Usernames and addresses: not for everyone to read.
                    options.mode(0o600);
                }
                let file = options
                    .open(path)
                    .with_context(|| format!("cannot open the events log {}", path.display()))?;
                Ok(Self::File(file))
            }
        }
    }

    /// One line, written at once (an `O_APPEND` write), so servers sharing a file do not mix lines.
    fn write(&mut self, record: &EventRecord) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(&ecs_document(record)?)?;
        line.push(b'\n');
        match self {
            EventsLog::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(&line)
                    .and_then(|()| stdout.flush())
                    .context("cannot write to standard output")
            }
            EventsLog::File(file) => file.write_all(&line).context("cannot write the events log"),
        }
    }
}

/// The notification webhook.
struct Webhook {
    url: reqwest::Url,
    client: reqwest::Client,
}

impl Webhook {
    fn new(url: reqwest::Url) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .connect_timeout(WEBHOOK_CONNECT_TIMEOUT)
            // A redirect could lead the body elsewhere: the URL given is the one used.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("usercenter/", env!("CARGO_PKG_VERSION"), " (notify-webhook)"))
            .build()
            .context("cannot set up the webhook's HTTP client")?;
        Ok(Self { url, client })
    }

    /// POSTs the event; anything but a 2xx answer is a failure. Errors never name the URL, which may
    /// hold a secret.
    async fn post(&self, record: &EventRecord) -> anyhow::Result<()> {
        let body = webhook_body(record)?;
        let answer = self
            .client
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            .map_err(reqwest::Error::without_url)?;
        let status = answer.status();
        anyhow::ensure!(status.is_success(), "the webhook answered {status}");
        Ok(())
    }
}

/// Checks a `--notify-webhook` URL: http or https, with a host.
pub fn parse_webhook_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("use an http:// or https:// URL".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, details: &str) -> EventRecord {
        EventRecord {
            id: 7,
            username: "alice".into(),
            kind: kind.into(),
            details: details.into(),
            address: Some("203.0.113.7".into()),
            user_agent: Some("usercenter/0.1.0".into()),
            at: 1_800_000_000,
        }
    }

    #[test]
    fn ecs_lines_have_the_named_nested_fields() {
        let line = ecs_document(&record("sign_in_failed", r#"{"reason":"invalid_code"}"#)).unwrap();
        assert_eq!(line["@timestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(line["event"]["kind"], "event");
        assert_eq!(line["event"]["category"], json!(["authentication"]));
        assert_eq!(line["event"]["action"], "sign_in_failed");
        assert_eq!(line["event"]["outcome"], "failure");
        assert_eq!(line["user"]["name"], "alice");
        assert_eq!(line["source"]["ip"], "203.0.113.7");
        assert_eq!(line["user_agent"]["original"], "usercenter/0.1.0");
        assert_eq!(line["usercenter"]["details"], json!({"reason": "invalid_code"}));
        assert_eq!(line["ecs"]["version"], ECS_VERSION);
        assert!(line.as_object().unwrap().keys().all(|k| k == "@timestamp" || !k.contains('.')));
        let enabled = ecs_document(&record("two_factor_enabled", "{}")).unwrap();
        assert_eq!(
            (enabled["event"]["category"][0].as_str(), enabled["event"]["outcome"].as_str()),
            (Some("iam"), Some("success"))
        );
        let signed_in = ecs_document(&record("sign_in", r#"{"method":"totp"}"#)).unwrap();
        assert_eq!(signed_in["event"]["category"][0], "authentication");
        assert_eq!(signed_in["event"]["outcome"], "success");
    }

    #[test]
    fn the_webhook_hears_of_six_event_types() {
        let told: Vec<&str> = [
            "sign_in",
            "sign_in_failed",
            "throttled",
            "second_factor_locked",
            "second_factor_unlocked",
            "two_factor_enabled",
            "two_factor_disabled",
            "backup_codes_regenerated",
            "two_factor_reset",
            "session_revoked",
            "sessions_revoked",
            "password_changed",
        ]
        .into_iter()
        .filter(|kind| {
            let details = match *kind {
                "sign_in" => r#"{"method":"password"}"#,
                "sign_in_failed" => r#"{"reason":"invalid_password"}"#,
                "throttled" => r#"{"scope":"login"}"#,
                "sessions_revoked" => r#"{"count":2}"#,
                _ => "{}",
            };
            notifies(&api_event(&record(kind, details)).unwrap().kind)
        })
        .collect();
        assert_eq!(
            told,
            [
                "second_factor_locked",
                "two_factor_enabled",
                "two_factor_disabled",
                "backup_codes_regenerated",
                "two_factor_reset",
                "password_changed"
            ]
        );
        let body = webhook_body(&record("password_changed", "{}")).unwrap();
        assert_eq!(body["username"], "alice");
        assert_eq!(body["event"]["type"], "password_changed");
        assert_eq!(body["event"]["id"], 7);
    }

    #[test]
    fn a_failed_webhook_call_is_tried_again_until_the_tenth_which_gives_up() {
        let row = |attempts| OutboxRecord { event: record("two_factor_enabled", "{}"), logged: 1, attempts };
        let refused = || Err(anyhow::anyhow!("connection refused"));
        assert_eq!(settle_webhook(&row(0), true, Ok(()), 100), Delivered::Done);
        assert_eq!(
            settle_webhook(&row(0), true, refused(), 100),
            Delivered::Retry { next_attempt_at: 105, logged: true, failed: true }
        );
        assert_eq!(
            settle_webhook(&row(8), false, refused(), 100),
            Delivered::Retry { next_attempt_at: 100 + 1280, logged: false, failed: true }
        );
        // The tenth failure: given up (and logged as an error), the row is done.
        assert_eq!(settle_webhook(&row(WEBHOOK_ATTEMPTS - 1), true, refused(), 100), Delivered::Done);
    }

    #[test]
    fn webhook_retries_back_off_and_end() {
        let waits: Vec<i64> = (1..WEBHOOK_ATTEMPTS).map(webhook_backoff_s).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1280]);
        assert_eq!(webhook_backoff_s(30), 3600);
        assert!(parse_webhook_url("ftp://x").is_err() && parse_webhook_url("nonsense").is_err());
        assert!(parse_webhook_url("https://hooks.example/usercenter?token=x").is_ok());
        assert_eq!("-".parse::<EventsLogTarget>().unwrap(), EventsLogTarget::Stdout);
    }
}
