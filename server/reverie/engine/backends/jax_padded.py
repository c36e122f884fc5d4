"""Images on a JAX device padded out to whole tiles, with their true size a traced value.

Every new input shape is a new XLA compile: a fraction of a second for the small functions around the
gradient, paid again for every new image size an artist selects. Padded to whole tiles (a 700×1000
selection and a 768×1024 one are both 1024×1024), the glue compiles once per tile grid instead; the true
height and width travel as numbers. The padding holds zeros, and nothing reads it as image.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from reverie.engine.tiling import grid_span


def size_of(shape: tuple[int, int]) -> np.ndarray:
    """A true size as a jit argument: a traced value, so a new size compiles nothing."""
    return np.asarray(shape, np.int32)


def valid(shape: tuple[int, ...], size: jax.Array) -> jax.Array:
    """True on the image, False on its padding, for a padded array of ``shape``."""
    return (jnp.arange(shape[0]) < size[0])[:, None] & (jnp.arange(shape[1]) < size[1])[None, :]


def padded(image: np.ndarray, unit: int) -> np.ndarray:
    """An H×W×C host image with zeros out to whole ``unit``s (itself when it already fills them)."""
    return padded_to(image, grid_span(image.shape[:2], unit))


def padded_to(image: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """An H×W×C host image with zeros out to ``target`` (itself when it already fills it)."""
    if image.shape[:2] == target:
        return image
    out = np.zeros((*target, image.shape[2]), image.dtype)
    out[: image.shape[0], : image.shape[1]] = image
    return out


def rolled(image: jax.Array, size: jax.Array, offset: jax.Array, span: tuple[int, ...]) -> jax.Array:
    """``span`` rows and columns of ``image``'s true part (of ``size``) rolled by ``offset`` within it and
    repeated past its end, as ``np.roll`` of the unpadded image would wrap: the padding is never read."""
    rows = (jnp.arange(span[0]) - offset[0]) % size[0]
    cols = (jnp.arange(span[1]) - offset[1]) % size[1]
    return image[rows][:, cols]


def resized(image: jax.Array, size: jax.Array, to_size: jax.Array, to_shape: tuple[int, int]) -> jax.Array:
    """Bilinear resize (antialiased when shrinking) of the ``size`` image in ``image`` to ``to_size``,
    padded to ``to_shape``: equal to ``jax.image.resize`` of the unpadded image within 1e-4, as Pillow's.

    Resizing the padded array at the true sizes' scale would mix zeros into the true edge. Resizing the
    image's mask alongside and dividing takes them out again: each output pixel is the filter's weighted
    mean over true pixels only, which is how Pillow and ``jax.image.resize`` treat an edge."""
    scale = to_size.astype(jnp.float32) / size.astype(jnp.float32)

    def scaled(values: jax.Array, shape: tuple[int, ...], scales: jax.Array) -> jax.Array:
        """``values`` resized along its first len(scales) axes."""
        axes = tuple(range(len(scales)))
        translation = jnp.zeros(len(axes), jnp.float32)
        return jax.image.scale_and_translate(values, shape, axes, scales, translation, "linear", antialias=True)

    # The mask is the outer product of a row and a column of ones, and so is its resize: two 1-D resizes.
    rows, cols = (jnp.arange(length) < size[axis] for axis, length in enumerate(image.shape[:2]))
    row_weight = scaled(rows.astype(image.dtype), to_shape[:1], scale[:1])
    col_weight = scaled(cols.astype(image.dtype), to_shape[1:], scale[1:])
    weight = row_weight[:, None] * col_weight[None, :]
    inside = valid(to_shape, to_size) & (weight > 0)
    values = scaled(
        jnp.where((rows[:, None] & cols[None, :])[..., None], image, 0.0), (*to_shape, image.shape[2]), scale
    )
    return jnp.where(inside[..., None], values / jnp.where(inside, weight, 1.0)[..., None], 0.0)


def refit(image: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """A padded image cut or padded to another padded ``shape`` that still holds its true size (after
    running out of device memory, the tiles, and with them the padding, shrink)."""
    kept = image[: shape[0], : shape[1]]
    return jnp.pad(kept, ((0, shape[0] - kept.shape[0]), (0, shape[1] - kept.shape[1]), (0, 0)))
