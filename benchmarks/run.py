"""Time abtool against its peers and a bare pyarrow read, as whole processes.

Each command runs ``--repeat`` times as a child process; wall time, CPU time (user + system)
and peak RSS (from ``wait4``'s rusage, so exactly that child's) are recorded and the medians
reported. Linux counts the parent's resident memory at fork time in a child's peak RSS, so
this runner never imports numpy, Polars or pyarrow itself (logs are generated in a child).
The peers are the pandas + scipy baseline (every command) and tea-tasting (canary-decide's
primary metric). The runner checks that abtool and each peer computed the same figures, and
stops if they do not. Each row also gives its wall time over the pyarrow read's (the floor).

At the sizes of ``--spark-rows``, abtool also runs with ``--engine spark --spark-master
local[2]`` (``--spark-repeat`` times): its JVM is a grandchild the driver does not reap, so
its wall time is the child's and its CPU time and peak RSS are sampled from ``/proc`` over
the whole process tree (driver + JVM, every 0.1 s); its JSON must equal the Polars engine's
(sums to 1e-9, order statistics and counts exactly: ``tests/json_compare.py``).

    python -m benchmarks.run --rows 1000000 10000000 [--repeat 3] [--write-results]
        [--peers-up-to 50000000]
        [--spark-rows 10000000 50000000] [--spark-repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import canary_case, shadow_case

ROOT = Path(__file__).resolve().parent
PY = sys.executable


@dataclass(frozen=True)
class Peer:
    """A tool timed beside abtool, and the check that it computed the same figures."""

    name: str
    argv: Callable[[Path], list[str]]
    compare: Callable[[dict[str, Any], dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Case:
    """One command to benchmark: its log, abtool's command, the peers and the floor's columns."""

    command: str
    log: Callable[[int], Path]
    abtool_argv: Callable[[Path], list[str]]
    peers: tuple[Peer, ...]
    columns: str


BASELINE = "pandas + scipy baseline"
FLOOR = "pyarrow read (floor)"
_CANARY_PEERS = (
    Peer(BASELINE, canary_case.baseline_argv, canary_case.compare_canary),
    Peer(
        "tea-tasting (primary metric)",
        canary_case.teatasting_argv,
        canary_case.compare_teatasting,
    ),
)
CASES = (
    Case(
        "shadow-report",
        shadow_case.shadow_log,
        shadow_case.abtool_argv,
        (Peer(BASELINE, shadow_case.baseline_argv, shadow_case.compare_shadow),),
        shadow_case.SHADOW_COLUMNS,
    ),
    Case(
        "canary-decide",
        canary_case.canary_log,
        canary_case.abtool_argv,
        _CANARY_PEERS,
        canary_case.CANARY_COLUMNS,
    ),
    Case(
        "canary-decide, 1M string ids",
        canary_case.canary_log_string_ids,
        canary_case.abtool_argv,
        _CANARY_PEERS,
        canary_case.CANARY_COLUMNS,
    ),
)


# Order statistics and counts-derived figures both engines must give exactly.
SPARK_EXACT = ("ks_statistic", "p5", "p50", "p95", "p50_ms", "p95_ms", "p99_ms")
SPARK_EXACT += ("latency_p50_ms", "latency_p99_ms", "ks_recent_statistic")


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


def run_tree(argv: list[str]) -> Timing:
    """Run one child process; its wall time, and CPU time and peak RSS of its whole process
    tree (the driver and the JVM it starts), sampled from /proc."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT.parent)
        peak_rss = cpu = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss, ticks = _tree_usage(proc.pid)
            peak_rss, cpu = max(peak_rss, rss), max(cpu, ticks)
            time.sleep(0.1)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}")
    cpu = max(cpu, usage.ru_utime + usage.ru_stime)
    return Timing(wall, cpu, max(peak_rss, usage.ru_maxrss / 1024), text)


