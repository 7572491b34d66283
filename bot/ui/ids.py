"""Short, stable names for things carried in a persistent component's custom_id.

A custom_id has at most 100 characters and is unique within its message (discord-api-docs,
components/reference.mdx, Anatomy of a Component), but a drama's slug has no length cap (the
importer slugifies the full title). So a button names its drama by a 12-hex-digit hash of the slug,
and resolves it back through the catalog when clicked. A button made before the hash (it carries
the slug itself) still resolves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

_known: dict[str, str] = {}  # key -> slug, rebuilt from the catalog when a key is not found


def drama_key(slug: str) -> str:
    """At most 13 characters for any slug: "h" and the first 12 hex digits of its SHA-1."""
    return "h" + hashlib.sha1(slug.encode()).hexdigest()[:12]


def drama_slug(key: str, dramas: Mapping[str, object]) -> str | None:
    """The slug of the drama `key` names (a key, or a legacy slug) in the current catalog, else None."""
    if key in dramas:
        return key  # a legacy button that carries the slug itself
    slug = _known.get(key)
    if slug is None or slug not in dramas:
        _known.clear()
        _known.update((drama_key(s), s) for s in dramas)
        slug = _known.get(key)
    return slug
