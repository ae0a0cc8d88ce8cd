"""canary-decide itself at daily looks: how often a gate that re-runs it every day PROMOTEs a
null canary or ROLLs BACK a harmful one.

:mod:`abtool.simulate.peeking` studies the statistics vectorised over thousands of replicates;
this module runs the whole command (engine, checks, verdict) through the library on small
logs held in memory, as a CI gate would run it on each day's snapshot with ``--until``.
Each replicate is a canary of ``users`` users split ``stage`` percent to treatment by a fair
coin, each with a latent click propensity ``u ~ N(0, 1)`` and ``1 + Poisson(requests - 1)``
requests at uniform times over ``days`` days, a request clicked with probability
``sigmoid(logit(0.1) + u)``, times ``1 + click_lift`` in treatment. Look ``d`` runs
``canary_report(log, until=start + d days)`` with ``min_samples`` lowered so that the metric,
not the sample minimum, decides.

    python -m abtool.simulate.canary_looks --replicates 200 --lift 0 --inference sequential
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

START = datetime(2025, 1, 1)


@dataclass(frozen=True)
class LooksSpec:
    """Canaries looked at once a day by canary-decide."""

    replicates: int = 200
    users: int = 1500
    stage: float = 50.0
    requests_per_user: float = 3.0
    click_lift: float = 0.0
    days: int = 14
    min_samples: int = 100
    inference: str = "sequential"
    seed: int = 0


@dataclass(frozen=True)
class LookRates:
    """Share of replicates PROMOTEd / ROLLed BACK by the end of each day (a gate acting on
    the first such verdict)."""

    spec: LooksSpec
    promoted_by_day: list[float]
    rolled_back_by_day: list[float]

    @property
    def promoted(self) -> float:
        return self.promoted_by_day[-1]

    @property
    def rolled_back(self) -> float:
        return self.rolled_back_by_day[-1]


def canary_log(spec: LooksSpec, rng: np.random.Generator) -> object:
    """One replicate's log as a Polars DataFrame."""
    import polars as pl

    treated = rng.uniform(size=spec.users) < spec.stage / 100.0
    u = rng.normal(size=spec.users)
    requests = 1 + rng.poisson(spec.requests_per_user - 1.0, spec.users)
    user = np.repeat(np.arange(spec.users), requests)
    base = 1.0 / (1.0 + np.exp(-(math.log(0.1 / 0.9) + u[user])))
    p = np.minimum(base * np.where(treated[user], 1.0 + spec.click_lift, 1.0), 1.0)
    offsets = (rng.uniform(size=len(user)) * spec.days * 86_400e6).astype(np.int64)
    return pl.DataFrame(
        {
            "user_id": user,
            "model_variant": np.where(treated[user], "v2", "v1"),
            "ts": pl.Series(offsets).cast(pl.Duration("us")) + START,
            "clicked": rng.uniform(size=len(user)) < p,
        }
    )


def run_looks(spec: LooksSpec) -> LookRates:
    """Run canary-decide at every daily look of every replicate (seeded)."""
    from abtool.reports.canary import canary_report
    from abtool.reports.result import Verdict

    rng = np.random.default_rng(spec.seed)
    first_promote = np.full(spec.replicates, spec.days, dtype=np.int64)
    first_rollback = np.full(spec.replicates, spec.days, dtype=np.int64)
    for r in range(spec.replicates):
        log = canary_log(spec, rng)
        for day in range(spec.days):
            report = canary_report(
                log,
                metric=["clicked"],
                stage=spec.stage,
                control="v1",
                inference=spec.inference,
                until=(START + timedelta(days=day + 1)).isoformat(),
                thresholds={"min_samples": spec.min_samples},
            )
            if report.verdict is Verdict.PROMOTE:
                first_promote[r] = min(first_promote[r], day)
            if report.verdict is Verdict.ROLLBACK:
                first_rollback[r] = min(first_rollback[r], day)
                break  # rolled back: the gate stops here
    days = np.arange(spec.days)
    return LookRates(
        spec=spec,
        promoted_by_day=[float(np.mean(first_promote <= d)) for d in days],
        rolled_back_by_day=[float(np.mean(first_rollback <= d)) for d in days],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--lift", type=float, default=0.0, help="relative click lift")
    parser.add_argument("--inference", choices=("sequential", "fixed"), default="sequential")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    spec = LooksSpec(
        replicates=args.replicates,
        users=args.users,
        click_lift=args.lift,
        inference=args.inference,
        seed=args.seed,
    )
    rates = run_looks(spec)
    se = math.sqrt(0.05 * 0.95 / spec.replicates)
    print(f"{spec}\nMonte Carlo s.e. at 5%: {se:.3f}")
    print("| day | promoted by then | rolled back by then |\n|---|---|---|")
    for day, (p, r) in enumerate(zip(rates.promoted_by_day, rates.rolled_back_by_day, strict=True)):
        print(f"| {day + 1} | {p:.3f} | {r:.3f} |")


if __name__ == "__main__":
    main()
