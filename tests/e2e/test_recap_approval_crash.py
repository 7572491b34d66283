"""Community recap approval across crashes: moderators approve and reject a queue of submitted
recaps, pressing the review card's buttons in a burst, while the real bot in a child process is
SIGKILLed 20 times and restarted; a last start takes the rest. Then every recap is reviewed exactly
once, as its moderator decided; every approved recap is posted in #recaps exactly once (the
server's recaps channel: no episode thread is open), recorded with its message, and no rejected one
is; and every author hears of each of their recaps exactly once: by DM, or — when their DMs are
closed, or the DM never went out — as a notice after their next command (each author runs `/help`
at the end). Nothing else lands in a server channel.

The queue: 60 recaps by 20 authors (5 of them with DMs closed), stored as `/recaps submit` stores
them. Three moderators press Approve / Reject (seeded) on review cards (custom_id
`dw:review:<id>:<action>`, persistent) every 50–120 ms; a press Discord never acknowledged (sent
while no child was connected, or killed before its answer) is pressed again a second later, as a
moderator would, and then may meet "Another moderator already reviewed that recap".

The kills (tests/e2e/crash.py): two scripted, then 18 seeded-random ones at the child's n-th
request (any, an interaction answer, a message create (the posts and the DMs), a DM channel create;
after Discord handled it, or before) or at a time. Scripted: (1) an approval killed as its author's
DM is created (the post out and recorded, the DM out, the bot never learned); (2) an approval killed
as its answer to the moderator arrives (the review recorded, nothing else done yet).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Drama, load_catalog_or_raise
from bot.nonce import nonce
from bot.sandbox.world import InteractionRecord, World
from bot.server_settings import ServerSettings
from bot.settings import DEFAULT_CATALOG_PATH
from bot.storage.community import CommunityRecap, CommunityRepo
from bot.ui.community import POST_MARK, outcome_text
from tests.e2e.crash import (
    CrashRig,
    KillPoint,
    KnownBug,
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

SEED = 20261204
RANDOM_KILLS = 18  # + 2 scripted = 20
AUTHORS, CLOSED_DMS, RECAPS_EACH = 20, 5, 3
FIRST_AUTHOR, FIRST_MOD = 1100000000000006000, 1100000000000007000
MODERATORS = 3
PRESS_GAP = (0.05, 0.12)
RETRY_AFTER = 1.0  # seconds before a moderator presses an unanswered button again
DRAMA = "queen-of-tears"
DEADLINE = 30.0  # a safety net only


class ApprovalKnownBugs(KnownBug):
    """An author told twice about one recap, or an approved recap never posted."""


def add_people(world: World) -> None:
    authors = add_members(world, AUTHORS, prefix="writer", first_id=FIRST_AUTHOR)
    world.dms_closed.update(authors[:CLOSED_DMS])
    add_members(world, MODERATORS, prefix="reviewer", first_id=FIRST_MOD, roles=[world.moderator_role])


async def prepare(rig: CrashRig) -> list[int]:
    """The recaps channel set, the submitted recaps (oldest first); their ids."""
    ids = []
    async with prepared_database(rig.db_path) as db:
        await ServerSettings(db).update(rig.world.guild_id, recaps_channel_id=channel_id(rig.world, "recaps"))
        repo = CommunityRepo(db)
        for n in range(AUTHORS * RECAPS_EACH):
            author = FIRST_AUTHOR + n % AUTHORS
            episode = 1 + n % 16
            ids.append(
                await repo.submit(
                    rig.world.guild_id,
                    DRAMA,
                    episode,
                    author,
                    f"writer{n % AUTHORS}",
                    f"Recap {n + 1}",
                    f"What happened in episode {episode}, as writer{n % AUTHORS} saw it (recap {n + 1}).",
                )
            )
    return ids


@dataclass
class Press:
    recap_id: int
    action: str
    record: InteractionRecord


class Reviewers:
    """Moderators pressing Approve / Reject through the queue; unanswered presses are pressed again."""

    def __init__(self, rig: CrashRig, recap_ids: list[int], rng: random.Random) -> None:
        self.rig, self.rng = rig, rng
        self.channel = channel_id(rig.world, "mods")
        self.action = {recap_id: rng.choice(("approve", "approve", "reject")) for recap_id in recap_ids}
        self.queue = list(recap_ids)
        self.presses: list[Press] = []
        self.running = True

    def card(self, recap_id: int) -> dict[str, Any]:
        """The ephemeral review card the buttons are on (the moderator's `/recaps review`)."""
        world = self.rig.world
        buttons = [
            {
                "type": 2,
                "style": 3 if action == "approve" else 4,
                "label": action.title(),
                "custom_id": f"dw:review:{recap_id}:{action}",
            }
            for action in ("approve", "reject")
        ]
        body = {"content": "", "components": [{"type": 1, "components": buttons}], "flags": 64}
        return world.new_message(self.channel, world.bot_user, body)

    async def press(self, recap_id: int, moderator: int | None = None) -> Press:
        action = self.action[recap_id]
        record = await interact(
            self.rig.server,
            user_id=moderator or FIRST_MOD + self.rng.randrange(MODERATORS),
            channel_id=self.channel,
            type_=3,
            data=button(f"dw:review:{recap_id}:{action}"),
            message=self.card(recap_id),
        )
        press = Press(recap_id, action, record)
        self.presses.append(press)
        return press

    async def retry_if_unanswered(self, press: Press) -> None:
        await asyncio.sleep(RETRY_AFTER)
        if press.record.callback is None:
            self.queue.append(press.recap_id)

    async def run(self) -> None:
        retries: set[asyncio.Task[None]] = set()
        while self.running:
            if self.queue:
                press = await self.press(self.queue.pop(0))
                task = asyncio.create_task(self.retry_if_unanswered(press))
                retries.add(task)
                task.add_done_callback(retries.discard)
            await asyncio.sleep(self.rng.uniform(*PRESS_GAP))
        for task in list(retries):
            task.cancel()

    def answered(self, recap_id: int) -> bool:
        return any(p.recap_id == recap_id and p.record.callback is not None for p in self.presses)


def recap_states(rig: CrashRig) -> dict[int, tuple[str, int, int | None]]:
    rows = read(rig.db_path, "SELECT id, state, author_notified, reviewer_id FROM community_recaps")
    return {r["id"]: (r["state"], r["author_notified"], r["reviewer_id"]) for r in rows}


def post_states(rig: CrashRig) -> dict[int, tuple[str, int | None, int | None]]:
    rows = read(rig.db_path, "SELECT id, post_state, post_channel_id, post_message_id FROM community_recaps")
    return {r["id"]: (r["post_state"], r["post_channel_id"], r["post_message_id"]) for r in rows}


def note_kill(rig: CrashRig, seen: set[int]) -> None:
    """Count the kill if it left a recap reviewed and its author not told (new since the last kill)."""
    waiting = {r for r, (state, notified, _) in recap_states(rig).items() if state != "pending" and not notified}
    if waiting - seen:
        rig.stats["kills between a review and its notice"] += 1
    seen |= waiting


async def test_sigkilled_twenty_times_during_a_burst_of_approvals_each_author_told_exactly_once(
    tmp_path: Path,
) -> None:
    catalog = load_catalog_or_raise([DEFAULT_CATALOG_PATH])
    drama: Drama = catalog.dramas[DRAMA]
    rng = random.Random(SEED)
    async with crash_rig(tmp_path, world_setup=add_people) as rig:
        recap_ids = await prepare(rig)
        reviewers = Reviewers(rig, recap_ids, random.Random(SEED + 1))

        # Scripted: one approval of an author who takes DMs, killed as the DM is created (the second
        # message create: the first is the recap's post in #recaps).
        scripted_id = next(r for r in recap_ids if (r - recap_ids[0]) % AUTHORS >= CLOSED_DMS)
        reviewers.action[scripted_id] = "approve"
        reviewers.queue.remove(scripted_id)
        child = await rig.start()
        rig.arm(child, KillPoint(DEADLINE, 2, "create_message"))
        await reviewers.press(scripted_id, FIRST_MOD)
        await rig.until_killed()
        seen: set[int] = set()
        note_kill(rig, seen)
        # Scripted: another approval, killed as its answer to the moderator arrives.
        unanswered_id = next(r for r in reviewers.queue if (r - recap_ids[0]) % AUTHORS >= CLOSED_DMS)
        reviewers.action[unanswered_id] = "approve"
        reviewers.queue.remove(unanswered_id)
        child = await rig.start()
        rig.arm(child, KillPoint(DEADLINE, 1, "create_interaction_response", before=True))
        await reviewers.press(unanswered_id, FIRST_MOD)
        await rig.until_killed()
        note_kill(rig, seen)

        producer = asyncio.create_task(reviewers.run())
        try:
            points = kill_points(
                rng,
                RANDOM_KILLS,
                seconds=(0.2, 1.5),
                requests=(1, 24),
                ops=("create_interaction_response", "create_message", "create_dm"),
                op_requests=(1, 6),
                wait=1.5,
            )
            await rig.kill_repeatedly(points, rng, after_kill=lambda: note_kill(rig, seen))
            # The last start: the moderators go on until every recap's press is answered.
            await rig.start()
            connected = len(reviewers.presses)
            await rig.until(
                lambda: all(reviewers.answered(r) for r in recap_ids if r not in (scripted_id, unanswered_id)),
                "presses went unanswered",
                DEADLINE,
            )
        finally:
            reviewers.running = False
            await producer
        await rig.until(
            lambda: all(p.record.callback is not None for p in reviewers.presses[connected:]),
            "presses to the last child went unanswered",
            DEADLINE,
        )
        # Each author uses the bot once more: reviews they have not heard of come as notices.
        commands = {}
        for author in range(FIRST_AUTHOR, FIRST_AUTHOR + AUTHORS):
            data = {"id": str(rig.world.snowflake()), "name": "help", "type": 1}
            commands[author] = await interact(
                rig.server, user_id=author, channel_id=channel_id(rig.world, "general"), type_=2, data=data
            )
        await rig.until(
            lambda: all(notified for _, notified, _ in recap_states(rig).values()),
            "some authors were never told",
            DEADLINE,
        )
        await asyncio.sleep(0.5)  # the last notices' follow-ups
        await rig.stop_children()
    (tmp_path / "requests.log").write_text(rig.request_log())  # evidence, kept with the test's tmp_path
    print(
        f"\n{len(recap_ids)} recaps, {len(reviewers.presses)} presses, {len(rig.children)} starts; "
        f"{dict(rig.stats)}\nkills: {rig.kills_at}"
    )
    world = rig.world

    # Each recap reviewed once, as decided, by a moderator.
    moderators = set(range(FIRST_MOD, FIRST_MOD + MODERATORS))
    states = recap_states(rig)
    wanted = {r: "approved" if reviewers.action[r] == "approve" else "rejected" for r in recap_ids}
    assert {r: s for r, (s, _, _) in states.items()} == wanted
    assert all(reviewer in moderators for _, _, reviewer in states.values())
    # Each answered press answered once.
    assert all(len(p.record.followups) <= 1 for p in reviewers.presses)
    # Posts: in #recaps only, each approved recap at most once, none rejected, each recorded.
    recaps_channel = channel_id(world, "recaps")
    others = [m for c in world.channels if c != recaps_channel for m in world.messages.get(c, [])]
    assert others == [], "messages in a server channel other than #recaps"
    posted = Counter(m["nonce"] for m in world.messages[recaps_channel])
    assert {n: c for n, c in posted.items() if c != 1} == {}, "a recap was posted twice"
    post_of = {nonce("recap-post", r): r for r in recap_ids}
    assert set(posted) <= {nonce("recap-post", r) for r, a in reviewers.action.items() if a == "approve"}
    posts = post_states(rig)
    for message in world.messages[recaps_channel]:
        recap_id = post_of[message["nonce"]]
        assert message["embeds"][0]["footer"]["text"].startswith(f"{POST_MARK}{recap_id} ")
        assert posts[recap_id] == ("sent", recaps_channel, int(message["id"])), f"recap {recap_id}: {posts[recap_id]}"
    unposted = [r for r, a in reviewers.action.items() if a == "approve" and nonce("recap-post", r) not in posted]
    assert [r for r in unposted if posts[r][0] != ""] == [], "approved recaps claimed but never posted"

    # Every author told of every recap: by DM, or as a notice after /help; never more than once by DM.
    async with prepared_database(rig.db_path) as db:
        repo = CommunityRepo(db)
        recaps: dict[int, CommunityRecap] = {}
        for recap_id in recap_ids:
            recap = await repo.get(recap_id)
            assert recap is not None
            recaps[recap_id] = recap
    dm_of = {int(c["recipients"][0]["id"]): int(c["id"]) for c in world.dms.values()}
    dms = Counter((author, m["content"]) for author, dm in dm_of.items() for m in world.messages.get(dm, []))
    notices = Counter((author, m["content"]) for author, record in commands.items() for m in record.followups)
    told: dict[int, tuple[int, int]] = {}
    for recap_id, recap in recaps.items():
        text = outcome_text(recap, drama)
        told[recap_id] = (dms[(recap.author_id, text)], notices[(recap.author_id, text)])
    texts = {(r.author_id, outcome_text(r, drama)) for r in recaps.values()}
    assert set(dms) <= texts and set(notices) <= texts, "DMs or notices nobody should have had"
    assert {r: t for r, t in told.items() if t[0] > 1 or t[1] > 1} == {}, "the same DM (or notice) twice"
    assert {r: t for r, t in told.items() if t == (0, 0)} == {}, "authors never told"
    closed = set(range(FIRST_AUTHOR, FIRST_AUTHOR + CLOSED_DMS))
    assert all(dms[key] == 0 for key in dms if key[0] in closed), "a DM to an author who does not take them"
    assert all(commands[a].callback is not None for a in commands)
    rig.assert_clean()
    assert rig.stats["kills between a review and its notice"] >= 3, rig.stats

    # Last, the known bugs (ApprovalKnownBugs): a DM and then a notice for the same review; an
    # approved recap never claimed, so never posted.
    twice = {r: t for r, t in told.items() if t == (1, 1)}
    if twice or unposted:
        raise ApprovalKnownBugs(
            f"told by DM and again as a notice (recap: (DMs, notices)): {twice}; approved, never posted: {unposted}"
        )
