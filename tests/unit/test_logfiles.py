"""The background server's log: rotated by size with stdout/stderr following it, read from its end."""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
from pathlib import Path

from reverie.daemon.logfiles import OutputRotatingHandler, tail


def test_tail_reads_the_last_lines_of_a_file_larger_than_its_block(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    path.write_text("".join(f"line {i} {'x' * 100}\n" for i in range(5000)))  # about 520 kB
    assert tail(path, 3).splitlines() == [f"line {i} {'x' * 100}" for i in (4997, 4998, 4999)]
    assert len(tail(path, 2000).splitlines()) == 2000
    assert tail(path, 0) == ""
    assert tail(tmp_path / "missing.log", 5) == ""


def test_tail_of_a_short_file_is_all_of_it(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    path.write_text("one\ntwo\n")
    assert tail(path, 50) == "one\ntwo"


def test_rotation_caps_the_size_keeps_a_few_files_and_takes_the_raw_output_along(tmp_path: Path) -> None:
    path = tmp_path / "log" / "server.log"
    raw = os.open(tmp_path / "stand-in for stderr", os.O_WRONLY | os.O_CREAT)
    handler = OutputRotatingHandler(path, max_bytes=1000, backups=2, fds=(raw,))
    logger = logging.Logger("rotation-test")
    logger.addHandler(handler)
    try:
        for i in range(60):
            logger.warning("record %02d %s", i, "y" * 60)
            os.write(raw, f"raw {i:02d}\n".encode())
    finally:
        handler.close()
        os.close(raw)
    files = sorted(path.parent.iterdir())
    assert [file.name for file in files] == ["server.log", "server.log.1", "server.log.2"]
    assert all(file.stat().st_size <= 1000 + 80 for file in files)
    current = path.read_text()
    assert "record 59" in current and "raw 59" in current  # the raw output went to the new file too
    assert "raw 59" not in (path.parent / "server.log.1").read_text()


def test_reverie_logs_follows_the_log_across_a_rotation(tmp_path: Path) -> None:
    endpoint = "tcp://127.0.0.1:5555"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    log = tmp_path / "state" / "reverie" / "log" / "server-tcp-127.0.0.1-5555.log"
    log.parent.mkdir(parents=True)
    log.write_text("old 1\nold 2\n")
    command = [sys.executable, "-m", "reverie.cli.server", "logs", "-f", "-n", "1", "--endpoint", endpoint]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, bufsize=0)
    try:
        assert read_line(follower) == "old 2\n"  # the tail, then whatever comes
        with open(log, "a") as file:
            file.write("new 1\n")
        assert read_line(follower) == "new 1\n"
        log.rename(log.with_name(log.name + ".1"))  # what the rotating handler does
        log.write_text("after rotation\n")
        assert read_line(follower) == "after rotation\n"
    finally:
        follower.terminate()
        follower.wait(10)


def read_line(process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """The next line ``process`` prints, failing (not hanging) if none comes within ``timeout``."""
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        assert ready, f"no line within {timeout} s; got {line!r} so far"
        byte = process.stdout.read(1)
        assert byte, f"the process ended (code {process.poll()}) after {line!r}"
        line += byte
    return line.decode()
