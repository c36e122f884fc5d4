"""The plug-in's files: what is copied where, so GIMP's Python finds everything but gi and zmq beside it.

The plug-in folder is ``plugin/`` and the ``reverie_wire`` package (protocol, client, keys, config; standard
library and pyzmq only), each copied whole.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reverie_install.locations import PLUGIN
from reverie_wire.config import PLUGIN_SETTINGS_FILE

WIRE = "reverie_wire"
# Files that are no part of a package: bytecode the tests or an editor left behind, the plug-in's own notes.
_LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "README.md")


def copy_plugin(repo: Path, plugin_dir: Path) -> None:
    """Replace the plug-in folder with a fresh copy; the entry file must be executable or GIMP ignores it."""
    if plugin_dir.exists():
        shutil.rmtree(plugin_dir)
    shutil.copytree(repo / "plugin", plugin_dir, ignore=_LEFT_OUT)
    shutil.copytree(repo / "server" / WIRE, plugin_dir / WIRE, ignore=_LEFT_OUT)
    (plugin_dir / f"{PLUGIN}.py").chmod(0o755)


def write_settings(plugin_dir: Path, launcher: str | None, config: str | None) -> None:
    """What the plug-in reads at run time: the ``reverie`` command and the server's config file."""
    data = {"launcher": launcher, "config": config}
    (plugin_dir / PLUGIN_SETTINGS_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
