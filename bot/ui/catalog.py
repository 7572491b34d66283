"""Cards for /recap, /who, /drama and /progress: pure functions over catalog objects."""

from __future__ import annotations

import math
import zoneinfo
from datetime import datetime

import discord

from bot.catalog import Catalog, Character, Drama, Episode, Person
from bot.catalog.models import TVMAZE_SOURCE, Role
from bot.spoilers import shield
from bot.text import quote
from bot.ui import limits
from bot.ui.help import COLOUR
from bot.ui.limits import md

EPISODES_PER_PAGE = 20
COMMUNITY_LINE_MIN = 200  # below this share, whole community recaps are dropped instead ("… and N more")


def release_day(drama_timezone: str, episode: Episode) -> str:
    """A streaming release's date as the platform gives it (no hour, so no Discord timestamp:
    one would show the day before to members west of the drama's time zone)."""
    local = episode.air_at.astimezone(zoneinfo.ZoneInfo(drama_timezone))
    return f"{local.day} {local:%B %Y}"


def when(episode: Episode, drama_timezone: str = "UTC") -> str:
    """An episode's air time as Discord timestamps: each member sees their own local time."""
    if episode.is_release and not episode.time_known:
        return f"{release_day(drama_timezone, episode)} (release date)"
    return f"{discord.utils.format_dt(episode.air_at, 'F')} ({discord.utils.format_dt(episode.air_at, 'R')})"


def _attribution(drama: Drama, episode: Episode) -> str:
    source = drama.sources.get(episode.source)
    if source is None:
        return "Dramawatch"
    return source.attribution or source.name


def recap_embed(
    drama: Drama,
    episode: Episode,
    *,
    plain: bool,
    recap_links: list[str] | None = None,
    thread_id: int | None = None,
    community: list[str] | None = None,
) -> discord.Embed:
    title = f"{md(drama.title)} · Episode {episode.number}" + (f" · {md(episode.title)}" if episode.title else "")
    embed = discord.Embed(title=title, colour=COLOUR)
    # Our own synopsis first; TVmaze's summary (CC BY-SA, credited below) only when we have none.
    borrowed = drama.sources.get(TVMAZE_SOURCE) if not episode.synopsis and episode.tvmaze_summary else None
    text = episode.tvmaze_summary if borrowed is not None else episode.synopsis
    if text:
        embed.description = shield(text, plain=plain)
    else:
        embed.description = "No synopsis for this episode yet."
    embed.add_field(
        name="Released" if episode.is_release else "Aired", value=when(episode, drama.timezone), inline=False
    )
    embed.add_field(
        name="Recaps",
        value=limits.join(recap_links or [], limits.FIELD_VALUE, empty="No recap links yet."),
        inline=False,
    )
    if community:
        # Each recap shortened to an equal share (its spoiler bars closed again), or whole ones dropped.
        community_text = limits.join(community, limits.FIELD_VALUE, shrink_to=COMMUNITY_LINE_MIN)
        embed.add_field(name="Community recaps", value=community_text, inline=False)
    if thread_id:
        embed.add_field(name="Discussion", value=f"<#{thread_id}>", inline=False)
    if not text:
        return limits.finish(embed)  # no text from any source, so no one to credit (and nothing hidden)
    if borrowed is not None:
        credit = borrowed.attribution or f"{borrowed.name} ({borrowed.licence})"
        footer = f"Synopsis: {credit}" + (f" · {borrowed.url}" if borrowed.url else "")
    else:
        footer = f"Synopsis: {_attribution(drama, episode)}"
    if not plain:
        footer += " · spoilers hidden: click to reveal"
    embed.set_footer(text=footer)
    return limits.finish(embed)


def recap_link_line(title: str, url: str, source: str) -> str:
    """A recap link for /recap: the title (no plot beyond what the headline says) and its source."""
    text = quote(title.replace("[", "(").replace("]", ")"), 150)
    # "· " first: a line never starts with feed text, which could read as a list ("1. …") or heading.
    return f"· {limits.link(text, url)} — {quote(source, 60)}"


