"""The live catalog's rows: every pack compiled (files and TVmaze imports), and the search index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.storage.database import Database, Row


@dataclass(frozen=True, kw_only=True)
class PackRow:
    slug: str
    origin: str  # "file" | "tvmaze"
    source: str  # the file's path, or the TVmaze show's URL
    digest: str
    text: str | None  # the TOML text of an imported pack
    compiled: bytes
    tvmaze_id: int | None = None
    status: str = ""
    tvmaze_updated: int = 0
    added_by_guild: int | None = None
    added_by_user: int | None = None
    file_stat: str = ""  # a file pack's "compiler version:mtime ns:size" when it was compiled
    # The drama's synopses (bot.catalog.texts), written with the row; None: those stored stay.
    texts: list[tuple[str, str, str]] | None = None


_COLUMNS = (
    "slug, origin, source, digest, text, compiled, tvmaze_id, status, tvmaze_updated, added_by_guild, added_by_user, "
    "file_stat"
)
_HEAD_COLUMNS = _COLUMNS.replace(" compiled,", "")  # the same but `compiled`


def _row(row: Row, compiled: bytes | None = None) -> PackRow:
    return PackRow(
        slug=row["slug"],
        origin=row["origin"],
        source=row["source"],
        digest=row["digest"],
        text=row["text"],
        compiled=bytes(row["compiled"]) if compiled is None else compiled,
        tvmaze_id=row["tvmaze_id"],
        status=row["status"],
        tvmaze_updated=row["tvmaze_updated"],
        added_by_guild=row["added_by_guild"],
        added_by_user=row["added_by_user"],
        file_stat=row["file_stat"],
    )


class CatalogRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def heads(self) -> list[PackRow]:
        """Every row without its compiled bytes (`compiled` is empty): those are read by `compiled`."""
        rows = await self._db.fetchall(f"SELECT {_HEAD_COLUMNS} FROM catalog_packs ORDER BY slug")  # noqa: S608
        return [_row(r, b"") for r in rows]

    async def compiled(self, page: int = 100) -> AsyncIterator[list[tuple[str, bytes]]]:
        """Every row's (slug, compiled bytes), `page` rows at a time: the whole catalog's bytes are
        never held at once (13 MB at 2,000 generated dramas; 40 MB when they held their synopses)."""
        after = ""
        while True:
            rows = await self._db.fetchall(
                "SELECT slug, compiled FROM catalog_packs WHERE slug > ? ORDER BY slug LIMIT ?", (after, page)
            )
            if not rows:
                return
            yield [(r["slug"], bytes(r["compiled"])) for r in rows]
            after = rows[-1]["slug"]

    async def statuses(self) -> list[tuple[str, str]]:
        """(slug, TVmaze status) of every imported drama, without reading the compiled packs."""
        rows = await self._db.fetchall("SELECT slug, status FROM catalog_packs WHERE origin = 'tvmaze' ORDER BY slug")
        return [(r["slug"], r["status"]) for r in rows]

    async def imported(self) -> dict[str, str]:
        """slug → digest of every imported drama: what another process compares with its own."""
        rows = await self._db.fetchall("SELECT slug, digest FROM catalog_packs WHERE origin = 'tvmaze'")
        return {r["slug"]: r["digest"] for r in rows}

    async def get(self, slug: str) -> PackRow | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM catalog_packs WHERE slug = ?", (slug,))  # noqa: S608
        return _row(row) if row else None

    async def by_tvmaze(self, tvmaze_id: int) -> PackRow | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM catalog_packs WHERE tvmaze_id = ?",  # noqa: S608 - a constant column list
            (tvmaze_id,),
        )
        return _row(row) if row else None

    async def save(self, rows: list[PackRow]) -> None:
        """Insert or replace rows (one transaction)."""
        now = self._db.now_ms()
        async with self._db.transaction():
            for r in rows:
                await self._db.execute(
                    "INSERT INTO catalog_packs (slug, origin, source, digest, text, compiled, tvmaze_id, status, "
                    "tvmaze_updated, added_by_guild, added_by_user, file_stat, added_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (slug) DO UPDATE SET origin = excluded.origin, source = excluded.source, "
                    "digest = excluded.digest, text = excluded.text, compiled = excluded.compiled, "
                    "tvmaze_id = excluded.tvmaze_id, status = excluded.status, "
                    "tvmaze_updated = excluded.tvmaze_updated, file_stat = excluded.file_stat, "
                    "updated_at = excluded.updated_at",
                    (
                        r.slug,
                        r.origin,
                        r.source,
                        r.digest,
                        r.text,
                        r.compiled,
                        r.tvmaze_id,
                        r.status,
                        r.tvmaze_updated,
                        r.added_by_guild,
                        r.added_by_user,
                        r.file_stat,
                        now,
                        now,
                    ),
                )
                if r.texts is not None:
                    await self._put_texts(r.slug, r.texts)

    async def save_texts(self, dramas: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        """Replace dramas' texts (one transaction); `save` writes them with the compiled row."""
        async with self._db.transaction():
            for drama, texts in dramas:
                await self._put_texts(drama, texts)

    async def _put_texts(self, drama: str, texts: list[tuple[str, str, str]]) -> None:
        await self._db.execute("DELETE FROM catalog_texts WHERE drama = ?", (drama,))
        await self._db.executemany(
            "INSERT INTO catalog_texts (drama, part, body, extra) VALUES (?, ?, ?, ?)",
            [(drama, part, body, extra) for part, body, extra in texts],
        )

    async def delete(self, slugs: list[str]) -> None:
        async with self._db.transaction():
            for slug in slugs:
                await self._db.execute("DELETE FROM catalog_packs WHERE slug = ?", (slug,))
                await self._db.execute("DELETE FROM catalog_texts WHERE drama = ?", (slug,))

    async def texts(self, drama: str, part: str) -> tuple[str, str]:
        """A part of a drama's texts (bot.catalog.texts): (body, extra), empty when none is stored."""
        row = await self._db.fetchone(
            "SELECT body, extra FROM catalog_texts WHERE drama = ? AND part = ?", (drama, part)
        )
        return (row["body"], row["extra"]) if row else ("", "")

    async def index(self) -> tuple[str, bytes] | None:
        row = await self._db.fetchone("SELECT manifest, blob FROM catalog_index WHERE id = 1")
        return (row["manifest"], bytes(row["blob"])) if row else None

    async def save_index(self, manifest: str, blob: bytes) -> None:
        await self._db.execute(
            "INSERT INTO catalog_index (id, manifest, blob, built_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET manifest = excluded.manifest, blob = excluded.blob, "
            "built_at = excluded.built_at",
            (manifest, blob, self._db.now_ms()),
        )
