//! Reusable widgets.
pub mod qr;
