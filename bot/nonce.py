"""Deterministic message nonces: a retried send carries the same nonce, so Discord drops the copy."""

from __future__ import annotations

import hashlib

NONCE_LENGTH = 25  # Discord accepts at most 25 characters


def nonce(*parts: object) -> str:
    """The same parts always give the same nonce (at most 25 characters)."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:NONCE_LENGTH]
