"""Fuzz ``biofeedback analyze`` over awkward RR series: it never raises, never prints NaN/Infinity.

Series: constant, alternating, very short (0..5 beats), extreme (300..2000 ms with huge jumps)
and a random walk, as RR text or as a session bundle cut into continuity chains; whole record
and sliding windows, JSON and CSV, both spectral methods and both artifact methods. The CLI runs
in-process (``main([...])``). Exit 0, or exit 2 with one line (an empty file, say); any
exception is a failure.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biofeedback.cli.main import main
from biofeedback.sessions.bundle import SessionBundle, write_bundle

RR = st.floats(min_value=300.0, max_value=2000.0, allow_nan=False, allow_infinity=False)
WHOLE_MS = st.integers(min_value=300, max_value=2000).map(float)


@st.composite
def rr_series(draw: st.DrawFn) -> list[float]:
    kind = draw(st.sampled_from(["constant", "alternating", "short", "extreme", "walk"]))
    if kind == "constant":
        return [draw(RR | WHOLE_MS)] * draw(st.integers(0, 400))
    if kind == "alternating":
        a, b = draw(WHOLE_MS), draw(WHOLE_MS)
        return [a, b] * draw(st.integers(0, 200))
    if kind == "short":
        return draw(st.lists(RR, min_size=0, max_size=5))
    if kind == "extreme":
        values = st.sampled_from([300.0, 301.0, 1999.0, 2000.0, 800.0]) | RR
        return draw(st.lists(values, min_size=0, max_size=300))
    start = draw(WHOLE_MS)
    steps = draw(st.lists(st.floats(-400.0, 400.0), min_size=0, max_size=400))
    out, value = [], start
    for step in steps:
        value = min(2000.0, max(300.0, value + step))
        out.append(value)
    return out


def _write(folder: Path, rr: list[float], chain_lengths: list[int] | None) -> Path:
    """Plain RR text, or a session bundle whose beats are cut into continuity chains."""
    if chain_lengths is None:
        path = folder / "rr.txt"
        path.write_text("".join(f"{v!r}\n" for v in rr))
        return path
    segment, t, times = [], 0.0, []
    chain, left = 0, chain_lengths[0] if chain_lengths else len(rr)
    for value in rr:
        if left == 0:
            chain += 1
            left = chain_lengths[chain % len(chain_lengths)]
            t += 30.0  # a gap: the strap was off for 30 s
        t += value / 1000.0
        times.append(t)
        segment.append(chain)
        left -= 1
    bundle = SessionBundle(session={"id": 1}, device={"kind": "replay"})
    bundle.beats = {
        "t_s": times,
        "rr_ms": list(rr),
        "rr_raw": [round(v * 1.024) for v in rr],
        "segment": segment,
        "flags": [0] * len(rr),
    }
    bundle.segments = [
        {"kind": "segment", "label": "rest", "start_s": 0.0, "end_s": t, "complete": True}
    ]
    path = folder / "rec.json"
    write_bundle(path, bundle)
    return path


def _refuse(constant: str) -> object:
    raise AssertionError(f"non-finite JSON constant {constant!r}")


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _check_refusal(code: int, err: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("biofeedback analyze: "), err


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rr=rr_series(),
    window=st.sampled_from(["10", "30", "60", "120", "300"]),
    step=st.sampled_from([None, "1", "7.5", "30"]),
    method=st.sampled_from(["welch", "lomb"]),
    artifact_method=st.sampled_from(["published", "robust"]),
    as_json=st.booleans(),
    chains=st.none() | st.lists(st.integers(1, 120), min_size=1, max_size=4),
)
def test_analyze_never_raises_and_prints_only_finite_numbers(
    capsys: pytest.CaptureFixture[str],
    rr: list[float],
    window: str,
    step: str | None,
    method: str,
    artifact_method: str,
    as_json: bool,
    chains: list[int] | None,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), rr, chains)
        common = ["--method", method, "--artifact-method", artifact_method, str(path)]

        code, out, err = _run(capsys, ["analyze", "--json", *common])
        if code != 0:
            _check_refusal(code, err)
            return  # the file was refused as a whole; windows would be refused the same way
        doc = json.loads(out, parse_constant=_refuse)
        assert isinstance(doc, dict)
        reasons = doc["reasons"]
        for section in ("time", "frequency", "respiration", "nonlinear"):
            values = doc.get(section)
            if isinstance(values, dict):
                for key, value in values.items():
                    if value is None:
                        assert f"{section}.{key}" in reasons, (section, key)

        argv = ["analyze", "--window", window, *(["--step", step] if step else []), *common]
        code, out, err = _run(capsys, [*argv[:1], *(["--json"] if as_json else []), *argv[1:]])
        if code != 0:
            _check_refusal(code, err)
            return
        if as_json:
            for line in out.splitlines():
                row = json.loads(line, parse_constant=_refuse)
                assert isinstance(row, dict)
        else:
            rows = list(csv.reader(io.StringIO(out)))
            assert rows[0][0] == "t_start_s"
            for row in rows[1:]:
                assert len(row) == len(rows[0])
                for cell in row:
                    assert cell.lower() not in ("nan", "inf", "-inf", "none"), row
