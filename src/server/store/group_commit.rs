//! SQLite's one writer, shared by the right TOTP codes that arrive together: they are signed in as a
//! group, in one transaction and one round trip to sqlx's SQLite thread (a group commit).
//!
//! A sign-in is a few statements of SQLite work, but each round trip to the writer costs two thread
//! handoffs, and each waits for a busy tokio worker; one sign-in per round trip kept the writer mostly
//! waiting (issue 11: about 2,000 sign-ins/s however many clients). Here one task owns the writer's
//! queue: it takes every sign-in waiting (up to [`MAX_GROUP`]), runs them as one script, and answers
//! each. The sign-ins of a group run one after the other inside the transaction, exactly as they
//! would in separate transactions: each statement sees the ones before, so two codes for one challenge
//! still sign in once (rule 12). Nobody is answered before the `COMMIT`. When a group fails, each of
//! its sign-ins is tried again alone, so one failure (a full disk) is only its own.

use std::sync::OnceLock;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use tokio::sync::{mpsc, oneshot};

use sqlx::query::QueryScalar;

use super::{SECOND_FACTOR_LOCK_AFTER, Scope};

/// At most this many sign-ins in one transaction.
pub const MAX_GROUP: usize = 16;

/// Sign-ins waiting for the writer at most; a request waits for a place beyond that.
const QUEUE: usize = 1024;

/// The statements of one TOTP sign-in, the same as PostgreSQL's one statement (`SIGN_IN_WITH_TOTP` in
/// `sql.rs`) with the same parameters, inside a transaction that holds the database's one write lock:
/// the first consumes the challenge under its conditions; the session is stored only when it did
/// (`changes()` is the row count of the statement just before); the rest follow the session, whose
/// token hash is new. The `SELECT` says 1 when it signed in, 0 when it changed nothing.
const SIGN_IN: &str = "\
    UPDATE challenges SET used_at = $7 \
    WHERE challenge_hash = $8 AND expires_at > $7 AND used_at IS NULL \
      AND user_id IN (SELECT id FROM users WHERE id = $1 AND second_factor_failures < $4 \
          AND totp_secret = $5 AND (last_totp_step IS NULL OR last_totp_step < $6)) \
      AND NOT EXISTS (SELECT 1 FROM throttles WHERE scope = $2 AND subject = $3 AND locked_until > $7); \
    INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at, \
        address, user_agent) \
    SELECT $9, $1, $10, $11, $7, $7, $12, $13 WHERE changes() = 1; \
    UPDATE users SET last_totp_step = $6, second_factor_failures = 0 \
    WHERE id = $1 AND EXISTS (SELECT 1 FROM sessions WHERE token_hash = $9); \
    DELETE FROM throttles WHERE scope = $2 AND subject = $3 \
      AND EXISTS (SELECT 1 FROM sessions WHERE token_hash = $9); \
    INSERT INTO events (user_id, type, details, address, user_agent, at) \
    SELECT $1, $14, $15, $12, $13, $7 WHERE EXISTS (SELECT 1 FROM sessions WHERE token_hash = $9); \
    SELECT COUNT(*) FROM sessions WHERE token_hash = $9;";

/// How many parameters [`SIGN_IN`] has.
const PARAMETERS: usize = 15;

/// The sizes of group a script is made for: 1, 2, 4 … [`MAX_GROUP`]. A group in between is filled up
/// with sign-ins that change nothing ([`TotpSignIn::nothing`]): SQLite keeps every statement of every
/// script prepared on the writer, and one script per size up to 16 held 952 of them (4.5 MiB more
/// peak RSS than these 217 in one 64-client run).
fn size_for(n: usize) -> usize {
    n.clamp(1, MAX_GROUP).next_power_of_two()
}

