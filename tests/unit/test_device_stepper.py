"""The JAX device stepper against the host stepper, with a stand-in gradient that depends on tile position."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from reverie.engine.backends.base import TiledOctave
from reverie.engine.backends.host import HostStepper
from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax_padded = pytest.importorskip("reverie.engine.backends.jax_padded")


def positional(tiles):
    """sin of each pixel plus a ramp over its place in the tile: a wrong cut, shift or blend shows."""
    rows = np.arange(tiles.shape[1], dtype=np.float32)[None, :, None, None]
    cols = np.arange(tiles.shape[2], dtype=np.float32)[None, None, :, None]
    return (tiles**2).mean(axis=(1, 2, 3)), np.sin(tiles * 3.0) + 0.01 * rows - 0.02 * cols


class StandInGradient:
    """The compiled gradient's interface (``raw``) around the stand-in."""

    def raw(self, tiles):
        losses, gradients = positional(jnp.asarray(tiles))
        return (losses.sum(), losses), gradients


@pytest.mark.parametrize("normalization", ["mean_abs", "std", "laplacian"])
@pytest.mark.parametrize(
    ("tile", "batch", "padding", "tolerance"),
    [(128, 3, 128, 2e-2), (160, 16, 160, 2e-2), (150, 4, 150, 2e-2), (512, 2, 512, 1e-5), (128, 4, 256, 2e-2)],
)  # several tiles blend in bfloat16 on the host; 150: rows fill the grid exactly; padding other than the
# tile's: as after running out of memory
@pytest.mark.parametrize("shift", [(0, 0), (7, -13), (-31, 29)])
def test_a_device_step_equals_the_host_step(
    jax_backend: ModuleType,
    normalization: str,
    tile: int,
    batch: int,
    padding: int,
    tolerance: float,
    shift: tuple[int, int],
) -> None:
    image = np.random.default_rng(5).uniform(-1.0, 1.0, (300, 410, 3)).astype(np.float32)
    params = DreamParams(step_size=0.3, normalization=normalization)
    layout = TileLayout.for_shape(300, 410, tile, 32, fixed=True)
    host = HostStepper(positional, TiledOctave(params, (300, 410), layout, batch, None))
    device = jax_backend.DeviceStepper(StandInGradient(), TiledOctave(params, (300, 410), layout, batch, None))
    want_loss, want = host.step(image.copy(), shift)

    loss, stepped = device.step(jnp.asarray(jax_padded.padded(image, padding)), shift)

    assert device.asynchronous and isinstance(loss, jax.Array)
    assert float(loss) == pytest.approx(want_loss, rel=1e-5)
    assert stepped.shape == (layout.height, layout.width, 3)
    got = np.asarray(stepped)
    np.testing.assert_allclose(got[:300, :410], want, atol=tolerance)
    assert not got[300:].any() and not got[:, 410:].any()  # the padding stays empty
    assert np.abs(got[:300, :410] - image).mean() > 0.05  # the step moved the image


def test_another_image_size_on_the_same_tile_grid_compiles_no_new_step(jax_backend: ModuleType) -> None:
    compiled = []
    for shape in [(300, 410), (280, 390)]:
        layout = TileLayout.for_shape(*shape, 128, 0, fixed=True)
        assert (layout.height, layout.width) == (384, 512)
        octave = TiledOctave(DreamParams(step_size=0.3, normalization="std"), shape, layout, 4, None)
        device = jax_backend.DeviceStepper(StandInGradient(), octave)
        image = jnp.asarray(jax_padded.padded(np.ones((*shape, 3), np.float32), 128))
        jax.block_until_ready(device.step(image, (5, 9)))
        compiled.append((jax_backend._cut._cache_size(), jax_backend._update._cache_size()))

    assert compiled[1] == compiled[0]


def painted_map(shape: tuple[int, int]) -> np.ndarray:
    """A strength map at the octave's shape: none on the left third, a ramp, full on the right."""
    ramp = np.clip(np.linspace(-0.5, 1.5, shape[1], dtype=np.float32), 0.0, 1.0)
    return np.broadcast_to(ramp, shape).copy()


@pytest.mark.parametrize("normalization", ["mean_abs", "laplacian"])
@pytest.mark.parametrize("shift", [(0, 0), (-31, 29)])
def test_a_painted_device_step_equals_the_host_step(
    jax_backend: ModuleType, normalization: str, shift: tuple[int, int]
) -> None:
    """The map scales each pixel's step where it was painted, whatever the jitter's roll."""
    image = np.random.default_rng(5).uniform(-1.0, 1.0, (300, 410, 3)).astype(np.float32)
    params = DreamParams(step_size=0.3, normalization=normalization)
    layout = TileLayout.for_shape(300, 410, 128, 32, fixed=True)
    octave = TiledOctave(params, (300, 410), layout, 4, None, painted_map((300, 410)))
    _, want = HostStepper(positional, octave).step(image.copy(), shift)

    _, stepped = jax_backend.DeviceStepper(StandInGradient(), octave).step(
        jnp.asarray(jax_padded.padded(image, 128)), shift
    )

    got = np.asarray(stepped)[:300, :410]
    np.testing.assert_allclose(got, want, atol=2e-2)
    np.testing.assert_array_equal(got[:, :100], image[:, :100])  # strength 0: not moved at all
    assert np.abs(got[:, 320:] - image[:, 320:]).mean() > 0.05
