"""Reading what moderators type for watch parties: local times (with DST handled explicitly),
episode ranges and reminder offsets. Every refusal names the option and says what is allowed."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.errors import InvalidInput
from bot.text import quote

_LOCAL = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\s*$")
_OFFSET = re.compile(r"^(\d+)\s*([mhdw])$")
MAX_REMINDERS = 5
MAX_REMINDER = timedelta(days=28)
MAX_AHEAD_YEARS = 5
MAX_AHEAD = timedelta(days=365 * MAX_AHEAD_YEARS + 1)  # how far ahead a watch party may start
# More than any UTC offset: a local time this far outside the allowed window is refused before any
# time-zone arithmetic (which overflows near year 1 and year 9999).
_SLACK = timedelta(days=2)


@dataclass(frozen=True)
class LocalTime:
    utc: datetime
    note: str = ""  # an explanation when the time was ambiguous (DST overlap)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_IN = re.compile(r"^in\s+(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$")


def _clock(text: str) -> tuple[int, int] | None:
    """`21:00`, `9pm`, `9:30 pm`, `21h`, `noon`, `midnight` → (hour, minute); None if not a clock time."""
    text = text.strip()
    if text in ("noon", "midday"):
        return 12, 0
    if text == "midnight":
        return 0, 0
    match = _CLOCK.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").replace(".", "")
    if minute > 59:
        return None
    if half in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif hour > 23 or (half == "" and match.group(2) is None):
        return None  # a bare number ("9") is not a time: 9 in the morning or the evening?
    return hour, minute


def _day(text: str, today: date) -> date | None:
    """`today`, `tonight`, `tomorrow`, a weekday (`sat`, `next friday`) or `YYYY-MM-DD`."""
    text = text.strip()
    if text in ("today", "tonight"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    later = text.startswith("next ")
    name = text.removeprefix("next ").strip()
    for number, weekday in enumerate(_WEEKDAYS):
        if len(name) >= 3 and weekday.startswith(name):
            ahead = (number - today.weekday()) % 7
            return today + timedelta(days=ahead + (7 if later and ahead == 0 else 0))
    match = _DATE.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def natural(text: str, local_now: datetime) -> datetime | None:
    """What people type for a time, read in the local time `local_now` (naive) → a naive local
    datetime, or None when it is not a time this grammar reads. The grammar: `[DAY] TIME` or
    `TIME [DAY]` — DAY `today`/`tonight`/`tomorrow`, a weekday (`sat`, `saturday`, `next sat`),
    `YYYY-MM-DD`; TIME `21:00`, `9pm`, `9:30 pm`, `21h`, `noon`, `midnight` — or `in N minutes|hours|
    days|weeks`. A weekday means its next occurrence (today, if that time is still ahead)."""
    words = " ".join(text.casefold().replace(",", " ").split())
    relative = _IN.match(words)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)[0]
        step = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
        return (local_now + amount * step[unit]).replace(second=0, microsecond=0)
    words = words.removeprefix("at ").replace(" at ", " ")
    today = local_now.date()
    parts = words.split(" ")
    for cut in range(len(parts) + 1):  # DAY TIME, or TIME DAY, or TIME alone
        for day_text, time_text in (
            (" ".join(parts[:cut]), " ".join(parts[cut:])),
            (" ".join(parts[cut:]), " ".join(parts[:cut])),
        ):
            clock = _clock(time_text) if time_text else None
            if clock is None:
                continue
            if not day_text:
                moment = datetime.combine(today, time(*clock))
                return moment if moment > local_now else moment + timedelta(days=1)  # "9pm": the next 9 pm
            day = _day(day_text, today)
            if day is not None:
                moment = datetime.combine(day, time(*clock))
                if day_text.split(" ")[-1][:3] in {w[:3] for w in _WEEKDAYS} and moment <= local_now:
                    moment += timedelta(days=7)  # "sat 21:00" on a Saturday night: next week's
                return moment
    return None


def examples(now: datetime, zone_name: str) -> str:
    """Examples of what `start` takes, with a real date (tomorrow's), never one in the past."""
    tomorrow = now.astimezone(zoneinfo.ZoneInfo(zone_name)).date() + timedelta(days=1)
    return f"`tomorrow 9pm`, `sat 21:00`, `in 2 hours` or `{tomorrow.isoformat()} 20:00`"


def parse_local(text: str, zone_name: str, now: datetime, option: str = "start") -> LocalTime:
    """A time as people type it (see :func:`natural`; `YYYY-MM-DD HH:MM` too) in `zone_name` → UTC.
    A time that does not exist (the DST gap) is refused with the reason; one that happens twice (the
    DST overlap) takes the first and says so."""
    zone = zoneinfo.ZoneInfo(zone_name)
    match = _LOCAL.match(text)
    if match:
        year, month, day, hour, minute = (int(g) for g in match.groups())
        try:
            naive = datetime(year, month, day, hour, minute)
        except ValueError as exc:
            raise InvalidInput(f"`{option}`: {quote(text, 40)} is not a real date and time ({exc}).") from None
    else:
        local_now = now.astimezone(zone).replace(tzinfo=None)
        try:
            found = natural(text, local_now)
        except (OverflowError, ValueError):
            found = None
        if found is None:
            raise InvalidInput(
                f"`{option}`: {quote(text, 40)} is not a time I can read. Try {examples(now, zone_name)} "
                f"(in {zone_name})."
            )
        naive = found
    ahead = naive - now.astimezone(UTC).replace(tzinfo=None)  # a difference never overflows
    if ahead < -_SLACK:
        raise InvalidInput(_past(option, naive, zone_name, None))
    if ahead > MAX_AHEAD + _SLACK:
        raise InvalidInput(_too_far(option, naive, zone_name, now, zone))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    note = ""
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if back != naive:  # the gap: clocks jump over this time
            before, after = first.utcoffset(), second.utcoffset()
            start, end = _gap(zone, second.astimezone(UTC), first.astimezone(UTC))
            raise InvalidInput(
                f"`{option}`: {naive:%H:%M} does not exist on {naive:%d %B %Y} in {zone_name}: the clocks jump "
                f"from {start:%H:%M} straight to {end:%H:%M} for daylight saving time (UTC{_fmt(before)} → "
                f"UTC{_fmt(after)}). Pick a time before {start:%H:%M} or from {end:%H:%M} on."
            )
        note = (
            f"{naive:%H:%M} happens twice on {naive:%d %B %Y} in {zone_name} (the clocks go back an hour); "
            f"I used the first one, UTC{_fmt(first.utcoffset())}."
        )
    utc = first.astimezone(UTC)
    if utc <= now:
        raise InvalidInput(_past(option, naive, zone_name, utc))
    if utc - now > MAX_AHEAD:
        raise InvalidInput(_too_far(option, naive, zone_name, now, zone))
    return LocalTime(utc, note)


def _shown(naive: datetime) -> str:
    # Not strftime: it writes year 1 as "1" on some platforms.
    return f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d} {naive.hour:02d}:{naive.minute:02d}"


