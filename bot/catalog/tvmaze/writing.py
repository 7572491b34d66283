"""Writing packs as TOML, with tomlkit.

A new pack is laid out in the order of docs/data-packs.md. A re-import edits the pack's own text
(:func:`update_pack`): tomlkit keeps everything it is not asked to change (comments, blank lines, key
order, quoting), so only the values that changed are rewritten, a changed value keeps its inline
comment, a new key goes after the key it follows in the usual order, and a new entry goes after the
last of its kind (the comments that lead into the next section stay after it).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, TypeGuard

import tomlkit
from tomlkit.container import Container, OutOfOrderTableProxy
from tomlkit.items import AoT, InlineTable, Item, Key, Table, Whitespace

SECTIONS = ("drama", "sources", "episodes", "people", "characters", "cast")
KEY_ORDER = {
    "drama": (
        "slug title title_ko aliases network streamers year timezone air_time schedule runtime_minutes "
        "episode_count writers directors premise external_ids"
    ).split(),
    "sources": "id name licence url attribution".split(),
    "episodes": "number title air_date air_time synopsis source tvmaze_summary".split(),
    "people": "slug name name_ko aliases".split(),
    "characters": "slug name name_ko aliases billing description relations facts".split(),
    "cast": "character person note".split(),
    "external_ids": "tvmaze imdb thetvdb tvrage".split(),
    "relations": "to kind episode".split(),
    "facts": "episode text".split(),
}
# What tells the entries of a section apart, so a re-import edits each one in place.
IDENTITY = {
    "sources": ("id",),
    "episodes": ("number",),
    "people": ("slug",),
    "characters": ("slug",),
    "cast": ("character", "person"),
}
RULED = ("episodes", "people", "characters", "cast")  # sections introduced by a ruled comment line
_SURROGATES = re.compile(r"[\ud800-\udfff]")

Node = Container | Table | InlineTable | OutOfOrderTableProxy  # a TOML table, as tomlkit holds it


# -- values ------------------------------------------------------------------------------------------------------
def _text(text: str) -> str:
    """Lone surrogates, which UTF-8 cannot carry, as U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """`value` as it will read back from the written TOML: every text (keys too) through :func:`_text`."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped; the rest as is
    (lone surrogates become U+FFFD)."""
    return tomlkit.string(_text(text)).as_string()


def _ordered(table: Mapping[str, Any], order: Iterable[str]) -> list[str]:
    known = [k for k in order if k in table]
    return known + sorted(k for k in table if k not in known)


