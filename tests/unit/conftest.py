"""Unit-test fixtures."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def jax_backend(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The JAX backend module, its compile cache in a temporary folder rather than the user's."""
    pytest.importorskip("jax")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path_factory.mktemp("jax-cache")))
        return importlib.import_module("reverie.engine.backends.jax")
