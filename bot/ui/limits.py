"""The one place that makes message text and embeds fit Discord.

Every embed and message text the bot builds in `bot/ui/` passes through here on its way out:

- user, feed and catalog text is escaped exactly once where it enters markdown (`bot.text.quote`,
  `bot.text.escape`, re-exported as `md`), plot is wrapped once (`bot.spoilers.spoiler`);
- then, on the final markdown, every Discord limit is enforced: `fit` cuts a text only between
  whole tokens — never inside an escape, a mention or timestamp (`<@…>`, `<#…>`, `<t:…>`), a
  `[text](url)` link, a bare URL or a code span — and closes what the cut left open (`||`, `**` …),
  so a cut never shows the rest of a spoiler in plain text;
- `join` keeps whole lines and says "… and N more" for the ones it drops;
- `finish` makes a whole embed fit (every part, 25 fields, 6,000 characters in all), `content` a
  message's text; `plain`, `option`, `custom_id` and `url` cover components and links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import discord

from bot.text import clean
from bot.text import escape as md

__all__ = [
    "md",
    "fit",
    "join",
    "finish",
    "finish_all",
    "content",
    "plain",
    "option",
    "custom_id",
    "url",
    "link",
    "more",
]

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits,
# .../interactions/message-components).
TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # across all the embeds of one message
CONTENT = 2000
OPTION_LABEL = 100
OPTION_VALUE = 100
OPTION_DESCRIPTION = 100
OPTIONS = 25
BUTTON_LABEL = 80
PLACEHOLDER = 150
CUSTOM_ID = 100
MODAL_TITLE = 45
INPUT_LABEL = 45
CHOICE_NAME = 100
THREAD_NAME = 100
URL_LENGTH = 2048

ELLIPSIS = "…"
EMPTY = "\u200b"  # a field's name and value may not be empty


def more(count: int) -> str:
    return f"… and {count} more"


# -- cutting markdown safely ------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"(?P<esc>\\[\s\S]?)"  # an escape pair (or a lone trailing backslash)
    r"|(?P<block>```[\s\S]*?```)"
    r"|(?P<code>``[^`]+?``|`[^`]+`)"
    r"|(?P<mention><(?:@[!&]?\d+|#\d+|t:-?\d+(?::[tTdDfFR])?|a?:\w+:\d+|/[^<>\n]+?:\d+|id:\w+)>)"
    r"|(?P<link>\[(?:\\[\s\S]|[^\[\]\\\n])*\]\(<?https?://[^\s()<>]+>?\))"
    # A URL never runs past a "|" (a spoiler's bars close first) or into an escape.
    r"|(?P<url><?https?://[^\s<|\\]+[^<.,:;\"')\]\s|\\]>?)"
    r"|(?P<mark>\|\||\*\*|__|~~|\*|_)"
    r"|(?P<space>\s+)"
    r"|(?P<word>(?:(?!https?://)[^\\`<\[\s|*_~])+|[\s\S])"
)
_SPLITTABLE = ("word", "space")
_SHORT_TAIL = 20  # a word cut shorter than this is dropped, so the cut falls between words


class _Token(NamedTuple):  # a tuple: a long text is thousands of them, made on every cut
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        value = match.group()
        if kind == "mark" and value in ("_", "__"):
            before = text[match.start() - 1] if match.start() else " "
            after = text[match.end()] if match.end() < len(text) else " "
            if before.isalnum() and after.isalnum():  # snake_case: not emphasis
                kind = "word"
        tokens.append(_Token(kind, value))
    return tokens


def _pairs(tokens: Sequence[_Token]) -> dict[int, int]:
    """Opening marker index → its closing marker index; markers without a partner are plain text."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for i, token in enumerate(tokens):
        if token.kind != "mark":
            continue
        for depth in range(len(stack) - 1, -1, -1):
            if tokens[stack[depth]].text == token.text:
                pairs[stack[depth]] = i
                # Only this marker closes: spans may cross (`**||**x||`), as Discord reads them, and an
                # inner spoiler must still be closed after a cut.
                del stack[depth]
                break
        else:
            stack.append(i)
    return pairs


