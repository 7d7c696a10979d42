//! One module per screen: its state, its keys (returning intents), its rendering, its tests.

pub mod common;
pub mod connect;
pub mod disable;
pub mod enable;
pub mod help;
pub mod home;
pub mod login;
pub mod password_form;
pub mod regenerate;
pub mod second_factor;