def _past(option: str, naive: datetime, zone_name: str, utc: datetime | None) -> str:
    when = f" (<t:{int(utc.timestamp())}:R>)" if utc is not None else ""
    return f"`{option}`: {_shown(naive)} in {zone_name} is in the past{when}; give a time in the future."


def _too_far(option: str, naive: datetime, zone_name: str, now: datetime, zone: zoneinfo.ZoneInfo) -> str:
    latest = (now + MAX_AHEAD).astimezone(zone)
    return (
        f"`{option}`: {_shown(naive)} in {zone_name} is too far ahead; a watch party starts at most "
        f"{MAX_AHEAD_YEARS} years from now (by {latest:%Y-%m-%d %H:%M} there)."
    )


def _gap(zone: zoneinfo.ZoneInfo, low: datetime, high: datetime) -> tuple[datetime, datetime]:
    """The local wall-clock times the clocks jump from and to, for the transition between the UTC
    instants `low` (still the old offset) and `high` (already the new one)."""
    old = low.astimezone(zone).utcoffset()
    lo, hi = int(low.timestamp()), int(high.timestamp())
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == old:
            lo = middle
        else:
            hi = middle
    jump = datetime.fromtimestamp(hi, UTC)
    return (jump + (old or timedelta())).replace(tzinfo=None), jump.astimezone(zone).replace(tzinfo=None)


def _fmt(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")


def parse_episodes(text: str, episode_count: int, title: str, option: str = "episodes") -> tuple[int, int]:
    """`5` or `5-6` (also `5–6`), within 1..episode_count."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*(?:[-–]\s*(\d{1,4}))?\s*", text)
    if not match:
        raise InvalidInput(f"`{option}`: {quote(text, 40)} is not an episode or a range like `5` or `5-6`.")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first > last:
        raise InvalidInput(f"`{option}`: a range goes from low to high, like `{last}-{first}`.")
    if first < 1 or last > episode_count:
        raise InvalidInput(f"`{option}`: {title} has episodes 1–{episode_count}; {quote(text, 20)} is outside that.")
    if last - first >= 8:
        raise InvalidInput(f"`{option}`: at most 8 episodes in one watch party.")
    return first, last


def parse_reminders(text: str, option: str = "reminders") -> tuple[int, ...]:
    """`1d,1h,10m` → minutes before the start, largest first. `none` for no reminders."""
    if text.strip().lower() in ("none", "off", "0"):
        return ()
    units = {"m": 1, "h": 60, "d": 1440, "w": 10080}
    minutes: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        match = _OFFSET.match(part)
        if not match or int(match.group(1)) == 0:
            raise InvalidInput(
                f"`{option}`: {quote(part, 20) if part else 'an empty item'} is not an offset; use a list like "
                "`1d,1h,10m` (m, h, d or w), or `none`."
            )
        value = int(match.group(1)) * units[match.group(2)]
        if value > MAX_REMINDER.total_seconds() // 60:
            raise InvalidInput(f"`{option}`: reminders go at most 28 days ahead.")
        minutes.add(value)
    if len(minutes) > MAX_REMINDERS:
        raise InvalidInput(f"`{option}`: at most {MAX_REMINDERS} reminders.")
    return tuple(sorted(minutes, reverse=True))


def format_offsets(minutes: tuple[int, ...]) -> str:
    if not minutes:
        return "none"
    parts = []
    for value in minutes:
        for unit, size in (("w", 10080), ("d", 1440), ("h", 60), ("m", 1)):
            if value % size == 0:
                parts.append(f"{value // size}{unit}")
                break
    return ",".join(parts)
