"""The GitHub Actions example installs abtool in any repository and maps exit codes as it says.

The workflow's shell steps are run here with bash: once with a stand-in `abtool` that exits with
each code, once with the real abtool on a HOLD policy writing the step summary.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.serve_support import simulate_canary

WORKFLOW = Path(__file__).resolve().parents[1] / "examples/github-actions.yml"


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in _workflow()["jobs"]["gate"]["steps"] if s.get("name") == name]
    return step


def _run(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # GitHub runs `run:` scripts with `bash --noprofile --norc -eo pipefail`.
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_installs_abtool_not_the_host_repository() -> None:
    workflow = _workflow()
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    scripts = [s.get("run", "") for s in workflow["jobs"]["gate"]["steps"]]
    assert not any("pip install ." in s for s in scripts)
    install = _step("Install abtool")["run"]
    assert 'pip install "$ABTOOL_INSTALL"' in install
    assert "git+https://" in workflow["env"]["ABTOOL_INSTALL"]
    gate = _step("Gate the rollout")["run"]
    assert '--markdown "$GITHUB_STEP_SUMMARY"' in gate and "--junit abtool-gate.xml" in gate


def test_placeholder_install_source_fails_with_a_message(tmp_path: Path) -> None:
    spec = "abtool @ git+https://github.com/OWNER/abtool@v0.1.0"
    done = _run(_step("Install abtool")["run"], {"ABTOOL_INSTALL": spec}, tmp_path)
    assert done.returncode == 1
    assert "::error::set the repository variable ABTOOL_INSTALL" in done.stdout


@pytest.mark.parametrize(
    ("code", "fail_on_hold", "step_exit"),
    [(0, "false", 0), (1, "false", 1), (2, "false", 2), (3, "false", 0), (3, "true", 1)],
)
def test_gate_step_exit_codes(tmp_path: Path, code: int, fail_on_hold: str, step_exit: int) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "abtool"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\nexit {code}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "POLICY": "rollout/policy.toml",
        "FAIL_ON_HOLD": fail_on_hold,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    done = _run(_step("Gate the rollout")["run"], env, tmp_path)
    assert done.returncode == step_exit, done
    assert (tmp_path / "args").read_text().split() == [
        "gate",
        "rollout/policy.toml",
        "--junit",
        "abtool-gate.xml",
        "--markdown",
        str(tmp_path / "summary.md"),
    ]
    assert ("::warning title=abtool gate::HOLD" in done.stdout) == (code == 3)


def test_gate_step_with_real_abtool_writes_the_summary(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    simulate_canary(logs / "canary.parquet", "--users", "300", "--stage", "50")
    (tmp_path / "rollout").mkdir()
    (tmp_path / "rollout/policy.toml").write_text(
        '[[gate]]\nname = "canary"\nkind = "canary"\npaths = ["../logs/canary.parquet"]\n'
        'metric = "clicked"\nstage = 50\n'
    )
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "POLICY": "rollout/policy.toml",
        "FAIL_ON_HOLD": "false",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "CI": "1",
    }
    done = _run(_step("Gate the rollout")["run"], env, tmp_path)
    assert done.returncode == 0, done
    assert "::warning title=abtool gate::HOLD" in done.stdout
    summary = (tmp_path / "summary.md").read_text()
    assert "HOLD" in summary and "canary" in summary
    assert "<testcase" in (tmp_path / "abtool-gate.xml").read_text()
