"""How long a full GIMP run on a 1024×768 image takes, and how much of it is moving pixels.

The dream layer's details parasite carries the plug-in's own timings (read, round trip) and the
server's (job, engine); transfer is the round trip minus the server's time. Figures go to the
test report (``-rA`` or the junit properties) so CI logs keep them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from gimp_harness import Record

pytestmark = pytest.mark.gimp


@pytest.mark.parametrize("precision", ["u8", "u16"])
def test_full_run_on_1024x768(
    run_gimp: Callable[..., Record], endpoint: str, precision: str, record_property: Callable[[str, object], None]
) -> None:
    started = time.monotonic()
    record = run_gimp(
        f"image, layer = g.new_image(1024, 768, precision={precision!r})\n"
        f"out = g.dream(image, layer, seed=1, endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=2)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.value('call_seconds', out['seconds'])\n"
        "rec.value('details', bytes(out['layer'].get_parasite('reverie-dream').get_data()).decode())\n"
    )
    wall = time.monotonic() - started
    assert record.values["status"] == "success", record.values["message"]
    details = json.loads(record.values["details"])
    call = record.values["call_seconds"]
    transfer = details["round_trip_seconds"] - details["server_seconds"]
    figures = {
        "gimp_wall_seconds": round(wall, 2),
        "plugin_call_seconds": round(call, 2),
        "read_seconds": round(details["read_seconds"], 3),
        "transfer_seconds": round(transfer, 3),
        "server_seconds": round(details["server_seconds"], 3),
        "engine_seconds": round(details["engine_seconds"], 3),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"1024x768 {precision}: {figures}")
    assert 0 <= transfer < details["round_trip_seconds"]
    assert details["engine_seconds"] <= details["server_seconds"] < call < wall
