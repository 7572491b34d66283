-- 0013: several bot processes share one database (PostgreSQL). A job records the server it works
-- for (`guild_id`: run by the process holding that server's shard; NULL: by any process), which
-- process claimed it (`claimed_by`) and until when the claim holds (`lease_until`, unix ms): a
-- process renews its leases while it runs, and a job whose lease ran out (its process died) is
-- claimed again by another. `processes` is each process's heartbeat, for `python -m bot status`
-- and for knowing which shards have a live process.
ALTER TABLE jobs ADD COLUMN guild_id INTEGER;
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE state = 'running';

UPDATE jobs SET guild_id = json_extract(payload, '$.guild_id') WHERE kind = 'thread.open';
UPDATE jobs SET guild_id = (SELECT guild_id FROM feeds WHERE feeds.id = json_extract(jobs.payload, '$.feed_id'))
    WHERE kind = 'feed.poll';
UPDATE jobs SET guild_id = (SELECT guild_id FROM watch_parties WHERE watch_parties.id = json_extract(jobs.payload, '$.party_id'))
    WHERE kind IN ('party.remind', 'party.start', 'party.end');

CREATE TABLE processes (
    name          TEXT    PRIMARY KEY,     -- PROCESS_NAME, else made from the shards it runs
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    shard_ids     TEXT    NOT NULL,        -- e.g. "0,1" ('' when not sharded: every server)
    shard_count   INTEGER NOT NULL,        -- 1 when not sharded
    started_at    INTEGER NOT NULL,        -- unix milliseconds, UTC
    heartbeat_at  INTEGER NOT NULL,
    latency_ms    INTEGER,                 -- the gateway's heartbeat latency, when connected
    running       INTEGER NOT NULL DEFAULT 0,  -- jobs running in it at the last heartbeat
    stopped_at    INTEGER                  -- set when it stopped cleanly
);
