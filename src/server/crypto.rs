//! The server key and what is derived from it: TOTP-secret encryption and keyed lookup hashes.
//!
//! Key file: 64 hexadecimal characters (32 random bytes), optionally followed by a newline, as
//! `openssl rand -hex 32` writes it. Two sub-keys are derived with HMAC-SHA-256 and distinct labels, so
//! the encryption key is never used as a MAC key and vice versa.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use anyhow::Context as _;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::domain::codes::{BACKUP_CODE_ALPHABET, BACKUP_CODE_LEN};
use crate::domain::{BackupCode, SecretString};

type HmacSha256 = Hmac<Sha256>;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// What a lookup hash is of; part of the MAC input so equal strings of two kinds never collide.
#[derive(Clone, Copy, Debug)]
pub enum HashKind {
    SessionToken,
    Challenge,
    BackupCode,
    /// The login throttle's subject: a client address and a username (rule 11: never stored raw).
    LoginThrottle,
}

impl HashKind {
    fn label(self) -> &'static [u8] {
        match self {
            HashKind::SessionToken => b"session-token",
            HashKind::Challenge => b"login-challenge",
            HashKind::BackupCode => b"backup-code",
            HashKind::LoginThrottle => b"login-throttle",
        }
    }
}

/// Sub-keys derived from the server key.
#[derive(Clone)]
pub struct Keys {
    encryption: Zeroizing<[u8; KEY_LEN]>,
    lookup: Zeroizing<[u8; KEY_LEN]>,
    /// Stored in the database, so a server started with another key notices (rule 15). Derived under its
    /// own label, it tells nothing about the other sub-keys.
    check: [u8; KEY_LEN],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    pub fn from_master(master: &[u8; KEY_LEN]) -> Self {
        Self {
            encryption: derive(master, b"usercenter v1 totp-secret encryption"),
            lookup: derive(master, b"usercenter v1 lookup hash"),
            check: *derive(master, b"usercenter v1 key check value"),
        }
    }

    /// The value the database keeps to recognise this key.
    pub fn check_value(&self) -> &[u8] {
        &self.check
    }

