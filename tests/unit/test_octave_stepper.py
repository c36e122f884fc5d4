"""The JAX whole-octave stepper (the steps of an octave in one compiled loop, on a padded bucket) against the
host loop stepping the unpadded image with the same shifts, on a small real Keras network."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from reverie.engine.backends.base import TiledOctave, WholeOctave
from reverie.engine.backends.host import HostStepper
from reverie.engine.laplacian import pyramid
from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
keras = pytest.importorskip("keras")
jax_octave = pytest.importorskip("reverie.engine.backends.jax_octave")
jax_padded = pytest.importorskip("reverie.engine.backends.jax_padded")

SEED, OCTAVE, JITTER = 11, 2, 9


@pytest.fixture(scope="module")
def gradient(jax_backend: ModuleType) -> Any:
    """A small network as a dream uses one: a valid stride-2 convolution (as InceptionV3's stem) and a
    "same" one, both layers in the objective."""
    if keras.backend.backend() != "jax":
        pytest.skip("Keras runs on another backend here")
    from reverie.engine.objective import make_objective

    keras.utils.set_random_seed(4)
    inputs = keras.Input((None, None, 3))
    a = keras.layers.Conv2D(6, 3, strides=2, padding="valid", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(5, 3, padding="same", activation="tanh", name="b")(a)
    extractor = keras.Model(inputs, [a, b])
    return jax_backend.BACKEND.make_gradient_fn(extractor, make_objective(("a", "b"), {"a": 1.0, "b": 0.5}, {}))


def whole(
    gradient: Any,
    image: np.ndarray,
    params: DreamParams,
    first: int,
    count: int,
    state: Any = None,
    strength: np.ndarray | None = None,
) -> Any:
    shape = image.shape[:2]
    octave = WholeOctave(params.replace(jitter=JITTER), shape, jax_octave.bucket(shape), SEED, OCTAVE, strength)
    stepper = jax_octave.OctaveStepper(gradient.octave_loop(), octave)
    start = jnp.asarray(jax_padded.padded_to(image, stepper.padded_shape)) if state is None else state
    return stepper.advance(start, first, count)


def host(
    gradient: Any, image: np.ndarray, params: DreamParams, steps: int, strength: np.ndarray | None = None
) -> tuple[np.ndarray, list[float]]:
    """The per-step host loop over the whole unpadded image (one tile), with the shifts the device draws."""
    shape = image.shape[:2]
    octave = TiledOctave(params, shape, TileLayout.for_shape(*shape, 4096, 0), 1, None, strength)
    stepper = HostStepper(gradient, octave)
    key = jax_octave.octave_key(np.uint32(SEED), np.int32(OCTAVE))
    image, losses = image.copy(), []
    for step in range(1, steps + 1):
        shift = jax_octave.shift(key, np.int32(step), np.int32(JITTER))
        loss, image = stepper.step(image, (int(shift[0]), int(shift[1])))
        losses.append(loss)
    return image, losses


def picture(shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(3).uniform(-1.0, 1.0, (*shape, 3)).astype(np.float32)


@pytest.mark.parametrize("normalization", ["mean_abs", "std", "laplacian"])
def test_on_a_full_bucket_the_loop_equals_the_host_loop(gradient: Any, normalization: str) -> None:
    image, params = picture((128, 256)), DreamParams(step_size=0.05, normalization=normalization, max_loss=None)
    want, want_losses = host(gradient, image, params, 4)

    got, losses = whole(gradient, image, params, 1, 4)

    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(got), want, atol=2e-4)


@pytest.mark.parametrize("shape", [(128, 256), (100, 170)])
def test_a_painted_loop_equals_the_painted_host_loop(gradient: Any, shape: tuple[int, int]) -> None:
    """The map is an input of the compiled loop: each pixel steps its share whatever the jitter, and where it is
    0 the pixels never move."""
    image, params = picture(shape), DreamParams(step_size=0.05, max_loss=None)
    strength = np.zeros(shape, np.float32)
    strength[:, shape[1] // 2 :] = 1.0
    strength[: shape[0] // 3, shape[1] // 2 :] = 0.5
    want, want_losses = host(gradient, image, params, 4, strength)

    got, losses = whole(gradient, image, params, 1, 4, strength=strength)
    got = np.asarray(got)[: shape[0], : shape[1]]

    np.testing.assert_array_equal(got[:, : shape[1] // 2], image[:, : shape[1] // 2])
    if shape == (128, 256):  # a full bucket: the very host loop (a padded one differs at the true edge)
        np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
        np.testing.assert_allclose(got, want, atol=2e-4)
    else:
        step, want_step = (got - image).ravel(), (want - image).ravel()
        assert np.corrcoef(step, want_step)[0, 1] > 0.99
    assert np.abs(got[:, shape[1] // 2 :] - image[:, shape[1] // 2 :]).mean() > 1e-3


def test_padding_changes_only_what_the_network_sees_across_the_true_edge(gradient: Any) -> None:
    """The activations next to the true right and bottom edges see padding, not the convolution's zeros:
    the rest of the image, and the objective's value, stay the host loop's."""
    image, params = picture((100, 170)), DreamParams(step_size=0.05, max_loss=None)
    want, want_losses = host(gradient, image, params, 1)

    got, losses = whole(gradient, image, params, 1, 1)
    got = np.asarray(got)

    assert got.shape[:2] == (128, 256) and not got[100:].any() and not got[:, 170:].any()
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    # the gradient's scale differs a little (the edges' pixels count in it): compare the step's direction
    step, want_step = (got[:100, :170] - image).ravel(), (want - image).ravel()
    assert np.corrcoef(step, want_step)[0, 1] > 0.99


def finest_share(change: np.ndarray) -> float:
    """The finest pyramid band's share of a change's energy: speckle against shapes."""
    return float(np.square(pyramid(change, 1)[0]).sum() / np.square(change).sum())


def test_laplacian_on_a_padded_bucket_steps_the_true_part_smoothly(gradient: Any) -> None:
    """On a padded image the laplacian loop stays finite, leaves the padding empty, moves as the host loop
    (up to what the network sees across the true edge) and puts less of its change in the finest band."""
    image = picture((100, 170))
    params = DreamParams(step_size=0.05, normalization="laplacian", lap_levels=3, max_loss=None)
    want, _ = host(gradient, image, params, 2)

    got, losses = whole(gradient, image, params, 1, 2)
    plain, _ = whole(gradient, image, params.replace(normalization="mean_abs"), 1, 2)
    got, plain = np.asarray(got), np.asarray(plain)

    assert np.isfinite(got).all() and np.isfinite(losses).all()
    assert got.shape[:2] == (128, 256) and not got[100:].any() and not got[:, 170:].any()
    step, want_step = (got[:100, :170] - image).ravel(), (want - image).ravel()
    assert np.corrcoef(step, want_step)[0, 1] > 0.99
    change, plain_change = got[:100, :170] - image, plain[:100, :170] - image
    assert finest_share(change) < finest_share(plain_change)


def test_chunks_of_any_length_give_the_same_image_with_one_compile(gradient: Any) -> None:
    compiles: list[float] = []
    listener = lambda event, seconds, **_: (  # noqa: E731
        compiles.append(seconds) if event == "/jax/core/compile/backend_compile_duration" else None
    )
    jax.monitoring.register_event_duration_secs_listener(listener)
    image, params = picture((90, 140)), DreamParams(step_size=0.05, max_loss=None)
    at_once, losses = whole(gradient, image, params, 1, 5)
    before = len(compiles)

    part, first_losses = whole(gradient, image, params, 1, 2)
    rest, last_losses = whole(gradient, image, params, 3, 3, state=part)
    other_size, _ = whole(gradient, picture((100, 200)), params, 1, 1)  # the same 128×256 bucket

    np.testing.assert_array_equal(np.asarray(rest), np.asarray(at_once))
    assert first_losses + last_losses == losses
    assert len(compiles) == before
    assert other_size.shape[:2] == (128, 256)


def test_the_loop_stops_on_the_device_after_the_step_that_passed_max_loss(gradient: Any) -> None:
    image, params = picture((90, 140)), DreamParams(step_size=0.05, max_loss=None)
    _, losses = whole(gradient, image, params, 1, 6)
    passing = next(step for step in range(1, 6) if losses[step] > max(losses[:step]))  # from 0
    threshold = (max(losses[:passing]) + losses[passing]) / 2

    stopped, kept = whole(gradient, image, params.replace(max_loss=threshold), 1, 6)
    until_then, _ = whole(gradient, image, params, 1, passing + 1)

    assert kept == losses[: passing + 1]
    np.testing.assert_array_equal(np.asarray(stopped), np.asarray(until_then))


def test_the_stop_threshold_compares_as_the_host_does() -> None:
    for max_loss in (0.1, 15.0, 1e-6, 3.3333333333):
        threshold = jax_octave.stop_threshold(max_loss)
        for loss in np.float32(max_loss) + np.float32(max_loss) * np.float32([-1e-6, -1e-7, 0, 1e-7, 1e-6]):
            assert bool(np.float32(loss) > threshold) == (float(np.float32(loss)) > max_loss)
    assert jax_octave.stop_threshold(None) == np.inf


def test_chunks_last_about_a_quarter_second_at_the_measured_pace(gradient: Any) -> None:
    image, params = picture((90, 140)), DreamParams(step_size=0.05, max_loss=None)
    octave = WholeOctave(params.replace(jitter=JITTER), (90, 140), jax_octave.bucket((90, 140)), SEED, 1)
    stepper = jax_octave.OctaveStepper(gradient.octave_loop(), octave)
    loop = gradient.octave_loop()
    loop.step_seconds.pop(stepper.padded_shape, None)
    assert stepper.chunk(20) == 1  # nothing measured yet
    loop.step_seconds[stepper.padded_shape] = 0.05
    assert stepper.chunk(20) == 5 and stepper.chunk(3) == 3
    loop.step_seconds[stepper.padded_shape] = 1e-5
    assert stepper.chunk(1000) == jax_octave.CAPACITY
    loop.step_seconds.pop(stepper.padded_shape)
    whole(gradient, image, params, 1, 2)  # this bucket compiled in an earlier test: the call is timed
    assert stepper.padded_shape in loop.step_seconds


@pytest.mark.parametrize(
    ("stride", "padding", "fitted"),
    [(2, "valid", True), (2, "same", True), (3, "valid", False)],  # stride 3: 1024 is no multiple: inferred
)
def test_activation_extents_follow_keras_shape_inference(
    jax_backend: ModuleType, stride: int, padding: str, fitted: bool
) -> None:
    inputs = keras.Input((None, None, 3))
    a = keras.layers.Conv2D(2, 3, strides=2, padding="valid", name="a")(inputs)
    b = keras.layers.ZeroPadding2D(((1, 0), (0, 2)))(a)
    b = keras.layers.MaxPooling2D(3, strides=stride, padding=padding, name="b")(b)
    extents = jax_octave.ActivationExtents(keras.Model(inputs, [a, b]))

    for shape in [(75, 75), (100, 171), (391, 522), (548, 731), (1000, 1337)]:
        assert np.array_equal(extents(shape), extents.infer(shape)), shape
    assert (extents._fit is not None) == fitted


def test_the_loop_has_no_scatter(gradient: Any) -> None:
    """XLA's deterministic GPU compiles refuse some scatters (or run them serially): the loop has none."""
    loop = gradient.octave_loop()
    image = np.zeros((128, 256, 3), np.float32)
    arguments = (image, np.int32([100, 200]), loop.extents((100, 200)), np.uint32(1), np.int32(1), np.int32(1))
    arguments += (np.int32(2), np.int32(JITTER), np.float32(0.01), np.float32(np.inf), loop._weights)
    for normalization in ("mean_abs", "laplacian"):
        traced = loop._run.trace(*arguments, normalization=normalization, lap_levels=4)
        assert "scatter" not in str(traced.jaxpr), normalization
