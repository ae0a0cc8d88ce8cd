"""`abtool serve` as a process: announces its address, answers, stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers import assert_one_line_error

POLICY = '[[gate]]\nname = "canary"\nkind = "canary"\npaths = ["logs/*.parquet"]\nstage = 5\n'


def test_serves_until_sigterm(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    command = [sys.executable, "-m", "abtool", "serve", str(policy), "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        found = re.search(r"on (http://127\.0\.0\.1:\d+) ", banner)
        assert found, banner
        assert "1 gates" in banner and "at most 2 evaluation(s) at once" in banner
        with urllib.request.urlopen(found.group(1) + "/healthz", timeout=10) as answer:
            assert answer.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        rest = process.stderr.read()
        assert '"GET /healthz HTTP/1.1" 200' in rest
        assert "Traceback" not in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_invalid_policy_fails_before_listening(run_cli, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.replace("stage = 5", "stage = 500"))
    result = run_cli("serve", policy, "--port", "0")
    assert_one_line_error(result, "policy.toml:5", "'stage' must be in (0, 100), got 500")


def test_missing_policy(run_cli, tmp_path: Path) -> None:
    result = run_cli("serve", tmp_path / "nope.toml", "--port", "0")
    assert_one_line_error(result, "nope.toml: policy file not found")
