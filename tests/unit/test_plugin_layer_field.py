"""The dialog's Layers field: layers, weights and channels in one line, checked against the server's model."""

from __future__ import annotations

import pytest

from reverie.engine.params import DreamParams
from reverie_plugin import arguments
from reverie_plugin.layer_field import browsed_layer, check_layers, parse_layers, with_channel
from reverie_plugin.messages import PluginFailure

HELLO = {"model": "inception_v3", "models": {"inception_v3": {"layers": [f"mixed{i}" for i in range(11)]}}}


@pytest.mark.parametrize(
    ("text", "layers", "channels"),
    [
        ("", {}, {}),
        ("mixed3=1, mixed5=1.5", {"mixed3": 1.0, "mixed5": 1.5}, {}),
        ("mixed4:12,40", {"mixed4": 1.0}, {"mixed4": [12, 40]}),
        ("mixed3, mixed4:12, 40 ,mixed5=-2", {"mixed3": 1.0, "mixed4": 1.0, "mixed5": -2.0}, {"mixed4": [12, 40]}),
        ("mixed4=2, mixed4:7", {"mixed4": 2.0}, {"mixed4": [7]}),
    ],
)
def test_the_field_gives_layers_weights_and_channels(text: str, layers: dict, channels: dict) -> None:
    assert parse_layers(text) == (layers, channels)


@pytest.mark.parametrize(
    ("text", "words"), [("mixed3=big", "not a number"), ("mixed4:x", "whole numbers"), ("=2", "without")]
)
def test_a_malformed_field_says_what_it_should_look_like(text: str, words: str) -> None:
    with pytest.raises(PluginFailure, match=words) as caught:
        parse_layers(text)
    assert "mixed3=1, mixed5=1.5" in str(caught.value)


def test_layers_the_servers_model_lacks_are_refused_with_the_valid_ones() -> None:
    values = {a.name: a.default for a in arguments.ARGUMENTS} | {"layers": "mixed3=1, conv_pw_7_relu:3"}
    params = arguments.dream_params(values, seed=1)
    with pytest.raises(PluginFailure, match=r"inception_v3 has no layer conv_pw_7_relu; valid layers: mixed0, mixed1"):
        arguments.with_server_model(params, HELLO)


def test_valid_layers_become_params_the_server_takes() -> None:
    values = {a.name: a.default for a in arguments.ARGUMENTS} | {"layers": "mixed3=1, mixed4:12,40"}
    params = arguments.with_server_model(arguments.dream_params(values, seed=1), HELLO)
    checked = DreamParams.from_dict(params)
    assert dict(checked.layers) == {"mixed3": 1.0, "mixed4": 1.0}
    assert dict(checked.channels) == {"mixed4": (12, 40)}
    check_layers({**params, "layers": None, "channels": {}}, HELLO)  # the preset: nothing to check


def test_an_empty_field_from_gimp_leaves_the_preset_in_charge() -> None:
    values = {a.name: a.default for a in arguments.ARGUMENTS} | {"layers": None}  # GIMP's empty string
    params = arguments.dream_params(values, seed=1)
    assert params["layers"] is None and params["channels"] == {}


def test_a_browsed_channel_joins_the_field_once_and_keeps_the_weights() -> None:
    assert with_channel("", "conv_pw_12_relu", 7) == "conv_pw_12_relu:7"
    text = with_channel("conv_pw_5_relu=1.5, conv_pw_12_relu:3,", "conv_pw_12_relu", 7)
    assert text == "conv_pw_5_relu=1.5, conv_pw_12_relu:3, conv_pw_12_relu:7"
    assert parse_layers(text) == ({"conv_pw_5_relu": 1.5, "conv_pw_12_relu": 1.0}, {"conv_pw_12_relu": [3, 7]})
    assert with_channel(text, "conv_pw_12_relu", 3) == text
    assert with_channel("conv_pw_5=abc", "conv_pw_9", 2) == "conv_pw_5=abc, conv_pw_9:2"


def test_the_browser_opens_on_the_fields_layer_else_the_presets_deepest() -> None:
    layers = ["conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_12_relu"]
    assert browsed_layer("mixed4=1, conv_pw_5_relu:2", layers, []) == "conv_pw_5_relu"
    assert browsed_layer("", layers, ["conv_pw_3_relu", "conv_pw_12_relu"]) == "conv_pw_12_relu"
    assert browsed_layer("x=", layers, ["mixed4"]) == "conv_pw_3_relu"
