-- 0012: the catalog's long texts, read when an answer shows them rather than held in memory:
-- a drama's premise, each episode's synopsis (and TVmaze's summary), each character's description
-- and facts. Written with the pack's compiled row (which then holds the drama without them).
--   part 'drama'           body: the premise
--   part 'e:<number>'      body: the synopsis, extra: TVmaze's summary
--   part 'c:<character>'   body: the description, extra: the facts, as JSON [[episode, text], …]
CREATE TABLE catalog_texts (
    drama           TEXT    NOT NULL,
    part            TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',
    extra           TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (drama, part)
) WITHOUT ROWID;
