"""Every persistent component (a dynamic item keyed by its custom_id), registered once by the bot.

They keep working across restarts and extension reloads. A new persistent button or select goes
in the `bot.ui` module of its feature and is listed here.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.ui.catalog_admin import CatalogPick
from bot.ui.community import ReviewButton, ReviewQueueButton
from bot.ui.discussions import RatingButton
from bot.ui.feeds import FeedPick, UnmatchedPick
from bot.ui.help import HelpPageButton
from bot.ui.lookups import DramaPage, WhoPick
from bot.ui.setup import SetupChannel, SetupPage, SetupRole, SetupZone
from bot.ui.watchparties import PartyCancel, RsvpButton

PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    CatalogPick,
    DramaPage,
    FeedPick,
    HelpPageButton,
    PartyCancel,
    RatingButton,
    ReviewButton,
    ReviewQueueButton,
    RsvpButton,
    SetupChannel,
    SetupPage,
    SetupRole,
    SetupZone,
    UnmatchedPick,
    WhoPick,
)
