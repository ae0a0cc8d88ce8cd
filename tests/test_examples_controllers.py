"""The Kubernetes, Argo Rollouts and Flagger examples are consistent with `abtool serve`.

What a test can check without a cluster: the manifests parse; the URLs they call name a gate of
the policy they mount and valid query parameters; the conditions map PROMOTE/HOLD/ROLLBACK to
the controller outcomes the comments promise (Argo's rules are restated from its
analysis/analysis.go and utils/evaluate/evaluate.go, Flagger's from pkg/controller/webhook.go);
the header routes send exactly `stage` % of user buckets to the canary; and, end to end, a real
server on the example policy answers those URLs as the controllers need on simulated logs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import typer
import yaml
from scipy import stats

from abtool.cli import app
from abtool.gate.policy import parse_policy
from abtool.serve.adapter import find_gate
from abtool.serve.query import apply_query
from tests.serve_support import request, running_server, simulate_canary

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVICE = "http://abtool-serve.ml.svc.cluster.local:8080"


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]


def _one(name: str, kind: str) -> dict[str, Any]:
    (doc,) = [d for d in _docs(name) if d["kind"] == kind]
    return doc


def _policy_text() -> str:
    return _one("kubernetes/abtool-serve.yaml", "ConfigMap")["data"]["policy.toml"]


def _serve_args() -> list[str]:
    deployment = _one("kubernetes/abtool-serve.yaml", "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container["args"]


def _option(args: list[str], name: str) -> str:
    (value,) = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    return value


def _check_url(url: str) -> tuple[str, str | None, dict[str, list[str]]]:
    """The gate and hook a URL asks for; its gate and query must be valid for the policy."""
    assert url.startswith(SERVICE + "/gates/"), url
    split = urlsplit(url)
    parts = split.path.split("/")[2:]
    name, hook = parts[0], (parts[1] if len(parts) > 1 else None)
    assert hook in (None, "promote", "rollback")
    params = parse_qs(split.query, keep_blank_values=True)
    policy = parse_policy(_policy_text(), "/etc/abtool/policy.toml")
    apply_query(find_gate(policy, name), params)  # raises on an unknown gate or bad parameter
    return name, hook, params


def _buckets(regex: str) -> set[int]:
    return {b for b in range(100) if re.fullmatch(regex, str(b))}


# --- Kubernetes ---------------------------------------------------------------------------


def test_all_examples_parse() -> None:
    for path in [*EXAMPLES.rglob("*.yaml"), *EXAMPLES.rglob("*.yml")]:
        assert list(yaml.safe_load_all(path.read_text())), path


def test_serve_deployment_matches_the_command_and_image() -> None:
    deployment = _one("kubernetes/abtool-serve.yaml", "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[0] == "serve"
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {o for p in serve.params for o in p.opts}
    assert all(a.split("=")[0] in options for a in args[2:]), args
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert args[1] == mounts["policy"]["mountPath"] + "/policy.toml"
    assert all(mounts[n]["readOnly"] for n in ("policy", "logs"))
    assert _option(args, "host") == "0.0.0.0"
    port = int(_option(args, "port"))
    assert container["ports"][0]["containerPort"] == port
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    service = _one("kubernetes/abtool-serve.yaml", "Service")
    assert service["spec"]["ports"][0]["port"] == 8080 and SERVICE.endswith(":8080")
    assert service["metadata"]["name"] == "abtool-serve" and "abtool-serve.ml." in SERVICE
    # The Dockerfile's non-root uid, which runAsNonRoot needs as a number.
    dockerfile = (EXAMPLES.parent / "Dockerfile").read_text()
    (user,) = re.findall(r"^USER (\d+)", dockerfile, flags=re.M)
    assert pod["securityContext"]["runAsUser"] == int(user) and int(user) != 0
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_configmap_policy_loads() -> None:
    policy = parse_policy(_policy_text(), "/etc/abtool/policy.toml")
    gate = find_gate(policy, "ranker-canary")
    assert gate.kind == "canary" and gate.options.salt == "canary"
    assert gate.paths == ("/logs/ranker/canary/current/*.parquet",)
    assert gate.thresholds.primary_metric == pytest.approx(0.003)


# --- Argo Rollouts ------------------------------------------------------------------------


def _argo_metric() -> dict[str, Any]:
    (metric,) = _one("argo/analysis-template.yaml", "AnalysisTemplate")["spec"]["metrics"]
    return metric


def _argo_phase(metric: dict[str, Any], verdict: str) -> str:
    """A measurement's phase (utils/evaluate/evaluate.go: failure first, neither: inconclusive)."""

    def holds(condition: str) -> bool:
        found = re.fullmatch(r'result == "(\w+)"', condition)
        assert found, condition
        return verdict == found.group(1)

    if holds(metric["failureCondition"]):
        return "Failed"
    if holds(metric["successCondition"]):
        return "Successful"
    return "Inconclusive"


