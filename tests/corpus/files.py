"""Files: FIFOs, devices, links, names, corrupt and truncated Parquet, folder layouts."""

from __future__ import annotations

import os

from tests.corpus.base import (
    REPORTS,
    case,
    rows_read,
    shadow_log,
    shadow_logs,
)
from tests.corpus.inputs import corrupt_pages, fifo, shadow_frame, write

case(
    "fifo_in_glob",
    "files",
    "a FIFO named *.parquet matched by a glob",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        fifo(d / "logs/b.parquet"),
        ["shadow-report", "logs/*.parquet"],
    )[-1],
    (2,),
    ("b.parquet", "not a regular file", "FIFO"),
)
case(
    "fifo_in_folder",
    "files",
    "a FIFO named *.parquet inside a log folder",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        fifo(d / "logs/z.parquet"),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("z.parquet", "FIFO"),
)
case(
    "same_file_twice",
    "files",
    "one file named twice (a.parquet ./a.parquet)",
    lambda d: ["shadow-report", shadow_log(d), "./log.parquet", "-f", "json"],
    REPORTS,
    check=rows_read(240, "named 2 times"),
)
case(
    "file_and_folder",
    "files",
    "a file and the folder holding it",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        ["shadow-report", "logs/a.parquet", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=rows_read(240, "read once"),
)
case(
    "hard_link",
    "files",
    "a file and a hard link to it",
    lambda d: (
        shadow_log(d),
        os.link(d / "log.parquet", d / "link.parquet"),
        ["shadow-report", "log.parquet", "link.parquet", "-f", "json"],
    )[-1],
    REPORTS,
    check=rows_read(240),
)
case(
    "symlink_loop",
    "files",
    "a log folder holding a symlink to itself",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        os.symlink(d / "logs", d / "logs/loop"),
        ["shadow-report", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=rows_read(240),
)
case(
    "zero_bytes",
    "files",
    "an empty file named .parquet",
    lambda d: ((d / "log.parquet").write_bytes(b""), ["shadow-report", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "empty"),
)
case(
    "truncated",
    "files",
    "a Parquet file cut in half",
    lambda d: (
        shadow_log(d),
        (d / "log.parquet").write_bytes((d / "log.parquet").read_bytes()[:2000]),
        ["shadow-report", "log.parquet"],
    )[-1],
    (2,),
    ("log.parquet", "not a Parquet file"),
)
case(
    "corrupt_footer",
    "files",
    "magic bytes intact, metadata garbage",
    lambda d: (
        (d / "log.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1"),
        ["shadow-report", "log.parquet"],
    )[-1],
    (2,),
    ("log.parquet", "unreadable Parquet"),
)
case(
    "corrupt_part_in_hive",
    "files",
    "one corrupt part file in a hive folder",
    lambda d: (
        write(d / "logs/date=2025-04-28/part-0.parquet", shadow_frame()),
        write(d / "logs/date=2025-04-29/part-0.parquet", shadow_frame(seed=9)),
        corrupt_pages(
            d / "logs/date=2025-04-29/part-0.parquet", d / "logs/date=2025-04-29/part-0.parquet"
        ),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("date=2025-04-29/part-0.parquet", "cannot read"),
)
case(
    "csv_named_parquet",
    "files",
    "a CSV file named .parquet",
    lambda d: (shadow_frame().write_csv(d / "log.parquet"), ["shadow-report", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "not a Parquet file"),
)
case(
    "spark_folder",
    "files",
    "Spark's output: a folder named x.parquet with part files",
    lambda d: (
        write(d / "out.parquet/part-00000.parquet", shadow_frame()),
        (d / "out.parquet/_SUCCESS").write_text(""),
        (d / "out.parquet/.part-00000.parquet.crc").write_bytes(b"x"),
        ["shadow-report", "out.parquet", "-f", "json"],
    )[-1],
    REPORTS,
    check=rows_read(240),
)
case(
    "glob_chars_in_name",
    "files",
    "a file whose name holds glob characters",
    lambda d: ["shadow-report", shadow_log(d, name="log[1]*.parquet"), "-f", "json"],
    REPORTS,
    check=rows_read(240),
)
case(
    "undecodable_name",
    "files",
    "a file name with a byte that is not UTF-8",
    lambda d: (
        shadow_log(d),
        os.rename(bytes(d / "log.parquet"), bytes(d) + b"/log-\xff.parquet"),
        ["shadow-report", os.fsdecode(b"log-\xff.parquet"), "-f", "json"],
    )[-1],
    (2,),
    ("log-\ufffd.parquet", "not valid UTF-8"),
)
case(
    "broken_symlink",
    "files",
    "a symlink to a file that does not exist",
    lambda d: (os.symlink(d / "gone.parquet", d / "log.parquet"), ["shadow-report", "log.parquet"])[
        -1
    ],
    (2,),
    ("log.parquet", "cannot read"),
)
case(
    "device",
    "files",
    "a character device given as the log",
    lambda d: ["shadow-report", "/dev/null"],
    (2,),
    ("/dev/null", "character device"),
)
