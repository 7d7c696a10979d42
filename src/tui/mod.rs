//! The terminal app (The Elm Architecture): `app` holds the state, messages, effects, `update` and
//! the view; `screen` is the interface every screen has; `screens` has one module per screen;
//! `runtime` owns the terminal and runs effects.
pub mod app;
pub mod clipboard;
pub mod demo_phone;
pub mod history;
pub mod keys;
pub mod notice;
pub mod request;
pub mod runtime;
pub mod savefile;
pub mod screen;
pub mod screens;
pub mod text;
pub mod theme;
pub mod widgets;

#[cfg(test)]
pub(crate) mod testing;

/// A demo account shown on the sign-in screen in demo mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
}

pub struct Options {
    pub api_url: Option<String>,
    pub demo: Option<DemoAccount>,
    /// The username the config file remembers; offered on the sign-in form.
    pub username: Option<String>,
    /// Where a signed-in username is remembered; `None` remembers nothing.
    pub config_path: Option<std::path::PathBuf>,
    pub palette: crate::config::PaletteChoice,
}

/// Runs the app until the person quits. Without a server address it fails before touching the
/// terminal, pointing to `usercenter demo` and `--api`.
pub async fn run(options: Options) -> anyhow::Result<()> {
    runtime::run(options).await
}
