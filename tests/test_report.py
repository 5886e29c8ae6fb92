"""HTML reports: self-contained, figures embedded, methods and the medical notice present."""

from __future__ import annotations

import argparse
import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

from biofeedback.analysis.report import INSTALL_HINT
from tests.recording_support import record_simulated

REPO = Path(__file__).resolve().parents[1]
_IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "store.db"
    for seed in (21, 22, 23):
        record_simulated(path, seed=seed)
    return path


def images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in _IMG.findall(html)]


def assert_self_contained(html: str) -> None:
    assert not re.search(r'(?:src|href)="(?!data:)', html)
    assert "<script" not in html
    assert "<link" not in html
    assert "@import" not in html
    assert "Not a medical device" in html


def run_report(db: Path, out: Path, **kw: object) -> str:
    from biofeedback.cli import cmd_report

    ns = argparse.Namespace(**{"id": None, "compare": False, "output": str(out), "db": str(db),
                               **kw})  # fmt: skip
    assert cmd_report.run(ns) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    return out.read_text(encoding="utf-8")


def test_session_report(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    html = run_report(db, tmp_path / "s.html", id=1)
    assert_self_contained(html)
    pngs = images(html)
    assert len(pngs) == 4  # tachogram + trend, block responses, Poincaré, spectrum
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 5000 for p in pngs)
    for text in (
        "Tachogram",
        "Poincaré",
        "Spectrum",
        "Methods and settings",
        "onset_s",
        "detrend_lambda",
        "personal-attention",
        "Benjamini",
    ):
        assert text in html, text  # fmt: skip
    # the blocks drawn are show --json's (and the dashboard summary's): the same numbers
    shown = subprocess.run(
        [sys.executable, "-m", "biofeedback", "show", "1", "--json", "--db", str(db)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    import json

    blocks = json.loads(shown.stdout)["blocks"]
    assert any(isinstance(b["change"], float) for b in blocks)
    for b in blocks:
        if isinstance(b["change"], float):
            cell = f"{b['change']:+.2f} [{b['low']:+.2f}, {b['high']:+.2f}]"
            assert f"<td>{cell}</td>" in html, cell
    # and each block's breathing with its interval, as the summary prints it
    rated = [b for b in blocks if isinstance(b["breathing_per_min"], float)]
    assert rated
    for b in rated:
        cell = (
            f"{b['breathing_per_min']:.1f} "
            f"[{b['breathing_low_per_min']:.1f}, {b['breathing_high_per_min']:.1f}]"
        )
        assert f"<td>{cell}</td>" in html, cell
    assert "Newey" not in html  # the interval's method as it is (AR(1) batch errors)


def test_compare_report(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    html = run_report(db, tmp_path / "c.html", compare=True)
    assert_self_contained(html)
    assert len(images(html)) == 1
    for text in (
        "adj. p",
        "Benjamini",
        "Pairwise differences",
        "Order effects",
        "Self-report",
        "crinkling",
    ):
        assert text in html, text


def test_bad_usage(db: Path, tmp_path: Path) -> None:
    from biofeedback.cli import cmd_report
    from biofeedback.errors import InputError

    ns = argparse.Namespace(id=1, compare=True, output=str(tmp_path / "x.html"), db=str(db))
    with pytest.raises(InputError, match="session ID or --compare"):
        cmd_report.run(ns)


def test_without_matplotlib_one_line_hint(tmp_path: Path) -> None:
    code = (
        "import sys, argparse; sys.modules['matplotlib'] = None\n"
        "from biofeedback.analysis.report import ReportUnavailable\n"
        "from biofeedback.analysis.report import session_report\n"
        "from biofeedback.sessions.bundle import SessionBundle\n"
        "try:\n"
        "    session_report(SessionBundle(session={}, device={}))\n"
        "except ReportUnavailable as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == INSTALL_HINT
    assert "pip install -e '.[report]'" in INSTALL_HINT
