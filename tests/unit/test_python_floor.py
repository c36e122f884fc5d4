"""The oldest Python that pyproject admits is the one ruff and mypy check against, so syntax or standard
library newer than it is flagged rather than found by a user on Ubuntu 22.04 (Python 3.10)."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def oldest_python() -> str:
    """The lowest ``>=`` bound of requires-python, as "3.10"."""
    (bound,) = [spec.version for spec in SpecifierSet(PYPROJECT["project"]["requires-python"]) if spec.operator == ">="]
    return bound


def test_mypy_checks_against_the_oldest_python_admitted() -> None:
    assert PYPROJECT["tool"]["mypy"]["python_version"] == oldest_python()


def test_ruff_takes_its_target_from_requires_python() -> None:
    assert "target-version" not in PYPROJECT["tool"]["ruff"]  # then ruff reads requires-python itself


def test_this_python_is_one_pyproject_admits() -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    assert version in SpecifierSet(PYPROJECT["project"]["requires-python"])
