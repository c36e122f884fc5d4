"""The time-left estimate on a synthetic dream whose steps cost exactly their pixels: no clock is read."""

import itertools

import pytest

from reverie.engine.eta import StepTimes, TimeLeft
from reverie_wire.time_left import time_left_text

# The Keras default's octaves of 1024×768 (pixels per step) and a clock that runs a microsecond per pixel-step.
PIXELS = (391 * 522, 548 * 731, 768 * 1024)
STEPS = 20
KINDS = ("small", "middle", "large")  # what decides each octave's time per step, for the memory of later dreams


def _run(
    seconds_per_pixel: list[float],
    started: float = 0.0,
    memory: StepTimes | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> list[tuple[int, int, float, float | None]]:
    """(octave, step, true seconds left, estimate) after every step; octave o's pixels cost seconds_per_pixel[o]; with
    a ``memory``, one dream of octaves of ``kinds`` that remembers its octaves' times there."""
    times, now = [], started
    for octave, pixels in enumerate(PIXELS):
        for step in range(1, STEPS + 1):
            now += pixels * seconds_per_pixel[octave]
            times.append((octave + 1, step, now))
    end = times[-1][2]
    estimate = TimeLeft(PIXELS, STEPS, started, kinds, memory)  # without a memory, one of its own: a first dream
    return [(octave, step, end - now, estimate.after(octave, step, now)) for octave, step, now in times]


def test_a_steady_rate_is_estimated_exactly_from_the_first_step() -> None:
    for octave, step, truth, estimate in _run([1e-6, 1e-6, 1e-6]):
        assert estimate == pytest.approx(truth, rel=1e-9, abs=1e-9), (octave, step)


def test_the_estimate_falls_with_every_step_and_ends_at_zero() -> None:
    estimates = [estimate for *_, estimate in _run([1.3e-6, 1.1e-6, 1e-6])]
    assert all(a is not None and b is not None and b < a for a, b in itertools.pairwise(estimates))
    assert estimates[-1] == 0.0


def test_steps_are_weighted_by_their_octave_s_pixels_not_counted() -> None:
    """Half the steps are done a third of the way through the time: steps alone would say half is left."""
    results = _run([1e-6, 1e-6, 1e-6])
    octave, step, truth, estimate = results[len(results) // 2 - 1]
    assert (octave, step) == (2, 10)
    done = 20 * PIXELS[0] + 10 * PIXELS[1]
    assert estimate == pytest.approx(truth) and truth == pytest.approx((sum(PIXELS) * 20 - done) * 1e-6)
    assert estimate > 1.5 * done * 1e-6  # far more left than done


def test_the_current_octave_s_rate_takes_over_from_its_second_step() -> None:
    """Small octaves keep the CPU less busy per pixel: from the last octave's second step on, its own rate
    alone predicts it exactly, though the dream's average rate is higher."""
    for octave, step, truth, estimate in _run([2e-6, 1.5e-6, 1e-6]):
        if octave == 3 and step >= 2:
            assert estimate == pytest.approx(truth, abs=1e-9), step
        if octave == 3 and step == 1:
            assert estimate is not None and estimate > truth  # the dream's average rate, slower


def test_an_octave_stopped_early_leaves_the_next_ones() -> None:
    estimate = TimeLeft(PIXELS, STEPS, 0.0)
    estimate.after(1, 1, 1.0)
    # max_loss ended octave 1 at its second step: it is reported as its last
    left = estimate.after(1, STEPS, 2.0)
    assert left == pytest.approx(2.0 / (2 * PIXELS[0]) * STEPS * (PIXELS[1] + PIXELS[2]))


def test_steps_reported_together_take_the_dream_s_rate() -> None:
    """A device's whole-octave loop reports a chunk of steps at one clock reading."""
    estimate = TimeLeft(PIXELS, STEPS, 0.0)
    lefts = [estimate.after(1, step, 5.0) for step in range(1, 6)]
    rate = 5.0 / (5 * PIXELS[0])
    assert lefts[-1] == pytest.approx(rate * (15 * PIXELS[0] + STEPS * (PIXELS[1] + PIXELS[2])))
    assert all(left is not None for left in lefts)


def _error_at_middle(results: list[tuple[int, int, float, float | None]]) -> float:
    """The estimate's error, as a fraction of the truth, at the step nearest the middle of the dream's time."""
    total = results[0][2] + results[0][2] - results[1][2]  # the first step took as long as the second
    _, _, truth, estimate = min(results, key=lambda row: abs(row[2] - total / 2))
    assert estimate is not None
    return estimate / truth - 1


# A 2-core CPU measured octaves 1.6–2× apart in wall time per pixel: here the middle one takes twice the others'.
UNEVEN = [1e-6, 2e-6, 1e-6]


def test_a_first_dream_weighs_pixels_and_misses_an_uneven_octave() -> None:
    assert _error_at_middle(_run(UNEVEN, memory=StepTimes())) > 0.25


def test_a_later_dream_predicts_each_octave_from_the_last_one_s_times() -> None:
    memory = StepTimes()
    _run(UNEVEN, memory=memory)
    for octave, step, truth, estimate in _run(UNEVEN, memory=memory):
        assert estimate == pytest.approx(truth, rel=1e-9, abs=1e-9), (octave, step)


def test_a_later_dream_on_a_slower_machine_keeps_the_octaves_proportions_at_its_own_pace() -> None:
    """The machine got 1.5× slower between the dreams: from the first octave's second step on, the estimate
    is exact; before it, the memory's pace is taken as it was."""
    memory = StepTimes()
    _run(UNEVEN, memory=memory)
    for octave, step, truth, estimate in _run([1.5 * rate for rate in UNEVEN], memory=memory):
        if (octave, step) == (1, 1):
            assert estimate == pytest.approx(truth / 1.5)
        else:
            assert estimate == pytest.approx(truth, rel=1e-9, abs=1e-9), (octave, step)


def test_octaves_of_kinds_not_seen_before_weigh_pixels() -> None:
    memory = StepTimes()
    _run(UNEVEN, memory=memory)
    fresh = _run(UNEVEN, memory=memory, kinds=("other", "middle", "another"))
    alone = _run(UNEVEN, memory=StepTimes(), kinds=("other", "middle", "another"))
    for (octave, step, truth, estimate), (*_, first) in zip(fresh, alone, strict=True):
        if octave == 1:  # the middle octave's time is known, the others' pixels cost what octave 1's do
            assert estimate == pytest.approx(truth) and first is not None and first < 0.8 * truth, step
        if octave == 3:  # only pixels are left to go by, as in a first dream
            assert estimate == pytest.approx(first), step


def test_remembered_times_are_a_running_mean() -> None:
    memory = StepTimes()
    assert memory.get("large") is None
    memory.remember("large", 1.0)
    memory.remember("large", 3.0)
    assert memory.get("large") == pytest.approx(2.0)


def test_steps_reported_together_teach_the_memory_nothing() -> None:
    memory = StepTimes()
    estimate = TimeLeft(PIXELS, STEPS, 0.0, KINDS, memory)
    for step in range(1, STEPS + 1):
        estimate.after(1, step, 5.0)
    assert memory.get("small") is None


def test_an_octave_reported_in_chunks_is_timed_from_chunk_to_chunk() -> None:
    """Five steps at each reading, a second a step: from the second chunk on, the octave's own rate is exact."""
    memory = StepTimes()
    estimate = TimeLeft(PIXELS, STEPS, 0.0, KINDS, memory)
    for chunk in range(1, 5):
        lefts = [estimate.after(1, step, 5.0 * chunk) for step in range(5 * chunk - 4, 5 * chunk + 1)]
        if chunk > 1:
            assert lefts[-1] == pytest.approx(20 - 5 * chunk + 1.0 / PIXELS[0] * STEPS * (PIXELS[1] + PIXELS[2]))
    assert memory.get("small") == pytest.approx(1.0)


def test_nothing_timed_yet_gives_no_estimate() -> None:
    assert TimeLeft(PIXELS, STEPS, 5.0).after(1, 1, 5.0) is None
    with pytest.raises(ValueError):
        TimeLeft((), STEPS, 0.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0.4, "almost done"),
        (12.4, "~12 s left"),
        (59.6, "~1 min 00 s left"),
        (185, "~3 min 05 s left"),
        (3000, "~50 min left"),
    ],
)
def test_time_left_words(seconds: float | None, text: str) -> None:
    assert time_left_text(seconds) == text
