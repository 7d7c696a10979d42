//! The reference platform server (placeholder until the server lands).
pub mod cli;
