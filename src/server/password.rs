//! argon2id password hashing on a pool of dedicated threads, each reusing one memory buffer, behind a
//! bounded queue.
//!
//! Why not `spawn_blocking`: each hash needs a 19 MiB buffer; allocated afresh on whichever of tokio's
//! up to 512 blocking threads runs it, freed memory stays in the allocator's per-thread arenas, and a
//! burst of logins left the server at ~460 MiB (issue 7, finding 10). Here `workers` threads (one per
//! CPU) each keep their own buffer for good, so the memory is `workers` × 19 MiB whatever the load.
//! When more than [`QUEUE_PER_WORKER`] requests per worker are waiting, a new one is refused at once
//! ([`Busy`], answered 503 with Retry-After) instead of waiting for minutes.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::{Zeroize as _, Zeroizing};

use crate::domain::SecretString;

/// Requests that may wait per worker before new ones get 503.
pub const QUEUE_PER_WORKER: usize = 64;
/// Largest argon2 memory a stored hash may ask for (256 MiB); ours use 19 MiB.
const MAX_BLOCKS: usize = 256 * 1024;
/// Salt length of new hashes (the PHC recommendation).
const SALT_LEN: usize = 16;
/// Output length of new hashes (argon2's default).
const OUTPUT_LEN: usize = 32;

/// Hashes and verifies passwords. argon2 0.6 defaults: argon2id, m=19456 KiB, t=2, p=1 (OWASP's minimum).
/// Cheap to clone; the workers stop when the last clone is dropped.
#[derive(Clone)]
pub struct Passwords {
    pool: Arc<Pool>,
    /// Verified against when the user does not exist, so that costs the same time as a wrong password;
    /// `None` for a pool that only hashes (administrator commands).
    dummy_hash: Option<Arc<str>>,
}

struct Pool {
    jobs: mpsc::Sender<Job>,
    /// One per worker and per queue place: a job holds one from submission to completion.
    slots: Arc<Semaphore>,
    /// How many slots there are.
    capacity: usize,
}

/// The hashing queue is full: answer 503 and let the client come back.
#[derive(Debug, thiserror::Error)]
#[error("the password hashing queue is full")]
pub struct Busy;

/// A place in the queue, taken before any work (or count) is done for a request; see
/// [`Passwords::reserve`].
pub struct Ticket {
    pool: Arc<Pool>,
    slot: OwnedSemaphorePermit,
}

struct Job {
    work: Work,
    reply: Box<dyn FnOnce(anyhow::Result<Done>) + Send>,
    /// Held until the job is done, so waiting and running jobs both count against the bound.
    _slot: OwnedSemaphorePermit,
}

enum Work {
    Hash(SecretString),
    Verify { password: SecretString, stored: String },
}

enum Done {
    Hashed(String),
    Verified(bool),
}

impl Passwords {
    /// `workers` threads (each with its own 19 MiB when busy) and a queue of [`QUEUE_PER_WORKER`] each.
    pub fn new(workers: usize) -> anyhow::Result<Self> {
        Self::start(workers, Some(&crate::server::crypto::random_token()))
    }

    /// A pool that only hashes new passwords (no dummy hash to make): for `user add`.
    pub fn hasher_only(workers: usize) -> anyhow::Result<Self> {
        Self::start(workers, None)
    }

