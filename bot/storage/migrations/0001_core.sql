-- 0001: per-server settings and the durable job queue.
-- Settings are stored as key/value rows; defaults live in bot/storage/guild_settings.py,
-- so a server with no rows reads the defaults and adding a setting needs no migration.
CREATE TABLE guild_settings (
    guild_id   INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,           -- JSON
    updated_at INTEGER NOT NULL,           -- unix milliseconds, UTC
    PRIMARY KEY (guild_id, key)
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL DEFAULT '{}',   -- JSON
    due_at      INTEGER NOT NULL,                -- unix milliseconds, UTC
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed', 'missed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    dedupe_key  TEXT,                            -- at most one live job per key
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX jobs_pending_due ON jobs (state, due_at, id);
CREATE UNIQUE INDEX jobs_live_dedupe ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('pending', 'running');
