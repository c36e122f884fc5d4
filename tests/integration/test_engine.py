"""The dream engine with real TensorFlow: random InceptionV3 and the real MobileNet ImageNet weights."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from reverie.engine import DreamParams, dream, load_model
from reverie.engine.octaves import resize
from reverie.engine.weight_files import keras_cache_dir
from reverie_wire.errors import BadRequest, DreamCancelled, ImageTooSmall, WeightsMissing

SMALL = DreamParams(octaves=2, steps=4, seed=7, max_loss=None)


@pytest.fixture(scope="module")
def inception():
    return load_model("inception_v3", "random")


@pytest.fixture(scope="module")
def mobilenet(mobilenet_weights_file: Path):
    return load_model("mobilenet", "imagenet")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return (data.astronaut().astype(np.float32) / 255.0).copy()


def rising(losses: tuple[float, ...]) -> bool:
    return losses[-1] > losses[0] * 1.05


def test_objective_rises_with_random_inception(inception) -> None:
    image = np.random.default_rng(0).random((160, 200, 3), dtype=np.float32)
    result = dream(image, SMALL.replace(octaves=1, steps=8), inception)
    assert len(result.losses) == 8
    assert rising(result.losses)


def test_objective_rises_with_real_mobilenet_weights(mobilenet, astronaut) -> None:
    params = DreamParams(model="mobilenet", octaves=1, steps=8, step_size=0.02, seed=1, max_loss=None)
    result = dream(astronaut, params, mobilenet)
    assert rising(result.losses)
    # Real features change a real photo visibly, yet it stays the same picture.
    difference = np.abs(result.image - astronaut).mean()
    assert 0.005 < difference < 0.2


def test_odd_sizes_come_back_the_same_size(inception) -> None:
    image = np.random.default_rng(1).random((217, 333, 3), dtype=np.float32)
    result = dream(image, SMALL, inception)
    assert result.image.shape == (217, 333, 3)
    assert result.image.dtype == np.float32
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0


def test_same_seed_same_dream_other_seed_other_dream(inception) -> None:
    image = np.random.default_rng(2).random((150, 170, 3), dtype=np.float32)
    first = dream(image, SMALL, inception)
    again = dream(image, SMALL, inception)
    other = dream(image, SMALL.replace(seed=8), inception)
    assert first.seed == 7
    np.testing.assert_array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)


def test_without_a_seed_one_is_chosen_and_reported(inception) -> None:
    image = np.random.default_rng(3).random((120, 120, 3), dtype=np.float32)
    result = dream(image, SMALL.replace(seed=None, octaves=1, steps=1), inception)
    replay = dream(image, SMALL.replace(seed=result.seed, octaves=1, steps=1), inception)
    np.testing.assert_array_equal(result.image, replay.image)


def test_tile_path_equals_whole_image_path_on_one_tile(mobilenet, astronaut, monkeypatch) -> None:
    """On an image that fits one tile, the feathered-tile machinery gives the plain whole-image dream."""
    image = astronaut[:200, :240]
    params = DreamParams(model="mobilenet", octaves=2, steps=3, seed=3, tile_size=256, tile_overlap=64)
    tiled = dream(image, params, mobilenet)

    def whole_image_gradient(picture, layout, gradient_fn, batch, shift, should_cancel):
        losses, gradients = gradient_fn(np.roll(picture, shift, axis=(0, 1))[None])
        return float(losses[0]), np.roll(gradients[0], (-shift[0], -shift[1]), axis=(0, 1))

    monkeypatch.setattr("reverie.engine.backends.host.tiled_gradient", whole_image_gradient)
    whole = dream(image, params, mobilenet)
    np.testing.assert_allclose(tiled.image, whole.image, atol=1e-5)
    assert tiled.losses == pytest.approx(whole.losses, rel=1e-5)


def test_several_tiles_dream_like_the_whole_image(mobilenet, astronaut) -> None:
    image = astronaut[:384, :384]
    params = DreamParams(model="mobilenet", octaves=1, steps=3, seed=3, jitter=0, tile_size=1024, tile_overlap=64)
    whole = dream(image, params, mobilenet).image - image
    tiled = dream(image, params.replace(tile_size=256, tile_overlap=96), mobilenet).image - image
    assert np.corrcoef(whole.ravel(), tiled.ravel())[0, 1] > 0.75


def test_no_seams_where_tiles_meet(mobilenet, astronaut) -> None:
    """Gradient energy of the dream along tile borders stays within 10% of the interior's."""
    params = DreamParams(model="mobilenet", octaves=1, steps=10, step_size=0.02, seed=5, tile_size=128, tile_overlap=48)
    result = dream(astronaut, params, mobilenet)
    change = (result.image - astronaut).mean(axis=2)
    energy_x = np.abs(np.diff(change, axis=1)).mean(axis=0)  # energy between column x and x+1
    layers = mobilenet.spec.resolve_layers(params.preset, None)
    layout = mobilenet.tiles.plan(params).layout(*astronaut.shape[:2], mobilenet.min_side(tuple(layers)))
    starts, size = layout.cols, layout.tile_width
    assert len(starts) > 2
    borders = sorted({s - 1 for s in starts[1:]} | {s + size - 1 for s in starts[:-1]})
    border_energy = energy_x[borders].mean()
    interior = np.delete(energy_x, [b + d for b in borders for d in (-1, 0, 1)])
    assert abs(border_energy / interior.mean() - 1.0) < 0.10


