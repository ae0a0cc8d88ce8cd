"""Import heavy modules on a background thread while Polars reads the logs.

``import scipy.stats`` costs most of a second; Polars releases the GIL while it scans, so the
import can run beside the scan instead of after it. Python's import lock makes a later
``import`` of the same module wait for the background one to finish, so correctness does not
depend on timing.
"""

from __future__ import annotations

import importlib
import threading


def prefetch(*modules: str) -> None:
    """Start importing ``modules`` on a daemon thread (errors surface at the real import)."""

    def load() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # the caller's own import reports any failure
                return

    threading.Thread(target=load, name="abtool-prefetch", daemon=True).start()
