"""The models Reverie can dream with: adding a Keras application is one ``ModelSpec``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reverie_wire.errors import UnknownLayer, UnknownModel

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class ModelSpec:
    """How to build one Keras application and which of its layers are worth dreaming on.

    ``build(weights)`` takes what ``keras.applications`` takes: "imagenet", a file path, or None.
    Inputs are scaled to [-1, 1], as both InceptionV3 and MobileNet expect.
    """

    name: str
    description: str
    build: Callable[[Any], Any]
    dream_layers: tuple[str, ...]
    presets: Mapping[str, Mapping[str, float]]
    weights_file: str
    weights_url: str
    weights_bytes: int  # the ImageNet file's size: what a first run downloads
    aliases: tuple[str, ...] = field(default=())

    def resolve_layers(self, preset: str, layers: Mapping[str, float] | None) -> dict[str, float]:
        """The ``{layer: weight}`` a dream uses: explicit layers win over the preset."""
        if layers is None:
            if preset not in self.presets:
                raise UnknownLayer(
                    f"unknown preset {preset!r} for {self.name}; choose one of: {', '.join(self.presets)}"
                )
            return dict(self.presets[preset])
        unknown = [name for name in layers if name not in self.dream_layers]
        if unknown:
            raise UnknownLayer(
                f"{self.name} has no layer {', '.join(map(repr, unknown))}; "
                f"valid layers: {', '.join(self.dream_layers)}"
            )
        return dict(layers)


def _inception_v3(weights: Any) -> Any:
    import keras

    return keras.applications.InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3))


def _mobilenet(weights: Any) -> Any:
    import keras

    with warnings.catch_warnings():
        # Keras warns that the 224×224 weights serve any input size: exactly what dreaming wants.
        warnings.filterwarnings("ignore", message=".*Weights for input shape", category=UserWarning)
        return keras.applications.MobileNet(include_top=False, weights=weights, input_shape=(None, None, 3), alpha=0.25)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="inception_v3",
            description="InceptionV3 (ImageNet): the classic DeepDream model",
            build=_inception_v3,
            dream_layers=tuple(f"mixed{i}" for i in range(11)),
            presets={
                "keras": {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5},
                "tutorial": {"mixed3": 1.0, "mixed5": 1.0},
                "shallow": {"mixed1": 1.0, "mixed2": 1.0},
                "deep": {"mixed8": 1.0, "mixed9": 1.5},
            },
            weights_file="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_url=KERAS_WEIGHTS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_bytes=87_910_968,
            aliases=("inception", "inceptionv3"),
        ),
        ModelSpec(
            name="mobilenet",
            description="MobileNet v1, alpha 0.25 (ImageNet): small and fast",
            build=_mobilenet,
            dream_layers=tuple(f"conv_pw_{i}_relu" for i in range(1, 14)),
            presets={
                "keras": {"conv_pw_7_relu": 1.0, "conv_pw_9_relu": 1.5, "conv_pw_11_relu": 2.0},
                "tutorial": {"conv_pw_5_relu": 1.0, "conv_pw_9_relu": 1.0},
                "shallow": {"conv_pw_3_relu": 1.0, "conv_pw_5_relu": 1.0},
                "deep": {"conv_pw_12_relu": 1.0, "conv_pw_13_relu": 1.5},
            },
            weights_file="mobilenet_2_5_224_tf_no_top.h5",
            weights_url=KERAS_WEIGHTS_URL + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",
            weights_bytes=2_108_140,
            aliases=("mobilenet_v1",),
        ),
    )
}

PRESETS = ("keras", "tutorial", "shallow", "deep")


def get_spec(name: str) -> ModelSpec:
    """The spec for a model name or alias, or a clear error listing the valid names."""
    key = name.lower()
    for spec in MODELS.values():
        if key == spec.name or key in spec.aliases:
            return spec
    raise UnknownModel(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
