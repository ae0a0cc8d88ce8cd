"""Interleaving preference as a mean of iid per-session scores, tested by any method.

Each interleaved session is one independent unit with score ``+1`` when B's items drew more
clicks, ``-1`` when A's did, and ``0`` for a tie. The preference
``delta_ab = (wins_b + ties / 2) / sessions - 0.5`` of Chapelle et al. (2012) is half the mean
score, so its estimate and standard error are

    delta_ab = (wins_b - wins_a) / (2 n),
    se = sqrt(s^2 / n) / 2,  s^2 = n / (n - 1) * ((wins_a + wins_b) / n - (2 delta_ab)^2)

with the sample variance ``s^2`` of the scores (ddof 1). Fed to a
:class:`~abtool.stats.inference.methods.ConfidenceSequence` with ``units = sessions``, the
test stays valid when interleave-report runs on every snapshot: A is significantly preferred
as soon as the two-sided sequence lies below 0, whatever the session count, which is the
NO_GO trigger; B significantly preferred (above 0) is the significance half of GO.

References:
    Chapelle, O., Joachims, T., Radlinski, F., Yue, Y. (2012). Large-scale validation and
    analysis of interleaved search evaluation. ACM TOIS 30(1), 6.
    Waudby-Smith, I. et al. (2023). Time-uniform central limit theory and asymptotic
    confidence sequences. arXiv:2103.06476.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from abtool.stats.inference.methods import Estimate, InferenceMethod, TestResult


@dataclass(frozen=True)
class PreferenceTest:
    """Which ranker the sessions prefer, by a named method.

    Attributes:
        sessions: all sessions (decisive and tied).
        wins_a: sessions won by A.
        wins_b: sessions won by B.
        ties: tied sessions.
        test: two-sided test of ``delta_ab == 0`` (effect = ``delta_ab``, > 0 favours B).
        a_preferred: A significantly preferred (the interval lies below 0): NO_GO.
        b_preferred: B significantly preferred (the interval lies above 0).
    """

    sessions: int
    wins_a: int
    wins_b: int
    ties: int
    test: TestResult
    a_preferred: bool
    b_preferred: bool

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return {
            "sessions": self.sessions,
            "wins_a": self.wins_a,
            "wins_b": self.wins_b,
            "ties": self.ties,
            "test": self.test.to_dict(),
            "a_preferred": self.a_preferred,
            "b_preferred": self.b_preferred,
        }


def preference_estimate(wins_a: int, wins_b: int, ties: int) -> Estimate:
    """``delta_ab`` with the se of half a mean of +1/-1/0 session scores (needs 2 sessions)."""
    for name, value in (("wins_a", wins_a), ("wins_b", wins_b), ("ties", ties)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    n = wins_a + wins_b + ties
    if n < 2:
        raise ValueError("a preference test needs at least two sessions")
    mean_score = (wins_b - wins_a) / n
    variance = n / (n - 1) * ((wins_a + wins_b) / n - mean_score**2)
    return Estimate(mean_score / 2.0, math.sqrt(max(variance, 0.0) / n) / 2.0, n)


def preference_test(wins_a: int, wins_b: int, ties: int, method: InferenceMethod) -> PreferenceTest:
    """Two-sided test of the preference; ``a_preferred`` is the NO_GO trigger."""
    result = method.test(preference_estimate(wins_a, wins_b, ties), "two-sided")
    return PreferenceTest(
        sessions=wins_a + wins_b + ties,
        wins_a=wins_a,
        wins_b=wins_b,
        ties=ties,
        test=result,
        a_preferred=result.high < 0,
        b_preferred=result.low > 0,
    )
