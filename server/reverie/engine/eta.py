"""How long a dream has left: the steps still to run, weighted by the pixels each computes, times the time a
pixel-step has taken so far.

Octaves differ in size (the Keras default's three octaves of 1024×768 compute about 1 : 2 : 4 of its pixels per
step), so steps alone would put the middle of the dream far too early. The rate is the current octave's own
once it has two steps (its first step also carries the octave change, and a small octave keeps the CPU less busy
per pixel than a large one), and the whole dream's before that (and while steps come in chunks, as a device's
whole-octave loop reports them, all at one reading). Pure: the caller passes the clock's readings."""

from __future__ import annotations

from collections.abc import Sequence


class TimeLeft:
    """Estimates of the seconds left after each step of a dream of ``len(pixels)`` octaves of ``steps`` steps,
    where a step of octave ``o`` (from 1) computes ``pixels[o - 1]`` pixels."""

    def __init__(self, pixels: Sequence[float], steps: int, started: float) -> None:
        if not pixels or steps < 1 or min(pixels) <= 0:
            raise ValueError("a dream has at least one octave of at least one step, each of some pixels")
        self._pixels = tuple(float(count) for count in pixels)
        self._steps = steps
        self._started = started
        self._done = 0.0  # pixel-steps done
        self._octave = 0
        self._octave_first: tuple[float, float] | None = None  # (clock, pixel-steps done) at its first step

    def after(self, octave: int, step: int, now: float) -> float | None:
        """Seconds left once ``step`` of ``octave`` (both from 1) is done at ``now``; None before any time
        has been measured. An octave stopped early (at max_loss) simply goes on with the next one."""
        pixels = self._pixels[octave - 1]
        if octave != self._octave:
            self._octave, self._octave_first = octave, None
        self._done += pixels
        if self._octave_first is None:
            self._octave_first = (now, self._done)
        first_time, first_done = self._octave_first
        if self._done > first_done and now > first_time:  # two steps of this octave timed apart: its own rate
            rate = (now - first_time) / (self._done - first_done)
        else:
            rate = (now - self._started) / self._done
        left = (self._steps - step) * pixels + self._steps * sum(self._pixels[octave:])
        if left == 0:
            return 0.0
        return max(0.0, rate * left) if rate > 0 else None
