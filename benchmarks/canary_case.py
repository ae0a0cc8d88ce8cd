"""The canary-decide benchmark case: a large canary log, the commands to time, the agreement check.

``benchmarks.run`` times ``abtool_argv(path)`` against ``baseline_argv(path)`` (the pandas +
scipy script in :mod:`benchmarks.baseline_canary`), ``teatasting_argv(path)`` (the primary metric
with tea-tasting, :mod:`benchmarks.teatasting_canary`) and a pyarrow read of ``CANARY_COLUMNS``,
then calls :func:`compare_canary` and :func:`compare_teatasting` on the JSON outputs.

Two logs: :func:`canary_log` (``rows / 10`` users with integer ids) and
:func:`canary_log_string_ids` (a fixed 1,000,000 users with string ids such as
``u000123456``, so about one request per user at 1M rows and ten at 10M: the unit table as
large as it gets and a string key to hash).

    python -m benchmarks.canary_case --rows 1000000 10000000   # generate (cached) logs
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from abtool.simulate.canary import CanarySpec


DATA = Path(__file__).resolve().parent / "data"
REQUESTS_PER_USER = 10.0
STAGE = 20
METRIC = "clicked"
STRING_ID_USERS = 1_000_000
# The columns canary-decide reads for `--metric clicked` (the floor reads the same): request_id
# too, which it reads to drop identical copies of a request.
CANARY_COLUMNS = "ts,user_id,model_variant,clicked,prediction,latency_ms,error,request_id"


def canary_spec(rows: int) -> CanarySpec:
    """About ``rows`` requests: ``rows / 10`` users with 10 requests each on average."""
    from abtool.simulate.canary import CanarySpec

    return CanarySpec(
        users=max(1, round(rows / REQUESTS_PER_USER)),
        requests_per_user=REQUESTS_PER_USER,
        hours=48.0,
        stage=float(STAGE),
        seed=rows % 9973,
        click_lift=0.03,
        latency_factor=1.05,
        prediction_shift=0.1,
    )


def canary_log(rows: int) -> Path:
    """The canary benchmark log of about ``rows`` rows, generated once (streamed) and cached."""
    path = DATA / f"canary_{rows}.parquet"
    if not path.exists():
        # Imported here: the benchmark runner imports this module and must stay small, since
        # a child process's peak RSS counts the parent's memory at fork time.
        from abtool.simulate.canary import canary_chunks
        from abtool.simulate.writer import write_chunks

        tmp = path.with_suffix(".tmp")
        write_chunks(canary_chunks(canary_spec(rows)), tmp)
        tmp.rename(path)
    return path


def canary_log_string_ids(rows: int) -> Path:
    """About ``rows`` requests from 1,000,000 users whose ids are strings, generated once."""
    path = DATA / f"canary_string_ids_{rows}.parquet"
    if not path.exists():
        from dataclasses import replace

        import pyarrow as pa
        import pyarrow.compute as pc

        from abtool.simulate.canary import canary_chunks
        from abtool.simulate.writer import write_chunks

        spec = replace(
            canary_spec(rows),
            users=STRING_ID_USERS,
            requests_per_user=max(1.0, rows / STRING_ID_USERS),
        )

        def with_string_ids(table: pa.Table) -> pa.Table:
            digits = pc.utf8_lpad(pc.cast(table["user_id"], pa.string()), 9, "0")
            ids = pc.binary_join_element_wise("u", digits, "")
            return table.set_column(table.schema.get_field_index("user_id"), "user_id", ids)

        tmp = path.with_suffix(".tmp")
        write_chunks((with_string_ids(t) for t in canary_chunks(spec)), tmp)
        tmp.rename(path)
    return path


def abtool_argv(path: Path) -> list[str]:
    """``abtool canary-decide`` on the log, JSON out (run as ``python -m abtool``).

    ``--inference fixed``: the baseline and tea-tasting compute the z-test of one planned
    look, so abtool is asked for the same (its default is a confidence sequence). Every
    check is still computed.
    """
    return [
        sys.executable,
        "-m",
        "abtool",
        "canary-decide",
        str(path),
        "--metric",
        METRIC,
        "--stage",
        str(STAGE),
        "--inference",
        "fixed",
        "--format",
        "json",
    ]


def baseline_argv(path: Path) -> list[str]:
    """The pandas + scipy baseline on the log."""
    return [sys.executable, "-m", "benchmarks.baseline_canary", str(path), METRIC, str(STAGE)]


def teatasting_argv(path: Path) -> list[str]:
    """tea-tasting's delta method on a Polars per-user aggregation (primary metric only)."""
    return [sys.executable, "-m", "benchmarks.teatasting_canary", str(path), METRIC]


def _close(a: float | None, b: float | None, rel: float) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def compare_canary(abtool_json: dict[str, Any], baseline_json: dict[str, Any]) -> list[str]:
    """Differences between abtool's canary-decide JSON and the baseline's (empty: they agree).

    Counts must be equal; statistics agree to a relative 1e-7 (summation order differs).
    """
    st, ref = abtool_json["stats"], baseline_json
    problems: list[str] = []
    if st["rows"] != ref["rows"]:
        problems.append(f"rows: {st['rows']} != {ref['rows']}")
    for role in ("control", "treatment"):
        ours, theirs = st["variants"][role], ref["variants"][role]
        for key in ("name", "requests", "units"):
            if ours[key] != theirs[key]:
                problems.append(f"{role} {key}: {ours[key]} != {theirs[key]}")
        for key in ("error_rate", "latency_p99_ms", "prediction_mean"):
            if not _close(ours[key], theirs[key], 1e-9):
                problems.append(f"{role} {key}: {ours[key]} != {theirs[key]}")
    for key in ("srm_chi2", "srm_pvalue", "ks_pvalue", "ks_recent_statistic"):
        if not _close(st[key], ref[key], 1e-7):
            problems.append(f"{key}: {st[key]} != {ref[key]}")
    if st["inconsistent_units"] != ref["inconsistent_units"]:
        problems.append(
            f"inconsistent_units: {st['inconsistent_units']} != {ref['inconsistent_units']}"
        )
    metric, ref_metric = st["metric"], ref["metric"]
    for key in (
        "control_mean",
        "treatment_mean",
        "lift_abs",
        "lift_rel",
        "ci_low",
        "ci_high",
        "rel_ci_low",
        "rel_ci_high",
        "pvalue",
    ):
        if not _close(metric[key], ref_metric[key], 1e-7):
            problems.append(f"metric {key}: {metric[key]} != {ref_metric[key]}")
    test, ref_test = metric["unit_test"], ref_metric["unit_test"]
    for key in ("control_rate", "treatment_rate", "pvalue"):
        if not _close(test[key], ref_test[key], 1e-7):
            problems.append(f"metric unit_test {key}: {test[key]} != {ref_test[key]}")
    return problems


def compare_teatasting(abtool_json: dict[str, Any], peer_json: dict[str, Any]) -> list[str]:
    """Differences between abtool's primary metric and tea-tasting's (empty: they agree).

    tea-tasting's relative interval is taken on the log scale, abtool's by the delta method
    on the ratio, so only the relative lift itself is compared.
    """
    metric = abtool_json["stats"]["metric"]
    keys = ("control_mean", "treatment_mean", "lift_abs", "ci_low", "ci_high", "lift_rel", "pvalue")
    return [
        f"metric {key}: {metric[key]} != {peer_json[key]}"
        for key in keys
        if not _close(metric[key], peer_json[key], 1e-7)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    for rows in args.rows:
        print(canary_log(rows))
        print(canary_log_string_ids(rows))


if __name__ == "__main__":
    main()
