"""The picture in docs/atlas.md: a 1366×768 screen with GIMP's Deep Dream dialog and its channel browser
showing a page of MobileNet's conv_pw_12_relu, rendered by a real server with the ImageNet weights (they ship in
the package), once a click on channel 7 has added it to Layers; in a real GIMP 3 on Xvfb.

Run by hand as root (GIMP's chroot): ``python tests/bench/browser_screenshot.py [OUT.png]``. Writes
docs/channel-browser.png by default; the server's tile cache is a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
sys.path.insert(0, str(E2E))

from dream_server import serving  # noqa: E402
from gimp_harness import COMMAND_STEP, GIMP_PATH, Workspace, find_gimp, run_batch, run_gui_batch  # noqa: E402

SCREEN = "1366x768"
LAYER, CELL = "conv_pw_12_relu", 7


def main(out: Path) -> None:
    gimp = find_gimp()
    space = Workspace.create(gimp, "browser-screenshot")
    try:
        config = space.sub("config")
        installer = [sys.executable, str(REPO / "install" / "install.py"), "--plugin-only"]
        installer += ["--gimp-dir", str(config.host), "--gimp-python", gimp.python()]
        subprocess.run(installer, check=True, capture_output=True, env={"PATH": GIMP_PATH})
        run_batch(gimp, config, space.sub("scan"), "pass\n", GIMP_PATH)
        work = space.sub("work")
        with Image.open(REPO / "samples" / "astronaut.jpg") as photo:
            photo.convert("RGB").resize((512, 512)).save(work.host / "photo.png")
        shutil.copy(E2E / "browse_channels.py", work.host / "browse_channels.py")
        reports = (work.inside / "dialog.json", work.inside / "browser.json")
        hand = f"python3 {work.inside / 'browse_channels.py'} {reports[0]} {reports[1]} {CELL} {work.inside}"
        with tempfile.TemporaryDirectory() as cache:
            os.environ["XDG_CACHE_HOME"] = cache
            with serving(space.host / "server.log", "--model", "mobilenet", "--weights", "imagenet") as endpoint:
                code = (
                    f"image = g.Gimp.file_load(g.Gimp.RunMode.NONINTERACTIVE, g.Gio.File.new_for_path("
                    f"{str(work.inside / 'photo.png')!r}))\n"
                    "layer = image.get_layers()[0]\n"
                    "g.Gimp.Display.new(image)\n"
                    f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, "
                    f"model='mobilenet', layers='{LAYER}')\n"
                )
                environment = {"REVERIE_LAYOUT_REPORT": str(reports[0]), "REVERIE_BROWSER_REPORT": str(reports[1])}
                steps = [(COMMAND_STEP, hand), ("^Deep Dream$", "alt+c")]
                run_gui_batch(gimp, config, work, code, GIMP_PATH, steps, screen=SCREEN, extra_env=environment)
        with Image.open(work.host / "clicked.png") as shot:
            # 256 colours: a third of the bytes, and a dialog's flat greys lose nothing.
            shot.convert("RGB").quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                out, optimize=True
            )
        print(f"wrote {out}")
    finally:
        shutil.rmtree(space.host)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "channel-browser.png")
