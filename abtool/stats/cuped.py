"""CUPED: a lift adjusted by each unit's pre-experiment data, for mean and ratio metrics.

CUPED (Deng et al. 2013) replaces an arm's metric ``Y`` by ``Y - theta (X - E[X])``, where
``X`` is a covariate measured before the experiment (usually the same metric in a pre-period).
Randomization makes ``X`` independent of the assignment, so the adjusted lift estimates the
same effect, while its variance shrinks by the factor ``1 - corr(X, Y)**2`` when
``theta = Cov(X, Y) / Var(X)``.

Ratio metrics (``sum x / sum y`` over per-unit sums, e.g. clicks per request) and ratio
covariates (the same ratio in the pre-period) are handled with the delta method (Deng et al.
2018, section 3.4): each ratio is replaced by its per-unit linearization
``(x_i - R y_i) / mean(y)``, whose sample (co)variances are the delta-method ones. A mean
metric is the special case ``y_i = 1``. Conventions (the same as tea-tasting's ``Mean`` and
``RatioOfMeans`` with covariates, so results agree with it):

* ``theta`` is estimated once on both arms pooled, and ``E[X]`` is the pooled covariate;
* each arm's variance is its own sample variance (ddof=1) of the adjusted linearization,
  the variance of the lift is the sum of the arms' (Welch-type, no pooling);
* the fixed-horizon test is a two-sided z-test; the CI of the relative lift is computed on the
  log scale, ``(T/C) exp(+-z sqrt(v_c / (n_c C**2) + v_t / (n_t T**2))) - 1``, and its
  standard error is the delta-method one, ``(T/C) sqrt(...)``.

Units without pre-period data are kept, with covariate 0 and a missing-data indicator as a
second covariate (the "missingness-indicator method", Zhao and Ding 2024): in a randomized
experiment the adjusted estimator stays consistent whatever the covariate, and the indicator
lets units without history (e.g. new users) have their own level instead of being pulled
towards users whose pre-period metric was 0. The indicator is only used when some but not all
units lack pre-period data; otherwise the result is single-covariate CUPED exactly. For a
ratio covariate a unit without pre-period rows contributes 0 to both of its sums, i.e. its
linearized covariate is 0 (the pooled level).

References:
    Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the Sensitivity of Online
    Controlled Experiments by Utilizing Pre-Experiment Data. WSDM 2013, 123-132.
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics:
    A Practical Guide with Novel Ideas. KDD 2018, 233-242.
    Zhao, A., Ding, P. (2024). To adjust or not to adjust? Estimating the average treatment
    effect in randomized experiments with missing covariates. Journal of the American
    Statistical Association 119(545), 450-460.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CupedArm:
    """One arm's per-unit arrays, one entry per randomization unit (the same order in each).

    Build it with :meth:`mean` or :meth:`ratio`.

    Attributes:
        metric: ``x_i``, the metric summed over the unit's experiment rows (a mean metric:
            the unit's value).
        count: ``y_i``, the unit's experiment rows with a value; ``None`` for a mean metric.
        pre_metric: the covariate summed over the unit's pre-period rows (0 without them).
        pre_count: the unit's pre-period rows with a value; ``None`` for a per-unit covariate.
        has_pre: whether the unit has pre-period data.
    """

    metric: FloatArray = field(repr=False)
    count: FloatArray | None = field(repr=False)
    pre_metric: FloatArray = field(repr=False)
    pre_count: FloatArray | None = field(repr=False)
    has_pre: NDArray[np.bool_] = field(repr=False)

    @classmethod
    def mean(
        cls, values: ArrayLike, covariate: ArrayLike, has_pre: ArrayLike | None = None
    ) -> CupedArm:
        """A mean metric (one value per unit) with a per-unit covariate.

        Args:
            values: the metric per unit.
            covariate: the pre-period covariate per unit; ignored (taken as 0) where
                ``has_pre`` is False.
            has_pre: per unit, whether it has pre-period data (default: all do).
        """
        x = _vector(values, "values")
        pre = _vector(covariate, "covariate")
        seen = np.ones(len(x), np.bool_) if has_pre is None else np.asarray(has_pre, np.bool_)
        _same_length(x, pre, seen)
        return cls(x, None, np.where(seen, pre, 0.0), None, seen)

    @classmethod
    def ratio(
        cls,
        sums: ArrayLike,
        counts: ArrayLike,
        pre_sums: ArrayLike,
        pre_counts: ArrayLike | None = None,
        has_pre: ArrayLike | None = None,
    ) -> CupedArm:
        """A ratio metric ``sum(sums) / sum(counts)`` with a ratio or a per-unit covariate.

        Args:
            sums, counts: the metric's per-unit sums and rows.
            pre_sums, pre_counts: the covariate's per-unit sums and rows (the same ratio in the
                pre-period). A unit has pre-period data when its count is positive; the sums
                of the others are taken as 0.
            has_pre: only without ``pre_counts``, when ``pre_sums`` holds one covariate value
                per unit: whether the unit has one (default: all do).
        """
        x, y = _vector(sums, "sums"), _vector(counts, "counts")
        pre_x = _vector(pre_sums, "pre_sums")
        if pre_counts is None:
            seen = np.ones(len(x), np.bool_) if has_pre is None else np.asarray(has_pre, np.bool_)
            _same_length(x, y, pre_x, seen)
            return cls(x, y, np.where(seen, pre_x, 0.0), None, seen)
        if has_pre is not None:
            raise ValueError("has_pre only goes with a per-unit covariate (no pre_counts)")
        pre_y = _vector(pre_counts, "pre_counts")
        _same_length(x, y, pre_x, pre_y)
        seen = pre_y > 0
        return cls(x, y, np.where(seen, pre_x, 0.0), np.where(seen, pre_y, 0.0), seen)

    @property
    def units(self) -> int:
        return len(self.metric)


@dataclass(frozen=True)
class LiftEstimate:
    """Treatment minus control, absolute and relative, with a fixed-horizon z-test.

    Attributes:
        control, treatment: the arms' (adjusted) means or ratios.
        lift_abs: ``treatment - control``; ``se`` its standard error.
        lift_rel: ``treatment / control - 1``; ``rel_se`` its delta-method standard error.
        ci_low, ci_high: CI of ``lift_abs``; rel_ci_low, rel_ci_high: CI of ``lift_rel``
            (log scale; NaN when ``treatment / control <= 0``).
        z, pvalue: ``lift_abs / se`` and its two-sided p-value.
    """

    control: float
    treatment: float
    lift_abs: float
    se: float
    lift_rel: float
    rel_se: float
    ci_low: float
    ci_high: float
    rel_ci_low: float
    rel_ci_high: float
    z: float
    pvalue: float

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class CupedResult:
    """Adjusted and unadjusted lift of one metric, and what the adjustment achieved.

    Attributes:
        adjusted: the CUPED estimate (feed ``adjusted.lift_abs``, ``adjusted.se`` and
            ``units`` to a sequential test).
        unadjusted: the plain delta-method estimate on the same units.
        theta: coefficient of the pre-period covariate (pooled over both arms).
        theta_missing: coefficient of the no-pre-period indicator (0 when not used).
        variance_reduction_pct: ``100 (1 - se_adjusted**2 / se_unadjusted**2)``, percent.
        control_units, treatment_units: units analysed per arm (all kept).
        units_without_pre: units of both arms without pre-period data.
        alpha: 1 - confidence level of the CIs.
    """

    adjusted: LiftEstimate
    unadjusted: LiftEstimate
    theta: float
    theta_missing: float
    variance_reduction_pct: float
    control_units: int
    treatment_units: int
    units_without_pre: int
    alpha: float

    @property
    def units(self) -> int:
        return self.control_units + self.treatment_units

    def to_dict(self) -> dict[str, object]:
        return {
            "adjusted": self.adjusted.to_dict(),
            "unadjusted": self.unadjusted.to_dict(),
            "theta": self.theta,
            "theta_missing": self.theta_missing,
            "variance_reduction_pct": self.variance_reduction_pct,
            "control_units": self.control_units,
            "treatment_units": self.treatment_units,
            "units_without_pre": self.units_without_pre,
            "alpha": self.alpha,
        }


def cuped(
    control: CupedArm, treatment: CupedArm, alpha: float = 0.05, missing_indicator: bool = True
) -> CupedResult:
    """CUPED-adjusted lift of treatment over control (Deng et al. 2013; 2018 for ratios).

    Args:
        control: the control arm's per-unit arrays.
        treatment: the treatment arm's, of the same kind (mean or ratio).
        alpha: 1 - confidence level.
        missing_indicator: add the no-pre-period indicator as a covariate when some units lack
            pre-period data (without it, they simply have covariate 0).

    Raises:
        ValueError: fewer than two units in an arm, arms of different kinds, or a metric whose
            counts sum to zero in an arm.
    """
    if control.units < 2 or treatment.units < 2:
        raise ValueError("CUPED needs at least two units in each arm")
    if (control.count is None) != (treatment.count is None) or (control.pre_count is None) != (
        treatment.pre_count is None
    ):
        raise ValueError("both arms must be of one kind (mean or ratio, same covariate kind)")
    arms = (control, treatment)
    pooled = _pool(control, treatment)
    candidates = [_pre_period, _no_pre_period] if missing_indicator else [_pre_period]
    # A covariate undefined in an arm (no pre-period rows at all) cannot adjust anything; one
    # without variation gets theta = 0 below.
    usable = [c for c in candidates if all(_positive_total(c(a)[1]) for a in (*arms, pooled))]
    pooled_lin = [_linearize(pooled.metric, pooled.count)] + [
        _linearize(*c(pooled)) for c in usable
    ]
    theta = _theta(np.vstack([values for _, values in pooled_lin]))
    plain, adjusted = [], []
    for arm in arms:
        ratio, values = _linearize(arm.metric, arm.count)
        adjusted_ratio, adjusted_values = ratio, values.copy()
        for k, covariate in enumerate(usable):
            cov_ratio, cov_values = _linearize(*covariate(arm))
            adjusted_ratio -= float(theta[k]) * (cov_ratio - pooled_lin[k + 1][0])
            adjusted_values -= theta[k] * cov_values
        plain.append((ratio, _var(values), arm.units))
        adjusted.append((adjusted_ratio, _var(adjusted_values), arm.units))
    unadjusted_lift = _z_test(*plain[0], *plain[1], alpha)
    adjusted_lift = _z_test(*adjusted[0], *adjusted[1], alpha)
    coefficient = {c: float(t) for c, t in zip(usable, theta, strict=True)}
    reduction = 0.0
    if unadjusted_lift.se > 0:
        reduction = 100.0 * (1.0 - (adjusted_lift.se / unadjusted_lift.se) ** 2)
    return CupedResult(
        adjusted=adjusted_lift,
        unadjusted=unadjusted_lift,
        theta=coefficient.get(_pre_period, 0.0),
        theta_missing=coefficient.get(_no_pre_period, 0.0),
        variance_reduction_pct=reduction,
        control_units=control.units,
        treatment_units=treatment.units,
        units_without_pre=int((~control.has_pre).sum() + (~treatment.has_pre).sum()),
        alpha=alpha,
    )


def _vector(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array")
    return array


def _same_length(*arrays: NDArray[np.generic]) -> None:
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("the per-unit arrays of an arm must have one length")


def _pre_period(arm: CupedArm) -> tuple[FloatArray, FloatArray | None]:
    """The pre-period covariate: numerators and denominators (None: a per-unit value)."""
    return arm.pre_metric, arm.pre_count


def _no_pre_period(arm: CupedArm) -> tuple[FloatArray, FloatArray | None]:
    """The missing-data indicator: 1 for a unit without pre-period data."""
    return (~arm.has_pre).astype(np.float64), None


def _pool(control: CupedArm, treatment: CupedArm) -> CupedArm:
    def join(a: FloatArray | None, b: FloatArray | None) -> FloatArray | None:
        return None if a is None or b is None else np.concatenate([a, b])

    return CupedArm(
        np.concatenate([control.metric, treatment.metric]),
        join(control.count, treatment.count),
        np.concatenate([control.pre_metric, treatment.pre_metric]),
        join(control.pre_count, treatment.pre_count),
        np.concatenate([control.has_pre, treatment.has_pre]),
    )


def _positive_total(counts: FloatArray | None) -> bool:
    return counts is None or float(counts.sum()) > 0


def _linearize(numerators: FloatArray, denominators: FloatArray | None) -> tuple[float, FloatArray]:
    """``mean(x) / mean(y)`` and the per-unit delta-method linearization ``(x - R y) / mean(y)``.

    The sample (co)variances of linearizations are the delta-method (co)variances of the ratios
    (Deng et al. 2018, eq. 3); with ``y = 1`` they are the plain ones of ``x``.
    """
    if denominators is None:
        mean = float(numerators.mean())
        return mean, numerators - mean
    mean_y = float(denominators.mean())
    if mean_y <= 0:
        raise ValueError("the metric's counts must sum to a positive number in each arm")
    ratio = float(numerators.mean()) / mean_y
    return ratio, (numerators - ratio * denominators) / mean_y


def _theta(linearized: FloatArray) -> FloatArray:
    """Regression coefficients of row 0 on rows 1.. (pooled sample covariances).

    Covariates without variance get 0 (as tea-tasting's ``theta = 0`` when ``Var(X) = 0``);
    collinear ones the minimum-norm solution, which adjusts by the same fitted values.
    """
    k = linearized.shape[0] - 1
    theta = np.zeros(k)
    if k == 0:
        return theta
    cov = np.atleast_2d(np.cov(linearized, ddof=1))
    varying = np.flatnonzero(np.diag(cov)[1:] > 0) + 1
    if len(varying) == 1:
        theta[varying[0] - 1] = cov[varying[0], 0] / cov[varying[0], varying[0]]
    elif len(varying) > 1:
        s_cc = cov[np.ix_(varying, varying)]
        theta[varying - 1] = np.linalg.lstsq(s_cc, cov[varying, 0], rcond=None)[0]
    return theta


def _var(values: FloatArray) -> float:
    return float(values.var(ddof=1))


def _z_test(
    control: float,
    var_control: float,
    n_control: int,
    treatment: float,
    var_treatment: float,
    n_treatment: int,
    alpha: float,
) -> LiftEstimate:
    """Two-sided z-test of ``treatment - control`` from per-unit variances (ddof=1)."""
    # scipy.special's ufuncs are what scipy.stats.norm evaluates (same digits), without the
    # import time of scipy.stats.
    from scipy import special

    z_crit = float(special.ndtri(1.0 - alpha / 2.0))
    diff = treatment - control
    se = math.sqrt(var_control / n_control + var_treatment / n_treatment)
    if se > 0:
        z = diff / se
        pvalue = float(2.0 * special.ndtr(-abs(z)))
    else:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        pvalue = 1.0 if diff == 0 else 0.0
    nan = float("nan")
    rel = rel_se = rel_low = rel_high = nan
    if control != 0:
        ratio = treatment / control
        rel = ratio - 1.0
        # Delta method for T / C: Var(T) / C**2 + T**2 Var(C) / C**4.
        rel_se = math.sqrt(
            var_treatment / n_treatment / control**2
            + treatment**2 * var_control / n_control / control**4
        )
        if ratio > 0:
            # Normal on the log scale: se(log T/C) = se(T/C) / (T/C).
            half = z_crit * rel_se / ratio
            rel_low = ratio * math.exp(-half) - 1.0
            rel_high = ratio * math.exp(half) - 1.0
    return LiftEstimate(
        control=control,
        treatment=treatment,
        lift_abs=diff,
        se=se,
        lift_rel=rel,
        rel_se=rel_se,
        ci_low=diff - z_crit * se,
        ci_high=diff + z_crit * se,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        z=z,
        pvalue=pvalue,
    )
