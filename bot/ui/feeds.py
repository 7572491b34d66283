"""Feed posts and the /feeds status lines."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord

from bot.catalog import Drama
from bot.spoilers import spoiler
from bot.storage.feeds import Feed, Item
from bot.text import quote
from bot.ui import limits
from bot.ui.help import COLOUR
from bot.ui.limits import md

if TYPE_CHECKING:
    from bot.feeds.service import Preview

EXCERPT_LIMIT = 600  # a short excerpt, never the article (bot.feeds.parse caps it before this)


_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^()]+)\)\s*$")  # RSS: "bora@example.com (Bora)"
_NAME_EMAIL = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<\S+@\S+>\s*$")  # "Bora <bora@example.com>"
_EMAIL = re.compile(r"^\s*(?P<local>[^@\s]+)@\S+\s*$")


def author_name(raw: str) -> str:
    """A feed's author as a clean name: no e-mail address shown."""
    for pattern in (_EMAIL_NAME, _NAME_EMAIL):
        match = pattern.match(raw)
        if match:
            return match.group("name").strip()
    bare = _EMAIL.match(raw)
    if bare:
        return ""  # an address alone: show no author rather than someone's e-mail
    return raw.strip()


def source_name(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def episodes_label(item: Item) -> str:
    if item.first_ep == item.last_ep:
        return f"Episode {item.first_ep}"
    return f"Episodes {item.first_ep}–{item.last_ep}"


def feed_item_embed(item: Item, drama: Drama | None, source: str) -> discord.Embed:
    """Title, link, author, date, source and a short excerpt behind spoiler bars — never the article."""
    title = quote(item.title or "New recap", limits.TITLE)
    embed = discord.Embed(title=title, url=limits.url(item.link), colour=COLOUR, timestamp=item.published)
    if item.excerpt:
        embed.description = spoiler(quote(item.excerpt, EXCERPT_LIMIT))
    author = author_name(item.author)
    if author:
        embed.set_author(name=limits.plain(author, limits.AUTHOR))  # an author name shows no markdown
    show = f"{drama.title} · " if drama else ""
    embed.set_footer(text=f"{show}{episodes_label(item)} · {source}")
    return limits.finish(embed)


def feed_status(feed: Feed) -> str:
    lines = [f"**#{feed.id}** {quote(feed.url, 300)}" + (f" (only {md(feed.drama)})" if feed.drama else "")]
    if feed.state == "disabled":
        reason = quote(feed.disabled_reason or "unknown", 300)
        lines.append(f"⛔ disabled: {reason}. `/feeds add` the same URL turns it back on.")
    else:
        if feed.last_success:
            lines.append(f"last success {discord.utils.format_dt(feed.last_success, 'R')}")
        if feed.failures:
            lines.append(f"⚠️ {feed.failures} failure(s) in a row; last error: {quote(feed.last_error or '?', 300)}")
        if feed.next_poll:
            lines.append(f"next poll {discord.utils.format_dt(feed.next_poll, 'R')}")
        if not feed.primed:
            lines.append("first poll pending (it records what exists and posts nothing)")
    where = f"<#{feed.channel_id}>" if feed.channel_id else "the episode thread, else the recaps channel"
    lines.append(f"posted {feed.items_posted} · unmatched {feed.items_unmatched} · posts to {where}")
    return limits.content(" · ".join(lines[:1]) + "\n" + " · ".join(lines[1:]))


def added_text(feed: Feed, url: str, reenabled: bool) -> str:
    """The reply to `/feeds add`, after the first poll."""
    verb = "Turned back on" if reenabled else "Added"
    text = f"{verb} feed #{feed.id}: {quote(feed.title or url, 100)}.\n{feed_status(feed)}"
    if feed.state == "disabled":
        text += f"\n⛔ The first check failed for good: {quote(feed.disabled_reason or 'unknown', 300)}."
    elif not feed.primed and feed.last_error:
        text += f"\n⚠️ The first check failed: {quote(feed.last_error, 300)}. I'll keep trying with backoff."
    else:
        text += "\nWhat it has now is recorded, not posted; new items will be."
    return limits.content(text)


def preview_text(title: str, previews: list[Preview]) -> str:
    """The reply to `/feeds test`: what would be matched, posting nothing."""
    lines = [f"**{quote(title, 100)}**: {len(previews)} item(s)."]
    for preview in previews[:15]:
        name = quote(preview.title or "(no title)", 90)
        if preview.match:
            found, first, last = preview.match
            eps = f"episode {first}" if first == last else f"episodes {first}–{last}"
            lines.append(f"✅ {name} → {md(found.title)} {eps}")
        else:
            lines.append(f"➖ {name} → no episode matched (skipped)")
    return limits.join(lines, limits.CONTENT)
