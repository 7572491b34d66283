-- 0013 for PostgreSQL: BIGINT ids and stamps; PostgreSQL's JSON operators where SQLite has json_extract.
ALTER TABLE jobs ADD COLUMN guild_id BIGINT;
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE state = 'running';

UPDATE jobs SET guild_id = (payload::json ->> 'guild_id')::bigint WHERE kind = 'thread.open';
UPDATE jobs SET guild_id = (SELECT guild_id FROM feeds WHERE feeds.id = (jobs.payload::json ->> 'feed_id')::bigint)
    WHERE kind = 'feed.poll';
UPDATE jobs SET guild_id = (
        SELECT guild_id FROM watch_parties WHERE watch_parties.id = (jobs.payload::json ->> 'party_id')::bigint)
    WHERE kind IN ('party.remind', 'party.start', 'party.end');

CREATE TABLE processes (
    name          TEXT    PRIMARY KEY,
    host          TEXT    NOT NULL,
    pid           BIGINT  NOT NULL,
    shard_ids     TEXT    NOT NULL,
    shard_count   INTEGER NOT NULL,
    started_at    BIGINT  NOT NULL,
    heartbeat_at  BIGINT  NOT NULL,
    latency_ms    INTEGER,
    running       INTEGER NOT NULL DEFAULT 0,
    stopped_at    BIGINT
);
