"""`abtool sample-size`: the planning question's options, declared once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from abtool.spec import CommandSpec, Range, option

KINDS = ("proportion", "continuous", "interleaving")
METHOD_NAMES = ("cohen-h", "t-approx", "t-test", "sign-test")


def parse_ratio(text: str) -> float:
    """``--ratio`` as treatment units per control unit: "0.25", "0.05/0.95" or "5:95".

    Raises:
        ValueError: not a positive number or split.
    """
    cleaned = text.strip()
    for sep in ("/", ":"):
        if sep in cleaned:
            left, _, right = cleaned.partition(sep)
            try:
                treatment, control = float(left), float(right)
            except ValueError:
                break
            if treatment > 0 and control > 0 and math.isfinite(treatment / control):
                return treatment / control
            break
    else:
        try:
            value = float(cleaned)
        except ValueError:
            value = math.nan
        if value > 0 and math.isfinite(value):
            return value
    raise ValueError(
        f"{text!r}: expected treatment:control as a positive number or a split such "
        "as 0.05/0.95 or 5:95"
    )


@dataclass(frozen=True)
class SampleSizeOptions:
    """The planning question; see docs/sample-size.md.

    Exactly one of n / MDE / power is left for the solver. ``kind`` None infers the metric
    (``sd`` given -> continuous, ``win_rate`` given -> interleaving, else proportion);
    ``method`` None picks the first of the kind; ``treatment_percent`` is each treatment's
    share of all units (a 5% canary: 5), ``ratio`` the older spelling as treatment units per
    control unit (0.05 / 0.95).
    """

    baseline: float | None = option(
        None, "--baseline", "Control proportion (0-1), or control mean."
    )
    sd: float | None = option(
        None, "--sd", "Standard deviation per unit: makes the metric continuous."
    )
    mde: float | None = option(
        None, "--mde", "Minimum detectable effect, absolute (treatment - control)."
    )
    mde_rel: float | None = option(
        None, "--mde-rel", "Minimum detectable effect relative to --baseline."
    )
    n: int | None = option(
        None,
        "--n",
        "Control units (decisive sessions): solve for the MDE, or with --mde the power.",
    )
    n_total: int | None = option(None, "--n-total", "All units over every group, instead of --n.")
    alpha: float = option(0.05, "--alpha", "Family-wise significance level.")
    power: float = option(0.8, "--power", "Target power.")
    sided: str = option("two", "--sided", "two or one (in the MDE's direction).")
    treatment_percent: float | None = option(
        None,
        "--treatment-percent",
        "Each treatment's share of all units in percent (5 for a 5% canary; default: an "
        "equal split).",
        range=Range(0, 100, low_open=True, high_open=True),
    )
    ratio: float | None = option(
        None,
        "--ratio",
        "Deprecated, use --treatment-percent: treatment:control allocation as 5:95, 0.05/0.95 "
        "or treatment units per control unit.",
        parse=parse_ratio,
    )
    variants: int | None = option(
        None, "--variants", "Treatments sharing the control: Bonferroni alpha/K (1)."
    )
    kind: str | None = option(
        None, "--kind", "proportion, continuous or interleaving (default: from the options)."
    )
    method: str | None = option(
        None, "--method", "proportion: cohen-h (default) or t-approx; continuous: t-test."
    )
    win_rate: float | None = option(
        None, "--win-rate", "Interleaving: share of decisive sessions B wins."
    )
    tie_rate: float | None = option(
        None, "--tie-rate", "Interleaving: share of sessions without preference (0)."
    )
    daily_units: float | None = option(
        None, "--daily-units", "Units (sessions) entering per day: gives the days."
    )
    variance_reduction: float | None = option(
        None,
        "--variance-reduction",
        "Expected CUPED variance reduction in percent (e.g. 30): also plan the smaller "
        "adjusted sample.",
    )
    covariate_correlation: float | None = option(
        None,
        "--covariate-correlation",
        "Or the expected correlation between the pre-period covariate and the metric per "
        "unit (CUPED leaves 1 - rho^2 of the variance).",
    )


SPEC = CommandSpec(
    name="sample-size",
    summary="How many units (or sessions), and how many days, to detect an effect?",
    options=SampleSizeOptions,
    run="abtool.reports.sample_size:sample_size_report",
    render="abtool.render.sample_size",
)
