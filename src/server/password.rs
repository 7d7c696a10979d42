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
        let dummy = crate::server::crypto::random_token();
        let dummy_hash = hash_blocking(&dummy)?;
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
        let permit = self.permit().await?;
        let password = password.clone();
        let known = stored.is_some();
        let hash: String = stored.map(str::to_owned).unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let _permit = permit;
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored password hash unreadable: {e}"))?;
            Ok(Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
        })
        .await
        .context("the password verifier failed")??;
        Ok(known && matches)
    }

    /// Held by the blocking task itself, so a cancelled request does not free its slot early.
    async fn permit(&self) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.context("the password hasher is shut down")
    }
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
    async fn unknown_user_costs_about_as_much_as_a_wrong_password() {
        let passwords = Passwords::new(1).unwrap();
        let hash = passwords.hash(&SecretString::new("right")).await.unwrap();
        let wrong = SecretString::new("wrong");
        let mut known = std::time::Duration::ZERO;
        let mut unknown = std::time::Duration::ZERO;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            assert!(!passwords.verify(&wrong, Some(&hash)).await.unwrap());
            known += started.elapsed();
            let started = std::time::Instant::now();
            assert!(!passwords.verify(&wrong, None).await.unwrap());
            unknown += started.elapsed();
        }
        // Loose bounds: the point is that the unknown user runs a full argon2id, not a shortcut.
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!((0.3..3.0).contains(&ratio), "unknown {unknown:?} vs known {known:?}");
    }
}