/// The script for `n` sign-ins (`n` one of the sizes of [`size_for`]): `BEGIN IMMEDIATE`, [`SIGN_IN`]
/// `n` times with its parameters moved along ($1 of the second is $16), `COMMIT`. Made once per size.
pub fn script(n: usize) -> &'static str {
    static SCRIPTS: OnceLock<Vec<String>> = OnceLock::new();
    let scripts = SCRIPTS.get_or_init(|| {
        std::iter::successors(Some(1), |n| (n * 2 <= MAX_GROUP).then_some(n * 2))
            .map(|n| {
                let mut script = String::from("BEGIN IMMEDIATE; ");
                for i in 0..n {
                    script.push_str(&renumbered(SIGN_IN, i * PARAMETERS));
                    script.push(' ');
                }
                script.push_str("COMMIT");
                script
            })
            .collect()
    });
    let index = usize::try_from(size_for(n).trailing_zeros()).unwrap_or(0);
    &scripts[index.min(scripts.len() - 1)]
}

/// `sql` with each `$N` made `$(N + by)`.
fn renumbered(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut number = None;
        while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
            number = Some(number.unwrap_or(0) * 10 + digit as usize);
            chars.next();
        }
        if let Some(number) = number {
            out.push_str(&(number + by).to_string());
        }
    }
    out
}

/// One right TOTP code to sign in with, owned so it can wait in the queue.
#[derive(Clone, Debug)]
pub struct TotpSignIn {
    pub user_id: i64,
    pub subject: String,
    pub sealed_secret: Vec<u8>,
    pub step: i64,
    pub now: i64,
    pub challenge_hash: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub expires_at: i64,
    pub public_id: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The `sign_in` event's type and details.
    pub kind: String,
    pub details: String,
}

impl TotpSignIn {
    /// A sign-in that changes nothing, to fill a group up to the size of a script: no account has the
    /// id 0, and no challenge or session an empty hash.
    fn nothing() -> Self {
        Self {
            user_id: 0,
            subject: String::new(),
            sealed_secret: Vec::new(),
            step: 0,
            now: 0,
            challenge_hash: Vec::new(),
            token_hash: Vec::new(),
            expires_at: 0,
            public_id: String::new(),
            address: None,
            user_agent: None,
            kind: String::new(),
            details: String::new(),
        }
    }

    /// `query` with this sign-in's 15 parameters bound after those it has, in the order of
    /// [`SIGN_IN`] (and of PostgreSQL's `SIGN_IN_WITH_TOTP`).
    pub fn bind<DB: Database>(
        &self,
        query: QueryScalar<'static, DB, i64, DB::Arguments>,
    ) -> QueryScalar<'static, DB, i64, DB::Arguments>
    where
        for<'v> i64: Encode<'v, DB> + Type<DB>,
        for<'v> &'v str: Encode<'v, DB> + Type<DB>,
        for<'v> String: Encode<'v, DB> + Type<DB>,
        for<'v> Option<String>: Encode<'v, DB> + Type<DB>,
        for<'v> Vec<u8>: Encode<'v, DB> + Type<DB>,
    {
        query
            .bind(self.user_id)
            .bind(Scope::Verify.as_str())
            .bind(self.subject.clone())
            .bind(SECOND_FACTOR_LOCK_AFTER)
            .bind(self.sealed_secret.clone())
            .bind(self.step)
            .bind(self.now)
            .bind(self.challenge_hash.clone())
            .bind(self.token_hash.clone())
            .bind(self.expires_at)
            .bind(self.public_id.clone())
            .bind(self.address.clone())
            .bind(self.user_agent.clone())
            .bind(self.kind.clone())
            .bind(self.details.clone())
    }
}

/// A sign-in waiting for the writer, and where its answer goes: whether it signed in.
struct Queued {
    sign_in: TotpSignIn,
    answer: oneshot::Sender<anyhow::Result<bool>>,
}

/// The queue of sign-ins for one database's writer; its task starts with the first sign-in.
pub struct GroupCommit<DB: Database> {
    queue: OnceLock<mpsc::Sender<Queued>>,
    // `fn() -> DB`: holds no `DB`, so it is `Send` and `Sync` whatever `DB` is.
    _db: std::marker::PhantomData<fn() -> DB>,
}

impl<DB: Database> Default for GroupCommit<DB> {
    fn default() -> Self {
        Self { queue: OnceLock::new(), _db: std::marker::PhantomData }
    }
}

