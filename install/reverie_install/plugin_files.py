"""The plug-in's files: what is copied where, so GIMP's Python finds everything but gi and zmq beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePath

from reverie_install.locations import PLUGIN

# The client and what it imports, vendored from the server package (standard library + pyzmq only).
VENDORED = ("__init__.py", "errors.py", "protocol.py", "snapshots.py", "client.py")
SETTINGS_FILE = "reverie-dream.json"


def manifest(repo: Path) -> list[tuple[Path, PurePath]]:
    """``(source, destination relative to the plug-in folder)`` for every file the plug-in needs."""
    plugin = repo / "plugin"
    files = [(plugin / f"{PLUGIN}.py", PurePath(f"{PLUGIN}.py"))]
    files += [
        (path, PurePath("reverie_plugin", path.name)) for path in sorted((plugin / "reverie_plugin").glob("*.py"))
    ]
    files += [(repo / "server" / "reverie" / name, PurePath("reverie", name)) for name in VENDORED]
    return files


def copy_plugin(repo: Path, plugin_dir: Path) -> None:
    """Replace the plug-in folder with a fresh copy; the entry file must be executable or GIMP ignores it."""
    if plugin_dir.exists():
        shutil.rmtree(plugin_dir)
    for source, relative in manifest(repo):
        destination = plugin_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    (plugin_dir / f"{PLUGIN}.py").chmod(0o755)


def write_settings(plugin_dir: Path, launcher: str | None, config: str | None) -> None:
    """What the plug-in reads at run time: the ``reverie`` command and the server's config file."""
    data = {"launcher": launcher, "config": config}
    (plugin_dir / SETTINGS_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
