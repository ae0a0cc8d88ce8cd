"""CUPED by simulation: A/A rejects at about alpha with units lacking pre-period data kept;
a true lift is detected more often, by the variance reduction the analysis reports."""

from __future__ import annotations

import math

import pytest

from abtool.simulate.cuped_power import CupedScenario, main, simulate_cuped

REPLICATES = 1500
# Three Monte Carlo standard errors of a rejection rate at alpha = 0.05.
TOLERANCE = 3 * math.sqrt(0.05 * 0.95 / REPLICATES)


@pytest.mark.parametrize("metric", ["ratio", "mean"])
def test_aa_rejects_at_alpha_and_keeps_units_without_pre_data(metric):
    scenario = CupedScenario(metric=metric, users=2000, pre_correlation=0.9, pre_coverage=0.7)
    sim = simulate_cuped(scenario, REPLICATES, seed=3)
    assert sim.rejected_cuped == pytest.approx(0.05, abs=TOLERANCE)
    assert sim.rejected_unadjusted == pytest.approx(0.05, abs=TOLERANCE)
    # No bias: the mean adjusted lift is within 4 standard errors of 0.
    assert abs(sim.mean_lift_cuped) < 4 * sim.sd_lift_cuped / math.sqrt(REPLICATES)
    # 30% of the 2,000 units have no pre-period data, and all of them are analysed.
    assert sim.units_without_pre == pytest.approx(600, rel=0.03)
    assert sim.empirical_reduction_pct > 10


def test_aa_at_a_five_percent_canary():
    # 400 treated units among 8,000: the per-arm variances, not a pooled one, keep the level.
    scenario = CupedScenario(users=8000, treatment_share=0.05, pre_correlation=0.9)
    sim = simulate_cuped(scenario, 800, seed=4)
    assert sim.rejected_cuped == pytest.approx(0.05, abs=3 * math.sqrt(0.05 * 0.95 / 800))


def test_true_lift_variance_reduction_and_power_gain():
    scenario = CupedScenario(
        users=4000, requests_per_user=20, pre_correlation=0.9, lift=0.05, pre_coverage=0.9
    )
    sim = simulate_cuped(scenario, 400, seed=5)
    # The reduction each analysis reports is the one that happens across replicates.
    assert sim.variance_reduction_pct > 25
    assert sim.empirical_reduction_pct == pytest.approx(sim.variance_reduction_pct, abs=8)
    # Both estimate the same lift; CUPED detects it more often (same simulated data).
    se_diff = sim.sd_lift_cuped / math.sqrt(sim.replicates)
    assert abs(sim.mean_lift_cuped - sim.mean_lift_unadjusted) < 3 * se_diff
    assert sim.rejected_cuped > sim.rejected_unadjusted + 0.08


def test_entry_point_prints_both_tables(monkeypatch, capsys):
    import abtool.simulate.cuped_power as module

    small = CupedScenario(users=300)
    monkeypatch.setattr(module, "AA_SCENARIOS", (small,))
    monkeypatch.setattr(module, "LIFT_SCENARIOS", (CupedScenario(users=300, lift=0.1),))
    main(["--aa-replicates", "20", "--replicates", "20"])
    out = capsys.readouterr().out
    assert "| ratio | 300 | 50% | 5 | 0.8 | 90% |" in out
    assert "power, CUPED" in out and "rejected, CUPED" in out
