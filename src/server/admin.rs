//! What the administrator's commands do to the database (`usercenter user …`, `events`, `policy`): the
//! same store and the same transactions as the server, so their events are written like any other and
//! delivered by a running server.

use std::path::PathBuf;

use super::clock::{Clock as _, SystemClock};
use super::password::Passwords;
use super::store::{self, EventRecord, Missing, OpenedStore, Store, Unlock, UserRecord};
use crate::domain::{Policy, SecretString};

/// An opened database; [`Admin::close`] closes it.
pub struct Admin {
    opened: OpenedStore,
}

/// Runs the same store method on whichever back end is open.
macro_rules! on_store {
    ($admin:expr, $store:ident => $call:expr) => {
        match &$admin.opened {
            OpenedStore::Sqlite { store: $store, .. } => $call,
            OpenedStore::Postgres($store) => $call,
        }
    };
}

impl Admin {
    /// Opens the database; only `user add` (and `serve`) may create a missing SQLite file.
    pub async fn open(url: &str, missing: Missing) -> anyhow::Result<Self> {
        Ok(Self { opened: store::open(url, missing).await? })
    }

    /// The SQLite file this open created, to say so.
    pub fn created_file(&self) -> Option<PathBuf> {
        self.opened.created_file().map(std::path::Path::to_path_buf)
    }

    pub async fn close(self) {
        on_store!(self, store => store.close().await);
    }

    /// `user add`: `Ok(false)` when the name is taken.
    pub async fn add_user(&self, username: &str, password: &SecretString) -> anyhow::Result<bool> {
        super::check_new_account(username, password)?;
        let hash = Passwords::hasher_only(1)?.hash(password).await?;
        on_store!(self, store => store.create_user(username, &hash, SystemClock.unix()).await)
    }

    pub async fn users(&self) -> anyhow::Result<Vec<UserRecord>> {
        on_store!(self, store => store.users().await)
    }

    pub async fn delete_user(&self, username: &str) -> anyhow::Result<bool> {
        on_store!(self, store => store.delete_user(username).await)
    }

    /// `user set-password`: every session ends; `password_changed`.
    pub async fn set_password(&self, username: &str, password: &SecretString) -> anyhow::Result<bool> {
        super::check_password(password)?;
        let hash = Passwords::hasher_only(1)?.hash(password).await?;
        on_store!(self, store => store.set_password(username, &hash, SystemClock.unix()).await)
    }

    pub async fn reset_two_factor(&self, username: &str) -> anyhow::Result<bool> {
        on_store!(self, store => store.reset_two_factor(username, SystemClock.unix()).await)
    }

    pub async fn unlock(&self, username: &str) -> anyhow::Result<Unlock> {
        on_store!(self, store => store.unlock_second_factor(username, SystemClock.unix()).await)
    }

    /// Events newest first, of one account (`Ok(None)` if there is no such user) or of all.
    pub async fn events(
        &self,
        username: Option<&str>,
        limit: u32,
    ) -> anyhow::Result<Option<Vec<EventRecord>>> {
        let user_id = match username {
            Some(name) => match on_store!(self, store => store.user_by_name(name).await)? {
                Some(account) => Some(account.user.id),
                None => return Ok(None),
            },
            None => None,
        };
        on_store!(self, store => store.events(user_id, None, limit).await).map(Some)
    }

    pub async fn policy(&self) -> anyhow::Result<Policy> {
        on_store!(self, store => store.policy().await)
    }

    pub async fn set_policy(&self, policy: Policy) -> anyhow::Result<()> {
        on_store!(self, store => store.set_policy(policy).await)
    }
}
