"""An operator whose JAX finds no GPU is told, at model load, that TensorFlow would dream faster there."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from reverie.engine import loading
from reverie.engine.backends.base import Device, TilePolicy

WARNING = "Keras runs on JAX, which found no GPU"


@pytest.mark.parametrize(
    ("backend", "platform", "warned"),
    [("jax", "cpu", True), ("jax", "gpu", False), ("tensorflow", "cpu", False)],
)
def test_jax_without_a_gpu_is_called_out(
    backend: str, platform: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    stand_in = SimpleNamespace(
        name=backend,
        device=lambda: Device(platform, platform.upper()),
        tile_policy=lambda device: TilePolicy(fixed=True, tile=512, batch=1),
        bucket=lambda shape: None,
        is_out_of_memory=lambda error: False,
    )
    with caplog.at_level(logging.WARNING, logger="reverie.engine.loading"):
        loading.DreamModel(loading.get_spec("mobilenet"), None, "random", stand_in)  # type: ignore[arg-type]
    assert (WARNING in caplog.text) is warned
