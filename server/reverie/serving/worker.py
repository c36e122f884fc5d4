"""The one thread that owns the model: it loads it, then runs queued jobs one at a time.

It never touches the client socket; it reports to the server's thread with ``events`` (one dataclass each).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import replace

import numpy as np

from reverie import framework_output
from reverie.engine import DreamModel, DreamParams, Progress, backends, dream, get_spec, load_model, warm_up
from reverie.engine.weight_files import keras_cache_dir, needs_download
from reverie.imaging.pixels import from_dream_output, to_dream_input
from reverie.serving.events import (
    Cancelled,
    Dreamed,
    EventLink,
    EventSender,
    Failed,
    LoadFailed,
    Phase,
    Ready,
    Snapshot,
    Started,
    Stepped,
    payload,
)
from reverie.serving.jobs import Job, array
from reverie.serving.live_images import LiveJob, kept_image
from reverie_wire.atlas import AtlasOrder
from reverie_wire.errors import Busy, DreamCancelled, ReverieError
from reverie_wire.ranges import MAX_SEED

log = logging.getLogger("reverie.worker")
FRAMEWORKS_LOG = logging.getLogger("reverie.frameworks")

# Progress goes out at most this often (the protocol promises about ten a second).
PROGRESS_INTERVAL = 0.1


class JobQueue:
    """Jobs waiting for the worker, in arrival order, bounded in count and bytes; a queued job can be taken out
    again."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._jobs: deque[Job] = deque()
        self._ready = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._ready:
            return len(self._jobs)

    def put(self, job: Job) -> int:
        """Queue a job and return how many wait before it; ``Busy`` when the queue is full."""
        with self._ready:
            if len(self._jobs) >= self.limit:
                raise Busy(
                    f"the dream server already has {self.limit} jobs waiting; try again when one finishes "
                    "(or raise [limits] max_queue in its config)"
                )
            waiting = sum(queued.nbytes for queued in self._jobs)
            if self._jobs and waiting + job.nbytes > self.max_bytes:
                raise Busy(
                    f"the jobs waiting on the dream server already hold {waiting / 1e6:.0f} MB of pixels; try again "
                    "when one finishes (or raise [limits] max_queue_bytes in its config)"
                )
            self._jobs.append(job)
            self._ready.notify()
            return len(self._jobs) - 1

    def remove(self, job: Job) -> bool:
        """Take a job out if it is still waiting; False when the worker already has it."""
        with self._ready:
            try:
                self._jobs.remove(job)
            except ValueError:
                return False
            return True

    def take(self) -> Job | None:
        """The next job, waiting for one; None once the queue is closed."""
        with self._ready:
            while not self._jobs and not self._closed:
                self._ready.wait()
            return None if self._closed else self._jobs.popleft()

    def close(self) -> list[Job]:
        """Stop handing out jobs; returns those still waiting."""
        with self._ready:
            self._closed = True
            left = list(self._jobs)
            self._jobs.clear()
            self._ready.notify_all()
            return left


def failure(job: Job, kind: str, what: str, error: Exception) -> Failed:
    """How a job that raised ends: a ReverieError as it says (the client's input, a limit); anything else is the
    server's own fault, logged with its traceback (call it from the ``except`` block) and reported as internal."""
    if isinstance(error, ReverieError):
        return Failed(job.serial, error.code, str(error))
    log.exception("%s %s failed", kind, job.job_id)
    return Failed(job.serial, "internal", f"the {what} failed inside the server: {error!r}; see `reverie logs`")


