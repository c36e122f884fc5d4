"""The screenshot in plugin/README.md: a 1366×768 screen with GIMP and the Deep Dream dialog after a preview
of a photo, in a real GIMP 3 on Xvfb, dreamed by a real server with MobileNet's ImageNet weights (they ship
in the package).

Run by hand as root (GIMP's chroot): ``python tests/bench/dialog_screenshot.py [OUT.png]``. Writes
docs/live-dialog.png by default.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
sys.path.insert(0, str(E2E))

from dream_server import serving  # noqa: E402
from gimp_harness import (  # noqa: E402
    COMMAND_STEP,
    GIMP_PATH,
    Workspace,
    find_gimp,
    run_batch,
    run_gui_batch,
    shown_window,
)

SIDE = 512
SCREEN = "1366x768"
PARAMS = "model='mobilenet', octaves=3, steps=20, seed=701028867, step_size=0.02"


def main(out: Path) -> None:
    gimp = find_gimp()
    space = Workspace.create(gimp, "screenshot")
    try:
        config = space.sub("config")
        installer = [sys.executable, str(REPO / "install" / "install.py"), "--plugin-only"]
        installer += ["--gimp-dir", str(config.host), "--gimp-python", gimp.python()]
        subprocess.run(installer, check=True, capture_output=True, env={"PATH": GIMP_PATH})
        run_batch(gimp, config, space.sub("scan"), "pass\n", GIMP_PATH)
        work = space.sub("work")
        with Image.open(REPO / "samples" / "astronaut.jpg") as photo:
            photo.convert("RGB").resize((SIDE, SIDE)).save(work.host / "photo.png")
        shutil.copy(E2E / "pane_watch.py", work.host / "pane_watch.py")
        log = space.host / "server.log"
        with serving(log, "--model", "mobilenet", "--weights", "imagenet") as endpoint:
            code = (
                f"image = g.Gimp.file_load(g.Gimp.RunMode.NONINTERACTIVE, g.Gio.File.new_for_path("
                f"{str(work.inside / 'photo.png')!r}))\n"
                "layer = image.get_layers()[0]\n"
                "g.Gimp.Display.new(image)\n"
                f"g.write_source({str(work.inside)!r}, layer, [])\n"
                "import json; meta = json.load(open(" + repr(str(work.inside / "source.json")) + "))\n"
                "meta['until_done'] = meta['whole_screen'] = True\n"
                "open(" + repr(str(work.inside / "source.json")) + ", 'w').write(json.dumps(meta))\n"
                f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, {PARAMS})\n"
            )
            watch_step = (COMMAND_STEP, f"python3 {work.inside / 'pane_watch.py'} {work.inside}")
            # Once the dialog shows, the pointer leaves it: no tooltip in the picture.
            away = (COMMAND_STEP, f"{shown_window('^Deep Dream$')} >/dev/null; xdotool mousemove 1365 767")
            steps = [away, watch_step, ("^Deep Dream$", "alt+c")]
            run_gui_batch(gimp, config, work, code, GIMP_PATH, steps, screen=SCREEN)
        watch = json.loads((work.host / "watch.json").read_text())
        width, height, stride, channels = watch["done_frame"]
        raw = np.frombuffer((work.host / "done.raw").read_bytes(), np.uint8)
        rows = np.stack([raw[y * stride : y * stride + width * channels] for y in range(height)])
        picture = Image.fromarray(rows.reshape(height, width, channels)[:, :, :3])
        # 256 colours: a third of the bytes, and a dialog's flat greys lose nothing.
        picture.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
        print(f"wrote {out} ({width}×{height})")
    finally:
        shutil.rmtree(space.host)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "live-dialog.png")
