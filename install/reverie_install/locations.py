"""Where things go on each platform: GIMP 3's user folders, the server's environment, the launcher.

Pure functions of (platform, environment, home) so every platform's answer can be tested anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

APP = "reverie"
PLUGIN = "reverie-dream"
FLATPAK_APP = "org.gimp.GIMP"


@dataclass(frozen=True)
class GimpTarget:
    """One GIMP 3 user config folder; ``flatpak`` marks the sandboxed build (its own Python)."""

    config_dir: PurePath
    flatpak: bool = False

    @property
    def plugin_dir(self) -> PurePath:
        """Where GIMP looks for the plug-in: plug-ins/NAME/NAME.py."""
        return self.config_dir / "plug-ins" / PLUGIN


def gimp_config_dirs(platform: str, env: Mapping[str, str], home: PurePath) -> list[GimpTarget]:
    """GIMP 3's user config folders for ``platform`` (sys.platform), most usual first."""
    if platform == "win32":
        appdata = type(home)(env["APPDATA"]) if "APPDATA" in env else home / "AppData" / "Roaming"
        return [GimpTarget(appdata / "GIMP" / "3.0")]
    if platform == "darwin":
        return [GimpTarget(home / "Library" / "Application Support" / "GIMP" / "3.0")]
    config = type(home)(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return [
        GimpTarget(config / "GIMP" / "3.0"),
        GimpTarget(home / ".var" / "app" / FLATPAK_APP / "config" / "GIMP" / "3.0", flatpak=True),
    ]


def choose_targets(candidates: list[GimpTarget], exists: set[PurePath]) -> list[GimpTarget]:
    """The GIMP folders that exist (GIMP ran there once), else the platform's usual one."""
    present = [target for target in candidates if target.config_dir in exists]
    return present or candidates[:1]


def data_dir(platform: str, env: Mapping[str, str], home: PurePath) -> PurePath:
    """Reverie's user data folder (the server's virtual environment lives in it)."""
    if platform == "win32":
        local = type(home)(env["LOCALAPPDATA"]) if "LOCALAPPDATA" in env else home / "AppData" / "Local"
        return local / APP
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP
    share = type(home)(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return share / APP


def venv_launcher(venv: PurePath, platform: str) -> PurePath:
    """The ``reverie`` command inside a virtual environment."""
    return venv / "Scripts" / "reverie.exe" if platform == "win32" else venv / "bin" / "reverie"


def venv_python(venv: PurePath, platform: str) -> PurePath:
    """The environment's Python, which runs its pip."""
    return venv / "Scripts" / "python.exe" if platform == "win32" else venv / "bin" / "python"


def bin_dir(platform: str, home: PurePath) -> PurePath | None:
    """Where a ``reverie`` link goes so a shell finds it; None on Windows (the venv's Scripts is used)."""
    return None if platform == "win32" else home / ".local" / "bin"


def repo_root() -> Path:
    """The Reverie source folder this installer belongs to."""
    return Path(__file__).resolve().parents[2]


def reverie_config(platform: str, env: Mapping[str, str], home: PurePath) -> PurePath:
    """The server's config file, where platformdirs puts it (the plug-in reads its endpoint)."""
    if platform == "win32":
        local = type(home)(env["LOCALAPPDATA"]) if "LOCALAPPDATA" in env else home / "AppData" / "Local"
        return local / APP / APP / "config.toml"
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP / "config.toml"
    config = type(home)(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return config / APP / "config.toml"
