"""The second round of the hardening review against a real server (MobileNet, random weights) on real sockets:
configuration values out of range, guides, the refusal log, ``ipc://`` and messages larger than any job."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from server_harness import start_server


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        (f"max_pixels = {2**63 - 1}", "max_pixels must be a whole number from 1 to 268,435,456"),
        ("max_tile_size = 100", "max_tile_size must be a whole number from 128 to 4,096; got 100"),
    ],
)
def test_a_setting_out_of_range_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, setting: str, named: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[limits]\n{setting}\n")
    server = start_server(tmp_path, "--config", str(config), wait=False)
    try:
        code = server.process.wait(60)
    except subprocess.TimeoutExpired:
        server.stop()
        raise
    log = server.log.read_text()
    assert code == 1
    assert f"{config}: [limits] {named}" in log
    assert "Traceback" not in log
