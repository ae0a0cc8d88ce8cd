"""Report files: never written over an input of the run, always written whole.

Every file abtool writes a report to (``--output``, ``gate --junit/--markdown/--html``)
goes through :func:`write_text`, which

- refuses a path that is, after resolving symlinks (or as a hard link), any file the run
  read: a log file the engine opened, a ``--config`` file, a rollout policy. Reading code
  announces each file with :func:`record_input`; the command line wraps a run in
  :func:`recording`;
- refuses to write two outputs of one run to the same file;
- writes atomically: a temporary file in the target's folder, flushed to disk, then renamed
  over the target, so an interrupted run never leaves half a report (and a reader never
  sees one). A FIFO or device (``--output /dev/stdout``) is written directly, as it cannot
  be replaced. A new file gets the usual permissions (0666 less the umask), an existing
  one keeps its own.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from abtool.errors import UsageError

_lock = threading.Lock()
_inputs: dict[tuple[int, int] | str, str] | None = None
_outputs: set[tuple[int, int] | str] | None = None


@contextmanager
def recording() -> Iterator[None]:
    """Within this block, files announced by :func:`record_input` are protected from
    :func:`write_text` (the command line wraps each run in it)."""
    global _inputs, _outputs
    with _lock:
        previous = _inputs, _outputs
        _inputs, _outputs = {}, set()
    try:
        yield
    finally:
        with _lock:
            _inputs, _outputs = previous


def record_input(path: str | os.PathLike[str]) -> None:
    """Announce a file the run reads (a no-op outside :func:`recording`)."""
    with _lock:
        if _inputs is None:
            return
        for key in _identities(path):
            _inputs.setdefault(key, os.fspath(path))


def _identities(path: str | os.PathLike[str]) -> list[tuple[int, int] | str]:
    """The keys a file is known by: its resolved path, and its device and inode if it exists."""
    keys: list[tuple[int, int] | str] = [os.path.realpath(path)]
    try:
        info = os.stat(path)
    except OSError:
        return keys
    keys.append((info.st_dev, info.st_ino))
    return keys


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a report to ``path`` (UTF-8), atomically, unless it is an input of the run.

    Raises:
        UsageError: the path is an input of the run, another output of it, a directory,
            or cannot be written (one line naming it).
    """
    shown = os.fspath(path)
    keys = _identities(path)
    with _lock:
        for key in keys:
            if _inputs is not None and key in _inputs:
                raise UsageError(
                    f"{shown}: refusing to write the report over an input of this run "
                    f"({_inputs[key]}); choose another output path"
                )
            if _outputs is not None and key in _outputs:
                raise UsageError(f"{shown}: this run already wrote another output to this file")
        if _outputs is not None:
            _outputs.update(keys)
    data = text.encode("utf-8", errors="replace")
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write output ({exc.strerror or exc})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{shown}: is a directory, not a file to write the report to")
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            with open(target, "wb") as handle:  # a FIFO or device cannot be replaced
                handle.write(data)
            return
        _replace(target, data, info.st_mode if info is not None else None)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write output ({exc.strerror or exc})") from None


def _replace(target: Path, data: bytes, mode: int | None) -> None:
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(mode) if mode is not None else _new_file_mode())
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
