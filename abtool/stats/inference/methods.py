"""Inference methods on an estimate and its standard error: fixed horizon or always valid.

Each method is a class with one interface (GrowthBook gbstats style: a new method is a new
class, not a branch): array-level ``halfwidth`` and ``pvalue`` that simulations vectorise
over, and ``test`` that turns one :class:`Estimate` into a :class:`TestResult` naming the
method. ``alternative`` is ``"two-sided"``, ``"greater"`` (H1: effect > null, a lower bound)
or ``"less"`` (H1: effect < null, an upper bound). A test rejects when its interval or bound
excludes the null, which for both methods is the same as ``pvalue <= alpha``.

* :class:`FixedHorizon` is the Wald z-test (normal quantiles from ``scipy.special``), valid
  for one pre-planned look.
* :class:`ConfidenceSequence` is the asymptotic confidence sequence of Waudby-Smith et al.
  (2023) with the always-valid p-values of :mod:`abtool.stats.inference.sequential`, valid
  at every look.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.inference import sequential
from abtool.stats.ratio import Lift, relative_lift_se

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[Alternative, ...] = ("two-sided", "greater", "less")


@dataclass(frozen=True)
class Estimate:
    """An effect estimate with its standard error and the units behind it.

    Attributes:
        effect: the estimate, e.g. treatment - control or treatment / control - 1.
        se: its standard error (delta method for ratio metrics).
        units: randomization units in both arms together (the ``n`` of the sequence).
    """

    effect: float
    se: float
    units: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.se) and self.se >= 0):
            raise ValueError(f"se must be finite and >= 0, got {self.se}")
        if self.units < 1:
            raise ValueError(f"units must be >= 1, got {self.units}")


def estimate_from_lift(lift: Lift, *, relative: bool = False) -> Estimate:
    """The absolute (``lift_abs``, ``se``) or relative lift of a ratio metric as an Estimate.

    Units are both arms' randomization units. The relative lift's se is the delta-method
    se of ``R_t / R_c - 1`` (:func:`abtool.stats.ratio.relative_lift_se`).
    """
    units = lift.control.units + lift.treatment.units
    if relative:
        return Estimate(lift.lift_rel, relative_lift_se(lift.control, lift.treatment), units)
    return Estimate(lift.lift_abs, lift.se, units)


@dataclass(frozen=True)
class TestResult:
    """One test of ``effect`` against ``null`` by a named method.

    Attributes:
        method: ``"fixed"`` or ``"sequential"``.
        method_label: a readable description, e.g. ``"confidence sequence (N*=5000)"``.
        alternative: ``"two-sided"``, ``"greater"`` or ``"less"``.
        null: the tested value.
        effect: the estimate.
        se: its standard error.
        units: units behind it.
        low: lower end of the interval (``-inf`` for ``"less"``).
        high: upper end (``+inf`` for ``"greater"``).
        pvalue: p-value (always valid for the sequential method).
        alpha: the level; the interval has coverage 1 - alpha.
        reject: the interval excludes ``null`` (equivalently ``pvalue <= alpha``).
    """

    __test__ = False  # a record, not a pytest class

    method: str
    method_label: str
    alternative: Alternative
    null: float
    effect: float
    se: float
    units: int
    low: float
    high: float
    pvalue: float
    alpha: float
    reject: bool

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON (infinite or NaN bounds become None)."""
        out: dict[str, object] = asdict(self)
        for key in ("low", "high"):
            value = out[key]
            if isinstance(value, float) and not math.isfinite(value):  # inf or NaN
                out[key] = None
        return out


class InferenceMethod(ABC):
    """Interface shared by the fixed-horizon and the sequential methods."""

    name: str
    alpha: float

    @property
    @abstractmethod
    def label(self) -> str:
        """A readable name of the method and its parameters."""

    @abstractmethod
    def with_alpha(self, alpha: float) -> InferenceMethod:
        """The same method at another level (e.g. a Bonferroni share of alpha)."""

    @abstractmethod
    def halfwidth(
        self, se: ArrayLike, units: ArrayLike, alternative: Alternative = "two-sided"
    ) -> NDArray[np.float64]:
        """Half-width of the interval (or distance of the one-sided bound) at level alpha."""

    @abstractmethod
    def pvalue(
        self,
        effect: ArrayLike,
        se: ArrayLike,
        units: ArrayLike,
        alternative: Alternative = "two-sided",
        null: ArrayLike = 0.0,
    ) -> NDArray[np.float64]:
        """p-values of ``effect == null`` against ``alternative``."""

    def test(
        self, estimate: Estimate, alternative: Alternative = "two-sided", null: float = 0.0
    ) -> TestResult:
        """Interval or bound, p-value and rejection for one estimate.

        An estimate with ``se == 0`` is not tested: NaN bounds, p-value 1, no rejection.
        """
        if alternative not in ALTERNATIVES:
            raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
        e, se, n = estimate.effect, estimate.se, estimate.units
        if se == 0:
            # No variation (e.g. every unit identical): nothing to test, as in gbstats.
            nan = math.nan
            return TestResult(
                self.name, self.label, alternative, null, e, se, n, nan, nan, 1.0, self.alpha, False
            )
        hw = float(self.halfwidth(se, n, alternative))
        low = -math.inf if alternative == "less" else e - hw
        high = math.inf if alternative == "greater" else e + hw
        # The bound is what the decision reads; p-values agree with it up to rounding.
        reject = (low > null) or (high < null)
        return TestResult(
            method=self.name,
            method_label=self.label,
            alternative=alternative,
            null=null,
            effect=e,
            se=se,
            units=n,
            low=low,
            high=high,
            pvalue=float(self.pvalue(e, se, n, alternative, null)),
            alpha=self.alpha,
            reject=bool(reject),
        )


