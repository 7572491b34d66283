"""A deterministic synthetic catalog for the benchmarks: N dramas, E episodes, C characters each.

Names are built from romanised Korean syllables (and their Hangul), so prefixes, romanisation
variants and typos behave as with real names: many characters share a surname, some share a full
name, given names repeat across dramas. Each drama also gets a Korean title, aliases, a cast of
actors drawn from a shared pool (stars appear in several dramas), relations and a few
spoiler-tagged facts per character. Same seed → same catalog, byte for byte.

One description of each pack (a dict shaped exactly as `tomllib` returns the TOML) feeds two outputs:

  write_packs(folder, …)   TOML pack files, for measuring the real loader (docs/data-packs.md)
  build_catalog(…)         `Catalog` objects built directly in memory (no TOML, no validation),
                           equal to what the loader would produce from the same packs

    python bench/catalog_gen.py --dramas 50 --out /tmp/packs     # write packs
    python bench/catalog_gen.py --dramas 200 --check             # packs load with zero problems and
                                                                 # equal the in-memory catalog
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog.models import (  # noqa: E402
    CastEntry,
    Catalog,
    Character,
    Drama,
    Episode,
    Fact,
    Person,
    Relation,
    Source,
)

# -- name material ------------------------------------------------------------------------------
# (romanisation, Hangul). Surnames weighted roughly as in Korea (Kim, Lee, Park far ahead).
SURNAMES: list[tuple[str, str, int]] = [
    ("Kim", "김", 22), ("Lee", "이", 15), ("Park", "박", 9), ("Choi", "최", 5), ("Jung", "정", 5),
    ("Kang", "강", 3), ("Cho", "조", 3), ("Yoon", "윤", 3), ("Jang", "장", 3), ("Lim", "임", 3),
    ("Han", "한", 2), ("Oh", "오", 2), ("Seo", "서", 2), ("Shin", "신", 2), ("Kwon", "권", 2),
    ("Hwang", "황", 2), ("Ahn", "안", 2), ("Song", "송", 2), ("Jeon", "전", 2), ("Hong", "홍", 1),
    ("Ko", "고", 1), ("Moon", "문", 1), ("Yang", "양", 1), ("Son", "손", 1), ("Bae", "배", 1),
    ("Baek", "백", 1), ("Heo", "허", 1), ("Nam", "남", 1), ("Shim", "심", 1), ("Noh", "노", 1),
    ("Ha", "하", 1), ("Kwak", "곽", 1), ("Sung", "성", 1), ("Cha", "차", 1), ("Joo", "주", 1),
    ("Woo", "우", 1), ("Min", "민", 1), ("Ryu", "류", 1), ("Na", "나", 1), ("Jin", "진", 1),
    ("Ji", "지", 1), ("Eom", "엄", 1), ("Chae", "채", 1), ("Won", "원", 1), ("Cheon", "천", 1),
    ("Bang", "방", 1), ("Gong", "공", 1), ("Hyun", "현", 1), ("Pyo", "표", 1), ("Yeo", "여", 1),
    ("Byun", "변", 1), ("Seok", "석", 1), ("Ma", "마", 1), ("Gil", "길", 1), ("Do", "도", 1),
    ("Goo", "구", 1), ("Yoo", "유", 1), ("Mo", "모", 1), ("Tak", "탁", 1), ("Wang", "왕", 1),
]  # fmt: skip
GIVEN: list[tuple[str, str]] = [
    ("hae", "해"), ("in", "인"), ("hyun", "현"), ("woo", "우"), ("eun", "은"), ("sung", "성"),
    ("ji", "지"), ("won", "원"), ("min", "민"), ("jun", "준"), ("seo", "서"), ("yeon", "연"),
    ("soo", "수"), ("ah", "아"), ("young", "영"), ("hee", "희"), ("jin", "진"), ("ho", "호"),
    ("joon", "준"), ("tae", "태"), ("kyung", "경"), ("mi", "미"), ("na", "나"), ("ra", "라"),
    ("bin", "빈"), ("chan", "찬"), ("dong", "동"), ("gun", "건"), ("ha", "하"), ("jae", "재"),
    ("jeong", "정"), ("kyu", "규"), ("seok", "석"), ("sang", "상"), ("yoon", "윤"), ("yu", "유"),
    ("bo", "보"), ("da", "다"), ("ye", "예"), ("hye", "혜"), ("do", "도"), ("hwan", "환"),
    ("il", "일"), ("cheol", "철"), ("man", "만"), ("gi", "기"), ("rim", "림"), ("seul", "슬"),
    ("ja", "자"), ("sun", "선"), ("hwa", "화"), ("beom", "범"), ("yong", "용"), ("hoon", "훈"),
    ("kwang", "광"), ("sik", "식"), ("nam", "남"), ("ok", "옥"), ("bok", "복"), ("ran", "란"),
    ("rae", "래"), ("so", "소"), ("shin", "신"), ("san", "산"), ("kang", "강"), ("yi", "이"),
    ("chae", "채"), ("geun", "근"), ("hyuk", "혁"), ("seon", "선"), ("woong", "웅"), ("byung", "병"),
]  # fmt: skip
# Other romanisations of the same syllable: what people also type (and what aliases carry).
VARIANTS = {
    "hyun": "hyeon", "sung": "seong", "soo": "su", "hee": "hui", "joon": "jun", "young": "yeong",
    "kyung": "gyeong", "kyu": "gyu", "gun": "geon", "byung": "byeong", "jin": "jeen", "woo": "u",
}  # fmt: skip
TITLES_OF_ADDRESS = ["Director", "Chairman", "Detective", "Doctor", "Team Leader", "Secretary", "Professor", "Chef"]

# -- title material ------------------------------------------------------------------------------
NOUNS: list[tuple[str, str]] = [
    ("Queen", "여왕"), ("Tears", "눈물"), ("Moon", "달"), ("Sun", "해"), ("Spring", "봄"), ("Summer", "여름"),
    ("Winter", "겨울"), ("Autumn", "가을"), ("Heart", "마음"), ("Star", "별"), ("Love", "사랑"),
    ("Secret", "비밀"), ("Palace", "궁"), ("Doctor", "의사"), ("Lawyer", "변호사"), ("King", "왕"),
    ("Prince", "왕자"), ("Princess", "공주"), ("Garden", "정원"), ("Sea", "바다"), ("River", "강"),
    ("Mountain", "산"), ("City", "도시"), ("Village", "마을"), ("Night", "밤"), ("Morning", "아침"),
    ("Dream", "꿈"), ("Flower", "꽃"), ("Rain", "비"), ("Snow", "눈"), ("Wind", "바람"), ("Shadow", "그림자"),
    ("Mirror", "거울"), ("Letter", "편지"), ("Promise", "약속"), ("Memory", "기억"), ("Song", "노래"),
    ("House", "집"), ("Family", "가족"), ("Detective", "형사"), ("Chef", "요리사"), ("Teacher", "선생님"),
    ("Runner", "러너"), ("Legend", "전설"), ("Empire", "제국"), ("Kingdom", "왕국"), ("Tale", "이야기"),
    ("Game", "게임"), ("Island", "섬"), ("Station", "역"), ("Hospital", "병원"), ("School", "학교"),
    ("Bride", "신부"), ("Groom", "신랑"), ("Ghost", "유령"), ("Goblin", "도깨비"), ("Fox", "여우"),
    ("Tiger", "호랑이"), ("Sword", "검"), ("Crown", "왕관"), ("Butterfly", "나비"), ("Bridge", "다리"),
    ("Window", "창문"), ("Road", "길"), ("Season", "계절"), ("Voice", "목소리"), ("Hero", "영웅"),
]  # fmt: skip
ADJECTIVES: list[tuple[str, str]] = [
    ("Lovely", "사랑스러운"), ("Hidden", "숨겨진"), ("Crazy", "미친"), ("Beautiful", "아름다운"),
    ("Strong", "힘센"), ("Last", "마지막"), ("First", "첫"), ("Golden", "황금"), ("Blue", "푸른"),
    ("Red", "붉은"), ("Little", "작은"), ("Wild", "거친"), ("Perfect", "완벽한"), ("Strange", "이상한"),
    ("Brave", "용감한"), ("Silent", "조용한"), ("Midnight", "한밤의"), ("Eternal", "영원한"),
    ("Sweet", "달콤한"), ("Bitter", "씁쓸한"), ("Extraordinary", "이상한"), ("Gentle", "다정한"),
    ("Fake", "가짜"), ("Royal", "왕실의"), ("Lonely", "외로운"), ("Dazzling", "눈부신"),
    ("Reckless", "무모한"), ("Fated", "운명의"), ("Unlucky", "불운한"), ("Second", "두 번째"),
]  # fmt: skip
VERBS: list[tuple[str, str]] = [
    ("Chasing", "쫓는"), ("Finding", "찾는"), ("Loving", "사랑하는"), ("Crash Landing on", "불시착한"),
    ("Dancing with", "춤추는"), ("Waiting for", "기다리는"), ("Saving", "구하는"), ("Hunting", "사냥하는"),
    ("Marrying", "결혼하는"), ("Becoming", "되는"), ("Remembering", "기억하는"), ("Forgetting", "잊는"),
]  # fmt: skip
NETWORKS = [
    ("tvN", ["Netflix", "TVING"]), ("JTBC", ["Netflix"]), ("SBS", ["Viki"]), ("KBS2", ["Viki", "Kocowa"]),
    ("MBC", ["Wavve"]), ("ENA", ["Netflix"]), ("OCN", ["TVING"]), ("tvN", ["Disney+"]), ("JTBC", ["TVING"]),
]  # fmt: skip
RELEASE_STREAMERS = [["Netflix"], ["Disney+"], ["TVING"], ["Coupang Play"], ["Wavve"]]
ZONES = ["Asia/Seoul"] * 18 + ["Asia/Tokyo", "Asia/Taipei"]
SLOTS = [
    ("21:10", "Saturdays and Sundays"), ("22:00", "Mondays and Tuesdays"), ("22:30", "Wednesdays and Thursdays"),
    ("21:20", "Fridays and Saturdays"), ("20:50", "Saturdays and Sundays"), ("21:00", "Wednesdays and Thursdays"),
]  # fmt: skip
SLOT_WEEKDAYS = {"Saturdays and Sundays": (5, 6), "Mondays and Tuesdays": (0, 1),
                 "Wednesdays and Thursdays": (2, 3), "Fridays and Saturdays": (4, 5)}  # fmt: skip

# -- text material (the project's own words, generated) --------------------------------------------
PLACES = ["the family mansion", "a village by the sea", "the hospital rooftop", "a rain-soaked bus stop",
          "the company's boardroom", "a night market", "the old orphanage", "a courtroom", "the palace gates",
          "a mountain temple", "the police station", "a small chicken restaurant", "the school gym",
          "an airport lounge", "a hanok guesthouse", "the Han River bank"]  # fmt: skip
THINGS = ["a forged contract", "an old photograph", "a missing diary", "the inheritance", "a hidden recording",
          "a childhood promise", "the accident years ago", "a stolen necklace", "a secret bank account",
          "a love letter never sent", "the company shares", "a medical report"]  # fmt: skip
DEEDS = ["confronts", "follows", "lies to", "protects", "betrays", "rescues", "confesses to", "blackmails",
         "avoids", "proposes to", "reconciles with", "investigates"]  # fmt: skip
EVENTS = ["a storm cuts the village off", "the press gets hold of the story", "the shareholders' meeting turns ugly",
          "a fire breaks out at the warehouse", "the wedding is called off", "a car accident changes everything",
          "the prosecutor reopens the case", "an old rival returns from abroad", "the family's secret leaks",
          "a festival brings the whole town together"]  # fmt: skip
FEELINGS = ["jealous", "heartbroken", "suspicious", "furious", "relieved", "hopeful", "terrified", "guilty"]
JOBS = [
    "a prosecutor", "a chaebol heir", "a webtoon artist", "a trauma surgeon", "a convenience-store clerk",
    "an idol trainee", "a detective", "a high-school teacher", "a fishing-village head", "a palace guard",
    "a start-up founder", "a pastry chef", "a lawyer", "a fortune teller", "a news anchor", "a bodyguard",
]  # fmt: skip
TRAITS = ["ambitious", "stubborn", "kind-hearted", "sharp-tongued", "lonely", "cheerful", "secretive", "proud",
          "clumsy", "fearless"]  # fmt: skip
REVEALS = ["is secretly the chairman's illegitimate child", "was the one who caused the accident",
           "has been working for the rival company all along", "is the first love from the summer camp",
           "forged the will", "knew the truth from the beginning", "is terminally ill",
           "witnessed the crime as a child", "is the real heir", "wrote the anonymous letters",
           "lost their memory after the fall", "has a twin"]  # fmt: skip
KINDS = ["friend of", "rival of", "sister of", "brother of", "mother of", "father of", "colleague of",
         "first love of", "ex-fiancé of", "boss of", "neighbour of", "classmate of"]  # fmt: skip


@dataclass(frozen=True)
class PersonSpec:
    slug: str
    name: str
    name_ko: str
    aliases: tuple[str, ...]


class Names:
    """Korean-style names: 'Kim Hae-in' / '김해인', with slugs and alternative spellings."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._surnames = [s for s in SURNAMES for _ in range(s[2])]

    def make(self) -> tuple[str, str, str, list[str], str]:
        """(name, name_ko, slug, given syllables, surname)."""
        surname, surname_ko, _ = self.rng.choice(self._surnames)
        count = 1 if self.rng.random() < 0.04 else 2
        syllables = self.rng.sample(GIVEN, count)
        given = [s for s, _ in syllables]
        name = f"{surname} {'-'.join(given).capitalize()}"
        name_ko = surname_ko + "".join(k for _, k in syllables)
        slug = "-".join([surname.lower(), *given])
        return name, name_ko, slug, given, surname

    def aliases(self, given: list[str], surname: str, *, character: bool) -> list[str]:
        rng = self.rng
        found: list[str] = []
        if len(given) > 1 and rng.random() < 0.35:
            found.append("".join(given).capitalize())  # "Haein"
        varied = [VARIANTS.get(g, g) for g in given]
        if varied != given and rng.random() < 0.3:
            found.append(f"{surname} {'-'.join(varied).capitalize()}")  # "Baek Hyeon-woo"
        if character and rng.random() < 0.08:
            found.append(f"{rng.choice(TITLES_OF_ADDRESS)} {surname}")  # "Chairman Hong"
        return found


