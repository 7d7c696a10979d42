-- Issue 7, hardening. See docs/server.md ("Throttling", "The hard lock", "The server key").

-- Login counts are now kept per keyed hash of (client address, username), never under the raw username;
-- the old rows held raw usernames (and only failure counts): drop them.
DELETE FROM throttles WHERE scope = 'login';
-- Time of the last failure counted: a login count idle for 12 hours starts again, and rows idle for a
-- day are purged.
ALTER TABLE throttles ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX throttles_updated_at ON throttles (updated_at);

-- Consecutive failed second factors at sign-in; at 100 the account's second factor is locked until
-- `usercenter user unlock`.
ALTER TABLE users ADD COLUMN second_factor_failures INTEGER NOT NULL DEFAULT 0;

-- A value derived from the server key (never the key): a server started with another key refuses to run.
CREATE TABLE server_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    check_value BLOB NOT NULL
);
