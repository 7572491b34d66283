"""Merging a re-import into the pack on disk.

Imported facts are updated (air dates and times, TVmaze summaries, episode count, new episodes, new
people, characters and cast, external ids; empty drama facts are filled in); everything written by
hand (synopses, titles, descriptions, aliases, facts, relations, billing, premise…) keeps its value.
Every change is listed.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, TypeGuard

from bot.catalog.models import TVMAZE_SOURCE
from bot.catalog.tvmaze.mapping import TVMAZE_LICENCE, Row, unique_slug


def _day_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "").strip()


def _is_number(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _rows(pack: dict[str, Any], section: str) -> list[Any]:
    """pack[section] as a list (made an empty one if it is missing or not a list)."""
    rows = pack.get(section)
    if not isinstance(rows, list):
        rows = pack[section] = []
    return rows


def merge_packs(existing: dict[str, Any] | None, fresh: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The pack on disk updated with a fresh import, and the changes as lines for people.

    Imported facts are updated: air dates and times, TVmaze summaries, the episode count, new
    episodes, new people, characters and cast entries, external ids, the `tvmaze` source when
    missing; drama facts that are empty on disk (network, schedule, writers…) are filled in.
    Everything else keeps the value on disk, above all what people wrote: synopses, episode titles,
    descriptions, aliases, facts, relations, billing, the premise.
    """
    if existing is None:
        pack = copy.deepcopy(fresh)
        e = len(pack["episodes"])
        days = f" ({pack['episodes'][0]['air_date']} – {pack['episodes'][-1]['air_date']})" if e else ""
        return pack, [
            f"new pack: {e} episode(s){days}, {len(pack['characters'])} character(s), "
            f"{len(pack['people'])} people, {len(pack['cast'])} cast entries"
        ]
    merged = copy.deepcopy(existing)
    drama = merged.get("drama")
    if not isinstance(drama, dict):
        drama = merged["drama"] = {}
    changes = _merge_drama(drama, fresh["drama"])
    sources = _rows(merged, "sources")
    if not any(isinstance(s, dict) and s.get("id") == TVMAZE_SOURCE for s in sources):
        sources.append(copy.deepcopy(fresh["sources"][0]))
        changes.append(f"sources: added {TVMAZE_SOURCE!r} ({TVMAZE_LICENCE}) to credit TVmaze's summaries")
    changes += _merge_episodes(merged, drama, fresh["episodes"])
    changes += _merge_cast(merged, fresh)
    return merged, changes


