-- 0002 for PostgreSQL: BIGINT ids and stamps.
CREATE TABLE progress (
    guild_id   BIGINT  NOT NULL,
    user_id    BIGINT  NOT NULL,
    drama      TEXT    NOT NULL,          -- drama slug
    episode    INTEGER NOT NULL CHECK (episode >= 0),
    updated_at BIGINT  NOT NULL,          -- unix milliseconds, UTC
    PRIMARY KEY (guild_id, user_id, drama)
);
