//! usercenter: a terminal user center for two-factor authentication, and its reference platform server.
//!
//! Layers point downwards only: `tui` and `server` both use `domain`; `tui` reaches the network only
//! through `client`; `tui` and `server` never import each other. `demo` is the one place that joins
//! them (an embedded server plus the app). `cli` is the command line over all of it; `config` is the
//! app's settings file; `logging` is the one logging scheme of both.

pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod domain;
pub mod logging;
pub mod server;
pub mod tui;

#[cfg(test)]
mod property;
