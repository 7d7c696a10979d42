//! Reusable widgets.
pub mod input;
pub mod keyhints;
pub mod panel;
pub mod popup;
pub mod qr;
pub mod spinner;
pub mod stepbar;
