"""The dialog's "Copy as command": the line parses with the real ``reverie dream`` options into the very
params the plug-in sends."""

from __future__ import annotations

import argparse
import shlex

from reverie.cli.dream import params_from_args, register
from reverie_plugin.arguments import dream_params
from reverie_plugin.command_line import dream_command

VALUES = {
    "model": "mobilenet",
    "preset": "deep",
    "layers": "conv_pw_5=1, conv_pw_9=1.5, conv_pw_7:3,8",
    "octaves": 4,
    "octave-scale": 1.3,
    "steps": 17,
    "step-size": 0.015,
    "jitter": 20,
    "normalization": "laplacian",
    "lap-levels": 5,
    "keep-colors": True,
    "pattern-size": "medium",
}


def parsed(line: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="reverie")
    register(parser.add_subparsers())
    words = shlex.split(line)
    assert words[0] == "reverie"
    return parser.parse_args(words[1:])


def test_the_command_dreams_with_every_setting_and_the_seed() -> None:
    params = dream_params(VALUES, 1234)
    line = dream_command(
        params, "tcp://127.0.0.1:5555", "my photo.png", "dream.png", guide="guide.png", strength="strength.png"
    )
    args = parsed(line)
    assert (args.input, args.output, args.server, args.guide, args.strength) == (
        ["my photo.png"],
        "dream.png",
        "tcp://127.0.0.1:5555",
        "guide.png",
        "strength.png",
    )
    cli = params_from_args(args, "mobilenet")
    assert cli.model == "mobilenet" and cli.preset == "deep" and cli.seed == 1234
    assert dict(cli.layers) == {"conv_pw_5": 1.0, "conv_pw_9": 1.5, "conv_pw_7": 1.0}
    assert {name: list(channels) for name, channels in cli.channels} == {"conv_pw_7": [3, 8]}
    assert (cli.octaves, cli.octave_scale, cli.steps, cli.step_size) == (4, 1.3, 17, 0.015)
    assert (cli.jitter, cli.normalization, cli.lap_levels, cli.keep_colors) == (20, "laplacian", 5, True)
    assert cli.pattern_size == "medium"


def test_the_servers_model_and_the_preset_leave_out_what_the_server_decides() -> None:
    params = dream_params({**VALUES, "model": "server", "layers": "", "keep-colors": False}, 7)
    line = dream_command(params, "tcp://10.0.0.2:5555", "in.png", "out.png")
    assert "--model" not in line and "--layers" not in line and "--keep-colors" not in line
    assert "--guide" not in line and "--strength" not in line and line.endswith("--seed 7")
    args = parsed(line)
    assert args.model is None and args.layers is None and args.seed == 7
