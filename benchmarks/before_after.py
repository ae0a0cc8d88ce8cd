"""abtool at another git revision against this checkout, side by side on the benchmark logs.

The revision's ``abtool/`` is extracted with ``git archive`` into a temporary directory and run
from there (``PYTHONPATH``) with this environment's libraries; both run as whole processes,
alternately run by run so background load hits them alike, and the medians of wall, CPU and
peak RSS are printed. The run stops if the two JSON outputs differ (floats beyond 1e-9
relative, as the goldens allow).

    python -m benchmarks.before_after REV --rows 10000000 [--repeat 5] [--command canary-decide]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from benchmarks.run import CASES, ROOT, Timing, generate

_IGNORED = {"elapsed_seconds"}


def extract(revision: str, into: Path) -> None:
    """``abtool/`` as it was at ``revision``, written under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "abtool"],
        cwd=ROOT.parent,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> Timing:
    """One child process; wall, CPU and peak RSS of that child alone (as benchmarks.run)."""
    import time

    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if code not in (0, 1, 3):
        raise SystemExit(f"command failed ({code}): {' '.join(argv)}")
    return Timing(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def differences(old: Any, new: Any, where: str = "$") -> list[str]:
    """Where two JSON values differ (floats to 1e-9 relative; timings ignored)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in old.keys() | new.keys() if k not in _IGNORED]
        return [
            d for k in sorted(keys) for d in differences(old.get(k), new.get(k), f"{where}.{k}")
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in differences(a, b, f"{where}[{i}]")
        ]
    if isinstance(old, float) and isinstance(new, float):
        same = math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-12)
        return [] if same else [f"{where}: {old} -> {new}"]
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--command", choices=[c.command for c in CASES], action="append")
    args = parser.parse_args()
    lines = [
        f"| command | rows | {args.revision}: wall s, CPU s, peak MB | this checkout | wall |",
        "|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        before_dir = Path(tmp)
        extract(args.revision, before_dir)
        sides = {
            "before": (before_dir, {**os.environ, "PYTHONPATH": str(before_dir)}),
            "after": (ROOT.parent, dict(os.environ)),
        }
        for case in CASES:
            if args.command and case.command not in args.command:
                continue
            for rows in args.rows:
                path = generate(case, rows)
                argv = case.abtool_argv(path)
                runs: dict[str, list[Timing]] = {side: [] for side in sides}
                for _ in range(args.repeat):
                    for side, (cwd, env) in sides.items():
                        runs[side].append(run(argv, cwd, env))
                changed = differences(
                    json.loads(runs["before"][0].stdout), json.loads(runs["after"][0].stdout)
                )
                if changed:
                    raise SystemExit(f"{case.command}: outputs differ:\n  " + "\n  ".join(changed))
                med = {
                    side: [
                        statistics.median(getattr(t, key) for t in timings)
                        for key in ("wall_s", "cpu_s", "peak_rss_mb")
                    ]
                    for side, timings in runs.items()
                }
                b, a = med["before"], med["after"]
                lines.append(
                    f"| {case.command} | {rows:,} | {b[0]:.2f}, {b[1]:.2f}, {b[2]:.0f} | "
                    f"{a[0]:.2f}, {a[1]:.2f}, {a[2]:.0f} | {a[0] / b[0] - 1:+.0%} |"
                )
                print(lines[-1], flush=True)
    print(f"\nMedians of {args.repeat} runs, alternating.\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
