"""The plug-in in a real GIMP 3, installed by the real installer, talking to a real dream server.

Each test runs one headless GIMP batch (``g`` = gimp_side helpers, ``rec`` = recorder) and checks
what it recorded: layers, offsets, masks, and pixels compared bit for bit.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dream_server import REVERIE, SERVER_FLAGS, free_endpoint, serving
from gimp_harness import Record

from reverie_plugin.geometry import Rect, dream_region, preview_crop

pytestmark = pytest.mark.gimp

FAST = "model='mobilenet', octaves=1, steps=2"
SNAPSHOT = """
rec.layers('{name}_layers', image)
rec.pixels('{name}_artwork', layer, {fmt!r})
rec.composite('{name}_composite', image, {fmt!r})
"""


def snapshot(name: str, fmt: str = "R'G'B'A u8") -> str:
    """Batch code recording the layer stack, the artwork layer and the composite under ``name``."""
    return SNAPSHOT.format(name=name, fmt=fmt)


def details(layer_var: str, name: str) -> str:
    """Batch code recording the dream layer's details parasite."""
    return f"rec.value({name!r}, bytes({layer_var}.get_parasite('reverie-dream').get_data()).decode())\n"


def test_registered_with_menu_and_arguments(run_gimp: Callable[..., Record]) -> None:
    record = run_gimp(
        "proc = g.Gimp.get_pdb().lookup_procedure(g.PROCEDURE)\n"
        "rec.value('label', proc.get_menu_label())\n"
        "rec.value('paths', list(proc.get_menu_paths()))\n"
        "rec.value('args', [a.name for a in proc.get_arguments()])\n"
    )
    assert record.values["label"] == "Deep _Dream…"
    assert record.values["paths"] == ["<Image>/Filters/Artistic"]
    expected = ["preset", "octaves", "octave-scale", "steps", "step-size", "jitter", "seed", "preview", "endpoint"]
    expected += ["normalization", "lap-levels", "keep-colors", "guide", "layers", "pattern-size"]
    assert set(expected) <= set(record.values["args"])


def test_selection_gives_masked_layer_and_keeps_the_rest_bit_exact(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(160, 120)\n"
        "image.select_ellipse(g.Gimp.ChannelOps.REPLACE, 40, 30, 64, 48)\n"
        "g.Gimp.Selection.feather(image, 6)\n"
        "bounds = g.Gimp.Selection.bounds(image)\n"
        "rec.value('bounds', [bounds.x1, bounds.y1, bounds.x2, bounds.y2])\n"
        "rec.pixels('selection', image.get_selection(), 'Y u8')\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, seed=1234, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('seed', out.get('seed'))\n"
        "rec.value('message', out.get('message'))\n"
        "rec.pixels('dream', out['layer'], \"R'G'B'A u8\")\n"
        "rec.pixels('mask', out['layer'].get_mask(), 'Y u8')\n" + snapshot("after")
    )
    values = record.values
    assert values["status"] == "success", values["message"]
    assert values["seed"] == 1234
    assert [entry["name"] for entry in values["after_layers"]] == ["Deep Dream #1234", "artwork"]
    new = values["after_layers"][0]
    assert new["mask"] is True

    x1, y1, x2, y2 = values["bounds"]
    region = dream_region(160, 120, Rect(x1, y1, x2 - x1, y2 - y1))
    assert new["offsets"] == [region.x, region.y]
    assert new["size"] == [region.width, region.height]

    # The artwork layer is untouched; the mask is the feathered selection, crop for crop.
    np.testing.assert_array_equal(record.pixels["after_artwork"], record.pixels["before_artwork"])
    selection = record.pixels["selection"][..., 0]
    crop = selection[region.y : region.y + region.height, region.x : region.x + region.width]
    np.testing.assert_array_equal(record.pixels["mask"][..., 0], crop)
    assert np.count_nonzero((crop > 0) & (crop < 255)) > 0, "feathering was lost"

    # Alpha passes through: the dream layer's alpha is the artwork's, pixel for pixel.
    artwork = record.pixels["before_artwork"][region.y : region.y + region.height, region.x : region.x + region.width]
    np.testing.assert_array_equal(record.pixels["dream"][..., 3], artwork[..., 3])

    # Outside the selection the composite is bit-exact; inside, the dream shows.
    before, after = record.pixels["before_composite"], record.pixels["after_composite"]
    outside = selection == 0
    np.testing.assert_array_equal(after[outside], before[outside])
    inside = selection == 255
    assert np.abs(after[inside].astype(int) - before[inside].astype(int)).max() > 0


