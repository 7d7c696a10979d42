-- Issue 8: security events, their delivery outbox, sessions a person can see and end, and the workspace
-- policy. See docs/server.md ("Security events", "Sessions", "The policy").

-- What happened to an account, kept --events-retention-days (90 by default). `details` is the JSON object
-- of the API's event; `address` and `user_agent` are those of the request (NULL for an administrator's
-- command). Never a secret, a code or a token.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    details TEXT NOT NULL,
    address TEXT,
    user_agent TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX events_user_id ON events (user_id, id);
CREATE INDEX events_at ON events (at);

-- The transactional outbox: every event is copied here by the trigger below, in the statement (and so the
-- transaction) that records it; a running server claims rows for a lease, delivers them to the events log
-- and the webhook, and deletes them. A self-contained copy, so deleting an account or the retention purge
-- never loses an event still on its way.
CREATE TABLE outbox (
    event_id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    type TEXT NOT NULL,
    details TEXT NOT NULL,
    address TEXT,
    user_agent TEXT,
    at BIGINT NOT NULL,
    -- 1 once the events log has it, so a webhook retry does not log it again.
    logged BIGINT NOT NULL DEFAULT 0,
    -- Failed webhook deliveries so far.
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A server delivering this row holds it until then; after a crash another one takes it over.
    claimed_until BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

CREATE FUNCTION events_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_id, username, type, details, address, user_agent, at, next_attempt_at)
    VALUES (NEW.id, (SELECT username FROM users WHERE id = NEW.user_id), NEW.type, NEW.details, NEW.address,
            NEW.user_agent, NEW.at, NEW.at);
    RETURN NULL;
END
$$;
CREATE TRIGGER events_to_outbox AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_to_outbox();

-- Sessions get a public id (random, not derived from the token) and what the sessions list shows.
-- Sessions from before keep working: they get an id, and their start is taken as 12 hours before their end.
ALTER TABLE sessions ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET public_id = replace(gen_random_uuid()::text, '-', ''), created_at = expires_at - 43200,
    last_seen_at = expires_at - 43200;
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);

-- The workspace policy: one row, read with every signed-in request, so a change reaches every server at
-- its next request.
CREATE TABLE policy (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    two_factor_required BIGINT NOT NULL
);
INSERT INTO policy (id, two_factor_required) VALUES (1, 0);
