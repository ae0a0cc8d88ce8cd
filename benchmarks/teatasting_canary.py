"""The canary's primary metric with tea-tasting: a Polars per-user aggregation, the delta method.

A fair, idiomatic pipeline for what canary-decide's primary metric computes: read the unit,
variant and metric columns lazily with Polars, sum the metric and count the requests per
(user, variant), and let ``tea_tasting.RatioOfMeans`` (clicks per request, the delta method)
compare the variants. ``use_t=False`` asks for the normal approximation abtool uses with
``--inference fixed``. It computes the primary metric only (no health checks, SRM, KS,
segments or timeline); prints the figures as JSON for :func:`compare_teatasting`.

    python -m benchmarks.teatasting_canary LOG [METRIC]   (default: clicked)
"""

from __future__ import annotations

import json
import sys

import polars as pl
import tea_tasting as tt

UNIT, VARIANT = "user_id", "model_variant"


def main(path: str, metric: str) -> None:
    per_user = (
        pl.scan_parquet(path)
        .select(UNIT, VARIANT, metric)
        .filter(pl.col(UNIT).is_not_null() & pl.col(VARIANT).is_not_null())
        .group_by(UNIT, VARIANT)
        .agg(pl.col(metric).cast(pl.Float64).sum().alias("x"), pl.len().alias("n"))
        .collect(engine="streaming")
    )
    control = min(per_user[VARIANT].unique().to_list())
    experiment = tt.Experiment(
        {metric: tt.RatioOfMeans("x", "n", use_t=False, confidence_level=0.95)},
        variant=VARIANT,
    )
    result = experiment.analyze(per_user, control=control)[metric]
    json.dump(
        {
            "control_mean": result.control,
            "treatment_mean": result.treatment,
            "lift_abs": result.effect_size,
            "ci_low": result.effect_size_ci_lower,
            "ci_high": result.effect_size_ci_upper,
            "lift_rel": result.rel_effect_size,
            "pvalue": result.pvalue,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1] if len(args) > 1 else "clicked")
