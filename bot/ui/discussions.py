"""Episode threads: names, starter messages, rating buttons, announcements and the per-drama index."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.catalog import Drama, Episode
from bot.spoilers import spoiler
from bot.storage.discussions import RatingSummary
from bot.text import plural
from bot.ui import limits
from bot.ui.catalog import release_day, when
from bot.ui.help import COLOUR
from bot.ui.ids import drama_key, drama_slug
from bot.ui.limits import md
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction
    from bot.discussions import Airing, Followed, FollowResult

STARS = (1, 2, 3, 4, 5)


def thread_name(drama: Drama, episode: Episode) -> str:
    """No plot in names: title, episode number, a spoiler warning. At most 100 characters."""
    suffix = f" · Episode {episode.number} · spoilers"
    return limits.plain(drama.title, limits.THREAD_NAME - len(suffix)) + suffix


def rating_text(summary: RatingSummary) -> str:
    if not summary.votes:
        return "No ratings yet"
    votes = "vote" if summary.votes == 1 else "votes"
    return f"{summary.average:.1f} ★ ({summary.votes} {votes})"


def _neighbour(drama: Drama, number: int, threads: dict[int, int], arrow: str) -> str | None:
    episode = drama.episode(number)
    if episode is None:
        return None
    label = f"{arrow} Episode {number}" if arrow == "◀" else f"Episode {number} {arrow}"
    if number in threads:
        return f"{label}: <#{threads[number]}>"
    return f"{label}: {when(episode, drama.timezone)}"


def starter_embed(drama: Drama, episode: Episode, threads: dict[int, int], summary: RatingSummary) -> discord.Embed:
    """The first message of an episode's thread. `threads`: episode number → thread id, for links."""
    embed = discord.Embed(title=f"{md(drama.title)} · Episode {episode.number}", colour=COLOUR)
    embed.description = spoiler(episode.synopsis) if episode.synopsis else "No synopsis for this episode yet."
    embed.add_field(
        name="Released" if episode.is_release else "Aired", value=when(episode, drama.timezone), inline=False
    )
    links = [
        link
        for link in (
            _neighbour(drama, episode.number - 1, threads, "◀"),
            _neighbour(drama, episode.number + 1, threads, "▶"),
        )
        if link
    ]
    if links:
        embed.add_field(name="Episodes", value="\n".join(links), inline=False)
    embed.add_field(name="Rating", value=rating_text(summary), inline=False)
    embed.set_footer(text="Spoilers for this episode are fair game in this thread. Rate it with the buttons below.")
    return limits.finish(embed)


def announcement_text(drama: Drama, episode: Episode, thread_id: int) -> str:
    verb = "is out" if episode.is_release else "has aired"
    return limits.content(
        f"**{md(drama.title)}** episode {episode.number} {verb}. Discuss it (spoilers inside) in <#{thread_id}>."
    )


def index_text(drama: Drama, threads: dict[int, int], ratings: dict[int, RatingSummary]) -> str:
    """The pinned per-drama list of every episode thread, with air time and average rating."""
    head = f"**{md(drama.title)} — episode threads**"
    lines: list[str] = []
    for number in sorted(threads):
        episode = drama.episode(number)
        if episode is None:
            continue
        timed = episode.time_known
        date = discord.utils.format_dt(episode.air_at, "d") if timed else release_day(drama.timezone, episode)
        summary = ratings.get(number, RatingSummary(0, 0))
        rating = f" · {summary.average:.1f} ★ ({summary.votes})" if summary.votes else ""
        lines.append(f"Episode {number} · {date} · <#{threads[number]}>{rating}")
    body = limits.join(lines, limits.CONTENT - len(head) - 1, empty="No threads yet.")
    return limits.content(f"{head}\n{body}")


class RatingButton(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:rate:(?P<drama>[a-z0-9-]+):(?P<episode>\d+):(?P<stars>[1-5])",
):
    """1–5 ★ on an episode thread's starter message; keyed by custom_id, so it survives restarts.
    The drama is named by a short hash of its slug (`bot.ui.ids`): any slug fits in 100 characters."""

    def __init__(self, drama: str, episode: int, stars: int, *, key: str | None = None) -> None:
        key = key or drama_key(drama)
        super().__init__(
            discord.ui.Button(
                label=f"{stars} ★",
                style=discord.ButtonStyle.secondary,
                custom_id=limits.custom_id(f"dw:rate:{key}:{episode}:{stars}"),
            )
        )
        self.drama = drama
        self.episode = episode
        self.stars = stars

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RatingButton:
        key = match["drama"]
        slug = drama_slug(key, interaction.client.lookups.catalog.dramas) or key  # gone: vote() says so
        return cls(slug, int(match["episode"]), int(match["stars"]), key=key)

    async def run(self, interaction: Interaction) -> None:
        await interaction.client.discussions.vote(interaction, self.drama, self.episode, self.stars)


def rating_view(drama: Drama, episode: Episode) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if len(f"dw:rate:{drama_key(drama.slug)}:{episode.number}:5") > limits.CUSTOM_ID:
        return view  # a slug too long to carry in a button: no rating buttons rather than a refused message
    for stars in STARS:
        view.add_item(RatingButton(drama.slug, episode.number, stars))
    return view


def follow_text(drama: Drama, result: FollowResult) -> str:
    """The reply to `/follow add`."""
    title = md(drama.title)
    lines = [f"Following **{title}**." if result.added else f"This server already follows **{title}**."]
    if result.upcoming is not None:
        lines.append(
            f"{plural(result.jobs, 'episode thread')} will open at air time; next: episode {result.upcoming.number}, "
            f"{when(result.upcoming, drama.timezone)}."
        )
    else:
        lines.append("Every episode has aired, so nothing opens by itself; `/discuss` opens an episode's thread.")
    if not result.has_channel:
        lines.append("⚠️ No discussions channel yet: set one with `/settings channel kind:discussions`.")
    return limits.content("\n".join(lines))


def followed_text(followed: list[Followed], now: datetime) -> str:
    """The reply to `/follow list`."""
    lines = []
    for entry in followed:
        drama = entry.drama
        if drama is None:
            lines.append(f"`{entry.slug}` (no longer in the catalog)")
            continue
        upcoming = drama.next_episode(now)
        nxt = f"next: episode {upcoming.number}, {when(upcoming, drama.timezone)}" if upcoming else "finished"
        lines.append(f"**{md(drama.title)}** — {nxt}")
    return limits.join(lines, limits.CONTENT, empty="This server follows no drama yet: `/follow add drama`.")


def airing_text(rows: list[Airing], days: int, follows_any: bool) -> str:
    """The reply to `/airing`."""
    if not rows:
        hint = "" if follows_any else " This server follows no drama yet (moderators: `/follow add`)."
        return f"Nothing airs in the next {plural(days, 'day')}.{hint}"
    lines = [f"{when(r.episode, r.drama.timezone)} · **{md(r.drama.title)}** episode {r.episode.number}" for r in rows]
    head = f"**Airing in the next {plural(days, 'day')}**"
    return limits.content(f"{head}\n" + limits.join(lines, limits.CONTENT - len(head) - 1))
