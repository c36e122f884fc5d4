"""``reverie doctor``'s checks, each with the world it looks at faked (versions, devices, a server's facts,
GIMP's folders); GIMP's Python and nvidia-smi are stood in for by real programs."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from reverie.cli.doctor import report
from reverie.config import ServerConfig
from reverie.doctor import checks as doctor_checks
from reverie.doctor.checks import Check, GimpSetup
from reverie_wire.protocol import PROTOCOL_VERSION

FACTS: dict[str, Any] = {
    "version": "0.1.0",
    "protocol": PROTOCOL_VERSION,
    "state": "ready",
    "phase": None,
    "model": "mobilenet",
    "weights": "random",
    "device": "CPU",
    "keras": "3.15.1",
    "backend": "tensorflow",
}


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "keras" / "models").mkdir(parents=True)
    return tmp_path / "keras" / "models"


def test_packages_present_and_missing() -> None:
    versions = {"keras": "3.15.1", "tensorflow": "2.21.0"}
    good = doctor_checks.package_check("tensorflow", versions.get)
    assert good.ok and "keras 3.15.1, tensorflow 2.21.0" in good.text
    missing = doctor_checks.package_check("jax", versions.get)
    assert not missing.ok and missing.blocking and "jax missing" in missing.text and "pip install jax" in missing.fix


def test_a_gpu_the_backend_cannot_use_is_reported_with_the_fix() -> None:
    found = doctor_checks.device_check("jax", ("cpu", "CPU"), ["NVIDIA H100 80GB HBM3"])
    assert not found.ok and not found.blocking
    assert "this machine has NVIDIA H100 80GB HBM3" in found.text and "jax[cuda12]" in found.fix
    tensorflow = doctor_checks.device_check("tensorflow", ("cpu", "CPU"), ["NVIDIA H100 80GB HBM3"])
    assert not tensorflow.ok and 'backend = "jax"' in tensorflow.fix


def test_devices_that_are_right() -> None:
    assert doctor_checks.device_check("jax", ("gpu", "NVIDIA H200"), ["NVIDIA H200"]) == Check(
        True, "Keras backend JAX on NVIDIA H200"
    )
    assert doctor_checks.device_check("tensorflow", ("cpu", "CPU"), []).ok


def test_jax_on_a_cpu_is_advised_against_and_a_backend_that_fails_blocks() -> None:
    slow = doctor_checks.device_check("jax", ("cpu", "CPU"), [])
    assert not slow.ok and not slow.blocking and 'backend = "tensorflow"' in slow.fix
    broken = doctor_checks.device_check("jax", ImportError("No module named 'jax'"), [])
    assert not broken.ok and broken.blocking and "No module named 'jax'" in broken.text


def test_weights_random_file_and_missing_file(tmp_path: Path) -> None:
    assert doctor_checks.weights_check(ServerConfig(weights="random")).ok
    file = tmp_path / "mine.h5"
    file.write_bytes(bytes(2_000_000))
    assert doctor_checks.weights_check(ServerConfig(weights=str(file))) == Check(
        True, f"inception_v3 weights: {file} (2.0 MB)"
    )
    missing = doctor_checks.weights_check(ServerConfig(weights=str(tmp_path / "gone.h5")))
    assert not missing.ok and missing.blocking and "does not exist" in missing.text
    unknown = doctor_checks.weights_check(ServerConfig(model="vgg"))
    assert not unknown.ok and unknown.blocking and "unknown model 'vgg'" in unknown.text


def test_imagenet_weights_cached_partial_bundled_or_to_download(keras_home: Path) -> None:
    inception = ServerConfig(model="inception_v3")
    to_download = doctor_checks.weights_check(inception)
    assert not to_download.ok and not to_download.blocking
    assert "downloads 87.9 MB" in to_download.text and "`reverie start --model mobilenet`" in to_download.fix
    cached = keras_home / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    cached.write_bytes(bytes(1000))
    partial = doctor_checks.weights_check(inception)
    assert not partial.ok and "holds 0.0 MB of 87.9 MB" in partial.text and "delete it" in partial.fix
    with open(cached, "r+b") as file:
        file.truncate(87_910_968)
    assert doctor_checks.weights_check(inception) == Check(
        True, f"inception_v3 weights: ImageNet, in Keras' cache: {cached} (87.9 MB)"
    )
    bundled = doctor_checks.weights_check(ServerConfig(model="mobilenet"))
    assert bundled.ok and "shipped with Reverie" in bundled.text and "mobilenet_2_5_224_tf_no_top.h5" in bundled.text


def test_endpoint_answers_what_and_mismatches() -> None:
    config = ServerConfig(endpoint="tcp://127.0.0.1:5555", model="mobilenet", weights="random")
    good = doctor_checks.endpoint_check(config, FACTS)
    assert good.ok and good.text == (
        "server at tcp://127.0.0.1:5555: reverie 0.1.0, protocol 1, mobilenet with random weights on CPU, "
        "Keras 3.15.1 on TensorFlow; ready"
    )
    loading = doctor_checks.endpoint_check(config, {**FACTS, "state": "loading", "phase": "warming up (compiling)"})
    assert loading.ok and loading.text.endswith("; loading (warming up (compiling))")
    other = doctor_checks.endpoint_check(config, {**FACTS, "model": "inception_v3", "weights": "imagenet"})
    assert not other.ok and not other.blocking and "asks for mobilenet with random weights" in other.text
    newer = doctor_checks.endpoint_check(config, {**FACTS, "protocol": PROTOCOL_VERSION + 1})
    assert not newer.ok and newer.blocking
    refused = doctor_checks.endpoint_check(config, RuntimeError("the server refused our key"))
    assert not refused.ok and refused.blocking and "refused our key" in refused.text
    nobody = doctor_checks.endpoint_check(config, None)
    assert not nobody.ok and not nobody.blocking and "`reverie start`" in nobody.fix


def test_without_gimp_only_the_plugin_is_missing() -> None:
    (absent,) = doctor_checks.gimp_checks(GimpSetup(None, False, None, None))
    assert not absent.ok and not absent.blocking and "GIMP 3 not found" in absent.text
    (unopened,) = doctor_checks.gimp_checks(GimpSetup(None, True, None, None))
    assert not unopened.ok and not unopened.blocking and "start GIMP 3 once" in unopened.fix


def test_a_plugin_folder_without_gimp_does_not_block(tmp_path: Path) -> None:
    """The installer makes GIMP's user folder even before GIMP is installed: the command line still dreams."""
    _, gimp, _ = doctor_checks.gimp_checks(GimpSetup(tmp_path, False, None, None))
    assert not gimp.ok and not gimp.blocking and "GIMP 3 not found" in gimp.text


