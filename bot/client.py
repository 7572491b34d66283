"""The bot: owns the database, the services and the scheduler; loads every extension in `cogs/`."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import logging
import pkgutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeAlias

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.answers import Answers
from bot.catalog import Catalog, CatalogIndex, load_catalog_or_raise
from bot.catalog.loader import Unit
from bot.catalog.search import SearchIndex
from bot.community import Community
from bot.core import Core
from bot.discussions import Discussions
from bot.errors import handle_interaction_error, handle_listener_error
from bot.feeds.service import Feeds
from bot.guild_setup import GuildSetup
from bot.live_catalog import LiveCatalog, open_catalog
from bot.lookups import Lookups
from bot.notices import ModNotices
from bot.progress import Progress
from bot.scheduling import Clock, Scheduler, SystemClock
from bot.scheduling.presence import Presence
from bot.server_settings import ServerSettings
from bot.service import Service
from bot.settings import Settings, ensure_database_dir
from bot.storage import Database
from bot.storage.catalog import CatalogRepo
from bot.storage.jobs import JobsRepo
from bot.storage.processes import ProcessesRepo
from bot.ui.persistent import PERSISTENT_ITEMS
from bot.watchparties import WatchParties

log = logging.getLogger(__name__)

# Gateway intents: guilds only (channels, threads, roles and our own member come with it).
# No privileged intent: slash commands need no message content and no member list.
INTENTS = discord.Intents.none()
INTENTS.guilds = True


def discover_extensions() -> list[str]:
    """Every module in the `cogs` package, sorted: each is one extension."""
    package = importlib.import_module("cogs")
    return sorted(
        f"cogs.{info.name}" for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")
    )


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at another API base / gateway (a rate-limit proxy, or the sandbox).

    discord.py reads both from class attributes: `Route.BASE` when a request is built and
    `DiscordWebSocket.DEFAULT_GATEWAY` when a plain (unsharded) client connects.
    """
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def load_index(settings: Settings) -> tuple[Catalog, CatalogIndex]:
    """The packs under CATALOG_PATH and their search index, without a database (for tools and tests;
    the bot itself starts through the live catalog, `bot.live_catalog.open_catalog`). Blocking."""
    catalog = load_catalog_or_raise([settings.catalog_path])
    return catalog, CatalogIndex(catalog)


def units_of(catalog: Catalog) -> dict[str, tuple[Unit, str]]:
    """A catalog given whole (a preloaded one) as the units the live catalog assembles from."""
    units = {slug: (Unit(drama.file or slug, drama, ()), "") for slug, drama in catalog.dramas.items()}
    units[""] = (Unit("(preloaded people)", None, tuple(catalog.people.values())), "")
    return units


class DramaTree(app_commands.CommandTree["Dramawatch"]):
    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        await self.client.report_error(interaction, error)


