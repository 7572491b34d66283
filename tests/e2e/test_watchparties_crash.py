"""Watch-party reminders and "starting now" posts exactly once across crashes: the real bot in a
child process is SIGKILLed 20 times while reminders and starts of watch parties fall due in bursts,
and restarted; a last start finishes. Then every reminder (each of its messages: a reminder that
mentions many members is split over several) and every "starting now" post is in #general exactly
once, recorded as sent with its message; every started weekly party has exactly one successor, with
its Discord event and its announcement.

Parties are stored as `/watchparty schedule` stores them (PartiesRepo, RsvpRepo, one job per
reminder and one for the start, deduped as `WatchParties` does), at times chosen so their jobs fall
due when the suite lets them: before each start, a seeded batch of two parties is scheduled, either
starting now, or starting in two minutes (after the suite) with their 2-minute reminder due now and
their 5-minute one three minutes late (as after downtime). Some have 150 members going (their
reminders take two messages each), some repeat weekly.

The kills (tests/e2e/crash.py): four scripted, then 16 seeded-random ones at the child's n-th
request (of any kind, a message create, an event create; after Discord handled it, or before) or at
a time. Scripted: (1) a two-message reminder killed after its first message went out (and Discord
forgets the nonces, as if the next start came minutes later); (2) at rest, once party B's 5-minute
reminder is out; (3) B's 1-minute reminder killed as its message is sent (claimed, never out); (4)
a weekly party killed as its successor's Discord event is created (its start post out, the party
marked started).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.catalog import Drama, load_catalog_or_raise
from bot.nonce import nonce
from bot.scheduling import Scheduler, SystemClock
from bot.server_settings import ServerSettings
from bot.settings import DEFAULT_CATALOG_PATH
from bot.storage.jobs import JobsRepo
from bot.storage.watchparties import PartiesRepo, Party, RsvpRepo
from bot.ui.watchparties import reminder_texts, starting_text
from bot.watchparties import REMIND, START, weekly_next
from tests.e2e.crash import (
    CrashRig,
    KillPoint,
    KnownBug,
    channel_id,
    crash_rig,
    kill_points,
    prepared_database,
    read,
    slow_creates,
)

pytestmark = pytest.mark.slow  # run by .ci/run with `-m slow`, not by the default `python -m pytest`

SEED = 20261202
RANDOM_KILLS = 16  # + 4 scripted = 20
CROWD = 150  # members going to a crowded party: its reminders take two messages
DRAMAS = ("queen-of-tears", "lovely-runner", "crash-landing-on-you")
DEADLINE = 60.0  # a safety net only


@dataclass(frozen=True)
class Plan:
    """A party to schedule: reminders due now ("remind"), or starting now ("start")."""

    due: str  # "remind" | "start"
    drama: str
    episode: int
    crowd: bool = False
    weekly: bool = False
    jobs: tuple[str, ...] | None = None  # only these jobs ("start", "remind:5" …); None: all


def batches(rng: random.Random, count: int) -> list[list[Plan]]:
    """The random part's work: before each start, the next batch of two parties is scheduled."""
    episodes = Counter({"queen-of-tears": 1, "lovely-runner": 1, "crash-landing-on-you": 2})  # the scripted ones
    made = []
    for _ in range(count):
        batch = []
        for _ in range(2):
            drama = rng.choice(DRAMAS)
            episodes[drama] += 1
            due = rng.choice(("remind", "start"))
            crowd = due == "remind" and rng.random() < 0.5
            weekly = due == "start" and rng.random() < 0.4
            batch.append(Plan(due, drama, episodes[drama], crowd=crowd, weekly=weekly))
        made.append(batch)
    return made


class PartyPostsLost(KnownBug):
    """Reminder messages, reminders or weekly successors lost: a retry that took a split reminder's
    first message for all of it, one reminder for another, or gave up on a started weekly party's
    successor (all three were bugs this suite found; fixed in bot/watchparties.py)."""


