"""sample-size: the two-sample and interleaving answers (n, MDE or power) and their sensitivity."""

from __future__ import annotations

import math
from typing import Any

from abtool.commands.sample_size import SampleSizeOptions
from abtool.errors import UsageError
from abtool.reports.sample_size_validate import Plan, absolute_mde
from abtool.stats import power as pw

METHOD_DESCRIPTIONS = {
    "cohen-h": "Cohen's h with a normal power solver (statsmodels NormalIndPower)",
    "t-approx": "d = mde / sqrt(p(1-p)) with a two-sample t-test solver (TTestIndPower)",
    "t-test": "d = mde / sd with a two-sample t-test solver (statsmodels TTestIndPower)",
    "sign-test": "two-sided exact sign (binomial) test of the win rate against 0.5",
}
SENSITIVITY_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0)


def _power_function(method: str) -> pw.PowerFunction:
    return pw.normal_power if method == "cohen-h" else pw.ttest_power


def _effect_size(plan: Plan, baseline: float | None, mde: float) -> float:
    """The standardized effect, signed like the MDE."""
    if plan.method == "cohen-h":
        assert baseline is not None
        return pw.cohens_h(baseline, baseline + mde)
    return mde / plan.scale


def _mde_for_effect(plan: Plan, baseline: float | None, effect: float) -> float | None:
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


def _n_for_mde(plan: Plan, o: SampleSizeOptions, mde: float) -> float:
    effect = abs(_effect_size(plan, o.baseline, mde))
    return pw.solve_nobs1(
        _power_function(plan.method),
        effect,
        plan.alpha_adjusted,
        o.power,
        plan.ratio,
        plan.alternative,
    )


def _group_sizes(plan: Plan, nobs1: float) -> tuple[int, int, int]:
    """Whole units: control, each treatment, and the total over every group."""
    control = math.ceil(nobs1 - 1e-7)
    treatment = math.ceil(plan.ratio * nobs1 - 1e-7)
    return control, treatment, control + plan.variants * treatment


def _relative(mde: float | None, baseline: float | None) -> float | None:
    if mde is None or not baseline:
        return None
    return mde / baseline


def two_sample(o: SampleSizeOptions, plan: Plan) -> tuple[dict[str, Any], list[str]]:
    mde = absolute_mde(o)
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
    stats["sensitivity"] = _sensitivitytwo_sample(o, plan, mde)
    return stats, []


def _sensitivitytwo_sample(o: SampleSizeOptions, plan: Plan, mde: float) -> list[dict[str, Any]]:
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


def interleaving(o: SampleSizeOptions, plan: Plan) -> tuple[dict[str, Any], list[str]]:
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
