"""RSVP presses across crashes: members keep pressing Going / Maybe / Can't on a watch party's
announcement while the real bot in a child process is SIGKILLed 20 times and restarted; a last start
takes the end of the burst. Then every press Discord acknowledged is recorded (each member's RSVP
is their last acknowledged press, or a later one recorded before a kill cut its answer), the
announcement shows the recorded counts, also right after a restart with no press, and nothing was
posted twice (the announcement stays the only message; each press got at most one answer).

The party and its announcement (the embed and the RSVP buttons `WatchParties.schedule` posts) are
made before the first start; 40 members press (seeded-random: a press every 10–50 ms, a member at
most every 0.5 s) through the persistent buttons (custom_id `dw:rsvp:<party>:<status>`). A press
sent while no child is connected is never acknowledged (the member sees "This interaction failed"),
which is allowed; a press Discord acknowledged is the bot's promise.

The kills (tests/e2e/crash.py): three scripted, then 17 seeded-random ones at the child's n-th
request (any, an answer to a press, an announcement edit; after Discord handled it, or before) or
at a time. Scripted: (1) a single press, killed as Discord acknowledges it; (2) a single
press, killed as its announcement edit arrives (recorded and confirmed, the counts not yet shown);
(3) at rest, 1.5 s after the next start (no press since), when the announcement should show the
recorded counts.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import load_catalog_or_raise
from bot.nonce import nonce
from bot.sandbox.world import InteractionRecord, World
from bot.server_settings import ServerSettings
from bot.settings import DEFAULT_CATALOG_PATH
from bot.storage.watchparties import PartiesRepo, Party
from bot.ui.watchparties import announcement_embed, rsvp_view
from bot.watchparties import RSVP_EDIT_INTERVAL
from tests.e2e.crash import (
    CrashRig,
    KillPoint,
    add_members,
    button,
    channel_id,
    crash_rig,
    interact,
    kill_points,
    prepared_database,
    read,
)

pytestmark = pytest.mark.slow  # run by .ci/run with `-m slow`, not by the default `python -m pytest`

SEED = 20261203
RANDOM_KILLS = 17  # + 3 scripted = 20
MEMBERS = 40
FIRST_MEMBER = 1100000000000005000
STATUSES = ("going", "maybe", "cant")
PRESS_GAP = (0.01, 0.05)  # seconds between two presses
REPRESS = 0.5  # seconds before the same member presses again
TAIL = 1.5  # seconds the burst goes on once the last child is up
DEADLINE = 30.0  # a safety net only


def add_crowd(world: World) -> None:
    add_members(world, MEMBERS, prefix="fan", first_id=FIRST_MEMBER)


async def prepare(rig: CrashRig) -> tuple[Party, dict[str, Any]]:
    """A party in three days, and its announcement in #general as the bot posts it."""
    world = rig.world
    general = channel_id(world, "general")
    drama = load_catalog_or_raise([DEFAULT_CATALOG_PATH]).dramas["queen-of-tears"]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    async with prepared_database(rig.db_path) as db:
        await ServerSettings(db).update(world.guild_id, announcements_channel_id=general)
        party = await PartiesRepo(db).create(
            Party(
                guild_id=world.guild_id,
                drama=drama.slug,
                first_episode=1,
                last_episode=2,
                start_at=start,
                end_at=start + timedelta(minutes=140),
                timezone="UTC",
                channel_id=None,
                location="Online",
                repeat="none",
                reminders=(60,),
                note="",
                created_by=world.mina,
            )
        )
        view = rsvp_view(party)
        assert view is not None
        body = {
            "embeds": [announcement_embed(drama, party, dict.fromkeys(STATUSES, 0)).to_dict()],
            "components": view.to_components(),
            "nonce": nonce("party", party.id),
        }
        message = world.new_message(general, world.bot_user, body)
        world.store_message(message)
        party = party.with_(announce_channel=general, announcement_id=int(message["id"]))
        await PartiesRepo(db).update(party)
    return party, message


class Burst:
    """Presses by seeded-random members, one every 10–50 ms, while `running`."""

    def __init__(self, rig: CrashRig, party: Party, message: dict[str, Any], rng: random.Random) -> None:
        self.rig, self.party, self.message, self.rng = rig, party, message, rng
        self.presses: list[tuple[InteractionRecord, str]] = []  # (the interaction, the status), in order
        self.running = True

    async def press(self, member: int, status: str) -> InteractionRecord:
        record = await interact(
            self.rig.server,
            user_id=member,
            channel_id=int(self.message["channel_id"]),
            type_=3,
            data=button(f"dw:rsvp:{self.party.id}:{status}"),
            message=self.message,
        )
        self.presses.append((record, status))
        return record

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last: dict[int, float] = {}
        while self.running:
            # Not the first two members (the scripted presses), nor one who pressed within REPRESS:
            # two presses of one member in flight at once may be recorded in either order.
            ready = [
                m for m in range(FIRST_MEMBER + 2, FIRST_MEMBER + MEMBERS) if loop.time() - last.get(m, -1e9) > REPRESS
            ]
            member = self.rng.choice(ready)
            last[member] = loop.time()
            await self.press(member, self.rng.choice(STATUSES))
            await asyncio.sleep(self.rng.uniform(*PRESS_GAP))