class Worker(threading.Thread):
    """Loads the model, says ``ready`` (or ``failed``), then dreams until the queue closes."""

    def __init__(
        self,
        link: EventLink,
        queue: JobQueue,
        model: str,
        weights: str,
        compiled_kept: int,
        warm_up_pictures: tuple[tuple[int, int], ...] | None = None,
    ) -> None:
        super().__init__(name="reverie-worker", daemon=True)
        self._compiled_kept = compiled_kept
        self._warm_up_pictures = warm_up_pictures
        self._link = link
        self._queue = queue
        self._model_name = model
        self._weights = weights

    def run(self) -> None:
        link = self._link.sender()
        try:
            with framework_output.logged(FRAMEWORKS_LOG):  # TensorFlow's and XLA's start-up lines: DEBUG
                model = self._load(link)
            if model is not None:
                while (job := self._queue.take()) is not None:
                    self._run(link, model, job)
        finally:
            link.close()

    def _loading_phase(self, link: EventSender) -> None:
        """Say what building the model waits for: a first run downloads the ImageNet weights."""
        spec = get_spec(self._model_name)
        if needs_download(spec, self._weights):
            download = {"path": str(keras_cache_dir() / spec.weights_file), "bytes": spec.weights_bytes}
            phase = f"downloading {spec.name}'s ImageNet weights ({spec.weights_bytes / 1e6:.0f} MB), then building it"
            link.send(Phase(phase, download))
        else:
            link.send(Phase("building the model"))

    def _load(self, link: EventSender) -> DreamModel | None:
        started = time.monotonic()
        try:
            link.send(Phase("loading Keras"))
            backends.backend()  # imports Keras and its backend: seconds, before any download starts
            self._loading_phase(link)
            model = load_model(self._model_name, weights=self._weights)
            model.compiled_kept = self._compiled_kept
            # Compile now, so the first artist's request does not wait for it.
            link.send(Phase("warming up (compiling)"))
            params = DreamParams(model=model.spec.name)
            if self._warm_up_pictures is None:
                warm_up_seconds = warm_up(model, params)
            else:
                warm_up_seconds = warm_up(model, params, self._warm_up_pictures)
        except ReverieError as error:
            link.send(LoadFailed(error.code, str(error)))
            return None
        except Exception as error:
            log.exception("loading %s failed", self._model_name)
            link.send(LoadFailed("internal", f"loading the model failed: {error!r}"))
            return None
        log.info(
            "%s (%s weights) ready on %s in %.1f s (%.1f s of it compiling)",
            model.spec.name,
            self._weights,
            model.device,
            time.monotonic() - started,
            warm_up_seconds,
        )
        link.send(Ready(model.device, model.backend.name))
        return model

    def _run(self, link: EventSender, model: DreamModel, job: Job) -> None:
        if job.cancel.is_set():
            link.send(Cancelled(job.serial))
            return
        link.send(Started(job.serial))
        if job.atlas is not None:
            self._run_atlas(link, job, job.atlas)
            return
        last = 0.0
        live: LiveJob | None = None

        def progress(step: Progress) -> None:
            nonlocal last
            if live is not None:
                live.offer(step)
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                link.send(
                    Stepped(
                        job.serial,
                        step.fraction,
                        step.octave,
                        step.octaves,
                        step.step,
                        step.steps,
                        step.tiles,
                        step.seconds_left,
                    )
                )

        # The seed is chosen here, not in the engine, so that a job stopped early can report it too.
        seed = job.params.seed if job.params.seed is not None else secrets.randbelow(MAX_SEED + 1)
        params = replace(job.params, seed=seed)
        try:
            original = array(job.image)
            source = job.start(to_dream_input(original))
            live = LiveJob(
                job.snapshots,
                source,
                lambda fields, pixels: link.send(Snapshot(job.serial, fields, payload(np.ascontiguousarray(pixels)))),
            )
            result = dream(
                source,  # the engine never writes into it, so a stopped job's kept image can start from it
                params,
                model,
                progress=progress,
                should_cancel=job.cancel.is_set,
                **job.engine_inputs(),
            )
            pixels = from_dream_output(result.image, original)
        except DreamCancelled:
            if job.keep and live is not None:
                self._send_kept(link, job, seed, original, live)
            else:
                link.send(Cancelled(job.serial))
            return
        except Exception as error:
            link.send(failure(job, "job", "dream", error))
            return
        image = payload(np.ascontiguousarray(pixels))
        link.send(Dreamed(job.serial, result.seed, None, result.seconds, list(result.notes), image))

    def _run_atlas(self, link: EventSender, job: Job, order: AtlasOrder) -> None:
        """Render an atlas request's sheet, its progress as a dream's (the fraction of its steps done)."""
        from reverie.atlas.served import render_order

        last = 0.0

        def on_step(fraction: float) -> None:
            nonlocal last
            if job.cancel.is_set():
                raise DreamCancelled(f"atlas {job.job_id} was cancelled")
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                link.send(Stepped(job.serial, fraction, 1, 1, 0, 0, 1))

        try:
            served = render_order(self._model_name, self._weights, order, on_step)
        except DreamCancelled:
            link.send(Cancelled(job.serial))
            return
        except Exception as error:
            link.send(failure(job, "atlas", "atlas", error))
            return
        dreamed = served.sheet.dreamed
        notes = [f"{dreamed} of {len(order.channels)} tiles rendered now, the rest from the server's atlas cache"]
        pixels = payload(served.pixels)
        link.send(Dreamed(job.serial, served.seed, None, served.seconds, notes, pixels, served.sheet))

    def _send_kept(self, link: EventSender, job: Job, seed: int, original: np.ndarray, live: LiveJob) -> None:
        """A job stopped with keep: its image as the last step left it, as the result, marked partial."""
        started = time.monotonic()
        pixels = from_dream_output(kept_image(live.sources, live.last), original)
        notes = ["stopped early: this is the dream as far as it had come"]
        engine_seconds = time.monotonic() - started
        link.send(
            Dreamed(job.serial, seed, live.partial(), engine_seconds, notes, payload(np.ascontiguousarray(pixels)))
        )
