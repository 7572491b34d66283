-- The live catalog: every pack compiled into the database, so the bot starts without re-reading
-- unchanged packs, and imports from TVmaze change the catalog while it runs.
--   origin 'file':   a TOML pack under CATALOG_PATH (the file is the source; `source` is its path)
--   origin 'tvmaze': imported with /catalog add; the pack's TOML text lives here (`text`)
CREATE TABLE catalog_packs (
    slug            TEXT    PRIMARY KEY,
    origin          TEXT    NOT NULL CHECK (origin IN ('file', 'tvmaze')),
    source          TEXT    NOT NULL,
    digest          TEXT    NOT NULL,          -- of the pack text and the compiler's version
    text            TEXT,                      -- the TOML pack, for imported dramas
    compiled        BLOB    NOT NULL,          -- the validated drama and its people, ready to use
    tvmaze_id       INTEGER UNIQUE,
    status          TEXT    NOT NULL DEFAULT '', -- TVmaze's status: Running, To Be Determined, Ended …
    tvmaze_updated  INTEGER NOT NULL DEFAULT 0,  -- TVmaze's `updated` stamp of the show when last fetched
    added_by_guild  INTEGER,
    added_by_user   INTEGER,
    added_at        INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX catalog_packs_origin ON catalog_packs (origin);

-- The search index built from a given set of packs (one row): reused while the set is unchanged.
CREATE TABLE catalog_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    manifest        TEXT    NOT NULL,
    blob            BLOB    NOT NULL,
    built_at        INTEGER NOT NULL
);
