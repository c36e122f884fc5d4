"""A server that behaves on a desktop: it exits when idle, and runs on the Keras backend its config names."""

from __future__ import annotations

from pathlib import Path

from server_harness import free_endpoint, image, layout, reverie, start_server, user_env

from reverie_wire.client import Result

IDLE_EXIT = 1.0
# Long enough to outlast IDLE_EXIT on any machine: 1024×768, one octave of 40 steps.
LONG = {"model": "mobilenet", "octaves": 1, "steps": 40, "max_loss": None, "seed": 5}


def test_an_idle_server_exits_by_itself_but_never_during_a_job(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\nidle_exit = "{IDLE_EXIT:g}s"\n')
    server = start_server(tmp_path, "--config", str(config))
    try:
        pixels = image(1024, 768, 3, "u8")
        with server.client() as client:
            result = client.run(pixels.tobytes(), params=LONG, **layout(pixels))
        assert isinstance(result, Result) and result.seconds > IDLE_EXIT, "the job must outlast idle_exit"
        assert server.process.wait(timeout=60) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
    log = server.log.read_text()
    assert "job " in log and " done after " in log
    assert "exiting to free memory ([server] idle_exit)" in log
    assert log.index(" done after ") < log.index("exiting to free memory")


def test_the_configured_backend_is_the_one_a_started_server_runs_on(tmp_path: Path) -> None:
    env = {**user_env(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}  # JAX's compile cache
    env.pop("KERAS_BACKEND", None)
    config = tmp_path / "config" / "reverie" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[server]\nbackend = "jax"\nmodel = "mobilenet"\nweights = "random"\n')
    endpoint = ("--endpoint", free_endpoint())
    started = reverie("start", *endpoint, env=env, timeout=300)
    try:
        assert started.returncode == 0, started
        status = reverie("status", *endpoint, env=env)
        assert " on JAX " in status.stdout, status.stdout
    finally:
        assert reverie("stop", *endpoint, env=env).returncode == 0
