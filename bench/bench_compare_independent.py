"""``biofeedback compare`` calibrated on whole beat-level sessions of an independent RR model.

``bench/bench_compare.py`` calibrates the comparison on block-level values drawn from the
project's own model. Here every study is built beat by beat by ``bench/independent_study.py``
(ECGSYN's RR process, McSharry et al. 2003, IEEE TBME 50:289, via ``bench/independent_rr.py``;
day-to-day level shift, vagal drift, carry-over, habituation, session-to-session variability of
each effect, written independently of the project's simulator; the module docstring gives the
model, its sources and the truth) and measured as ``compare`` measures a stored session
(``biofeedback.analysis.blocks.session_responses``), then pooled by
``biofeedback.analysis.compare.compare`` with its default settings (reference: the mean of the
session's other triggers).

Truth of a trigger: its expected own effect on the analysed part of its block (from 45 s),
without carry-over from earlier blocks, over the session-to-session variability, habituated
and averaged over the study's sessions; the interval is scored against that truth minus the
mean of the other triggers' truths.

For each cell (``independent_study.CELLS``) ``--studies`` studies of 8 sessions with four null
triggers and as many with trigger ``a`` at +0.35 ln ms (the others null); a study's first 4
sessions are its 4-session study (so the n = 4 and n = 8 rows share sessions). Scored:

* coverage of the 95 % intervals of all four contrasts, null and effect studies pooled (goal
  93-97 %; SE from the per-study share of covered intervals, since a study's four contrasts are
  not independent, and the binomial SE over intervals beside it);
* "any null": null studies calling at least one of the four triggers "responds" (goal ≤ 10 %);
  "one null": trigger ``a`` of the null studies alone (goal ≤ 5 %); binomial SEs
  ``√(p(1 − p)/studies)``;
* power: effect studies calling ``a`` "responds" (relaxing), with its SE; rank first;
* "null beside": effect studies calling at least one of the null triggers ``b``-``d``
  "responds" (their true contrast against the mean of the others is −0.35/3 = −0.117 ln ms,
  beyond the 0.11 SWC: relative effects, as the README says; what a user reads as "arousing");
* the error of ``a``'s estimate against its true contrast (mean ± SE) and the median half-width.

Measured (200 studies per kind and cell: 1 600 studies, 12 800 sessions; 206 s wall on the
shared 2-core machine at nice 19; ``bench/run_all.py`` runs every ``bench_*.py``, so ``make
bench`` includes it): coverage 94.4-96.2 % in every cell at n = 4 and 8 (SE ≈ 0.5-0.6 %), any
null 2.0-7.0 % (highest with strong carry-over at n = 8, ± 1.8 %), one null 0.0-2.0 %: every
goal met. Power for +0.35 ln ms: 15-22 % at n = 4 and 56-76 % at n = 8, against 48-62 % and
98.4-99.6 % on the project's simulator (``bench_compare.py``): the blocks' measurement error is
about three times larger here (per-session contrast SD of a null trigger ≈ 0.21 ln ms, its
error SD at n = 8 0.075-0.093 ln ms). Strong carry-over biases the responding trigger's
estimate by −0.037 ± 0.006 ln ms (−11 %: the others' blocks carry part of its response,
which the per-session contrasts do not model), still covered (half-width 0.19). Beside a +0.35
trigger, a null trigger's true contrast against the others is −0.117 ln ms: 8.5-14 % of the
4-session and 21.5-32 % of the 8-session effect studies call one of them "responds" (arousing).
0.3-0.9 % of sessions were drawn again as unphysiological; 1 block of 51 200 was excluded.

Prints the table and writes bench/results/compare_independent.json. Measures; asserts nothing.
Usage: .venv/bin/python bench/bench_compare_independent.py [--studies N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from independent_study import (  # noqa: E402
    CELLS,
    EFFECT_LN_MS,
    Cell,
    Study,
    Tally,
    simulate_study,
)

RESULTS = ROOT / "bench" / "results" / "compare_independent.json"
SESSIONS = (4, 8)
SEED_STRIDE = 1_000_000
"""Cell ``c``'s null studies use seeds ``c · SEED_STRIDE + s``, its effect studies
``c · SEED_STRIDE + SEED_STRIDE // 2 + s``: independent studies throughout."""


