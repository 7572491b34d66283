"""Hypothesis profiles: CI (the `CI` environment variable, as `.ci/run` gets it) runs the same
examples every time, so a red CI run can be reproduced exactly; a developer's run explores new ones."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
