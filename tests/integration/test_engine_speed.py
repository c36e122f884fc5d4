"""The engine's speed machinery with real TensorFlow: folded graphs, bfloat16, warm-up, out-of-memory retry."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pytest

from reverie.engine import DreamParams, dream, load_model, warm_up
from reverie.engine.backends import Device, TilePolicy
from reverie.engine.folding import dream_graph
from reverie.engine.precision import resolve

SMALL = DreamParams(model="mobilenet", octaves=1, steps=3, seed=4, max_loss=None)


@pytest.fixture(scope="module")
def mobilenet(mobilenet_weights_file: Path):
    return load_model("mobilenet", str(mobilenet_weights_file))


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    from skimage import data

    return (data.astronaut()[::2, ::2].astype(np.float32) / 255.0).copy()


def test_folded_graph_computes_the_same_activations(mobilenet) -> None:
    """Real batch-norm statistics folded into the convolutions change nothing but rounding."""
    image = np.random.default_rng(0).uniform(-1, 1, (2, 160, 192, 3)).astype(np.float32)
    folded = dream_graph(mobilenet.base, "float32")
    assert len(folded.weights) < len(mobilenet.base.weights)  # the batch norms' variables are gone
    want = np.asarray(mobilenet.base(image, training=False))
    got = np.asarray(folded(image, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_bfloat16_graph_stays_close(mobilenet) -> None:
    image = np.random.default_rng(1).uniform(-1, 1, (1, 160, 160, 3)).astype(np.float32)
    graph = dream_graph(mobilenet.base, "mixed_bfloat16")
    assert graph.get_layer("conv1").compute_dtype == "bfloat16"
    layer = "conv_pw_11_relu"  # the deepest layer of the default preset; bf16 rounding grows with depth
    want = np.asarray(mobilenet.extractor((layer,))(image, training=False))
    got = np.asarray(keras.Model(graph.inputs, graph.get_layer(layer).output)(image, training=False))
    assert np.linalg.norm(got.astype(np.float32) - want) / np.linalg.norm(want) < 0.06


def coarse(change: np.ndarray, block: int = 8) -> np.ndarray:
    """Mean change over block×block squares: the structure a viewer sees, not pixel-level texture."""
    height, width = (change.shape[0] // block) * block, (change.shape[1] // block) * block
    return change[:height, :width].reshape(height // block, block, width // block, block, 3).mean(axis=(1, 3))


def test_precisions_dream_alike_and_each_is_exactly_repeatable(mobilenet, picture) -> None:
    """bfloat16 rounding moves fine texture (as any rounding does: the ascent amplifies it), not the structure."""
    plain = dream(picture, SMALL.replace(precision="float32"), mobilenet)
    half = dream(picture, SMALL.replace(precision="bfloat16"), mobilenet)
    np.testing.assert_array_equal(plain.image, dream(picture, SMALL.replace(precision="float32"), mobilenet).image)
    np.testing.assert_array_equal(half.image, dream(picture, SMALL.replace(precision="bfloat16"), mobilenet).image)
    change_plain, change_half = coarse(plain.image - picture).ravel(), coarse(half.image - picture).ravel()
    assert np.corrcoef(change_plain, change_half)[0, 1] > 0.7


def test_auto_precision_is_bfloat16_only_where_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu, gpu = Device("cpu", "CPU"), Device("gpu", "NVIDIA H100")
    monkeypatch.setattr("reverie.engine.precision.cpu_has_bf16", lambda: True)
    assert resolve("auto", "tensorflow", cpu) == "bfloat16"
    assert resolve("auto", "jax", gpu) == "bfloat16"
    assert resolve("auto", "tensorflow", gpu) == "float32"
    assert resolve("float32", "jax", gpu) == "float32"
    monkeypatch.setattr("reverie.engine.precision.cpu_has_bf16", lambda: False)
    assert resolve("auto", "tensorflow", cpu) == "float32"


def test_warm_up_builds_what_the_first_dream_uses(mobilenet, picture, monkeypatch: pytest.MonkeyPatch) -> None:
    params = SMALL.replace(precision="float32", preset="deep")
    assert warm_up(mobilenet, params) > 0

    def no_new_compiles(*args: object) -> None:
        raise AssertionError("the dream compiled a gradient that warm-up should have built")

    monkeypatch.setattr(mobilenet.backend, "make_gradient_fn", no_new_compiles)
    assert dream(picture, params, mobilenet).image.shape == picture.shape


class FakeOutOfMemory(RuntimeError):
    pass


def test_out_of_memory_shrinks_the_tiles_and_the_dream_goes_on(
    picture, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On the CPU a batch is one tile already, so the tile itself is halved (down to 128 pixels, no further)."""
    model = load_model.__wrapped__("mobilenet", "random")  # a private model: its tile caps change
    import reverie.engine.backends.host as host

    real = host.tiled_gradient

    def tight_memory(image, layout, gradient_fn, batch, shift, should_cancel):
        if layout.tile_height * layout.tile_width * batch > 128 * 128:
            raise FakeOutOfMemory("RESOURCE_EXHAUSTED: out of memory")
        return real(image, layout, gradient_fn, batch, shift, should_cancel)

    monkeypatch.setattr(host, "tiled_gradient", tight_memory)
    monkeypatch.setattr(model.tiles, "is_out_of_memory", lambda error: isinstance(error, FakeOutOfMemory))
    params = SMALL.replace(tile_size=256, tile_overlap=64)
    assert model.tiles.plan(params).batch == 1
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        result = dream(picture, params, model)
    assert len(result.losses) == 3
    assert model.tiles.plan(params).tile == 128
    assert "out of device memory with 1 tile(s) of 256² at once; going on with 1 tile(s) of 128²" in caplog.text
    monkeypatch.setattr(host, "tiled_gradient", lambda *args: (_ for _ in ()).throw(FakeOutOfMemory("still")))
    with pytest.raises(FakeOutOfMemory):  # nothing smaller to try: the error is the job's
        dream(picture, params, model)


def test_out_of_memory_while_warming_up_shrinks_the_batch_and_the_warm_up_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A GPU too small for 16 tiles at once gets a server dreaming 4 at once, not one that fails to start."""
    model = load_model.__wrapped__("mobilenet", "random")  # a private model: its tile caps change
    monkeypatch.setattr(model.tiles, "policy", TilePolicy(fixed=True, tile=256, batch=16))
    monkeypatch.setattr(model.tiles, "is_out_of_memory", lambda error: isinstance(error, FakeOutOfMemory))
    batches = []

    def gradient_fn(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batches.append(len(tiles))
        if len(tiles) > 4:
            raise FakeOutOfMemory("RESOURCE_EXHAUSTED: out of memory")
        return np.zeros(len(tiles), np.float32), np.zeros_like(tiles)

    monkeypatch.setattr(model, "gradient_fn", lambda *args: gradient_fn)
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        warm_up(model, SMALL)
    assert batches == [1, 2, 4, 8, 1, 2, 4]
    assert model.tiles.plan(SMALL).batch == 4
    assert "warm-up: out of device memory with 8 tile(s) of 256² at once; going on with 4 tile(s)" in caplog.text

    def broken(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise ValueError("not a memory problem")

    monkeypatch.setattr(model, "gradient_fn", lambda *args: broken)
    with pytest.raises(ValueError, match="not a memory problem"):
        warm_up(model, SMALL)
