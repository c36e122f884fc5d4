"""What ``pip install .`` (not editable, as install/install.py runs it) puts in place: the package data, the
wire package and the installer's platform knowledge too, and none of the lab's benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_built_wheel_ships_the_weights_the_wire_and_the_installer_helpers(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO / "server", source / "server", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "install", source / "install", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("reverie-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reverie/weights/mobilenet_2_5_224_tf_no_top.h5" in names
    assert "reverie/weights/NOTICE" in names
    assert "reverie_install/gimp_python.py" in names  # `reverie doctor` finds GIMP with the installer's code
    wire = {f"reverie_wire/{path.name}" for path in (REPO / "server" / "reverie_wire").glob("*.py")}
    assert wire <= set(names)  # the server, the command line and the plug-in's installer all import it
    assert [name for name in names if "bench" in name] == []  # the benchmarks stay in tests/bench

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300)
    where = "import reverie, reverie.engine.weight_files as w; print(reverie.__file__, w.bundled_models())"
    found = subprocess.run(
        [sys.executable, "-c", where],
        env={**os.environ, "PYTHONPATH": str(site)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == [str(site / "reverie" / "__init__.py"), "['mobilenet']"]
