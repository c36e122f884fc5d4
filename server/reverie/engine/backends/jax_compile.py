"""How the engine compiles on JAX: a persistent compilation cache, and deterministic kernels."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
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

# A step is hundreds of small kernels (InceptionV3's many convolutions at a dream's sizes), so launching them
# one by one leaves the GPU idle most of the time (docs/performance.md). XLA's default command buffers (CUDA
# graphs) stop at every convolution; recording convolutions too makes a step's kernels one graph launch.
COMMAND_BUFFERS = "FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,DYNAMIC_SLICE_FUSION,CONVOLUTION"


def _command_buffers() -> dict[str, str]:
    """Convolutions in CUDA graphs, unless the operator's XLA_FLAGS choose the command buffers themselves."""
    if "xla_gpu_enable_command_buffer" in os.environ.get("XLA_FLAGS", ""):
        return {}
    return {"xla_gpu_enable_command_buffer": COMMAND_BUFFERS}


COMPILE_OPTIONS = {**DETERMINISTIC, **_command_buffers()}


@cache
def ready_convolutions() -> None:
    """Run one small convolution outside any CUDA graph, once per process, before the engine's first compile
    runs: cuDNN makes its handle on a process's first convolution and allocates device memory for it, which
    a graph's recording forbids, so a first convolution inside a graph fails ("No DNN support for stream")."""
    if jax.default_backend() != "gpu":
        return
    image, kernel = jnp.ones((1, 8, 8, 8), jnp.float32), jnp.ones((3, 3, 8, 8), jnp.float32)
    convolve = jax.jit(
        lambda image, kernel: jax.lax.conv_general_dilated(
            image, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        ),
        compiler_options={"xla_gpu_enable_command_buffer": ""},
    )
    convolve(image, kernel).block_until_ready()