def _people_pool(rng: random.Random, size: int) -> list[PersonSpec]:
    names = Names(rng)
    pool: list[PersonSpec] = []
    used: dict[str, int] = {}
    for _ in range(size):
        name, name_ko, slug, given, surname = names.make()
        n = used.get(slug, 0) + 1
        used[slug] = n
        if n > 1:  # two actors with one name: the slug tells them apart, as on real sites
            slug = f"{slug}-{n}"
        pool.append(PersonSpec(slug, name, name_ko, tuple(names.aliases(given, surname, character=False))))
    return pool


def _slugify(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() and ch.isascii() else "-" for ch in text)
    return "-".join(part for part in out.split("-") if part)


class TitleMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.slugs: set[str] = set()

    def _one(self) -> tuple[str, str]:
        rng = self.rng
        n, nk = rng.choice(NOUNS)
        n2, n2k = rng.choice(NOUNS)
        a, ak = rng.choice(ADJECTIVES)
        form = rng.randrange(8)
        if form == 0:
            return f"{a} {n}", f"{ak} {nk}"
        if form == 1:
            return f"The {a} {n}", f"{ak} {nk}"
        if form == 2:
            return f"{n} of {n2}", f"{n2k}의 {nk}"
        if form == 3:
            return f"My {a} {n}", f"나의 {ak} {nk}"
        if form == 4:
            return f"{n} and {n2}", f"{nk}와 {n2k}"
        if form == 5:
            v, vk = rng.choice(VERBS)
            return f"{v} {n}", f"{vk} {nk}"
        if form == 6:
            return f"{n} of the {a} {n2}", f"{ak} {n2k}의 {nk}"
        return f"{a} {n} {n2}", f"{ak} {nk} {n2k}"

    def make(self, year: int) -> tuple[str, str, str]:
        """(title, title_ko, slug); a title already used gets a year in its slug (a remake)."""
        for _ in range(6):
            title, title_ko = self._one()
            slug = _slugify(title)
            if slug not in self.slugs:
                break
        if slug in self.slugs:
            slug = f"{slug}-{year}"
            n = 2
            while slug in self.slugs:
                slug = f"{_slugify(title)}-{year}-{n}"
                n += 1
        self.slugs.add(slug)
        return title, title_ko, slug


