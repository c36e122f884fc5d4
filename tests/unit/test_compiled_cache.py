"""The cache of compiled functions: each built once, at most ``kept`` of them, the least recently used dropped."""

from __future__ import annotations

from reverie.engine.compiled import CompiledCache


def test_values_are_built_once_and_the_least_recently_used_go_first() -> None:
    built: list[str] = []

    def build(key: str) -> object:
        built.append(key)
        return object()

    cache: CompiledCache[object] = CompiledCache(kept=2)
    first = cache.get("a", lambda: build("a"))
    cache.get("b", lambda: build("b"))
    assert cache.get("a", lambda: build("a")) is first  # used again: now the most recent
    cache.get("c", lambda: build("c"))  # "b", the least recently used, goes
    assert cache.get("a", lambda: build("a")) is first
    cache.get("b", lambda: build("b"))
    assert built == ["a", "b", "c", "b"]
