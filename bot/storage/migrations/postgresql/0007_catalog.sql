-- 0007 for PostgreSQL: BYTEA for SQLite's BLOB, BIGINT ids and stamps.
CREATE TABLE catalog_packs (
    slug            TEXT    PRIMARY KEY,
    origin          TEXT    NOT NULL CHECK (origin IN ('file', 'tvmaze')),
    source          TEXT    NOT NULL,
    digest          TEXT    NOT NULL,          -- of the pack text and the compiler's version
    text            TEXT,                      -- the TOML pack, for imported dramas
    compiled        BYTEA   NOT NULL,          -- the validated drama and its people, ready to use
    tvmaze_id       BIGINT  UNIQUE,
    status          TEXT    NOT NULL DEFAULT '', -- TVmaze's status: Running, To Be Determined, Ended …
    tvmaze_updated  BIGINT  NOT NULL DEFAULT 0,  -- TVmaze's `updated` stamp of the show when last fetched
    added_by_guild  BIGINT,
    added_by_user   BIGINT,
    added_at        BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX catalog_packs_origin ON catalog_packs (origin);

-- The search index built from a given set of packs (one row): reused while the set is unchanged.
CREATE TABLE catalog_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    manifest        TEXT    NOT NULL,
    blob            BYTEA   NOT NULL,
    built_at        BIGINT  NOT NULL
);
