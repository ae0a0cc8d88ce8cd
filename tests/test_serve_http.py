"""`abtool serve` over real HTTP on 127.0.0.1: verdicts, status codes, JSON, limits.

The logs come from `abtool simulate canary` (50/50 split, seeded): a +15 % click lift on 10,000
users promotes, the same lift on 300 users holds (fewer than 1,000 units per variant), and a
5 % treatment error rate rolls back.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from abtool.serve.server import response_status
from tests.serve_support import (
    assert_one_line_error,
    request,
    running_server,
    simulate_canary,
)

POLICY = """\
[[gate]]
name = "canary-promote"
kind = "canary"
paths = ["logs/promote.parquet"]
metric = "clicked"
stage = 50

[[gate]]
name = "canary-hold"
kind = "canary"
paths = ["logs/hold.parquet"]
metric = "clicked"
stage = 50

[[gate]]
name = "canary-rollback"
kind = "canary"
paths = ["logs/rollback.parquet"]
metric = "clicked"
stage = 50

[[gate]]
name = "no-stage"
kind = "canary"
paths = ["logs/promote.parquet"]
metric = "clicked"
required = false

[[gate]]
name = "missing-logs"
kind = "canary"
paths = ["logs/not-there/*.parquet"]
required = false
"""
COMMON = ("--stage", "50", "--click-lift", "0.15", "--seed", "7")
EXPECTED = {"canary-promote": "PROMOTE", "canary-hold": "HOLD", "canary-rollback": "ROLLBACK"}


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    logs = root / "logs"
    logs.mkdir()
    simulate_canary(logs / "promote.parquet", "--users", "10000", *COMMON)
    simulate_canary(logs / "hold.parquet", "--users", "300", *COMMON)
    simulate_canary(
        logs / "rollback.parquet", "--users", "10000", "--treatment-error-rate", "0.05", *COMMON
    )
    path = root / "policy.toml"
    path.write_text(POLICY)
    return path


@pytest.fixture(scope="module")
def server(policy: Path):
    with running_server(policy, max_concurrent=2, timeout=60) as running:
        yield running


def _without_timing(gate: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in gate.items() if k != "elapsed_seconds"}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_gate_answers_200_with_the_json_of_abtool_gate(server, policy, run_cli, name) -> None:
    answer = request(server, f"/gates/{name}")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Abtool-Verdict"] == EXPECTED[name]
    body = answer.json()
    assert body["verdict"] == EXPECTED[name]
    assert body["exit_code"] == {"PROMOTE": 0, "HOLD": 3, "ROLLBACK": 1}[EXPECTED[name]]

    cli = run_cli("gate", policy, "--format", "json")
    assert cli.exit_code == 2  # the policy's unusable optional gate makes the run exit 2
    by_name = {g["name"]: g for g in cli.json()["gates"]}
    assert _without_timing(body) == _without_timing(by_name[name])


def test_promote_reports_the_lift_in_the_log(server, policy) -> None:
    """The served lift is the click rate difference computed here from the Parquet file."""
    body = request(server, "/gates/canary-promote").json()
    log = pl.read_parquet(policy.parent / "logs/promote.parquet")
    rate = dict(log.group_by("model_variant").agg(pl.col("clicked").mean()).iter_rows())
    metric = body["stats"]["metric"]
    assert metric["control_mean"] == pytest.approx(rate["v1"], rel=1e-12)
    assert metric["treatment_mean"] == pytest.approx(rate["v2"], rel=1e-12)
    assert metric["lift_abs"] == pytest.approx(rate["v2"] - rate["v1"], rel=1e-9)
    assert metric["pvalue"] < 0.05 and metric["ci_low"] > 0
    assert body["stats"]["next_stage"] == 100


def test_hold_names_the_missing_units(server) -> None:
    body = request(server, "/gates/canary-hold").json()
    units = body["stats"]["variants"]
    assert min(units["control"]["units"], units["treatment"]["units"]) < 1000
    assert any("need >= 1,000" in r for r in body["reasons"])
    assert body["stats"]["next_stage"] == 50  # a HOLD stays at the current stage


def test_rollback_reports_the_error_rate_in_the_log(server, policy) -> None:
    body = request(server, "/gates/canary-rollback").json()
    log = pl.read_parquet(policy.parent / "logs/rollback.parquet")
    errors = dict(log.group_by("model_variant").agg(pl.col("error").mean()).iter_rows())
    variants = body["stats"]["variants"]
    assert variants["treatment"]["error_rate"] == pytest.approx(errors["v2"], rel=1e-12)
    assert variants["control"]["error_rate"] == pytest.approx(errors["v1"], rel=1e-12)
    assert errors["v2"] > 0.04
    assert body["stats"]["next_stage"] == 0


@pytest.mark.parametrize(
    ("hook", "name", "status"),
    [
        ("promote", "canary-promote", 200),
        ("promote", "canary-hold", 412),
        ("promote", "canary-rollback", 412),
        ("rollback", "canary-promote", 412),
        ("rollback", "canary-hold", 412),
        ("rollback", "canary-rollback", 200),
    ],
)
def test_webhook_endpoints_answer_by_status(server, hook, name, status) -> None:
    payload = json.dumps({"name": "podinfo", "namespace": "test", "phase": "Progressing"})
    posted = request(server, f"/gates/{name}/{hook}", method="POST", body=payload.encode())
    got = request(server, f"/gates/{name}/{hook}")
    for answer in (posted, got):
        assert answer.status == status
        assert answer.json()["verdict"] == EXPECTED[name]


def test_missing_gate_is_a_one_line_404(server) -> None:
    answer = request(server, "/gates/canary-5pct")
    assert_one_line_error(answer, 404, "no gate named 'canary-5pct'", "canary-promote")


def test_unknown_endpoint_is_a_one_line_404(server) -> None:
    assert_one_line_error(request(server, "/metrics"), 404, "no endpoint /metrics", "/healthz")


def test_unusable_logs_are_422_with_the_error_record(server) -> None:
    answer = request(server, "/gates/missing-logs")
    assert answer.status == 422
    body = answer.json()
    assert body["verdict"] == "ERROR" and body["exit_code"] == 2
    assert "matches no files" in body["error"]


def test_query_parameter_overrides_the_gate_option(server) -> None:
    """?stage=5 on a 50/50 log: SRM against 5 % fails, so PROMOTE becomes HOLD."""
    plain = request(server, "/gates/no-stage").json()
    assert plain["stats"]["stage"] is None
    fifty = request(server, "/gates/no-stage?stage=50").json()
    promote = request(server, "/gates/canary-promote").json()
    assert fifty["stats"] == promote["stats"]
    five = request(server, "/gates/no-stage?stage=5").json()
    assert five["stats"]["expected_treatment_share"] == pytest.approx(0.05)
    assert five["verdict"] == "HOLD"
    assert next(c for c in five["checks"] if c["id"] == "srm")["status"] == "fail"


def test_list_and_health(server) -> None:
    listing = request(server, "/gates").json()
    assert [g["name"] for g in listing["gates"]] == [*EXPECTED, "no-stage", "missing-logs"]
    health = request(server, "/healthz")
    assert health.status == 200
    assert health.json()["status"] == "ok" and health.json()["gates"] == 5


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_nothing_writes(server, method) -> None:
    answer = request(server, "/gates/canary-hold", method=method, body=b"{}")
    assert_one_line_error(answer, 405, "read-only")
    assert_one_line_error(request(server, "/gates/canary-hold", method="POST", body=b"{}"), 405)


def test_burst_of_concurrent_requests(policy: Path) -> None:
    """30 requests at once: each is a report (200) or a quick 503; never more than 2 run."""
    running = 0
    peak = 0
    lock = threading.Lock()

    def counting(policy_path, name, params):
        nonlocal running, peak
        from abtool.serve.adapter import evaluate_gate

        with lock:
            running += 1
            peak = max(peak, running)
        try:
            return evaluate_gate(policy_path, name, params)
        finally:
            with lock:
                running -= 1

    with running_server(policy, max_concurrent=2, timeout=60, evaluate=counting) as server:
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(pool.map(lambda _: request(server, "/gates/canary-promote"), range(30)))
        statuses = [a.status for a in answers]
        print("burst statuses:", {s: statuses.count(s) for s in set(statuses)}, "peak", peak)
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= 2
        assert peak <= 2
        for answer in answers:
            if answer.status == 503:
                assert_one_line_error(answer, 503, "busy")
                assert answer.headers["Retry-After"] == "5"
            else:
                assert answer.json()["verdict"] == "PROMOTE"
        health = request(server, "/healthz").json()
        assert health["busy"] == 0
        assert request(server, "/gates/canary-hold").json()["verdict"] == "HOLD"


def test_slow_evaluation_times_out_and_keeps_its_slot(tmp_path: Path, policy: Path) -> None:
    release = threading.Event()

    def slow(policy_path, name, params):
        release.wait(30)
        return {"name": name, "verdict": "HOLD"}

    with running_server(policy, max_concurrent=1, timeout=0.2, evaluate=slow) as server:
        started = time.perf_counter()
        timed_out = request(server, "/gates/canary-hold")
        assert time.perf_counter() - started < 5
        assert_one_line_error(timed_out, 504, "took longer than 0.2 s")
        assert timed_out.headers["Retry-After"] == "5"
        assert_one_line_error(request(server, "/gates/canary-hold"), 503, "busy")
        release.set()
        deadline = time.monotonic() + 10
        while request(server, "/healthz").json()["busy"] and time.monotonic() < deadline:
            time.sleep(0.02)
        # A later request finds the slot free; the fake answers at once now.
        assert request(server, "/gates/canary-hold").json()["verdict"] == "HOLD"


def test_policy_is_reread_on_every_request(tmp_path: Path, policy: Path) -> None:
    edited = tmp_path / "policy.toml"
    (tmp_path / "logs").symlink_to(policy.parent / "logs")
    gate = '[[gate]]\nname = "g"\nkind = "canary"\npaths = ["logs/promote.parquet"]\n'
    edited.write_text(gate + 'metric = "clicked"\nstage = 50\n')
    with running_server(edited) as server:
        assert request(server, "/gates/g").json()["verdict"] == "PROMOTE"
        edited.write_text(gate + 'metric = "clicked"\nstage = 5\n')
        assert request(server, "/gates/g").json()["verdict"] == "HOLD"
        edited.write_text(gate + 'metric = "clicked"\nstage = "5"\n')
        assert_one_line_error(request(server, "/gates/g"), 500, "policy.toml:6", "'stage'")
        health = request(server, "/healthz")
        assert health.status == 503 and health.json()["status"] == "error"


def test_status_of_each_verdict() -> None:
    assert [response_status(v, None) for v in ("PROMOTE", "HOLD", "ROLLBACK", "GO")] == [200] * 4
    assert response_status("ERROR", None) == response_status("ERROR", "promote") == 422
    assert [response_status(v, "promote") for v in ("PROMOTE", "GO", "HOLD", "ROLLBACK")] == [
        200,
        200,
        412,
        412,
    ]
    assert [response_status(v, "rollback") for v in ("ROLLBACK", "NO_GO", "HOLD", "GO")] == [
        200,
        200,
        412,
        412,
    ]


def _raw(server, data: bytes) -> bytes:
    import socket

    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_requests_get_one_line_json_errors(server) -> None:
    # An unreadable request line: http.server answers without a status line or headers (as for
    # HTTP/0.9), but the body is the one-line JSON error all the same.
    body = _raw(server, b"GET /healthz HTTP/x.y\r\n\r\n").decode()
    assert body.count("\n") == 1 and json.loads(body)["status"] == 400
    assert "Bad request version" in json.loads(body)["error"]
    answer = _raw(
        server, b"POST /gates/canary-hold/promote HTTP/1.1\r\nContent-Length: lots\r\n\r\n"
    ).decode()
    head, body = answer.split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.0 400") and "Content-Type: application/json" in head
    assert json.loads(body) == {"error": "invalid Content-Length", "status": 400}
    big = request(server, "/gates/canary-hold/promote", method="POST", body=b"x" * 70_000)
    assert_one_line_error(big, 413, "over 65536 bytes")


def test_silent_client_is_dropped_after_the_read_timeout(policy: Path) -> None:
    """A connection that sends nothing holds its thread only for read_timeout seconds."""
    with running_server(policy, read_timeout=0.3) as server:
        started = time.perf_counter()
        assert _raw(server, b"") == b""  # the server closes the connection
        assert time.perf_counter() - started < 5
        assert request(server, "/healthz").status == 200
