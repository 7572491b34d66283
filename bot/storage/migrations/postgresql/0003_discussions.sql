-- 0003 for PostgreSQL: BIGINT ids and stamps.
CREATE TABLE follows (
    guild_id    BIGINT  NOT NULL,
    drama       TEXT    NOT NULL,
    followed_at BIGINT  NOT NULL,            -- unix milliseconds, UTC
    PRIMARY KEY (guild_id, drama)
);

CREATE TABLE episode_threads (
    guild_id            BIGINT  NOT NULL,
    drama               TEXT    NOT NULL,
    episode             INTEGER NOT NULL,
    parent_id           BIGINT  NOT NULL,    -- the text or forum channel
    thread_id           BIGINT,              -- NULL while opening (claimed, not yet created)
    starter_message_id  BIGINT,
    announcement_id     BIGINT,
    opened_at           BIGINT,
    PRIMARY KEY (guild_id, drama, episode)
);

CREATE TABLE drama_index (
    guild_id    BIGINT  NOT NULL,
    drama       TEXT    NOT NULL,
    channel_id  BIGINT  NOT NULL,            -- where the index message lives (a thread for forums)
    message_id  BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, drama)
);

CREATE TABLE ratings (
    guild_id    BIGINT  NOT NULL,
    drama       TEXT    NOT NULL,
    episode     INTEGER NOT NULL,
    user_id     BIGINT  NOT NULL,
    stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, drama, episode, user_id)
);
