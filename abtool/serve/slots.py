"""A fixed number of evaluation slots: a request runs in a free one or is refused at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class EvaluationSlots:
    """At most ``size`` evaluations run at once; a request that finds no free slot is refused.

    A slot is freed when its evaluation ends, not when the request gives up waiting: an
    evaluation past its timeout keeps running (a thread cannot be stopped) and keeps counting.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._busy = 0
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="abtool-serve")

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """Start ``fn(*args)`` in a free slot; None when every slot is busy."""
        if not self._free.acquire(blocking=False):
            return None
        with self._lock:
            self._busy += 1
        try:
            future = self._pool.submit(fn, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future[Any] | None = None) -> None:
        with self._lock:
            self._busy -= 1
        self._free.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
