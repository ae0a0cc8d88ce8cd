"""`abtool serve POLICY.toml`: a read-only HTTP service over a rollout policy (docs/serve.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve_command(
    policy: Annotated[
        Path,
        typer.Argument(
            help="Rollout policy TOML (as for `abtool gate`); re-read on every request.",
            show_default=False,
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to bind. Use 0.0.0.0 only inside a container or pod.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")] = (
        8080
    ),
    max_concurrent: Annotated[
        int,
        typer.Option(min=1, help="Gate evaluations at once; further requests get 503."),
    ] = 2,
    timeout: Annotated[
        float,
        typer.Option(min=0.001, help="Seconds a request waits for its evaluation (then 504)."),
    ] = 25.0,
    retry_after: Annotated[
        int, typer.Option(min=0, help="Retry-After seconds sent with a 503 or 504.")
    ] = 5,
    quiet: Annotated[bool, typer.Option("--quiet", help="No access log on stderr.")] = False,
) -> None:
    """Serve gate verdicts over HTTP for rollout controllers: GET /gates/NAME, GET /healthz."""
    from abtool.serve.server import ServeSettings, serve

    settings = ServeSettings(
        policy=policy,
        host=host,
        port=port,
        max_concurrent=max_concurrent,
        timeout=timeout,
        retry_after=retry_after,
        quiet=quiet,
    )
    serve(settings)
