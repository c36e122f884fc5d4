"""The dream layer's name: its seed, kept intact where the name is taken."""

from __future__ import annotations

from reverie_plugin.layer_names import dream_layer_name


def test_the_name_carries_the_seed() -> None:
    assert dream_layer_name(701028867, preview=False, taken=lambda name: False) == "Deep Dream #701028867"
    assert dream_layer_name(12, preview=True, taken=lambda name: False) == "Deep Dream preview #12"


def test_a_taken_name_is_made_unique_after_the_seed() -> None:
    existing = {"Deep Dream #12", "Deep Dream #12 (2)"}
    assert dream_layer_name(12, preview=False, taken=existing.__contains__) == "Deep Dream #12 (3)"
