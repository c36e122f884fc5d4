"""Which weights count as the same when ``reverie dream`` picks a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.cli.target import same_weights


def test_keywords_match_only_themselves() -> None:
    assert same_weights("random", "random") and same_weights("imagenet", "imagenet")
    assert not same_weights("random", "imagenet")
    assert not same_weights("imagenet", "/models/inception.h5")


def test_a_file_matches_by_any_path_that_leads_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "models" / "mine.h5"
    weights.parent.mkdir()
    weights.write_bytes(b"")
    (tmp_path / "link.h5").symlink_to(weights)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert same_weights(str(weights), "models/mine.h5")
    assert same_weights("~/models/mine.h5", str(tmp_path / "link.h5"))
    assert not same_weights(str(weights), str(tmp_path / "other.h5"))
