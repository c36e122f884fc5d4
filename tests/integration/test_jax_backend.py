"""The engine on Keras' JAX backend, in a fresh Python where TensorFlow cannot be imported at all."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")

REPO = Path(__file__).resolve().parents[2]

# Runs with TensorFlow made unimportable: any `import tensorflow` anywhere raises ImportError.
DREAM = """
import json, sys
sys.modules["tensorflow"] = None
import jax
import numpy as np
from reverie.engine import DreamParams, dream, load_model
from reverie.cli import main

compiles = []


def count(event, seconds, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        compiles.append(seconds)


jax.monitoring.register_event_duration_secs_listener(count)
model = load_model("mobilenet", "random")
params = DreamParams(model="mobilenet", octaves=2, steps=2, seed=3, max_loss=None, tile_size=128, tile_overlap=32)
image = np.random.default_rng(0).random((150, 230, 3), dtype=np.float32)
first = dream(image, params, model)
again = dream(image, params, model)
before = len(compiles)
other = dream(np.random.default_rng(1).random((152, 236, 3), dtype=np.float32), params, model)
compiled_for_other = len(compiles) - before
status = main(["dream", sys.argv[1], "-o", sys.argv[2], "--model", "mobilenet", "--weights", "random", "--steps", "1"])
print(json.dumps({
    "backend": model.backend,
    "plan": [model.tile_plan(params).tile, model.tile_plan(params).fixed],
    "shape": list(first.image.shape),
    "repeatable": bool(np.array_equal(first.image, again.image)),
    "octaves": [first.octaves_used, other.octaves_used],
    "compiles": [before > 0, compiled_for_other],
    "rising": first.losses[-1] > first.losses[0],
    "cli_status": status,
}))
"""


def run_on_jax(script: str, tmp_path: Path, *args: str) -> Any:
    """Runs ``script`` in a fresh Python on Keras' JAX backend (CPU, a compile cache under ``tmp_path``);
    returns the JSON of its last printed line."""
    environment = os.environ | {
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO / "server"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=environment, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dreams_on_jax_without_tensorflow(tmp_path: Path) -> None:
    source, target = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (140, 180, 3), dtype=np.uint8)).save(source)
    report = run_on_jax(DREAM, tmp_path, str(source), str(target))
    assert report == {
        "backend": "jax",
        "plan": [128, True],
        "shape": [150, 230, 3],
        "repeatable": True,
        "octaves": [2, 2],
        # the first dream compiles; another image size on the same tile grids (padded alike) compiles nothing
        "compiles": [True, 0],
        "rising": True,
        "cli_status": 0,
    }
    assert Image.open(target).size == (180, 140)
    assert any((tmp_path / "cache" / "reverie" / "jax").iterdir()), "compiled steps were not cached on disk"


# The gradient's program, traced: a max pool's gradient would show as a select_and_scatter_add primitive.
SCATTERS = """
import json, sys
sys.modules["tensorflow"] = None
import jax, jax.numpy as jnp
from reverie.engine import load_model
from reverie.engine.objective import make_objective

model = load_model("inception_v3", "random")
layers = model.spec.resolve_layers("keras", None)
objective = make_objective(tuple(layers), layers, {})


def scatters(extractor):
    weights = ([v.value for v in extractor.trainable_variables], [v.value for v in extractor.non_trainable_variables])
    total = lambda x: objective(extractor.stateless_call(*weights, x, training=False)[0]).sum()
    return str(jax.make_jaxpr(jax.grad(total))(jnp.zeros((1, 160, 160, 3)))).count("scatter")


# the dream graph, and the loaded model's own graph with Keras' max pools
print(json.dumps({"dream_graph": scatters(model.extractor(tuple(layers), "float32")),
                  "keras_graph": scatters(model.extractor(tuple(layers)))}))
"""


def test_the_dream_gradient_has_no_scatter(tmp_path: Path) -> None:
    """XLA runs a scatter (a max pool's gradient) slowly with deterministic GPU kernels, or refuses it."""
    counts = run_on_jax(SCATTERS, tmp_path)
    assert counts["dream_graph"] == 0
    assert counts["keras_graph"] > 0  # the same trace of Keras' own graph does show them


# Which functions a new process traces for its first dreams after the warm-up.
FIRST_DREAMS = """
import json, sys
sys.modules["tensorflow"] = None
import jax
from reverie.benchmarks.common import dream_image
from reverie.engine import DreamParams, dream, load_model

traces = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, seconds, **_: traces.append(event) if event == "/jax/core/compile/jaxpr_trace_duration" else None
)
model = load_model("mobilenet", "random")
params = DreamParams(model="mobilenet", steps=1, seed=0)
model.warm_up(params)
counts = []
for height, width in ((768, 1024), (720, 960)):
    before = len(traces)
    dream(dream_image(height, width), params, model)
    counts.append(len(traces) - before)
print(json.dumps(counts))
"""


def test_the_warm_up_readies_a_typical_pictures_tile_grids(tmp_path: Path) -> None:
    """A device's first request should not wait for the functions around the gradient either."""
    at_warm_up_size, on_other_grids = run_on_jax(FIRST_DREAMS, tmp_path)
    assert at_warm_up_size == 0
    assert on_other_grids > 0  # a 960×720 dream's first octave lies on a grid the warm-up did not see


LAPLACIAN = """
import json
import numpy as np
from reverie.engine import DreamParams, dream, load_model
from reverie.errors import BadRequest

image = np.random.default_rng(0).random((150, 150, 3), dtype=np.float32)
model = load_model("mobilenet", "random")
params = DreamParams(model="mobilenet", octaves=1, steps=2, seed=1, max_loss=None)
plain = dream(image, params, model).image
creative = dream(image, params.replace(keep_colors=True), model, guide=image[::2, ::3]).image
try:
    dream(image, params.replace(normalization="laplacian"), model)
except BadRequest as error:
    print(json.dumps({"code": error.code, "message": str(error), "creative": bool(np.abs(creative - plain).max() > 0)}))
"""


def test_guides_and_kept_colours_dream_on_jax_and_laplacian_is_a_clear_bad_request(tmp_path: Path) -> None:
    report = run_on_jax(LAPLACIAN, tmp_path)
    assert report == {
        "creative": True,
        "code": "bad_request",
        "message": "laplacian normalisation is not available on the JAX backend yet; choose mean_abs or std, or "
        "run the server with KERAS_BACKEND=tensorflow",
    }
