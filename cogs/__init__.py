"""Discord-facing extensions: each module is loaded by the bot. Keep them thin: parse options,
call services in `bot/`, render with `bot.ui`."""