    /// The dummy hash is of `dummy`: random in [`Passwords::new`], known in tests.
    fn start(workers: usize, dummy: Option<&SecretString>) -> anyhow::Result<Self> {
        let workers = workers.max(1);
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&receiver))
                .context("cannot start a password hashing thread")?;
        }
        let capacity = workers * (1 + QUEUE_PER_WORKER);
        let slots = Arc::new(Semaphore::new(capacity));
        let pool = Arc::new(Pool { jobs, slots, capacity });
        let Some(dummy) = dummy else { return Ok(Self { pool, dummy_hash: None }) };
        // Made by a worker like every other hash, and waited for here: only at start-up.
        let slot = Arc::clone(&pool.slots).try_acquire_owned().context("the hashing pool is full")?;
        let (tx, rx) = mpsc::channel();
        pool.submit(Work::Hash(dummy.clone()), slot, move |done| {
            let _ = tx.send(done);
        })?;
        let dummy_hash = match rx.recv().context("the password hasher stopped")?? {
            Done::Hashed(hash) => hash,
            Done::Verified(_) => anyhow::bail!("the password hasher answered the wrong question"),
        };
        Ok(Self { pool, dummy_hash: Some(dummy_hash.into()) })
    }

    /// The default number of workers: one per CPU.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    }

    /// Hashes waiting or running (for the metrics).
    pub fn queue_length(&self) -> usize {
        self.pool.capacity.saturating_sub(self.pool.slots.available_permits())
    }

    /// A place in the queue, or [`Busy`] at once when it is full.
    pub fn reserve(&self) -> Result<Ticket, Busy> {
        let slot = Arc::clone(&self.pool.slots).try_acquire_owned().map_err(|_| Busy)?;
        Ok(Ticket { pool: Arc::clone(&self.pool), slot })
    }

    /// A new PHC string for `password`; waits for a place in the queue (administrator commands).
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let slot =
            Arc::clone(&self.pool.slots).acquire_owned().await.context("the password hasher is shut down")?;
        let ticket = Ticket { pool: Arc::clone(&self.pool), slot };
        match ticket.run(Work::Hash(password.clone())).await? {
            Done::Hashed(hash) => Ok(hash),
            Done::Verified(_) => anyhow::bail!("the password hasher answered the wrong question"),
        }
    }

    /// `stored` is `None` for an unknown user: the dummy hash is checked and the answer is `false`.
    pub async fn verify(
        &self,
        ticket: Ticket,
        password: &SecretString,
        stored: Option<&str>,
    ) -> anyhow::Result<bool> {
        let verification = self.check(ticket, password, stored).await?;
        Ok(verification.against == Against::Stored && verification.matches)
    }

    /// One full argon2id verification, and which hash it ran against.
    async fn check(
        &self,
        ticket: Ticket,
        password: &SecretString,
        stored: Option<&str>,
    ) -> anyhow::Result<Verification> {
        let (against, hash) = match (stored, &self.dummy_hash) {
            (Some(hash), _) => (Against::Stored, hash.to_owned()),
            (None, Some(dummy)) => (Against::Dummy, dummy.to_string()),
            (None, None) => anyhow::bail!("this password hasher has no dummy hash"),
        };
        match ticket.run(Work::Verify { password: password.clone(), stored: hash }).await? {
            Done::Verified(matches) => Ok(Verification { against, matches }),
            Done::Hashed(_) => anyhow::bail!("the password hasher answered the wrong question"),
        }
    }
}

impl Ticket {
    /// Queues `work` and waits for it. The slot goes with the job, so a cancelled request does not
    /// free its place before the worker is done.
    async fn run(self, work: Work) -> anyhow::Result<Done> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.submit(work, self.slot, move |done| {
            let _ = tx.send(done);
        })?;
        rx.await.context("the password hasher stopped")?
    }
}

impl Pool {
    fn submit(
        &self,
        work: Work,
        slot: OwnedSemaphorePermit,
        reply: impl FnOnce(anyhow::Result<Done>) + Send + 'static,
    ) -> anyhow::Result<()> {
        let job = Job { work, reply: Box::new(reply), _slot: slot };
        self.jobs.send(job).map_err(|_| anyhow::anyhow!("the password hashing threads stopped"))
    }
}

/// A worker: takes jobs until the pool is dropped, with one memory buffer for all of them.
fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(receiver) = receiver.lock() else { return };
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let Job { work, reply, _slot: slot } = job;
        let done = match &work {
            Work::Hash(password) => hash_with(&mut memory, password).map(Done::Hashed),
            Work::Verify { password, stored } => {
                verify_with(&mut memory, password, stored).map(Done::Verified)
            }
        };
        // The buffer held material derived from the password.
        memory.iter_mut().for_each(Block::zeroize);
        drop(slot);
        reply(done);
    }
}

/// `memory` with at least `blocks` blocks; grown once to the largest size asked for, never shrunk.
fn memory_for(memory: &mut Vec<Block>, blocks: usize) -> anyhow::Result<&mut [Block]> {
    anyhow::ensure!(blocks <= MAX_BLOCKS, "a password hash asks for {blocks} KiB of memory");
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Ok(&mut memory[..blocks])
}

