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

from reverie.cli.target import Target
from reverie.engine.params import DreamParams
from reverie.imaging.images import output_format, read_image, rescue_image, write_image
from reverie.imaging.pixels import dtype_name, from_dream_output, to_dream_input
from reverie_wire.client import DreamClient, Guide, Queued, Result, Strength
from reverie_wire.errors import ClientError, ReverieError
from reverie_wire.images import Image
from reverie_wire.protocol import PREVIOUS
from reverie_wire.time_left import time_left_text


@dataclass(frozen=True)
class DreamReport:
    width: int
    height: int
    seed: int
    seconds: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class BusyWait:
    """The server turned the job away for now (its queue is full): it is sent again in ``seconds``."""

    message: str
    seconds: float


ProgressFn = Callable[[Any], None]
# A job that spent longer than this on the server before and after its dream says so (a note): it waited in the
# queue. Reading and writing its pixels there takes well under it, even for a large image.
QUEUE_NOTE_SECONDS = 2.0
# Pixels in (H×W×C as read), progress callback → dreamed pixels in the same layout, seed used, notes.
Dreamer = Callable[[np.ndarray, ProgressFn], tuple[np.ndarray, int, tuple[str, ...]]]


# A clip's previous frame: its source pixels and its dream, as read and as dreamed (see ``reverie frames``).
PreviousFrame = tuple[np.ndarray, np.ndarray]


def in_process(
    params: DreamParams,
    weights: str,
    guide: np.ndarray | None = None,
    strength: np.ndarray | None = None,
    previous: PreviousFrame | None = None,
) -> Dreamer:
    """Dream with the engine in this process; alpha and bit depth are kept. ``guide``: a guide image's
    pixels as read (any layout), or None; ``strength``: a strength map (H×W float32 in [0, 1]), or None;
    ``previous``: a clip's previous frame, whose dream this one starts from carried along the motion."""

    def dream_pixels(pixels: np.ndarray, progress: ProgressFn) -> tuple[np.ndarray, int, tuple[str, ...]]:
        from reverie.engine import dream, load_model
        from reverie.imaging.carried import carried_start

        rgb = to_dream_input(pixels)
        if previous is not None:
            source, dreamt = previous
            rgb = carried_start(rgb, to_dream_input(source), to_dream_input(dreamt))[0]
        guide_rgb = None if guide is None else to_dream_input(guide)
        model = load_model(params.model, weights)
        result = dream(rgb, params, model, progress=progress, guide=guide_rgb, strength=strength)
        return from_dream_output(result.image, pixels), result.seed, result.notes

    return dream_pixels


def as_guide(pixels: np.ndarray | None) -> Guide | None:
    """A guide image's pixels as read, as the client sends them."""
    if pixels is None:
        return None
    height, width, channels = pixels.shape
    return Guide(pixels.tobytes(), width, height, channels, dtype_name(pixels))


def as_strength(strength: np.ndarray | None) -> Strength | None:
    """A strength map (H×W float32 in [0, 1]) as the client sends it: one float channel."""
    if strength is None:
        return None
    height, width = strength.shape
    return Strength(np.ascontiguousarray(strength, np.float32).tobytes(), width, height, 1, "f32")


def _waited(result: Result) -> tuple[str, ...]:
    """A note when the job spent a while on the server before it dreamed (other jobs were ahead of it), so that
    the time reported for it is not read as the dream's."""
    waited = result.seconds - result.engine_seconds
    if waited < QUEUE_NOTE_SECONDS:
        return ()
    dreamt = result.engine_seconds
    return (f"the job waited {waited:.1f} s in the server's queue; the dream itself took {dreamt:.1f} s",)


def as_previous(previous: PreviousFrame | None) -> dict[str, Image]:
    """A clip's previous frame as the client sends it: its source and its dream, by their extra images' names."""
    if previous is None:
        return {}
    return {
        name: Image(frame.tobytes(), frame.shape[1], frame.shape[0], frame.shape[2], dtype_name(frame))
        for name, frame in zip(PREVIOUS, previous, strict=True)
    }


