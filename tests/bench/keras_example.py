"""A faithful re-implementation of the Keras DeepDream example's loop: the baseline of ``bench.py``.

As in the example: the whole image at once, no jitter, no tiles; loss = Σ coeff · sum(act²) without a
2-pixel border ÷ the activation's size; gradient ÷ max(mean|g|, 1e-6); ``img += lr · g`` inside the
compiled step; a Python loop of ``iterations`` steps with the early stop at ``max_loss``; octaves
from the smallest with the lost detail re-injected. On TensorFlow the step is a plain ``tf.function``
(one trace per octave shape), on JAX one ``jax.jit`` (one compile per octave shape).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

# (image 1×H×W×3, learning rate) -> (loss, image)
Step = Callable[[Any, float], tuple[Any, Any]]


class KerasExample:
    """The example's dream on a loaded float32 model; ``new_step()`` is the example's compiled function."""

    def __init__(self, base: keras.Model, layer_settings: Mapping[str, float]) -> None:
        self.settings = dict(layer_settings)
        outputs = {name: base.get_layer(name).output for name in self.settings}
        self.extractor = keras.Model(inputs=base.inputs, outputs=outputs)

    def compute_loss(self, features: Mapping[str, Any]) -> Any:
        loss = 0.0
        for name, activation in features.items():
            scaling = ops.cast(ops.prod(ops.shape(activation)), "float32")
            loss += self.settings[name] * ops.sum(ops.square(activation[:, 2:-2, 2:-2, :])) / scaling
        return loss

    def new_step(self) -> Step:
        """A new compiled step, as each run of the example script starts with one."""
        backend = keras.backend.backend()
        if backend == "tensorflow":
            return self._tensorflow_step()
        if backend == "jax":
            return self._jax_step()
        raise RuntimeError(f"no Keras example step for backend {backend!r}")

    def _tensorflow_step(self) -> Step:
        import tensorflow as tf

        @tf.function
        def gradient_ascent_step(img: tf.Tensor, learning_rate: float) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                tape.watch(img)
                loss = self.compute_loss(self.extractor(img))
            grads = tape.gradient(loss, img)
            grads /= tf.maximum(tf.reduce_mean(tf.abs(grads)), 1e-6)
            img += learning_rate * grads
            return loss, img

        return gradient_ascent_step

    def _jax_step(self) -> Step:
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in self.extractor.trainable_variables]
        non_trainable = [v.value for v in self.extractor.non_trainable_variables]

        def loss_fn(img: jax.Array, trainable: list[Any], non_trainable: list[Any]) -> jax.Array:
            features, _ = self.extractor.stateless_call(trainable, non_trainable, img)
            return self.compute_loss(features)

        @jax.jit
        def step(img: jax.Array, learning_rate: float, trainable: list[Any], non_trainable: list[Any]) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(img, trainable, non_trainable)
            grads /= jnp.maximum(jnp.mean(jnp.abs(grads)), 1e-6)
            return loss, img + learning_rate * grads

        return lambda img, learning_rate: step(img, learning_rate, trainable, non_trainable)

    def dream(
        self,
        image: np.ndarray,
        step: Step,
        octaves: int = 3,
        octave_scale: float = 1.4,
        iterations: int = 20,
        learning_rate: float = 0.01,
        max_loss: float | None = 15.0,
    ) -> tuple[np.ndarray, int]:
        """The example's main loop on an H×W×3 image in [0, 1]; returns the dream in [0, 1] and the steps run."""
        original = ops.convert_to_tensor(image[None] * 2.0 - 1.0)
        original_shape = image.shape[:2]
        shapes = [tuple(int(dim / (octave_scale**i)) for dim in original_shape) for i in range(octaves)][::-1]
        shrunk_original = ops.image.resize(original, shapes[0])
        img = original
        steps = 0
        for shape in shapes:
            img = ops.image.resize(img, shape)
            for _ in range(iterations):
                loss, img = step(img, learning_rate)
                steps += 1
                if max_loss is not None and float(loss) > max_loss:
                    break
            upscaled_shrunk = ops.image.resize(shrunk_original, shape)
            same_size = ops.image.resize(original, shape)
            img += same_size - upscaled_shrunk
            shrunk_original = ops.image.resize(original, shape)
        result = np.clip((ops.convert_to_numpy(img)[0] + 1.0) / 2.0, 0.0, 1.0)
        return result.astype(np.float32), steps
