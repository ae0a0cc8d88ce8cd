"""Helpers for `abtool serve` tests: a real server on 127.0.0.1, real HTTP requests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abtool.cli import main
from abtool.serve.server import GateServer, ServeSettings


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@contextmanager
def running_server(policy: Path, **kwargs: Any) -> Iterator[GateServer]:
    """A GateServer on 127.0.0.1 and a free port, serving in a thread; closed on exit."""
    evaluate = kwargs.pop("evaluate", None)
    settings = ServeSettings(policy=policy, host="127.0.0.1", port=0, quiet=True, **kwargs)
    server = GateServer(settings) if evaluate is None else GateServer(settings, evaluate=evaluate)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def request(
    server: GateServer, path: str, *, method: str = "GET", body: bytes | None = None
) -> Response:
    """One HTTP request; non-2xx answers are returned, not raised."""
    req = urllib.request.Request(server.url + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return Response(answer.status, dict(answer.headers), answer.read().decode())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers), exc.read().decode())


def simulate_canary(out: Path, *options: str) -> Path:
    """`abtool simulate canary --out OUT OPTIONS...` through the real CLI entry point."""
    try:
        main(["simulate", "canary", "--out", str(out), *options])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
    return out


def assert_one_line_error(response: Response, status: int, *fragments: str) -> dict[str, Any]:
    """A one-line JSON ``{"error": ..., "status": N}`` holding every fragment."""
    assert response.status == status, (response.status, response.text)
    assert response.headers["Content-Type"] == "application/json"
    assert response.text.endswith("\n") and response.text.count("\n") == 1, response.text
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status
    for fragment in fragments:
        assert fragment in body["error"], body["error"]
    return body
