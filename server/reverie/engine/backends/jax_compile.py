"""How the engine compiles on JAX: a persistent compilation cache, and deterministic kernels."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import platformdirs


def enable_compile_cache() -> None:
    """Keep compiled steps on disk: a new process then loads them instead of compiling. Everything is kept,
    the small glue around the gradient too: it loads faster than it compiles."""
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):  # else the user chose a place; JAX reads it
        folder = Path(platformdirs.user_cache_dir("reverie")) / "jax"
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


enable_compile_cache()

# Same seed, same dream: some GPU kernels (cuDNN's backward convolutions, atomics) round differently from
# run to run unless XLA leaves them out. Asked of each compile, not set in XLA_FLAGS for the whole process
# (other jits, such as the benchmark's Keras example, stay as their authors run them). A max pool's gradient
# (select-and-scatter) has no deterministic GPU kernel: XLA refuses it here, and under the older
# --xla_gpu_deterministic_ops it made every step far slower (see docs/performance.md); so dream graphs here
# take their max pools as slices (see ``pooling``).
DETERMINISTIC = {"xla_gpu_exclude_nondeterministic_ops": True}
