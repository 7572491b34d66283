"""The live catalog: compiled packs in the database, dramas added and refreshed from TVmaze while
the bot runs, in every server of this instance, with no restart.

- At start (:func:`open_catalog`), only packs whose text changed are parsed again; the others come
  compiled from the database, and the search index is reused while the set of packs is the same.
- `/catalog add` searches TVmaze and offers a pick list (never a silent best match); the chosen show
  is fetched, merged (the same code path as `python -m bot catalog import tvmaze`), validated,
  stored in the database, and swapped into the lookups: `/recap`, `/who`, `/drama`, autocomplete
  and `/follow` see it at once.
- Every imported drama that is still airing is refreshed on a schedule (daily; hourly in the day
  before an episode; TVmaze's `/updates/shows` skips unchanged shows). A moved episode moves its
  followed thread opening, and the moderators of every server that follows it are told.
- One change at a time (a lock); two concurrent adds of one show give one drama.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.catalog import Catalog, CatalogError, CatalogIndex, Drama
from bot.catalog.loader import Unit, assemble, parse_text
from bot.catalog.search import LayeredIndex, SearchIndex
from bot.catalog.store import (
    Stored,
    changed_since,
    compile_catalog,
    digest,
    manifest,
    overlay_catalog,
    pack_index,
    pack_unit,
    same_compiler,
    split_unit,
    unpack_index,
    unpack_unit,
    unpack_units,
)
from bot.catalog.tvmaze import (
    Candidate,
    ImportFailure,
    Merged,
    ShowData,
    TVmazeClient,
    fetch_show_by_id,
    merge_show,
    pack_of,
    search_shows,
    slugify,
    updated_since,
)
from bot.core import Core, CoreService
from bot.discussions import Discussions
from bot.errors import NotFound, UserError
from bot.notices import ModNotices
from bot.scheduling import RetryLater
from bot.service import JobKind
from bot.settings import Settings
from bot.storage.catalog import CatalogRepo, PackRow
from bot.storage.database import Database
from bot.storage.jobs import Job
from bot.text import escape, plural

log = logging.getLogger(__name__)

REFRESH = "catalog.refresh"
SYNC_SECONDS = 1.0  # how often a process sharing PostgreSQL looks for the others' catalog changes
ADDS_PER_HOUR = 5  # per server
AIRING = ("Running", "To Be Determined", "In Development")
IMPORTED = Path("imported")  # the name imported packs go by in messages ("imported/slug.toml")
HOW = "`/catalog add` (Dramawatch, from Discord)"

Progress = Callable[[str], Awaitable[None]]


async def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Opened:
    catalog: Catalog
    index: SearchIndex  # the index to search now
    units: dict[str, tuple[Unit, str]]
    parsed: int  # packs parsed at this start (the rest came compiled)
    index_built: bool  # False: the stored index was reused (with an overlay of the changed packs)
    base: CatalogIndex  # the whole-catalog index it rests on
    layered: set[str]  # slugs in the overlay (changed since `base` was built); empty: `index` is `base`


async def open_catalog(db: Database, root: Path) -> Opened:
    """Load the catalog for a start: parse only changed packs, reuse the stored index when it fits.
    Raises CatalogError (every problem named) when a pack is invalid."""
    repo = CatalogRepo(db)
    # The stored index first: its bytes are let go before the dramas are read, which then reuse
    # that memory (read after them, the bytes would add to the peak). Whether it fits the packs is
    # known once they are compiled; when it doesn't, it is dropped.
    held = await repo.index()
    stored_manifest = held[0] if held and same_compiler(held[0]) else None  # another version's: not read
    base = await asyncio.to_thread(unpack_index, held[1]) if held and stored_manifest is not None else None
    del held
    rows = await repo.heads()
    stored = [Stored(r.slug, r.origin, r.source, r.digest, r.text, r.file_stat) for r in rows]
    read: dict[str, Unit] = {}
    async for page in repo.compiled():  # a page at a time: never the whole catalog's bytes at once
        read.update(await asyncio.to_thread(unpack_units, page))
    compiled = await asyncio.to_thread(compile_catalog, root, stored, read)
    del read  # the units not used (packs changed since) go now
    if compiled.problems:
        raise CatalogError(compiled.problems)
    by_slug = {r.slug: r for r in rows}
    fresh = await asyncio.to_thread(lambda: [pack_unit(s.unit) for s in compiled.save])
    saved = []
    for s, blob in zip(compiled.save, fresh, strict=True):
        assert s.unit.drama is not None
        old = by_slug.get(s.unit.drama.slug)
        saved.append(
            PackRow(
                slug=s.unit.drama.slug,
                origin=s.origin,
                source=s.source,
                digest=s.digest,
                text=old.text if old is not None and s.origin != "file" else None,
                compiled=blob,
                tvmaze_id=old.tvmaze_id if old is not None else _tvmaze_id(s.unit.drama),
                status=old.status if old is not None else "",
                tvmaze_updated=old.tvmaze_updated if old is not None else 0,
                file_stat=s.stamp,
                texts=s.texts,
            )
        )
    stale = [slug for slug in compiled.drop if slug not in compiled.units]
    if saved:
        await repo.save(saved)
    if stale:
        await repo.delete(stale)
    changed = changed_since(stored_manifest, compiled.units) if stored_manifest is not None else None
    if base is not None and changed is not None and len(changed) <= overlay_limit(len(compiled.catalog)):
        # The stored index, with the few changed packs in a small overlay: ready as fast as a warm
        # start. The live catalog rebuilds the whole index in the background and stores it.
        overlay = await asyncio.to_thread(CatalogIndex, overlay_catalog(compiled.catalog, changed))
        index: SearchIndex = LayeredIndex(base, overlay, frozenset(changed)) if changed else base
        return Opened(compiled.catalog, index, compiled.units, compiled.parsed, False, base, changed)
    base = None  # not usable: let it go before the new one is built
    full = await asyncio.to_thread(CatalogIndex, compiled.catalog)
    await repo.save_index(manifest(compiled.units), await asyncio.to_thread(pack_index, full))
    return Opened(compiled.catalog, full, compiled.units, compiled.parsed, True, full, set())


def overlay_limit(dramas: int) -> int:
    """Above this many changed dramas, the whole index is rebuilt rather than layered."""
    return max(50, dramas // 20)


def _tvmaze_id(drama: Drama) -> int | None:
    value = drama.external_ids.get("tvmaze")
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Entry:
    """A drama in `/catalog list`."""

    drama: Drama
    origin: str  # "file" | "tvmaze"
    status: str


@dataclass(frozen=True)
class Changed:
    drama: Drama
    created: bool
    changes: list[str]
    moved: list[tuple[int, datetime, datetime]]  # (episode, was, now) for episodes that moved


class LiveCatalog(CoreService):
    def __init__(
        self,
        core: Core,
        *,
        config: Settings,
        notices: ModNotices,
        discussions: Discussions,
        units: dict[str, tuple[Unit, str]],
        base: CatalogIndex | None = None,
        layered: set[str] | None = None,
    ) -> None:
        super().__init__(core)
        self._repo = CatalogRepo(core.db)
        self._config = config
        self._notices = notices
        self._discussions = discussions
        self._units = dict(units)
        self._change = asyncio.Lock()
        self._recent: dict[int, deque[float]] = {}
        self._index_task: asyncio.Task[None] | None = None
        self._base = base  # the whole-catalog index the live one rests on
        self._layered: set[str] = set(layered or ())  # dramas in the overlay (changed since `base`)
        self._dirty: set[str] = set()  # dramas changed during a background rebuild
        self._rebuild_task: asyncio.Task[None] | None = None
        # Several processes on one database (PostgreSQL): each applies the others' imports, refreshes
        # and removals (slug → digest of the imported dramas this process holds).
        self._shared = core.db.dialect == "postgresql"
        self._synced: dict[str, str] = {}
        self._sync_task: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def jobs(self) -> Sequence[JobKind]:
        return [JobKind(REFRESH, self.run_refresh, timedelta(days=30))]

    async def start(self) -> None:
        if self._layered:
            self._rebuild_task = asyncio.create_task(self._rebuild(), name="catalog-index-rebuild")
        if self._shared:
            self._synced = await self._repo.imported()
            self._sync_task = asyncio.create_task(self._follow_others(), name="catalog-sync")
        for slug, status in await self._repo.statuses():  # the compiled packs are not read again
            drama = self._lookups.catalog.dramas.get(slug)
            if status in AIRING and drama is not None:
                await self._schedule_refresh(drama, soon=False)

    async def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            await asyncio.gather(self._sync_task, return_exceptions=True)
        if self._rebuild_task is not None:
            self._rebuild_task.cancel()
            await asyncio.gather(self._rebuild_task, return_exceptions=True)
        if self._index_task is not None:
            await asyncio.gather(self._index_task, return_exceptions=True)

    def _client_for_tvmaze(self) -> TVmazeClient:
        return TVmazeClient(self._config.tvmaze_api_base)

    # -- who may --------------------------------------------------------------------------------------
    async def check_manager(self, interaction: discord.Interaction[Any]) -> None:
        """Raise a UserError unless the user may change the catalog (CATALOG_ADD, CATALOG_ADD_GUILDS)."""
        allowed = self._config.catalog_add_guilds
        if allowed and interaction.guild_id not in allowed:
            raise UserError(
                "On this bot, dramas are added to the catalog from another server. Ask whoever hosts the bot."
            )
        if self._config.catalog_add == "owner":
            client = interaction.client
            if not isinstance(client, commands.Bot) or not await client.is_owner(interaction.user):
                raise UserError("On this bot, only its owner adds dramas to the catalog. Ask whoever hosts the bot.")
            return
        if not await self._settings.is_moderator(interaction):
            raise UserError(
                "Adding dramas to the catalog is for moderators: you need **Manage Server** or the server's "
                "moderator role (`/settings modrole`)."
            )

    def _take_turn(self, guild_id: int | None) -> None:
        """At most ADDS_PER_HOUR imports per server per hour (TVmaze is a free service)."""
        if guild_id is None:
            return
        now = time.monotonic()
        recent = self._recent.setdefault(guild_id, deque())
        while recent and now - recent[0] > 3600:
            recent.popleft()
        if len(recent) >= ADDS_PER_HOUR:
            wait = int(3600 - (now - recent[0])) // 60 + 1
            raise UserError(
                f"This server has added or refreshed {ADDS_PER_HOUR} dramas in the last hour; "
                f"try again in {wait} minutes."
            )
        recent.append(now)

    # -- reading ------------------------------------------------------------------------------------
    async def candidates(self, query: str) -> list[Candidate]:
        """TVmaze's shows matching `query`, best first (at most 10)."""
        try:
            async with self._client_for_tvmaze() as client:
                return await search_shows(client, query.strip()[:100])
        except ImportFailure as error:
            raise UserError(f"TVmaze didn't answer the search: {error}. Try again in a minute.") from None

    async def entries(self) -> list[Entry]:
        imported = dict(await self._repo.statuses())
        return [
            Entry(drama, "tvmaze" if drama.slug in imported else "file", imported.get(drama.slug, ""))
            for drama in self._lookups.catalog.dramas.values()
        ]

    # -- changing -----------------------------------------------------------------------------------
    async def add(self, guild_id: int | None, user_id: int, show_id: int, progress: Progress = _quiet) -> Changed:
        """Import TVmaze show `show_id` (or say where it already is). Usable everywhere on return."""
        held = next((d for d in self._lookups.catalog.dramas.values() if _tvmaze_id(d) == show_id), None)
        if held is not None:
            raise UserError(
                f"**{escape(held.title)}** is already in the catalog (`{held.slug}`): `/drama {held.slug}`."
            )
        self._take_turn(guild_id)
        await progress("Fetching the episodes and cast from TVmaze…")
        data = await self._fetch(show_id)
        async with self._change:
            if await self._repo.by_tvmaze(show_id) is not None:  # a concurrent add of the same show won
                drama = next(d for d in self._lookups.catalog.dramas.values() if _tvmaze_id(d) == show_id)
                raise UserError(f"**{escape(drama.title)}** was just added to the catalog (`{drama.slug}`).")
            await progress("Checking the data and building the search index…")
            return await self._apply(data, None, guild_id=guild_id, user_id=user_id)

    async def refresh(self, guild_id: int | None, slug: str, progress: Progress = _quiet) -> Changed:
        """`/catalog refresh`: fetch the imported drama again now."""
        row = await self._imported(slug)
        self._take_turn(guild_id)
        await progress("Fetching the latest episodes and cast from TVmaze…")
        assert row.tvmaze_id is not None
        data = await self._fetch(row.tvmaze_id)
        async with self._change:
            return await self._apply(data, await self._repo.get(slug), guild_id=None, user_id=None)

    async def remove(self, slug: str) -> Drama:
        """`/catalog remove`: only an imported drama that no server follows."""
        row = await self._imported(slug)
        async with self._change:
            drama = self._lookups.catalog.dramas[slug]
            followers = await self._discussions.followers(slug)
            if followers:
                raise UserError(
                    f"**{escape(drama.title)}** is followed by {plural(len(followers), 'server')} of this bot; "
                    "it can only be removed once none follows it (`/follow remove`)."
                )
            await self._scheduler.cancel_key(f"catalog:{slug}")
            self._units.pop(slug, None)
            await self._swap(slug)
            await self._repo.delete([row.slug])
            self._synced.pop(slug, None)
            return drama

    async def _imported(self, slug: str) -> PackRow:
        row = await self._repo.get(slug)
        drama = self._lookups.catalog.dramas.get(slug)
        if drama is None:
            raise NotFound(f"No drama `{slug}` in the catalog; `/catalog list` shows them.")
        if row is None or row.origin != "tvmaze" or row.tvmaze_id is None:
            raise UserError(
                f"**{escape(drama.title)}** comes from a pack file shipped with the bot "
                f"({drama.file or 'data/packs'}); "
                "it changes when that file does (`python -m bot catalog import tvmaze` updates a file)."
            )
        return row

    async def _fetch(self, show_id: int) -> ShowData:
        try:
            async with self._client_for_tvmaze() as client:
                return await fetch_show_by_id(client, show_id)
        except ImportFailure as error:
            raise UserError(f"TVmaze didn't give the show: {error}. Nothing was changed.") from None

    async def _apply(
        self, data: ShowData, row: PackRow | None, *, guild_id: int | None, user_id: int | None
    ) -> Changed:
        """Merge, validate, store and swap in (caller holds the change lock). A bad answer changes nothing."""
        catalog = self._lookups.catalog
        packs = [pack_of(IMPORTED / f"{row.slug}.toml", row.text)] if row is not None and row.text else []
        known = {p.slug: p.name for p in catalog.people.values()}
        taken = set(catalog.dramas) - ({row.slug} if row else set())
        try:
            merged: Merged = await asyncio.to_thread(
                merge_show,
                data,
                packs,
                IMPORTED,
                how=HOW,
                known_people=known,
                slug=None if row is not None else self._free_slug(data, taken),
            )
        except ImportFailure as error:
            raise UserError(f"The data from TVmaze didn't make a valid drama ({error}); nothing was changed.") from None
        parsed, problems = await asyncio.to_thread(parse_text, merged.text, str(merged.target.path))
        if problems or parsed.drama is None:
            raise UserError(f"The data from TVmaze didn't make a valid drama ({'; '.join(problems[:3])}).")
        drama = parsed.drama
        unit, texts = split_unit(parsed)  # as the catalog holds it: synopses apart, characters compressed
        before = catalog.dramas.get(drama.slug)
        key = digest(merged.text)
        blob = await asyncio.to_thread(pack_unit, unit)
        show = data.show
        stored = PackRow(
            slug=drama.slug,
            origin="tvmaze",
            source=str(show.get("url") or merged.credit_url),
            digest=key,
            text=merged.text,
            compiled=blob,
            tvmaze_id=merged.show_id,
            status=str(show.get("status") or ""),
            tvmaze_updated=int(show.get("updated") or 0),
            added_by_guild=row.added_by_guild if row else guild_id,
            added_by_user=row.added_by_user if row else user_id,
            texts=texts,
        )
        previous = self._units.get(drama.slug)
        self._units[drama.slug] = (unit, key)
        try:
            await self._swap(drama.slug, store=lambda: self._repo.save([stored]))
        except BaseException:
            if previous is None:
                self._units.pop(drama.slug, None)
            else:
                self._units[drama.slug] = previous
            raise
        self._synced[drama.slug] = key
        moved = _moved(before, drama)
        await self._after_change(drama, moved)
        return Changed(drama, row is None, merged.changes, moved)

    # -- other processes' changes (PostgreSQL) --------------------------------------------------------
    async def _follow_others(self) -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                await self.sync()
            except Exception:
                log.exception("catalog: could not read the other processes' changes; trying again")

    async def sync(self) -> list[str]:
        """Apply what other processes sharing the database imported, refreshed or removed since this
        process last looked (it looks every SYNC_SECONDS); returns the slugs changed here. Moved
        episodes are told to this process's servers' moderators (the other process told its own)."""
        stored = await self._repo.imported()
        changed: list[str] = []
        async with self._change:
            for slug, key in stored.items():
                if self._synced.get(slug) == key:
                    continue
                row = await self._repo.get(slug)
                unit = await asyncio.to_thread(unpack_unit, row.compiled) if row is not None else None
                if row is None or unit is None or unit.drama is None:
                    continue  # gone meanwhile, or compiled by another version: the next look sees it
                before = self._lookups.catalog.dramas.get(slug)
                self._units[slug] = (unit, row.digest)
                await self._swap(slug)
                self._synced[slug] = row.digest
                changed.append(slug)
                moved = _moved(before, unit.drama) if before is not None else []
                if moved:
                    await self._after_change(unit.drama, moved)
            for slug in [s for s in self._synced if s not in stored]:
                self._units.pop(slug, None)
                self._synced.pop(slug, None)
                await self._swap(slug)
                changed.append(slug)
        if changed:
            log.info("catalog: %s changed in another process; applied here", ", ".join(changed))
        return changed

    def _free_slug(self, data: ShowData, taken: set[str]) -> str | None:
        name = data.show.get("name")
        base = slugify(name) if isinstance(name, str) else ""
        if not base or base not in taken:
            return None  # the importer's own choice is free
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    async def _swap(self, slug: str | None = None, store: Callable[[], Awaitable[None]] | None = None) -> None:
        """Assemble the catalog from the units and swap it in. The search index is the stored base
        plus a small overlay of the dramas changed since (rebuilt here, off the loop, in milliseconds);
        past a few dozen changes the whole index is rebuilt instead. `store` runs once the new
        catalog is known to be consistent and before anyone sees it (its texts are read from there)."""
        if slug is not None:
            self._layered.add(slug)
            self._dirty.add(slug)
        units = dict(self._units)
        catalog, problems = await asyncio.to_thread(assemble, [u for u, _ in units.values()])
        if problems:
            raise UserError(f"That would make the catalog inconsistent ({'; '.join(problems[:3])}); nothing changed.")
        if store is not None:
            await store()  # first: should it fail, nothing in memory has changed
        if self._base is None or len(self._layered) > overlay_limit(len(catalog)):
            self._base = await asyncio.to_thread(CatalogIndex, catalog)
            self._layered = set()
            self._store(units, self._base)
        self._lookups.replace(catalog, await self._layer(catalog))

    async def _layer(self, catalog: Catalog) -> SearchIndex:
        assert self._base is not None
        if not self._layered:
            return self._base
        overlay = await asyncio.to_thread(CatalogIndex, overlay_catalog(catalog, self._layered))
        return LayeredIndex(self._base, overlay, frozenset(self._layered))

    def _store(self, units: dict[str, tuple[Unit, str]], index: CatalogIndex) -> None:
        """Keep the stored index in step for the next start, off the critical path."""
        previous = self._index_task
        self._index_task = asyncio.create_task(self._store_index(units, index, previous), name="catalog-index")

    async def _store_index(
        self, units: dict[str, tuple[Unit, str]], index: CatalogIndex, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await self._repo.save_index(manifest(units), await asyncio.to_thread(pack_index, index))
        except Exception:
            log.exception("could not store the catalog's search index (it is rebuilt at the next start)")

    async def _rebuild(self) -> None:
        """After a start on a layered index: build the whole index in the background, store it and
        swap it in (the dramas changed meanwhile stay in a fresh overlay). It waits for the bot to be
        ready: a build of seconds in a thread would otherwise hold the start back (the GIL is shared)."""
        await self._client.wait_until_ready()
        self._dirty = set()
        units = dict(self._units)
        catalog, _problems = await asyncio.to_thread(assemble, [u for u, _ in units.values()])
        full = await asyncio.to_thread(CatalogIndex, catalog)
        await self._store_index(units, full, None)
        async with self._change:
            self._base = full
            self._layered = set(self._dirty)
            self._lookups.replace(self._lookups.catalog, await self._layer(self._lookups.catalog))
        log.info("catalog: the search index was rebuilt in the background and stored")

    async def _after_change(self, drama: Drama, moved: list[tuple[int, datetime, datetime]]) -> None:
        """Followed servers: their thread openings follow the new dates; their moderators hear of moves."""
        for guild_id in await self._discussions.followers(drama.slug):
            await self._discussions.schedule(guild_id, drama)
            guild = self._client.get_guild(guild_id)
            if guild is None or not moved:
                continue
            lines = [
                f"Episode {n} moved from {discord.utils.format_dt(was, 'f')} to {discord.utils.format_dt(now, 'f')}"
                for n, was, now in moved[:10]
            ]
            more = f"\n… and {len(moved) - 10} more" if len(moved) > 10 else ""
            await self._notices.notify(
                guild,
                f"catalog-moved:{drama.slug}:{hash(tuple(moved))}",
                f"**{escape(drama.title)}** changed on TVmaze; its episode threads open at the new times.\n"
                + "\n".join(lines)
                + more,
            )
        await self._schedule_refresh(drama, soon=False)  # inside the refresh job itself: no-op (it is running)

    # -- refreshing ---------------------------------------------------------------------------------

    async def _next_refresh(self, drama: Drama, *, failed: bool = False) -> timedelta | None:
        """Hourly in the day before an episode (or after a failure), else daily; None once finished."""
        now = self._clock.now()
        upcoming = drama.next_episode(now)
        if upcoming is None and not failed:
            row = await self._repo.get(drama.slug)
            if row is None or row.status not in AIRING:
                return None
        close = upcoming is not None and upcoming.air_at - now <= timedelta(days=1)
        return timedelta(hours=1) if close or failed else timedelta(days=1)

    async def _schedule_refresh(self, drama: Drama, *, soon: bool) -> None:
        delay = await self._next_refresh(drama, failed=soon)
        if delay is None:
            await self._scheduler.cancel_key(f"catalog:{drama.slug}")
            return  # finished: no more polling
        due = self._clock.now() + delay
        await self._scheduler.ensure(REFRESH, {"slug": drama.slug}, due, dedupe_key=f"catalog:{drama.slug}")

    async def run_refresh(self, job: Job) -> None:
        """One drama's refresh; it asks to run again (RetryLater) until the drama has finished."""
        slug = str(job.payload.get("slug", ""))
        row = await self._repo.get(slug)
        drama = self._lookups.catalog.dramas.get(slug)
        if row is None or row.origin != "tvmaze" or row.tvmaze_id is None or drama is None:
            return
        failed = False
        try:
            async with self._client_for_tvmaze() as client:
                updates = await updated_since(client, "week")
                stamp = updates.get(row.tvmaze_id)
                data = (
                    None
                    if stamp is not None and stamp <= row.tvmaze_updated
                    else await fetch_show_by_id(client, row.tvmaze_id)
                )
        except ImportFailure as error:
            log.warning("catalog: refreshing %s failed (%s); trying again in an hour", slug, error)
            data, failed = None, True
        if data is None and not failed:
            log.info("catalog: %s unchanged on TVmaze since the last refresh", slug)
        if data is not None:
            async with self._change:
                try:
                    changed = await self._apply(data, row, guild_id=None, user_id=None)
                except UserError as error:
                    log.warning("catalog: refreshing %s gave bad data (%s); the catalog is unchanged", slug, error)
                else:
                    drama = changed.drama
                    if changed.changes:
                        log.info("catalog: %s refreshed: %s", slug, "; ".join(changed.changes[:10]))
        delay = await self._next_refresh(drama, failed=failed)
        if delay is not None:
            raise RetryLater(delay, "next refresh")


def _moved(before: Drama | None, after: Drama) -> list[tuple[int, datetime, datetime]]:
    if before is None:
        return []
    moved = []
    for episode in after.episodes:
        old = before.episode(episode.number)
        if old is not None and old.air_at != episode.air_at:
            moved.append((episode.number, old.air_at, episode.air_at))
    return moved
