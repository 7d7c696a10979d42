//! Parsing and formatting of one-time codes: the 6-digit TOTP code and the backup code.

use super::SecretString;

/// Backup-code alphabet: digits and lower-case letters without the look-alikes 0/o, 1/l/i.
pub const BACKUP_CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters in a backup code, without the dash.
pub const BACKUP_CODE_LEN: usize = 10;
/// Digits in a TOTP code.
pub const TOTP_DIGITS: usize = 6;

/// A 6-digit verification code from an authenticator app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationCode(SecretString);

impl VerificationCode {
    /// Accepts exactly six ASCII digits; spaces (as some apps show "123 456") are ignored.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(SecretString::new(digits)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// A backup code in canonical form: ten lower-case characters of [`BACKUP_CODE_ALPHABET`], no dash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupCode(SecretString);

impl BackupCode {
    /// Accepts any case, with or without the dash or spaces.
    pub fn parse(input: &str) -> Option<Self> {
        let canonical: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (canonical.len() == BACKUP_CODE_LEN && canonical.bytes().all(|b| BACKUP_CODE_ALPHABET.contains(&b)))
            .then(|| Self(SecretString::new(canonical)))
    }

    /// Builds a code from canonical characters (the server's generator); `None` if any is invalid.
    pub fn from_canonical(chars: String) -> Option<Self> {
        let code = SecretString::new(chars);
        Self::parse(code.expose()).filter(|parsed| parsed.0 == code)
    }

    /// The canonical form, used for hashing.
    pub fn canonical(&self) -> &str {
        self.0.expose()
    }

    /// The form shown to people: `xxxxx-xxxxx`.
    pub fn display(&self) -> SecretString {
        let c = self.canonical();
        SecretString::new(format!("{}-{}", &c[..5], &c[5..]))
    }
}

/// What a person typed at the verification-code prompt: the app's code, or a backup code in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecondFactorInput {
    Totp(VerificationCode),
    Backup(BackupCode),
}

impl SecondFactorInput {
    pub fn parse(input: &str) -> Option<Self> {
        VerificationCode::parse(input).map(Self::Totp).or_else(|| BackupCode::parse(input).map(Self::Backup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_code_takes_six_digits_only() {
        assert_eq!(VerificationCode::parse("123456").unwrap().expose(), "123456");
        assert_eq!(VerificationCode::parse(" 123 456 ").unwrap().expose(), "123456");
        assert!(VerificationCode::parse("12345").is_none());
        assert!(VerificationCode::parse("1234567").is_none());
        assert!(VerificationCode::parse("12345a").is_none());
        assert!(VerificationCode::parse("١٢٣٤٥٦").is_none(), "non-ASCII digits are refused");
    }

    #[test]
    fn backup_code_accepts_case_dash_and_spaces() {
        let a = BackupCode::parse("abcde-fghjk").unwrap();
        assert_eq!(a.canonical(), "abcdefghjk");
        assert_eq!(BackupCode::parse("ABCDE FGHJK").unwrap(), a);
        assert_eq!(BackupCode::parse("abcdefghjk").unwrap(), a);
        assert_eq!(a.display().expose(), "abcde-fghjk");
    }

    #[test]
    fn backup_code_refuses_look_alikes_and_wrong_lengths() {
        assert!(BackupCode::parse("abcde-fghj1").is_none());
        assert!(BackupCode::parse("abcde-fghjo").is_none());
        assert!(BackupCode::parse("abcde-fghj").is_none());
        assert!(BackupCode::parse("abcde-fghjkm").is_none());
        assert!(BackupCode::from_canonical("ABCDEFGHJK".into()).is_none());
        assert!(BackupCode::from_canonical("abcdefghjk".into()).is_some());
    }

    #[test]
    fn alphabet_has_no_look_alikes() {
        for c in b"01ilo" {
            assert!(!BACKUP_CODE_ALPHABET.contains(c));
        }
        assert_eq!(BACKUP_CODE_ALPHABET.len(), 31);
    }

    #[test]
    fn second_factor_input_tells_codes_apart() {
        assert!(matches!(SecondFactorInput::parse("123456"), Some(SecondFactorInput::Totp(_))));
        assert!(matches!(SecondFactorInput::parse("abcde-fghjk"), Some(SecondFactorInput::Backup(_))));
        assert!(SecondFactorInput::parse("nope").is_none());
    }
}
