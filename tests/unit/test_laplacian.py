"""The Laplacian-pyramid normalisation: an exact pyramid, equal say for each band, NumPy and JAX alike."""

from __future__ import annotations

import importlib.util

import ml_dtypes
import numpy as np
import pytest

from reverie.engine.backends.base import TiledOctave
from reverie.engine.backends.host import HostStepper
from reverie.engine.laplacian import lap_normalize, lap_normalize_padded, merge, pyramid
from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout


def smooth_plus_noise(shape: tuple[int, int, int], noise: float) -> np.ndarray:
    rows, cols = np.meshgrid(np.linspace(0, 3, shape[0]), np.linspace(0, 3, shape[1]), indexing="ij")
    smooth = np.sin(rows)[..., None] * np.cos(cols)[..., None] * np.ones(shape[2])
    return (smooth + noise * np.random.default_rng(0).standard_normal(shape)).astype(np.float32)


def high_share(image: np.ndarray) -> float:
    """The finest band's share of an image's energy."""
    return float(np.square(pyramid(image, 1)[0]).sum() / np.square(image).sum())


@pytest.mark.parametrize("shape", [(257, 130, 3), (8, 9, 3), (1, 5, 3)])
def test_the_pyramid_merges_back_exactly_at_any_size(shape: tuple[int, int, int]) -> None:
    image = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    bands = pyramid(image, 4)
    assert bands[0].shape == shape and bands[0].dtype == np.float32
    np.testing.assert_allclose(merge(bands), image, atol=1e-5)


def test_normalising_gives_the_coarse_shapes_the_say_noise_had() -> None:
    gradient = smooth_plus_noise((200, 300, 3), noise=3.0)
    normalised = lap_normalize(gradient, 4)
    assert normalised.shape == gradient.shape and normalised.dtype == np.float32
    assert high_share(normalised) < high_share(gradient) / 2


def test_a_bfloat16_gradient_normalises_as_its_float32_values() -> None:
    """A tiled host gradient is bfloat16: its bands' RMS must not be summed in bfloat16 (it stalls)."""
    gradient = smooth_plus_noise((300, 410, 3), noise=1.0).astype(ml_dtypes.bfloat16)
    normalised = lap_normalize(gradient, 4)
    assert normalised.dtype == np.float32
    np.testing.assert_allclose(normalised, lap_normalize(gradient.astype(np.float32), 4), atol=1e-5)


def test_a_zero_gradient_stays_zero() -> None:
    assert not lap_normalize(np.zeros((64, 64, 3), np.float32), 4).any()


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_the_same_function_runs_compiled_on_jax() -> None:
    import jax
    import jax.numpy as jnp

    gradient = smooth_plus_noise((130, 97, 3), noise=1.0)
    compiled = jax.jit(lambda g: lap_normalize(g, 4, jnp))
    np.testing.assert_allclose(np.asarray(compiled(jnp.asarray(gradient))), lap_normalize(gradient, 4), atol=1e-4)


def test_the_host_stepper_moves_along_the_laplacian_normalised_gradient() -> None:
    image = np.random.default_rng(6).uniform(-0.5, 0.5, (300, 90, 3)).astype(np.float32)
    params = DreamParams(step_size=0.01, normalization="laplacian", lap_levels=3)
    direction = lap_normalize(np.cos(image * 5.0), 3)
    want = image + 0.01 * direction / np.abs(direction).mean()
    layout = TileLayout.for_shape(300, 90, 1024, 16)
    stepper = HostStepper(
        lambda tiles: (np.ones(len(tiles), np.float32), np.cos(tiles * 5.0)),
        TiledOctave(params, (300, 90), layout, 1, None),
    )
    _, stepped = stepper.step(image.copy(), (0, 0))
    np.testing.assert_allclose(stepped, want, atol=1e-5)


@pytest.mark.parametrize(
    ("true", "padded", "levels"),
    [((128, 256), (128, 256), 4), ((100, 170), (128, 256), 4), ((90, 37), (128, 128), 8), ((5, 9), (128, 128), 3)],
)  # 8 levels: the true image stops splitting before the padded one; (5, 9): after one level
def test_on_a_padded_gradient_the_true_part_normalises_as_alone(
    true: tuple[int, int], padded: tuple[int, int], levels: int
) -> None:
    gradient = smooth_plus_noise((*true, 3), noise=1.0)
    canvas = np.zeros((*padded, 3), np.float32)
    canvas[: true[0], : true[1]] = gradient

    normalised = lap_normalize_padded(canvas, np.asarray(true, np.int32), levels)

    assert normalised.shape == canvas.shape and normalised.dtype == np.float32
    np.testing.assert_allclose(normalised[: true[0], : true[1]], lap_normalize(gradient, levels), atol=1e-5)
    assert not normalised[true[0] :].any() and not normalised[:, true[1] :].any()


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_the_padded_form_compiles_once_for_every_true_size() -> None:
    import jax
    import jax.numpy as jnp

    compiled = jax.jit(lambda g, size: lap_normalize_padded(g, size, 5, jnp))
    for true in [(100, 170), (60, 33)]:
        gradient = smooth_plus_noise((*true, 3), noise=1.0)
        canvas = np.zeros((128, 256, 3), np.float32)
        canvas[: true[0], : true[1]] = gradient
        normalised = np.asarray(compiled(canvas, np.asarray(true, np.int32)))
        np.testing.assert_allclose(normalised[: true[0], : true[1]], lap_normalize(gradient, 5), atol=1e-4)
    assert compiled._cache_size() == 1
