"""A drama's long texts apart from the drama: the running bot holds dramas without their premise,
synopses, descriptions and facts (about a third of a large catalog's memory) and reads the texts an
answer shows when it shows them (bot.lookups.Lookups, bot/storage/catalog.py, table catalog_texts).

Pure functions: what to store (:func:`split_texts`) and how a stored part fills an object back in.
"""

from __future__ import annotations

import dataclasses
import json

from bot.catalog.models import Character, Drama, Episode, Fact

TextRow = tuple[str, str, str]  # (part, body, extra) as stored; see migration 0012


def episode_part(number: int) -> str:
    return f"e:{number}"


def character_part(slug: str) -> str:
    return f"c:{slug}"


DRAMA_PART = "drama"


def split_texts(drama: Drama) -> tuple[Drama, list[TextRow]]:
    """The drama without its long texts (marked `texts_apart`), and the rows that hold them. Parts
    with nothing to hold are not stored (an empty part reads back as empty)."""
    rows: list[TextRow] = []
    if drama.premise:
        rows.append((DRAMA_PART, drama.premise, ""))
    episodes = []
    for e in drama.episodes:
        if e.synopsis or e.tvmaze_summary:
            rows.append((episode_part(e.number), e.synopsis, e.tvmaze_summary))
            e = dataclasses.replace(e, synopsis="", tvmaze_summary="")
        episodes.append(e)
    characters = {}
    for slug, c in drama.characters.items():
        if c.description or c.facts:
            facts = json.dumps([[f.episode, f.text] for f in c.facts], ensure_ascii=False) if c.facts else ""
            rows.append((character_part(slug), c.description, facts))
            c = dataclasses.replace(c, description="", facts=())
        characters[slug] = c
    slim = dataclasses.replace(drama, premise="", episodes=tuple(episodes), characters=characters, texts_apart=True)
    return slim, rows


def with_episode_texts(episode: Episode, body: str, extra: str) -> Episode:
    return dataclasses.replace(episode, synopsis=body, tvmaze_summary=extra)


def with_character_texts(character: Character, body: str, extra: str) -> Character:
    facts = tuple(Fact(int(n), str(text)) for n, text in json.loads(extra)) if extra else ()
    return dataclasses.replace(character, description=body, facts=facts)


def with_drama_texts(drama: Drama, body: str) -> Drama:
    return dataclasses.replace(drama, premise=body)
