"""A drama's long texts held apart from the drama, so that a large catalog fits in memory.

- Episode synopses (and TVmaze's summaries), the bulk of a catalog's text, are not held at all:
  they are stored in the database (table catalog_texts) and read when an answer shows them —
  `/recap` in the one statement it makes anyway, a thread's starter post when it is written.
- Characters' descriptions and facts are held compressed, one zlib block per drama
  (`Drama.character_texts`), and unpacked when a `/who` card shows them: no database trip for
  the lookup members make most, at a fraction of the memory.
- Premises (one short text per drama) stay where they are.

Pure functions: what to store (:func:`split_texts`) and how the stored texts fill an object back in
(bot.lookups.Lookups does the reading and keeps what it filled in).
"""

from __future__ import annotations

import dataclasses
import json
import zlib

from bot.catalog.models import Character, Drama, Episode, Fact

# (part, body, extra) as stored in catalog_texts (migration 0012). Only 'e:<number>' parts (body: the
# synopsis, extra: TVmaze's summary) are written now; the 'drama' and 'c:<character>' parts that
# migration's comment also names are no longer written or read (a drama's rows are replaced whole
# whenever it is stored, and the compiler's version change recompiled and stored every pack once).
TextRow = tuple[str, str, str]


def episode_part(number: int) -> str:
    return f"e:{number}"


def split_texts(drama: Drama) -> tuple[Drama, list[TextRow]]:
    """The drama without its synopses and with its characters' texts compressed (marked
    `texts_apart`), and the rows that hold the synopses. Episodes with nothing to hold have no row
    (an episode without a row reads back empty)."""
    rows: list[TextRow] = []
    episodes = []
    for e in drama.episodes:
        if e.synopsis or e.tvmaze_summary:
            rows.append((episode_part(e.number), e.synopsis, e.tvmaze_summary))
            e = dataclasses.replace(e, synopsis="", tvmaze_summary="")
        episodes.append(e)
    lines: list[str] = []
    characters = {}
    for slug, c in drama.characters.items():
        if c.description or c.facts:
            # One line per character, "slug<TAB>JSON": a card finds its line and parses only that
            # (JSON escapes every newline and tab inside the texts; a slug has none).
            texts = [c.description, [[f.episode, f.text] for f in c.facts]]
            lines.append(f"{slug}\t{json.dumps(texts, ensure_ascii=False)}")
            c = dataclasses.replace(c, description="", facts=())
        characters[slug] = c
    packed = zlib.compress(("\n" + "\n".join(lines) + "\n").encode(), 9) if lines else b""
    slim = dataclasses.replace(
        drama, episodes=tuple(episodes), characters=characters, character_texts=packed, texts_apart=True
    )
    return slim, rows


def with_episode_texts(episode: Episode, body: str, extra: str) -> Episode:
    return dataclasses.replace(episode, synopsis=body, tvmaze_summary=extra)


def character_texts_of(drama: Drama, slug: str) -> tuple[str, tuple[Fact, ...]]:
    """A character's (description, facts) from the drama's compressed block; empty when it has none."""
    if not drama.character_texts:
        return "", ()
    raw = zlib.decompress(drama.character_texts)
    start = raw.find(b"\n" + slug.encode() + b"\t")
    if start < 0:
        return "", ()
    start += len(slug) + 2
    description, facts = json.loads(raw[start : raw.index(b"\n", start)])
    return str(description), tuple(Fact(int(n), str(text)) for n, text in facts)


def with_character_texts(character: Character, description: str, facts: tuple[Fact, ...]) -> Character:
    return dataclasses.replace(character, description=description, facts=facts)
