"""Recap feeds, their items, and the recap links shown by /recap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.catalog.texts import episode_part
from bot.storage.community import CommunityRecap
from bot.storage.database import Database
from bot.storage.jobs import from_ms, to_ms


@dataclass(frozen=True, kw_only=True)
class Feed:
    id: int
    guild_id: int
    url: str
    drama: str | None
    channel_id: int | None
    title: str | None
    etag: str | None
    last_modified: str | None
    state: str
    disabled_reason: str | None
    failures: int
    primed: bool
    last_success: datetime | None
    last_error: str | None
    next_poll: datetime | None
    items_posted: int
    items_unmatched: int
    template: str | None = None
    include_words: str | None = None  # comma-separated, lower case
    exclude_words: str | None = None
    items_filtered: int = 0


@dataclass(frozen=True, kw_only=True)
class Item:
    feed_id: int
    key: str
    state: str
    title: str
    link: str
    author: str
    published: datetime | None
    excerpt: str
    drama: str | None
    first_ep: int | None
    last_ep: int | None
    id: int | None = None  # the row's id, once stored


_FEED_COLUMNS = (
    "id, guild_id, url, drama, channel_id, title, etag, last_modified, state, disabled_reason, failures, primed, "
    "last_success, last_error, next_poll, items_posted, items_unmatched, template, include_words, exclude_words, "
    "items_filtered"
)
_ITEM_COLUMNS = "id, feed_id, item_key, state, title, link, author, published, excerpt, drama, first_ep, last_ep"


def _feed(row: Any) -> Feed:
    return Feed(
        id=row["id"],
        guild_id=row["guild_id"],
        url=row["url"],
        drama=row["drama"],
        channel_id=row["channel_id"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        state=row["state"],
        disabled_reason=row["disabled_reason"],
        failures=row["failures"],
        primed=bool(row["primed"]),
        last_success=from_ms(row["last_success"]) if row["last_success"] else None,
        last_error=row["last_error"],
        next_poll=from_ms(row["next_poll"]) if row["next_poll"] else None,
        items_posted=row["items_posted"],
        items_unmatched=row["items_unmatched"],
        template=row["template"],
        include_words=row["include_words"],
        exclude_words=row["exclude_words"],
        items_filtered=row["items_filtered"],
    )


def _item(row: Any) -> Item:
    return Item(
        feed_id=row["feed_id"],
        key=row["item_key"],
        state=row["state"],
        title=row["title"],
        link=row["link"],
        author=row["author"],
        published=from_ms(row["published"]) if row["published"] else None,
        excerpt=row["excerpt"],
        drama=row["drama"],
        first_ep=row["first_ep"],
        last_ep=row["last_ep"],
        id=row["id"],
    )


class FeedsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, guild_id: int, url: str, drama: str | None, channel_id: int | None, user_id: int) -> Feed:
        feed_id = await self._db.insert(
            "INSERT INTO feeds (guild_id, url, drama, channel_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, url, drama, channel_id, user_id, self._db.now_ms()),
        )
        feed = await self.get(feed_id)
        assert feed is not None
        return feed

    async def get(self, feed_id: int) -> Feed | None:
        row = await self._db.fetchone(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?",  # noqa: S608 - a constant column list
            (feed_id,),
        )
        return _feed(row) if row else None

    async def by_url(self, guild_id: int, url: str) -> Feed | None:
        row = await self._db.fetchone("SELECT id FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url))
        return await self.get(row["id"]) if row else None

    async def for_guild(self, guild_id: int) -> list[Feed]:
        rows = await self._db.fetchall(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY id",  # noqa: S608 - a constant column list
            (guild_id,),
        )
        return [_feed(r) for r in rows]

    async def poll_times(self) -> list[tuple[int, int, datetime | None]]:
        """(id, server, next poll) of every active feed: all a start needs to see that each one polls
        (the whole rows of 10,000 feeds took a quarter of a second to build)."""
        rows = await self._db.fetchall("SELECT id, guild_id, next_poll FROM feeds WHERE state = 'active' ORDER BY id")
        return [(r["id"], r["guild_id"], from_ms(r["next_poll"]) if r["next_poll"] else None) for r in rows]

    async def remove(self, feed_id: int) -> None:
        await self._db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    async def succeeded(
        self,
        feed_id: int,
        *,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        now: datetime,
        next_poll: datetime,
    ) -> None:
        await self._db.execute(
            "UPDATE feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?, failures = 0, primed = 1, "
            "last_success = ?, next_poll = ? WHERE id = ?",
            (title, etag, last_modified, to_ms(now), to_ms(next_poll), feed_id),
        )

    async def not_modified(self, feed_id: int, now: datetime, next_poll: datetime) -> None:
        await self._db.execute(
            "UPDATE feeds SET failures = 0, last_success = ?, next_poll = ? WHERE id = ?",
            (to_ms(now), to_ms(next_poll), feed_id),
        )

    async def failed(self, feed_id: int, error: str, now: datetime, next_poll: datetime | None) -> int:
        """Record a failure; returns the number of consecutive failures."""
        await self._db.execute(
            "UPDATE feeds SET failures = failures + 1, last_error = ?, last_error_at = ?, next_poll = ? WHERE id = ?",
            (error, to_ms(now), to_ms(next_poll) if next_poll else None, feed_id),
        )
        row = await self._db.fetchone("SELECT failures FROM feeds WHERE id = ?", (feed_id,))
        return int(row["failures"]) if row else 0

    async def disable(self, feed_id: int, reason: str) -> None:
        await self._db.execute(
            "UPDATE feeds SET state = 'disabled', disabled_reason = ?, next_poll = NULL WHERE id = ?", (reason, feed_id)
        )

    async def enable(self, feed_id: int) -> None:
        await self._db.execute(
            "UPDATE feeds SET state = 'active', disabled_reason = NULL, failures = 0 WHERE id = ?", (feed_id,)
        )

    # -- items ----------------------------------------------------------------------------------
    async def known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = await self._db.fetchall(
                f"SELECT item_key FROM feed_items WHERE feed_id = ? AND item_key IN ({marks})",  # noqa: S608
                (feed_id, *chunk),
            )
            found.update(r["item_key"] for r in rows)
        return found

    async def record(self, item: Item) -> bool:
        """Insert an item once (any state); False when it was already known."""
        changed = await self._db.execute(
            "INSERT INTO feed_items (feed_id, item_key, state, title, link, author, published, excerpt, drama, "
            "first_ep, last_ep, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (feed_id, item_key) DO NOTHING",
            (
                item.feed_id,
                item.key,
                item.state,
                item.title,
                item.link,
                item.author,
                to_ms(item.published) if item.published else None,
                item.excerpt,
                item.drama,
                item.first_ep,
                item.last_ep,
                self._db.now_ms() if item.state == "claimed" else None,
            ),
        )
        if changed and item.state == "skipped":
            await self._db.execute(
                "UPDATE feeds SET items_unmatched = items_unmatched + 1 WHERE id = ?", (item.feed_id,)
            )
        if changed and item.state == "filtered":
            await self._db.execute("UPDATE feeds SET items_filtered = items_filtered + 1 WHERE id = ?", (item.feed_id,))
        return changed > 0

    async def unmatched(self, guild_id: int, limit: int = 25) -> list[Item]:
        """The server's items no episode matched (state 'skipped'), newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_ITEM_COLUMNS} FROM feed_items WHERE state = 'skipped' "  # noqa: S608
            "AND feed_id IN (SELECT id FROM feeds WHERE guild_id = ?) "
            "ORDER BY COALESCE(published, 0) DESC, id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [_item(r) for r in rows]

    async def item(self, item_id: int) -> Item | None:
        row = await self._db.fetchone(f"SELECT {_ITEM_COLUMNS} FROM feed_items WHERE id = ?", (item_id,))  # noqa: S608
        return _item(row) if row else None

    async def latest_item(self, feed_id: int) -> Item | None:
        row = await self._db.fetchone(
            f"SELECT {_ITEM_COLUMNS} FROM feed_items WHERE feed_id = ? "  # noqa: S608
            "ORDER BY COALESCE(published, 0) DESC, id DESC LIMIT 1",
            (feed_id,),
        )
        return _item(row) if row else None

    async def assign(self, item_id: int, drama: str, first: int, last: int) -> bool:
        """Claim an unmatched item for an episode (range) by hand; False when it is no longer unmatched."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE feed_items SET state = 'claimed', drama = ?, first_ep = ?, last_ep = ?, claimed_at = ? "
                "WHERE id = ? AND state = 'skipped'",
                (drama, first, last, self._db.now_ms(), item_id),
            )
            if changed:
                await self._db.execute(
                    "UPDATE feeds SET items_unmatched = CASE WHEN items_unmatched > 0 THEN items_unmatched - 1 "
                    "ELSE 0 END "
                    "WHERE id = (SELECT feed_id FROM feed_items WHERE id = ?)",
                    (item_id,),
                )
        return changed > 0

    async def dismiss(self, item_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE feed_items SET state = 'dismissed' WHERE id = ? AND state = 'skipped'", (item_id,)
        )
        return changed > 0

    async def set_format(
        self, feed_id: int, template: str | None, include_words: str | None, exclude_words: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE feeds SET template = ?, include_words = ?, exclude_words = ? WHERE id = ?",
            (template, include_words, exclude_words, feed_id),
        )

    async def claimed(self, feed_id: int | None = None) -> list[Item]:
        """Items claimed but not yet sent (all feeds, or one), oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_ITEM_COLUMNS} FROM feed_items "  # noqa: S608 - a constant column list
            "WHERE state = 'claimed' AND (CAST(? AS BIGINT) IS NULL OR feed_id = ?) "
            "ORDER BY claimed_at, published, item_key",
            (feed_id, feed_id),
        )
        return [_item(r) for r in rows]

    async def mark_sent(self, feed_id: int, key: str, message_id: int | None) -> None:
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE feed_items SET state = 'sent', message_id = ?, sent_at = ? "
                "WHERE feed_id = ? AND item_key = ? AND state = 'claimed'",
                (message_id, self._db.now_ms(), feed_id, key),
            )
            if changed:
                await self._db.execute("UPDATE feeds SET items_posted = items_posted + 1 WHERE id = ?", (feed_id,))


class RecapLinksRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, guild_id: int, drama: str, episode: int, url: str, title: str, source: str) -> None:
        await self.add_range(guild_id, drama, episode, episode, url, title, source)

    async def add_range(
        self, guild_id: int, drama: str, first: int, last: int, url: str, title: str, source: str
    ) -> None:
        """One link for each episode `first`..`last` (a recap of a range), in one statement."""
        now = self._db.now_ms()
        await self._db.executemany(
            "INSERT INTO recap_links (guild_id, drama, episode, url, title, source, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(guild_id, drama, episode, url, title, source, now) for episode in range(first, last + 1)],
        )

    async def for_episode(self, guild_id: int, drama: str, episode: int, limit: int = 10) -> list[tuple[str, str, str]]:
        """(title, url, source), oldest first."""
        rows = await self._db.fetchall(
            "SELECT title, url, source FROM recap_links WHERE guild_id = ? AND drama = ? AND episode = ? "
            "ORDER BY added_at LIMIT ?",
            (guild_id, drama, episode, limit),
        )
        return [(r["title"], r["url"], r["source"]) for r in rows]


@dataclass(frozen=True, kw_only=True)
class RecapSources:
    """Everything `/recap` shows from a server's state, read in one statement."""

    watched: int  # the asker's progress in the drama (0: none)
    threads: dict[int, int]  # episode → its discussion thread
    links: list[tuple[str, str, str]]  # (title, url, source) matched from feeds, oldest first
    community: list[CommunityRecap]  # approved community recaps, in review order
    texts: tuple[str, str] = ("", "")  # the episode's synopsis and TVmaze summary (catalog_texts)


