//! RFC 6238 TOTP with the defaults of rule 1 (SHA-1, 6 digits, 30 s, 160-bit secret, ±1 step).

use totp_rs::{Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::domain::SecretString;

pub const ALGORITHM: &str = "SHA1";
pub const DIGITS: u32 = 6;
pub const PERIOD: u64 = 30;
const SECRET_LEN: usize = 20;

/// A fresh 160-bit secret.
pub fn generate_secret() -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
    rand::fill(&mut bytes[..]);
    bytes
}

/// Base32 (RFC 4648) without padding, as authenticator apps take it.
pub fn secret_base32(secret: &[u8]) -> SecretString {
    SecretString::new(Secret::new(secret.to_vec().into_boxed_slice()).to_base32())
}

fn totp(secret: &[u8]) -> anyhow::Result<Totp> {
    Builder::new()
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the TOTP generator: {e}"))
}

/// The time step (`unix_time / 30`) the code matches, in the window of ±1 step around `unix_time`;
/// the newest when two share the code (one chance in a million): the older may be spent already, and
/// a later use of the same code is a replay either way. (totp-rs's `check` gives the oldest.)
pub fn matching_step(secret: &[u8], code: &str, unix_time: i64) -> anyhow::Result<Option<i64>> {
    use subtle::ConstantTimeEq as _;
    let totp = totp(secret)?;
    let period = i64::try_from(PERIOD).unwrap_or(30);
    let now = unix_time.max(0) / period;
    Ok((now.saturating_sub(1).max(0)..=now + 1).rev().find(|&step| {
        let expected = Zeroizing::new(totp.generate(u64::try_from(step * period).unwrap_or(0)).to_string());
        bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
    }))
}

/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…` (rule 1): the default algorithm, digits and period
/// are left out so the QR code stays small (totp-rs's `to_url` always writes them). The app may draw an
/// even shorter form without the repeated issuer (`domain::otpauth::compact_uri`) where room is short.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> SecretString {
    let issuer = percent_encode(issuer);
    SecretString::new(format!(
        "otpauth://totp/{issuer}:{}?secret={secret_base32}&issuer={issuer}",
        percent_encode(account)
    ))
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector_at_59s() {
        // RFC 6238 appendix B: secret "12345678901234567890", T=59 → 94287082 (8 digits) → 287082.
        let secret = b"12345678901234567890";
        assert_eq!(matching_step(secret, "287082", 59).unwrap(), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 30).unwrap(), Some(1), "one step behind is fine");
        assert_eq!(matching_step(secret, "287082", 59 + 60).unwrap(), None, "two steps behind is not");
        assert_eq!(matching_step(secret, "28708", 59).unwrap(), None);
        assert_eq!(matching_step(secret, "abcdef", 59).unwrap(), None);
    }

    // Found by the load test (issue 11): a right code was refused as already used, about once in
    // 100,000 sign-ins. Two steps of the window can share a code (one chance in a million); the older
    // one was matched, and it had been spent.
    #[test]
    fn a_code_two_steps_share_matches_the_newer() {
        let secret = b"12345678901234567890";
        // Steps 59,061,240 and 59,061,241 both give 963181 (found by search).
        let now = 59_061_241 * 30;
        assert_eq!(matching_step(secret, "963181", now).unwrap(), Some(59_061_241));
        assert_eq!(matching_step(secret, "963181", now - 30).unwrap(), Some(59_061_241));
    }

    #[test]
    fn uri_leaves_out_defaults_and_encodes_label() {
        let uri = otpauth_uri("Acme Co", "al:ice@example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri.expose(),
            "otpauth://totp/Acme%20Co:al%3Aice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Co"
        );
        let uri = otpauth_uri("Acme Co", "alice@example.com", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
        let parsed = Totp::from_url(uri.expose()).unwrap();
        assert_eq!((parsed.issuer(), parsed.account_name()), (Some("Acme Co"), "alice@example.com"));
        assert_eq!((parsed.digits(), parsed.step(), parsed.skew()), (6, 30, 1));
    }

    #[test]
    fn secret_is_160_bits_base32_without_padding() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 20);
        let b32 = secret_base32(&secret);
        assert_eq!(b32.len(), 32);
        assert!(b32.expose().bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    }
}
