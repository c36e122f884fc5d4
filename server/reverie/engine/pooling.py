"""Max pooling whose gradient needs no scatter, for dream graphs on JAX.

The gradient of an ordinary max pool is a select-and-scatter, which XLA cannot run deterministically on a
GPU: with deterministic kernels it is slow, and excluding non-deterministic ops (which keeps kernel
autotuning) refuses to compile it. Taken as the largest of the window's strided slices instead, the pool
computes the same values and its gradient is padding and selects only. Where a window holds several equal
maxima, which of them gets the gradient may differ from the pool's (JAX shares it among them): an equally
valid gradient.
"""

from __future__ import annotations

from typing import Any

from keras import layers, ops


def _padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """Keras' "same" padding along one axis: as many outputs as ceil(size / stride), the extra at the end."""
    total = max((-(-size // stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


class SlicedMaxPooling2D(layers.Layer):
    """A channels-last ``MaxPooling2D``, computed as the maximum over its window's strided slices."""

    def __init__(self, pool_size: tuple[int, int], strides: tuple[int, int], padding: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = padding

    @classmethod
    def replacing(cls, pool: layers.MaxPooling2D, dtype: Any) -> SlicedMaxPooling2D:
        if pool.data_format != "channels_last":
            raise ValueError(f"{pool.name}: only channels-last max pooling can be replaced")
        return cls(pool.pool_size, pool.strides, pool.padding, name=pool.name, dtype=dtype)

    def call(self, inputs: Any) -> Any:
        (window_h, window_w), (stride_h, stride_w) = self.pool_size, self.strides
        if self.padding == "same":
            rows, cols = _padding(inputs.shape[1], window_h, stride_h), _padding(inputs.shape[2], window_w, stride_w)
            inputs = ops.pad(inputs, [(0, 0), rows, cols, (0, 0)], constant_values=float("-inf"))
        span_h = (inputs.shape[1] - window_h) // stride_h * stride_h + 1  # rows from a window's first to last
        span_w = (inputs.shape[2] - window_w) // stride_w * stride_w + 1
        largest = None
        for dy in range(window_h):
            for dx in range(window_w):
                window = inputs[:, dy : dy + span_h : stride_h, dx : dx + span_w : stride_w]
                largest = window if largest is None else ops.maximum(largest, window)
        return largest

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return layers.MaxPooling2D(self.pool_size, self.strides, self.padding).compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}
