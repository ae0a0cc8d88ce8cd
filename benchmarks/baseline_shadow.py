"""The shadow report a user would write by hand with pandas + scipy (the reference).

Reads the columns it needs with pandas, drops rows without both predictions, and computes the
same figures abtool reports (with the KS D and agreement of each segment value, the PSI, and
each hour's error rate and p99 latencies); prints them as JSON so the runner can check abtool
agrees.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from scipy import stats

COLUMNS = [
    "ts",
    "primary_prediction",
    "shadow_prediction",
    "primary_latency_ms",
    "shadow_latency_ms",
    "shadow_error",
    "country",
    "device",
]


def psi(reference: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """PSI on the reference's deciles, empty shares raised to 1e-4."""
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    shares = []
    for sample in (reference, actual):
        index = np.searchsorted(edges, sample, side="left")  # bins (e_i-1, e_i]
        shares.append(np.bincount(index, minlength=len(edges) + 1) / len(sample))
    e, a = (np.maximum(x, 1e-4) for x in shares)
    return float(np.sum((a - e) * np.log(a / e)))


def main(path: str) -> None:
    df = pd.read_parquet(path, columns=COLUMNS)
    valid = df.dropna(subset=["ts", "primary_prediction", "shadow_prediction"])
    p, s = valid["primary_prediction"], valid["shadow_prediction"]
    ks = stats.ks_2samp(p, s)
    diff = (p - s).abs()
    agree = (p >= 0.5) == (s >= 0.5)
    segments = {}
    for column in ("country", "device"):
        grouped = pd.DataFrame({"diff": diff, "agree": agree}).groupby(valid[column])
        table = grouped.agg(mean=("diff", "mean"), size=("diff", "size"), agree=("agree", "mean"))
        segments[column] = {
            str(k): {
                "rows": int(r["size"]),
                "mean_abs_disagreement": float(r["mean"]),
                "agreement_rate": float(r["agree"]),
                "ks_statistic": float(
                    stats.ks_2samp(p[valid[column] == k], s[valid[column] == k]).statistic
                ),
            }
            for k, r in table.iterrows()
        }
    hours = df.groupby(df["ts"].dt.floor("h"))
    timeline = {
        "shadow_error_rate": hours["shadow_error"].mean().tolist(),
        "latency_p99_ms": {
            role: hours[f"{role}_latency_ms"].quantile(0.99).tolist()
            for role in ("primary", "shadow")
        },
    }
    latency = {
        role: {
            f"p{int(q * 100)}_ms": float(df[f"{role}_latency_ms"].quantile(q))
            for q in (0.5, 0.95, 0.99)
        }
        for role in ("primary", "shadow")
    }
    result = {
        "rows": len(df),
        "excluded_rows": len(df) - len(valid),
        "duration_hours": (valid["ts"].max() - valid["ts"].min()).total_seconds() / 3600,
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "agreement_rate": float(((p >= 0.5) == (s >= 0.5)).mean()),
        "mean_abs_disagreement": float(diff.mean()),
        "segments": segments,
        "latency": latency,
        "shadow_error_rate": float(df["shadow_error"].mean()),
        "psi": psi(p.to_numpy(), s.to_numpy()),
        "timeline": timeline,
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
