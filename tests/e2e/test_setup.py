"""/setup through the sandbox: one flow sets every channel, the roles and the time zone, logs each
change for the moderators, and ends with a permission report; /settings check alone."""

from __future__ import annotations

from tests.e2e.conftest import Driver, text_of


async def test_setup_from_a_fresh_server_sets_everything_and_reports_permissions(drive: Driver) -> None:
    sb = drive.sandbox
    await drive.as_("member")
    refused = await drive.reply("/setup")
    assert "for moderators" in refused["content"]

    await drive.as_("mod")
    first = await drive.reply("/setup")
    assert first["ephemeral"] and "1 of 4" in first["content"]
    for kind, name in (
        ("mods", "mods"),
        ("recaps", "recaps"),
        ("discussions", "discussions"),
        ("announcements", "general"),
    ):
        picked = await sb.select(f"dw:setup:ch:{kind}", [sb.world.channel_by_name(name)["id"]])  # mods first: logged
        assert picked["error"] is None, picked
    host = await sb.add_role("Hosts", members=("member",))
    await drive.ok(":click 2 · Roles")
    await sb.select("dw:setup:role:host", [str(host)])
    await drive.ok(":click 3 · Time zone")
    await drive.ok(":pick Asia/Seoul")
    checked = await drive.ok(":click 4 · Check")
    report = text_of(checked["response"])
    assert "Permission check" in report and report.count("> ✅") == 4 and "all set" in report, report

    settings = await sb.bot.server_settings.get(sb.world.guild_id)
    ids = {
        kind: int(sb.world.channel_by_name(name)["id"])
        for kind, name in [
            ("mods", "mods"),
            ("recaps", "recaps"),
            ("discussions", "discussions"),
            ("announcements", "general"),
        ]
    }
    assert (settings.mods_channel_id, settings.recaps_channel_id) == (ids["mods"], ids["recaps"])
    assert (settings.discussions_channel_id, settings.announcements_channel_id) == (
        ids["discussions"],
        ids["announcements"],
    )
    assert settings.host_role_id == host and settings.timezone == "Asia/Seoul"

    log = [m["content"] for m in sb.world.messages[ids["mods"]] if m["content"].startswith("⚙️")]
    assert len(log) == 6, log  # mods itself, recaps, discussions, announcements, host role, time zone
    assert all(f"<@{sb.world.user_id('mod')}>" in line for line in log)
    assert any("Asia/Seoul" in line for line in log)

    alone = await drive.reply("/settings check")
    assert text_of(alone).count("> ✅") == 4


async def test_the_check_names_what_is_missing(drive: Driver) -> None:
    await drive.as_("mod")
    report = text_of(await drive.reply("/settings check"))
    assert "not set" in report and "something is missing" in report