impl<DB: Database> GroupCommit<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'v> i64: Encode<'v, DB> + Decode<'v, DB> + Type<DB>,
    for<'v> &'v str: Encode<'v, DB> + Type<DB>,
    for<'v> String: Encode<'v, DB> + Type<DB>,
    for<'v> Option<String>: Encode<'v, DB> + Type<DB>,
    for<'v> Vec<u8>: Encode<'v, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Signs in with `sign_in` in the next group on `writer`: whether it signed in (when not, nothing
    /// changed).
    pub async fn sign_in(&self, writer: &Pool<DB>, sign_in: TotpSignIn) -> anyhow::Result<bool> {
        let queue = self.queue.get_or_init(|| {
            let (queue, queued) = mpsc::channel(QUEUE);
            tokio::spawn(Self::run(writer.clone(), queued));
            queue
        });
        let (answer, answered) = oneshot::channel();
        queue
            .send(Queued { sign_in, answer })
            .await
            .map_err(|_| anyhow::anyhow!("the sign-in queue of the database has stopped"))?;
        answered.await.map_err(|_| anyhow::anyhow!("the sign-in queue of the database has stopped"))?
    }

    /// Runs groups of what is waiting until every sender is gone (the store is dropped).
    async fn run(writer: Pool<DB>, mut queued: mpsc::Receiver<Queued>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while queued.recv_many(&mut group, MAX_GROUP).await > 0 {
            let sign_ins: Vec<&TotpSignIn> = group.iter().map(|q| &q.sign_in).collect();
            let mut answers = match Self::run_script(&writer, &sign_ins).await {
                Ok(signed_in) => signed_in.into_iter().map(Ok).collect(),
                Err(error) if group.len() == 1 => vec![Err(error)],
                // Each alone, so a failure is only its own.
                Err(_) => {
                    let mut answers = Vec::with_capacity(group.len());
                    for sign_in in &sign_ins {
                        answers.push(
                            Self::run_script(&writer, std::slice::from_ref(sign_in)).await.map(|s| s[0]),
                        );
                    }
                    answers
                }
            };
            for (queued, answer) in group.drain(..).zip(answers.drain(..)) {
                // A request that went away meanwhile: its sign-in stands, as if the answer was lost.
                let _ = queued.answer.send(answer);
            }
        }
    }

    /// One script for `sign_ins`, in one round trip: for each, whether it signed in. When a statement
    /// fails, the script stops there and its transaction is rolled back (or the connection closed, which
    /// rolls it back) before the connection goes back to the pool.
    async fn run_script(writer: &Pool<DB>, sign_ins: &[&TotpSignIn]) -> anyhow::Result<Vec<bool>> {
        let size = size_for(sign_ins.len());
        let mut query = sqlx::query_scalar::<DB, i64>(script(size));
        for sign_in in sign_ins {
            query = sign_in.bind(query);
        }
        let nothing = TotpSignIn::nothing();
        for _ in sign_ins.len()..size {
            query = nothing.bind(query);
        }
        let counts = run_to_end(writer, query).await?;
        anyhow::ensure!(counts.len() == size, "{} answers from a script for {size} sign-ins", counts.len());
        Ok(counts.into_iter().take(sign_ins.len()).map(|count| count == 1).collect())
    }
}

