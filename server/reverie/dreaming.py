"""Dreaming one image file, in this process or on a running server: nothing is written unless it all worked."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from reverie.client import DreamClient
from reverie.engine.params import DreamParams
from reverie.images import output_format, read_image, write_image
from reverie.pixels import dtype_name, from_dream_output, to_dream_input


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
    with _progress_bar(show_progress) as progress:
        result = dream(rgb, params, model, progress=progress)
    written = write_image(from_dream_output(result.image, loaded.pixels), target)
    height, width = rgb.shape[:2]
    notes = loaded.notes + result.notes + written
    return DreamReport(width, height, result.seed, time.perf_counter() - started, notes)


def dream_file_on_server(
    client: DreamClient,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    params: DreamParams,
    show_progress: bool = True,
) -> DreamReport:
    """Dream ``source`` into ``target`` on a running dream server, which keeps the model warm."""
    started = time.perf_counter()
    output_format(target)
    loaded = read_image(source)
    pixels = loaded.pixels
    height, width, channels = pixels.shape
    with _progress_bar(show_progress) as progress:
        result = client.run(
            pixels.tobytes(),
            width=width,
            height=height,
            channels=channels,
            dtype=dtype_name(pixels),
            params=params.to_dict(),
            on_progress=progress,
        )
    dreamed = np.frombuffer(result.pixels, dtype=pixels.dtype).reshape(pixels.shape)
    written = write_image(dreamed, target)
    notes = (*loaded.notes, *result.notes, *written)
    return DreamReport(width, height, result.seed, time.perf_counter() - started, notes)


@contextmanager
def _progress_bar(show: bool) -> Iterator[Callable[[Any], None]]:
    """A progress bar on a terminal, fed by engine or server progress events alike."""
    with tqdm(total=100, unit="%", disable=not (show and sys.stderr.isatty()), leave=False) as bar:

        def progress(event: Any) -> None:
            bar.set_description(f"octave {event.octave}/{event.octaves} step {event.step}/{event.steps}")
            bar.update(round(event.fraction * 100) - bar.n)

        yield progress
