"""Feed posts and the /feeds status lines."""

from __future__ import annotations

import re
import secrets
import string
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import discord

from bot.catalog import Drama
from bot.errors import InvalidInput, NotModerator, UserError
from bot.spoilers import spoiler
from bot.storage.feeds import Feed, Item
from bot.text import escape, plural, quote
from bot.ui import limits
from bot.ui.help import COLOUR
from bot.ui.limits import md
from bot.ui.views import BaseModal, ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction
    from bot.feeds.discover import Linked
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


TEMPLATE_FIELDS = ("title", "link", "author", "episode", "drama", "source")
TEMPLATE_LIMIT = 500
_ALLOWED = ", ".join(f"`{{{name}}}`" for name in TEMPLATE_FIELDS)


def check_template(text: str) -> str:
    """A post template as typed, checked: only the known placeholders, braces balanced (`{{`/`}}` for one)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidInput(
            f"`template`: unbalanced braces (write `{{{{` or `}}}}` for a brace). Allowed placeholders: {_ALLOWED}."
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or spec or conversion:
            shown = quote(
                "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}", 60
            )
            raise InvalidInput(f"`template`: {shown} is not a placeholder I know. Allowed placeholders: {_ALLOWED}.")
    if len(text) > TEMPLATE_LIMIT:
        raise InvalidInput(f"`template`: at most {TEMPLATE_LIMIT} characters.")
    return text


def episode_numbers(item: Item) -> str:
    if item.first_ep is None:
        return ""
    return str(item.first_ep) if item.first_ep == item.last_ep else f"{item.first_ep}–{item.last_ep}"


def render_template(template: str, item: Item, drama: Drama | None, source: str) -> str:
    """A post's message text: the moderator's template with the item's values, everything escaped
    (no markdown, no mentions from feed text); links stay clickable without a second preview."""
    values = {
        "title": item.title,
        "link": item.link,
        "author": author_name(item.author),
        "episode": episode_numbers(item),
        "drama": drama.title if drama else (item.drama or ""),
        "source": source,
    }
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(escape(literal))
        if name is not None:
            out.append(escape(" ".join(values.get(name, "").split())))
    return limits.content("".join(out))


SAMPLE_ITEM = Item(
    feed_id=0,
    key="sample",
    state="sample",
    title="Queen of Tears: Episode 12",
    link="https://example.com/queen-of-tears-episode-12",
    author="A. Recapper",
    published=None,
    excerpt="",
    drama=None,
    first_ep=12,
    last_ep=12,
)


def health(feed: Feed) -> str:
    if feed.state == "disabled":
        return "⛔ disabled"
    if feed.failures:
        return f"⚠️ failing ({feed.failures} in a row)"
    if not feed.primed:
        return "⏳ first check pending"
    return "✅ healthy"


def feed_status(feed: Feed) -> str:
    """One feed in `/feeds list`: its title, health, address, where it posts, its drama filter, counts."""
    name = quote(feed.title, 100) if feed.title else quote(feed.url, 100)
    where = f"<#{feed.channel_id}>" if feed.channel_id else "the episode's thread, else the recaps channel"
    only = f"only {md(feed.drama)}" if feed.drama else "every followed or known drama"
    lines = [f"**#{feed.id} · {name}** — {health(feed)}", f"{quote(feed.url, 300)} · posts to {where} · {only}"]
    if feed.state == "disabled":
        reason = quote(feed.disabled_reason or "unknown", 300)
        lines.append(f"⛔ disabled: {reason}. `/feeds add` the same URL turns it back on.")
    else:
        status = []
        if feed.last_success:
            status.append(f"last success {discord.utils.format_dt(feed.last_success, 'R')}")
        if feed.failures:
            status.append(
                f"{plural(feed.failures, 'failure')} in a row; last error: {quote(feed.last_error or '?', 300)}"
            )
        if feed.next_poll:
            status.append(f"next check {discord.utils.format_dt(feed.next_poll, 'R')}")
        if status:
            lines.append(" · ".join(status))
    if feed.template:
        lines.append(f"template: {quote(feed.template, 300)}")
    if feed.include_words or feed.exclude_words:
        filters = []
        if feed.include_words:
            filters.append(f"titles with {quote(feed.include_words.replace(',', ', '), 200)}")
        if feed.exclude_words:
            filters.append(f"not {quote(feed.exclude_words.replace(',', ', '), 200)}")
        lines.append("filters: " + " · ".join(filters))
    counts = f"posted {feed.items_posted} · unmatched {feed.items_unmatched}"
    if feed.items_filtered:
        counts += f" · filtered {feed.items_filtered}"
    lines.append(counts)
    return limits.content("\n".join(lines))


def edited_text(feed: Feed, preview: str | None) -> str:
    """The reply to `/feeds edit`: the feed's status and, with a template, a post's text rendered now."""
    text = f"Saved feed #{feed.id}.\n{feed_status(feed)}"
    if preview is not None:
        text += f"\n\n**Preview** of a post's text:\n{preview}"
    return limits.content(text)


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
    lines = [f"**{quote(title, 100)}**: {plural(len(previews), 'item')}."]
    for preview in previews[:15]:
        name = quote(preview.title or "(no title)", 90)
        if preview.match:
            found, first, last = preview.match
            eps = f"episode {first}" if first == last else f"episodes {first}–{last}"
            lines.append(f"✅ {name} → {md(found.title)} {eps}")
        else:
            lines.append(f"➖ {name} → no episode matched (skipped)")
    return limits.join(lines, limits.CONTENT)


def pick_text(url: str, choices: list[Linked]) -> str:
    return limits.content(f"{quote(url, 200)} is a web page that links to {len(choices)} feeds. Pick the one to add:")


def feed_pick_view(choices: list[Linked], drama: str | None, channel_id: int | None) -> discord.ui.View:
    options = [
        discord.SelectOption(
            label=limits.plain(c.title or c.url, limits.OPTION_LABEL),
            value=str(i),
            description=limits.plain(c.url, limits.OPTION_DESCRIPTION),
        )
        for i, c in enumerate(choices[: limits.OPTIONS])
    ]
    view = discord.ui.View(timeout=None)
    view.add_item(FeedPick(_remember(choices, drama, channel_id), options))
    return view


# The discovered feeds a pick list offers, by a token in its custom_id (a URL can be longer than a
# select value may be). Kept in memory: after a restart the list says it expired.
_PENDING: dict[str, tuple[list[str], str | None, int | None]] = {}


def _remember(choices: list[Linked], drama: str | None, channel_id: int | None) -> str:
    token = secrets.token_hex(6)
    if len(_PENDING) > 500:
        _PENDING.pop(next(iter(_PENDING)))
    _PENDING[token] = ([c.url for c in choices], drama, channel_id)
    return token


class FeedPick(
    ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:feeds:pick:(?P<token>[0-9a-f]+)"
):
    def __init__(self, token: str, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="Which feed?",
                options=options or [discord.SelectOption(label="?", value="0")],
                custom_id=f"dw:feeds:pick:{token}",
            )
        )
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedPick:
        return cls(match["token"])

    async def run(self, interaction: Interaction) -> None:
        if not await interaction.client.server_settings.is_moderator(interaction):
            raise NotModerator()
        pending = _PENDING.get(self.token)
        data: Any = interaction.data or {}
        values = data.get("values") or []
        if pending is None or not values or not str(values[0]).isdigit() or int(values[0]) >= len(pending[0]):
            raise InvalidInput("This list has expired; run `/feeds add` again.")
        urls, drama, channel_id = pending
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        url = urls[int(values[0])]
        checked = await interaction.client.feeds.check(url)
        added = await interaction.client.feeds.add_and_poll(
            interaction.guild_id, checked.url, drama, channel_id, interaction.user.id
        )
        _PENDING.pop(self.token, None)
        await interaction.followup.send(added_text(added.feed, checked.url, added.reenabled), ephemeral=True)


# -- /feeds unmatched ---------------------------------------------------------------------------


def unmatched_text(count: int) -> str:
    if not count:
        return "No unmatched feed items: everything new was matched to an episode (or dismissed)."
    return limits.content(
        f"{plural(count, 'recent unmatched item')} (newest first). Pick one to assign it to an episode "
        "(it is posted then), or dismiss it."
    )


def unmatched_view(items: list[tuple[Item, str]]) -> discord.ui.View | None:
    """Two selects over the same items: assign (opens a form) and dismiss."""
    options: list[discord.SelectOption] = []
    for item, source in items[: limits.OPTIONS]:
        when = f" · {item.published:%Y-%m-%d}" if item.published else ""
        made = limits.option(item.title or "(no title)", str(item.id), f"{source}{when}")
        if made is not None:
            options.append(made)
    if not options:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(UnmatchedPick("assign", options))
    dismiss = [
        discord.SelectOption(label=limits.plain(f"Dismiss: {o.label}", limits.OPTION_LABEL), value=o.value)
        for o in options
    ]
    view.add_item(UnmatchedPick("dismiss", dismiss))
    return view


class UnmatchedPick(
    ReportingItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"dw:feeds:unmatched:(?P<action>assign|dismiss)",
):
    def __init__(self, action: str, options: list[discord.SelectOption] | None = None) -> None:
        placeholder = "Assign an item to an episode…" if action == "assign" else "Dismiss an item…"
        super().__init__(
            discord.ui.Select(
                placeholder=placeholder,
                options=options or [discord.SelectOption(label="?", value="0")],
                custom_id=f"dw:feeds:unmatched:{action}",
            )
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UnmatchedPick:
        return cls(match["action"])

    async def run(self, interaction: Interaction) -> None:
        data: Any = interaction.data or {}
        values = data.get("values") or []
        if not values or not str(values[0]).isdigit():
            raise InvalidInput("Pick an item from the list.")
        item_id = int(values[0])
        feeds = interaction.client.feeds
        if self.action == "dismiss":
            item = await feeds.dismiss(interaction, item_id)  # checks the moderator again
            await interaction.response.send_message(
                f"Dismissed {quote(item.title or '(no title)', 100)}: it is not listed again.", ephemeral=True
            )
            return
        item = await feeds.unmatched_item(interaction, item_id)  # moderator and still unmatched, or raises
        await interaction.response.send_modal(AssignModal(item_id, item.title, owner_id=interaction.user.id))


class AssignModal(BaseModal, title="Assign to an episode"):
    drama: discord.ui.TextInput[AssignModal] = discord.ui.TextInput(
        label="Drama", max_length=100, placeholder="Its title, e.g. Queen of Tears"
    )
    episodes: discord.ui.TextInput[AssignModal] = discord.ui.TextInput(
        label="Episode or range", max_length=9, placeholder="5 or 5-6"
    )

    def __init__(self, item_id: int, item_title: str, *, owner_id: int) -> None:
        # A new custom_id for every opening (BaseModal); only its opener may submit it, and the
        # service checks they are still a moderator.
        super().__init__("feed-assign", owner_id=owner_id, timeout=3600.0)
        self.item_id = item_id
        self.title = limits.plain(f"Assign: {item_title or 'item'}", limits.MODAL_TITLE)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        try:
            drama = interaction.client.lookups.drama(self.drama.value).drama
        except UserError as error:
            raise InvalidInput(f"`drama`: {error.message}") from None
        feeds = interaction.client.feeds
        first, last = await feeds.check_assign(interaction, self.item_id, drama, self.episodes.value)
        await interaction.response.defer(ephemeral=True, thinking=True)
        posted = await feeds.assign(interaction, self.item_id, drama, first, last)
        eps = f"episode {first}" if first == last else f"episodes {first}–{last}"
        said = "posted" if posted else "claimed; it goes out as soon as I can post there"
        await interaction.followup.send(
            limits.content(f"Assigned to {md(drama.title)} {eps} and {said}."), ephemeral=True
        )
