"""The lifecycle every service shares: the bot creates it, registers its jobs, starts it and closes it.

Cogs never start or stop services and never register jobs: an extension can then be reloaded
(``bot.reload_extension``) at any time without touching the scheduler or a service's state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.storage.jobs import Job

JobHandler = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    """A kind of scheduled job and the service method that runs it."""

    kind: str
    handler: JobHandler
    grace: timedelta = timedelta(minutes=10)  # how late after downtime it still runs


class Service:
    """Base class of the bot's services; override what applies.

    Order at start (``Dramawatch.setup_hook``): every service is constructed, every ``jobs()``
    registered with the scheduler, then ``start()`` runs in construction order, then the cogs load,
    then the scheduler starts. ``close()`` runs in reverse order after the scheduler stops.
    """

    def jobs(self) -> Sequence[JobKind]:
        return ()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
