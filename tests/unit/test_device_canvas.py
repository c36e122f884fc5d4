"""The JAX device canvas against the host canvas: the same octave transitions, kept on the device."""

from __future__ import annotations

import itertools
from types import ModuleType

import numpy as np
import pytest

from reverie.engine.octaves import HostCanvas

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

SHAPES = [(45, 66), (64, 92), (90, 130)]


@pytest.mark.parametrize("reinjection", [True, False])
def test_octaves_grow_on_the_device_as_on_the_host(jax_backend: ModuleType, reinjection: bool) -> None:
    rng = np.random.default_rng(7)
    source = rng.random((*SHAPES[-1], 3), dtype=np.float32)
    host = HostCanvas(source, reinjection)
    device = jax_backend.make_canvas(source, reinjection)

    first = device.first(SHAPES[0])

    assert isinstance(first, jax.Array)
    np.testing.assert_allclose(np.asarray(first), host.first(SHAPES[0]), atol=1e-4)
    for previous, shape in itertools.pairwise(SHAPES):
        dreamt = rng.uniform(-1.0, 1.0, (*previous, 3)).astype(np.float32)  # as steps leave an octave
        grown = device.next(jnp.asarray(dreamt), shape, previous)
        assert isinstance(grown, jax.Array)
        np.testing.assert_allclose(np.asarray(grown), host.next(dreamt.copy(), shape, previous), atol=1e-4)


def test_the_result_comes_back_clipped_to_the_unit_range_and_writable(jax_backend: ModuleType) -> None:
    source = np.zeros((*SHAPES[-1], 3), np.float32)
    final = np.random.default_rng(8).uniform(-1.5, 1.5, (*SHAPES[-1], 3)).astype(np.float32)

    result = jax_backend.make_canvas(source, True).result(jnp.asarray(final))

    np.testing.assert_allclose(result, HostCanvas(source, True).result(final.copy()), atol=1e-6)
    assert result.min() == 0.0 and result.max() == 1.0
    assert result.flags.writeable
