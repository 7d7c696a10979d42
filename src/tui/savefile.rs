//! Saving backup codes to a text file: atomically, readable by the owner only, never overwriting
//! without being asked to.

use std::fs;
use std::io::{self, Write};
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

/// Writes `contents` to `path` atomically: a temporary file in the same folder with mode 0600, synced
/// to disk, then renamed into place. Without `overwrite` an existing file is never replaced
/// ([`SaveError::Exists`]). Returns the absolute path written.
pub fn save(path: &Path, contents: &str, overwrite: bool) -> Result<PathBuf, SaveError> {
    if path.as_os_str().is_empty() {
        return Err(SaveError::Empty);
    }
    let path = std::path::absolute(path).map_err(|e| classify(&e, path))?;
    let (Some(dir), Some(file_name)) = (path.parent(), path.file_name()) else {
        return Err(SaveError::IsADirectory(path));
    };
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(SaveError::IsADirectory(path));
    }
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => return Err(SaveError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SaveError::DirNotFound(dir.to_path_buf()));
        }
        Err(e) => return Err(classify(&e, dir)),
    }
    match fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => return Err(SaveError::IsADirectory(path)),
        Ok(_) if !overwrite => return Err(SaveError::Exists(path)),
        _ => {}
    }

    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    // Dropping `tmp` on any error below removes the temporary file.
    let mut tmp = builder.tempfile_in(dir).map_err(|e| classify_in(&e, &path, dir))?;
    #[cfg(unix)]
    {
        // The umask cannot widen 0600, but make the mode exact whatever it is.
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o600);
        tmp.as_file().set_permissions(mode).map_err(|e| classify(&e, &path))?;
    }
    tmp.write_all(contents.as_bytes()).map_err(|e| classify(&e, &path))?;
    tmp.as_file().sync_all().map_err(|e| classify(&e, &path))?;
    let persisted = if overwrite { tmp.persist(&path) } else { tmp.persist_noclobber(&path) };
    persisted.map_err(|e| match e.error.kind() {
        io::ErrorKind::AlreadyExists => SaveError::Exists(path.clone()),
        _ => classify_in(&e.error, &path, dir),
    })?;
    // Make the rename itself durable. The file is in place already, so a failure here is not reported.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(path)
}

/// Maps an I/O error on `path` to what the user can act on.
fn classify(err: &io::Error, path: &Path) -> SaveError {
    classify_in(err, path, path.parent().unwrap_or(path))
}

