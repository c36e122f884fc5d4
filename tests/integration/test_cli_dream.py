"""``reverie dream`` and ``reverie layers`` as a user runs them."""

from __future__ import annotations

import gc
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from server_harness import free_endpoint, start_server

from reverie.cli.main import main
from reverie.imaging.images import read_image

FAST = ["--local", "--weights", "random", "--model", "mobilenet", "--octaves", "2", "--steps", "2", "--seed", "11"]


def save(pixels: np.ndarray, path: Path) -> Path:
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(path)
    return path


@pytest.fixture
def rgba(tmp_path: Path) -> Path:
    pixels = np.random.default_rng(0).integers(0, 256, (217, 333, 4), dtype=np.uint8)
    return save(pixels, tmp_path / "in.png")


def test_console_script_dreams_and_prints_the_seed(rgba: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    run = subprocess.run(
        [sys.executable, "-m", "reverie.cli", "dream", str(rgba), "-o", str(out), *FAST],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "seed 11" in run.stdout
    dreamed = read_image(out).pixels
    original = read_image(rgba).pixels
    assert dreamed.shape == (217, 333, 4)
    np.testing.assert_array_equal(dreamed[:, :, 3], original[:, :, 3])
    assert not np.array_equal(dreamed[:, :, :3], original[:, :, :3])


def test_same_seed_same_file(rgba: Path, tmp_path: Path) -> None:
    assert main(["dream", str(rgba), "-o", str(tmp_path / "a.png"), *FAST]) == 0
    assert main(["dream", str(rgba), "-o", str(tmp_path / "b.png"), *FAST]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "a.png").pixels, read_image(tmp_path / "b.png").pixels)


def test_16_bit_grey_stays_16_bit_grey(tmp_path: Path) -> None:
    grey = (np.random.default_rng(1).random((150, 170, 1)) * 65535).astype(np.uint16)
    source = save(grey, tmp_path / "grey16.png")
    assert main(["dream", str(source), "-o", str(tmp_path / "out.png"), *FAST]) == 0
    with Image.open(tmp_path / "out.png") as written:
        assert written.mode.startswith("I")
    out = read_image(tmp_path / "out.png").pixels
    assert out.dtype == np.uint16 and out.shape == (150, 170, 1)
    assert len(np.unique(out)) > 256  # still uses the 16-bit range, not 8-bit steps


def test_layers_lists_layers_and_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", "--model", "mobilenet"]) == 0
    out = capsys.readouterr().out
    assert "preset keras: conv_pw_7_relu=1" in out
    # MobileNet halves the picture five times; α 0.25 gives conv_pw_13 256 channels.
    assert "  conv_pw_1_relu: 256×256×16" in out and "  conv_pw_13_relu: 16×16×256" in out


@pytest.mark.parametrize(
    ("make_input", "extra", "words"),
    [
        ("text", [], "cannot read"),
        ("missing", [], "does not exist"),
        ("image", ["--layers", "mixed99=1"], "valid layers: conv_pw_1_relu"),
        ("image", ["--octaves", "0"], "octaves must be between 1 and 12"),
        ("image", ["--step-size", "nan"], "step_size must be a finite number"),
        ("tiny", [], "need at least"),
    ],
)
def test_bad_input_is_one_clear_line_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_input: str, extra: list[str], words: str
) -> None:
    source = tmp_path / "in.png"
    if make_input == "text":
        source.write_text("hello")
    elif make_input == "image":
        save(np.zeros((120, 120, 3), np.uint8), source)
    elif make_input == "tiny":  # too small even to enlarge
        save(np.zeros((8, 8, 3), np.uint8), source)
    out = tmp_path / "out.png"
    assert main(["dream", str(source), "-o", str(out), *FAST, *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reverie: error:") and words in err[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.png")]


