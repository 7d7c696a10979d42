//! In `usercenter demo` only: a stand-in for the phone. It shows the current code of the secret being
//! enrolled (and, once enrolled, of the demo account), so a newcomer on a host without a phone at hand
//! (over SSH, say) can finish the tour. The normal app never has one.

use time::OffsetDateTime;

use crate::domain::SecretString;

pub struct DemoPhone(totp_rs::Totp);

impl std::fmt::Debug for DemoPhone {
    // It holds a TOTP secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoPhone(..)")
    }
}

/// What the stand-in phone shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneCode {
    /// `123 456`, grouped as apps show it.
    pub code: String,
    /// Seconds until the next code.
    pub seconds_left: u64,
}

impl DemoPhone {
    /// Scans the otpauth URI, as the phone would the QR code.
    pub fn scan(otpauth_uri: &SecretString) -> Option<Self> {
        totp_rs::Totp::from_url(otpauth_uri.expose()).ok().map(Self)
    }

    pub fn code_at(&self, wall: OffsetDateTime) -> PhoneCode {
        let unix = u64::try_from(wall.unix_timestamp()).unwrap_or(0);
        let code = self.0.generate(unix).to_string();
        let (first, second) = code.split_at(code.len() / 2);
        let step = self.0.step().max(1);
        PhoneCode { code: format!("{first} {second}"), seconds_left: step - unix % step }
    }
}

impl PhoneCode {
    /// The line that says what it is and what it shows.
    pub fn label(&self) -> String {
        format!("stand-in phone: {} ({} s)", self.code, self.seconds_left)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn shows_the_code_of_the_scanned_secret_and_the_seconds_left() {
        // RFC 6238's SHA-1 secret, "12345678901234567890" in base32; at T = 59 the 8-digit code is
        // 94287082, so the 6-digit one is 287082.
        let uri = SecretString::new("otpauth://totp/demo:demo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let phone = DemoPhone::scan(&uri).expect("a readable URI");
        let code = phone.code_at(datetime!(1970-01-01 00:00:59 UTC));
        assert_eq!(code, PhoneCode { code: "287 082".into(), seconds_left: 1 });
        assert_eq!(code.label(), "stand-in phone: 287 082 (1 s)");
        assert_eq!(format!("{phone:?}"), "DemoPhone(..)");
    }
}
