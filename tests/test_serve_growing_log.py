"""HOLD → PROMOTE through `abtool serve` while the log snapshot grows, as a controller sees it.

One seeded `abtool simulate canary` log (6,000 users over 24 h, 50/50, +20 % click lift) is
delivered in 3-hour Parquet parts. After each part lands, the controller's request
``GET /gates/canary`` is answered from the same, unchanged policy: early on the lift is not yet
significant (HOLD: wait and re-check), once enough users have come back it is (PROMOTE). The
test is canary-decide's default, always valid at every re-check.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.serve_support import request, running_server, simulate_canary

POLICY = """\
[[gate]]
name = "canary"
kind = "canary"
paths = ["snapshot/*.parquet"]
metric = "clicked"
stage = 50
"""


def test_hold_then_promote_as_the_log_grows(tmp_path: Path) -> None:
    full = simulate_canary(
        tmp_path / "full.parquet",
        *("--users", "6000", "--stage", "50", "--click-lift", "0.2", "--seed", "11"),
    )
    log = pl.read_parquet(full)
    start = log["ts"].min()
    assert isinstance(start, dt.datetime)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)

    sequence = []
    with running_server(policy) as server:
        for part in range(8):
            begin, end = (start + dt.timedelta(hours=3 * k) for k in (part, part + 1))
            rows = log.filter((pl.col("ts") >= begin) & (pl.col("ts") < end))
            rows.write_parquet(snapshot / f"part-{part:02d}.parquet")
            answer = request(server, "/gates/canary")
            assert answer.status == 200
            body = answer.json()
            metric = body["stats"]["metric"]
            # The decision's p-value: the one-sided test that the candidate is better.
            better = metric["tests"]["superior"]["pvalue"]
            sequence.append((3 * (part + 1), body["stats"]["units"], better, body["verdict"]))

    print("\nhours  units  p-value  verdict")
    for hours, units, pvalue, verdict in sequence:
        print(f"{hours:5d}  {units:5d}  {pvalue:7.4f}  {verdict}")
    verdicts = [row[3] for row in sequence]
    assert verdicts[0] == "HOLD" and verdicts[-1] == "PROMOTE", sequence
    assert "ROLLBACK" not in verdicts
    first_promote = verdicts.index("PROMOTE")
    assert all(v == "HOLD" for v in verdicts[:first_promote])
    units = [row[1] for row in sequence]
    assert units == sorted(units) and units[-1] == 6000
    # HOLD while the lift is not significant at 5 %, PROMOTE once it is.
    assert all(p >= 0.05 for _, _, p, v in sequence if v == "HOLD")
    assert all(p < 0.05 for _, _, p, v in sequence if v == "PROMOTE")
