"""Each client's share of the dream server: how many of its jobs may wait, how much work one job may be, and how
long it may run. The limits come from ``[limits]``; a refusal says which one and how to stay within it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reverie.engine import DreamParams
from reverie.engine.guide import GUIDE_MAX_SIDE, GUIDE_SIDE
from reverie_wire.errors import Busy, TooLarge
from reverie_wire.images import ImageSpec
from reverie_wire.protocol import GUIDE, PREVIOUS_SOURCE, STRENGTH, Limits


def work(params: DreamParams, image: ImageSpec, extras: Mapping[str, ImageSpec] | None = None) -> int:
    """A job's size in pixel-steps: each octave's pixels times the steps it takes (octaves shrink by the scale),
    and each extra image's (``EXTRA_WORK``; any other: its pixels, each read and converted once)."""
    pixels = sum(image.pixels / params.octave_scale ** (2 * octave) for octave in range(params.octaves))
    octave_pixels = int(pixels)
    extra_work = sum(
        EXTRA_WORK[name](spec, image, octave_pixels) if name in EXTRA_WORK else spec.pixels
        for name, spec in (extras or {}).items()
    )
    return int(pixels * params.steps) + extra_work


def strength_work(strength: ImageSpec, image: ImageSpec, octave_pixels: int) -> int:
    """A strength map's pixels (each read and converted once), and what it is resized to: each octave, and the
    image once more for the last blend."""
    return strength.pixels + octave_pixels + image.pixels


def guide_work(guide: ImageSpec, image: ImageSpec, octave_pixels: int) -> int:
    """A guide's pixels (each read and converted once) and the most it can be seen at (one look at each)."""
    return guide.pixels + GUIDE_MAX_SIDE * GUIDE_SIDE


# What carrying a clip's previous dream costs per pixel of the frame, in pixel-steps' stead: two optical flows
# (a few passes each), the warps, the forward-backward check and the colours kept.
MOTION_PASSES = 16


def motion_work(previous: ImageSpec, image: ImageSpec, octave_pixels: int) -> int:
    """A clip's previous source frame's pixels (read and converted once) and the motion carried onto the frame;
    the previous dream counts its pixels only, as any extra image."""
    return previous.pixels + MOTION_PASSES * image.pixels


EXTRA_WORK: dict[str, Callable[[ImageSpec, ImageSpec, int], int]] = {
    GUIDE: guide_work,
    STRENGTH: strength_work,
    PREVIOUS_SOURCE: motion_work,
}


def check_work(
    params: DreamParams, image: ImageSpec, limits: Limits, extras: Mapping[str, ImageSpec] | None = None
) -> None:
    """Refuse a job larger than the server's pixel-step budget."""
    size = work(params, image, extras)
    if size > limits.max_pixel_steps:
        sizes = "".join(f" and a {spec.width}x{spec.height} {name}" for name, spec in (extras or {}).items())
        raise TooLarge(
            f"this dream is {size / 1e9:.3g} billion pixel-steps ({image.width}x{image.height}, {params.octaves} "
            f"octaves of {params.steps} steps{sizes}); this server takes at most "
            f"{limits.max_pixel_steps / 1e9:.3g} billion. Use fewer steps or octaves, a smaller image or extra "
            "images, or raise [limits] max_pixel_steps"
        )


def check_share(waiting: int, limits: Limits) -> None:
    """Refuse a client's job when as many of its jobs already wait as its share of the queue allows."""
    if waiting >= limits.max_jobs_per_client:
        raise Busy(
            f"{waiting} of this client's jobs already wait on the dream server, its share of the queue; "
            "submit more when one finishes (or raise [limits] max_jobs_per_client in its config)"
        )


def over_time_message(seconds: float, limits: Limits) -> str:
    """What a client reads when its job ran past the server's time limit."""
    return (
        f"the dream ran for {seconds:.0f} s, past this server's limit of {limits.max_job_seconds} s, and was "
        "stopped; use fewer steps or octaves or a smaller image (or raise [limits] max_job_seconds)"
    )
