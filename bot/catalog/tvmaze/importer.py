"""The whole import: fetch, map, merge with the pack on disk, validate, write (atomically).

The pack already holding the show is found by `drama.external_ids.tvmaze`, else by slug. The new
text is parsed back and validated by the catalog loader before it replaces the file, so a bad
import writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import difflib
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tomlkit.exceptions import TOMLKitError

from bot.catalog.loader import SLUG, parse_pack
from bot.catalog.tvmaze.client import (
    API_BASE,
    Progress,
    ShowData,
    Sleep,
    TVmazeClient,
    fetch_show,
    fetch_show_by_id,
    json_get,
)
from bot.catalog.tvmaze.errors import ImportFailure, InvalidPack
from bot.catalog.tvmaze.mapping import build_pack, slugify, zone
from bot.catalog.tvmaze.merge import merge_packs
from bot.catalog.tvmaze.writing import clean, compact_times, dump_pack, update_pack


@dataclass
class ImportResult:
    path: Path
    show_id: int
    show_name: str
    created: bool
    written: bool
    changes: list[str]
    notes: list[str]
    diff: str
    credit_url: str
    requests: int = 0


@dataclass
class _Pack:
    path: Path
    data: dict[str, Any] | None  # None: a new file, or one that is not readable TOML
    text: str


PackText = _Pack  # a pack's location (a file, or a name for one held in the database), data and text


def pack_of(path: Path, text: str) -> PackText:
    """A pack held somewhere else than a file (the database): its name and TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _Pack(path=path, data=None, text=text)
    return _Pack(path=path, data=data, text=text)


def _read_packs(folder: Path) -> list[_Pack]:
    packs: list[_Pack] = []
    if not folder.is_dir():
        return packs
    for path in sorted(folder.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            packs.append(_Pack(path=path, data=None, text=""))
            continue
        packs.append(_Pack(path=path, data=data, text=text))
    return packs


def _drama_of(pack: _Pack) -> dict[str, Any]:
    drama = pack.data.get("drama") if pack.data else None
    return drama if isinstance(drama, dict) else {}


def _tvmaze_id(pack: _Pack) -> Any:
    ids = _drama_of(pack).get("external_ids")
    return ids.get("tvmaze") if isinstance(ids, dict) else None


def _choose_target(packs: list[_Pack], folder: Path, show_id: int, slug: str, explicit: bool) -> _Pack:
    """The pack already holding this show (by TVmaze id, else by slug), or a new file SLUG.toml."""
    for pack in packs:
        if _tvmaze_id(pack) == show_id:
            held = _drama_of(pack).get("slug")
            if explicit and held != slug:
                raise ImportFailure(
                    f"{pack.path} already holds TVmaze show {show_id} as {held!r}; drop --slug to update it"
                )
            return pack
    for pack in packs:
        if _drama_of(pack).get("slug") == slug:
            other = _tvmaze_id(pack)
            if other is not None:
                raise ImportFailure(
                    f"{pack.path} holds another TVmaze show ({other}) under the slug {slug!r}; choose one with --slug"
                )
            return pack
    path = folder / f"{slug}.toml"
    for pack in packs:
        if pack.path == path:
            if pack.data is None:
                raise ImportFailure(f"{path} exists but is not a readable TOML pack; fix it or choose --slug")
            held = _drama_of(pack).get("slug")
            raise ImportFailure(f"{path} holds another drama ({held!r}); choose another slug with --slug")
    return _Pack(path=path, data=None, text="")


def _known_people(packs: list[_Pack], target: Path) -> dict[str, str]:
    known: dict[str, str] = {}
    for pack in packs:
        if pack.path == target or pack.data is None:
            continue
        rows = pack.data.get("people")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("slug"), str) and isinstance(row.get("name"), str):
                known.setdefault(row["slug"], row["name"])
    return known


CLI_HOW = "`python -m bot catalog import tvmaze`"


def _header(show_name: str, url: str, how: str = CLI_HOW) -> str:
    return "\n".join(
        [
            f"# {show_name}: imported with {how}, from {url}",
            "# Facts and the tvmaze_summary texts come from TVmaze, CC BY-SA 4.0 (credited by the",
            "# 'tvmaze' source). Synopses, descriptions, aliases and facts are ours: write them here;",
            "# a re-import updates dates, episodes and cast and keeps them (and your comments).",
        ]
    )