/// Runs `query` (one statement, or a SQLite script that holds its own transaction) on a connection
/// of `writer`, in one round trip; the rows of its `SELECT`s. When a statement fails, a script stops
/// there, maybe inside its transaction: that is rolled back (a `ROLLBACK` outside one is harmless on
/// PostgreSQL), or the connection closed, which rolls it back, before the connection goes back to the
/// pool.
pub async fn run_to_end<DB: Database>(
    writer: &Pool<DB>,
    query: QueryScalar<'static, DB, i64, DB::Arguments>,
) -> anyhow::Result<Vec<i64>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'v> i64: Decode<'v, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let mut connection = writer.acquire().await?;
    let rows = query.fetch_all(&mut *connection).await;
    if rows.is_err() && sqlx::query("ROLLBACK").execute(&mut *connection).await.is_err() {
        connection.close_on_drop();
    }
    Ok(rows?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{Backend as _, Missing, SqliteBackend};

    fn sign_in(user_id: i64, token: u8) -> TotpSignIn {
        TotpSignIn {
            user_id,
            subject: user_id.to_string(),
            sealed_secret: vec![1],
            step: 100,
            now: 10,
            challenge_hash: vec![u8::try_from(user_id).unwrap()],
            token_hash: vec![token],
            expires_at: 1000,
            public_id: format!("p{token}"),
            address: None,
            user_agent: None,
            kind: "sign_in".into(),
            details: "{}".into(),
        }
    }

    async fn count(writer: &Pool<sqlx::Sqlite>, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(writer).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_is_rolled_back_and_tried_one_by_one_so_only_the_bad_sign_in_fails() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("group.db").display());
        let (backend, _, _) = SqliteBackend::connect(&url, Missing::Create).await.unwrap();
        let writer = backend.writer();
        for id in 1..=4 {
            sqlx::query(
                "INSERT INTO users (id, username, password_hash, created_at, totp_secret) \
                 VALUES ($1, 'user' || $1, 'hash', 0, X'01')",
            )
            .bind(id)
            .execute(writer)
            .await
            .unwrap();
            sqlx::query("INSERT INTO challenges (challenge_hash, user_id, expires_at) VALUES ($1, $2, 1000)")
                .bind(vec![u8::try_from(id).unwrap()])
                .bind(id)
                .execute(writer)
                .await
                .unwrap();
        }
        // The third sign-in's session token is taken: its INSERT fails, and with it the group.
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at) \
             VALUES (X'03', 1, 1000, 'taken', 0, 0)",
        )
        .execute(writer)
        .await
        .unwrap();
        let all = [sign_in(1, 1), sign_in(2, 2), sign_in(3, 3), sign_in(4, 4)];
        assert!(GroupCommit::run_script(writer, &all.iter().collect::<Vec<_>>()).await.is_err());
        assert_eq!(count(writer, "SELECT COUNT(*) FROM challenges WHERE used_at IS NULL").await, 4);
        assert_eq!(count(writer, "SELECT COUNT(*) FROM sessions").await, 1);

        let group = GroupCommit::default();
        let answers =
            futures_util::future::join_all(all.iter().map(|s| group.sign_in(writer, s.clone()))).await;
        let answers: Vec<_> = answers.into_iter().map(|a| a.map_err(|e| e.to_string())).collect();
        assert!(matches!(answers[..], [Ok(true), Ok(true), Err(_), Ok(true)]), "{answers:?}");
        assert_eq!(count(writer, "SELECT COUNT(*) FROM challenges WHERE used_at IS NULL").await, 1);
        assert_eq!(count(writer, "SELECT COUNT(*) FROM sessions").await, 4);
        assert_eq!(count(writer, "SELECT COUNT(*) FROM events WHERE type = 'sign_in'").await, 3);
        // The same code again: changes nothing.
        assert!(!group.sign_in(writer, sign_in(1, 9)).await.unwrap());
        assert_eq!(count(writer, "SELECT COUNT(*) FROM sessions").await, 4);
    }

    #[test]
    fn each_sign_in_of_a_group_has_its_own_parameters() {
        assert_eq!(renumbered("a = $1 AND b = $15, $7", 15), "a = $16 AND b = $30, $22");
        let two = script(2);
        assert!(two.starts_with("BEGIN IMMEDIATE; UPDATE challenges") && two.ends_with("; COMMIT"), "{two}");
        assert!(two.contains("token_hash = $9;") && two.contains("token_hash = $24;"), "{two}");
        assert!(!two.contains("$31"), "{two}");
        assert_eq!(script(MAX_GROUP).matches("SELECT COUNT(*)").count(), MAX_GROUP);
        assert_eq!(script(5), script(8));
        assert_eq!((size_for(1), size_for(3), size_for(9), size_for(16)), (1, 4, 16, 16));
        assert_eq!(SIGN_IN.matches("$15").count(), 1, "PARAMETERS is the highest parameter");
    }
}
