"""The benches' generated catalog is the catalog the bot would load: the packs it writes load through
the real loader with no problem and equal, field for field, the catalog it builds in memory for the
in-process benches (an argument passed to the wrong field once made every episode's synopsis its
title there)."""

from __future__ import annotations

from bench.catalog_gen import GenConfig, check


def test_generated_packs_load_as_the_in_memory_catalog() -> None:
    check(GenConfig(12, characters=6))  # raises SystemExit on any difference
