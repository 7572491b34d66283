-- 0012 for PostgreSQL: the same table; WITHOUT ROWID is SQLite's and has no meaning here.
CREATE TABLE catalog_texts (
    drama           TEXT    NOT NULL,
    part            TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',
    extra           TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (drama, part)
);
