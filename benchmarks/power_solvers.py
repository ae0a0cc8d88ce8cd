"""abtool's brentq inversion of the power functions against statsmodels' ``solve_power``.

Both solve the same equation, power(n or effect) = target, on statsmodels' power functions.
The reference root is brentq at machine tolerance in a 1e-6 bracket around abtool's answer.
Run: ``python -m benchmarks.power_solvers`` (about 20 s on one core).
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from abtool.stats import power as pw

EFFECTS = [1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 1.0, 2.0, 3.0]
RATIOS = [0.05 / 0.95, 0.25, 1.0, 3.0]
ALPHAS = [0.05, 0.0125, 0.001]
POWERS = [0.5, 0.8, 0.99]
ALTERNATIVES = ["two-sided", "larger"]


@dataclass
class Tally:
    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    ours_seconds: float = 0.0
    theirs_seconds: float = 0.0
    theirs_failed: int = 0
    theirs_warned: int = 0

    def line(self, label: str) -> str:
        errs = np.array(self.theirs)
        return (
            f"{label:16} {len(self.ours):4} cases | abtool: max rel err {max(self.ours):.1e}, "
            f"{1e3 * self.ours_seconds / len(self.ours):.1f} ms | statsmodels: max rel err "
            f"{errs.max():.1e}, median {np.median(errs):.1e}, >1e-9 in {(errs > 1e-9).sum()}, "
            f">1e-3 in {(errs > 1e-3).sum()}, failed {self.theirs_failed}, warned "
            f"{self.theirs_warned}, {1e3 * self.theirs_seconds / len(self.ours):.1f} ms"
        )


def _reference(f: Callable[[float], float], near: float) -> float:
    return float(brentq(f, near * (1 - 1e-6), near * (1 + 1e-6), xtol=1e-300, rtol=8.9e-16))


def _theirs(
    tally: Tally, model: NormalIndPower | TTestIndPower, truth: float, **kw: object
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            # a float, or a 1-element array when it fell back to fsolve
            value = float(np.ravel(model.solve_power(**kw))[0])
        except (ValueError, RuntimeError):
            value = np.nan
        tally.theirs_seconds += time.perf_counter() - start
    tally.theirs_warned += bool(caught)
    if np.isnan(value):
        tally.theirs_failed += 1
    else:
        tally.theirs.append(abs(value - truth) / truth)


def compare(name: str, fn: pw.PowerFunction, model: NormalIndPower | TTestIndPower) -> None:
    nobs, effect = Tally(), Tally()
    for d, r, a, p, alt in itertools.product(EFFECTS, RATIOS, ALPHAS, POWERS, ALTERNATIVES):
        design = {"alpha": a, "power": p, "ratio": r, "alternative": alt}
        start = time.perf_counter()
        n1 = pw.solve_nobs1(fn, d, a, p, r, alt)  # type: ignore[arg-type]
        nobs.ours_seconds += time.perf_counter() - start
        if n1 == pw.MIN_NOBS1:
            continue
        truth = _reference(partial(_gap_in_n, fn, d, a, p, r, alt), n1)
        nobs.ours.append(abs(n1 - truth) / truth)
        _theirs(nobs, model, truth, effect_size=d, nobs1=None, **design)
        start = time.perf_counter()
        e = pw.solve_effect_size(fn, n1, a, p, r, alt)  # type: ignore[arg-type]
        effect.ours_seconds += time.perf_counter() - start
        truth = _reference(partial(_gap_in_effect, fn, n1, a, p, r, alt), e)
        effect.ours.append(abs(e - truth) / truth)
        _theirs(effect, model, truth, effect_size=None, nobs1=n1, **design)
    print(nobs.line(f"{name} nobs1"))
    print(effect.line(f"{name} effect"))


def _gap_in_n(
    fn: pw.PowerFunction, d: float, a: float, p: float, r: float, alt: str, x: float
) -> float:
    return fn(d, x, a, r, alt) - p  # type: ignore[arg-type]


def _gap_in_effect(
    fn: pw.PowerFunction, n1: float, a: float, p: float, r: float, alt: str, x: float
) -> float:
    return fn(x, n1, a, r, alt) - p  # type: ignore[arg-type]


if __name__ == "__main__":
    compare("normal", pw.normal_power, NormalIndPower())
    compare("t-test", pw.ttest_power, TTestIndPower())