def _merge_drama(drama: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Empty drama facts filled in; the external ids updated."""
    changes: list[str] = []
    for key in ("network", "streamers", "year", "schedule", "runtime_minutes", "writers", "directors"):
        if key in fresh and not drama.get(key):
            drama[key] = copy.deepcopy(fresh[key])
            changes.append(f"drama.{key}: set to {_shown(fresh[key])}")
    ids = drama.get("external_ids")
    if not isinstance(ids, dict):
        ids = drama["external_ids"] = {}
    for key, value in fresh["external_ids"].items():
        if key not in ids:
            ids[key] = value
            changes.append(f"drama.external_ids.{key}: set to {value}")
        elif ids[key] != value:
            changes.append(f"drama.external_ids.{key}: {ids[key]} → {value}")
            ids[key] = value
    return changes


def _merge_episodes(merged: dict[str, Any], drama: dict[str, Any], fresh: list[Row]) -> list[str]:
    changes: list[str] = []
    episodes = _rows(merged, "episodes")
    default: str = drama["air_time"] if isinstance(drama.get("air_time"), str) else ""
    by_number: dict[int, Row] = {
        ep["number"]: ep for ep in episodes if isinstance(ep, dict) and _is_number(ep.get("number"))
    }
    if default and any(not ep.get("air_time") for ep in fresh):
        # A release (no time slot) cannot inherit drama.air_time: spell the slot out per episode.
        for ep in by_number.values():
            ep.setdefault("air_time", default)
        del drama["air_time"]
        changes.append(f"drama.air_time: {default} removed (now given per episode; some episodes are releases)")
        default = ""

    def effective(ep: Row) -> str:
        value = ep.get("air_time")
        return value.strip() if isinstance(value, str) and value.strip() else default

    def set_time(ep: Row, value: str) -> None:
        if value and value != default:
            ep["air_time"] = value
        else:
            ep.pop("air_time", None)

    for new in fresh:
        n = new["number"]
        old = by_number.get(n)
        if old is None:
            entry = {k: v for k, v in new.items() if k != "air_time"}
            set_time(entry, new.get("air_time", ""))
            episodes.append(entry)
            by_number[n] = entry
            slot = f" {new['air_time']}" if new.get("air_time") else ""
            changes.append(f"episode {n}: added ({new['air_date']}{slot})")
            continue
        if _day_text(old.get("air_date")) != new["air_date"]:
            changes.append(f"episode {n}: air_date {_day_text(old.get('air_date')) or '(none)'} → {new['air_date']}")
            old["air_date"] = new["air_date"]
        was, now = effective(old), new.get("air_time", "")
        if was != now:
            changes.append(f"episode {n}: air_time {was or '(release)'} → {now or '(release)'}")
            set_time(old, now)
        if new.get("title") and not old.get("title"):
            old["title"] = new["title"]
            changes.append(f"episode {n}: title set to {new['title']!r}")
        changes += _merge_summary(old, new.get("tvmaze_summary") or "", n)
    on_tvmaze = {ep["number"] for ep in fresh}
    for n in sorted(set(by_number) - on_tvmaze):
        changes.append(f"episode {n}: not on TVmaze (kept as it is)")
    episodes.sort(key=lambda ep: (0, ep["number"]) if isinstance(ep, dict) and _is_number(ep.get("number")) else (1, 0))
    count = drama.get("episode_count")
    top = max(by_number, default=0)
    if not _is_number(count) or count < top:
        changes.insert(0, f"drama.episode_count: {count if count is not None else '(none)'} → {top}")
        drama["episode_count"] = top
    return changes


def _merge_summary(old: Row, summary: str, n: int) -> list[str]:
    was = old.get("tvmaze_summary") or ""
    if was == summary:
        return []
    if summary:
        old["tvmaze_summary"] = summary
    else:
        old.pop("tvmaze_summary", None)
    what = "added" if not was else ("removed" if not summary else "updated")
    return [f"episode {n}: TVmaze summary {what}"]


def _merge_cast(merged: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """New people and characters (matched to those on disk by slug, else by name) and new cast pairs."""
    changes: list[str] = []
    slug_maps: dict[str, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    for section, label in (("people", "person"), ("characters", "character")):
        rows = _rows(merged, section)
        named = [r for r in rows if isinstance(r, dict) and isinstance(r.get("slug"), str)]
        slugs = {r["slug"] for r in named}
        by_name = {r["name"].casefold(): r["slug"] for r in named if isinstance(r.get("name"), str)}
        mapping: dict[str, str] = {}
        for row in fresh[section]:
            if row["slug"] in slugs:
                mapping[row["slug"]] = row["slug"]
            elif row["name"].casefold() in by_name:
                mapping[row["slug"]] = by_name[row["name"].casefold()]
            else:
                slug = unique_slug(row["slug"], slugs)
                rows.append({**copy.deepcopy(row), "slug": slug})
                mapping[row["slug"]] = slug
                changes.append(f"{label} {slug} ({row['name']}): added")
        slug_maps[section] = mapping
        names[section] = {
            r["slug"]: r["name"]
            for r in rows
            if isinstance(r, dict) and isinstance(r.get("slug"), str) and isinstance(r.get("name"), str)
        }
    cast = _rows(merged, "cast")
    pairs = {(c.get("character"), c.get("person")) for c in cast if isinstance(c, dict)}
    for row in fresh["cast"]:
        character = slug_maps["characters"][row["character"]]
        person = slug_maps["people"][row["person"]]
        if (character, person) in pairs:
            continue
        pairs.add((character, person))
        cast.append({**copy.deepcopy(row), "character": character, "person": person})
        who = names["people"].get(person, person)
        role = names["characters"].get(character, character)
        changes.append(f"cast: {who} as {role}: added")
    return changes