def _check_alpha(alpha: float, upper: float = 1.0) -> None:
    if not 0.0 < alpha < upper:
        raise ValueError(f"alpha must be in (0, {upper}), got {alpha}")


class FixedHorizon(InferenceMethod):
    """Wald z-test and interval, valid for a single pre-planned look."""

    name = "fixed"

    def __init__(self, alpha: float = 0.05) -> None:
        _check_alpha(alpha)
        self.alpha = alpha

    @property
    def label(self) -> str:
        return "fixed-horizon z-test"

    def with_alpha(self, alpha: float) -> FixedHorizon:
        return FixedHorizon(alpha)

    def halfwidth(
        self, se: ArrayLike, units: ArrayLike, alternative: Alternative = "two-sided"
    ) -> NDArray[np.float64]:
        from scipy import special

        tail = self.alpha / 2.0 if alternative == "two-sided" else self.alpha
        z = float(special.ndtri(1.0 - tail))
        shape = np.broadcast(np.asarray(se), np.asarray(units)).shape
        return np.broadcast_to(z * np.asarray(se, dtype=np.float64), shape).astype(np.float64)

    def pvalue(
        self,
        effect: ArrayLike,
        se: ArrayLike,
        units: ArrayLike,
        alternative: Alternative = "two-sided",
        null: ArrayLike = 0.0,
    ) -> NDArray[np.float64]:
        from scipy import special

        d = np.asarray(effect, dtype=np.float64) - np.asarray(null, dtype=np.float64)
        s = np.asarray(se, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(s > 0, d / np.where(s > 0, s, 1.0), np.sign(d) * np.inf)
        z = np.where((s <= 0) & (d == 0), 0.0, z)
        if alternative == "two-sided":
            p = np.minimum(1.0, 2.0 * special.ndtr(-np.abs(z)))
        elif alternative == "greater":
            p = special.ndtr(-z)
        else:
            p = special.ndtr(z)
        shape = np.broadcast(d, s, np.asarray(units)).shape
        return np.broadcast_to(np.asarray(p, dtype=np.float64), shape).astype(np.float64)


class ConfidenceSequence(InferenceMethod):
    """Asymptotic confidence sequence (Waudby-Smith et al. 2023), valid at every look.

    Args:
        alpha: level; the sequence covers the effect at all sample sizes with 1 - alpha.
        tuning_units: ``N*``, the total units where the sequence is tightest (GrowthBook's
            default 5000; fit it to the plan with
            :func:`abtool.stats.inference.sequential.tuning_units_for_plan`).

    The two-sided and the one-sided tests use their own ``rho`` (tuned at ``alpha`` and
    ``2 alpha``), as gbstats does, so a one-sided test needs ``alpha < 0.5``.
    """

    name = "sequential"

    def __init__(
        self, alpha: float = 0.05, tuning_units: float = sequential.DEFAULT_TUNING_UNITS
    ) -> None:
        _check_alpha(alpha)
        if not tuning_units > 0:
            raise ValueError(f"tuning_units must be positive, got {tuning_units}")
        self.alpha = alpha
        self.tuning_units = tuning_units

    @property
    def label(self) -> str:
        return f"confidence sequence (Waudby-Smith et al. 2023, N*={self.tuning_units:g})"

    def with_alpha(self, alpha: float) -> ConfidenceSequence:
        return ConfidenceSequence(alpha, self.tuning_units)

    def rho(self, alternative: Alternative = "two-sided") -> float:
        """Mixture parameter of the two-sided or of the one-sided sequence."""
        two_sided = alternative == "two-sided"
        return sequential.sequential_rho(self.alpha, self.tuning_units, two_sided=two_sided)

    def halfwidth(
        self, se: ArrayLike, units: ArrayLike, alternative: Alternative = "two-sided"
    ) -> NDArray[np.float64]:
        rho = self.rho(alternative)
        if alternative == "two-sided":
            return sequential.halfwidth_two_sided(se, units, self.alpha, rho)
        return sequential.halfwidth_one_sided(se, units, self.alpha, rho)

    def pvalue(
        self,
        effect: ArrayLike,
        se: ArrayLike,
        units: ArrayLike,
        alternative: Alternative = "two-sided",
        null: ArrayLike = 0.0,
    ) -> NDArray[np.float64]:
        rho = self.rho(alternative)
        if alternative == "two-sided":
            return sequential.pvalue_two_sided(effect, se, units, rho, null)
        return sequential.pvalue_one_sided(
            effect, se, units, rho, greater=alternative == "greater", null=null
        )


def method_named(
    name: str, alpha: float = 0.05, tuning_units: float = sequential.DEFAULT_TUNING_UNITS
) -> InferenceMethod:
    """The method for an ``--inference`` value: ``"sequential"`` or ``"fixed"``."""
    if name == "sequential":
        return ConfidenceSequence(alpha, tuning_units)
    if name == "fixed":
        return FixedHorizon(alpha)
    raise ValueError(f"inference must be 'sequential' or 'fixed', got {name!r}")
