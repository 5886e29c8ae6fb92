"""Calibration of ``biofeedback compare`` on whole sessions of an independent model (test-sized).

The studies come from ``bench/independent_study.py``: beat-level sessions of ECGSYN's RR process
(McSharry et al. 2003, IEEE Trans Biomed Eng 50:289, via ``bench/independent_rr.py``) with a
day-to-day level shift, vagal drift and OU, carry-over, habituation and session-to-session
variability of each effect, written independently of the project's simulator; each session is
measured as ``compare`` measures a stored session and the study is pooled by ``compare``. The
truth of a trigger is its expected own effect on its block's analysed part, without carry-over,
averaged over the study's sessions (module docstring there); ``compare``'s reference is the
mean of the session's other triggers. The full table (200 studies per kind, four cells) is
``bench/bench_compare_independent.py``.

Tolerance: with ``m`` units (studies for a share of studies, intervals for coverage) and a rate
at its goal ``g``, the binomial SD is ``√(g(1 − g)/m)``; a rate passes when it is within 3 SD of
the goal on the failing side: "any null responds" ≤ 0.10 + 3 SD and "trigger a alone" ≤ 0.05 +
3 SD over 40 null studies (0.242 and 0.153), coverage ≥ 0.93 − 3 SD over the intervals of 40
null and 30 effect studies (280 intervals: 0.884). Coverage counts intervals, not studies: the
bench measured the SE from per-study shares about equal to the binomial SE over intervals
(0.50-0.63 % against 0.48-0.57 %: a study's four contrasts cover nearly independently). At
this size the tests guard against a collapse; the bench measures the level (200 studies per
kind: coverage 94.4-96.2 %, any null 2.0-7.0 %, one null 0.0-2.0 % in all four cells; here, at
the time of writing: coverage 94.6 % / 94.3 % at n = 4 / 8, any null 5.0 % / 2.5 %, trigger a
alone 0.0 % / 2.5 %). The fixture costs about 8 s of one core.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from independent_study import (
    CELLS,
    EFFECT_LN_MS,
    TRIGGERS,
    Tally,
    draw_person,
    measure,
    simulate_session,
    simulate_study,
)

from biofeedback.analysis.load import load_responses
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import SessionStore

ALL = next(c for c in CELLS if c.name == "all")
N_NULL = 40
N_EFFECT = 30
N_SESSIONS = 8


def _upper(goal: float, m: int) -> float:
    return goal + 3.0 * math.sqrt(goal * (1.0 - goal) / m)


def _lower(goal: float, m: int) -> float:
    return goal - 3.0 * math.sqrt(goal * (1.0 - goal) / m)


@pytest.fixture(scope="module")
def tallies() -> dict[tuple[str, int], Tally]:
    out = {(kind, n): Tally() for kind in ("null", "effect") for n in (4, N_SESSIONS)}
    for s in range(N_NULL):
        study = simulate_study(ALL, (0.0,) * 4, N_SESSIONS, 70_000 + s)
        for n in (4, N_SESSIONS):
            out["null", n].add(study, n)
    for s in range(N_EFFECT):
        study = simulate_study(ALL, (EFFECT_LN_MS, 0.0, 0.0, 0.0), N_SESSIONS, 80_000 + s)
        for n in (4, N_SESSIONS):
            out["effect", n].add(study, n)
    return out


@pytest.mark.parametrize("n", [4, N_SESSIONS])
def test_four_null_triggers_are_rarely_called_responds(
    tallies: dict[tuple[str, int], Tally], n: int
) -> None:
    """40 null studies of the "all" cell: any of four nulls ≤ 0.242, trigger a ≤ 0.153."""
    t = tallies["null", n]
    assert t.studies == N_NULL
    assert t.any_null / t.studies <= _upper(0.10, N_NULL), t.summary()
    assert t.first_null / t.studies <= _upper(0.05, N_NULL), t.summary()


@pytest.mark.parametrize("n", [4, N_SESSIONS])
def test_the_intervals_cover_the_true_contrasts(
    tallies: dict[tuple[str, int], Tally], n: int
) -> None:
    """Null and effect studies pooled: coverage ≥ 0.93 − 3 SD of the intervals tested (every
    trigger of every study is tested: no interval is missing)."""
    null, effect = tallies["null", n], tallies["effect", n]
    tested = null.tested + effect.tested
    assert tested == len(TRIGGERS) * (N_NULL + N_EFFECT)
    coverage = (null.covered + effect.covered) / tested
    assert coverage >= _lower(0.93, tested), (coverage, null.summary(), effect.summary())


def test_the_effect_estimate_is_unbiased_for_the_designed_truth(
    tallies: dict[tuple[str, int], Tally],
) -> None:
    """Trigger a at +0.35 ln ms, 8 sessions: the mean error of its estimate against its true
    contrast within 3 SE of 0 (the truth defined on the generator's scale is what the product
    measures, up to the carry-over it does not model: about −0.01 ln ms in this cell)."""
    s = tallies["effect", N_SESSIONS].summary()
    assert abs(s["mean_error_a"]) <= 3.0 * s["mean_error_a_se"], s


def test_a_session_measures_the_same_through_the_store(tmp_path: Path) -> None:
    """The bench measures sessions directly; ``compare`` reads them from the store
    (``load_responses`` → ``bundle_responses``): one session imported as a bundle gives the same
    block values."""
    rng = np.random.default_rng(5)
    session = simulate_session(ALL, draw_person(rng), (0.35, 0, 0, 0), (2, 0, 3, 1), 0, rng)
    direct = measure(session, 1)
    n = session.t_s.size
    bundle = SessionBundle(
        session={"source": "import", "status": "complete", "started_wall_s": 1.7e9},
        device={"name": "independent model"},
        segments=session.layout.segments(),
        beats={"t_s": session.t_s.tolist(), "rr_ms": session.rr_ms.tolist(),
               "rr_raw": [None] * n, "segment": [0] * n, "flags": [0] * n},
    )  # fmt: skip
    db = tmp_path / "store.db"
    with SessionStore(db) as store:
        sid = store.import_bundle(bundle, "test")
        (stored,) = load_responses(store, [sid], metrics=("lnrmssd",))
    assert stored.baseline is not None
    assert direct.baseline is not None
    assert stored.baseline.value("lnrmssd") == pytest.approx(direct.baseline.value("lnrmssd"))
    got = [(b.label, b.position, b.value("lnrmssd")) for b in stored.blocks]
    want = [(b.label, b.position, b.value("lnrmssd")) for b in direct.blocks]
    assert [g[:2] for g in got] == [w[:2] for w in want] == [
        ("c", 1), ("a", 2), ("d", 3), ("b", 4)
    ]  # fmt: skip
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], equal_nan=True)
