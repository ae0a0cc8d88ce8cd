"""Shared fixtures: run the CLI in-process and generate logs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from abtool.cli import main

# Fixtures of the S3 server and the Spark session live in their own modules.
pytest_plugins = ["tests.s3_server", "tests.spark_fixtures"]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `abtool ARGS...` in-process through the real entry point; capture exit and output."""
    monkeypatch.setenv("CI", "1")  # no progress spinner, whatever the terminal

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
