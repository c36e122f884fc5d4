"""Where ImageNet weights come from: Keras' cache first, then the file shipped in the package, then Keras'
download (``build`` is faked: it records what ``keras.applications`` would have been given)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest

from reverie.engine.registry import ModelSpec, get_spec
from reverie.engine.weight_files import bundled_models, bundled_weights, cached_weights, keras_cache_dir
from reverie.engine.weights import build_imagenet
from reverie_wire.errors import WeightsMissing

MOBILENET_SHA256 = "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf"


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    return tmp_path / "models"


def recording(name: str, calls: list[Any], failure: Exception | None = None) -> ModelSpec:
    def build(weights: Any) -> str:
        calls.append(weights)
        if failure is not None:
            raise failure
        return "model"

    return dataclasses.replace(get_spec(name), build=build)


def test_mobilenet_ships_its_imagenet_weights_and_inception_does_not() -> None:
    shipped = bundled_weights(get_spec("mobilenet"))
    assert shipped is not None
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == MOBILENET_SHA256
    assert bundled_weights(get_spec("inception_v3")) is None
    assert bundled_models() == ["mobilenet"]


def test_the_shipped_file_is_used_when_the_cache_lacks_it(keras_home: Path) -> None:
    calls: list[Any] = []
    assert build_imagenet(recording("mobilenet", calls)) == "model"
    assert len(calls) == 1 and Path(calls[0]).parts[-3:] == ("reverie", "weights", "mobilenet_2_5_224_tf_no_top.h5")


def test_keras_cache_wins_when_it_has_the_file(keras_home: Path) -> None:
    (keras_home / "mobilenet_2_5_224_tf_no_top.h5").write_bytes(b"cached")
    calls: list[Any] = []
    build_imagenet(recording("mobilenet", calls))
    assert calls == ["imagenet"]
    assert cached_weights(get_spec("mobilenet")) == keras_home / "mobilenet_2_5_224_tf_no_top.h5"


def test_a_model_without_a_shipped_file_goes_through_keras_download(keras_home: Path) -> None:
    calls: list[Any] = []
    build_imagenet(recording("inception_v3", calls))
    assert calls == ["imagenet"]
    assert keras_cache_dir() == keras_home


def test_a_failed_download_offers_the_shipped_model(keras_home: Path) -> None:
    with pytest.raises(WeightsMissing) as caught:
        build_imagenet(recording("inception_v3", [], Exception("URL fetch failure")))
    message = str(caught.value)
    assert str(keras_home / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5") in message
    assert "`reverie start --model mobilenet`" in message


def test_a_broken_cached_file_is_not_reported_as_offline(keras_home: Path) -> None:
    (keras_home / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"junk")
    with pytest.raises(OSError, match="truncated"):
        build_imagenet(recording("inception_v3", [], OSError("truncated file")))
