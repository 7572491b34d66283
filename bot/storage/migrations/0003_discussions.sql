-- 0003: followed dramas, one discussion thread per (server, drama, episode), per-drama index
-- messages, and members' episode ratings.
CREATE TABLE follows (
    guild_id    INTEGER NOT NULL,
    drama       TEXT    NOT NULL,
    followed_at INTEGER NOT NULL,            -- unix milliseconds, UTC
    PRIMARY KEY (guild_id, drama)
);

CREATE TABLE episode_threads (
    guild_id            INTEGER NOT NULL,
    drama               TEXT    NOT NULL,
    episode             INTEGER NOT NULL,
    parent_id           INTEGER NOT NULL,    -- the text or forum channel
    thread_id           INTEGER,             -- NULL while opening (claimed, not yet created)
    starter_message_id  INTEGER,
    announcement_id     INTEGER,
    opened_at           INTEGER,
    PRIMARY KEY (guild_id, drama, episode)
);

CREATE TABLE drama_index (
    guild_id    INTEGER NOT NULL,
    drama       TEXT    NOT NULL,
    channel_id  INTEGER NOT NULL,            -- where the index message lives (a thread for forums)
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, drama)
);

CREATE TABLE ratings (
    guild_id    INTEGER NOT NULL,
    drama       TEXT    NOT NULL,
    episode     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, drama, episode, user_id)
);