def not_aired_text(drama: Drama, episode: Episode) -> str:
    verb = "is released" if episode.is_release else "airs"
    return limits.content(
        f"{md(drama.title)} episode {episode.number} {verb} {when(episode, drama.timezone)}: no synopsis before then."
    )


def _actor_line(catalog: Catalog, drama: Drama, character: Character) -> str:
    names = []
    for entry in drama.actors(character.slug):
        person = catalog.people.get(entry.person)
        if person is None:
            continue
        text = md(person.name) + (f" ({md(person.name_ko)})" if person.name_ko else "")
        names.append(text + (f" — {md(entry.note)}" if entry.note else ""))
    return limits.join(names, limits.FIELD_VALUE) or "—"


def character_embed(
    catalog: Catalog, drama: Drama, character: Character, *, watched: int, plain: bool
) -> discord.Embed:
    """`watched`: the asker's last watched episode of this drama; only facts up to it are shown."""
    title = md(character.name) + (f" ({md(character.name_ko)})" if character.name_ko else "")
    embed = discord.Embed(title=title, description=character.description or None, colour=COLOUR)
    embed.add_field(name="Drama", value=f"{md(drama.title)} ({drama.year})", inline=True)
    embed.add_field(name="Played by", value=_actor_line(catalog, drama, character), inline=True)
    shown_relations, locked = [], []
    for relation in character.relations:
        other = drama.characters.get(relation.to)
        if other is None:
            continue
        if relation.episode is None:
            shown_relations.append(f"{relation.kind} {md(other.name)}")
        elif relation.episode <= watched:
            text = f"{relation.kind} {md(other.name)} (episode {relation.episode})"
            shown_relations.append(shield(text, plain=plain))
        else:
            locked.append(relation.episode)
    if shown_relations:
        embed.add_field(name="Relations", value=limits.join(shown_relations, limits.FIELD_VALUE), inline=False)
    unlocked = [f for f in character.facts if f.episode <= watched]
    locked += [f.episode for f in character.facts if f.episode > watched]
    if unlocked:
        lines = [f"Ep {f.episode}: {shield(f.text, plain=plain)}" for f in unlocked]
        for i, chunk in enumerate(_chunks(lines, budget=3500)):
            embed.add_field(name="What you've seen" if i == 0 else "\u200b", value=chunk, inline=False)
    if locked:
        count = len(locked)
        hidden = "1 more fact is hidden" if count == 1 else f"{count} more facts are hidden"
        if not watched:
            progress = ". Set `/progress` to unlock them."
        elif plain:  # only the asker sees this reply: their progress may be named
            progress = f" (you're at episode {watched})."
        else:
            progress = "."
        embed.add_field(
            name="Spoiler shield",
            value=f"{hidden} until you've watched further: the next with episode {min(locked)}{progress}",
            inline=False,
        )
    embed.set_footer(text=f"/recap {drama.slug} EPISODE for episode synopses")
    return limits.finish(embed)


def person_embed(person: Person, roles: list[Role]) -> discord.Embed:
    title = md(person.name) + (f" ({md(person.name_ko)})" if person.name_ko else "")
    embed = discord.Embed(title=title, colour=COLOUR)
    lines = []
    for role in roles:
        note = f", {md(role.note)}" if role.note else ""
        lines.append(f"**{md(role.character.name)}** in {md(role.drama.title)} ({role.drama.year}{note})")
    embed.add_field(
        name="Roles in the catalog", value=limits.join(lines, limits.FIELD_VALUE, empty="None yet."), inline=False
    )
    return limits.finish(embed)


def drama_pages(drama: Drama) -> int:
    return max(1, math.ceil(len(drama.episodes) / EPISODES_PER_PAGE))


