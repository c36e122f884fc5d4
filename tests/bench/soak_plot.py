"""Draw the soak's RSS curve (``soak.py``'s JSON) as a small PNG with Pillow, with the budget line (resident
memory when ready plus ``memory_budget``) and the bound the guard keeps (that plus one connection's allowance,
which it always lets through so a job sent to a full server is answered ``busy``).

``.venv/bin/python tests/bench/soak_plot.py soak.json docs/soak-rss.png``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw

MB = 1 << 20
MAX_HEADER_BYTES = 64 * 1024
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 24, 36


def plot(report: dict, out: Path) -> None:
    samples = report["samples"]
    limit = (report["ready_rss"] + report["limits"]["memory_budget"]) / MB
    allowance = 2 * (report["limits"]["max_pixels"] * 16 + MAX_HEADER_BYTES) / MB
    seconds = max(1.0, samples[-1][0])
    top = max(limit + allowance, report["peak_rss"] / MB) * 1.1
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)

    def point(second: float, mib: float) -> tuple[float, float]:
        x = LEFT + (WIDTH - LEFT - RIGHT) * second / seconds
        return x, HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * mib / top

    draw.rectangle((LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM), outline="black")
    for mib in range(0, int(top), 250):
        y = point(0, mib)[1]
        draw.line((LEFT - 4, y, LEFT, y), fill="black")
        draw.text((4, y - 6), f"{mib} MiB", fill="black")
    for minute in range(0, int(seconds // 60) + 1, 5):
        x = point(minute * 60, 0)[0]
        draw.line((x, HEIGHT - BOTTOM, x, HEIGHT - BOTTOM + 4), fill="black")
        draw.text((x - 8, HEIGHT - BOTTOM + 8), f"{minute} min", fill="black")
    draw.line((*point(0, limit), *point(seconds, limit)), fill="red")
    draw.text((LEFT + 6, point(0, limit)[1] - 14), "ready + memory_budget", fill="red")
    draw.line((*point(0, limit + allowance), *point(seconds, limit + allowance)), fill="orange")
    draw.text((LEFT + 6, point(0, limit + allowance)[1] - 14), "+ one connection's allowance", fill="orange")
    draw.line([point(second, rss / MB) for second, rss in samples], fill="blue", width=1)
    draw.text((LEFT + 6, 6), "reverie serve resident memory (VmRSS) each second under every attack", fill="blue")
    canvas.save(out, optimize=True)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