def _argo_metric_status(metric: dict[str, Any], verdicts: list[str]) -> str:
    """The metric's status after these measurements (analysis/analysis.go assessMetricStatus)."""
    failed = inconclusive = successes_in_a_row = 0
    for count, verdict in enumerate(verdicts, start=1):
        phase = _argo_phase(metric, verdict)
        failed += phase == "Failed"
        inconclusive += phase == "Inconclusive"
        successes_in_a_row = successes_in_a_row + 1 if phase == "Successful" else 0
        if failed > metric["failureLimit"]:
            return "Failed"
        if inconclusive > metric["inconclusiveLimit"]:
            return "Inconclusive"
        if successes_in_a_row >= metric["consecutiveSuccessLimit"]:
            return "Successful"
        if count >= metric["count"]:
            return "Inconclusive"  # both limits applicable, neither reached
    return "Running"


def test_argo_conditions_map_the_verdicts() -> None:
    metric = _argo_metric()
    assert metric["provider"]["web"]["jsonPath"] == "{$.verdict}"
    assert {v: _argo_phase(metric, v) for v in ("PROMOTE", "HOLD", "ROLLBACK")} == {
        "PROMOTE": "Successful",
        "HOLD": "Inconclusive",
        "ROLLBACK": "Failed",
    }


def test_argo_hold_waits_then_the_step_ends() -> None:
    metric = _argo_metric()
    count = metric["count"]
    assert _argo_metric_status(metric, ["HOLD"] * 3) == "Running"  # wait for the next look
    assert _argo_metric_status(metric, ["HOLD"] * 3 + ["PROMOTE"]) == "Successful"
    assert _argo_metric_status(metric, ["HOLD"] * (count - 1) + ["PROMOTE"]) == "Successful"
    assert _argo_metric_status(metric, ["HOLD", "ROLLBACK"]) == "Failed"
    assert _argo_metric_status(metric, ["HOLD"] * count) == "Inconclusive"  # a person decides
    # PROMOTE is one side of a two-sided test at the policy's alpha: Bonferroni over the looks.
    policy = parse_policy(_policy_text(), "policy.toml")
    assert count * policy.gates[0].thresholds.primary_metric / 2 <= 0.025


def test_argo_template_url_and_timeout() -> None:
    template = _one("argo/analysis-template.yaml", "AnalysisTemplate")
    args = {a["name"]: a.get("value") for a in template["spec"]["args"]}
    web = _argo_metric()["provider"]["web"]
    url = web["url"].replace("{{args.gate}}", args["gate"]).replace("{{args.stage}}", "20")
    name, hook, params = _check_url(url)
    assert (name, hook, params) == ("ranker-canary", None, {"stage": ["20"]})
    assert web["timeoutSeconds"] > float(_option(_serve_args(), "timeout"))


def test_rollout_steps_route_the_stage_they_analyse() -> None:
    rollout = _one("argo/rollout.yaml", "Rollout")
    canary = rollout["spec"]["strategy"]["canary"]
    routes = {r["name"] for r in canary["trafficRouting"]["managedRoutes"]}
    template = _one("argo/analysis-template.yaml", "AnalysisTemplate")["metadata"]["name"]
    scale = buckets = None
    stages = []
    for step in canary["steps"]:
        if "setCanaryScale" in step:
            scale = step["setCanaryScale"].get("weight")
        if "setHeaderRoute" in step:
            route = step["setHeaderRoute"]
            assert route["name"] in routes
            matches = route.get("match")
            buckets = _buckets(matches[0]["headerValue"]["regex"]) if matches else None
        if "analysis" in step:
            analysis = step["analysis"]
            assert [t["templateName"] for t in analysis["templates"]] == [template]
            (stage,) = [int(a["value"]) for a in analysis["args"] if a["name"] == "stage"]
            assert buckets == set(range(stage)), (stage, buckets)  # stage % of users
            assert scale == stage
            stages.append(stage)
    assert stages == [5, 20, 50]
    assert canary["steps"][-2] == {"setHeaderRoute": {"name": "abtool-bucket"}}  # route removed


# --- Flagger ------------------------------------------------------------------------------


