"""A long-lived abtool process for the corpus test: runs one command line per request.

The corpus test needs each case isolated in a process it can kill on a hang, but starting
Python, Polars and SciPy for each of ~60 cases would cost most of a minute. This worker
imports them once, then for each request (one JSON line on stdin: ``argv``, ``cwd``, and
the files to capture stdout and stderr in) runs ``abtool.cli.main`` with file descriptors 1
and 2 redirected to those files (so native code and warnings are captured too) and answers
one JSON line ``{"code": exit_code}`` on its original stdout. The harness kills it when a
case outlives its time limit and starts a fresh one.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings


def _run(argv: list[str]) -> int:
    from abtool.cli import main

    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except BaseException:  # the harness must see it, not the worker die
        traceback.print_exc()
        return 99
    return 0


def serve() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    requests = sys.stdin
    warnings.simplefilter("always")  # every case shows its warnings, not just the first
    os.environ["CI"] = "1"
    import abtool.cli  # noqa: F401 - paid once, before the first case's clock starts

    answers.write(json.dumps({"ready": True}) + "\n")
    for line in requests:
        request = json.loads(line)
        saved = os.dup(1), os.dup(2)
        with open(request["out"], "wb") as out, open(request["err"], "wb") as err:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.chdir(request["cwd"])
            try:
                code = _run(request["argv"])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        answers.write(json.dumps({"code": code}) + "\n")


if __name__ == "__main__":
    serve()
