"""This process among those sharing one database (PostgreSQL; with SQLite there is only ever one).

Every `lease / 3` it renews the leases of the jobs it runs, releases the jobs whose lease ran out
(their process stopped renewing them: it died), and writes its heartbeat (latency, running jobs)
for `python -m bot status`. At start it refuses a name another live process uses: two processes
under one name would renew and finish each other's claims.

Shards follow the processes (when sharded): a shard no live process runs, whose last process has
been silent for a lease, is taken over by the live process with the first name (it reconnects with
that shard added: `on_reshard`), and handed back once a live process started for that shard
(SHARD_IDS) is back; that process waits at start until its shards are free, so a shard never runs
in two processes at once.

Leases are in the bot's clock (the jobs' time: the sandbox's manual clock moves them); heartbeats
are in wall time, as `status` reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.scheduling.clock import Clock
from bot.storage.jobs import JobsRepo
from bot.storage.processes import ProcessesRepo, ProcessRow

log = logging.getLogger(__name__)


class NameInUse(Exception):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def plan(
    me: str,
    configured: tuple[int, ...],
    held: tuple[int, ...],
    count: int,
    rows: list[ProcessRow],
    now: datetime,
    lease: timedelta,
    since: datetime,
) -> tuple[int, ...]:
    """The shards this process should run: what it holds, less what a live process started for them
    wants back, plus (for the live process with the first name only) every shard no live process
    runs whose last process has been silent for a lease (and, for a shard nobody ever ran, since
    this process started: `since`)."""
    live = [r for r in rows if r.name != me and r.stopped_at is None and now - r.heartbeat_at <= lease]
    wanted = {s for r in live for s in r.configured}
    # A shard taken over goes back to a live process started for it; and should two live processes
    # hold one that neither was started for, the one with the first name keeps it.
    first_holder = {s: min(r.name for r in live if s in r.shard_ids) for s in {s for r in live for s in r.shard_ids}}
    keep = {s for s in held if s in configured or (s not in wanted and first_holder.get(s, me) >= me)}
    covered = keep | {s for r in live for s in r.shard_ids}
    last_seen: dict[int, datetime] = {}
    for r in rows:
        if r.name == me:
            continue
        for s in set(r.shard_ids) | set(r.configured):
            seen = r.heartbeat_at if r.stopped_at is None else max(r.heartbeat_at, r.stopped_at)
            last_seen[s] = max(last_seen.get(s, seen), seen)
    if min([me, *(r.name for r in live)]) == me:
        for s in range(count):
            if s in covered or s in wanted:
                continue
            if now - max(last_seen.get(s, since), since) > lease:
                keep.add(s)
    return tuple(sorted(keep))


class Presence:
    def __init__(
        self,
        jobs: JobsRepo,
        processes: ProcessesRepo,
        clock: Clock,
        *,
        shard_ids: tuple[int, ...] = (),
        configured: tuple[int, ...] | None = None,
        latency: Callable[[], float | None] = lambda: None,
        running: Callable[[], int] = lambda: 0,
        on_reshard: Callable[[tuple[int, ...]], None] | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        """`shard_ids`: the shards this process runs now; `configured`: those it was started for
        (default the same); `on_reshard(shards)`: run these shards instead (None: never take over);
        `wake()`: jobs were released (the scheduler looks at the queue)."""
        self._jobs = jobs
        self._processes = processes
        self._clock = clock
        self.name = jobs.name
        self.shard_ids = shard_ids
        self.configured = shard_ids if configured is None else configured
        self._latency = latency
        self._running = running
        self._on_reshard = on_reshard
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self._since = datetime.now(UTC)
        self._resharding = False

    @property
    def interval(self) -> float:
        return max(0.05, self._jobs.lease.total_seconds() / 3)

    async def start(self) -> None:
        now = datetime.now(UTC)
        other = await self._processes.get(self.name)
        host, pid = socket.gethostname(), os.getpid()
        if (
            other is not None
            and other.stopped_at is None
            and (other.host, other.pid) != (host, pid)
            and now - other.heartbeat_at < self._jobs.lease
            and (other.host != host or _alive(other.pid))
        ):
            raise NameInUse(
                f"another process named {self.name!r} is running (pid {other.pid} on {other.host}, heartbeat "
                f"{(now - other.heartbeat_at).total_seconds():.0f} s ago); give each process its own SHARD_IDS "
                "or PROCESS_NAME"
            )
        if self.shard_ids:
            await self._until_free(host, pid)
        await self._processes.register(
            self.name, host, pid, self.shard_ids, self._jobs.shard_count, datetime.now(UTC), self.configured
        )
        self._task = asyncio.create_task(self._loop(), name="dramawatch-presence")

    async def _until_free(self, host: str, pid: int) -> None:
        """Wait (heartbeating, running no shard) while a live process runs one of this process's
        shards: it took them over and hands them back at its next tick. At most three leases."""
        deadline = datetime.now(UTC) + 3 * self._jobs.lease
        while True:
            now = datetime.now(UTC)
            busy = sorted(
                {
                    s
                    for r in await self._processes.all()
                    if r.name != self.name and r.stopped_at is None and now - r.heartbeat_at <= self._jobs.lease
                    for s in r.shard_ids
                    if s in self.shard_ids
                }
            )
            if not busy:
                return
            if now > deadline:
                log.warning("shard(s) %s still run in another process; starting them anyway", busy)
                return
            log.info("waiting for shard(s) %s: another process runs them and hands them back", busy)
            await self._processes.register(self.name, host, pid, (), self._jobs.shard_count, now, self.configured)
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        now = self._clock.now()
        await self._jobs.renew(now)
        released = await self._jobs.release_expired(now)
        if released:
            log.warning("%d job(s) of a process that stopped renewing its claims are pending again", released)
            self._wake()
        latency = self._latency()
        latency_ms = round(latency * 1000) if latency is not None and latency == latency and latency < 1e6 else None
        wall = datetime.now(UTC)
        await self._processes.heartbeat(self.name, wall, latency_ms, self._running())
        if self._on_reshard is not None and self.shard_ids and not self._resharding:
            wanted = plan(
                self.name,
                self.configured,
                self.shard_ids,
                self._jobs.shard_count,
                await self._processes.all(),
                wall,
                self._jobs.lease,
                self._since,
            )
            if wanted != self.shard_ids:
                gained = sorted(set(wanted) - set(self.shard_ids))
                lost = sorted(set(self.shard_ids) - set(wanted))
                log.warning(
                    "running shard(s) %s from now on%s%s",
                    ",".join(map(str, wanted)),
                    f"; taking over {gained} (no live process runs them)" if gained else "",
                    f"; handing back {lost} (the process started for them is back)" if lost else "",
                )
                self._resharding = True
                self._on_reshard(wanted)

    async def _loop(self) -> None:
        # Wall time between ticks (the sandbox's manual clock may stand still); stamps are the clock's.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.exception("presence tick failed; trying again in %.1f s", self.interval)

    async def stop(self, *, restarting: bool = False) -> None:
        """Stop ticking. A process stopping for good is marked stopped; one restarting with other
        shards (a reshard) is not: it stays live (a fresh heartbeat) so that no other process takes
        its shards meanwhile, and its row lists its new shards once it runs them."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                if restarting:
                    await self._processes.heartbeat(self.name, datetime.now(UTC), None, 0)
                else:
                    await self._processes.stopped(self.name, datetime.now(UTC))
