"""The shadow report a user would write by hand with pandas + scipy (the reference).

Reads the columns it needs with pandas, drops rows without both predictions, and computes the
same figures abtool reports; prints them as JSON so the runner can check abtool agrees.
"""

from __future__ import annotations

import json
import sys

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


def main(path: str) -> None:
    df = pd.read_parquet(path, columns=COLUMNS)
    valid = df.dropna(subset=["ts", "primary_prediction", "shadow_prediction"])
    p, s = valid["primary_prediction"], valid["shadow_prediction"]
    ks = stats.ks_2samp(p, s)
    diff = (p - s).abs()
    segments = {}
    for column in ("country", "device"):
        grouped = diff.groupby(valid[column]).agg(["mean", "size"])
        segments[column] = {
            str(k): {"rows": int(r["size"]), "mean_abs_disagreement": float(r["mean"])}
            for k, r in grouped.iterrows()
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
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
