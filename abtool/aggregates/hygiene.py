"""What an engine noticed while reading a log, beyond the rows a report excludes itself.

Engine-neutral: counts by reason and sentences. A report turns them into warnings (and the
value counts into its JSON's ``excluded_values``); see docs/design.md, "Dirty data".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReadNotes:
    """Values left out of figures, and what reading the log took as given.

    Attributes:
        excluded_values: values left out of the figures that use them (not whole rows),
            by reason, e.g. ``{"infinite shadow_latency_ms": 3, "negative latency_ms": 2}``.
        notes: what was assumed or kept, one sentence each (a time unit taken from the
            numbers' magnitude, a file named twice and read once, rows sharing a request id
            but differing, empty ids read as none).
    """

    excluded_values: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
