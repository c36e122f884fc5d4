"""The server's TOML config and its user-dir paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reverie import config, config_bounds
from reverie_wire.errors import ConfigError
from reverie_wire.protocol import DEFAULT_ENDPOINT, Limits


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def test_no_file_means_defaults() -> None:
    loaded = config.load_config()
    assert loaded == config.ServerConfig()
    assert loaded.endpoint == DEFAULT_ENDPOINT and loaded.model == "inception_v3"


def test_paths_follow_xdg(user_dirs: Path) -> None:
    assert config.config_path() == user_dirs / "config" / "reverie" / "config.toml"
    assert config.pid_path("tcp://127.0.0.1:5555").parent == user_dirs / "state" / "reverie"
    assert config.log_path("tcp://127.0.0.1:5555").is_relative_to(user_dirs / "state" / "reverie")


def test_each_endpoint_has_its_own_pid_and_log_file() -> None:
    assert config.pid_path("tcp://127.0.0.1:5555") != config.pid_path("tcp://127.0.0.1:5556")
    assert "/" not in config.pid_path("ipc:///tmp/a/b").name
    assert config.log_path("tcp://127.0.0.1:5555").name == "server-tcp-127.0.0.1-5555.log"


def test_the_user_config_file_is_read() -> None:
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        '[server]\nendpoint = "ipc:///tmp/r.sock"\nmodel = "mobilenet"\nweights = "random"\n'
        "[limits]\nmax_pixels = 1000\nmax_queue = 2\n"
        '[keys]\nserver_secret = "~/k/server.key_secret"\n'
    )
    loaded = config.load_config()
    assert loaded.endpoint == "ipc:///tmp/r.sock" and loaded.weights == "random"
    assert loaded.limits == Limits(max_pixels=1000, max_queue=2)
    assert loaded.keys.server_secret == Path("~/k/server.key_secret").expanduser()


def test_warm_up_pictures_are_width_by_height() -> None:
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('[server]\nwarm_up = ["1920x1080", " 1080 × 1920 "]\n')
    assert config.load_config().warm_up == ((1080, 1920), (1920, 1080))
    assert config.ServerConfig().warm_up is None  # unset: the engine's own pictures


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[serverr]\n", "unknown section"),
        ("[server]\nport = 5\n", "unknown setting"),
        ("[limits]\nmax_pixels = -1\n", r"\[limits\] max_pixels must be a whole number from 1 to 268,435,456; got -1"),
        ("[limits]\nmax_pixels = true\n", "max_pixels must be a whole number"),
        ("[server]\nendpoint = 5\n", "non-empty string"),
        ("[keys]\nserver_secret = 1\n", "file path"),
        ("[server\n", "not valid TOML"),
        ("server = 1\n", "must be a table"),
        # the desktop settings say what they expect
        ('[server]\nbackend = "torch"\n', "backend must be one of tensorflow, jax; got 'torch'"),
        ('[server]\nidle_exit = "30"\n', 'idle_exit must be a duration such as "90s"'),
        ('[server]\nidle_exit = "0s"\n', "idle_exit must be a duration"),
        ("[server]\nidle_exit = 30\n", "non-empty string"),
        ("[server]\nlog_max_mb = 0\n", r"\[server\] log_max_mb must be a whole number from 1 to 1,024; got 0"),
        ('[server]\nwarm_up = "1920x1080"\n', r"\[server\] warm_up must be a list of picture sizes such as"),
        ('[server]\nwarm_up = ["1920"]\n', "each side 256 to 16384 pixels; got '1920'"),
        ('[server]\nwarm_up = ["200x1080"]\n', "each side 256 to 16384 pixels; got '200x1080'"),
        ("[server]\nwarm_up = [1920]\n", "warm_up must be a list of picture sizes"),
        # a cluster's settings name the key that is wrong
        ("[cluster]\ndreamers = 2\n", r"\[cluster\] address must be a Ray address"),
        ('[cluster]\naddress = "local:0"\n', r"\[cluster\] .*dreamer count N of at least 1"),
        ('[cluster]\naddress = "auto"\ndreamers = 0\n', r"\[cluster\] dreamers must be a positive whole number"),
        ('[cluster]\naddress = "auto"\ndreamers = 100000\n', r"\[cluster\] dreamers must be .* up to 1,024"),
        ('[cluster]\naddress = "local:5000"\n', r"\[cluster\] .*dreamer count N .* at most 1,024"),
        ('[cluster]\naddress = "auto"\ngpus_per_dreamer = 1e9\n', r"gpus_per_dreamer must be a number from 0 to 1,024"),
        ('[cluster]\naddress = "auto"\ngpus_per_dreamer = -1\n', r"\[cluster\] gpus_per_dreamer must be a number"),
        ('[cluster]\naddress = "auto"\ncpus_per_dreamer = "1"\n', r"\[cluster\] cpus_per_dreamer must be a number"),
        ('[cluster]\naddress = "auto"\nnodes = 2\n', r"unknown setting\(s\) nodes in \[cluster\]"),
        ('[server]\nlog_backups = "3"\n', r"\[server\] log_backups must be a whole number from 1 to 100"),
        # values that crashed the start, failed every job or switched a guard off
        (f"[limits]\nmax_pixels = {2**63 - 1}\n", "max_pixels must be a whole number from 1 to 268,435,456"),
        ("[limits]\nmax_tile_size = 100\n", "max_tile_size must be a whole number from 128 to 4,096; got 100"),
        ("[limits]\nmax_connections = 1000000\n", "max_connections must be a whole number from 1 to 16,384"),
        ("[limits]\nmax_unread_bytes = 1000\n", "max_unread_bytes must be a whole number from 1,048,576"),
    ],
)
def test_mistakes_are_reported_with_the_file_name(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as caught:
        config.load_config(path)
    assert str(path) in str(caught.value)


def test_a_cluster_table_and_the_cluster_flag() -> None:
    from reverie.cluster.settings import ClusterSettings, parse_address

    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('[cluster]\naddress = "auto"\ndreamers = 4\ngpus_per_dreamer = 0.5\n')
    assert config.load_config().cluster == ClusterSettings("auto", 4, 0.5, 1.0)
    assert config.ServerConfig().cluster is None  # dreaming here, on this server's own worker thread
    assert parse_address("local:3") == ClusterSettings("local", 3)
    assert parse_address("ray://head:10001") == ClusterSettings("ray://head:10001")


def test_the_desktop_never_loads_ray() -> None:
    import subprocess
    import sys

    code = "import sys, reverie.cli.main, reverie.serving.server, reverie.config; sys.exit('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_cluster_without_ray_installed_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from reverie.cluster.launch import serving
    from reverie.cluster.settings import parse_address

    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'reverie\[cluster\]'"):
        serving(config.ServerConfig(cluster=parse_address("local:2")))


def test_an_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        config.load_config(tmp_path / "missing.toml")


def test_replace_ignores_unset_flags() -> None:
    base = config.ServerConfig(model="mobilenet")
    assert base.replace(model=None, weights="random") == config.ServerConfig(model="mobilenet", weights="random")


def test_server_settings_for_a_desktop(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nbackend = "jax"\nidle_exit = "30m"\nlog_max_mb = 5\nlog_backups = 2\n')
    loaded = config.load_config(path)
    assert (loaded.backend, loaded.idle_exit, loaded.log_max_mb, loaded.log_backups) == ("jax", 1800.0, 5, 2)
    defaults = config.ServerConfig()
    assert (defaults.backend, defaults.idle_exit, defaults.log_max_mb, defaults.log_backups) == (None, None, 10, 3)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90.0), ("1.5h", 5400.0), ("10 m", 600.0), ("off", None)])
def test_idle_exit_durations(text: str, seconds: float | None) -> None:
    assert config.parse_duration(text) == seconds


def test_dreamers_sharing_a_gpu_keep_to_their_part_under_both_backends() -> None:
    pytest.importorskip("ray", reason="the cluster's dispatcher imports Ray")
    from reverie.cluster.dispatch import sharing_variables

    assert sharing_variables(1.0) == {} and sharing_variables(0.0) == {}
    assert sharing_variables(0.5) == {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.45"}


def test_every_numeric_setting_has_a_range_that_holds_its_default() -> None:
    defaults = {**dataclasses.asdict(Limits()), "log_max_mb": 10, "log_backups": 3}
    assert set(config_bounds.BOUNDS) == set(defaults)
    for name, default in defaults.items():
        low, high = config_bounds.BOUNDS[name]
        assert low <= default <= high, name


@pytest.mark.parametrize("name", sorted(config_bounds.BOUNDS))
def test_each_range_is_enforced_at_both_ends(tmp_path: Path, name: str) -> None:
    low, high = config_bounds.BOUNDS[name]
    table = "server" if name.startswith("log_") else "limits"
    path = tmp_path / "config.toml"
    for value in (low, high):
        path.write_text(f"[{table}]\n{name} = {value}\n")
        config.load_config(path)
    for value in (low - 1, high + 1):
        path.write_text(f"[{table}]\n{name} = {value}\n")
        with pytest.raises(ConfigError, match=f"{name} must be a whole number from {low:,} to {high:,}; got {value}"):
            config.load_config(path)
