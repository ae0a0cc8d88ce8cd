"""A canary / A/B log: users assigned by md5 bucket, several requests each, known effects.

Each user gets a variant from ``md5("SALT:user_id") mod 10000 < stage% * 10000`` (the rule of
``abtool assign``), a number of requests ``1 + Poisson(requests_per_user - 1)``, and a latent
propensity ``u ~ N(0, heterogeneity)`` shared by all their requests, so requests of one user
are correlated as in real traffic. Per request:

* ``clicked ~ Bernoulli(sigmoid(logit(click_rate) + u) * (1 + click_lift if treatment))``;
* ``revenue = clicked * LogNormal(log 2, 0.6)``;
* ``prediction = sigmoid(1.5 z + 0.5 u + prediction_shift if treatment)``;
* ``latency_ms ~ LogNormal(log 20, 0.35)``, times ``latency_factor`` in treatment;
* ``error ~ Bernoulli(error_rate)`` (``treatment_error_rate`` in treatment).

Validity faults can be injected: ``srm`` drops that fraction of treatment users from the log,
``inconsistent`` makes that fraction of users see the other variant on ~30% of requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from abtool.assignment import bucket
from abtool.simulate.shadow import COUNTRIES, COUNTRY_SHARES, DEVICE_SHARES, DEVICES

CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class CanarySpec:
    """Parameters of a generated canary log."""

    users: int = 20_000
    requests_per_user: float = 5.0
    hours: float = 24.0
    stage: float = 5.0
    salt: str = "canary"
    seed: int = 0
    control: str = "v1"
    treatment: str = "v2"
    click_rate: float = 0.10
    click_lift: float = 0.0
    heterogeneity: float = 1.0
    error_rate: float = 0.002
    treatment_error_rate: float | None = None
    latency_factor: float = 1.0
    prediction_shift: float = 0.0
    srm: float = 0.0
    inconsistent: float = 0.0
    start: datetime = datetime(2025, 4, 28)


def canary_chunks(spec: CanarySpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Yield the log in chunks of about ``chunk_rows`` rows (whole users per chunk)."""
    rng = np.random.default_rng(spec.seed)
    start_us = np.datetime64(spec.start, "us").astype(np.int64)
    span_us = int(spec.hours * 3600 * 1_000_000)
    users_per_chunk = max(1, int(chunk_rows / max(spec.requests_per_user, 1.0)))
    base_logit = np.log(spec.click_rate / (1 - spec.click_rate))
    t_error = spec.error_rate if spec.treatment_error_rate is None else spec.treatment_error_rate
    variants = np.array([spec.control, spec.treatment])
    countries, devices = np.array(COUNTRIES), np.array(DEVICES)
    next_request = 0
    for first_user in range(0, spec.users, users_per_chunk):
        user_ids = np.arange(first_user, min(first_user + users_per_chunk, spec.users))
        buckets = np.array([bucket(spec.salt, u) for u in user_ids])
        treated = buckets < spec.stage / 100.0 * 10_000
        kept = ~(treated & (rng.uniform(size=len(user_ids)) < spec.srm))
        mixed = rng.uniform(size=len(user_ids)) < spec.inconsistent
        effect = spec.heterogeneity * rng.standard_normal(len(user_ids))
        user_country = rng.choice(len(COUNTRIES), len(user_ids), p=COUNTRY_SHARES)
        user_device = rng.choice(len(DEVICES), len(user_ids), p=DEVICE_SHARES)
        counts = 1 + rng.poisson(max(spec.requests_per_user - 1.0, 0.0), len(user_ids))
        counts[~kept] = 0
        owner = np.repeat(np.arange(len(user_ids)), counts)
        n = len(owner)
        in_treatment = treated[owner] ^ (mixed[owner] & (rng.uniform(size=n) < 0.3))
        u = effect[owner]
        click_p = 1 / (1 + np.exp(-(base_logit + u)))
        click_p = np.minimum(click_p * np.where(in_treatment, 1 + spec.click_lift, 1.0), 1.0)
        clicked = rng.uniform(size=n) < click_p
        revenue = np.where(clicked, rng.lognormal(np.log(2.0), 0.6, n), 0.0)
        logit = 1.5 * rng.standard_normal(n) + 0.5 * u
        prediction = 1 / (1 + np.exp(-(logit + np.where(in_treatment, spec.prediction_shift, 0))))
        latency = rng.lognormal(np.log(20.0), 0.35, n)
        latency *= np.where(in_treatment, spec.latency_factor, 1.0)
        error = rng.uniform(size=n) < np.where(in_treatment, t_error, spec.error_rate)
        ts = start_us + rng.integers(0, max(span_us, 1), n)
        yield pa.table(
            {
                "request_id": pa.array(np.arange(next_request, next_request + n), pa.int64()),
                "ts": pa.array(ts.astype("datetime64[us]"), pa.timestamp("us")),
                "user_id": pa.array(user_ids[owner], pa.int64()),
                "model_variant": pa.array(variants[in_treatment.astype(int)], pa.string()),
                "prediction": pa.array(prediction, pa.float64()),
                "latency_ms": pa.array(latency, pa.float64()),
                "error": pa.array(error, pa.bool_()),
                "clicked": pa.array(clicked, pa.bool_()),
                "revenue": pa.array(revenue, pa.float64()),
                "country": pa.array(countries[user_country[owner]], pa.string()),
                "device": pa.array(devices[user_device[owner]], pa.string()),
            }
        )
        next_request += n
