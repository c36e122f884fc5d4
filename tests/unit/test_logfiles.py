"""The background server's log: rotated by size with stdout/stderr following it, read from its end."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from reverie.logfiles import OutputRotatingHandler, tail


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
