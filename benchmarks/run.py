"""Time abtool against its peers and a bare pyarrow read, as whole processes.

Each command runs ``--repeat`` times as a child process; wall time, CPU time (user + system)
and peak RSS (from ``wait4``'s rusage, so exactly that child's) are recorded and the medians
reported. Linux counts the parent's resident memory at fork time in a child's peak RSS, so
this runner never imports numpy, Polars or pyarrow itself (logs are generated in a child).
The peers are the pandas + scipy baseline (every command) and tea-tasting (canary-decide's
primary metric). The runner checks that abtool and each peer computed the same figures, and
stops if they do not. Each row also gives its wall time over the pyarrow read's (the floor).

    python -m benchmarks.run --rows 1000000 10000000 [--repeat 3] [--write-results]
        [--peers-up-to 50000000]
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


def measure(argv: list[str], repeat: int) -> Timing:
    """Medians of ``repeat`` runs."""
    runs = [run_once(argv) for _ in range(repeat)]
    return Timing(
        statistics.median(r.wall_s for r in runs),
        statistics.median(r.cpu_s for r in runs),
        statistics.median(r.peak_rss_mb for r in runs),
        runs[0].stdout,
    )


def bench(case: Case, rows: int, repeat: int, with_peers: bool = True) -> list[dict[str, Any]]:
    """Time abtool, its peers and the pyarrow floor on one log; check they agree. Without
    ``with_peers``, only abtool and the floor."""
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
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for case in CASES:
        if args.command and case.command not in args.command:
            continue
        for n in args.rows:
            print(f"{case.command} at {n:,} rows ...", file=sys.stderr, flush=True)
            with_peers = args.peers_up_to is None or n <= args.peers_up_to
            rows += bench(case, n, args.repeat, with_peers)
    starts = "\n".join(
        f"- `{label}`: {t.wall_s:.3f} s wall, {t.peak_rss_mb:.0f} MB"
        for label, t in startup(args.repeat)
    )
    report = (
        f"Machine: {machine()}\n\nMedians of {args.repeat} runs (tools interleaved run by run); "
        f"abtool and every peer agreed on every checked figure.\n\n{table(rows)}\n\n"
        f"Start-up:\n{starts}\n"
    )
    print(report)
    if args.write_results:
        (ROOT / "RESULTS.md").write_text("# Benchmark results\n\n" + report)


if __name__ == "__main__":
    main()
