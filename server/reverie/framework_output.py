"""What TensorFlow, XLA and absl print as they start (oneDNN, ``cudart_stub``, ``cuInit``, "All log messages
before absl::InitializeLog() ..."): kept from the artist's terminal and in the server's log at DEBUG.

Native code writes those lines straight to file descriptor 2, before ``TF_CPP_MIN_LOG_LEVEL`` is read or Python
could filter them, so the only way to hold them is to point descriptor 2 elsewhere while the frameworks start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

from reverie_wire.errors import ReverieError


@contextlib.contextmanager
def _descriptor_2_into(target: IO[bytes]) -> Iterator[None]:
    """Descriptor 2 points at ``target`` while the body runs, then where it pointed before."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(target.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _text(hidden: IO[bytes]) -> str:
    hidden.seek(0)
    return hidden.read().decode(errors="replace")


def _writes_to_2(stream: IO[str]) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a stream in memory (a test's capture): not descriptor 2
        return False


@contextlib.contextmanager
def kept_from_terminal() -> Iterator[None]:
    """A command's body with the native start-up lines hidden; Python's own stderr (Reverie's messages, progress
    bars, warnings) still reaches the terminal. If the body fails unexpectedly, what was hidden is shown, as it
    may say why; a ReverieError or an interrupt explains itself."""
    python_stderr = sys.stderr
    failed = False
    with tempfile.TemporaryFile() as hidden, contextlib.ExitStack() as python_side:
        if _writes_to_2(python_stderr):  # Python's stderr keeps the terminal through a descriptor of its own
            sys.stderr = python_side.enter_context(
                open(os.dup(2), "w", buffering=1, encoding=python_stderr.encoding, errors="backslashreplace")
            )
        try:
            with _descriptor_2_into(hidden):
                yield
        except ReverieError:
            raise
        except Exception:
            failed = True
            raise
        finally:
            sys.stderr = python_stderr
            if failed:
                python_stderr.write(_text(hidden))
                python_stderr.flush()


@contextlib.contextmanager
def logged(log: logging.Logger) -> Iterator[None]:
    """Whatever is written to descriptor 2 while the body runs becomes DEBUG lines of ``log``.

    For the server, whose own log lines never go through descriptor 2 (see ``reverie.cli.server``)."""
    with tempfile.TemporaryFile() as hidden:
        try:
            with _descriptor_2_into(hidden):
                yield
        finally:
            for line in _text(hidden).splitlines():
                if line.strip():
                    log.debug("%s", line)