def test_small_images_shrink_the_octaves_and_say_so(inception) -> None:
    image = np.random.default_rng(4).random((120, 130, 3), dtype=np.float32)
    result = dream(image, SMALL.replace(octaves=3, steps=1), inception)
    assert result.octaves_used == 1
    assert "used 1 of 3 octaves" in result.notes[0]


@pytest.mark.parametrize("shape", [(64, 64), (80, 120)])
def test_images_under_the_smallest_input_dream_enlarged_and_come_back_their_size(inception, shape) -> None:
    image = np.random.default_rng(6).random((*shape, 3), dtype=np.float32)
    result = dream(image, SMALL, inception)
    assert result.image.shape == image.shape
    assert result.image.dtype == np.float32
    assert np.abs(result.image - image).mean() > 0.002
    assert "dreamed enlarged to" in result.notes[0] and "brought back to its size" in result.notes[0]
    # Only the dream's change is resampled: the image's own pixel-level detail survives the round trip.
    resampled = resize(resize(image, (107, 107 * shape[1] // shape[0])), shape)
    assert np.abs(result.image - image).mean() < 0.5 * np.abs(resampled - image).mean()


def test_too_thin_to_enlarge_is_a_clear_error(inception) -> None:
    with pytest.raises(ImageTooSmall, match=r"at least 107×107.*short side of 14 pixels"):
        dream(np.zeros((10, 300, 3), np.float32), SMALL, inception)


def test_progress_and_cancel_within_one_step(inception) -> None:
    image = np.random.default_rng(5).random((120, 120, 3), dtype=np.float32)
    events = []

    def cancel_after_three() -> bool:
        return len(events) >= 3

    with pytest.raises(DreamCancelled):
        dream(
            image,
            SMALL.replace(octaves=1, steps=20),
            inception,
            progress=events.append,
            should_cancel=cancel_after_three,
        )
    assert len(events) == 3
    assert [e.step for e in events] == [1, 2, 3]
    assert events[-1].fraction == pytest.approx(3 / 20)


def test_progress_says_how_long_is_left_in_step_with_the_schedule(inception) -> None:
    """A real dream's estimates: from the first step on, never negative, zero after the last step, and each
    octave's end leaves less than the one before. No wall time is asserted: the machine may be busy."""
    image = np.random.default_rng(4).random((240, 320, 3), dtype=np.float32)
    events = []
    dream(image, SMALL.replace(octaves=3, steps=3), inception, progress=events.append)
    left = [event.seconds_left for event in events]
    assert len(left) == 9 and all(seconds is not None and seconds >= 0 for seconds in left)
    assert left[-1] == 0.0
    octave_ends = [event.seconds_left for event in events if event.octave_done]
    assert len(octave_ends) == 3 and octave_ends[0] > octave_ends[1] > octave_ends[2] == 0.0
    assert len(inception.step_times) >= 3  # each octave's time per step, for the next dream's estimates


def test_cancel_between_tile_batches_of_one_step(inception) -> None:
    """On a large image one step is many tile batches: a cancel must not wait for all of them."""
    image = np.random.default_rng(8).random((300, 300, 3), dtype=np.float32)
    asked = []

    def cancel_on_second_question() -> bool:
        asked.append(True)
        return len(asked) >= 2

    events = []
    with pytest.raises(DreamCancelled):
        dream(
            image,
            SMALL.replace(octaves=1, tile_size=128, tile_overlap=32),
            inception,
            progress=events.append,
            should_cancel=cancel_on_second_question,
        )
    assert events == []  # stopped inside the first step, between its tile batches
    assert len(asked) == 2


def test_channel_selection_changes_the_dream_and_is_checked(inception) -> None:
    image = np.random.default_rng(6).random((120, 120, 3), dtype=np.float32)
    params = SMALL.replace(octaves=1, steps=2, layers={"mixed3": 1.0})
    everything = dream(image, params, inception)
    some = dream(image, params.replace(channels={"mixed3": [0, 5, 9]}), inception)
    assert not np.array_equal(everything.image, some.image)
    with pytest.raises(BadRequest, match="mixed3 has channels 0 to 767"):
        dream(image, params.replace(channels={"mixed3": [768]}), inception)


def test_std_normalisation_is_a_different_dream(inception) -> None:
    image = np.random.default_rng(7).random((120, 120, 3), dtype=np.float32)
    params = SMALL.replace(octaves=1, steps=2)
    assert not np.array_equal(
        dream(image, params, inception).image, dream(image, params.replace(normalization="std"), inception).image
    )


def test_imagenet_weights_come_from_the_shipped_file_without_a_cache(mobilenet, mobilenet_weights_file: Path) -> None:
    """A fresh machine (empty Keras cache, no network here) dreams with MobileNet's real ImageNet weights."""
    assert not (keras_cache_dir() / "mobilenet_2_5_224_tf_no_top.h5").exists()
    assert mobilenet.weights == "imagenet"
    import keras

    shipped = keras.applications.MobileNet(include_top=False, weights=None, input_shape=(None, None, 3), alpha=0.25)
    shipped.load_weights(str(mobilenet_weights_file))
    np.testing.assert_array_equal(
        mobilenet.base.get_layer("conv_pw_13").get_weights()[0], shipped.get_layer("conv_pw_13").get_weights()[0]
    )


def test_local_weights_file_loads(mobilenet_weights_file: Path, mobilenet) -> None:
    local = load_model("mobilenet", str(mobilenet_weights_file))
    first = local.base.get_layer("conv1").get_weights()[0]
    np.testing.assert_array_equal(first, mobilenet.base.get_layer("conv1").get_weights()[0])


def test_offline_without_weights_is_one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    with pytest.raises(WeightsMissing) as caught:
        load_model.__wrapped__("inception_v3", "imagenet")
    message = str(caught.value)
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(keras_cache_dir()) in message
    assert "--weights" in message
    assert "reverie start --model mobilenet" in message  # the model that needs no download


def test_missing_or_wrong_weights_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(WeightsMissing, match="does not exist"):
        load_model.__wrapped__("mobilenet", str(tmp_path / "nope.h5"))
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(WeightsMissing, match="not a weights file"):
        load_model.__wrapped__("mobilenet", str(junk))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_keep_colors_keeps_the_photos_chroma_and_dreams_its_lightness(mobilenet, astronaut, dtype) -> None:
    from reverie.engine.colours import rgb_to_lab
    from reverie.imaging.pixels import from_dream_output, to_dream_input

    alpha = np.random.default_rng(5).random(astronaut.shape[:2], dtype=np.float32)[..., None]
    original = np.concatenate([astronaut, alpha], axis=2)
    if dtype == np.uint8:
        original = np.rint(original * 255).astype(np.uint8)
    source = to_dream_input(original)
    params = DreamParams(model="mobilenet", octaves=2, steps=6, step_size=0.02, seed=3, max_loss=None)
    plain = from_dream_output(dream(source, params, mobilenet).image, original)
    kept = from_dream_output(dream(source, params.replace(keep_colors=True), mobilenet).image, original)
    np.testing.assert_array_equal(kept[..., 3], original[..., 3])  # alpha untouched
    lab = {
        name: rgb_to_lab(to_dream_input(pixels))
        for name, pixels in (("source", original), ("plain", plain), ("kept", kept))
    }
    # a*, b* within one 8-bit step of CIELAB's (one unit) on average; the plain dream's moved several.
    assert np.abs(lab["kept"][..., 1:] - lab["source"][..., 1:]).mean() < 1.0
    assert np.abs(lab["plain"][..., 1:] - lab["source"][..., 1:]).mean() > 3.0
    lightness_change = np.abs(lab["kept"][..., 0] - lab["source"][..., 0]).mean()
    plain_change = np.abs(lab["plain"][..., 0] - lab["source"][..., 0]).mean()
    assert lightness_change > 0.9 * plain_change


def test_laplacian_normalisation_changes_less_high_frequency_at_the_same_step(mobilenet, astronaut) -> None:
    from reverie.engine.laplacian import pyramid

    params = DreamParams(model="mobilenet", octaves=2, steps=8, step_size=0.02, seed=3, max_loss=None)

    def finest_band_energy(normalization: str) -> float:
        change = dream(astronaut, params.replace(normalization=normalization), mobilenet).image - astronaut
        return float(np.square(pyramid(change, 1)[0]).mean())

    assert finest_band_energy("laplacian") < 0.8 * finest_band_energy("mean_abs")


def best_match_similarity(extractor, image: np.ndarray, guide: np.ndarray) -> float:
    """The mean over the image's feature vectors of the cosine similarity to the guide's closest one."""

    def vectors(pixels: np.ndarray) -> np.ndarray:
        features = np.asarray(extractor([(pixels * 2 - 1)[None]]))[0]
        flat = features.reshape(-1, features.shape[-1])
        return flat / (np.linalg.norm(flat, axis=1, keepdims=True) + 1e-6)

    return float((vectors(image) @ vectors(guide).T).max(axis=1).mean())


def test_a_guided_dream_grows_features_like_the_guides(mobilenet, astronaut) -> None:
    from skimage import data

    guide = data.chelsea().astype(np.float32) / 255  # a cat, 451×300
    layer = "conv_pw_11_relu"
    params = DreamParams(model="mobilenet", layers={layer: 1.0}, steps=10, step_size=0.02, seed=42, max_loss=None)
    plain = dream(astronaut, params, mobilenet)
    guided = dream(astronaut, params, mobilenet, guide=guide)
    again = dream(astronaut, params, mobilenet, guide=guide)
    np.testing.assert_array_equal(guided.image, again.image)
    extractor = mobilenet.extractor((layer,))
    similarity = {
        name: best_match_similarity(extractor, image, guide)
        for name, image in (("plain", plain.image), ("guided", guided.image))
    }
    assert similarity["guided"] > similarity["plain"] + 0.003, similarity


def test_keep_colors_holds_for_an_icon_dreamed_enlarged(inception) -> None:
    from reverie.engine.colours import rgb_to_lab

    icon = (0.2 + 0.6 * np.random.default_rng(9).random((48, 56, 3))).astype(np.float32)
    result = dream(icon, SMALL.replace(octaves=1, keep_colors=True, step_size=0.05), inception)
    kept, source = rgb_to_lab(result.image), rgb_to_lab(icon)
    assert "dreamed enlarged" in result.notes[0]
    assert np.abs(kept[..., 1:] - source[..., 1:]).mean() < 0.5
    assert np.abs(kept[..., 0] - source[..., 0]).mean() > 0.5


def test_a_picture_over_its_pattern_size_dreams_shrunk_and_only_its_change_comes_back(monkeypatch) -> None:
    from reverie.engine import octave_ascent, small_images

    model = load_model("mobilenet", "random")
    image = np.random.default_rng(8).random((1200, 1600, 3), dtype=np.float32)
    scale = (0.5e6 / (1200 * 1600)) ** 0.5  # a working size of 0.5 MP
    dreamed_at = []

    def spy(original: np.ndarray, source: np.ndarray, dreamed: np.ndarray) -> np.ndarray:
        dreamed_at.append((source, dreamed))
        return small_images.brought_back(original, source, dreamed)

    monkeypatch.setattr(octave_ascent, "brought_back", spy)
    params = DreamParams(model="mobilenet", octaves=1, steps=2, seed=2, max_loss=None, pattern_scale=scale)
    result = dream(image, params, model)
    ((source, dreamed),) = dreamed_at
    assert source.shape == dreamed.shape == (612, 816, 3)
    np.testing.assert_array_equal(source, resize(image, (612, 816)))
    assert result.image.shape == image.shape and result.image.dtype == np.float32
    assert "dreamed at its pattern size, 816×612" in result.notes[0]
    # The original's pixels plus the enlarged change: its own detail is kept, not resampled.
    change = resize(dreamed - source, (1200, 1600))
    np.testing.assert_allclose(result.image, np.clip(image + change, 0.0, 1.0), atol=1e-6)
    assert np.abs(result.image - image).mean() > 0.002  # it did dream
    resampled = resize(source, (1200, 1600))
    assert np.abs(result.image - image).mean() < 0.2 * np.abs(resampled - image).mean()


def test_a_picture_at_its_pattern_size_dreams_as_before(inception) -> None:
    image = np.random.default_rng(9).random((200, 240, 3), dtype=np.float32)
    plain = dream(image, SMALL, inception)
    large = dream(image, SMALL.replace(pattern_size="large"), inception)
    assert np.array_equal(plain.image, large.image) and large.notes == plain.notes
