"""Suite-wide set-up: an isolated Keras cache holding the real MobileNet ImageNet weights."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MOBILENET_WEIGHTS = "mobilenet_2_5_224_tf_no_top.h5"
_KERAS_HOME = pytest.StashKey[Path]()


def shared_weights_dir() -> Path:
    """The project's shared weights folder (``../shared/data/weights`` beside the checkout)."""
    return Path(os.environ.get("REVERIE_SHARED_WEIGHTS", REPO.parent / "shared" / "data" / "weights"))


def pytest_configure(config: pytest.Config) -> None:
    """Point Keras at a private cache before anything imports it, and put the real weights there."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cache = Path(tempfile.mkdtemp(prefix="reverie-keras-home-"))
    (cache / "models").mkdir()
    source = shared_weights_dir() / MOBILENET_WEIGHTS
    if source.is_file():
        shutil.copy(source, cache / "models" / MOBILENET_WEIGHTS)
    os.environ["KERAS_HOME"] = str(cache)
    config.stash[_KERAS_HOME] = cache


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash[_KERAS_HOME], ignore_errors=True)


@pytest.fixture(scope="session")
def mobilenet_weights_file() -> Path:
    """The real MobileNet weights; CI has them, so their absence fails there instead of skipping."""
    path = shared_weights_dir() / MOBILENET_WEIGHTS
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have ../shared/data/weights beside the checkout")
        pytest.skip(f"{path} is not here")
    return path
