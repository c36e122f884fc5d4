"""``reverie serve | start | stop | status | logs | keys``: the server's command line.

``register`` adds the subcommands to ``reverie``'s parser; ``python -m reverie.cli.server`` runs
them alone (``reverie start`` launches the background server that way, without the other commands'
imports). Handlers return exit codes; ``status`` returns 3 when no server runs, as LSB tools do.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from reverie import keys
from reverie.config import ServerConfig, choose_backend, keys_dir, load_config, parse_duration
from reverie.config_bounds import bounded
from reverie.daemon import control as daemon
from reverie.serving import allocator
from reverie_wire.config import START_TIMEOUT
from reverie_wire.errors import ReverieError
from reverie_wire.keys import client_options


def _config(args: argparse.Namespace) -> ServerConfig:
    """The config file, overridden by whichever flags were given."""
    config = load_config(args.config)
    limits = config.limits
    for name in ("max_pixels", "max_side", "max_queue"):
        value = getattr(args, name, None)
        if value is not None:
            limits = dataclasses.replace(limits, **{name: bounded(name, value, f"--{name.replace('_', '-')}:")})
    config = config.replace(
        endpoint=args.endpoint,
        model=getattr(args, "model", None),
        weights=getattr(args, "weights", None),
        limits=limits,
    )
    cluster = getattr(args, "cluster", None)
    if cluster is not None:
        from reverie.cluster.settings import parse_address

        config = dataclasses.replace(config, cluster=parse_address(cluster))
    idle_exit = getattr(args, "idle_exit", None)
    if idle_exit is not None:  # "off" (None) must override the file too
        config = dataclasses.replace(config, idle_exit=parse_duration(idle_exit))
    return config


_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _log_to(args: argparse.Namespace, config: ServerConfig) -> None:
    """Log to stderr, or (a background server) to a rotated file that also takes stdout and stderr.

    Either way the records have a descriptor of their own, so the worker can hold what the frameworks write to
    descriptor 2 as they start (``reverie.framework_output``) and log it at DEBUG."""
    if args.log_file is None:
        own = os.dup(sys.stderr.fileno())
        stream = open(own, "w", buffering=1, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 (for good)
        logging.basicConfig(level=args.log_level, stream=stream, format=_LOG_FORMAT)
        return
    from reverie.daemon.logfiles import OutputRotatingHandler

    handler = OutputRotatingHandler(Path(args.log_file), config.log_max_mb * 1024 * 1024, config.log_backups)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    logging.basicConfig(level=args.log_level, handlers=[handler])


def _serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's later chatter stays out of the log
    config = _config(args)
    _log_to(args, config)
    arenas = allocator.cap_arenas()  # before TensorFlow and libzmq start their threads
    logging.getLogger(__name__).debug("malloc arenas: %s", arenas or "left to the C library or MALLOC_ARENA_MAX")
    choose_backend(config)
    from reverie import framework_output

    with framework_output.logged(logging.getLogger("reverie.frameworks")):  # TensorFlow's start-up lines: DEBUG
        from reverie.serving.server import DreamServer  # imports TensorFlow: only the server pays for it

    if config.cluster is not None:
        from reverie.cluster.launch import serving  # imports Ray: only a cluster's front pays for it

        server: DreamServer = serving(config)
    else:
        server = DreamServer(config)
    server.bind()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: server.stop())
    pid_file = Path(args.pid_file) if args.pid_file else None
    if pid_file is not None:
        daemon.write_pid(pid_file, os.getpid(), os.environ.get(daemon.TOKEN_VARIABLE))
    try:
        code = server.serve()
    finally:
        if pid_file is not None:
            daemon.remove_pid(pid_file, os.getpid())
    if not server.worker_alive:  # else stuck in a long gradient step: do not wait for it
        server.close_context()
    # Nothing is left to do, and the interpreter's own teardown of TensorFlow and the model took 11 s on a busy
    # 2-core machine, which `reverie stop` would wait for: leave at once.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _serve_args(args: argparse.Namespace) -> list[str]:
    """The flags ``start`` passes on to the background ``serve``."""
    passed = []
    for flag in ("config", "model", "weights", "idle_exit", "max_pixels", "max_side", "max_queue", "cluster"):
        value = getattr(args, flag)
        if value is not None:
            passed += [f"--{flag.replace('_', '-')}", str(value)]
    return passed


def _start(args: argparse.Namespace) -> int:
    config = _config(args)
    return daemon.start(
        config.endpoint, _serve_args(args), client_options(config.keys), sys.stdout, timeout=args.timeout
    )


def _stop(args: argparse.Namespace) -> int:
    config = _config(args)
    return daemon.stop(config.endpoint, client_options(config.keys), sys.stdout)


def _status(args: argparse.Namespace) -> int:
    config = _config(args)
    code, facts = daemon.status(config.endpoint, client_options(config.keys), sys.stdout)
    if facts is not None:
        print(json.dumps(facts, indent=2) if args.json else daemon.describe(facts))
    return code


def _logs(args: argparse.Namespace) -> int:
    return daemon.logs(_config(args).endpoint, args.lines, args.follow, sys.stdout)


def _keys(args: argparse.Namespace) -> int:
    directory = Path(args.dir).expanduser() if args.dir else keys_dir()
    made = keys.generate(directory, force=args.force)
    print(
        f"made CURVE keys in {directory}:\n"
        f"  server: {made.server_secret} (secret, stays on the server),\n"
        f"          {made.server_public} (public, give to clients)\n"
        f"  client: {made.client_secret} (secret), already authorized in {made.authorized_clients}\n"
        "Add this to the config file (reverie's config.toml) on the server and, with the client files "
        f"copied, on each client:\n\n{keys.config_snippet(made)}"
    )
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="ZeroMQ endpoint (default from the config, else tcp://127.0.0.1:5555)")
    parser.add_argument("--config", type=Path, help="TOML config file (default: the user config dir's config.toml)")


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model to keep loaded (default inception_v3)")
    parser.add_argument("--weights", help="'imagenet' (default), 'random', or an .h5 weights file")
    parser.add_argument("--idle-exit", help="exit after this long without requests, e.g. 30m ('off': never)")
    parser.add_argument("--max-pixels", type=int, help="largest image accepted, in pixels")
    parser.add_argument("--max-side", type=int, help="largest width or height accepted")
    parser.add_argument("--max-queue", type=int, help="jobs that may wait; beyond it clients are told 'busy'")
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="dream on a Ray cluster's dreamers: its address ('auto', HOST:PORT, ray://HOST:PORT), or local:N "
        "to start one here with N dreamers (needs reverie[cluster]; docs/cluster.md)",
    )


def _log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the server's subcommands to ``reverie``'s parser."""
    serve = subparsers.add_parser("serve", help="run the dream server in the foreground (systemd, containers)")
    _common(serve)
    _server_options(serve)
    _log_level(serve)
    serve.add_argument("--pid-file", help=argparse.SUPPRESS)
    serve.add_argument("--log-file", help=argparse.SUPPRESS)  # a background server's rotated log
    serve.set_defaults(func=_serve)

    start = subparsers.add_parser("start", help="start the dream server in the background")
    _common(start)
    _server_options(start)
    start.add_argument("--timeout", type=float, default=START_TIMEOUT, help="seconds to wait for the model to load")
    start.set_defaults(func=_start)

    stop = subparsers.add_parser("stop", help="stop the background dream server")
    _common(stop)
    stop.set_defaults(func=_stop)

    status = subparsers.add_parser("status", help="is a dream server running, and what is it doing")
    _common(status)
    status.add_argument("--json", action="store_true", help="print the server's facts as JSON")
    status.set_defaults(func=_status)

    logs = subparsers.add_parser("logs", help="show the background dream server's log")
    _common(logs)
    logs.add_argument("-n", "--lines", type=int, default=50, help="how many lines from the end")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(func=_logs)

    keys_parser = subparsers.add_parser("keys", help="make CURVE keys for a server that faces the network")
    keys_parser.add_argument("--dir", help="where to put them (default: the config dir's keys/)")
    keys_parser.add_argument("--force", action="store_true", help="replace existing keys")
    keys_parser.set_defaults(func=_keys)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one server subcommand; a ReverieError is one line on stderr and exit status 1, as in ``reverie``."""
    parser = argparse.ArgumentParser(prog="reverie")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReverieError as error:
        print(f"reverie: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
