"""Shared plumbing of the crash suites (`tests/e2e/test_*_crash.py`, all marked `slow`).

Each suite runs the real bot in a child process against a standalone loopback Discord in the test
process (`SandboxServer` on the system clock, as the child uses the real clock), SIGKILLs it while
work is in flight and restarts it, 20 times (a few kills scripted, to reproduce a window exactly,
the rest at seeded-random points), then lets a last start finish the work and checks that nothing
was duplicated or lost. A suite that exposes a bug not fixed yet raises a `KnownBug` subclass from
its last checks and is marked `xfail(strict=True, raises=...)`.

What is shared here:

- `Child`: one bot process; its output goes to a file that is shown when a check fails.
- `crash_rig`/`CrashRig`: the sandbox server, the environment a self-hoster would set
  (`DISCORD_API_BASE`, `DISCORD_GATEWAY_URL`, `DATABASE_PATH` …), starting children, the kill loop,
  the log and violation checks at the end.
- `KillPoint`/`kill_points`: where each kill lands, seeded. Either at the child's n-th REST request
  after it connected — right after Discord handled it, before the answer reaches the bot (Discord
  did it, the bot never learned), or as it arrives, before Discord handles it (the bot decided,
  Discord never saw it) — or a time after it connected, which lands wherever the bot is (between
  two database steps, say). Counting requests rather than seconds puts kills inside the windows
  that matter whatever the machine's speed; the time limit also ends a child that ran out of work
  before its n-th request.
- `slow_creates`: Discord-like latency around creates (messages in channels, threads and DMs;
  threads; DM channels; events), so a kill by time can land between Discord making the thing and
  the bot recording it.
- Between kills the rig can make Discord forget the message nonces (`forget_nonces`): Discord
  dedupes `enforce_nonce` only for a few minutes, and a restart can come much later than that. A
  suite's kills then also cover the restarts where only the bot's own records (claims, lookups of
  its earlier posts) stand between a retry and a duplicate.
- `interact`: an INTERACTION_CREATE (a button press, a slash command) sent to whichever child
  holds the gateway, without waiting; `InteractionRecord.callback` tells whether Discord
  acknowledged it.
- `prepared_database`/`read`: the bot's database opened with its own repositories while no child
  runs (to prepare work, or to read results), and read with plain sqlite3 (read-only) while one may
  be writing.
- `CrashRig.request_log`: every REST request under the child that made it and where that child was
  killed; the suites write it to `requests.log` in their tmp_path as evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.server import API_PREFIX, SandboxServer
from bot.sandbox.world import InteractionRecord, World
from bot.scheduling import SystemClock
from bot.storage import Database

REPO = Path(__file__).resolve().parents[2]
# The bot as a self-hoster starts it, with discord.py's 2 s wait for more servers cut (crash_child.py).
FAST_CHILD: tuple[str, ...] = ("-m", "tests.e2e.crash_child")
BOT_RUN: tuple[str, ...] = ("-m", "bot", "run")  # exactly `python -m bot run`
POST_LATENCY = 0.015  # seconds before and after the sandbox creates a message
# Safety nets only (a hung child must not hang a suite); nothing asserts on time.
IDENTIFY_DEADLINE = 30.0
POLL = 0.02


class KnownBug(AssertionError):
    """A check failing because of a reported, not yet fixed bug. A suite whose test is marked
    `xfail(strict=True, raises=<its subclass>)` raises it from its last checks only: any other failed
    check still fails the test, and once the bug is fixed the test passes and strict xfail says so."""


class Child:
    """One bot process; its stdout and stderr go to a file shown when the test fails."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self.argv, self.env, self.cwd, self.log = tuple(argv), dict(env), cwd, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as output:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        self.sigkill()
        await self.proc.wait()

    def sigkill(self) -> None:
        """SIGKILL now (synchronously), unless it is gone already."""
        assert self.proc is not None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # exited, reaped, not yet noted by asyncio
                os.kill(self.proc.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def child_env(server: SandboxServer, db_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings a self-hoster would set, pointing at the sandbox (the shipped packs as catalog)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CATALOG_PATH", "DEV_GUILD_ID")}
    env.update(
        DISCORD_TOKEN="sandbox-token",
        DISCORD_API_BASE=server.api_base,
        DISCORD_GATEWAY_URL=server.gateway_url,
        DATABASE_PATH=str(db_path),
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p),
    )
    env.update(extra or {})
    return env


SLOW_OPS = ("create_message", "create_thread", "create_dm", "create_guild_scheduled_event")


def slow_creates(server: SandboxServer, stats: Counter[str], latency: float = POST_LATENCY) -> None:
    """Give creates (messages in channels, threads and DMs; threads; DM channels; events)
    Discord-like latency before and after Discord makes the thing, and count the message resends
    Discord recognised by their nonce (answered with the first message, not a new one)."""
    world = server.world

    def slowed(op: str, original: Callable[..., Awaitable[web.StreamResponse]]) -> Any:
        async def handler(request: Any, params: dict[str, str], body: Any, files: Any) -> web.StreamResponse:
            await asyncio.sleep(latency)
            nonce = (body or {}).get("nonce") if op == "create_message" else None
            if nonce is not None and world.recent_nonce(int(world.bot_user["id"]), str(nonce)):
                stats["resends recognised by nonce"] += 1
            response = await original(request, params, body, files)
            await asyncio.sleep(latency)
            return response

        return handler

    for op in SLOW_OPS:
        setattr(server, f"op_{op}", slowed(op, getattr(server, f"op_{op}")))


@dataclass(frozen=True)
class KillPoint:
    """Where one kill lands: at the child's `request`-th REST request after it connected — of
    operation `op` (an operationId of Discord's OpenAPI spec, e.g. "create_message"), or of any
    operation — after Discord handled it, or `before`; or `seconds` after it connected, whichever
    comes first."""

    seconds: float
    request: int | None = None
    op: str | None = None
    before: bool = False

    def describe(self) -> str:
        if self.request is None:
            return f"{self.seconds:.2f} s after connecting"
        which = f"{self.op} #{self.request}" if self.op else f"request #{self.request}"
        return f"{'before' if self.before else 'after'} {which}"


def kill_points(
    rng: random.Random,
    kills: int,
    *,
    seconds: tuple[float, float],
    requests: tuple[int, int] = (1, 16),
    ops: Sequence[str] = (),
    op_requests: tuple[int, int] = (1, 2),
    wait: float = 3.0,
    by_time: float = 0.3,
) -> list[KillPoint]:
    """`kills` seeded kill points. A share `by_time` at a time in `seconds` after the child
    connected; the others at a request: of one of `ops` (numbered in `op_requests`) or of any
    operation (numbered in `requests`), after Discord handled it or before — each of these
    combinations in turn, in a seeded order, so every one is tried when there are enough kills. A
    child that makes fewer requests dies `wait` seconds after it connected."""
    combos = [(op, before) for op in (None, *ops) for before in (False, True)]
    rng.shuffle(combos)
    points = []
    for _ in range(kills):
        if rng.random() < by_time:
            points.append(KillPoint(rng.uniform(*seconds)))
            continue
        op, before = combos[0]
        combos.append(combos.pop(0))
        number = rng.randint(*(op_requests if op else requests))
        points.append(KillPoint(wait, number, op, before))
    return points


@dataclass
class _Armed:
    child: Child
    point: KillPoint
    deadline: float  # loop time
    count: int = 0
    fired: str | None = None  # the request the kill landed at


class CrashRig:
    """The sandbox server, the children started against it, and the kill loop."""

    def __init__(
        self, tmp_path: Path, server: SandboxServer, *, entry: Sequence[str], env: Mapping[str, str] | None
    ) -> None:
        self.tmp_path = tmp_path
        self.server = server
        self.db_path = tmp_path / "bot.db"
        self.entry = tuple(entry)
        self.extra_env = dict(env or {})
        self.children: list[Child] = []
        self.stats: Counter[str] = Counter()
        self.kills_at: list[str] = []  # per kill: where it landed ("after create_message", "1.20 s" …)
        self._armed: _Armed | None = None
        self.request_marks: list[int] = []  # per child: how many REST requests came before its spawn
        server.app.middlewares.append(self._middleware)  # before the server starts (the app freezes)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Count the connected child's REST requests; SIGKILL it at its kill point's request."""
        armed = self._armed
        path = request.raw_path.split("?", 1)[0]
        if armed is None or armed.fired or not path.startswith(API_PREFIX) or not armed.child.alive():
            return await handler(request)
        op = self.server.spec.match(request.method, path[len(API_PREFIX) :])
        name = op.operation_id if op else f"{request.method} {request.path}"
        if armed.point.op is not None and armed.point.op != name:
            return await handler(request)
        armed.count += 1
        if armed.count != armed.point.request:
            return await handler(request)
        if armed.point.before:
            armed.fired = f"before {name}"
            armed.child.sigkill()
            return web.Response(status=503)  # nobody reads it: the bot is gone
        response = await handler(request)
        armed.fired = f"after {name}"
        armed.child.sigkill()  # before the answer is sent
        return response

    @property
    def world(self) -> World:
        return self.server.world

    @property
    def child(self) -> Child | None:
        """The newest child (alive or not)."""
        return self.children[-1] if self.children else None

    # -- children -----------------------------------------------------------------------------------
    async def spawn(self) -> Child:
        self.request_marks.append(len(self.server.requests))
        env = child_env(self.server, self.db_path, self.extra_env)
        child = Child(self.entry, env, self.tmp_path, self.tmp_path / f"child{len(self.children)}.log")
        self.children.append(child)
        await child.start()
        return child

    async def start(self) -> Child:
        """A new child, once it has identified on the gateway (the sandbox has sent it its server)."""
        identifies = self.server.identifies
        child = await self.spawn()
        await self.until(lambda: self.server.identifies > identifies, "the bot never connected", IDENTIFY_DEADLINE)
        return child

    async def until(self, done: Callable[[], bool], failure: str, deadline: float) -> None:
        """Wait until `done()`; fail with `failure` (and the logs) if the newest child exits first or
        the deadline (a safety net) passes."""
        loop = asyncio.get_running_loop()
        limit = loop.time() + deadline
        while not done():
            child = self.child
            assert child is not None and child.alive(), f"the bot exited by itself:\n{self.logs()}"
            assert loop.time() < limit, f"{failure} (after {deadline:.0f} s):\n{self.logs()}"
            await asyncio.sleep(POLL)

    async def kill_at(self, point: KillPoint) -> str:
        """Start a child and SIGKILL it at `point`; returns (and notes) where the kill landed."""
        child = await self.start()
        self.arm(child, point)
        return await self.until_killed()

    def arm(self, child: Child, point: KillPoint) -> None:
        """From now on, count `child`'s requests toward `point` (see `until_killed`)."""
        self._armed = _Armed(child, point, asyncio.get_running_loop().time() + point.seconds)

    async def until_killed(self) -> str:
        """Until the armed kill point's request has come (the child is killed then) or its time has
        passed (the child is killed now); returns (and notes) where the kill landed."""
        armed = self._armed
        assert armed is not None, "arm() a kill point first"
        child, point = armed.child, armed.point
        loop = asyncio.get_running_loop()
        try:
            while armed.fired is None and loop.time() < armed.deadline:
                assert child.alive() or armed.fired, f"the bot exited by itself:\n{self.logs()}"
                await asyncio.sleep(0.005)
        finally:
            self._armed = None
        if armed.fired:
            self.stats["kills at a request"] += 1
            where = f"{point.describe()} ({armed.fired})"
        else:
            self.stats["kills by time"] += 1
            meant = f" (meant: {point.describe()})" if point.request else ""
            where = f"{point.seconds:.2f} s after connecting{meant}"
        await self.kill(child, where)
        return where

    async def kill(self, child: Child, where: str) -> None:
        """SIGKILL `child` now (if it is not dead already) and note the kill."""
        await child.kill()
        self.kills_at.append(where)

    def forget_nonces(self) -> None:
        """Discord forgets every nonce, as if the next start came minutes later."""
        self.world.nonces.clear()
        self.stats["restarts after Discord forgot the nonces"] += 1

    async def kill_repeatedly(
        self,
        points: Sequence[KillPoint],
        rng: random.Random,
        *,
        before_start: Callable[[int], Awaitable[None] | None] | None = None,
        after_kill: Callable[[], Awaitable[None] | None] | None = None,
        forget_nonces: float = 0.5,
    ) -> None:
        """One start and one SIGKILL per point. `before_start(i)` runs before the i-th start (a suite
        lets work fall due), `after_kill()` after each kill (a suite notes where the kill left the
        work); both while no child runs. After a kill, with probability `forget_nonces`, Discord
        forgets every nonce, as if the next start came minutes later."""
        for i, point in enumerate(points):
            if before_start is not None:
                await _maybe_await(before_start(i))
            await self.kill_at(point)
            if after_kill is not None:
                await _maybe_await(after_kill())
            if rng.random() < forget_nonces:
                self.forget_nonces()

    async def stop_children(self) -> None:
        for child in self.children:
            if child.alive():
                await child.kill()

    # -- checks ---------------------------------------------------------------------------------------
    def logs(self) -> str:
        return "\n".join(f"--- child {i} ---\n{c.output()}" for i, c in enumerate(self.children))

    def request_log(self) -> str:
        """Every REST request, under the child it came from (and where each kill landed): evidence."""
        lines = []
        marks = [*self.request_marks, len(self.server.requests)]
        for i in range(len(self.children)):
            killed = f" (killed {self.kills_at[i]})" if i < len(self.kills_at) else ""
            lines.append(f"--- child {i}{killed} ---")
            for r in self.server.requests[marks[i] : marks[i + 1]]:
                lines.append(f"{r.status} {r.method} {r.path} {json.dumps(r.json) if r.json else ''}")
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """Tracebacks and errors any child logged."""
        return [line for line in self.logs().splitlines() if "Traceback" in line or " ERROR " in line]

    def assert_clean(self) -> None:
        """No request broke Discord's spec (nor came too late), no child logged an error."""
        assert self.server.violations == [], self.server.violations
        assert self.problems() == [], self.logs()


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if result is not None:
        await result


@asynccontextmanager
async def crash_rig(
    tmp_path: Path,
    *,
    entry: Sequence[str] = FAST_CHILD,
    env: Mapping[str, str] | None = None,
    world_setup: Callable[[World], None] | None = None,
) -> AsyncIterator[CrashRig]:
    """A started sandbox server and a rig for children against it; every child is killed at the end.
    `world_setup` changes the world before any child connects (e.g. more members)."""
    server = SandboxServer(World(SystemClock()))
    if world_setup is not None:
        world_setup(server.world)
    rig = CrashRig(tmp_path, server, entry=entry, env=env)  # before the start: it adds a middleware
    await server.start()
    try:
        yield rig
    finally:
        await rig.stop_children()
        await server.stop()


# -- the world --------------------------------------------------------------------------------------
def channel_id(world: World, name: str) -> int:
    channel = world.channel_by_name(name)
    assert channel is not None, name
    return int(channel["id"])


def add_members(world: World, count: int, *, prefix: str, first_id: int, roles: Sequence[int] = ()) -> list[int]:
    """`count` new members of the sandbox's server (before any child connects); their ids."""
    ids = []
    for n in range(count):
        user = World._user(first_id + n, f"{prefix}{n}")  # the world's own shapes of a user and a member
        ids.append(world._add_member(user, list(roles)))
    return ids


async def interact(
    server: SandboxServer,
    *,
    user_id: int,
    channel_id: int,
    type_: int,
    data: dict[str, Any],
    message: dict[str, Any] | None = None,
) -> InteractionRecord:
    """Send one INTERACTION_CREATE (as `user_id`, in `channel_id`) to whichever child holds the
    gateway, and return at once: `record.callback` is set once Discord acknowledged it. Sent while
    no child is connected, it is simply never answered (a member sees "This interaction failed")."""
    record = server.world.new_interaction(
        user_id=user_id, channel_id=channel_id, type_=type_, data=data, message=message
    )
    record.sent_at = time.perf_counter()
    await server.dispatch("INTERACTION_CREATE", record.payload)
    return record


def button(custom_id: str) -> dict[str, Any]:
    """The `data` of a button press."""
    return {"custom_id": custom_id, "component_type": 2}


# -- the database -----------------------------------------------------------------------------------
@asynccontextmanager
async def prepared_database(db_path: Path) -> AsyncIterator[Database]:
    """The bot's database, migrated, opened in the test process while no child runs (closed on exit)."""
    db = await Database.open(db_path)
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()


def read(db_path: Path, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Rows read with plain sqlite3, read-only, while a child may be writing."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
