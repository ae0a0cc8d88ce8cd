"""The HTTP server of ``abtool serve``: routes, status codes, concurrency slots and timeouts.

Endpoints (all read-only; see docs/serve.md):

- ``GET /healthz``: 200 when the policy file loads, 503 with the one-line reason when not.
- ``GET /gates``: the policy's gates (name, kind, required).
- ``GET /gates/NAME[?key=value...]``: evaluate one gate on its current logs; the body is the
  gate's JSON as in ``abtool gate --format json``. 200 for every verdict (controllers read
  ``$.verdict``), 422 when the logs cannot be used (``verdict: "ERROR"``).
- ``GET|POST /gates/NAME/promote`` and ``/gates/NAME/rollback``: the same evaluation, for
  webhooks that read only the status code (Flagger): 200 when the verdict is PROMOTE/GO
  (resp. ROLLBACK/NO_GO), else 412. POST is accepted because webhooks post; the body is ignored.

Errors are one-line JSON ``{"error": "...", "status": N}``: 400 bad query parameter, 404 unknown
gate or endpoint, 405 other methods, 500 invalid policy file, 503 all evaluation slots busy and
504 evaluation timeout (both with ``Retry-After``).

Why the standard library (``http.server.ThreadingHTTPServer``) and not an ASGI stack: the service
has five read-only routes and its work is a blocking Polars/NumPy evaluation that releases the
GIL, so an event loop would only hand it to a thread pool anyway; the standard library adds no
dependency to an abtool install, and the limits that matter (bounded evaluations, a timeout per
evaluation, a read timeout per connection) are a few lines here. Connections get a thread each,
but a connection that finds no free slot is answered at once (503), so threads do not pile up.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import wait
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from abtool import __version__
from abtool.errors import AbtoolError, UsageError
from abtool.serve.adapter import GateNotFound, evaluate_gate, list_gates
from abtool.serve.query import QueryError
from abtool.serve.slots import EvaluationSlots

# (policy path, gate name, query parameters) -> the gate's JSON dict.
Evaluate = Callable[[Path, str, Mapping[str, Sequence[str]]], dict[str, Any]]
ListGates = Callable[[Path], list[dict[str, Any]]]

ERROR_VERDICT = "ERROR"
# The verdicts for which each webhook endpoint answers 200.
HOOKS: dict[str, tuple[str, ...]] = {
    "promote": ("PROMOTE", "GO", "WINNER"),
    "rollback": ("ROLLBACK", "NO_GO"),
}
MAX_BODY_BYTES = 64 * 1024
ENDPOINTS = "/healthz, /gates, /gates/NAME, /gates/NAME/promote, /gates/NAME/rollback"


@dataclass(frozen=True)
class ServeSettings:
    """How ``abtool serve`` listens and bounds its work.

    Attributes:
        policy: the rollout policy TOML (re-read on every request).
        host: the address to bind; loopback by default.
        port: the TCP port (0: any free port).
        max_concurrent: gate evaluations allowed at once; more requests get 503.
        timeout: seconds a request waits for its evaluation before a 504.
        retry_after: the ``Retry-After`` seconds of a 503 or 504.
        read_timeout: seconds a client may take to send its request.
        quiet: no access log on stderr.
    """

    policy: Path
    host: str = "127.0.0.1"
    port: int = 8080
    max_concurrent: int = 2
    timeout: float = 25.0
    retry_after: int = 5
    read_timeout: float = 10.0
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise UsageError(f"--max-concurrent must be >= 1, got {self.max_concurrent}")
        if not self.timeout > 0:
            raise UsageError(f"--timeout must be > 0 seconds, got {self.timeout:g}")


def response_status(verdict: str, hook: str | None) -> int:
    """The HTTP status of an evaluated gate.

    Args:
        verdict: the gate's ``verdict`` (``ERROR`` when its logs could not be used).
        hook: None for ``/gates/NAME``, else ``promote`` or ``rollback``.
    """
    if verdict == ERROR_VERDICT:
        return 422
    if hook is None:
        return 200
    return 200 if verdict in HOOKS[hook] else 412


class GateServer(ThreadingHTTPServer):
    """A threading HTTP server that answers gate requests for one policy file."""

    daemon_threads = True
    request_queue_size = 64  # a burst of connections waits in the backlog, not refused

    def __init__(
        self,
        settings: ServeSettings,
        *,
        evaluate: Evaluate = evaluate_gate,
        gates: ListGates = list_gates,
        log: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.evaluate = evaluate
        self.gates = gates
        self.log = log if log is not None else sys.stderr
        self.slots = EvaluationSlots(settings.max_concurrent)
        if ":" in settings.host:
            self.address_family = socket.AF_INET6
        super().__init__((settings.host, settings.port), GateRequestHandler)

    @property
    def url(self) -> str:
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def write_log(self, line: str) -> None:
        if not self.settings.quiet:
            self.log.write(f"abtool serve: {line}\n")
            self.log.flush()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is not worth a traceback.
        kind, exc = sys.exc_info()[:2]
        self.write_log(
            f"{client_address[0]} connection error: {kind.__name__ if kind else ''} {exc}"
        )

    def server_close(self) -> None:
        super().server_close()
        self.slots.close()


class GateRequestHandler(BaseHTTPRequestHandler):
    """One request: route it, evaluate in a slot, answer JSON."""

    server: GateServer
    server_version = f"abtool-serve/{__version__}"
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

    def setup(self) -> None:
        super().setup()
        # A client gets read_timeout seconds to send its request (no slow-loris threads).
        self.connection.settimeout(self.server.settings.read_timeout)

    # ---- methods -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._route(post=False)

    def do_POST(self) -> None:
        if self._discard_body():
            self._route(post=True)

    def _not_allowed(self) -> None:
        self._error(405, f"method {self.command} not allowed: abtool serve is read-only")

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    # ---- routing -------------------------------------------------------------------------

    def _route(self, *, post: bool) -> None:
        split = urlsplit(self.path)
        path = split.path.strip("/")
        segments = [unquote(s) for s in path.split("/")] if path else []
        if len(segments) == 3 and segments[0] == "gates" and segments[2] in HOOKS:
            self._gate(segments[1], split.query, hook=segments[2])
            return
        gets: dict[tuple[str, ...], Callable[[], None]] = {
            ("healthz",): self._health,
            ("gates",): self._list,
        }
        if len(segments) == 2 and segments[0] == "gates":
            if post:
                self._error(405, "POST is accepted only by /gates/NAME/promote and /rollback")
            else:
                self._gate(segments[1], split.query, hook=None)
            return
        if tuple(segments) in gets:
            if post:
                self._error(405, f"POST not allowed on /{path}: abtool serve is read-only")
            else:
                gets[tuple(segments)]()
            return
        self._error(404, f"no endpoint /{path} (endpoints: {ENDPOINTS})")

    def _health(self) -> None:
        settings = self.server.settings
        try:
            gates = self.server.gates(settings.policy)
        except AbtoolError as exc:
            self._json(503, {"status": "error", "error": exc.message}, indent=None)
            return
        body = {
            "status": "ok",
            "policy": str(settings.policy),
            "gates": len(gates),
            "busy": self.server.slots.busy,
            "max_concurrent": settings.max_concurrent,
        }
        self._json(200, body, indent=None)

    def _list(self) -> None:
        settings = self.server.settings
        try:
            gates = self.server.gates(settings.policy)
        except AbtoolError as exc:
            self._error(500, exc.message)
            return
        self._json(200, {"policy": str(settings.policy), "gates": gates})

    def _gate(self, name: str, query: str, *, hook: str | None) -> None:
        server, settings = self.server, self.server.settings
        params = parse_qs(query, keep_blank_values=True)
        future = server.slots.try_submit(server.evaluate, settings.policy, name, params)
        retry = {"Retry-After": str(settings.retry_after)}
        if future is None:
            self._error(
                503,
                f"busy: {settings.max_concurrent} gate evaluation(s) already running; "
                f"retry in {settings.retry_after} s",
                retry,
            )
            return
        done, _ = wait([future], timeout=settings.timeout)
        if not done:
            self._error(
                504,
                f"gate '{name}' took longer than {settings.timeout:g} s; the evaluation goes on "
                "and holds its slot until it ends",
                retry,
            )
            return
        try:
            report = future.result()
        except GateNotFound as exc:
            self._error(404, exc.message)
            return
        except QueryError as exc:
            self._error(400, exc.message)
            return
        except AbtoolError as exc:  # the policy file itself is missing or invalid
            self._error(500, exc.message)
            return
        except Exception as exc:
            server.write_log("".join(traceback.format_exception(exc)).rstrip())
            self._error(500, f"internal error: {type(exc).__name__}: {exc}")
            return
        verdict = str(report.get("verdict", ERROR_VERDICT))
        self._json(response_status(verdict, hook), report, {"X-Abtool-Verdict": verdict})

    # ---- responses -----------------------------------------------------------------------

    def _discard_body(self) -> bool:
        """Read and drop a POST body (webhook payloads); False if an error was sent."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._error(400, "invalid Content-Length")
            return False
        if length > MAX_BODY_BYTES:
            # Drain a moderate excess first: closing on unread data resets the connection,
            # and the client might lose the answer.
            if length <= 16 * MAX_BODY_BYTES:
                self.rfile.read(length)
            self._error(413, f"request body over {MAX_BODY_BYTES} bytes")
            return False
        self.rfile.read(length)
        return True

    def _json(
        self,
        status: int,
        body: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        indent: int | None = 2,
    ) -> None:
        # Reports keep the indented layout of `abtool gate --format json`; errors are one line.
        text = json.dumps(body, indent=indent, allow_nan=False) + "\n"
        self._send(status, text.encode("utf-8"), headers or {})

    def _error(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        one_line = " ".join(message.split())
        self._json(status, {"error": one_line, "status": status}, headers, indent=None)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, URI too long) as JSON too."""
        self.close_connection = True
        self._error(code, message or explain or "bad request")

    def _send(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.write_log(f"{self.address_string()} {format % args}")


def serve(settings: ServeSettings, *, log: TextIO | None = None) -> None:
    """Check the policy, listen, and answer requests until interrupted (Ctrl-C or SIGTERM).

    Raises:
        ConfigError: the policy file is missing or invalid (checked before listening).
        UsageError: the address cannot be bound.
    """
    out = log if log is not None else sys.stderr
    gates = list_gates(settings.policy)
    try:
        server = GateServer(settings, log=out)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        raise UsageError(f"cannot listen on {where} ({exc.strerror or exc})") from None
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)  # a container's stop signal ends it cleanly
    out.write(
        f"abtool serve: {settings.policy} ({len(gates)} gates) on {server.url} - at most "
        f"{settings.max_concurrent} evaluation(s) at once, {settings.timeout:g} s timeout\n"
    )
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