def rsvps(rig: CrashRig, party_id: int) -> dict[int, str]:
    rows = read(rig.db_path, "SELECT user_id, status FROM rsvps WHERE party_id = ?", (party_id,))
    return {r["user_id"]: r["status"] for r in rows}


def rsvp_line(message: dict[str, Any]) -> str:
    return str(next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == "RSVP"))


def counts_line(statuses: dict[int, str]) -> str:
    counts = Counter(statuses.values())
    return f"Going: {counts['going']} · Maybe: {counts['maybe']} · Can't: {counts['cant']}"


async def test_sigkilled_twenty_times_during_a_burst_of_rsvp_presses_every_acknowledged_press_recorded(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    async with crash_rig(tmp_path, world_setup=add_crowd) as rig:
        party, announcement = await prepare(rig)
        burst = Burst(rig, party, announcement, random.Random(SEED + 1))

        # Scripted: one press (by a member who presses nothing else), killed right after Discord
        # acknowledged it.
        child = await rig.start()
        rig.arm(child, KillPoint(DEADLINE, 1, "create_interaction_response"))
        scripted = await burst.press(FIRST_MEMBER, "going")
        await rig.until_killed()
        assert scripted.callback is not None, "the scripted press was not acknowledged"
        # Scripted: one press (by another such member), killed as its announcement edit arrives.
        child = await rig.start()
        rig.arm(child, KillPoint(DEADLINE, 1, "update_message", before=True))
        edited = await burst.press(FIRST_MEMBER + 1, "maybe")
        await rig.until_killed()
        assert edited.callback is not None, "the second scripted press was not answered"
        # Scripted: at rest, a while after the next start: the announcement shows what is recorded?
        child = await rig.start()
        await asyncio.sleep(RSVP_EDIT_INTERVAL + 0.5)
        shown_after_restart = (rsvp_line(announcement), counts_line(rsvps(rig, party.id)))
        await rig.kill(child, "at rest, after a restart with no press")

        producer = asyncio.create_task(burst.run())
        try:
            points = kill_points(
                rng,
                RANDOM_KILLS,
                seconds=(0.2, 1.5),
                requests=(1, 40),
                ops=("create_interaction_response", "update_message"),
                op_requests=(1, 12),
                wait=1.5,
            )
            await rig.kill_repeatedly(points, rng)
            # The last start takes the end of the burst.
            child = await rig.start()
            connected = len(burst.presses)
            await asyncio.sleep(TAIL)
        finally:
            burst.running = False
            await producer
        final = [record for record, _ in burst.presses[connected:]]
        await rig.until(
            lambda: all(r.callback is not None for r in final), "presses to the last child went unanswered", DEADLINE
        )
        await rig.until(
            lambda: rsvp_line(announcement) == counts_line(rsvps(rig, party.id)),
            "the announcement does not show the recorded counts",
            DEADLINE,
        )
        await rig.stop_children()
    (tmp_path / "requests.log").write_text(rig.request_log())  # evidence, kept with the test's tmp_path
    acknowledged = [(r, status) for r, status in burst.presses if r.callback is not None]
    print(
        f"\n{len(burst.presses)} presses, {len(acknowledged)} acknowledged, {len(rig.children)} starts; "
        f"{dict(rig.stats)}\nkills: {rig.kills_at}"
    )
    world = rig.world

    # Nothing posted twice: the announcement is the only message; a press got at most one answer
    # (a second one Discord refuses) and at most one follow-up (after a "thinking…" acknowledgement).
    assert [m["id"] for ms in world.messages.values() for m in ms] == [announcement["id"]]
    assert all(len(r.followups) <= 1 for r, _ in burst.presses), "a press confirmed twice"
    # Each member's RSVP is their last acknowledged press — or a later press the bot recorded and was
    # killed before answering ("This interaction failed", the answer saved all the same). Nobody has
    # an RSVP they never pressed.
    recorded = rsvps(rig, party.id)
    pressed: dict[int, list[tuple[InteractionRecord, str]]] = {}
    for record, status in burst.presses:
        pressed.setdefault(record.user_id, []).append((record, status))
    lost = []
    for member, status_now in recorded.items():
        assert status_now in {s for _, s in pressed.get(member, [])}, f"member {member}: {status_now!r} never pressed"
    for member, presses in pressed.items():
        acked = [i for i, (record, _) in enumerate(presses) if record.callback is not None]
        if not acked:
            continue
        record, status = presses[acked[-1]]
        allowed = {status} | {s for r, s in presses[acked[-1] + 1 :]}
        if recorded.get(member) in allowed:
            continue
        lost.append(f"member {member}: {status!r} acknowledged ({record.callback}), recorded {recorded.get(member)!r}")
    # Counts right: the announcement shows the recorded RSVPs.
    assert rsvp_line(announcement) == counts_line(recorded)
    rig.assert_clean()
    assert rig.stats["kills at a request"] >= 5, rig.stats

    # Every acknowledged press recorded (a press is written before it is acknowledged); the counts
    # shown after a restart are the recorded ones (a start edits announcements a crash left stale).
    shown, stored = shown_after_restart
    if shown != stored:
        lost.append(f"after the restart the announcement showed {shown!r}, recorded: {stored!r}")
    assert not lost, f"{len(lost)} problem(s): " + "; ".join(lost)
