"""Floor for any tool: read the columns a report needs with pyarrow, nothing else."""

from __future__ import annotations

import sys

import pyarrow.parquet as pq

if __name__ == "__main__":
    table = pq.read_table(sys.argv[1], columns=sys.argv[2].split(","))
    print(table.num_rows)
