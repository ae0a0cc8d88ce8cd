"""How every output names the active inference method's interval."""

from __future__ import annotations

from abtool.stats.inference import ConfidenceSequence, InferenceMethod


def interval_label(method: InferenceMethod) -> str:
    """How outputs name an interval: ``95% CI, fixed horizon`` or the sequence and its N*."""
    level = f"{100 * (1 - method.alpha):g}%"
    if isinstance(method, ConfidenceSequence):
        return f"{level} confidence sequence (always valid, N* = {method.tuning_units:,g})"
    return f"{level} CI, fixed horizon"
