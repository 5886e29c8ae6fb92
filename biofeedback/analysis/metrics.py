"""The five responses a trigger block is measured by, with their units and relaxing direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

MetricKey = Literal["lnrmssd", "hr", "hf", "pns", "resp"]


@dataclass(frozen=True, slots=True)
class Metric:
    """One response measure. ``relax_sign`` is +1 when a rise means relaxation, -1 when a fall."""

    key: MetricKey
    name: str
    unit: str
    relax_sign: int
    method: str


METRICS: Final[dict[str, Metric]] = {
    "lnrmssd": Metric("lnrmssd", "ΔlnRMSSD", "ln ms", 1, "ln of RMSSD of the block's NN intervals"),
    "hr": Metric("hr", "ΔHR", "bpm", -1, "mean of 60000/NN over the block"),
    "hf": Metric(
        "hf", "ΔHF", "ln ms²", 1, "ln of HF power (0.15-0.40 Hz), Welch on 4 Hz cubic resampling"
    ),
    "pns": Metric(
        "pns",
        "ΔPNS",
        "SD",
        1,
        "Kubios-style PNS index (approximation; mean RR, RMSSD, SD1 z-scores)",
    ),
    "resp": Metric(
        "resp", "Δrespiration", "breaths/min", -1, "RSA peak of the HRV spectrum (0.1-0.5 Hz)"
    ),
}
SPECTRAL: Final = frozenset({"hf", "resp"})


def metric(key: str) -> Metric:
    """The metric named ``key``; raises ``ValueError`` naming the choices.

    >>> metric("hr").unit
    'bpm'
    """
    try:
        return METRICS[key]
    except KeyError:
        raise ValueError(f"unknown metric {key!r} (one of {', '.join(METRICS)})") from None
