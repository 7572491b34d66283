"""The live catalog's compiled form: each pack parsed once and kept in the database.

At start only packs whose text changed since they were compiled are parsed again (a pack edit
costs one pack, not the catalog); the others are read back from their compiled rows. Imported
dramas (TVmaze, `/catalog add`) live in the database only. The search index is kept too, keyed by
the set of packs it was built from, and rebuilt only when that set changed.

Everything here is synchronous and CPU-bound: the bot runs it in a worker thread.
"""

from __future__ import annotations

import gc
import hashlib
import json
import pickle
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bot import __version__
from bot.catalog.loader import Unit, assemble, pack_files, parse_text
from bot.catalog.models import Catalog
from bot.catalog.search import CatalogIndex
from bot.catalog.texts import TextRow, split_texts

COMPILER_VERSION = f"{__version__}:9"  # part of every digest: new code recompiles every pack once
# The stored search index's form (bot.catalog.search.NameIndex): a new one rebuilds the index once,
# not the packs.
INDEX_FORMAT = 2


def digest(text: str) -> str:
    return hashlib.sha256(f"{COMPILER_VERSION}\n{text}".encode()).hexdigest()


@contextmanager
def _no_gc(*, freeze: bool) -> Iterator[None]:
    """Millions of small objects: collecting while (un)pickling them only costs time. With `freeze`
    (loading the catalog at a start), what was made lives as long as the catalog does (or is freed
    by reference counting: the catalog's objects hold no cycles), so it is frozen out of every future
    collection before collecting resumes — else the first allocation after would scan all of it once
    (a quarter of a second at 2,000 dramas). Not when only serialising: nothing made then lives on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def pack_unit(unit: Unit) -> bytes:
    return pickle.dumps(unit, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_unit(blob: bytes) -> Unit | None:
    """A compiled pack, or None when the row is unreadable (it is then compiled again from its text).
    The caller keeps the garbage collector off around a batch of these (see unpack_units)."""
    try:
        unit = pickle.loads(blob)  # noqa: S301 - written by this bot into its own database
    except Exception:  # noqa: BLE001 - an unreadable row is recompiled from its text
        return None
    return unit if isinstance(unit, Unit) else None


def unpack_units(page: Iterable[tuple[str, bytes]]) -> dict[str, Unit]:
    """A page of compiled rows read back: slug → unit (unreadable rows left out: they are compiled
    again from their text). What is made lives as long as the catalog: frozen out of collections."""
    with _no_gc(freeze=True):
        return {slug: unit for slug, blob in page if (unit := unpack_unit(blob)) is not None}


@dataclass(frozen=True)
class Stored:
    """A compiled pack as the database holds it (see bot.storage.catalog.PackRow), without its
    compiled bytes: those are read back a page at a time (unpack_units) and handed over as units."""

    slug: str
    origin: str  # "file" | "tvmaze"
    source: str
    digest: str
    text: str | None
    file_stat: str = ""  # see file_stat()


RACY_NS = 2_000_000_000  # a file modified this recently may change again within its mtime's granularity


def file_stat(path: Path) -> tuple[str, bool]:
    """A pack file's stamp — the compiler's version, its modification time (ns) and its size — and
    whether it may be stored. A file whose stamp is the one stored is not read again at a start. As
    in git's "racily clean" rule, a stamp is stored only once the file is two seconds old: an edit
    in the same clock tick that keeps the size would otherwise go unseen."""
    stat = path.stat()
    settled = time.time_ns() - stat.st_mtime_ns > RACY_NS  # the wall clock, as the file system's times
    return f"{COMPILER_VERSION}:{stat.st_mtime_ns}:{stat.st_size}", settled


class ToSave(NamedTuple):
    """A compiled pack the database must store."""

    unit: Unit  # as the running bot holds it (bot.catalog.texts)
    origin: str
    source: str
    digest: str
    stamp: str  # see file_stat(); "" when not known settled
    texts: list[TextRow] | None  # its synopses; None: those stored stay (the same text, touched)


def split_unit(unit: Unit) -> tuple[Unit, list[TextRow]]:
    """A parsed pack as the running bot holds it — its synopses apart, its characters' texts
    compressed (bot.catalog.texts) — and the rows that hold its synopses."""
    if unit.drama is None or unit.drama.texts_apart:
        return unit, []
    slim, rows = split_texts(unit.drama)
    return Unit(unit.name, slim, unit.people), rows


@dataclass
class Compiled:
    """The outcome of a start-up sync: the catalog, and what the database must learn."""

    catalog: Catalog
    problems: list[str]
    save: list[ToSave]
    drop: list[str]  # slugs of file packs that are gone
    units: dict[str, tuple[Unit, str]]  # slug → (unit, digest), every usable pack
    parsed: int  # packs parsed now (the rest came compiled)


def compile_catalog(root: Path, stored: Iterable[Stored], read: Mapping[str, Unit]) -> Compiled:
    """Sync the packs under `root` with their compiled rows (`read`: slug → the unit read back from
    its row); imported rows are used as they are."""
    with _no_gc(freeze=True):
        return _compile_catalog(root, stored, read)


def _compile_catalog(root: Path, rows: Iterable[Stored], read: Mapping[str, Unit]) -> Compiled:
    stored = list(rows)
    by_source = {s.source: s for s in stored if s.origin == "file"}
    imported = [s for s in stored if s.origin != "file"]
    units: list[Unit] = []
    digests: dict[str, str] = {}
    problems: list[str] = []
    save: list[ToSave] = []
    parsed = 0
    for file in pack_files(root) if root.exists() else []:
        source = str(file)
        row = by_source.get(source)
        try:
            stamp, settled = file_stat(file)
            unit = read.get(row.slug) if row is not None and row.file_stat == stamp else None
            stamp = stamp if settled else ""
            if unit is not None and unit.drama is not None and row is not None:
                units.append(unit)  # unchanged since it was compiled: not read again
                digests[unit.drama.slug] = row.digest
                continue
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        key = digest(text)
        unit = read.get(row.slug) if row is not None and row.digest == key else None
        if unit is None:
            unit, pack_problems = parse_text(text, source)
            parsed += 1
            problems += pack_problems
            if pack_problems or unit.drama is None:
                continue
            unit, texts = split_unit(unit)
            save.append(ToSave(unit, "file", source, key, stamp, texts))
        elif row is not None and row.file_stat != stamp:
            save.append(ToSave(unit, "file", source, key, stamp, None))  # the same text, touched: the new stamp
        units.append(unit)
        if unit.drama is not None:
            digests[unit.drama.slug] = key
    for row in imported:
        key = digest(row.text or "")
        unit = read.get(row.slug) if row.digest == key else None
        if unit is None and row.text is not None:
            unit, pack_problems = parse_text(row.text, row.source)
            parsed += 1
            if pack_problems or unit.drama is None:
                problems += [f"(imported) {p}" for p in pack_problems]
                continue
            unit, texts = split_unit(unit)
            save.append(ToSave(unit, row.origin, row.source, key, "", texts))
        if unit is not None and unit.drama is not None:
            units.append(unit)
            digests[unit.drama.slug] = key
    catalog, across = assemble(units)
    units = [_with_people_of(catalog, unit) for unit in units]
    # Rows of file packs no longer in the catalog: the file is gone, or it now names another slug.
    drop = [s.slug for s in stored if s.origin == "file" and s.slug not in digests]
    usable = {u.drama.slug: (u, digests[u.drama.slug]) for u in units if u.drama is not None}
    return Compiled(catalog, problems + across, save, drop, usable, parsed)


def _with_people_of(catalog: Catalog, unit: Unit) -> Unit:
    """`unit` holding the catalog's own Person objects where they are equal to its own: every pack
    names its cast's people, so without this each of them would be held once per pack naming them."""
    people = tuple(p if (held := catalog.people.get(p.slug)) != p else held for p in unit.people)
    return Unit(unit.name, unit.drama, people)