def _acronym(title: str) -> str:
    small = {"of", "the", "and", "on", "for", "with"}
    words = title.split()
    return "".join(w[0].lower() if w.lower() in small else w[0].upper() for w in words)


@dataclass
class GenConfig:
    dramas: int
    episodes: int = 16
    characters: int = 20
    people_per_drama: float = 4.0  # size of the actor pool = dramas × this (at least `characters`)
    facts: int = 3  # per character, on average
    seed: int = 20240309
    text: bool = True  # False: names only (synopses, descriptions, facts left out) for huge in-memory runs


class Generator:
    def __init__(self, config: GenConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.names = Names(self.rng)
        pool_size = max(config.characters + 5, int(config.dramas * config.people_per_drama))
        self.pool = _people_pool(random.Random(config.seed + 1), pool_size)
        # Stars: a small share of the pool plays most main roles, across many dramas.
        self.stars = self.pool[: max(config.characters, pool_size // 20)]
        self.titles = TitleMaker(self.rng)

    def packs(self) -> Iterator[dict[str, Any]]:
        for i in range(self.config.dramas):
            yield self.pack(i)

    # -- one pack ------------------------------------------------------------------------------
    def pack(self, index: int) -> dict[str, Any]:
        rng = self.rng
        cfg = self.config
        year = rng.randint(2008, 2025)
        title, title_ko, slug = self.titles.make(year)
        release = rng.random() < 0.15
        zone = rng.choice(ZONES)
        drama: dict[str, Any] = {"slug": slug, "title": title, "title_ko": title_ko}
        aliases = []
        if len(title.split()) >= 3 and rng.random() < 0.5:
            aliases.append(_acronym(title))
        if rng.random() < 0.1:
            aliases.append(title_ko.replace(" ", ""))
        if aliases:
            drama["aliases"] = aliases
        if release:
            drama["streamers"] = rng.choice(RELEASE_STREAMERS)
        else:
            network, streamers = rng.choice(NETWORKS)
            drama["network"] = network
            drama["streamers"] = list(streamers)
        drama["year"] = year
        drama["timezone"] = zone
        slot, schedule = rng.choice(SLOTS)
        if not release:
            drama["air_time"] = slot
            drama["schedule"] = schedule
        drama["runtime_minutes"] = rng.choice([45, 60, 65, 70, 80, 85])
        drama["episode_count"] = cfg.episodes
        drama["writers"] = [self.names.make()[0]]
        drama["directors"] = [self.names.make()[0] for _ in range(rng.randint(1, 2))]

        characters = self._characters()
        if cfg.text:
            lead, other = characters[0]["name"], characters[1]["name"]
            drama["premise"] = (
                f"{lead}, {rng.choice(JOBS)}, and {other}, {rng.choice(JOBS)}, are thrown together when "
                f"{rng.choice(EVENTS)}. A {rng.choice(['romantic comedy', 'melodrama', 'thriller', 'family drama', 'fantasy romance'])} "  # noqa: E501
                f"about {rng.choice(THINGS)} and the people who want it."
            )
        drama["external_ids"] = {"tvmaze": 100000 + index}
        pack: dict[str, Any] = {
            "drama": drama,
            "sources": [
                {"id": "dramawatch", "name": "Dramawatch researched facts", "licence": "Project's own text (MIT)"}
            ],
            "episodes": self._episodes(year, release, schedule, characters),
        }
        cast_people = self._cast_people(len(characters))
        pack["people"] = [
            {
                "slug": p.slug,
                "name": p.name,
                "name_ko": p.name_ko,
                **({"aliases": list(p.aliases)} if p.aliases else {}),
            }
            for p in cast_people
        ]
        pack["characters"] = characters
        pack["cast"] = [
            {"character": c["slug"], "person": p.slug, **({"note": "young"} if rng.random() < 0.02 else {})}
            for c, p in zip(characters, cast_people, strict=True)
        ]
        return pack

    def _characters(self) -> list[dict[str, Any]]:
        rng = self.rng
        cfg = self.config
        count = cfg.characters
        mains = min(count, rng.randint(2, 4))
        supporting = min(count - mains, max(0, count // 2 - mains + rng.randint(0, 3)))
        out: list[dict[str, Any]] = []
        slugs: set[str] = set()
        family = rng.choice(SURNAMES)  # a drama has a family: several characters share a surname
        while len(out) < count:
            name, name_ko, slug, given, surname = self.names.make()
            if rng.random() < 0.2 and family[0] != surname:
                surname, surname_ko = family[0], family[1]
                name = f"{surname} {name.split(' ', 1)[1]}"
                name_ko = surname_ko + name_ko[1:]
                slug = "-".join([surname.lower(), *given])
            if slug in slugs:
                continue
            slugs.add(slug)
            billing = "main" if len(out) < mains else "supporting" if len(out) < mains + supporting else "guest"
            character: dict[str, Any] = {"slug": slug, "name": name, "name_ko": name_ko}
            aliases = self.names.aliases(given, surname, character=True)
            if aliases:
                character["aliases"] = aliases
            character["billing"] = billing
            out.append(character)
        for i, character in enumerate(out):
            first = character["name"].split(" ", 1)[1]
            if cfg.text:
                character["description"] = (
                    f"{first} is {rng.choice(JOBS)}, {rng.choice(TRAITS)} and {rng.choice(TRAITS)}, who spends "
                    f"most days at {rng.choice(PLACES)} and wants {rng.choice(THINGS)} without saying why."
                )
            else:
                character["description"] = ""
            relations = []
            for other in rng.sample(range(len(out)), k=min(len(out) - 1, rng.randint(1, 3))):
                if other == i:
                    continue
                relation: dict[str, Any] = {"to": out[other]["slug"], "kind": rng.choice(KINDS)}
                if rng.random() < 0.25:
                    relation["episode"] = rng.randint(1, cfg.episodes)
                relations.append(relation)
            character["relations"] = relations
            facts = []
            if cfg.text:
                for _ in range(max(0, cfg.facts + rng.randint(-1, 1) if character["billing"] != "guest" else 1)):
                    other = out[rng.randrange(len(out))]["name"]
                    facts.append(
                        {
                            "episode": rng.randint(1, cfg.episodes),
                            "text": f"{first} {rng.choice(REVEALS)}, which {other} learns at {rng.choice(PLACES)}.",
                        }
                    )
            character["facts"] = facts
        return out

    def _cast_people(self, count: int) -> list[PersonSpec]:
        rng = self.rng
        chosen: list[PersonSpec] = []
        seen: set[str] = set()
        while len(chosen) < count:
            source = self.stars if len(chosen) < 4 and rng.random() < 0.7 else self.pool
            person = source[rng.randrange(len(source))]
            if person.slug in seen:
                continue
            seen.add(person.slug)
            chosen.append(person)
        return chosen

    def _episodes(
        self, year: int, release: bool, schedule: str, characters: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        cfg = self.config
        start = date(year, 1, 1) + timedelta(days=rng.randrange(0, 300))
        days: list[date] = []
        if release:
            batch = rng.choice([cfg.episodes, max(1, cfg.episodes // 2), 4])
            for n in range(cfg.episodes):
                days.append(start + timedelta(weeks=n // batch))
        else:
            weekdays = SLOT_WEEKDAYS[schedule]
            day = start
            while len(days) < cfg.episodes:
                if day.weekday() in weekdays:
                    days.append(day)
                day += timedelta(days=1)
        episodes = []
        names = [c["name"].split(" ", 1)[1] for c in characters]
        for n, day in enumerate(days, start=1):
            episode: dict[str, Any] = {"number": n, "air_date": day.isoformat()}
            if cfg.text:
                a, b, c = rng.sample(names, 3)
                episode["synopsis"] = (
                    f"{a} {rng.choice(DEEDS)} {b} at {rng.choice(PLACES)} over {rng.choice(THINGS)}, and the "
                    f"fallout reaches everyone around them. Meanwhile {rng.choice(EVENTS)}, leaving {c} "
                    f"{rng.choice(FEELINGS)} and more alone than ever. {b} finally learns why {a} kept quiet "
                    f"about {rng.choice(THINGS)}, but the truth only raises a harder question. By the end of the "
                    f"night {c} {rng.choice(DEEDS)} {a}, and nothing at {rng.choice(PLACES)} will be the same."
                )
                episode["source"] = "dramawatch"
            episodes.append(episode)
        return episodes


# -- output 1: TOML packs ----------------------------------------------------------------------------
def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _table_lines(data: dict[str, Any], *, skip: tuple[str, ...] = ()) -> list[str]:
    lines = []
    for key, value in data.items():
        if key in skip:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key} = [")
            lines.extend(f"  {_value(v)}," for v in value)
            lines.append("]")
        else:
            lines.append(f"{key} = {_value(value)}")
    return lines


def to_toml(pack: dict[str, Any]) -> str:
    out = ["# Synthetic pack generated by bench/catalog_gen.py (benchmark data, not a real drama).", "", "[drama]"]
    out += _table_lines(pack["drama"], skip=("external_ids",))
    if pack["drama"].get("external_ids"):
        out += ["", "[drama.external_ids]", *_table_lines(pack["drama"]["external_ids"])]
    for section in ("sources", "episodes", "people", "characters", "cast"):
        for row in pack.get(section, []):
            out += ["", f"[[{section}]]", *_table_lines(row)]
    return "\n".join(out) + "\n"


def write_packs(folder: Path, config: GenConfig) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for pack in Generator(config).packs():
        path = folder / f"{pack['drama']['slug']}.toml"
        path.write_text(to_toml(pack), encoding="utf-8")
        files.append(path)
    return files


# -- output 2: models in memory ------------------------------------------------------------------------
_UTC = ZoneInfo("UTC")
_ZONES: dict[str, ZoneInfo] = {}


def to_models(pack: dict[str, Any], file: str = "") -> tuple[Drama, list[Person]]:
    """The pack as the loader would build it (same fields, same UTC air times), without validation."""
    d = pack["drama"]
    zone = _ZONES.setdefault(d["timezone"], ZoneInfo(d["timezone"]))
    default_time = d.get("air_time", "")
    episodes = []
    for e in pack["episodes"]:
        at = e.get("air_time") or default_time
        clock = dtime.fromisoformat(at) if at else dtime(0, 0)
        air_at = datetime.combine(date.fromisoformat(e["air_date"]), clock, tzinfo=zone).astimezone(_UTC)
        episodes.append(
            Episode(
                number=e["number"],
                air_at=air_at,
                is_release=not at,
                time_known=bool(at),
                title=e.get("title", ""),
                synopsis=e.get("synopsis", ""),
                source=e.get("source", ""),
            )
        )
    characters = {}
    for c in pack["characters"]:
        characters[c["slug"]] = Character(
            c["slug"],
            d["slug"],
            c["name"],
            c["billing"],
            c.get("description", ""),
            c.get("name_ko", ""),
            tuple(c.get("aliases", ())),
            tuple(Relation(r["to"], r["kind"], r.get("episode")) for r in c.get("relations", ())),
            tuple(sorted((Fact(f["episode"], f["text"]) for f in c.get("facts", ())), key=lambda x: x.episode)),
        )
    sources = {
        s["id"]: Source(s["id"], s["name"], s["licence"], s.get("url", ""), s.get("attribution", ""))
        for s in pack.get("sources", ())
    }
    drama = Drama(
        slug=d["slug"],
        title=d["title"],
        year=d["year"],
        timezone=d["timezone"],
        episode_count=d["episode_count"],
        episodes=tuple(sorted(episodes, key=lambda e: e.number)),
        file=file,
        title_ko=d.get("title_ko", ""),
        aliases=tuple(d.get("aliases", ())),
        network=d.get("network", ""),
        streamers=tuple(d.get("streamers", ())),
        schedule=d.get("schedule", ""),
        air_time=default_time,
        runtime_minutes=d.get("runtime_minutes"),
        writers=tuple(d.get("writers", ())),
        directors=tuple(d.get("directors", ())),
        premise=d.get("premise", ""),
        external_ids=dict(d.get("external_ids", {})),
        sources=sources,
        characters=characters,
        cast=tuple(CastEntry(c["character"], c["person"], c.get("note", "")) for c in pack.get("cast", ())),
    )
    people = [Person(p["slug"], p["name"], p.get("name_ko", ""), tuple(p.get("aliases", ()))) for p in pack["people"]]
    return drama, people


def build_catalog(config: GenConfig) -> Catalog:
    dramas: dict[str, Drama] = {}
    people: dict[str, Person] = {}
    for pack in Generator(config).packs():
        drama, pack_people = to_models(pack)
        dramas[drama.slug] = drama
        for person in pack_people:
            people.setdefault(person.slug, person)
    return Catalog(dict(sorted(dramas.items())), people)


def catalog_stats(catalog: Catalog) -> dict[str, int]:
    characters = sum(len(d.characters) for d in catalog.dramas.values())
    return {
        "dramas": len(catalog.dramas),
        "episodes": sum(len(d.episodes) for d in catalog.dramas.values()),
        "characters": characters,
        "people": len(catalog.people),
        "names": characters + len(catalog.people),
    }


def check(config: GenConfig) -> None:
    """The packs load through the real loader with zero problems and equal the in-memory catalog."""
    from bot.catalog import load_catalog

    with tempfile.TemporaryDirectory(prefix="dramawatch-gen-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        write_packs(folder, config)
        written = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.glob("*.toml"))
        started = time.perf_counter()
        loaded, problems = load_catalog([folder])
        loading = time.perf_counter() - started
    if problems:
        raise SystemExit("the loader found problems:\n" + "\n".join(problems[:20]))
    built = build_catalog(config)
    if set(loaded.dramas) != set(built.dramas):
        raise SystemExit("the loaded and built catalogs hold different dramas")
    for slug, drama in built.dramas.items():
        if dataclasses.replace(loaded.dramas[slug], file="") != drama:
            raise SystemExit(f"{slug}: the loaded drama differs from the one built in memory")
    if loaded.people != built.people:
        raise SystemExit("the loaded and built catalogs hold different people")
    print(
        f"ok: {catalog_stats(built)}; {len(built.dramas)} packs, {size / 1e6:.1f} MB written in {written:.2f} s, "
        f"loaded with zero problems in {loading:.2f} s; the in-memory catalog equals the loaded one"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dramas", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--characters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=GenConfig.seed)
    parser.add_argument("--out", type=Path, help="write the packs into this folder")
    parser.add_argument("--check", action="store_true", help="check the packs against the real loader")
    args = parser.parse_args()
    config = GenConfig(args.dramas, args.episodes, args.characters, seed=args.seed)
    if args.check:
        check(config)
    if args.out:
        files = write_packs(args.out, config)
        print(f"wrote {len(files)} packs to {args.out}")
    if not args.check and not args.out:
        parser.error("give --out FOLDER and/or --check")


if __name__ == "__main__":
    main()
