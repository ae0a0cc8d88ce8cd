"""sample-size: the planning question checked, with every default filled in (a :class:`Plan`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from abtool.commands.sample_size import KINDS, SampleSizeOptions
from abtool.errors import UsageError
from abtool.stats import power as pw

METHODS = {
    "proportion": ("cohen-h", "t-approx"),
    "continuous": ("t-test",),
    "interleaving": ("sign-test",),
}


def _check_fraction(value: float, option: str) -> None:
    if not 0.0 < value < 1.0:
        raise UsageError(f"{option} {value:g}: must be strictly between 0 and 1")


def _resolve_kind(o: SampleSizeOptions) -> str:
    if o.kind is not None:
        if o.kind not in KINDS:
            raise UsageError(f"--kind {o.kind!r}: expected one of {', '.join(KINDS)}")
        return o.kind
    if o.win_rate is not None:
        return "interleaving"
    return "continuous" if o.sd is not None else "proportion"


@dataclass(frozen=True)
class Plan:
    """Validated options with every default filled in."""

    kind: str
    method: str
    alternative: pw.Alternative
    alpha_adjusted: float
    ratio: float
    variants: int
    scale: float  # absolute effect per unit of the standardized effect (t methods)


def validate_plan(o: SampleSizeOptions) -> Plan:
    kind = _resolve_kind(o)
    _check_fraction(o.alpha, "--alpha")
    _check_fraction(o.power, "--power")
    if o.sided not in ("two", "one"):
        raise UsageError(f"--sided {o.sided!r}: expected two or one")
    method = o.method or METHODS[kind][0]
    if method not in METHODS[kind]:
        raise UsageError(
            f"--method {method!r} does not apply to a {kind} metric "
            f"(expected {' or '.join(METHODS[kind])})"
        )
    if o.mde is not None and o.mde_rel is not None:
        raise UsageError("give --mde or --mde-rel, not both")
    if o.n is not None and o.n_total is not None:
        raise UsageError("give --n or --n-total, not both")
    if o.daily_units is not None and not (o.daily_units > 0 and math.isfinite(o.daily_units)):
        raise UsageError(f"--daily-units {o.daily_units:g}: must be positive")
    variants = 1 if o.variants is None else o.variants
    if variants < 1:
        raise UsageError(f"--variants {variants}: must be at least 1")
    ratio = _allocation_ratio(o, variants)
    alpha_adjusted = o.alpha / variants
    if o.power <= alpha_adjusted:
        raise UsageError(f"--power {o.power:g} must exceed the (adjusted) alpha {alpha_adjusted:g}")
    alternative: pw.Alternative = "two-sided" if o.sided == "two" else "larger"
    if kind == "interleaving":
        _validateinterleaving(o)
        return Plan(kind, method, alternative, alpha_adjusted, ratio, variants, 1.0)
    for option, value in (("--win-rate", o.win_rate), ("--tie-rate", o.tie_rate)):
        if value is not None:
            raise UsageError(f"{option} applies to --kind interleaving only")
    scale = _validatetwo_sample(o, kind, method)
    if o.mde is None and o.mde_rel is None and o.n is None and o.n_total is None:
        raise UsageError("give --mde or --mde-rel (to solve for n), or --n (to solve for the MDE)")
    minimum_total = math.ceil(pw.MIN_NOBS1 * (1 + variants * ratio))
    if o.n is not None and o.n < pw.MIN_NOBS1:
        raise UsageError(f"--n {o.n}: need at least {pw.MIN_NOBS1:.0f} control units")
    if o.n_total is not None and o.n_total < minimum_total:
        raise UsageError(f"--n-total {o.n_total}: need at least {minimum_total} units")
    return Plan(kind, method, alternative, alpha_adjusted, ratio, variants, scale)


def _allocation_ratio(o: SampleSizeOptions, variants: int) -> float:
    """Treatment units per control unit, from --treatment-percent (or the older --ratio)."""
    if o.treatment_percent is not None and o.ratio is not None:
        raise UsageError("give --treatment-percent or --ratio, not both")
    if o.treatment_percent is not None:
        control = 100.0 - variants * o.treatment_percent
        if control <= 0:
            raise UsageError(
                f"--treatment-percent {o.treatment_percent:g} x {variants} treatment(s) leaves "
                "no units for the control"
            )
        return o.treatment_percent / control
    ratio = 1.0 if o.ratio is None else o.ratio
    if not (ratio > 0 and math.isfinite(ratio)):
        raise UsageError(f"--ratio {ratio:g}: must be positive")
    return ratio


def share_warnings(o: SampleSizeOptions) -> list[str]:
    """Hints for the older --ratio spelling and for a percentage that looks like a fraction."""
    warnings = []
    if o.ratio is not None:
        warnings.append(
            "--ratio is deprecated and will be removed in the next release: give each "
            "treatment's share in percent with --treatment-percent (a 5% canary: 5)"
        )
    if o.treatment_percent is not None and o.treatment_percent < 1:
        warnings.append(
            f"--treatment-percent {o.treatment_percent:g} means {o.treatment_percent:g}% of "
            f"units; for a {100 * o.treatment_percent:g}% share give "
            f"--treatment-percent {100 * o.treatment_percent:g}"
        )
    return warnings


def _validatetwo_sample(o: SampleSizeOptions, kind: str, method: str) -> float:
    """Check baseline, sd and MDE; return the absolute effect per standardized unit."""
    if kind == "proportion":
        if o.sd is not None:
            raise UsageError("--sd applies to continuous metrics (--kind continuous)")
        if o.baseline is None:
            raise UsageError("--baseline is required: the control group's proportion")
        _check_fraction(o.baseline, "--baseline")
        mde = absolute_mde(o)
        if mde is not None:
            treated = o.baseline + mde
            if not 0.0 < treated < 1.0:
                raise UsageError(
                    f"impossible MDE: baseline {o.baseline:g} + MDE {mde:g} = {treated:g} "
                    "is not a proportion strictly between 0 and 1"
                )
        return math.sqrt(o.baseline * (1.0 - o.baseline))
    if o.sd is None:
        raise UsageError("--sd is required for a continuous metric")
    if not (o.sd > 0 and math.isfinite(o.sd)):
        raise UsageError(f"--sd {o.sd:g}: must be positive")
    if o.mde_rel is not None and not o.baseline:
        raise UsageError("--mde-rel needs a non-zero --baseline (the control mean)")
    absolute_mde(o)
    return o.sd


def absolute_mde(o: SampleSizeOptions) -> float | None:
    mde: float | None
    if o.mde_rel is not None:
        assert o.baseline is not None
        mde = o.mde_rel * o.baseline
    else:
        mde = o.mde
    if mde is not None and (mde == 0 or not math.isfinite(mde)):
        option = "--mde-rel" if o.mde_rel is not None else "--mde"
        raise UsageError(f"{option}: the minimum detectable effect must be non-zero")
    return mde


def _validateinterleaving(o: SampleSizeOptions) -> None:
    for option, value in (
        ("--baseline", o.baseline),
        ("--sd", o.sd),
        ("--mde", o.mde),
        ("--mde-rel", o.mde_rel),
        ("--ratio", o.ratio),
        ("--treatment-percent", o.treatment_percent),
        ("--variants", o.variants),
    ):
        if value is not None:
            raise UsageError(f"{option} does not apply to --kind interleaving (use --win-rate)")
    if o.sided != "two":
        raise UsageError("--kind interleaving plans the two-sided sign test only")
    if o.win_rate is not None:
        _check_fraction(o.win_rate, "--win-rate")
        if o.win_rate == 0.5:
            raise UsageError("--win-rate 0.5 is no preference: nothing to detect")
    elif o.n is None and o.n_total is None:
        raise UsageError("give --win-rate (to solve for sessions) or --n (decisive sessions)")
    if o.tie_rate is not None and not 0.0 <= o.tie_rate < 1.0:
        raise UsageError(f"--tie-rate {o.tie_rate:g}: must be in [0, 1)")
    if o.n is not None and o.n < 1:
        raise UsageError(f"--n {o.n}: need at least 1 decisive session")
    if o.n_total is not None and o.n_total < 1:
        raise UsageError(f"--n-total {o.n_total}: need at least 1 session")
