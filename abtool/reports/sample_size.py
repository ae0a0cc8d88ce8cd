"""`abtool sample-size`: how many units (or sessions), and how many days, to detect an effect?

Solves for one unknown: the sample size (default), the minimum detectable effect (given
``n``) or the power (given ``n`` and an effect). The statistics live in
:mod:`abtool.stats.power`; this module validates options, picks the method, rounds to whole
units and days, and builds the :class:`Report` (verdict INFO, exit 0, no checks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from abtool.commands.sample_size import KINDS, SPEC, SampleSizeOptions, parse_ratio
from abtool.errors import UsageError
from abtool.records import Record
from abtool.reports.result import Report, Verdict
from abtool.reports.settings import resolve
from abtool.results.sample_size import SampleSizeStats, SensitivityRow
from abtool.stats import power as pw

__all__ = ["SampleSizeOptions", "duration_days", "parse_ratio", "sample_size_report"]

COMMAND = SPEC.name
METHODS = {
    "proportion": ("cohen-h", "t-approx"),
    "continuous": ("t-test",),
    "interleaving": ("sign-test",),
}
METHOD_DESCRIPTIONS = {
    "cohen-h": "Cohen's h with a normal power solver (statsmodels NormalIndPower)",
    "t-approx": "d = mde / sqrt(p(1-p)) with a two-sample t-test solver (TTestIndPower)",
    "t-test": "d = mde / sd with a two-sample t-test solver (statsmodels TTestIndPower)",
    "sign-test": "two-sided exact sign (binomial) test of the win rate against 0.5",
}
SENSITIVITY_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0)
WEEK = 7
WEEKLY_CYCLES_DAYS = 14


def duration_days(n_total: int, daily_units: float) -> tuple[int, int, str | None]:
    """Days to enrol ``n_total`` units at ``daily_units`` a day: (days, raw days, note).

    Fewer than two weeks cannot cover the weekly cycle twice, so such a duration is rounded
    up to whole weeks (7 or 14 days) to give every weekday equal weight; two weeks or more is
    kept to the day.
    """
    raw = max(1, math.ceil(n_total / daily_units))
    if raw >= WEEKLY_CYCLES_DAYS:
        return raw, raw, None
    days = WEEK * math.ceil(raw / WEEK)
    if days == raw:
        return days, raw, f"{raw} days is a whole number of weeks"
    return (
        days,
        raw,
        f"rounded up from {raw} to {days} days: under two weeks, run whole weeks so every "
        "weekday counts equally",
    )


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
class _Plan:
    """Validated options with every default filled in."""

    kind: str
    method: str
    alternative: pw.Alternative
    alpha_adjusted: float
    ratio: float
    variants: int
    scale: float  # absolute effect per unit of the standardized effect (t methods)


def _validate(o: SampleSizeOptions) -> _Plan:
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
        _validate_interleaving(o)
        return _Plan(kind, method, alternative, alpha_adjusted, ratio, variants, 1.0)
    for option, value in (("--win-rate", o.win_rate), ("--tie-rate", o.tie_rate)):
        if value is not None:
            raise UsageError(f"{option} applies to --kind interleaving only")
    scale = _validate_two_sample(o, kind, method)
    if o.mde is None and o.mde_rel is None and o.n is None and o.n_total is None:
        raise UsageError("give --mde or --mde-rel (to solve for n), or --n (to solve for the MDE)")
    minimum_total = math.ceil(pw.MIN_NOBS1 * (1 + variants * ratio))
    if o.n is not None and o.n < pw.MIN_NOBS1:
        raise UsageError(f"--n {o.n}: need at least {pw.MIN_NOBS1:.0f} control units")
    if o.n_total is not None and o.n_total < minimum_total:
        raise UsageError(f"--n-total {o.n_total}: need at least {minimum_total} units")
    return _Plan(kind, method, alternative, alpha_adjusted, ratio, variants, scale)


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


def _validate_two_sample(o: SampleSizeOptions, kind: str, method: str) -> float:
    """Check baseline, sd and MDE; return the absolute effect per standardized unit."""
    if kind == "proportion":
        if o.sd is not None:
            raise UsageError("--sd applies to continuous metrics (--kind continuous)")
        if o.baseline is None:
            raise UsageError("--baseline is required: the control group's proportion")
        _check_fraction(o.baseline, "--baseline")
        mde = _absolute_mde(o)
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
    _absolute_mde(o)
    return o.sd


def _absolute_mde(o: SampleSizeOptions) -> float | None:
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


def _validate_interleaving(o: SampleSizeOptions) -> None:
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


# --- two-sample designs --------------------------------------------------------------------


def _power_function(method: str) -> pw.PowerFunction:
    return pw.normal_power if method == "cohen-h" else pw.ttest_power


def _effect_size(plan: _Plan, baseline: float | None, mde: float) -> float:
    """The standardized effect, signed like the MDE."""
    if plan.method == "cohen-h":
        assert baseline is not None
        return pw.cohens_h(baseline, baseline + mde)
    return mde / plan.scale


def _mde_for_effect(plan: _Plan, baseline: float | None, effect: float) -> float | None:
    """Absolute MDE (an increase) for a standardized effect, or None if not a proportion."""
    if plan.method == "cohen-h":
        assert baseline is not None
        treated = pw.proportion_for_h(baseline, effect)
        if treated is None or treated >= 1.0:
            return None
        return treated - baseline
    mde = effect * plan.scale
    if plan.kind == "proportion" and baseline is not None and baseline + mde >= 1.0:
        return None
    return mde


def _n_for_mde(plan: _Plan, o: SampleSizeOptions, mde: float) -> float:
    effect = abs(_effect_size(plan, o.baseline, mde))
    return pw.solve_nobs1(
        _power_function(plan.method),
        effect,
        plan.alpha_adjusted,
        o.power,
        plan.ratio,
        plan.alternative,
    )


def _group_sizes(plan: _Plan, nobs1: float) -> tuple[int, int, int]:
    """Whole units: control, each treatment, and the total over every group."""
    control = math.ceil(nobs1 - 1e-7)
    treatment = math.ceil(plan.ratio * nobs1 - 1e-7)
    return control, treatment, control + plan.variants * treatment


def _relative(mde: float | None, baseline: float | None) -> float | None:
    if mde is None or not baseline:
        return None
    return mde / baseline


def _two_sample(o: SampleSizeOptions, plan: _Plan) -> tuple[dict[str, Any], list[str]]:
    mde = _absolute_mde(o)
    fn = _power_function(plan.method)
    if o.n is None and o.n_total is None:
        assert mde is not None
        solve_for = "n"
        nobs1 = _n_for_mde(plan, o, mde)
        control, treatment, _total = _group_sizes(plan, nobs1)
        # Power of the whole-unit groups actually planned (both rounded up).
        achieved = fn(
            abs(_effect_size(plan, o.baseline, mde)),
            float(control),
            plan.alpha_adjusted,
            treatment / control,
            plan.alternative,
        )
        power_value = o.power
    else:
        nobs1 = float(o.n) if o.n is not None else o.n_total / (1 + plan.variants * plan.ratio)  # type: ignore[operator]
        if mde is None:
            solve_for = "mde"
            effect = pw.solve_effect_size(
                fn, nobs1, plan.alpha_adjusted, o.power, plan.ratio, plan.alternative
            )
            mde = _mde_for_effect(plan, o.baseline, effect)
            if mde is None:
                raise UsageError(
                    f"no proportion above the baseline {o.baseline:g} is detectable with "
                    f"{nobs1:,.0f} control units at power {o.power:g}"
                )
            power_value = o.power
        else:
            solve_for = "power"
            power_value = fn(
                abs(_effect_size(plan, o.baseline, mde)),
                nobs1,
                plan.alpha_adjusted,
                plan.ratio,
                plan.alternative,
            )
        achieved = power_value
    if o.n is not None or o.n_total is not None:
        control = math.floor(nobs1)
        treatment = round(plan.ratio * nobs1)
        total = o.n_total if o.n_total is not None else control + plan.variants * treatment
    else:
        control, treatment, total = _group_sizes(plan, nobs1)
    effect_size = _effect_size(plan, o.baseline, mde)
    stats: dict[str, Any] = {
        "kind": plan.kind,
        "solve_for": solve_for,
        "method": plan.method,
        "method_description": METHOD_DESCRIPTIONS[plan.method],
        "effect_size": effect_size,
        "effect_size_name": "cohen_h" if plan.method == "cohen-h" else "cohen_d",
        "baseline": o.baseline,
        "sd": o.sd if plan.kind == "continuous" else None,
        "mde_abs": mde,
        "mde_rel": _relative(mde, o.baseline),
        "treatment_value": None if o.baseline is None else o.baseline + mde,
        "alpha": o.alpha,
        "alpha_adjusted": plan.alpha_adjusted,
        "variants": plan.variants,
        "sided": o.sided,
        "power": power_value,
        "power_at_n": achieved,
        "ratio": plan.ratio,
        "n_per_group": control,
        "n_control": control,
        "n_treatment": treatment,
        "n_total": total,
        "n_per_group_exact": nobs1,
    }
    stats["sensitivity"] = _sensitivity_two_sample(o, plan, mde)
    return stats, []


def _sensitivity_two_sample(o: SampleSizeOptions, plan: _Plan, mde: float) -> list[dict[str, Any]]:
    rows = []
    for factor in SENSITIVITY_FACTORS:
        candidate = mde * factor
        if plan.kind == "proportion":
            assert o.baseline is not None
            if not 0.0 < o.baseline + candidate < 1.0:
                continue
        control, _treatment, total = _group_sizes(plan, _n_for_mde(plan, o, candidate))
        rows.append(
            {
                "mde_abs": candidate,
                "mde_rel": _relative(candidate, o.baseline),
                "effect_size": _effect_size(plan, o.baseline, candidate),
                "n_per_group": control,
                "n_total": total,
            }
        )
    return rows


# --- interleaving ----------------------------------------------------------------------------


def _interleaving(o: SampleSizeOptions, plan: _Plan) -> tuple[dict[str, Any], list[str]]:
    tie_rate = o.tie_rate or 0.0
    warnings: list[str] = []
    first = normal = None
    if o.n is None and o.n_total is None:
        assert o.win_rate is not None
        solve_for = "n"
        size = pw.sign_test_sessions(o.win_rate, o.alpha, o.power)
        decisive, first, normal = size.sessions, size.first_sessions, size.normal_sessions
        win_rate = o.win_rate
        power_value, achieved = o.power, size.power
    else:
        decisive = o.n if o.n is not None else math.floor(o.n_total * (1 - tie_rate))  # type: ignore[operator]
        if decisive < 1:
            raise UsageError("--n-total with this --tie-rate leaves no decisive session")
        if o.win_rate is None:
            solve_for = "mde"
            detectable = pw.sign_test_detectable_win_rate(decisive, o.alpha, o.power)
            if detectable is None:
                raise UsageError(
                    f"{decisive:,} decisive sessions are too few for the sign test to reach "
                    f"power {o.power:g} at alpha {o.alpha:g}, whatever the win rate"
                )
            win_rate = detectable
            power_value = achieved = o.power
        else:
            solve_for = "power"
            win_rate = o.win_rate
            power_value = achieved = pw.sign_test_power(win_rate, decisive, o.alpha)
    total = o.n_total if o.n_total is not None else math.ceil(decisive / (1.0 - tie_rate) - 1e-9)
    stats: dict[str, Any] = {
        "kind": plan.kind,
        "solve_for": solve_for,
        "method": plan.method,
        "method_description": METHOD_DESCRIPTIONS[plan.method],
        "effect_size": win_rate - 0.5,
        "effect_size_name": "cohen_g",
        "win_rate": win_rate,
        "mde_abs": win_rate - 0.5,
        "mde_rel": None,
        "alpha": o.alpha,
        "alpha_adjusted": o.alpha,
        "variants": 1,
        "sided": "two",
        "power": power_value,
        "power_at_n": achieved,
        "tie_rate": tie_rate,
        "n_per_group": decisive,
        "decisive_sessions": decisive,
        "first_sessions": first,
        "normal_sessions": normal,
        "n_total": total,
    }
    if first is not None and first != decisive:
        warnings.append(
            f"exact power first reaches {o.power:g} at {first:,} decisive sessions but dips "
            f"below it again up to {decisive - 1:,} (the binomial saw-tooth); "
            f"{decisive:,} is the smallest count that stays above"
        )
    rows = []
    for factor in SENSITIVITY_FACTORS:
        candidate = 0.5 + (win_rate - 0.5) * factor
        if not 0.0 < candidate < 1.0:
            continue
        if factor == 1.0 and solve_for == "n":
            sessions = decisive
        else:
            sessions = pw.sign_test_sessions(candidate, o.alpha, o.power).sessions
        rows.append(
            {
                "mde_abs": candidate - 0.5,
                "win_rate": candidate,
                "effect_size": candidate - 0.5,
                "n_per_group": sessions,
                "n_total": math.ceil(sessions / (1.0 - tie_rate) - 1e-9),
            }
        )
    stats["sensitivity"] = rows
    return stats, warnings


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInputs(Record):
    """What a plan was asked: the options given (not None)."""

    options: dict[str, Any]


def sample_size_report(
    options: SampleSizeOptions | None = None, **settings: Any
) -> Report[SampleSizeStats]:
    """Answer a planning question: sample size, minimum detectable effect or power.

    Args:
        options: the question; exactly one of n / MDE / power is left for the solver.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``baseline=0.12, mde=0.01``); they override ``options``.

    Returns:
        A Report with verdict INFO (exit 0), no checks, and the stats documented in
        docs/sample-size.md (``n_per_group``, ``n_total``, ``effect_size``, ``method``,
        ``days`` and more).

    Raises:
        UsageError: an option is outside its domain or the options contradict each other.
    """
    _, options, _ = resolve(SPEC, settings, options=options)
    plan = _validate(options)
    if plan.kind == "interleaving":
        stats, warnings = _interleaving(options, plan)
    else:
        stats, warnings = _two_sample(options, plan)
    stats["daily_units"] = options.daily_units
    stats["days"] = stats["days_raw"] = stats["days_note"] = None
    if options.daily_units is not None:
        days, raw, note = duration_days(stats["n_total"], options.daily_units)
        stats["days"], stats["days_raw"], stats["days_note"] = days, raw, note
        for row in stats["sensitivity"]:
            row["days"] = duration_days(row["n_total"], options.daily_units)[0]
    stats["sensitivity"] = [SensitivityRow(**row) for row in stats["sensitivity"]]
    warnings = share_warnings(options) + warnings
    return Report(
        command=COMMAND,
        verdict=Verdict.INFO,
        checks=[],
        stats=SampleSizeStats(**stats),
        warnings=warnings,
        inputs=PlanInputs(_echo(options)),
        reasons=[_summary(stats)],
    )


def _echo(options: SampleSizeOptions) -> dict[str, Any]:
    return {k: v for k, v in options.__dict__.items() if v is not None}


def _summary(stats: dict[str, Any]) -> str:
    """One sentence answering the question."""
    tail = (
        f"at alpha {stats['alpha']:g}"
        + (
            f" (Bonferroni {stats['alpha_adjusted']:.4g} per variant)"
            if stats["variants"] > 1
            else ""
        )
        + f", {stats['sided']}-sided ({stats['method']})"
    )
    if stats["kind"] == "interleaving":
        effect = f"a win rate of {stats['win_rate']:.4g}"
        sessions = f"{stats['n_per_group']:,} decisive sessions ({stats['n_total']:,} in all)"
        if stats["solve_for"] == "n":
            text = f"{sessions} detect {effect} with power {stats['power']:g} {tail}"
        elif stats["solve_for"] == "mde":
            text = f"{sessions} detect {effect} or more with power {stats['power']:g} {tail}"
        else:
            text = f"{sessions} detect {effect} with power {stats['power']:.4f} {tail}"
    else:
        rel = f" ({stats['mde_rel']:+.2%} relative)" if stats["mde_rel"] is not None else ""
        effect = f"an absolute effect of {stats['mde_abs']:+.4g}{rel}"
        groups = (
            f"{stats['n_per_group']:,} units per group"
            if stats["ratio"] == 1.0 and stats["variants"] == 1
            else f"{stats['n_control']:,} control and {stats['n_treatment']:,} units per treatment"
        ) + f" ({stats['n_total']:,} in total)"
        if stats["solve_for"] == "n":
            text = f"{groups} detect {effect} with power {stats['power']:g} {tail}"
        elif stats["solve_for"] == "mde":
            text = f"{groups} detect {effect} or larger with power {stats['power']:g} {tail}"
        else:
            text = f"{groups} detect {effect} with power {stats['power']:.4f} {tail}"
    if stats.get("days") is not None:
        text += f"; {stats['days']} days at {stats['daily_units']:,g} a day"
    return text