def test_an_icon_under_the_smallest_input_dreams_at_its_size(tmp_path: Path, capsys) -> None:
    icon = np.random.default_rng(2).integers(0, 256, (64, 64, 4), dtype=np.uint8)
    source, out = save(icon, tmp_path / "icon.png"), tmp_path / "out.png"
    assert main(["dream", str(source), "-o", str(out), *FAST]) == 0
    assert "dreamed enlarged to 79×79 and brought back to its size" in capsys.readouterr().err
    dreamed = read_image(out).pixels
    assert dreamed.shape == (64, 64, 4)
    np.testing.assert_array_equal(dreamed[:, :, 3], icon[:, :, 3])
    assert not np.array_equal(dreamed[:, :, :3], icon[:, :, :3])


def test_option_errors_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["dream", "in.png", "-o", str(tmp_path / "out.png"), "--layers", "mixed4=abc"])
    assert caught.value.code == 2


def test_dreaming_on_a_running_server_matches_dreaming_here(rgba: Path, tmp_path: Path) -> None:
    guide = save(np.random.default_rng(4).integers(0, 256, (90, 140, 3), dtype=np.uint8), tmp_path / "guide.png")
    creative = ["--guide", str(guide), "--keep-colors", "--normalization", "laplacian", "--lap-levels", "3"]
    server = start_server(tmp_path / "home")
    try:
        on_server = [*FAST[1:], "--server", server.endpoint]
        assert main(["dream", str(rgba), "-o", str(tmp_path / "server.png"), *on_server]) == 0
        assert main(["dream", str(rgba), "-o", str(tmp_path / "server-creative.png"), *on_server, *creative]) == 0
        assert main(["zoom", str(rgba), "-o", str(tmp_path / "server.gif"), "--frames", "3", *on_server]) == 0
        assert server.facts()["jobs_done"] == 5  # a zoom is one job per frame
    finally:
        assert server.stop() == 0
    assert main(["dream", str(rgba), "-o", str(tmp_path / "here.png"), *FAST]) == 0
    assert main(["dream", str(rgba), "-o", str(tmp_path / "here-creative.png"), *FAST, *creative]) == 0
    assert main(["zoom", str(rgba), "-o", str(tmp_path / "here.gif"), "--frames", "3", *FAST]) == 0
    assert (tmp_path / "server.gif").read_bytes() == (tmp_path / "here.gif").read_bytes()
    pixels = {
        name: read_image(tmp_path / f"{name}.png").pixels
        for name in ("server", "here", "server-creative", "here-creative")
    }
    np.testing.assert_array_equal(pixels["server"], pixels["here"])
    np.testing.assert_array_equal(pixels["server-creative"], pixels["here-creative"])
    assert not np.array_equal(pixels["here-creative"], pixels["here"])


