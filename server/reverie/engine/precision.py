"""Which float precision a dream computes in: bfloat16 only where it was measured faster.

bfloat16 steps were measured faster on CPUs with AVX-512 BF16 or AMX under TensorFlow and on GPUs under JAX
(see docs/performance.md). Elsewhere nobody has measured, so "auto" stays float32 there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reverie.engine.backends.base import Device

# CPU flags of the instructions that make bfloat16 convolutions faster than float32 ones.
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@cache
def cpu_has_bf16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions (Linux; elsewhere: no)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def resolve(requested: str, backend: str, device: Device) -> str:
    """``float32`` or ``bfloat16`` for a requested precision ("auto", "float32" or "bfloat16")."""
    if requested != "auto":
        return requested
    if backend == "tensorflow" and device.platform == "cpu" and cpu_has_bf16():
        return "bfloat16"
    if backend == "jax" and device.platform == "gpu":
        return "bfloat16"
    return "float32"