def _is_rows(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    """A non-empty list of tables: `[[name]]` at the top of a pack, else an array of inline tables."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value: Any, name: str = "") -> Item:
    """`value` written inline (after `key = `); `name` (its key) orders the keys of its tables."""
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        for key in _ordered(value, KEY_ORDER.get(name, ())):
            inline.append(_text(key), _value(value[key], key))
        return inline
    if isinstance(value, list | tuple):
        array = tomlkit.array()
        for v in value:
            array.append(_value(v, name if isinstance(v, dict) else ""))
        return array.multiline(_is_rows(list(value)))
    if isinstance(value, str):
        return tomlkit.string(_text(value))
    if isinstance(value, bool | int | float | datetime | date | time):
        return tomlkit.item(value)
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(data: Mapping[str, Any], name: str, *, subtables: bool) -> Table:
    """A table with its keys in the usual order. With `subtables` (a `[name]` table), tables in it are
    written as `[name.key]` tables after its keys; otherwise (a `[[name]]` entry) inline."""
    table = tomlkit.table()
    later: list[str] = []
    for key in _ordered(data, KEY_ORDER.get(name, ())):
        if subtables and isinstance(data[key], dict):
            later.append(key)
        else:
            table.append(_text(key), _value(data[key], key))
    for key in later:
        table.append(_text(key), _table(data[key], key, subtables=False))
    return table


def _rows(rows: list[dict[str, Any]], name: str) -> AoT:
    aot = tomlkit.aot()
    for row in rows:
        table = _table(row, name, subtables=False)
        table.trivia.indent = "\n"
        aot.append(table)
    return aot


# -- a new pack --------------------------------------------------------------------------------------------------
def dump_pack(pack: dict[str, Any], header: str = "") -> str:
    """The pack as TOML text, in the order of docs/data-packs.md; `header` (comment lines) first."""
    pack = clean(pack)
    doc = tomlkit.parse(header.rstrip("\n") + "\n") if header.strip() else tomlkit.document()
    tables = [k for k in pack if isinstance(pack[k], dict) or _is_rows(pack[k])]
    for key in sorted(k for k in pack if k not in tables):  # plain keys must come before any table
        doc.append(key, _value(pack[key]))
    for key in [k for k in SECTIONS if k in tables] + sorted(k for k in tables if k not in SECTIONS):
        value = pack[key]
        if isinstance(value, dict):
            if doc.body:
                doc.add(tomlkit.nl())
            doc.append(key, _table(value, key, subtables=True))
            continue
        if key in RULED:
            doc.add(tomlkit.nl())
            doc.add(tomlkit.comment(f"{'-' * 64} {key}"))
        doc.append(key, _rows(value, key))  # each entry after a blank line
    return doc.as_string().lstrip("\n")


def compact_times(pack: dict[str, Any]) -> dict[str, Any]:
    """A copy in which episodes whose air_time equals drama.air_time leave it out (they inherit it)."""
    pack = copy.deepcopy(pack)
    default = pack.get("drama", {}).get("air_time") if isinstance(pack.get("drama"), dict) else None
    if isinstance(default, str) and default:
        for ep in pack.get("episodes", []):
            if isinstance(ep, dict) and ep.get("air_time") == default:
                del ep["air_time"]
    return pack


# -- an existing pack, edited in place ---------------------------------------------------------------------------
def update_pack(text: str, pack: dict[str, Any]) -> str:
    """`text` (a pack) edited so that it reads back as `pack`, changing as little as it can: what is
    equal stays as written, with its comments. Raises tomlkit's ParseError if `text` is not TOML."""
    doc = tomlkit.parse(text)
    _sync(doc, clean(pack), "", subtables=True, top=True)
    return doc.as_string()


def _plain(value: Any) -> Any:
    return value.unwrap() if isinstance(value, Item | OutOfOrderTableProxy) else value


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (so `1` is not `true`, and `1.0` is not `1`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _sync(node: Node, data: dict[str, Any], name: str, *, subtables: bool, top: bool = False) -> None:
    for key in [k for k in node if k not in data]:
        del node[key]
    for key, value in data.items():
        if key not in node:
            _add(node, key, _new(value, key, subtables=subtables, top=top), name)
            continue
        current = node[key]
        if isinstance(value, dict) and isinstance(current, Table | InlineTable | OutOfOrderTableProxy):
            _sync(current, value, key, subtables=top and isinstance(current, Table))
        elif _is_rows(value) and isinstance(current, AoT):
            _sync_rows(current, value, key)
        elif not _same(_plain(current), value):
            node[key] = _new(value, key, subtables=subtables, top=top)  # tomlkit keeps an inline comment


def _new(value: Any, key: str, *, subtables: bool, top: bool) -> Item:
    if top and _is_rows(value):
        return _rows(value, key)
    if subtables and isinstance(value, dict):
        return _table(value, key, subtables=top)
    return _value(value, key)


def _body(node: Container | Table) -> list[tuple[Key | None, Item]]:
    return node.body if isinstance(node, Container) else node.value.body


def _add(node: Node, key: str, item: Item, name: str) -> None:
    """A new key in `node`: a table at its end (after a blank line), a value after the key it follows
    in the usual order (else after the last value)."""
    if isinstance(node, InlineTable | OutOfOrderTableProxy):
        node[key] = item
        return
    if isinstance(item, Table | AoT):
        first = item if isinstance(item, Table) else item[0]
        if isinstance(node, Table):  # a [name.key] table: the blank lines and comments before the next table follow it
            _move_trailing(node.value, first.value)
        first.trivia.indent = "" if node.as_string().endswith("\n\n") else "\n"
        node.append(key, item)
        return
    anchor = _anchor(node, key, name)
    if anchor is None:
        node.append(key, item)
        return
    # tomlkit has no public "insert after"; Container._insert_after keeps its index and key map right.
    if isinstance(node, Container):
        node._insert_after(anchor, key, item)
    else:
        node.value._insert_after(anchor, key, item)
        dict.__setitem__(node, key, item)  # a Table mirrors its container's items in its own dict


def _anchor(node: Container | Table, key: str, name: str) -> str | None:
    """The key (holding a value, not a table) that a new `key` goes after, if any."""
    values = [k.key for k, v in _body(node) if k is not None and not isinstance(v, Table | AoT)]
    order = KEY_ORDER.get(name, [])
    if key in order:
        before = set(order[: order.index(key)])
        earlier = [k for k in values if k in before]
        if earlier:
            return earlier[-1]
    return values[-1] if values else None


def _is_blank(item: Item) -> bool:
    return isinstance(item, Whitespace) and "\n" in item.s


def _ends_blank(table: Table) -> bool:
    body = table.value.body
    return bool(body) and _is_blank(body[-1][1])


def _move_trailing(source: Container, target: Container) -> None:
    """Move what follows `source`'s last key from its first blank line on (the blank lines and comments
    that lead into the next table) to the end of `target`. Comments right under the last key stay."""
    body = source.body
    keyed = [i for i, (k, _item) in enumerate(body) if k is not None]
    start = keyed[-1] + 1 if keyed else 0
    blank = next((i for i in range(start, len(body)) if _is_blank(body[i][1])), None)
    if blank is None:
        return
    moved = body[blank:]
    del body[blank:]  # items without a key: not in the container's key map, so the list can be cut
    for _key, item in moved:
        target.append(None, item)


def _identity(row: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...] | None:
    values = tuple(_plain(row.get(f)) for f in fields)
    if any(v is None or isinstance(v, dict | list) for v in values):
        return None
    return values


def _sync_rows(aot: AoT, rows: list[dict[str, Any]], name: str) -> None:
    """`[[name]]` entries edited in place, matched by their identity (an episode's number, a slug…),
    else by position; new ones inserted where `rows` has them, gone ones removed."""
    fields = IDENTITY.get(name)
    old: list[Hashable] = [_identity(t, fields) for t in aot.body] if fields else []
    new: list[Hashable] = [_identity(r, fields) for r in rows] if fields else []
    matchable = (
        fields is not None
        and None not in old
        and None not in new
        and len(set(old)) == len(old)
        and len(set(new)) == len(new)
    )
    if not matchable:
        old, new = list(range(len(aot))), list(range(len(rows)))  # by position
    wanted = set(new)
    for i in reversed(range(len(aot))):
        if old[i] not in wanted:
            del aot[i]
    tables = {ident: table for ident, table in zip([o for o in old if o in wanted], aot.body, strict=True)}
    order = [ident for ident in new if ident in tables]
    if [o for o in old if o in wanted] != order:
        _reorder(aot, [tables[ident] for ident in order])
    for i, (ident, row) in enumerate(zip(new, rows, strict=True)):
        if ident in tables:
            _sync(tables[ident], row, name, subtables=False)
        else:
            _insert_row(aot, i, _table(row, name, subtables=False))


def _reorder(aot: AoT, tables: list[Table]) -> None:
    """The entries in a new order. Comments go with the entry they are written in, except those that
    lead into the next section (after the last entry), which stay last."""
    end = tomlkit.table()
    if aot.body:
        _move_trailing(aot[-1].value, end.value)
    del aot[:]
    for table in tables:
        if aot.body and not _ends_blank(aot[-1]) and "\n" not in table.trivia.indent:
            table.trivia.indent = "\n" + table.trivia.indent
        aot.append(table)
    if aot.body:
        _move_trailing(end.value, aot[-1].value)


def _insert_row(aot: AoT, index: int, table: Table) -> None:
    if index == len(aot):  # after the last entry: what led into the next section now follows the new one
        if aot.body:
            _move_trailing(aot[-1].value, table.value)
        table.trivia.indent = "\n"
    else:
        previous = aot[index - 1] if index else None
        table.trivia.indent = "\n" if previous is not None and not _ends_blank(previous) else ""
        table.add(tomlkit.nl())
    aot.insert(index, table)