def test_a_named_server_that_is_down_is_an_error(rgba: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.png"
    assert main(["dream", str(rgba), "-o", str(out), *FAST[1:], "--server", free_endpoint()]) == 1
    assert "reverie start" in capsys.readouterr().err
    assert not out.exists()


def test_precision_float32_is_a_different_arithmetic_from_bfloat16(rgba: Path, tmp_path: Path) -> None:
    assert main(["dream", str(rgba), "-o", str(tmp_path / "f32.png"), *FAST, "--precision", "float32"]) == 0
    assert main(["dream", str(rgba), "-o", str(tmp_path / "bf16.png"), *FAST, "--precision", "bfloat16"]) == 0
    f32 = read_image(tmp_path / "f32.png").pixels.astype(int)
    bf16 = read_image(tmp_path / "bf16.png").pixels.astype(int)
    assert not np.array_equal(f32, bf16)
    assert np.abs(f32 - bf16).mean() < 20  # the same dream, rounded differently


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reverie: error:"), stderr
    return lines[0]


def test_a_named_server_that_is_down_leaves_no_socket_open(rgba: Path, tmp_path: Path, capsys) -> None:
    command = ["dream", str(rgba), "-o", str(tmp_path / "out.png"), *FAST[1:], "--server", free_endpoint()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)  # pyzmq's word for a context or socket never closed
        assert main(command) == 1
        gc.collect()
    assert not [warning for warning in caught if issubclass(warning.category, ResourceWarning)]
    assert "nothing accepts connections" in one_error_line(capsys.readouterr().err)


def test_a_server_serving_other_weights_is_never_used_silently(
    rgba: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, mobilenet_weights_file: Path
) -> None:
    server = start_server(tmp_path / "home")
    try:
        config = tmp_path / "config" / "reverie" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'[server]\nendpoint = "{server.endpoint}"\nmodel = "mobilenet"\n')
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        other = ["--weights", str(mobilenet_weights_file), "--octaves", "1", "--steps", "1"]

        named = ["dream", str(rgba), "-o", str(tmp_path / "named.png"), "--server", server.endpoint, *other]
        assert main(named) == 1
        line = one_error_line(capsys.readouterr().err)
        assert f"the dream server at {server.endpoint} serves mobilenet with random weights, not " in line
        assert not (tmp_path / "named.png").exists()

        assert main(["dream", str(rgba), "-o", str(tmp_path / "here.png"), *other]) == 0
        out, err = capsys.readouterr()
        assert "in this process" in out
        assert f"reverie: note: the dream server at {server.endpoint} serves mobilenet with random weights" in err
        assert "--weights random to dream on that server" in err

        served = ["dream", str(rgba), "-o", str(tmp_path / "served.png"), "--weights", "random", "--steps", "1"]
        assert main(served) == 0
        assert f"on the server at {server.endpoint}" in capsys.readouterr().out
        assert server.facts()["jobs_done"] == 1
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("backend", ["torch", "foo"])
def test_an_unsupported_keras_backend_is_one_line(rgba: Path, tmp_path: Path, backend: str) -> None:
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "reverie.cli", "dream", str(rgba), "-o", str(tmp_path / "out.png"), *FAST]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert f"Keras backend '{backend}' is not supported" in one_error_line(run.stderr)


def test_a_decompression_bomb_is_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 10_000)).save(bomb)
    command = [sys.executable, "-m", "reverie.cli", "dream", str(bomb), "-o", str(tmp_path / "out.png"), *FAST]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "decompression bomb" in one_error_line(run.stderr)


@pytest.mark.parametrize(("output", "words"), [(".", "it is a folder"), ("missing/out.png", "does not exist")])
def test_an_unwritable_output_fails_before_the_dream(
    rgba: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, words: str
) -> None:
    assert main(["dream", str(rgba), "-o", str(tmp_path / output), *FAST]) == 1
    assert words in one_error_line(capsys.readouterr().err)


def test_the_written_file_follows_the_umask(rgba: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert main(["dream", str(rgba), "-o", str(tmp_path / "out.png"), *FAST]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o644


def test_several_files_into_a_folder_each_keep_their_name_and_one_failure_spares_the_others(
    rgba: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = save(np.random.default_rng(5).integers(0, 256, (64, 80, 3), dtype=np.uint8), tmp_path / "second.jpg")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    folder = tmp_path / "dreams"
    folder.mkdir()
    assert main(["dream", str(rgba), str(broken), str(second), "-o", f"{folder}/", *FAST]) == 1
    said = capsys.readouterr()
    assert sorted(path.name for path in folder.iterdir()) == ["in.png", "second.jpg"]
    assert read_image(folder / "second.jpg").pixels.shape == (64, 80, 3)
    assert "broken.png" in said.err and "dreamt 2 of 3 files in this process" in said.out


def test_several_files_refuse_a_folder_that_is_not_there_before_any_work(rgba: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "reverie.cli", "dream", str(rgba), str(rgba), "-o", str(tmp_path / "none"), *FAST],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1 and "not a folder" in run.stderr
