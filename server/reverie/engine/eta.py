"""How long a dream has left: the steps still to run, each at the time a step of its kind of octave took in
earlier dreams of this process, else weighted by the pixels it computes.

Octaves differ in size (the Keras default's three octaves of 1024×768 compute about 1 : 2 : 4 of its pixels per
step), so steps alone would put the middle of the dream far too early. Pixels alone are not enough either: on a
2-core CPU one octave's wall time per pixel differed from another's by 1.6–2× (how busy each shape keeps the
cores), which put a dream's middle estimate 70 % off. So every octave's own time per step is remembered by what
decides it (``StepTimes``, kept with the loaded model), and a later dream with octaves of the same kinds predicts
each from it, scaled by how this dream's latest timed octave ran against its own memory (the machine's load
moves between dreams). A first dream weighs pixels: the rate is the current octave's own once it has two steps
(its first step also carries the octave change), and the whole dream's before that (and while steps come in
chunks, as a device's whole-octave loop reports them, all at one reading). Pure: the caller passes the clock's
readings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

# A new dream's time per step counts this much against what was remembered of its kind of octave.
NEW_WEIGHT = 0.5


class StepTimes:
    """Seconds a gradient step of each kind of octave took in earlier dreams (see ``TimeLeft``)."""

    def __init__(self) -> None:
        self._seconds: dict[Hashable, float] = {}

    def __len__(self) -> int:
        return len(self._seconds)

    def get(self, kind: Hashable) -> float | None:
        return self._seconds.get(kind)

    def remember(self, kind: Hashable, seconds: float) -> None:
        """Fold one octave's measured seconds per step into its kind's (a running mean: one busy moment of the
        machine does not decide the next dream's estimates alone)."""
        old = self._seconds.get(kind)
        self._seconds[kind] = seconds if old is None else old + NEW_WEIGHT * (seconds - old)


class TimeLeft:
    """Estimates of the seconds left after each step of a dream of ``len(pixels)`` octaves of ``steps`` steps,
    where a step of octave ``o`` (from 1) computes ``pixels[o - 1]`` pixels and costs what ``kinds[o - 1]``
    cost before, as far as ``memory`` knows; each octave's time per step goes into ``memory`` when it ends."""

    def __init__(
        self,
        pixels: Sequence[float],
        steps: int,
        started: float,
        kinds: Sequence[Hashable] | None = None,
        memory: StepTimes | None = None,
    ) -> None:
        if not pixels or steps < 1 or min(pixels) <= 0:
            raise ValueError("a dream has at least one octave of at least one step, each of some pixels")
        if kinds is not None and len(kinds) != len(pixels):
            raise ValueError("one kind for each octave")
        self._pixels = tuple(float(count) for count in pixels)
        self._steps = steps
        self._started = started
        self._kinds = tuple(kinds) if kinds is not None else None
        self._memory = memory if memory is not None else StepTimes()
        self._done = 0.0  # pixel-steps done
        self._octave = 0
        self._octave_steps = 0  # steps of the current octave done
        # (clock, its steps done) at its first reading: a chunk of steps reported at once counts as one
        self._octave_first: tuple[float, int] | None = None
        self._pace: float | None = None  # this dream's time per step against the memory's, latest octave

    def after(self, octave: int, step: int, now: float) -> float | None:
        """Seconds left once ``step`` of ``octave`` (both from 1) is done at ``now``; None before any time
        has been measured. An octave stopped early (at max_loss) simply goes on with the next one."""
        pixels = self._pixels[octave - 1]
        if octave != self._octave:
            self._octave, self._octave_first, self._octave_steps = octave, None, 0
        self._done += pixels
        self._octave_steps += 1
        if self._octave_first is None or now == self._octave_first[0]:
            self._octave_first = (now, self._octave_steps)
        first_time, first_steps = self._octave_first
        own = None  # seconds per step of this octave, once two of its readings are apart
        if now > first_time:
            own = (now - first_time) / (self._octave_steps - first_steps)
            rate = own / pixels
        else:
            rate = (now - self._started) / self._done
        remembered = self._remembered(octave)
        if own is not None and remembered is not None:
            self._pace = own / remembered
        if step == self._steps and own is not None and self._kinds is not None:
            self._memory.remember(self._kinds[octave - 1], own)
        later = range(octave + 1, len(self._pixels) + 1)
        if step == self._steps and not later:
            return 0.0
        if rate <= 0:
            return None
        left = (self._steps - step) * self._step_seconds(octave, own, rate)
        left += self._steps * sum(self._step_seconds(other, None, rate) for other in later)
        return max(0.0, left)

    def _remembered(self, octave: int) -> float | None:
        return None if self._kinds is None else self._memory.get(self._kinds[octave - 1])

    def _step_seconds(self, octave: int, own: float | None, rate: float) -> float:
        """A step of ``octave``: its own time so far, else its kind's from memory at this dream's pace, else its
        pixels at ``rate`` (seconds a pixel-step)."""
        if own is not None:
            return own
        remembered = self._remembered(octave)
        if remembered is not None:
            return remembered * (self._pace if self._pace is not None else 1.0)
        return rate * self._pixels[octave - 1]
