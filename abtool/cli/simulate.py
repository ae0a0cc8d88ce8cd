"""`abtool simulate KIND`: write realistic seeded logs with a known effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pyarrow as pa

app = typer.Typer(
    help="Write realistic logs of each kind with a known effect (seeded).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OutOption = Annotated[
    Path, typer.Option("--out", help="A .parquet file, or a directory with --partition-by-date.")
]
SeedOption = Annotated[int, typer.Option(min=0, help="Random seed: same seed, same log.")]
PartitionOption = Annotated[
    bool,
    typer.Option(help="Write hive-style date=YYYY-MM-DD/ folders instead of one file."),
]


@app.command("shadow")
def simulate_shadow(
    out: OutOption,
    rows: Annotated[int, typer.Option(min=1, help="Requests to generate.")] = 100_000,
    hours: Annotated[float, typer.Option(min=0.0, help="Hours the shadow ran.")] = 48.0,
    seed: SeedOption = 0,
    noise: Annotated[
        float, typer.Option(min=0.0, help="SD of the shadow's logit noise around the primary.")
    ] = 0.3,
    bad_segment: Annotated[
        str | None, typer.Option(help="Country where the shadow disagrees strongly (e.g. BR).")
    ] = None,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fraction of shadow calls that error.")
    ] = 0.002,
    latency_factor: Annotated[
        float, typer.Option(min=0.0, help="Shadow latency as a multiple of primary latency.")
    ] = 1.1,
    error_spike: Annotated[
        list[str] | None,
        typer.Option(
            metavar="HOUR:RATE",
            help="Shadow error rate within hour HOUR of the log (0 = the first), e.g. 18:0.3 "
            "(repeatable).",
        ),
    ] = None,
    latency_spike: Annotated[
        list[str] | None,
        typer.Option(
            metavar="HOUR:FACTOR",
            help="Multiply the shadow's latency within hour HOUR, e.g. 18:3 (repeatable).",
        ),
    ] = None,
    partition_by_date: PartitionOption = False,
) -> None:
    """A shadow log: primary and shadow scores of the same requests."""
    from abtool.simulate.shadow import ShadowSpec, shadow_chunks
    from abtool.simulate.writer import write_chunks

    spec = ShadowSpec(
        rows=rows,
        hours=hours,
        seed=seed,
        noise=noise,
        bad_segment=bad_segment,
        error_rate=error_rate,
        shadow_latency_factor=latency_factor,
        error_spikes=tuple(_hour_value(v, "--error-spike", 1.0) for v in error_spike or ()),
        latency_spikes=tuple(_hour_value(v, "--latency-spike", None) for v in latency_spike or ()),
    )
    written = write_chunks(
        shadow_chunks(spec), out, partition_by_date="ts" if partition_by_date else None
    )
    typer.echo(f"abtool: wrote {written:,} shadow rows to {out}", err=True)


def _hour_value(text: str, flag: str, most: float | None) -> tuple[int, float]:
    """``HOUR:VALUE`` as (hour, value): a whole hour >= 0 and a value >= 0 (<= ``most``)."""
    hour, _, value = text.partition(":")
    try:
        parsed = (int(hour), float(value))
    except ValueError:
        parsed = (-1, -1.0)
    if parsed[0] < 0 or not 0 <= parsed[1] <= (most if most is not None else float("inf")):
        bound = f" and VALUE <= {most:g}" if most is not None else ""
        raise typer.BadParameter(
            f"expected HOUR:VALUE with a whole HOUR >= 0{bound}, got {text!r}", param_hint=flag
        )
    return parsed


@app.command("interleave")
def simulate_interleave(
    out: OutOption,
    sessions: Annotated[int, typer.Option(min=1, help="Sessions (result lists) to generate.")] = (
        5_000
    ),
    seed: SeedOption = 0,
    noise_a: Annotated[
        float, typer.Option(min=0.0, help="Ranker A's score noise (SD; relevance has SD 1).")
    ] = 1.0,
    noise_b: Annotated[
        float,
        typer.Option(min=0.0, help="Ranker B's score noise; below noise-a means B is better."),
    ] = 0.8,
    size: Annotated[int, typer.Option(min=1, help="Items shown per session.")] = 10,
    candidates: Annotated[
        int, typer.Option(min=1, help="Catalogue items each session's rankers order.")
    ] = 20,
    catalogue: Annotated[int, typer.Option(min=1, help="Items in the catalogue.")] = 5_000,
    position_bias: Annotated[
        float, typer.Option(min=0.0, help="Position k is examined with probability k^-bias.")
    ] = 1.0,
    log_format: Annotated[
        str, typer.Option("--format", help="long (one row per shown item) or nested.")
    ] = "long",
) -> None:
    """An interleaving log: team-draft of two rankers, position-biased clicks."""
    from abtool.errors import UsageError
    from abtool.simulate.interleave import LOG_FORMATS, InterleaveSpec, interleave_chunks
    from abtool.simulate.writer import write_chunks

    if log_format not in LOG_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(LOG_FORMATS)}, got '{log_format}'")
    if candidates < size:
        raise UsageError(f"--candidates ({candidates}) must be >= --size ({size})")
    if catalogue < candidates:
        raise UsageError(f"--catalogue ({catalogue}) must be >= --candidates ({candidates})")
    spec = InterleaveSpec(
        sessions=sessions,
        seed=seed,
        catalogue=catalogue,
        candidates=candidates,
        size=size,
        noise_a=noise_a,
        noise_b=noise_b,
        position_bias=position_bias,
        log_format=log_format,
    )
    written = write_chunks(interleave_chunks(spec), out)
    typer.echo(f"abtool: wrote {written:,} {log_format} interleaving rows to {out}", err=True)


@app.command("canary")
def simulate_canary(
    out: OutOption,
    users: Annotated[int, typer.Option(min=1, help="Users (randomization units).")] = 20_000,
    requests_per_user: Annotated[
        float, typer.Option(min=1.0, help="Mean requests per user (1 + Poisson).")
    ] = 5.0,
    hours: Annotated[float, typer.Option(min=0.0, help="Hours the canary ran.")] = 24.0,
    stage: Annotated[
        float, typer.Option(min=0.0, max=100.0, help="Treatment share in percent.")
    ] = 5.0,
    salt: Annotated[str, typer.Option(help="Assignment salt (md5 buckets).")] = "canary",
    seed: SeedOption = 0,
    click_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Base click probability (control).")
    ] = 0.10,
    click_lift: Annotated[
        float, typer.Option(min=-1.0, help="Relative lift of treatment click probability.")
    ] = 0.0,
    heterogeneity: Annotated[
        float,
        typer.Option(min=0.0, help="SD of the per-user logit effect (within-user correlation)."),
    ] = 1.0,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Control error rate.")
    ] = 0.002,
    treatment_error_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Treatment error rate (default: same).")
    ] = None,
    latency_factor: Annotated[
        float, typer.Option(min=0.0, help="Treatment latency as a multiple of control's.")
    ] = 1.0,
    prediction_shift: Annotated[
        float, typer.Option(help="Shift of the treatment's prediction logit.")
    ] = 0.0,
    srm: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fraction of treatment users lost from the log.")
    ] = 0.0,
    inconsistent: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Fraction of users who also see the other variant."),
    ] = 0.0,
    pre_days: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Also write this many days before the start, all users on the control model "
            "(the pre-period CUPED adjusts with). Default: none.",
        ),
    ] = 0.0,
    pre_correlation: Annotated[
        float,
        typer.Option(
            min=-1.0,
            max=1.0,
            help="Correlation of a user's latent click propensity between pre-period and "
            "experiment.",
        ),
    ] = 0.8,
    pre_coverage: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Fraction of users with pre-period activity."),
    ] = 0.9,
    pre_out: Annotated[
        Path | None,
        typer.Option(help="Write the pre-period here instead of into --out (same schema)."),
    ] = None,
    partition_by_date: PartitionOption = False,
) -> None:
    """A canary / A/B log: users split by md5 bucket, several requests each."""
    from abtool.errors import UsageError
    from abtool.simulate.canary import CanarySpec, canary_period_chunks
    from abtool.simulate.writer import write_routed

    if not 0.0 < click_rate < 1.0:
        raise UsageError(f"--click-rate must lie strictly between 0 and 1, got {click_rate:g}")
    if pre_out is not None and pre_days == 0:
        raise UsageError("--pre-out needs --pre-days above 0")
    if pre_out is not None and pre_out.resolve() == out.resolve():
        raise UsageError(f"--pre-out must differ from --out ({out})")

    spec = CanarySpec(
        users=users,
        requests_per_user=requests_per_user,
        hours=hours,
        stage=stage,
        salt=salt,
        seed=seed,
        click_rate=click_rate,
        click_lift=click_lift,
        heterogeneity=heterogeneity,
        error_rate=error_rate,
        treatment_error_rate=treatment_error_rate,
        latency_factor=latency_factor,
        prediction_shift=prediction_shift,
        srm=srm,
        inconsistent=inconsistent,
        pre_days=pre_days,
        pre_correlation=pre_correlation,
        pre_coverage=pre_coverage,
    )
    pre_target = out if pre_out is None else pre_out
    rows = {False: 0, True: 0}

    def routed() -> Iterator[tuple[Path, pa.Table]]:
        for is_pre, table in canary_period_chunks(spec):
            rows[is_pre] += table.num_rows
            yield (pre_target if is_pre else out), table

    write_routed(routed(), partition_by_date="ts" if partition_by_date else None)
    typer.echo(f"abtool: wrote {rows[False]:,} canary rows to {out}", err=True)
    if pre_days > 0:
        typer.echo(
            f"abtool: wrote {rows[True]:,} pre-period rows (before {spec.start:%Y-%m-%d %H:%M}) "
            f"to {pre_target}",
            err=True,
        )


def _floats(option: str, text: str | None) -> tuple[float, ...] | None:
    """A comma-separated list of numbers, e.g. ``0.10,0.12``."""
    from abtool.errors import UsageError

    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{option} must be comma-separated numbers, got '{text}'") from None


@app.command("bandit")
def simulate_bandit(
    out: OutOption,
    rates: Annotated[
        str, typer.Option(help="Each arm's click rate, comma-separated (k >= 2 arms).")
    ] = "0.10,0.10,0.10,0.11",
    arms: Annotated[
        str | None, typer.Option(help="Arm names, comma-separated (default v1,v2,...).")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Allocation policy: thompson, ucb1, egreedy or uniform.")
    ] = "thompson",
    periods: Annotated[int, typer.Option(min=1, help="Periods (allocation updates).")] = 14,
    units_per_period: Annotated[int, typer.Option(min=1, help="Units (users) a period.")] = 1000,
    period_hours: Annotated[float, typer.Option(min=0.0, help="Hours a period lasts.")] = 24.0,
    requests_per_unit: Annotated[
        float, typer.Option(min=1.0, help="Mean requests per unit (1 + Poisson).")
    ] = 1.0,
    floor: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Minimum share per arm (default min(0.05, 0.5/k))."),
    ] = None,
    epsilon: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Exploration share of egreedy.")
    ] = 0.1,
    trend: Annotated[
        float, typer.Option(help="Relative change of every rate from first to last period.")
    ] = 0.0,
    contexts: Annotated[
        int, typer.Option(min=0, help="Binary context columns feature_1.. (0: none).")
    ] = 0,
    context_effect: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="How much the contexts tilt each arm's rate.")
    ] = 0.5,
    error_rates: Annotated[
        str | None, typer.Option(help="Each arm's error rate, comma-separated (default 0.002).")
    ] = None,
    latency_factors: Annotated[
        str | None, typer.Option(help="Each arm's latency multiple, comma-separated (default 1).")
    ] = None,
    seed: SeedOption = 0,
    partition_by_date: PartitionOption = False,
) -> None:
    """A bandit log: k arms, traffic shares set each period by a bandit policy, propensities.

    The committed sample is
    ``abtool simulate bandit --rates 0.08,0.10,0.10,0.12 --contexts 2 --seed 7
    --out sample_logs/bandit.parquet`` (14 periods of 1,000 users, Thompson allocation).
    """
    from abtool.errors import UsageError
    from abtool.simulate.bandit import POLICIES, BanditSpec, bandit_chunks
    from abtool.simulate.writer import write_chunks

    arm_rates = _floats("--rates", rates) or ()
    k = len(arm_rates)
    if k < 2 or not all(0.0 <= r <= 1.0 for r in arm_rates):
        raise UsageError(f"--rates needs at least two rates in [0, 1], got '{rates}'")
    names = None if arms is None else tuple(a.strip() for a in arms.split(","))
    errors = _floats("--error-rates", error_rates)
    slow = _floats("--latency-factors", latency_factors)
    for option, values in (
        ("--arms", names),
        ("--error-rates", errors),
        ("--latency-factors", slow),
    ):
        if values is not None and len(values) != k:
            raise UsageError(f"{option} needs {k} values (one per rate), got {len(values)}")
    if names is not None and len(set(names)) != k:
        raise UsageError("--arms must be distinct names")
    if policy not in POLICIES:
        raise UsageError(f"--policy must be one of {', '.join(POLICIES)}, got '{policy}'")
    if floor is not None and floor * k > 1.0:
        raise UsageError(f"--floor {floor:g} times {k} arms exceeds 1")
    if abs(trend) >= 2.0:
        raise UsageError(f"--trend must lie strictly between -2 and 2, got {trend:g}")
    spec = BanditSpec(
        rates=arm_rates,
        arms=names,
        policy=policy,
        periods=periods,
        units_per_period=units_per_period,
        period_hours=period_hours,
        requests_per_unit=requests_per_unit,
        floor=floor,
        epsilon=epsilon,
        trend=trend,
        contexts=contexts,
        context_effect=context_effect,
        error_rates=errors,
        latency_factors=slow,
        seed=seed,
    )
    written = write_chunks(
        bandit_chunks(spec), out, partition_by_date="ts" if partition_by_date else None
    )
    typer.echo(f"abtool: wrote {written:,} bandit rows ({policy}, {k} arms) to {out}", err=True)
