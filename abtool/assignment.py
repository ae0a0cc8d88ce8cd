"""Deterministic bucket assignment: ``md5("SALT:unit") mod 10000 < fraction * 10000``.

This is the hashing rollout code commonly uses, so abtool can tell which variant a unit
should have been served and count units logged under another one.
"""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def bucket(salt: str, unit: object) -> int:
    """The unit's bucket in ``[0, 10000)`` for this salt (``unit`` is formatted with str())."""
    digest = hashlib.md5(f"{salt}:{unit}".encode()).hexdigest()
    return int(digest, 16) % BUCKETS


def in_treatment(salt: str, unit: object, fraction: float) -> bool:
    """Whether the unit falls in the treatment share ``fraction`` (0..1) for this salt."""
    return bucket(salt, unit) < fraction * BUCKETS