def install_plugin(config_dir: Path, protocol: int, launcher: Path | None) -> Path:
    plugin = config_dir / "plug-ins" / "reverie-dream"
    (plugin / "reverie_wire").mkdir(parents=True)
    (plugin / "reverie-dream.py").write_text("#!/usr/bin/env python3\n")
    (plugin / "reverie_wire" / "protocol.py").write_text(f'"""The protocol."""\n\nPROTOCOL_VERSION = {protocol}\n')
    (plugin / "reverie-dream.json").write_text(json.dumps({"launcher": launcher and str(launcher), "config": None}))
    return plugin


def test_gimp_with_a_working_pyzmq_and_the_plugin_installed(tmp_path: Path) -> None:
    plugin = install_plugin(tmp_path, PROTOCOL_VERSION, Path(sys.executable))
    zmq = {"python": "3.13", "zmq": "26.2.0", "from": str(plugin / "zmq" / "__init__.py")}
    folder, python, installed = doctor_checks.gimp_checks(GimpSetup(tmp_path, True, ["/usr/bin/python3"], zmq))
    assert folder == Check(True, f"GIMP 3 user folder: {tmp_path}")
    assert python == Check(True, "GIMP's Python 3.13 (/usr/bin/python3): pyzmq 26.2.0, beside the plug-in")
    assert installed.ok and f"protocol {PROTOCOL_VERSION}, starts servers with {sys.executable}" in installed.text


def test_gimp_without_pyzmq_or_with_an_old_plugin_blocks(tmp_path: Path) -> None:
    install_plugin(tmp_path, PROTOCOL_VERSION - 1, None)
    _, python, plugin = doctor_checks.gimp_checks(
        GimpSetup(tmp_path, True, ["/usr/bin/python3"], "ModuleNotFoundError: No module named 'zmq'")
    )
    assert not python.ok and python.blocking and "--plugin-only" in python.fix
    assert not plugin.ok and plugin.blocking and f"protocol {PROTOCOL_VERSION - 1}" in plugin.text
    _, missing_python, _ = doctor_checks.gimp_checks(GimpSetup(tmp_path, True, None, None))
    assert not missing_python.ok and missing_python.blocking


def test_a_plugin_missing_or_without_a_launcher(tmp_path: Path) -> None:
    missing = doctor_checks.plugin_check(tmp_path / "plug-ins" / "reverie-dream")
    assert not missing.ok and missing.blocking and "not installed" in missing.text
    plugin = install_plugin(tmp_path, PROTOCOL_VERSION, tmp_path / "gone" / "reverie")
    no_launcher = doctor_checks.plugin_check(plugin)
    assert not no_launcher.ok and not no_launcher.blocking and "`reverie start`" in no_launcher.fix


def test_the_zmq_probe_runs_a_real_python_with_and_without_pyzmq(tmp_path: Path) -> None:
    found = doctor_checks.probe_gimp_zmq([sys.executable], tmp_path)
    assert isinstance(found, dict) and found["zmq"]
    assert found["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    isolated = doctor_checks.probe_gimp_zmq([sys.executable, "-I", "-S"], tmp_path)  # no site-packages
    assert isolated == "ModuleNotFoundError: No module named 'zmq'"


def test_nvidia_smi_listing_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert doctor_checks.nvidia_gpus() == ["NVIDIA H100 80GB HBM3"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert doctor_checks.nvidia_gpus() == []


def test_the_report_exits_non_zero_only_when_a_dream_is_blocked() -> None:
    out = io.StringIO()
    assert report([Check(True, "fine"), Check(False, "slow", "do this")], out) == 0
    assert out.getvalue().splitlines() == [
        "✓ fine",
        "✗ slow",
        "    fix: do this",
        "1 problem(s), 0 of them blocking a dream",
    ]
    assert report([Check(False, "broken", "fix it", blocking=True)], io.StringIO()) == 1
    all_good = io.StringIO()
    assert report([Check(True, "fine")], all_good) == 0 and "everything a dream needs" in all_good.getvalue()
