-- 0002: each member's watched episode per drama (the spoiler shield), per server.
CREATE TABLE progress (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    drama      TEXT    NOT NULL,          -- drama slug
    episode    INTEGER NOT NULL CHECK (episode >= 0),
    updated_at INTEGER NOT NULL,          -- unix milliseconds, UTC
    PRIMARY KEY (guild_id, user_id, drama)
);
