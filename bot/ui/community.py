"""Community recaps: the submission modal, the review card and its buttons, /recap lines."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.catalog import Drama
from bot.spoilers import spoiler
from bot.storage.community import CommunityRecap
from bot.text import quote
from bot.ui import limits
from bot.ui.help import COLOUR
from bot.ui.limits import md
from bot.ui.views import BaseModal, ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction

BODY_LIMIT = 4000
SUBMIT_TIMEOUT = 3 * 3600.0  # seconds a recap form stays valid: long enough to write one
REASON_TIMEOUT = 3600.0


class SubmitRecapModal(BaseModal, title="Write a recap"):
    headline: discord.ui.TextInput[SubmitRecapModal] = discord.ui.TextInput(
        label="Title", max_length=100, placeholder="A title, no spoilers"
    )
    text: discord.ui.TextInput[SubmitRecapModal] = discord.ui.TextInput(
        label="Your recap",
        style=discord.TextStyle.paragraph,
        max_length=BODY_LIMIT,
        placeholder="What happened, in your words. It is shown behind spoiler bars.",
    )

    def __init__(self, drama: Drama, episode: int, *, owner_id: int | None = None) -> None:
        # A new custom_id for every opening: members writing recaps of one episode at once each keep their own.
        super().__init__("recap-submit", owner_id=owner_id, timeout=SUBMIT_TIMEOUT)
        self.drama = drama
        self.episode = episode
        self.title = limits.plain(f"Recap: {drama.title} ep {episode}", limits.MODAL_TITLE)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await interaction.client.community.submit(
            interaction, self.drama, self.episode, self.headline.value, self.text.value
        )


class RejectReasonModal(BaseModal, title="Reject with a reason"):
    reason: discord.ui.TextInput[RejectReasonModal] = discord.ui.TextInput(
        label="Reason (shown to the author)", max_length=300, required=False, style=discord.TextStyle.paragraph
    )

    def __init__(self, recap_id: int, *, owner_id: int) -> None:
        # Only the moderator who opened it may submit it, and `decide` checks they still are one.
        super().__init__("recap-reason", owner_id=owner_id, timeout=REASON_TIMEOUT)
        self.recap_id = recap_id

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await interaction.client.community.decide(interaction, self.recap_id, "rejected", self.reason.value or None)


class ReviewButton(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dw:review:(?P<id>\d+):(?P<action>approve|reject|reason)",
):
    def __init__(self, recap_id: int, action: str) -> None:
        labels = {
            "approve": ("Approve", discord.ButtonStyle.success),
            "reject": ("Reject", discord.ButtonStyle.danger),
            "reason": ("Reject with reason…", discord.ButtonStyle.secondary),
        }
        label, style = labels[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"dw:review:{recap_id}:{action}"))
        self.recap_id = recap_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(int(match["id"]), match["action"])

    async def run(self, interaction: Interaction) -> None:
        community = interaction.client.community
        if self.action == "reason":
            await community.require_moderator(interaction)
            await interaction.response.send_modal(RejectReasonModal(self.recap_id, owner_id=interaction.user.id))
            return
        await community.decide(interaction, self.recap_id, "approved" if self.action == "approve" else "rejected", None)


def review_card(recap: CommunityRecap | None, drama: Drama | None, waiting: int) -> tuple[discord.Embed, Any]:
    if recap is None:
        empty = discord.Embed(title="No recaps waiting", description="The queue is empty.", colour=COLOUR)
        return limits.finish(empty), None
    title = md(drama.title) if drama else recap.drama
    embed = discord.Embed(title=f"{title} · Episode {recap.episode}: {quote(recap.title, 100)}", colour=COLOUR)
    body = spoiler(quote(recap.body, BODY_LIMIT))
    embed.description = body
    embed.add_field(name="By", value=f"<@{recap.author_id}> ({quote(recap.author_name, 60)})", inline=True)
    embed.add_field(name="Queue", value=f"1 of {waiting} waiting", inline=True)
    embed = limits.finish(embed)
    if embed.description != body:
        embed.set_footer(text="Shortened to fit a card: the recap is longer than shown.")
        embed = limits.finish(embed)
    view = discord.ui.View(timeout=None)
    for action in ("approve", "reject", "reason"):
        view.add_item(ReviewButton(recap.id, action))
    return embed, view


def recap_lines(recaps: list[CommunityRecap]) -> list[str]:
    """For /recap: title and author, the text behind spoiler bars (a short excerpt).

    Joined into one field by `limits.join`, which shortens each line with `fit` (closing the bars)."""
    lines = []
    for recap in recaps:
        text = recap.body if len(recap.body) <= 200 else recap.body[:199].rsplit(" ", 1)[0] + "…"
        lines.append(f"**{quote(recap.title, 80)}** by {quote(recap.author_name, 40)}: {spoiler(quote(text, 220))}")
    return lines


def outcome_text(recap: CommunityRecap, drama: Drama | None) -> str:
    title = md(drama.title) if drama else recap.drama
    if recap.state == "approved":
        return limits.content(
            f"Your recap “{quote(recap.title, 80)}” for {title} episode {recap.episode} was approved: it is "
            "posted for the server (in the episode's thread, if it has one) and shows in `/recap`. Thank you!"
        )
    reason = f" Reason: {quote(recap.reason, 300)}" if recap.reason else ""
    return limits.content(
        f"Your recap “{quote(recap.title, 80)}” for {title} episode {recap.episode} was not approved.{reason}"
    )


def submitted_text(drama: Drama, episode: int) -> str:
    """The reply to a submitted recap."""
    return limits.content(
        f"Thanks! Your recap for {md(drama.title)} episode {episode} waits for a moderator's review; "
        "I'll tell you how it went."
    )


POST_MARK = "Community recap #"  # in the footer of a posted recap: how a retry finds it in the channel


def recap_post_embed(recap: CommunityRecap, drama: Drama | None) -> discord.Embed:
    """An approved recap as posted: its text behind spoiler bars, credited to its author (no ping)."""
    title = md(drama.title) if drama else recap.drama
    embed = discord.Embed(title=f"{title} · Episode {recap.episode}: {quote(recap.title, 100)}", colour=COLOUR)
    embed.description = spoiler(quote(recap.body, BODY_LIMIT))
    embed.add_field(name="Written by", value=quote(recap.author_name, 60), inline=True)
    embed.set_footer(text=f"{POST_MARK}{recap.id} · approved by the moderators · spoilers hidden: click to reveal")
    return limits.finish(embed)


def submission_notice(recap_id: int, drama: Drama | None, drama_slug: str, episode: int, author_id: int) -> str:
    """The moderators' notice of a new submission: no plot, no ping (the author shows as a mention)."""
    title = md(drama.title) if drama else drama_slug
    return limits.content(
        f"📝 New community recap #{recap_id} for **{title}** episode {episode} by <@{author_id}>, waiting for "
        "review. Open the queue with the button or `/recaps review`."
    )


def queue_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewQueueButton())
    return view


class ReviewQueueButton(ReportingItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dw:review-queue"):
    """On the moderators' notice: opens the review queue (for moderators only)."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(label="Review", style=discord.ButtonStyle.primary, custom_id="dw:review-queue")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewQueueButton:
        return cls()

    async def run(self, interaction: Interaction) -> None:
        community = interaction.client.community
        await community.require_moderator(interaction)
        await community.show_queue(interaction, edit=False)