def fit(text: str, limit: int) -> str:
    """`text` (markdown, escaped and spoiler-wrapped already) in at most `limit` characters.

    Unchanged when it fits. Otherwise cut between whole tokens, preferably between words, with "…"
    and the closing markers of every span still open (a spoiler cut keeps its end hidden).
    """
    if len(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ""
    tokens = _tokens(text)
    pairs = _pairs(tokens)
    closers = {close: open_ for open_, close in pairs.items()}
    stack: list[int] = []  # indices of the open markers, innermost last
    closing = 0  # the length of the closing markers of `stack`
    used = 0
    kept = 0
    partial = ""
    for i, token in enumerate(tokens):
        after, closing_after = stack, closing
        if i in pairs:
            after, closing_after = [*stack, i], closing + len(token.text)
        elif i in closers:
            after, closing_after = [j for j in stack if j != closers[i]], closing - len(token.text)
        if used + len(token.text) + len(ELLIPSIS) + closing_after <= limit:
            used += len(token.text)
            stack, closing = after, closing_after
            kept = i + 1
            continue
        if token.kind in _SPLITTABLE:
            room = limit - used - len(ELLIPSIS) - closing
            partial = token.text[: max(room, 0)]
            if token.kind == "word" and len(partial) < _SHORT_TAIL and kept > 0:
                partial = ""
        break
    body = [t.text for t in tokens[:kept]]
    # Nothing dangling before the "…": no trailing space, no marker opened just before the cut.
    partial = partial.rstrip()
    while not partial and kept > 0:
        last = kept - 1
        if tokens[last].kind == "space":
            kept -= 1
            body.pop()
        elif stack and stack[-1] == last:
            stack.pop()
            kept -= 1
            body.pop()
        else:
            break
    return "".join(body) + partial + ELLIPSIS + "".join(tokens[j].text for j in reversed(stack))


def join(lines: Iterable[str], limit: int, *, sep: str = "\n", shrink_to: int = 0, empty: str = "") -> str:
    """Lines joined in at most `limit` characters.

    When they don't all fit: with `shrink_to`, every line is first cut (by `fit`) to an equal share
    if that share is at least `shrink_to`; otherwise whole lines are kept in order, those that don't
    fit are dropped, and the last line says "… and N more".
    """
    items = [line for line in lines if line]
    text = sep.join(items)
    if len(text) <= limit:
        return text or empty
    count = len(items)
    if shrink_to and count:
        share = (limit - len(sep) * (count - 1)) // count
        if share >= shrink_to:
            return sep.join(fit(line, share) for line in items)
    reserve = len(sep) + len(more(count))
    kept: list[str] = []
    used = 0
    for line in items:
        cost = len(line) + (len(sep) if kept else 0)
        if used + cost + reserve <= limit:
            kept.append(line)
            used += cost
    dropped = count - len(kept)
    if dropped:
        kept.append(more(dropped))
    return sep.join(kept)


def content(text: str) -> str:
    """A message's text, in Discord's 2,000 characters."""
    return fit(text, CONTENT)


def plain(text: str, limit: int, *, empty: str = "?") -> str:
    """Text for a place that shows no markdown (labels, options, names of threads and choices)."""
    return clean(text, limit) or empty


def custom_id(value: str) -> str:
    """A component's custom_id; its state is in it, so it is never cut: too long is a bug here."""
    if not value or len(value) > CUSTOM_ID:
        raise ValueError(f"custom_id of {len(value)} characters (Discord allows 1–{CUSTOM_ID}): {value[:40]!r}…")
    return value


def option(label: str, value: str, description: str | None = None) -> discord.SelectOption | None:
    """A select option within Discord's limits; None when its value can't be carried whole."""
    if not value or len(value) > OPTION_VALUE:
        return None
    return discord.SelectOption(
        label=plain(label, OPTION_LABEL),
        value=value,
        description=plain(description, OPTION_DESCRIPTION) if description else None,
    )


_URL_OK = re.compile(r"https?://[^\s<>\"\\^`{|}]+")


def url(value: str | None) -> str | None:
    """A link Discord accepts (http or https, at most 2,048 characters, no spaces), else None."""
    if not value:
        return None
    value = value.strip()
    if len(value) > URL_LENGTH or not _URL_OK.fullmatch(value):
        return None
    return value


def link(text: str, address: str | None) -> str:
    """A masked link `[text](address)`; `text` is markdown (escaped already). Just `text` without a usable address."""
    target = url(address)
    if target is None:
        return text
    target = target.replace("(", "%28").replace(")", "%29").replace("@", "%40")
    return f"[{text}]({target})"


# -- whole embeds ---------------------------------------------------------------------------------------------------
def _cut_plain(text: str, limit: int) -> str:
    """Cut text that shows no markdown (footers, author names)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS if limit >= len(ELLIPSIS) else ""


@dataclass
class _Field:
    name: str
    value: str
    inline: bool


class _Texts:
    """The texts of one embed, cut to Discord's limits; `shrink` cuts the longest further."""

    def __init__(self, embed: discord.Embed) -> None:
        self.embed = embed
        self.title = fit(str(embed.title or ""), TITLE)
        self.description = fit(str(embed.description or ""), DESCRIPTION)
        fields = [_Field(str(f.name or ""), str(f.value or ""), bool(f.inline)) for f in embed.fields]
        if len(fields) > FIELDS:
            dropped = len(fields) - (FIELDS - 1)
            fields = [*fields[: FIELDS - 1], _Field(EMPTY, more(dropped), False)]
        self.fields = [
            _Field(fit(f.name, FIELD_NAME) or EMPTY, fit(f.value, FIELD_VALUE) or EMPTY, f.inline) for f in fields
        ]
        self.footer = _cut_plain(str(embed.footer.text or ""), FOOTER)
        self.author = _cut_plain(str(embed.author.name or ""), AUTHOR)

    def size(self) -> int:
        fields = sum(len(f.name) + len(f.value) for f in self.fields)
        return len(self.title) + len(self.description) + fields + len(self.footer) + len(self.author)

    def slots(self) -> list[tuple[str, int]]:
        """Every text that may be cut further, as (kind, field index)."""
        slots = [("description", -1), ("footer", -1), ("author", -1), ("title", -1)]
        for index in range(len(self.fields)):
            slots += [("value", index), ("name", index)]
        return slots

    def get(self, slot: tuple[str, int]) -> str:
        kind, index = slot
        if kind == "value":
            return self.fields[index].value
        if kind == "name":
            return self.fields[index].name
        text: str = getattr(self, kind)
        return text

    def cut(self, slot: tuple[str, int], limit: int) -> None:
        kind, index = slot
        if kind in ("value", "name"):
            setattr(self.fields[index], kind, fit(self.get(slot), max(limit, 1)) or EMPTY)
        elif kind in ("footer", "author"):
            setattr(self, kind, _cut_plain(self.get(slot), limit))
        else:
            setattr(self, kind, fit(self.get(slot), limit))

    def floor(self, slot: tuple[str, int]) -> int:
        """How short a text may get: field names and values must keep a character."""
        return len(ELLIPSIS) if slot[0] in ("value", "name", "title") else 0

    def write(self) -> None:
        embed = self.embed
        embed.title = self.title or None
        embed.description = self.description or None
        if embed.url:
            embed.url = url(str(embed.url))
        embed.clear_fields()
        for f in self.fields:
            embed.add_field(name=f.name, value=f.value, inline=f.inline)
        if embed.footer.text:
            embed.set_footer(text=self.footer or None, icon_url=embed.footer.icon_url)
        if embed.author.name:
            embed.set_author(name=self.author or EMPTY, url=url(embed.author.url), icon_url=embed.author.icon_url)


def finish_all(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """The embeds of one message, each within every limit and all together within 6,000 characters:
    the longest texts are cut first (by `fit`, so spoilers stay closed)."""
    texts = [_Texts(embed) for embed in embeds]
    excess = sum(t.size() for t in texts) - EMBED_TOTAL
    while excess > 0:
        candidates = [(t, slot) for t in texts for slot in t.slots() if len(t.get(slot)) > t.floor(slot)]
        if not candidates:
            break  # cannot happen within Discord's per-part limits; never loop forever
        owner, slot = max(candidates, key=lambda c: len(c[0].get(c[1])))
        before = len(owner.get(slot))
        owner.cut(slot, max(before - excess, owner.floor(slot)))
        excess -= before - len(owner.get(slot))
    for t in texts:
        t.write()
    return list(embeds)


def finish(embed: discord.Embed) -> discord.Embed:
    """One embed (a message's only one) within every Discord limit."""
    finish_all([embed])
    return embed
