"""The artifact-correction levels, named as Kubios users know them (no numpy: the CLI's parser
offers them before any maths is imported)."""

from __future__ import annotations

from typing import Final, Literal

CorrectionLevel = Literal[
    "none", "very-low", "low", "medium", "strong", "very-strong", "automatic", "robust"
]
"""Artifact correction as a Kubios user chooses it: none, a threshold level, automatic (Lipponen &
Tarvainen 2019), or this project's extension for sustained ectopy (README, "HRV methods")."""
CORRECTION_LEVELS: Final[tuple[str, ...]] = (
    "none",
    "very-low",
    "low",
    "medium",
    "strong",
    "very-strong",
    "automatic",
    "robust",
)