def test_gray_16_bit_stays_grey_and_is_not_squeezed_through_8_bits(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96, base='gray', precision='u16')\n"
        + snapshot("before", "Y'A u16")
        + f"out = g.dream(image, layer, seed=7, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.pixels('dream', out['layer'], \"Y'A u16\")\n" + snapshot("after", "Y'A u16")
    )
    assert record.values["status"] == "success", record.values["message"]
    new = record.values["after_layers"][0]
    assert new["name"] == "Deep Dream #7"
    assert new["type"] == "graya-image"
    assert (new["offsets"], new["size"]) == ([0, 0], [128, 96])
    assert new["mask"] is False
    np.testing.assert_array_equal(record.pixels["after_artwork"], record.pixels["before_artwork"])
    dream, artwork = record.pixels["dream"], record.pixels["before_artwork"]
    np.testing.assert_array_equal(dream[..., 1], artwork[..., 1])
    assert np.count_nonzero(dream[..., 0] != artwork[..., 0]) > 0
    assert np.count_nonzero(dream[..., 0] % 257) > dream[..., 0].size // 2, "grey travelled as 8-bit"


def test_layer_with_offsets_places_the_dream_over_its_selection(run_gimp: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp(
        "image, layer = g.new_image(200, 150, layer_rect=(50, 40, 120, 90))\n"
        "image.select_rectangle(g.Gimp.ChannelOps.REPLACE, 60, 50, 60, 40)\n"
        "rec.pixels('selection', image.get_selection(), 'Y u8')\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, seed=3, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n" + snapshot("after")
    )
    assert record.values["status"] == "success", record.values["message"]
    region = dream_region(120, 90, Rect(10, 10, 60, 40)).shifted(50, 40)
    new = record.values["after_layers"][0]
    assert (new["offsets"], new["size"]) == ([region.x, region.y], [region.width, region.height])
    np.testing.assert_array_equal(record.pixels["after_artwork"], record.pixels["before_artwork"])
    outside = record.pixels["selection"][..., 0] == 0
    before, after = record.pixels["before_composite"], record.pixels["after_composite"]
    np.testing.assert_array_equal(after[outside], before[outside])
    assert np.abs(after[~outside].astype(int) - before[~outside].astype(int)).max() > 0


def test_preview_is_replaced_by_the_next_and_removed_by_the_full_run(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(160, 120)\n"
        "image.select_rectangle(g.Gimp.ChannelOps.REPLACE, 30, 20, 90, 70)\n"
        f"first = g.dream(image, layer, preview=True, seed=11, endpoint={endpoint!r}, {FAST})\n"
        "rec.layers('first', image)\n"
        f"second = g.dream(image, layer, preview=True, seed=12, endpoint={endpoint!r}, {FAST})\n"
        "rec.layers('second', image)\n"
        f"full = g.dream(image, layer, seed=12, endpoint={endpoint!r}, {FAST})\n"
        "rec.layers('full', image)\n"
        "rec.value('statuses', [first['status'], second['status'], full['status']])\n"
        "rec.value('messages', [first.get('message'), second.get('message'), full.get('message')])\n"
        + details("second['layer']", "preview_details")
    )
    assert record.values["statuses"] == ["success"] * 3, record.values["messages"]
    names = {step: [entry["name"] for entry in record.values[step]] for step in ("first", "second", "full")}
    assert names == {
        "first": ["Deep Dream preview #11", "artwork"],
        "second": ["Deep Dream preview #12", "artwork"],
        "full": ["Deep Dream #12", "artwork"],
    }
    region = dream_region(160, 120, Rect(30, 20, 90, 70))
    preview = record.values["second"][0]
    assert (preview["offsets"], preview["size"], preview["mask"]) == (
        [region.x, region.y],
        [region.width, region.height],
        True,
    )
    # A preview dreams as the full run does: every step, the same seed.
    preview_details = json.loads(record.values["preview_details"])
    assert preview_details["seed"] == 12
    assert (preview_details["params"]["seed"], preview_details["params"]["steps"]) == (12, 2)


def test_preview_of_a_large_layer_is_a_full_scale_crop_at_its_centre(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(900, 700)\n"
        f"preview = g.dream(image, layer, preview=True, seed=5, endpoint={endpoint!r}, {FAST})\n"
        "rec.layers('previewed', image)\n"
        f"full = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST})\n"
        "rec.layers('full', image)\n"
        "rec.value('messages', [preview.get('message'), full.get('message')])\n"
    )
    assert record.values["messages"] == [None, None]
    crop = preview_crop(Rect(0, 0, 900, 700), None)
    assert crop == Rect(194, 94, 512, 512)
    preview = record.values["previewed"][0]
    assert preview["name"] == "Deep Dream preview #5"
    assert (preview["offsets"], preview["size"]) == ([crop.x, crop.y], [crop.width, crop.height])
    assert [entry["name"] for entry in record.values["full"]] == ["Deep Dream #5", "artwork"]


def test_preview_of_a_layer_within_the_crop_is_the_full_run_itself(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(300, 200)\n"
        f"preview = g.dream(image, layer, preview=True, seed=8, endpoint={endpoint!r}, {FAST})\n"
        "rec.pixels('preview', preview['layer'], \"R'G'B'A u8\")\n"
        f"full = g.dream(image, layer, seed=8, endpoint={endpoint!r}, {FAST})\n"
        "rec.pixels('full', full['layer'], \"R'G'B'A u8\")\n"
    )
    np.testing.assert_array_equal(record.pixels["preview"], record.pixels["full"])


def at(endpoint: str) -> str:
    """The fast dream's arguments, at ``endpoint``."""
    return f"endpoint={endpoint!r}, {FAST}"


def test_a_medium_pattern_size_dreams_a_large_layer_shrunk_and_its_preview_at_the_same_shrink(
    run_gimp: Callable[..., Record], tmp_path: Path
) -> None:
    with serving(tmp_path / "server.log", *SERVER_FLAGS, "--max-pixels", "3000000") as endpoint:
        record = run_gimp(
            "image, layer = g.new_image(1800, 1200)\n"
            f"preview = g.dream(image, layer, preview=True, pattern_size='medium', seed=4, {at(endpoint)})\n"
            "rec.value('preview', [preview['status'], preview.get('message')])\n"
            + details("preview['layer']", "preview_details")
            + f"full = g.dream(image, layer, pattern_size='medium', seed=4, {at(endpoint)})\n"
            "rec.value('full', [full['status'], full.get('message')])\n"
            "rec.layers('after', image)\n" + details("full['layer']", "details")
        )
    assert record.values["preview"] == ["success", None] and record.values["full"] == ["success", None]
    new = record.values["after"][0]
    assert (new["name"], new["offsets"], new["size"]) == ("Deep Dream #4", [0, 0], [1800, 1200])
    full = json.loads(record.values["details"])
    assert full["params"]["pattern_size"] == "medium" and full["params"].get("pattern_scale") is None
    assert any("dreamed at its pattern size, 1732×1155" in note for note in full["notes"]), full["notes"]
    preview = json.loads(record.values["preview_details"])
    assert preview["params"]["pattern_scale"] == pytest.approx((2e6 / (1800 * 1200)) ** 0.5)
    assert any("dreamed at its pattern size" in note for note in preview["notes"]), preview["notes"]


def test_an_icon_under_the_models_smallest_input_dreams_at_its_size(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(64, 64)\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.pixels('dream', out['layer'], \"R'G'B'A u8\")\n" + details("out['layer']", "details") + snapshot("after")
    )
    assert record.values["status"] == "success", record.values["message"]
    new = record.values["after_layers"][0]
    assert (new["name"], new["offsets"], new["size"]) == ("Deep Dream #5", [0, 0], [64, 64])
    dream, artwork = record.pixels["dream"], record.pixels["before_artwork"]
    np.testing.assert_array_equal(dream[..., 3], artwork[..., 3])
    assert np.abs(dream[..., :3].astype(int) - artwork[..., :3]).mean() > 1
    notes = json.loads(record.values["details"])["notes"]
    assert any("dreamed enlarged to" in note for note in notes), notes


def test_seed_is_reported_and_repeats_the_dream(run_gimp: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        # No model named: the plug-in asks for the one the server has loaded.
        f"first = g.dream(image, layer, seed=0, endpoint={endpoint!r}, octaves=1, steps=2)\n"
        f"again = g.dream(image, layer, seed=first['seed'], endpoint={endpoint!r}, octaves=1, steps=2)\n"
        "rec.value('seeds', [first.get('seed'), again.get('seed')])\n"
        "rec.value('messages', [first.get('message'), again.get('message')])\n"
        "rec.pixels('first', first['layer'], \"R'G'B'A u8\")\n"
        "rec.pixels('again', again['layer'], \"R'G'B'A u8\")\n"
        "rec.layers('after', image)\n" + details("first['layer']", "details")
    )
    first_seed, again_seed = record.values["seeds"]
    assert first_seed, record.values["messages"]
    assert again_seed == first_seed
    np.testing.assert_array_equal(record.pixels["again"], record.pixels["first"])
    # Both layers name the seed they used (GIMP alone would have renamed the second "#<seed + 1>").
    names = [entry["name"] for entry in record.values["after"]]
    assert names == [f"Deep Dream #{first_seed}", f"Deep Dream #{first_seed} (2)", "artwork"]  # each above the artwork
    assert json.loads(record.values["details"])["seed"] == first_seed


def test_a_guide_layer_of_another_image_and_the_creative_settings_reach_the_dream(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        "other, guide = g.new_image(90, 70, base='gray', alpha=False)\n"
        f"plain = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST})\n"
        f"guided = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST}, guide=guide)\n"
        f"creative = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST}, guide=guide, keep_colors=True, "
        "normalization='laplacian', lap_levels=3)\n"
        "rec.value('status', [plain['status'], guided['status'], creative['status']])\n"
        "rec.value('messages', [plain.get('message'), guided.get('message'), creative.get('message')])\n"
        "rec.pixels('plain', plain['layer'], \"R'G'B'A u8\")\n"
        "rec.pixels('guided', guided['layer'], \"R'G'B'A u8\")\n"
        "rec.pixels('creative', creative['layer'], \"R'G'B'A u8\")\n" + details("creative['layer']", "details")
    )
    assert record.values["status"] == ["success"] * 3, record.values["messages"]
    assert not np.array_equal(record.pixels["guided"], record.pixels["plain"])
    assert not np.array_equal(record.pixels["creative"], record.pixels["guided"])
    params = json.loads(record.values["details"])["params"]
    assert (params["keep_colors"], params["normalization"], params["lap_levels"]) == (True, "laplacian", 3)


def test_the_layers_field_dreams_chosen_channels_and_names_valid_layers_when_wrong(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        f"chosen = g.dream(image, layer, seed=4, endpoint={endpoint!r}, {FAST}, layers='conv_pw_5_relu=2, "
        "conv_pw_3_relu:1,5')\n"
        f"wrong = g.dream(image, layer, seed=4, endpoint={endpoint!r}, {FAST}, layers='mixed3=1')\n"
        "rec.value('status', [chosen['status'], wrong['status']])\n"
        "rec.value('messages', [chosen.get('message'), wrong.get('message')])\n" + details("chosen['layer']", "details")
    )
    assert record.values["status"] == ["success", "execution-error"], record.values["messages"]
    assert "mobilenet has no layer mixed3; valid layers: conv_pw_1_relu" in record.values["messages"][1]
    params = json.loads(record.values["details"])["params"]
    assert params["layers"] == {"conv_pw_5_relu": 2.0, "conv_pw_3_relu": 1.0}
    assert params["channels"] == {"conv_pw_3_relu": [1, 5]}


def test_deep_dream_zoom_makes_a_new_image_of_frames(run_gimp: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        "procedure = g.Gimp.get_pdb().lookup_procedure('python-fu-reverie-zoom')\n"
        "rec.value('menu', [procedure.get_menu_label(), list(procedure.get_menu_paths())])\n"
        "config = procedure.create_config()\n"
        "config.set_property('image', image)\n"
        "config.set_core_object_array('drawables', [layer])\n"
        f"for name, value in dict(endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=2, seed=9, frames=8,\n"
        "                          zoom=1.1, rotate=3.0).items():\n"
        "    config.set_property(name, value)\n"
        "config.set_property('frame-steps', 1)\n"
        "result = procedure.run(config)\n"
        "rec.value('status', result.index(0).value_nick)\n"
        "rec.value('message', result.index(1) if result.index(0).value_nick != 'success' else None)\n"
        "animation = result.index(1)\n"
        "rec.layers('frames', animation)\n"
        "rec.value('size', [animation.get_width(), animation.get_height()])\n"
        "rec.value('images', len(g.Gimp.get_images()))\n"
        "frames = animation.get_layers()\n"
        "rec.pixels('first', frames[-1], \"R'G'B'A u8\")\n"
        "rec.pixels('second', frames[-2], \"R'G'B'A u8\")\n"
    )
    values = record.values
    assert values["status"] == "success", values["message"]
    assert values["menu"] == ["Deep Dream _Zoom…", ["<Image>/Filters/Artistic"]]
    assert [entry["name"] for entry in values["frames"]] == [f"Frame {n} (100ms)" for n in range(8, 0, -1)]
    assert values["size"] == [128, 96] and values["images"] == 2
    assert not np.array_equal(record.pixels["first"], record.pixels["second"])


def test_indexed_image_gets_a_dream_in_its_palette(run_gimp: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        "image.convert_indexed(g.Gimp.ConvertDitherType.NONE, g.Gimp.ConvertPaletteType.GENERATE, 16, "
        "False, False, '')\n"
        "colormap, count = image.get_palette().get_colormap(g.Babl.format(\"R'G'B' u8\"))\n"
        "rec.value('palette', list(colormap))\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, seed=5, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.pixels('dream', out['layer'], \"R'G'B'A u8\")\n" + snapshot("after")
    )
    assert record.values["status"] == "success", record.values["message"]
    assert record.values["after_layers"][0]["type"] == "indexeda-image"
    palette = {tuple(c) for c in np.array(record.values["palette"], np.uint8).reshape(-1, 3)}
    used = {tuple(c) for c in record.pixels["dream"][..., :3].reshape(-1, 3)}
    assert used <= palette
    np.testing.assert_array_equal(record.pixels["after_artwork"], record.pixels["before_artwork"])


def test_server_down_is_started_automatically(run_gimp: Callable[..., Record], launcher_bridge) -> None:
    path, bridge = launcher_bridge
    address = free_endpoint()
    try:
        record = run_gimp(
            "image, layer = g.new_image(128, 96)\n"
            f"out = g.dream(image, layer, seed=9, endpoint={address!r}, {FAST})\n"
            "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
            "rec.layers('after', image)\n",
            path=path,
        )
    finally:
        subprocess.run([*REVERIE, "stop", "--endpoint", address], capture_output=True, check=False)
    assert record.values["status"] == "success", record.values["message"]
    assert bridge.calls == [["start", "--endpoint", address]]
    assert [entry["name"] for entry in record.values["after"]] == ["Deep Dream #9", "artwork"]


def test_server_down_and_no_way_to_start_it_fails_with_the_image_unchanged(
    run_gimp: Callable[..., Record],
) -> None:
    address = free_endpoint()
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        "image.select_rectangle(g.Gimp.ChannelOps.REPLACE, 10, 10, 50, 40)\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, endpoint={address!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n" + snapshot("after")
    )
    assert record.values["status"] == "execution-error"
    message = record.values["message"]
    assert address in message and "'reverie' command was not found" in message and "install.py" in message
    assert record.values["after_layers"] == record.values["before_layers"]
    np.testing.assert_array_equal(record.pixels["after_artwork"], record.pixels["before_artwork"])
    np.testing.assert_array_equal(record.pixels["after_composite"], record.pixels["before_composite"])


def test_image_too_large_for_the_server_fails_with_advice_and_the_image_unchanged(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        "image, layer = g.new_image(1100, 1000)\n"
        + snapshot("before")
        + f"out = g.dream(image, layer, endpoint={endpoint!r}, {FAST})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n" + snapshot("after")
    )
    assert record.values["status"] == "execution-error"
    assert "dream on a selection" in record.values["message"]
    assert record.values["after_layers"] == record.values["before_layers"]
    np.testing.assert_array_equal(record.pixels["after_composite"], record.pixels["before_composite"])


def test_a_layer_mask_is_refused_with_advice(run_gimp: Callable[..., Record]) -> None:
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        "mask = layer.create_mask(g.Gimp.AddMaskType.WHITE)\n"
        "layer.add_mask(mask)\n"
        "out = g.dream(image, mask)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.layers('after', image)\n"
    )
    assert record.values["status"] == "execution-error"
    assert "not a channel or a layer mask" in record.values["message"]
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]
