"""A compiled catalog cache: the validated catalog and its search index, pickled next to the
database and reused while no pack file (nor this code's version) has changed.

Parsing 2,000 TOML packs and building the index takes seconds; unpickling takes about one.
The file is written and read only by the bot itself, in its own data folder (like the database).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from bot import __version__
from bot.catalog.loader import pack_files

log = logging.getLogger(__name__)
CACHE_FORMAT = 1
_CODE = Path(__file__).resolve().parent


def fingerprint(root: Path) -> str:
    """Changes whenever a pack file, or the catalog code that reads them, changes."""
    digest = hashlib.sha256(f"{__version__}:{CACHE_FORMAT}:{root.resolve()}".encode())
    for path in sorted(_CODE.glob("*.py")) + (pack_files(root) if root.exists() else []):
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def read(cache: Path, key: str) -> Any | None:
    try:
        with cache.open("rb") as handle:
            enabled = gc.isenabled()
            gc.disable()  # millions of small objects: collecting while loading only costs time
            try:
                stored_key, value = pickle.load(handle)  # noqa: S301 - our own file, in our own data folder
            finally:
                if enabled:
                    gc.enable()
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or old cache is rebuilt, never fatal
        log.info("catalog cache %s unusable (%s); rebuilding", cache, exc)
        return None
    return value if stored_key == key else None


def write(cache: Path, key: str, value: Any) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache.parent, delete=False, prefix=".catalog-") as handle:
            pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, cache)
    except OSError as exc:
        log.warning("could not write the catalog cache %s: %s", cache, exc)
