"""The statistics behind shadow-report's new checks, pinned against scipy/statsmodels or a
direct computation: PSI, the segment agreement rule, the spike rules, the KS gap location."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

from abtool.stats import ks
from abtool.stats.grouped import group_rows, grouped_ks_statistic, grouped_quantile
from abtool.stats.segments import SegmentAgreementRule
from abtool.stats.spikes import QuantileSpikeRule, RateSpikeRule, worst_quantile, worst_rate
from abtool.stats.stability import EMPTY_SHARE, psi_counts, psi_sorted, reading

# ---------------------------------------------------------------- population stability index


def direct_psi(reference: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """PSI written out: decile edges of the reference, (lo, hi] bins, sum (a - e) ln(a / e)."""
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    bounds = np.concatenate([[-np.inf], edges, [np.inf]])
    total = 0.0
    for lo, hi in itertools.pairwise(bounds):
        e = max(np.mean((reference > lo) & (reference <= hi)), EMPTY_SHARE)
        a = max(np.mean((actual > lo) & (actual <= hi)), EMPTY_SHARE)
        total += (a - e) * np.log(a / e)
    return total


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 1.0), (0.1, 1.0), (0.3, 1.2), (1.5, 0.5)])
def test_psi_equals_the_direct_computation(shift: float, scale: float) -> None:
    rng = np.random.default_rng(7)
    reference = np.sort(rng.normal(size=20_000))
    actual = np.sort(rng.normal(shift, scale, size=15_000))
    found = psi_sorted(reference, actual)
    assert found.psi == pytest.approx(direct_psi(reference, actual), rel=1e-12)
    # PSI is Jeffreys' J-divergence of the binned shares: KL(a || e) + KL(e || a).
    e, a = np.array(found.expected), np.array(found.actual)
    e, a = np.maximum(e, EMPTY_SHARE), np.maximum(a, EMPTY_SHARE)
    jeffreys = special.rel_entr(a, e).sum() + special.rel_entr(e, a).sum()
    assert found.psi == pytest.approx(jeffreys, rel=1e-12)
    assert sum(found.expected) == pytest.approx(1.0) and sum(found.actual) == pytest.approx(1.0)
    assert len(found.edges) == 9 and found.expected == pytest.approx([0.1] * 10, abs=1e-4)


def test_psi_of_a_normal_location_shift_is_about_its_square() -> None:
    # J-divergence of N(0,1) and N(d,1) is d^2; ten quantile bins keep most of it.
    rng = np.random.default_rng(1)
    reference = np.sort(rng.normal(size=400_000))
    actual = np.sort(rng.normal(0.3, size=400_000))
    assert psi_sorted(reference, actual).psi == pytest.approx(0.09, rel=0.1)


def test_psi_reading_and_disjoint_samples() -> None:
    assert [reading(v) for v in (0.0, 0.0999, 0.1, 0.2499, 0.25, 3.0)] == [
        "no significant shift",
        "no significant shift",
        "moderate shift",
        "moderate shift",
        "major shift",
        "major shift",
    ]
    far = psi_sorted(np.arange(100.0), np.arange(1000.0, 1100.0))
    # Everything of the second sample lands in the last bin; empty shares become 1e-4.
    assert far.psi == pytest.approx(direct_psi(np.arange(100.0), np.arange(1000.0, 1100.0)))
    assert np.isfinite(far.psi) and far.reading == "major shift"


def test_psi_tied_quantiles_merge_bins() -> None:
    reference = np.sort(np.repeat([0.0, 1.0], [80, 20]))
    actual = np.sort(np.repeat([0.0, 1.0], [50, 50]))
    found = psi_sorted(reference, actual)
    # Deciles 0.1..0.8 are all 0 and 0.9 is 1; the 0.8 decile interpolates to 0.2.
    assert found.edges == pytest.approx([0.0, 0.2, 1.0])
    assert found.expected == pytest.approx([0.8, 0.0, 0.2, 0.0])
    assert found.actual == pytest.approx([0.5, 0.0, 0.5, 0.0])
    assert found.psi == pytest.approx(-0.3 * np.log(0.5 / 0.8) + 0.3 * np.log(0.5 / 0.2))


def test_psi_of_labels() -> None:
    found = psi_counts(["a", "b", "c"], [50, 30, 20], [40, 40, 20])
    e, a = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
    assert found.psi == pytest.approx(np.sum((a - e) * np.log(a / e)), rel=1e-12)
    assert found.labels == ["a", "b", "c"] and found.edges == []
    with pytest.raises(ValueError):
        psi_counts(["a"], [0], [1])


# ---------------------------------------------------------------- segment agreement rule

RULE = SegmentAgreementRule(floor=0.85, min_gap=0.05, alpha=0.05)


def test_segment_test_equals_fisher_exact_and_holm() -> None:
    rows = [1_000, 2_500, 400, 60, 3_000]
    agree = [930, 2_300, 330, 50, 2_800]
    total_rows, total_agree = 20_000, 18_500
    found = RULE.evaluate(rows, agree, total_rows, total_agree)
    raw = []
    for n, a, got in zip(rows, agree, found, strict=True):
        table = [[a, n - a], [total_agree - a, total_rows - n - (total_agree - a)]]
        p = stats.fisher_exact(table, alternative="less").pvalue
        assert got.pvalue == pytest.approx(p, rel=1e-9)
        assert got.agreement_rate == a / n
        assert got.rest_agreement_rate == (total_agree - a) / (total_rows - n)
        raw.append(p)
    holm = multipletests(raw, method="holm")[1]
    assert [f.adjusted_pvalue for f in found] == pytest.approx(holm, rel=1e-10)


def test_segment_rule_on_constructed_values() -> None:
    # Ten healthy values at 93% agreement, then the cases the rule must tell apart.
    rows = [10_000] * 10 + [2_000, 30, 60, 400_000, 300_000]
    agree = [9_300] * 10 + [1_600, 24, 30, 368_000, 252_000]
    #        healthy          80%    80%  50%  92%       84%
    total_rows = sum(rows) + 200_000
    total_agree = sum(agree) + 186_000  # the rest of the log at 93%
    found = RULE.evaluate(rows, agree, total_rows, total_agree)
    failed = [f.failed for f in found]
    assert failed[:10] == [False] * 10  # no difference, nothing flagged
    assert failed[10]  # 2,000 rows 13 points below the rest: harm, significant
    assert not failed[11]  # 30 rows at 80%: not distinguishable from noise
    assert failed[12]  # 60 rows at 50%: a small value cannot hide a large harm
    assert not failed[13]  # 400k rows at 92%: significant but immaterial (above floor, gap 1 pt)
    assert failed[14]  # 300k rows at 84%: significant and under the 85% floor


def test_segment_rule_edge_cases() -> None:
    # A single value is the whole log: no rest to compare with, nothing fails.
    (only,) = RULE.evaluate([100], [10], 100, 10)
    assert (only.pvalue, only.failed) == (1.0, False) and np.isnan(only.rest_agreement_rate)
    # Every request agrees: no variance, nothing to test.
    assert not any(f.failed for f in RULE.evaluate([50, 50], [50, 50], 100, 100))
    assert RULE.evaluate([], [], 100, 90) == []
    with pytest.raises(ValueError):
        RULE.evaluate([10], [11], 100, 90)


def test_segment_rule_family_wise_error_is_at_most_alpha() -> None:
    # Healthy logs: 12 values whose agreement differs only by chance. With no materiality
    # filter the Holm family must still flag any value in at most ~alpha of the logs.
    rng = np.random.default_rng(5)
    rule = SegmentAgreementRule(floor=1.0, min_gap=0.0, alpha=0.05)
    sizes = np.array([50, 80, 120, 200, 300, 500, 800, 1_000, 1_500, 2_000, 3_000, 5_000])
    flagged = 0
    runs = 1_000
    for _ in range(runs):
        agree = rng.binomial(sizes, 0.9)
        found = rule.evaluate(sizes.tolist(), agree.tolist(), int(sizes.sum()), int(agree.sum()))
        flagged += any(f.failed for f in found)
    assert flagged / runs <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / runs)


# ---------------------------------------------------------------- spikes over time

SPIKES = RateSpikeRule(ratio=3.0, floor=0.01, alpha=0.01)


def test_rate_spike_pvalues_equal_scipy_binomtest() -> None:
    events, requests = [0, 1, 4, 8, 150], [500, 500, 500, 500, 500]
    found = SPIKES.evaluate(events, requests, 0.0028, tests=37)
    for k, n, got in zip(events, requests, found, strict=True):
        expected = stats.binomtest(k, n, 0.0028, alternative="greater").pvalue
        assert got.pvalue == pytest.approx(expected, rel=1e-9)
        assert got.adjusted_pvalue == pytest.approx(min(1.0, 37 * expected), rel=1e-9)
    # 0.8% is under the 1% floor; 1.6% (5.7x, p*37 < 0.01) and 30% spike.
    assert [f.failed for f in found] == [False, False, False, True, True]
    worst = worst_rate(found)
    assert worst is not None and worst.events == 150


def test_rate_spike_needs_significance_and_ratio() -> None:
    # 2 of 20 requests is 10% (36x a 0.28% log) but not significant after Bonferroni over 37.
    (small,) = SPIKES.evaluate([2], [20], 0.0028, tests=37)
    assert small.pvalue < 0.01 and small.adjusted_pvalue > 0.01 and not small.failed
    # 4% against a 2% log: significant at this size, above the floor, but only 2x.
    (mild,) = SPIKES.evaluate([400], [10_000], 0.02, tests=37)
    assert mild.adjusted_pvalue < 1e-10 and mild.ratio == pytest.approx(2.0) and not mild.failed
    # Buckets without requests are not tested.
    assert [f.index for f in SPIKES.evaluate([0, 3], [0, 100], 0.01, tests=1)] == [1]


def test_rate_spike_false_alarms_on_clean_logs_stay_under_alpha() -> None:
    rng = np.random.default_rng(3)
    rule = RateSpikeRule(ratio=1.0, floor=0.0, alpha=0.05)  # the test alone decides
    requests = np.full(48, 400)
    runs, flagged = 1_000, 0
    for _ in range(runs):
        errors = rng.binomial(requests, 0.01)
        overall = errors.sum() / requests.sum()
        found = rule.evaluate(errors.tolist(), requests.tolist(), float(overall), tests=48)
        flagged += any(f.failed for f in found)
    assert flagged / runs <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / runs)


def test_quantile_spike_rule() -> None:
    rule = QuantileSpikeRule(ratio=2.0, min_requests=200)
    values = [50.0, 49.0, 120.0, 300.0, float("nan"), 51.0]
    found = rule.evaluate(values, [1_000, 900, 500, 150, 800, 700])
    # 300 ms in a bucket of 150 requests is not tested; NaN (no latencies) neither. The level
    # is the median of the tested buckets' p99: 50.5 ms, not pulled up by the slow bucket.
    assert [(f.index, f.failed) for f in found] == [(0, False), (1, False), (2, True), (5, False)]
    assert found[2].ratio == pytest.approx(120 / np.median([50, 49, 120, 51]))
    worst = worst_quantile(found)
    assert worst is not None and worst.index == 2


# ---------------------------------------------------------------- where the KS gap is


@pytest.mark.parametrize(("n1", "n2"), [(300, 200), (20_000, 15_000)])
def test_ks_location_is_where_the_ecdfs_differ_by_d(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1)
    a = np.sort(np.round(rng.normal(size=n1), 2))
    b = np.sort(np.round(rng.normal(0.2, 1.1, size=n2), 2))
    result = ks.ks_2samp_sorted(a, b)
    assert result.location is not None
    gap = abs(np.searchsorted(a, result.location, "right") / n1)
    gap -= np.searchsorted(b, result.location, "right") / n2
    assert abs(gap) == pytest.approx(result.statistic, abs=1e-12)
    assert result.location == pytest.approx(stats.ks_2samp(a, b).statistic_location)


# ---------------------------------------------------------------- statistics per group of rows


@pytest.mark.parametrize(
    ("groups", "in_order"), [(5, True), (5, False), (40, False)], ids=["slices", "masks", "radix"]
)
def test_grouped_quantile_and_ks_equal_numpy_and_scipy_per_group(groups: int, in_order: bool):
    rng = np.random.default_rng(groups)
    n = 6_000
    codes = rng.integers(0, groups + 1, n).astype(np.uint16)  # code `groups`: no group
    empty = 3  # a group without rows
    codes[codes == empty] = groups
    if in_order:
        codes.sort()
    a = rng.normal(size=n)
    b = a + rng.normal(0.1, 0.5, n)
    missing = rng.uniform(size=n) < 0.05  # paired, as the report passes them
    a[missing] = b[missing] = np.nan
    p99 = grouped_quantile(a, codes, groups, 0.99)
    d, used = grouped_ks_statistic(a, b, codes, groups)
    thin, thin_used = grouped_ks_statistic(a, b, codes, groups, max_rows=60)
    for g in range(groups):
        mine = codes == g
        if g == empty:
            assert np.isnan(p99[g]) and np.isnan(d[g]) and used[g] == 0
            continue
        assert p99[g] == pytest.approx(np.nanpercentile(a[mine], 99), rel=1e-12)
        both = mine & ~missing
        assert d[g] == pytest.approx(stats.ks_2samp(a[both], b[both]).statistic, abs=1e-12)
        assert used[g] == both.sum()
        # Over max_rows: D of every k-th row of the group (in array order), k = ceil(rows/60).
        rows = np.flatnonzero(mine)
        step = -(-len(rows) // 60)
        # Every k-th row of the group, or (through a mask) its rows at a multiple of k.
        sample = rows[rows % step == 0] if groups <= 16 and not in_order else rows[::step]
        sample = sample[~missing[sample]]
        expected = stats.ks_2samp(a[sample], b[sample]).statistic
        assert thin[g] == pytest.approx(expected, abs=1e-12)
        assert thin_used[g] == len(sample)
        # Exactly at most 60 from a slice or an index array; about 60 through a mask.
        assert len(sample) <= (60 if in_order or groups > 16 else 90)
    kinds = {type(r.index).__name__ for _, r in group_rows(codes, groups)}
    assert kinds == ({"slice"} if in_order else {"ndarray"})
    # The inputs are left as they were (the per-group sorts work on copies).
    assert not np.all(np.diff(a[~np.isnan(a)]) >= 0)