/// As [`classify`], naming `dir` when the folder itself is missing or not a folder.
fn classify_in(err: &io::Error, path: &Path, dir: &Path) -> SaveError {
    use io::ErrorKind as K;
    // tempfile rewraps OS errors (keeping the kind, losing the code), so match kinds first.
    match (err.kind(), err.raw_os_error()) {
        (K::NotFound, _) => SaveError::DirNotFound(dir.to_path_buf()),
        (K::NotADirectory, _) | (_, Some(20)) => SaveError::NotADirectory(dir.to_path_buf()),
        (K::IsADirectory, _) | (_, Some(21)) => SaveError::IsADirectory(path.to_path_buf()),
        (K::PermissionDenied, _) => SaveError::PermissionDenied(path.to_path_buf()),
        (K::ReadOnlyFilesystem, _) | (_, Some(30)) => SaveError::ReadOnly(path.to_path_buf()),
        (K::StorageFull | K::QuotaExceeded, _) | (_, Some(28 | 122)) => {
            SaveError::NoSpace(path.to_path_buf())
        }
        (K::AlreadyExists, _) => SaveError::Exists(path.to_path_buf()),
        _ => SaveError::Other { path: path.to_path_buf(), message: err.to_string() },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_exact_contents_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.txt");
        let written = save(&path, "one\ntwo\n", false).unwrap();
        assert_eq!(written, path);
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        assert_eq!(mode(&path), 0o600);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn does_not_overwrite_without_being_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.txt");
        fs::write(&path, "old").unwrap();
        assert_eq!(save(&path, "new", false), Err(SaveError::Exists(path.clone())));
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn overwrites_when_asked_and_the_mode_is_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.txt");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(save(&path, "new", true), Ok(path.clone()));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn overwrite_of_a_new_file_just_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.txt");
        assert_eq!(save(&path, "x", true), Ok(path.clone()));
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn relative_paths_come_back_absolute() {
        let dir = tempfile::tempdir_in(".").unwrap();
        let name = dir.path().file_name().unwrap();
        let relative = Path::new(name).join("codes.txt");
        let written = save(&relative, "x", false).unwrap();
        assert!(written.is_absolute());
        assert_eq!(written, std::env::current_dir().unwrap().join(&relative));
    }

    #[test]
    fn missing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = save(&missing.join("codes.txt"), "x", false).unwrap_err();
        assert_eq!(err, SaveError::DirNotFound(missing.clone()));
        assert!(err.to_string().contains(&missing.display().to_string()));
        assert!(err.to_string().contains("does not exist"));
    }

    #[test]
    fn a_file_in_the_way_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let err = save(&file.join("codes.txt"), "x", false).unwrap_err();
        assert_eq!(err, SaveError::NotADirectory(file.clone()));
        assert!(err.to_string().contains(&file.display().to_string()));
    }

    #[test]
    fn a_folder_as_target() {
        let dir = tempfile::tempdir().unwrap();
        for overwrite in [false, true] {
            let err = save(dir.path(), "x", overwrite).unwrap_err();
            assert_eq!(err, SaveError::IsADirectory(dir.path().to_path_buf()));
            assert!(err.to_string().contains(&dir.path().display().to_string()));
            assert!(err.to_string().contains("add a file name"));
        }
        assert!(matches!(save(Path::new("/"), "x", true), Err(SaveError::IsADirectory(_))));
        let slash = format!("{}/new/", dir.path().display());
        assert!(matches!(save(Path::new(&slash), "x", true), Err(SaveError::IsADirectory(_))));
    }

    #[test]
    fn permission_denied() {
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        fs::create_dir(&locked).unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o500)).unwrap();
        let mut path = locked.join("codes.txt");
        let mut result = save(&path, "x", false);
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();
        if result.is_ok() {
            // Root ignores the mode bits; sysfs refuses to create files even for root (EACCES).
            path = PathBuf::from("/sys/usercenter-codes.txt");
            result = save(&path, "x", false);
            if let Err(SaveError::ReadOnly(p)) = &result {
                eprintln!("skipped: running as root and /sys is read-only here ({})", p.display());
                return;
            }
        }
        let err = result.unwrap_err();
        assert_eq!(err, SaveError::PermissionDenied(path.clone()));
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(err.to_string().contains("permission denied"));
    }

    #[test]
    fn a_dangling_symlink_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("codes.txt");
        std::os::unix::fs::symlink(dir.path().join("missing"), &link).unwrap();
        // The pre-check follows the link and sees nothing; the no-clobber rename still refuses.
        assert_eq!(save(&link, "x", false), Err(SaveError::Exists(link.clone())));
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(!dir.path().join("missing").exists());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn overwriting_a_symlink_replaces_the_link_not_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        fs::write(&target, "keep").unwrap();
        let link = dir.path().join("codes.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(save(&link, "x", false), Err(SaveError::Exists(link.clone())));
        assert_eq!(save(&link, "new", true), Ok(link.clone()));
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
        assert_eq!(fs::read_to_string(&link).unwrap(), "new");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(mode(&link), 0o600);
    }

    #[test]
    fn every_error_kind_maps_to_a_variant() {
        let p = Path::new("/d/codes.txt");
        let d = Path::new("/d");
        let os = io::Error::from_raw_os_error;
        assert_eq!(classify_in(&os(2), p, d), SaveError::DirNotFound(d.into()));
        assert_eq!(classify_in(&os(13), p, d), SaveError::PermissionDenied(p.into()));
        assert_eq!(classify_in(&os(1), p, d), SaveError::PermissionDenied(p.into()));
        assert_eq!(classify_in(&os(20), p, d), SaveError::NotADirectory(d.into()));
        assert_eq!(classify_in(&os(21), p, d), SaveError::IsADirectory(p.into()));
        assert_eq!(classify_in(&os(28), p, d), SaveError::NoSpace(p.into()));
        assert_eq!(classify_in(&os(122), p, d), SaveError::NoSpace(p.into()));
        assert_eq!(classify_in(&os(30), p, d), SaveError::ReadOnly(p.into()));
        assert_eq!(classify_in(&os(17), p, d), SaveError::Exists(p.into()));
        // Rewrapped errors (as tempfile returns them) keep their kind.
        let wrapped = io::Error::new(io::ErrorKind::StorageFull, "disk full at /d");
        assert_eq!(classify_in(&wrapped, p, d), SaveError::NoSpace(p.into()));
        let other = classify_in(&os(5), p, d);
        assert!(matches!(&other, SaveError::Other { path, .. } if path == p));
        assert!(other.to_string().starts_with("cannot write /d/codes.txt: "), "{other}");
    }

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
    fn a_full_disk() {
        // /dev/full accepts opens and fails every write with ENOSPC; the same mapping covers a full
        // file system under the temporary file.
        let Ok(mut full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
            eprintln!("skipped: no /dev/full");
            return;
        };
        let err = full.write_all(b"x").and_then(|()| full.flush()).unwrap_err();
        assert_eq!(classify(&err, Path::new("/tmp/codes.txt")), SaveError::NoSpace("/tmp/codes.txt".into()));
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
    fn default_path_expands_and_saves() {
        let dir = tempfile::tempdir().unwrap();
        let path = expand_tilde(&default_path("User Center"), Some(dir.path())).unwrap();
        assert_eq!(path, dir.path().join("user-center-backup-codes.txt"));
        assert_eq!(save(&path, "x", false), Ok(path));
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
