"""The layering rules of DESIGN.md, checked on the source and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def test_devices_never_imports_biofeedback() -> None:
    for path in _files("devices"):
        assert "biofeedback" not in {_top(n) for n in _imports(path)}, path


def test_only_ble_modules_import_bleak_or_dbus_fast() -> None:
    for package in ("devices", "biofeedback"):
        for path in _files(package):
            rel = path.relative_to(REPO).as_posix()
            allowed = rel.startswith(("devices/ble", "devices/fake_bluez/"))
            tops = {_top(n) for n in _imports(path)}
            if not allowed:
                assert not tops & {"bleak", "dbus_fast"}, rel


def test_only_tui_imports_textual_and_only_reports_import_matplotlib() -> None:
    for path in _files("biofeedback") + _files("devices"):
        rel = path.relative_to(REPO).as_posix()
        tops = {_top(n) for n in _imports(path)}
        if not rel.startswith("biofeedback/tui/"):
            assert "textual" not in tops, rel
        if not rel.startswith("biofeedback/analysis/report"):
            assert "matplotlib" not in tops, rel


def test_hrv_is_pure() -> None:
    allowed = {"numpy", "scipy", "biofeedback", "__future__"} | set(sys.stdlib_module_names)
    forbidden_stdlib = {"asyncio", "logging", "sqlite3", "socket", "subprocess"}
    for path in _files("biofeedback/hrv"):
        tops = {_top(n) for n in _imports(path)}
        assert tops <= allowed, (path, tops - allowed)
        assert not tops & forbidden_stdlib, (path, tops & forbidden_stdlib)
        for name in _imports(path):
            if name.startswith("biofeedback."):
                assert name.startswith("biofeedback.hrv"), (path, name)


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("biofeedback.hrv", ["textual", "bleak", "dbus_fast", "asyncio", "matplotlib"]),
        ("devices.heart_rate", ["biofeedback", "textual", "bleak", "numpy"]),
        ("devices.timeline", ["biofeedback", "textual", "bleak"]),
        ("biofeedback.cli.main", ["textual", "bleak", "numpy", "scipy"]),
    ],
)
def test_headless_core_loads_without_ui_or_radio(module: str, must_not_load: list[str]) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        f"print(','.join(m for m in {must_not_load!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "", f"{module} loaded {out.stdout.strip()}"
