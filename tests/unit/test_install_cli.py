"""``python3 install/install.py`` end to end into scratch folders (no GIMP, no network needed)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reverie_install import server_env

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "install" / "install.py"
PLUGIN = "reverie-dream"


def install(*args: str, home: Path, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home), "PATH": path}
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("XDG_DATA_HOME", None)
    return subprocess.run([sys.executable, str(INSTALLER), *args], capture_output=True, text=True, env=env, check=False)


def imported_modules(folder: Path) -> set[str]:
    """Every module the plug-in's files import (absolute imports only, as they all are)."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
    return names


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    completed = install("--dry-run", "--gimp-dir", str(tmp_path / "gimp"), home=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "would copy the plug-in to" in completed.stdout
    assert "would pip install the dream server" in completed.stdout
    assert f"would link {tmp_path / '.local/bin/reverie'}" in completed.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_plugin_only_installs_a_complete_self_contained_plugin(tmp_path: Path) -> None:
    gimp_dir = tmp_path / "gimp"
    completed = install("--plugin-only", "--gimp-dir", str(gimp_dir), "--gimp-python", sys.executable, home=tmp_path)
    assert completed.returncode == 0, completed.stderr
    folder = gimp_dir / "plug-ins" / PLUGIN
    entry = folder / f"{PLUGIN}.py"
    assert os.access(entry, os.X_OK)
    assert entry.read_text() == (REPO / "plugin" / f"{PLUGIN}.py").read_text()
    # Everything it imports from Reverie is beside it; the rest is the standard library, gi or zmq.
    ours = {name for name in imported_modules(folder) if name.split(".")[0].startswith("reverie")}
    for name in ours:
        parts = name.split(".")
        assert (folder.joinpath(*parts).with_suffix(".py")).is_file() or (
            folder.joinpath(*parts) / "__init__.py"
        ).is_file(), name
    assert {name.split(".")[0] for name in ours} == {"reverie_plugin", "reverie_wire"}, "the server stays out"
    shipped = sorted(str(path.relative_to(folder)) for path in folder.rglob("*.py"))
    expected = [str(path.relative_to(REPO / "plugin")) for path in (REPO / "plugin").rglob("*.py")]
    expected += [str(path.relative_to(REPO / "server")) for path in (REPO / "server" / "reverie_wire").rglob("*.py")]
    assert shipped == sorted(expected)
    settings = json.loads((folder / "reverie-dream.json").read_text())
    assert settings == {"launcher": None, "config": str(tmp_path / ".config/reverie/config.toml")}
    assert "has pyzmq" in completed.stdout
    assert "cannot start a server itself" in completed.stdout
    assert not (tmp_path / ".local").exists()


def test_plugin_only_records_a_reverie_found_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "reverie"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    gimp_dir = tmp_path / "gimp"
    completed = install(
        "--plugin-only",
        "--gimp-dir",
        str(gimp_dir),
        "--gimp-python",
        sys.executable,
        home=tmp_path,
        path=f"{bin_dir}:/usr/bin:/bin",
    )
    assert completed.returncode == 0, completed.stderr
    settings = json.loads((gimp_dir / "plug-ins" / PLUGIN / "reverie-dream.json").read_text())
    assert settings["launcher"] == str(launcher)


def test_gimp_python_without_pyzmq_gets_a_matching_wheel(tmp_path: Path) -> None:
    # ``-S`` hides site-packages, so this Python cannot import zmq, like a Flatpak or bundled GIMP.
    completed = install(
        "--dry-run",
        "--plugin-only",
        "--gimp-dir",
        str(tmp_path),
        "--gimp-python",
        f"{sys.executable} -S",
        home=tmp_path,
    )
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"would put pyzmq for GIMP's Python {version}" in completed.stdout


def test_unrunnable_gimp_python_is_reported_not_fatal(tmp_path: Path) -> None:
    completed = install(
        "--plugin-only", "--gimp-dir", str(tmp_path), "--gimp-python", "/nonexistent/python3", home=tmp_path
    )
    assert completed.returncode == 0
    assert "could not run GIMP's Python" in completed.stdout


def test_uninstall_removes_the_plugin(tmp_path: Path) -> None:
    gimp_dir = tmp_path / "gimp"
    install("--plugin-only", "--gimp-dir", str(gimp_dir), "--gimp-python", sys.executable, home=tmp_path)
    completed = install("--uninstall", "--plugin-only", "--gimp-dir", str(gimp_dir), home=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert not (gimp_dir / "plug-ins" / PLUGIN).exists()
    again = install("--uninstall", "--plugin-only", "--gimp-dir", str(gimp_dir), home=tmp_path)
    assert "nothing to remove" in again.stdout


def test_launcher_link_is_replaced_but_never_someone_elses_file(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    target = venv / "bin" / "reverie"
    target.parent.mkdir(parents=True)
    target.write_text("")
    link = tmp_path / "bin" / "reverie"
    server_env.link_launcher(target, link)
    server_env.link_launcher(target, link)
    assert link.resolve() == target
    server_env.unlink_launcher(link, tmp_path / "other-venv")
    assert link.is_symlink()
    server_env.unlink_launcher(link, venv)
    assert not link.exists()
    link.write_text("mine")
    with pytest.raises(FileExistsError, match="not Reverie's link"):
        server_env.link_launcher(target, link)


def test_a_link_someone_else_made_is_never_replaced(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    target = venv / "bin" / "reverie"
    target.write_text("")
    other = tmp_path / "their-reverie"
    other.write_text("")
    link = tmp_path / "bin" / "reverie"
    link.parent.mkdir()
    link.symlink_to(other)
    with pytest.raises(FileExistsError, match="not Reverie's link"):
        server_env.link_launcher(target, link)
    assert link.resolve() == other
    old_venv = tmp_path / "old-venv"
    (old_venv / "bin").mkdir(parents=True)
    (old_venv / "pyvenv.cfg").write_text("")
    link.unlink()
    link.symlink_to(old_venv / "bin" / "reverie")  # an earlier install's link: Reverie's own, replaced
    server_env.link_launcher(target, link)
    assert link.resolve() == target


def test_on_path() -> None:
    assert server_env.on_path(Path("/a/b"), "/x:/a/b:/y")
    assert not server_env.on_path(Path("/a/b"), "/x:/a/bc")


def test_full_uninstall_removes_the_server_environment_and_its_link(tmp_path: Path) -> None:
    venv = tmp_path / ".local/share/reverie/venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "reverie").write_text("")
    server_env.link_launcher(venv / "bin" / "reverie", tmp_path / ".local/bin/reverie")
    gimp_dir = tmp_path / "gimp"
    install("--plugin-only", "--gimp-dir", str(gimp_dir), "--gimp-python", sys.executable, home=tmp_path)
    dry = install("--uninstall", "--dry-run", "--gimp-dir", str(gimp_dir), home=tmp_path)
    assert f"would remove the server's environment {venv}" in dry.stdout
    assert venv.exists()
    completed = install("--uninstall", "--gimp-dir", str(gimp_dir), home=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert not venv.exists()
    assert not (tmp_path / ".local/bin/reverie").is_symlink()
    assert not (gimp_dir / "plug-ins" / PLUGIN).exists()


def test_pyzmq_that_cannot_be_fetched_is_a_warning_not_a_failed_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import install as installer  # install/install.py, on sys.path above

    # Offline and asking for a package no index has: pip fails whatever wheels this machine caches.
    unavailable = ["--no-index", "--target", str(tmp_path), "reverie-test-no-such-package"]
    installer.vendor_pyzmq(Path(sys.executable), unavailable)
    assert "pip could not fetch pyzmq" in capsys.readouterr().err
