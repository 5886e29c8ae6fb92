"""Trigger-comparison benchmark: ground-truth recovery rates and ``compare`` over 1 000 sessions.

1. Recovery (issue 7 acceptance): 200 simulated studies of 5 sessions per profile (4 triggers in
   a new random order per session; responder and non-responder), scored against the simulator's
   truth: how often the truly best trigger ranks first (when its true ΔlnRMSSD beats the next
   by >= 0.15), how often the null trigger (crinkling) is called "responds", how often a
   non-responder study has no "responds" at all. Goals: >= 90 %, <= 5 %, >= 95 %.
2. Speed: ``compare`` (select, load bundles, measure blocks, pool) over 1 000 stored sessions
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
import tempfile
import time
from pathlib import Path

from biofeedback.analysis.compare import compare
from biofeedback.analysis.load import load_responses, select_sessions
from biofeedback.analysis.simstudy import recovery_rates
from biofeedback.live.headless_session import run_headless
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.store import SessionStore
from devices.simulator import load_profile

RESULTS = Path(__file__).resolve().parent / "results" / "compare.json"


def recovery(n_studies: int) -> dict[str, float]:
    start = time.perf_counter()
    r = recovery_rates(load_profile("responder"), load_profile("non-responder"), n_studies)
    return {
        "studies": r.n_studies,
        "clear_best_studies": r.n_clear_best,
        "best_first": r.best_first,
        "null_responds": r.null_responds,
        "nonresponder_silent": r.nonresponder_silent,
        "mean_abs_error_ln_ms": r.mean_abs_error,
        "seconds": time.perf_counter() - start,
    }


def build_store(db: Path, n_sessions: int) -> None:
    template = db.with_name("template.db")
    for seed in range(8):
        opts = SessionOptions(
            source=SourceOptions(simulate="sim", profile="responder", seed=seed, duration_s=None),
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


def speed(n_sessions: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        build_store(db, n_sessions)
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
        "select_s": t1 - t0,
        "load_bundles_s": t2 - t1,
        "measure_blocks_s": (t3 - t2) - (t2 - t1),
        "pool_s": t4 - t3,
        "total_s": (t1 - t0) + (t3 - t2) + (t4 - t3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--studies", type=int, default=200)
    p.add_argument("--sessions", type=int, default=1000)
    args = p.parse_args()
    rec = recovery(args.studies)
    print(f"recovery over {rec['studies']} studies x 5 sessions per profile "
          f"({rec['seconds']:.1f} s)")  # fmt: skip
    print(
        f"  best trigger first       {rec['best_first']:6.1%}  "
        f"(of {rec['clear_best_studies']} studies with a clear best; goal >= 90 %)"
    )
    print(f"  null trigger 'responds'  {rec['null_responds']:6.1%}  (goal <= 5 %)")
    print(f"  non-responder silent     {rec['nonresponder_silent']:6.1%}  (goal >= 95 %)")
    print(f"  mean |error| ΔlnRMSSD    {rec['mean_abs_error_ln_ms']:.3f} ln ms")
    spd = speed(args.sessions)
    print(f"compare over {spd['sessions']} stored sessions: {spd['total_s']:.2f} s "
          f"(load {spd['load_bundles_s']:.2f}, blocks {spd['measure_blocks_s']:.2f}, "
          f"pool {spd['pool_s']:.2f}; goal <= 5 s)")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"recovery": rec, "speed": spd}, indent=2) + "\n")


if __name__ == "__main__":
    main()
