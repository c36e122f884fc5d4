"""``dream_file`` never loses a finished dream: a target that refuses it after the dream gets it elsewhere."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reverie.cli.dreaming import Dreamer, dream_file
from reverie.imaging.images import read_image
from reverie_wire.errors import ReverieError

DREAMED = np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)


def dreamer_that(meanwhile: Callable[[], object]) -> Dreamer:
    """A dream that returns DREAMED (seed 42) after ``meanwhile`` changed the world, as a long dream allows."""

    def dream(pixels: np.ndarray, progress: object) -> tuple[np.ndarray, int, tuple[str, ...]]:
        meanwhile()
        return DREAMED, 42, ()

    return dream


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.png"
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(path)
    return path


def saved_to(error: pytest.ExceptionInfo[ReverieError]) -> Path:
    message = str(error.value)
    assert "\n" not in message
    return Path(re.search(r"the dream was saved to (\S+) instead", message).group(1))


def test_a_target_taken_by_a_folder_meanwhile_is_saved_beside_it(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "dream.png"
    target.parent.mkdir()
    with pytest.raises(ReverieError, match=r"cannot write .*dream\.png") as caught:
        dream_file(source, target, dreamer_that(target.mkdir), show_progress=False)
    kept = saved_to(caught)
    assert kept.parent == target.parent and kept.name.startswith("dream-seed42-") and kept.suffix == ".png"
    np.testing.assert_array_equal(read_image(kept).pixels, DREAMED)


def test_a_folder_removed_meanwhile_leaves_the_dream_in_the_temporary_folder(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "gone" / "dream.jpg"
    target.parent.mkdir()
    with pytest.raises(ReverieError, match="does not exist") as caught:
        dream_file(source, target, dreamer_that(lambda: shutil.rmtree(target.parent)), show_progress=False)
    kept = saved_to(caught)
    try:
        assert kept.parent == Path(tempfile.gettempdir())
        np.testing.assert_array_equal(read_image(kept).pixels, DREAMED)  # PNG: nothing lost to JPEG
    finally:
        kept.unlink()


@pytest.mark.parametrize("show_progress", [True, False])
def test_a_job_queued_behind_others_says_so_unless_quiet(
    source: Path, tmp_path: Path, show_progress: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a terminal here, so no progress bar: the wait is still a line of its own."""
    from reverie_wire.client import Queued

    def queued_dream(pixels: np.ndarray, progress: Callable[[object], None]) -> tuple[np.ndarray, int, tuple[str, ...]]:
        progress(Queued("job", 2))
        return DREAMED, 42, ()

    dream_file(source, tmp_path / "out.png", queued_dream, show_progress=show_progress)
    waiting = "reverie: waiting for the dream server (2 jobs ahead of this one)\n"
    assert capsys.readouterr().err == (waiting if show_progress else "")


def test_a_job_turned_away_busy_says_it_is_sent_again(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reverie.cli.dreaming import BusyWait

    def busy_dream(pixels: np.ndarray, progress: Callable[[object], None]) -> tuple[np.ndarray, int, tuple[str, ...]]:
        progress(BusyWait("the queue is full", 1.25))
        return DREAMED, 42, ()

    dream_file(source, tmp_path / "out.png", busy_dream)
    assert capsys.readouterr().err == (
        "reverie: the dream server is busy (the queue is full); sending the job again in 1.2 s\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_says_how_long_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    from reverie.cli.dreaming import _progress_bar
    from reverie_wire.client import Progress

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with _progress_bar(show=True) as progress:
        progress(Progress("job", 0.75, 3, 3, 5, 20, 1, 12.4))
        progress(Progress("job", 0.8, 3, 3, 6, 20, 1, None))  # no estimate: nothing said about time
    lines = re.split(r"[\r\n]", terminal.getvalue())
    assert any("octave 3/3 step 5/20" in line and "~12 s left" in line for line in lines)
    assert any("octave 3/3 step 6/20" in line and "left" not in line for line in lines)
