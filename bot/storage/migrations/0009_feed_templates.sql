-- 0009: per-feed post template and title filters; unmatched items can be assigned by hand or
-- dismissed, filtered items are kept apart. feed_items gains an id (select values carry it) and the
-- states 'dismissed' and 'filtered': SQLite can't change a CHECK, so the table is rebuilt.
ALTER TABLE feeds ADD COLUMN template TEXT;            -- the post's message text, placeholders {title} …
ALTER TABLE feeds ADD COLUMN include_words TEXT;       -- comma-separated; a title must contain one
ALTER TABLE feeds ADD COLUMN exclude_words TEXT;       -- comma-separated; a title must contain none
ALTER TABLE feeds ADD COLUMN items_filtered INTEGER NOT NULL DEFAULT 0;

CREATE TABLE feed_items_new (
    id          INTEGER PRIMARY KEY,
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    item_key    TEXT    NOT NULL,
    state       TEXT    NOT NULL
                CHECK (state IN ('seen', 'skipped', 'claimed', 'sent', 'dismissed', 'filtered')),
    title       TEXT    NOT NULL DEFAULT '',
    link        TEXT    NOT NULL DEFAULT '',
    author      TEXT    NOT NULL DEFAULT '',
    published   INTEGER,
    excerpt     TEXT    NOT NULL DEFAULT '',
    drama       TEXT,
    first_ep    INTEGER,
    last_ep     INTEGER,
    message_id  INTEGER,
    claimed_at  INTEGER,
    sent_at     INTEGER,
    UNIQUE (feed_id, item_key)
);
INSERT INTO feed_items_new (feed_id, item_key, state, title, link, author, published, excerpt, drama, first_ep,
                            last_ep, message_id, claimed_at, sent_at)
    SELECT feed_id, item_key, state, title, link, author, published, excerpt, drama, first_ep, last_ep, message_id,
           claimed_at, sent_at
    FROM feed_items ORDER BY rowid;
DROP TABLE feed_items;
ALTER TABLE feed_items_new RENAME TO feed_items;
CREATE INDEX feed_items_claimed ON feed_items (state) WHERE state = 'claimed';
CREATE INDEX feed_items_skipped ON feed_items (feed_id, published) WHERE state = 'skipped';
