"""The plug-in's procedure arguments and how they become the server's params."""

from __future__ import annotations

import random

import pytest

from reverie.engine.params import DreamParams
from reverie_plugin import arguments, messages
from reverie_plugin.messages import PluginFailure
from reverie_wire import schema
from reverie_wire.ranges import ZOOM_RANGES


def defaults() -> dict:
    return {a.name: a.default for a in arguments.ARGUMENTS}


def test_issue_arguments_are_all_declared() -> None:
    names = {a.name for a in arguments.ARGUMENTS}
    required = {"preset", "octaves", "octave-scale", "steps", "step-size", "jitter", "seed", "preview", "endpoint"}
    assert required <= names


def test_the_dialog_offers_the_servers_ranges() -> None:
    """One table: the dialog's bounds are the schema's (step size starts at 0 for GIMP's spin scale, and seeds
    travel as GIMP's signed 32-bit int)."""
    RANGES = {f.name: (f.low, f.high) for f in schema.FIELDS if f.low is not None}
    server_name = {"frame-steps": "steps"}
    checked = set()
    for argument in arguments.ZOOM_PROCEDURE_ARGUMENTS:
        name = server_name.get(argument.name, argument.name.replace("-", "_"))
        if name not in {**RANGES, **ZOOM_RANGES}:
            continue
        low, high = {**RANGES, **ZOOM_RANGES}[name]
        if name == "step_size":
            assert (argument.minimum, argument.maximum) == (0.0, high)
        elif name == "seed":
            assert (argument.minimum, argument.maximum) == (low, arguments.MAX_SEED) and high >= arguments.MAX_SEED
        else:
            assert (argument.minimum, argument.maximum) == (low, high), argument.name
        checked.add(argument.name)
    expected = {"octaves", "octave-scale", "steps", "step-size", "jitter", "lap-levels", "seed", "frame-steps"}
    assert checked == {*expected, "zoom", "rotate"}


def test_labels_have_unique_mnemonics_that_spare_the_dialog_buttons() -> None:
    preview_button = messages.PREVIEW_BUTTON[messages.PREVIEW_BUTTON.index("_") + 1].lower()
    mnemonics = [a.mnemonic for a in arguments.ARGUMENTS] + [preview_button]
    assert len(set(mnemonics)) == len(mnemonics)
    assert not set(mnemonics) & arguments.DIALOG_BUTTON_MNEMONICS


def test_defaults_map_to_valid_server_params() -> None:
    params = arguments.dream_params(defaults(), seed=42)
    checked = DreamParams.from_dict(arguments.with_server_model(params, {"model": "inception_v3"}))
    assert (checked.seed, checked.steps, checked.octave_scale, checked.preset) == (42, 20, 1.4, "keras")


def test_ranges_stay_inside_what_the_server_accepts() -> None:
    values = defaults()
    for argument in arguments.ARGUMENTS:
        if argument.kind in ("int", "double") and argument.name != "seed":
            for bound in (argument.minimum, argument.maximum):
                if argument.name == "step-size" and bound == 0:
                    continue  # refused by dream_params, below
                values[argument.name] = int(bound) if argument.kind == "int" else bound
                params = arguments.dream_params(values, seed=1)
                DreamParams.from_dict(arguments.with_server_model(params, {"model": "mobilenet"}))
                values[argument.name] = argument.default


def test_a_zero_step_size_is_refused_with_advice() -> None:
    with pytest.raises(PluginFailure, match="Step size must be above 0"):
        arguments.dream_params({**defaults(), "step-size": 0.0}, seed=1)


def test_choices_name_models_and_presets_the_server_has() -> None:
    from reverie.engine.registry import MODELS, PRESETS

    by_name = {a.name: a for a in arguments.ARGUMENTS}
    assert {nick for nick, _ in by_name["model"].choices} == {arguments.SERVER_MODEL, *MODELS}
    assert {nick for nick, _ in by_name["preset"].choices} == set(PRESETS)


def test_seed_zero_picks_one_the_seed_argument_can_hold() -> None:
    rng = random.Random(3)
    seeds = {arguments.resolve_seed(0, rng) for _ in range(50)}
    assert all(1 <= seed <= arguments.MAX_SEED for seed in seeds)
    assert len(seeds) > 1
    assert arguments.resolve_seed(77, rng) == 77


def test_the_server_model_is_the_one_the_server_has_loaded() -> None:
    params = arguments.dream_params(defaults(), seed=3)
    assert params["model"] == arguments.SERVER_MODEL
    assert arguments.with_server_model(params, {"model": "mobilenet"})["model"] == "mobilenet"
    chosen = {**params, "model": "inception_v3"}
    assert arguments.with_server_model(chosen, {"model": "mobilenet"}) == chosen


def test_zoom_dialog_labels_have_unique_mnemonics_that_spare_the_dialog_buttons() -> None:
    mnemonics = [a.mnemonic for a in arguments.ZOOM_PROCEDURE_ARGUMENTS]
    assert len(set(mnemonics)) == len(mnemonics)
    assert not set(mnemonics) & arguments.DIALOG_BUTTON_MNEMONICS


def test_zoom_frames_count_the_seed_up_and_take_the_zoom_steps_after_the_first() -> None:
    values = {**defaults(), **{a.name: a.default for a in arguments.ZOOM_ARGUMENTS}, "steps": 20, "frame-steps": 3}
    first, third = arguments.frame_params(values, 100, 1), arguments.frame_params(values, 100, 3)
    assert (first["seed"], first["steps"]) == (100, 20)
    assert (third["seed"], third["steps"]) == (102, 3)
    DreamParams.from_dict(arguments.with_server_model(third, {"model": "mobilenet"}))


def test_every_mnemonic_in_the_dream_dialog_is_its_own() -> None:
    """Two labels with one Alt key make it cycle focus between them instead of pressing the button (Strength
    once took Stop and keep's Alt+K)."""
    gimp_buttons = ["_OK", "_Cancel", "_Help", "_Reset", "_Load Saved Settings", "_Save Settings"]
    pane = ["_1:1", "Be_fore"]  # the preview pane's toggles (live_widgets)
    ours = [messages.PREVIEW_BUTTON, messages.STOP_BUTTON]
    labels = [argument.label for argument in arguments.ARGUMENTS] + gimp_buttons + pane + ours
    keys = [label[label.index("_") + 1].lower() for label in labels if "_" in label]
    assert len(keys) == len(set(keys)), sorted(key for key in keys if keys.count(key) > 1)