def test_flagger_webhooks_ask_the_right_question() -> None:
    analysis = _one("flagger/canary.yaml", "Canary")["spec"]["analysis"]
    hooks = {h["type"]: h for h in analysis["webhooks"]}
    assert set(hooks) == {"rollback", "confirm-promotion"}
    stage_of = {}
    for kind, hook in (("rollback", "rollback"), ("confirm-promotion", "promote")):
        name, asked, params = _check_url(hooks[kind]["url"])
        assert (name, asked) == ("ranker-canary", hook)
        stage_of[kind] = int(params["stage"][0])
        assert int(hooks[kind]["timeout"].rstrip("s")) > float(_option(_serve_args(), "timeout"))
    (stage,) = set(stage_of.values())
    (match,) = analysis["match"]
    assert _buckets(match["headers"]["x-abtool-bucket"]["regex"]) == set(range(stage))


# --- end to end ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "verdict", "argo", "flagger"),
    [
        (("--click-lift", "0.3"), "PROMOTE", "Successful", "promote"),
        (("--treatment-error-rate", "0.05"), "ROLLBACK", "Failed", "rollback"),
        (("--users", "4000"), "HOLD", "Inconclusive", "wait"),
    ],
)
def test_controllers_decide_from_a_real_server(
    tmp_path: Path, options: tuple[str, ...], verdict: str, argo: str, flagger: str
) -> None:
    """The example policy at stage 5 on a simulated 5 % canary, through the example URLs."""
    current = tmp_path / "ranker/canary/current"
    current.mkdir(parents=True)
    simulate_canary(
        current / "part-0.parquet",
        *("--users", "40000", "--stage", "5", "--salt", "canary", "--seed", "3", *options),
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(_policy_text().replace('"/logs/', f'"{tmp_path}/'))
    metric = _argo_metric()
    args = {
        a["name"]: a.get("value")
        for a in _one("argo/analysis-template.yaml", "AnalysisTemplate")["spec"]["args"]
    }
    argo_url = metric["provider"]["web"]["url"]
    argo_url = argo_url.replace("{{args.gate}}", args["gate"]).replace("{{args.stage}}", "5")
    hooks = {
        h["type"]: h["url"]
        for h in _one("flagger/canary.yaml", "Canary")["spec"]["analysis"]["webhooks"]
    }
    with running_server(policy) as server:
        answer = request(server, argo_url.removeprefix(SERVICE))
        assert answer.status == 200  # a non-2xx answer would be an Argo Error measurement
        assert answer.json()["verdict"] == verdict
        assert _argo_phase(metric, answer.json()["verdict"]) == argo
        payload = b'{"name": "ranker", "namespace": "ml", "phase": "Progressing"}'
        passed = {
            kind: request(server, url.removeprefix(SERVICE), method="POST", body=payload).status
            <= 202  # Flagger: a status above 202 fails the hook
            for kind, url in hooks.items()
        }
    decision = (
        "rollback" if passed["rollback"] else "promote" if passed["confirm-promotion"] else "wait"
    )
    assert decision == flagger


def _any_look_significant(looks: int, alpha: float, *, one_sided: bool) -> float:
    """P(some look's z crosses the alpha bound) under no effect, looks evenly spaced in data.

    The z statistic of cumulative data at look k is S_k / sqrt(k) for a random walk S of
    standard normal increments (the canonical joint distribution of repeated z-tests).
    """
    rng = np.random.default_rng(20)
    walk = np.cumsum(rng.standard_normal((200_000, looks)), axis=1)
    z = walk / np.sqrt(np.arange(1, looks + 1))
    bound = stats.norm.isf(alpha / 2)
    crossed = z > bound if one_sided else np.abs(z) > bound
    return float(crossed.any(axis=1).mean())


def test_repeated_looks_and_the_example_alpha() -> None:
    """Why the example policy sets alpha = 0.003 for up to 16 looks per step.

    The simulation first reproduces the published false-positive rates of repeated two-sided
    tests at nominal 5 % (Armitage, McPherson & Rowe 1969, JRSS A 132:235; Jennison & Turnbull
    2000, "Group Sequential Methods", Table 1.1: 2 looks 0.083, 5 looks 0.142, 10 looks 0.193,
    20 looks 0.248), then measures the chance that an A/A canary is PROMOTEd (positive side)
    within 16 looks.
    """
    for looks, published in ((2, 0.083), (5, 0.142), (10, 0.193), (20, 0.248)):
        assert _any_look_significant(looks, 0.05, one_sided=False) == pytest.approx(
            published, abs=0.004
        )
    count = _argo_metric()["count"]
    alpha = parse_policy(_policy_text(), "policy.toml").gates[0].thresholds.primary_metric
    assert 0.10 < _any_look_significant(count, 0.05, one_sided=True) < 0.13  # default alpha
    assert _any_look_significant(count, alpha, one_sided=True) < 0.0125  # example: about 1 %