def run_cell(c: int, cell: Cell, n_studies: int) -> tuple[list[dict[str, object]], float, int]:
    null = {n: Tally() for n in SESSIONS}
    alt = {n: Tally() for n in SESSIONS}
    clipped, redrawn = 0.0, 0
    for s in range(n_studies):
        studies: list[tuple[dict[int, Tally], Study]] = [
            (null, simulate_study(cell, (0.0,) * 4, max(SESSIONS), c * SEED_STRIDE + s)),
            (
                alt,
                simulate_study(
                    cell,
                    (EFFECT_LN_MS, 0.0, 0.0, 0.0),
                    max(SESSIONS),
                    c * SEED_STRIDE + SEED_STRIDE // 2 + s,
                ),
            ),
        ]
        for tallies, study in studies:
            clipped += study.clipped_s
            redrawn += study.redrawn
            for n in SESSIONS:
                tallies[n].add(study, n)
    rows: list[dict[str, object]] = []
    for n in SESSIONS:
        a, b = null[n].summary(), alt[n].summary()
        tested = a["intervals"] + b["intervals"]
        coverage = (null[n].covered + alt[n].covered) / tested
        per = null[n].per_study_coverage + alt[n].per_study_coverage
        per = [p for p in per if math.isfinite(p)]
        mean = sum(per) / len(per)
        study_se = math.sqrt(sum((p - mean) ** 2 for p in per) / (len(per) - 1) / len(per))
        rows.append(
            {
                "cell": cell.name,
                "sessions": n,
                "studies_per_kind": n_studies,
                "coverage": coverage,
                "coverage_study_se": study_se,
                "coverage_binomial_se": math.sqrt(coverage * (1 - coverage) / tested),
                "coverage_null": a["coverage"],
                "coverage_effect": b["coverage"],
                "coverage_effect_study_se": b["coverage_study_se"],
                "intervals_not_tested": a["not_tested"] + b["not_tested"],
                "excluded_block_share_null": a["excluded_block_share"],
                "excluded_block_share_effect": b["excluded_block_share"],
                "any_null_responds": a["any_null_responds"],
                "any_null_se": a["any_null_se"],
                "first_null_responds": a["first_null_responds"],
                "first_null_se": a["first_null_se"],
                "power": b["power"],
                "power_se": b["power_se"],
                "rank_first": b["rank_first"],
                "null_beside_effect_responds": b["any_null_responds"],
                "null_beside_effect_se": b["any_null_se"],
                "null_beside_effect_arousing": b["any_null_arousing"],
                "true_contrast_of_a_null_beside_effect": -EFFECT_LN_MS / 3,
                "effect_error_mean": b["mean_error_a"],
                "effect_error_se": b["mean_error_a_se"],
                "effect_error_sd": b["sd_error_a"],
                "effect_half_width_median": b["median_half_width_a"],
                "null_error_mean_a": a["mean_error_a"],
                "null_error_sd_a": a["sd_error_a"],
            }
        )
    return rows, clipped, redrawn


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--studies", type=int, default=200)
    args = p.parse_args()
    start = time.perf_counter()
    table: list[dict[str, object]] = []
    cells: list[dict[str, object]] = []
    print(
        f"compare on the independent (ECGSYN-type) model: {args.studies} null and "
        f"{args.studies} effect studies (+{EFFECT_LN_MS} ln ms on 'a') per cell, beat level"
    )
    print(
        f"{'cell':18} {'n':>2} {'coverage ± SE':>15} {'null/eff':>11} {'any null ± SE':>14} "
        f"{'one null ± SE':>14} {'power ± SE':>13} {'rank 1':>6} {'err a ± SE':>15} "
        f"{'hw a':>5} {'excl':>5} {'null beside':>11}"
    )
    for c, cell in enumerate(CELLS):
        t0 = time.perf_counter()
        rows, clipped, redrawn = run_cell(c, cell, args.studies)
        seconds = time.perf_counter() - t0
        for r in rows:
            print(
                f"{cell.name:18} {r['sessions']:2d} {r['coverage']:8.1%} ± "
                f"{r['coverage_study_se']:4.1%} {r['coverage_null']:5.1%}/"
                f"{r['coverage_effect']:5.1%} {r['any_null_responds']:7.1%} ± "
                f"{r['any_null_se']:4.1%} {r['first_null_responds']:7.1%} ± "
                f"{r['first_null_se']:4.1%} {r['power']:6.1%} ± {r['power_se']:4.1%} "
                f"{r['rank_first']:6.1%} {r['effect_error_mean']:+7.3f} ± "
                f"{r['effect_error_se']:5.3f} {r['effect_half_width_median']:5.3f} "
                f"{r['excluded_block_share_null']:5.1%} "
                f"{r['null_beside_effect_responds']:11.1%}",
                flush=True,
            )
        table += rows
        cells.append(
            {
                "cell": cell.name,
                "parameters": {
                    k: getattr(cell, k) for k in cell.__dataclass_fields__ if k != "name"
                },
                "own_share": cell.own_share,
                "carried_share_next_block": cell.carried_share(),
                "seconds": seconds,
                "clipped_gain_s": clipped,
                "sessions_redrawn_unphysiological": redrawn,
                "sessions": 2 * args.studies * max(SESSIONS),
            }
        )
    total = time.perf_counter() - start
    print(f"wall time {total:.0f} s")
    doc = {
        "model": "ECGSYN RR process (McSharry et al. 2003, IEEE TBME 50:289) with study "
        "nuisances: bench/independent_study.py",
        "truth": "each trigger's expected own effect on its block's analysed part (from 45 s), "
        "without carry-over, averaged over the study's sessions (habituation), minus the mean "
        "of the other triggers' (compare's reference: the other triggers)",
        "goals": {"coverage": [0.93, 0.97], "any_null_responds": 0.10, "first_null": 0.05},
        "studies_per_kind": args.studies,
        "effect_ln_ms": EFFECT_LN_MS,
        "cells": cells,
        "table": table,
        "wall_s": total,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
