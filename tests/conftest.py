"""Shared test fixtures: where the reference data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(
            f"reference data missing: {REFERENCE} (../shared/ must sit beside the checkout)"
        )
    return REFERENCE
