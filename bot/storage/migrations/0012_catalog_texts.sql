-- 0012: episode synopses (and TVmaze's summaries), read when an answer shows them rather than
-- held in memory (bot/catalog/texts.py). Written with the pack's compiled row, which then holds the
-- drama without them.
--   part 'e:<number>'   body: the synopsis, extra: TVmaze's summary
CREATE TABLE catalog_texts (
    drama           TEXT    NOT NULL,
    part            TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',
    extra           TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (drama, part)
) WITHOUT ROWID;
