"""``reverie dream A.jpg B.jpg … -o DIR/``: many files in one command. On a cluster's front they are spread over its
dreamers, one connection per dreamer; on a single server, or in this process, they run one by one. Each file has its
own progress bar (on a terminal) and its own line once written; one file failing does not stop the others."""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from reverie.cli.dreaming import BusyWait, Dreamer, ProgressFn, dream_file, dreaming_at, waiting_line
from reverie.cli.target import Target
from reverie.engine.params import DreamParams
from reverie.imaging.images import output_format
from reverie_wire.client import DreamClient, Queued
from reverie_wire.errors import BadRequest


def is_batch(inputs: Sequence[str], output: str) -> bool:
    """Several files, or one written into a folder named as one (``-o DIR/``; ``-o DIR`` is refused, as a file
    name that is a folder)."""
    return len(inputs) > 1 or output.endswith(("/", os.sep))


def outputs(inputs: Sequence[str], folder: str) -> list[Path]:
    """Each input's output: its name in ``folder``; checked before any work (no two inputs may share a name)."""
    directory = Path(folder)
    if not directory.is_dir():
        raise BadRequest(f"cannot write into {folder}: it is not a folder (make it first)")
    targets = [directory / Path(source).name for source in inputs]
    names = [target.name for target in targets]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadRequest(f"two inputs would both be written as {', '.join(repeated)} in {folder}; rename one")
    for target in targets:
        output_format(target)
    return targets


def _lanes(target: Target, options: dict[str, Any]) -> list[Target]:
    """One target per file dreamt at once: one per ready dreamer of a cluster, else the target alone."""
    client = target.client
    if client is None:
        return [target]
    facts = client.hello()
    ready = sum(dreamer.get("state") in ("ready", "busy") for dreamer in facts.get("dreamers", []))
    more = [DreamClient(client.endpoint, **options) for _ in range(max(0, ready - 1))]
    return [target, *(Target(extra, target.model, target.weights) for extra in more)]


def _bar_progress(bar: tqdm, name: str, show: bool) -> ProgressFn:
    def progress(event: Any) -> None:
        if isinstance(event, (Queued, BusyWait)):
            if show:
                bar.write(f"reverie: {name}: {waiting_line(event)}", file=sys.stderr)
            return
        bar.set_postfix_str(f"octave {event.octave}/{event.octaves} step {event.step}/{event.steps}", refresh=False)
        bar.update(round(event.fraction * 100) - bar.n)

    return progress


def _on_bar(dreamer: Dreamer, progress: ProgressFn) -> Dreamer:
    """The dreamer, reporting to this file's bar rather than to the one ``dream_file`` would make."""

    def dream_pixels(pixels: np.ndarray, _: ProgressFn) -> tuple[np.ndarray, int, tuple[str, ...]]:
        return dreamer(pixels, progress)

    return dream_pixels


def dream_files(
    inputs: Sequence[str],
    folder: str,
    target: Target,
    params: DreamParams,
    guide: np.ndarray | None,
    show: bool,
    options: dict[str, Any],
    strength: np.ndarray | None = None,
) -> int:
    """Dream every input into ``folder``; 0 when all were written, 1 when any failed (each failure said)."""
    targets = outputs(inputs, folder)
    lanes = _lanes(target, options)
    work: queue.Queue[tuple[str, Path]] = queue.Queue()
    for pair in zip(inputs, targets, strict=True):
        work.put(pair)
    printing = threading.Lock()
    failed: list[str] = []

    def lane(number: int) -> None:
        dreamer: Dreamer = dreaming_at(lanes[number], params, guide, strength)
        while True:
            try:
                source, written = work.get_nowait()
            except queue.Empty:
                return
            name = Path(source).name
            with tqdm(
                total=100, unit="%", desc=name, position=number, leave=False, disable=not (show and sys.stderr.isatty())
            ) as bar:
                try:
                    report = dream_file(source, written, _on_bar(dreamer, _bar_progress(bar, name, show)), False)
                except Exception as error:  # any one file's failure is said, and the others go on
                    with printing:
                        failed.append(name)
                        print(f"reverie: error: {name}: {error}", file=sys.stderr)
                    continue
            with printing:
                for note in report.notes:
                    print(f"reverie: note: {name}: {note}", file=sys.stderr)
                print(f"wrote {written} ({report.width}×{report.height}) in {report.seconds:.1f} s; seed {report.seed}")

    threads = [threading.Thread(target=lane, args=(number,)) for number in range(len(lanes))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for extra in lanes[1:]:
            assert extra.client is not None
            extra.client.close()
    where = f"over {len(lanes)} dreamers" if len(lanes) > 1 else target.where
    print(f"dreamt {len(inputs) - len(failed)} of {len(inputs)} files {where}")
    return 1 if failed else 0
