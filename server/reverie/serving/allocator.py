"""Two malloc arenas for the server, so that memory freed after a burst goes back to the pool every thread uses.

glibc gives each thread that allocates under contention an arena of its own, up to eight per core. The server's
threads (the ZeroMQ loop, libzmq's I/O thread, TensorFlow's pools) each touch peers' bytes at some moment, and what
an arena keeps after a burst stays in RSS: 30-minute soaks of every attack at once sat on flat plateaus of
1,250–1,335 MiB, above ready + budget, and the same soak with two arenas did not pass it (docs/hardening.md).
An operator's own ``MALLOC_ARENA_MAX`` is left as it is; other C libraries have no such arenas to cap.
"""

from __future__ import annotations

import ctypes
import os

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def cap_arenas() -> int | None:
    """Cap glibc's malloc arenas at ``ARENAS`` before the server's threads start; the cap, or None where none was
    set (another C library, or the operator's ``MALLOC_ARENA_MAX`` stands)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on, found without a search
    except AttributeError:
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(_M_ARENA_MAX, ARENAS) != 1:  # glibc returns 1; musl's mallopt does nothing and says 0
        return None
    return ARENAS
