"""Every command is documented in the README, and the CLI basics behave."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer

from abtool.cli import app

ROOT = Path(__file__).resolve().parents[1]


def command_names() -> list[str]:
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return names


def test_every_command_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in command_names() if f"abtool {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_json_stats_key_in_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    for key in ("ks_statistic", "agreement_rate", "duration_hours", "shadow_error_rate"):
        assert f"`{key}`" in readme


def test_help_lists_commands(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for name in command_names():
        assert name.split()[0] in result.stdout


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert re.fullmatch(r"abtool \d+\.\d+\.\d+\n", result.stdout)


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "abtool", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "shadow-report" in done.stdout


def test_help_does_not_import_heavy_modules() -> None:
    heavy = "('polars', 'scipy', 'statsmodels', 'pandas')"
    code = (
        "import sys; from abtool.cli import app; "
        f"print(','.join(m for m in {heavy} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
