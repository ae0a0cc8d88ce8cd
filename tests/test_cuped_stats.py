"""CUPED pinned against tea-tasting (computed here), statsmodels OLS/z-tests and delta method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tea_tasting as tt  # the dev extra's peer implementation
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
from statsmodels.tools import add_constant

from abtool.stats.cuped import CupedArm, CupedResult, LiftEstimate, cuped
from abtool.stats.ratio import ratio_estimate, ratio_lift

REL = 1e-9


def users(seed: int, n: int = 4000, *, new_share: float = 0.15, lift: float = 0.05):
    """Per-user experiment and pre-period sums of clicks and requests, pre correlated with exp.

    Users have a latent click propensity shared by both periods; ``new_share`` of them have no
    pre-period rows. Unequal arms (40% treatment) exercise the pooling conventions.
    """
    rng = np.random.default_rng(seed)
    treated = rng.uniform(size=n) < 0.4
    u = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-2.0 + u)))
    requests = 1 + rng.poisson(4, n)
    clicks = rng.binomial(requests, np.minimum(p * np.where(treated, 1 + lift, 1.0), 1.0))
    pre_requests = np.where(rng.uniform(size=n) < new_share, 0, 1 + rng.poisson(6, n))
    pre_clicks = rng.binomial(pre_requests, p)
    return pd.DataFrame(
        {
            "variant": treated.astype(int),
            "x": clicks.astype(float),
            "y": requests.astype(float),
            "xc": pre_clicks.astype(float),
            "yc": pre_requests.astype(float),
            "has_pre": pre_requests > 0,
        }
    )


def arms(frame, kind: str) -> tuple[CupedArm, CupedArm]:
    out = []
    for variant in (0, 1):
        d = frame[frame.variant == variant]
        if kind == "mean":
            out.append(CupedArm.mean(d.x, d.xc))
        else:
            out.append(CupedArm.ratio(d.x, d.y, d.xc, d.yc))
    return out[0], out[1]


def tea_tasting(frame, metric: str, *columns: str, confidence_level: float = 0.95) -> object:
    """tea-tasting's result for ``tt.<metric>(*columns)`` with a z-test (use_t=False)."""
    # Metrics read the configuration when built, so they are built inside the context.
    with tt.config_context(use_t=False, confidence_level=confidence_level):
        return tt.Experiment(m=getattr(tt, metric)(*columns)).analyze(frame)["m"]


def assert_equals_tea_tasting(ours: LiftEstimate, theirs) -> None:
    pairs = {
        "control": theirs.control,
        "treatment": theirs.treatment,
        "lift_abs": theirs.effect_size,
        "ci_low": theirs.effect_size_ci_lower,
        "ci_high": theirs.effect_size_ci_upper,
        "lift_rel": theirs.rel_effect_size,
        "rel_ci_low": theirs.rel_effect_size_ci_lower,
        "rel_ci_high": theirs.rel_effect_size_ci_upper,
        "pvalue": theirs.pvalue,
        "z": theirs.statistic,
    }
    for name, expected in pairs.items():
        assert getattr(ours, name) == pytest.approx(expected, rel=REL, abs=0), name
    assert ours.se == pytest.approx(ours.lift_abs / theirs.statistic, rel=REL)


@pytest.mark.parametrize("seed", [1, 2])
def test_mean_metric_equals_tea_tasting_cuped(seed: int):
    frame = users(seed, new_share=0.0)
    result = cuped(*arms(frame, "mean"))
    assert_equals_tea_tasting(result.adjusted, tea_tasting(frame, "Mean", "x", "xc"))
    assert_equals_tea_tasting(result.unadjusted, tea_tasting(frame, "Mean", "x"))
    assert result.theta_missing == 0.0 and result.units_without_pre == 0
    assert result.variance_reduction_pct > 5.0  # the covariate is informative here


