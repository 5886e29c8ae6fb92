"""Trigger-comparison benchmark: calibration on the realistic simulator, speed over 1 000 sessions.

1. Calibration (issue 14 acceptance): for each nuisance cell (``tests/simstudy_support.CELLS``:
   quiet, drift, carry-over, habituation, slow breathing, all together) and n = 3, 4, 5, 6, 8,
   10 sessions, 500 block-level studies with four null triggers and 500 with trigger ``a`` at
   +0.35 ln ms: coverage of the 95 % intervals (goal 93-97 %), share of studies calling at least
   one of the four nulls "responds" (goal <= 10 %) and the first null alone (goal <= 5 %), the
   power to call ``a`` "responds" and the share ranking it first (goal >= 80 % at n = 8).
2. The power estimate checked: the median "sessions in all" that 4-session studies of the
   ``all`` cell predict for ``a``, and the power measured at that n.
3. Speed: ``compare`` (select, load bundles, measure blocks, pool) over 1 000 stored sessions
   (copies of 8 recorded default-protocol sessions, imported without packets). Goal <= 5 s.

Prints a table and writes bench/results/compare.json. Measures; asserts nothing.
Usage: .venv/bin/python bench/bench_compare.py [--studies N] [--sessions N]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the study harness lives in the test support

from biofeedback.analysis.compare import compare  # noqa: E402
from biofeedback.analysis.load import load_responses, select_sessions  # noqa: E402
from biofeedback.live.headless_session import run_headless  # noqa: E402
from biofeedback.live.session_builder import SessionOptions, build_session  # noqa: E402
from biofeedback.live.sources import SourceOptions  # noqa: E402
from biofeedback.sessions.store import SessionStore  # noqa: E402
from tests.simstudy_support import (  # noqa: E402
    CELLS,
    block_studies,
    calibrate,
    compare_study,
    study_profile,
)

RESULTS = Path(__file__).resolve().parent / "results" / "compare.json"
SESSIONS = (3, 4, 5, 6, 8, 10)
EFFECT_LN_MS = 0.35


def calibration(n_studies: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    print(f"calibration: {n_studies} studies per cell, 4 triggers, effect {EFFECT_LN_MS} ln ms")
    print(f"{'cell':12} {'n':>3} {'coverage':>9} {'any null':>9} {'one null':>9} "
          f"{'power':>7} {'rank 1st':>9}")  # fmt: skip
    for c, cell in enumerate(CELLS):
        for n in SESSIONS:
            null = calibrate(cell, n, n_studies, seed=1000 * c + n)
            alt = calibrate(cell, n, n_studies, seed=500_000 + 1000 * c + n, effect=EFFECT_LN_MS)
            coverage = (null.coverage + alt.coverage) / 2
            row = {"cell": cell, "sessions": n, "studies": n_studies, "coverage": coverage,
                   "coverage_null": null.coverage, "coverage_effect": alt.coverage,
                   "any_null_responds": null.any_null_responds,
                   "single_null_responds": null.single_null_responds,
                   "power": alt.power, "rank_first": alt.rank_first}  # fmt: skip
            rows.append(row)
            print(f"{cell:12} {n:3d} {coverage:9.1%} {null.any_null_responds:9.1%} "
                  f"{null.single_null_responds:9.1%} {alt.power:7.1%} {alt.rank_first:9.1%}",
                  flush=True)  # fmt: skip
    return rows


def power_check(n_studies: int) -> dict[str, object]:
    batch = block_studies(study_profile("all", (EFFECT_LN_MS, 0, 0, 0)), n_studies, 4, seed=77)
    needed = []
    for s in range(n_studies):
        row = next(r for r in compare_study(batch, s).rows if r.label == "a")
        if row.verdict != "responds" and row.sessions_needed is not None:
            needed.append(row.sessions_needed)
    n_pred = int(statistics.median(needed)) if needed else 0
    measured = (
        calibrate("all", n_pred, n_studies, seed=78, effect=EFFECT_LN_MS).power if needed else None
    )
    print(f"power estimate: 4-session studies predict {n_pred} sessions in all for 80 % power "
          f"(median of {len(needed)}); measured power at {n_pred}: {measured:.1%}")  # fmt: skip
    return {
        "predicted_sessions": n_pred,
        "studies_predicting": len(needed),
        "power_at_predicted": measured,
    }


def build_store(db: Path, n_sessions: int, strap: str = "hr") -> None:
    template = db.with_name("template.db")
    for seed in range(8):
        opts = SessionOptions(
            source=SourceOptions(simulate="sim", profile="responder", seed=seed, duration_s=None,
                                 strap=strap),
            protocol="default", player="none", db=template, record=True, fast=True,
        )  # fmt: skip
        asyncio.run(run_headless(build_session(opts), io.StringIO(), duration_s=None, as_json=True))
    with SessionStore(template) as src:
        bundles = [src.load_bundle(i) for i in range(1, 9)]
    with SessionStore(db) as store:
        for i in range(n_sessions):
            b = copy.deepcopy(bundles[i % 8])
            b.session = {**b.session, "started_wall_s": 1.7e9 + 86_400.0 * i}
            b.session.pop("id", None)
            b.packets = {k: [] for k in b.packets}
            b.truth = None
            store.import_bundle(b, f"copy {i}")


def speed(n_sessions: int, strap: str = "hr") -> dict[str, float]:
    """``strap`` ``h10``: sessions with their ECG stored, whose beat shapes each session's
    correction takes first (biofeedback/analysis/session_blocks.py): the stored ECG is searched
    for R-peaks and labelled per session."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        build_store(db, n_sessions, strap)
        t0 = time.perf_counter()
        with SessionStore(db) as store:
            ids = select_sessions(store)
            t1 = time.perf_counter()
            bundles = [store.load_bundle(i) for i in ids]
            t2 = time.perf_counter()
            sessions = load_responses(store, ids, metrics=("lnrmssd",))
        t3 = time.perf_counter()
        compare(sessions, "lnrmssd")
        t4 = time.perf_counter()
    del bundles
    # load_responses loads the bundles again; the block time excludes that second load.
    return {
        "sessions": n_sessions,
        "strap": strap,
        "select_s": t1 - t0,
        "load_bundles_s": t2 - t1,
        "measure_blocks_s": (t3 - t2) - (t2 - t1),
        "pool_s": t4 - t3,
        "total_s": (t1 - t0) + (t3 - t2) + (t4 - t3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--studies", type=int, default=500)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--h10-sessions", type=int, default=100)
    args = p.parse_args()
    start = time.perf_counter()
    table = calibration(args.studies)
    check = power_check(args.studies)
    print(f"calibration: {time.perf_counter() - start:.1f} s")
    spd = speed(args.sessions)
    print(f"compare over {spd['sessions']} stored sessions: {spd['total_s']:.2f} s "
          f"(load {spd['load_bundles_s']:.2f}, blocks {spd['measure_blocks_s']:.2f}, "
          f"pool {spd['pool_s']:.2f}; goal <= 5 s)")  # fmt: skip
    h10 = speed(args.h10_sessions, "h10")
    print(f"compare over {h10['sessions']} stored H10 sessions (their ECG's shapes): "
          f"{h10['total_s']:.2f} s (load {h10['load_bundles_s']:.2f}, blocks "
          f"{h10['measure_blocks_s']:.2f}, {h10['measure_blocks_s'] / h10['sessions']:.3f} s "
          "a session)")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    doc = {"calibration": table, "power_estimate": check, "speed": spd, "speed_h10": h10}
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
