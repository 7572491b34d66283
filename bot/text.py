"""Making user-supplied text safe to echo: no mentions, no markdown, no invisible characters."""

from __future__ import annotations

import re
import unicodedata

import discord

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Like discord.utils.escape_mentions, but for ids of any length: Discord renders <@&123> as a mention too.
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]+)")


def clean(text: str, limit: int = 100) -> str:
    """Strip control and zero-width characters, fold whitespace, cap the length."""
    text = _INVISIBLE.sub("", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def quote(text: str, limit: int = 100) -> str:
    """User text made inert for echoing in a reply: cleaned, markdown and mentions escaped."""
    cleaned = clean(text, limit)
    if not cleaned:
        return "(empty)"
    return _MENTION.sub("@\u200b\\1", discord.utils.escape_markdown(cleaned))
