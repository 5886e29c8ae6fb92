"""Every exact counting path of hrv.entropy (dense table, Fenwick sweep, chunked) against O(n²)."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.hrv import entropy
from biofeedback.hrv.entropy import template_match_counts, tolerance_ms


def brute_counts(x: np.ndarray, length: int, r: float) -> np.ndarray:
    """For each template, the templates within Chebyshev distance <= r (itself included)."""
    close = np.abs(x[:, None] - x[None, :]) <= r
    n_templates = x.size - length + 1
    match = close[:n_templates, :n_templates].copy()
    for k in range(1, length):
        match &= close[k : k + n_templates, k : k + n_templates]
    return match.sum(axis=1)


def series(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "ties":
        return rng.integers(780, 800, n).astype(np.float64)
    if kind == "clock128":
        return np.round(rng.normal(800, 40, n) / 7.8125) * 7.8125
    if kind == "tenths":
        return np.round(rng.normal(80, 0.5, n), 1)
    return 800 + 60 * rng.standard_normal(n)


PATHS = {
    # (DENSE_CELL_BUDGET, DENSE_CELLS_PER_TEMPLATE, FENWICK_CELL_BUDGET)
    "dense": (1 << 22, 10**12, 1 << 24),
    "dense_small_blocks": (50, 10**12, 1 << 24),
    "dense_one_rank_blocks": (500, 10**12, 1 << 24),
    "fenwick": (0, 0, 1 << 24),
    "chunked": (0, 0, 0),
}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("kind", ["ties", "clock128", "tenths", "float"])
def test_each_path_counts_exactly(path, kind, monkeypatch):
    dense, per_template, fenwick = PATHS[path]
    monkeypatch.setattr(entropy, "DENSE_CELL_BUDGET", dense)
    monkeypatch.setattr(entropy, "DENSE_CELLS_PER_TEMPLATE", per_template)
    monkeypatch.setattr(entropy, "FENWICK_CELL_BUDGET", fenwick)
    x = series(kind, 300, np.random.default_rng(len(kind)))
    for r in (tolerance_ms(x), 0.0, 0.2, 2.0, 15.625):
        for length in (1, 2, 3, 4):
            if kind in ("float", "tenths") and path.startswith("dense") and length == 4:
                continue  # 300⁴ cells: the dense path is never chosen there
            got = template_match_counts(x, length, r)
            assert np.array_equal(got, brute_counts(x, length, r)), (length, r)


def test_the_dense_path_is_chosen_for_a_quantised_day_not_for_few_distinct_templates(monkeypatch):
    calls: list[int] = []
    original = entropy._counts_dense

    def spy(templates, lo, hi, size):
        calls.append(templates.shape[0])
        return original(templates, lo, hi, size)

    monkeypatch.setattr(entropy, "_counts_dense", spy)
    rng = np.random.default_rng(5)
    day = series("clock128", 20_000, rng)
    template_match_counts(day, 3, tolerance_ms(day))
    assert calls == [19_998]
    floats = series("float", 300, rng)  # 300 distinct values: 301³ cells for 298 templates
    template_match_counts(floats, 3, tolerance_ms(floats))
    assert calls == [19_998]
