"""The corpus test: every malformed or adversarial input of tests/corpus/, run through
the real command line in a separate process under a time limit.

For every case: no traceback or internal error, no hang (the worker process is killed when
a case outlives ``CASE_SECONDS``), no warning on stderr, and no file that existed before the
run changed or vanished (sha256 before and after), nor any file created except the case's
declared outputs (no temporary files left behind). Unusable input exits 2 with one
``abtool: error:`` line naming the culprit; dirty-but-usable input gives a verdict with its
exclusions counted (each case's ``check``).
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import CASES, Case, Outcome

CASE_SECONDS = 60.0  # a hang is forever; this only bounds how long the test waits for it
WORKER = Path(__file__).with_name("corpus") / "worker.py"
ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """The long-lived process that runs the cases (see tests/corpus/worker.py)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = {**os.environ, "CI": "1", "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
        env.pop("ABTOOL_DEBUG", None)
        process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert self._answer(process, 120.0) == {"ready": True}
        return process

    @staticmethod
    def _answer(process: subprocess.Popen[str], seconds: float) -> dict[str, object] | None:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], seconds)
        if not ready:
            return None
        line = process.stdout.readline()
        return json.loads(line) if line else None

    def run(self, argv: list[str], cwd: Path, out: Path, err: Path) -> int | None:
        """The exit code, or None when the case hung (the worker is then replaced)."""
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        assert self.process.stdin is not None
        request = {"argv": argv, "cwd": str(cwd), "out": str(out), "err": str(err)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._answer(self.process, CASE_SECONDS)
        if answer is None:
            self.close()
            return None
        code = answer["code"]
        assert isinstance(code, int)
        return code

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.close()


def _fingerprints(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (FIFOs and devices are not read)."""
    found = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [*files, *dirs]:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                found[str(path.relative_to(folder))] = "not a regular file"
                continue
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.area for c in CASES} == {
        "files",
        "schema",
        "values",
        "options",
        "outputs",
        "policy",
        "escape",
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, worker: Worker, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    argv = case.build(folder)
    before = _fingerprints(folder)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    code = worker.run(argv, folder, out, err)
    assert code is not None, f"{case.id}: no answer within {CASE_SECONDS:.0f} s (a hang)"
    stdout = out.read_bytes().decode("utf-8", errors="surrogateescape")
    stderr = err.read_bytes().decode("utf-8", errors="replace")
    outcome = Outcome(code, stdout, stderr, folder)

    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert "Warning" not in stderr, stderr
    after = _fingerprints(folder)
    assert {k: after.get(k) for k in before} == before, "an input changed or vanished"
    assert set(after) - set(before) <= set(case.writes), "unexpected files left behind"

    assert code in case.expect, (code, stdout[-2000:], stderr)
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("abtool: error: "), stderr
        for fragment in case.culprit:
            assert fragment in lines[0], (fragment, lines[0])
    else:
        assert not case.culprit
    if case.check is not None:
        case.check(outcome)
