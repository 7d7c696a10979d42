//! What a person types at a code prompt: `VerificationCode`, `BackupCode` and `SecondFactorInput`.
//!
//! Invariant: never a panic; a parsed code is in canonical form (six ASCII digits; ten characters of
//! the backup alphabet) and parses again to itself from every form it is shown or typed in.

#![no_main]

use usercenter::domain::codes::{BACKUP_CODE_ALPHABET, BACKUP_CODE_LEN, TOTP_DIGITS};
use usercenter::domain::{BackupCode, SecondFactorInput, VerificationCode};

libfuzzer_sys::fuzz_target!(|typed: &str| {
    let totp = VerificationCode::parse(typed);
    if let Some(code) = &totp {
        assert_eq!(code.expose().len(), TOTP_DIGITS);
        assert!(code.expose().bytes().all(|b| b.is_ascii_digit()), "{:?}", code.expose());
        assert_eq!(VerificationCode::parse(code.expose()).as_ref(), Some(code));
    }
    let backup = BackupCode::parse(typed);
    if let Some(code) = &backup {
        let canonical = code.canonical();
        assert_eq!(canonical.len(), BACKUP_CODE_LEN);
        assert!(canonical.bytes().all(|b| BACKUP_CODE_ALPHABET.contains(&b)), "{canonical:?}");
        let shown = code.display();
        for form in
            [shown.expose().to_owned(), shown.expose().to_uppercase(), shown.expose().replace('-', " ")]
        {
            assert_eq!(BackupCode::parse(&form).as_ref(), Some(code), "{form:?}");
        }
        assert_eq!(BackupCode::from_canonical(canonical.to_owned()).as_ref(), Some(code));
    }
    // A prompt that takes either: six digits are the app's code, else a backup code, else nothing.
    match (SecondFactorInput::parse(typed), totp, backup) {
        (Some(SecondFactorInput::Totp(a)), Some(b), _) => assert_eq!(a, b),
        (Some(SecondFactorInput::Backup(a)), None, Some(b)) => assert_eq!(a, b),
        (None, None, None) => {}
        (parsed, totp, backup) => panic!("{typed:?}: {parsed:?} from {totp:?} / {backup:?}"),
    }
});
