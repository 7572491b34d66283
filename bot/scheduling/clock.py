"""Injectable time. Production uses the system clock; tests and the sandbox move a manual one."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        """Return when `event` is set or `seconds` seconds of this clock's time have passed."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class ManualClock:
    """Time stands still until `set`/`advance`; waiters are woken whenever it moves."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._waiters: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        moment = moment.astimezone(UTC)
        if moment < self._now:
            raise ValueError("the clock does not go backwards")
        self._now = moment
        for event in list(self._waiters):
            event.set()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        # Time only moves through set()/advance(), which wake every registered event.
        self._waiters.add(event)
        await event.wait()
