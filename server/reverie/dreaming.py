"""Dreaming one image file in this process: read, dream, write — nothing written unless it all worked."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

from tqdm import tqdm

from reverie.engine.params import DreamParams
from reverie.images import output_format, read_image, write_image
from reverie.pixels import from_dream_output, to_dream_input


@dataclass(frozen=True)
class DreamReport:
    width: int
    height: int
    seed: int
    seconds: float
    notes: tuple[str, ...]


def dream_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    params: DreamParams,
    weights: str,
    show_progress: bool = True,
) -> DreamReport:
    """Dream ``source`` into ``target`` with the in-process engine; alpha and bit depth are kept."""
    started = time.perf_counter()
    output_format(target)
    loaded = read_image(source)
    rgb = to_dream_input(loaded.pixels)

    from reverie.engine import dream, load_model

    model = load_model(params.model, weights)
    bar = tqdm(total=100, unit="%", disable=not (show_progress and sys.stderr.isatty()), leave=False)
    with bar:

        def progress(event: object) -> None:
            bar.set_description(f"octave {event.octave}/{event.octaves} step {event.step}/{event.steps}")
            bar.update(round(event.fraction * 100) - bar.n)

        result = dream(rgb, params, model, progress=progress)
    written = write_image(from_dream_output(result.image, loaded.pixels), target)
    height, width = rgb.shape[:2]
    notes = loaded.notes + result.notes + written
    return DreamReport(width, height, result.seed, time.perf_counter() - started, notes)
