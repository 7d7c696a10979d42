//! The otpauth URI an authenticator app scans, as far as the app needs to reason about it.

/// The same key in a shorter URI: without the `issuer` parameter when it only repeats the label's
/// prefix (`otpauth://totp/ISSUER:ACCOUNT?…&issuer=ISSUER`). The Key URI format lets apps take the
/// issuer from the prefix when the parameter is absent, and the shorter URI makes a smaller QR code: a
/// 64-character account with the issuer "Newcomer Platform" drops from version 8 (49 modules, 25
/// rows of half blocks: more than 24) to version 6. `None` when nothing can be left out.
pub fn compact_uri(uri: &str) -> Option<String> {
    let (head, query) = uri.split_once('?')?;
    let label = head.strip_prefix("otpauth://totp/")?;
    let (prefix, _account) = label.split_once(':')?;
    let params: Vec<&str> = query.split('&').collect();
    let kept: Vec<&str> = params.iter().copied().filter(|p| *p != format!("issuer={prefix}")).collect();
    (kept.len() < params.len() && !kept.is_empty()).then(|| format!("{head}?{}", kept.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_issuer_parameter_is_left_out_and_nothing_else() {
        let uri =
            "otpauth://totp/Newcomer%20Platform:a%40b.example?secret=JBSWY3DP&issuer=Newcomer%20Platform";
        assert_eq!(
            compact_uri(uri).as_deref(),
            Some("otpauth://totp/Newcomer%20Platform:a%40b.example?secret=JBSWY3DP")
        );
        let first = "otpauth://totp/Acme:alice?issuer=Acme&secret=JBSWY3DP";
        assert_eq!(compact_uri(first).as_deref(), Some("otpauth://totp/Acme:alice?secret=JBSWY3DP"));
        // An issuer parameter that differs from the prefix says something: it stays.
        assert_eq!(compact_uri("otpauth://totp/Acme:alice?secret=X&issuer=Other"), None);
        assert_eq!(
            compact_uri("otpauth://totp/alice?secret=X&issuer=Acme"),
            None,
            "no prefix to take it from"
        );
        assert_eq!(compact_uri("otpauth://totp/Acme:alice?secret=X"), None);
    }

    #[test]
    fn authenticators_read_the_same_account_from_both() {
        let uri = "otpauth://totp/Acme%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme%20Co";
        let full = totp_rs::Totp::from_url(uri).unwrap();
        let compact = totp_rs::Totp::from_url(compact_uri(uri).unwrap()).unwrap();
        assert_eq!((compact.issuer(), compact.account_name()), (full.issuer(), full.account_name()));
        assert_eq!(compact.secret(), full.secret());
    }
}
