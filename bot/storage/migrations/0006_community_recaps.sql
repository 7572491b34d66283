-- 0006: recaps written by members, waiting for (or past) moderator review.
CREATE TABLE community_recaps (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    drama           TEXT    NOT NULL,
    episode         INTEGER NOT NULL,
    author_id       INTEGER NOT NULL,
    author_name     TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    reason          TEXT,
    reviewer_id     INTEGER,
    created_at      INTEGER NOT NULL,
    reviewed_at     INTEGER,
    author_notified INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX community_recaps_queue ON community_recaps (guild_id, state, id);
CREATE INDEX community_recaps_episode ON community_recaps (guild_id, drama, episode, state);
