"""Strict validation for the shipped packs: `python -m bot catalog validate --strict` (see docs/data-packs.md).

On top of the loader's checks, a shipped pack must have:

- a synopsis for every episode that has aired (relative to `now`);
- a `source` for every episode with an air date (where its date and text come from);
- no placeholder marker (`PLACEHOLDER_MARKERS`) anywhere in the file, comments included.

A `source` that no `[[sources]]` entry defines is already refused by the loader, in both modes.
Problems are `file: field: what is wrong`, like the loader's. Users' own packs need not pass this.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.catalog import Drama, load_catalog
from bot.catalog.loader import pack_files

# Words that mark text (or a comment) as unfinished. Matched case-insensitively as whole words, plurals
# too ("TODOs", "placeholders"; not "Mastodon" or "xxxl"); a space may be any run of whitespace.
PLACEHOLDER_MARKERS: tuple[str, ...] = (
    "placeholder",
    "TODO",
    "TBD",
    "TBA",
    "FIXME",
    "XXX",
    "unverified",
    "pending research",
    "lorem ipsum",
)
_MARKER = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    + "|".join(r"\s+".join(re.escape(word) for word in marker.split()) for marker in PLACEHOLDER_MARKERS)
    + r")(?:e?s)?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def strict_problems(paths: Iterable[Path], *, now: datetime) -> list[str]:
    """The strict problems of every pack under `paths` (folders or files), as `file: field: what`.

    Only the strict rules: run the loader (`load_catalog`) for the normal ones. The episode rules
    need a pack that loads; the placeholder scan runs on any readable file."""
    _need_aware(now)
    problems: list[str] = []
    for root in paths:
        if not root.exists():
            continue  # the loader reports it
        for file in pack_files(root):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # the loader reports it
            catalog, load_problems = load_catalog([file])
            drama = next(iter(catalog.dramas.values()), None) if not load_problems else None
            problems += pack_strict_problems(text, str(file), drama, now=now)
    return problems


def pack_strict_problems(text: str, file: str, drama: Drama | None, *, now: datetime) -> list[str]:
    """One pack's strict problems: `text` is its TOML, `drama` what the loader made of it (None if it
    did not load: then only the placeholder scan runs)."""
    _need_aware(now)
    problems = placeholder_problems(text, file)
    if drama is not None:
        problems += episode_problems(drama, file, now=now)
    return problems


def episode_problems(drama: Drama, file: str, *, now: datetime) -> list[str]:
    """Every aired episode has a synopsis; every dated episode names its source."""
    _need_aware(now)
    zone = zoneinfo.ZoneInfo(drama.timezone)
    problems: list[str] = []
    for episode in drama.episodes:
        where = f"{file}: episodes[{episode.number}]"
        day = episode.air_at.astimezone(zone).date().isoformat()
        if episode.aired(now) and not episode.synopsis:
            verb = "was released" if episode.is_release else "aired"
            problems.append(
                f"{where}.synopsis: is empty, but the episode {verb} on {day}; "
                "a shipped pack needs a synopsis for every aired episode"
            )
        if not episode.source:
            problems.append(
                f"{where}.source: is missing; an episode with an air date ({day}) must name the "
                "[[sources]] entry its facts come from"
            )
    return problems


def placeholder_problems(text: str, file: str) -> list[str]:
    """One problem per line of `text` holding a placeholder marker, in a value or a comment."""
    try:
        data: dict[str, Any] | None = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    problems: list[str] = []
    for line in _lines(text, data):
        found = [m.group(0) for m in _MARKER.finditer(line.text)]
        if not found:
            continue
        comment = line.comment_at is not None and all(m.start() >= line.comment_at for m in _MARKER.finditer(line.text))
        if line.field:
            where, what = line.field, f"{'the comment on ' if comment else ''}line {line.number}"
        else:
            where, what = f"line {line.number}", "the comment" if comment else "the line"
        names = list(dict.fromkeys(" ".join(word.split()) for word in found))
        listed = ", ".join(f'"{name}"' for name in names)
        plural = "s" if len(names) > 1 else ""
        problems.append(
            f"{file}: {where}: {what} has the placeholder marker{plural} {listed}; "
            "a shipped pack states only checked facts (say less rather than mark a gap)"
        )
    return problems


# -- a small line reader for TOML: which field each line belongs to, and where its comment starts ----
@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based
    text: str
    field: str  # e.g. "episodes[3].synopsis", "drama", or "" for a line of its own outside any field
    comment_at: int | None  # index of the comment's "#", if any


def _lines(text: str, data: dict[str, Any] | None) -> list[_Line]:
    lines: list[_Line] = []
    table = ""  # the current table's field name, as the loader names it
    key = ""  # the current key: a value may run over several lines
    counts: dict[str, int] = {}
    open_string: str | None = None  # the delimiter of a multi-line string still open
    depth = 0  # open brackets/braces of a value running over several lines
    for number, raw in enumerate(text.splitlines(), start=1):
        starts_inside = open_string is not None or depth > 0
        comment_at, open_string, depth = _scan(raw, open_string, depth)
        field = ""
        if starts_inside:
            field = ".".join(p for p in (table, key) if p)
        elif (header := _HEADER.match(raw)) is not None:
            name = header.group(2)
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = _array_entry(name, index, data)
            else:
                table = name
            key = ""
            field = table
        elif (assignment := _KEY.match(raw)) is not None:
            key = re.sub(r"\s+", "", assignment.group(1))
            field = ".".join(p for p in (table, key) if p)
        lines.append(_Line(number, raw, field, comment_at))
    return lines


def _array_entry(name: str, index: int, data: dict[str, Any] | None) -> str:
    """`episodes[3]` (by number), `characters[slug]`, `people[slug]`, else `name[index]`: as the loader says."""
    entries = data.get(name) if data is not None and "." not in name else None
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    if isinstance(entry, dict):
        label = entry.get("number") if name == "episodes" else entry.get("slug")
        if name in ("episodes", "people", "characters") and isinstance(label, int | str) and str(label).strip():
            return f"{name}[{str(label).strip()}]"
    return f"{name}[{index}]"


def _scan(line: str, open_string: str | None, depth: int) -> tuple[int | None, str | None, int]:
    """Walks one line: (index of its comment's "#" or None, the multi-line string left open, bracket depth)."""
    i = 0
    if open_string is not None:
        end = _close(line, 0, open_string)
        if end is None:
            return None, open_string, depth
        i = end
    while i < len(line):
        c = line[i]
        if line.startswith('"""', i) or line.startswith("'''", i):
            delimiter = line[i : i + 3]
            end = _close(line, i + 3, delimiter)
            if end is None:
                return None, delimiter, depth
            i = end
        elif c in "\"'":
            end = _close(line, i + 1, c)
            i = end if end is not None else len(line)
        elif c == "#":
            return i, None, depth
        else:
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth = max(0, depth - 1)
            i += 1
    return None, None, depth


def _close(line: str, start: int, delimiter: str) -> int | None:
    """The index just past `delimiter` closing a string that opened before `start`, or None."""
    i = start
    while i < len(line):
        if delimiter[0] == '"' and line[i] == "\\":
            i += 2
            continue
        if line.startswith(delimiter, i):
            return i + len(delimiter)
        i += 1
    return None


def _need_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
