-- 0005: recap feeds, their items (claimed before posting, marked sent after: exactly once), and
-- the recap links /recap lists.
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    url             TEXT    NOT NULL,
    drama           TEXT,                     -- only items about this drama, when set
    channel_id      INTEGER,                  -- where to post when the episode has no thread
    title           TEXT,                     -- the feed's own title, once known
    etag            TEXT,
    last_modified   TEXT,
    state           TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
    disabled_reason TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,   -- consecutive
    primed          INTEGER NOT NULL DEFAULT 0,   -- the first poll (which posts nothing) is done
    last_success    INTEGER,
    last_error      TEXT,
    last_error_at   INTEGER,
    next_poll       INTEGER,
    items_posted    INTEGER NOT NULL DEFAULT 0,
    items_unmatched INTEGER NOT NULL DEFAULT 0,
    created_by      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (guild_id, url)
);

CREATE TABLE feed_items (
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    item_key    TEXT    NOT NULL,             -- guid, else link, else a hash of title and link
    state       TEXT    NOT NULL CHECK (state IN ('seen', 'skipped', 'claimed', 'sent')),
    title       TEXT    NOT NULL DEFAULT '',
    link        TEXT    NOT NULL DEFAULT '',
    author      TEXT    NOT NULL DEFAULT '',
    published   INTEGER,                      -- unix milliseconds, UTC
    excerpt     TEXT    NOT NULL DEFAULT '',
    drama       TEXT,
    first_ep    INTEGER,
    last_ep     INTEGER,
    message_id  INTEGER,
    claimed_at  INTEGER,
    sent_at     INTEGER,
    PRIMARY KEY (feed_id, item_key)
);
CREATE INDEX feed_items_claimed ON feed_items (state) WHERE state = 'claimed';

CREATE TABLE recap_links (
    guild_id    INTEGER NOT NULL,
    drama       TEXT    NOT NULL,
    episode     INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, drama, episode, url)
);
