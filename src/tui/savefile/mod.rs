//! The backup-codes file: where it goes (the default name, `~` expanded) and what it says, and why
//! saving it failed. Pure; [`atomic`] writes it.

pub mod atomic;

use std::path::{Path, PathBuf};

use crate::domain::SecretString;

/// Why the codes were not saved. Every message names the path and says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    #[error("no file name given; type a path such as ~/backup-codes.txt")]
    Empty,
    #[error("cannot expand ~ because the home folder is unknown (HOME is not set); type the full path")]
    NoHome,
    #[error("{0} already exists; confirm to replace it, or choose another name")]
    Exists(PathBuf),
    #[error("the folder {0} does not exist; create it first or choose another folder")]
    DirNotFound(PathBuf),
    #[error("{0} is not a folder; choose another path")]
    NotADirectory(PathBuf),
    #[error("{0} is a folder; add a file name, such as {0}/backup-codes.txt")]
    IsADirectory(PathBuf),
    #[error("permission denied writing {0}; choose a folder you can write to, such as your home folder")]
    PermissionDenied(PathBuf),
    #[error("cannot write {0}: the file system is read-only; choose another folder")]
    ReadOnly(PathBuf),
    #[error("cannot write {0}: no space left on the device; free some space or choose another disk")]
    NoSpace(PathBuf),
    /// A kernel's virtual file system (`/proc`, `/sys`), where files cannot be created.
    #[error(
        "{dir} is the kernel's {kind} file system, which cannot hold files; choose a folder such as your home folder"
    )]
    VirtualFileSystem { dir: PathBuf, kind: &'static str },
    #[error("cannot write {path}: {message}")]
    Other { path: PathBuf, message: String },
}

impl SaveError {
    /// The path the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            SaveError::Empty | SaveError::NoHome => None,
            SaveError::Exists(p)
            | SaveError::DirNotFound(p)
            | SaveError::NotADirectory(p)
            | SaveError::IsADirectory(p)
            | SaveError::PermissionDenied(p)
            | SaveError::ReadOnly(p)
            | SaveError::NoSpace(p)
            | SaveError::VirtualFileSystem { dir: p, .. }
            | SaveError::Other { path: p, .. } => Some(p),
        }
    }
}

/// The path offered in the prompt, as the user would type it: `~/ISSUER-backup-codes.txt` with the
/// issuer made safe for a file name (lowercase, spaces to '-', only `[a-z0-9._-]`).
pub fn default_path(issuer: &str) -> String {
    let mut name = String::with_capacity(issuer.len());
    for c in issuer.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_whitespace() { '-' } else { c };
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
            continue;
        }
        if c == '-' && name.ends_with('-') {
            continue;
        }
        name.push(c);
    }
    // No hidden file, no "--" at the front or back.
    let name = name.trim_start_matches(['.', '-']).trim_end_matches('-');
    if name.is_empty() { "~/backup-codes.txt".to_owned() } else { format!("~/{name}-backup-codes.txt") }
}

/// Turns what the user typed into a path: surrounding spaces dropped, `~` and `~/...` expanded with
/// `home`. `~user` is not supported and says so.
pub fn expand_tilde(input: &str, home: Option<&Path>) -> Result<PathBuf, SaveError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(SaveError::Empty);
    }
    let Some(rest) = input.strip_prefix('~') else {
        return Ok(PathBuf::from(input));
    };
    let rest = match rest.strip_prefix('/') {
        Some(rest) => rest,
        None if rest.is_empty() => rest,
        None => {
            return Err(SaveError::Other {
                path: PathBuf::from(input),
                message: "only ~ and ~/ are understood; type the full path".to_owned(),
            });
        }
    };
    let home = home.filter(|h| !h.as_os_str().is_empty()).ok_or(SaveError::NoHome)?;
    Ok(if rest.is_empty() { home.to_path_buf() } else { home.join(rest) })
}

