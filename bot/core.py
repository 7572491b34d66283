"""What most services are built on, handed to them as one value by the bot."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.lookups import Lookups
from bot.scheduling import Clock, Scheduler
from bot.server_settings import ServerSettings
from bot.service import Service
from bot.storage.database import Database


@dataclass(frozen=True, kw_only=True)
class Core:
    """Discord (REST and cache), the database, the catalog, time, jobs and per-server settings."""

    client: discord.Client
    db: Database
    lookups: Lookups
    scheduler: Scheduler
    clock: Clock
    server_settings: ServerSettings


class CoreService(Service):
    """A service built on :class:`Core`; other dependencies come as keyword arguments of its own."""

    def __init__(self, core: Core) -> None:
        self._client = core.client
        self._lookups = core.lookups
        self._scheduler = core.scheduler
        self._clock = core.clock
        self._settings = core.server_settings
