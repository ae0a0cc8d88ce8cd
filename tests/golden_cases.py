"""The JSON every command gave before a refactor, kept to prove later code gives the same.

Each case builds its logs with the seeded simulators (or small hand-made frames) and runs one
command line with ``--format json``. ``tests/golden/<case>.json`` holds the output of the code
at the time the goldens were written; ``tests/test_golden_json.py`` checks that today's output
still holds every key of it with the same value (keys may be added).

Regenerate only when a change of output is intended, and say so in the commit::

    python -m tests.golden_cases --write
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
LOGS = "<logs>"


def _simulate(kind: str, *args: str) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        from abtool.cli import main

        try:
            main(["simulate", kind, *args, "--out", str(out)])
        except SystemExit as done:
            assert done.code in (0, None), done.code

    return build


def _dirty_shadow(out: Path) -> None:
    start = datetime(2025, 4, 28)
    n = 400
    primary = [((i * 37) % 100) / 100 for i in range(n)]
    shadow = [min(1.0, p + ((i % 7) - 3) / 50) for i, p in enumerate(primary)]
    shadow[3] = None  # type: ignore[call-overload]
    shadow[5] = float("nan")
    primary[8] = None  # type: ignore[call-overload]
    pl.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": [start + timedelta(minutes=7 * i) for i in range(n)],
            "primary_prediction": primary,
            "shadow_prediction": shadow,
            "primary_latency_ms": [10.0 + (i % 13) for i in range(n)],
            "shadow_latency_ms": [11.0 + (i % 17) for i in range(n)],
            "shadow_error": [("timeout" if i % 50 == 0 else None) for i in range(n)],
            "country": [["US", "BR", "DE", None][i % 4] for i in range(n)],
        }
    ).write_parquet(out)


def _label_shadow(out: Path) -> None:
    start = datetime(2025, 4, 28)
    n = 300
    labels = ["cat", "dog", "bird"]
    pl.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "ts": [start + timedelta(minutes=10 * i) for i in range(n)],
            "primary_prediction": [labels[i % 3] for i in range(n)],
            "shadow_prediction": [labels[(i + (i % 11 == 0)) % 3] for i in range(n)],
            "device": [["ios", "android"][i % 2] for i in range(n)],
        }
    ).write_parquet(out)


@dataclass(frozen=True)
class Case:
    """One command line over logs that ``logs`` builds (file name -> builder)."""

    name: str
    args: tuple[str, ...]
    logs: dict[str, Callable[[Path], None]] = field(default_factory=dict)


def _sample(name: str) -> str:
    return str(ROOT / "sample_logs" / name)


# The goldens were made by fixed-horizon tests with control v1 taken from the names' order:
# these options ask for exactly that (the defaults are now sequential tests, and a control
# guessed from the split is named in a warning).
FIXED_CONTROL = ("--inference", "fixed", "--control", "v1")


CASES = [
    Case("shadow_sample", ("shadow-report", _sample("shadow.parquet"))),
    Case(
        "shadow_sample_segments",
        ("shadow-report", _sample("shadow.parquet"), "--segment", "country", "--top", "3"),
    ),
    Case(
        "shadow_hive_bad_segment",
        ("shadow-report", f"{LOGS}/hive", "--threshold", "0.6", "--min-segment-rows", "100"),
        {
            "hive": _simulate(
                "shadow",
                "--rows",
                "20000",
                "--hours",
                "50",
                "--seed",
                "3",
                "--bad-segment",
                "JP",
                "--error-rate",
                "0.02",
                "--partition-by-date",
            )
        },
    ),
    Case(
        "shadow_dirty", ("shadow-report", f"{LOGS}/dirty.parquet"), {"dirty.parquet": _dirty_shadow}
    ),
    Case(
        "shadow_labels",
        ("shadow-report", f"{LOGS}/labels.parquet"),
        {"labels.parquet": _label_shadow},
    ),
    Case(
        "canary_sample",
        (
            "canary-decide",
            _sample("canary.parquet"),
            *FIXED_CONTROL,
            "--metric",
            "clicked",
            "--metric",
            "revenue",
            "--stage",
            "50",
            "--segment",
            "country",
            "--salt",
            "canary",
        ),
    ),
    Case(
        "canary_sample_bootstrap",
        (
            "canary-decide",
            _sample("canary.parquet"),
            *FIXED_CONTROL,
            "--metric",
            "revenue",
            "--stage",
            "50",
            "--bootstrap",
            "300",
            "--seed",
            "4",
            "--segment",
            "device",
        ),
    ),
    Case(
        "canary_rollback",
        (
            "canary-decide",
            f"{LOGS}/rb.parquet",
            *FIXED_CONTROL,
            "--metric",
            "clicked",
            "--stage",
            "5",
        ),
        {
            "rb.parquet": _simulate(
                "canary",
                "--users",
                "6000",
                "--seed",
                "2",
                "--latency-factor",
                "1.8",
                "--treatment-error-rate",
                "0.05",
            )
        },
    ),
    Case(
        "canary_hold_inconsistent",
        (
            "canary-decide",
            f"{LOGS}/hold.parquet",
            *FIXED_CONTROL,
            "--metric",
            "clicked",
            "--stage",
            "20",
        ),
        {
            "hold.parquet": _simulate(
                "canary",
                "--users",
                "3000",
                "--stage",
                "20",
                "--seed",
                "5",
                "--inconsistent",
                "0.05",
                "--srm",
                "0.2",
            )
        },
    ),
    Case(
        "canary_no_metric_neutral",
        (
            "canary-decide",
            f"{LOGS}/neutral.parquet",
            *FIXED_CONTROL,
            "--allow-neutral",
            "--stage",
            "5",
        ),
        {"neutral.parquet": _simulate("canary", "--users", "4000", "--seed", "9")},
    ),
    Case(
        "interleave_sample",
        ("interleave-report", _sample("interleave.parquet"), "--inference", "fixed"),
    ),
    Case(
        "interleave_nested",
        (
            "interleave-report",
            f"{LOGS}/nested.parquet",
            "--a-name",
            "prod",
            "--bootstrap",
            "500",
            "--inference",
            "fixed",
        ),
        {
            "nested.parquet": _simulate(
                "interleave", "--sessions", "3000", "--seed", "4", "--format", "nested"
            )
        },
    ),
    Case("sample_size_proportion", ("sample-size", "--baseline", "0.12", "--mde", "0.01")),
    Case(
        "sample_size_canary_days",
        (
            "sample-size",
            "--baseline",
            "0.12",
            "--mde-rel",
            "0.05",
            "--ratio",
            "0.05/0.95",
            "--daily-units",
            "5000",
        ),
    ),
    Case(
        "sample_size_continuous_mde",
        ("sample-size", "--baseline", "42", "--sd", "55", "--n", "20000"),
    ),
    Case(
        "sample_size_power_t",
        (
            "sample-size",
            "--baseline",
            "0.3",
            "--mde",
            "0.02",
            "--n",
            "3000",
            "--method",
            "t-approx",
        ),
    ),
    Case(
        "sample_size_interleaving",
        ("sample-size", "--kind", "interleaving", "--win-rate", "0.55", "--daily-units", "500"),
    ),
    Case("gate_example_policy", ("gate", str(ROOT / "examples" / "policy.toml"))),
]


def run_case(case: Case, workdir: Path) -> dict[str, Any]:
    """Build the case's logs in ``workdir`` and return its JSON with paths made portable."""
    import contextlib
    import io

    from abtool.cli import main

    for name, build in case.logs.items():
        target = workdir / name
        if not target.exists():
            build(target)
    args = [a.replace(LOGS, str(workdir)) for a in case.args] + ["--format", "json"]
    out = io.StringIO()
    quiet = io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(quiet),
        contextlib.suppress(SystemExit),
    ):
        main(args)
    return portable(json.loads(out.getvalue()), workdir)


def portable(value: Any, workdir: Path) -> Any:
    """Replace machine-specific paths and timings so outputs compare across runs."""
    if isinstance(value, dict):
        return {
            k: (0.0 if k == "elapsed_seconds" else portable(v, workdir)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [portable(v, workdir) for v in value]
    if isinstance(value, str):
        return value.replace(str(workdir), LOGS).replace(str(ROOT), "<repo>")
    return value


def write_all() -> None:
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            result = run_case(case, Path(tmp))
            text = json.dumps(result, indent=1, sort_keys=False) + "\n"
            (GOLDEN / f"{case.name}.json").write_text(text, encoding="utf-8")
            print(f"wrote {case.name}: verdict {result.get('verdict')}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.golden_cases --write")
    write_all()
