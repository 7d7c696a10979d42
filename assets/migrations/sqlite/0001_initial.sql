-- Times are Unix seconds (UTC). Secrets never appear in plain text: see docs/server.md.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- AES-256-GCM nonce || ciphertext of the active TOTP secret; NULL while 2FA is off.
    totp_secret BLOB,
    totp_enabled_at INTEGER,
    -- Highest TOTP time step accepted so far; codes for this step or earlier are refused.
    last_totp_step INTEGER,
    pending_secret BLOB,
    pending_expires_at INTEGER
);

CREATE TABLE backup_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE challenges (
    challenge_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

-- Consecutive failures per (scope, subject); see docs/server.md for the scopes.
CREATE TABLE throttles (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER,
    PRIMARY KEY (scope, subject)
);
