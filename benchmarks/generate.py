"""Generate large benchmark logs with abtool's streaming simulators (constant memory)."""

from __future__ import annotations

import argparse
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def shadow_log(rows: int) -> Path:
    """The shadow benchmark log with ``rows`` rows, generated once and cached."""
    path = DATA / f"shadow_{rows}.parquet"
    if not path.exists():
        # Imported here: the benchmark runner imports this module and must stay small, since
        # a child process's peak RSS counts the parent's memory at fork time.
        from abtool.simulate.shadow import ShadowSpec, shadow_chunks
        from abtool.simulate.writer import write_chunks

        tmp = path.with_suffix(".tmp")
        spec = ShadowSpec(rows=rows, hours=48, seed=rows % 9973, bad_segment="BR")
        write_chunks(shadow_chunks(spec), tmp)
        tmp.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    for rows in args.rows:
        print(shadow_log(rows))


if __name__ == "__main__":
    main()
