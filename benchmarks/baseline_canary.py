"""The canary decision a user would write by hand with pandas + scipy/statsmodels (the reference).

Reads the columns it needs with pandas, computes per-variant health, SRM on units, and the
primary metric at the unit level (per-unit sums with a pandas groupby, the delta method with
numpy/scipy, a unit-level two-proportion z-test with statsmodels), the same figures
``abtool canary-decide`` reports; prints them as JSON so the runner can check they agree.

    python -m benchmarks.baseline_canary LOG [METRIC [STAGE_PCT]]   (default: clicked 20)
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

RECENT = 1000


def delta_ratio(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Ratio of per-unit sums and its delta-method variance (Deng et al. 2018)."""
    n = len(x)
    mu_x, mu_y = x.mean(), y.mean()
    cov = np.cov(x, y)
    var = (cov[0, 0] / mu_y**2 - 2 * mu_x * cov[0, 1] / mu_y**3 + mu_x**2 * cov[1, 1] / mu_y**4) / n
    return mu_x / mu_y, max(var, 0.0)


def main(path: str, metric: str, stage: float) -> None:
    columns = ["ts", "user_id", "model_variant", metric, "prediction", "latency_ms", "error"]
    df = pd.read_parquet(path, columns=columns)
    total_rows = len(df)
    control, treatment = sorted(df["model_variant"].dropna().unique())
    df = df[df["user_id"].notna()]

    variants = {}
    for role, name in (("control", control), ("treatment", treatment)):
        rows = df[df["model_variant"] == name]
        variants[role] = {
            "name": name,
            "requests": len(rows),
            "error_rate": float(rows["error"].fillna(False).mean()),
            "latency_p99_ms": float(rows["latency_ms"].quantile(0.99)),
            "prediction_mean": float(rows["prediction"].mean()),
        }

    # Per-unit sums; units seen under both variants are left out of unit-level figures.
    units = df.groupby(["user_id", "model_variant"])[metric].agg(["sum", "count"]).reset_index()
    n_variants = units.groupby("user_id")["model_variant"].transform("size")
    inconsistent = int(units.loc[n_variants > 1, "user_id"].nunique())
    units = units[n_variants == 1]
    per_variant = {
        role: units[units["model_variant"] == variants[role]["name"]] for role in variants
    }
    for role, table in per_variant.items():
        variants[role]["units"] = len(table)

    share = stage / 100
    observed = [len(per_variant["control"]), len(per_variant["treatment"])]
    srm = stats.chisquare(observed, [sum(observed) * (1 - share), sum(observed) * share])

    z_crit = stats.norm.ppf(0.975)
    estimates = {}
    for role, table in per_variant.items():
        table = table[table["count"] > 0]
        x = table["sum"].to_numpy(dtype=float)
        y = table["count"].to_numpy(dtype=float)
        estimates[role] = (*delta_ratio(x, y), int((x > 0).sum()), len(x))
    (r_c, v_c, clicked_c, n_c), (r_t, v_t, clicked_t, n_t) = (
        estimates["control"],
        estimates["treatment"],
    )
    lift = r_t - r_c
    se = np.sqrt(v_c + v_t)
    rel = r_t / r_c - 1
    rel_se = np.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    _, unit_p = proportions_ztest([clicked_c, clicked_t], [n_c, n_t])

    valid = df[df["prediction"].notna() & df["ts"].notna()]
    recent = [
        valid[valid["model_variant"] == name].nlargest(RECENT, "ts")["prediction"]
        for name in (control, treatment)
    ]
    ks = stats.ks_2samp(recent[0], recent[1])

    result = {
        "rows": total_rows,
        "variants": variants,
        "inconsistent_units": inconsistent,
        "srm_chi2": float(srm.statistic),
        "srm_pvalue": float(srm.pvalue),
        "ks_recent_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "metric": {
            "name": metric,
            "control_mean": float(r_c),
            "treatment_mean": float(r_t),
            "lift_abs": float(lift),
            "lift_rel": float(rel),
            "ci_low": float(lift - z_crit * se),
            "ci_high": float(lift + z_crit * se),
            "rel_ci_low": float(rel - z_crit * rel_se),
            "rel_ci_high": float(rel + z_crit * rel_se),
            "pvalue": float(2 * stats.norm.sf(abs(lift / se))),
            "unit_test": {
                "control_rate": clicked_c / n_c,
                "treatment_rate": clicked_t / n_t,
                "pvalue": float(unit_p),
            },
        },
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1] if len(args) > 1 else "clicked", float(args[2]) if len(args) > 2 else 20)
