"""A bounded cache of compiled functions (extractors, gradients), least recently used dropped first: each
objective a client invents costs a compile and device memory, and only so many are kept."""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

# Compiled objectives (and their extractors) kept per model unless the server's ``max_compiled`` setting says otherwise.
COMPILED_KEPT = 32

Value = TypeVar("Value")


class CompiledCache(Generic[Value]):
    """Up to ``kept`` values by key, each built on first use."""

    def __init__(self, kept: int = COMPILED_KEPT) -> None:
        self.kept = kept
        self._values: OrderedDict[Hashable, Value] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], Value]) -> Value:
        """``key``'s value, built now if it is not kept, and marked most recently used; the least recently
        used beyond ``kept`` are dropped, and collected at once: compiled functions sit in reference cycles,
        which Python would free only at a later full collection."""
        if key not in self._values:
            self._values[key] = build()
        self._values.move_to_end(key)
        if len(self._values) > self.kept:
            while len(self._values) > self.kept:
                self._values.popitem(last=False)
            gc.collect()
        return self._values[key]
