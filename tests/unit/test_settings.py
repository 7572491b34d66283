"""bot.settings: defaults, parsing, clear errors that name the variable, the token kept secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import settings as settings_module
from bot.settings import (
    DEFAULT_DATABASE_PATH,
    RedactingFilter,
    Settings,
    SettingsError,
    configure_logging,
    ensure_database_dir,
    load_settings,
)

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.s3cr3t-t0k3n-value_XYZ"


def load(environ: dict[str, str], tmp_path: Path | None = None) -> Settings:
    env_file = tmp_path / ".env" if tmp_path is not None else None
    return load_settings(environ=environ, env_file=env_file)


# -- defaults and parsing ------------------------------------------------------------------------
def test_defaults_with_empty_environment_and_no_env_file(tmp_path: Path) -> None:
    settings = load({}, tmp_path)  # tmp_path/.env does not exist

    assert settings.token is None
    assert settings.database_path == Path(DEFAULT_DATABASE_PATH)
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.api_base is None
    assert settings.gateway_url is None


def test_blank_values_count_as_unset() -> None:
    settings = load(
        {
            "DISCORD_TOKEN": "   ",
            "DATABASE_PATH": "",
            "DEV_GUILD_ID": " ",
            "LOG_LEVEL": "",
            "DISCORD_API_BASE": "",
            "DISCORD_GATEWAY_URL": "\t",
        }
    )

    assert settings.token is None
    assert settings.database_path == Path(DEFAULT_DATABASE_PATH)
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.api_base is None
    assert settings.gateway_url is None


def test_every_variable_is_parsed(tmp_path: Path) -> None:
    db_file = tmp_path / "state" / "bot.db"
    settings = load(
        {
            "DISCORD_TOKEN": f"  {TOKEN}  ",
            "DATABASE_PATH": str(db_file),
            "DEV_GUILD_ID": " 123456789012345678 ",
            "LOG_LEVEL": "debug",
            "DISCORD_API_BASE": "http://127.0.0.1:8080/api/",
            "DISCORD_GATEWAY_URL": "wss://gateway.example.test/",
        }
    )

    assert settings.token == TOKEN
    assert settings.database_path == db_file
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"
    assert settings.api_base == "http://127.0.0.1:8080/api"
    assert settings.gateway_url == "wss://gateway.example.test"


def test_database_path_expands_the_home_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load({"DATABASE_PATH": "~/dw/bot.db"})
    assert settings.database_path == tmp_path / "dw" / "bot.db"


@pytest.mark.parametrize("level", ["CRITICAL", "error", "Warning", "info", "DEBUG"])
def test_every_log_level_is_accepted_case_insensitively(level: str) -> None:
    assert load({"LOG_LEVEL": level}).log_level == level.upper()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISCORD_API_BASE", "https://discord.com/api/v10"),
        ("DISCORD_API_BASE", "HTTP://localhost:9000"),
        ("DISCORD_GATEWAY_URL", "ws://localhost:9000/gateway"),
        ("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg"),
    ],
)
def test_good_urls_are_accepted(name: str, value: str) -> None:
    settings = load({name: value})
    parsed = settings.api_base if name == "DISCORD_API_BASE" else settings.gateway_url
    assert parsed == value


# -- .env versus the real environment ------------------------------------------------------------
def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nDEV_GUILD_ID=222222222222222222\nLOG_LEVEL=warning\n", encoding="utf-8"
    )
    settings = load({}, tmp_path)
    assert settings.token == TOKEN
    assert settings.dev_guild_id == 222222222222222222
    assert settings.log_level == "WARNING"


def test_real_environment_wins_over_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=from-dotenv\nLOG_LEVEL=DEBUG\nDEV_GUILD_ID=111111111111111111\n", encoding="utf-8"
    )
    settings = load({"DISCORD_TOKEN": "from-environment", "LOG_LEVEL": "ERROR"}, tmp_path)
    assert settings.token == "from-environment"
    assert settings.log_level == "ERROR"
    assert settings.dev_guild_id == 111111111111111111  # only in .env: still read


def test_bad_value_in_env_file_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=loud\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load({}, tmp_path)


def test_process_environment_is_used_when_no_mapping_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEV_GUILD_ID", "333333333333333333")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    settings = load_settings(env_file=tmp_path / ".env")
    assert settings.dev_guild_id == 333333333333333333


# -- bad settings name the variable ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEV_GUILD_ID", "abc"),
        ("DEV_GUILD_ID", "12.5"),
        ("DEV_GUILD_ID", "-5"),
        ("DEV_GUILD_ID", "0"),
        ("DEV_GUILD_ID", str(2**64)),
        ("DEV_GUILD_ID", "\u00b2"),  # superscript two: str.isdigit() says yes, int() says no
        ("LOG_LEVEL", "verbose"),
        ("LOG_LEVEL", "10"),
        ("DISCORD_API_BASE", "ftp://discord.example"),
        ("DISCORD_API_BASE", "discord.com/api"),
        ("DISCORD_API_BASE", "http://"),
        ("DISCORD_API_BASE", "http:///"),
        ("DISCORD_API_BASE", "ws://localhost:9000"),
        ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("DISCORD_GATEWAY_URL", "gateway.discord.gg"),
        ("DISCORD_GATEWAY_URL", "wss://"),
    ],
)
def test_bad_setting_raises_settings_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load({name: value, "DISCORD_TOKEN": TOKEN})
    message = str(info.value)
    assert message.startswith(name)
    assert repr(value) in message  # says what it got
    assert TOKEN not in message
    assert "\n" not in message  # one line


def test_database_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="^DATABASE_PATH .*directory"):
        load({"DATABASE_PATH": str(tmp_path)})


@given(st.text(max_size=30))
def test_any_dev_guild_id_parses_or_raises_settings_error(raw: str) -> None:
    try:
        settings = load({"DEV_GUILD_ID": raw})
    except SettingsError as exc:
        assert str(exc).startswith("DEV_GUILD_ID")
    else:
        assert settings.dev_guild_id is None or 0 < settings.dev_guild_id < 2**64


@given(st.text(max_size=40), st.sampled_from(["DISCORD_API_BASE", "DISCORD_GATEWAY_URL", "LOG_LEVEL"]))
def test_any_url_or_level_parses_or_raises_settings_error(raw: str, name: str) -> None:
    try:
        load({name: raw})
    except SettingsError as exc:
        assert str(exc).startswith(name)


# -- ensure_database_dir -----------------------------------------------------------------------------
def test_ensure_database_dir_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bot.db"
    ensure_database_dir(path)
    assert path.parent.is_dir()
    assert not path.exists()  # only the directory


def test_ensure_database_dir_under_a_regular_file_is_impossible(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        ensure_database_dir(blocker / "sub" / "bot.db")
    assert str(info.value).startswith("DATABASE_PATH: cannot create the directory")


def test_ensure_database_dir_uses_the_given_name(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^--db: "):
        ensure_database_dir(blocker / "bot.db", "--db")


def test_ensure_database_dir_refuses_an_unwritable_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The tests may run as root, for whom every file is writable: simulate a read-only directory.
    monkeypatch.setattr(settings_module.os, "access", lambda path, mode: False)
    with pytest.raises(SettingsError, match=r"^DATABASE_PATH: the database .* is not writable"):
        ensure_database_dir(tmp_path / "bot.db")


def test_ensure_database_dir_refuses_an_unwritable_database_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db_file = tmp_path / "bot.db"
    db_file.write_bytes(b"")
    real_access = settings_module.os.access
    monkeypatch.setattr(
        settings_module.os, "access", lambda path, mode: False if Path(path) == db_file else real_access(path, mode)
    )
    with pytest.raises(SettingsError, match="not writable"):
        ensure_database_dir(db_file)


# -- the token stays secret --------------------------------------------------------------------------
def test_repr_never_shows_the_token() -> None:
    settings = load({"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "token=set" in repr(settings)
    assert "token=unset" in repr(load({}))


def _record(msg: str, args: tuple[object, ...] | None = None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)


def test_redacting_filter_removes_the_token_from_the_message() -> None:
    record = _record(f"connecting with {TOKEN} now")
    assert RedactingFilter(TOKEN).filter(record) is True
    assert TOKEN not in record.getMessage()
    assert record.getMessage() == "connecting with [token] now"


def test_redacting_filter_removes_the_token_from_arguments() -> None:
    record = _record("headers: %s, retry %d", ({"Authorization": f"Bot {TOKEN}"}, 3))
    RedactingFilter(TOKEN).filter(record)
    message = record.getMessage()
    assert TOKEN not in message
    assert "[token]" in message
    assert "retry 3" in message


def test_redacting_filter_leaves_other_records_alone() -> None:
    record = _record("hello %s", ("world",))
    RedactingFilter(TOKEN).filter(record)
    assert record.msg == "hello %s"
    assert record.getMessage() == "hello world"
    unset = _record("hello %s", ("world",))
    assert RedactingFilter(None).filter(unset) is True
    assert unset.getMessage() == "hello world"


def test_configured_logging_never_writes_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    discord_logger = logging.getLogger("discord")
    saved_discord_level = discord_logger.level
    try:
        configure_logging(load({"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "INFO"}))
        assert root.level == logging.INFO
        assert discord_logger.level == logging.WARNING
        logging.getLogger("bot.test").warning("token is %s", TOKEN)
        root.handlers[0].flush()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        discord_logger.setLevel(saved_discord_level)
    err = capsys.readouterr().err
    assert "token is [token]" in err
    assert TOKEN not in err


def test_shards_are_read_and_name_the_process() -> None:
    settings = load_settings({"SHARD_COUNT": "8", "SHARD_IDS": "0-1,4"}, env_file=None)
    assert settings.sharded and settings.my_shards == (0, 1, 4) and settings.name == "shards-0,1,4"
    every = load_settings({"SHARD_COUNT": "2"}, env_file=None)
    assert every.my_shards == (0, 1) and every.name == "shards-0,1"
    plain = load_settings({}, env_file=None)
    assert not plain.sharded and plain.my_shards is None and plain.name == "main"
    named = load_settings({"SHARD_COUNT": "2", "SHARD_IDS": "1", "PROCESS_NAME": "bot-b"}, env_file=None)
    assert named.name == "bot-b" and named.job_lease_seconds == 60


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "100000000"}, "SHARD_COUNT must be a whole number of shards from 1 to 4096"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "²"}, "SHARD_IDS must be shard numbers"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2-5"}, "use 0 to 3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "is not a range of shards"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "a"}, "SHARD_IDS must be shard numbers"),
        ({"PROCESS_NAME": "a b"}, "PROCESS_NAME may have"),
        ({"JOB_LEASE_SECONDS": "0.5"}, "JOB_LEASE_SECONDS must be a number of seconds from 1 to 3600"),
        ({"JOB_LEASE_SECONDS": "soon"}, "JOB_LEASE_SECONDS must be"),
    ],
)
def test_bad_shard_settings_name_the_variable(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        load_settings(environ, env_file=None)
