"""DreamParams: defaults, validation and the protocol's dict form."""

import math

import pytest

from reverie.engine.params import DreamParams
from reverie.engine.registry import get_spec
from reverie_wire.errors import BadRequest, UnknownLayer, UnknownModel


def test_defaults_are_the_keras_examples() -> None:
    params = DreamParams()
    layers = get_spec(params.model).resolve_layers(params.preset, None)
    assert layers == {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5}
    assert (params.step_size, params.octaves, params.octave_scale, params.steps, params.max_loss) == (
        0.01,
        3,
        1.4,
        20,
        15.0,
    )
    assert params.normalization == "mean_abs" and params.detail_reinjection


def test_tutorial_preset() -> None:
    assert get_spec("inception_v3").resolve_layers("tutorial", None) == {"mixed3": 1.0, "mixed5": 1.0}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("octaves", 0, "octaves must be between"),
        ("octaves", 2.5, "whole number"),
        ("steps", True, "whole number"),
        ("step_size", math.nan, "finite"),
        ("step_size", math.inf, "finite"),
        ("octave_scale", 1.0, "octave_scale must be between"),
        ("jitter", -1, "jitter must be between"),
        ("seed", 2**40, "seed must be between"),
        ("normalization", "l2", "normalization must be one of"),
        ("tile_overlap", 600, "less than half"),
        ("layers", {}, "at least one layer"),
        ("layers", {"mixed4": math.nan}, "finite"),
        ("channels", {"mixed4": [-1]}, "channel numbers"),
    ],
)
def test_bad_values_are_refused_with_a_reason(field: str, value: object, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        DreamParams(**{field: value})


def test_params_are_immutable() -> None:
    params = DreamParams()
    with pytest.raises(AttributeError):
        params.steps = 3  # type: ignore[misc]


def test_dict_round_trip_keeps_everything() -> None:
    params = DreamParams(layers={"mixed3": 0.5}, channels={"mixed3": [1, 7]}, seed=9, max_loss=None)
    again = DreamParams.from_dict(params.to_dict())
    assert again == params
    assert again.to_dict()["layers"] == {"mixed3": 0.5}


def test_unknown_keys_are_named() -> None:
    with pytest.raises(BadRequest, match=r"unknown parameter.*octavez"):
        DreamParams.from_dict({"octavez": 3})


def test_unknown_layer_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownLayer, match="valid layers: mixed0, mixed1"):
        get_spec("inception_v3").resolve_layers("keras", {"mixed99": 1.0})


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownModel, match="inception_v3, mobilenet"):
        get_spec("vgg16")


def test_channels_that_are_not_lists_are_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="list of channel numbers"):
        DreamParams.from_dict({"channels": {"conv_pw_7_relu": 5}})


def test_equal_dreams_have_one_form() -> None:
    one = DreamParams(model="MobileNet", layers={"b": 1.00001, "a": 2}, channels={"b": [3, 1, 3, 3], "a": [0]})
    other = DreamParams(model="mobilenet", layers={"a": 2.0, "b": 1.0}, channels={"a": [0], "b": [1, 3]})
    assert one == other
    assert one.model == "mobilenet" and one.channels == (("a", (0,)), ("b", (1, 3)))


def test_a_whole_number_too_large_for_a_float_is_refused_by_size() -> None:
    with pytest.raises(BadRequest, match="steps must be between 1 and 1000, got a number of 401 digits"):
        DreamParams(steps=10**400)
    with pytest.raises(BadRequest, match="layer_weight must be between"):
        DreamParams(layers={"mixed4": -(10**400)})
