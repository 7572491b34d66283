"""IANA time zones: validation, suggestions and autocomplete (data from the tzdata package)."""

from __future__ import annotations

import functools
import zoneinfo

from rapidfuzz import fuzz, process

from bot.errors import InvalidInput
from bot.text import quote


@functools.cache
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


@functools.cache
def _by_folded() -> dict[str, str]:
    return {z.casefold(): z for z in all_zones()}


def suggest(query: str, limit: int = 5) -> list[str]:
    query = query.strip().replace(" ", "_")
    if not query:
        return list(all_zones()[:limit])
    folded = query.casefold()
    starts = [z for z in all_zones() if z.casefold().startswith(folded)]
    contains = [z for z in all_zones() if folded in z.casefold() and z not in starts]
    found = starts + contains
    if len(found) < limit:
        fuzzy = process.extract(query, all_zones(), scorer=fuzz.WRatio, limit=limit * 2, score_cutoff=60)
        found += [name for name, _score, _i in fuzzy if name not in found]
    return found[:limit]


def resolve(name: str, option: str = "name") -> str:
    """The canonical IANA name for `name` (case-insensitive), or InvalidInput with suggestions that
    names the command option `option` the user typed it in."""
    canonical = _by_folded().get(name.strip().replace(" ", "_").casefold())
    if canonical is not None:
        return canonical
    hints = suggest(name, 3)
    hint = f" Did you mean {', '.join(f'`{h}`' for h in hints)}?" if hints else ""
    raise InvalidInput(
        f"`{option}`: {quote(name, 60)} is not an IANA time zone (like `Asia/Seoul` or `America/New_York`).{hint}"
    )
