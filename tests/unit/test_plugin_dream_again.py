"""Dream again: what a dream layer records of its settings and server, and what a later dialog restores."""

from __future__ import annotations

from reverie_plugin.dream_again import differences, restorable, server_record, settings_record


class Layer:
    def get_name(self) -> str:
        return "clouds"


FACTS = {"model": "mobilenet", "weights": "imagenet", "version": "0.9.0", "backend": "jax", "queue": 0}


def test_the_record_names_the_guide_and_keeps_the_seed_used() -> None:
    values = {"steps": 9, "seed": 0, "guide": Layer(), "preview": False, "layers": ""}
    assert settings_record(values, 4242) == {"steps": 9, "seed": 4242, "guide": "clouds", "layers": ""}
    assert settings_record({"guide": None, "seed": 3}, 3)["guide"] is None


def test_the_record_names_the_strength_channel_and_restoring_leaves_it_to_the_caller() -> None:
    values = {"seed": 1, "guide": None, "strength": Layer()}
    assert settings_record(values, 1) == {"seed": 1, "guide": None, "strength": "clouds"}
    assert restorable({"settings": {"strength": "clouds", "steps": 2}}, ("strength", "steps")) == {"steps": 2}


def test_a_dream_restores_the_settings_the_procedure_takes() -> None:
    details = {"settings": {"steps": 9, "seed": 4242, "guide": "clouds", "gone": 1}}
    assert restorable(details, ("steps", "seed", "guide", "preview")) == {"steps": 9, "seed": 4242}
    assert restorable({}, ("steps",)) == {}


def test_the_same_server_differs_in_nothing_and_another_in_what_changed() -> None:
    recorded = server_record(FACTS)
    assert recorded == {"model": "mobilenet", "weights": "imagenet", "version": "0.9.0", "backend": "jax"}
    assert differences(recorded, FACTS) == []
    other = {**FACTS, "model": "inception_v3", "version": "1.0.0"}
    assert differences(recorded, other) == [
        "model inception_v3 (the dream's: mobilenet)",
        "version 1.0.0 (the dream's: 0.9.0)",
    ]
    assert differences({}, other) == []
