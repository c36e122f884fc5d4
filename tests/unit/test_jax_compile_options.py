"""The JAX compile options: convolutions recorded into CUDA graphs with the rest of a step, unless the
operator's XLA_FLAGS choose the command buffers; and every option is one this JAX knows."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax_compile = pytest.importorskip("reverie.engine.backends.jax_compile")

# XLA's own default command buffers, which the engine's keep
XLA_DEFAULT = {"FUSION", "CUBLAS", "CUBLASLT", "CUSTOM_CALL", "CUDNN", "DYNAMIC_SLICE_FUSION"}


def test_convolutions_join_xlas_default_command_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    recorded = set(jax_compile._command_buffers()["xla_gpu_enable_command_buffer"].split(","))
    assert recorded == XLA_DEFAULT | {"CONVOLUTION"}


def test_xla_flags_that_choose_command_buffers_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_autotune_level=2 --xla_gpu_enable_command_buffer=")
    assert jax_compile._command_buffers() == {}


def test_this_jax_compiles_with_the_engines_options() -> None:
    """An option or enum value this jaxlib does not know fails every compile, on a CPU too."""
    doubled = jax.jit(lambda x: x * 2, compiler_options=jax_compile.COMPILE_OPTIONS)
    assert np.asarray(doubled(np.ones(3, np.float32))).tolist() == [2.0, 2.0, 2.0]
    assert "xla_gpu_enable_command_buffer" in jax_compile.COMPILE_OPTIONS


def test_the_convolution_primer_runs_nothing_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles: list[object] = []
    monkeypatch.setattr(jax, "jit", lambda *args, **kwargs: compiles.append(args))
    jax_compile.ready_convolutions.cache_clear()
    jax_compile.ready_convolutions()
    assert jax.default_backend() != "gpu" and compiles == []


def test_the_convolution_primer_compiles_without_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU the primer must run outside any CUDA graph: its compile clears the command buffers (the
    primer's own convolution is checked here on the CPU, as if it were a GPU)."""
    options: list[dict[str, object]] = []
    real_jit = jax.jit

    def recording_jit(function: object, **kwargs: object) -> object:
        options.append(dict(kwargs.get("compiler_options") or {}))
        return real_jit(function, **kwargs)

    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    monkeypatch.setattr(jax, "jit", recording_jit)
    jax_compile.ready_convolutions.cache_clear()
    try:
        jax_compile.ready_convolutions()
    finally:
        jax_compile.ready_convolutions.cache_clear()
    assert options == [{"xla_gpu_enable_command_buffer": ""}]
