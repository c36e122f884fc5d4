"""The dream server's own Python environment: a venv with Reverie installed, and a ``reverie`` on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def create_venv(venv: Path) -> None:
    """A virtual environment made with the installer's Python (which must be 3.10 or newer)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)


def pip_install(python: Path, *requirements: str) -> None:
    """pip install into the environment ``python`` belongs to."""
    subprocess.run([str(python), "-m", "pip", "install", "--upgrade", *requirements], check=True)


def is_reverie_link(link: Path) -> bool:
    """Whether ``link`` is a link this installer made: to the ``reverie`` of a virtual environment."""
    if not link.is_symlink():
        return False
    target = Path(os.readlink(link))
    return target.name == "reverie" and target.parent.name == "bin" and (target.parent.parent / "pyvenv.cfg").exists()


def link_launcher(launcher: Path, link: Path) -> None:
    """A symlink ``link`` → ``launcher``, replacing an older link of Reverie's but nothing someone else put there."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if is_reverie_link(link) or (link.is_symlink() and Path(os.readlink(link)) == launcher):
        link.unlink()
    elif link.is_symlink() or link.exists():
        raise FileExistsError(f"{link} exists and is not Reverie's link; remove it or install with --plugin-only")
    link.symlink_to(launcher)


def unlink_launcher(link: Path, venv: Path) -> None:
    """Remove ``link`` only if it points into ``venv``."""
    if link.is_symlink() and Path(os.readlink(link)).is_relative_to(venv):
        link.unlink()


def on_path(folder: Path, env_path: str) -> bool:
    """Whether a shell with PATH ``env_path`` looks in ``folder``."""
    return any(Path(part) == folder for part in env_path.split(os.pathsep) if part)
