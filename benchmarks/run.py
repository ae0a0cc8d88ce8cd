"""Time abtool against the pandas + scipy baseline and a bare pyarrow read, as whole processes.

Each command runs ``--repeat`` times as a child process; wall time, CPU time (user + system)
and peak RSS (from ``wait4``'s rusage, so exactly that child's) are recorded and the medians
reported. The runner also checks that abtool and the baseline computed the same figures.

    python -m benchmarks.run --rows 1000000 10000000 [--repeat 3] [--write-results]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import shadow_log

ROOT = Path(__file__).resolve().parent
PY = sys.executable
ABTOOL = str(Path(PY).with_name("abtool"))
SHADOW_COLUMNS = (
    "ts,primary_prediction,shadow_prediction,primary_latency_ms,shadow_latency_ms,"
    "shadow_error,country,device"
)


@dataclass
class Timing:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str


def run_once(argv: list[str]) -> Timing:
    """Run one child process; measure wall, CPU and peak RSS of that child alone."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT.parent)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}")
    return Timing(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def measure(argv: list[str], repeat: int) -> tuple[Timing, list[Timing]]:
    runs = [run_once(argv) for _ in range(repeat)]
    median = Timing(
        statistics.median(r.wall_s for r in runs),
        statistics.median(r.cpu_s for r in runs),
        statistics.median(r.peak_rss_mb for r in runs),
        runs[0].stdout,
    )
    return median, runs


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def compare_shadow(abtool: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Differences between abtool's JSON stats and the baseline's figures (empty: agree)."""
    st = abtool["stats"]
    problems = []
    for key in ("rows", "excluded_rows"):
        if st[key] != baseline[key]:
            problems.append(f"{key}: {st[key]} != {baseline[key]}")
    for key in (
        "ks_statistic",
        "ks_pvalue",
        "agreement_rate",
        "mean_abs_disagreement",
        "duration_hours",
        "shadow_error_rate",
    ):
        if not close(st[key], baseline[key], rel=1e-7):
            problems.append(f"{key}: {st[key]} != {baseline[key]}")
    for column, values in st["segments"].items():
        for entry in values:
            ref = baseline["segments"][column][entry["value"]]
            if entry["rows"] != ref["rows"] or not close(
                entry["mean_abs_disagreement"], ref["mean_abs_disagreement"], rel=1e-9
            ):
                problems.append(f"segment {column}={entry['value']}: {entry} != {ref}")
    for role, quantiles in st["latency"].items():
        for key, value in quantiles.items():
            if not close(value, baseline["latency"][role][key]):
                problems.append(
                    f"latency {role} {key}: {value} != {baseline['latency'][role][key]}"
                )
    return problems


def bench_shadow(rows: int, repeat: int) -> list[dict[str, Any]]:
    path = shadow_log(rows)
    size_mb = path.stat().st_size / 1e6
    commands = {
        "abtool shadow-report": [ABTOOL, "shadow-report", str(path), "--format", "json"],
        "pandas + scipy baseline": [PY, "-m", "benchmarks.baseline_shadow", str(path)],
        "pyarrow read (floor)": [PY, "-m", "benchmarks.read_pyarrow", str(path), SHADOW_COLUMNS],
    }
    results = {name: measure(argv, repeat)[0] for name, argv in commands.items()}
    problems = compare_shadow(
        json.loads(results["abtool shadow-report"].stdout),
        json.loads(results["pandas + scipy baseline"].stdout),
    )
    if problems:
        raise SystemExit("abtool and the baseline disagree:\n  " + "\n  ".join(problems))
    ours = results["abtool shadow-report"]
    rows_out = []
    for name, timing in results.items():
        rows_out.append(
            {
                "command": "shadow-report",
                "rows": rows,
                "parquet_mb": size_mb,
                "tool": name,
                "wall_s": timing.wall_s,
                "cpu_s": timing.cpu_s,
                "peak_rss_mb": timing.peak_rss_mb,
                "vs_abtool": timing.wall_s / ours.wall_s,
            }
        )
    return rows_out


def startup(repeat: int) -> list[dict[str, Any]]:
    out = []
    for label, argv in (("abtool --help", [ABTOOL, "--help"]),):
        timing = measure(argv, repeat)[0]
        out.append({"command": label, "wall_s": timing.wall_s, "peak_rss_mb": timing.peak_rss_mb})
    return out


def machine() -> str:
    import numpy
    import polars
    import pyarrow

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB RAM, "
        f"Python {platform.python_version()}, "
        f"polars {polars.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| command | rows | Parquet MB | tool | wall s (median) | CPU s | peak RSS MB | "
        "time vs abtool |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['rows']:,} | {r['parquet_mb']:.0f} | {r['tool']} | "
            f"{r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} | "
            f"{r['vs_abtool']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-results", action="store_true", help="Rewrite RESULTS.md.")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for n in args.rows:
        print(f"shadow-report at {n:,} rows ...", file=sys.stderr)
        rows += bench_shadow(n, args.repeat)
    text = table(rows)
    starts = startup(args.repeat)
    start_lines = "\n".join(
        f"- `{s['command']}`: {s['wall_s']:.3f} s wall, {s['peak_rss_mb']:.0f} MB" for s in starts
    )
    report = (
        f"Machine: {machine()}\n\nMedians of {args.repeat} runs; abtool and the baseline "
        f"agreed on every checked figure.\n\n{text}\n\nStart-up:\n{start_lines}\n"
    )
    print(report)
    if args.write_results:
        (ROOT / "RESULTS.md").write_text("# Benchmark results\n\n" + report)


if __name__ == "__main__":
    main()
