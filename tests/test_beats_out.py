"""``analyze FILE --beats-out CSV``: one row per input interval, labels, NN values, gaps."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import numpy as np

from tests.cli_support import run_cli


def _recording(path: Path) -> tuple[int, int]:
    """Two chains of sinus rhythm with a 20-s gap between; an ectopic beat (short, then long)
    in the first, a missed beat (a doubled interval) in the second. Returns their indices."""
    rng = np.random.default_rng(3)
    rr = np.round(800 + 25 * np.sin(np.arange(240) / 2.5) + rng.normal(0, 4, 240))
    ectopic = 60
    rr[ectopic] = 520.0  # premature beat ...
    rr[ectopic + 1] = 1080.0  # ... and its compensatory pause
    missed = 180
    rr[missed] = rr[missed - 1] + rr[missed + 1]
    t = np.cumsum(rr) / 1000.0
    t[120:] += 20.0  # the strap lost contact for 20 s before beat 120
    segment = np.where(np.arange(rr.size) < 120, 0, 1)
    lines = ["t_s,rr_ms,segment"]
    lines += [f"{a:.3f},{b:g},{s}" for a, b, s in zip(t, rr, segment, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return ectopic, missed


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_beats_out_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "rec.csv"
    ectopic, missed = _recording(src)
    out = tmp_path / "beats.csv"
    ran = run_cli("analyze", str(src), "--json", "--beats-out", str(out))
    assert ran.returncode == 0, ran.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = _rows(out)
    assert list(rows[0]) == ["t_s", "rr_ms", "label", "nn_ms", "nn_count", "segment", "withheld"]
    assert len(rows) == 240
    labels = [r["label"] for r in rows]
    # the detector's decision on this pair (Lipponen & Tarvainen): the premature interval
    # is "short", the compensatory pause "ectopic"; both are interpolated
    assert (labels[ectopic], labels[ectopic + 1]) == ("short", "ectopic")
    assert labels[missed] == "missed"
    assert rows[missed]["nn_count"] == "2"
    assert float(rows[missed]["nn_ms"]) * 2 == float(rows[missed]["rr_ms"])
    flagged = {i for i, lab in enumerate(labels) if lab != "normal"}
    assert flagged == {ectopic, ectopic + 1, missed}
    # the gap: segment changes at beat 120 and nowhere else; nothing withheld in sinus rhythm
    assert [r["segment"] for r in rows].index("1") == 120
    assert {r["withheld"] for r in rows} == {"0"}
    # corrected values replace the artifacts with values near their neighbours
    for i in (ectopic, ectopic + 1):
        assert abs(float(rows[i]["nn_ms"]) - 800) < 60
    # the export reads back as a recording with the same intervals and the same gap
    again = tmp_path / "again.csv"
    ran = run_cli("analyze", str(out), "--json", "--beats-out", str(again))
    assert ran.returncode == 0, ran.stderr
    back = _rows(again)
    assert [r["rr_ms"] for r in back] == [r["rr_ms"] for r in rows]
    assert [r["segment"] for r in back] == [r["segment"] for r in rows]
    assert [r["label"] for r in back] == labels


def test_beats_out_refuses_a_symlink_and_several_files(tmp_path: Path) -> None:
    src = tmp_path / "rec.csv"
    _recording(src)
    target = tmp_path / "elsewhere.csv"
    target.write_text("keep\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    ran = run_cli("analyze", str(src), "--beats-out", str(link))
    assert ran.returncode == 2
    assert "symbolic link" in ran.stderr
    assert target.read_text() == "keep\n"
    ran = run_cli(
        "analyze",
        str(src),
        str(src),
        "--out",
        str(tmp_path / "t.csv"),
        "--beats-out",
        str(tmp_path / "b.csv"),
    )
    assert ran.returncode == 2
    assert "--beats-out: one FILE" in ran.stderr
