"""``reverie.engine``'s entry: its names are real imports, and importing it starts no framework (Keras and its
backend load with the first model), so the command line and the server's parameters stay quick to import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import reverie.engine
from reverie.engine import loading, octave_ascent, params, warming

SERVER = Path(__file__).resolve().parents[2] / "server"


@pytest.mark.parametrize("module", ["reverie.engine", "reverie.serving.server"])
def test_importing_starts_no_framework(module: str) -> None:
    """The server too: it binds and answers hello ("loading Keras") while its worker imports Keras."""
    frameworks = {"tensorflow", "keras", "jax"}
    code = f"import sys, {module}; loaded = {frameworks!r} & set(sys.modules); assert not loaded, loaded"
    # This checkout's server/ first on the path, ahead of any installed copy.
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(SERVER)})


def test_the_entry_exports_the_engine_s_own_functions() -> None:
    # one dream(), the warm-up's too: small images are enlarged inside it, not by a wrapper around it
    assert reverie.engine.dream is octave_ascent.dream is warming.dream
    assert reverie.engine.load_model is loading.load_model
    assert reverie.engine.DreamParams is params.DreamParams
    assert set(reverie.engine.__all__) <= set(vars(reverie.engine))
