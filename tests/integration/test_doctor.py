"""``reverie doctor`` run for real: a real server to ask, the real backend and device, a fresh home."""

from __future__ import annotations

import re
from pathlib import Path

from server_harness import reverie, start_server, user_env

from reverie_wire.protocol import PROTOCOL_VERSION


def test_doctor_against_a_real_server_then_with_a_missing_weights_file(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server")
    env = {**user_env(tmp_path), "HOME": str(tmp_path), "KERAS_BACKEND": "tensorflow"}
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\nendpoint = "{server.endpoint}"\nmodel = "mobilenet"\nweights = "random"\n')
    try:
        healthy = reverie("doctor", "--config", str(config), env=env)
        config.write_text(config.read_text().replace('"random"', f'"{tmp_path / "gone.h5"}"'))
        broken = reverie("doctor", "--config", str(config), env=env)
    finally:
        assert server.stop() == 0
    assert healthy.returncode == 0, healthy
    lines = healthy.stdout.splitlines()
    assert re.fullmatch(r"✓ reverie \S+ in .* with keras \S+, tensorflow \S+.*", lines[0]), lines
    assert lines[1] == "✓ Keras backend TensorFlow on CPU (no NVIDIA GPU on this machine)", lines
    assert "✓ mobilenet weights: seeded random (abstract textures, not DeepDream's eyes and dogs)" in lines
    served = (
        rf"✓ server at {re.escape(server.endpoint)}: reverie \S+, protocol {PROTOCOL_VERSION}, mobilenet with "
        r"random weights on CPU, Keras \S+ on TensorFlow; ready"
    )
    assert any(re.fullmatch(served, line) for line in lines), lines
    assert "✗ GIMP 3 " in healthy.stdout  # a fresh home has no GIMP folder: reported, not blocking
    assert healthy.stderr == ""

    assert broken.returncode == 1, broken
    assert f"✗ mobilenet weights: {tmp_path / 'gone.h5'} does not exist" in broken.stdout
    assert "config.toml asks for mobilenet with" in broken.stdout  # the running server has other weights
    assert broken.stdout.splitlines()[-1].endswith("1 of them blocking a dream")
