"""`/setup`: one guided flow (selects and buttons) through channels, roles and time zone, ending in
a permission check. Every step saves at once, so the flow can be left and taken up again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import NotModerator
from bot.guild_setup import Report, suggested_zone, zone_choices
from bot.storage.guild_settings import CHANNEL_KINDS, GuildSettings
from bot.ui.help import COLOUR
from bot.ui.views import ReportingItem

if TYPE_CHECKING:
    from bot.client import Interaction

PAGES = ("channels", "roles", "zone", "check")
PURPOSE = {
    "recaps": "Recaps channel: new recaps from feeds",
    "discussions": "Discussions: episode threads (a text or forum channel)",
    "announcements": "Announcements: new episodes, watch parties",
    "mods": "Mods channel: warnings and the settings log",
}
NONE = "none"


def _channel_options(guild: discord.Guild, kind: str, current: int | None) -> list[discord.SelectOption]:
    allowed: tuple[type, ...] = (
        (discord.TextChannel, discord.ForumChannel) if kind == "discussions" else (discord.TextChannel,)
    )
    channels = sorted((c for c in guild.channels if isinstance(c, allowed)), key=lambda c: (c.position, c.id))
    hint = {"recaps": "recap", "discussions": "discuss", "announcements": "announce", "mods": "mod"}[kind]
    channels.sort(key=lambda c: hint not in c.name)  # likely candidates first, then the rest in order
    options = [
        discord.SelectOption(
            label=f"#{c.name}"[:100],
            value=str(c.id),
            description="forum" if isinstance(c, discord.ForumChannel) else None,
            default=c.id == current,
        )
        for c in channels[:25]
    ]
    return options or [discord.SelectOption(label="(no suitable channel)", value=NONE)]


def _role_options(guild: discord.Guild, current: int | None) -> list[discord.SelectOption]:
    roles = [r for r in reversed(guild.roles) if not r.is_default() and not r.managed][:24]
    options = [discord.SelectOption(label="No role", value=NONE, default=current is None)]
    options += [discord.SelectOption(label=f"@{r.name}"[:100], value=str(r.id), default=r.id == current) for r in roles]
    return options


def _nav(view: discord.ui.View, page: str) -> None:
    labels = {"channels": "1 · Channels", "roles": "2 · Roles", "zone": "3 · Time zone", "check": "4 · Check"}
    for target in PAGES:
        view.add_item(SetupPage(target, labels[target], current=target == page))


def report_embed(report: Report) -> discord.Embed:
    embed = discord.Embed(
        title="Permission check" + (": all set ✅" if report.ok else ": something is missing"), colour=COLOUR
    )
    for check in report.channels:
        if check.channel_id is None:
            value = "not set — pick one on page 1"
        elif check.missing:
            value = f"<#{check.channel_id}>: I need **{', '.join(check.missing)}** there"
        else:
            value = f"<#{check.channel_id}> ✅"
        embed.add_field(name=check.kind, value=value[:1024], inline=False)
    if report.guild_missing:
        embed.add_field(
            name="Server-wide",
            value=f"My role lacks **{', '.join(report.guild_missing)}** (Server Settings → Roles → Dramawatch).",
            inline=False,
        )
    embed.set_footer(text="Grant what is missing, then run the check again (/settings check, or the button).")
    return embed


def setup_page(
    guild: discord.Guild, settings: GuildSettings, page: str, report: Report | None = None
) -> tuple[str, discord.Embed | None, discord.ui.View]:
    """(content, embed, view) of one page of the flow."""
    view = discord.ui.View(timeout=None)
    embed: discord.Embed | None = None
    if page == "channels":
        content = "**Setup · 1 of 4 — channels.** Pick a channel for each purpose (it is saved at once)."
        for kind in CHANNEL_KINDS:
            view.add_item(SetupChannel(kind, _channel_options(guild, kind, settings.channel_id(kind))))
    elif page == "roles":
        content = (
            "**Setup · 2 of 4 — roles.** The moderator role may use moderator commands (besides Manage "
            "Server); the host role may schedule and manage its own watch parties."
        )
        view.add_item(SetupRole("mod", _role_options(guild, settings.mod_role_id)))
        view.add_item(SetupRole("host", _role_options(guild, settings.host_role_id)))
    elif page == "zone":
        content = (
            f"**Setup · 3 of 4 — time zone.** Times moderators type (watch parties) are read in it. "
            f"Now: `{settings.timezone}`; suggested from the server's language: `{suggested_zone(guild)}`. "
            "Any other: `/settings timezone`."
        )
        zones = zone_choices(guild, settings.timezone)
        view.add_item(
            SetupZone([discord.SelectOption(label=z, value=z, default=z == settings.timezone) for z in zones])
        )
    else:
        content = "**Setup · 4 of 4 — permission check.**"
        embed = report_embed(report) if report is not None else None
    _nav(view, page)
    return content, embed, view


async def _guard(interaction: Interaction) -> discord.Guild:
    if interaction.guild is None or not await interaction.client.server_settings.is_moderator(interaction):
        raise NotModerator()
    return interaction.guild


async def show(interaction: Interaction, page: str, *, edit: bool) -> None:
    guild = await _guard(interaction)
    settings = await interaction.client.server_settings.get(guild.id)
    report = await interaction.client.guild_setup.check(guild) if page == "check" else None
    content, embed, view = setup_page(guild, settings, page, report)
    if edit:
        await interaction.response.edit_message(content=content, embed=embed, view=view)
    elif embed is not None:
        await interaction.response.send_message(content, embed=embed, view=view, ephemeral=True)
    else:
        await interaction.response.send_message(content, view=view, ephemeral=True)


def _picked(interaction: Interaction) -> str:
    data: Any = interaction.data or {}
    values = data.get("values") or []
    return str(values[0]) if values else NONE


class SetupPage(ReportingItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dw:setup:page:(?P<page>\w+)"):
    def __init__(self, page: str, label: str = "", *, current: bool = False) -> None:
        style = discord.ButtonStyle.primary if current else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label or page, style=style, custom_id=f"dw:setup:page:{page}"))
        self.page = page if page in PAGES else "channels"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SetupPage:
        return cls(match["page"])

    async def run(self, interaction: Interaction) -> None:
        await show(interaction, self.page, edit=True)


class SetupChannel(
    ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:setup:ch:(?P<kind>[a-z]+)"
):
    def __init__(self, kind: str, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder=PURPOSE.get(kind, kind)[:150],
                options=options or [discord.SelectOption(label="?", value=NONE)],
                custom_id=f"dw:setup:ch:{kind}",
            )
        )
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SetupChannel:
        return cls(match["kind"])

    async def run(self, interaction: Interaction) -> None:
        guild = await _guard(interaction)
        picked = _picked(interaction)
        channel = guild.get_channel(int(picked)) if picked.isdigit() else None
        if self.kind in PURPOSE and isinstance(channel, discord.TextChannel | discord.ForumChannel):
            if isinstance(channel, discord.ForumChannel) and self.kind != "discussions":
                channel = None
        if self.kind in PURPOSE and channel is not None:
            await interaction.client.guild_setup.change(
                guild,
                interaction.user,
                f"the **{self.kind}** channel is now {channel.mention}",
                **{f"{self.kind}_channel_id": channel.id},
            )
        await show(interaction, "channels", edit=True)


class SetupRole(
    ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:setup:role:(?P<which>mod|host)"
):
    def __init__(self, which: str, options: list[discord.SelectOption] | None = None) -> None:
        placeholder = "Moderator role" if which == "mod" else "Watch party host role (optional)"
        super().__init__(
            discord.ui.Select(
                placeholder=placeholder,
                options=options or [discord.SelectOption(label="No role", value=NONE)],
                custom_id=f"dw:setup:role:{which}",
            )
        )
        self.which = which

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SetupRole:
        return cls(match["which"])

    async def run(self, interaction: Interaction) -> None:
        guild = await _guard(interaction)
        picked = _picked(interaction)
        role = guild.get_role(int(picked)) if picked.isdigit() else None
        if role is not None and (role.is_default() or role.managed):
            role = None
        field = "mod_role_id" if self.which == "mod" else "host_role_id"
        name = "moderator role" if self.which == "mod" else "watch party host role"
        what = f"the {name} is now {role.mention}" if role else f"the {name} is cleared"
        await interaction.client.guild_setup.change(guild, interaction.user, what, **{field: role.id if role else None})
        await show(interaction, "roles", edit=True)


class SetupZone(ReportingItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dw:setup:tz"):
    def __init__(self, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="The server's time zone",
                options=options or [discord.SelectOption(label="UTC", value="UTC")],
                custom_id="dw:setup:tz",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SetupZone:
        return cls()

    async def run(self, interaction: Interaction) -> None:
        from bot import timezones

        guild = await _guard(interaction)
        zone = timezones.resolve(_picked(interaction), "timezone")
        await interaction.client.guild_setup.change(
            guild, interaction.user, f"the time zone is now `{zone}`", timezone=zone
        )
        await show(interaction, "zone", edit=True)
