"""What a report says about dirty data: warnings from an engine's read notes, and the
decision threshold checked against the predictions it splits."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes
from abtool.errors import UsageError


def read_warnings(notes: ReadNotes) -> list[str]:
    """One warning per value left out of the figures (by reason), then each note."""
    warnings = []
    if notes.excluded_values:
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in notes.excluded_values.items())
        warnings.append(f"values left out of the figures that use them: {reasons}")
    return warnings + list(notes.notes)


def excluded_values(notes: ReadNotes) -> dict[str, int] | None:
    """The JSON ``excluded_values`` object (absent when nothing was left out)."""
    return dict(notes.excluded_values) or None


def check_decision_threshold(
    threshold: float, primary: NDArray[np.float64], shadow: NDArray[np.float64]
) -> list[str]:
    """Refuse a decision threshold no probability can reach; warn when it splits no
    prediction of this log.

    Agreement counts the rows where both models fall on the same side of the threshold
    (``score >= threshold``). Scores need not be probabilities (logits, regression outputs,
    ranking scores), so no fixed range fits every model. Two rules, from the predictions:

    - when every prediction of both models lies in [0, 1], they are read as probabilities
      and the threshold must lie in (0, 1]: outside it every probability falls on one side
      and agreement is 100% by construction (``--threshold 1.5``, ``--threshold 0``);
    - a threshold at or below every prediction, or above every one, is accepted with a
      warning: a rare-event model whose production threshold lies above every score seen
      really makes the same decision ("no") for both models, but the agreement then says
      nothing about how the models rank requests.

    Returns:
        The warning, when the threshold splits no prediction.

    Raises:
        UsageError: naming ``--threshold``, its value and the predictions' range.
    """
    if not len(primary) or not len(shadow):
        return []
    low = min(float(primary[0]), float(shadow[0]))
    high = max(float(primary[-1]), float(shadow[-1]))
    return check_threshold_range(threshold, low, high)


def check_threshold_range(threshold: float, low: float, high: float) -> list[str]:
    """:func:`check_decision_threshold` from the predictions' range (``low``/``high``: the
    smallest and largest score of either model), when an engine kept the scores."""
    if 0.0 <= low and high <= 1.0 and not 0.0 < threshold <= 1.0:
        raise UsageError(
            f"--threshold {threshold:g} is outside (0, 1] but every prediction of both models "
            f"is a probability in [0, 1] (from {low:.6g} to {high:.6g}), so decision agreement "
            "would be 100% by construction"
        )
    if low < threshold <= high or low == high:  # constant predictions: nothing to split
        return []
    side = "above" if threshold > high else "at or below"
    return [
        f"--threshold {threshold:g} is {side} every prediction of both models (from "
        f"{low:.6g} to {high:.6g}): both always make the same decision, so the agreement rate "
        "says nothing about how they rank requests"
    ]
