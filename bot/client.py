"""The bot: owns the database, the services and the scheduler; loads every extension in `cogs/`."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import pkgutil
from collections.abc import Sequence
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.catalog import Catalog, CatalogIndex, load_catalog_or_raise
from bot.catalog import cache as catalog_cache
from bot.community import Community
from bot.discussions import Discussions
from bot.errors import handle_interaction_error
from bot.feeds.service import Feeds
from bot.lookups import Lookups
from bot.scheduling import Clock, Scheduler, SystemClock
from bot.settings import Settings, ensure_database_dir
from bot.storage import Database
from bot.storage.guild_settings import GuildSettingsRepo
from bot.storage.jobs import JobsRepo
from bot.storage.progress import ProgressRepo
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


def load_index(settings: Settings) -> tuple[Catalog, CatalogIndex]:
    """Load and validate the packs, then build the search index (blocking: run it in a thread).

    Reuses the compiled cache beside the database while no pack has changed.
    """
    cache_file = settings.database_path.parent / "catalog-cache.pickle"
    key = catalog_cache.fingerprint(settings.catalog_path)
    cached = catalog_cache.read(cache_file, key)
    if cached is not None:
        return cached
    catalog = load_catalog_or_raise([settings.catalog_path])
    built = catalog, CatalogIndex(catalog)
    catalog_cache.write(cache_file, key, built)
    return built


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at another API base / gateway (a rate-limit proxy, or the sandbox).

    discord.py reads both from class attributes: `Route.BASE` when a request is built and
    `DiscordWebSocket.DEFAULT_GATEWAY` when a plain (unsharded) client connects.
    """
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class DramaTree(app_commands.CommandTree["Dramawatch"]):
    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        await self.client.report_error(interaction, error)


class Dramawatch(commands.Bot):
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
        self.catalog: Catalog
        self.lookups: Lookups
        self.progress: ProgressRepo
        self.discussions: Discussions
        self.watchparties: WatchParties
        self.feeds: Feeds
        self.community: Community
        self.db: Database | None = None
        self.guild_settings: GuildSettingsRepo
        self.scheduler: Scheduler

    async def setup_hook(self) -> None:
        ensure_database_dir(self.settings.database_path)
        self.db = await Database.open(self.settings.database_path)
        applied = await self.db.migrate()
        if applied:
            log.info("database %s migrated to version %d", self.settings.database_path, applied[-1])
        self.guild_settings = GuildSettingsRepo(self.db)
        self.progress = ProgressRepo(self.db)
        catalog, index = self._preloaded or await asyncio.to_thread(load_index, self.settings)
        self.catalog = catalog
        self.lookups = Lookups(catalog, index)
        self.discussions = Discussions(self)
        self.watchparties = WatchParties(self)
        self.feeds = Feeds(self)
        self.community = Community(self)
        log.info("catalog: %d drama(s) from %s", len(catalog), self.settings.catalog_path)
        gc.freeze()  # the catalog lives as long as the bot: keep it out of every future collection
        self.scheduler = Scheduler(JobsRepo(self.db), self.clock)
        for name in self._extensions:
            await self.load_extension(name)
        if self._start_scheduler:
            await self.scheduler.start(gate=self.wait_until_ready)

    async def close(self) -> None:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            await scheduler.stop()
        feeds = getattr(self, "feeds", None)
        if feeds is not None:
            await feeds.close()
        await super().close()
        if self.db is not None:
            await self.db.close()
            self.db = None

    async def report_error(
        self, interaction: discord.Interaction[Any], error: BaseException, *, where: str | None = None
    ) -> None:
        """Every interaction error ends here (commands, autocomplete, views, modals)."""
        error_id = await handle_interaction_error(interaction, error, where=where)
        if error_id is not None:
            # Listeners (the sandbox's test harness, for one) learn of every unexpected error.
            self.dispatch("dramawatch_error", interaction, error, error_id)

    async def on_ready(self) -> None:
        user = self.user
        log.info("ready as %s (%s) in %d server(s)", user, user.id if user else "?", len(self.guilds))
