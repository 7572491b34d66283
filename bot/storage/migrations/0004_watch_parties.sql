-- 0004: watch parties, RSVPs and the reminders already sent (so none is ever sent twice).
CREATE TABLE watch_parties (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    drama            TEXT    NOT NULL,
    first_episode    INTEGER NOT NULL,
    last_episode     INTEGER NOT NULL,
    start_at         INTEGER NOT NULL,        -- unix milliseconds, UTC
    end_at           INTEGER NOT NULL,
    timezone         TEXT    NOT NULL,        -- the zone the start was entered in
    channel_id       INTEGER,                 -- voice/stage channel; NULL for an external location
    location         TEXT,                    -- external location text
    repeat           TEXT    NOT NULL DEFAULT 'none' CHECK (repeat IN ('none', 'weekly')),
    reminders        TEXT    NOT NULL,        -- minutes before the start, comma-separated
    note             TEXT    NOT NULL DEFAULT '',
    event_id         INTEGER,                 -- the Discord scheduled event, when the bot could create it
    announce_channel INTEGER,
    announcement_id  INTEGER,
    state            TEXT    NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'started', 'cancelled')),
    created_by       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX watch_parties_guild ON watch_parties (guild_id, state, start_at);

CREATE TABLE rsvps (
    party_id    INTEGER NOT NULL REFERENCES watch_parties (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('going', 'maybe', 'cant')),
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (party_id, user_id)
);

CREATE TABLE party_posts (
    party_id    INTEGER NOT NULL REFERENCES watch_parties (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,             -- 'remind:MINUTES' or 'start'
    claimed_at  INTEGER NOT NULL,
    message_id  INTEGER,                      -- set once sent
    PRIMARY KEY (party_id, kind)
);
