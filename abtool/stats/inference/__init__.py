"""Inference on an estimate and its standard error: fixed-horizon or always-valid tests.

* :mod:`.methods`: :class:`Estimate`, :class:`FixedHorizon`, :class:`ConfidenceSequence`,
  :class:`TestResult` (one interface; every result names its method).
* :mod:`.sequential`: the confidence-sequence formulas (Waudby-Smith et al. 2023) and the
  tuning units that fit a plan.
* :mod:`.margins`: superiority, non-inferiority and harm with a direction and a margin, and
  how alpha is split over guardrails.
* :mod:`.detectable`: the current minimum detectable effect and the units a HOLD waits for.
* :mod:`.novelty`: per-day intervals and the early-versus-late lift test.
* :mod:`.preference`: the interleaving preference as a mean of session scores.

No module here imports scipy at import time (``abtool --help`` stays fast).
"""

from abtool.stats.inference.methods import (
    ConfidenceSequence,
    Estimate,
    FixedHorizon,
    InferenceMethod,
    TestResult,
    estimate_from_lift,
    method_named,
)

__all__ = [
    "ConfidenceSequence",
    "Estimate",
    "FixedHorizon",
    "InferenceMethod",
    "TestResult",
    "estimate_from_lift",
    "method_named",
]
