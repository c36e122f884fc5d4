"""Suite-wide set-up: an empty, private Keras cache, so no test reads or fills the user's, and the real
``imagenet`` loading paths run as on a fresh machine (MobileNet from the file shipped in the package,
InceptionV3 through Keras' download)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MOBILENET_WEIGHTS = REPO / "server" / "reverie" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
_KERAS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Point Keras at a private cache before anything imports it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cache = Path(tempfile.mkdtemp(prefix="reverie-keras-home-"))
    (cache / "models").mkdir()
    os.environ["KERAS_HOME"] = str(cache)
    config.stash[_KERAS_HOME] = cache


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash[_KERAS_HOME], ignore_errors=True)


@pytest.fixture(scope="session")
def mobilenet_weights_file() -> Path:
    """The real MobileNet ImageNet weights, as the checkout ships them."""
    return MOBILENET_WEIGHTS
