"""The ``reverie`` command: one sub-command per job, each registered by its own module."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from reverie import __version__, framework_output
from reverie.cli import atlas as cli_atlas
from reverie.cli import doctor as cli_doctor
from reverie.cli import dream as cli_dream
from reverie.cli import frames as cli_frames
from reverie.cli import server as cli_server
from reverie.cli import zoom as cli_zoom
from reverie_wire.errors import ReverieError

# Commands that keep the frameworks' start-up lines themselves: the server, in its log at DEBUG.
OWN_OUTPUT = frozenset({"serve"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reverie", description="DeepDream for GIMP 3: dream server, daemon and command line."
    )
    parser.add_argument("--version", action="version", version=f"reverie {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_dream.register(commands)
    cli_zoom.register(commands)
    cli_frames.register(commands)
    cli_server.register(commands)
    cli_doctor.register(commands)
    cli_atlas.register(commands)
    for name, command in commands.choices.items():
        if name not in OWN_OUTPUT:
            command.add_argument(
                "--verbose", action="store_true", help="show TensorFlow's, XLA's and absl's own start-up lines too"
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; a ReverieError becomes one clear line on stderr and exit status 1."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not for artists
    args = build_parser().parse_args(argv)
    quiet = not getattr(args, "verbose", True)
    try:
        with framework_output.kept_from_terminal() if quiet else contextlib.nullcontext():
            return int(args.func(args) or 0)
    except ReverieError as error:
        print(f"reverie: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reverie: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went first (`reverie status | head`): nothing left to tell it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit fails no more
        return 141  # as a shell reports a command ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