@pytest.mark.parametrize("new_share", [0.0, 0.2])
def test_ratio_metric_equals_tea_tasting_cuped(new_share: float):
    # Without the indicator, a unit with no pre-period rows adds 0 to both pre-period sums,
    # exactly as in tea-tasting's RatioOfMeans; with none missing the indicator is not used.
    frame = users(3, new_share=new_share)
    result = cuped(*arms(frame, "ratio"), missing_indicator=False)
    theirs = tea_tasting(frame, "RatioOfMeans", "x", "y", "xc", "yc")
    assert_equals_tea_tasting(result.adjusted, theirs)
    assert_equals_tea_tasting(result.unadjusted, tea_tasting(frame, "RatioOfMeans", "x", "y"))
    if new_share == 0.0:
        default = cuped(*arms(frame, "ratio"))
        assert default.adjusted == result.adjusted and default.theta_missing == 0.0


def test_ratio_metric_with_a_per_unit_covariate_equals_tea_tasting():
    # RatioOfMeans(numer, denom, numer_covariate) with no covariate denominator.
    frame = users(11, new_share=0.0)
    frame["rate"] = frame.xc / frame.yc
    control, treatment = (CupedArm.ratio(d.x, d.y, d.rate) for _, d in frame.groupby("variant"))
    theirs = tea_tasting(frame, "RatioOfMeans", "x", "y", "rate")
    assert_equals_tea_tasting(cuped(control, treatment).adjusted, theirs)


def test_confidence_level_follows_alpha():
    frame = users(4, new_share=0.0)
    result = cuped(*arms(frame, "ratio"), alpha=0.1)
    theirs = tea_tasting(frame, "RatioOfMeans", "x", "y", "xc", "yc", confidence_level=0.9)
    assert_equals_tea_tasting(result.adjusted, theirs)


def test_unadjusted_equals_the_delta_method_ratio_lift():
    frame = users(5)
    control, treatment = arms(frame, "ratio")
    result = cuped(control, treatment)
    assert control.count is not None and treatment.count is not None
    lift = ratio_lift(
        ratio_estimate(control.metric, control.count),
        ratio_estimate(treatment.metric, treatment.count),
    )
    plain = result.unadjusted
    assert (plain.lift_abs, plain.se, plain.pvalue) == pytest.approx(
        (lift.lift_abs, lift.se, lift.pvalue), rel=1e-12
    )
    # The relative lift's delta-method se is the one the plain ratio lift uses too.
    z = (lift.rel_ci_high - lift.rel_ci_low) / 2 / plain.rel_se
    assert z == pytest.approx(1.959963984540054, rel=1e-10)


