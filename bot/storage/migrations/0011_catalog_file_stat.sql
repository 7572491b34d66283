-- 0011: a pack file's modification time and size (with the compiler's version) when it was last
-- compiled: a start reads and hashes again only the files whose stamp changed.
ALTER TABLE catalog_packs ADD COLUMN file_stat TEXT NOT NULL DEFAULT '';
