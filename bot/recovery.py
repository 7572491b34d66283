"""Finding a post of ours that a crash left unrecorded, so a retry never sends it twice.

A post is claimed in SQLite before it is sent and recorded after. If the bot stops in between, the
retry must not rely on the message nonce: Discord dedupes `enforce_nonce` only for a few minutes
(discord-api-docs, resources/message.mdx, Create Message), and a restart can come much later. So
before resending, the retry looks for the post in the channel's recent history by a marker of
ours (a title, a link, a first line that only that post has). The nonce still covers a retry
within seconds (discord.py's own retries after a 5xx).

The search reads at most `limit` of the newest messages (one request for up to 100) and stops at
`since` — the earliest time the post can have been sent — so it is cheap, and exact unless more
than `limit` messages arrived between the crash and the retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import discord

log = logging.getLogger(__name__)

HISTORY_LIMIT = 100  # one page of history
CLOCK_SLACK = timedelta(minutes=5)  # Discord's clock (message ids) vs ours


async def find_sent(
    client: discord.Client,
    channel_id: int,
    matches: Callable[[discord.Message], bool],
    *,
    since: datetime | None = None,
    limit: int = HISTORY_LIMIT,
) -> discord.Message | None:
    """Our newest message in the channel that `matches`, or None (also when history can't be read)."""
    me = client.user.id if client.user else None
    floor = since - CLOCK_SLACK if since is not None else None
    channel = client.get_partial_messageable(channel_id)
    try:
        async for message in channel.history(limit=limit):
            if floor is not None and message.created_at < floor:
                break
            if message.author.id == me and matches(message):
                return message
    except (discord.Forbidden, discord.NotFound) as error:
        log.warning("could not read the history of %s to look for a post left unrecorded: %s", channel_id, error)
    return None


async def sent_since(
    client: discord.Client, channel_id: int, since: datetime, *, limit: int = HISTORY_LIMIT
) -> list[discord.Message]:
    """Our messages in the channel from `since` on (within the newest `limit`), oldest first; none
    when history can't be read."""
    me = client.user.id if client.user else None
    floor = since - CLOCK_SLACK
    found: list[discord.Message] = []
    channel = client.get_partial_messageable(channel_id)
    try:
        async for message in channel.history(limit=limit):
            if message.created_at < floor:
                break
            if message.author.id == me:
                found.append(message)
    except (discord.Forbidden, discord.NotFound) as error:
        log.warning("could not read the history of %s to look for a post left unrecorded: %s", channel_id, error)
    found.reverse()
    return found


def first_line(text: str | None) -> str:
    return (text or "").split("\n", 1)[0]