    /// The login throttle's subject for `username` from the client address `address`: a keyed hash in
    /// hexadecimal, so the table never holds a raw username and its rows have one small size.
    pub fn login_throttle_subject(&self, address: &str, username: &str) -> String {
        // Neither part can hold a newline: addresses are printed by us, usernames are checked first.
        let hash = self.lookup_hash(HashKind::LoginThrottle, &format!("{address}\n{username}"));
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A fresh random key, for a throwaway in-memory database.
    pub fn random() -> Self {
        let mut master = Zeroizing::new([0u8; KEY_LEN]);
        rand::fill(&mut master[..]);
        Self::from_master(&master)
    }

    /// HMAC-SHA-256 of a high-entropy value (token, challenge, backup code) for storage and lookup.
    pub fn lookup_hash(&self, kind: HashKind, value: &str) -> Vec<u8> {
        let mut mac = hmac_with(&self.lookup[..]);
        mac.update(kind.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// AES-256-GCM with a random nonce; the user id is the associated data, so a ciphertext moved to
    /// another account does not decrypt. Output: nonce || ciphertext+tag.
    pub fn encrypt_secret(&self, user_id: i64, secret: &[u8]) -> anyhow::Result<Vec<u8>> {
        let cipher = self.cipher()?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce[..]);
        let aad = aad(user_id);
        let ciphertext = cipher
            .encrypt(&nonce.into(), Payload { msg: secret, aad: &aad })
            .map_err(|_| anyhow::anyhow!("cannot encrypt the TOTP secret"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn decrypt_secret(&self, user_id: i64, stored: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        anyhow::ensure!(stored.len() > NONCE_LEN, "the stored TOTP secret is too short");
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().context("bad nonce length")?;
        let aad = aad(user_id);
        self.cipher()?
            .decrypt(&nonce.into(), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| anyhow::anyhow!("cannot decrypt the TOTP secret: wrong server key file?"))
    }

    fn cipher(&self) -> anyhow::Result<Aes256Gcm> {
        Aes256Gcm::new_from_slice(&self.encryption[..])
            .map_err(|_| anyhow::anyhow!("bad encryption key length"))
    }
}

fn aad(user_id: i64) -> Vec<u8> {
    let mut aad = b"usercenter v1 totp user ".to_vec();
    aad.extend_from_slice(&user_id.to_be_bytes());
    aad
}

fn hmac_with(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn derive(master: &[u8; KEY_LEN], label: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut mac = hmac_with(master);
    mac.update(label);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// 256 random bits, base64url without padding: session tokens and login challenges.
pub fn random_token() -> SecretString {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::fill(&mut bytes[..]);
    SecretString::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]))
}

/// A session's public id: 128 random bits, base64url without padding (22 characters). Drawn on its own,
/// so it tells nothing about the session's token.
pub fn random_public_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A backup code of [`BACKUP_CODE_LEN`] characters drawn uniformly from [`BACKUP_CODE_ALPHABET`].
pub fn random_backup_code() -> BackupCode {
    loop {
        let chars: String = (0..BACKUP_CODE_LEN)
            .map(|_| char::from(BACKUP_CODE_ALPHABET[rand::random_range(0..BACKUP_CODE_ALPHABET.len())]))
            .collect();
        if let Some(code) = BackupCode::from_canonical(chars) {
            return code;
        }
    }
}

/// The server key as loaded by [`load_server_key`].
pub struct ServerKey {
    pub keys: Keys,
    /// The key file, unless the key is a random one for an in-memory database.
    pub file: Option<PathBuf>,
    /// True when the file was created just now (the operator must back it up).
    pub created: bool,
}

/// Where the key comes from: the given file, or (SQLite only) `<database file>.key`, created if missing
/// and `may_create` (false when the database already records a key: a missing file is then an error).
/// A key file that group or others may access is refused (rule 15).
pub fn load_server_key(
    key_file: Option<&Path>,
    sqlite_file: Option<&Path>,
    is_postgres: bool,
    may_create: bool,
) -> anyhow::Result<ServerKey> {
    let path: PathBuf = match (key_file, sqlite_file) {
        (Some(path), _) => path.to_path_buf(),
        (None, _) if is_postgres => anyhow::bail!(
            "PostgreSQL needs a server key file: pass --key-file PATH or set USERCENTER_KEY_FILE \
             (create one with `openssl rand -hex 32 > PATH; chmod 600 PATH`; share it between the servers)"
        ),
        (None, Some(db)) => default_key_path(db),
        (None, None) => return Ok(ServerKey { keys: Keys::random(), file: None, created: false }),
    };
    if key_file.is_some() || path.exists() {
        let master = read_key_file(&path)?;
        return Ok(ServerKey { keys: Keys::from_master(&master), file: Some(path), created: false });
    }
    anyhow::ensure!(
        may_create,
        "the key file {} is missing, but the database was set up with a key: restore the key file from \
         the backup made with the database (or pass the right one with --key-file)",
        path.display()
    );
    let (master, created) = create_key_file(&path)?;
    Ok(ServerKey { keys: Keys::from_master(&master), file: Some(path), created })
}

/// `<database file>.key`, beside the database.
pub fn default_key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn read_key_file(path: &Path) -> anyhow::Result<Zeroizing<[u8; KEY_LEN]>> {
    check_private(path)?;
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the key file {}", path.display()))?,
    );
    parse_key(text.trim()).with_context(|| {
        format!("the key file {} must hold 64 hexadecimal characters (32 bytes)", path.display())
    })
}

fn parse_key(hex: &str) -> anyhow::Result<Zeroizing<[u8; KEY_LEN]>> {
    anyhow::ensure!(hex.len() == KEY_LEN * 2 && hex.is_ascii(), "wrong length");
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).context("not hexadecimal")?;
    }
    Ok(key)
}

/// Like sshd with its host keys: a key file that group or others may read (or write) is refused.
#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    let mode = metadata.permissions().mode() & 0o777;
    anyhow::ensure!(
        mode & 0o077 == 0,
        "the key file {path} can be accessed by group or others (mode {mode:03o}): it must be private to \
         the server's user. Run `chmod 600 {path}` and start again",
        path = path.display()
    );
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// A new random key in a new file (mode 0600); `false` if another process created the file first and
/// its key was read instead.
fn create_key_file(path: &Path) -> anyhow::Result<(Zeroizing<[u8; KEY_LEN]>, bool)> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    rand::fill(&mut key[..]);
    let hex = Zeroizing::new(key.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the key file {}", path.display()))?;
            Ok((key, true))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read_key_file(path)?, false)),
        Err(e) => Err(e).with_context(|| format!("cannot create the key file {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_and_is_bound_to_the_user() {
        let keys = Keys::random();
        let sealed = keys.encrypt_secret(7, b"0123456789abcdefghij").unwrap();
        assert!(!sealed.windows(20).any(|w| w == b"0123456789abcdefghij"));
        assert_eq!(&keys.decrypt_secret(7, &sealed).unwrap()[..], b"0123456789abcdefghij");
        assert!(keys.decrypt_secret(8, &sealed).is_err(), "another user's AAD must not decrypt");
        assert!(Keys::random().decrypt_secret(7, &sealed).is_err(), "another key must not decrypt");
        assert_ne!(sealed, keys.encrypt_secret(7, b"0123456789abcdefghij").unwrap(), "nonces are random");
    }

    #[test]
    fn lookup_hashes_are_keyed_and_kind_separated() {
        let keys = Keys::from_master(&[1; 32]);
        let a = keys.lookup_hash(HashKind::SessionToken, "x");
        assert_eq!(a.len(), 32);
        assert_eq!(a, Keys::from_master(&[1; 32]).lookup_hash(HashKind::SessionToken, "x"));
        assert_ne!(a, keys.lookup_hash(HashKind::Challenge, "x"));
        assert_ne!(a, Keys::from_master(&[2; 32]).lookup_hash(HashKind::SessionToken, "x"));
    }

    #[test]
    fn tokens_and_backup_codes_look_right() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token());
        let id = random_public_id();
        assert_eq!(id.len(), 22);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
        assert_ne!(id, random_public_id());
        let code = random_backup_code();
        assert_eq!(code.display().len(), 11);
        assert!(BackupCode::parse(code.display().expose()).is_some());
    }

    #[test]
    fn key_file_is_created_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let path = default_key_path(&db);
        assert_eq!(path, dir.path().join("app.db.key"));
        let loaded = load_server_key(None, Some(&db), false, true).unwrap();
        assert!(loaded.created);
        assert_eq!(loaded.file.as_deref(), Some(path.as_path()));
        let keys = loaded.keys;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = load_server_key(None, Some(&db), false, true).unwrap();
        assert!(!again.created);
        assert_eq!(keys.check_value(), again.keys.check_value());
        let again = again.keys;
        assert_eq!(keys.lookup_hash(HashKind::Challenge, "c"), again.lookup_hash(HashKind::Challenge, "c"));
        let explicit = load_server_key(Some(&path), None, true, false).unwrap().keys;
        assert_eq!(
            keys.lookup_hash(HashKind::Challenge, "c"),
            explicit.lookup_hash(HashKind::Challenge, "c")
        );
    }

    #[test]
    fn postgres_needs_a_key_file_and_bad_files_are_refused() {
        let err = load_server_key(None, None, true, true).err().unwrap().to_string();
        assert!(err.contains("--key-file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "not hex").unwrap();
        set_mode(&bad, 0o600);
        assert!(load_server_key(Some(&bad), None, false, true).is_err());
        let missing = dir.path().join("missing.key");
        assert!(load_server_key(Some(&missing), None, false, true).is_err(), "a given key file must exist");
        let db = dir.path().join("known.db");
        let refused = load_server_key(None, Some(&db), false, false).err().unwrap().to_string();
        assert!(refused.contains("known.db.key is missing"), "{refused}");
        assert!(!default_key_path(&db).exists(), "no key file is made for a database that has a key");
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(not(unix))]
    fn set_mode(_path: &Path, _mode: u32) {}

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            set_mode(&path, mode);
            let refused = load_server_key(Some(&path), None, true, false).err().unwrap().to_string();
            assert!(refused.contains(&format!("chmod 600 {}", path.display())), "{refused}");
            assert!(refused.contains(&format!("mode {mode:03o}")), "{refused}");
        }
        for mode in [0o600, 0o400] {
            set_mode(&path, mode);
            assert!(load_server_key(Some(&path), None, true, false).is_ok(), "{mode:o}");
        }
    }

    #[test]
    fn login_throttle_subjects_are_keyed_and_hide_the_username() {
        let keys = Keys::from_master(&[1; 32]);
        let subject = keys.login_throttle_subject("192.0.2.1", "alice");
        assert_eq!(subject.len(), 64);
        assert!(!subject.contains("alice"));
        assert_ne!(subject, keys.login_throttle_subject("192.0.2.2", "alice"));
        assert_ne!(subject, keys.login_throttle_subject("192.0.2.1", "alicf"));
        assert_ne!(subject, Keys::from_master(&[2; 32]).login_throttle_subject("192.0.2.1", "alice"));
    }
}
