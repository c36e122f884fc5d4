"""The README's job at an artist's size, through every client, on a real background server.

``reverie start`` runs a server (InceptionV3, seeded random weights) as a new user would, from a fresh
config file. A 2048×1536 photo makes each of its gradient steps last longer than the server's heartbeat
interval, and each job first waits in the queue behind another one for longer than its client's silence
limit: such jobs live on the server's heartbeats alone. The clients: ``reverie dream`` by the default
path (the configured endpoint, no ``--server``), ``reverie dream --server`` and the plug-in's session code.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from server_harness import free_endpoint, reverie, user_env

from reverie.imaging.images import read_image
from reverie_plugin import session
from reverie_wire.client import Cancelled, DreamClient, Progress, Result
from reverie_wire.images import Image as WireImage

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "astronaut.jpg"
WIDTH, HEIGHT = 2048, 1536
DREAM = ("--octaves", "1", "--steps", "2", "--seed", "7", "--quiet")
# The job ahead in the queue: runs until cancelled.
AHEAD = {"model": "inception_v3", "octaves": 1, "steps": 1000, "max_loss": None, "seed": 1}
# Progress events of the job ahead to wait through once the next job is queued: with one per gradient step,
# the queued job waits longer than its client's silence limit.
STEPS_WAITED = 3


@dataclass(frozen=True)
class Daemon:
    endpoint: str
    env: dict[str, str]
    photo: Path


def photo(path: Path) -> Path:
    """The sample photo at 2048×1536 (its middle 4:3 band, enlarged), as an artist's JPEG."""
    with Image.open(SAMPLE) as sample:
        band = sample.crop((0, 64, 512, 448)).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    band.save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """``reverie start`` as a new user runs it, with ``weights = "random"`` in a fresh config file."""
    home = tmp_path_factory.mktemp("home")
    endpoint = free_endpoint()
    config = home / "config" / "reverie" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[server]\nendpoint = "{endpoint}"\nmodel = "inception_v3"\nweights = "random"\n')
    env = user_env(home)
    started = reverie("start", env=env, timeout=600)
    assert started.returncode == 0, started
    try:
        yield Daemon(endpoint, env, photo(home / "photo.jpg"))
    finally:
        stopped = reverie("stop", env=env)
        assert stopped.returncode == 0, stopped


def facts(endpoint: str) -> dict[str, Any]:
    with DreamClient(endpoint, timeout=10, retries=1) as client:
        return client.hello()


def dream_command(daemon: Daemon, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "reverie.cli", "dream", str(daemon.photo), "-o", str(out), *DREAM, *extra]
    return subprocess.Popen(command, env=daemon.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Sink:
    """The plug-in's progress bar, recorded."""

    def __init__(self) -> None:
        self.fractions: list[float] = []
        self.texts: list[str] = []

    def text(self, text: str) -> None:
        self.texts.append(text)

    def fraction(self, value: float) -> None:
        self.fractions.append(value)

    def pulse(self) -> None:
        pass


class PluginRun(threading.Thread):
    """The plug-in's session code, as GIMP runs it, on its own thread: connect, then dream the photo (RGBA)."""

    def __init__(self, daemon: Daemon) -> None:
        super().__init__()
        self.daemon = daemon
        self.pixels = np.asarray(Image.open(daemon.photo).convert("RGBA"))
        self.sink = Sink()
        self.result: Result | None = None
        self.failure: BaseException | None = None

    def run(self) -> None:
        endpoint = self.daemon.endpoint
        sent = WireImage(self.pixels.tobytes(), WIDTH, HEIGHT, 4, "u8")
        timeout, retries = session.client_timing(endpoint)  # the client as the plug-in makes it
        try:
            with DreamClient(endpoint, timeout=timeout, retries=retries) as client:
                session.connect(client, endpoint, None, self.sink)
                params = {"model": "inception_v3", "octaves": 1, "steps": 2, "seed": 3}
                self.result = session.dream(client, sent, params, self.sink, preview=False)
        except BaseException as error:
            self.failure = error


def test_every_client_waits_behind_a_long_job_then_dreams_a_full_size_photo(daemon: Daemon, tmp_path: Path) -> None:
    pixels = np.asarray(Image.open(daemon.photo).convert("RGB"))
    with DreamClient(daemon.endpoint) as client:
        job = client.submit(pixels.tobytes(), width=WIDTH, height=HEIGHT, channels=3, dtype="u8", params=AHEAD)
        events = client.events(job)
        assert isinstance(next(events), Progress), "the job ahead runs"
        commands = {
            "default path": dream_command(daemon, tmp_path / "default.png"),
            "--server": dream_command(daemon, tmp_path / "named.png", "--server", daemon.endpoint),
        }
        plugin = PluginRun(daemon)
        plugin.start()
        while facts(daemon.endpoint)["queue"] < 3:
            ended = {name: process.communicate()[1] for name, process in commands.items() if process.poll() is not None}
            assert not ended and plugin.is_alive(), f"ended before it was queued: {ended or plugin.failure}"
            plugin.join(0.2)
        for _ in range(STEPS_WAITED):
            assert isinstance(next(events), Progress)
        assert facts(daemon.endpoint)["queue"] == 3, "all three jobs waited in the queue all along"
        client.cancel(job)
        assert isinstance(list(events)[-1], Cancelled)

    for name, process in commands.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, (name, stderr)
        assert f"on the server at {daemon.endpoint}" in stdout, (name, stdout, stderr)
        assert "in this process" not in stderr, (name, stderr)
        assert "reverie: waiting for" not in stderr, (name, stderr)  # --quiet; but a note says how long it waited
        assert "in the server's queue; the dream itself took" in stderr, (name, stderr)
    for name in ("default.png", "named.png"):
        written = read_image(tmp_path / name).pixels
        assert written.shape == (HEIGHT, WIDTH, 3) and not np.array_equal(written, pixels)
    plugin.join(600)
    assert plugin.failure is None and isinstance(plugin.result, Result), plugin.failure
    assert plugin.sink.fractions, "the plug-in showed progress"
    assert any(text.startswith("Waiting for the dream server: ") for text in plugin.sink.texts), plugin.sink.texts
    dreamed = np.frombuffer(plugin.result.pixels, np.uint8).reshape(HEIGHT, WIDTH, 4)
    np.testing.assert_array_equal(dreamed[:, :, 3], plugin.pixels[:, :, 3])
    assert not np.array_equal(dreamed[:, :, :3], plugin.pixels[:, :, :3])
    assert facts(daemon.endpoint)["jobs_done"] == 3
