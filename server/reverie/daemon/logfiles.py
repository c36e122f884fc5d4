"""The background server's log file: size-capped and rotated, read from its end.

A background server's stdout and stderr (TensorFlow's own messages, Keras' download bar, a crash's
traceback) go into the same file as its log records, so the handler points those descriptors at the
current file again after every rotation.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

# How much of the file ``tail`` reads at a time, from the end backwards.
_BLOCK = 64 * 1024
# How often ``follow`` looks for new text.
_FOLLOW_INTERVAL = 0.25


class OutputRotatingHandler(RotatingFileHandler):
    """A ``RotatingFileHandler`` that also sends the descriptors ``fds`` (stdout, stderr) into its file."""

    def __init__(self, path: Path, max_bytes: int, backups: int, fds: Sequence[int] = (1, 2)) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._fds = tuple(fds)
        self._redirect()

    def _redirect(self) -> None:
        assert self.stream is not None  # opened at once: the handler is not delayed
        self.stream.flush()
        for fd in self._fds:
            os.dup2(self.stream.fileno(), fd)

    def doRollover(self) -> None:
        super().doRollover()
        self._redirect()


def tail(path: Path, lines: int, end: int | None = None) -> str:
    """The last ``lines`` lines of ``path`` before offset ``end`` (default: its end), read backwards (a log
    can be large); "" if it is missing."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return ""
    with file:
        end = file.seek(0, os.SEEK_END) if end is None else end
        data = b""
        while end > 0 and data.count(b"\n") <= lines:
            start = max(0, end - _BLOCK)
            file.seek(start)
            data = file.read(end - start) + data
            end = start
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def follow(path: Path, out: TextIO, start: int, interval: float = _FOLLOW_INTERVAL) -> None:
    """Print what ``path`` holds from offset ``start`` on, and what is added to it, across rotations, until
    interrupted."""
    log = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 (replaced on rotation, closed below)
    try:
        log.seek(start)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                chunk = log.read()
                if chunk:
                    print(chunk, end="", file=out, flush=True)
                elif _rotated(path, log):
                    log.close()
                    log = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
                else:
                    time.sleep(interval)
    finally:
        log.close()


def _rotated(path: Path, log: TextIO) -> bool:
    """Whether ``path`` now names another file than the open ``log`` (the handler renamed it away)."""
    try:
        return os.stat(path).st_ino != os.fstat(log.fileno()).st_ino
    except FileNotFoundError:
        return False
