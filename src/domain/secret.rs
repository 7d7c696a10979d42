//! A string that never prints and is wiped from memory when dropped.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Passwords, TOTP secrets, codes and tokens. `Debug` shows `[redacted]`; memory is zeroized on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself; the name makes every use visible in review.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(test)]
        if shown_in_tests::on() {
            return write!(f, "{:?}", self.expose());
        }
        f.write_str("[redacted]")
    }
}

/// Test builds only: `Debug` of secrets shows their values inside [`shown_in_tests::while_shown`], so a
/// property test can look for secrets an object still holds (`format!("{app:?}")`).
#[cfg(test)]
pub mod shown_in_tests {
    use std::cell::Cell;

    thread_local! {
        static SHOWN: Cell<bool> = const { Cell::new(false) };
    }

    pub fn on() -> bool {
        SHOWN.get()
    }

    pub fn while_shown<R>(f: impl FnOnce() -> R) -> R {
        SHOWN.set(true);
        let result = f();
        SHOWN.set(false);
        result
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretString::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn serde_round_trip_is_a_plain_string() {
        let s: SecretString = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
    }
}
