"""The host stepper's update: one normalised gradient step, clipped, with a stand-in gradient."""

import numpy as np
import pytest

from reverie.engine.backends.base import TiledOctave
from reverie.engine.backends.host import HostStepper
from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout


def known_gradient(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ones(len(tiles), np.float32), np.cos(tiles * 5.0)


@pytest.mark.parametrize("normalization", ["mean_abs", "std"])
@pytest.mark.parametrize(("tile", "tolerance"), [(1024, 1e-5), (64, 1e-2)])  # several tiles blend in bfloat16
def test_a_step_moves_along_the_normalised_gradient_and_clips(normalization: str, tile: int, tolerance: float) -> None:
    image = np.random.default_rng(6).uniform(-1.0, 1.0, (700, 90, 3)).astype(np.float32)
    params = DreamParams(step_size=0.5, normalization=normalization)
    gradient = np.cos(image * 5.0).astype(np.float64)
    scale = gradient.std() if normalization == "std" else np.abs(gradient).mean()
    want = np.clip(image + 0.5 * gradient / scale, -1.0, 1.0)
    layout = TileLayout.for_shape(700, 90, tile, 16)
    stepper = HostStepper(known_gradient, TiledOctave(params, (700, 90), layout, 1, None))

    loss, stepped = stepper.step(image.copy(), (0, 0))

    assert loss == 1.0
    np.testing.assert_allclose(stepped, want, atol=tolerance)
    assert stepped.min() == -1.0 and stepped.max() == 1.0