def _check_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ImportFailure(f"--out {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImportFailure(f"cannot create the output folder {folder} ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImportFailure(f"the output folder {folder} is not writable by this user")


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ImportFailure(f"cannot write {path} ({exc.strerror})") from None


async def import_tvmaze(
    query: str,
    out_dir: Path,
    *,
    slug: str | None = None,
    api_base: str = API_BASE,
    dry_run: bool = False,
    sleep: Sleep = asyncio.sleep,
    progress: Progress | None = None,
    client: TVmazeClient | None = None,
    show_id: int | None = None,
) -> ImportResult:
    """Fetch (TVmaze show `show_id`, else the show titled `query`), map, merge, validate and
    (unless `dry_run`) write. Raises ImportFailure subclasses (Ambiguous when the best match is
    another title: never a silent guess)."""
    if slug is not None and not SLUG.match(slug):
        raise ImportFailure(f"--slug {slug!r} is not a slug (lowercase letters and digits joined by single hyphens)")
    if not dry_run:
        await asyncio.to_thread(_check_writable, out_dir)
    client = client or TVmazeClient(api_base, sleep=sleep, progress=progress)
    async with client:
        data = await (fetch_show_by_id(client, show_id) if show_id is not None else fetch_show(client, query))
    # The files: off the event loop.
    result = await asyncio.to_thread(apply_import, data, out_dir, slug=slug, dry_run=dry_run)
    result.requests = client.requests
    return result


@dataclass
class Merged:
    """A show merged into the pack that holds it (or a new one): the text to store, and what changed."""

    target: _Pack
    text: str
    show_id: int
    show_name: str
    created: bool
    changes: list[str]
    notes: list[str]
    credit_url: str


def merge_show(
    data: ShowData,
    packs: list[_Pack],
    folder: Path,
    *,
    slug: str | None = None,
    how: str = CLI_HOW,
    known_people: dict[str, str] | None = None,
) -> Merged:
    """Map fetched data and merge it into the pack holding the show (by TVmaze id, else slug) among
    `packs`, or into a new pack `folder/SLUG.toml`; validated. The one code path of the CLI importer
    and of `/catalog add|refresh`. Raises ImportFailure subclasses; pure (no I/O)."""
    show_id = json_get(data.show, "id", "show", int, required=True)
    name = json_get(data.show, "name", "show", str, required=True)
    target = _choose_target(packs, folder, show_id, slug or slugify(name) or f"tvmaze-{show_id}", slug is not None)
    existing = copy.deepcopy(target.data) if target.data is not None else None
    drama = _drama_of(target)
    held_slug = drama.get("slug") if isinstance(drama.get("slug"), str) else None
    held_zone = drama.get("timezone")
    timezone = held_zone if isinstance(held_zone, str) and zone(held_zone) else None
    if known_people is None:
        known_people = _known_people(packs, target.path)
    built = build_pack(data, slug=held_slug or slug or None, timezone=timezone, known_people=known_people)
    merged, changes = merge_packs(existing, built.pack)
    url = built.pack["sources"][0]["url"]
    if existing is None:
        merged = compact_times(merged)
        text = dump_pack(merged, _header(name, url, how))
    else:
        try:
            text = update_pack(target.text, merged)  # the person's comments and layout kept
        except TOMLKitError as exc:
            raise ImportFailure(f"{target.path} cannot be edited in place ({exc}); nothing was written") from None
    problems = _validate(text, target.path, known_people, merged)
    if problems:
        raise InvalidPack(target.path, problems)
    return Merged(target, text, show_id, name, existing is None, changes, built.notes, url)


def apply_import(data: ShowData, out_dir: Path, *, slug: str | None = None, dry_run: bool = False) -> ImportResult:
    """Map fetched data, merge it into the pack on disk (if any), validate, and write unless `dry_run`."""
    merged = merge_show(data, _read_packs(out_dir), out_dir, slug=slug)
    target, text = merged.target, merged.text
    diff = "".join(
        difflib.unified_diff(
            target.text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{target.path} (now)" if not merged.created else "/dev/null",
            tofile=f"{target.path} (after import)",
        )
    )
    written = False
    if merged.changes and not dry_run:
        _write(target.path, text)
        written = True
    return ImportResult(
        path=target.path,
        show_id=merged.show_id,
        show_name=merged.show_name,
        created=merged.created,
        written=written,
        changes=merged.changes,
        notes=merged.notes,
        diff=diff,
        credit_url=merged.credit_url,
    )


def _validate(text: str, path: Path, known_people: dict[str, str], expected: dict[str, Any]) -> list[str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a bug in the writer; never write such a file
        return [f"{path}: not valid TOML: {exc}"]
    if data != clean(expected):  # a bug in the writer too: the text must say what the import decided
        return [f"{path}: the written text does not read back as the imported pack (a bug in the TOML writer)"]
    _drama, people, problems = parse_pack(data, str(path))
    for person in people:
        known = known_people.get(person.slug)
        if known is not None and known != person.name:
            problems.append(
                f"{path}: people[{person.slug}].name: {person.name!r} differs from {known!r} in another pack"
            )
    return problems
