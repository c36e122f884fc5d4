"""Local trust (hardening rows 8 and 10): ``reverie start/stop`` act only on this user's Reverie server, a second
server never takes over an ipc:// endpoint, and pid, log and key files are private without changing folders
that were there before."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from scripted_server import ScriptedServer
from server_harness import MODEL_ARGS, TINY, free_endpoint, image, layout, reverie, start_server, user_env
from test_server_daemon import pid_file
from test_server_hardening import one_row_short

from reverie.daemon.control import read_pid
from reverie_wire.client import DreamClient, Result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stop_never_signals_a_process_a_pid_file_names_unless_it_is_our_server(tmp_path: Path) -> None:
    env, endpoint = user_env(tmp_path), free_endpoint()
    bystander = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        planted = pid_file(tmp_path, endpoint)
        planted.parent.mkdir(parents=True)
        planted.write_text(f"{bystander.pid}\n")
        stopped = reverie("stop", "--endpoint", endpoint, env=env)
        assert "not a Reverie server of yours" in stopped.stdout, stopped
        assert bystander.poll() is None, "the process the pid file named must not have been signalled"
        assert not planted.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_start_refuses_an_endpoint_something_else_answers_and_stop_leaves_it_alone(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    impostor = ScriptedServer(one_row_short)  # answers hello like a server, with a pid that is not a Reverie server's
    try:
        started = reverie("start", "--endpoint", impostor.endpoint, *MODEL_ARGS, env=env)
        assert started.returncode == 1, started
        assert "something else answers" in started.stdout and "nothing was started" in started.stdout
        stopped = reverie("stop", "--endpoint", impostor.endpoint, env=env)
        assert stopped.returncode == 1 and "nothing was stopped" in stopped.stdout, stopped
    finally:
        impostor.close()


def test_a_second_server_on_an_ipc_endpoint_refuses_instead_of_taking_it_over(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/dream.sock"
    first = start_server(tmp_path / "first", endpoint=endpoint)
    try:
        second = start_server(tmp_path / "second", endpoint=endpoint, wait=False)
        assert second.process.wait(120) == 1
        assert "another process listens on" in second.log.read_text()
        pixels = image(96, 96, 3, "u8")
        with DreamClient(endpoint, timeout=30) as client:
            assert client.hello()["pid"] == first.process.pid
            assert isinstance(client.run(pixels.tobytes(), params=TINY, **layout(pixels)), Result)
    finally:
        assert first.stop() == 0
    again = start_server(tmp_path / "again", endpoint=endpoint)  # the socket file of a stopped server is reusable
    assert again.stop() == 0


def test_pid_and_log_files_are_private_and_the_pid_file_carries_a_token(tmp_path: Path) -> None:
    env, endpoint = user_env(tmp_path), free_endpoint()
    started = reverie("start", "--endpoint", endpoint, *MODEL_ARGS, env=env)
    assert started.returncode == 0, started
    pid_path = pid_file(tmp_path, endpoint)
    try:
        assert mode(pid_path) == 0o600 and mode(pid_path.parent) == 0o700
        assert len(pid_path.read_text().split()) == 2, "pid and token"
        logs = list((tmp_path / "state" / "reverie" / "log").glob("*.log"))
        assert logs and all(mode(log) == 0o600 for log in logs) and mode(logs[0].parent) == 0o700
    finally:
        pid = read_pid(pid_path)
        stopped = reverie("stop", "--endpoint", endpoint, env=env)
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout, stopped


def test_keys_keep_an_existing_folders_mode_and_a_readable_secret_is_refused(tmp_path: Path) -> None:
    env, folder = user_env(tmp_path), tmp_path / "shared-keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    made = reverie("keys", "--dir", str(folder), env=env)
    assert made.returncode == 0, made
    assert mode(folder) == 0o755, "an existing folder keeps its mode"
    secret = folder / "server.key_secret"
    assert mode(secret) == 0o600 and mode(folder / "client.key_secret") == 0o600
    config = tmp_path / "config.toml"
    config.write_text(f'[keys]\nserver_secret = "{secret}"\nauthorized_clients = "{folder / "authorized_clients"}"\n')
    secret.chmod(0o644)
    refused = reverie("serve", "--config", str(config), "--endpoint", free_endpoint(), *MODEL_ARGS, env=env)
    assert refused.returncode == 1 and "can be read by other users" in refused.stderr, refused
    assert "Traceback" not in refused.stderr
    fresh = tmp_path / "new-keys"
    assert reverie("keys", "--dir", str(fresh), env=env).returncode == 0
    assert mode(fresh) == 0o700
