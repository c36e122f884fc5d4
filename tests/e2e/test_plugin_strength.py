"""The Strength argument in a real GIMP 3: a channel or a layer mask, painted black on the left and white on
the right, leaves the left half of the result layer as the source was."""

from __future__ import annotations

import shlex
from collections.abc import Callable

import numpy as np
import pytest
from gimp_harness import COMMAND_STEP, Record, Workspace
from test_plugin_dialog import CLICK_AND_READ_CLIPBOARD

pytestmark = pytest.mark.gimp

FAST = "model='mobilenet', octaves=1, steps=3"
WIDTH, HEIGHT = 160, 120
# A map black on the left half, white on the right, one u8 value per pixel.
HALVES = f"(bytes({WIDTH // 2}) + bytes([255]) * {WIDTH - WIDTH // 2}) * {HEIGHT}"


PAINTED_CHANNEL = (
    f"whole = g.Gegl.Rectangle.new(0, 0, {WIDTH}, {HEIGHT})\n"
    f"channel = g.Gimp.Channel.new(image, 'painted', {WIDTH}, {HEIGHT}, 50.0, g.Gegl.Color.new('black'))\n"
    "image.insert_channel(channel, None, 0)\n"
    f"channel.get_buffer().set(whole, 'Y u8', {HALVES}); channel.get_buffer().flush()\n"
)


def test_the_copied_command_names_the_strength_mask(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    """ "Copy as command" with a Strength mask chosen: the line takes it as --strength, from the file the artist
    exports it as (as the guide layer's)."""
    (work.host / "click.py").write_text(CLICK_AND_READ_CLIPBOARD)
    report, copied = work.inside / "layout.json", work.inside / "copied.txt"
    record = run_gimp_ui(
        f"image, layer = g.new_image({WIDTH}, {HEIGHT})\n"
        "g.Gimp.Display.new(image)\n" + PAINTED_CHANNEL + "out = g.dream(image, layer, "
        f"run_mode=g.Gimp.RunMode.INTERACTIVE, seed=3, endpoint={endpoint!r}, {FAST}, strength=channel)\n"
        "rec.value('status', out['status'])\n",
        [
            (COMMAND_STEP, f"python3 {work.inside / 'click.py'} {report} 'Copy as command' {copied}"),
            ("^Deep Dream$", "alt+c"),
        ],
        extra_env={"REVERIE_LAYOUT_REPORT": str(report)},
    )
    assert record.values["status"] == "cancel"
    words = shlex.split((work.host / "copied.txt").read_text())
    assert words[words.index("--strength") + 1] == "strength.png", words
    assert "--guide" not in words


def test_a_channel_and_a_layer_mask_keep_the_black_half_as_it_was(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        f"image, layer = g.new_image({WIDTH}, {HEIGHT})\n"
        f"whole = g.Gegl.Rectangle.new(0, 0, {WIDTH}, {HEIGHT})\n"
        f"channel = g.Gimp.Channel.new(image, 'painted', {WIDTH}, {HEIGHT}, 50.0, g.Gegl.Color.new('black'))\n"
        "image.insert_channel(channel, None, 0)\n"
        f"channel.get_buffer().set(whole, 'Y u8', {HALVES}); channel.get_buffer().flush()\n"
        "rec.pixels('source', layer, \"R'G'B'A u8\")\n"
        f"painted = g.dream(image, layer, seed=3, endpoint={endpoint!r}, {FAST}, strength=channel)\n"
        f"plain = g.dream(image, layer, seed=3, endpoint={endpoint!r}, {FAST})\n"
        "mask = layer.create_mask(g.Gimp.AddMaskType.WHITE); layer.add_mask(mask)\n"
        f"mask.get_buffer().set(whole, 'Y u8', {HALVES}); mask.get_buffer().flush()\n"
        f"masked = g.dream(image, layer, seed=3, endpoint={endpoint!r}, {FAST}, strength=mask)\n"
        "outs = {'painted': painted, 'plain': plain, 'masked': masked}\n"
        "rec.value('status', {name: out['status'] for name, out in outs.items()})\n"
        "rec.value('messages', [out.get('message') for out in outs.values()])\n"
        "for name, out in outs.items():\n"
        "    rec.pixels(name, out['layer'], \"R'G'B'A u8\")\n"
    )
    statuses = record.values["status"]
    assert set(statuses.values()) == {"success"}, record.values["messages"]
    source = record.pixels["source"].astype(int)
    reach = 16  # the map's edge blends across a few pixels
    for name in ("painted", "masked"):
        result = record.pixels[name].astype(int)
        assert result.shape == source.shape
        change = np.abs(result - source)
        assert change[:, : WIDTH // 2 - reach].max() <= 1, name
        assert change[:, WIDTH // 2 + reach :, :3].mean() > 1, name
    plain = np.abs(record.pixels["plain"].astype(int) - source)
    assert plain[:, : WIDTH // 2 - reach, :3].mean() > 1  # without a map the left half dreams too
