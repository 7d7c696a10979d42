//! Writing the codes file: atomically, readable by the owner only, never overwriting without being
//! asked to.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::SaveError;

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
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| virtual_file_system(dir).unwrap_or_else(|| classify_in(&e, &path, dir)))?;
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

/// The folder is on a kernel's virtual file system, where creating a file fails with a misleading
/// "not found" (`/proc`) or "permission denied" (`/sys`, even for root).
#[cfg(target_os = "linux")]
fn virtual_file_system(dir: &Path) -> Option<SaveError> {
    // The magic numbers of statfs(2).
    const PROC: i64 = 0x9fa0;
    const SYSFS: i64 = 0x6265_6572;
    const CGROUP: i64 = 0x0027_e0eb;
    const CGROUP2: i64 = 0x6367_7270;
    const DEBUGFS: i64 = 0x6462_6720;
    const SECURITYFS: i64 = 0x7363_6673;
    let stat = rustix::fs::statfs(dir).ok()?;
    // `f_type`'s width differs between architectures (i64 on x86_64).
    #[allow(clippy::useless_conversion)]
    let kind = match i64::from(stat.f_type) {
        PROC => "proc",
        SYSFS => "sysfs",
        CGROUP | CGROUP2 => "cgroup",
        DEBUGFS => "debugfs",
        SECURITYFS => "securityfs",
        _ => return None,
    };
    Some(SaveError::VirtualFileSystem { dir: dir.to_path_buf(), kind })
}

#[cfg(not(target_os = "linux"))]
fn virtual_file_system(_dir: &Path) -> Option<SaveError> {
    None
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
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::tui::savefile::{default_path, expand_tilde};

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

    /// Saving under /proc said "the folder /proc does not exist", and under /sys "permission denied"
    /// (also as root): the real cause is a virtual file system.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_virtual_file_system_is_named_as_such() {
        for (path, kind) in
            [("/proc/codes.txt", "proc"), ("/proc/self/codes.txt", "proc"), ("/sys/codes.txt", "sysfs")]
        {
            let error = save(Path::new(path), "x", false).unwrap_err();
            assert!(
                matches!(&error, SaveError::VirtualFileSystem { kind: k, .. } if *k == kind),
                "{path}: {error:?}"
            );
            assert!(error.to_string().contains("cannot hold files"), "{error}");
        }
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
        let path = locked.join("codes.txt");
        let result = save(&path, "x", false);
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();
        if result.is_ok() {
            // Root ignores the mode bits, and /sys (which refuses even root) is now named for what it
            // is (a_virtual_file_system_is_named_as_such); every_error_kind_maps_to_a_variant still
            // maps EACCES to this error.
            eprintln!("skipped: running as root, which may write to {}", locked.display());
            return;
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
    fn default_path_expands_and_saves() {
        let dir = tempfile::tempdir().unwrap();
        let path = expand_tilde(&default_path("User Center"), Some(dir.path())).unwrap();
        assert_eq!(path, dir.path().join("user-center-backup-codes.txt"));
        assert_eq!(save(&path, "x", false), Ok(path));
    }
}
