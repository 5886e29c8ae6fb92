"""Nonlinear indices in the whole-record analysis: settings, values, and gaps between chains."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from biofeedback.hrv.analysis import analyze_record, prepare_nn
from biofeedback.hrv.dfa import dfa_fluctuations_ms
from biofeedback.hrv.nonlinear import (
    NonlinearSettings,
    nonlinear_metrics,
    nonlinear_metrics_chains,
)
from biofeedback.hrv.settings import HrvSettings

NONLINEAR_KEYS = {
    "n_beats",
    "entropy_m",
    "entropy_r_ms",
    "sampen",
    "apen",
    "dfa_alpha1",
    "dfa_alpha2",
}


def sinus(n: int, seed: int) -> np.ndarray:
    """Integer-ms RR (as a strap delivers after rounding) with RSA and noise."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    return np.round(850 + 40 * np.sin(k / 2.3) + 15 * rng.standard_normal(n))


def brute_entropies(chains: list[np.ndarray], m: int, r: float) -> tuple[float, float]:
    """Textbook O(n²) SampEn and ApEn, templates taken within each chain, compared across."""

    def templates(length: int, drop_last: bool) -> np.ndarray:
        rows = []
        for c in chains:
            c = c[:-1] if drop_last else c
            rows += [c[i : i + length] for i in range(c.size - length + 1)]
        return np.array(rows)

    def counts(tpl: np.ndarray) -> np.ndarray:
        dist = np.abs(tpl[:, None, :] - tpl[None, :, :]).max(axis=2)
        return (dist <= r).sum(axis=1)

    b, a = counts(templates(m, True)), counts(templates(m + 1, False))
    c_m = counts(templates(m, False))
    sampen = math.log(b.sum() - b.size) - math.log(a.sum() - a.size)
    apen = float(np.mean(np.log(c_m / c_m.size)) - np.mean(np.log(a / a.size)))
    return sampen, apen


def pooled_alpha(chains: list[np.ndarray], scales: tuple[int, int]) -> float:
    """DFA slope with F(n)² averaged over the non-overlapping windows of every chain."""
    n = np.arange(scales[0], scales[1] + 1)
    used = [c for c in chains if c.size > scales[1]]
    weight = np.array([c.size // n for c in used])
    f2 = np.array([dfa_fluctuations_ms(c, scales) ** 2 for c in used])
    log_f = 0.5 * np.log((weight * f2).sum(axis=0) / weight.sum(axis=0))
    return float(np.polyfit(np.log(n), log_f, 1)[0])


def test_settings_carry_the_nonlinear_choices() -> None:
    settings = HrvSettings(nonlinear=NonlinearSettings(m=3, r_factor=0.15))
    exported = settings.to_dict()
    assert exported["nonlinear"] == {
        "m": 3,
        "r_factor": 0.15,
        "r_ddof": 1,
        "alpha1_scales_beats": [4, 16],
        "alpha2_scales_beats": [16, 64],
        "dfa_overlap": False,
    }
    assert exported["dfa_window_s"] == 120.0
    json.dumps(exported)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nonlinear": {"m": 2}}, "nonlinear must be NonlinearSettings"),
        ({"dfa_window_s": 30.0}, "dfa_window_s"),
        ({"dfa_min_beats": 16}, "dfa_min_beats"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        HrvSettings(**kwargs)  # type: ignore[arg-type]


def test_analyze_reports_nonlinear_of_the_corrected_nn() -> None:
    rr = sinus(1500, seed=1)
    rr[300] *= 2  # a missed beat: the indices must use the corrected series
    report = analyze_record(rr)
    out = report.to_dict()
    assert set(out["nonlinear"]) == NONLINEAR_KEYS  # type: ignore[arg-type]
    nn = prepare_nn(rr).nn_ms
    assert nn.size == rr.size + 1
    direct = nonlinear_metrics(nn).to_dict()
    assert out["nonlinear"] == direct
    assert out["settings"]["nonlinear"]["m"] == 2  # type: ignore[index]
    json.dumps(out)


def test_analyze_uses_the_settings() -> None:
    rr = sinus(800, seed=2)
    nl = NonlinearSettings(m=3, r_factor=0.25, r_ddof=0)
    out = analyze_record(rr, settings=HrvSettings(nonlinear=nl)).to_dict()["nonlinear"]
    assert out == nonlinear_metrics(rr, nl).to_dict()
    assert out["entropy_m"] == 3  # type: ignore[index]


def test_chains_equal_the_textbook_definitions_and_never_span_a_gap() -> None:
    parts = [sinus(400, seed=3), sinus(250, seed=4) + 150, sinus(180, seed=5), sinus(10, seed=6)]
    rr = np.concatenate(parts)
    seg = np.repeat(np.arange(len(parts)), [p.size for p in parts])
    res = nonlinear_metrics_chains(rr, seg)
    assert res.n_beats == rr.size
    assert res.r_ms == pytest.approx(0.2 * np.std(rr, ddof=1), rel=1e-12)
    sampen, apen = brute_entropies(parts, 2, res.r_ms)
    assert res.sampen == pytest.approx(sampen, rel=1e-12)
    assert res.apen == pytest.approx(apen, rel=1e-12)
    assert res.dfa_alpha1 == pytest.approx(pooled_alpha(parts, (4, 16)), rel=1e-9)
    assert res.dfa_alpha2 == pytest.approx(pooled_alpha(parts, (16, 64)), rel=1e-9)
    across = nonlinear_metrics(rr)
    assert across.sampen != pytest.approx(res.sampen, rel=1e-6)
    assert across.dfa_alpha1 != pytest.approx(res.dfa_alpha1, rel=1e-6)
    shuffled = nonlinear_metrics_chains(np.concatenate(parts[::-1]), seg[::-1])
    assert shuffled.sampen == res.sampen
    assert shuffled.apen == pytest.approx(res.apen, rel=1e-12)
    assert shuffled.dfa_alpha1 == pytest.approx(res.dfa_alpha1, rel=1e-12)


def test_analyze_with_gaps_combines_the_chains() -> None:
    parts = [sinus(600, seed=7), sinus(500, seed=8)]
    rr = np.concatenate(parts)
    seg = np.repeat([0, 1], [600, 500])
    out = analyze_record(rr, segment=seg).to_dict()["nonlinear"]
    assert out == nonlinear_metrics_chains(rr, seg).to_dict()
    assert out != nonlinear_metrics(rr).to_dict()


def test_short_chains_give_none_not_errors() -> None:
    rr = np.array([800.0, 810, 790, 805, 800, 812, 799, 803])
    seg = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    res = nonlinear_metrics_chains(rr, seg)
    assert math.isnan(res.dfa_alpha1)
    assert math.isnan(res.dfa_alpha2)
    single = nonlinear_metrics_chains(rr, np.arange(rr.size))  # every beat its own chain
    assert math.isnan(single.sampen)
    assert math.isnan(single.apen)
    assert single.to_dict()["sampen"] is None
    with pytest.raises(ValueError, match="equal length"):
        nonlinear_metrics_chains(rr, seg[:-1])
