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

With ``pre_days > 0`` the log also holds a pre-period: the ``pre_days`` days before ``start``,
when every user saw the control model. A user's pre-period propensity is
``u_pre = rho u + sqrt(1 - rho**2) N(0, heterogeneity)``, so ``pre_correlation`` (``rho``) is
the correlation of a user's latent click propensity between the two periods (the per-user
click rates correlate less, as clicks are Bernoulli draws around it). ``pre_coverage`` of the
users were active then, with on average ``requests_per_user`` requests per ``hours`` of the
pre-period; the others (new users) have no pre-period rows. Pre-period rows have the same
schema, ``model_variant = control``, timestamps before ``start`` and request ids from
``PRE_REQUEST_IDS``. They come from a random stream of their own, so the experiment's rows are
the same with or without a pre-period.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from abtool.assignment import bucket
from abtool.simulate.shadow import COUNTRIES, COUNTRY_SHARES, DEVICE_SHARES, DEVICES

CHUNK_ROWS = 1_000_000
PRE_REQUEST_IDS = 1 << 40  # first request id of the pre-period, far above the experiment's


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
    pre_days: float = 0.0
    pre_correlation: float = 0.8
    pre_coverage: float = 0.9


def canary_chunks(spec: CanarySpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Yield the log in chunks of about ``chunk_rows`` rows (whole users per chunk).

    With a pre-period, each block of users' pre-period rows precede their experiment rows.
    """
    for _, table in canary_period_chunks(spec, chunk_rows):
        yield table


def canary_period_chunks(
    spec: CanarySpec, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[bool, pa.Table]]:
    """Yield ``(is_pre_period, chunk)``: the experiment and, with ``pre_days``, the pre-period."""
    rng = np.random.default_rng(spec.seed)
    # The pre-period's own stream: adding it leaves the experiment's draws unchanged.
    pre_rng = np.random.default_rng([spec.seed, 1])
    next_pre_request = PRE_REQUEST_IDS
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
        if spec.pre_days > 0:
            pre = _pre_period(spec, pre_rng, user_ids, effect, user_country, user_device)
            pre = pre.set_column(
                0,
                "request_id",
                pa.array(np.arange(next_pre_request, next_pre_request + len(pre)), pa.int64()),
            )
            next_pre_request += len(pre)
            yield True, pre
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
        yield (
            False,
            _table(
                np.arange(next_request, next_request + n),
                ts,
                user_ids[owner],
                variants[in_treatment.astype(int)],
                (prediction, latency, error, clicked, revenue),
                countries[user_country[owner]],
                devices[user_device[owner]],
            ),
        )
        next_request += n


def _pre_period(
    spec: CanarySpec,
    rng: np.random.Generator,
    user_ids: NDArray[np.int64],
    effect: NDArray[np.float64],
    user_country: NDArray[np.int64],
    user_device: NDArray[np.int64],
) -> pa.Table:
    """The pre-period rows of one block of users (request ids are set by the caller)."""
    users = len(user_ids)
    rho = spec.pre_correlation
    latent = rho * effect + np.sqrt(1.0 - rho**2) * spec.heterogeneity * rng.standard_normal(users)
    span_us = int(spec.pre_days * 86_400 * 1_000_000)
    # The same request rate per hour as in the experiment (per day when it lasted no time).
    per_user = spec.requests_per_user * spec.pre_days * 24.0 / (spec.hours or 24.0)
    active = rng.uniform(size=users) < spec.pre_coverage
    counts = np.where(active, 1 + rng.poisson(max(per_user - 1.0, 0.0), users), 0)
    owner = np.repeat(np.arange(users), counts)
    n = len(owner)
    base_logit = np.log(spec.click_rate / (1 - spec.click_rate))
    clicked = rng.uniform(size=n) < 1 / (1 + np.exp(-(base_logit + latent[owner])))
    revenue = np.where(clicked, rng.lognormal(np.log(2.0), 0.6, n), 0.0)
    prediction = 1 / (1 + np.exp(-(1.5 * rng.standard_normal(n) + 0.5 * latent[owner])))
    latency = rng.lognormal(np.log(20.0), 0.35, n)
    error = rng.uniform(size=n) < spec.error_rate
    start_us = np.datetime64(spec.start, "us").astype(np.int64)
    ts = start_us - span_us + rng.integers(0, max(span_us, 1), n)
    return _table(
        np.zeros(n, np.int64),
        ts,
        user_ids[owner],
        np.full(n, spec.control),
        (prediction, latency, error, clicked, revenue),
        np.array(COUNTRIES)[user_country[owner]],
        np.array(DEVICES)[user_device[owner]],
    )


def _table(
    request_ids: NDArray[np.int64],
    ts: NDArray[np.int64],
    user_ids: NDArray[np.int64],
    variants: NDArray[np.str_],
    values: tuple[NDArray[Any], ...],
    countries: NDArray[np.str_],
    devices: NDArray[np.str_],
) -> pa.Table:
    prediction, latency, error, clicked, revenue = values
    return pa.table(
        {
            "request_id": pa.array(request_ids, pa.int64()),
            "ts": pa.array(ts.astype("datetime64[us]"), pa.timestamp("us")),
            "user_id": pa.array(user_ids, pa.int64()),
            "model_variant": pa.array(variants, pa.string()),
            "prediction": pa.array(prediction, pa.float64()),
            "latency_ms": pa.array(latency, pa.float64()),
            "error": pa.array(error, pa.bool_()),
            "clicked": pa.array(clicked, pa.bool_()),
            "revenue": pa.array(revenue, pa.float64()),
            "country": pa.array(countries, pa.string()),
            "device": pa.array(devices, pa.string()),
        }
    )
