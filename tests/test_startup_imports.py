"""What a command imports before it answers (issue 13, item 2): modules, never timings.

``--help`` needs neither numpy nor scipy; ``analyze`` of a short RR file needs numpy and
scipy.linalg (the spline and the detrending) but none of scipy.signal, scipy.stats,
scipy.ndimage, scipy.interpolate, matplotlib or Textual. Each run is a fresh interpreter, so
nothing imported by another test counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REST = REPO / "tests" / "data" / "rhenanbartels_hrv" / "rest_rri.txt"
HEAVY = [
    "scipy.signal",
    "scipy.stats",
    "scipy.ndimage",
    "scipy.interpolate",
    "scipy.optimize",
    "matplotlib",
    "textual",
]


def loaded_after(argv: list[str], watched: list[str]) -> list[str]:
    """Run ``biofeedback ARGV`` in a fresh interpreter; the ``watched`` modules it imported."""
    code = (
        "import contextlib, io, json, sys\n"
        "from biofeedback.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps([m for m in {watched!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


@pytest.fixture(scope="module")
def five_minutes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept: list[str] = []
    total = 0.0
    for value in REST.read_text().split():
        if total + float(value) > 300_000:
            break
        kept.append(value)
        total += float(value)
    path = tmp_path_factory.mktemp("startup") / "five_min_ms.txt"
    path.write_text("\n".join(kept) + "\n")
    return path


def test_help_imports_neither_numpy_nor_scipy() -> None:
    assert loaded_after(["--help"], ["numpy", "scipy", *HEAVY]) == []


def test_analyze_of_five_minutes_imports_only_scipy_linalg(five_minutes: Path) -> None:
    assert loaded_after(["analyze", str(five_minutes)], ["scipy.linalg", *HEAVY]) == [
        "scipy.linalg"
    ]


def test_lomb_scargle_is_where_scipy_signal_comes_in(five_minutes: Path) -> None:
    argv = ["analyze", str(five_minutes), "--method", "lomb"]
    assert "scipy.signal" in loaded_after(argv, ["scipy.signal"])