class Dramawatch(commands.Bot):
    """The bot. It owns the database, the scheduler and every service (created, started and closed
    here, never by a cog), so each extension in `cogs/` can be reloaded while the bot runs."""

    # The services, set in setup_hook; cogs reach them as `self.bot.<name>` (typed).
    db: Database | None
    scheduler: Scheduler
    presence: Presence
    lookups: Lookups
    server_settings: ServerSettings
    notices: ModNotices
    progress: Progress
    discussions: Discussions
    watchparties: WatchParties
    feeds: Feeds
    community: Community
    answers: Answers
    live_catalog: LiveCatalog
    guild_setup: GuildSetup

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        extensions: Sequence[str] | None = None,
        start_scheduler: bool = True,
        catalog: tuple[Catalog, CatalogIndex] | None = None,
        **options: Any,
    ) -> None:
        # This bot never joins voice: don't warn at every start that voice libraries are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=DramaTree,
            intents=INTENTS,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._extensions = list(extensions) if extensions is not None else discover_extensions()
        self._start_scheduler = start_scheduler
        self._preloaded = catalog
        self._services: list[Service] = []
        self.db = None
        self.next_shards: tuple[int, ...] | None = None  # set by reshard(): run again with these
        self._reshard_task: asyncio.Task[None] | None = None

    def reshard(self, shards: tuple[int, ...]) -> None:
        """Stop, to run again with these shards (`serve` does): this process takes over the shards of
        one that died, or hands shards back to the process started for them."""
        self.next_shards = shards
        self._reshard_task = asyncio.create_task(self.close(), name="dramawatch-reshard")

    @property
    def catalog(self) -> Catalog:
        return self.lookups.catalog

    @property
    def services(self) -> tuple[Service, ...]:
        """Every service, in the order they were created and started."""
        return tuple(self._services)

    async def setup_hook(self) -> None:
        if self.settings.database_url is None:
            ensure_database_dir(self.settings.database_path)
        self.db = db = await Database.open(self.settings.database, clock=self.clock)
        applied = await db.migrate()
        if applied:
            log.info("database %s migrated to version %d", db.path, applied[-1])
        units: dict[str, tuple[Unit, str]] = {}
        index: SearchIndex
        if self._preloaded is not None:
            catalog, base = self._preloaded
            index, units, layered = base, units_of(catalog), set()
        else:
            opened = await open_catalog(db, self.settings.catalog_path)
            catalog, index, units = opened.catalog, opened.index, opened.units
            base, layered = opened.base, opened.layered
            log.info(
                "catalog: %d drama(s) (%d pack(s) parsed now, search index %s)",
                len(catalog),
                opened.parsed,
                "built" if opened.index_built else f"reused, {len(layered)} drama(s) layered over it",
            )
        gc.freeze()  # the catalog lives as long as the bot: keep it out of every future collection
        settings = self.settings
        jobs = JobsRepo(
            db,
            name=settings.name,
            lease=timedelta(seconds=settings.job_lease_seconds),
            shard_count=settings.shard_count or 1,
        )
        # On PostgreSQL other processes may add or release jobs: look at the queue every second too.
        poll = 1.0 if db.dialect == "postgresql" else None
        self.scheduler = Scheduler(jobs, self.clock, shards=settings.my_shards, poll=poll)
        self.presence = Presence(
            jobs,
            ProcessesRepo(db),
            self.clock,
            shard_ids=settings.my_shards or (),
            configured=settings.home_shards,
            latency=lambda: self.latency if self.is_ready() else None,
            running=lambda: self.scheduler.running,
            on_reshard=self.reshard if settings.sharded else None,
            wake=self.scheduler.wake,
        )
        self._create_services(db, Lookups(catalog, index, CatalogRepo(db)), units, base, layered)
        for service in self._services:
            for job in service.jobs():
                self.scheduler.register(job.kind, job.handler, grace=job.grace)
        for service in self._services:
            await service.start()
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        for name in self._extensions:
            await self.load_extension(name)
        if self._start_scheduler:
            await self.presence.start()
            await self.scheduler.start(gate=self.wait_until_ready)

    def _create_services(
        self,
        db: Database,
        lookups: Lookups,
        units: dict[str, tuple[Unit, str]],
        base: CatalogIndex,
        layered: set[str],
    ) -> None:
        """Each service gets exactly what it uses, by keyword; the order is the start order."""
        self.lookups = lookups
        self.server_settings = ServerSettings(db)
        core = Core(
            client=self,
            db=db,
            lookups=lookups,
            scheduler=self.scheduler,
            clock=self.clock,
            server_settings=self.server_settings,
        )
        self.notices = ModNotices(self.server_settings)
        self.progress = Progress(db)
        self.discussions = Discussions(core, notices=self.notices)
        self.watchparties = WatchParties(core, discussions=self.discussions)
        self.feeds = Feeds(core, config=self.settings, notices=self.notices, discussions=self.discussions)
        self.community = Community(core, discussions=self.discussions)
        self.guild_setup = GuildSetup(core)
        self.answers = Answers(
            lookups=lookups,
            clock=self.clock,
            progress=self.progress,
            discussions=self.discussions,
            feeds=self.feeds,
            community=self.community,
        )
        self.live_catalog = LiveCatalog(
            core,
            config=self.settings,
            notices=self.notices,
            discussions=self.discussions,
            units=units,
            base=base,
            layered=layered,
        )
        self._services = [
            self.server_settings,
            self.notices,
            self.progress,
            self.discussions,
            self.watchparties,
            self.feeds,
            self.community,
            self.answers,
            self.live_catalog,
            self.guild_setup,
        ]

    async def close(self) -> None:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            await scheduler.stop()
        presence = getattr(self, "presence", None)
        if presence is not None:
            await presence.stop(restarting=self.next_shards is not None)
        for service in reversed(self._services):
            try:
                await service.close()
            except Exception:
                log.exception("closing %s failed", type(service).__name__)
        await super().close()
        if self.db is not None:
            await self.db.close()
            self.db = None

    async def report_error(self, interaction: Interaction, error: BaseException, *, where: str | None = None) -> None:
        """Every interaction error ends here (commands, autocomplete, views, modals)."""
        error_id = await handle_interaction_error(interaction, error, where=where)
        if error_id is not None:
            # Listeners (the sandbox's test harness, for one) learn of every unexpected error.
            self.dispatch("dramawatch_error", interaction, error, error_id)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event listener raised: log it with an error id, like any unexpected error."""
        error = sys.exc_info()[1]
        if error is None:
            return
        error_id = handle_listener_error(event_method, error)
        self.dispatch("dramawatch_listener_error", event_method, error, error_id)

    async def on_ready(self) -> None:
        user = self.user
        log.info("ready as %s (%s) in %d server(s)", user, user.id if user else "?", len(self.guilds))


async def serve(
    settings: Settings,
    token: str,
    *,
    connect: Callable[[Dramawatch], Awaitable[None]] | None = None,
    started: Callable[[Dramawatch], None] | None = None,
    **options: Any,
) -> None:
    """Log in and run the bot until it stops (`connect`: how, default `bot.connect(reconnect=True)`;
    `started`: told of each bot made).
    When it stops to reshard (it took over a dead process's shards, or hands them back), run it
    again with its new shards, under the same process name."""
    settings = dataclasses.replace(
        settings, process_name=settings.name, home_shards=settings.home_shards or settings.my_shards
    )
    while True:
        async with create_bot(settings, **options) as bot:
            if started is not None:
                started(bot)
            await bot.login(token)
            await (connect(bot) if connect is not None else bot.connect(reconnect=True))
        if bot.next_shards is None:
            return
        settings = dataclasses.replace(settings, shard_ids=bot.next_shards)


class ShardedDramawatch(Dramawatch, commands.AutoShardedBot):
    """The bot running SHARD_IDS of SHARD_COUNT shards in this process (discord.py's AutoShardedBot):
    each server's events arrive on shard (server id >> 22) % SHARD_COUNT, and its jobs run here."""

    # Seconds between two shards' IDENTIFY: Discord allows `max_concurrency` per 5 s (1 for most bots;
    # docs/topics/Gateway.md, "Session Start Limit"), as discord.py's default hook waits. The sandbox,
    # which does not limit identifies, passes identify_wait=0.
    identify_wait = 5.0

    def __init__(self, settings: Settings, *, identify_wait: float = 5.0, **options: Any) -> None:
        super().__init__(settings, **options)
        self.identify_wait = identify_wait

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial and self.identify_wait > 0:
            await asyncio.sleep(self.identify_wait)


def create_bot(settings: Settings, *, identify_wait: float = 5.0, **options: Any) -> Dramawatch:
    """The bot for these settings: sharded when SHARD_COUNT is set (`identify_wait`: seconds between
    its shards' IDENTIFY)."""
    if settings.shard_count is not None:
        return ShardedDramawatch(
            settings,
            identify_wait=identify_wait,
            shard_count=settings.shard_count,
            shard_ids=list(settings.my_shards or ()),
            **options,
        )
    return Dramawatch(settings, **options)


Interaction: TypeAlias = discord.Interaction[Dramawatch]
"""The interaction type every command, view and modal of this bot receives."""