fn hash_with(memory: &mut Vec<Block>, password: &SecretString) -> anyhow::Result<String> {
    let params = Params::default();
    let mut salt = [0u8; SALT_LEN];
    rand::fill(&mut salt[..]);
    let mut out = Zeroizing::new([0u8; OUTPUT_LEN]);
    let blocks = memory_for(memory, params.block_count())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.expose().as_bytes(), &salt, &mut out[..], blocks)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    fn phc(e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("cannot write the password hash: {e}")
    }
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(phc)?,
        salt: Some(Salt::new(&salt).map_err(phc)?),
        hash: Some(Output::new(&out[..]).map_err(phc)?),
    };
    Ok(hash.to_string())
}

/// Recomputes the hash with the stored algorithm, version, parameters and salt, and compares it in
/// constant time.
fn verify_with(memory: &mut Vec<Block>, password: &SecretString, stored: &str) -> anyhow::Result<bool> {
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored password hash unreadable: {e}");
    let parsed = PasswordHash::new(stored).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::new(parsed.algorithm.as_str()).map_err(|e| unreadable(&e))?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).map_err(|e| unreadable(&e))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(unreadable(&"no salt or no hash"));
    };
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let blocks = memory_for(memory, params.block_count())?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.expose().as_bytes(), salt, &mut out[..], blocks)
        .map_err(|e| anyhow::anyhow!("cannot verify the password: {e}"))?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
}

/// Which hash a verification ran against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Against {
    Stored,
    /// The user does not exist: the same work, on the dummy hash.
    Dummy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verification {
    against: Against,
    matches: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier as _;

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::new(2).unwrap();
        let pw = SecretString::new("correct horse");
        let hash = passwords.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let ticket = || passwords.reserve().unwrap();
        assert!(passwords.verify(ticket(), &pw, Some(&hash)).await.unwrap());
        assert!(!passwords.verify(ticket(), &SecretString::new("wrong"), Some(&hash)).await.unwrap());
        assert!(!passwords.verify(ticket(), &pw, None).await.unwrap());
        // The crate's own verifier agrees, both ways.
        Argon2::default().verify_password(b"correct horse", &PasswordHash::new(&hash).unwrap()).unwrap();
        let theirs = {
            use argon2::PasswordHasher as _;
            Argon2::default().hash_password(b"correct horse").unwrap().to_string()
        };
        assert!(passwords.verify(ticket(), &pw, Some(&theirs)).await.unwrap());
        // Other parameters and versions are recomputed with what the string says.
        let small = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(64, 1, 1, Some(16)).unwrap());
        let other = {
            use argon2::PasswordHasher as _;
            small.hash_password(b"correct horse").unwrap().to_string()
        };
        assert!(other.starts_with("$argon2i$v=16$m=64,t=1,p=1$"), "{other}");
        assert!(passwords.verify(ticket(), &pw, Some(&other)).await.unwrap());
        assert!(!passwords.verify(ticket(), &SecretString::new("wrong"), Some(&other)).await.unwrap());
        assert!(passwords.verify(ticket(), &pw, Some("not a hash")).await.is_err());
    }

    #[tokio::test]
    async fn unknown_user_is_verified_against_the_dummy_hash() {
        // A known dummy password: a match can only come from a real argon2id run on the dummy hash.
        let dummy = SecretString::new("the dummy");
        let passwords = Passwords::start(1, Some(&dummy)).unwrap();
        assert!(
            passwords.dummy_hash.as_deref().unwrap_or("").starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "same cost as real hashes"
        );
        let checked = passwords.check(passwords.reserve().unwrap(), &dummy, None).await.unwrap();
        assert_eq!(checked, Verification { against: Against::Dummy, matches: true });
        assert!(!passwords.verify(passwords.reserve().unwrap(), &dummy, None).await.unwrap());
        let wrong =
            passwords.check(passwords.reserve().unwrap(), &SecretString::new("wrong"), None).await.unwrap();
        assert_eq!(wrong, Verification { against: Against::Dummy, matches: false });
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let passwords = Passwords::new(1).unwrap();
        let tickets: Vec<Ticket> = (0..=QUEUE_PER_WORKER).map(|_| passwords.reserve().unwrap()).collect();
        assert!(passwords.reserve().is_err(), "one running and {QUEUE_PER_WORKER} waiting");
        drop(tickets);
        assert!(passwords.reserve().is_ok(), "places come back");
    }
}
