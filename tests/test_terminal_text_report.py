"""Labels in report figures are drawn as literal text (issue 12, item 13).

A ``$`` in a label started matplotlib's mathtext, and ``$\\undefined{x}$`` made ``report`` fail
with a parse error; a control character asked every font for a glyph none has. Labels reach
matplotlib through :func:`biofeedback.analysis.report_figures.plain`; the HTML escaping holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from biofeedback.cli.main import main
from tests.recording_support import record_simulated

PROTOCOL = r"""
name = 'money $\frac{$'
settling_s = 5
baseline_s = 60
washout_s = 10
order = "fixed"

[[block]]
label = 'tap $\undefinedmacro{x}$ <b>ping</b>'
category = "touching"
duration_s = 60

[[block]]
label = "whisper\u001b[31m $$ \\$ end"
category = "mouth sounds"
duration_s = 60
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mathtext")
    protocol = root / "dollars.toml"
    protocol.write_text(PROTOCOL)
    db = root / "s.db"
    for seed in (1, 2, 3):
        record_simulated(db, seed=seed, protocol=str(protocol))
    return db


def test_a_session_report_with_mathtext_labels(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.html"
    assert main(["report", "1", "--db", str(store), "-o", str(out)]) == 0, capsys.readouterr()
    html = out.read_text()
    assert "tap $\\undefinedmacro{x}$ &lt;b&gt;ping&lt;/b&gt;" in html
    assert "<b>ping" not in html
    assert "whisper\x1b[31m" in html  # the HTML keeps the label as it is (escaped for HTML)


def test_a_compare_report_with_mathtext_labels(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.html"
    assert main(["report", "--compare", "--db", str(store), "-o", str(out)]) == 0
    assert "&lt;b&gt;ping" in out.read_text()


def test_plain_escapes_dollars_and_controls():
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from biofeedback.analysis.report_figures import plain

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    text = ax.text(0, 0, plain("$\\undefinedmacro{x}$ \x1b"))
    fig.canvas.draw()  # would raise ValueError (mathtext) or warn (missing glyph)
    assert text.get_text() == "\\$\\undefinedmacro{x}\\$ \\x1b"
