-- Times are Unix seconds (UTC). Secrets never appear in plain text: see docs/server.md.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- AES-256-GCM nonce || ciphertext of the active TOTP secret; NULL while 2FA is off.
    totp_secret BYTEA,
    totp_enabled_at BIGINT,
    -- Highest TOTP time step accepted so far; codes for this step or earlier are refused.
    last_totp_step BIGINT,
    pending_secret BYTEA,
    pending_expires_at BIGINT
);

CREATE TABLE backup_codes (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE challenges (
    challenge_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

-- Consecutive failures per (scope, subject); see docs/server.md for the scopes.
CREATE TABLE throttles (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (scope, subject)
);
