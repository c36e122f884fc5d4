"""What a loading server says it is doing (``hello``'s ``phase`` and ``download``), from its worker's reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from reverie.config import ServerConfig
from reverie.serving.events import Event, Phase, Ready
from reverie.serving.server import DreamServer
from reverie.serving.worker import Worker


@pytest.fixture
def server() -> Iterator[DreamServer]:
    made = DreamServer(ServerConfig(model="mobilenet", weights="random", idle_exit=1800.0))
    yield made
    made._shutdown()
    made.close_context()


def test_phases_and_download_progress_until_ready(server: DreamServer, tmp_path: Path) -> None:
    assert server.facts()["phase"] == "starting"
    weights = tmp_path / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    phase = "downloading inception_v3's ImageNet weights (88 MB)"
    server._on_worker(Phase(phase, {"path": str(weights), "bytes": 87_910_968}))
    facts = server.facts()
    assert (facts["state"], facts["phase"], facts["download"]) == ("loading", phase, {"done": 0, "total": 87_910_968})
    weights.write_bytes(bytes(1_000_000))  # Keras writes the download straight into its cache
    assert server.facts()["download"] == {"done": 1_000_000, "total": 87_910_968}

    server._on_worker(Phase("warming up (compiling)"))
    assert (server.facts()["phase"], server.facts()["download"]) == ("warming up (compiling)", None)
    server._on_worker(Ready("CPU", "tensorflow"))
    facts = server.facts()
    assert (facts["state"], facts["phase"], facts["download"], facts["idle_exit"]) == ("ready", None, None, 1800.0)


class Link:
    """Stands in for the worker's end of its link to the server: keeps what the worker reports."""

    def __init__(self) -> None:
        self.sent: list[Event] = []

    def send(self, event: Event) -> None:
        self.sent.append(event)


@pytest.mark.parametrize(
    ("model", "weights", "downloads"),
    [("inception_v3", "imagenet", True), ("mobilenet", "imagenet", False), ("inception_v3", "random", False)],
)
def test_the_worker_says_when_loading_downloads_the_weights(
    model: str, weights: str, downloads: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache: MobileNet's weights ship with Reverie
    link = Link()
    Worker(None, None, model, weights, compiled_kept=8)._loading_phase(link)  # type: ignore[arg-type]
    (report,) = link.sent
    if downloads:
        path = tmp_path / "models" / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
        phase = "downloading inception_v3's ImageNet weights (88 MB), then building it"
        assert report == Phase(phase, {"path": str(path), "bytes": 87_910_968})
    else:
        assert report == Phase("building the model")


@pytest.mark.parametrize("pictures", [None, ((1080, 1920), (1920, 1080))])
def test_the_worker_warms_up_on_the_configured_pictures(
    pictures: tuple[tuple[int, int], ...] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[server] warm_up`` reaches the engine's warm-up; unset, the engine's own pictures are used."""
    calls: list[tuple[object, ...]] = []
    model = SimpleNamespace(spec=SimpleNamespace(name="mobilenet"), device="CPU", backend=SimpleNamespace(name="jax"))
    monkeypatch.setattr("reverie.serving.worker.backends.backend", lambda: None)
    monkeypatch.setattr("reverie.serving.worker.load_model", lambda name, weights: model)
    monkeypatch.setattr("reverie.serving.worker.warm_up", lambda *args: calls.append(args) or 1.0)
    link = Link()
    worker = Worker(None, None, "mobilenet", "random", 8, pictures)  # type: ignore[arg-type]
    assert worker._load(link) is model  # type: ignore[arg-type]
    ((_, params, *given),) = calls
    assert params.model == "mobilenet" and given == ([] if pictures is None else [pictures])
    assert link.sent[-1] == Ready("CPU", "jax")


def test_the_server_hands_its_warm_up_pictures_to_its_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[object, ...]] = []

    class RecordingWorker:
        def __init__(self, *args: object) -> None:
            made.append(args)

        def start(self) -> None:
            pass

    monkeypatch.setattr("reverie.serving.server.Worker", RecordingWorker)
    pictures = ((600, 800),)
    server = DreamServer(
        ServerConfig(model="mobilenet", weights="random", endpoint="tcp://127.0.0.1:0", warm_up=pictures)
    )
    try:
        server.bind()
    finally:
        server._shutdown()
        server.close_context()
    assert made[0][-1] == pictures
