"""The Strength argument in a real GIMP 3: a channel or a layer mask, painted black on the left and white on
the right, leaves the left half of the result layer as the source was."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from gimp_harness import Record

pytestmark = pytest.mark.gimp

FAST = "model='mobilenet', octaves=1, steps=3"
WIDTH, HEIGHT = 160, 120
# A map black on the left half, white on the right, one u8 value per pixel.
HALVES = f"(bytes({WIDTH // 2}) + bytes([255]) * {WIDTH - WIDTH // 2}) * {HEIGHT}"


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