class RecapSourcesRepo:
    """A read across features' tables for one answer: progress, episode threads, feed recap links and
    approved community recaps of one episode — one trip to the database instead of four."""

    _SQL = (
        "SELECT 'p' AS part, episode AS n, NULL AS ref, NULL AS a, NULL AS b, NULL AS c, NULL AS d, NULL AS e "
        "FROM progress WHERE guild_id = ? AND user_id = ? AND drama = ? "
        "UNION ALL SELECT 't', episode, thread_id, NULL, NULL, NULL, NULL, NULL "
        "FROM episode_threads WHERE guild_id = ? AND drama = ? AND thread_id IS NOT NULL "
        "UNION ALL SELECT 'l', added_at, NULL, title, url, source, NULL, NULL FROM ("
        "SELECT added_at, title, url, source FROM recap_links WHERE guild_id = ? AND drama = ? AND episode = ? "
        "ORDER BY added_at LIMIT ?) AS links "
        # The author's id as text: a column holds one type on PostgreSQL (read back with int()).
        "UNION ALL SELECT 'c', reviewed_at, id, CAST(author_id AS TEXT), author_name, title, body, reason FROM ("
        "SELECT reviewed_at, id, author_id, author_name, title, body, reason FROM community_recaps "
        "WHERE guild_id = ? AND drama = ? AND episode = ? AND state = 'approved' ORDER BY reviewed_at LIMIT ?"
        ") AS approved "
        "UNION ALL SELECT 's', NULL, NULL, body, extra, NULL, NULL, NULL "
        "FROM catalog_texts WHERE drama = ? AND part = ?"
    )

    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_episode(
        self, guild_id: int, user_id: int, drama: str, episode: int, *, links: int = 10, community: int = 3
    ) -> RecapSources:
        rows = await self._db.fetchall(
            self._SQL,
            (guild_id, user_id, drama, guild_id, drama, guild_id, drama, episode, links)
            + (guild_id, drama, episode, community, drama, episode_part(episode)),
        )
        texts = ("", "")
        watched = 0
        threads: dict[int, int] = {}
        found_links: list[tuple[int, tuple[str, str, str]]] = []
        found_recaps: list[tuple[int, CommunityRecap]] = []
        for row in rows:
            part = row["part"]
            if part == "p":
                watched = int(row["n"])
            elif part == "t":
                threads[int(row["n"])] = int(row["ref"])
            elif part == "l":
                found_links.append((int(row["n"]), (row["a"], row["b"], row["c"])))
            elif part == "s":
                texts = (row["a"], row["b"])
            else:
                recap = CommunityRecap(
                    int(row["ref"]),
                    guild_id,
                    drama,
                    episode,
                    int(row["a"]),
                    row["b"],
                    row["c"],
                    row["d"],
                    "approved",
                    row["e"],
                )
                found_recaps.append((int(row["n"] or 0), recap))
        found_links.sort(key=lambda pair: pair[0])  # stable: ties keep the statement's order
        found_recaps.sort(key=lambda pair: pair[0])
        return RecapSources(
            watched=watched,
            threads=threads,
            links=[link for _, link in found_links],
            community=[recap for _, recap in found_recaps],
            texts=texts,
        )