def manifest(units: dict[str, tuple[Unit, str]]) -> str:
    """What an index was built from: the compiler's version, the index's form and every pack's slug
    and digest (JSON)."""
    packs = {slug: key for slug, (_unit, key) in sorted(units.items())}
    return json.dumps({"version": COMPILER_VERSION, "index": INDEX_FORMAT, "packs": packs})


def _read_manifest(stored_manifest: str) -> dict[str, Any] | None:
    """A stored index's manifest, or None when it is unreadable or from another compiler or form."""
    try:
        held = json.loads(stored_manifest)
    except ValueError:
        return None
    if not isinstance(held, dict) or held.get("version") != COMPILER_VERSION or held.get("index") != INDEX_FORMAT:
        return None
    return held


def same_compiler(stored_manifest: str) -> bool:
    """Whether an index was built by this compiler, in this form (else it is not read back at all)."""
    return _read_manifest(stored_manifest) is not None


def changed_since(stored_manifest: str, units: dict[str, tuple[Unit, str]]) -> set[str] | None:
    """Slugs added, changed or removed since an index was built from `stored_manifest`; None when
    that index can't be used at all (another compiler version or index form, an unreadable manifest)."""
    held = _read_manifest(stored_manifest)
    if held is None or not isinstance(held.get("packs"), dict):
        return None
    before: dict[str, str] = held["packs"]
    now = {slug: key for slug, (_unit, key) in units.items()}
    return {s for s in before.keys() | now.keys() if before.get(s) != now.get(s)}


def overlay_catalog(catalog: Catalog, slugs: set[str]) -> Catalog:
    """The part of `catalog` an overlay index is built from: these dramas and their people."""
    dramas = {slug: catalog.dramas[slug] for slug in sorted(slugs) if slug in catalog.dramas}
    people = {e.person for d in dramas.values() for e in d.cast}
    return Catalog(dramas, {slug: p for slug, p in catalog.people.items() if slug in people})


def pack_index(index: CatalogIndex) -> bytes:
    with _no_gc(freeze=False):
        return pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_index(blob: bytes) -> CatalogIndex | None:
    try:
        with _no_gc(freeze=True):
            index = pickle.loads(blob)  # noqa: S301 - written by this bot into its own database
    except Exception:  # noqa: BLE001 - rebuilt when unreadable
        return None
    return index if isinstance(index, CatalogIndex) else None
