"""Motion between two frames: OpenCV's DIS optical flow, a picture warped along it, and where it can be trusted.

DIS (dense inverse search) is OpenCV's fast dense flow: a few tens of milliseconds for a frame of half a
megapixel on one CPU core, and good enough to carry a dream from one frame to the next. A flow is trusted where
the forward and backward flows undo each other (Sundaram, Brox and Keutzer's check, as Ruder et al. use it
for video style transfer): a pixel hidden in one frame, or one the flow got wrong, fails it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The check's tolerance: |forward + backward|² ≤ _RELATIVE · (|forward|² + |backward|²) + _ABSOLUTE (pixels²),
# so a fast motion may be a little less exact than a slow one.
_RELATIVE, _ABSOLUTE = 0.01, 0.5


def _grey(rgb: np.ndarray) -> np.ndarray:
    """8-bit luminance of H×W×3 float RGB in [0, 1], as DIS takes it."""
    return cv2.cvtColor(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """H×W×2 float32 flow (x, y) from ``source`` to ``target`` (H×W×3 float RGB in [0, 1]): the pixel at p in
    ``source`` is at p + flow[p] in ``target``."""
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    found = np.zeros((*source.shape[:2], 2), np.float32)  # filled in (DIS ignores it as a first guess)
    return np.asarray(dis.calc(_grey(source), _grey(target), found))


def warp(image: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``image`` (H×W×C float32) moved along a flow: the result at p is ``image`` at p + backward[p] (bilinear),
    ``backward`` being the flow from the frame the result stands for to ``image``'s frame. Pixels from beyond
    the edge repeat the nearest edge (a reliability mask should leave them out)."""
    height, width = backward.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return warped.reshape(image.shape)


def reliable(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """H×W bool: where ``backward`` (this frame → the previous one) is undone by ``forward`` (previous → this)
    at the point it leads to, and that point lies inside the previous frame."""
    height, width = backward.shape[:2]
    returned = warp(forward, backward)  # the forward flow at the point each pixel came from
    loop = backward + returned
    error = np.sum(loop**2, axis=2)
    tolerance = _RELATIVE * (np.sum(backward**2, axis=2) + np.sum(returned**2, axis=2)) + _ABSOLUTE
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    x, y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return (error <= tolerance) & inside


@dataclass(frozen=True)
class Motion:
    """The motion from a previous frame to this one: the backward flow (this → previous), which the previous
    frame's pictures are warped along, and where it is reliable."""

    backward: np.ndarray
    mask: np.ndarray

    def carried(self, previous: np.ndarray) -> np.ndarray:
        """A picture of the previous frame (H×W×C float32) moved to where its pixels are in this one."""
        return warp(previous, self.backward)


def motion(previous: np.ndarray, current: np.ndarray) -> Motion:
    """The motion between two frames of the same size (H×W×3 float RGB in [0, 1])."""
    backward = flow(current, previous)
    return Motion(backward, reliable(flow(previous, current), backward))
