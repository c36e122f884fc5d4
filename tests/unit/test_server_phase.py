"""What a loading server says it is doing (``hello``'s ``phase`` and ``download``), from its worker's reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from reverie.config import ServerConfig
from reverie.server import DreamServer


@pytest.fixture
def server() -> Iterator[DreamServer]:
    made = DreamServer(ServerConfig(model="mobilenet", weights="random", idle_exit=1800.0))
    yield made
    made._shutdown()
    made.close_context()


def report(server: DreamServer, header: dict[str, object]) -> None:
    server._on_worker([SimpleNamespace(bytes=json.dumps(header).encode())])


def test_phases_and_download_progress_until_ready(server: DreamServer, tmp_path: Path) -> None:
    assert server.facts()["phase"] == "starting"
    weights = tmp_path / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    phase = "downloading inception_v3's ImageNet weights (88 MB)"
    report(server, {"type": "phase", "phase": phase, "download": {"path": str(weights), "bytes": 87_910_968}})
    facts = server.facts()
    assert (facts["state"], facts["phase"], facts["download"]) == ("loading", phase, {"done": 0, "total": 87_910_968})
    weights.write_bytes(bytes(1_000_000))  # Keras writes the download straight into its cache
    assert server.facts()["download"] == {"done": 1_000_000, "total": 87_910_968}

    report(server, {"type": "phase", "phase": "warming up (compiling)", "download": None})
    assert (server.facts()["phase"], server.facts()["download"]) == ("warming up (compiling)", None)
    report(server, {"type": "ready", "device": "CPU", "backend": "tensorflow"})
    facts = server.facts()
    assert (facts["state"], facts["phase"], facts["download"], facts["idle_exit"]) == ("ready", None, None, 1800.0)