@dataclass
class Ledger:
    """What the suite scheduled: party ids, and the jobs it let fall due (party id, post kind)."""

    parties: dict[int, Plan] = field(default_factory=dict)
    due: list[tuple[int, str]] = field(default_factory=list)
    weekly: list[int] = field(default_factory=list)


async def prepare(rig: CrashRig) -> None:
    async with prepared_database(rig.db_path) as db:
        await ServerSettings(db).update(
            rig.world.guild_id,
            announcements_channel_id=channel_id(rig.world, "general"),
            mods_channel_id=channel_id(rig.world, "mods"),
        )


async def schedule(rig: CrashRig, ledger: Ledger, plans: list[Plan]) -> list[int]:
    """Store the parties, their RSVPs and their jobs (while no child runs); returns their ids."""
    world = rig.world
    general = channel_id(world, "general")
    ids = []
    async with prepared_database(rig.db_path) as db:
        parties, rsvps, scheduler = PartiesRepo(db), RsvpRepo(db), Scheduler(JobsRepo(db), SystemClock())
        now = datetime.now(UTC).replace(microsecond=0)
        for plan in plans:
            # "remind": starting in two minutes (after the suite), its 2-minute reminder due now and
            # its 5-minute one three minutes late (as after downtime); "start": starting now (its
            # reminders went out before: no jobs left for them).
            reminders = (5, 2) if plan.due == "remind" else (5, 1)
            start = now + timedelta(minutes=2) if plan.due == "remind" else now
            party = await parties.create(
                Party(
                    guild_id=world.guild_id,
                    drama=plan.drama,
                    first_episode=plan.episode,
                    last_episode=plan.episode,
                    start_at=start,
                    end_at=start + timedelta(minutes=70),
                    timezone="UTC",
                    channel_id=None,
                    location="Online",
                    repeat="weekly" if plan.weekly else "none",
                    reminders=reminders,
                    note="",
                    created_by=world.mina,
                )
            )
            party = party.with_(announce_channel=general)
            await parties.update(party)
            going = CROWD if plan.crowd else 8
            members = [1_200_000_000_000_000_000 + party.id * 1000 + n for n in range(going)]
            await rsvps.set_many(party.id, [(member, "going") for member in members])
            wanted = plan.jobs or (
                (*(f"remind:{m}" for m in reminders), "start") if plan.due == "remind" else ("start",)
            )
            for kind in wanted:
                if kind == "start":
                    await scheduler.ensure(START, {"party_id": party.id}, start, dedupe_key=f"party:{party.id}:start")
                else:
                    minutes = int(kind.split(":")[1])
                    due = start - timedelta(minutes=minutes)
                    payload = {"party_id": party.id, "minutes": minutes}
                    await scheduler.ensure(REMIND, payload, due, dedupe_key=f"party:{party.id}:remind:{minutes}")
                if kind != "start" or plan.due == "start":
                    ledger.due.append((party.id, kind))
            ledger.parties[party.id] = plan
            if plan.weekly and "start" in wanted and plan.due == "start":
                ledger.weekly.append(party.id)
            ids.append(party.id)
    return ids


def posts(rig: CrashRig) -> dict[tuple[int, str], int | None]:
    rows = read(rig.db_path, "SELECT party_id, kind, message_id FROM party_posts")
    return {(r["party_id"], r["kind"]): r["message_id"] for r in rows}


def busy_jobs(rig: CrashRig) -> int:
    rows = read(
        rig.db_path,
        "SELECT COUNT(*) AS n FROM jobs WHERE kind IN (?, ?) AND state IN ('pending', 'running') AND due_at <= ?",
        (REMIND, START, int(datetime.now(UTC).timestamp() * 1000)),
    )
    return int(rows[0]["n"])


def note_kill(rig: CrashRig) -> None:
    if any(message_id is None for message_id in posts(rig).values()):
        rig.stats["kills between a claim and its post recorded"] += 1


def all_done(rig: CrashRig, ledger: Ledger) -> bool:
    recorded = posts(rig)
    return all(recorded.get(key) is not None for key in ledger.due) and busy_jobs(rig) == 0


