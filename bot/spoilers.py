"""What a member may see, and how plot text is hidden.

Plot text (synopses, spoiler facts) is never plain in a shared channel: outside the episode's own
thread it is wrapped in ||…||. A member whose progress covers the episode may see it plain, but
only in an ephemeral reply (seen by them alone).
"""

from __future__ import annotations

import re

# An escape (a backslash and the character after it) is kept as it is; a lone trailing backslash
# and a bare "|" are escaped.
_BARS = re.compile(r"\\[\s\S]|\\\Z|\|")


def _escape_bar(match: re.Match[str]) -> str:
    found = match.group()
    if found == "|":
        return "\\|"
    return "\\\\" if found == "\\" else found


def spoiler(text: str) -> str:
    """Wrap markdown text in Discord spoiler bars, once.

    `text` is markdown as it will be shown: already-escaped user text (`bot.text.quote`) or the
    catalog's own words. Its escapes are kept as they are (escaping them again would show the
    backslashes); only what could close the bars early is escaped: a bare `|`, and a trailing lone
    backslash. Nor does the inside end with a pipe, so no reading of `|||` can close the bars early.
    Cut a wrapped text only with `bot.ui.limits.fit`, which closes the bars again.
    """
    text = text.strip()
    if not text:
        return text
    inner = _BARS.sub(_escape_bar, text) if ("|" in text or "\\" in text) else text
    if inner.endswith("|"):
        inner += " "
    return "||" + inner + "||"


def may_show_plain(*, episode: int, watched: int, ephemeral: bool, in_episode_thread: bool = False) -> bool:
    """Whether plot text from `episode` may be shown without spoiler bars."""
    if in_episode_thread:
        return True
    return ephemeral and watched >= episode


def shield(text: str, *, plain: bool) -> str:
    return text if plain else spoiler(text)
