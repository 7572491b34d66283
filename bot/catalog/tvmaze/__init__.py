"""Importing a drama from TVmaze (https://www.tvmaze.com/api) into a data pack.

`python -m bot catalog import tvmaze QUERY` runs :func:`import_tvmaze` (in :mod:`.importer`):

1. fetch (:mod:`.client`): `/singlesearch/shows?q=QUERY&embed[]=episodes&embed[]=cast`, then
   `/shows/{id}/crew` (writers, directors), and `/people/{id}` only for a cast member the embed gives
   without a name. No match: `/search/shows?q=QUERY` for the closest names. A polite client: at most
   20 requests in any 10 s, retries with exponential backoff on 429 (honouring Retry-After, capped)
   and 5xx, a timeout per request, a User-Agent that says who we are.
2. map (:mod:`.mapping`, pure functions): TVmaze JSON → a pack dict in the shape of
   docs/data-packs.md. Episode air times come from `airstamp` (UTC) converted into the drama's time
   zone, so the loader gets back the same UTC instant; specials stay out of the numbering; TVmaze's
   episode summaries (HTML stripped) go into `tvmaze_summary`, credited by a `tvmaze` source
   (CC BY-SA 4.0).
3. merge (:mod:`.merge`) with the pack already on disk (found by `drama.external_ids.tvmaze`, else
   by slug): imported facts are updated (air dates and times, TVmaze summaries, episode count, new
   episodes, new people, characters and cast, external ids; empty drama facts are filled in);
   everything written by hand (synopses, titles, descriptions, aliases, facts, relations, billing,
   premise…) keeps its value. Every change is listed.
4. write (:mod:`.writing`, with tomlkit): a new pack in the usual layout; an existing one edited in
   place, so its comments and layout survive. The text is parsed back and validated by the catalog
   loader before it replaces the file (atomically), so a bad import writes nothing.
"""

from bot.catalog.tvmaze.client import (
    API_BASE,
    USER_AGENT,
    Candidate,
    ShowData,
    TVmazeClient,
    fetch_show,
    fetch_show_by_id,
    search_shows,
    updated_since,
)
from bot.catalog.tvmaze.errors import Ambiguous, ImportFailure, InvalidPack, NetworkFailure, NoMatch, UnexpectedData
from bot.catalog.tvmaze.importer import ImportResult, Merged, PackText, apply_import, import_tvmaze, merge_show, pack_of
from bot.catalog.tvmaze.mapping import Built, build_pack, show_timezone, slugify, strip_html
from bot.catalog.tvmaze.merge import merge_packs
from bot.catalog.tvmaze.writing import compact_times, dump_pack, toml_string, update_pack

__all__ = [
    "API_BASE",
    "Ambiguous",
    "Candidate",
    "Merged",
    "PackText",
    "fetch_show_by_id",
    "merge_show",
    "pack_of",
    "search_shows",
    "updated_since",
    "USER_AGENT",
    "Built",
    "ImportFailure",
    "ImportResult",
    "InvalidPack",
    "NetworkFailure",
    "NoMatch",
    "ShowData",
    "TVmazeClient",
    "UnexpectedData",
    "apply_import",
    "build_pack",
    "compact_times",
    "dump_pack",
    "fetch_show",
    "import_tvmaze",
    "merge_packs",
    "show_timezone",
    "slugify",
    "strip_html",
    "toml_string",
    "update_pack",
]
