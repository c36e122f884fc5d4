"""How ``reverie serve``/``start`` combine flags, the environment and the config file for the desktop settings."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from reverie.cli.server import _config, register
from reverie.config import ServerConfig, choose_backend
from reverie_wire.errors import ConfigError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_the_config_backend_applies_unless_keras_backend_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    environment: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environment)  # this process's own must not change: Keras reads it
    choose_backend(ServerConfig())
    assert environment == {}
    choose_backend(ServerConfig(backend="jax"))
    assert environment == {"KERAS_BACKEND": "jax"}
    environment["KERAS_BACKEND"] = "tensorflow"
    choose_backend(ServerConfig(backend="jax"))
    assert environment == {"KERAS_BACKEND": "tensorflow"}


def test_idle_exit_flag_overrides_the_file_even_to_switch_it_off(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nidle_exit = "30m"\n')
    assert _config(parse("serve", "--config", str(config))).idle_exit == 1800.0
    assert _config(parse("serve", "--config", str(config), "--idle-exit", "5s")).idle_exit == 5.0
    assert _config(parse("start", "--config", str(config), "--idle-exit", "off")).idle_exit is None


def test_limit_flags_are_bounded_like_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    assert _config(parse("serve", "--config", str(config), "--max-pixels", "1000")).limits.max_pixels == 1000
    with pytest.raises(ConfigError, match="--max-pixels: max_pixels must be a whole number from 1 to 268,435,456"):
        _config(parse("serve", "--config", str(config), "--max-pixels", str(2**63 - 1)))
