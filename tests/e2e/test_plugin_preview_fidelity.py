"""The preview predicts the full run, in a real GIMP 3 with a server holding the real MobileNet ImageNet weights.

A photo larger than the preview's crop, the plug-in's default settings and one seed: on the preview's crop,
the change the full run made correlates with the change the preview made about as well as two dreams of one
picture can (tests/bench/preview_fidelity.py measures it against the former, shrunk preview).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from dream_server import serving
from gimp_harness import Record, Workspace
from PIL import Image

pytestmark = pytest.mark.gimp

PHOTO = Path(__file__).resolve().parents[2] / "samples" / "astronaut.jpg"
SIDE = 1024
SEED = 701028867
# The former preview (shrunk to 512, a quarter of the steps) scored 0.17 here; a full run on the photo shifted
# by two pixels scores 0.31 against the full run.
MIN_CORRELATION = 0.3


@pytest.fixture(scope="module")
def imagenet_endpoint(mobilenet_weights_file: Path, session_space: Workspace) -> Iterator[str]:
    """A real dream server with the real MobileNet weights (tests/conftest.py put them in Keras' cache)."""
    log = session_space.host / "imagenet-server.log"
    with serving(log, "--model", "mobilenet", "--weights", "imagenet") as address:
        yield address


def test_full_run_on_the_previews_crop_looks_like_the_preview(
    run_gimp: Callable[..., Record], work: Workspace, imagenet_endpoint: str
) -> None:
    Image.open(PHOTO).convert("RGB").resize((SIDE, SIDE), Image.Resampling.LANCZOS).save(work.host / "photo.png")
    record = run_gimp(
        f"photo = g.Gio.File.new_for_path({str(work.inside / 'photo.png')!r})\n"
        "image = g.Gimp.file_load(g.Gimp.RunMode.NONINTERACTIVE, photo)\n"
        "layer = image.get_layers()[0]\n"
        f"preview = g.dream(image, layer, preview=True, seed={SEED}, endpoint={imagenet_endpoint!r})\n"
        "rec.layers('previewed', image)\n"
        "rec.pixels('preview', preview['layer'], \"R'G'B' u8\")\n"
        f"full = g.dream(image, layer, seed={SEED}, endpoint={imagenet_endpoint!r})\n"
        "rec.pixels('full', full['layer'], \"R'G'B' u8\")\n"
        "rec.pixels('photo', layer, \"R'G'B' u8\")\n"
        "rec.value('messages', [preview.get('message'), full.get('message')])\n"
    )
    assert record.values["messages"] == [None, None]
    x, y = record.values["previewed"][0]["offsets"]
    width, height = record.values["previewed"][0]["size"]
    assert (x, y, width, height) == (256, 256, 512, 512)
    photo = record.pixels["photo"][y : y + height, x : x + width].astype(float)
    full = record.pixels["full"][y : y + height, x : x + width].astype(float)
    preview = record.pixels["preview"].astype(float)
    correlation = np.corrcoef((preview - photo).ravel(), (full - photo).ravel())[0, 1]
    print(f"preview vs full run, change-correlation on the {width}×{height} crop: {correlation:.3f}")
    assert correlation > MIN_CORRELATION
