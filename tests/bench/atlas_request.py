"""How long the channel browser waits for a page: ``atlas`` requests to a real server (MobileNet, its ImageNet
weights), each layer's page rendered, then asked again and served from the server's tile cache.

Run by hand: ``python tests/bench/atlas_request.py [LAYER ...]``; the server's cache is a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from dream_server import serving  # noqa: E402

from reverie_wire.atlas import AtlasOrder  # noqa: E402
from reverie_wire.client import DreamClient, Result  # noqa: E402

PAGE, TILE = 16, 96  # the browser's (plugin/reverie_plugin/channel_browser.py)
LAYERS = ("conv_pw_3_relu", "conv_pw_12_relu")


def asked(endpoint: str, order: AtlasOrder) -> tuple[float, Result]:
    """Seconds from sending the request to holding the sheet, and the result."""
    with DreamClient(endpoint, timeout=10.0) as client:
        started = time.perf_counter()
        job = client.submit_atlas(order)
        for event in client.events(job):
            if isinstance(event, Result):
                return time.perf_counter() - started, event
    raise SystemExit(f"{order.layer}: the atlas ended without a sheet")


def main(layers: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        with serving(Path(cache) / "server.log", "--model", "mobilenet", "--weights", "imagenet") as endpoint:
            for layer in layers:
                order = AtlasOrder(layer, 0, PAGE - 1, TILE)
                first, sheet = asked(endpoint, order)
                again, cached = asked(endpoint, order)
                assert sheet.atlas is not None and cached.atlas is not None
                print(
                    f"{layer}: {PAGE} channels of {TILE} px: {first:.1f} s rendering {sheet.atlas.dreamed} "
                    f"({sheet.width}×{sheet.height} sheet), {again:.2f} s again from the cache "
                    f"({cached.atlas.dreamed} rendered); load {os.getloadavg()[0]:.1f}"
                )


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or LAYERS)
