"""Labels reach the terminal without their control characters (issue 12, item 9).

Trigger and protocol names, notes and device names come from files other people wrote and from
radio advertisements; printed raw, an ESC or a C1 control is a terminal escape sequence. Every
CLI printer passes them through :func:`biofeedback.text.terminal_safe`.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from biofeedback.cli.main import main
from biofeedback.sessions.bundle import SessionBundle, write_bundle
from biofeedback.text import TerminalWriter, terminal_safe, terminal_stream

# What must never reach the terminal raw: C0 controls but TAB and LF, DEL, C1, bidi overrides.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

OSC_TITLE = "\x1b]0;owned\x07"
CSI_RED = "\x1b[31m"
C1_CSI = "\x9b2J"

PROTOCOL = """\
name = "evil\\u001b]0;owned\\u0007"
settling_s = 5
baseline_s = 60
washout_s = 10
order = "fixed"

[[block]]
label = "tap\\u001b[31mping"
category = "touching"
duration_s = 60

[[block]]
label = "whisper\\u202eing\\u009b2J"
category = "mouth sounds"
duration_s = 60
"""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain label", "plain label"),
        ("tab\tkept", "tab\tkept"),
        (OSC_TITLE, "\\x1b]0;owned\\x07"),
        (CSI_RED + "red", "\\x1b[31mred"),
        (C1_CSI, "\\x9b2J"),
        ("del\x7f nul\x00 cr\r", "del\\x7f nul\\x00 cr\\x0d"),
        ("bidi\u202eoverride\u2066", "bidi\\u202eoverride\\u2066"),
        ("line\nbreak", "line\\x0abreak"),
        ("accents é ü and emoji 🫧 stay", "accents é ü and emoji 🫧 stay"),
    ],
)
def test_terminal_safe(text: str, shown: str):
    assert terminal_safe(text) == shown
    assert not RAW.search(terminal_safe(text))


def test_newlines_can_be_kept_for_tables_and_the_writer_keeps_them():
    assert terminal_safe("a\x1b\nb\r\n", keep_newlines=True) == "a\\x1b\nb\\x0d\n"
    buf = io.StringIO()
    writer = TerminalWriter(buf)
    writer.write(f"segment {CSI_RED}x\n")
    writer.flush()
    assert buf.getvalue() == "segment \\x1b[31mx\n"
    stream = terminal_stream(buf)
    stream.write(OSC_TITLE)
    assert not RAW.search(buf.getvalue())


def _clean(out: str) -> str:
    found = RAW.search(out)
    assert found is None, f"raw control {found.group()!r} in output: {out!r}"
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with a session recorded (``record --headless``) from a hostile protocol, and
    what ``record`` printed."""
    root = tmp_path_factory.mktemp("terminal")
    protocol = root / "evil.toml"
    protocol.write_text(PROTOCOL)
    db = root / "s.db"
    capture = io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stdout", capture)
    try:
        status = main(
            ["record", "--simulate", "--protocol", str(protocol), "--headless", "--db", str(db),
             "--speed", "1000"]
        )  # fmt: skip
    finally:
        mp.undo()
    assert status == 0, capture.getvalue()
    return db, capture.getvalue()


def test_record_prints_labels_escaped(recorded: tuple[Path, str]):
    _, out = recorded
    _clean(out)
    assert "tap\\x1b[31mping" in out
    assert "whisper\\u202eing\\x9b2J" in out


def test_sessions_show_and_compare_print_labels_escaped(
    recorded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
):
    db, _ = recorded
    assert main(["sessions", "--db", str(db)]) == 0
    out = _clean(capsys.readouterr().out)
    assert "evil\\x1b]0;owned\\x07" in out
    assert main(["show", "1", "--db", str(db)]) == 0
    out = _clean(capsys.readouterr().out)
    assert "tap\\x1b[31mping" in out
    assert main(["compare", "--db", str(db)]) == 0
    out = _clean(capsys.readouterr().out)
    assert "tap\\x1b[31mping" in out


def test_json_output_escapes_controls_itself(
    recorded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
):
    db, _ = recorded
    assert main(["show", "1", "--db", str(db), "--json"]) == 0
    out = _clean(capsys.readouterr().out)
    labels = [s["label"] for s in json.loads(out)["segments"]]
    assert "tap\x1b[31mping" in labels  # the data is kept exactly; only the display escapes


def test_imported_notes_device_and_file_name_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    n = 50
    bundle = SessionBundle(
        session={"source": "import" + CSI_RED, "notes": "hi" + OSC_TITLE, "status": "complete"},
        device={"name": "H10" + C1_CSI, "kind": "import"},
        beats={"t_s": [0.8 * (i + 1) for i in range(n)], "rr_ms": [800.0] * n,
               "rr_raw": [None] * n, "segment": [0] * n, "flags": [0] * n},
        segments=[{"label": "tap" + CSI_RED, "kind": "trigger", "start_s": 0.0, "end_s": 20.0}],
    )  # fmt: skip
    path = tmp_path / "evil\x1b[2Jname.json"
    write_bundle(path, bundle)
    db = tmp_path / "s.db"
    assert main(["import", "--db", str(db), str(path)]) == 0
    captured = capsys.readouterr()
    _clean(captured.out)
    assert "evil\\x1b[2Jname.json: imported as session 1" in captured.out
    assert main(["show", "1", "--db", str(db)]) == 0
    out = _clean(capsys.readouterr().out)
    assert "notes: hi\\x1b]0;owned\\x07" in out
    assert "device: H10\\x9b2J" in out
    assert main(["sessions", "--db", str(db)]) == 0
    _clean(capsys.readouterr().out)
    # An import error naming a hostile file name is escaped too.
    bad = tmp_path / "bad\x1b]0;x\x07.txt"
    bad.write_text("not a number\n")
    assert main(["import", "--db", str(db), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    _clean(err)