def test_missing_indicator_equals_ols_and_a_z_test_of_the_adjusted_values():
    # Units without pre-period data have covariate 0 and an indicator: theta is the pooled OLS
    # slope of x on (covariate, indicator), and the adjusted lift is a Welch-type z-test of
    # x - theta . (covariates - pooled means), per unit.
    frame = users(6, new_share=0.25)
    # A per-user rate as the covariate; new users have none.
    frame["rate"] = np.where(frame.has_pre, frame.xc / frame.yc.clip(lower=1), np.nan)
    control, treatment = (
        CupedArm.mean(d.x, d.rate.fillna(0.0), d.has_pre) for _, d in frame.groupby("variant")
    )
    result = cuped(control, treatment)

    covariates = np.column_stack([frame.rate.fillna(0.0), (~frame.has_pre).astype(float)])
    ols = OLS(frame.x.to_numpy(), add_constant(covariates)).fit()
    assert (result.theta, result.theta_missing) == pytest.approx(tuple(ols.params[1:]), rel=1e-9)

    adjusted = frame.x - (covariates - covariates.mean(axis=0)) @ ols.params[1:]
    c, t = (DescrStatsW(adjusted[frame.variant == v].to_numpy()) for v in (0, 1))
    z, p = CompareMeans(t, c).ztest_ind(usevar="unequal")
    low, high = CompareMeans(t, c).zconfint_diff(usevar="unequal")
    fit = result.adjusted
    assert (fit.lift_abs, fit.z, fit.pvalue) == pytest.approx((t.mean - c.mean, z, p), rel=1e-9)
    assert (fit.ci_low, fit.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert (fit.control, fit.treatment) == pytest.approx((c.mean, t.mean), rel=1e-9)

    # Every unit is kept, and the indicator reduces variance beyond covariate 0 alone.
    assert result.units == len(frame) and result.units_without_pre == int((~frame.has_pre).sum())
    zero_only = cuped(control, treatment, missing_indicator=False)
    assert result.variance_reduction_pct > zero_only.variance_reduction_pct
    assert result.unadjusted == zero_only.unadjusted


def test_covariate_values_of_units_without_pre_data_are_ignored():
    frame = users(7, new_share=0.3)
    has = frame.has_pre.to_numpy()
    noise = np.where(has, frame.xc, 1e6)
    a = cuped(*(CupedArm.mean(d.x, d.xc, d.has_pre) for _, d in frame.groupby("variant")))
    frame["noisy"] = noise
    b = cuped(*(CupedArm.mean(d.x, d.noisy, d.has_pre) for _, d in frame.groupby("variant")))
    assert a == b


def test_variance_reduction_is_about_rho_squared():
    # Bivariate normal (x, covariate) with correlation rho: CUPED removes rho**2 of the variance.
    rng = np.random.default_rng(8)
    n, rho = 100_000, 0.6
    pre = rng.normal(size=(2, n))
    x = rho * pre + np.sqrt(1 - rho**2) * rng.normal(size=(2, n))
    result = cuped(CupedArm.mean(x[0], pre[0]), CupedArm.mean(x[1] + 0.01, pre[1]))
    assert result.variance_reduction_pct == pytest.approx(100 * rho**2, abs=1.0)
    assert result.theta == pytest.approx(rho, abs=0.01)
    assert result.adjusted.se < result.unadjusted.se


def test_degenerate_covariates_leave_the_estimate_unadjusted():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 50))
    constant = cuped(CupedArm.mean(x[0], np.ones(50)), CupedArm.mean(x[1], np.ones(50)))
    assert constant.theta == 0.0 and constant.variance_reduction_pct == 0.0
    assert constant.adjusted.lift_abs == pytest.approx(constant.unadjusted.lift_abs, rel=1e-12)
    none = np.zeros(50, bool)
    nobody = cuped(CupedArm.mean(x[0], x[0], none), CupedArm.mean(x[1], x[1], none))
    assert nobody.adjusted.to_dict() == pytest.approx(nobody.unadjusted.to_dict(), nan_ok=True)
    assert nobody.theta == 0.0 and nobody.units_without_pre == 100
    # A ratio covariate undefined in one arm (no pre-period rows there) is not used.
    ones, zeros = np.ones(50), np.zeros(50)
    one_sided = cuped(
        CupedArm.ratio(x[0], ones, x[0], ones), CupedArm.ratio(x[1], ones, x[1], zeros)
    )
    assert one_sided.theta == 0.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two units"):
        cuped(CupedArm.mean([1.0], [1.0]), CupedArm.mean([1.0, 2.0], [1.0, 2.0]))
    with pytest.raises(ValueError, match="one kind"):
        cuped(CupedArm.mean([1, 2], [1, 2]), CupedArm.ratio([1, 2], [1, 1], [1, 2], [1, 1]))
    with pytest.raises(ValueError, match="one length"):
        CupedArm.mean([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="has_pre only"):
        CupedArm.ratio([1, 2], [1, 1], [1, 2], [1, 1], has_pre=[True, True])
    with pytest.raises(ValueError, match="positive"):
        cuped(
            CupedArm.ratio([1, 2], [0, 0], [1, 2], [1, 1]),
            CupedArm.ratio([1, 2], [1, 1], [1, 2], [1, 1]),
        )


def test_to_dict_is_plain_data():
    frame = users(10)
    result = cuped(*arms(frame, "ratio"))
    d = result.to_dict()
    assert isinstance(result, CupedResult)
    assert set(d["adjusted"]) == set(LiftEstimate.__dataclass_fields__)
    assert d["variance_reduction_pct"] == result.variance_reduction_pct
    assert all(type(v) is float for v in d["adjusted"].values())
