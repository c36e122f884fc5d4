"""The JAX device canvas against the host canvas: the same octave transitions, kept on the device, padded
to whole tiles."""

from __future__ import annotations

import itertools
from types import ModuleType

import numpy as np
import pytest

from reverie.engine.backends.host import HostCanvas
from reverie.engine.tiling import grid_span

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax_padded = pytest.importorskip("reverie.engine.backends.jax_padded")

SHAPES = [(45, 66), (64, 92), (90, 130)]
UNIT = 64  # padded shapes: 64×128, 64×128, 128×192


def _padded(shape: tuple[int, int]) -> tuple[int, int]:
    return grid_span(shape, UNIT)


def unpadded(image: jax.Array, shape: tuple[int, int]) -> np.ndarray:
    """The image within its padding, after checking that the padding is empty."""
    values = np.asarray(image)
    assert values.shape[:2] == grid_span(shape, UNIT)
    assert not values[shape[0] :].any() and not values[:, shape[1] :].any()
    return values[: shape[0], : shape[1]]


@pytest.mark.parametrize("reinjection", [True, False])
def test_octaves_grow_on_the_device_as_on_the_host(jax_backend: ModuleType, reinjection: bool) -> None:
    rng = np.random.default_rng(7)
    source = rng.random((*SHAPES[-1], 3), dtype=np.float32)
    host = HostCanvas(source)
    device = jax_backend.BACKEND.canvas(source, _padded)

    first = device.first(SHAPES[0])

    assert isinstance(first, jax.Array)
    np.testing.assert_allclose(unpadded(first, SHAPES[0]), host.first(SHAPES[0]), atol=1e-4)
    for previous, shape in itertools.pairwise(SHAPES):
        dreamt = rng.uniform(-1.0, 1.0, (*previous, 3)).astype(np.float32)  # as steps leave an octave
        grown = device.grow(jnp.asarray(jax_padded.padded(dreamt, UNIT)), shape, previous)
        want = host.grow(dreamt, shape, previous)
        if reinjection:
            grown = device.reinject(grown, shape, previous)
            want = host.reinject(want, shape, previous)
        assert isinstance(grown, jax.Array)
        np.testing.assert_allclose(unpadded(grown, shape), want, atol=1e-4)


def test_the_source_size_itself_is_not_resized(jax_backend: ModuleType) -> None:
    source = np.random.default_rng(9).random((*SHAPES[-1], 3), dtype=np.float32)

    first = jax_backend.BACKEND.canvas(source, _padded).first(SHAPES[-1])

    np.testing.assert_array_equal(unpadded(first, SHAPES[-1]), source * 2.0 - 1.0)


def test_another_image_size_on_the_same_padded_shapes_compiles_nothing_new(jax_backend: ModuleType) -> None:
    jax_canvas = pytest.importorskip("reverie.engine.backends.jax_canvas")  # after the fixture set its cache
    compiled = []
    for shapes in [SHAPES, [(40, 70), (56, 98), (80, 140)]]:  # padded as SHAPES are
        source = np.ones((*shapes[-1], 3), np.float32)
        canvas = jax_backend.BACKEND.canvas(source, _padded)
        image = canvas.first(shapes[0])
        for previous, shape in itertools.pairwise(shapes):
            image = canvas.reinject(canvas.grow(image, shape, previous), shape, previous)
        canvas.result(image)
        functions = (jax_canvas._first, jax_canvas._grown, jax_canvas._reinjected)
        compiled.append([function._cache_size() for function in functions])

    assert compiled[1] == compiled[0]


def test_the_result_comes_back_unpadded_clipped_to_the_unit_range_and_writable(jax_backend: ModuleType) -> None:
    source = np.zeros((*SHAPES[-1], 3), np.float32)
    final = np.random.default_rng(8).uniform(-1.5, 1.5, (*SHAPES[-1], 3)).astype(np.float32)

    result = jax_backend.BACKEND.canvas(source, _padded).result(jnp.asarray(jax_padded.padded(final, UNIT)))

    np.testing.assert_allclose(result, HostCanvas(source).result(final.copy()), atol=1e-6)
    assert result.min() == 0.0 and result.max() == 1.0
    assert result.flags.writeable
