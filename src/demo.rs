//! `usercenter demo`: the whole product with one command. A server runs in-process on 127.0.0.1 with a
//! throwaway SQLite database holding the account `demo` / `demo-password`; the app opens against it;
//! on exit the server stops and the database, its key and any logs are deleted.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;

use crate::domain::SecretString;
use crate::server::{self, ServerConfig};
use crate::tui::{self, DemoAccount, Options};

pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "demo-password";
/// What authenticator apps show next to the account.
pub const DEMO_ISSUER: &str = "usercenter demo";

pub async fn run(palette: crate::config::PaletteChoice) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("usercenter-demo-")
        .tempdir()
        .context("cannot create a temporary folder for the demo database")?;
    let database_url = format!("sqlite://{}", dir.path().join("demo.db").display());
    server::create_user(&database_url, DEMO_USERNAME, &SecretString::new(DEMO_PASSWORD))
        .await
        .context("cannot create the demo account")?;
    let server = server::start(ServerConfig {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        database_url,
        issuer: DEMO_ISSUER.to_owned(),
        ..ServerConfig::default()
    })
    .await
    .context("cannot start the demo server")?;
    let account = DemoAccount { username: DEMO_USERNAME.to_owned(), password: DEMO_PASSWORD.to_owned() };
    let options = Options {
        api_url: Some(format!("http://{}", server.addr())),
        demo: Some(account),
        username: None,
        config_path: None,
        palette,
    };
    let outcome = tui::run(options).await;
    // Stop the server before the folder goes, whatever the app's outcome; the app's error comes first.
    let stopped = server.shutdown().await;
    let removed = dir.close().context("cannot remove the demo's temporary folder");
    outcome.and(stopped).and(removed)
}
