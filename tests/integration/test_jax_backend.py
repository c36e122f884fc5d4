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
from reverie.cli.main import main

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
    "backend": model.backend.name,
    "plan": [model.tiles.plan(params).tile, model.tiles.plan(params).fixed],
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
        # the checkout's server, and the benchmarks' seeded picture (tests/bench/bench_common.py)
        "PYTHONPATH": os.pathsep.join((str(REPO / "server"), str(REPO / "tests" / "bench"))),
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
from bench_common import dream_image, trace_counter
from reverie.engine import DreamParams, dream, load_model, warm_up

traces = trace_counter()
model = load_model("mobilenet", "random")
params = DreamParams(model="mobilenet", steps=1, seed=0)
warm_up(model, params)
counts = []
for height, width in ((768, 1024), (720, 960), (1024, 768), (600, 800)):
    before = len(traces)
    dream(dream_image(height, width), params, model)
    counts.append([len(traces) - before, traces[before:].count("_steps")])
print(json.dumps(counts))
"""


def test_the_warm_up_readies_every_picture_in_a_typical_pictures_bucket(tmp_path: Path) -> None:
    """A device's first request should not wait for a whole octave's loop, nor the functions around it: a
    picture whose full size pads as a warm-up picture's traces nothing at all, either way up."""
    at_warm_up_size, in_its_bucket, portrait, another_bucket = run_on_jax(FIRST_DREAMS, tmp_path)
    assert at_warm_up_size == [0, 0]
    assert in_its_bucket == [0, 0]  # 960×720 pads to 1024×768, and so do its octaves' rooms
    assert portrait == [0, 0]
    assert another_bucket[1] > 0  # 800×600 pads to 896×640: its octaves' loops compile


# A whole octave that runs out of device memory: that octave goes on with tiles, and so do later ones as large.
OUT_OF_MEMORY = """
import json, sys
sys.modules["tensorflow"] = None
import numpy as np
from reverie.engine import DreamParams, dream, load_model
from reverie.engine.backends import jax_octave


class FakeOutOfMemory(RuntimeError):
    pass


real = jax_octave.OctaveLoop.run


def tight(self, image, *args, **kwargs):
    if image.shape[0] * image.shape[1] > 128 * 256:
        raise FakeOutOfMemory("RESOURCE_EXHAUSTED: out of memory")
    return real(self, image, *args, **kwargs)


jax_octave.OctaveLoop.run = tight
model = load_model("mobilenet", "random")
model.tiles.is_out_of_memory = lambda error: isinstance(error, FakeOutOfMemory)
params = DreamParams(model="mobilenet", octaves=2, steps=3, seed=1, max_loss=None, tile_size=128, tile_overlap=32)
result = dream(np.random.default_rng(0).random((150, 230, 3), dtype=np.float32), params, model)
plan = model.tiles.plan(params)
print(json.dumps({
    "steps": len(result.losses),
    "finite": bool(np.isfinite(result.image).all()),
    "whole": [plan.whole((107, 164)), plan.whole((150, 230))],
}))
"""


def test_a_whole_octave_out_of_device_memory_goes_on_with_tiles(tmp_path: Path) -> None:
    report = run_on_jax(OUT_OF_MEMORY, tmp_path)
    # the first octave (128×256 padded) ran whole; the second (256×256) ran out and took tiles, for good
    assert report == {"steps": 6, "finite": True, "whole": [True, False]}


def test_the_whole_octave_loop_tests_run_on_keras_jax(tmp_path: Path) -> None:
    """tests/unit/test_octave_stepper.py needs Keras on JAX, which a process chooses once: run it in one."""
    environment = os.environ | {
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO / "server"),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_octave_stepper.py"]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=REPO, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "skipped" not in done.stdout.strip().splitlines()[-1], done.stdout[-3000:]


LAPLACIAN = """
import json
import numpy as np
from reverie.engine import DreamParams, dream, load_model
from reverie.engine.laplacian import pyramid

def finest_share(change):
    return float(np.square(pyramid(change, 1)[0]).sum() / np.square(change).sum())

image = np.random.default_rng(0).random((150, 150, 3), dtype=np.float32)
model = load_model("mobilenet", "imagenet")  # bundled: random ones make both normalisations dream alike here
params = DreamParams(model="mobilenet", octaves=1, steps=2, seed=1, max_loss=None)
plain = dream(image, params, model).image
creative = dream(image, params.replace(keep_colors=True), model, guide=image[::2, ::3]).image
smooth = dream(image, params.replace(normalization="laplacian"), model).image
print(json.dumps({
    "creative": bool(np.abs(creative - plain).max() > 0),
    "finite": bool(np.isfinite(smooth).all()),
    "differs": bool(np.abs(smooth - plain).max() > 1e-3),
    "smoother": finest_share(smooth - image) < finest_share(plain - image),
}))
"""


def test_guides_kept_colours_and_laplacian_normalisation_dream_on_jax(tmp_path: Path) -> None:
    report = run_on_jax(LAPLACIAN, tmp_path)
    assert report == {"creative": True, "finite": True, "differs": True, "smoother": True}


STRENGTH = """
import json
import numpy as np
from skimage import data
from reverie.engine import DreamParams, dream, load_model

photo = (data.astronaut()[100:300, 120:380].astype(np.float32) / 255.0).copy()
model = load_model("mobilenet", "random")
params = DreamParams(model="mobilenet", octaves=2, steps=5, step_size=0.05, seed=3, max_loss=None)
strength = np.zeros((41, 57), np.float32)
strength[:, 57 // 2 + 1 :] = 1.0  # black on the left half, white on the right, in a size of its own
levels = np.abs(np.round(dream(photo, params, model, strength=strength).image * 255) - np.round(photo * 255))
plain = np.abs(np.round(dream(photo, params, model).image * 255) - np.round(photo * 255))
half, reach = photo.shape[1] // 2, 16
print(json.dumps({
    "backend": model.backend.name,
    "unpainted": float(levels[:, : half - reach].max()),
    "painted": float(levels[:, half + reach :].mean()),
    "plain": float(plain[:, : half - reach].mean()),
}))
"""


def test_a_painted_dream_on_jax_leaves_the_unpainted_half_as_it_was(tmp_path: Path) -> None:
    """The compiled loop takes the map: where it is 0 the result is the source within one level, as on
    TensorFlow (tests/integration/test_engine_strength.py), and the painted half dreams as a plain dream does."""
    report = run_on_jax(STRENGTH, tmp_path)
    assert report["backend"] == "jax"
    assert report["unpainted"] <= 1, report
    assert report["painted"] > 3 and report["plain"] > 3, report
