"""`python -m bot run`, as the crash suites start it in a child process, with one knob turned.

discord.py waits `guild_ready_timeout` (2 s by default) after the last GUILD_CREATE before it
calls the bot ready, in case more servers are still coming; only then does the bot's scheduler
start. The sandbox has exactly one server, so that wait is pure idle time: cut to 0.05 s, a start
takes ~0.7 s instead of ~2.7 s, which is what lets each suite kill the bot 20 times in under a
minute. Everything else is the real entry point (`bot.__main__.main(["run"])`: settings from the
environment, logging, the endpoints, `Dramawatch`, `bot.start`).
"""

from __future__ import annotations

import sys
from typing import Any

import discord.state

READY_WAIT = 0.05  # seconds discord.py waits for more GUILD_CREATEs (its default: 2.0)

_original_init = discord.state.ConnectionState.__init__


def _init(self: discord.state.ConnectionState[Any], *args: Any, **options: Any) -> None:
    options.setdefault("guild_ready_timeout", READY_WAIT)
    _original_init(self, *args, **options)


discord.state.ConnectionState.__init__ = _init  # type: ignore[method-assign]

if __name__ == "__main__":
    from bot.__main__ import main

    sys.exit(main(["run"]))
