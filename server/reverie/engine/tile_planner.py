"""The tiles a dream uses: the backend's policy within the dream's parameters, and the one answer to the device
running out of memory (smaller tiles, or tiles instead of a whole octave, for a while)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from reverie.engine.backends.base import TilePolicy
from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout, grid_span

log = logging.getLogger(__name__)

# Tiles are never shrunk below this when memory runs out: smaller ones have almost no interior.
MIN_TILE = 128
# How long tiles stay shrunk after the device ran out of memory; then full tiles are tried again (the memory
# may have been another process's, or one huge dream's).
MEMORY_CAP_SECONDS = 600.0

Bucket = Callable[[tuple[int, int]], tuple[int, int] | None]


@dataclass(frozen=True)
class TilePlan:
    """The tiles a dream uses now."""

    tile: int
    overlap: int
    batch: int
    fixed: bool
    bucket_pixels: int = 0  # the largest padded whole octave computed without tiles (0: none)
    bucket: Bucket | None = None  # an octave's padded whole shape

    def layout(self, height: int, width: int, smallest: int) -> TileLayout:
        """The tiles of one image shape, none smaller than ``smallest`` (the layers' smallest input)."""
        return TileLayout.for_shape(height, width, self.tile, self.overlap, self.fixed, smallest)

    def whole(self, shape: tuple[int, int]) -> bool:
        """Whether an octave of ``shape`` runs on its whole padded image, without tiles."""
        padded = None if self.bucket is None else self.bucket(shape)
        return padded is not None and padded[0] * padded[1] <= self.bucket_pixels

    def padded(self, shape: tuple[int, int], room: tuple[int, int] | None = None) -> tuple[int, int]:
        """The shape a device keeps an octave of ``shape`` in: the bucket of its ``room`` (at least ``shape``;
        by default ``shape`` itself, see ``octaves.octave_rooms``), else whole fixed tiles."""
        room = room or shape
        padded = self.bucket(room) if self.bucket is not None and self.whole(room) else None
        if padded is not None:
            return padded
        return grid_span(shape, self.tile) if self.fixed else shape

    def reach(self, jitter: int) -> int:
        """How far the image is rolled (each way) before a step: the jitter, and with fixed tiles on a wrapped
        grid at least half a tile, so that tile edges land anywhere on the image."""
        return max(jitter, self.tile // 2) if self.fixed else jitter


class TilePlanner:
    """One model's tile plans: its backend's policy, capped for a while after the device ran out of memory."""

    def __init__(self, policy: TilePolicy, bucket: Bucket, is_out_of_memory: Callable[[BaseException], bool]) -> None:
        self.policy = policy
        self.is_out_of_memory = is_out_of_memory
        self._bucket = bucket
        self._bucket_cap: int | None = None
        self._tile_cap: int | None = None
        self._batch_cap: int | None = None
        self._capped_at = 0.0

    def plan(self, params: DreamParams) -> TilePlan:
        """The dream's tile size and batch as the backend and device want them, within any memory cap."""
        if self._capped_at and time.monotonic() - self._capped_at > MEMORY_CAP_SECONDS:
            log.info("trying full tiles again %.0f s after the device ran out of memory", MEMORY_CAP_SECONDS)
            self._tile_cap = self._batch_cap = self._bucket_cap = None
            self._capped_at = 0.0
        policy = self.policy
        tile = min(params.tile_size, policy.tile or params.tile_size, self._tile_cap or params.tile_size)
        overlap = params.tile_overlap if params.tile_overlap * 2 < tile else tile // 4
        batch = min(policy.batch, self._batch_cap or policy.batch)
        buckets = min(policy.bucket_pixels, self._bucket_cap or policy.bucket_pixels)
        return TilePlan(tile, overlap, batch, policy.fixed, buckets, self._bucket)

    def out_of_memory(
        self,
        error: Exception,
        params: DreamParams,
        failed: TilePlan | None = None,
        whole: tuple[int, int] | None = None,
        during: str = "",
    ) -> None:
        """After ``error``: when the device ran out of memory, the next plans are smaller, for
        MEMORY_CAP_SECONDS, and it is logged once; re-raises ``error`` when it is anything else or nothing
        smaller is left. A ``whole`` octave (its padded shape) that failed sends octaves as large to tiles;
        else ``failed`` tiles (by default the current plan's) go to half the batch, else half the tile."""
        if not self.is_out_of_memory(error):
            raise error
        if whole is not None:
            self._bucket_cap = whole[0] * whole[1] - 1
            log.warning("%sout of device memory with a whole %d×%d octave; going on with tiles", during, *whole[::-1])
        else:
            failed = failed or self.plan(params)
            if failed.batch > 1:
                self._batch_cap = failed.batch // 2
            elif failed.tile // 2 >= MIN_TILE:
                self._tile_cap = failed.tile // 2
            else:
                raise error
            smaller = self.plan(params)
            log.warning(
                "%sout of device memory with %d tile(s) of %d² at once; going on with %d tile(s) of %d²",
                during,
                failed.batch,
                failed.tile,
                smaller.batch,
                smaller.tile,
            )
        self._capped_at = time.monotonic()
