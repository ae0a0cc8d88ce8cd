"""Power solvers of `sample-size`, pinned against statsmodels, scipy and published tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from abtool.reports.sample_size import SampleSizeOptions, sample_size_report
from abtool.stats import power as pw

ALT = {"two": "two-sided", "one": "larger"}


def _plan(**kwargs: object) -> dict:
    return sample_size_report(SampleSizeOptions(**kwargs)).to_dict()["stats"]  # type: ignore[arg-type]


# --- sample size against statsmodels -------------------------------------------------------

PROPORTION_CASES = [
    # baseline, mde, alpha, power, ratio, variants, sided
    (0.12, 0.01, 0.05, 0.8, 1.0, 1, "two"),
    (0.12, -0.01, 0.05, 0.8, 1.0, 1, "two"),
    (0.03, 0.003, 0.05, 0.9, 0.05 / 0.95, 1, "two"),
    (0.5, 0.02, 0.01, 0.8, 2.0, 1, "one"),
    (0.2, 0.01, 0.05, 0.8, 1.0, 4, "two"),
    (0.7, 0.05, 0.1, 0.95, 0.25, 3, "one"),
]


@pytest.mark.parametrize("method", ["cohen-h", "t-approx"])
@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power", "ratio", "variants", "sided"), PROPORTION_CASES
)
def test_proportion_n_matches_statsmodels(
    method: str,
    baseline: float,
    mde: float,
    alpha: float,
    power: float,
    ratio: float,
    variants: int,
    sided: str,
) -> None:
    got = _plan(
        baseline=baseline,
        mde=mde,
        alpha=alpha,
        power=power,
        ratio=ratio,
        variants=variants,
        sided=sided,
        method=method,
    )
    if method == "cohen-h":
        effect = abs(proportion_effectsize(baseline + mde, baseline))
        solver = NormalIndPower()
    else:
        effect = abs(mde) / math.sqrt(baseline * (1 - baseline))
        solver = TTestIndPower()
    expected = solver.solve_power(
        effect_size=effect,
        alpha=alpha / variants,
        power=power,
        ratio=ratio,
        alternative=ALT[sided],
    )
    assert got["n_per_group_exact"] == pytest.approx(expected, rel=1e-8, abs=1e-5)
    assert got["n_control"] == math.ceil(expected)
    assert got["n_treatment"] == math.ceil(expected * ratio)
    assert got["n_total"] == got["n_control"] + variants * got["n_treatment"]
    assert got["alpha_adjusted"] == pytest.approx(alpha / variants)
    assert abs(got["effect_size"]) == pytest.approx(effect, rel=1e-12)
    # The rounded-up groups reach the power, as statsmodels computes it.
    achieved = solver.power(
        effect_size=effect,
        nobs1=got["n_control"],
        alpha=alpha / variants,
        ratio=ratio,
        alternative=ALT[sided],
    )
    assert achieved >= power - 1e-9
    # power_at_n is the power of the rounded groups themselves (control, treatment).
    rounded = solver.power(
        effect_size=effect,
        nobs1=got["n_control"],
        alpha=alpha / variants,
        ratio=got["n_treatment"] / got["n_control"],
        alternative=ALT[sided],
    )
    assert got["power_at_n"] == pytest.approx(rounded, abs=1e-10)
    assert got["power_at_n"] >= power


@pytest.mark.parametrize(
    ("sd", "mde", "alpha", "power", "ratio", "variants", "sided"),
    [
        (30.0, 1.0, 0.05, 0.8, 1.0, 1, "two"),
        (2.5, 0.4, 0.05, 0.9, 0.1, 1, "two"),
        (1.0, 0.05, 0.01, 0.8, 1.0, 5, "one"),
        (1.0, 1.5, 0.05, 0.8, 3.0, 2, "two"),  # a large effect: small, t-specific n
    ],
)
def test_continuous_n_matches_statsmodels(
    sd: float, mde: float, alpha: float, power: float, ratio: float, variants: int, sided: str
) -> None:
    got = _plan(
        baseline=10.0,
        sd=sd,
        mde=mde,
        alpha=alpha,
        power=power,
        ratio=ratio,
        variants=variants,
        sided=sided,
    )
    expected = TTestIndPower().solve_power(
        effect_size=mde / sd,
        alpha=alpha / variants,
        power=power,
        ratio=ratio,
        alternative=ALT[sided],
    )
    assert got["method"] == "t-test"
    assert got["n_per_group_exact"] == pytest.approx(expected, rel=1e-8, abs=1e-5)
    assert got["n_control"] == math.ceil(expected)


def test_issue_reference_values() -> None:
    # The numbers the issue states: Cohen's h 17,164 (statsmodels 17163.03), t-approx 16,578.
    h = _plan(baseline=0.12, mde=0.01)
    assert h["n_per_group"] == 17_164
    assert h["n_per_group_exact"] == pytest.approx(17163.03, abs=0.005)
    assert _plan(baseline=0.12, mde=0.01, method="t-approx")["n_per_group"] == 16_578


def test_relative_mde_is_a_fraction_of_the_baseline() -> None:
    assert _plan(baseline=0.12, mde_rel=0.1)["n_per_group_exact"] == pytest.approx(
        _plan(baseline=0.12, mde=0.012)["n_per_group_exact"], rel=1e-12
    )


# --- published tables ----------------------------------------------------------------------


@pytest.mark.parametrize(("d", "n"), [(0.5, 64), (0.8, 26)])
def test_cohen_1992_table_2_mean_difference(d: float, n: int) -> None:
    # Cohen, J. (1992). A power primer. Psychological Bulletin 112(1), 155-159, Table 2,
    # test 1 (difference between independent means), alpha .05 two-sided, power .80:
    # medium d = .5 -> 64 per group, large d = .8 -> 26 per group.
    assert _plan(baseline=0.0, sd=1.0, mde=d)["n_per_group"] == n


@pytest.mark.parametrize(("h", "n"), [(0.5, 63), (0.8, 25)])
def test_cohen_1992_table_2_difference_between_proportions(h: float, n: int) -> None:
    # Cohen (1992), Table 2, test 5 (difference between independent proportions, effect size
    # h), alpha .05 two-sided, power .80: medium h = .5 -> 63, large h = .8 -> 25 per group.
    baseline = 0.3
    treated = math.sin(math.asin(math.sqrt(baseline)) + h / 2) ** 2
    got = _plan(baseline=baseline, mde=treated - baseline)
    assert got["effect_size"] == pytest.approx(h, rel=1e-12)
    assert got["n_per_group"] == n


def test_cohen_1992_small_effect_within_rounding_of_the_table() -> None:
    # Table 2 gives 393 for d = .2 from Cohen's approximation n = n_.10 / (100 d^2) + 1; the
    # exact noncentral t (statsmodels: 393.4) rounds up to 394.
    got = _plan(baseline=0.0, sd=1.0, mde=0.2)["n_per_group"]
    assert got == 394
    assert abs(got - 393) <= 1


# --- MDE and power against statsmodels -----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "solver", "ratio", "alpha", "alt"),
    [
        ({"baseline": 0.1, "n": 5_000}, NormalIndPower(), 1.0, 0.05, "two-sided"),
        (
            {"baseline": 0.1, "n": 5_000, "ratio": 0.25, "variants": 2},
            NormalIndPower(),
            0.25,
            0.025,
            "two-sided",
        ),
        (
            {"baseline": 0.4, "n": 900, "sided": "one", "method": "t-approx"},
            TTestIndPower(),
            1.0,
            0.05,
            "larger",
        ),
        ({"baseline": 3.0, "sd": 2.0, "n": 40}, TTestIndPower(), 1.0, 0.05, "two-sided"),
        (
            {"baseline": 3.0, "sd": 2.0, "n": 12, "ratio": 3.0, "variants": 3},
            TTestIndPower(),
            3.0,
            0.05 / 3,
            "two-sided",
        ),
    ],
)
def test_mde_matches_statsmodels(
    kwargs: dict, solver: object, ratio: float, alpha: float, alt: str
) -> None:
    got = _plan(**kwargs)
    assert got["solve_for"] == "mde"
    effect = got["effect_size"]
    expected = solver.solve_power(  # type: ignore[attr-defined]
        effect_size=None, nobs1=kwargs["n"], alpha=alpha, power=0.8, ratio=ratio, alternative=alt
    )
    assert effect == pytest.approx(expected, rel=1e-4)  # statsmodels stops at xtol 1e-5
    # ...and statsmodels' own power at abtool's effect is the target to high precision.
    power = solver.power(  # type: ignore[attr-defined]
        effect_size=effect, nobs1=kwargs["n"], alpha=alpha, ratio=ratio, alternative=alt
    )
    assert power == pytest.approx(0.8, abs=1e-9)
    if "sd" not in kwargs and kwargs.get("method") != "t-approx":
        assert got["mde_abs"] == pytest.approx(
            math.sin(math.asin(math.sqrt(kwargs["baseline"])) + effect / 2) ** 2
            - kwargs["baseline"]
        )


@pytest.mark.parametrize(
    ("kwargs", "effect", "solver", "ratio", "alpha", "alt"),
    [
        (
            {"baseline": 0.12, "mde": 0.01, "n": 10_000},
            proportion_effectsize(0.13, 0.12),
            NormalIndPower(),
            1.0,
            0.05,
            "two-sided",
        ),
        (
            {"baseline": 0.12, "mde": 0.01, "n": 10_000, "method": "t-approx", "ratio": 0.5},
            0.01 / math.sqrt(0.12 * 0.88),
            TTestIndPower(),
            0.5,
            0.05,
            "two-sided",
        ),
        (
            {"baseline": 5.0, "sd": 4.0, "mde": 1.0, "n": 50, "variants": 2, "sided": "one"},
            0.25,
            TTestIndPower(),
            1.0,
            0.025,
            "larger",
        ),
    ],
)
def test_power_matches_statsmodels(
    kwargs: dict, effect: float, solver: object, ratio: float, alpha: float, alt: str
) -> None:
    got = _plan(**kwargs)
    assert got["solve_for"] == "power"
    expected = solver.power(  # type: ignore[attr-defined]
        effect_size=abs(effect), nobs1=kwargs["n"], alpha=alpha, ratio=ratio, alternative=alt
    )
    assert got["power"] == pytest.approx(expected, abs=1e-10)


def test_n_total_splits_units_by_the_allocation() -> None:
    got = _plan(baseline=0.1, n_total=21_000, ratio=0.05 / 0.95)
    nobs1 = 21_000 / (1 + 0.05 / 0.95)
    assert got["n_per_group_exact"] == pytest.approx(nobs1)
    expected = NormalIndPower().solve_power(
        effect_size=None, nobs1=nobs1, alpha=0.05, power=0.8, ratio=0.05 / 0.95
    )
    assert got["effect_size"] == pytest.approx(expected, rel=1e-4)


# --- round trip ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    baseline=st.floats(0.01, 0.9),
    mde_fraction=st.floats(0.02, 0.5),
    ratio=st.sampled_from([0.05 / 0.95, 0.25, 1.0, 3.0]),
    variants=st.integers(1, 4),
    sided=st.sampled_from(["two", "one"]),
    method=st.sampled_from(["cohen-h", "t-approx"]),
    power=st.floats(0.5, 0.99),
)
def test_mde_at_the_solved_n_gives_back_the_mde(
    baseline: float,
    mde_fraction: float,
    ratio: float,
    variants: int,
    sided: str,
    method: str,
    power: float,
) -> None:
    mde = (1 - baseline) * mde_fraction
    common = dict(
        baseline=baseline, ratio=ratio, variants=variants, sided=sided, method=method, power=power
    )
    plan = sample_size_report(SampleSizeOptions(mde=mde, **common))  # type: ignore[arg-type]
    nobs1 = plan.stats.n_per_group_exact
    if nobs1 <= pw.MIN_NOBS1:
        return  # clamped at the minimum group size: nothing to invert
    plan_method = "normal" if method == "cohen-h" else "t"
    fn = pw.normal_power if plan_method == "normal" else pw.ttest_power
    effect = pw.solve_effect_size(
        fn,
        nobs1,
        plan.stats.alpha_adjusted,
        power,
        ratio,
        "two-sided" if sided == "two" else "larger",
    )
    assert effect == pytest.approx(abs(plan.stats.effect_size), rel=1e-7)
    # Through the report, at the rounded-up n: the MDE is at most the requested one.
    back = sample_size_report(
        SampleSizeOptions(n=plan.stats.n_control, **common)  # type: ignore[arg-type]
    ).stats
    assert back.mde_abs <= mde * (1 + 1e-9)
    # The MDE scales like n^(-1/2): rounding n up by under one unit moves it < 1/(2n) (for
    # tiny groups the t critical value moves too).
    if plan.stats.n_control >= 30:
        assert back.mde_abs == pytest.approx(mde, rel=1 / plan.stats.n_control)


@settings(max_examples=40, deadline=None)
@given(d=st.floats(0.02, 2.0), ratio=st.floats(0.05, 4.0), power=st.floats(0.5, 0.99))
def test_continuous_round_trip(d: float, ratio: float, power: float) -> None:
    plan = _plan(baseline=1.0, sd=2.0, mde=2.0 * d, ratio=ratio, power=power)
    if plan["n_per_group_exact"] <= pw.MIN_NOBS1:
        return
    effect = pw.solve_effect_size(
        pw.ttest_power, plan["n_per_group_exact"], 0.05, power, ratio, "two-sided"
    )
    assert effect == pytest.approx(d, rel=1e-7)


# --- interleaving: exact sign test -----------------------------------------------------------


def _scipy_sign_test_power(n: np.ndarray, p: float, alpha: float) -> np.ndarray:
    """Exact power of scipy's two-sided binomtest(k, n, 0.5) rejecting at p-value <= alpha.

    The rejection region is {k <= c} and {k >= n - c}; c is read off scipy's binomial
    quantile and confirmed at its edge with binomtest itself (two calls per n).
    """
    out = []
    for m in (int(v) for v in n):
        c = int(stats.binom.ppf(alpha / 2, m, 0.5))
        while c >= 0 and stats.binomtest(c, m, 0.5).pvalue > alpha:
            c -= 1
        while c + 1 < m / 2 and stats.binomtest(c + 1, m, 0.5).pvalue <= alpha:
            c += 1
        if c < 0:
            out.append(0.0)
            continue
        assert stats.binomtest(m - c, m, 0.5).pvalue <= alpha
        out.append(stats.binom.cdf(c, m, p) + stats.binom.sf(m - c - 1, m, p))
    return np.array(out)


def test_scipy_reference_region_agrees_with_enumerating_every_outcome() -> None:
    for m in [1, 6, 17, 60]:
        k = np.arange(m + 1)
        rejected = [stats.binomtest(int(j), m, 0.5).pvalue <= 0.05 for j in k]
        enumerated = stats.binom.pmf(k[rejected], m, 0.6).sum()
        assert _scipy_sign_test_power(np.array([m]), 0.6, 0.05)[0] == pytest.approx(enumerated)


@pytest.mark.parametrize("n", [5, 6, 17, 40, 101, 250])
def test_sign_test_power_matches_scipy_binomtest(n: int) -> None:
    for p in [0.55, 0.7, 0.3]:
        expected = _scipy_sign_test_power(np.array([n]), p, 0.05)[0]
        assert pw.sign_test_power(p, n, 0.05) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("win_rate", "alpha"), [(0.7, 0.05), (0.6, 0.05), (0.62, 0.01)])
def test_sign_test_sessions_against_scipy(win_rate: float, alpha: float) -> None:
    size = pw.sign_test_sessions(win_rate, alpha, 0.8)
    ns = np.arange(1, size.checked_to + 1)
    powers = _scipy_sign_test_power(ns, win_rate, alpha)
    reached = powers >= 0.8
    assert size.first_sessions == ns[np.argmax(reached)]
    # From `sessions` on the power stays at or above the target; just before it, it does not.
    assert reached[size.sessions - 1 :].all()
    assert not reached[size.sessions - 2]
    assert size.power == pytest.approx(powers[size.sessions - 1], abs=1e-12)


def test_sign_test_normal_approximation_and_saw_tooth() -> None:
    size = pw.sign_test_sessions(0.55, 0.05, 0.8)
    z = stats.norm.isf(0.025) * 0.5 + stats.norm.isf(0.2) * math.sqrt(0.55 * 0.45)
    assert size.normal_sessions == pytest.approx((z / 0.05) ** 2, rel=1e-12)
    # Exact power at 0.55 first reaches 0.8 at 786 and stays above from 820 on.
    assert (size.first_sessions, size.sessions) == (786, 820)
    assert pw.sign_test_sessions(0.45, 0.05, 0.8).sessions == 820  # symmetric in p


def test_sign_test_detectable_win_rate_inverts_the_power() -> None:
    p = pw.sign_test_detectable_win_rate(820, 0.05, 0.8)
    assert p is not None
    expected = _scipy_sign_test_power(np.array([820]), p, 0.05)[0]
    assert expected == pytest.approx(0.8, abs=1e-9)
    assert 0.54 < p <= 0.55
    assert pw.sign_test_detectable_win_rate(5, 0.05, 0.8) is None  # 5 sessions never reject
