"""The server's cap on glibc's malloc arenas, counted by glibc itself (``malloc_info``) in a fresh process whose
threads each allocate: one arena per thread without the cap."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="arenas are glibc's")

SERVER = Path(__file__).resolve().parents[2] / "server"
PROBE = """
import ctypes, sys, threading
from reverie.serving.allocator import cap_arenas

print("cap", cap_arenas())
start = threading.Barrier(8)

def allocate():
    start.wait()  # all eight threads make their first allocations together
    blocks = [ctypes.create_string_buffer(4096) for _ in range(100)]

threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes, libc.fclose.argtypes = (ctypes.c_int, ctypes.c_void_p), (ctypes.c_void_p,)
report = libc.fopen(sys.argv[1].encode(), b"w")
libc.malloc_info(0, report)
libc.fclose(report)
"""


def arenas(tmp_path: Path, **environment: str) -> tuple[str, int]:
    """What ``cap_arenas`` returned and how many arenas glibc reports after eight threads allocated."""
    report = tmp_path / "malloc_info.xml"
    env = {name: value for name, value in os.environ.items() if name != "MALLOC_ARENA_MAX"}
    env.update(PYTHONPATH=str(SERVER), **environment)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report)], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip(), len(re.findall(r"<heap nr=", report.read_text()))


def test_the_server_keeps_two_arenas_however_many_threads_allocate(tmp_path: Path) -> None:
    assert arenas(tmp_path) == ("cap 2", 2)


def test_an_operators_malloc_arena_max_stands(tmp_path: Path) -> None:
    said, count = arenas(tmp_path, MALLOC_ARENA_MAX="16")
    assert said == "cap None"
    assert count > 2  # glibc gave the threads arenas of their own: the cap is what keeps them at two
