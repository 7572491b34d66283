"""Hypothesis profiles: CI (the `CI` environment variable, as `.ci/run` gets it) runs the same
examples every time, so a red CI run can be reproduced exactly; a developer's run explores new ones.

The PostgreSQL half of the tests (tests parametrised "postgresql", or marked `postgresql`) is skipped
where no server answers, with one line at the end of the run that says how to run it; where
DRAMAWATCH_REQUIRE_POSTGRES=1 (`.ci/run`) it is never skipped (tests/backends.py fails it instead)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


_PG_SKIPPED = pytest.StashKey[tuple[int, str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.backends import REQUIRED, check_now, unreachable_message

    wanted = [item for item in items if "postgresql" in item.keywords]
    if not wanted or REQUIRED:
        return
    why = check_now()
    if why:
        message = unreachable_message(why)
        for item in wanted:
            item.add_marker(pytest.mark.skip(reason=message))
        config.stash[_PG_SKIPPED] = (len(wanted), message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    skipped = config.stash.get(_PG_SKIPPED, None)
    if skipped is not None:
        terminalreporter.write_line(f"{skipped[0]} PostgreSQL tests skipped: {skipped[1]}", yellow=True)
