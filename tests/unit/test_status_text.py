"""``reverie status`` as a person reads it: the backend the server really runs on."""

from __future__ import annotations

from typing import Any

import pytest

from reverie.daemon.control import describe

FACTS: dict[str, Any] = {
    "version": "0.1.0",
    "endpoint": "tcp://127.0.0.1:5555",
    "pid": 42,
    "state": "ready",
    "model": "inception_v3",
    "weights": "imagenet",
    "device": "NVIDIA H200",
    "tensorflow": "2.21.0",
    "keras": "3.15.1",
    "protocol": 1,
    "uptime": 75,
    "jobs_done": 3,
    "jobs_cancelled": 0,
    "jobs_failed": 0,
    "queue": 0,
    "running": None,
    "limits": {"max_queue": 16, "max_pixels": 36e6, "max_side": 16384},
}


@pytest.mark.parametrize(
    ("backend", "version", "line"),
    [
        ("jax", "0.11.2", "  Keras 3.15.1 on JAX 0.11.2, protocol 1"),
        ("tensorflow", "2.21.0", "  Keras 3.15.1 on TensorFlow 2.21.0, protocol 1"),
        (None, None, "  Keras 3.15.1 on a backend not loaded yet, protocol 1"),
    ],
)
def test_status_names_the_backend_the_server_runs_on(backend: str | None, version: str | None, line: str) -> None:
    text = describe({**FACTS, "backend": backend, "backend_version": version})

    assert line in text.splitlines()
    assert "model inception_v3 (imagenet weights) on NVIDIA H200" in text


def test_status_of_a_loading_server_says_what_it_waits_for() -> None:
    text = describe({**FACTS, "state": "loading", "phase": "warming up (compiling)", "backend": None})
    assert (
        text.splitlines()[0]
        == "Reverie dream server 0.1.0 at tcp://127.0.0.1:5555 (pid 42): loading (warming up (compiling))"
    )


def test_status_says_when_an_idle_server_exits() -> None:
    assert describe({**FACTS, "idle_exit": 1800.0}).splitlines()[-1] == "  exits after 30 min without requests"
    assert "exits after" not in describe({**FACTS, "idle_exit": None})


def test_a_cluster_front_lists_its_dreamers_and_a_single_server_none() -> None:
    dreamers = [
        {"name": "dreamer-0", "host": "gpu1", "device": "H100", "state": "busy", "running": "j7", "jobs_done": 5},
        {"name": "dreamer-1", "host": None, "device": None, "state": "lost", "running": None, "jobs_done": 2},
    ]
    text = describe({**FACTS, "backend": "jax", "cluster": "head:6379", "dreamers": dreamers})
    assert text.splitlines()[-3:] == [
        "  Ray cluster at head:6379, 2 dreamers:",
        "    dreamer-0 on gpu1 (H100): running j7, 5 done",
        "    dreamer-1 on ? (?): lost, 2 done",
    ]
    assert "dreamer" not in describe({**FACTS, "backend": "jax"})
