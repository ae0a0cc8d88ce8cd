"""Margins, harm, the HOLD gap, novelty and the interleaving preference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from abtool.stats.inference import ConfidenceSequence, Estimate, FixedHorizon
from abtool.stats.inference.detectable import (
    detectable_effect,
    detection_gap,
    units_for_effect,
)
from abtool.stats.inference.margins import (
    guardrail_power,
    harm,
    harm_alpha,
    margin_threshold,
    metric_tests,
)
from abtool.stats.inference.novelty import novelty_check, pooled_effect
from abtool.stats.inference.preference import preference_estimate, preference_test
from abtool.stats.interleaving import delta_ab


def test_margin_threshold_signs() -> None:
    assert margin_threshold(0.02, "increase", 0.1) == pytest.approx(-0.002)
    assert margin_threshold(0.02, "decrease", 0.1) == pytest.approx(0.002)
    assert margin_threshold(0.02, "increase", -3.0) == pytest.approx(-0.06)
    assert margin_threshold(0.0, "increase", None) == 0.0
    with pytest.raises(ValueError, match="baseline"):
        margin_threshold(0.01, "increase", None)
    with pytest.raises(ValueError, match="direction"):
        margin_threshold(0.01, "up", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="margin"):
        margin_threshold(-0.01, "increase", 1.0)


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_metric_tests_read_the_direction(direction: str) -> None:
    sign = 1.0 if direction == "increase" else -1.0
    cs = ConfidenceSequence(0.05)
    good = metric_tests(Estimate(sign * 0.05, 0.01, 20_000), cs, direction)  # type: ignore[arg-type]
    bad = metric_tests(Estimate(-sign * 0.05, 0.01, 20_000), cs, direction)  # type: ignore[arg-type]
    assert good.superior.reject and good.non_inferior.reject and not good.harmful.reject
    assert bad.harmful.reject and not bad.superior.reject and not bad.non_inferior.reject
    assert good.to_dict()["direction"] == direction


def test_margin_makes_non_inferiority_easier_and_harm_harder() -> None:
    # A -1% lift (se 0.5%) on a metric whose control mean is 0.1: non-inferior within a 5%
    # margin, not harmful beyond it, but harmful with no margin.
    est = Estimate(-0.001, 0.0005, 50_000)
    fixed = FixedHorizon(0.05)
    within = metric_tests(est, fixed, "increase", margin=0.05, baseline=0.1)
    assert within.threshold == pytest.approx(-0.005)
    assert within.non_inferior.reject and not within.harmful.reject
    assert harm(est, fixed, "increase").reject


def test_harm_alpha_and_guardrail_power() -> None:
    assert harm_alpha(0.05, 4) == pytest.approx(0.0125)
    # Spotify confidence add_adjusted_power: 1 - (1 - power) / (G + 1) with a success metric
    assert guardrail_power(0.8, 2) == pytest.approx(1 - 0.2 / 3)
    assert guardrail_power(0.8, 2, success_metrics=0) == pytest.approx(0.9)
    assert guardrail_power(0.8, 0) == pytest.approx(0.8)


def test_harm_split_keeps_the_false_rollback_rate() -> None:
    # K independent null metrics: ROLLBACK if any harm test rejects. At alpha / K the rate
    # stays <= alpha; at the full alpha it is about 1 - (1 - alpha)^K.
    rng = np.random.default_rng(5)
    k, reps = 4, 20_000
    z = rng.standard_normal((reps, k))
    fixed = FixedHorizon(0.05)
    split = fixed.with_alpha(harm_alpha(0.05, k))
    p_full = fixed.pvalue(z, 1.0, 10_000, "less")
    p_split = split.pvalue(z, 1.0, 10_000, "less")
    full = (p_full <= 0.05).any(axis=1).mean()
    bonferroni = (p_split <= 0.05 / k).any(axis=1).mean()
    assert full == pytest.approx(1 - 0.95**k, abs=0.01)
    assert bonferroni <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)


def test_fixed_mde_and_units_match_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower

    # Two arms of n1 units with per-arm sd 1: se of the difference sqrt(2 / n1); the
    # standardized effect is the effect itself. statsmodels' power at our answers is 0.8.
    power = NormalIndPower().power
    n1 = 2000
    se = math.sqrt(2.0 / n1)
    fixed = FixedHorizon(0.05)
    mde = detectable_effect(se, 2 * n1, fixed, power=0.8)
    assert power(mde, n1, 0.05, alternative="larger") == pytest.approx(0.8, abs=1e-9)
    total = units_for_effect(0.05, se, 2 * n1, fixed, power=0.8)
    assert power(0.05, total / 2, 0.05, alternative="larger") == pytest.approx(0.8, abs=1e-7)


def test_sequential_needs_more_units_and_round_trips() -> None:
    se, units = 0.004, 3000
    cs, fixed = ConfidenceSequence(0.05, 5000), FixedHorizon(0.05)
    for alternative in ("greater", "less"):
        mde_cs = detectable_effect(se, units, cs, alternative=alternative)  # type: ignore[arg-type]
        mde_fixed = detectable_effect(se, units, fixed, alternative=alternative)  # type: ignore[arg-type]
        assert mde_cs > mde_fixed
    target = 0.006
    n_cs = units_for_effect(target, se, units, cs)
    n_fixed = units_for_effect(target, se, units, fixed)
    assert n_cs > n_fixed > units
    # at the answer, the effect is exactly detectable (se shrinks as 1 / sqrt(units))
    se_then = se * math.sqrt(units / n_cs)
    assert detectable_effect(se_then, n_cs, cs) == pytest.approx(target, rel=1e-6)
    assert units_for_effect(1.0, se, units, cs) == units  # already detectable


def test_detection_gap_reports_units_and_days() -> None:
    cs = ConfidenceSequence(0.05, 5000)
    gap = detection_gap(0.006, 0.004, 3000, cs, units_per_day=500)
    assert gap.method == "sequential"
    assert gap.units_needed is not None and gap.more_units is not None
    assert gap.more_units == gap.units_needed - 3000 > 0
    assert gap.more_days == pytest.approx(gap.more_units / 500)
    assert gap.mde == pytest.approx(detectable_effect(0.004, 3000, cs))
    assert detection_gap(0.006, 0.004, 3000, cs).more_days is None
    assert gap.to_dict()["units_needed"] == gap.units_needed


def test_pooled_effect_matches_statsmodels_fixed_effect() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    effects = np.array([0.10, 0.07, 0.03, 0.02, 0.025])
    ses = np.array([0.02, 0.03, 0.015, 0.02, 0.025])
    pooled = pooled_effect([Estimate(e, s, 100) for e, s in zip(effects, ses, strict=True)])
    peer = combine_effects(effects, ses**2, use_t=False)
    assert pooled.effect == pytest.approx(peer.mean_effect_fe, rel=1e-12)
    assert pooled.se == pytest.approx(peer.sd_eff_w_fe, rel=1e-12)
    assert pooled.units == 500 and pooled.days == 5


def test_novelty_check_flags_an_early_bump_only() -> None:
    fixed = FixedHorizon(0.05)
    flat = [Estimate(0.02 + 0.001 * (-1) ** d, 0.004, 1000) for d in range(10)]
    novel = [Estimate(0.08, 0.004, 1000)] * 2 + [Estimate(0.02, 0.004, 1000)] * 8
    assert not novelty_check(flat, fixed).warning
    check = novelty_check(novel, fixed)
    assert check.warning
    assert check.early is not None and check.late is not None and check.difference is not None
    # z of the difference of the two pooled means, by hand
    z = (0.08 - 0.02) / math.sqrt(0.004**2 / 2 + 0.004**2 / 8)
    from scipy.stats import norm

    assert check.difference.pvalue == pytest.approx(2 * norm.sf(z), rel=1e-9)
    assert len(check.daily) == 10 and check.daily[0].low == pytest.approx(
        0.08 - 1.96 * 0.004, abs=1e-4
    )
    assert check.to_dict()["warning"] is True
    # too few days: no test
    short = novelty_check(novel[:2], fixed)
    assert short.difference is None and not short.warning


def test_preference_estimate_matches_a_mean_of_session_scores() -> None:
    from statsmodels.stats.weightstats import DescrStatsW

    wins_a, wins_b, ties = 754, 81, 71
    scores = np.repeat([-1.0, 1.0, 0.0], [wins_a, wins_b, ties])
    stats = DescrStatsW(scores)
    est = preference_estimate(wins_a, wins_b, ties)
    assert est.effect == pytest.approx(stats.mean / 2, rel=1e-12)
    assert est.effect == pytest.approx(float(delta_ab(wins_b, ties, 906)), rel=1e-12)
    assert est.se == pytest.approx(stats.std_mean / 2, rel=1e-12)  # ddof 1
    assert est.units == 906


def test_754_to_81_is_a_sequential_no_go() -> None:
    result = preference_test(754, 81, 71, ConfidenceSequence(0.05))
    assert result.a_preferred and not result.b_preferred
    assert result.test.method == "sequential"
    assert result.test.high < 0 and result.test.pvalue < 1e-50
    mirrored = preference_test(81, 754, 71, ConfidenceSequence(0.05))
    assert mirrored.b_preferred and not mirrored.a_preferred


def test_preference_edge_cases() -> None:
    cs = ConfidenceSequence(0.05)
    assert not preference_test(0, 0, 50, cs).a_preferred  # all ties: nothing to test
    assert not preference_test(10, 9, 3, cs).a_preferred
    with pytest.raises(ValueError, match="two sessions"):
        preference_test(1, 0, 0, cs)
    with pytest.raises(ValueError, match="wins_a"):
        preference_test(-1, 3, 0, cs)
