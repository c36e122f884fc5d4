"""The parameter schema: every surface derives from it, and PROTOCOL.md's table is its rendering."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from reverie.cli.main import main
from reverie.engine.params import DreamParams
from reverie_plugin import arguments
from reverie_wire import protocol, schema
from reverie_wire.errors import BadRequest

PROTOCOL_MD = Path(__file__).parents[2] / "server" / "reverie" / "PROTOCOL.md"
TABLE_START, TABLE_END = "<!-- parameters: start -->\n", "<!-- parameters: end -->"
LIMITS = protocol.Limits(max_pixels=10_000, max_side=200, max_queue=4)
WOBBLE = schema.Field("wobble", "float", 0.25, "How much the dream wobbles", "_Wobble", 0.0, 2.0)


def dream_frames(params: dict) -> list:
    header = {"v": 1, "type": "dream", "job": "j1", "params": params}
    header["image"] = {"width": 2, "height": 2, "channels": 3, "dtype": "u8"}
    return [json.dumps(header).encode(), bytes(12)]


def documented_table() -> str:
    text = PROTOCOL_MD.read_text()
    return text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)]


def help_of_dream(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main(["dream", "--help"])
    return capsys.readouterr().out


def test_protocol_md_holds_the_rendered_parameter_table() -> None:
    """Regenerate with: python -c 'from reverie_wire.schema import markdown_table; print(markdown_table())'."""
    assert documented_table() == schema.markdown_table()


def test_the_engine_params_are_the_schema_fields_with_its_defaults() -> None:
    engine = {f.name: getattr(DreamParams(), f.name) for f in dataclasses.fields(DreamParams)}
    assert set(engine) == {f.name for f in schema.FIELDS}
    assert DreamParams().to_dict() == schema.defaults()


def test_defaults_are_the_keras_examples_and_unchanged() -> None:
    """Seeded dreams stay byte-identical only while these stay as they were."""
    assert schema.defaults() == {
        "model": "inception_v3",
        "preset": "keras",
        "layers": None,
        "channels": {},
        "octaves": 3,
        "octave_scale": 1.4,
        "steps": 20,
        "step_size": 0.01,
        "jitter": 32,
        "normalization": "mean_abs",
        "lap_levels": 4,
        "keep_colors": False,
        "pattern_size": "fine",
        "seed": None,
        "max_loss": 15.0,
        "detail_reinjection": True,
        "tile_size": 1024,
        "tile_overlap": 128,
        "precision": "auto",
        "pattern_scale": None,
    }


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"steps": 0}, "steps must be between 1 and 1000, got 0"),
        ({"seed": 2**32}, "seed must be between 0 and 4294967295"),
        ({"octave_scale": "big"}, "octave_scale must be a finite number"),
        ({"keep_colors": 1}, "keep_colors must be true or false"),
        ({"precision": "float16"}, "precision must be one of auto, float32, bfloat16"),
        ({"tile_overlap": 512}, r"tile_overlap \(512\) must be less than half of tile_size \(1024\)"),
        ({"layers": {"mixed4": 2000}}, "layer_weight must be between -1000 and 1000"),
    ],
)
def test_the_protocol_refuses_what_the_schema_refuses(params: dict, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        schema.check_params(params)
    with pytest.raises(BadRequest, match=f"in params, {words}"):
        protocol.parse_request(dream_frames(params), LIMITS)


def test_nullable_fields_take_null() -> None:
    schema.check_params({"seed": None, "max_loss": None, "layers": None})
    with pytest.raises(BadRequest, match="steps must be a whole number"):
        schema.check_params({"steps": None})


def test_a_field_added_to_the_schema_reaches_every_surface(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schema, "FIELDS", (*schema.FIELDS, WOBBLE))
    monkeypatch.setenv("COLUMNS", "200")  # one option a line

    assert re.search(r"--wobble WOBBLE +How much the dream wobbles \(0 to 2; default 0.25\)\n", help_of_dream(capsys))

    declared = {a.name: a for a in arguments.dream_arguments()}["wobble"]
    assert (declared.kind, declared.label, declared.default) == ("double", "_Wobble", 0.25)
    assert (declared.minimum, declared.maximum, declared.blurb) == (0.0, 2.0, WOBBLE.help)
    values = {a.name: a.default for a in (*arguments.dream_arguments(), *arguments.ARGUMENTS)}
    assert arguments.dream_params({**values, "wobble": 1}, seed=5)["wobble"] == 1.0

    assert protocol.parse_request(dream_frames({"wobble": 1.5}), LIMITS).params == {"wobble": 1.5}
    with pytest.raises(BadRequest, match="in params, wobble must be between 0 and 2, got 3"):
        protocol.parse_request(dream_frames({"wobble": 3}), LIMITS)

    assert "| `wobble` | number | no | 0 to 2 | `0.25` | How much the dream wobbles |" in schema.markdown_table()
