//! The terminal app (The Elm Architecture). Skeleton until the app lands.
pub mod clipboard;
pub mod savefile;
pub mod widgets;

/// A demo account shown on the sign-in screen in demo mode.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
}

pub struct Options {
    pub api_url: Option<String>,
    pub demo: Option<DemoAccount>,
}

pub async fn run(_options: Options) -> anyhow::Result<()> {
    anyhow::bail!("the terminal app is not built yet")
}
