"""Which segment values does a candidate model harm? Agreement per value against the rest.

A value ``v`` of a segment column (a country, a device) holds ``n_v`` compared requests, ``a_v``
of them with the same decision from both models; the rest of the log holds ``N - n_v``
requests with ``A - a_v`` agreements. The rule fails ``v`` when all of these hold:

1. **Significantly lower than the rest**: the one-sided two-proportion test of
   ``H0: rate_v >= rate_rest`` against ``rate_v < rate_rest`` rejects after Holm's step-down
   adjustment over every tested value of every segment column, at family-wise level
   ``alpha``. So on a healthy candidate the chance that *any* value is flagged is at most
   ``alpha``, however many values are tested (Holm 1979). The test is Fisher's exact test
   (the hypergeometric lower tail, as ``scipy.stats.fisher_exact(..., alternative="less")``),
   not the pooled z-test: agreement is usually near 1, where the z-test's size on segments of
   a few dozen rows runs above its nominal level (in a simulation of 12 such values at 90%
   agreement, the Holm family flagged 6.6% of healthy logs at alpha 0.05); the exact test
   keeps the level at any size.
2. **Materially low**: its agreement is below the absolute ``floor`` (the rate the whole log
   must reach), or at least ``min_gap`` below the rest. On a large log tiny, harmless
   differences are significant; this keeps them from failing the rollout.

A small value with a large harm still fails (the test has power against large gaps at a few
hundred rows); a small value with a small difference cannot be told from noise and passes,
and a large value with a small difference is not material and passes. Values under the
minimum row count are not tested at all (their counts are reported).

References:
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.
    Fisher, R. A. (1935). The logic of inductive inference. Journal of the Royal Statistical
    Society 98, 39-82.
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., section 3.5. Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abtool.stats.multiple import holm


@dataclass(frozen=True)
class SegmentAgreement:
    """One segment value's agreement against the rest of the log.

    Attributes:
        rows: compared requests in the value.
        agreement_rate: share of them with the same decision from both models.
        rest_agreement_rate: the same share over every other request (NaN: no other).
        pvalue: one-sided exact p-value of "lower than the rest", before adjustment.
        adjusted_pvalue: Holm-adjusted over every tested value.
        failed: significant and materially low (see the module docstring).
    """

    rows: int
    agreement_rate: float
    rest_agreement_rate: float
    pvalue: float
    adjusted_pvalue: float
    failed: bool


@dataclass(frozen=True)
class SegmentAgreementRule:
    """The rule of the module docstring.

    Attributes:
        floor: agreement a value must exceed (as the whole log must).
        min_gap: smallest shortfall against the rest that counts as harm on its own.
        alpha: family-wise significance level over all tested values (Holm).
    """

    floor: float
    min_gap: float
    alpha: float

    def evaluate(
        self,
        rows: Sequence[int],
        agreements: Sequence[int],
        total_rows: int,
        total_agreements: int,
    ) -> list[SegmentAgreement]:
        """Test each value (one family: every value of every segment column).

        Args:
            rows: compared requests of each tested value.
            agreements: agreeing requests of each tested value.
            total_rows: compared requests in the whole log.
            total_agreements: agreeing requests in the whole log.

        Raises:
            ValueError: counts that do not fit inside the totals.
        """
        n = np.asarray(rows, dtype=np.float64)
        a = np.asarray(agreements, dtype=np.float64)
        if n.shape != a.shape or np.any(a < 0) or np.any(a > n) or np.any(n > total_rows):
            raise ValueError("each value needs 0 <= agreements <= rows <= total_rows")
        if np.any(total_agreements - a < 0) or np.any(total_agreements - a > total_rows - n):
            raise ValueError("agreements do not fit inside the totals")
        pvalues = _lower_than_rest(n, a, total_rows, total_agreements)
        adjusted = holm(pvalues.tolist())
        rest_n = total_rows - n
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = a / n
            rest = np.where(rest_n > 0, (total_agreements - a) / rest_n, np.nan)
        results = []
        for i in range(len(n)):
            material = rate[i] < self.floor or (rest_n[i] > 0 and rest[i] - rate[i] >= self.min_gap)
            results.append(
                SegmentAgreement(
                    rows=int(n[i]),
                    agreement_rate=float(rate[i]),
                    rest_agreement_rate=float(rest[i]),
                    pvalue=float(pvalues[i]),
                    adjusted_pvalue=adjusted[i],
                    failed=bool(adjusted[i] <= self.alpha and material),
                )
            )
        return results


def _lower_than_rest(
    n: NDArray[np.float64], a: NDArray[np.float64], total_n: int, total_a: int
) -> NDArray[np.float64]:
    """One-sided Fisher exact p-values of "the value's agreement is below the rest's".

    Given the margins (``total_n`` requests, ``total_a`` agreeing), the value's agreements
    are hypergeometric: ``P(X <= a)`` for ``X ~ Hypergeometric(total_n, total_a, n)``.
    Without a rest there is nothing to compare: p = 1.
    """
    from scipy import stats

    if len(n) == 0:
        return np.empty(0, dtype=np.float64)
    pvalues = np.asarray(stats.hypergeom.cdf(a, total_n, total_a, n), dtype=np.float64)
    return np.where(n < total_n, np.minimum(pvalues, 1.0), 1.0)
