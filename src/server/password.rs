//! argon2id password hashing off the async runtime, with a bound on how many run at once.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use crate::domain::SecretString;

/// Hashes and verifies passwords. argon2 0.6 defaults: argon2id, m=19456 KiB, t=2, p=1 (OWASP's minimum).
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so that costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// `concurrency` bounds memory (19 MiB each) and CPU under a login storm; excess calls wait.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        Self::with_dummy_password(concurrency, &crate::server::crypto::random_token())
    }

    /// The dummy hash is of `dummy`: random in [`Passwords::new`], known in tests.
    fn with_dummy_password(concurrency: usize, dummy: &SecretString) -> anyhow::Result<Self> {
        let dummy_hash = hash_blocking(dummy)?;
        Ok(Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy_hash: dummy_hash.into() })
    }

    /// The default bound: one per CPU.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    }

    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let permit = self.permit().await?;
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_blocking(&password)
        })
        .await
        .context("the password hasher failed")?
    }

    /// `stored` is `None` for an unknown user: the dummy hash is checked and the answer is `false`.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> anyhow::Result<bool> {
        let verification = self.check(password, stored).await?;
        Ok(verification.against == Against::Stored && verification.matches)
    }

    /// One full argon2id verification, and which hash it ran against.
    async fn check(&self, password: &SecretString, stored: Option<&str>) -> anyhow::Result<Verification> {
        let permit = self.permit().await?;
        let password = password.clone();
        let (against, hash) = match stored {
            Some(hash) => (Against::Stored, hash.to_owned()),
            None => (Against::Dummy, self.dummy_hash.to_string()),
        };
        let matches = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let _permit = permit;
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored password hash unreadable: {e}"))?;
            Ok(Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
        })
        .await
        .context("the password verifier failed")??;
        Ok(Verification { against, matches })
    }

    /// Held by the blocking task itself, so a cancelled request does not free its slot early.
    async fn permit(&self) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.context("the password hasher is shut down")
    }
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

fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::new(2).unwrap();
        let pw = SecretString::new("correct horse");
        let hash = passwords.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify(&pw, Some(&hash)).await.unwrap());
        assert!(!passwords.verify(&SecretString::new("wrong"), Some(&hash)).await.unwrap());
        assert!(!passwords.verify(&pw, None).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_user_is_verified_against_the_dummy_hash() {
        // A known dummy password: a match can only come from a real argon2id run on the dummy hash.
        let dummy = SecretString::new("the dummy");
        let passwords = Passwords::with_dummy_password(1, &dummy).unwrap();
        assert!(
            passwords.dummy_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "same cost as real hashes"
        );
        let checked = passwords.check(&dummy, None).await.unwrap();
        assert_eq!(checked, Verification { against: Against::Dummy, matches: true });
        assert!(!passwords.verify(&dummy, None).await.unwrap(), "an unknown user never signs in");
        let wrong = passwords.check(&SecretString::new("wrong"), None).await.unwrap();
        assert_eq!(wrong, Verification { against: Against::Dummy, matches: false });
    }
}
