"""The drama catalog: data packs (TOML) → validated models → a search index."""

from bot.catalog.loader import CatalogError, load_catalog, load_catalog_or_raise
from bot.catalog.models import Catalog, Character, Drama, Episode, Person
from bot.catalog.search import CatalogIndex

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogIndex",
    "Character",
    "Drama",
    "Episode",
    "Person",
    "load_catalog",
    "load_catalog_or_raise",
]
