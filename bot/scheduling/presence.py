"""This process among those sharing one database (PostgreSQL; with SQLite there is only ever one).

Every `lease / 3` it renews the leases of the jobs it runs, releases the jobs whose lease ran out
(their process stopped renewing them: it died), and writes its heartbeat (latency, running jobs)
for `python -m bot status`. At start it refuses a name another live process uses: two processes
under one name would renew and finish each other's claims.

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
from datetime import UTC, datetime

from bot.scheduling.clock import Clock
from bot.storage.jobs import JobsRepo
from bot.storage.processes import ProcessesRepo

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


class Presence:
    def __init__(
        self,
        jobs: JobsRepo,
        processes: ProcessesRepo,
        clock: Clock,
        *,
        shard_ids: tuple[int, ...] = (),
        latency: Callable[[], float | None] = lambda: None,
        running: Callable[[], int] = lambda: 0,
    ) -> None:
        self._jobs = jobs
        self._processes = processes
        self._clock = clock
        self.name = jobs.name
        self.shard_ids = shard_ids
        self._latency = latency
        self._running = running
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

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
            and other.pid != pid
            and now - other.heartbeat_at < self._jobs.lease
            and (other.host != host or _alive(other.pid))
        ):
            raise NameInUse(
                f"another process named {self.name!r} is running (pid {other.pid} on {other.host}, heartbeat "
                f"{(now - other.heartbeat_at).total_seconds():.0f} s ago); give each process its own SHARD_IDS "
                "or PROCESS_NAME"
            )
        await self._processes.register(self.name, host, pid, self.shard_ids, self._jobs.shard_count, now)
        self._task = asyncio.create_task(self._loop(), name="dramawatch-presence")

    async def tick(self) -> None:
        now = self._clock.now()
        await self._jobs.renew(now)
        released = await self._jobs.release_expired(now)
        if released:
            log.warning("%d job(s) of a process that stopped renewing its claims are pending again", released)
        latency = self._latency()
        latency_ms = round(latency * 1000) if latency is not None and latency == latency and latency < 1e6 else None
        await self._processes.heartbeat(self.name, datetime.now(UTC), latency_ms, self._running())
        self.ticks += 1

    async def _loop(self) -> None:
        # Wall time between ticks (the sandbox's manual clock may stand still); stamps are the clock's.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.exception("presence tick failed; trying again in %.1f s", self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                await self._processes.stopped(self.name, datetime.now(UTC))