def on_server(
    client: DreamClient,
    params: DreamParams,
    guide: np.ndarray | None = None,
    strength: np.ndarray | None = None,
    previous: PreviousFrame | None = None,
) -> Dreamer:
    """Dream on a running server, which keeps the model warm and hands back the same layout."""

    def dream_pixels(pixels: np.ndarray, progress: ProgressFn) -> tuple[np.ndarray, int, tuple[str, ...]]:
        height, width, channels = pixels.shape
        result = client.run(
            pixels.tobytes(),
            width=width,
            height=height,
            channels=channels,
            dtype=dtype_name(pixels),
            params=params.to_dict(),
            on_progress=progress,
            guide=as_guide(guide),
            strength=as_strength(strength),
            **as_previous(previous),
            on_queued=progress,
            on_busy=lambda error, seconds: progress(BusyWait(str(error), seconds)),
        )
        got = (result.height, result.width, result.channels, result.dtype)
        if got != (height, width, channels, dtype_name(pixels)):
            raise ClientError(
                f"the dream server sent back a {result.width}x{result.height} {result.channels}-channel "
                f"{result.dtype} image for a {width}x{height} {channels}-channel {dtype_name(pixels)} one; "
                "update the server and this client to the same Reverie release"
            )
        dreamed = np.frombuffer(result.pixels, dtype=pixels.dtype).reshape(pixels.shape)
        return dreamed, result.seed, (*result.notes, *_waited(result))

    return dream_pixels


def dreaming_at(
    target: Target,
    params: DreamParams,
    guide: np.ndarray | None = None,
    strength: np.ndarray | None = None,
    previous: PreviousFrame | None = None,
) -> Dreamer:
    """Dream where ``target`` chose: on its server, or in this process with its weights."""
    if target.client is None:
        return in_process(params, target.weights, guide, strength, previous)
    return on_server(target.client, params, guide, strength, previous)


def dream_file(
    source: str | os.PathLike[str], target: str | os.PathLike[str], dreamer: Dreamer, show_progress: bool = True
) -> DreamReport:
    """Read ``source``, dream it, write ``target``; the output name is checked before any work, and a dream
    that ``target`` refuses after all is saved elsewhere (the error says where)."""
    started = time.perf_counter()
    output_format(target)
    loaded = read_image(source)
    with _progress_bar(show_progress) as progress:
        dreamed, seed, dream_notes = dreamer(loaded.pixels, progress)
    try:
        written = write_image(dreamed, target)
    except (OSError, ValueError, ReverieError) as error:  # the dream is done: keep it somewhere, say where
        raise rescue_image(dreamed, target, seed, error) from None
    height, width = loaded.pixels.shape[:2]
    return DreamReport(width, height, seed, time.perf_counter() - started, (*loaded.notes, *dream_notes, *written))


def waiting_line(event: Queued | BusyWait) -> str:
    """What a job that waits says, in a line of its own (the wait may be long)."""
    if isinstance(event, BusyWait):
        return f"the dream server is busy ({event.message}); sending the job again in {event.seconds:.1f} s"
    return f"waiting for the dream server ({event.ahead} job{'' if event.ahead == 1 else 's'} ahead of this one)"


@contextmanager
def _progress_bar(show: bool) -> Iterator[ProgressFn]:
    """A progress bar on a terminal, fed by engine or server progress events alike; a job the server queues
    behind others says so (in a line of its own, terminal or not: the wait may be long)."""
    with tqdm(total=100, unit="%", disable=not (show and sys.stderr.isatty()), leave=False) as bar:

        def progress(event: Any) -> None:
            if isinstance(event, (Queued, BusyWait)):
                if show:
                    bar.write(f"reverie: {waiting_line(event)}", file=sys.stderr)
                return
            bar.set_postfix_str(time_left_text(event.seconds_left), refresh=False)  # shown with the description
            bar.set_description(f"octave {event.octave}/{event.octaves} step {event.step}/{event.steps}")
            bar.update(round(event.fraction * 100) - bar.n)

        yield progress
