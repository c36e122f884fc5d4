"""Log lines a peer causes, rate-limited per peer and in total, so no client can fill the server's log.

Each peer may cause a few lines at once and then one every so often (a token bucket); all peers together are
bounded the same way, since a peer can come back under new connection ids. What is held back is counted and
said on the next line that passes.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

# Per peer: this many lines at once, then one per PEER_INTERVAL seconds.
PEER_BURST, PEER_INTERVAL = 20, 1.0
# All peers together.
TOTAL_BURST, TOTAL_INTERVAL = 100, 0.2
# Peers remembered (least recently heard from forgotten first): the table's own size is bounded too.
PEERS_KEPT = 4096


@dataclass
class _Bucket:
    burst: int
    interval: float
    tokens: float
    last: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) / self.interval)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class PeerLog:
    """``log(peer, level, message, *args)``: the logger's line if this peer and everyone's rate allow it."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._peers: OrderedDict[object, _Bucket] = OrderedDict()
        self._total = _Bucket(TOTAL_BURST, TOTAL_INTERVAL, TOTAL_BURST, time.monotonic())
        self.held_back = 0

    def allow(self, peer: object) -> bool:
        """Whether a line caused by ``peer`` may be written now (counts it as held back if not)."""
        now = time.monotonic()
        bucket = self._peers.pop(peer, None) or _Bucket(PEER_BURST, PEER_INTERVAL, PEER_BURST, now)
        self._peers[peer] = bucket
        while len(self._peers) > PEERS_KEPT:
            self._peers.popitem(last=False)
        if bucket.take(now) and self._total.take(now):
            return True
        self.held_back += 1
        return False

    def log(self, peer: object, level: int, message: str, *args: object, exc_info: bool = False) -> None:
        if not self.allow(peer):
            return
        if self.held_back:
            message += " (%d lines caused by clients held back before this one)"
            args = (*args, self.held_back)
            self.held_back = 0
        self._logger.log(level, message, *args, exc_info=exc_info)
