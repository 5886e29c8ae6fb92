"""The layering of DESIGN.md: import-linter contracts over the whole graph, kept honest.

The contracts live in pyproject.toml ([tool.importlinter]) and run as ``lint-imports`` in
``make test``; here they run once more so that plain ``pytest`` fails on a forbidden import too.
What the contracts cannot say is checked beside them: that their file allow-lists match the
tree (every ``devices/ble*`` module, every ``analysis/report*`` module, nothing else), that
``hrv`` imports nothing outside numpy, scipy and the standard library, and that the headless
core does not *load* the UI or the radio (a lazy import is an import to the linter, not a load).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return {c["name"]: c for c in contracts}


def _contract(word: str) -> dict[str, Any]:
    (found,) = [c for name, c in _contracts().items() if word in name]
    return found


def _modules(prefix: str) -> set[str]:
    """Modules (``a.b``) whose path under the repository starts with ``prefix``; a package
    (a directory with ``__init__.py``) counts once, by its own name."""
    folder, stem = (REPO / prefix).parent, (REPO / prefix).name
    names: set[str] = set()
    for path in folder.iterdir():
        if not path.name.startswith(stem) or path.name.startswith("__"):
            continue
        if path.suffix == ".py":
            names.add(".".join(path.relative_to(REPO).with_suffix("").parts))
        elif (path / "__init__.py").exists():
            names.add(".".join(path.relative_to(REPO).parts))
    return names


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_import_contracts_are_kept() -> None:
    out = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_the_contracts_cover_the_design() -> None:
    contracts = _contracts()
    layers = _contract("layers")["layers"]
    drawn = {m.strip("() ") for layer in layers for m in layer.split("|")}
    packages = {
        f"biofeedback.{p.name}" if p.is_dir() else f"biofeedback.{p.stem}"
        for p in (REPO / "biofeedback").iterdir()
        if (p.is_dir() and any(p.glob("*.py"))) or (p.suffix == ".py" and p.stem[0] != "_")
    }
    assert packages <= drawn, f"not in the layers contract: {sorted(packages - drawn)}"
    assert layers[-1] == "devices"
    assert {"devices never imports biofeedback"} <= set(contracts)


def test_allow_lists_match_the_tree() -> None:
    bleak = _contract("bleak")
    assert set(bleak["allowed_importers"]) == _modules("devices/ble") | {"devices.fake_bluez"}
    matplotlib = _contract("matplotlib")
    assert set(matplotlib["allowed_importers"]) == _modules("biofeedback/analysis/report")
    assert _contract("Textual")["allowed_importers"] == ["biofeedback.tui"]


def test_hrv_imports_only_numpy_scipy_and_the_standard_library() -> None:
    import ast

    allowed = {"numpy", "scipy", "biofeedback", "__future__"} | set(sys.stdlib_module_names)
    for path in sorted((REPO / "biofeedback" / "hrv").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops = {node.module.split(".")[0]}
            else:
                continue
            assert tops <= allowed, (path.name, tops - allowed)


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
