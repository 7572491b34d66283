"""Time and the durable job scheduler."""

from bot.scheduling.clock import Clock, ManualClock, SystemClock
from bot.scheduling.scheduler import RetryLater, Scheduler

__all__ = ["Clock", "ManualClock", "RetryLater", "Scheduler", "SystemClock"]
