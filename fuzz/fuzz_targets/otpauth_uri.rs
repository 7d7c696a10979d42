//! The otpauth URI the server builds (`server::totp::otpauth_uri`) for any issuer `serve` accepts and any
//! username `user add` accepts, read back by totp-rs's parser as an authenticator app would, and the
//! shorter form the app may draw instead (`domain::otpauth::compact_uri`).
//!
//! Invariant: never a panic; both URIs parse, to the issuer, the account and the secret that went in.

#![no_main]

use usercenter::domain::otpauth::compact_uri;
use usercenter::server::{issuer_problem, totp, username_problem};

#[derive(arbitrary::Arbitrary, Debug)]
struct Input<'a> {
    issuer: &'a str,
    account: &'a str,
    secret: [u8; 20],
}

libfuzzer_sys::fuzz_target!(|input: Input<'_>| {
    if issuer_problem(input.issuer).is_some() || username_problem(input.account).is_some() {
        return;
    }
    let secret = totp::secret_base32(&input.secret);
    let uri = totp::otpauth_uri(input.issuer, input.account, secret.expose());
    let forms = [Some(uri.expose().to_owned()), compact_uri(uri.expose())];
    for form in forms.into_iter().flatten() {
        let read = totp_rs::Totp::from_url(&form).unwrap_or_else(|e| panic!("{form}: {e:?}"));
        assert_eq!(read.issuer(), Some(input.issuer), "{form}");
        assert_eq!(read.account_name(), input.account, "{form}");
        assert_eq!(read.secret().as_bytes(), &input.secret[..], "{form}");
        assert_eq!((read.digits(), read.step()), (6, 30), "{form}");
    }
});