async def test_sigkilled_twenty_times_while_reminders_and_starts_fall_due_each_post_sent_exactly_once(
    tmp_path: Path,
) -> None:
    catalog = load_catalog_or_raise([DEFAULT_CATALOG_PATH])
    dramas: dict[str, Drama] = {slug: catalog.dramas[slug] for slug in DRAMAS}
    rng = random.Random(SEED)
    ledger = Ledger()
    async with crash_rig(tmp_path) as rig:
        slow_creates(rig.server, rig.stats)
        await prepare(rig)

        # Scripted 1: a two-message reminder, killed once its first message went out.
        await schedule(rig, ledger, [Plan("remind", "queen-of-tears", 1, crowd=True, jobs=("remind:2", "start"))])
        await rig.kill_at(KillPoint(DEADLINE, 1, "create_message"))
        rig.forget_nonces()  # the next start comes minutes later: only the bot's records can tell
        # Scripted 2: party B, only its 5-minute reminder due; killed once it is out.
        (b,) = await schedule(rig, ledger, [Plan("start", "lovely-runner", 1, jobs=("remind:5",))])
        child = await rig.start()
        await rig.until(lambda: posts(rig).get((b, "remind:5")) is not None, "B's reminder was not sent", DEADLINE)
        await rig.kill(child, "at rest, once B's 5-minute reminder was out")
        # Scripted 3: B's 1-minute reminder due; killed as its message arrives (claimed, never sent).
        async with prepared_database(rig.db_path) as db:
            party = await PartiesRepo(db).get(b)
            assert party is not None
            due = party.start_at - timedelta(minutes=1)
            await Scheduler(JobsRepo(db), SystemClock()).ensure(
                REMIND, {"party_id": b, "minutes": 1}, due, dedupe_key=f"party:{b}:remind:1"
            )
        ledger.due.append((b, "remind:1"))
        await rig.kill_at(KillPoint(DEADLINE, 1, "create_message", before=True))
        note_kill(rig)
        # Scripted 4: a weekly party starting now, killed as its successor's event is created.
        await schedule(rig, ledger, [Plan("start", "crash-landing-on-you", 2, weekly=True, jobs=("start",))])
        await rig.kill_at(KillPoint(DEADLINE, 1, "create_guild_scheduled_event", before=True))

        points = kill_points(
            rng,
            RANDOM_KILLS,
            seconds=(0.2, 1.5),
            requests=(1, 10),
            ops=("create_message", "create_guild_scheduled_event"),
            op_requests=(1, 4),
            wait=1.5,
        )
        work = iter(batches(random.Random(SEED + 1), RANDOM_KILLS))

        async def before_start(i: int) -> None:
            await schedule(rig, ledger, next(work, []))

        await rig.kill_repeatedly(points, rng, before_start=before_start, after_kill=lambda: note_kill(rig))

        # The last start: it runs until every due post is out.
        await rig.start()
        await rig.until(lambda: all_done(rig, ledger), "the due posts were not all sent", DEADLINE)
        await rig.stop_children()
    (tmp_path / "requests.log").write_text(rig.request_log())  # evidence, kept with the test's tmp_path
    print(f"\n{len(ledger.due)} posts due, {len(rig.children)} starts; {dict(rig.stats)}\nkills: {rig.kills_at}")

    world = rig.world
    general = world.messages[channel_id(world, "general")]
    async with prepared_database(rig.db_path) as db:
        parties_repo, rsvps = PartiesRepo(db), RsvpRepo(db)
        stored: dict[int, Party] = {}
        for row in read(rig.db_path, "SELECT id FROM watch_parties"):
            party = await parties_repo.get(row["id"])
            assert party is not None
            stored[party.id] = party
        going = {party_id: await rsvps.going(party_id) for party_id in stored}
    recorded = posts(rig)

    # Every message in #general: a post the suite let fall due, or a successor's announcement; each
    # nonce once (a second message for one nonce is a duplicate), with the text the bot would send.
    expected: dict[str, tuple[int, str, int]] = {}  # nonce -> (party, kind, part)
    texts: dict[str, str] = {}
    for party_id, kind in ledger.due:
        party = stored[party_id]
        drama = dramas[party.drama]
        if kind == "start":
            expected[nonce("party", party_id, kind)] = (party_id, kind, 0)
            texts[nonce("party", party_id, kind)] = starting_text(drama, party, None)
        else:
            for i, text in enumerate(reminder_texts(drama, party, going[party_id], int(kind.split(":")[1]))):
                expected[nonce("party", party_id, kind, i)] = (party_id, kind, i)
                texts[nonce("party", party_id, kind, i)] = text
    successors = {pid: p for pid, p in stored.items() if pid not in ledger.parties}
    for party_id in successors:
        expected[nonce("party", party_id)] = (party_id, "announcement", 0)
    counts = Counter(m["nonce"] for m in general)
    assert {n: c for n, c in counts.items() if c != 1} == {}, "a post was sent twice"
    assert set(counts) <= set(expected), "posts nobody scheduled"
    for message in general:
        if message["nonce"] in texts:
            assert message["content"] == texts[message["nonce"]]
    by_nonce = {m["nonce"]: m for m in general}
    for where, channel in world.channels.items():
        if channel["name"] != "general":
            assert world.messages.get(where, []) == [], f"messages in #{channel['name']}"

    # Start posts: out, recorded, the party started.
    for party_id, kind in ledger.due:
        if kind == "start":
            post = by_nonce.get(nonce("party", party_id, "start"))
            assert post is not None, f"party {party_id}: no 'starting now' post"
            assert recorded[(party_id, kind)] == int(post["id"])
            assert stored[party_id].state == "started"
    # Successors: at most one per weekly party (its next episodes, a week later), and nothing else.
    successor_of: dict[int, list[Party]] = {weekly: [] for weekly in ledger.weekly}
    for successor in successors.values():
        weekly = next(
            (
                w
                for w in ledger.weekly
                if (stored[w].drama, stored[w].last_episode + 1, weekly_next(stored[w]))
                == (successor.drama, successor.first_episode, successor.start_at)
            ),
            None,
        )
        assert weekly is not None, f"party {successor.id}: nobody scheduled it"
        successor_of[weekly].append(successor)
    assert {w: [s.id for s in f] for w, f in successor_of.items() if len(f) > 1} == {}, "a party repeated twice"
    rig.assert_clean()
    assert rig.stats["kills between a claim and its post recorded"] >= 3, rig.stats

    # Last, the losses the suite first found (PartyPostsLost).
    lost = []
    for party_id, kind in ledger.due:
        if kind == "start":
            continue
        parts = reminder_texts(
            dramas[stored[party_id].drama], stored[party_id], going[party_id], int(kind.split(":")[1])
        )
        out = [i for i in range(len(parts)) if nonce("party", party_id, kind, i) in by_nonce]
        first = by_nonce.get(nonce("party", party_id, kind, 0))
        if out == list(range(len(parts))) and first is not None and recorded[(party_id, kind)] == int(first["id"]):
            continue
        others = {int(m["id"]) for n, m in by_nonce.items() if n in expected and expected[n][0] == party_id}
        if first is None and recorded[(party_id, kind)] not in others:
            raise AssertionError(f"party {party_id}: the {kind} reminder was never sent")  # not the known bug
        got = recorded[(party_id, kind)]
        lost.append(f"party {party_id} {kind}: messages {out} of {len(parts)} out, recorded message {got}")
    live_keys = {r["dedupe_key"] for r in read(rig.db_path, "SELECT dedupe_key FROM jobs WHERE state = 'pending'")}
    for weekly, found in successor_of.items():
        complete = [
            s
            for s in found
            if s.event_id in {int(e) for e in world.events}
            and s.announcement_id is not None
            and int(by_nonce.get(nonce("party", s.id), {"id": 0})["id"]) == s.announcement_id
            and f"party:{s.id}:start" in live_keys
        ]
        if not complete:
            lost.append(f"weekly party {weekly}: successor {[(s.id, s.event_id, s.announcement_id) for s in found]}")
    if lost:
        raise PartyPostsLost("; ".join(lost))
