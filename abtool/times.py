"""Time options: ``--since`` / ``--until`` values (ISO 8601; naive means UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from abtool.errors import UsageError


def iso_time(text: str) -> datetime:
    """An ISO 8601 date or date-time; naive means UTC.

    Raises:
        ValueError: the problem, worded to follow the option's name.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not an ISO date or date-time (e.g. 2025-04-29T12:00)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_time(value: str | None, option: str) -> datetime | None:
    """A --since/--until value as a time (None stays None).

    Raises:
        UsageError: the value is not an ISO date or date-time (the message names ``option``).
    """
    if value is None:
        return None
    try:
        return iso_time(value)
    except ValueError as exc:
        raise UsageError(f"{option} {exc}") from None


def check_time(text: str) -> str:
    """``text`` itself, once it is known to be an ISO date or date-time (a setting's parse)."""
    iso_time(text)
    return text


BUCKET_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
BUCKET_NAMES = {"hour": "1h", "day": "1d"}
NO_BUCKETS = "none"


def bucket_seconds(text: str) -> int:
    """A time bucket such as ``15m``, ``1h`` (``hour``), ``6h`` or ``1d`` (``day``), in
    seconds.

    Raises:
        ValueError: not a positive whole number followed by s, m, h or d, nor a name.
    """
    cleaned = text.strip().lower()
    cleaned = BUCKET_NAMES.get(cleaned, cleaned)
    number, unit = cleaned[:-1], cleaned[-1:]
    if unit not in BUCKET_UNITS or not number.isdigit() or int(number) == 0:
        raise ValueError(f"'{text}' is not a time bucket (e.g. 15m, 1h, 6h, 1d, hour, day, none)")
    return int(number) * BUCKET_UNITS[unit]


def check_bucket(text: str) -> str:
    """``text`` normalised (``1H`` -> ``1h``, ``hour`` -> ``1h``), once it is known to be a
    time bucket or ``none``."""
    cleaned = text.strip().lower()
    if cleaned == NO_BUCKETS:
        return cleaned
    bucket_seconds(cleaned)
    return BUCKET_NAMES.get(cleaned, cleaned)
