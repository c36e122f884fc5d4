"""``preview_fidelity.py`` on a small picture with random weights: it runs, and its figures mean what they say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARGS = ["--size", "600x560", "--context", "0", "64", "--weights", "random"]


def test_prints_each_correlation_and_a_preview_seeing_the_whole_picture_is_the_full_run() -> None:
    environment = os.environ | {"PYTHONPATH": str(HERE.parents[1] / "server"), "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(
        [sys.executable, str(HERE / "preview_fidelity.py"), *ARGS],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scores = dict(
        re.findall(r"^(reference|former preview|crop\+\d+).*change-correlation (-?\d\.\d+)", done.stdout, re.M)
    )
    assert set(scores) == {"reference", "former preview", "crop+0", "crop+64"}, done.stdout
    assert all(-1 <= float(score) <= 1 for score in scores.values())
    # 512 + 2 × 64 covers the 600×560 picture: that preview dreams exactly what the full run dreams.
    assert scores["crop+64"] == "1.000"
    assert float(scores["crop+0"]) < 1
