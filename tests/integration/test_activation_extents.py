"""The whole-octave loop reads each layer's activation over the true image's extent, fitted once per dream
graph instead of inferred per size: the fit must agree with Keras' shape inference on the real models."""

from __future__ import annotations

import pytest

from reverie.engine import load_model

np = pytest.importorskip("numpy")
jax_octave = pytest.importorskip("reverie.engine.backends.jax_octave")


@pytest.mark.parametrize("name", ["inception_v3", "mobilenet"])
def test_fitted_extents_equal_shape_inference(name: str) -> None:
    model = load_model(name, "random")
    layers = tuple(model.spec.resolve_layers("deep", None)) + tuple(model.spec.resolve_layers("shallow", None))
    extents = jax_octave.ActivationExtents(model.extractor(layers, "float32"))
    for shape in [(model.min_side(layers), 131), (391, 522), (548, 731), (720, 960), (1500, 2000), (2048, 1111)]:
        assert np.array_equal(extents(shape), extents.infer(shape)), shape
    assert extents._fit is not None
