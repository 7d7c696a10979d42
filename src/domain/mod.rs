//! Pure types and rules shared by the server and the terminal app: no I/O, no framework types.

pub mod api;
pub mod codes;
pub mod otpauth;
pub mod problem;
pub mod secret;

pub use api::*;
pub use codes::{BackupCode, SecondFactorInput, VerificationCode};
pub use problem::{ErrorCode, Problem};
pub use secret::SecretString;
