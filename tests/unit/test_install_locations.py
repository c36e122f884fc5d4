"""Where the installer puts things on each platform (computed, so every platform is testable here)."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from reverie_install import gimp_python, locations
from reverie_install.locations import GimpTarget

HOME = PurePosixPath("/home/ada")


def test_linux_native_and_flatpak_config_dirs() -> None:
    native, flatpak = locations.gimp_config_dirs("linux", {}, HOME)
    assert native == GimpTarget(HOME / ".config/GIMP/3.0")
    assert flatpak == GimpTarget(HOME / ".var/app/org.gimp.GIMP/config/GIMP/3.0", flatpak=True)
    assert native.plugin_dir == HOME / ".config/GIMP/3.0/plug-ins/reverie-dream"


def test_xdg_config_home_is_respected() -> None:
    native = locations.gimp_config_dirs("linux", {"XDG_CONFIG_HOME": "/cfg"}, HOME)[0]
    assert native.config_dir == PurePosixPath("/cfg/GIMP/3.0")
    assert locations.reverie_config("linux", {"XDG_CONFIG_HOME": "/cfg"}, HOME) == PurePosixPath(
        "/cfg/reverie/config.toml"
    )


def test_macos_and_windows_config_dirs() -> None:
    assert locations.gimp_config_dirs("darwin", {}, HOME) == [GimpTarget(HOME / "Library/Application Support/GIMP/3.0")]
    home = PureWindowsPath("C:/Users/ada")
    env = {"APPDATA": "C:/Users/ada/AppData/Roaming", "LOCALAPPDATA": "C:/Users/ada/AppData/Local"}
    assert locations.gimp_config_dirs("win32", env, home) == [
        GimpTarget(PureWindowsPath("C:/Users/ada/AppData/Roaming/GIMP/3.0"))
    ]
    assert locations.data_dir("win32", env, home) == PureWindowsPath("C:/Users/ada/AppData/Local/reverie")
    assert locations.venv_launcher(PureWindowsPath("C:/v"), "win32") == PureWindowsPath("C:/v/Scripts/reverie.exe")
    assert locations.bin_dir("win32", home) is None


def test_existing_gimp_folders_are_chosen_else_the_usual_one() -> None:
    native, flatpak = locations.gimp_config_dirs("linux", {}, HOME)
    assert locations.choose_targets([native, flatpak], {flatpak.config_dir}) == [flatpak]
    assert locations.choose_targets([native, flatpak], {native.config_dir, flatpak.config_dir}) == [native, flatpak]
    assert locations.choose_targets([native, flatpak], set()) == [native]


def test_server_environment_and_launcher_on_linux() -> None:
    venv = locations.data_dir("linux", {}, HOME) / "venv"
    assert venv == HOME / ".local/share/reverie/venv"
    assert locations.venv_launcher(venv, "linux") == venv / "bin/reverie"
    assert locations.venv_python(venv, "linux") == venv / "bin/python"
    assert locations.bin_dir("linux", HOME) == HOME / ".local/bin"


def test_interpreter_files_name_the_bundled_python() -> None:
    text = "# comment\npython=C:\\GIMP\\bin\\python.exe\npython3=C:\\GIMP\\bin\\python3.exe\n:Python:E::py::python3:\n"
    assert gimp_python.interp_python(text) == "C:\\GIMP\\bin\\python3.exe"
    assert gimp_python.interp_python("# nothing\n") is None


def test_wheel_platform_tags() -> None:
    assert gimp_python.wheel_platform("linux-x86_64") == "manylinux2014_x86_64"
    assert gimp_python.wheel_platform("win-amd64") == "win_amd64"
    assert gimp_python.wheel_platform("macosx-11.0-arm64") == "macosx_11_0_arm64"


def test_flatpak_gimp_python_runs_inside_the_sandbox(monkeypatch) -> None:
    monkeypatch.setattr(gimp_python.shutil, "which", lambda name: "/usr/bin/flatpak")
    target = GimpTarget(HOME / ".var/app/org.gimp.GIMP/config/GIMP/3.0", flatpak=True)
    assert gimp_python.gimp_python_command(target) == ["flatpak", "run", "--command=python3", "org.gimp.GIMP"]
