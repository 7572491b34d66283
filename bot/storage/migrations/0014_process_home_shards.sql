-- 0014: the shards a process was started for (SHARD_IDS), beside those it runs now (`shard_ids`):
-- a live process may take over the shards of a process that died, and hands them back when that
-- process (or another started for them) comes back.
ALTER TABLE processes ADD COLUMN configured TEXT NOT NULL DEFAULT '';