/// The text file of backup codes: a header, the account, the date, the codes numbered, and how to use
/// and keep them. `codes` are written as given (already formatted for reading). Ends with a newline.
pub fn codes_file_contents(
    issuer: &str,
    account: &str,
    codes: &[SecretString],
    created: time::OffsetDateTime,
) -> SecretString {
    let created = created.to_offset(time::UtcOffset::UTC);
    let header = format!(
        "{issuer} backup codes\n\
         \n\
         Account: {account}\n\
         Created: {:04}-{:02}-{:02} {:02}:{:02} UTC\n\
         \n\
         Each code works once. Enter one where you are asked for your verification code\n\
         when your authenticator app is not at hand.\n\
         Keep this file somewhere safe (a password manager) and delete other copies.\n\
         \n",
        created.year(),
        u8::from(created.month()),
        created.day(),
        created.hour(),
        created.minute(),
    );
    let width = codes.len().to_string().len();
    let codes_len: usize = codes.iter().map(|c| c.len() + width + 4).sum();
    // Sized up front so the codes are never copied into a reallocated (and unzeroized) buffer.
    let mut text = String::with_capacity(header.len() + codes_len);
    text.push_str(&header);
    for (i, code) in codes.iter().enumerate() {
        let number = (i + 1).to_string();
        for _ in number.len()..width {
            text.push(' ');
        }
        text.push_str(&number);
        text.push_str(". ");
        text.push_str(code.expose());
        text.push('\n');
    }
    SecretString::new(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_path() {
        let p = PathBuf::from("/home/u/codes.txt");
        for err in [
            SaveError::Exists(p.clone()),
            SaveError::DirNotFound(p.clone()),
            SaveError::NotADirectory(p.clone()),
            SaveError::IsADirectory(p.clone()),
            SaveError::PermissionDenied(p.clone()),
            SaveError::ReadOnly(p.clone()),
            SaveError::NoSpace(p.clone()),
            SaveError::Other { path: p.clone(), message: "boom".into() },
        ] {
            assert!(err.to_string().contains("/home/u/codes.txt"), "{err}");
            assert_eq!(err.path(), Some(p.as_path()));
        }
        assert_eq!(SaveError::Empty.path(), None);
    }

    #[test]
    fn tilde_expansion() {
        let home = Path::new("/home/u");
        assert_eq!(expand_tilde("~", Some(home)), Ok(PathBuf::from("/home/u")));
        assert_eq!(expand_tilde("~/", Some(home)), Ok(PathBuf::from("/home/u")));
        assert_eq!(expand_tilde("~/a/b.txt", Some(home)), Ok(PathBuf::from("/home/u/a/b.txt")));
        assert_eq!(expand_tilde("  ~/c.txt ", Some(home)), Ok(PathBuf::from("/home/u/c.txt")));
        assert_eq!(expand_tilde("/abs/~/x", Some(home)), Ok(PathBuf::from("/abs/~/x")));
        assert_eq!(expand_tilde("rel/x.txt", None), Ok(PathBuf::from("rel/x.txt")));
        assert_eq!(expand_tilde("", Some(home)), Err(SaveError::Empty));
        assert_eq!(expand_tilde("   ", Some(home)), Err(SaveError::Empty));
        assert_eq!(expand_tilde("~/x", None), Err(SaveError::NoHome));
        assert_eq!(expand_tilde("~/x", Some(Path::new(""))), Err(SaveError::NoHome));
        assert!(matches!(expand_tilde("~bob/x", Some(home)), Err(SaveError::Other { .. })));
    }

    #[test]
    fn default_path_is_filename_safe() {
        assert_eq!(default_path("usercenter"), "~/usercenter-backup-codes.txt");
        assert_eq!(default_path("User Center"), "~/user-center-backup-codes.txt");
        assert_eq!(default_path("  ACME  Corp. (EU)/x "), "~/acme-corp.-eux-backup-codes.txt");
        assert_eq!(default_path("../../etc/passwd"), "~/etcpasswd-backup-codes.txt");
        assert_eq!(default_path(".hidden"), "~/hidden-backup-codes.txt");
        assert_eq!(default_path("a_b-c.d9"), "~/a_b-c.d9-backup-codes.txt");
        assert_eq!(default_path(""), "~/backup-codes.txt");
        assert_eq!(default_path("ü!"), "~/backup-codes.txt");
    }

    #[test]
    fn the_codes_file() {
        let codes: Vec<SecretString> =
            (0..10).map(|i| SecretString::new(format!("abcd{i}-efgh{i}"))).collect();
        let created = time::macros::datetime!(2026-11-28 19:05:09 +01:00);
        let text = codes_file_contents("usercenter", "alice@example.com", &codes, created);
        let expected = "\
usercenter backup codes

Account: alice@example.com
Created: 2026-11-28 18:05 UTC

Each code works once. Enter one where you are asked for your verification code
when your authenticator app is not at hand.
Keep this file somewhere safe (a password manager) and delete other copies.

 1. abcd0-efgh0
 2. abcd1-efgh1
 3. abcd2-efgh2
 4. abcd3-efgh3
 5. abcd4-efgh4
 6. abcd5-efgh5
 7. abcd6-efgh6
 8. abcd7-efgh7
 9. abcd8-efgh8
10. abcd9-efgh9
";
        assert_eq!(text.expose(), expected);
        assert_eq!(format!("{text:?}"), "[redacted]");
    }
}
