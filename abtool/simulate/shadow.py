"""A shadow log: primary and shadow scores of the same requests, with a known disagreement.

Each request has a latent relevance z. The primary model scores ``sigmoid(1.5 z + e)``; the
shadow model scores the same logit plus ``N(0, noise)`` (plus a shift and ten times the noise
inside ``bad_segment``), so agreement, KS D and segment disagreement are controlled.
``error_spikes`` and ``latency_spikes`` raise the shadow's error rate or latency within given
hours of the log (hour 0 starts at ``start``), for the spike checks; the random draws are the
same with or without them, so a spiked log differs from its clean twin only in those hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

COUNTRIES = ("US", "DE", "BR", "IN", "JP", "GB", "FR", "MX")
COUNTRY_SHARES = (0.30, 0.12, 0.12, 0.16, 0.08, 0.08, 0.07, 0.07)
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARES = (0.6, 0.32, 0.08)
CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class ShadowSpec:
    """Parameters of a generated shadow log."""

    rows: int = 100_000
    hours: float = 48.0
    seed: int = 0
    noise: float = 0.3
    bad_segment: str | None = None
    error_rate: float = 0.002
    shadow_latency_factor: float = 1.1
    start: datetime = datetime(2025, 4, 28)
    error_spikes: tuple[tuple[int, float], ...] = ()  # (hour, shadow error rate in it)
    latency_spikes: tuple[tuple[int, float], ...] = ()  # (hour, shadow latency multiple)


def shadow_chunks(spec: ShadowSpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Yield the log in chunks of ``chunk_rows`` (constant memory for any size)."""
    rng = np.random.default_rng(spec.seed)
    start_us = np.datetime64(spec.start, "us").astype(np.int64)
    span_us = int(spec.hours * 3600 * 1_000_000)
    countries = np.array(COUNTRIES)
    devices = np.array(DEVICES)
    for offset in range(0, spec.rows, chunk_rows):
        n = min(chunk_rows, spec.rows - offset)
        index = np.arange(offset, offset + n)
        # Requests arrive evenly over the span; jitter keeps timestamps irregular but sorted.
        ts = start_us + ((index + rng.uniform(0, 1, n)) * (span_us / spec.rows)).astype(np.int64)
        country = countries[rng.choice(len(COUNTRIES), n, p=COUNTRY_SHARES)]
        device = devices[rng.choice(len(DEVICES), n, p=DEVICE_SHARES)]
        logit = 1.5 * rng.standard_normal(n) + 0.3 * rng.standard_normal(n)
        shadow_logit = logit + spec.noise * rng.standard_normal(n)
        if spec.bad_segment is not None:
            bad = country == spec.bad_segment
            shadow_logit[bad] += 0.5 + 10 * spec.noise * rng.standard_normal(int(bad.sum()))
        primary = 1 / (1 + np.exp(-logit))
        shadow = 1 / (1 + np.exp(-shadow_logit))
        hour = (ts - start_us) // 3_600_000_000
        error_rate = np.full(n, spec.error_rate)
        for spiked, rate in spec.error_spikes:
            error_rate[hour == spiked] = rate
        errored = rng.uniform(size=n) < error_rate
        primary_latency = rng.lognormal(np.log(20.0), 0.35, n)
        shadow_latency = rng.lognormal(np.log(20.0 * spec.shadow_latency_factor), 0.35, n)
        for spiked, factor in spec.latency_spikes:
            shadow_latency[hour == spiked] *= factor
        yield pa.table(
            {
                "request_id": pa.array(index, pa.int64()),
                "ts": pa.array(ts.astype("datetime64[us]"), pa.timestamp("us")),
                "primary_prediction": pa.array(primary, pa.float64()),
                "shadow_prediction": pa.array(shadow, pa.float64(), mask=errored),
                "primary_latency_ms": pa.array(primary_latency, pa.float64()),
                "shadow_latency_ms": pa.array(shadow_latency, pa.float64()),
                "shadow_error": pa.array(errored, pa.bool_()),
                "country": pa.array(country, pa.string()),
                "device": pa.array(device, pa.string()),
            }
        )
