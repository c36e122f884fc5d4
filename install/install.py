#!/usr/bin/env python3
"""Install Reverie: the GIMP 3 plug-in into GIMP's user plug-ins folder, the dream server into its own
Python environment with a ``reverie`` command, and pyzmq beside the plug-in where GIMP's Python lacks it.

    python3 install/install.py [--gimp-dir DIR] [--plugin-only] [--uninstall] [--dry-run]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path

# Run from a checkout by any Python 3: the wire package the plug-in gets (standard library to import) is in server/.
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "server"))

from reverie_install import gimp_python, locations, plugin_files, server_env
from reverie_install.locations import GimpTarget
from reverie_install.steps import Step, run_steps
from reverie_wire.config import PLUGIN_SETTINGS_FILE


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line; every option is also in the module docstring's usage line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="install.py")
    parser.add_argument("--gimp-dir", type=Path, help="GIMP 3 config folder to install into (default: found)")
    parser.add_argument("--plugin-only", action="store_true", help="install only the plug-in, not the server")
    parser.add_argument("--uninstall", action="store_true", help="remove what an install put in place")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    parser.add_argument(
        "--gimp-python",
        help="command that runs GIMP's Python, to check it has pyzmq "
        "(default: found, e.g. 'flatpak run --command=python3 org.gimp.GIMP')",
    )
    return parser.parse_args(argv)


def targets(args: argparse.Namespace, platform: str, env: Mapping[str, str], home: Path) -> list[GimpTarget]:
    """The GIMP folders to install into: --gimp-dir, else the ones GIMP created, else the usual one."""
    if args.gimp_dir is not None:
        return [GimpTarget(args.gimp_dir.resolve())]
    candidates = locations.gimp_config_dirs(platform, env, home)
    existing = {t.config_dir for t in candidates if Path(t.config_dir).is_dir()}
    return locations.choose_targets(candidates, existing)


def vendor_pyzmq(pip_python: Path, requirement: list[str]) -> None:
    """pip install pyzmq beside the plug-in; a failure (offline, no matching wheel) is reported, not fatal."""
    try:
        server_env.pip_install(pip_python, *requirement)
    except subprocess.CalledProcessError as error:
        print(
            f"  warning: pip could not fetch pyzmq ({error}); the plug-in needs it: install pyzmq for GIMP's "
            "Python (e.g. python3-zmq), or rerun this installer with network access",
            file=sys.stderr,
        )


def zmq_steps(target: GimpTarget, command: list[str] | None, pip_python: Path) -> list[Step]:
    """Check GIMP's Python for pyzmq; where it lacks it, put a matching wheel into the plug-in's folder."""
    if command is None:
        return [
            Step(
                "GIMP 3 and its Python were not found, so pyzmq could not be checked; after installing GIMP 3, "
                "rerun with --plugin-only (or name its Python with --gimp-python 'COMMAND')"
            )
        ]
    try:
        facts = gimp_python.probe(command)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as error:
        return [Step(f"could not run GIMP's Python ({shlex.join(command)}: {error}); pyzmq not checked")]
    if facts.zmq is not None:
        return [Step(f"GIMP's Python {facts.version} ({shlex.join(command)}) has pyzmq {facts.zmq}")]
    plugin_dir = Path(target.plugin_dir)
    requirement = [
        "--target",
        str(plugin_dir),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        facts.version,
        "--platform",
        gimp_python.wheel_platform(facts.platform),
        "pyzmq",
    ]
    return [
        Step(
            f"put pyzmq for GIMP's Python {facts.version} ({facts.platform}) into {plugin_dir}",
            partial(vendor_pyzmq, pip_python, requirement),
        )
    ]


def install_steps(args: argparse.Namespace, platform: str, env: Mapping[str, str], home: Path) -> list[Step]:
    """Server environment and launcher (unless --plugin-only), then per GIMP folder: plug-in, settings, pyzmq."""
    repo = locations.repo_root()
    venv = Path(locations.data_dir(platform, env, home)) / "venv"
    bin_dir = locations.bin_dir(platform, home)
    steps: list[Step] = []
    pip_python = Path(sys.executable)
    if args.plugin_only:
        found = shutil.which("reverie", path=env.get("PATH"))
        launcher = str(Path(found).resolve()) if found else None
    else:
        launcher = str(locations.venv_launcher(venv, platform))
        pip_python = Path(locations.venv_python(venv, platform))
        if not venv.exists():
            steps.append(Step(f"create the server's Python environment {venv}", partial(server_env.create_venv, venv)))
        steps.append(
            Step(
                f"pip install the dream server from {repo} into {venv} (TensorFlow: a few minutes)",
                partial(server_env.pip_install, pip_python, str(repo)),
            )
        )
        if bin_dir is not None:
            link = Path(bin_dir) / "reverie"
            steps.append(Step(f"link {link} → {launcher}", partial(server_env.link_launcher, Path(launcher), link)))
            if not server_env.on_path(Path(bin_dir), env.get("PATH", "")):
                steps.append(Step(f"{bin_dir} is not on your PATH: add it to use 'reverie' in a terminal"))
    config = str(locations.reverie_config(platform, env, home))
    for target in targets(args, platform, env, home):
        plugin_dir = Path(target.plugin_dir)
        steps.append(Step(f"copy the plug-in to {plugin_dir}", partial(plugin_files.copy_plugin, repo, plugin_dir)))
        steps.append(
            Step(
                f"record in {plugin_dir / PLUGIN_SETTINGS_FILE}: launcher {launcher}, config {config}",
                partial(plugin_files.write_settings, plugin_dir, launcher, config),
            )
        )
        command = shlex.split(args.gimp_python) if args.gimp_python else gimp_python.gimp_python_command(target)
        steps.extend(zmq_steps(target, command, pip_python))
    if launcher is None:
        steps.append(
            Step(
                "no 'reverie' command found: the plug-in cannot start a server itself; install the "
                "server (without --plugin-only) or start one with 'reverie start'"
            )
        )
    steps.append(
        Step(
            "next: (re)start GIMP and open Filters ▸ Artistic ▸ Deep Dream…; the plug-in starts the "
            "dream server when none answers (or run 'reverie start' yourself)"
        )
    )
    return steps


def uninstall_steps(args: argparse.Namespace, platform: str, env: Mapping[str, str], home: Path) -> list[Step]:
    """Undo an install: the plug-in folders, and unless --plugin-only the launcher link and the environment."""
    steps = [
        Step(f"remove {t.plugin_dir}", partial(shutil.rmtree, Path(t.plugin_dir)))
        for t in targets(args, platform, env, home)
        if Path(t.plugin_dir).exists()
    ]
    if not args.plugin_only:
        venv = Path(locations.data_dir(platform, env, home)) / "venv"
        bin_dir = locations.bin_dir(platform, home)
        if bin_dir is not None:
            link = Path(bin_dir) / "reverie"
            steps.append(
                Step(
                    f"remove the link {link} if it points into {venv}",
                    partial(server_env.unlink_launcher, link, venv),
                )
            )
        if venv.exists():
            steps.append(Step(f"remove the server's environment {venv}", partial(shutil.rmtree, venv)))
    if not steps:
        steps.append(Step("nothing to remove: Reverie is not installed there"))
    return steps


def main(argv: list[str] | None = None) -> int:
    """Plan, print and perform; an OS or pip failure is one line on stderr and exit status 1."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    home, env = Path.home(), dict(os.environ)
    make = uninstall_steps if args.uninstall else install_steps
    try:
        run_steps(make(args, sys.platform, env, home), args.dry_run)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"install.py: failed: {error}", file=sys.stderr)
        return 1
    print("dry run: nothing was changed" if args.dry_run else "done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