def _tree_usage(root: int) -> tuple[float, float]:
    """Resident MB and CPU seconds of ``root`` and every descendant (0 for vanished ones)."""
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    rss = cpu = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm") as statm:
                rss += int(statm.read().split()[1]) * page / 2**20
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending += [int(c) for c in children.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return rss, cpu


def comparable(spark: dict[str, Any], polars: dict[str, Any]) -> tuple[dict, dict]:
    """The two engines' JSON, without the figures the Spark engine leaves out above its
    array cap and says so (docs/engines.md): shadow-report's KS D within segment values and
    where the whole-log D is reached."""
    from abtool.engines.spark.shadow_parts import SEGMENT_KS_NOTE

    if SEGMENT_KS_NOTE not in spark.get("warnings", []):
        return spark, polars
    spark["warnings"].remove(SEGMENT_KS_NOTE)
    for rows in polars["stats"]["segments"].values():
        for row in rows:
            row["ks_statistic"] = None
            row["ks_rows"] = None
    for rows in spark["stats"]["segments"].values():
        for row in rows:
            row["ks_rows"] = None
    for key in ("ks_x", "ks_cdf_primary", "ks_cdf_shadow"):
        polars["stats"]["ecdf"][key] = None
    return spark, polars


def measure(argv: list[str], repeat: int) -> Timing:
    """Medians of ``repeat`` runs."""
    runs = [run_once(argv) for _ in range(repeat)]
    return Timing(
        statistics.median(r.wall_s for r in runs),
        statistics.median(r.cpu_s for r in runs),
        statistics.median(r.peak_rss_mb for r in runs),
        runs[0].stdout,
    )


SPARK_TOOL = "abtool --engine spark (local[2])"


def bench(
    case: Case, rows: int, repeat: int, with_peers: bool = True, spark_repeat: int = 0
) -> list[dict[str, Any]]:
    """Time abtool, its peers and the pyarrow floor on one log; check they agree. Without
    ``with_peers``, only abtool and the floor. With ``spark_repeat``, also abtool on the
    Spark engine (its JSON checked against abtool's)."""
    path = generate(case, rows)
    size_mb = path.stat().st_size / 1e6
    peers = case.peers if with_peers else ()
    commands = {
        "abtool": case.abtool_argv(path),
        **{peer.name: peer.argv(path) for peer in peers},
        FLOOR: [PY, "-m", "benchmarks.read_pyarrow", str(path), case.columns],
    }
    # Interleave the tools run by run, so background load hits them alike.
    runs: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(run_once(argv))
    results = {
        name: Timing(
            statistics.median(r.wall_s for r in timings),
            statistics.median(r.cpu_s for r in timings),
            statistics.median(r.peak_rss_mb for r in timings),
            timings[0].stdout,
        )
        for name, timings in runs.items()
    }
    ours_json = json.loads(results["abtool"].stdout)
    for peer in peers:
        problems = peer.compare(ours_json, json.loads(results[peer.name].stdout))
        if problems:
            raise SystemExit(
                f"{case.command}: abtool and {peer.name} disagree:\n  " + "\n  ".join(problems)
            )
    if spark_repeat:
        argv = [*case.abtool_argv(path), "--engine", "spark", "--spark-master", "local[2]"]
        runs[SPARK_TOOL] = [run_tree(argv) for _ in range(spark_repeat)]
        timings = runs[SPARK_TOOL]
        results[SPARK_TOOL] = Timing(
            statistics.median(r.wall_s for r in timings),
            statistics.median(r.cpu_s for r in timings),
            statistics.median(r.peak_rss_mb for r in timings),
            timings[0].stdout,
        )
        from tests.json_compare import json_differences

        spark_json, polars_json = comparable(
            json.loads(results[SPARK_TOOL].stdout), json.loads(results["abtool"].stdout)
        )
        differences = json_differences(spark_json, polars_json, exact=SPARK_EXACT)
        if differences:
            raise SystemExit(
                f"{case.command}: the Spark and Polars engines disagree:\n  "
                + "\n  ".join(differences[:20])
            )
    ours, floor = results["abtool"].wall_s, results[FLOOR].wall_s
    return [
        {
            "command": case.command,
            "rows": rows,
            "parquet_mb": size_mb,
            "tool": name,
            "wall_s": timing.wall_s,
            "cpu_s": timing.cpu_s,
            "peak_rss_mb": timing.peak_rss_mb,
            "vs_abtool": timing.wall_s / ours,
            "vs_floor": timing.wall_s / floor,
        }
        for name, timing in results.items()
    ]


def generate(case: Case, rows: int) -> Path:
    """The case's log, generated in a child process (so this one stays small; see below)."""
    module, function = case.log.__module__, case.log.__name__
    code = f"from {module} import {function}; print({function}({rows}))"
    done = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return Path(done.stdout.strip())


def startup(repeat: int) -> list[tuple[str, Timing]]:
    commands = {
        "abtool --help": [PY, "-m", "abtool", "--help"],
        "abtool sample-size --baseline 0.12 --mde 0.01": [
            PY, "-m", "abtool", "sample-size", "--baseline", "0.12", "--mde", "0.01",
        ],
    }  # fmt: skip
    return [(label, measure(argv, repeat)) for label, argv in commands.items()]


def machine() -> str:
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
        + ", ".join(f"{name} {version(name)}" for name in ("polars", "numpy", "pyarrow", "scipy"))
    )


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| command | rows | Parquet MB | tool | wall s | CPU s | peak RSS MB | wall vs abtool "
        "| wall vs floor |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['rows']:,} | {r['parquet_mb']:.0f} | {r['tool']} | "
            f"{r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} | "
            f"{r['vs_abtool']:.2f}x | {r['vs_floor']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--command", choices=[c.command for c in CASES], action="append")
    parser.add_argument("--write-results", action="store_true", help="Rewrite RESULTS.md.")
    parser.add_argument(
        "--peers-up-to",
        type=int,
        default=None,
        help="Above this many rows time only abtool and the floor (the pandas baseline needs "
        "about 12 GB at 50M rows).",
    )
    parser.add_argument(
        "--spark-rows", type=int, nargs="*", default=[], help="Also time --engine spark here."
    )
    parser.add_argument("--spark-repeat", type=int, default=1)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for case in CASES:
        if args.command and case.command not in args.command:
            continue
        for n in args.rows:
            print(f"{case.command} at {n:,} rows ...", file=sys.stderr, flush=True)
            with_peers = args.peers_up_to is None or n <= args.peers_up_to
            spark = args.spark_repeat if n in args.spark_rows else 0
            rows += bench(case, n, args.repeat, with_peers, spark)
    starts = "\n".join(
        f"- `{label}`: {t.wall_s:.3f} s wall, {t.peak_rss_mb:.0f} MB"
        for label, t in startup(args.repeat)
    )
    spark_note = ""
    if args.spark_rows:
        spark_note = (
            f" `{SPARK_TOOL}`: {args.spark_repeat} run(s) after the others, pyspark "
            f"{version('pyspark')}, CPU and peak RSS of the driver and its JVM together "
            "(sampled every 0.1 s); its JSON equalled the Polars engine's."
        )
    report = (
        f"Machine: {machine()}\n\nMedians of {args.repeat} runs (tools interleaved run by run); "
        f"abtool and every peer agreed on every checked figure.{spark_note}\n\n"
        f"{table(rows)}\n\nStart-up:\n{starts}\n"
    )
    print(report)
    if args.write_results:
        (ROOT / "RESULTS.md").write_text("# Benchmark results\n\n" + report)


if __name__ == "__main__":
    main()
