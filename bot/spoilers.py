"""What a member may see, and how plot text is hidden.

Plot text (synopses, spoiler facts) is never plain in a shared channel: outside the episode's own
thread it is wrapped in ||…||. A member whose progress covers the episode may see it plain, but
only in an ephemeral reply (seen by them alone).
"""

from __future__ import annotations


def spoiler(text: str) -> str:
    """Wrap in Discord spoiler bars; pipes inside are escaped so the text cannot close them early,
    and backslashes too, so a trailing one cannot escape the closing bars."""
    text = text.strip()
    if not text:
        return text
    return "||" + text.replace("\\", "\\\\").replace("|", "\\|") + "||"


def may_show_plain(*, episode: int, watched: int, ephemeral: bool, in_episode_thread: bool = False) -> bool:
    """Whether plot text from `episode` may be shown without spoiler bars."""
    if in_episode_thread:
        return True
    return ephemeral and watched >= episode


def shield(text: str, *, plain: bool) -> str:
    return text if plain else spoiler(text)