def drama_embed(
    catalog: Catalog, drama: Drama, now: datetime, page: int = 0, *, threads: dict[int, int] | None = None
) -> discord.Embed:
    """`threads`: episode number → this server's discussion thread, linked in the episode list."""
    threads = threads or {}
    embed = discord.Embed(title=md(drama.display_title), description=drama.premise or None, colour=COLOUR)
    if drama.network:
        embed.add_field(name="Network", value=md(drama.network), inline=True)
    if drama.streamers:
        embed.add_field(name="Streaming", value=limits.join(map(md, drama.streamers), 1024, sep=", "), inline=True)
    schedule = drama.schedule or ("Released in batches" if drama.episodes and drama.episodes[0].is_release else "")
    if schedule:
        slot = f", {drama.air_time} ({drama.timezone})" if drama.air_time else ""
        embed.add_field(name="Schedule", value=schedule + slot, inline=True)
    credits = []
    if drama.writers:
        credits.append("Written by " + ", ".join(map(md, drama.writers)))
    if drama.directors:
        credits.append("Directed by " + ", ".join(map(md, drama.directors)))
    if credits:
        embed.add_field(name="Credits", value=limits.join(credits, limits.FIELD_VALUE), inline=False)
    main = [c for c in drama.characters.values() if c.billing == "main"]
    if main:
        lines = []
        for character in main:
            actors = [
                md(catalog.people[e.person].name) for e in drama.actors(character.slug) if e.person in catalog.people
            ]
            lines.append(f"{md(character.name)} — {' / '.join(actors) or '?'}")
        embed.add_field(name="Main cast", value=limits.join(lines, limits.FIELD_VALUE), inline=False)
    upcoming = drama.next_episode(now)
    if upcoming is not None and any(e.aired(now) for e in drama.episodes):
        embed.add_field(
            name="Next episode", value=f"Episode {upcoming.number}: {when(upcoming, drama.timezone)}", inline=False
        )
    elif upcoming is not None:
        embed.add_field(name="Premiere", value=f"Episode 1: {when(upcoming, drama.timezone)}", inline=False)
    pages = drama_pages(drama)
    page = min(max(page, 0), pages - 1)
    chunk = drama.episodes[page * EPISODES_PER_PAGE : (page + 1) * EPISODES_PER_PAGE]
    lines = [
        f"**{e.number}** · "
        + (release_day(drama.timezone, e) if not e.time_known else discord.utils.format_dt(e.air_at, "f"))
        + (f" · <#{threads[e.number]}>" if e.number in threads else "")
        for e in chunk
    ]
    name = f"Episodes ({drama.episode_count})" + (f" · page {page + 1}/{pages}" if pages > 1 else "")
    embed.add_field(name=name, value=limits.join(lines, limits.FIELD_VALUE), inline=False)
    embed.set_footer(text=f"{drama.slug} · /recap {drama.slug} EPISODE · /who NAME drama:{drama.slug}")
    return limits.finish(embed)


def progress_embed(catalog: Catalog, progress: dict[str, int]) -> discord.Embed:
    embed = discord.Embed(title="Your progress (the spoiler shield)", colour=COLOUR)
    if not progress:
        embed.description = (
            "Nothing set yet. `/progress set drama episode` lets `/recap` and `/who` show you what you've "
            "already watched, without spoiler bars, in replies only you can see."
        )
        return limits.finish(embed)
    lines = []
    for slug, episode in progress.items():
        drama = catalog.dramas.get(slug)
        title = md(drama.title) if drama else md(slug)
        total = f"/{drama.episode_count}" if drama else ""
        lines.append(f"**{title}**: episode {episode}{total}")
    embed.description = limits.join(lines, limits.DESCRIPTION)
    return limits.finish(embed)


def _chunks(lines: list[str], *, budget: int, size: int = limits.FIELD_VALUE) -> list[str]:
    """Lines packed into field-sized chunks, at most `budget` characters in all (Discord caps an
    embed at 6,000); what does not fit is counted in a last line."""
    chunks: list[str] = []
    current = ""
    used = 0
    for i, line in enumerate(lines):
        line = limits.fit(line, size)
        if used + len(line) > budget:
            if current:
                chunks.append(current)
            current = limits.more(len(lines) - i)
            break
        if len(current) + len(line) + 1 > size:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
        used += len(line) + 1
    if current:
        chunks.append(current)
    return chunks
